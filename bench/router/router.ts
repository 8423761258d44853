/**
 * Router benchmark: an L1 hit, an L2 hit and a miss, each side by side in one run with its limit on the same machine
 * and payload: a bare node:http server answering the same bytes (L1), a raw ioredis GET of the same bytes (L2), the
 * same query sent straight to ClickHouse 18.16 (miss).
 *
 *   npx tsx bench/router/router.ts [--duration S] [--concurrency N] [--miss-concurrency N] [--warmup S] [--rounds N]
 *                                  [--latency-concurrency N | --latency-load F] [--profile DIR]
 *
 * Two runs per scenario:
 * - throughput: closed loop (--concurrency 16, misses --miss-concurrency 4) → QPS and QPS per core (requests ÷ the
 *   server process's CPU seconds; the router and the bare server run in child processes, apart from the load
 *   generator). Latencies here are mostly queueing: on a small machine the load generator shares the cores;
 * - latency: a moderate load, the same for router and limit → p50/p95/p99 of the router rather than of queues:
 *   closed loop at --latency-concurrency (2) connections, or, with --latency-load F, an open model at F × the
 *   router's throughput QPS of that scenario (latencies counted from each request's scheduled time). On a shared
 *   2-core machine the open model's tail mostly shows other processes' CPU bursts, hence the closed loop default.
 * Every target is warmed up for --warmup seconds first (the JIT compiles the miss path only after some requests).
 * Router and limit run in --rounds (5) alternating slices of duration ÷ rounds, merged: both see the same background.
 * The L2 scenario uses a second router whose L1 cannot hold the payload (l1MaxBytes below its size), so every lookup
 * misses L1 and hits Redis. Misses vary a literal per request (a new cache key every time).
 * Prints tables, writes bench/results/router.json. Goals (issue #5): L1 hit ≥ 20K QPS per core with p99 < 2 ms;
 * an L2 hit adds ≤ 1 ms p95 over the raw Redis GET; a miss adds ≤ 2 ms p95 over the direct query.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { startClickHouse } from '../../test/support/clickhouse.js'
import { startRedis } from '../../test/support/redis.js'
import { startChild, type Child } from './children.js'
import { loadHttp, loadHttpRate, loadRedisGet, loadRedisGetRate, type LoadResult } from './load.js'
import { goalsOf, printTables, type Row } from './report.js'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    'miss-concurrency': { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    'latency-concurrency': { type: 'string', default: '2' },
    'latency-load': { type: 'string' },
    profile: { type: 'string' },
  },
})
const durationS = Number(values.duration)
const hitConc = Number(values.concurrency)
const missConc = Number(values['miss-concurrency'])
const warmupS = Number(values.warmup)
const rounds = Math.max(1, Number(values.rounds))
const latencyConc = Number(values['latency-concurrency'])
const latencyLoad = values['latency-load'] === undefined ? undefined : Number(values['latency-load'])
const profileDir = values.profile ? resolve(values.profile) : undefined
const log = (s: string): void => void process.stderr.write(`${s}\n`)

const ms = (us: number): number => Math.round(us) / 1000
function row(scenario: string, mode: Row['mode'], load: string, r: LoadResult, extra: Partial<Row> = {}): Row {
  const xc = r.lastHeaders['x-cache']
  return {
    scenario, mode, load, requests: r.requests, errors: r.errors, qps: Math.round(r.requests / r.elapsedS),
    p50Ms: ms(r.histogram.getValueAtPercentile(50)), p95Ms: ms(r.histogram.getValueAtPercentile(95)), p99Ms: ms(r.histogram.getValueAtPercentile(99)),
    ...(xc ? { xCache: String(xc) } : {}),
    ...extra,
  }
}

const perCore = (r: LoadResult, cpuS: number): Partial<Row> => ({ serverCpuS: Math.round(cpuS * 100) / 100, qpsPerCore: Math.round(r.requests / Math.max(cpuS, 1e-6)) })

interface Measured {
  r: LoadResult
  /** CPU seconds of the side's server over its slices. */
  cpuS: number
}

interface Side {
  scenario: string
  /** The server process whose CPU is measured (none for ClickHouse and Redis themselves). */
  server?: Child
  /** CPU profile name, with --profile. */
  prof?: string
}

/**
 * Router and limit in alternating slices, their results merged: on a shared machine the background load changes
 * from second to second, and both sides should see the same. CPU seconds of each side's server are summed over its
 * slices; with `profiles`, each server is profiled across all of its slices (the others' slices show as idle).
 */
