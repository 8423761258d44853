/**
 * Runners for the consumer benchmark (bench/ingest/consumer.ts): the consumer agent draining a pre-filled bus into
 * a store, and the limits beside it — a raw @clickhouse/client insert loop and a raw chDB insert loop of the same
 * rows in batches of the same size. Each runner measures wall time and this process's CPU time over the same
 * window, so "rows/s per core" is rows divided by the CPU seconds the process spent.
 */
import { createClient } from '@clickhouse/client'
import { ConsumerAgent } from '../../src/agents/consumer/index.js'
import type { Bus, BusRecord } from '../../src/lib/bus/types.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { decodeEnvelope } from '../../src/lib/otlp/envelope.js'
import type { Row, Store } from '../../src/lib/store/types.js'
import { createLogger, createMetricsRegistry } from '../../src/lib/telemetry/index.js'
import { spanRecords } from './consumer-data.js'

export interface RunStats {
  scenario: string
  store: string
  rows: number
  wallS: number
  /** CPU seconds of this process (user + system) during the run. */
  cpuS: number
  /** Store inserts made (the consumer's metric; the raw loops count their own). */
  inserts: number
  note?: string
}

export const rowsPerS = (s: RunStats): number => s.rows / s.wallS
export const rowsPerCoreS = (s: RunStats): number => s.rows / s.cpuS

/** Span records for `rows` rows, generated in chunks and handed to `sink` (keeps at most one chunk in memory twice). */
export async function feed(rows: number, run: string, sink: (records: BusRecord[]) => Promise<void>, chunkRows = 20_000): Promise<void> {
  const baseNs = BigInt(Date.now()) * 1_000_000n
  for (let from = 0; from < rows; from += chunkRows) {
    await sink(spanRecords(Math.min(chunkRows, rows - from), { run, from, perRecord: 10, baseNs }))
  }
}

function sumOf(registry: ReturnType<typeof createMetricsRegistry>, name: string): Promise<number> {
  const m = registry.getSingleMetric(name)
  if (!m) return Promise.resolve(0)
  return Promise.resolve(m.get()).then((v) => v.values.reduce((n, x) => n + x.value, 0))
}

export interface ConsumerRun {
  scenario: string
  bus: Bus
  store: Store
  database: string
  /** Extra AIOPS_* settings (store backend, topics). */
  env: Record<string, string>
  rows: number
  timeoutS: number
}

/** Starts the consumer on a bus already holding `rows` rows and times it until all are stored. */
export async function runConsumer(r: ConsumerRun): Promise<RunStats> {
  const { config } = await resolveConfig({ env: r.env })
  const registry = createMetricsRegistry({ defaultMetrics: false })
  const agent = new ConsumerAgent()
  await agent.start({ config, bus: r.bus, store: r.store, cache: new MemoryCache(), registry, logger: createLogger({ level: 'error' }) })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + r.timeoutS * 1000
  let stored = 0
  while ((stored = await sumOf(registry, 'aiops_consumer_rows_inserted_total')) < r.rows && performance.now() < deadline) {
    await new Promise((res) => setTimeout(res, 10))
  }
  const wallS = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const inserts = await sumOf(registry, 'aiops_consumer_batches_total')
  await agent.stop()
  return {
    scenario: r.scenario,
    store: r.store.kind,
    rows: stored,
    wallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    inserts,
    ...(stored < r.rows ? { note: `timed out: ${stored} of ${r.rows} rows stored in ${r.timeoutS}s` } : {}),
  }
}

/** The rows of the records, decoded: what a raw insert loop starts from. */
export function rowsOf(records: BusRecord[]): Row[] {
  const out: Row[] = []
  for (const r of records) for (const row of decodeEnvelope(r.value).rows) out.push(row)
  return out
}

/**
 * Times only `insert` calls: each batch of rows is generated and decoded first, outside the measured time, so a
 * raw loop is charged for the insert alone (the rows would be ready-made objects in a program that has them).
 */
async function timedBatches(
  rows: number,
  batch: number,
  run: string,
  insert: (rows: Row[]) => Promise<void>,
  parse = false,
): Promise<{ wallS: number; cpuS: number; inserts: number }> {
  const baseNs = BigInt(Date.now()) * 1_000_000n
  let wallMs = 0
  let cpuUs = 0
  let inserts = 0
  for (let from = 0; from < rows; from += batch) {
    const records = spanRecords(Math.min(batch, rows - from), { run, from, perRecord: 10, baseNs })
    const ready = parse ? undefined : rowsOf(records)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await insert(ready ?? rowsOf(records)) // parse: decoding the bus records is part of the measured work
    wallMs += performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    cpuUs += cpu.user + cpu.system
    inserts++
  }
  return { wallS: wallMs / 1000, cpuS: cpuUs / 1e6, inserts }
}

/**
 * The limit on a ClickHouse server: @clickhouse/client's own JSONEachRow insert of the same rows, same batch size.
 * `parse`: the loop also decodes the bus records (decodeEnvelope), the least any consumer must do.
 */
export async function runRawClickHouse(url: string, table: string, rows: number, batch: number, run: string, parse = false): Promise<RunStats> {
  const client = createClient({ url, request_timeout: 120_000 })
  try {
    const t = await timedBatches(rows, batch, run, async (chunk) => {
      await client.insert({ table, values: chunk, format: 'JSONEachRow' })
    }, parse)
    const scenario = parse ? 'raw loop incl. decoding the records' : 'raw @clickhouse/client insert loop'
    return { scenario, store: 'clickhouse', rows, ...t }
  } finally {
    await client.close()
  }
}

/** The limit on chDB: the engine's raw JSONEachRow insert of the same rows (JSON.stringify per row), same batch size. */
export async function runRawChdb(path: string, table: string, rows: number, batch: number, run: string): Promise<RunStats> {
  const chdb = await import('chdb')
  const session = new chdb.Session(path)
  try {
    const t = await timedBatches(rows, batch, run, async (chunk) => {
      let body = ''
      for (const row of chunk) body += JSON.stringify(row) + '\n'
      await session.insert({ table, values: Buffer.from(body), format: 'JSONEachRow' })
    })
    return { scenario: 'raw chdb Session.insert loop', store: 'chdb', rows, ...t }
  } finally {
    session.close()
  }
}
