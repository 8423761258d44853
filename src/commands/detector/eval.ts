import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../lib/cli/base-command.js'
import { UsageError } from '../../lib/errors.js'
import { runEvaluation, type RunEvalResult } from '../../lib/detection/run-eval.js'
import { TIER_NAMES, type TierName } from '../../lib/detection/types.js'
import type { TotalScore } from '../../lib/detection/evaluate.js'
import { createLogger } from '../../lib/telemetry/index.js'

const pct = (v: number | null): string => (v === null ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`)

export default class DetectorEval extends BaseCommand<typeof DetectorEval> {
  static summary = 'Score detector tiers offline over labelled series: window precision/recall/F1, early-detection reward, latency.'
  static description =
    'Input: a folder of timestamp,value CSV files and --labels, a JSON object mapping each file (path relative to the ' +
    'folder) to its anomaly windows [[start, end], …]; or --synthetic, the generated labelled series the tests use ' +
    '(spikes, dips, level shifts, trend changes, variance changes, seasonal breaks, missing data; noisy and seasonal ' +
    'baselines). Each series runs through the same engine as `aiops agent detector`; a detection is an anomaly opening. ' +
    'A window with a detection is a true positive, a detection outside every window a false positive. The NAB-style ' +
    'score rewards detections early in their window (100 = every window caught at its start, 0 = nothing caught). ' +
    'Detector settings (thresholds, windows, model) come from the detector.* config fields.'
  static examples = [
    '<%= config.bin %> detector eval --synthetic',
    '<%= config.bin %> detector eval ./data --labels ./data/labels.json --tier robust --scores-out ./scores',
    '<%= config.bin %> detector eval --synthetic --tier all --per-kind 20 --json',
  ]

  static args = { dir: Args.string({ description: 'Folder of timestamp,value CSV files (searched recursively).' }) }

  static flags = {
    labels: Flags.string({ summary: 'Labels JSON: {"file.csv": [[start, end], …]}; files it does not name have no anomalies.' }),
    synthetic: Flags.boolean({ summary: 'Evaluate on the project’s generated labelled series instead of a folder.' }),
    'per-kind': Flags.integer({ summary: 'With --synthetic: series per (anomaly kind, baseline) pair.', default: 10 }),
    seed: Flags.integer({ summary: 'With --synthetic: generator seed (same seed, same series).', default: 42 }),
    tier: Flags.string({ summary: 'Tier to evaluate.', options: [...TIER_NAMES, 'all'], default: 'all' }),
    'scores-out': Flags.string({ summary: 'Write timestamp,value,anomaly_score,tier per input file under this folder (per tier with --tier all).' }),
    files: Flags.boolean({ summary: 'Print the per-file table too (always in --json).' }),
  }

  async run(): Promise<RunEvalResult> {
    const { args, flags } = await this.parse(DetectorEval)
    if (!flags.synthetic && !args.dir) {
      throw new UsageError('give a folder of CSV files or --synthetic', { suggestions: ['aiops detector eval ./data --labels ./data/labels.json', 'aiops detector eval --synthetic'] })
    }
    if (flags.synthetic && args.dir) throw new UsageError('give either a folder or --synthetic, not both')
    const { config } = await this.loadConfig()
    const tiers: TierName[] = flags.tier === 'all' ? [...TIER_NAMES] : [flags.tier as TierName]
    const result = await runEvaluation({
      config,
      tiers,
      ...(args.dir ? { dir: args.dir } : {}),
      ...(flags.labels ? { labels: flags.labels } : {}),
      ...(flags.synthetic ? { synthetic: { seed: flags.seed, perKind: flags['per-kind'] } } : {}),
      ...(flags['scores-out'] ? { scoresOut: flags['scores-out'] } : {}),
      logger: createLogger({ level: config.log.level, name: 'aiops-detector-eval' }),
    })
    if (!this.jsonEnabled()) this.render(result, flags.files)
    return result
  }

  private render(r: RunEvalResult, files: boolean): void {
    this.log(`${r.series} series, ${r.points} points from ${r.source}`)
    const row = (name: string, t: TotalScore): string =>
      `${name.padEnd(28)} ${String(t.windows).padStart(6)} ${String(t.truePositives).padStart(5)} ${String(t.falsePositives).padStart(5)} ` +
      `${pct(t.precision)} ${pct(t.recall)} ${pct(t.f1)} ${(t.nab === null ? '-' : t.nab.toFixed(1)).padStart(6)} ${t.usPerPoint.toFixed(2).padStart(8)}`
    this.log(`${'tier / file'.padEnd(28)} windows    TP    FP precis recall     F1    NAB  µs/point`)
    for (const rep of r.reports) {
      this.log(row(rep.tier, rep.total))
      if (files) for (const f of rep.files) this.log(row(`  ${f.file}`, f))
    }
    if (r.scoresWritten > 0) this.log(`wrote ${r.scoresWritten} score files`)
  }
}
