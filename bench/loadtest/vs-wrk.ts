/**
 * aiops loadtest against wrk (Debian package), on the same node:http target on loopback, in one run:
 *
 * 1. Max request rate per core: wrk -t1 -cC at full speed, and aiops (one worker, C connections, an arrival rate
 *    above what the target takes, maxInFlight = C) with each HTTP client (raw sockets, node:http, fetch). Per core
 *    = requests completed ÷ CPU seconds the load generator used (wrk: the shell's `times` for the child; aiops: the
 *    worker's process.cpuUsage), so the target's own limit does not decide the comparison. Goal: aiops ≥ 0.7 × wrk.
 * 2. Latency at a low fixed rate: wrk over one connection throttled with a Lua delay() of 1/R (wrk is closed-model:
 *    it measures from the actual send), then aiops offering the rate wrk achieved (open model, precise timing), on an
 *    instant endpoint and on one that answers after 5 ms. Percentiles side by side; goal within 10%.
 *
 * Usage: npx tsx bench/loadtest/vs-wrk.ts [--duration 10] [--connections 32] [--low-rate 200] [--rounds 3]
 * Writes bench/results/loadtest-vs-wrk.json.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveConfig } from '../../src/lib/config/index.js'
import { buildSpec } from '../../src/lib/loadgen/options.js'
import { runLoadtest } from '../../src/lib/loadgen/run.js'

const args = process.argv.slice(2)
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : def
}
const DURATION = arg('duration', 10)
const CONNECTIONS = arg('connections', 32)
const LOW_RATE = arg('low-rate', 200)
const ROUNDS = arg('rounds', 3)
const ROOT = path.resolve(import.meta.dirname, '../..')

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is not installed: apt-get install wrk (scripts/system-deps.sh lists it)')
  process.exit(1)
}

/** The target: a plain node:http server in its own process (so it does not share a core with aiops's event loop). */
async function startTarget(): Promise<{ url: string; stop: () => void }> {
  // `/` answers at once; `/slow` after 5 ms (a timer, not CPU), like a service that waits on a database.
  const code = `const http=require('http');const s=http.createServer((q,r)=>{r.setHeader('content-type','text/plain');if(q.url==='/slow')setTimeout(()=>r.end('hello world'),5);else r.end('hello world')});s.keepAliveTimeout=60000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))))
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() }
}

interface WrkRun {
  requests: number
  rps: number
  cpuS: number
  latencyMs: Record<'p50' | 'p75' | 'p90' | 'p99', number>
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 }

interface LowRate {
  endpoint: string
  wrk: { rps: number; p50: number; p90: number; p99: number }
  aiopsLatency: { rps: number; p50: number | null; p90: number | null; p99: number | null }
  aiopsServiceTime: { p50: number | null; p90: number | null; p99: number | null }
  latencyVsWrk: { p50: number | null; p90: number | null; p99: number | null }
}

/** Runs wrk under `sh -c '…; times'`: the shell's `times` prints the CPU its children (wrk) used. */
function wrk(url: string, connections: number, seconds: number, script?: string): WrkRun {
  const scriptArg = script ? `-s ${script}` : ''
  const r = spawnSync('sh', ['-c', `wrk -t1 -c${connections} -d${seconds}s --latency ${scriptArg} ${url}; times`], { encoding: 'utf8' })
  const out = r.stdout
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)
  const times = out.trim().split('\n').slice(-1)[0]!.match(/(\d+)m([\d.]+)s/g) ?? []
  const cpuS = times.map((t) => { const m = /(\d+)m([\d.]+)s/.exec(t)!; return Number(m[1]) * 60 + Number(m[2]) }).reduce((a, b) => a + b, 0)
  const pct = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out)
    return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN
  }
  return { requests, rps, cpuS, latencyMs: { p50: pct('50'), p75: pct('75'), p90: pct('90'), p99: pct('99') } }
}

async function aiops(url: string, flags: Record<string, unknown>) {
  const f = Object.fromEntries(Object.entries({ target: url, workers: 1, thresholds: ['error_rate<1%'], ...flags }).map(([k, v]) => [`loadtest.${k}`, { value: v, flag: `--${k}` }]))
  const { config } = await resolveConfig({ env: {}, cwd: ROOT, flags: f })
  return runLoadtest(buildSpec(config.loadtest, { field: 'bench', label: 'bench' }), { workerMode: 'inline' })
}

const target = await startTarget()
await sleep(300)
const results: Record<string, unknown> = {}
try {
  // 1. Throughput per core. wrk and aiops (raw client) alternate for ROUNDS rounds and the medians are compared, so
  //    a neighbour's load on a shared machine hits both alike; node:http and fetch run once, for the client choice.
  wrk(target.url, CONNECTIONS, 2) // warm the target's JIT before anything is measured
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const rounds: Array<{ wrk: WrkRun; aiops: { rps: number; cpuS: number; perCore: number; dropped: number } }> = []
  const runAiops = async (client: 'raw' | 'http' | 'fetch', rate: number) => {
    // An arrival rate above what the target takes, with a queue (maxInFlight 8 × connections) so no connection ever
    // idles waiting for the next timer tick: the open-model equivalent of wrk's back-to-back requests.
    const r = await aiops(target.url, { client, rate, duration: `${DURATION}s`, connections: CONNECTIONS, maxInFlight: CONNECTIONS * 8, timing: 'coarse' })
    return { rps: r.totals.rps, cpuS: r.generator.cpuS, perCore: r.totals.completed / r.generator.cpuS, dropped: r.totals.dropped }
  }
  for (let i = 0; i < ROUNDS; i++) {
    const w = wrk(target.url, CONNECTIONS, DURATION)
    rounds.push({ wrk: w, aiops: await runAiops('raw', Math.round(w.rps * 1.3)) })
  }
  const wrkPerCore = median(rounds.map((r) => r.wrk.requests / r.wrk.cpuS))
  const wrkRps = median(rounds.map((r) => r.wrk.rps))
  const throughput: Array<{ tool: string; rps: number; cpuS: number; perCore: number; vsWrk: number; dropped?: number; rounds?: number[] }> = [
    { tool: 'wrk -t1', rps: wrkRps, cpuS: median(rounds.map((r) => r.wrk.cpuS)), perCore: wrkPerCore, vsWrk: 1, rounds: rounds.map((r) => Math.round(r.wrk.requests / r.wrk.cpuS)) },
    {
      tool: 'aiops --client raw',
      rps: median(rounds.map((r) => r.aiops.rps)),
      cpuS: median(rounds.map((r) => r.aiops.cpuS)),
      perCore: median(rounds.map((r) => r.aiops.perCore)),
      vsWrk: median(rounds.map((r) => r.aiops.perCore)) / wrkPerCore,
      dropped: median(rounds.map((r) => r.aiops.dropped)),
      rounds: rounds.map((r) => Math.round(r.aiops.perCore)),
    },
  ]
  for (const client of ['http', 'fetch'] as const) {
    const a = await runAiops(client, Math.round(wrkRps * 1.3))
    throughput.push({ tool: `aiops --client ${client}`, ...a, vsWrk: a.perCore / wrkPerCore })
  }
  results.throughput = throughput

  // 2. Latency at a low fixed rate over one connection, against an instant and a 5 ms endpoint.
  const script = path.join(os.tmpdir(), `aiops-wrk-delay-${process.pid}.lua`)
  writeFileSync(script, `function delay() return ${(1000 / LOW_RATE).toFixed(3)} end\n`)
  const ratio = (a: number | null, b: number): number | null => (a === null || !b ? null : Number((a / b).toFixed(3)))
  const lowRate: LowRate[] = []
  for (const endpoint of ['', 'slow']) {
    const url = target.url + endpoint
    // wrk first (one connection, think time 1/rate); aiops then offers the rate wrk achieved, over 4 connections so a
    // slow response never queues the next one (wrk's achieved rate is below 1/think time by the service time).
    // Alternating rounds, medians per percentile: a neighbour's burst on a shared machine then hits both alike.
    const w: WrkRun[] = []
    const a: Array<Awaited<ReturnType<typeof aiops>>> = []
    for (let i = 0; i < ROUNDS; i++) {
      w.push(wrk(url, 1, DURATION, script))
      a.push(await aiops(url, { rate: Math.max(1, Math.round(w[i]!.rps)), duration: `${DURATION}s`, connections: 4, timing: 'precise' }))
    }
    const m = (xs: Array<number | null>): number | null => (xs.some((x) => x === null) ? null : median(xs as number[]))
    const wl = { rps: median(w.map((x) => x.rps)), p50: median(w.map((x) => x.latencyMs.p50)), p90: median(w.map((x) => x.latencyMs.p90)), p99: median(w.map((x) => x.latencyMs.p99)) }
    const lat = { rps: median(a.map((x) => x.totals.rps)), p50: m(a.map((x) => x.latency.p50)), p90: m(a.map((x) => x.latency.p90)), p99: m(a.map((x) => x.latency.p99)) }
    const svc = { p50: m(a.map((x) => x.serviceTime.p50)), p90: m(a.map((x) => x.serviceTime.p90)), p99: m(a.map((x) => x.serviceTime.p99)) }
    lowRate.push({
      endpoint: `/${endpoint}`,
      wrk: wl,
      aiopsLatency: lat,
      aiopsServiceTime: svc,
      latencyVsWrk: { p50: ratio(lat.p50, wl.p50), p90: ratio(lat.p90, wl.p90), p99: ratio(lat.p99, wl.p99) },
    })
  }
  results.lowRate = { rate: LOW_RATE, endpoints: lowRate }

  // The table.
  console.log(`\naiops loadtest vs wrk — node:http target on loopback, ${DURATION}s runs, ${os.cpus().length} cores (load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})\n`)
  console.log('max rate           requests/s   CPU s   requests per CPU-second   vs wrk   dropped')
  for (const t of throughput) console.log(`${t.tool.padEnd(18)} ${t.rps.toFixed(0).padStart(10)}   ${t.cpuS.toFixed(2).padStart(5)}   ${t.perCore.toFixed(0).padStart(23)}   ${t.vsWrk.toFixed(2).padStart(6)}   ${t.dropped ?? '-'}`)
  const f = (v: number | null): string => (v === null || Number.isNaN(v) ? '-' : `${v.toFixed(3)}ms`)
  for (const lr of lowRate) {
    console.log(`\nlow fixed rate, GET ${lr.endpoint}`.padEnd(37) + 'rate/s        p50        p90        p99')
    console.log(`wrk (closed model, Lua delay)       ${lr.wrk.rps.toFixed(0).padStart(6)} ${f(lr.wrk.p50).padStart(10)} ${f(lr.wrk.p90).padStart(10)} ${f(lr.wrk.p99).padStart(10)}`)
    console.log(`aiops, from scheduled send          ${lr.aiopsLatency.rps.toFixed(0).padStart(6)} ${f(lr.aiopsLatency.p50).padStart(10)} ${f(lr.aiopsLatency.p90).padStart(10)} ${f(lr.aiopsLatency.p99).padStart(10)}`)
    console.log(`aiops, from actual send             ${''.padStart(6)} ${f(lr.aiopsServiceTime.p50).padStart(10)} ${f(lr.aiopsServiceTime.p90).padStart(10)} ${f(lr.aiopsServiceTime.p99).padStart(10)}`)
    const r = lr.latencyVsWrk
    console.log(`aiops ÷ wrk                                ${String(r.p50).padStart(8)}   ${String(r.p90).padStart(8)}   ${String(r.p99).padStart(8)}`)
  }
} finally {
  target.stop()
}
const file = path.join(ROOT, 'bench/results/loadtest-vs-wrk.json')
mkdirSync(path.dirname(file), { recursive: true })
writeFileSync(file, JSON.stringify({ bench: 'loadtest-vs-wrk', at: new Date().toISOString(), durationS: DURATION, connections: CONNECTIONS, host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() }, ...results }, null, 2))
console.log(`\nwrote ${path.relative(ROOT, file)}`)
