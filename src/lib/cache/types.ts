/**
 * The query cache. Redis in production (ioredis), an in-process TTL LRU bounded by entries and bytes for
 * `aiops up` and as the router's L1. Both honour test/integration/cache.contract.test.ts.
 */
import type { HealthResult } from '../bus/types.js'

export interface Cache {
  readonly kind: 'redis' | 'memory'
  get(key: string): Promise<Buffer | undefined>
  set(key: string, value: Buffer, ttlS: number): Promise<void>
  /** Deletes every key matching a glob pattern (`*` and `?`), returns how many were deleted. */
  del(pattern: string): Promise<number>
  ping(): Promise<HealthResult>
  close(): Promise<void>
}
