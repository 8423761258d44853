/**
 * The whole pipeline in one process: `aiops up`, a metric stream with an injected spike POSTed as OTLP/JSON to
 * the gateway, and the anomaly record read back with `aiops query` through the router's ClickHouse door. The
 * gateway and router ports are picked free and passed to every process (AIOPS_GATEWAY_PORT, AIOPS_ROUTER_PORT).
 * Needs `npm run build` first.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startCli, type RunningCli } from '../support/cli.js'
import { freePort } from '../support/ports.js'

let up: RunningCli
let env: Record<string, string>
let cwd: string

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'aiops-up-det-'))
  env = { AIOPS_GATEWAY_PORT: String(await freePort()), AIOPS_ROUTER_PORT: String(await freePort()), AIOPS_TELEMETRY_PORT: '0' }
  up = startCli(['up', '--data-dir', path.join(cwd, 'data'), '--json'], { cwd, env })
  await up.waitForLog('serving', (l) => l)
})
afterAll(async () => {
  up?.child.kill('SIGINT')
  await up?.exited
})

/** 80 one-minute points of a gauge; point 60 is a spike. */
function otlpMetrics(): unknown {
  // Recent timestamps: metric_points and anomalies have TTLs (30 and 90 days), enforced by the embedded store.
  const t0 = BigInt(Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000) * 1_000_000n
  const dataPoints = Array.from({ length: 80 }, (_, i) => ({
    timeUnixNano: (t0 + BigInt(i) * 60_000_000_000n).toString(),
    asDouble: 200 + 4 * Math.sin(i * 1.7) + (i === 60 ? 150 : 0),
    attributes: [{ key: 'route', value: { stringValue: '/checkout' } }],
  }))
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
        scopeMetrics: [{ scope: { name: 'e2e' }, metrics: [{ name: 'http.server.duration', unit: 'ms', gauge: { dataPoints } }] }],
      },
    ],
  }
}

describe('aiops up: metric stream with a spike → anomaly', () => {
  it('the anomaly record is queryable with `aiops query`', { timeout: 90_000 }, async () => {
    const res = await fetch(`http://127.0.0.1:${env.AIOPS_GATEWAY_PORT}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(otlpMetrics()),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    const sql = "SELECT metric, service, tier, value, expected, details FROM anomalies WHERE JSONExtractString(details, 'state') = 'open'"
    let rows: Array<Record<string, unknown>> = []
    const t0 = Date.now()
    while (rows.length === 0 && Date.now() - t0 < 60_000) {
      const r = await runCli(['query', '--url', `http://127.0.0.1:${env.AIOPS_ROUTER_PORT}`, '--json', sql], { cwd, env })
      if (r.code === 0) rows = (JSON.parse(r.stdout) as { rows: Array<Record<string, unknown>> }).rows
      if (rows.length === 0) await new Promise((s) => setTimeout(s, 1000))
    }
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ metric: 'http.server.duration', service: 'shop', tier: 'basic' })
    expect(Number(rows[0]!.value)).toBeGreaterThan(340)
    expect(Number(rows[0]!.expected)).toBeLessThan(210)
    expect(JSON.parse(String(rows[0]!.details))).toMatchObject({ state: 'open', degradation: 0, configuredTier: 'basic' })
  })
})
