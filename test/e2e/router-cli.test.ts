/**
 * `aiops agent router` as operators run it (the built CLI, embedded store): it serves the ClickHouse protocol and
 * the JSON API with API keys, answers /readyz with its replicas, and on SIGTERM drains and exits 0 with a JSON result.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, startCli } from '../support/cli.js'

describe('aiops agent router (built CLI)', () => {
  it('serves queries with API keys and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-router-e2e-'))
    const cli = startCli(['agent', 'router', '--port', '0', '--telemetry-port', '0', '--json'], {
      cwd: dir,
      env: { AIOPS_ROUTER_AUTH_KEYS: 'k-acme=acme', AIOPS_LOG_LEVEL: 'info' },
    })
    try {
      const url = await cli.waitForLog('router listening', (l) => l.url as string)
      const telemetry = await cli.waitForLog('serving', (l) => l.telemetry as string)

      expect(await (await fetch(`${url}/ping`)).text()).toBe('Ok.\n')
      const denied = await fetch(`${url}/?query=SELECT+1`)
      expect(denied.status).toBe(401)
      const ok = await fetch(`${url}/?query=${encodeURIComponent('SELECT count() FROM spans')}`, { headers: { 'x-api-key': 'k-acme' } })
      expect([ok.status, await ok.text()]).toEqual([200, '0\n'])
      const api = await fetch(`${url}/api/v1/services/latency`, { headers: { authorization: 'Bearer k-acme' } })
      expect(((await api.json()) as { ok: boolean; tenant: string })).toMatchObject({ ok: true, tenant: 'acme' })
      const ready = (await (await fetch(`${telemetry}/readyz`)).json()) as { ok: boolean; details: Record<string, string> }
      expect(ready.ok).toBe(true)
      expect(ready.details.router).toContain('embedded')
    } finally {
      cli.child.kill('SIGTERM')
    }
    const done = await cli.exited
    expect(done.code).toBe(0)
    const result = JSON.parse(done.stdout) as { agents: string[]; routerUrl: string; exitCode: number }
    expect(result.agents).toEqual(['router'])
    expect(result.routerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(result.exitCode).toBe(0)
  })

  it('a bad router setting exits 2 with a JSON error naming the field', async () => {
    const r = await runCli(['agent', 'router', '--json'], { env: { AIOPS_ROUTER_REPLICAS: 'lukewarm=http://x:8123' }, cwd: mkdtempSync(path.join(tmpdir(), 'aiops-router-e2e-')) })
    expect(r.code).toBe(2)
    const env = JSON.parse(r.stdout) as { error: { code: string; message: string; details: { field: string } } }
    expect(env.error.details.field).toBe('router.replicas')
    expect(env.error.message).toMatch(/tier=url with tier hot, warm or cold/)
  })

  it('--help documents the command with examples', async () => {
    const r = await runCli(['agent', 'router', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('ClickHouse HTTP protocol')
    expect(r.stdout).toContain('EXAMPLES')
  })
})
