import { Counter, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/lib/resilience/clock.js'
import { type CheckResult, type TelemetryServer, startTelemetryServer } from '../../src/lib/telemetry/health-server.js'

const servers: TelemetryServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function start(opts: Partial<Parameters<typeof startTelemetryServer>[0]> = {}) {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'))
  const registry = opts.registry ?? new Registry()
  const server = await startTelemetryServer({ port: 0, registry, clock, probeIntervalMs: 5000, ...opts })
  servers.push(server)
  return { server, clock, registry }
}

async function get(server: TelemetryServer, path: string, init?: RequestInit) {
  const res = await fetch(`${server.url}${path}`, init)
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

describe('telemetry server', () => {
  it('/healthz answers 200 {"ok":true} while the process is alive', async () => {
    const { server } = await start()
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    const res = await get(server, '/healthz')
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toEqual({ ok: true })
  })

  it('/readyz flips from ok to down within one probe interval, from the background probe', async () => {
    let clickhouse: CheckResult = { ok: true, detail: 'v24.8' }
    const { server, clock } = await start({
      checks: { kafka: async () => ({ ok: true }), clickhouse: async () => clickhouse },
      degraded: () => ({ detector: 'statistical' }),
    })
    await server.probeNow()
    let res = await get(server, '/readyz')
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({
      ok: true,
      checks: { kafka: 'ok', clickhouse: 'ok' },
      details: { clickhouse: 'v24.8' },
      degraded: { detector: 'statistical' },
    })

    clickhouse = { ok: false, error: 'ECONNREFUSED' }
    // /readyz serves the last report: nothing is probed on request.
    expect((await get(server, '/readyz')).status).toBe(200)
    await clock.advance(5000)
    res = await get(server, '/readyz')
    expect(res.status).toBe(503)
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, checks: { kafka: 'ok', clickhouse: 'down: ECONNREFUSED' } })

    clickhouse = { ok: true }
    await clock.advance(5000)
    expect((await get(server, '/readyz')).status).toBe(200)
  })

  it('a throwing check is down; a hanging one times out before the next round, without piling up', async () => {
    let calls = 0
    const { server, clock } = await start({
      checks: {
        redis: async () => {
          throw Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' })
        },
        model: () => {
          calls++
          return new Promise<CheckResult>(() => {})
        },
      },
    })
    const first = server.probeNow()
    expect(server.probeNow()).toBe(first) // joins the round in progress
    await clock.advance(4000) // default check timeout: 80 % of 5 s
    const report = await first
    expect(report.checks).toEqual({ redis: 'down: ECONNREFUSED connect failed', model: 'down: timed out after 4000ms' })
    expect(calls).toBe(1)
    await clock.advance(1000)
    expect(calls).toBe(2)
  })

  it('is not ready before the first probe round finished', async () => {
    const { server } = await start({ checks: { kafka: () => new Promise<CheckResult>(() => {}) } })
    const res = await get(server, '/readyz')
    expect(res.status).toBe(503)
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, checks: { kafka: 'pending' }, checkedAt: null })
  })

  it('/metrics serves the registry in Prometheus text format', async () => {
    const registry = new Registry()
    new Counter({ name: 'aiops_test_events_total', help: 'test', registers: [registry] }).inc(3)
    const { server } = await start({ registry })
    const res = await get(server, '/metrics')
    expect(res.status).toBe(200)
    expect(res.type).toBe(registry.contentType)
    expect(res.type).toContain('text/plain')
    expect(res.body).toContain('# TYPE aiops_test_events_total counter')
    expect(res.body).toContain('aiops_test_events_total 3')
  })

  it('answers 404 for anything else and 405 for other methods', async () => {
    const { server } = await start()
    expect((await get(server, '/')).status).toBe(404)
    expect((await get(server, '/metricsz')).status).toBe(404)
    expect((await get(server, '/healthz', { method: 'POST' })).status).toBe(405)
    expect((await get(server, '/healthz?verbose=1')).status).toBe(200)
  })

  it('reports a busy port as a usage error; close is safe twice', async () => {
    const { server } = await start()
    await expect(startTelemetryServer({ port: server.port, registry: new Registry() })).rejects.toMatchObject({
      code: 'AIOPS_TELEMETRY_LISTEN',
      exitCode: 2,
    })
    await server.close()
    await server.close()
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()
  })
})
