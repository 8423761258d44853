/**
 * Router benchmark: QPS, QPS per core (of the router process) and p50/p95/p99 for an L1 hit, an L2 hit and a miss,
 * side by side in one run with their limits on the same machine and payload: a raw ioredis GET loop of the same
 * bytes, and the same query sent straight to ClickHouse 18.16 (keep-alive HTTP, same concurrency).
 *
 *   npx tsx bench/router/router.ts [--duration S] [--concurrency N] [--miss-concurrency N]
 *
 * The L1 hit is also shown beside a bare node:http server answering the same payload (the ceiling of any Node HTTP
 * service on the machine). The router runs in a child process (bench/router/server.ts) so its CPU is measured apart from the load generator.
 * The L2 scenario uses a second router whose L1 cannot hold the payload (l1MaxBytes below its size), so every
 * lookup misses L1 and hits Redis. Misses vary a literal per request (a new cache key every time).
 * Prints a table, writes bench/results/router.json. Goals (issue #5): L1 hit ≥ 20K QPS per core with p99 < 2 ms;
 * an L2 hit adds ≤ 1 ms p95 over the raw Redis GET; a miss adds ≤ 2 ms p95 over the direct query.
 */
import { fork, type ChildProcess } from 'node:child_process'
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
import { loadHttp, loadRedisGet, type LoadResult } from './load.js'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '16' }, 'miss-concurrency': { type: 'string', default: '4' } } })
const durationS = Number(values.duration)
const hitConc = Number(values.concurrency)
const missConc = Number(values['miss-concurrency'])
const log = (s: string): void => void process.stderr.write(`${s}\n`)

interface Row {
  scenario: string
  limitOf?: string
  concurrency: number
  requests: number
  errors: number
  qps: number
  routerCpuS?: number
  qpsPerCore?: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  xCache?: string
}

interface RouterChild {
  url: string
  cpu(): Promise<number>
  stop(): Promise<void>
}

