/**
 * The in-process bus behind `aiops up`: Kafka's semantics without Kafka, so agents and tests behave the same on
 * both backends. Topics have partitions chosen by Kafka's own key hash; each partition is an append-only log
 * with offsets; consumer groups own committed offsets and share a topic's partitions between their members.
 *
 * Delivery: one worker per (group, partition) calls the owning member's handler with the next batch, in
 * offset order, and commits only after the handler resolves. A handler that throws gets the same batch again
 * after a backoff, forever: data is never skipped (the caller decides when to give up, e.g. a dead-letter
 * topic). Because the worker belongs to the partition, not the member, a rebalance hands the partition over
 * between batches and two members can never process one partition at the same time.
 *
 * Memory: records are kept until every group that ever consumed the topic has committed past them, then
 * trimmed in chunks. A topic nobody consumes grows without bound; in `aiops up` every topic has a consumer.
 */
import type { BatchHandler, Bus, BusRecord, ConsumeOptions, ConsumedBatch, ConsumedRecord } from './types.js'
import type { ConsumerHandle, HealthResult, LagReport, ProduceOptions } from './types.js'
import { partitionForKey } from './partitioner.js'
import { AiopsError, ConfigError } from '../errors.js'
import { backoffDelay, type RetryPolicy } from '../resilience/retry.js'
import { type Logger, silentLogger } from '../telemetry/logger.js'
import { type Clock, systemClock } from '../resilience/clock.js'

export interface MemoryBusOptions {
  /** Partitions per topic (default 8), like `num.partitions` on a broker. */
  partitions?: number
  /** Most records handed to one handler call (default 500). */
  maxBatchRecords?: number
  /** Backoff before a failed batch is redelivered: exponential from baseMs (100) up to maxDelayMs (5000). */
  redelivery?: { baseMs?: number; maxDelayMs?: number }
  /** Time for record timestamps and the redelivery backoff's sleep (tests inject a ManualClock). */
  clock?: Clock
  logger?: Logger
}

/** Trim a partition's log only when this many records can go at once: splicing arrays per batch is wasteful. */
const TRIM_CHUNK = 1024

