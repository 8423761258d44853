import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { DependencyError } from '../../src/lib/errors.js'
import { type LoggerOptions, createLogger } from '../../src/lib/telemetry/logger.js'
import { createMetricsRegistry } from '../../src/lib/telemetry/metrics.js'

function capture(opts: Omit<LoggerOptions, 'stream'> = {}) {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString())
      cb()
    },
  })
  const logger = createLogger({ now: () => Date.parse('2025-01-01T00:00:00Z'), ...opts, stream })
  const lines = () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  return { logger, lines, raw: () => chunks.join('') }
}

describe('logger', () => {
  it('writes one JSON object per line with ts, level, name, msg and fields', () => {
    const { logger, lines, raw } = capture({ name: 'gateway' })
    logger.info('listening', { port: 4318 })
    logger.warn('slow', { ms: 12 })
    expect(raw().split('\n')).toHaveLength(3)
    expect(lines()).toEqual([
      { ts: '2025-01-01T00:00:00.000Z', level: 'info', name: 'gateway', msg: 'listening', port: 4318 },
      { ts: '2025-01-01T00:00:00.000Z', level: 'warn', name: 'gateway', msg: 'slow', ms: 12 },
    ])
  })

  it('filters by level; silent writes nothing', () => {
    const warn = capture({ level: 'warn' })
    warn.logger.debug('d')
    warn.logger.info('i')
    warn.logger.warn('w')
    warn.logger.error('e')
    expect(warn.lines().map((l) => l.level)).toEqual(['warn', 'error'])
    expect(warn.logger.isLevelEnabled('info')).toBe(false)
    const silent = capture({ level: 'silent' })
    silent.logger.error('e')
    expect(silent.raw()).toBe('')
  })

  it('child loggers add their fields; call fields win; core keys are protected', () => {
    const { logger, lines } = capture()
    const child = logger.child({ agent: 'consumer', tenant: 't1' }).child({ partition: 3 })
    child.info('batch', { tenant: 't2', msg: 'sneaky' })
    expect(lines()[0]).toMatchObject({ msg: 'batch', agent: 'consumer', tenant: 't2', partition: 3, field_msg: 'sneaky' })
  })

  it('serializes errors with code and cause; stack only at debug', () => {
    const err = new DependencyError('clickhouse', 'insert failed', { cause: new Error('ECONNREFUSED') })
    const info = capture()
    info.logger.error('write failed', { err })
    const e = info.lines()[0]?.err as Record<string, unknown>
    expect(e).toMatchObject({ name: 'DependencyError', message: 'insert failed', code: 'AIOPS_DEPENDENCY_FAILED', retriable: true })
    expect(e.cause).toMatchObject({ message: 'ECONNREFUSED' })
    expect(e.stack).toBeUndefined()
    const debug = capture({ level: 'debug' })
    debug.logger.error('write failed', { err })
    expect((debug.lines()[0]?.err as Record<string, unknown>).stack).toContain('DependencyError')
  })

  it('survives bigint and cycles', () => {
    const { logger, lines } = capture()
    const cyc: Record<string, unknown> = { a: 1 }
    cyc.self = cyc
    logger.info('x', { offset: 2n ** 70n, cyc })
    expect(lines()[0]).toMatchObject({ offset: '1180591620717411303424', cyc: { a: 1, self: '[Circular]' } })
  })

  it('logOnce logs the first occurrence and counts the rest, shared with children', () => {
    const { logger, lines } = capture()
    expect(logger.logOnce('drop.queue_full', 'warn', 'queue full: dropping')).toBe(1)
    expect(logger.child({ a: 1 }).logOnce('drop.queue_full', 'warn', 'queue full: dropping')).toBe(2)
    expect(logger.logOnce('drop.queue_full', 'warn', 'queue full: dropping')).toBe(3)
    expect(lines()).toHaveLength(1)
    expect(lines()[0]).toMatchObject({ level: 'warn', once: 'drop.queue_full' })
    expect(logger.onceCounts()).toEqual({ 'drop.queue_full': 3 })
  })

  it('applies redact before writing', () => {
    const { logger, lines } = capture({ redact: (o) => ({ ...o, password: o.password === undefined ? undefined : '***' }) })
    logger.info('connect', { password: 'hunter2', user: 'u' })
    expect(lines()[0]).toMatchObject({ password: '***', user: 'u' })
  })
})

describe('createMetricsRegistry', () => {
  it('creates a separate registry, with aiops_-prefixed process metrics by default', async () => {
    const bare = createMetricsRegistry({ defaultMetrics: false })
    expect((await bare.metrics()).trim()).toBe('')
    const full = createMetricsRegistry({ labels: { agent: 'gateway' } })
    const text = await full.metrics()
    expect(text).toContain('aiops_process_cpu_user_seconds_total')
    expect(text).toContain('agent="gateway"')
  })
})
