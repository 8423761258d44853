/**
 * `aiops detector eval`'s arithmetic and files: window-based counting and the NAB-style reward on hand-checked
 * cases, CSV and labels parsing (with errors that name the file, line and fix), and a generated data set
 * written to disk scoring exactly as it does in memory.
 */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { countDetections, evaluate, scoresOf } from '../../src/lib/detection/evaluate.js'
import { loadDataset, parseCsv, parseTimestamp, writeDataset, writeScores } from '../../src/lib/detection/eval-files.js'
import { generateDataset } from '../../src/lib/detection/synthetic.js'
import { UsageError } from '../../src/lib/errors.js'
import { defaultSettings } from '../fixtures/detector/settings.js'

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'aiops-eval-'))

describe('window-based scores', () => {
  it('counts caught windows, missed windows and detections outside every window', () => {
    const c = countDetections([5, 12, 100, 300], [[0, 10], [10, 20], [200, 250]], 1000, 2)
    expect(c).toMatchObject({ windows: 3, truePositives: 2, falseNegatives: 1, falsePositives: 2, detections: 4, maxOpensPerWindow: 1 })
    const s = scoresOf(c)
    expect(s.precision).toBeCloseTo(2 / 4)
    expect(s.recall).toBeCloseTo(2 / 3)
    expect(s.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3))
    expect(s.usPerPoint).toBeCloseTo(2)
  })

  it('rewards early detection (NAB scaled sigmoid): window start ≈ 100, window end 50, nothing 0', () => {
    const sig = (y: number): number => 2 / (1 + Math.exp(5 * y)) - 1
    const atStart = scoresOf(countDetections([0], [[0, 100]], 100, 1))
    expect(atStart.nab).toBeCloseTo(100)
    const atEnd = scoresOf(countDetections([100], [[0, 100]], 100, 1))
    // σ(0) = 0 earns nothing, but beats the −1 of a miss: half way between "nothing" and "perfect".
    expect(atEnd.nab).toBeCloseTo((100 * (sig(0) + 1)) / (sig(-1) + 1))
    expect(scoresOf(countDetections([], [[0, 100]], 100, 1)).nab).toBeCloseTo(0)
    const withFp = scoresOf(countDetections([0, 500], [[0, 100]], 1000, 1))
    expect(withFp.nab).toBeCloseTo((100 * (sig(-1) - 0.11 + 1)) / (sig(-1) + 1))
  })
})

describe('CSV and labels', () => {
  it('reads ISO and epoch timestamps (s, ms, µs, ns), a header, and empty/nan values as missing', () => {
    expect(parseTimestamp('2024-01-01T00:00:00Z')).toBe(Date.UTC(2024, 0, 1))
    expect(parseTimestamp('2024-01-01 00:00:00')).toBe(Date.UTC(2024, 0, 1)) // NAB style, read as UTC
    for (const t of ['1704067200', '1704067200000', '1704067200000000', '1704067200000000000']) expect(parseTimestamp(t)).toBe(Date.UTC(2024, 0, 1))
    const s = parseCsv('timestamp,value\n1704067200,1.5\n1704067260,\n1704067320,nan\n1704067380,2\n', 'a.csv')
    expect(s.timestampsMs).toHaveLength(4)
    expect(s.values.map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual([1.5, 'NaN', 'NaN', 2])
    expect(s.timestampText![0]).toBe('1704067200')
  })

  it('a bad line is a usage error naming the file, the line and the expected form', () => {
    expect(() => parseCsv('timestamp,value\n2024-01-01T00:00:00Z,1\nyesterday,2\n', 'web/lat.csv')).toThrow(UsageError)
    expect(() => parseCsv('timestamp,value\nyesterday,2\n', 'web/lat.csv')).toThrow(/web\/lat\.csv:2: expected "timestamp,value"/)
  })

  it('labels must name files that exist, with [start, end] windows', async () => {
    const dir = tmp()
    writeFileSync(path.join(dir, 'a.csv'), 'timestamp,value\n1704067200,1\n')
    writeFileSync(path.join(dir, 'labels.json'), JSON.stringify({ 'b.csv': [] }))
    await expect(loadDataset(dir, path.join(dir, 'labels.json'))).rejects.toThrow(/labels name files that are not under .*: b\.csv/)
    writeFileSync(path.join(dir, 'labels.json'), JSON.stringify({ 'a.csv': [['2024-01-02', '2024-01-01']] }))
    await expect(loadDataset(dir, path.join(dir, 'labels.json'))).rejects.toThrow(/window 0 of "a\.csv" is not \[start, end\]/)
    await expect(loadDataset(path.join(dir, 'nope'))).rejects.toThrow(/cannot read the data folder/)
    mkdirSync(path.join(dir, 'empty'))
    await expect(loadDataset(path.join(dir, 'empty'))).rejects.toThrow(/no \.csv files/)
  })
})

describe('a data set on disk', () => {
  it('scores exactly as the same series in memory, and --scores-out writes timestamp,value,anomaly_score,tier', async () => {
    const settings = await defaultSettings()
    const series = generateDataset({ seed: 5, perKind: 1, kinds: ['spike', 'level_shift', 'none'], baselines: ['noisy'] })
    const dir = tmp()
    const labels = await writeDataset(dir, series)
    const loaded = await loadDataset(dir, labels)
    expect(loaded.map((s) => s.name)).toEqual(series.map((s) => s.name).sort())
    const mem = await evaluate(series, { tier: 'basic', settings })
    const disk = await evaluate(loaded, { tier: 'basic', settings, keepScores: true })
    for (const k of ['truePositives', 'falsePositives', 'windows', 'detections'] as const) expect(disk.report.total[k]).toBe(mem.report.total[k])
    expect(disk.report.total.truePositives).toBe(2)
    const out = tmp()
    const written = await writeScores(out, disk.scores)
    expect(written).toHaveLength(3)
    const lines = readFileSync(path.join(out, 'spike/noisy-000.csv'), 'utf8').trim().split('\n')
    expect(lines[0]).toBe('timestamp,value,anomaly_score,tier')
    expect(lines).toHaveLength(series[0]!.values.length + 1)
    expect(lines[1]).toMatch(/^2023-11-14T22:13:20\.000Z,[\d.]+,0\.000000,warmup$/)
    expect(lines.at(-1)).toMatch(/^[^,]+,[\d.]+,0\.\d{6},basic$/)
  })
})
