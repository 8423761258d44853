/**
 * Small inline-SVG charts for the self-contained HTML reports (loadtest and capacity): no script, no CDN, nothing to
 * fetch, so a report opens the same from a CI artifact, an email attachment or an air-gapped laptop.
 */

export interface Series {
  name: string
  color: string
  points: ReadonlyArray<readonly [number, number | null]>
  /** Dashed line (projections, limits). */
  dashed?: boolean
}

export interface LineChartOptions {
  title: string
  series: Series[]
  xLabel: string
  yLabel: string
  /** Vertical markers (a stress knee, the end of a spike, a runway crossing). */
  markers?: Array<{ x: number; label: string; color?: string }>
  /** Horizontal lines (a threshold, the 70% / 80% utilization marks). */
  hLines?: Array<{ y: number; label: string; color?: string }>
  yMin?: number
  yMax?: number
  width?: number
  height?: number
  /** data-* attributes on the <svg>, so tests and scripts can find a chart. */
  data?: Record<string, string>
  formatY?: (v: number) => string
  formatX?: (v: number) => string
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Round tick values (1, 2, 5 × 10^k) covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo]
  const raw = (hi - lo) / count
  const mag = Math.pow(10, Math.floor(Math.log10(raw)))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : `${Number(v.toPrecision(3))}`)

function dataAttrs(data: Record<string, string> | undefined): string {
  return Object.entries(data ?? {})
    .map(([k, v]) => ` data-${esc(k)}="${esc(v)}"`)
    .join('')
}

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 720
  const H = o.height ?? 260
  const m = { l: 64, r: 16, t: 30, b: 40 }
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]).filter((y): y is number => y !== null && Number.isFinite(y)))
  for (const h of o.hLines ?? []) ys.push(h.y)
  const x0 = xs.length ? Math.min(...xs) : 0
  const x1 = xs.length ? Math.max(...xs, x0 + 1) : 1
  const y0 = o.yMin ?? Math.min(0, ...ys)
  const top = ys.length ? Math.max(...ys) : y0
  // An all-zero series (no errors) still gets a readable 0–1 axis instead of a 1e-9 one.
  const y1 = o.yMax ?? (top > y0 ? top * 1.08 : y0 + 1)
  const X = (x: number): number => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r)
  const Y = (y: number): number => H - m.b - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0 || 1)) * (H - m.t - m.b)
  const fy = o.formatY ?? fmt
  const fx = o.formatX ?? fmt
  const parts: string[] = []
  parts.push(`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}"${dataAttrs(o.data)}>`)
  parts.push(`<text x="${m.l}" y="18" class="title">${esc(o.title)}</text>`)
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}" class="grid"/><text x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end" class="tick">${esc(fy(t))}</text>`)
  }
  for (const t of ticks(x0, x1, 8)) parts.push(`<text x="${X(t)}" y="${H - m.b + 16}" text-anchor="middle" class="tick">${esc(fx(t))}</text>`)
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle" class="axis">${esc(o.xLabel)}</text>`)
  parts.push(`<text x="14" y="${(m.t + H - m.b) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${esc(o.yLabel)}</text>`)
  for (const h of o.hLines ?? []) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(h.y)}" y2="${Y(h.y)}" stroke="${h.color ?? '#c62828'}" stroke-dasharray="4 3" class="hline"/>`)
    parts.push(`<text x="${W - m.r - 4}" y="${Y(h.y) - 4}" text-anchor="end" class="tick" fill="${h.color ?? '#c62828'}">${esc(h.label)}</text>`)
  }
  for (const mk of o.markers ?? []) {
    parts.push(`<line x1="${X(mk.x)}" x2="${X(mk.x)}" y1="${m.t}" y2="${H - m.b}" stroke="${mk.color ?? '#6a1b9a'}" stroke-dasharray="2 3" class="marker"/>`)
    parts.push(`<text x="${X(mk.x) + 4}" y="${m.t + 12}" class="tick" fill="${mk.color ?? '#6a1b9a'}">${esc(mk.label)}</text>`)
  }
  for (const s of o.series) {
    // Gaps (null) split the line instead of drawing through missing data.
    const runs: string[] = []
    let cur = ''
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        if (cur) runs.push(cur)
        cur = ''
        continue
      }
      cur += `${cur ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`
    }
    if (cur) runs.push(cur)
    for (const d of runs) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''} class="series" data-series="${esc(s.name)}"/>`)
  }
  o.series.forEach((s, i) => {
    const lx = m.l + 8 + i * 110
    parts.push(`<rect x="${lx}" y="${m.t - 2}" width="10" height="3" fill="${s.color}"/><text x="${lx + 14}" y="${m.t + 2}" class="legend">${esc(s.name)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}

export interface BarChartOptions {
  title: string
  bars: Array<{ label: string; value: number; color?: string }>
  xLabel: string
  yLabel: string
  width?: number
  height?: number
  data?: Record<string, string>
}

export function barChart(o: BarChartOptions): string {
  const W = o.width ?? 720
  const H = o.height ?? 240
  const m = { l: 64, r: 16, t: 30, b: 52 }
  const max = Math.max(1, ...o.bars.map((b) => b.value))
  const bw = (W - m.l - m.r) / Math.max(1, o.bars.length)
  const Y = (v: number): number => H - m.b - (v / max) * (H - m.t - m.b)
  const parts = [`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}"${dataAttrs(o.data)}>`]
  parts.push(`<text x="${m.l}" y="18" class="title">${esc(o.title)}</text>`)
  for (const t of ticks(0, max)) parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}" class="grid"/><text x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end" class="tick">${fmt(t)}</text>`)
  const every = Math.max(1, Math.ceil(o.bars.length / 10))
  o.bars.forEach((b, i) => {
    const x = m.l + i * bw
    parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${Y(b.value).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(H - m.b - Y(b.value)).toFixed(1)}" fill="${b.color ?? '#1565c0'}" class="bar"><title>${esc(`${b.label}: ${b.value}`)}</title></rect>`)
    if (i % every === 0) parts.push(`<text x="${x + bw / 2}" y="${H - m.b + 14}" text-anchor="middle" class="tick">${esc(b.label)}</text>`)
  })
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" class="axis">${esc(o.xLabel)}</text>`)
  parts.push(`<text x="14" y="${(m.t + H - m.b) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${esc(o.yLabel)}</text>`)
  parts.push('</svg>')
  return parts.join('')
}

/** The page around the charts: inline CSS only. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1280px;color:#1b1b1b;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.pass{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}.muted{color:#666}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}td.text{text-align:left;min-width:320px}
svg.chart{display:block;margin:8px 0;background:#fff;border:1px solid #eee}
svg .title{font-size:13px;font-weight:600}svg .tick,svg .legend{font-size:11px;fill:#555}svg .axis{font-size:12px;fill:#333}
svg .grid{stroke:#eee}code{background:#f5f5f5;padding:1px 4px}
</style></head><body>
${body}
</body></html>
`
}
