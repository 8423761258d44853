/**
 * Late data → cache invalidation. The consumer publishes an `ingested` control message (tenant, table, time range)
 * after each insert; every router instance reads them with its own consumer group from the latest offset (signals,
 * not data: old ones are moot) and deletes the cached results of that tenant whose range overlaps, in L1 and L2.
 * Most messages cover data from the last seconds, which no cache entry can hold (only ranges that ended over a
 * minute ago are cached), and are skipped without touching the caches.
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { Bus, ConsumerHandle } from '../../lib/bus/types.js'
import { decodeControl } from '../../lib/control.js'
import { canSkipInvalidation } from '../../lib/routing/cache-key.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/index.js'
import type { ResultCache } from './cache.js'

export interface InvalidationOptions {
  bus: Bus
  topic: string
  cache: ResultCache
  logger: Logger
  clock: Clock
}

export async function startInvalidation(o: InvalidationOptions): Promise<ConsumerHandle> {
  const group = `aiops-router-${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`
  const handle = await o.bus.consume(
    o.topic,
    group,
    async (batch) => {
      // Merge the batch per tenant: one round of deletes for many small late inserts.
      const ranges = new Map<string, { fromMs: number; toMs: number }>()
      for (const rec of batch.records) {
        let m
        try {
          m = decodeControl(rec.value)
        } catch (err) {
          o.logger.logOnce('bad-control-message', 'warn', 'ignoring a control message that does not decode', { err })
          continue
        }
        if (m.type !== 'ingested') continue
        const fromMs = nsToMs(m.fromNs)
        const toMs = nsToMs(m.toNs)
        if (fromMs === undefined || toMs === undefined || canSkipInvalidation(fromMs, o.clock.now())) continue
        const r = ranges.get(m.tenant)
        ranges.set(m.tenant, r ? { fromMs: Math.min(r.fromMs, fromMs), toMs: Math.max(r.toMs, toMs) } : { fromMs, toMs })
      }
      for (const [tenant, r] of ranges) {
        const n = await o.cache.invalidate(tenant, r.fromMs, r.toMs)
        o.logger.debug('late data: cache invalidated', { tenant, from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString(), ...n })
      }
    },
    { fromBeginning: false },
  )
  await handle.ready
  return handle
}

function nsToMs(ns: string): number | undefined {
  if (!/^\d{1,20}$/.test(ns)) return undefined
  return Number(BigInt(ns) / 1_000_000n)
}
