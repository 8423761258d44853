import { mkdtempSync, writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { ConfigError, ExitCode } from '../../src/lib/errors.js'
import { createLogger } from '../../src/lib/telemetry/index.js'
import { envName, leaves, redact, resolveConfig, starterConfig, configSchema } from '../../src/lib/config/index.js'

function dirWith(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiops-cfg-'))
  writeFileSync(path.join(dir, name), content)
  return dir
}

async function configErrorOf(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ConfigError)
  return err as ConfigError
}

describe('resolveConfig', () => {
  it('gives embedded defaults with no file, env or flags', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-cfg-'))
    const { config, sources, file } = await resolveConfig({ cwd: dir, env: {} })
    expect(file).toBeUndefined()
    expect(config.bus.backend).toBe('memory')
    expect(config.store.backend).toBe('chdb')
    expect(config.cache.backend).toBe('memory')
    expect(config.store.chdb.path).toBe(path.join(dir, '.aiops', 'chdb'))
    expect(sources['bus.backend']).toEqual({ kind: 'default' })
  })

  it('applies file < env < flags and records each source', async () => {
    const dir = dirWith('aiops.config.yaml', 'telemetry:\n  port: 9000\n  host: 0.0.0.0\nlog:\n  level: warn\n')
    const { config, sources, file } = await resolveConfig({
      cwd: dir,
      env: { AIOPS_TELEMETRY_PORT: '9100', AIOPS_BUS_KAFKA_BROKERS: 'a:1, b:2' },
      flags: { 'telemetry.port': { value: 9200, flag: '--telemetry-port' }, 'log.level': undefined },
    })
    expect(file).toBe(path.join(dir, 'aiops.config.yaml'))
    expect(config.telemetry.port).toBe(9200)
    expect(sources['telemetry.port']).toEqual({ kind: 'flag', detail: '--telemetry-port' })
    expect(config.telemetry.host).toBe('0.0.0.0')
    expect(sources['telemetry.host']).toEqual({ kind: 'file', detail: file })
    expect(config.bus.kafka.brokers).toEqual(['a:1', 'b:2'])
    expect(sources['bus.kafka.brokers']).toEqual({ kind: 'env', detail: 'AIOPS_BUS_KAFKA_BROKERS' })
    expect(config.log.level).toBe('warn')
  })

  it('finds json files and takes --config paths', async () => {
    const dir = dirWith('other.json', JSON.stringify({ cache: { backend: 'redis' } }))
    const { config } = await resolveConfig({ cwd: dir, env: {}, configPath: 'other.json' })
    expect(config.cache.backend).toBe('redis')
  })

  it('rejects an unknown backend naming the field and the accepted values, exit 2', async () => {
    const dir = dirWith('aiops.config.yaml', 'bus:\n  backend: rabbitmq\n')
    const err = await configErrorOf(resolveConfig({ cwd: dir, env: {} }))
    expect(err.exitCode).toBe(ExitCode.usage)
    expect(err.field).toBe('bus.backend')
    expect(err.message).toContain('"rabbitmq"')
    expect(err.message).toContain('one of memory, kafka')
  })

  it('rejects a wrong type in a file even when it would parse as text', async () => {
    const dir = dirWith('aiops.config.yaml', 'telemetry:\n  port: "9464"\n')
    const err = await configErrorOf(resolveConfig({ cwd: dir, env: {} }))
    expect(err.field).toBe('telemetry.port')
    expect(err.message).toContain('an integer from 0 to 65535')
  })

  it('suggests the closest field for a typo', async () => {
    const dir = dirWith('aiops.config.yaml', 'store:\n  bakend: clickhouse\n')
    const err = await configErrorOf(resolveConfig({ cwd: dir, env: {} }))
    expect(err.field).toBe('store.bakend')
    expect(err.message).toContain('did you mean store.backend?')
  })

  it('rejects bad environment values naming the variable', async () => {
    const err = await configErrorOf(resolveConfig({ cwd: tmpdir(), env: { AIOPS_BUS_KAFKA_IDEMPOTENT: 'maybe' } }))
    expect(err.field).toBe('bus.kafka.idempotent')
    expect(err.suggestions.join(' ')).toContain('AIOPS_BUS_KAFKA_IDEMPOTENT')
  })

  it('warns about AIOPS_ variables that match no field', async () => {
    const { warnings } = await resolveConfig({ cwd: tmpdir(), env: { AIOPS_BUS_BACKNED: 'kafka' } })
    expect(warnings[0]).toContain('did you mean AIOPS_BUS_BACKEND?')
  })

  it('never echoes a secret in an error', async () => {
    const dir = dirWith('aiops.config.yaml', 'store:\n  clickhouse:\n    password: 12345\n')
    const err = await configErrorOf(resolveConfig({ cwd: dir, env: {} }))
    expect(err.message).not.toContain('12345')
    expect(JSON.stringify(err.toJSON())).not.toContain('12345')
  })

  it('reports a missing --config file and bad syntax as config errors', async () => {
    await configErrorOf(resolveConfig({ cwd: tmpdir(), env: {}, configPath: 'nope.yaml' }))
    const dir = dirWith('aiops.config.yaml', 'bus: [unclosed\n')
    await configErrorOf(resolveConfig({ cwd: dir, env: {} }))
  })
})

describe('redaction', () => {
  it('masks secret fields and URL passwords', () => {
    const out = redact({
      store: { clickhouse: { password: 'hunter2', url: 'http://bob:s3cret@ch:8123' } },
      cache: { redis: { url: 'redis://:pw@r:6379', password: '' } },
      note: { apiKey: 'k-123' },
    })
    const text = JSON.stringify(out)
    for (const s of ['hunter2', 's3cret', ':pw@', 'k-123']) expect(text).not.toContain(s)
    expect(out.store.clickhouse.url).toBe('http://bob:***@ch:8123')
  })
})

describe('redaction in logs and error envelopes', () => {
  it('a log line never carries a password, API key or URL credential', () => {
    const lines: string[] = []
    const stream = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) })
    const log = createLogger({ level: 'info', stream })
    const cyclic: Record<string, unknown> = { password: 'hunter2' }
    cyclic.self = cyclic
    log.info('connecting', { url: 'redis://:s3cret@r:6379', apiKey: 'k-1', nested: cyclic, err: new Error('auth failed for http://u:pw1@ch') })
    const text = lines.join('')
    for (const s of ['s3cret', 'k-1', 'hunter2', 'pw1']) expect(text).not.toContain(s)
    expect(text).toContain('[Circular]')
  })
})

describe('starter file and env names', () => {
  it('maps camelCase paths to AIOPS_ variables', () => {
    expect(envName('bus.kafka.requestTimeoutMs')).toBe('AIOPS_BUS_KAFKA_REQUEST_TIMEOUT_MS')
  })
  it('every env name is unique', () => {
    const names = leaves(configSchema).map((l) => l.env)
    expect(new Set(names).size).toBe(names.length)
  })
  it('parses as YAML and resolves to the defaults; uncommenting a line changes that field', async () => {
    const text = starterConfig()
    expect(() => parse(text)).not.toThrow()
    const dir = dirWith('aiops.config.yaml', text.replace('# backend: memory', 'backend: kafka'))
    const { config } = await resolveConfig({ cwd: dir, env: {} })
    expect(config.bus.backend).toBe('kafka')
    expect(config.cache.backend).toBe('memory')
  })
})
