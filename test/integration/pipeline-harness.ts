/**
 * The whole ingest path for the pipeline-*.test.ts files: real OTLP/protobuf requests into a running GatewayAgent,
 * through a bus (3-broker Kafka mock or the memory bus) into a ConsumerAgent (in-process, or a child process that
 * a test can SIGKILL) and a store (ClickHouse 18.16 server or chDB), and the exact accounting:
 *   items received = items stored + items sampled out (by reason) + items refused (never accepted)
 * read from the gateway's Prometheus counters and the store's row counts, with zero duplicates (rows = distinct span ids).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import type { Registry } from 'prom-client'
import { expect } from 'vitest'
import { ConsumerAgent } from '../../src/agents/consumer/index.js'
import type { AgentContext } from '../../src/agents/types.js'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import type { Bus } from '../../src/lib/bus/types.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { encodeExportTraceRequest } from '../../src/lib/otlp/index.js'
import type { Store } from '../../src/lib/store/types.js'
import { createLogger, createMetricsRegistry } from '../../src/lib/telemetry/index.js'
import type { RunningGateway } from '../fixtures/otlp/gateway-harness.js'
import type { KafkaMock } from '../support/kafka.js'

export const ROOT = resolve(import.meta.dirname, '../..')
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function waitFor(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

/** AIOPS_* variables naming one scenario's own topics and consumer group (so scenarios never share a consumer). */
export async function scenarioEnv(run: string, kafka?: KafkaMock): Promise<Record<string, string>> {
  const t = { TRACES: `${run}.traces`, METRICS: `${run}.metrics`, LOGS: `${run}.logs`, DEAD_LETTER: `${run}.dlq`, CONTROL: `${run}.control` }
  if (kafka) for (const [k, name] of Object.entries(t)) await kafka.createTopic(name, k === 'TRACES' ? 4 : 1)
  const env: Record<string, string> = { AIOPS_CONSUMER_GROUP: `${run}-g`, AIOPS_CONSUMER_RETRY_MAX_DELAY_MS: '1000', AIOPS_CONSUMER_REPORT_INTERVAL_MS: '500' }
  for (const [k, name] of Object.entries(t)) env[`AIOPS_BUS_TOPICS_${k}`] = name
  return env
}

export function kafkaBus(kafka: KafkaMock, clientId: string, sessionTimeoutMs = 30_000): KafkaBus {
  return new KafkaBus({
    brokers: kafka.brokers,
    clientId,
    idempotent: false, // the mock cluster cannot initialise an idempotent producer: retries may write twice
    logLevel: 'silent',
    requestTimeoutMs: 3_000,
    connectionTimeoutMs: 1_000,
    consumer: { sessionTimeoutMs, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 },
  })
}

const idPrefix = randomBytes(3).toString('hex')
let nextSpan = 1
/** One OTLP/protobuf request of `size` spans of `service`, unique span ids, every tenth span an error. */
export function otlpBatch(service: string, size: number): { ids: string[]; body: Uint8Array } {
  const ids: string[] = []
  const start = BigInt(Date.now()) * 1_000_000n // recent: the tables' TTL drops old rows on modern ClickHouse
  const spans = Array.from({ length: size }, () => {
    const n = nextSpan++
    const spanId = `${idPrefix}${n.toString(16).padStart(10, '0')}`
    ids.push(spanId)
    return {
      traceId: `${idPrefix}${(Math.floor(n / 10) + 1).toString(16).padStart(26, '0')}`,
      spanId,
      name: 'GET /checkout',
      kind: 2,
      startTimeUnixNano: `${start}`,
      endTimeUnixNano: `${start + 2_000_000n}`,
      ...(n % 10 === 0 ? { status: { code: 2, message: 'boom' } } : {}),
    }
  })
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: service } }] }
  return { ids, body: encodeExportTraceRequest({ resourceSpans: [{ resource, scopeSpans: [{ spans }] }] }) }
}

