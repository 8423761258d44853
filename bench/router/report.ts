/**
 * The router benchmark's rows, goals and tables. Goals are judged on the run made for them: QPS per core on the
 * throughput run (closed loop, the server as busy as the load generator can make it), latencies on the latency run
 * (a moderate load, the same for router and limit). The same differences on the
 * throughput run are listed as context: there they mostly measure queueing on a small shared machine.
 */
export interface Row {
  scenario: string
  /** throughput: closed loop, for QPS per core; latency: a moderate load (few connections or a fixed rate), for percentiles. */
  mode: 'throughput' | 'latency'
  /** Connections (throughput) or requests per second (latency). */
  load: string
  limitOf?: string
  requests: number
  errors: number
  qps: number
  ratePerS?: number
  /** CPU seconds of the server process (router or bare node:http) during the run. */
  serverCpuS?: number
  qpsPerCore?: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  xCache?: string
}

export interface Goal {
  goal: string
  value: number
  target: number
  met: boolean
}

const round = (x: number): number => Math.round(x * 1000) / 1000

export function goalsOf(rows: Row[]): Goal[] {
  const by = (mode: Row['mode'], prefix: string): Row | undefined => rows.find((r) => r.mode === mode && r.scenario.startsWith(prefix))
  const goals: Goal[] = []
  const add = (goal: string, value: number | undefined, target: number, atMost: boolean, context = false): void => {
    if (value === undefined || Number.isNaN(value)) return
    goals.push({ goal, value: round(value), target, met: context || (atMost ? value <= target : value >= target) })
  }
  const diff = (a: Row | undefined, b: Row | undefined, k: 'p95Ms' | 'p99Ms'): number | undefined => (a && b ? a[k] - b[k] : undefined)
  const l1 = by('throughput', 'router: L1')
  const raw = by('throughput', 'limit: raw node:http')
  add('L1 hit ≥ 20K QPS per core (throughput run)', l1?.qpsPerCore, 20_000, false)
  add('(context) L1 hit QPS/core ÷ raw node:http QPS/core', l1?.qpsPerCore && raw?.qpsPerCore ? l1.qpsPerCore / raw.qpsPerCore : undefined, 1, false, true)
  add('L1 hit p99 < 2 ms (latency run)', by('latency', 'router: L1')?.p99Ms, 2, true)
  add('(context) raw node:http p99 at the same load', by('latency', 'limit: raw node:http')?.p99Ms, 2, true, true)
  add('L2 hit p95 − raw Redis GET p95 ≤ 1 ms (latency run)', diff(by('latency', 'router: L2'), by('latency', 'limit: raw ioredis'), 'p95Ms'), 1, true)
  add('miss p95 − direct query p95 ≤ 2 ms (latency run)', diff(by('latency', 'router: miss'), by('latency', 'limit: same query'), 'p95Ms'), 2, true)
  add('(context) L1 hit p99, throughput run', l1?.p99Ms, 2, true, true)
  add('(context) L2 − Redis p95, throughput run', diff(by('throughput', 'router: L2'), by('throughput', 'limit: raw ioredis'), 'p95Ms'), 1, true, true)
  add('(context) miss − direct p95, throughput run', diff(by('throughput', 'router: miss'), by('throughput', 'limit: same query'), 'p95Ms'), 2, true, true)
  return goals
}

export function printTables(rows: Row[], goals: Goal[]): void {
  for (const mode of ['throughput', 'latency'] as const) {
    console.log(`\n${mode === 'throughput' ? 'throughput (closed loop)' : 'latency (moderate load, the same for router and limit)'}`)
    console.table(
      rows
        .filter((r) => r.mode === mode)
        .map((r) => ({
          scenario: r.scenario, load: r.load, requests: r.requests, errors: r.errors, QPS: r.qps, 'QPS/core': r.qpsPerCore ?? '',
          'p50 ms': r.p50Ms, 'p95 ms': r.p95Ms, 'p99 ms': r.p99Ms, 'X-Cache': r.xCache ?? '',
        })),
    )
  }
  console.table(goals.map((g) => ({ goal: g.goal, measured: g.value, target: g.target, met: g.goal.startsWith('(context)') ? '' : g.met ? 'yes' : 'NO' })))
}
