/**
 * A consumer killed with SIGKILL after its rows are stored but before their offsets are committed — the window
 * where at-least-once turns into duplicates — and started again: zero duplicates and zero loss, on the ClickHouse
 * 18.16 server (stamped dedup) and on chDB 26.x (insert_deduplication_token), both behind a 3-broker Kafka cluster.
 *
 * The consumer runs in a child process (the real agent on a real KafkaBus and store), which kills itself from the
 * agent's afterStore hook: the one place that is after the insert and before the commit. A second run then
 * resumes from the committed offset, re-forms the killed batch from its write-ahead intent, and stores it again
 * under the same token, which the store deduplicates.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import type { Store } from '../../src/lib/store/types.js'
import { spanRecords } from '../../bench/lib/consumer-data.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { startKafka, type KafkaMock } from '../support/kafka.js'
import { randomName } from '../support/names.js'

const ROOT = resolve(import.meta.dirname, '../..')

/** The child: the consumer agent on a KafkaBus with test settings, killing itself after CRASH_AFTER stored flushes. */
const CHILD = `
import { resolveConfig } from '${ROOT}/src/lib/config/index.ts'
import { KafkaBus } from '${ROOT}/src/lib/bus/kafka.ts'
import { MemoryCache } from '${ROOT}/src/lib/cache/memory.ts'
import { createLogger, createMetricsRegistry } from '${ROOT}/src/lib/telemetry/index.ts'
import { ConsumerAgent } from '${ROOT}/src/agents/consumer/index.ts'
const e = process.env
const bus = new KafkaBus({ brokers: e.BROKERS.split(','), idempotent: false, logLevel: 'silent', requestTimeoutMs: 5000,
  connectionTimeoutMs: 1000, consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 } })
const store = e.STORE === 'chdb'
  ? new (await import('${ROOT}/src/lib/store/chdb.ts')).ChdbStore({ path: e.CHDB_PATH, database: e.DATABASE })
  : new (await import('${ROOT}/src/lib/store/clickhouse.ts')).ClickHouseStore({ url: e.CH_URL, database: e.DATABASE })
const { config } = await resolveConfig({ cwd: e.CWD, env: e })
const registry = createMetricsRegistry({ defaultMetrics: false })
let flushes = 0
const agent = new ConsumerAgent({ afterStore: () => { if (++flushes === Number(e.CRASH_AFTER)) process.kill(process.pid, 'SIGKILL') } })
await agent.start({ config, bus, store, cache: new MemoryCache(), registry, logger: createLogger({ level: 'error' }) })
process.stdout.write('READY\\n')
process.on('SIGTERM', async () => {
  await agent.stop()
  const replays = (await registry.getSingleMetric('aiops_consumer_replayed_units_total').get()).values.reduce((n, v) => n + v.value, 0)
  process.stdout.write('SUMMARY ' + JSON.stringify({ replays }) + '\\n')
  await bus.close()
  await store.close()
  process.exit(0)
})
`

interface Child {
  ready: Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
  kill(signal: NodeJS.Signals): void
}

function startChild(env: Record<string, string>): Child {
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
  return { ready: Promise.race([ready, exited.then((x) => Promise.reject(new Error(`child exited early: ${x.stderr}`)))]), exited, kill: (s) => child.kill(s) }
}

