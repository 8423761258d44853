/**
 * Consumer throughput: rows/s and rows/s per core (this process's CPU) of the consumer agent draining a pre-filled
 * bus into the ClickHouse 18.16 server and into chDB, each beside its limit in the same run — a raw
 * @clickhouse/client insert loop (from ready row objects, and from the bus records, parsed), and a raw chDB insert
 * loop, of the same rows in batches of the size the consumer actually inserted. Optional: the production path, a
 * 3-broker Kafka mock cluster into the ClickHouse server.
 *
 *   npx tsx bench/ingest/consumer.ts [--duration S] [--rows N] [--rounds R] [--no-kafka] [--profile]
 *
 * --profile: a CPU profile of the first round's consumer phase into ClickHouse (this process, while it drains the bus),
 * written to bench/results/profiles/consumer.cpuprofile, with its summary printed.
 *
 * --duration sizes the run (rows = 60,000 × S unless --rows is given; default 20 s) and bounds each scenario at
 * 6 × S. Prints a table and writes bench/results/consumer.json. Goals (issue #3): ≥ 200K rows/s per core and
 * ≥ 0.8 × the raw loop.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Session } from 'node:inspector/promises'
import { parseArgs } from 'node:util'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { startClickHouse } from '../../test/support/clickhouse.js'
import { startKafka } from '../../test/support/kafka.js'
import { printSummary, summarise, type ProfileSummary } from './gateway-profile.js'
import { feed, rowsPerCoreS, rowsPerS, runConsumer, runRawChdb, runRawClickHouse, type RunStats } from '../lib/consumer-bench.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rows: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'no-kafka': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
})
// The consumer and its raw loop run in alternating rounds and the ratio is the median of the rounds' ratios: on a
// shared machine one pair of back-to-back runs swings ±20%, a median of paired rounds far less.
const rounds = Math.max(1, Number(values.rounds) || 1)
const durationS = Number(values.duration)
const rows = values.rows ? Number(values.rows) : Math.round(60_000 * durationS)
const timeoutS = 6 * durationS
const perRound = Math.max(1, Math.round(rows / rounds))
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
    const env0 = env({ AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_URL: ch.url, AIOPS_STORE_CLICKHOUSE_DATABASE: 'bench_consumer' })
    const pairs: Array<[RunStats, RunStats]> = []
    for (let round = 0; round < rounds; round++) {
      const store = new ClickHouseStore({ url: ch.url, database: 'bench_consumer', requestTimeoutMs: 120_000 })
      const bus = new MemoryBus({ partitions: 8 })
      log(`clickhouse round ${round + 1}/${rounds}: filling the memory bus with ${perRound} rows`)
      await feed(perRound, `mch${round}`, (recs) => bus.produce(TOPIC, recs))
      const run = (): Promise<RunStats> => runConsumer({ scenario: 'consumer: memory bus → store', bus, store, database: 'bench_consumer', env: env0, rows: perRound, timeoutS })
      const consumer = values.profile && round === 0 ? await profiled(run) : await run()
      await bus.close()
      await store.close()
      const batch = Math.max(1, Math.round(consumer.rows / Math.max(1, consumer.inserts)))
      log(`clickhouse round ${round + 1}/${rounds}: raw loop, batches of ${batch}`)
      pairs.push([consumer, await runRawClickHouse(ch.url, 'bench_raw.spans', perRound, batch, `rch${round}`)])
    }
    const [consumer, raw] = combine(pairs)
    const batch = Math.max(1, Math.round(consumer.rows / Math.max(1, consumer.inserts)))
    const rawParse = await runRawClickHouse(ch.url, 'bench_raw.spans', perRound, batch, 'rcp', true)
    results.push(consumer, raw, rawParse)

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
    const setup = new ChdbStore({ path, database: 'bench_consumer' })
    await applySchema(setup, { database: 'bench_consumer' })
    await applySchema(setup, { database: 'bench_raw' })
    await setup.close()
    const env0 = env({ AIOPS_STORE_BACKEND: 'chdb', AIOPS_STORE_CHDB_PATH: path, AIOPS_STORE_CHDB_DATABASE: 'bench_consumer' })
    const pairs: Array<[RunStats, RunStats]> = []
    for (let round = 0; round < rounds; round++) {
      const store = new ChdbStore({ path, database: 'bench_consumer' })
      const bus = new MemoryBus({ partitions: 8 })
      log(`chdb round ${round + 1}/${rounds}: filling the memory bus with ${perRound} rows`)
      await feed(perRound, `mcd${round}`, (recs) => bus.produce(TOPIC, recs))
      const consumer = await runConsumer({ scenario: 'consumer: memory bus → store', bus, store, database: 'bench_consumer', env: env0, rows: perRound, timeoutS })
      await bus.close()
      await store.close() // chDB: one open connection per process; the raw loop opens the same path next
      const batch = Math.max(1, Math.round(consumer.rows / Math.max(1, consumer.inserts)))
      log(`chdb round ${round + 1}/${rounds}: raw loop, batches of ${batch}`)
      pairs.push([consumer, await runRawChdb(path, 'bench_raw.spans', perRound, batch, `rcd${round}`)])
    }
    const [consumer, raw] = combine(pairs)
    results.push(consumer, raw)
  } finally {
    await rm(path, { recursive: true, force: true })
  }
}

let profile: ProfileSummary | undefined

/** Runs `fn` under the inspector's CPU profiler (it profiles this process, where the consumer runs). */
async function profiled<T>(fn: () => Promise<T>): Promise<T> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile: p } = await session.post('Profiler.stop')
    session.disconnect()
    const file = resolve(import.meta.dirname, '../results/profiles/consumer.cpuprofile')
    await mkdir(resolve(file, '..'), { recursive: true })
    await writeFile(file, JSON.stringify(p))
    profile = await summarise(file)
  }
}

