/**
 * Several worker processes against a real node:http target: one shared schedule, per-second snapshots merged by
 * the coordinator, exact totals from the workers' HDR histograms; and a stress run that stops at its knee.
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
let seen = 0
/** Requests per second above which the target starts answering 503 (a crude capacity limit for the stress run). */
let limitRps = Infinity
let windowStart = Date.now()
let inWindow = 0

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen++
    const now = Date.now()
    if (now - windowStart >= 1000) {
      windowStart = now
      inWindow = 0
    }
    inWindow++
    res.statusCode = inWindow > limitRps ? 503 : 200
    res.end('x'.repeat(64))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hello`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('multi-process load generation', () => {
  it('two forked workers split one schedule and their results merge exactly', async () => {
    seen = 0
    limitRps = Infinity
    const spec = await specFor({ target: url, rate: 300, duration: '3s', workers: 2, connections: 8 })
    const r = await runLoadtest(spec, { workerMode: 'process' })
    expect(r.workers).toBe(2)
    expect(r.totals.scheduled).toBe(900)
    expect(r.totals.completed + r.totals.dropped).toBe(900)
    expect(seen).toBe(r.totals.completed)
    expect(r.totals.statuses['200']).toBe(r.totals.completed)
    expect(r.totals.bytes).toBe(64 * r.totals.completed)
    expect(r.latency.count).toBe(r.totals.completed)
    // The per-second timeline (merged from both workers' snapshots) accounts for the same responses.
    expect(r.timeline.reduce((s, p) => s + p.rps * p.widthS, 0)).toBe(r.totals.completed)
    expect(r.generator.cpuS).toBeGreaterThan(0)
    expect(r.ok).toBe(true)
  })

  it('stress steps the rate up and stops at the first step that breaks a threshold: the knee is the one before', async () => {
    limitRps = 250
    const spec = await specFor({ target: url, profile: 'stress', rate: 100, 'stress.stepDuration': '2s', 'stress.maxSteps': 6, thresholds: ['error_rate<5%'] })
    const r = await runLoadtest(spec, { workerMode: 'inline' })
    limitRps = Infinity
    expect(r.stress!.steps.map((s) => s.rate)).toEqual([100, 200, 300])
    expect(r.stress!.steps.map((s) => s.ok)).toEqual([true, true, false])
    expect(r.stress!.knee).toMatchObject({ rate: 200, breakingRate: 300 })
    expect(r.ok).toBe(true)
    // Stopped at the knee: well before the 12 s the six steps would take.
    expect(r.durationS).toBeLessThan(9)
  })
})