let kafka: KafkaMock
let server: ClickHouseServer
beforeAll(async () => {
  ;[kafka, server] = await Promise.all([startKafka({ brokers: 3 }), startClickHouse()])
})
afterAll(async () => {
  await Promise.allSettled([kafka?.stop(), server?.stop()])
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function crashAndResume(name: string, storeEnv: Record<string, string>, open: () => Promise<Store>, reopenable: boolean): Promise<void> {
  const run = randomName(name).replace(/_/g, '')
  const topics = { traces: `${run}.traces`, dlq: `${run}.dlq`, control: `${run}.control` }
  for (const t of Object.values(topics)) await kafka.createTopic(t, t === topics.traces ? 4 : 1)
  const group = randomName('g')
  const env = {
    ...storeEnv,
    BROKERS: kafka.bootstrap,
    CWD: server.dir,
    AIOPS_BUS_BACKEND: 'kafka',
    AIOPS_BUS_TOPICS_TRACES: topics.traces,
    AIOPS_BUS_TOPICS_METRICS: topics.traces,
    AIOPS_BUS_TOPICS_LOGS: topics.traces,
    AIOPS_BUS_TOPICS_DEAD_LETTER: topics.dlq,
    AIOPS_BUS_TOPICS_CONTROL: topics.control,
    AIOPS_CONSUMER_GROUP: group,
    AIOPS_CONSUMER_BATCH_IDLE_MS: '0',
  }
  const bus = new KafkaBus({ brokers: kafka.brokers, idempotent: false, logLevel: 'silent' })
  // 8,000 spans in records of 50, produced in 20 calls: 20 record batches per partition to fetch one by one.
  const total = 8_000
  for (let i = 0; i < total; i += 400) await bus.produce(topics.traces, spanRecords(400, { run, from: i, perRecord: 50 }))

  const first = startChild({ ...env, CRASH_AFTER: '3' })
  await first.ready
  const crashed = await first.exited
  expect(crashed.signal, crashed.stderr).toBe('SIGKILL')
  const lagAfterCrash = await bus.lag(topics.traces, `${group}.traces`)
  const committed = lagAfterCrash.partitions.reduce((n, p) => n + Math.max(0, Number(p.committed)), 0)

  let store: Store | undefined
  const count = async (): Promise<{ rows: number; unique: number }> => {
    const [r] = await store!.query<{ rows: string; unique: string }>(
      `SELECT count() AS rows, uniqExact(span_id) AS unique FROM ${storeEnv.DATABASE}.spans WHERE span_id LIKE '${run}-%'`,
    )
    return { rows: Number(r?.rows), unique: Number(r?.unique) }
  }
  if (reopenable) {
    store = await open()
    const atCrash = await count()
    // The killed flush is stored but not committed: more rows than committed records × 50.
    expect(atCrash.rows).toBeGreaterThan(committed * 50)
    expect(atCrash.unique).toBe(atCrash.rows)
  }

  const second = startChild({ ...env, CRASH_AFTER: '0' })
  await second.ready
  const until = Date.now() + 90_000
  while ((await bus.lag(topics.traces, `${group}.traces`)).total > 0) {
    if (Date.now() > until) throw new Error('the resumed consumer did not catch up within 90 s')
    await sleep(200)
  }
  second.kill('SIGTERM')
  const done = await second.exited
  expect(done.code, done.stderr).toBe(0)
  store ??= await open()
  expect(await count()).toEqual({ rows: total, unique: total })
  const summary = JSON.parse(/SUMMARY (.*)/.exec(done.stdout)![1]!) as { replays: number }
  expect(summary.replays).toBeGreaterThanOrEqual(1)
  await store.close()
  await bus.close()
}

describe('consumer killed between insert and commit', () => {
  it('ClickHouse 18.16: the resumed consumer replays the killed batch from its intent; no duplicates, no loss', async () => {
    const database = randomName('aiops_crash')
    const open = async (): Promise<Store> => new ClickHouseStore({ url: server.url, database })
    const setup = await open()
    await applySchema(setup, { database })
    await setup.close()
    await crashAndResume('ch', { STORE: 'clickhouse', CH_URL: server.url, DATABASE: database, AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_DATABASE: database }, open, true)
  })

  it('chDB 26.x: the same, with native insert_deduplication_token', async () => {
    const database = randomName('aiops_crash')
    const path = await mkdtemp(join(tmpdir(), 'aiops-crash-chdb-'))
    try {
      // chDB opens one data directory per process: the schema is applied by a short-lived child-free store here,
      // which is closed before the consumer processes open the directory.
      const setup = new ChdbStore({ path, database })
      await applySchema(setup, { database })
      await setup.close()
      await crashAndResume(
        'cd',
        { STORE: 'chdb', CHDB_PATH: path, DATABASE: database, AIOPS_STORE_BACKEND: 'chdb', AIOPS_STORE_CHDB_DATABASE: database, AIOPS_STORE_CHDB_PATH: path },
        async () => new ChdbStore({ path, database }),
        false,
      )
    } finally {
      await rm(path, { recursive: true, force: true })
    }
  })
})
