/** The final summary table printed to the terminal (and CI logs) when --json is not given. */
import { formatMs } from '../duration.js'
import type { LatencySummary } from '../hdr.js'
import type { LoadtestResult } from '../result.js'
import { formatActual } from '../thresholds.js'

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`
const lat = (l: LatencySummary): string =>
  `p50 ${formatMs(l.p50)}  p90 ${formatMs(l.p90)}  p95 ${formatMs(l.p95)}  p99 ${formatMs(l.p99)}  p99.9 ${formatMs(l.p999)}  max ${formatMs(l.max)}`

export function summaryLines(r: LoadtestResult): string[] {
  const c = r.totals
  const out: string[] = []
  out.push(`aiops loadtest  ${r.profile}  ${r.target.url}  (${r.target.kind}, ${r.workers} worker${r.workers === 1 ? '' : 's'}, ${r.target.client} client)`)
  out.push(`  requests    ${c.completed} completed of ${c.scheduled} scheduled in ${r.durationS}s: ${c.rps.toFixed(1)}/s${c.events ? `; ${c.events} telemetry items (${c.eventsPerS.toFixed(0)}/s)` : ''}`)
  const statuses = Object.entries(c.statuses).map(([k, v]) => `${k === '0' ? 'none' : k}×${v}`).join(' ')
  out.push(`  errors      ${c.errors} (${pct(c.errorRate)})   dropped ${c.dropped} (${pct(c.dropRate)})   statuses ${statuses || '-'}`)
  const fails = Object.entries(c.failures).map(([k, v]) => `${k}×${v}`).join(' ')
  if (fails) out.push(`  failures    ${fails}`)
  out.push(`  latency     ${lat(r.latency)}   (from scheduled send time)`)
  out.push(`  service     ${lat(r.serviceTime)}   (from actual send, as a closed-model tool reports)`)
  if (r.stress) {
    out.push('  steps       rate/s   achieved/s   p50       p95       p99       errors   dropped  verdict')
    for (const s of r.stress.steps) {
      out.push(
        `              ${String(s.rate).padEnd(8)} ${s.achievedRps.toFixed(1).padEnd(12)} ${formatMs(s.p50).padEnd(9)} ${formatMs(s.p95).padEnd(9)} ${formatMs(s.p99).padEnd(9)} ${pct(s.errorRate).padEnd(8)} ${pct(s.dropRate).padEnd(8)} ${s.ok ? 'ok' : `breached ${s.breached.join(', ')}`}`,
      )
    }
    const k = r.stress.knee
    out.push(`  knee        ${k.rate === null ? 'none: the first step already breached a threshold' : `${k.rate}/s (achieved ${k.achievedRps?.toFixed(1)}/s)`}${k.breakingRate !== null ? `; breaks at ${k.breakingRate}/s` : '; no step breached: the knee is above the highest step'}`)
  }
  if (r.spike) {
    out.push(`  spike       ×${r.spike.multiplier}: p99 before ${formatMs(r.spike.baselineP99)}, during ${formatMs(r.spike.spikeP99)}; ${r.spike.recovered ? `recovered ${r.spike.recoveryS}s after the spike` : 'did not recover before the end'}`)
  }
  if (r.soak) {
    const d = (v: number | null): string => (v === null ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`)
    out.push(`  drift       p50 ${d(r.soak.p50Change)}  p99 ${d(r.soak.p99Change)}  error rate ${(r.soak.errorRateChange * 100).toFixed(2)} points  p99 trend ${r.soak.p99SlopeMsPerHour === null ? '-' : `${r.soak.p99SlopeMsPerHour.toFixed(2)} ms/h`}`)
  }
  out.push('  thresholds')
  const width = Math.max(0, ...r.thresholds.map((t) => t.expr.length))
  for (const t of r.thresholds) out.push(`    ${t.ok ? '✓' : '✗'} ${t.expr.padEnd(width)}  ${formatActual(t).padEnd(12)} ${t.source}`)
  for (const w of r.generator.warnings) out.push(`  warning: ${w}`)
  if (r.reportPath) out.push(`  report      ${r.reportPath}`)
  out.push(r.summary)
  return out
}
