/** `aiops capacity` as a library call: read inputs and measurements, plan, write the report and the targets file. */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { parseCapacityInput, readCapacityFile } from './input.js'
import { gatherMeasurements } from './measure.js'
import { planCapacity, type CapacityResult } from './plan.js'
import { capacityHtml } from './report.js'
import { serializeTargets } from './targets.js'

export { capacityTable } from './report.js'
export type { CapacityResult } from './plan.js'

export interface CapacityOptions {
  /** Input file, if any (relative paths inside it resolve against its directory). */
  inputFile?: string
  /** Dotted input paths → values from flags (they win over the file; lists are appended). */
  overrides: Record<string, unknown>
  reportPath?: string
  targetsPath?: string
  cwd?: string
  now?: Date
}

async function write(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text)
}

export async function executeCapacity(o: CapacityOptions): Promise<CapacityResult> {
  const cwd = o.cwd ?? process.cwd()
  const file = o.inputFile ? await readCapacityFile(o.inputFile, cwd) : { raw: {}, dir: cwd }
  const input = parseCapacityInput(file.raw, o.overrides, o.inputFile ?? 'flags')
  const { measured, notes } = await gatherMeasurements(input, file.dir)
  const result = planCapacity(input, measured, notes, o.now)
  if (result.components.length === 0) {
    throw new UsageError('nothing to plan: no load was given', {
      suggestions: ['give the current load in --input (current.metricsPerSec, queriesPerSec, totalMetrics…) or flags such as --metrics-per-sec 1000000'],
    })
  }
  if (o.reportPath) {
    result.reportPath = path.resolve(cwd, o.reportPath)
    await write(result.reportPath, capacityHtml(result))
  }
  if (o.targetsPath) {
    result.targetsPath = path.resolve(cwd, o.targetsPath)
    await write(result.targetsPath, serializeTargets(result.targets, result.targetsPath))
  }
  return result
}
