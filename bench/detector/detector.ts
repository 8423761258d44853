/**
 * Detector benchmark (issue #4), side by side in one run:
 *   npx tsx bench/detector/detector.ts [--duration S] [--series N] [--memory-series N]
 * - checks/s (wall) and per core (this process's CPU time) of the detection engine for the basic, agile and
 *   robust tiers, the robust tier batched (64) and unbatched (1), beside the limit: raw InferenceSession.run on
 *   windows of the same shape with the same batch size (ORT's node binding runs on the event-loop thread, so
 *   both use one core and the ratio is CPU for CPU), and beside the floor: the least per-point work the robust
 *   tier can do around the model (floor.ts), which bounds the ratio any engine design reaches on this machine;
 * - p99 latency from a metric point entering the bus to its anomaly record leaving the agent, at 70 % of the
 *   agent's measured peak (basic and robust);
 * - memory per 100K active series, per tier.
 * Goals: basic ≥ 100K checks/s/core; agile ≥ 20K; robust (CPU) ≥ 20K batched and ≥ 0.8 × raw; p99 < 2 s
 * (aim < 200 ms). Prints a table, writes bench/results/detector.json.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadRobustModel } from '../../src/lib/detection/onnx/session.js'
import { defaultModelPath } from '../../src/lib/detection/settings.js'
import { silentLogger } from '../../src/lib/telemetry/index.js'
import { defaultSettings } from '../../test/fixtures/detector/settings.js'
import { ensureModel } from '../../test/fixtures/detector/ensure-model.js'
import { robustFloor } from './floor.js'
import { agentLatency, type LatencyResult } from './latency.js'
import { engineThroughput, memoryPerSeries, type MemoryFigure, rawOrt, type Throughput } from './scenarios.js'

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, series: { type: 'string', default: '2000' }, 'memory-series': { type: 'string', default: '100000' } },
})
const seconds = Number(values.duration)
const series = Number(values.series)
const memSeries = Number(values['memory-series'])
const log = (s: string): void => void process.stderr.write(`${s}\n`)

await ensureModel()
const settings = await defaultSettings()
const loaded = await loadRobustModel({ path: defaultModelPath(), device: 'cpu', threads: 1, logger: silentLogger })
if (!loaded.ok) throw new Error(loaded.reason)
const model = loaded.model

const load0 = loadavg()[0]!
const throughput: Throughput[] = []
const run = async (p: Promise<Throughput>): Promise<Throughput> => {
  const t = await p
  log(`${t.scenario}: ${Math.round(t.perS)}/s, ${Math.round(t.perCoreS)}/s per core`)
  throughput.push(t)
  return t
}
log(`detector bench: ${seconds}s per scenario, ${series} series, ${cpus().length} cores, load ${load0.toFixed(2)}`)
const basic = await run(engineThroughput('basic (robust statistics)', 'basic', settings, { series, warm: 40, seconds }))
// Agile needs 3 × maxPeriod points before it scores a series (or finds its period): fewer series, warmed longer.
const agile = await run(engineThroughput('agile (seasonal, period 96)', 'agile', settings, { series: Math.min(series, 200), warm: 500, seconds, seasonal: true }))
const robust64 = await run(engineThroughput('robust (ONNX SR), batched 64', 'robust', settings, { series, warm: 80, seconds, model, maxBatch: 64 }))
const raw64 = await run(rawOrt(defaultModelPath(), 64, seconds))
await run(robustFloor(defaultModelPath(), settings, { series, batch: 64, seconds }))
await run(engineThroughput('robust (ONNX SR), unbatched', 'robust', settings, { series: Math.min(series, 500), warm: 80, seconds, model, maxBatch: 1 }))
const raw1 = await run(rawOrt(defaultModelPath(), 1, seconds))

const latency: LatencyResult[] = []
for (const tier of ['basic', 'robust'] as const) {
  const l = await agentLatency(tier, { series: Math.min(series, 1000), seconds, modelPath: defaultModelPath() })
  log(`latency ${tier}: peak ${Math.round(l.peakPointsPerS)}/s, steady ${Math.round(l.steadyPointsPerS)}/s, anomaly p99 ${l.anomalyP99Ms} ms`)
  latency.push(l)
}

const memory: MemoryFigure[] = []
for (const tier of ['basic', 'agile', 'robust'] as const) {
  const m = await memoryPerSeries(tier, settings, memSeries, model)
  log(`memory ${tier}: ${Math.round(m.bytesPerSeries)} B/series`)
  memory.push(m)
}
await model.close()

const k = (n: number): string => `${(n / 1000).toFixed(1)}K`
const pass = (ok: boolean): string => (ok ? 'met' : 'MISSED')
const goals = {
  basicPerCore: { goal: '≥ 100K checks/s/core', value: basic.perCoreS, met: basic.perCoreS >= 100_000 },
  agilePerCore: { goal: '≥ 20K checks/s/core', value: agile.perCoreS, met: agile.perCoreS >= 20_000 },
  robustBatchedPerCore: { goal: '≥ 20K checks/s/core', value: robust64.perCoreS, met: robust64.perCoreS >= 20_000 },
  robustVsRaw: { goal: '≥ 0.8 × raw (batch 64)', value: robust64.perCoreS / raw64.perCoreS, met: robust64.perCoreS >= 0.8 * raw64.perCoreS },
  p99: { goal: '< 2 s (aim < 200 ms)', value: Math.max(...latency.map((l) => l.anomalyP99Ms)), met: latency.every((l) => l.anomalyP99Ms < 2000) },
}

const lines = [
  '',
  `Detector benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load0.toFixed(2)} at start (shared machine)`,
  '',
  'scenario                          checks/s   per core   vs raw (per core)',
  ...throughput.map((t) => {
    const raw = t.batch === 64 && !t.scenario.startsWith('raw') ? raw64 : t.batch === 1 && !t.scenario.startsWith('raw') ? raw1 : undefined
    return `${t.scenario.padEnd(32)} ${k(t.perS).padStart(9)} ${k(t.perCoreS).padStart(10)}   ${raw ? `${(t.perCoreS / raw.perCoreS).toFixed(2)} ×` : ''}`
  }),
  '',
  'end-to-end (point enters bus → anomaly record leaves), steady stream at 70 % of peak:',
  'tier     series  peak pts/s  steady pts/s  anomalies  p50 ms  p99 ms  max ms  every point p99 ≤ ms',
  ...latency.map(
    (l) =>
      `${l.tier.padEnd(8)} ${String(l.series).padStart(6)} ${k(l.peakPointsPerS).padStart(11)} ${k(l.steadyPointsPerS).padStart(13)} ${String(l.anomalies).padStart(10)} ${String(l.anomalyP50Ms).padStart(7)} ${String(l.anomalyP99Ms).padStart(7)} ${String(l.anomalyMaxMs).padStart(7)} ${String(l.pointP99Ms).padStart(21)}`,
  ),
  '',
  `memory per 100K active series: ${memory.map((m) => `${m.tier} ${m.mbPer100K.toFixed(1)} MB (${Math.round(m.bytesPerSeries)} B/series)`).join(', ')}`,
  '',
  'goals:',
  ...Object.entries(goals).map(([name, g]) => {
    const shown = name === 'p99' ? `${g.value} ms` : name === 'robustVsRaw' ? `${g.value.toFixed(2)} ×` : k(g.value)
    return `  ${name.padEnd(22)} ${g.goal.padEnd(24)} ${shown.padStart(9)}  ${pass(g.met)}`
  }),
]
process.stdout.write(`${lines.join('\n')}\n`)

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../results/detector.json')
await mkdir(path.dirname(out), { recursive: true })
await writeFile(
  out,
  `${JSON.stringify({ machine: { cores: cpus().length, cpu: cpus()[0]?.model, loadAtStart: load0 }, seconds, series, throughput, latency, memory, goals }, null, 2)}\n`,
)
log(`wrote ${out}`)
