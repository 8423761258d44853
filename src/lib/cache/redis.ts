/**
 * The shared query cache (the router's L2) on Redis, standalone or behind Sentinel.
 *
 * A cache is an optimisation, so its first duty is to fail fast: a down Redis must cost callers microseconds,
 * not a queue of commands waiting for a reconnect. Hence no offline queue, no per-command retries, a short
 * command timeout, and every call behind a circuit breaker named `redis`, while ioredis keeps reconnecting in
 * the background so the cache comes back by itself once Redis does.
 */
import { Redis, type RedisOptions } from 'ioredis'
import type { Registry } from 'prom-client'
import { AiopsError, ConfigError, DependencyError, isProgrammingError } from '../errors.js'
import { CircuitBreaker, breakerDefaults, type BreakerSettings, type BreakerState } from '../resilience/breaker.js'
import type { Clock } from '../resilience/clock.js'
import type { HealthResult } from '../bus/types.js'
import type { Cache } from './types.js'
import { validateTtl } from './memory.js'

export interface RedisCacheOptions {
  /** `redis://[:password@]host:port[/db]`; default redis://127.0.0.1:6379. Ignored when `sentinels` is set. */
  url?: string
  /** Sentinel addresses; with `name`, the master is found through them (and found again after a failover). */
  sentinels?: Array<{ host: string; port: number }>
  /** The Sentinel master name (`sentinel monitor <name> …`). Required with `sentinels`. */
  name?: string
  /** AUTH password; wins over one embedded in `url`. */
  password?: string
  /** Prepended to every key so several deployments can share one Redis (default `aiops:`). */
  keyPrefix?: string
  /** A command without a reply within this many ms fails (default 500). */
  commandTimeoutMs?: number
  /** Default breakerDefaults.cache. */
  breaker?: BreakerSettings
  clock?: Clock
  registry?: Registry
}

/** Keys per SCAN step and per UNLINK: large enough to be quick, small enough not to stall Redis. */
const SCAN_COUNT = 500
/** Reconnect backoff cap: a restarted Redis is noticed within about this long. */
const MAX_RECONNECT_DELAY_MS = 1000

const SUGGESTIONS = [
  'check cache.redis.url (or cache.redis.sentinels and cache.redis.masterName) points at a reachable Redis',
  'check cache.redis.password if Redis requires AUTH',
  'or set cache.backend to memory to run without Redis',
]

/** Exponential backoff with jitter, capped, never giving up: returning a number keeps ioredis reconnecting. */
function reconnectDelay(attempt: number): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.min(attempt, 10))
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
}

export class RedisCache implements Cache {
  readonly kind = 'redis' as const
  private readonly client: Redis
  private readonly breaker: CircuitBreaker
  private readonly prefix: string
  private readonly timeoutMs: number
  /** host:port or sentinel master name, for messages; never the URL (it may carry a password). */
  private readonly target: string
  private everReady = false
  private firstReady: Promise<void>
  private lastError: string | undefined
  private closing: Promise<void> | undefined
  private unlinkSupported = true

