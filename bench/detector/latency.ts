/**
 * End-to-end latency of the detector agent: a metric point entering the bus (its record's timestamp) to the
 * anomaly record it causes leaving the agent (received from `aiops.anomalies`), under a steady stream at 70 % of
 * the agent's measured peak. Runs the real DetectorAgent on the in-process bus with the embedded chDB store
 * (anomalies are also inserted there, as in production); spikes are injected in 1 % of points so there are
 * anomalies to time. The per-point latency (every point, from the agent's own histogram) is reported too.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import * as hdr from 'hdr-histogram-js'
import type { Histogram as PromHistogram, Registry } from 'prom-client'
import { DetectorAgent } from '../../src/agents/detector/index.js'
import { MemoryBus } from '../../src/lib/bus/memory.js'
import { MemoryCache } from '../../src/lib/cache/memory.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { decodeAnomaly } from '../../src/lib/detection/records.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'
import type { TierName } from '../../src/lib/detection/types.js'
import { encodeEnvelope } from '../../src/lib/otlp/envelope.js'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { createMetricsRegistry, silentLogger } from '../../src/lib/telemetry/index.js'

export interface LatencyResult {
  tier: TierName
  series: number
  peakPointsPerS: number
  steadyPointsPerS: number
  steadyS: number
  anomalies: number
  anomalyP50Ms: number
  anomalyP99Ms: number
  anomalyMaxMs: number
  /** Upper bound of the histogram bucket holding the 99th percentile of every point's latency. */
  pointP99Ms: number
}

const MIN = 60_000
const T0 = Date.now() - 7 * 24 * 3_600_000
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

class Feed {
  private next: number[]
  private readonly rand = rng(99)
  constructor(private readonly series: number) {
    this.next = new Array<number>(series).fill(0)
  }
  /** `n` records, round-robin over series, timestamped now; every 100th point of a series (after 80) spikes. */
  records(n: number, start: number): Array<{ key: string; value: Buffer; timestampMs: number }> {
    const now = Date.now()
    const out = []
    for (let k = 0; k < n; k++) {
      const s = (start + k) % this.series
      const i = this.next[s]!++
      const spike = i > 80 && i % 100 === 0 ? 40 : 0
      const row = {
        tenant_id: 'bench',
        name: 'lat',
        series: `lat{s=${s}}`,
        service: 'svc',
        ts_ns: (BigInt(T0 + i * MIN) * 1_000_000n).toString(),
        value: 100 + gaussian(this.rand) + spike,
        kind: 'gauge',
      }
      out.push({ key: `bench/lat{s=${s}}`, value: encodeEnvelope({ signal: 'metrics', tenant: 'bench', rows: [row] }), timestampMs: now })
    }
    return out
  }
}

async function handled(registry: Registry): Promise<number> {
  const m = (await registry.getSingleMetric('aiops_detector_points_total')?.get()) as { values: Array<{ value: number }> } | undefined
  return m?.values.reduce((n, v) => n + v.value, 0) ?? 0
}

async function pointP99Ms(registry: Registry): Promise<number> {
  const h = registry.getSingleMetric('aiops_detector_point_latency_seconds') as PromHistogram | undefined
  const v = (await h?.get())?.values ?? []
  const buckets = v.filter((x) => x.metricName?.endsWith('_bucket')).map((x) => ({ le: Number(x.labels.le), n: x.value }))
  const total = buckets.find((b) => !Number.isFinite(b.le))?.n ?? 0
  const at = buckets.find((b) => b.n >= 0.99 * total)
  return at ? at.le * 1000 : NaN
}

export async function agentLatency(tier: TierName, opts: { series: number; seconds: number; modelPath: string }): Promise<LatencyResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aiops-bench-det-'))
  const bus = new MemoryBus({ partitions: 8 })
  const store = new ChdbStore({ path: path.join(dir, 'chdb'), database: 'bench' })
  await applySchema(store, { database: 'bench' })
  const registry = createMetricsRegistry({ defaultMetrics: false })
  const { config } = await resolveConfig({
    cwd: dir,
    env: { AIOPS_STORE_CHDB_DATABASE: 'bench', AIOPS_DETECTOR_DEFAULT_TIER: tier, AIOPS_DETECTOR_ROBUST_MODEL_PATH: opts.modelPath },
  })
  const agent = new DetectorAgent()
  await agent.start({ config, bus, store, cache: new MemoryCache(), registry, logger: silentLogger })
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 })
  let measuring = false
  let anomalies = 0
  const watcher = await bus.consume(config.bus.topics.anomalies, 'bench-watch', async (b) => {
    const now = Date.now()
    for (const r of b.records) {
      const a = decodeAnomaly(r.value)
      if (!measuring || a.state !== 'open' || a.sourceMs === undefined) continue
      hist.recordValue(Math.max(1, now - a.sourceMs))
      anomalies++
    }
  })
  const feed = new Feed(opts.series)
  let sent = 0
  const produce = async (n: number): Promise<void> => {
    for (let done = 0; done < n; done += 2000) {
      const k = Math.min(2000, n - done)
      await bus.produce(config.bus.topics.metrics, feed.records(k, sent))
      sent += k
    }
  }
  const drained = async (limitS: number): Promise<void> => {
    const t0 = performance.now()
    while ((await handled(registry)) < sent) {
      if (performance.now() - t0 > limitS * 1000) throw new Error(`${tier}: agent did not keep up (${await handled(registry)} of ${sent})`)
      await sleep(5)
    }
  }
  try {
    // Warm every series (model windows full), then the peak: as many points as the agent can take, end to end.
    await produce(opts.series * 80)
    await drained(120)
    const peakN = Math.max(50_000, opts.series * 20)
    const t0 = performance.now()
    await produce(peakN)
    await drained(120)
    const peak = peakN / ((performance.now() - t0) / 1000)

    // Steady stream at 70 % of peak, in 10 ms ticks, every record stamped as it enters the bus.
    const rate = 0.7 * peak
    await sleep(500) // the last peak batches finish publishing before the per-point histogram restarts
    ;(registry.getSingleMetric('aiops_detector_point_latency_seconds') as PromHistogram | undefined)?.reset()
    measuring = true
    const start = performance.now()
    let target = 0
    while (performance.now() - start < opts.seconds * 1000) {
      target = Math.floor(((performance.now() - start) / 1000) * rate)
      if (target > 0) {
        const n = target - (sent - peakN - opts.series * 80)
        if (n > 0) await produce(n)
      }
      await sleep(10)
    }
    await drained(60)
    await sleep(200)
    const steadyS = (performance.now() - start) / 1000
    return {
      tier,
      series: opts.series,
      peakPointsPerS: peak,
      steadyPointsPerS: target / opts.seconds,
      steadyS,
      anomalies,
      anomalyP50Ms: hist.getValueAtPercentile(50),
      anomalyP99Ms: hist.getValueAtPercentile(99),
      anomalyMaxMs: hist.maxValue,
      pointP99Ms: await pointP99Ms(registry),
    }
  } finally {
    await watcher.stop()
    await agent.stop()
    await bus.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}
