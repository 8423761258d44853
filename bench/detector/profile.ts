/**
 * One detector throughput scenario alone, for a CPU profile (the full bench mixes scenarios in one profile):
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/detector/profile.ts [--scenario robust64|raw64|floor64|robust1|raw1|basic] [--duration S]
 * Prints the same figures as the bench's row for that scenario.
 */
import { parseArgs } from 'node:util'
import { loadRobustModel } from '../../src/lib/detection/onnx/session.js'
import { defaultModelPath } from '../../src/lib/detection/settings.js'
import { silentLogger } from '../../src/lib/telemetry/index.js'
import { defaultSettings } from '../../test/fixtures/detector/settings.js'
import { ensureModel } from '../../test/fixtures/detector/ensure-model.js'
import { robustFloor } from './floor.js'
import { engineThroughput, rawOrt, type Throughput } from './scenarios.js'

const { values } = parseArgs({ options: { scenario: { type: 'string', default: 'robust64' }, duration: { type: 'string', default: '5' }, series: { type: 'string', default: '2000' } } })
const seconds = Number(values.duration)
const series = Number(values.series)
await ensureModel()
const settings = await defaultSettings()
const loaded = await loadRobustModel({ path: defaultModelPath(), device: 'cpu', threads: 1, logger: silentLogger })
if (!loaded.ok) throw new Error(loaded.reason)
const model = loaded.model
const scenarios: Record<string, () => Promise<Throughput>> = {
  basic: () => engineThroughput('basic (robust statistics)', 'basic', settings, { series, warm: 40, seconds }),
  robust64: () => engineThroughput('robust (ONNX SR), batched 64', 'robust', settings, { series, warm: 80, seconds, model, maxBatch: 64 }),
  robust1: () => engineThroughput('robust (ONNX SR), unbatched', 'robust', settings, { series: Math.min(series, 500), warm: 80, seconds, model, maxBatch: 1 }),
  raw64: () => rawOrt(defaultModelPath(), 64, seconds),
  floor64: () => robustFloor(defaultModelPath(), settings, { series, batch: 64, seconds }),
  raw1: () => rawOrt(defaultModelPath(), 1, seconds),
}
const run = scenarios[values.scenario]
if (!run) throw new Error(`--scenario: one of ${Object.keys(scenarios).join(', ')}`)
const t = await run()
await model.close()
process.stdout.write(`${t.scenario}: ${Math.round(t.perS)}/s wall, ${Math.round(t.perCoreS)}/s per core (${t.points} points, ${t.cpuS.toFixed(2)} cpu s)\n`)
