/** `aiops capacity` output: the terminal table and the self-contained HTML report with a runway chart per component. */
import { esc, htmlPage, lineChart } from '../loadgen/report/svg.js'
import type { CapacityResult, ComponentPlan } from './plan.js'

export function formatQty(v: number): string {
  if (!Number.isFinite(v)) return '∞'
  const a = Math.abs(v)
  if (a >= 1e12) return `${Number((v / 1e12).toPrecision(3))}T`
  if (a >= 1e9) return `${Number((v / 1e9).toPrecision(3))}G`
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`
  return `${Number(v.toPrecision(4))}`
}
const pct = (u: number): string => (Number.isFinite(u) ? `${(u * 100).toFixed(0)}%` : '∞')
const months = (m: number | null): string => (m === null ? '-' : m === 0 ? 'now' : `${m}mo`)

export function capacityTable(r: CapacityResult): string[] {
  const head = ['component', 'load', 'per instance', 'source', 'inst', 'util', '→70%', '→80%', 'need now', '12mo', '1×', '10×', '100×', 'action']
  const rows = r.components.map((c) => [
    c.label,
    `${formatQty(c.load)} ${c.unit}`,
    formatQty(c.capacityPerInstance),
    c.capacitySource.kind,
    `${c.instances}${c.instancesSource === 'recommended' ? '*' : ''}`,
    pct(c.utilization),
    months(c.runwayMonths.toScale),
    months(c.runwayMonths.toRunwayLimit),
    String(c.needed.now),
    String(c.needed.in12Months),
    String(c.needed.x1),
    String(c.needed.x10),
    String(c.needed.x100),
    c.action,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')
  const out = [line(head), ...rows.map(line)]
  out.push(`growth ${r.growth.monthlyPercent}%/month + ${r.growth.newTenantsPerMonth} tenants/month → ×${r.growth.factorIn12Months.toFixed(2)} in 12 months; * = instances not given, recommended count assumed`)
  if (r.cost) out.push(`cost per month (${r.cost.currency}): now ${formatQty(r.cost.now)}, in 12 months ${formatQty(r.cost.in12Months)}, at 1× ${formatQty(r.cost.x1)}, 10× ${formatQty(r.cost.x10)}, 100× ${formatQty(r.cost.x100)}`)
  if (r.actions.orderHardware.length) out.push(`ORDER HARDWARE: ${r.actions.orderHardware.join(', ')} (runway under ${r.levels.orderLeadMonths} months)`)
  if (r.actions.scaleNow.length) out.push(`SCALE NOW: ${r.actions.scaleNow.join(', ')} (over ${pct(r.levels.scaleAt)})`)
  for (const s of r.skipped) out.push(`skipped ${s.key}: ${s.reason}`)
  for (const n of r.notes) out.push(`note: ${n}`)
  if (r.reportPath) out.push(`report: ${r.reportPath}`)
  if (r.targetsPath) out.push(`scaling targets: ${r.targetsPath}`)
  return out
}

function runwayChart(c: ComponentPlan, r: CapacityResult): string {
  const markers = [
    ...(c.runwayMonths.toScale !== null ? [{ x: c.runwayMonths.toScale, label: `70% in ${months(c.runwayMonths.toScale)}`, color: '#ef6c00' }] : []),
    ...(c.runwayMonths.toRunwayLimit !== null ? [{ x: c.runwayMonths.toRunwayLimit, label: `80% in ${months(c.runwayMonths.toRunwayLimit)}`, color: '#c62828' }] : []),
  ]
  const capped = c.projection.map((p) => [p.month, Math.min(p.utilization * 100, 400)] as const)
  return lineChart({
    title: `${c.label}: utilization of ${c.instances} instance(s)${c.instancesSource === 'recommended' ? ' (recommended count; none given)' : ''} as load grows`,
    xLabel: 'months from now',
    yLabel: 'utilization %',
    series: [{ name: 'utilization', color: c.orderHardware ? '#c62828' : c.scaleNow ? '#ef6c00' : '#1565c0', points: capped }],
    hLines: [
      { y: r.levels.scaleAt * 100, label: 'scale at 70%', color: '#ef6c00' },
      { y: r.levels.runwayAt * 100, label: 'runway limit 80%', color: '#c62828' },
    ],
    markers,
    yMin: 0,
    yMax: Math.max(100, ...capped.map((p) => p[1])) * 1.05,
    height: 220,
    data: { component: c.key, chart: 'runway' },
    formatY: (v) => `${Math.round(v)}%`,
  })
}

export function capacityHtml(r: CapacityResult): string {
  const rows = r.components
    .map(
      (c) =>
        `<tr><td>${esc(c.label)}</td><td>${formatQty(c.load)} ${esc(c.unit)}</td><td title="${esc(c.capacitySource.detail)}">${formatQty(c.capacityPerInstance)} <span class="muted">(${c.capacitySource.kind})</span></td><td>${c.instances}${c.instancesSource === 'recommended' ? '*' : ''}</td><td class="${c.scaleNow ? 'fail' : ''}">${pct(c.utilization)}</td><td>${months(c.runwayMonths.toScale)}</td><td class="${c.orderHardware ? 'fail' : ''}">${months(c.runwayMonths.toRunwayLimit)}</td><td>${c.needed.now}</td><td>${c.needed.in12Months}</td><td>${c.needed.x1}</td><td>${c.needed.x10}</td><td>${c.needed.x100}</td><td class="text">${esc(c.action)}</td></tr>`,
    )
    .join('')
  const costRows = r.components
    .filter((c) => c.cost)
    .map((c) => `<tr><td>${esc(c.label)}</td><td>${formatQty(c.cost!.perInstance)}</td><td>${formatQty(c.cost!.now)}</td><td>${formatQty(c.cost!.in12Months)}</td><td>${formatQty(c.cost!.x10)}</td><td>${formatQty(c.cost!.x100)}</td></tr>`)
    .join('')
  const actions = [
    ...r.actions.orderHardware.map((a) => `<li class="fail">Order hardware: ${esc(a)}</li>`),
    ...r.actions.scaleNow.map((a) => `<li class="fail">Scale now: ${esc(a)}</li>`),
  ]
  const body = `
<h1>aiops capacity plan</h1>
<p class="muted">Generated ${esc(r.generatedAt)}. Growth ${r.growth.monthlyPercent}%/month + ${r.growth.newTenantsPerMonth} new tenants/month (×${r.growth.factorIn12Months.toFixed(2)} in 12 months). Scale at ${pct(r.levels.scaleAt)}, runway counted to ${pct(r.levels.runwayAt)}, order hardware when it is under ${r.levels.orderLeadMonths} months.</p>
${actions.length ? `<ul>${actions.join('')}</ul>` : '<p class="pass">No component needs scaling or hardware now.</p>'}
<h2>Components</h2>
<table><tr><th>component</th><th>load</th><th>per instance</th><th>instances</th><th>utilization</th><th>→70%</th><th>→80%</th><th>need now</th><th>12 months</th><th>1×</th><th>10×</th><th>100×</th><th>action</th></tr>${rows}</table>
<p class="muted">* instances not given: the recommended count is assumed. Hover a capacity for where it came from.</p>
${costRows ? `<h2>Cost per month (${esc(r.cost!.currency)})</h2><table><tr><th>component</th><th>per instance</th><th>now</th><th>12 months</th><th>10×</th><th>100×</th></tr>${costRows}<tr><th>total</th><th></th><th>${formatQty(r.cost!.now)}</th><th>${formatQty(r.cost!.in12Months)}</th><th>${formatQty(r.cost!.x10)}</th><th>${formatQty(r.cost!.x100)}</th></tr></table>` : ''}
<h2>Runway per component</h2>
${r.components.map((c) => runwayChart(c, r)).join('\n')}
${r.skipped.length ? `<h2>Not planned</h2><ul>${r.skipped.map((s) => `<li>${esc(s.key)}: ${esc(s.reason)}</li>`).join('')}</ul>` : ''}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
`
  return htmlPage('aiops capacity plan', body)
}
