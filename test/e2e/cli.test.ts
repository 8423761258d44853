/**
 * The built CLI as users and CI run it: `node bin/run.js … --json`, asserting on exit codes and JSON.
 * Needs `npm run build` first (scripts/test.sh does it).
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, startCli } from '../support/cli.js'

const ROOT = path.resolve(import.meta.dirname, '../..')

describe('aiops CLI', () => {
  it('--help lists the topics and --version prints the version', async () => {
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    for (const topic of ['agent', 'config', 'schema', 'up']) expect(help.stdout).toContain(topic)
    const version = await runCli(['--version'])
    expect(version.stdout).toMatch(/^aiops\/\d+\.\d+\.\d+/)
  })

  it('every command has a summary and at least one example', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { summary?: string; examples?: unknown[]; flags: Record<string, unknown> }>
    }
    const ids = Object.keys(manifest.commands)
    expect(ids.length).toBeGreaterThanOrEqual(5)
    for (const id of ids) {
      const c = manifest.commands[id]!
      expect(c.summary, id).toBeTruthy()
      expect(c.examples?.length, id).toBeGreaterThan(0)
      expect(Object.keys(c.flags), id).toContain('json')
    }
  })

  it('config show --json reports values and their sources', async () => {
    const r = await runCli(['config', 'show', '--json'], { env: { AIOPS_BUS_BACKEND: 'kafka' } })
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { fields: Array<{ path: string; value: unknown; source: string; from?: string }> }
    expect(out.fields.find((f) => f.path === 'bus.backend')).toMatchObject({ value: 'kafka', source: 'env', from: 'AIOPS_BUS_BACKEND' })
  })

  it('config show redacts secrets from every source', async () => {
    const r = await runCli(['config', 'show', '--json'], {
      env: { AIOPS_STORE_CLICKHOUSE_PASSWORD: 'hunter2', AIOPS_CACHE_REDIS_URL: 'redis://:topsecret@r:6379' },
    })
    expect(r.stdout).not.toContain('hunter2')
    expect(r.stdout).not.toContain('topsecret')
    expect(r.stdout).toContain('***')
  })

  it('a config file with an unknown backend exits 2 with a JSON error naming the field and accepted values', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-e2e-'))
    writeFileSync(path.join(dir, 'aiops.config.yaml'), 'store:\n  backend: postgres\n')
    const r = await runCli(['config', 'show', '--json'], { cwd: dir })
    expect(r.code).toBe(2)
    const env = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string; details: { field: string } } }
    expect(env.ok).toBe(false)
    expect(env.error.code).toBe('AIOPS_CONFIG_INVALID')
    expect(env.error.details.field).toBe('store.backend')
    expect(env.error.message).toContain('one of chdb, clickhouse')
  })

  it('a wrong type exits 2 in human mode too, with the message on stderr', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-e2e-'))
    writeFileSync(path.join(dir, 'aiops.config.json'), JSON.stringify({ telemetry: { port: 'ninety' } }))
    const r = await runCli(['config', 'show'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('telemetry.port')
    expect(r.stderr).toContain('an integer from 0 to 65535')
  })

  it('an unknown flag is a usage error (exit 2)', async () => {
    const r = await runCli(['config', 'show', '--no-such-flag', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'AIOPS_USAGE' } })
  })

  it('config init writes a starter that resolves, and refuses to overwrite without --force', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-e2e-'))
    const first = await runCli(['config', 'init', '--json'], { cwd: dir })
    expect(first.code).toBe(0)
    expect(existsSync(path.join(dir, 'aiops.config.yaml'))).toBe(true)
    const again = await runCli(['config', 'init', '--json'], { cwd: dir })
    expect(again.code).toBe(2)
    const show = await runCli(['config', 'show', '--json'], { cwd: dir })
    expect(JSON.parse(show.stdout)).toMatchObject({ file: path.join(dir, 'aiops.config.yaml') })
  })

  it('agent check passes on embedded defaults', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-e2e-'))
    const r = await runCli(['agent', 'check', '--json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ role: string; ok: boolean }> }
    expect(out.ok).toBe(true)
    expect(out.checks.map((c) => c.role).sort()).toEqual(['bus', 'cache', 'store'])
  })

  it('agent check exits 1 naming the field when a backend is down', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-e2e-'))
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const r = await runCli(['agent', 'check', '--json'], { cwd: dir, env: { AIOPS_CACHE_BACKEND: 'redis', AIOPS_CACHE_REDIS_URL: 'redis://127.0.0.1:1' } })
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout) as { error: { code: string; suggestions: string[] } }
    expect(out.error.code).toBe('AIOPS_BACKEND_DOWN')
    expect(out.error.suggestions.join(' ')).toContain('cache.redis.url')
  })
})

describe('aiops up', () => {
  it('serves health, readiness and metrics on embedded defaults, and exits 0 on SIGINT', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-up-'))
    const up = await startCli(['up', '--telemetry-port', '0', '--data-dir', dir, '--json'], { cwd: dir })
    try {
      const url = await up.waitForLog('serving', (l) => l.telemetry as string)
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ ok: true })
      const ready = await fetch(`${url}/readyz`)
      expect(ready.status).toBe(200)
      const body = (await ready.json()) as { ok: boolean; checks: Record<string, string> }
      expect(body.checks).toMatchObject({ bus: 'ok', chdb: 'ok', cache: 'ok' })
      const metrics = await fetch(`${url}/metrics`)
      expect(metrics.headers.get('content-type')).toContain('text/plain')
      expect(await metrics.text()).toContain('aiops_process_cpu')
    } finally {
      up.child.kill('SIGINT')
    }
    const { code, stdout } = await up.exited
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ backends: { bus: 'memory', store: 'chdb', cache: 'memory' }, exitCode: 0 })
    // The embedded store kept its files under --data-dir.
    expect(existsSync(path.join(dir, 'chdb'))).toBe(true)
  })
})
