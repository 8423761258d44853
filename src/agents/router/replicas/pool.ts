/**
 * The replicas behind the router: tier routing, least connections among the healthy ones, a circuit breaker per
 * replica, active health checks, and one retry of an idempotent read on another replica.
 *
 * A replica is in rotation when its last ping succeeded and its breaker is not open. Requests count against the
 * breaker only when the replica failed (unreachable, broke off, or answered with a transient ClickHouse code), never
 * for a query it refused (syntax, unknown column): those would fail the same everywhere.
 */
import type { Registry } from 'prom-client'
import { CircuitBreaker, type BreakerSettings } from '../../../lib/resilience/breaker.js'
import { systemClock, type Clock } from '../../../lib/resilience/clock.js'
import { QueryRefusedError } from '../../../lib/routing/errors.js'
import { tierOrder, type TierChoice } from '../../../lib/routing/tiers.js'
import { clickhouseCode } from '../../../lib/store/errors.js'
import type { Logger } from '../../../lib/telemetry/index.js'
import type { RouterMetrics } from '../metrics.js'
import { ReplicaUnavailableError, type Replica, type ReplicaRequest, type ReplicaResponse } from './types.js'

/** Replica breakers open after 3 straight failures and probe again after 5 s: a killed server is skipped at once,
 *  and one that comes back is tried again within seconds (the health check usually returns it sooner). */
export const replicaBreaker: BreakerSettings = { failureThreshold: 3, successThreshold: 1, openMs: 5_000 }

/** ClickHouse codes that say "this replica, now" rather than "this query": worth one try elsewhere. */
const TRANSIENT_CODES = new Set([3, 32, 202, 203, 209, 210, 241, 242, 279, 285, 425, 999])

interface Member {
  replica: Replica
  breaker: CircuitBreaker
  healthy: boolean
  lastError: string | undefined
  inFlight: number
}

export interface PoolOptions {
  registry?: Registry
  metrics: RouterMetrics
  logger: Logger
  clock?: Clock
  healthIntervalMs: number
}

export interface PoolResult {
  response: ReplicaResponse
  replica: string
  attempts: number
}

export class ReplicaPool {
  private readonly members: Member[]
  private readonly stopHealth = new AbortController()
  private healthLoop: Promise<void> | undefined
  private rr = 0
  private readonly clock: Clock

  constructor(
    replicas: readonly Replica[],
    private readonly opts: PoolOptions,
  ) {
    this.clock = opts.clock ?? systemClock
    this.members = replicas.map((replica) => ({
      replica,
      healthy: true,
      lastError: undefined,
      inFlight: 0,
      breaker: new CircuitBreaker(`replica:${replica.name}`, replicaBreaker, {
        clock: this.clock,
        ...(opts.registry ? { registry: opts.registry } : {}),
        isFailure: (err) => err instanceof ReplicaUnavailableError || err instanceof TransientResponse,
        onStateChange: (from, to) => opts.logger.warn('replica breaker', { replica: replica.name, from, to }),
      }),
    }))
    for (const m of this.members) opts.metrics.replicaUp.set({ replica: m.replica.name }, 1)
  }

  /** Pings every replica now, then every healthIntervalMs until close(). */
  async start(): Promise<void> {
    await this.checkAll()
    this.healthLoop = (async () => {
      while (!this.stopHealth.signal.aborted) {
        try {
          await this.clock.sleep(this.opts.healthIntervalMs, this.stopHealth.signal)
        } catch {
          return
        }
        await this.checkAll()
      }
    })()
  }

  async close(): Promise<void> {
    this.stopHealth.abort()
    await this.healthLoop
    await Promise.all(this.members.map((m) => m.replica.close()))
  }

  /** Per replica: "ok" or why it is out of rotation; for /readyz. */
  report(): Array<{ name: string; tiers: string; state: string; inFlight: number }> {
    return this.members.map((m) => ({
      name: m.replica.name,
      tiers: m.replica.tiers.join('+'),
      state: !m.healthy ? `down: ${m.lastError ?? 'ping failed'}` : m.breaker.state === 'open' ? 'breaker open' : 'ok',
      inFlight: m.inFlight,
    }))
  }

  get available(): number {
    return this.members.filter((m) => this.usable(m)).length
  }

