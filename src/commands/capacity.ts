import path from 'node:path'
import { Flags } from '@oclif/core'
import { executeCapacity, capacityTable, type CapacityResult } from '../lib/capacity/index.js'
import { BaseCommand, flagValue } from '../lib/cli/base-command.js'
import { UsageError } from '../lib/errors.js'

const num = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v.replace(/_/g, ''))
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: "${v}" is not a number`, { suggestions: [`e.g. ${flag} 1000000 (or 1e6)`] })
  return n
}

export default class Capacity extends BaseCommand<typeof Capacity> {
  static summary = 'Plan capacity: utilization, runway to 70%/80%, instances at 1×/10×/100×, when to order hardware.'
  static description =
    'Reads the current load, growth and per-instance capacity (measured by `aiops loadtest --json` results or agents\' ' +
    '/metrics, else the design documents\' figures) and computes, per component, what the monthly capacity review needs. ' +
    'Writes an HTML report with a runway chart per component and a scaling-targets file for the scaffold command.'
  static examples = [
    '<%= config.bin %> capacity --input capacity.yaml --report capacity.html --targets scaling.yaml',
    '<%= config.bin %> capacity --metrics-per-sec 1e6 --total-metrics 1e9 --growth 5 --loadtest stress.json',
    '<%= config.bin %> capacity --input capacity.yaml --metrics consumer=http://10.0.0.5:9464/metrics --json',
  ]

  static flags = {
    input: Flags.string({ char: 'i', summary: 'Planning input, YAML or JSON (capacity.input); flags below override it.' }),
    loadtest: Flags.string({ summary: 'An `aiops loadtest --json` result: measured capacity (repeatable).', multiple: true }),
    metrics: Flags.string({ summary: "Agent metrics as COMPONENT=FILE|URL, e.g. consumer=http://h:9464/metrics (repeatable).", multiple: true }),
    'metrics-per-sec': Flags.string({ summary: 'Current metric data points per second (current.metricsPerSec).' }),
    'spans-per-sec': Flags.string({ summary: 'Current spans per second (current.spansPerSec).' }),
    'logs-per-sec': Flags.string({ summary: 'Current log records per second (current.logsPerSec).' }),
    'queries-per-sec': Flags.string({ summary: 'Current queries per second at the router (current.queriesPerSec).' }),
    'total-metrics': Flags.string({ summary: 'Metric series stored (current.totalMetrics): shards = ceil(total / 100M).' }),
    'stored-bytes': Flags.string({ summary: 'Bytes stored in ClickHouse (current.storedBytes).' }),
    tenants: Flags.string({ summary: 'Tenants now (current.tenants).' }),
    growth: Flags.string({ summary: 'Load growth per month, percent (growth.monthlyPercent).' }),
    'new-tenants': Flags.string({ summary: 'New tenants per month (growth.newTenantsPerMonth).' }),
    horizon: Flags.string({ summary: 'Months the projections and charts cover (growth.horizonMonths).' }),
    report: Flags.string({ summary: 'Write the HTML report here (capacity.report).' }),
    targets: Flags.string({ summary: 'Write the scaling targets here, .yaml or .json (capacity.targets).' }),
  }

  async run(): Promise<CapacityResult> {
    const f = this.flags
    const { config } = await this.loadConfig({
      'capacity.input': flagValue(f.input, '--input'),
      'capacity.report': flagValue(f.report, '--report'),
      'capacity.targets': flagValue(f.targets, '--targets'),
    })
    const metrics = (f.metrics ?? []).map((m) => {
      const i = m.indexOf('=')
      if (i <= 0) throw new UsageError(`--metrics ${m}: expected COMPONENT=FILE|URL`, { suggestions: ['e.g. --metrics gateway=gw.txt --metrics consumer=http://h:9464/metrics'] })
      const source = m.slice(i + 1)
      return { component: m.slice(0, i), source: /^https?:\/\//.test(source) ? source : path.resolve(source) }
    })
    const c = config.capacity
    const result = await executeCapacity({
      inputFile: c.input || undefined,
      overrides: {
        'current.metricsPerSec': num(f['metrics-per-sec'], '--metrics-per-sec'),
        'current.spansPerSec': num(f['spans-per-sec'], '--spans-per-sec'),
        'current.logsPerSec': num(f['logs-per-sec'], '--logs-per-sec'),
        'current.queriesPerSec': num(f['queries-per-sec'], '--queries-per-sec'),
        'current.totalMetrics': num(f['total-metrics'], '--total-metrics'),
        'current.storedBytes': num(f['stored-bytes'], '--stored-bytes'),
        'current.tenants': num(f.tenants, '--tenants'),
        'growth.monthlyPercent': num(f.growth, '--growth'),
        'growth.newTenantsPerMonth': num(f['new-tenants'], '--new-tenants'),
        'growth.horizonMonths': num(f.horizon, '--horizon'),
        // Paths on the command line are relative to the working directory (paths in the input file, to the file).
        'measurements.loadtests': f.loadtest?.map((p) => path.resolve(p)),
        'measurements.metrics': metrics.length ? metrics : undefined,
      },
      reportPath: c.report || undefined,
      targetsPath: c.targets || undefined,
    })
    if (!this.jsonEnabled()) for (const line of capacityTable(result)) this.log(line)
    return result
  }
}
