/**
 * The router's Prometheus metrics: requests by door/outcome/cache result, per cache layer (hits, misses, errors,
 * fills, invalidations, L1 size), per replica (requests, latency, up), retries, refusals and killed queries.
 * Registered once per registry (prom-client refuses a second registration of a name).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

type Labels<T extends string> = T

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
        help: 'Cache lookups per layer (l1, l2) and result (hit, miss, error)',
        labelNames: ['layer', 'result'],
        registers: r,
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