  constructor(opts: RedisCacheOptions = {}) {
    this.prefix = opts.keyPrefix ?? 'aiops:'
    this.timeoutMs = opts.commandTimeoutMs ?? 500
    if (!(this.timeoutMs > 0)) throw new ConfigError('cache.redis.commandTimeoutMs', 'cache.redis.commandTimeoutMs must be above 0')
    const base: RedisOptions = {
      keyPrefix: this.prefix,
      // Fail fast while disconnected instead of queueing commands until a reconnect that may never come.
      enableOfflineQueue: false,
      // In-flight commands are rejected when the connection drops, not retried on the next connection.
      maxRetriesPerRequest: 0,
      // A SET we already reported as failed must not land later and overwrite a newer value.
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.timeoutMs,
      connectTimeout: Math.max(1000, 4 * this.timeoutMs),
      retryStrategy: reconnectDelay,
      // After a Sentinel failover the old master may still answer, as a read-only replica: reconnect.
      reconnectOnError: (err) => (/READONLY/.test(err.message) ? 1 : false),
      ...(opts.password === undefined ? {} : { password: opts.password }),
    }
    if (opts.sentinels !== undefined && opts.sentinels.length > 0) {
      if (!opts.name) {
        throw new ConfigError('cache.redis.masterName', 'cache.redis.masterName (the Sentinel master name) is required with cache.redis.sentinels', {
          suggestions: ['set cache.redis.masterName to the name in `sentinel monitor <name> …`'],
        })
      }
      this.target = `sentinel master ${opts.name} via ${opts.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
      this.client = new Redis({
        ...base,
        sentinels: opts.sentinels,
        name: opts.name,
        sentinelRetryStrategy: reconnectDelay,
        sentinelCommandTimeout: this.timeoutMs,
        // Subscribe to +switch-master so a failover moves us to the new master without waiting for errors.
        failoverDetector: true,
      })
    } else {
      const url = opts.url ?? 'redis://127.0.0.1:6379'
      this.target = describeUrl(url)
      // ioredis lets a password in the URL win over the option; we want the explicit option to win.
      this.client = new Redis(opts.password === undefined ? url : withoutPassword(url), base)
    }
    // Without a listener ioredis prints every connection error; we keep the last one for ping() and errors.
    this.client.on('error', (err: Error) => (this.lastError = err.message))
    this.client.on('ready', () => {
      this.everReady = true
      this.lastError = undefined
    })
    this.firstReady = new Promise<void>((resolve) => this.client.once('ready', () => resolve()))
    this.breaker = new CircuitBreaker('redis', opts.breaker ?? breakerDefaults.cache, {
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      ...(opts.registry === undefined ? {} : { registry: opts.registry }),
    })
  }

  /** For /readyz and tests: the breaker's view of Redis. */
  get breakerState(): BreakerState {
    return this.breaker.state
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.call('get', async () => (await this.client.getBuffer(key)) ?? undefined)
  }

  async set(key: string, value: Buffer, ttlS: number): Promise<void> {
    validateTtl(ttlS) // a caller bug, not a Redis failure: checked before the breaker so it never trips it
    const ms = Math.max(1, Math.ceil(ttlS * 1000))
    await this.call('set', () => this.client.set(key, value, 'PX', ms))
  }

  async del(pattern: string): Promise<number> {
    // ioredis applies keyPrefix to key arguments but not to SCAN's MATCH pattern, so we add it ourselves
    // (escaped: the prefix is literal) and strip it from the keys SCAN returns before UNLINK adds it back.
    const match = escapeGlob(this.prefix, /[*?[\]\\]/g) + escapeGlob(pattern, /[[\]\\]/g)
    return this.call('del', async () => {
      let cursor = '0'
      let deleted = 0
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)
        cursor = next
        if (keys.length > 0) deleted += await this.unlink(keys.map((k) => k.slice(this.prefix.length)))
      } while (cursor !== '0')
      return deleted
    })
  }

  async ping(): Promise<HealthResult> {
    if (this.closing) return { ok: false, error: 'redis cache is closed' }
    try {
      await this.call('ping', () => this.client.ping())
      return { ok: true }
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) }
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // QUIT lets Redis finish what we sent; when not connected (or QUIT times out) just drop the socket,
      // which also cancels any pending reconnect.
      if (this.client.status === 'ready') {
        try {
          await this.client.quit()
          return
        } catch {
          // fall through
        }
      }
      this.client.disconnect()
    })()
    return this.closing
  }

  /** Runs one cache operation through the breaker, mapping failures to DependencyError('redis'). */
  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing) throw new AiopsError('the redis cache is closed', { code: 'AIOPS_CACHE_CLOSED' })
    // CircuitOpenError from execute() passes through as is: it already is a retriable DependencyError.
    return this.breaker.execute(async () => {
      try {
        await this.connected()
        return await fn()
      } catch (err) {
        // Our own bugs stay what they are: wrapped they would look retriable and count against Redis.
        throw isProgrammingError(err) ? err : this.wrap(op, err)
      }
    })
  }

  /**
   * Without an offline queue, a command sent before the first connection is up would fail at once, so right
   * after construction we wait (up to the command timeout) for it. Later disconnects are not waited for:
   * then failing immediately is the point.
   */
  private async connected(): Promise<void> {
    if (this.everReady) {
      // ioredis would say "Stream isn't writeable and enableOfflineQueue options is false": say it plainly.
      if (this.client.status !== 'ready') throw new Error(`not connected (${this.client.status} in the background)`)
      return
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not connected within ${this.timeoutMs}ms`)), this.timeoutMs)
    })
    try {
      await Promise.race([this.firstReady, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  private async unlink(keys: string[]): Promise<number> {
    // UNLINK frees memory in a background thread; DEL is the fallback for servers older than Redis 4.
    if (this.unlinkSupported) {
      try {
        return await this.client.unlink(...keys)
      } catch (err) {
        if (!(err instanceof Error) || !/unknown command/i.test(err.message)) throw err
        this.unlinkSupported = false
      }
    }
    return this.client.del(...keys)
  }

  private wrap(op: string, err: unknown): DependencyError {
    const msg = err instanceof Error ? err.message : String(err)
    // "Stream isn't writeable" says little; the connection error behind it says why.
    const why = this.lastError !== undefined && this.lastError !== msg ? `${msg} (last connection error: ${this.lastError})` : msg
    return new DependencyError('redis', `redis ${op} on ${this.target} failed: ${why}`, {
      cause: err,
      retriable: true,
      suggestions: SUGGESTIONS,
      details: { operation: op, target: this.target },
    })
  }
}

function escapeGlob(s: string, special: RegExp): string {
  return s.replace(special, '\\$&')
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    return u.toString()
  } catch {
    return url // not a URL ioredis would parse with a password in it anyway
  }
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '6379'}`
  } catch {
    return 'the configured Redis'
  }
}
