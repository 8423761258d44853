/**
 * Live progress on a terminal with ink. ink and react are imported only here, lazily, so runs in CI (not a TTY),
 * --json runs and every other command never load them. Rendered to stderr so stdout stays the command's output.
 */
import { formatMs } from '../duration.js'
import type { Progress } from '../result.js'

export interface LiveView {
  update(p: Progress): void
  stop(): void
}

export async function inkProgress(stream: NodeJS.WriteStream): Promise<LiveView> {
  const [{ render, Box, Text }, React] = await Promise.all([import('ink'), import('react')])
  const h = React.createElement
  const bar = (frac: number, width = 30): string => {
    const n = Math.round(Math.min(1, Math.max(0, frac)) * width)
    return '█'.repeat(n) + '░'.repeat(width - n)
  }
  const View = ({ p }: { p: Progress | null }): ReturnType<typeof h> => {
    if (!p) return h(Text, { dimColor: true }, 'starting workers…')
    const l = p.last
    return h(
      Box,
      { flexDirection: 'column' },
      h(Text, null, `${bar(p.elapsedS / p.durationS)} ${p.elapsedS}s / ${Math.ceil(p.durationS)}s${p.window ? `  ${p.window}` : ''}`),
      h(Text, null, `rate    target ${p.targetRps.toFixed(0)}/s   completed ${l ? l.rps.toFixed(0) : '-'}/s`),
      h(Text, null, `latency p50 ${formatMs(l?.latency.p50)}  p95 ${formatMs(l?.latency.p95)}  p99 ${formatMs(l?.latency.p99)}  max ${formatMs(l?.latency.max)}  (last second)`),
      h(Text, null, `total   ${p.totals.requests} requests  p99 ${formatMs(p.totals.latency.p99)}  errors ${(p.totals.errorRate * 100).toFixed(2)}%  dropped ${(p.totals.dropRate * 100).toFixed(2)}%`),
      p.breached.length ? h(Text, { color: 'red' }, `breached so far: ${p.breached.join(', ')}`) : h(Text, { color: 'green' }, 'thresholds met so far'),
      p.stopping ? h(Text, { color: 'yellow' }, `stopping: ${p.stopping}`) : null,
    )
  }
  const app = render(h(View, { p: null }), { stdout: stream, patchConsole: false, exitOnCtrlC: false })
  let last = 0
  return {
    update(p) {
      // A few redraws a second is plenty, and keeps rendering off the load generator's event loop.
      const now = Date.now()
      if (now - last < 250 && !p.stopping) return
      last = now
      app.rerender(h(View, { p }))
    },
    stop() {
      app.unmount()
    },
  }
}
