/**
 * Process lifecycle for long-running agents: SIGTERM/SIGINT → stop intake → flush → commit → close, exit 0
 * within a deadline; a stop that overruns the deadline, or a second signal (an impatient operator), forces
 * exit 130. The exit function and the signal source are injected so tests never kill anything.
 */
import { ExitCode } from '../errors.js'
import { type Clock, systemClock } from '../resilience/clock.js'
import { type Logger, silentLogger } from './logger.js'

/** The part of `process` we listen on; an EventEmitter works in tests. */
export interface SignalSource {
  on(event: string, listener: (signal: string) => void): unknown
  removeListener(event: string, listener: (signal: string) => void): unknown
}

export interface RunUntilSignalOptions {
  logger?: Logger
  /** Time allowed for stop() after the first signal. Default 30 s (Kubernetes' default grace period). */
  deadlineMs?: number
  /** The caller's ordered stop: stop intake, flush, commit, close (a Shutdown's run() fits). */
  stop: () => Promise<void>
  signals?: string[]
  exit?: (code: number) => void
  emitter?: SignalSource
  clock?: Clock
}

/**
 * Waits for the first signal, runs stop(), then calls exit: 0 when stop() finished within the deadline,
 * 1 when it failed, 130 when the deadline passed or a second signal came first. Resolves with that code
 * (after exit was called) — in production exit ends the process before anyone looks.
 */
export function runUntilSignal(opts: RunUntilSignalOptions): Promise<number> {
  const logger = opts.logger ?? silentLogger
  const deadlineMs = opts.deadlineMs ?? 30_000
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT']
  const exit = opts.exit ?? ((code: number) => process.exit(code))
  const emitter: SignalSource = opts.emitter ?? process
  const clock = opts.clock ?? systemClock

  return new Promise<number>((resolve) => {
    let stopping = false
    let finished = false
    const deadline = new AbortController()

    const finish = (code: number): void => {
      if (finished) return
      finished = true
      deadline.abort()
      for (const s of signals) emitter.removeListener(s, onSignal)
      exit(code)
      resolve(code)
    }

    function onSignal(signal: string): void {
      if (finished) return
      if (stopping) {
        logger.warn('second signal: forcing exit', { signal, exitCode: ExitCode.interrupted })
        finish(ExitCode.interrupted)
        return
      }
      stopping = true
      logger.info('signal received: stopping', { signal, deadlineMs })
      clock.sleep(deadlineMs, deadline.signal).then(
        () => {
          logger.error('shutdown deadline passed: forcing exit', { deadlineMs, exitCode: ExitCode.interrupted })
          finish(ExitCode.interrupted)
        },
        () => {}, // aborted because stop() finished first
      )
      Promise.resolve()
        .then(() => opts.stop())
        .then(
          () => {
            if (!finished) logger.info('stopped cleanly')
            finish(ExitCode.ok)
          },
          (err: unknown) => {
            if (!finished) logger.error('stop failed', { err })
            finish(ExitCode.failure)
          },
        )
    }

    for (const s of signals) emitter.on(s, onSignal)
  })
}

type Closer = () => Promise<void> | void

/**
 * Ordered teardown: register resources as they are opened (bus, store, server…); run() closes them in reverse
 * order, each at most once, even when one fails. run() is safe to call twice: the second call gets the
 * first call's promise. Failures are logged and then reported together as an AggregateError.
 */
export class Shutdown {
  private readonly closers: Array<{ name: string; close: Closer }> = []
  private running: Promise<void> | undefined

  constructor(private readonly logger: Logger = silentLogger) {}

  /** True once run() has been called. */
  get started(): boolean {
    return this.running !== undefined
  }

  /** Registers a closer. Added after run() started, it is closed right away (a late resource must not leak). */
  add(name: string, close: Closer): void {
    if (this.running) {
      void this.closeOne({ name, close })
      return
    }
    this.closers.push({ name, close })
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      const errors: unknown[] = []
      for (const c of this.closers.splice(0).reverse()) {
        const err = await this.closeOne(c)
        if (err !== undefined) errors.push(err)
      }
      if (errors.length > 0) throw new AggregateError(errors, `${errors.length} resource(s) failed to close`)
    })()
    return this.running
  }

  private async closeOne(c: { name: string; close: Closer }): Promise<unknown> {
    try {
      await c.close()
      this.logger.debug('closed', { resource: c.name })
      return undefined
    } catch (err) {
      this.logger.error('close failed', { resource: c.name, err })
      return err ?? new Error(`${c.name} failed to close`)
    }
  }
}
