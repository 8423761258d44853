/**
 * The detector agent on real backends (the in-process bus, a real ClickHouse 18.16 server): a spike in a
 * metric stream becomes one anomaly record on `aiops.anomalies` and one row in the store, with tier and
 * degradation level; a missing or corrupt model puts the robust tier's series on the statistical tier at
 * start, with /readyz saying degraded and one log line; a store outage degrades to pass-through (level 3)
 * without losing the records, which reach the store once it is back.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHost, type RunningHost } from '../../src/agents/host.js'
import { DetectorAgent } from '../../src/agents/detector/index.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { decodeAnomaly } from '../../src/lib/detection/records.js'
import type { AnomalyRecord } from '../../src/lib/detection/types.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { createLogger } from '../../src/lib/telemetry/index.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'

const MIN = 60_000
// Recent timestamps: tables have TTLs (servers that support them drop rows older than the retention at once).
const T0 = Math.floor((Date.now() - 3 * 3_600_000) / MIN) * MIN

interface Running {
  host: RunningHost
  agent: DetectorAgent
  anomalies: AnomalyRecord[]
  logs: Array<Record<string, unknown>>
  database: string
  stop(): Promise<void>
}

let ch: ClickHouseServer
beforeAll(async () => {
  ch = await startClickHouse()
})
afterAll(async () => {
  await ch?.stop()
})

async function start(env: Record<string, string> = {}): Promise<Running> {
  const database = randomName('det')
  const resolved = await resolveConfig({
    cwd: mkdtempSync(path.join(tmpdir(), 'aiops-det-')),
    env: {
      AIOPS_STORE_BACKEND: 'clickhouse',
      AIOPS_STORE_CLICKHOUSE_URL: ch.url,
      AIOPS_STORE_CLICKHOUSE_DATABASE: database,
      AIOPS_STORE_CLICKHOUSE_REQUEST_TIMEOUT_MS: '2000',
      AIOPS_TELEMETRY_PORT: '0',
      AIOPS_TELEMETRY_PROBE_INTERVAL_MS: '200',
      ...env,
    },
  })
  const stream = new PassThrough()
  const logs: Array<Record<string, unknown>> = []
  stream.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>)
  })
  const agent = new DetectorAgent()
  const host = await startHost({ resolved, agents: [agent], logger: createLogger({ level: 'info', stream }) })
  const anomalies: AnomalyRecord[] = []
  const watcher = await host.backends.bus.consume(resolved.config.bus.topics.anomalies, 'test-watcher', async (b) => {
    for (const r of b.records) anomalies.push(decodeAnomaly(r.value))
  })
  return {
    host,
    agent,
    anomalies,
    logs,
    database,
    stop: async () => {
      await watcher.stop()
      await host.stop()
    },
  }
}

/** `count` points of `series` from index `from` (one envelope per point, as the gateway groups by series). */
async function send(r: Running, series: string, from: number, count: number, spikeAt = -1): Promise<void> {
  const rand = rng(from * 7 + series.length)
  const records = Array.from({ length: count }, (_, k) => {
    const i = from + k
    const row = {
      tenant_id: 'acme',
      name: 'http.server.duration',
      series,
      service: 'checkout',
      ts_ns: (BigInt(T0 + i * MIN) * 1_000_000n).toString(),
      value: 120 + 2 * gaussian(rand) + (i === spikeAt ? 80 : 0),
      kind: 'gauge',
      attr_keys: [],
      attr_values: [],
    }
    return { key: `acme/${series}`, value: encodeEnvelope({ signal: 'metrics', tenant: 'acme', rows: [row] }) }
  })
  await r.host.backends.bus.produce('aiops.metrics', records)
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, limitMs = 20_000): Promise<T> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((res) => setTimeout(res, 100))
  }
}

async function readyz(r: Running): Promise<{ status: number; body: { ok: boolean; checks: Record<string, string>; details?: Record<string, string>; degraded?: Record<string, unknown> } }> {
  const res = await fetch(`${r.host.telemetryUrl}/readyz`)
  return { status: res.status, body: (await res.json()) as never }
}

async function storedAnomalies(r: Running): Promise<Array<{ id: string; tier: string; details: string; value: number }>> {
  return r.host.backends.store.query(`SELECT id, tier, details, value FROM ${r.database}.anomalies ORDER BY ts_ns`)
}

