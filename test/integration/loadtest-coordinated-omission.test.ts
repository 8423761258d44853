/**
 * Coordinated omission, shown on real sockets: a node:http target stops answering for 2 s in the middle of a
 * fixed-rate run. aiops measures latency from each request's scheduled send time, so the stall shows in its p99; a
 * closed-model measurement of the same run (latency from the actual send, what wrk or ab report) hides it, because
 * a closed-model client sends nothing while its few connections wait.
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
let stallUntil = 0
let stalledRequests = 0

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const wait = stallUntil - Date.now()
    const answer = (): void => {
      res.end('ok')
    }
    // Requests arriving during the stall are held (not refused) until it ends, as a GC pause or a lock would.
    if (wait > 0) {
      stalledRequests++
      setTimeout(answer, wait)
    } else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('coordinated omission', () => {
  it('a 2 s stall in a fixed-rate run shows in aiops p99 but not in a closed-model measurement of the same run', async () => {
    // 200 req/s for 6 s over 4 connections; the target stalls from t = 2 s to t = 4 s.
    const spec = await specFor({ target: url, rate: 200, duration: '6s', connections: 4, maxInFlight: 10_000, thresholds: ['p99<500ms'] })
    const stall = setTimeout(() => (stallUntil = Date.now() + 2000), 2000)
    const result = await runLoadtest(spec, { workerMode: 'inline' })
    clearTimeout(stall)

    expect(stalledRequests).toBeGreaterThan(0)
    expect(result.totals.scheduled).toBe(1200)
    expect(result.totals.dropped).toBe(0)
    expect(result.totals.completed).toBe(1200)
    // About 400 requests were due during the stall: a third of the run waited up to 2 s.
    expect(result.latency.p99!).toBeGreaterThanOrEqual(1000)
    expect(result.latency.max!).toBeGreaterThanOrEqual(1500)
    // Measured from the actual send, only the 4 requests on the wire saw the stall (0.3% of samples): p99 misses it.
    expect(result.serviceTime.p99!).toBeLessThan(500)
    expect(result.serviceTime.max!).toBeGreaterThanOrEqual(1500)
    // The verdict uses the honest number.
    expect(result.ok).toBe(false)
    expect(result.summary).toContain('p99<500ms')
    // The timeline shows when: the worst second is inside or right after the stall.
    const worst = result.timeline.reduce((a, b) => ((b.latency.p99 ?? 0) > (a.latency.p99 ?? 0) ? b : a))
    expect(worst.t).toBeGreaterThanOrEqual(3)
    expect(worst.t).toBeLessThanOrEqual(5)
  })
})
