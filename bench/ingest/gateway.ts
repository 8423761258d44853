/**
 * Gateway throughput and latency, OTLP protobuf and JSON, 100 spans per request, into a 3-broker Kafka mock cluster —
 * beside its limits on the same machine and data, in the same run:
 *   - http limit:  a raw node:http server that only reads the body (same bodies, same clients);
 *   - kafka limit: a raw kafkajs producer sending the records the gateway produces for those requests;
 *   - combined limit: one process doing both, per core = 1 / (1/http + 1/kafka) — the work the gateway cannot avoid.
 * Each server side runs in its own process (bench/ingest/gateway-server.ts) so "spans/s per core" is spans divided by
 * that process's CPU seconds. Peak = closed loop (N clients back to back); then an open loop at 70% of the peak rate
 * gives the latency at a sustainable load, and the raw node:http server driven at that same rate gives the machine's
 * latency floor beside it.
 *
 *   npx tsx bench/ingest/gateway.ts [--duration S] [--clients N] [--compression gzip|none] [--gzip-level 1-9] [--profile]
 *
 * Prints a table and writes bench/results/gateway.json (--profile also writes a CPU profile of the gateway process
 * under bench/results/profiles/ and prints its summary). Goals (issue #3): ≥ 50K spans/s per core, ≥ 0.8 × the
 * limit, p99 < 20 ms at 70% of peak.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { encodeExportTraceRequest } from '../../src/lib/otlp/index.js'
import { startKafka } from '../../test/support/kafka.js'
import { closedLoop, openLoop, percentile, type LoadResult, type LoadTarget } from '../lib/gateway-load.js'
import { spanRequest } from '../lib/gateway-spans.js'
import { printSummary, summarise, type ProfileSummary } from './gateway-profile.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    clients: { type: 'string', default: '8' },
    compression: { type: 'string', default: 'gzip' },
    'gzip-level': { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
  },
})
const durationS = Number(values.duration)
const clients = Number(values.clients)
const compression = values.compression === 'none' ? 'none' : 'gzip'
const gzipLevel = String(Math.min(9, Math.max(1, Number(values['gzip-level']) || 1)))
const SPANS = 100
const here = path.dirname(fileURLToPath(import.meta.url))
const resultsDir = path.resolve(here, '../results')
const profileDir = path.join(resultsDir, 'profiles')
const log = (s: string): void => void process.stderr.write(`${s}\n`)

interface Child {
  proc: ChildProcess
  url?: string
  ask<T>(msg: object): Promise<T>
  stop(): Promise<void>
}

async function spawn(args: string[], profile = false): Promise<Child> {
  const execArgv = ['--import', 'tsx', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])]
  const proc = fork(path.join(here, 'gateway-server.ts'), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ready = await new Promise<{ url?: string }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as { url?: string }))
    proc.once('exit', (code) => reject(new Error(`${args[0]} server exited (${code}) before it was ready`)))
  })
  const ask = <T>(msg: object): Promise<T> =>
    new Promise((resolve) => {
      proc.once('message', (m) => resolve(m as T))
      proc.send(msg)
    })
  return {
    proc,
    ...(ready.url ? { url: ready.url } : {}),
    ask,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve())
        proc.send({ cmd: 'stop' })
      }),
  }
}

interface Row {
  scenario: string
  format: 'protobuf' | 'json' | '-'
  mode: string
  requests: number
  ok: number
  spansPerS: number
  cpuS: number
  spansPerCoreS: number
  p50Ms?: number
  p95Ms?: number
  p99Ms?: number
  /** Event-loop delay of the measured process over the window (its stalls show up in request latency). */
  loopP99Ms?: number
  loopMaxMs?: number
  statuses?: Record<string, number>
}

async function measure(child: Child, scenario: string, format: Row['format'], mode: string, run: () => Promise<LoadResult>): Promise<Row> {
  const cpu0 = (await child.ask<{ cpu: number }>({ cmd: 'cpu' })).cpu
  const r = await run()
  const after = await child.ask<{ cpu: number; loop: { p99Ms: number; maxMs: number } }>({ cmd: 'cpu' })
  const cpuS = after.cpu - cpu0
  const spans = r.ok * SPANS
  const row: Row = {
    scenario, format, mode, requests: r.requests, ok: r.ok,
    spansPerS: Math.round(spans / r.wallS), cpuS: Number(cpuS.toFixed(2)), spansPerCoreS: Math.round(spans / cpuS),
    p50Ms: round(percentile(r.latenciesMs, 50)), p95Ms: round(percentile(r.latenciesMs, 95)), p99Ms: round(percentile(r.latenciesMs, 99)),
    loopP99Ms: round(after.loop.p99Ms), loopMaxMs: round(after.loop.maxMs),
    statuses: r.statuses,
  }
  log(`  ${scenario} ${format} ${mode}: ${row.spansPerS} spans/s, ${row.spansPerCoreS} spans/s per core, p99 ${row.p99Ms} ms`)
  return row
}

