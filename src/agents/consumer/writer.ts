/**
 * Store writes that never give up on data: each write runs under the shared retry policy for database writes
 * (5 × linear 100 ms, 10 s per attempt); when that is exhausted the batch is held and the policy runs again after a
 * growing pause (up to consumer.retryMaxDelayMs), for as long as it takes. Meanwhile the handlers waiting on the
 * batch hold their partitions, so the bus stops delivering (the pause) and nothing past the stored data is
 * committed. Only shutdown (the abort signal) ends the wait; the batch then stays uncommitted and is redelivered.
 *
 * The one exception is the server refusing the rows themselves (a parse or type error that validation did not
 * foresee): retrying cannot help, so that error is thrown to the caller, which isolates the bad records.
 */
import { AiopsError, InterruptedError } from '../../lib/errors.js'
import { backoffDelay, retry, retryPolicies, type RetryPolicy } from '../../lib/resilience/retry.js'
import type { Clock } from '../../lib/resilience/clock.js'
import type { HealthResult } from '../../lib/bus/types.js'
import type { Row, Store } from '../../lib/store/types.js'
import type { Logger } from '../../lib/telemetry/logger.js'
import type { ConsumerMetrics } from './metrics.js'

/** ClickHouse codes meaning "these rows cannot be read into this table": the data is at fault, not the server. */
const DATA_ERROR_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  16, // NO_SUCH_COLUMN_IN_TABLE
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
])

export function isDataError(err: unknown): boolean {
  const code = err instanceof AiopsError ? err.details.clickhouseCode : undefined
  return typeof code === 'number' && DATA_ERROR_CODES.has(code)
}

export interface WriterOptions {
  clock: Clock
  logger: Logger
  metrics: ConsumerMetrics
  /** Cap on the pause between rounds of the retry policy while the store stays down. */
  retryMaxDelayMs: number
  /** Aborted on shutdown: a held batch is then given up (left uncommitted). */
  signal: AbortSignal
  /** Per-round policy (default retryPolicies.databaseWrite). */
  policy?: RetryPolicy
}

export class StoreWriter {
  private failingSince: number | undefined
  private lastError: string | undefined

  constructor(
    private readonly store: Store,
    private readonly o: WriterOptions,
  ) {}

  /** Inserts rows with their dedup token until it succeeds; throws only a data error or on shutdown. */
  async insert(table: string, rows: Row[], token: string): Promise<void> {
    const t0 = this.o.clock.now()
    await this.durably(`insert into ${table}`, table, (signal) => this.store.insert(table, rows, { dedupToken: token, signal }), true)
    const short = table.slice(table.indexOf('.') + 1)
    this.o.metrics.insertSeconds.observe({ table: short }, (this.o.clock.now() - t0) / 1000)
    this.o.metrics.rowsInserted.inc({ table: short }, rows.length)
    this.o.metrics.batches.inc({ table: short })
  }

  /** Runs `fn` until it succeeds (see the module comment). `table` labels the retry metric. */
  async durably<T>(what: string, table: string | undefined, fn: (signal: AbortSignal) => Promise<T>, dataErrorsThrow = false): Promise<T> {
    const { clock, logger, signal } = this.o
    const label = { table: table ? table.slice(table.indexOf('.') + 1) : 'intents' }
    for (let round = 1; ; round++) {
      try {
        const result = await retry((_attempt, s) => fn(s), this.o.policy ?? retryPolicies.databaseWrite, {
          signal,
          clock,
          operation: what,
          // Everything but a refusal of the rows is worth another try: config and schema problems get fixed too.
          isRetriable: (err) => !isDataError(err),
          onRetry: () => this.o.metrics.insertRetries.inc(label),
        })
        this.recovered(what)
        return result
      } catch (err) {
        if (signal.aborted) throw new InterruptedError(`${what} given up at shutdown`)
        if (dataErrorsThrow && isDataError(err)) throw err
        this.o.metrics.insertRetries.inc(label)
        const delayMs = backoffDelay({ retries: Infinity, backoff: 'exponential', baseMs: 500, maxDelayMs: this.o.retryMaxDelayMs, deadlineMs: Infinity }, round)
        this.failingSince ??= clock.now()
        this.lastError = err instanceof Error ? err.message : String(err)
        // One line per round: rounds are seconds apart (exponential backoff), so an outage cannot flood the log.
        logger.warn('store write failing; holding the batch and retrying', { what, round, delayMs, err })
        try {
          await clock.sleep(delayMs, signal)
        } catch {
          throw new InterruptedError(`${what} given up at shutdown`)
        }
      }
    }
  }

  /** /readyz: failing once writes have failed continuously for `graceMs`. */
  health(graceMs: number): HealthResult {
    if (this.failingSince === undefined || this.o.clock.now() - this.failingSince < graceMs) return { ok: true }
    const s = Math.round((this.o.clock.now() - this.failingSince) / 1000)
    return { ok: false, error: `store writes failing for ${s}s (batches held, nothing skipped): ${this.lastError}` }
  }

  private recovered(what: string): void {
    if (this.failingSince === undefined) return
    this.o.logger.info('store writes recovered', { what, downForMs: this.o.clock.now() - this.failingSince })
    this.failingSince = undefined
    this.lastError = undefined
  }
}
