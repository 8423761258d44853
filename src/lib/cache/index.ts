/**
 * The cache backends behind one constructor: which one runs is configuration only (`cache.backend`).
 */
import { ConfigError } from '../errors.js'
import { MemoryCache, type MemoryCacheOptions } from './memory.js'
import { RedisCache, type RedisCacheOptions } from './redis.js'
import type { Cache } from './types.js'

export type { Cache } from './types.js'
export { MemoryCache, globToRegExp, validateTtl, type MemoryCacheOptions, type MemoryCacheStats } from './memory.js'
export { RedisCache, type RedisCacheOptions } from './redis.js'

export interface CacheConfig {
  backend: 'memory' | 'redis'
  memory?: MemoryCacheOptions
  redis?: RedisCacheOptions
}

export function createCache(cfg: CacheConfig): Cache {
  switch (cfg.backend) {
    case 'memory':
      return new MemoryCache(cfg.memory)
    case 'redis':
      return new RedisCache(cfg.redis)
    default:
      // Config validation should have caught this; a hand-built config (tests, library users) may not have.
      throw new ConfigError('cache.backend', `cache.backend: "${String(cfg.backend)}" is not accepted; use memory or redis`)
  }
}
