import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/lib/config/index.js'
import { ConfigError, UsageError } from '../../src/lib/errors.js'
import { buildSpec, detectKind, parseHeaders } from '../../src/lib/loadgen/options.js'

async function spec(flags: Record<string, unknown>) {
  const f = Object.fromEntries(Object.entries(flags).map(([k, v]) => [`loadtest.${k}`, { value: v, flag: `--${k}` }]))
  const { config } = await resolveConfig({ env: {}, cwd: '/nonexistent-dir-for-tests', flags: f })
  return buildSpec(config.loadtest, { field: '--threshold', label: 'flag' })
}

describe('loadtest options', () => {
  it('detects the target kind from the URL', () => {
    expect(detectKind(new URL('http://h:4318'), 'auto')).toBe('gateway')
    expect(detectKind(new URL('http://gw.example/otlp/v1/metrics'), 'auto')).toBe('gateway')
    expect(detectKind(new URL('http://h:8124/'), 'auto')).toBe('router')
    expect(detectKind(new URL('http://h:8080/health'), 'auto')).toBe('http')
    expect(detectKind(new URL('http://h:8080/'), 'router')).toBe('router')
  })

  it('defaults: the gateway on 4318 with the SLO thresholds and one worker at a CI rate', async () => {
    const s = await spec({})
    expect(s.kind).toBe('gateway')
    expect(s.address).toMatchObject({ host: '127.0.0.1', port: 4318, basePath: '' })
    expect(s.thresholds.map((t) => t.expr)).toContain('p99<100ms')
    expect(s.workers).toBe(1)
    expect(s.plan.durationS).toBe(30)
  })

  it('a /v1/{signal} gateway URL sends only that signal, under the URL\'s base path', async () => {
    const s = await spec({ target: 'http://gw:4318/otlp/v1/logs' })
    expect(s.target).toMatchObject({ kind: 'gateway', signals: [{ signal: 'logs', weight: 1 }] })
    expect(s.address.basePath).toBe('/otlp')
  })

  it('a plain target keeps its path and query; headers are parsed', async () => {
    const s = await spec({ target: 'http://svc:8080/health?deep=1', 'http.method': 'post', 'http.headers': ['X-A: 1', 'authorization: Bearer t'] })
    expect(s.target).toMatchObject({ kind: 'http', path: '/health?deep=1', headers: { 'x-a': '1', authorization: 'Bearer t' } })
    expect(s.address.basePath).toBe('')
  })

  it('workers: auto is one per 20k req/s of the peak rate, within the cores', async () => {
    expect((await spec({ rate: 100 })).workers).toBe(1)
    expect((await spec({ workers: 3 })).workers).toBe(3)
  })

  it('bad input names the field', async () => {
    await expect(spec({ target: 'ftp://x' })).rejects.toMatchObject({ field: 'loadtest.target' })
    expect(() => parseHeaders(['no colon'], 'loadtest.http.headers')).toThrow(ConfigError)
    await expect(spec({ thresholds: ['p99<<1'] })).rejects.toMatchObject({ field: '--threshold' })
    await expect(spec({ duration: 'soon' })).rejects.toMatchObject({ field: 'loadtest.duration' })
    await expect(spec({ 'gateway.signals': ['traces', 'spans'] })).rejects.toMatchObject({ field: 'loadtest.gateway.signals' })
  })

  it('a threshold on a run metric needs the profile that measures it', async () => {
    await expect(spec({ thresholds: ['knee>=100'] })).rejects.toBeInstanceOf(UsageError)
    const s = await spec({ profile: 'stress', thresholds: ['knee>=100', 'p99<1s'] })
    expect(s.thresholds.map((t) => t.metric)).toEqual(['knee', 'p99'])
  })
})