async function startRouterChild(env: Record<string, string>, script = 'server.ts'): Promise<RouterChild> {
  const child: ChildProcess = fork(resolve(here, script), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = <T>(key: string): Promise<T> =>
    new Promise((res, rej) => {
      const on = (m: unknown): void => {
        if (m && typeof m === 'object' && key in m) {
          child.off('message', on)
          res((m as Record<string, T>)[key] as T)
        }
      }
      child.on('message', on)
      child.once('exit', (code) => rej(new Error(`router child exited (${code})`)))
    })
  const url = await next<string>('url')
  return {
    url,
    cpu: async () => {
      const p = next<{ user: number; system: number }>('cpu')
      child.send('cpu')
      const c = await p
      return (c.user + c.system) / 1e6
    },
    stop: () => new Promise<void>((res) => (child.once('exit', () => res()), child.send('stop'))),
  }
}

const ms = (us: number): number => Math.round(us) / 1000
function row(scenario: string, concurrency: number, r: LoadResult, extra: Partial<Row> = {}): Row {
  return {
    scenario, concurrency, requests: r.requests, errors: r.errors, qps: Math.round(r.requests / r.elapsedS),
    p50Ms: ms(r.histogram.getValueAtPercentile(50)), p95Ms: ms(r.histogram.getValueAtPercentile(95)), p99Ms: ms(r.histogram.getValueAtPercentile(99)),
    ...extra,
  }
}

async function measured(router: RouterChild, scenario: string, concurrency: number, run: () => Promise<LoadResult>): Promise<Row> {
  const cpu0 = await router.cpu()
  const r = await run()
  const cpuS = (await router.cpu()) - cpu0
  const xc = r.lastHeaders['x-cache']
  return row(scenario, concurrency, r, { routerCpuS: Math.round(cpuS * 100) / 100, qpsPerCore: Math.round(r.requests / Math.max(cpuS, 1e-6)), ...(xc ? { xCache: String(xc) } : {}) })
}

const ch = await startClickHouse()
const redis = await startRedis()
const children: RouterChild[] = []
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
  const main = await startRouterChild(env)
  children.push(main)
  // Its L1 cannot hold the payload (a few KB > 1 KiB), so every lookup is an L1 miss and an L2 hit.
  const l2only = await startRouterChild({ ...env, AIOPS_ROUTER_CACHE_L1_MAX_BYTES: '1024' })
  children.push(l2only)

  const warm = await fetch(`${main.url}/`, { method: 'POST', body: q() })
  const payload = Buffer.from(await warm.arrayBuffer())
  log(`payload: ${payload.length} bytes (${payload.toString().split('\n').length - 1} rows); warm-up X-Cache ${warm.headers.get('x-cache')}`)
  await new Promise((r) => setTimeout(r, 200))
  const raw = new Redis(redis.url)
  await raw.set('bench:payload', payload)
  raw.disconnect()

  const rawHttp = await startRouterChild({ PAYLOAD_B64: payload.toString('base64') }, 'raw-http.ts')
  children.push(rawHttp)

  const rows: Row[] = []
  const hit = (url: string) => ({ url, concurrency: hitConc, durationS, next: () => ({ path: '/', body: q() }) })
  log(`L1 hit: ${durationS}s × ${hitConc} connections`)
  rows.push(await measured(main, 'router: L1 hit', hitConc, () => loadHttp(hit(main.url))))
  log('raw node:http')
  rows.push({ ...(await measured(rawHttp, 'limit: raw node:http, same payload', hitConc, () => loadHttp(hit(rawHttp.url)))), limitOf: 'router: L1 hit' })
  log('L2 hit')
  rows.push(await measured(l2only, 'router: L2 hit (L1 miss)', hitConc, () => loadHttp(hit(l2only.url))))
  log('raw Redis GET')
  rows.push(row('limit: raw ioredis GET, same payload', hitConc, await loadRedisGet(redis.url, 'bench:payload', hitConc, durationS), { limitOf: 'router: L2 hit (L1 miss)' }))
  log(`miss: ${missConc} connections`)
  const miss = (url: string, filter: string) => ({ url, concurrency: missConc, durationS, next: (i: number) => ({ path: `/?database=${db}`, body: q(`${filter} AND duration_ns != ${1_000_000_000 + i}`) }) })
  rows.push(await measured(main, 'router: miss (replica + fill)', missConc, () => loadHttp(miss(main.url, ''))))
  log('direct ClickHouse')
  rows.push(row('limit: same query direct to ClickHouse', missConc, await loadHttp(miss(ch.url, " AND tenant_id = 'bench'")), { limitOf: 'router: miss (replica + fill)' }))

  const by = (s: string) => rows.find((r) => r.scenario.startsWith(s)) as Row
  const l1 = by('router: L1')
  const l2 = by('router: L2')
  const rg = by('limit: raw ioredis')
  const m = by('router: miss')
  const d = by('limit: same query')
  const rawH = by('limit: raw node:http')
  const goals = [
    { goal: 'L1 hit ≥ 20K QPS per core', value: l1.qpsPerCore ?? 0, target: 20_000, met: (l1.qpsPerCore ?? 0) >= 20_000 },
    { goal: '(context) L1 hit QPS/core ÷ raw node:http QPS/core', value: Math.round(((l1.qpsPerCore ?? 0) / Math.max(1, rawH.qpsPerCore ?? 1)) * 100) / 100, target: 1, met: true },
    { goal: 'L1 hit p99 < 2 ms', value: l1.p99Ms, target: 2, met: l1.p99Ms < 2 },
    { goal: 'L2 hit p95 − raw Redis GET p95 ≤ 1 ms', value: Math.round((l2.p95Ms - rg.p95Ms) * 1000) / 1000, target: 1, met: l2.p95Ms - rg.p95Ms <= 1 },
    { goal: 'miss p95 − direct query p95 ≤ 2 ms', value: Math.round((m.p95Ms - d.p95Ms) * 1000) / 1000, target: 2, met: m.p95Ms - d.p95Ms <= 2 },
  ]
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadavg: loadavg().map((x) => Math.round(x * 100) / 100) }
  console.log(`\nrouter benchmark — ${durationS}s per scenario, ${machine.cpus} CPUs (${machine.model}), load ${machine.loadavg.join(' ')}; payload ${payload.length} B\n`)
  console.table(rows.map((r) => ({ scenario: r.scenario, conc: r.concurrency, requests: r.requests, errors: r.errors, QPS: r.qps, 'QPS/core': r.qpsPerCore ?? '', 'p50 ms': r.p50Ms, 'p95 ms': r.p95Ms, 'p99 ms': r.p99Ms, 'X-Cache': r.xCache ?? '' })))
  console.table(goals.map((g) => ({ goal: g.goal, measured: g.value, target: g.target, met: g.met ? 'yes' : 'NO' })))
  const out = resolve(here, '../results/router.json')
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, JSON.stringify({ bench: 'router', at: new Date().toISOString(), durationS, payloadBytes: payload.length, machine, results: rows, goals }, null, 2) + '\n')
  log(`wrote ${out}`)
} finally {
  for (const c of children) await c.stop().catch(() => {})
  await Promise.all([ch.stop(), redis.stop()])
}
