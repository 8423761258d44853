/**
 * The router's Prometheus metrics: requests by door/outcome/cache result, per cache layer (hits, misses, errors,
 * fills, invalidations, L1 size), per replica (requests, latency, up), retries, refusals and killed queries.
 * Registered once per registry (prom-client refuses a second registration of a name).
 *
 * The two counters bumped on every request (requests, cache lookups) are tallied: a bump adds 1 to a handle made
 * once per label set, and the tallies reach prom-client when the registry is read (its collect hook), instead of
 * prom-client hashing a label object on every request.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

type Labels<T extends string> = T

/** Requests (or lookups) counted since the registry was last read, for one label set. */
export interface Tally {
  n: number
}

interface Tallied {
  labels: Record<string, string>
  tally: Tally
}

/** Every tally of a counter, whichever router instance made it (instances on one registry share the counter). */
const talliesOf = new WeakMap<object, Tallied[]>()

function flushTallies(counter: Counter<string>): void {
  for (const t of talliesOf.get(counter) ?? []) {
    if (t.tally.n === 0) continue
    counter.inc(t.labels, t.tally.n)
    t.tally.n = 0
  }
}

/** A new tally of `counter` for `labels`; keep it and bump `n`. */
function newTally(counter: Counter<string>, labels: Record<string, string>): Tally {
  const tally = { n: 0 }
  let list = talliesOf.get(counter)
  if (!list) talliesOf.set(counter, (list = []))
  list.push({ labels, tally })
  return tally
}

function once<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make()
}

export function createRouterMetrics(registry: Registry) {
  const r = [registry]
  return {
    requests: once(registry, 'aiops_router_requests_total', () =>
      new Counter<Labels<'door' | 'status' | 'cache'>>({
        name: 'aiops_router_requests_total',
        help: 'Requests answered, by door (clickhouse, api), HTTP status and cache result (hit_l1, hit_l2, miss, none)',
        labelNames: ['door', 'status', 'cache'],
        registers: r,
        collect() {
          flushTallies(this)
        },
      }),
    ),
    requestSeconds: once(registry, 'aiops_router_request_duration_seconds', () =>
      new Histogram<Labels<'door' | 'cache'>>({
        name: 'aiops_router_request_duration_seconds',
        help: 'Time from request to the last byte of the response, by door and cache result',
        labelNames: ['door', 'cache'],
        buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: r,
      }),
    ),
    cacheLookups: once(registry, 'aiops_router_cache_lookups_total', () =>
      new Counter<Labels<'layer' | 'result'>>({
        name: 'aiops_router_cache_lookups_total',
        help: 'Cache lookups per layer (l1, l2) and result (hit, miss, error, slow: L2 gave no answer within router.cache.l2WaitMs)',
        labelNames: ['layer', 'result'],
        registers: r,
        collect() {
          flushTallies(this)
        },
      }),
    ),
    cacheWrites: once(registry, 'aiops_router_cache_writes_total', () =>
      new Counter<Labels<'layer' | 'result'>>({
        name: 'aiops_router_cache_writes_total',
        help: 'Results written per layer (ok, error)',
        labelNames: ['layer', 'result'],
        registers: r,
      }),
    ),
    invalidations: once(registry, 'aiops_router_cache_invalidated_total', () =>
      new Counter<Labels<'layer'>>({
        name: 'aiops_router_cache_invalidated_total',
        help: 'Cached results deleted because late data arrived for their tenant and range',
        labelNames: ['layer'],
        registers: r,
      }),
    ),
    coalesced: once(registry, 'aiops_router_cache_coalesced_total', () =>
      new Counter({ name: 'aiops_router_cache_coalesced_total', help: 'Requests that waited for another request filling the same key', registers: r }),
    ),
    l1Entries: once(registry, 'aiops_router_cache_l1_entries', () =>
      new Gauge({ name: 'aiops_router_cache_l1_entries', help: 'Results held in the in-process L1 cache', registers: r }),
    ),
    l1Bytes: once(registry, 'aiops_router_cache_l1_bytes', () =>
      new Gauge({ name: 'aiops_router_cache_l1_bytes', help: 'Bytes held in the in-process L1 cache', registers: r }),
    ),
    replicaRequests: once(registry, 'aiops_router_replica_requests_total', () =>
      new Counter<Labels<'replica' | 'outcome'>>({
        name: 'aiops_router_replica_requests_total',
        help: 'Queries sent to each replica by outcome (ok, refused: the query failed there, failed: the replica failed)',
        labelNames: ['replica', 'outcome'],
        registers: r,
      }),
    ),
    replicaSeconds: once(registry, 'aiops_router_replica_response_seconds', () =>
      new Histogram<Labels<'replica'>>({
        name: 'aiops_router_replica_response_seconds',
        help: 'Time until a replica answered (whole response when it fits the buffer)',
        labelNames: ['replica'],
        buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: r,
      }),
    ),
    replicaUp: once(registry, 'aiops_router_replica_up', () =>
      new Gauge<Labels<'replica'>>({ name: 'aiops_router_replica_up', help: '1 when the last health check of the replica succeeded', labelNames: ['replica'], registers: r }),
    ),
    retries: once(registry, 'aiops_router_retries_total', () =>
      new Counter({ name: 'aiops_router_retries_total', help: 'Reads retried on another replica after the first one failed', registers: r }),
    ),
    refused: once(registry, 'aiops_router_refused_total', () =>
      new Counter<Labels<'tenant' | 'reason'>>({
        name: 'aiops_router_refused_total',
        help: 'Requests refused by the router, by tenant and reason (ClickHouse error name)',
        labelNames: ['tenant', 'reason'],
        registers: r,
      }),
    ),
    killed: once(registry, 'aiops_router_queries_killed_total', () =>
      new Counter<Labels<'replica'>>({
        name: 'aiops_router_queries_killed_total',
        help: 'Queries killed on a replica for running past the tenant limit or because the caller went away',
        labelNames: ['replica'],
        registers: r,
      }),
    ),
  }
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>

/** Tallies of aiops_router_requests_total, by door, cache result and status (made on first use). */
export class RequestTallies {
  private readonly byKey = new Map<string, Map<number, Tally>>()

  constructor(private readonly m: RouterMetrics) {}

  of(door: string, cache: string, status: number): Tally {
    const k = door === 'clickhouse' ? cache : `${door}\0${cache}`
    let byStatus = this.byKey.get(k)
    if (!byStatus) this.byKey.set(k, (byStatus = new Map()))
    let t = byStatus.get(status)
    if (!t) byStatus.set(status, (t = newTally(this.m.requests, { door, status: String(status), cache })))
    return t
  }
}

/** Tallies of aiops_router_cache_lookups_total, by layer and result. */
export function lookupTallies(m: RouterMetrics) {
  const t = (layer: string, result: string): Tally => newTally(m.cacheLookups, { layer, result })
  return { l1Hit: t('l1', 'hit'), l1Miss: t('l1', 'miss'), l2Hit: t('l2', 'hit'), l2Miss: t('l2', 'miss'), l2Error: t('l2', 'error'), l2Slow: t('l2', 'slow') }
}