export interface StreamResult {
  acked: string[]
  statuses: Record<string, number>
}

/**
 * `senders` clients posting a request every `pauseMs` until stop(); `url()` is read per request. The pace keeps
 * the stream within what a consumer into ClickHouse 18.16 stores on the shared 2-core CI machine.
 */
export function stream(url: () => string, service: string, senders = 2, size = 20, pauseMs = 150): { stop: () => Promise<StreamResult> } {
  let running = true
  const acked: string[] = []
  const statuses: Record<string, number> = {}
  const loops = Array.from({ length: senders }, async () => {
    while (running) {
      const { ids, body } = otlpBatch(service, size)
      let status = 'connection'
      try {
        const res = await fetch(`${url()}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } })
        status = String(res.status)
        await res.arrayBuffer()
        if (res.status === 200) acked.push(...ids)
      } catch {
        // refused after the listener closed (SIGTERM): never accepted
      }
      statuses[status] = (statuses[status] ?? 0) + 1
      await sleep(status === '200' ? pauseMs : 50)
    }
  })
  return {
    stop: async () => {
      running = false
      await Promise.all(loops)
      return { acked, statuses }
    },
  }
}

/** Config resolved the way the CLI does, for a consumer on `bus` and `store`. */
export async function consumerContext(env: Record<string, string>, bus: Bus, store: Store): Promise<AgentContext & { registry: Registry }> {
  const { config } = await resolveConfig({ cwd: '/nonexistent-aiops-test-dir', env })
  return { config, bus, store, cache: new MemoryCache(), registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: process.env.PIPELINE_LOG === '1' ? 'info' : 'error' }) }
}

export async function startConsumer(env: Record<string, string>, bus: Bus, store: Store): Promise<{ agent: ConsumerAgent; registry: Registry }> {
  const ctx = await consumerContext(env, bus, store)
  const agent = new ConsumerAgent()
  await agent.start(ctx)
  return { agent, registry: ctx.registry }
}

export async function metricSum(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name)
  if (!m) return 0
  return (await m.get()).values.reduce((n, v) => n + v.value, 0)
}

export interface Accounting {
  received: number
  accepted: number
  stored: number
  distinct: number
  sampledOut: Record<string, number>
  refused: Record<string, number>
  acked: number
  statuses: Record<string, number>
}

async function byReason(gw: RunningGateway, name: string): Promise<Record<string, number>> {
  const m = gw.registry.getSingleMetric(name)
  const out: Record<string, number> = {}
  for (const v of m ? (await m.get()).values : []) {
    if (v.labels.signal !== 'traces' || v.value === 0) continue
    const r = String(v.labels.reason)
    out[r] = (out[r] ?? 0) + v.value
  }
  return out
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((n, v) => n + v, 0)

/**
 * Waits until the store holds every accepted span of `service`, lets late copies arrive, then checks the exact
 * accounting, zero duplicates, and that every span acknowledged with 200 is stored. Prints the figures.
 */
export async function expectExactAccounting(name: string, gw: RunningGateway, store: Store, database: string, service: string, result: StreamResult): Promise<Accounting> {
  const count = async (): Promise<{ rows: number; distinct: number }> => {
    const [r] = await store.query<{ rows: string; uniq_ids: string }>(
      `SELECT count() AS rows, uniqExact(span_id) AS uniq_ids FROM ${database}.spans WHERE service = {s:String}`,
      { params: { s: service } },
    )
    return { rows: Number(r?.rows), distinct: Number(r?.uniq_ids) }
  }
  const accepted = await gw.count('accepted', { signal: 'traces' })
  let last = { rows: -1, distinct: -1 }
  let lastError = ''
  await waitFor(async () => {
    last = await count().catch((err: Error) => ((lastError = err.message), last))
    return last.distinct >= accepted
  }, `${accepted} accepted spans stored`, 60_000).catch(async (err: Error) => {
    const services = await store.query(`SELECT service, count() AS n FROM ${database}.spans GROUP BY service`).catch((e: Error) => e.message)
    throw new Error(`${err.message} (have ${last.distinct}; ${lastError}; in the table: ${JSON.stringify(services)})`)
  })
  await sleep(1_500) // a copy written twice to Kafka would be stored by now
  const final = await count()
  const a: Accounting = {
    received: await gw.count('received', { signal: 'traces' }),
    accepted,
    stored: final.rows,
    distinct: final.distinct,
    sampledOut: await byReason(gw, 'aiops_gateway_items_sampled_out_total'),
    refused: await byReason(gw, 'aiops_gateway_items_refused_total'),
    acked: result.acked.length,
    statuses: result.statuses,
  }
  console.log(`PIPELINE ${name} ${JSON.stringify(a)}`)
  expect(a.stored, 'zero duplicates: rows = distinct span ids').toBe(a.distinct)
  expect(a.received, 'received = stored + sampled out + refused').toBe(a.stored + sum(a.sampledOut) + sum(a.refused))
  expect(a.stored).toBe(a.accepted)
  const stored = new Set((await store.query<{ id: string }>(`SELECT span_id AS id FROM ${database}.spans WHERE service = {s:String}`, { params: { s: service } })).map((r) => r.id))
  expect(result.acked.filter((id) => !stored.has(id)), 'every acknowledged span is stored').toEqual([])
  return a
}

/** The consumer agent in a child process (tsx), on a KafkaBus and the ClickHouse server; SIGTERM prints a summary. */
const CHILD = `
import { resolveConfig } from '${ROOT}/src/lib/config/index.ts'
import { KafkaBus } from '${ROOT}/src/lib/bus/kafka.ts'
import { MemoryCache } from '${ROOT}/src/lib/cache/memory.ts'
import { ClickHouseStore } from '${ROOT}/src/lib/store/clickhouse.ts'
import { createLogger, createMetricsRegistry } from '${ROOT}/src/lib/telemetry/index.ts'
import { ConsumerAgent } from '${ROOT}/src/agents/consumer/index.ts'
const e = process.env
const bus = new KafkaBus({ brokers: e.BROKERS.split(','), idempotent: false, logLevel: 'silent', requestTimeoutMs: 3000,
  connectionTimeoutMs: 1000, consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 } })
const store = new ClickHouseStore({ url: e.CH_URL, database: e.DATABASE })
const { config } = await resolveConfig({ cwd: '/nonexistent-aiops-test-dir', env: e })
const registry = createMetricsRegistry({ defaultMetrics: false })
const agent = new ConsumerAgent()
await agent.start({ config, bus, store, cache: new MemoryCache(), registry, logger: createLogger({ level: 'error' }) })
process.stdout.write('READY\\n')
const total = async (name) => ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((n, v) => n + v.value, 0)
process.on('SIGTERM', async () => {
  await agent.stop()
  const summary = { replays: await total('aiops_consumer_replayed_units_total'), duplicatesDropped: await total('aiops_consumer_duplicates_dropped_total') }
  process.stdout.write('SUMMARY ' + JSON.stringify(summary) + '\\n')
  await bus.close()
  await store.close()
  process.exit(0)
})
`

export interface ConsumerChild {
  ready: Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
  kill(signal: NodeJS.Signals): void
}

export function startConsumerChild(env: Record<string, string>): ConsumerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let markReady: () => void = () => {}
  const ready = new Promise<void>((r) => (markReady = r))
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    if (stdout.includes('READY')) markReady()
  })
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code, signal) => r({ code, signal, stdout, stderr })),
  )
  return {
    ready: Promise.race([ready, exited.then((x) => Promise.reject(new Error(`consumer child exited early: ${x.stderr}`)))]),
    exited,
    kill: (s) => child.kill(s),
  }
}
