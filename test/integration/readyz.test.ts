/**
 * An agent host on a real ClickHouse server: when the server stops, /readyz reports it down within one probe
 * interval (plus the probe's own timeout), and ready again once it is back.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHost, type RunningHost } from '../../src/agents/host.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { silentLogger } from '../../src/lib/telemetry/index.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'

const PROBE_MS = 1000

interface Ready {
  status: number
  body: { ok: boolean; checks: Record<string, string>; checkedAt: string | null }
}

async function readyz(url: string): Promise<Ready> {
  const res = await fetch(`${url}/readyz`)
  return { status: res.status, body: (await res.json()) as Ready['body'] }
}

/** Polls /readyz until pred holds; returns the elapsed ms (the assertion is on what the endpoint says, not on speed). */
async function until(url: string, pred: (r: Ready) => boolean, limitMs: number): Promise<{ elapsedMs: number; last: Ready }> {
  const t0 = Date.now()
  let last = await readyz(url)
  while (!pred(last)) {
    if (Date.now() - t0 > limitMs) return { elapsedMs: Date.now() - t0, last }
    await new Promise((r) => setTimeout(r, 50))
    last = await readyz(url)
  }
  return { elapsedMs: Date.now() - t0, last }
}

describe('/readyz on a real ClickHouse server', () => {
  let ch: ClickHouseServer
  let host: RunningHost

  beforeAll(async () => {
    ch = await startClickHouse()
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-readyz-'))
    const resolved = await resolveConfig({
      cwd: dir,
      env: {
        AIOPS_STORE_BACKEND: 'clickhouse',
        AIOPS_STORE_CLICKHOUSE_URL: ch.url,
        AIOPS_STORE_CLICKHOUSE_DATABASE: randomName('readyz'),
        AIOPS_STORE_CLICKHOUSE_REQUEST_TIMEOUT_MS: '500',
        AIOPS_TELEMETRY_PORT: '0',
        AIOPS_TELEMETRY_PROBE_INTERVAL_MS: String(PROBE_MS),
      },
    })
    host = await startHost({ resolved, agents: [], logger: silentLogger })
  })

  afterAll(async () => {
    await host?.stop()
    await ch?.stop()
  })

  it('is ready with every dependency ok', async () => {
    const { last } = await until(host.telemetryUrl, (r) => r.status === 200, 10_000)
    expect(last.body.checks).toMatchObject({ clickhouse: 'ok', bus: 'ok', cache: 'ok' })
  })

  it('reports clickhouse down within one probe interval of the server stopping, and ok after restart', async () => {
    await ch.kill()
    // One interval for the next probe round to start, plus that probe's timeout (< interval), plus slack for a
    // loaded CI machine. The bound checks "within one probe", not speed.
    const down = await until(host.telemetryUrl, (r) => r.status === 503, 2 * PROBE_MS + 2000)
    expect(down.last.status).toBe(503)
    expect(down.last.body.ok).toBe(false)
    expect(down.last.body.checks.clickhouse).toMatch(/^down: /)
    expect(down.last.body.checks.bus).toBe('ok')

    await ch.restart()
    const up = await until(host.telemetryUrl, (r) => r.status === 200, 30_000)
    expect(up.last.body.checks.clickhouse).toBe('ok')
  })
})