async function alternate<T extends Side>(a: T, b: T, rounds: number, run: (t: T) => Promise<LoadResult>, profiles?: string): Promise<[Measured, Measured]> {
  const out = [a, b].map(() => ({ r: undefined as LoadResult | undefined, cpuS: 0 }))
  for (const t of [a, b]) if (profiles && t.server && t.prof) await t.server.profileStart()
  for (let i = 0; i < rounds; i++) {
    for (const [k, t] of [a, b].entries()) {
      const cpu0 = t.server ? await t.server.cpu() : 0
      const r = await run(t)
      const o = out[k] as { r: LoadResult | undefined; cpuS: number }
      o.cpuS += t.server ? (await t.server.cpu()) - cpu0 : 0
      o.r = merge(o.r, r)
    }
  }
  for (const t of [a, b]) if (profiles && t.server && t.prof) await t.server.profileStop(resolve(profiles, `${t.prof}.cpuprofile`))
  const done = (k: number): Measured => ({ r: out[k]?.r as LoadResult, cpuS: out[k]?.cpuS ?? 0 })
  return [done(0), done(1)]
}

function merge(into: LoadResult | undefined, r: LoadResult): LoadResult {
  if (!into) return r
  into.histogram.add(r.histogram)
  return { requests: into.requests + r.requests, errors: into.errors + r.errors, elapsedS: into.elapsedS + r.elapsedS, histogram: into.histogram, lastHeaders: r.lastHeaders }
}

