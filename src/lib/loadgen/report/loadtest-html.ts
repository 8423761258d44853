/**
 * `aiops loadtest --report report.html`: one self-contained file with the verdict, the thresholds, latency
 * percentiles over time, the latency histogram, throughput and errors over time, and the knee for stress runs.
 */
import { formatMs } from '../duration.js'
import type { LoadtestResult } from '../result.js'
import { formatActual, isLatencyMetric } from '../thresholds.js'
import { barChart, esc, htmlPage, lineChart } from './svg.js'

const ms = (v: number | null): string => formatMs(v)

export function loadtestHtml(r: LoadtestResult): string {
  const t = r.timeline
  const x = (p: { t: number; widthS: number }): number => p.t + p.widthS / 2
  const markers: Array<{ x: number; label: string; color?: string }> = []
  if (r.stress?.knee.breakingRate != null) {
    const w = r.plan.windows.find((win) => win.rate === r.stress!.knee.breakingRate)
    if (w) markers.push({ x: w.fromS, label: `breaks at ${w.rate}/s`, color: '#c62828' })
  }
  if (r.spike) {
    const spike = r.plan.windows[1]
    if (spike) markers.push({ x: spike.fromS, label: 'spike' }, { x: spike.toS, label: r.spike.recovered ? `recovered +${r.spike.recoveryS}s` : 'not recovered' })
  }
  const latencyLines = r.thresholds
    .filter((th) => isLatencyMetric(th.metric) && (th.op === '<' || th.op === '<='))
    .map((th) => ({ y: th.limit, label: th.expr }))

  const charts = [
    lineChart({
      title: 'Latency percentiles over time (from scheduled send time)',
      xLabel: 'seconds since start',
      yLabel: 'ms',
      series: [
        { name: 'p50', color: '#2e7d32', points: t.map((p) => [x(p), p.latency.p50] as const) },
        { name: 'p95', color: '#f9a825', points: t.map((p) => [x(p), p.latency.p95] as const) },
        { name: 'p99', color: '#c62828', points: t.map((p) => [x(p), p.latency.p99] as const) },
        { name: 'max', color: '#6a1b9a', dashed: true, points: t.map((p) => [x(p), p.latency.max] as const) },
      ],
      hLines: latencyLines,
      markers,
      data: { chart: 'latency-over-time' },
    }),
    barChart({
      title: `Latency histogram (${r.latency.count} responses, log-spaced buckets)`,
      xLabel: 'latency ≤ (ms)',
      yLabel: 'responses',
      bars: r.histogram.buckets.map((b) => ({ label: formatMs(b.leMs), value: b.count })),
      data: { chart: 'latency-histogram' },
    }),
    lineChart({
      title: 'Throughput over time',
      xLabel: 'seconds since start',
      yLabel: 'requests/s',
      series: [
        { name: 'target', color: '#90a4ae', dashed: true, points: t.map((p) => [x(p), p.targetRps] as const) },
        { name: 'completed', color: '#1565c0', points: t.map((p) => [x(p), p.rps] as const) },
      ],
      markers,
      data: { chart: 'throughput-over-time' },
    }),
    lineChart({
      title: 'Errors and drops over time',
      xLabel: 'seconds since start',
      yLabel: 'per second',
      series: [
        { name: 'errors/s', color: '#c62828', points: t.map((p) => [x(p), p.errorsPerS] as const) },
        { name: 'dropped/s', color: '#ef6c00', points: t.map((p) => [x(p), p.droppedPerS] as const) },
      ],
      markers,
      data: { chart: 'errors-over-time' },
    }),
  ]
  if (r.stress && r.stress.steps.length > 0) {
    const steps = r.stress.steps
    charts.push(
      lineChart({
        title: `Stress: p99 by step rate — knee ${r.stress.knee.rate ?? 'none'}${r.stress.knee.rate !== null ? '/s' : ''}`,
        xLabel: 'planned rate (requests/s)',
        yLabel: 'p99 ms',
        series: [{ name: 'p99', color: '#c62828', points: steps.map((s) => [s.rate, s.p99] as const) }],
        hLines: latencyLines.filter((l) => l.label.startsWith('p99')),
        markers: r.stress.knee.rate !== null ? [{ x: r.stress.knee.rate, label: `knee ${r.stress.knee.rate}/s`, color: '#2e7d32' }] : [],
        data: { chart: 'stress-knee' },
      }),
    )
  }

  const thresholdRows = r.thresholds
    .map((th) => `<tr><td><code>${esc(th.expr)}</code></td><td>${esc(formatActual(th))}</td><td class="${th.ok ? 'pass' : 'fail'}">${th.ok ? 'met' : 'BREACHED'}</td><td class="muted">${esc(th.source)}</td></tr>`)
    .join('')
  const windowRows = r.windows
    .map((w) => `<tr><td>${esc(w.name)}</td><td>${w.rate}</td><td>${w.rps.toFixed(1)}</td><td>${w.requests}</td><td>${ms(w.latency.p50)}</td><td>${ms(w.latency.p95)}</td><td>${ms(w.latency.p99)}</td><td>${(w.errorRate * 100).toFixed(2)}%</td><td>${(w.dropRate * 100).toFixed(2)}%</td></tr>`)
    .join('')
  const statusRows = Object.entries(r.totals.statuses)
    .map(([k, v]) => `<tr><td>${k === '0' ? 'no response' : esc(k)}</td><td>${v}</td></tr>`)
    .join('')
  const failureRows = Object.entries(r.totals.failures).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('')
  const extra: string[] = []
  if (r.spike) extra.push(`<p>Spike ×${r.spike.multiplier}: p99 before ${ms(r.spike.baselineP99)}, during ${ms(r.spike.spikeP99)}; ${r.spike.recovered ? `recovered ${r.spike.recoveryS}s after the spike` : '<span class="fail">did not recover before the run ended</span>'}.</p>`)
  if (r.soak) {
    const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)
    extra.push(`<p>Soak drift, first window to last: p50 ${pct(r.soak.p50Change)}, p99 ${pct(r.soak.p99Change)}, error rate ${(r.soak.errorRateChange * 100).toFixed(2)} points; p99 trend ${r.soak.p99SlopeMsPerHour === null ? '-' : `${r.soak.p99SlopeMsPerHour.toFixed(2)} ms/hour`}.</p>`)
  }

  const body = `
<h1>aiops loadtest: <span class="${r.ok ? 'pass' : 'fail'}">${r.verdict}</span></h1>
<p class="muted">${esc(r.profile)} profile against <code>${esc(r.target.url)}</code> (${esc(r.target.kind)}), ${r.workers} worker(s), seed ${r.seed}, started ${esc(r.startedAt)}, ${r.durationS}s.</p>
<p>${esc(r.summary)}</p>
<h2>Thresholds</h2><table><tr><th>threshold</th><th>actual</th><th>result</th><th>source</th></tr>${thresholdRows}</table>
<h2>Latency</h2>
<table><tr><th></th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>
<tr><td>from scheduled time (open model)</td><td>${ms(r.latency.p50)}</td><td>${ms(r.latency.p90)}</td><td>${ms(r.latency.p95)}</td><td>${ms(r.latency.p99)}</td><td>${ms(r.latency.p999)}</td><td>${ms(r.latency.max)}</td></tr>
<tr><td>from actual send (closed-model view)</td><td>${ms(r.serviceTime.p50)}</td><td>${ms(r.serviceTime.p90)}</td><td>${ms(r.serviceTime.p95)}</td><td>${ms(r.serviceTime.p99)}</td><td>${ms(r.serviceTime.p999)}</td><td>${ms(r.serviceTime.max)}</td></tr></table>
${extra.join('\n')}
${charts.join('\n')}
<h2>Windows</h2><table><tr><th>window</th><th>planned/s</th><th>achieved/s</th><th>requests</th><th>p50</th><th>p95</th><th>p99</th><th>errors</th><th>dropped</th></tr>${windowRows}</table>
<h2>Responses</h2><table><tr><th>status</th><th>count</th></tr>${statusRows}</table>
${failureRows ? `<table><tr><th>transport failure</th><th>count</th></tr>${failureRows}</table>` : ''}
${r.generator.warnings.map((w) => `<p class="fail">${esc(w)}</p>`).join('')}
`
  return htmlPage(`aiops loadtest ${r.verdict}`, body)
}
