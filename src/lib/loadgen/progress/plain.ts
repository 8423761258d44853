/** Progress for CI logs (stderr is not a terminal): one line every `intervalS` seconds, nothing that redraws. */
import { formatMs } from '../duration.js'
import type { Progress } from '../result.js'

export function progressLine(p: Progress): string {
  const l = p.last
  const elapsed = `${String(p.elapsedS).padStart(String(Math.ceil(p.durationS)).length)}s/${Math.ceil(p.durationS)}s`
  const now = l ? `target ${p.targetRps.toFixed(0)}/s done ${l.rps.toFixed(0)}/s p50 ${formatMs(l.latency.p50)} p99 ${formatMs(l.latency.p99)}` : 'starting'
  const tot = `total ${p.totals.requests} req, p99 ${formatMs(p.totals.latency.p99)}, errors ${(p.totals.errorRate * 100).toFixed(2)}%, dropped ${(p.totals.dropRate * 100).toFixed(2)}%`
  const bad = p.breached.length ? `  breached: ${p.breached.join(', ')}` : ''
  const stop = p.stopping ? `  stopping: ${p.stopping}` : ''
  return `[${elapsed}]${p.window ? ` ${p.window}:` : ''} ${now} | ${tot}${bad}${stop}`
}

export function plainProgress(write: (line: string) => void, intervalS: number): (p: Progress) => void {
  let lastAt = -Infinity
  return (p) => {
    if (p.elapsedS - lastAt < intervalS && !p.stopping && p.elapsedS < p.durationS) return
    lastAt = p.elapsedS
    write(progressLine(p))
  }
}
