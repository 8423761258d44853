/**
 * Consumer throughput: rows/s and rows/s per core (this process's CPU) of the consumer agent draining a pre-filled
 * bus into the ClickHouse 18.16 server and into chDB, each beside its limit in the same run — a raw
 * @clickhouse/client insert loop (from ready row objects, and from the bus records, parsed), and a raw chDB insert
 * loop, of the same rows in batches of the size the consumer actually inserted. Optional: the production path, a
 * 3-broker Kafka mock cluster into the ClickHouse server.
 *
 *   npx tsx bench/ingest/consumer.ts [--duration S] [--rows N] [--no-kafka]
 *
 * --duration sizes the run (rows = 60,000 × S unless --rows is given; default 20 s) and bounds each scenario at
 * 6 × S. Prints a table and writes bench/results/consumer.json. Goals (issue #3): ≥ 200K rows/s per core and
 * ≥ 0.8 × the raw loop.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { startClickHouse } from '../../test/support/clickhouse.js'
import { startKafka } from '../../test/support/kafka.js'
import { feed, rowsPerCoreS, rowsPerS, runConsumer, runRawChdb, runRawClickHouse, type RunStats } from '../lib/consumer-bench.js'

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '20' }, rows: { type: 'string' }, 'no-kafka': { type: 'boolean', default: false } },
})
const durationS = Number(values.duration)
const rows = values.rows ? Number(values.rows) : Math.round(60_000 * durationS)
const timeoutS = 6 * durationS
const TOPIC = 'bench.traces'
const env = (extra: Record<string, string>): Record<string, string> => ({
  AIOPS_BUS_TOPICS_TRACES: TOPIC,
  AIOPS_BUS_TOPICS_METRICS: TOPIC,
  AIOPS_BUS_TOPICS_LOGS: TOPIC,
  AIOPS_CONSUMER_INSTANCE: 'bench',
  ...extra,
})
const results: Array<RunStats & { vsRawPerCore?: number; vsRawWall?: number }> = []
const log = (s: string): void => void process.stderr.write(`${s}\n`)

async function clickhouseScenarios(): Promise<void> {
  const ch = await startClickHouse()
  try {
    const db = (name: string): Promise<void> => {
      const s = new ClickHouseStore({ url: ch.url, database: name })
      return applySchema(s, { database: name }).then(() => s.close())
    }
    await Promise.all([db('bench_consumer'), db('bench_raw'), db('bench_kafka')])
    const store = new ClickHouseStore({ url: ch.url, database: 'bench_consumer', requestTimeoutMs: 120_000 })
    const bus = new MemoryBus({ partitions: 8 })
    log(`clickhouse: filling the memory bus with ${rows} rows`)
    await feed(rows, 'mch', (recs) => bus.produce(TOPIC, recs))
    const env0 = env({ AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_URL: ch.url, AIOPS_STORE_CLICKHOUSE_DATABASE: 'bench_consumer' })
    const consumer = await runConsumer({ scenario: 'consumer: memory bus → store', bus, store, database: 'bench_consumer', env: env0, rows, timeoutS })
    await bus.close()
    await store.close()
    const batch = Math.max(1, Math.round(consumer.rows / Math.max(1, consumer.inserts)))
    log(`clickhouse: raw loop, batches of ${batch}`)
    const raw = await runRawClickHouse(ch.url, 'bench_raw.spans', rows, batch, 'rch')
    const rawParse = await runRawClickHouse(ch.url, 'bench_raw.spans', rows, batch, 'rcp', true)
    results.push(compare(consumer, raw), raw, rawParse)

    if (!values['no-kafka']) {
      // The mock keeps only ~5 MB per partition (it drops older record batches): 16 partitions, ≤ 100K rows (~45 MB).
      const kafkaRows = Math.min(Math.round(rows / 2), 100_000)
      const kafka = await startKafka({ brokers: 3, topics: [{ name: TOPIC, partitions: 16 }, 'aiops.dead-letter', 'aiops.control'] })
      const kbus = new KafkaBus({ brokers: kafka.brokers, idempotent: false, compression: 'none', logLevel: 'silent' })
      try {
        log(`kafka: producing ${kafkaRows} rows into the mock cluster`)
        await feed(kafkaRows, 'kch', (recs) => kbus.produce(TOPIC, recs), 8_000)
        const kstore = new ClickHouseStore({ url: ch.url, database: 'bench_kafka', requestTimeoutMs: 120_000 })
        const kenv = env({ AIOPS_BUS_BACKEND: 'kafka', AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_DATABASE: 'bench_kafka' })
        const k = await runConsumer({ scenario: 'consumer: kafka mock (3 brokers) → store', bus: kbus, store: kstore, database: 'bench_kafka', env: kenv, rows: kafkaRows, timeoutS })
        results.push({ ...k, note: k.note ?? 'replay-safe path (intents, per-partition units); the mock returns one producer batch per fetch' })
        await kstore.close()
      } finally {
        await kbus.close()
        await kafka.stop()
      }
    }
  } finally {
    await ch.stop()
  }
}

async function chdbScenarios(): Promise<void> {
  const path = await mkdtemp(join(tmpdir(), 'aiops-bench-chdb-'))
  try {
    const store = new ChdbStore({ path, database: 'bench_consumer' })
    await applySchema(store, { database: 'bench_consumer' })
    await applySchema(store, { database: 'bench_raw' })
    const bus = new MemoryBus({ partitions: 8 })
    log(`chdb: filling the memory bus with ${rows} rows`)
    await feed(rows, 'mcd', (recs) => bus.produce(TOPIC, recs))
    const env0 = env({ AIOPS_STORE_BACKEND: 'chdb', AIOPS_STORE_CHDB_PATH: path, AIOPS_STORE_CHDB_DATABASE: 'bench_consumer' })
    const consumer = await runConsumer({ scenario: 'consumer: memory bus → store', bus, store, database: 'bench_consumer', env: env0, rows, timeoutS })
    await bus.close()
    await store.close() // chDB: one open connection per process; the raw loop opens the same path next
    const batch = Math.max(1, Math.round(consumer.rows / Math.max(1, consumer.inserts)))
    log(`chdb: raw loop, batches of ${batch}`)
    const raw = await runRawChdb(path, 'bench_raw.spans', rows, batch, 'rcd')
    results.push(compare(consumer, raw), raw)
  } finally {
    await rm(path, { recursive: true, force: true })
  }
}

function compare(consumer: RunStats, raw: RunStats): RunStats & { vsRawPerCore: number; vsRawWall: number } {
  return { ...consumer, vsRawPerCore: rowsPerCoreS(consumer) / rowsPerCoreS(raw), vsRawWall: rowsPerS(consumer) / rowsPerS(raw) }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

function printTable(): void {
  const head = ['scenario', 'store', 'rows', 'wall s', 'rows/s', 'CPU s', 'rows/s/core', 'rows/insert', 'vs raw (core)', 'vs raw (wall)']
  const body = results.map((r) => [
    r.scenario, r.store, fmt(r.rows), r.wallS.toFixed(2), fmt(rowsPerS(r)), r.cpuS.toFixed(2), fmt(rowsPerCoreS(r)),
    fmt(r.rows / Math.max(1, r.inserts)), r.vsRawPerCore ? `${r.vsRawPerCore.toFixed(2)}×` : '', r.vsRawWall ? `${r.vsRawWall.toFixed(2)}×` : '',
  ])
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')
  console.log(line(head))
  console.log(w.map((x) => '─'.repeat(x)).join('  '))
  for (const b of body) console.log(line(b))
  for (const r of results) if (r.note) console.log(`  ${r.scenario} (${r.store}): ${r.note}`)
}

log(`consumer bench: ${rows} rows per scenario, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
await clickhouseScenarios()
await chdbScenarios()
printTable()
const out = resolve(import.meta.dirname, '../results/consumer.json')
await mkdir(resolve(out, '..'), { recursive: true })
await writeFile(out, JSON.stringify({
  bench: 'consumer',
  at: new Date().toISOString(),
  machine: { cores: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  settings: { rows, durationS, rowsPerRecord: 10, batch: 'consumer defaults (50,000 rows / 1 s / idle 10 ms)', memoryBusPartitions: 8 },
  goals: { rowsPerCorePerS: 200_000, vsRaw: 0.8 },
  results: results.map((r) => ({ ...r, rowsPerS: rowsPerS(r), rowsPerCorePerS: rowsPerCoreS(r), rowsPerInsert: r.rows / Math.max(1, r.inserts) })),
}, null, 2))
log(`wrote ${out}`)