/**
 * Sums the rounds of each side and sets the consumer's ratios to the median of the rounds' ratios (each round's
 * consumer against the raw loop run right after it); the per-round ratios go in the note.
 */
function combine(pairs: Array<[RunStats, RunStats]>): [RunStats & { vsRawPerCore: number; vsRawWall: number }, RunStats] {
  const sum = (runs: RunStats[]): RunStats => ({
    ...runs[0]!,
    rows: runs.reduce((n, r) => n + r.rows, 0),
    wallS: runs.reduce((n, r) => n + r.wallS, 0),
    cpuS: runs.reduce((n, r) => n + r.cpuS, 0),
    inserts: runs.reduce((n, r) => n + r.inserts, 0),
  })
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const perCore = pairs.map(([c, r]) => rowsPerCoreS(c) / rowsPerCoreS(r))
  const wall = pairs.map(([c, r]) => rowsPerS(c) / rowsPerS(r))
  const timedOut = pairs.map(([c]) => c.note).find(Boolean)
  const consumer = {
    ...sum(pairs.map((p) => p[0])),
    vsRawPerCore: median(perCore),
    vsRawWall: median(wall),
    note: `${timedOut ? `${timedOut}; ` : ''}per-core ratio by round ${perCore.map((x) => `${x.toFixed(2)}×`).join(', ')} (median shown)`,
  }
  return [consumer, sum(pairs.map((p) => p[1]))]
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
if (profile) printSummary(profile, (l) => console.log(l))
const out = resolve(import.meta.dirname, '../results/consumer.json')
await mkdir(resolve(out, '..'), { recursive: true })
await writeFile(out, JSON.stringify({
  bench: 'consumer',
  at: new Date().toISOString(),
  machine: { cores: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  settings: { rows, rounds, durationS, rowsPerRecord: 10, batch: 'consumer defaults (50,000 rows / 1 s / idle 10 ms)', memoryBusPartitions: 8 },
  goals: { rowsPerCorePerS: 200_000, vsRaw: 0.8 },
  results: results.map((r) => ({ ...r, rowsPerS: rowsPerS(r), rowsPerCorePerS: rowsPerCoreS(r), rowsPerInsert: r.rows / Math.max(1, r.inserts) })),
}, null, 2))
log(`wrote ${out}`)
