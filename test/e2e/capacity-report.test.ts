/**
 * `aiops capacity` from the built CLI on a real `aiops loadtest --json` result, and its HTML report rendered in
 * headless Chromium (Debian `chromium`, driven by playwright-core): one runway chart per component, drawn, with no
 * network access needed. The screenshot is kept next to the report for a human to look at.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { runCli } from '../support/cli.js'

const CHROMIUM = '/usr/bin/chromium'
let server: http.Server
let browser: Browser | undefined
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-capacity-'))
  server = http.createServer((_req, res) => res.end('{"data":[]}'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  await browser?.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('aiops capacity (built CLI)', () => {
  it('plans from a loadtest result and renders a runway chart per component in headless Chromium', async () => {
    // A real measurement: a stress run against a query endpoint, saved with --json.
    const port = (server.address() as AddressInfo).port
    const lt = await runCli(['loadtest', '--target', `http://127.0.0.1:${port}/q`, '--profile', 'stress', '--rate', '50', '--threshold', 'error_rate<1%', '--json'], {
      env: { AIOPS_LOADTEST_STRESS_STEP_DURATION: '1s', AIOPS_LOADTEST_STRESS_MAX_STEPS: '3' },
    })
    expect(lt.code, lt.stderr).toBe(0)
    writeFileSync(path.join(dir, 'router-stress.json'), lt.stdout)
    const knee = (JSON.parse(lt.stdout) as { stress: { knee: { achievedRps: number } } }).stress.knee.achievedRps

    writeFileSync(
      path.join(dir, 'capacity.yaml'),
      YAML.stringify({
        current: { metricsPerSec: 1_000_000, spansPerSec: 200_000, logsPerSec: 100_000, tenants: 100, queriesPerSec: 400, totalMetrics: 1_000_000_000 },
        growth: { monthlyPercent: 6, newTenantsPerMonth: 2 },
        instances: { gateway: 16, kafkaPartitions: 150, clickhouseShards: 12, router: 4 },
        costs: { gateway: 120, clickhouseShards: 2500, router: 80 },
        measurements: { loadtests: [{ file: 'router-stress.json', component: 'router' }] },
      }),
    )
    const r = await runCli(['capacity', '--input', 'capacity.yaml', '--report', 'capacity.html', '--targets', 'scaling.yaml', '--json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const plan = JSON.parse(r.stdout) as {
      components: Array<{ key: string; needed: { now: number; x10: number; x100: number }; capacitySource: { kind: string }; capacityPerInstance: number }>
      reportPath: string
      targetsPath: string
      cost: { now: number } | null
    }
    const byKey = Object.fromEntries(plan.components.map((c) => [c.key, c]))
    expect(byKey.clickhouseShards!.needed.now).toBe(10) // 1B metrics → 10 shards
    expect(byKey.router!.capacitySource.kind).toBe('measured')
    expect(byKey.router!.capacityPerInstance).toBeCloseTo(knee, 6)
    expect(plan.cost!.now).toBe(16 * 120 + 12 * 2500 + 4 * 80)
    const targets = YAML.parse(readFileSync(plan.targetsPath, 'utf8')) as { kind: string; kafka: { partitions: { total: number } }; clickhouse: { shards: number } }
    expect(targets.kind).toBe('ScalingTargets')
    expect(targets.clickhouse.shards).toBeGreaterThanOrEqual(12)

    expect(existsSync(CHROMIUM), 'install the Debian package chromium (scripts/system-deps.sh)').toBe(true)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    })
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const external: string[] = []
    page.on('request', (req) => {
      if (!req.url().startsWith('file://')) external.push(req.url())
    })
    await page.goto(`file://${plan.reportPath}`)
    const shot = path.join(dir, 'capacity.png')
    await page.screenshot({ path: shot, fullPage: true })
    expect(statSync(shot).size).toBeGreaterThan(10_000)

    const charts = page.locator('svg[data-chart="runway"]')
    expect(await charts.count()).toBe(plan.components.length)
    for (const c of plan.components) {
      const chart = page.locator(`svg[data-component="${c.key}"]`)
      expect(await chart.count(), c.key).toBe(1)
      // A drawn utilization line, the 70% and 80% lines, and a visible box.
      expect(await chart.locator('path.series').count(), c.key).toBeGreaterThanOrEqual(1)
      expect(await chart.locator('line.hline').count(), c.key).toBe(2)
      const box = await chart.boundingBox()
      expect(box!.width).toBeGreaterThan(300)
      expect(box!.height).toBeGreaterThan(100)
    }
    expect(await page.locator('h1').textContent()).toContain('capacity plan')
    expect(external).toEqual([])
  })

  it('no load given is a usage error naming what to give', async () => {
    const r = await runCli(['capacity', '--json'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'AIOPS_USAGE' } })
    expect(r.stdout).toContain('--metrics-per-sec')
  })

  it('a bad input field exits 2 naming it', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), 'current:\n  metricsPerSec: lots\n')
    const r = await runCli(['capacity', '--input', 'bad.yaml', '--json'], { cwd: dir })
    expect(r.code).toBe(2)
    const out = JSON.parse(r.stdout) as { error: { details: { field: string }; message: string } }
    expect(out.error.details.field).toBe('current.metricsPerSec')
    expect(out.error.message).toContain('expected number')
  })
})
