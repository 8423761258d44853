/**
 * The detector's commands as users run them (built CLI, --json): `detector eval` over the generated data and
 * over a NAB-style folder with labels (and --scores-out), its usage errors, `detector build-model`, and the
 * agent's help. Needs `npm run build` first.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'

const fixtures = path.resolve(import.meta.dirname, '../fixtures/detector/nab')
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'aiops-det-e2e-'))

interface Total {
  windows: number
  truePositives: number
  falsePositives: number
  precision: number | null
  recall: number | null
  f1: number | null
  nab: number | null
  usPerPoint: number
}
interface EvalOut {
  series: number
  points: number
  reports: Array<{ tier: string; total: Total; files: Array<Total & { file: string }> }>
  scoresWritten: number
}

describe('aiops detector eval', () => {
  it('--synthetic --json: every tier with window precision/recall/F1, NAB score and latency per point', async () => {
    const r = await runCli(['detector', 'eval', '--synthetic', '--per-kind', '2', '--json'], { cwd: tmp() })
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as EvalOut
    expect(out.series).toBe(2 * 2 * 7 + 2) // 7 kinds on both baselines, seasonal_break on one
    expect(out.reports.map((x) => x.tier)).toEqual(['basic', 'agile', 'robust'])
    for (const rep of out.reports) {
      expect(rep.files).toHaveLength(out.series)
      expect(rep.total.windows).toBe(2 * 2 * 5 + 2)
      expect(rep.total.truePositives).toBeGreaterThan(0)
      for (const k of ['precision', 'recall', 'f1', 'nab'] as const) expect(typeof rep.total[k]).toBe('number')
      expect(rep.total.usPerPoint).toBeGreaterThan(0)
    }
  })

  it('a folder + labels: per-file scores, and --scores-out writes timestamp,value,anomaly_score,tier per file', async () => {
    const out = tmp()
    const r = await runCli(['detector', 'eval', fixtures, '--labels', path.join(fixtures, 'labels.json'), '--tier', 'basic', '--scores-out', out, '--json'], { cwd: tmp() })
    expect(r.code, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as EvalOut
    expect(res.reports).toHaveLength(1)
    const files = Object.fromEntries(res.reports[0]!.files.map((f) => [f.file, f]))
    expect(files['web/latency.csv']).toMatchObject({ windows: 2, truePositives: 2, falsePositives: 0, precision: 1, recall: 1 })
    expect(files['web/errors.csv']).toMatchObject({ windows: 0, falsePositives: 0 })
    expect(res.scoresWritten).toBe(2)
    expect(readdirSync(path.join(out, 'web')).sort()).toEqual(['errors.csv', 'latency.csv'])
    const lines = readFileSync(path.join(out, 'web/latency.csv'), 'utf8').trim().split('\n')
    expect(lines[0]).toBe('timestamp,value,anomaly_score,tier')
    expect(lines).toHaveLength(501)
    expect(lines[301]).toMatch(/^2024-01-02 01:00:00,[\d.]+,(0\.99\d+|1\.000000),basic$/) // the spike
    // Missing values are kept, scored as invalid.
    expect(readFileSync(path.join(out, 'web/errors.csv'), 'utf8').split('\n')[201]).toBe('2024-01-01 16:40:00,,0.000000,invalid')
  })

  it('human output is a table of tiers', async () => {
    const r = await runCli(['detector', 'eval', fixtures, '--labels', path.join(fixtures, 'labels.json'), '--tier', 'basic', '--files'], { cwd: tmp() })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^2 series, 1000 points from /m)
    expect(r.stdout).toMatch(/^basic\s+2\s+2\s+0\s+100\.0%\s+100\.0%\s+100\.0%/m)
    expect(r.stdout).toMatch(/^ {2}web\/latency\.csv/m)
  })

  it('bad input is a usage error (exit 2) that says what to fix', async () => {
    const none = await runCli(['detector', 'eval', '--json'], { cwd: tmp() })
    expect(none.code).toBe(2)
    expect(JSON.parse(none.stdout)).toMatchObject({ ok: false, error: { code: 'AIOPS_USAGE', message: 'give a folder of CSV files or --synthetic' } })
    const badLabels = await runCli(['detector', 'eval', fixtures, '--labels', path.join(fixtures, 'web/latency.csv'), '--json'], { cwd: tmp() })
    expect(badLabels.code).toBe(2)
    expect(JSON.parse(badLabels.stdout).error.message).toMatch(/cannot read labels .*latency\.csv/)
    const badTiers = await runCli(['detector', 'eval', '--synthetic', '--json'], { cwd: tmp(), env: { AIOPS_DETECTOR_TIERS: 'http.*=fast' } })
    expect(badTiers.code).toBe(2)
    expect(JSON.parse(badTiers.stdout).error).toMatchObject({ code: 'AIOPS_CONFIG_INVALID', details: { field: 'detector.tiers' } })
  })
})

describe('aiops detector build-model', () => {
  it('writes the same model file as the one shipped', async () => {
    const out = tmp()
    const r = await runCli(['detector', 'build-model', '--out', out, '--json'], { cwd: tmp() })
    expect(r.code, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as { models: Array<{ name: string; path: string; bytes: number }> }
    expect(res.models).toEqual([{ name: 'spectral-residual', path: path.join(out, 'spectral-residual.onnx'), bytes: expect.any(Number) }])
    const shipped = readFileSync(path.resolve(import.meta.dirname, '../../models/spectral-residual.onnx'))
    expect(Buffer.compare(readFileSync(res.models[0]!.path), shipped)).toBe(0)
  })
})

describe('aiops agent detector', () => {
  it('--help explains the tiers and the fallback chain, with examples', async () => {
    const r = await runCli(['agent', 'detector', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/basic \(robust streaming statistics\), agile/)
    expect(r.stdout).toMatch(/--device=<option>/)
    expect(r.stdout).toMatch(/EXAMPLES/)
  })
})
