/**
 * Configuration → backend clients. The only place that knows how config fields map onto each backend's
 * options, so every agent runs on embedded defaults or real servers by configuration alone.
 */
import type { AiopsConfig } from './config/index.js'
import { createBus } from './bus/index.js'
import { createCache } from './cache/index.js'
import { createStore } from './store/index.js'
import type { Bus } from './bus/types.js'
import type { Cache } from './cache/types.js'
import type { Store } from './store/types.js'
import type { Registry } from 'prom-client'

export interface Backends {
  bus: Bus
  store: Store
  cache: Cache
  /** The database the schema lives in, for whichever store backend is configured. */
  database: string
}

export async function openBackends(config: AiopsConfig, registry?: Registry): Promise<Backends> {
  const k = config.bus.kafka
  const bus = createBus({
    backend: config.bus.backend,
    memory: { partitions: config.bus.memory.partitions },
    kafka: {
      brokers: k.brokers,
      clientId: k.clientId,
      idempotent: k.idempotent,
      compression: k.compression,
      compressionLevel: k.compressionLevel,
      ssl: k.ssl,
      requestTimeoutMs: k.requestTimeoutMs,
      ...(k.saslMechanism === 'none' ? {} : { sasl: { mechanism: k.saslMechanism, username: k.username, password: k.password } }),
    },
  })
  const store = await createStore({
    backend: config.store.backend,
    chdb: { path: config.store.chdb.path, database: config.store.chdb.database },
    clickhouse: { ...config.store.clickhouse },
  })
  const r = config.cache.redis
  const cache = createCache({
    backend: config.cache.backend,
    memory: { ...config.cache.memory },
    redis: {
      ...(r.sentinels.length > 0 ? { sentinels: r.sentinels.map(parseHostPort), name: r.masterName } : { url: r.url }),
      ...(r.password ? { password: r.password } : {}),
      keyPrefix: r.keyPrefix,
      commandTimeoutMs: r.commandTimeoutMs,
      ...(registry ? { registry } : {}),
    },
  })
  const database = config.store.backend === 'chdb' ? config.store.chdb.database : config.store.clickhouse.database
  return { bus, store, cache, database }
}

export function parseHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':')
  return { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) }
}