const round = (n: number): number => Math.round(n * 100) / 100

async function main(): Promise<void> {
  await rm(profileDir, { recursive: true, force: true })
  await mkdir(profileDir, { recursive: true })
  log(`gateway bench: ${durationS}s per phase, ${clients} clients, compression ${compression}${compression === 'gzip' ? ` level ${gzipLevel}` : ''}, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  const requests = Array.from({ length: 50 }, (_, i) => spanRequest({ spans: SPANS, seed: i + 1 }))
  const bodies = {
    protobuf: requests.map((r) => Buffer.from(encodeExportTraceRequest(r))),
    json: requests.map((r) => Buffer.from(JSON.stringify(r))),
  }
  const headers = { protobuf: { 'content-type': 'application/x-protobuf' }, json: { 'content-type': 'application/json' } }
  const avg = (b: Buffer[]): number => Math.round(b.reduce((n, x) => n + x.length, 0) / b.length)
  log(`bodies: protobuf ${avg(bodies.protobuf)} B, json ${avg(bodies.json)} B per ${SPANS}-span request`)
  const kafka = await startKafka({ brokers: 3, topics: [{ name: 'aiops.traces', partitions: 12 }, 'aiops.metrics', 'aiops.logs', 'aiops.control'] })
  const rows: Row[] = []
  const target = (url: string, f: 'protobuf' | 'json'): LoadTarget => ({ url: `${url}/v1/traces`, bodies: bodies[f], headers: headers[f] })
  try {
    log('http limit: raw node:http server reading the body')
    const http = await spawn(['http'])
    for (const f of ['protobuf', 'json'] as const) rows.push(await measure(http, 'raw node:http', f, `closed ${clients}`, () => closedLoop(target(http.url!, f), clients, durationS)))
    await http.stop()

    log('kafka limit: raw kafkajs producer, same records')
    const raw = await spawn(['kafka', kafka.bootstrap, compression, gzipLevel])
    const k = await raw.ask<{ spans: number; wallS: number; cpuS: number }>({ cmd: 'kafka', seconds: durationS, inflight: 4, requests: 50 })
    rows.push({ scenario: 'raw kafkajs', format: '-', mode: '4 sends in flight', requests: k.spans / SPANS, ok: k.spans / SPANS, spansPerS: Math.round(k.spans / k.wallS), cpuS: round(k.cpuS), spansPerCoreS: Math.round(k.spans / k.cpuS) })
    log(`  raw kafkajs: ${rows.at(-1)!.spansPerS} spans/s, ${rows.at(-1)!.spansPerCoreS} per core`)
    await raw.stop()

    log('gateway → 3-broker Kafka mock')
    const gw = await spawn(['gateway', kafka.bootstrap, compression, gzipLevel], values.profile)
    await closedLoop(target(gw.url!, 'protobuf'), clients, Math.min(2, durationS)) // warm-up (JIT, connections)
    for (const f of ['protobuf', 'json'] as const) {
      const peak = await measure(gw, 'gateway', f, `closed ${clients} (peak)`, () => closedLoop(target(gw.url!, f), clients, durationS))
      rows.push(peak)
      const reqPerS = Math.max(1, (0.7 * peak.spansPerS) / SPANS)
      rows.push(await measure(gw, 'gateway', f, `open ${Math.round(reqPerS)} req/s (70% of peak)`, () => openLoop(target(gw.url!, f), reqPerS, durationS)))
    }
    await gw.stop()

    // The latency floor of this machine at the same open-loop rates: a server that does nothing but read the body,
    // driven by the same generator. Its p99 is what scheduling on the shared cores costs before the gateway does any work.
    log('latency floor: raw node:http at the gateway\'s 70% rates')
    const floor = await spawn(['http'])
    for (const f of ['protobuf', 'json'] as const) {
      const at70 = rows.find((r) => r.scenario === 'gateway' && r.format === f && r.mode.includes('70%'))!
      const reqPerS = Math.max(1, at70.spansPerS / SPANS)
      rows.push(await measure(floor, 'raw node:http', f, `open ${Math.round(reqPerS)} req/s (gateway's 70% rate)`, () => openLoop(target(floor.url!, f), reqPerS, durationS)))
    }
    await floor.stop()
  } finally {
    await kafka.stop()
  }

  const find = (scenario: string, format: Row['format'], mode = ''): Row => rows.find((r) => r.scenario === scenario && r.format === format && r.mode.includes(mode))!
  const kafkaLimit = find('raw kafkajs', '-').spansPerCoreS
  const comparisons = (['protobuf', 'json'] as const).map((f) => {
    const httpLimit = find('raw node:http', f, 'closed').spansPerCoreS
    const combined = Math.round(1 / (1 / httpLimit + 1 / kafkaLimit))
    const peak = find('gateway', f, 'peak')
    const at70 = find('gateway', f, '70%')
    return {
      format: f,
      gatewaySpansPerCoreS: peak.spansPerCoreS,
      httpLimitPerCoreS: httpLimit,
      kafkaLimitPerCoreS: kafkaLimit,
      combinedLimitPerCoreS: combined,
      vsCombinedLimit: round(peak.spansPerCoreS / combined),
      p99MsAt70: at70.p99Ms,
      /** p99 of the raw node:http server at the same open-loop rate: the machine's floor under this generator. */
      floorP99MsAt70: find('raw node:http', f, '70% rate').p99Ms,
      goals: { perCore50k: peak.spansPerCoreS >= 50_000, vsLimit08: peak.spansPerCoreS >= 0.8 * combined, p99Under20ms: (at70.p99Ms ?? Infinity) < 20 },
    }
  })

  let profile: ProfileSummary | undefined
  if (values.profile) {
    // tsx's module loader runs in a worker thread that writes its own small profile: the main thread's is the largest.
    const files = await Promise.all(
      (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile')).map(async (f) => ({ f, size: (await stat(path.join(profileDir, f))).size })),
    )
    const main = files.sort((a, b) => b.size - a.size)[0]
    if (main) profile = await summarise(path.join(profileDir, main.f))
  }

  const header = ['scenario', 'format', 'mode', 'spans/s', 'CPU s', 'spans/s/core', 'p50 ms', 'p95 ms', 'p99 ms', 'loop p99/max ms']
  const loop = (r: Row): string => (r.loopP99Ms === undefined ? '-' : `${r.loopP99Ms}/${r.loopMaxMs}`)
  const table = rows.map((r) => [r.scenario, r.format, r.mode, String(r.spansPerS), String(r.cpuS), String(r.spansPerCoreS), fmt(r.p50Ms), fmt(r.p95Ms), fmt(r.p99Ms), loop(r)])
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  console.log(line(header))
  for (const t of table) console.log(line(t))
  console.log('')
  for (const c of comparisons) {
    console.log(
      `${c.format}: gateway ${c.gatewaySpansPerCoreS} spans/s/core = ${c.vsCombinedLimit} × limit ${c.combinedLimitPerCoreS} ` +
        `(http ${c.httpLimitPerCoreS}, kafka ${c.kafkaLimitPerCoreS}); p99 at 70% ${c.p99MsAt70} ms (raw node:http at that rate: ${c.floorP99MsAt70} ms); goals ${JSON.stringify(c.goals)}`,
    )
  }
  if (profile) printSummary(profile, (l) => console.log(l))

  await mkdir(resultsDir, { recursive: true })
  const out = {
    bench: 'gateway',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version, note: 'shared machine unless stated otherwise' },
    settings: { durationS, clients, compression, gzipLevel: compression === 'gzip' ? Number(gzipLevel) : undefined, spansPerRequest: SPANS, distinctRequests: 50, kafka: '3-broker librdkafka mock, aiops.traces with 12 partitions, acks=all, idempotence off' },
    results: rows,
    comparisons,
    ...(profile ? { profile } : {}),
  }
  await writeFile(path.join(resultsDir, 'gateway.json'), JSON.stringify(out, null, 2))
  log(`wrote ${path.join(resultsDir, 'gateway.json')}`)
}

const fmt = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '-' : String(n))

await main()