  /**
   * Runs the request on the best replica for `choice`; if that replica fails before the response is complete, once
   * more on another. The caller must consume `rest` or call release() on the result.
   */
  async run(req: ReplicaRequest, choice: TierChoice): Promise<PoolResult> {
    const tried = new Set<Member>()
    let lastErr: unknown
    for (let attempt = 1; attempt <= 2; attempt++) {
      const m = this.pick(choice, tried)
      // No other replica to retry on: a replica's own transient error is still the best answer to give.
      if (!m && lastErr instanceof TransientResponse) return { response: lastErr.response, replica: lastErr.replica, attempts: attempt - 1 }
      if (!m) break
      tried.add(m)
      req.tried?.push(m.replica.name)
      m.inFlight++
      const t0 = performance.now()
      let counted = false
      const done = (): void => {
        if (counted) return
        counted = true
        m.inFlight--
      }
      try {
        const response = await m.breaker.execute(async () => {
          const r = await m.replica.execute(req)
          if (r.complete && r.status !== 200 && TRANSIENT_CODES.has(clickhouseCode(r.head.toString('utf8', 0, 512)) ?? -1)) throw new TransientResponse(r)
          return r
        })
        this.opts.metrics.replicaSeconds.observe({ replica: m.replica.name }, (performance.now() - t0) / 1000)
        this.opts.metrics.replicaRequests.inc({ replica: m.replica.name, outcome: response.status === 200 ? 'ok' : 'refused' })
        const release = response.release
        response.release = () => {
          release()
          done()
        }
        if (response.complete) done()
        return { response, replica: m.replica.name, attempts: attempt }
      } catch (err) {
        done()
        lastErr = err instanceof TransientResponse ? Object.assign(err, { replica: m.replica.name }) : err
        this.opts.metrics.replicaRequests.inc({ replica: m.replica.name, outcome: 'failed' })
        if (err instanceof TransientResponse && attempt === 2) return { response: err.response, replica: m.replica.name, attempts: attempt }
        if (req.signal.aborted || !(err instanceof ReplicaUnavailableError || err instanceof TransientResponse || isCircuitOpen(err))) throw err
        if (attempt === 1) this.opts.metrics.retries.inc()
        this.opts.logger.logOnce(`replica-failed:${m.replica.name}`, 'warn', 'replica failed; retrying on another', {
          replica: m.replica.name,
          err,
        })
      }
    }
    throw new QueryRefusedError(
      `no healthy replica could run the query${lastErr instanceof Error ? ` (last error: ${lastErr.message})` : ''}`,
      'ALL_CONNECTION_TRIES_FAILED',
      { replicas: this.report() },
      2,
    )
  }

  async kill(replica: string, queryId: string): Promise<void> {
    await this.members.find((m) => m.replica.name === replica)?.replica.kill(queryId)
  }

  private usable(m: Member): boolean {
    return m.healthy && m.breaker.state !== 'open'
  }

  /** Least connections within the first tier group that has a usable replica; ties go round-robin. */
  private pick(choice: TierChoice, exclude: Set<Member>): Member | undefined {
    for (const group of tierOrder(choice)) {
      const found = this.least(this.members.filter((m) => !exclude.has(m) && this.usable(m) && m.replica.tiers.some((t) => group.includes(t))))
      if (found) return found
    }
    // Every replica looks down: the last ping may be stale, so try one whose breaker still lets calls through.
    return this.least(this.members.filter((m) => !exclude.has(m) && m.breaker.state !== 'open'))
  }

  private least(candidates: Member[]): Member | undefined {
    if (candidates.length === 0) return undefined
    const min = Math.min(...candidates.map((m) => m.inFlight))
    const best = candidates.filter((m) => m.inFlight === min)
    return best[this.rr++ % best.length]
  }

  private async checkAll(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const r = await m.replica.ping()
        const was = m.healthy
        m.healthy = r.ok
        m.lastError = r.ok ? undefined : r.error
        this.opts.metrics.replicaUp.set({ replica: m.replica.name }, r.ok ? 1 : 0)
        if (was !== r.ok) {
          if (r.ok) this.opts.logger.info('replica healthy again', { replica: m.replica.name })
          else this.opts.logger.warn('replica down', { replica: m.replica.name, error: m.lastError })
        }
      }),
    )
  }
}

class TransientResponse extends Error {
  replica = ''
  constructor(readonly response: ReplicaResponse) {
    super(`replica answered HTTP ${response.status}: ${response.head.toString('utf8', 0, 200).trim()}`)
  }
}

function isCircuitOpen(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === 'AIOPS_CIRCUIT_OPEN'
}