const ch = await startClickHouse()
const redis = await startRedis()
const children: Child[] = []
try {
  const db = 'bench_router'
  const store = new ClickHouseStore({ url: ch.url, database: db })
  await applySchema(store, { database: db })
  const t0 = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000 // two days ago: cacheable for an hour
  await store.exec(
    `INSERT INTO ${db}.spans (tenant_id, trace_id, span_id, service, name, kind, start_time_ns, end_time_ns, duration_ns, status_code)
     SELECT if(number % 10 = 0, 'other', 'bench'), lower(hex(number)), 'x', concat('svc-', toString(number % 10)), concat('op-', toString(number % 4)),
            'SERVER', toUInt64(${t0}000000) + number * 72000000, toUInt64(${t0}000000) + number * 72000000 + 1000000, number % 100000 * 1000, 'OK'
     FROM system.numbers LIMIT 50000`,
  )
  await store.close()
  const range = `start_time >= toDateTime(${t0 / 1000}) AND start_time < toDateTime(${t0 / 1000 + 3600})`
  const q = (extra = '') => `SELECT service, name, count() AS n, avg(duration_ns) AS avg_ns, max(duration_ns) AS max_ns FROM spans WHERE ${range}${extra} GROUP BY service, name ORDER BY service, name FORMAT JSONEachRow`
  const env = {
    AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_URL: ch.url, AIOPS_STORE_CLICKHOUSE_DATABASE: db,
    AIOPS_CACHE_BACKEND: 'redis', AIOPS_CACHE_REDIS_URL: redis.url, AIOPS_ROUTER_REPLICAS: `hot=${ch.url}`,
    AIOPS_ROUTER_PORT: '0', AIOPS_TELEMETRY_PORT: '0', AIOPS_ROUTER_AUTH_OPEN_TENANT: 'bench',
    AIOPS_ROUTER_LIMITS_QUERIES_PER_MINUTE: '1000000000', AIOPS_ROUTER_LIMITS_MAX_CONCURRENT: '1000', AIOPS_LOG_LEVEL: 'error',
  }
  const main = await startChild('server.ts', env)
  children.push(main)
  // Its L1 cannot hold the payload (a few KB > 1 KiB), so every lookup is an L1 miss and an L2 hit.
  const l2only = await startChild('server.ts', { ...env, AIOPS_ROUTER_CACHE_L1_MAX_BYTES: '1024' })
  children.push(l2only)

  const warm = await fetch(`${main.url}/`, { method: 'POST', body: q() })
  const payload = Buffer.from(await warm.arrayBuffer())
  log(`payload: ${payload.length} bytes (${payload.toString().split('\n').length - 1} rows); warm-up X-Cache ${warm.headers.get('x-cache')}`)
  await new Promise((r) => setTimeout(r, 200))
  const raw = new Redis(redis.url)
  await raw.set('bench:payload', payload)
  raw.disconnect()
  const rawHttp = await startChild('raw-http.ts', { PAYLOAD_B64: payload.toString('base64') })
  children.push(rawHttp)
  if (profileDir) await mkdir(profileDir, { recursive: true })

  const hit = (url: string) => ({ url, next: () => ({ path: '/', body: q() }) })
  // Every miss (warm-up and runs alike) gets a literal of its own: a new cache key each time.
  let missSeq = 0
  const miss = (url: string, filter: string) => ({ url, next: () => ({ path: `/?database=${db}`, body: q(`${filter} AND duration_ns != ${1_000_000_000 + missSeq++}`) }) })
  const direct = " AND tenant_id = 'bench'"
  const rows: Row[] = []

  type Target = Omit<Side, 'closed' | 'rated'> & { closed: (d: number, c: number) => Promise<LoadResult>; rated: (rate: number, d: number) => Promise<LoadResult> }
  const http = (url: string, body: typeof hit): Pick<Target, 'closed' | 'rated'> => ({
    closed: (d, c) => loadHttp({ ...body(url), durationS: d, concurrency: c }),
    rated: (rate, d) => loadHttpRate({ ...body(url), durationS: d, ratePerS: rate }),
  })
  const redisGet: Pick<Target, 'closed' | 'rated'> = {
    closed: (d, c) => loadRedisGet(redis.url, 'bench:payload', c, d),
    rated: (rate, d) => loadRedisGetRate(redis.url, 'bench:payload', rate, d),
  }
  const pairs: Array<[Target, Target, number]> = [
    [{ scenario: 'router: L1 hit', server: main, prof: 'router-l1', ...http(main.url, hit) }, { scenario: 'limit: raw node:http, same payload', server: rawHttp, prof: 'raw-http', ...http(rawHttp.url, hit) }, hitConc],
    [{ scenario: 'router: L2 hit (L1 miss)', server: l2only, prof: 'router-l2', ...http(l2only.url, hit) }, { scenario: 'limit: raw ioredis GET, same payload', ...redisGet }, hitConc],
    [
      { scenario: 'router: miss (replica + fill)', server: main, prof: 'router-miss', ...http(main.url, (url) => miss(url, '')) },
      { scenario: 'limit: same query direct to ClickHouse', ...http(ch.url, (url) => miss(url, direct)) },
      missConc,
    ],
  ]
  const slice = durationS / rounds
  log(`throughput: closed loop, ${rounds} alternating slices of ${slice}s per target, after ${warmupS}s warm-up`)
  const tputRows: Row[] = []
  for (const [router, limit, conc] of pairs) {
    log(`  ${router.scenario} | ${limit.scenario}`)
    for (const t of [router, limit]) if (warmupS > 0) await t.closed(warmupS, conc)
    const [a, b] = await alternate(router, limit, rounds, (t) => t.closed(slice, conc), profileDir)
    tputRows.push(row(router.scenario, 'throughput', `${conc} conns`, a.r, perCore(a.r, a.cpuS)))
    rows.push(tputRows.at(-1) as Row, row(limit.scenario, 'throughput', `${conc} conns`, b.r, { ...(limit.server ? perCore(b.r, b.cpuS) : {}), limitOf: router.scenario }))
  }
  log(latencyLoad === undefined ? `latency: ${latencyConc} connections (closed loop)` : `latency: open model at ${latencyLoad} × the router's throughput, the same rate for its limit`)
  for (const [i, [router, limit]] of pairs.entries()) {
    const rate = latencyLoad === undefined ? undefined : Math.max(1, Math.round((tputRows[i] as Row).qps * latencyLoad))
    log(`  ${router.scenario} | ${limit.scenario}${rate ? ` @ ${rate}/s` : ''}`)
    const [a, b] = await alternate(router, limit, rounds, (t) => (rate ? t.rated(rate, slice) : t.closed(slice, latencyConc)))
    const load = rate ? `${rate}/s` : `${latencyConc} conns`
    rows.push(row(router.scenario, 'latency', load, a.r, rate ? { ratePerS: rate } : {}), row(limit.scenario, 'latency', load, b.r, { ...(rate ? { ratePerS: rate } : {}), limitOf: router.scenario }))
  }

  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadavg: loadavg().map((x) => Math.round(x * 100) / 100) }
  const goals = goalsOf(rows)
  console.log(`\nrouter benchmark — ${durationS}s per run after ${warmupS}s warm-up, ${machine.cpus} CPUs (${machine.model}), load ${machine.loadavg.join(' ')}; payload ${payload.length} B`)
  printTables(rows, goals)
  const out = resolve(here, '../results/router.json')
  await mkdir(dirname(out), { recursive: true })
  const settings = { durationS, warmupS, rounds, concurrency: hitConc, missConcurrency: missConc, ...(latencyLoad === undefined ? { latencyConcurrency: latencyConc } : { latencyLoad }) }
  await writeFile(out, JSON.stringify({ bench: 'router', at: new Date().toISOString(), ...settings, payloadBytes: payload.length, machine, results: rows, goals }, null, 2) + '\n')
  log(`wrote ${out}${profileDir ? `; CPU profiles of the throughput runs in ${profileDir}` : ''}`)
} finally {
  for (const c of children) await c.stop().catch(() => {})
  await Promise.all([ch.stop(), redis.stop()])
}
