/**
 * One-shot reachability checks of the configured backends, for `aiops agent check`: the same pings an agent's
 * /readyz runs, with the address checked and the config field to change when it is down.
 */
import type { AiopsConfig } from './config/index.js'
import { redactUrl } from './config/index.js'
import { openBackends } from './backends.js'

export interface BackendCheck {
  role: 'bus' | 'store' | 'cache'
  backend: string
  target: string
  /** The config field that points at it. */
  field: string
  ok: boolean
  error?: string
  latencyMs: number
}

export async function checkBackends(config: AiopsConfig): Promise<BackendCheck[]> {
  const b = await openBackends(config)
  const targets = {
    bus: config.bus.backend === 'kafka' ? { target: config.bus.kafka.brokers.join(','), field: 'bus.kafka.brokers' } : { target: 'in-process', field: 'bus.backend' },
    store:
      config.store.backend === 'clickhouse'
        ? { target: redactUrl(config.store.clickhouse.url), field: 'store.clickhouse.url' }
        : { target: config.store.chdb.path, field: 'store.chdb.path' },
    cache:
      config.cache.backend === 'redis'
        ? config.cache.redis.sentinels.length > 0
          ? { target: `sentinels ${config.cache.redis.sentinels.join(',')}`, field: 'cache.redis.sentinels' }
          : { target: redactUrl(config.cache.redis.url), field: 'cache.redis.url' }
        : { target: 'in-process', field: 'cache.backend' },
  }
  try {
    const probes = [
      ['bus', b.bus.kind, () => b.bus.ping()],
      ['store', b.store.kind, () => b.store.ping()],
      ['cache', b.cache.kind, () => b.cache.ping()],
    ] as const
    return await Promise.all(
      probes.map(async ([role, backend, ping]) => {
        const t0 = performance.now()
        const r = await ping()
        return { role, backend, ...targets[role], ok: r.ok, ...(r.ok ? {} : { error: r.error }), latencyMs: Math.round(performance.now() - t0) }
      }),
    )
  } finally {
    await Promise.allSettled([b.bus.close(), b.store.close(), b.cache.close()])
  }
}
