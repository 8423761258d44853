/**
 * Spike and soak profiles end to end against a real node:http target whose latency we control: a spike that the
 * target absorbs and recovers from, and a soak whose target slows down steadily (a leak), which drift must show.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/lib/config/index.js'
import { buildSpec } from '../../src/lib/loadgen/options.js'
import { runLoadtest } from '../../src/lib/loadgen/run.js'

async function specFor(flags: Record<string, unknown>) {
  const f = Object.fromEntries(Object.entries(flags).map(([k, v]) => [`loadtest.${k}`, { value: v, flag: `--${k}` }]))
  const { config } = await resolveConfig({ env: {}, cwd: '/nonexistent-dir-for-tests', flags: f })
  return buildSpec(config.loadtest, { field: '--threshold', label: 'flag' })
}

let server: http.Server
let url: string
/** Milliseconds the target waits before answering; the soak test raises it as the run goes on. */
let delayMs = 0

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    if (delayMs > 0) setTimeout(() => res.end('ok'), delayMs)
    else res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('spike and soak profiles', () => {
  it('spike: base, × multiplier, base again; recovery time is measured after the burst', async () => {
    delayMs = 0
    // Recovery needs 3 calm seconds in a row; 8 s leaves room for a noisy second on a shared machine.
    const spec = await specFor({ target: url, profile: 'spike', rate: 40, 'spike.multiplier': 5, 'spike.warmup': '2s', 'spike.duration': '1s', 'spike.recovery': '8s', thresholds: ['error_rate<1%', 'recovery<8s'] })
    const r = await runLoadtest(spec, { workerMode: 'inline' })
    expect(r.plan.stages.map((s) => s.rate)).toEqual([40, 200, 40])
    expect(r.totals.scheduled).toBe(40 * 2 + 200 + 40 * 8)
    expect(r.windows.map((w) => w.name)).toEqual(['before', 'spike', 'after'])
    expect(r.spike!.multiplier).toBe(5)
    expect(r.spike!.recovered).toBe(true)
    expect(r.spike!.recoveryS).toBeGreaterThanOrEqual(0)
    expect(r.thresholds.find((t) => t.metric === 'recovery')!.actual).toBe(r.spike!.recoveryS)
  })

  it('soak: a target that slows down over the run shows as p99 drift, and drift<… gates on it', async () => {
    delayMs = 1
    const grow = setInterval(() => (delayMs += 40), 1000)
    const spec = await specFor({ target: url, profile: 'soak', rate: 30, duration: '6s', 'soak.windows': 3, thresholds: ['error_rate<1%', 'drift<50%'] })
    const r = await runLoadtest(spec, { workerMode: 'inline' })
    clearInterval(grow)
    delayMs = 0
    expect(r.soak!.windows).toHaveLength(3)
    // ~1–41 ms in the first window, ~161–201 ms in the last (p50 is the robust signal; p99 also carries warm-up).
    expect(r.soak!.p50Change!).toBeGreaterThan(2)
    expect(r.soak!.p99Change!).toBeGreaterThan(0.5)
    expect(r.soak!.p99SlopeMsPerHour!).toBeGreaterThan(0)
    expect(r.ok).toBe(false)
    expect(r.summary).toContain('drift<50%')
  })
})
