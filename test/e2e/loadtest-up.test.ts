/**
 * The CI-style run from the issue: `aiops up`, then `aiops loadtest --profile baseline` against its gateway with
 * generated OTLP telemetry → exit 0 with a summary; the same with an impossible threshold → exit 99 naming it.
 * The gateway port is picked free and given to both processes through AIOPS_GATEWAY_PORT: the loadtest's default
 * target follows the gateway's configured address.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startCli, type RunningCli } from '../support/cli.js'
import { freePort } from '../support/ports.js'

let up: RunningCli
let env: Record<string, string>

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiops-up-lt-'))
  env = { AIOPS_GATEWAY_PORT: String(await freePort()), AIOPS_ROUTER_PORT: String(await freePort()), AIOPS_TELEMETRY_PORT: '0' }
  up = startCli(['up', '--data-dir', dir, '--json'], { cwd: dir, env })
  await up.waitForLog('serving', (l) => l)
})
afterAll(async () => {
  up?.child.kill('SIGINT')
  await up?.exited
})

describe('aiops up + aiops loadtest', () => {
  it('--profile baseline against the gateway: OTLP accepted, thresholds met, exit 0 with a summary', async () => {
    // Error and drop rates are the gate here; latency limits generous enough for a shared CI machine (the SLO
    // defaults, p50<5ms and friends, are what a dedicated load-test host should use).
    const r = await runCli(
      ['loadtest', '--profile', 'baseline', '--rate', '20', '--duration', '5s', '--threshold', 'error_rate<1%', '--threshold', 'drop_rate<1%', '--threshold', 'p99<5s', '--json'],
      { env },
    )
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const out = JSON.parse(r.stdout) as {
      ok: boolean
      target: { kind: string; url: string }
      totals: { completed: number; events: number; statuses: Record<string, number>; tags: Record<string, { completed: number }> }
      eventsPerRequest: number
    }
    expect(out.ok).toBe(true)
    expect(out.target).toMatchObject({ kind: 'gateway', url: `http://127.0.0.1:${env.AIOPS_GATEWAY_PORT}/` })
    expect(out.totals.statuses).toEqual({ '200': 100 })
    expect(Object.keys(out.totals.tags).sort()).toEqual(['logs', 'metrics', 'traces'])
    expect(out.totals.events).toBeGreaterThan(1000)
    expect(out.eventsPerRequest).toBeGreaterThan(10)
    expect(r.stderr).toMatch(/^PASSED baseline http:\/\/127\.0\.0\.1:\d+\/: 100 requests/m)
  })

  it('protobuf bodies are accepted too', async () => {
    const r = await runCli(['loadtest', '--rate', '20', '--duration', '2s', '--encoding', 'protobuf', '--threshold', 'error_rate<1%', '--json'], { env })
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as { totals: { statuses: Record<string, number> } }).totals.statuses).toEqual({ '200': 40 })
  })

  it('an impossible threshold → exit 99 and the summary line names it', async () => {
    const r = await runCli(['loadtest', '--profile', 'baseline', '--rate', '20', '--duration', '2s', '--threshold', 'p99<1us'], { env })
    expect(r.code).toBe(99)
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^FAILED baseline .*thresholds breached: p99<1us \(actual [\d.]+m?s\)$/)
  })
})