/** Wakes every current waiter; a waiter that wants the next event calls wait() again. */
class Notifier {
  private waiters: Array<() => void> = []
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }
  notify(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

interface Partition {
  /** Offset of log[0]; rises when committed records are trimmed. */
  base: number
  log: ConsumedRecord[]
}

interface Topic {
  name: string
  partitions: Partition[]
  groups: Set<Group>
}

interface Member {
  id: number
  handler: BatchHandler
  fromBeginning: boolean
  /** Aborted by stop(), to cut a redelivery backoff short. */
  stop: AbortController
  /** Handler calls (and the commit that follows each) still running. */
  inflight: Set<Promise<void>>
}

interface Group {
  name: string
  topic: Topic
  /** Next offset to consume per partition; undefined until the first commit. */
  committed: Array<number | undefined>
  members: Member[]
  workers: Array<Promise<void> | undefined>
  /** Notified on appends to the topic and on membership changes. */
  wake: Notifier
}

const groupKey = (topic: string, group: string): string => `${topic}\u0000${group}`

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const
  private readonly partitions: number
  private readonly maxBatch: number
  private readonly redelivery: RetryPolicy
  private readonly clock: Clock
  private readonly log: Logger
  private readonly topics = new Map<string, Topic>()
  private readonly groups = new Map<string, Group>()
  private nextMemberId = 1
  private closed = false

  constructor(opts: MemoryBusOptions = {}) {
    this.partitions = opts.partitions ?? 8
    if (!Number.isInteger(this.partitions) || this.partitions < 1) {
      throw new ConfigError('bus.memory.partitions', `partitions must be a positive integer, got ${opts.partitions}`)
    }
    this.maxBatch = Math.max(1, opts.maxBatchRecords ?? 500)
    this.redelivery = {
      retries: Number.POSITIVE_INFINITY,
      backoff: 'exponential',
      baseMs: opts.redelivery?.baseMs ?? 100,
      maxDelayMs: opts.redelivery?.maxDelayMs ?? 5_000,
      deadlineMs: Number.POSITIVE_INFINITY,
    }
    this.clock = opts.clock ?? systemClock
    this.log = opts.logger ?? silentLogger
  }

  async produce(topic: string, records: BusRecord[], opts: ProduceOptions = {}): Promise<void> {
    this.assertOpen()
    opts.signal?.throwIfAborted()
    const t = this.topic(topic)
    for (const r of records) {
      const p = partitionForKey(r.key, t.partitions.length)
      const part = t.partitions[p]!
      part.log.push({
        topic,
        partition: p,
        offset: String(part.base + part.log.length),
        key: r.key,
        // Copies: a producer reusing its buffer or headers object must not change what was "sent".
        value: Buffer.from(r.value),
        headers: { ...r.headers },
        timestampMs: r.timestampMs ?? this.clock.now(),
      })
    }
    if (records.length > 0) for (const g of t.groups) g.wake.notify()
  }

  async consume(topic: string, group: string, handler: BatchHandler, opts: ConsumeOptions = {}): Promise<ConsumerHandle> {
    this.assertOpen()
    const g = this.group(topic, group)
    const member: Member = {
      id: this.nextMemberId++,
      handler,
      fromBeginning: opts.fromBeginning ?? true,
      stop: new AbortController(),
      inflight: new Set(),
    }
    g.members.push(member)
    this.rebalance(g)

    let stopped: Promise<void> | undefined
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        member.stop.abort()
        g.members = g.members.filter((m) => m !== member)
        this.rebalance(g)
        // The worker commits right after the handler resolves, inside the tracked promise: awaiting it means
        // "handler finished and its offsets are committed" before stop() returns.
        await Promise.allSettled([...member.inflight])
      })()
      return stopped
    }
    if (opts.signal) {
      if (opts.signal.aborted) void stop()
      else opts.signal.addEventListener('abort', () => void stop(), { once: true })
    }
    return { ready: Promise.resolve(), stop }
  }

  async lag(topic: string, group: string): Promise<LagReport> {
    // Looked up, not created: a lag probe for a group that never consumed must not pin retention (see trim).
    const g = this.groups.get(groupKey(topic, group))
    const partitions = this.topic(topic).partitions.map((part, partition) => {
      const high = part.base + part.log.length
      const committed = g?.committed[partition]
      // No commit yet: everything still retained is unconsumed (Kafka tools report the same from log start).
      const lag = high - (committed ?? part.base)
      return { partition, committed: String(committed ?? -1), high: String(high), lag }
    })
    return { topic, group, total: partitions.reduce((n, p) => n + p.lag, 0), partitions }
  }

  async ping(): Promise<HealthResult> {
    return this.closed ? { ok: false, error: 'memory bus is closed' } : { ok: true }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const stops: Array<Promise<void>> = []
    for (const g of this.groups.values()) {
      for (const m of g.members) {
        m.stop.abort()
        stops.push(...m.inflight)
      }
      g.members = []
      g.wake.notify()
    }
    await Promise.allSettled(stops)
  }

  private assertOpen(): void {
    if (this.closed) throw new AiopsError('memory bus is closed', { code: 'AIOPS_BUS_CLOSED' })
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name)
    if (!t) {
      t = { name, partitions: Array.from({ length: this.partitions }, () => ({ base: 0, log: [] })), groups: new Set() }
      this.topics.set(name, t)
    }
    return t
  }

  private group(topic: string, name: string): Group {
    const key = groupKey(topic, name)
    let g = this.groups.get(key)
    if (!g) {
      const t = this.topic(topic)
      g = { name, topic: t, committed: t.partitions.map(() => undefined), members: [], workers: [], wake: new Notifier() }
      t.groups.add(g)
      this.groups.set(key, g)
    }
    return g
  }

  /** Round-robin over members in join order; starts a worker for every partition that has none. */
  private rebalance(g: Group): void {
    g.wake.notify()
    if (g.members.length === 0) return
    for (let p = 0; p < g.topic.partitions.length; p++) {
      if (!g.workers[p]) g.workers[p] = this.work(g, p)
    }
  }

  private owner(g: Group, p: number): Member | undefined {
    return g.members.length === 0 ? undefined : g.members[p % g.members.length]
  }

  private async work(g: Group, p: number): Promise<void> {
    const part = g.topic.partitions[p]!
    let owner: Member | undefined
    let position = 0
    let attempt = 0
    for (;;) {
      const m = this.owner(g, p)
      if (!m) {
        // Cleared in the same tick as the check above, so a later join always starts a fresh worker.
        g.workers[p] = undefined
        return
      }
      if (m !== owner) {
        // New owner: start from the group's committed offset (what a Kafka consumer does after a rebalance).
        owner = m
        attempt = 0
        position = g.committed[p] ?? (m.fromBeginning ? part.base : part.base + part.log.length)
      }
      position = Math.max(position, part.base)
      const start = position - part.base
      if (start >= part.log.length) {
        await g.wake.wait()
        continue
      }
      const records = part.log.slice(start, start + this.maxBatch).map((r) => ({ ...r }))
      const batch: ConsumedBatch = {
        topic: g.topic.name,
        partition: p,
        records,
        firstOffset: records[0]!.offset,
        lastOffset: records[records.length - 1]!.offset,
      }
      const next = Number(batch.lastOffset) + 1
      let failed: unknown
      const step = Promise.resolve()
        .then(() => m.handler(batch))
        .then(
          () => {
            g.committed[p] = Math.max(g.committed[p] ?? 0, next)
          },
          (err: unknown) => {
            failed = err ?? new Error('handler rejected')
          },
        )
      m.inflight.add(step)
      await step
      m.inflight.delete(step)
      if (failed === undefined) {
        position = next
        attempt = 0
        this.trim(g.topic, p)
        continue
      }
      attempt++
      const delayMs = backoffDelay(this.redelivery, attempt)
      this.log.warn('bus handler failed; batch will be redelivered', {
        topic: g.topic.name,
        group: g.name,
        partition: p,
        firstOffset: batch.firstOffset,
        attempt,
        delayMs,
        err: failed,
      })
      // Position stays at the batch start: the same records come again. Stopping cuts the wait short; the
      // next owner then starts from the committed offset, which is this batch too.
      await this.clock.sleep(delayMs, m.stop.signal).catch(() => {})
    }
  }

  /** Drops records every group of the topic has committed past (groups without a commit hold everything). */
  private trim(t: Topic, p: number): void {
    const part = t.partitions[p]!
    let min = Number.POSITIVE_INFINITY
    for (const g of t.groups) min = Math.min(min, g.committed[p] ?? part.base)
    const drop = min - part.base
    if (drop >= TRIM_CHUNK) {
      part.log.splice(0, drop)
      part.base = min
    }
  }
}
