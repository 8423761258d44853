/**
 * Files for `aiops detector eval`: a folder of `timestamp,value` CSVs (searched recursively) and a labels
 * JSON mapping each CSV's path relative to the folder to its anomaly windows `[[start, end], …]` (the NAB
 * layout). Timestamps may be ISO-8601 / date strings or epoch numbers in s, ms, µs or ns (told apart by
 * magnitude); windows use the same forms. A CSV not in the labels has no anomalies (every detection counts
 * as a false positive); a label naming a file that is not there is an error. Empty or `nan` values are
 * missing points (scored as invalid). `--scores-out` writes `timestamp,value,anomaly_score,tier` per file.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { UsageError } from '../errors.js'
import type { LabeledSeries, PointScore } from './evaluate.js'
import type { SyntheticSeries } from './synthetic.js'

/** Epoch number or date text → ms. */
export function parseTimestamp(raw: string | number): number {
  if (typeof raw === 'number' || /^-?\d+(\.\d+)?$/.test(raw.trim())) {
    const n = Number(raw)
    const a = Math.abs(n)
    if (a < 1e11) return n * 1000 // seconds (up to year 5138)
    if (a < 1e14) return n // milliseconds
    if (a < 1e17) return n / 1000 // microseconds
    return n / 1e6 // nanoseconds
  }
  // NAB writes "2014-04-01 00:00:00" (UTC, no zone): read a bare date-time as UTC, not local time.
  const text = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(raw.trim()) ? `${raw.trim().replace(' ', 'T')}Z` : raw
  return Date.parse(text)
}

export function parseCsv(text: string, file: string): LabeledSeries {
  const timestampsMs: number[] = []
  const values: number[] = []
  const timestampText: string[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    const [ts, v, ...rest] = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'))
    if (i === 0 && /^[a-z_]/i.test(ts ?? '') && Number.isNaN(parseTimestamp(ts ?? ''))) continue // header
    const t = ts === undefined ? NaN : parseTimestamp(ts)
    if (!Number.isFinite(t) || v === undefined || rest.length > 0) {
      throw new UsageError(`${file}:${i + 1}: expected "timestamp,value", got ${JSON.stringify(line.slice(0, 80))}`, {
        details: { file, line: i + 1 },
        suggestions: ['each line must be a timestamp (ISO-8601 or epoch s/ms/µs/ns) and a number, e.g. 2024-01-01T00:00:00Z,42.5'],
      })
    }
    timestampsMs.push(t)
    values.push(v === '' || /^nan$/i.test(v) ? NaN : Number(v))
    timestampText.push(ts!)
  }
  return { name: file, timestampsMs, values, windows: [], timestampText }
}

async function csvFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...(await csvFiles(dir, r)))
    else if (e.isFile() && e.name.toLowerCase().endsWith('.csv')) out.push(r)
  }
  return out.sort()
}

export async function loadDataset(dir: string, labelsFile?: string): Promise<LabeledSeries[]> {
  let files: string[]
  try {
    files = await csvFiles(dir)
  } catch (err) {
    throw new UsageError(`cannot read the data folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      suggestions: ['pass a folder of timestamp,value CSV files, or --synthetic for the generated data set'],
    })
  }
  if (files.length === 0) throw new UsageError(`no .csv files under ${dir}`, { suggestions: ['each series is one timestamp,value CSV file'] })
  const labels = labelsFile ? await loadLabels(labelsFile) : {}
  const unknown = Object.keys(labels).filter((k) => !files.includes(k))
  if (unknown.length > 0) {
    throw new UsageError(`labels name files that are not under ${dir}: ${unknown.slice(0, 5).join(', ')}`, {
      details: { unknown },
      suggestions: ['label keys are CSV paths relative to the data folder, with / separators, e.g. "web/latency.csv"'],
    })
  }
  const out: LabeledSeries[] = []
  for (const f of files) {
    const s = parseCsv(await readFile(path.join(dir, f), 'utf8'), f)
    s.windows = labels[f] ?? []
    out.push(s)
  }
  return out
}

async function loadLabels(file: string): Promise<Record<string, Array<[number, number]>>> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new UsageError(`cannot read labels ${file}: ${(err as Error).message}`, {
      suggestions: ['--labels is a JSON object: {"file.csv": [["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"], …]}'],
    })
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`labels ${file} must be a JSON object of file → windows`)
  const out: Record<string, Array<[number, number]>> = {}
  for (const [name, windows] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(windows)) throw new UsageError(`labels ${file}: "${name}" must be a list of [start, end] windows`)
    out[name] = windows.map((w, i) => {
      const [a, b] = Array.isArray(w) ? (w as Array<string | number>) : []
      const win: [number, number] = [parseTimestamp(a ?? NaN), parseTimestamp(b ?? NaN)]
      if (!Array.isArray(w) || w.length !== 2 || !win.every(Number.isFinite) || win[0] > win[1]) {
        throw new UsageError(`labels ${file}: window ${i} of "${name}" is not [start, end] with start ≤ end: ${JSON.stringify(w)}`)
      }
      return win
    })
  }
  return out
}

/** Writes one scores CSV per series under `dir`, mirroring the input's relative paths. */
export async function writeScores(dir: string, scores: Map<string, PointScore[]>): Promise<string[]> {
  const written: string[] = []
  for (const [name, rows] of scores) {
    const file = path.join(dir, name)
    await mkdir(path.dirname(file), { recursive: true })
    const body = ['timestamp,value,anomaly_score,tier', ...rows.map((r) => `${r.timestamp},${Number.isNaN(r.value) ? '' : r.value},${r.score.toFixed(6)},${r.tier}`)]
    await writeFile(file, `${body.join('\n')}\n`)
    written.push(file)
  }
  return written
}

/** Writes generated series as a data folder + labels.json (what `eval` reads back). */
export async function writeDataset(dir: string, series: readonly SyntheticSeries[]): Promise<string> {
  const labels: Record<string, Array<[string, string]>> = {}
  for (const s of series) {
    const file = path.join(dir, s.name)
    await mkdir(path.dirname(file), { recursive: true })
    const lines = s.timestampsMs.map((t, i) => `${new Date(t).toISOString()},${s.values[i]}`)
    await writeFile(file, `timestamp,value\n${lines.join('\n')}\n`)
    labels[s.name] = s.windows.map(([a, b]) => [new Date(a).toISOString(), new Date(b).toISOString()])
  }
  const labelsFile = path.join(dir, 'labels.json')
  await writeFile(labelsFile, `${JSON.stringify(labels, null, 2)}\n`)
  return labelsFile
}
