import { Flags } from '@oclif/core'
import { BaseCommand, flagValue } from '../lib/cli/base-command.js'
import { ExitCode } from '../lib/errors.js'
import { parseDurationS } from '../lib/loadgen/duration.js'
import { buildSpec, executeLoadtest, summaryLines, type LoadtestResult } from '../lib/loadgen/index.js'

export default class Loadtest extends BaseCommand<typeof Loadtest> {
  static summary = 'Send open-model load to the gateway, the router or any HTTP endpoint, and gate on SLO thresholds.'
  static description =
    'Requests are scheduled at the arrival rate whether earlier ones finished or not; latency counts from the scheduled ' +
    'send time (no coordinated omission). Profiles: baseline, stress (finds the knee), spike (recovery time), soak (drift), ' +
    'custom (--stage). Default thresholds are the design SLO table for the target plus error and drop rates under 1%.\n\n' +
    'Exit codes: 0 thresholds met, 1 failure (target unreachable…), 2 usage, 99 a threshold was breached, 130 interrupted.'
  static examples = [
    '<%= config.bin %> loadtest --profile baseline',
    "<%= config.bin %> loadtest --target http://127.0.0.1:4318 --rate 500 --duration 1m --threshold 'p99<200ms' --threshold 'error_rate<0.1%'",
    '<%= config.bin %> loadtest --profile stress --rate 1000 --report stress.html',
    '<%= config.bin %> loadtest --target http://127.0.0.1:8080/health --stage 100:30s --stage 1000:1m:10s --json > result.json',
  ]

  static flags = {
    target: Flags.string({ char: 't', summary: "URL under load (loadtest.target). Default: this config's gateway (gateway.host:gateway.port, 127.0.0.1:4318)." }),
    kind: Flags.string({ summary: 'What to send (loadtest.kind).', options: ['auto', 'gateway', 'router', 'http'] }),
    profile: Flags.string({ char: 'p', summary: 'Load shape (loadtest.profile).', options: ['baseline', 'stress', 'spike', 'soak', 'custom'] }),
    rate: Flags.string({ char: 'r', summary: 'Arrival rate in requests/s: steady, spike base, or first stress step (loadtest.rate).' }),
    duration: Flags.string({ char: 'd', summary: 'Run length for baseline/soak, e.g. 30s, 5m (loadtest.duration).' }),
    stage: Flags.string({ summary: 'A stage RATE:DURATION[:RAMP], repeatable, e.g. 500:1m:10s (loadtest.stages).', multiple: true }),
    threshold: Flags.string({ summary: "Pass/fail expression, repeatable, e.g. 'p99<200ms', 'error_rate<1%' (loadtest.thresholds).", multiple: true }),
    'abort-on-fail': Flags.boolean({ summary: 'Stop as soon as a threshold is breached (loadtest.abortOnFail).', allowNo: true }),
    workers: Flags.string({ char: 'w', summary: 'Load-generating processes; 0 = one per 20k req/s, at most one per core (loadtest.workers).' }),
    seed: Flags.string({ summary: 'Seed of generated telemetry and queries (loadtest.seed).' }),
    report: Flags.string({ summary: 'Write a self-contained HTML report here (loadtest.report).' }),
    connections: Flags.string({ char: 'c', summary: 'Connections across all workers (loadtest.connections).' }),
    'max-in-flight': Flags.string({ summary: 'Queued + in-flight requests before new ones are dropped (loadtest.maxInFlight).' }),
    timeout: Flags.string({ summary: 'Per-request timeout, e.g. 10s (loadtest.timeout).' }),
    client: Flags.string({ summary: 'HTTP client (loadtest.client).', options: ['raw', 'http', 'fetch'] }),
    method: Flags.string({ summary: 'Plain HTTP target: method (loadtest.http.method).' }),
    header: Flags.string({ char: 'H', summary: 'Header "Name: value" sent with every request, repeatable (loadtest.http.headers).', multiple: true }),
    body: Flags.string({ summary: 'Plain HTTP target: request body (loadtest.http.body).' }),
    encoding: Flags.string({ summary: 'Gateway target: OTLP body encoding (loadtest.gateway.encoding).', options: ['json', 'protobuf'] }),
  }

  async run(): Promise<LoadtestResult> {
    const f = this.flags
    const { config, sources } = await this.loadConfig({
      'loadtest.target': flagValue(f.target, '--target'),
      'loadtest.kind': flagValue(f.kind, '--kind'),
      'loadtest.profile': flagValue(f.profile, '--profile'),
      'loadtest.rate': flagValue(f.rate, '--rate'),
      'loadtest.duration': flagValue(f.duration, '--duration'),
      'loadtest.stages': flagValue(f.stage, '--stage'),
      'loadtest.thresholds': flagValue(f.threshold, '--threshold'),
      'loadtest.abortOnFail': flagValue(f['abort-on-fail'], '--abort-on-fail'),
      'loadtest.workers': flagValue(f.workers, '--workers'),
      'loadtest.seed': flagValue(f.seed, '--seed'),
      'loadtest.report': flagValue(f.report, '--report'),
      'loadtest.connections': flagValue(f.connections, '--connections'),
      'loadtest.maxInFlight': flagValue(f['max-in-flight'], '--max-in-flight'),
      'loadtest.timeout': flagValue(f.timeout, '--timeout'),
      'loadtest.client': flagValue(f.client, '--client'),
      'loadtest.http.method': flagValue(f.method, '--method'),
      'loadtest.http.headers': flagValue(f.header, '--header'),
      'loadtest.http.body': flagValue(f.body, '--body'),
      'loadtest.gateway.encoding': flagValue(f.encoding, '--encoding'),
    })
    const lt = config.loadtest
    // No target given anywhere: load this deployment's own gateway, wherever its config puts it.
    if (sources['loadtest.target']?.kind === 'default' && config.gateway.port > 0) {
      const host = config.gateway.host === '0.0.0.0' || config.gateway.host === '::' ? '127.0.0.1' : config.gateway.host
      lt.target = `http://${host.includes(':') ? `[${host}]` : host}:${config.gateway.port}`
    }
    // Stages given on the command line mean "run these", whatever profile the config file names.
    if (f.stage && !f.profile) lt.profile = 'custom'
    const src = sources['loadtest.thresholds']
    const spec = buildSpec(
      lt,
      {
        field: src?.kind === 'flag' ? '--threshold' : src?.kind === 'env' ? (src.detail ?? 'AIOPS_LOADTEST_THRESHOLDS') : 'loadtest.thresholds',
        label: src?.kind === 'flag' ? 'flag' : src?.kind === 'file' ? `config ${src.detail}` : (src?.kind ?? 'default'),
      },
      { gateway: config.gateway.port, router: config.router.port },
    )
    const stderr = process.stderr
    const result = await executeLoadtest(spec, {
      // A terminal too narrow to lay out (or one reporting no width) gets the plain lines too.
      progress: { mode: stderr.isTTY && (stderr.columns ?? 0) >= 60 ? 'ink' : 'lines', stream: stderr, intervalS: parseDurationS(lt.progressInterval, 'loadtest.progressInterval') },
      reportPath: lt.report || undefined,
    })
    // With --json, stdout is the result; the one-line verdict still goes to the CI log (oclif mutes its own loggers).
    if (this.jsonEnabled()) process.stderr.write(`${result.summary}\n`)
    else for (const line of summaryLines(result)) this.log(line)
    if (!result.ok) {
      if (this.jsonEnabled()) this.logJson(result)
      this.exit(result.verdict === 'aborted' ? ExitCode.interrupted : ExitCode.thresholdsBreached)
    }
    return result
  }
}
