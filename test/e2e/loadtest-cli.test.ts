/**
 * The built CLI as a CI pipeline runs it: `aiops loadtest` against a tiny local HTTP server, asserting on exit codes
 * (0 met, 99 breached, 2 usage, 1 target down), the --json result and the one-line summary naming the threshold.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { freePort } from '../support/ports.js'

let server: http.Server
let url: string
let hits = 0

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++
    res.setHeader('content-type', 'text/plain')
    res.end(req.method === 'POST' ? 'created' : 'hello')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

interface Result {
  ok: boolean
  verdict: string
  summary: string
  target: { kind: string }
  totals: { scheduled: number; completed: number; errors: number; statuses: Record<string, number> }
  thresholds: Array<{ expr: string; ok: boolean; actual: number | null }>
  timeline: unknown[]
  reportPath?: string
}

describe('aiops loadtest (built CLI)', () => {
  it('thresholds met → exit 0 with the result as JSON and a summary line on stderr', async () => {
    const before = hits
    const r = await runCli(['loadtest', '--target', url, '--rate', '50', '--duration', '2s', '--threshold', 'error_rate<1%', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as Result
    expect(out).toMatchObject({ ok: true, verdict: 'passed', target: { kind: 'http' } })
    expect(out.totals).toMatchObject({ scheduled: 100, completed: 100, errors: 0, statuses: { '200': 100 } })
    expect(hits - before).toBe(100)
    expect(out.timeline.length).toBeGreaterThanOrEqual(2)
    expect(r.stderr).toContain('PASSED baseline')
  })

  it('an impossible threshold → exit 99 and a summary line naming it (human output, progress lines for CI)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiops-lt-'))
    const r = await runCli(['loadtest', '--target', url, '--method', 'POST', '--body', '{}', '--rate', '40', '--duration', '2s', '--threshold', 'p50<1us', '--threshold', 'error_rate<1%', '--report', 'out/report.html'], { cwd: dir })
    expect(r.code).toBe(99)
    const last = r.stdout.trim().split('\n').at(-1)!
    expect(last).toMatch(/^FAILED baseline/)
    expect(last).toContain('thresholds breached: p50<1us (actual')
    expect(r.stdout).toMatch(/✗ p50<1us/)
    expect(r.stdout).toMatch(/✓ error_rate<1%/)
    // Not a TTY: periodic plain progress lines on stderr.
    expect(r.stderr).toMatch(/\[\s*\d+s\/2s\] baseline: target 40\/s/)
    const html = readFileSync(path.join(dir, 'out/report.html'), 'utf8')
    expect(html).toContain('data-chart="latency-over-time"')
    expect(html).toContain('data-chart="latency-histogram"')
    // Self-contained: nothing to load (the only URLs are the SVG namespace and the target's address in the text).
    expect(html).not.toMatch(/<script|<link|(src|href)=["']?https?:/)
  })

  it('--json with a breach still prints the full result, and exits 99', async () => {
    const r = await runCli(['loadtest', '--target', url, '--rate', '20', '--duration', '1s', '--threshold', 'max<1us', '--json'])
    expect(r.code).toBe(99)
    const out = JSON.parse(r.stdout) as Result
    expect(out.verdict).toBe('thresholds-breached')
    expect(out.thresholds).toEqual([expect.objectContaining({ expr: 'max<1us', ok: false })])
    expect(r.stderr).toContain('max<1us')
  })

  it('--abort-on-fail stops at the first breach instead of running the whole duration', async () => {
    const started = Date.now()
    const r = await runCli(['loadtest', '--target', url, '--rate', '20', '--duration', '60s', '--threshold', 'p50<1us', '--abort-on-fail', '--json'], {
      env: { AIOPS_LOADTEST_ABORT_DELAY: '1s' },
    })
    expect(r.code).toBe(99)
    expect(Date.now() - started).toBeLessThan(30_000)
    const out = JSON.parse(r.stdout) as { verdict: string; aborted: { reason: string; atS: number }; durationS: number }
    expect(out.verdict).toBe('thresholds-breached')
    expect(out.aborted.reason).toContain('--abort-on-fail: p50<1us breached')
    expect(out.durationS).toBeLessThan(10)
  })

  it('a malformed threshold is a usage error (exit 2) naming the flag', async () => {
    const r = await runCli(['loadtest', '--target', url, '--threshold', 'p99 fast', '--json'])
    expect(r.code).toBe(2)
    const out = JSON.parse(r.stdout) as { error: { code: string; message: string; details: { field: string }; suggestions: string[] } }
    expect(out.error.code).toBe('AIOPS_CONFIG_INVALID')
    expect(out.error.details.field).toBe('--threshold')
    expect(out.error.suggestions.join(' ')).toContain('p99<200ms')
  })

  it('a target nothing listens on fails fast with exit 1 and what to start', async () => {
    const port = await freePort()
    const r = await runCli(['loadtest', '--target', `http://127.0.0.1:${port}/`, '--duration', '1s', '--json'])
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout) as { error: { code: string; suggestions: string[] } }
    expect(out.error.code).toBe('AIOPS_LOADTEST_TARGET_DOWN')
    expect(out.error.suggestions.join(' ')).toContain('aiops up')
  })
})