describe('detector agent, basic tier', () => {
  let r: Running
  beforeAll(async () => {
    r = await start()
  })
  afterAll(() => r?.stop())

  it('a spike becomes one anomaly record on the bus and one row in the store', async () => {
    await send(r, 'http.server.duration{route=/pay}', 0, 80, 60)
    await send(r, 'http.server.duration{route=/cart}', 0, 80)
    const open = await until('the anomaly on the bus', () => r.anomalies.find((a) => a.state === 'open'))
    expect(open).toMatchObject({
      tenant: 'acme',
      series: 'http.server.duration{route=/pay}',
      metric: 'http.server.duration',
      service: 'checkout',
      tier: 'basic',
      configuredTier: 'basic',
      detector: 'ewma-mad',
      degradation: 0,
      tsNs: (BigInt(T0 + 60 * MIN) * 1_000_000n).toString(),
    })
    expect(open.score).toBeGreaterThan(0.9999)
    expect(open.value).toBeGreaterThan(open.upper)
    expect(open.lower).toBeLessThan(open.expected)
    const rows = await until('the stored anomaly', async () => ((await storedAnomalies(r)).length > 0 ? storedAnomalies(r) : undefined))
    expect(rows[0]).toMatchObject({ id: open.id, tier: 'basic' })
    expect(JSON.parse(rows[0]!.details)).toMatchObject({ state: 'open', degradation: 0, configuredTier: 'basic' })
    expect(r.anomalies.filter((a) => a.state === 'open')).toHaveLength(1)
  })

  it('/readyz is ready and says the degradation level; /metrics has the gauge', async () => {
    const { status, body } = await until('a probe round', async () => {
      const res = await readyz(r)
      return res.body.checks.detector === 'ok' ? res : undefined
    })
    expect(status).toBe(200)
    expect(body.details?.detector).toBe('level 0 full')
    expect(body.degraded).toMatchObject({ 'detector:degradation_level': 0, 'detector:degradation_reasons': [] })
    const metrics = await (await fetch(`${r.host.telemetryUrl}/metrics`)).text()
    expect(metrics).toMatch(/^aiops_detector_degradation_level 0$/m)
    expect(metrics).toMatch(/^aiops_detector_points_total\{outcome="scored"\} \d+/m)
    expect(metrics).toMatch(/^aiops_detector_anomalies_total\{state="open",tier="basic"\} 1$/m)
  })

  it('store down: records still reach the bus (level 3), wait in the outbox, and are stored once it is back', async () => {
    await ch.kill()
    let second: AnomalyRecord
    try {
      await send(r, 'http.server.duration{route=/pay}', 80, 40, 100)
      second = await until('the anomaly on the bus while the store is down', () => r.anomalies.filter((a) => a.state === 'open')[1])
      expect(second.tsNs).toBe((BigInt(T0 + 100 * MIN) * 1_000_000n).toString())
      await until('level 3', () => (r.agent.degradationState.level === 3 ? true : undefined))
      const detail = await until('/readyz to say level 3', async () => {
        const d = (await readyz(r)).body.details?.detector
        return d?.startsWith('level 3') ? d : undefined
      })
      expect(detail).toMatch(/^level 3 minimal .*store_failed: inserting into .*anomalies fails/)
    } finally {
      await ch.restart()
    }
    const id = second.id
    await until('the outbox flushed into the store', async () => ((await storedAnomalies(r).catch(() => [])).some((x) => x.id === id) ? true : undefined), 40_000)
    await until('level 0 again', () => (r.agent.degradationState.level === 0 ? true : undefined))
  })
})

describe('detector agent, robust tier without a usable model', () => {
  it.each([
    ['missing', (dir: string) => path.join(dir, 'nope.onnx'), /does not exist; build it with `aiops detector build-model`/],
    [
      'corrupt',
      (dir: string) => {
        writeFileSync(path.join(dir, 'bad.onnx'), 'this is not a protobuf')
        return path.join(dir, 'bad.onnx')
      },
      /is not a valid ONNX model/,
    ],
  ])('%s model file: statistical tier from the start, /readyz degraded (level 1), one log line', async (_, make, why) => {
    const model = make(mkdtempSync(path.join(tmpdir(), 'aiops-model-')))
    const r = await start({ AIOPS_DETECTOR_DEFAULT_TIER: 'robust', AIOPS_DETECTOR_ROBUST_MODEL_PATH: model })
    try {
      const lines = r.logs.filter((l) => String(l.msg).includes(model))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ level: 'warn' })
      expect(String(lines[0]!.msg)).toMatch(why)
      const { status, body } = await until('a probe round', async () => {
        const res = await readyz(r)
        return res.body.checks.detector === 'ok' ? res : undefined
      })
      expect(status).toBe(200) // degraded, still serving
      expect(body.details?.detector).toMatch(/^level 1 reduced ML \(statistical only\): ml_unavailable: model file .* (does not exist|is not a valid ONNX model)/)
      await send(r, 'queue.depth', 0, 90, 75)
      const open = await until('the anomaly', () => r.anomalies.find((a) => a.state === 'open'))
      expect(open).toMatchObject({ tier: 'basic', configuredTier: 'robust', degradation: 1 })
    } finally {
      await r.stop()
    }
  })
})
