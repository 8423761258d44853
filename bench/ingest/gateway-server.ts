/**
 * One side of the gateway benchmark, run as its own process so its CPU time is its own (bench/ingest/gateway.ts forks
 * it and asks for process.cpuUsage() over IPC around each measured window):
 *   gateway BROKERS COMPRESSION LEVEL — the GatewayAgent on a KafkaBus (what is measured)
 *   http                        — a raw node:http server that only reads the body and answers 200 (the HTTP limit)
 *   kafka BROKERS COMPRESSION LEVEL   — a raw kafkajs producer sending the records the gateway would send (the Kafka limit)
 * Messages in: {cmd: 'cpu'} → {cpu: seconds, loop: {p99Ms, maxMs} event-loop delay since the last ask}; {cmd: 'kafka', seconds, inflight} → runs the raw producer
 * loop and answers {spans, wallS, cpuS}; {cmd: 'stop'}. Message out on start: {ready: true, url?}.
 */
import { createServer } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { AddressInfo } from 'node:net'
import kafkajs from 'kafkajs'
import { toBusRecords } from '../../src/agents/gateway/envelopes.js'
import { KafkaBus } from '../../src/lib/bus/kafka.js'
import { installGzipLevel } from '../../src/lib/bus/kafka-gzip.js'
import { partitionForKey } from '../../src/lib/bus/partitioner.js'
import { decodeTraceRequestJson, traceRows } from '../../src/lib/otlp/index.js'
import { startGateway } from '../../test/fixtures/otlp/gateway-harness.js'
import { spanRequest } from '../lib/gateway-spans.js'

const [role, brokersArg = '', compression = 'gzip', levelArg = '1'] = process.argv.slice(2)
const gzipLevel = Number(levelArg)
const brokers = brokersArg.split(',').filter(Boolean)
const send = (m: unknown): void => void process.send?.(m)
const cpuSeconds = (): number => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1e6
}

let stop: () => Promise<void> = async () => {}

// Event-loop delay between two 'cpu' asks (one measured window): how long a ready request could wait for the loop.
const loopDelay = monitorEventLoopDelay({ resolution: 5 })
loopDelay.enable()
const loopStats = (): { p99Ms: number; maxMs: number } => {
  const out = { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 }
  loopDelay.reset()
  return out
}

process.on('message', (m: { cmd: string; seconds?: number; inflight?: number; requests?: number }) => {
  if (m.cmd === 'cpu') send({ cpu: cpuSeconds(), loop: loopStats() })
  else if (m.cmd === 'kafka') void rawKafka(m.seconds ?? 5, m.inflight ?? 4, m.requests ?? 50).then(send)
  else if (m.cmd === 'stop') void stop().then(() => process.exit(0))
})

if (role === 'gateway') {
  const bus = new KafkaBus({ brokers, clientId: 'bench-gateway', idempotent: false, compression: compression as 'gzip' | 'none', compressionLevel: gzipLevel, logLevel: 'silent' })
  // AIOPS_* variables of the benchmark's environment apply too (experiments: AIOPS_GATEWAY_BUFFER_PRODUCE_CONCURRENCY=1 …).
  const passed = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('AIOPS_') && e[1] !== undefined))
  const gw = await startGateway(bus, {
    ...passed,
    AIOPS_GATEWAY_PORT: '0',
    // Nothing consumes in this benchmark: without this, growing consumer lag would start sampling mid-run.
    AIOPS_RESILIENCE_BACKPRESSURE_LAG_THRESHOLD: String(1e15),
    AIOPS_GATEWAY_BUFFER_MAX_BYTES: String(256 * 1024 * 1024),
  })
  stop = async () => {
    await gw.stop()
    await bus.close()
  }
  send({ ready: true, url: gw.url })
} else if (role === 'http') {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      Buffer.concat(chunks)
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf', 'content-length': 0 })
      res.end()
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  stop = () => new Promise((r) => server.close(() => r()))
  send({ ready: true, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
} else if (role === 'kafka') {
  send({ ready: true })
} else {
  throw new Error(`unknown role ${role}: gateway | http | kafka`)
}

/**
 * The raw Kafka limit: the bus records of `requests` distinct 100-span requests (exactly what the gateway produces
 * for them), sent with kafkajs as one send per request, `inflight` sends at a time, acks=all, same compression,
 * partition chosen the way the bus chooses it.
 */
async function rawKafka(seconds: number, inflight: number, requests: number): Promise<{ spans: number; wallS: number; cpuS: number }> {
  const kafka = new kafkajs.Kafka({ clientId: 'bench-raw', brokers, logLevel: kafkajs.logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const partitions = (await admin.fetchTopicMetadata({ topics: ['aiops.traces'] })).topics[0]!.partitions.length
  await admin.disconnect()
  const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1 })
  await producer.connect()
  const batches = Array.from({ length: requests }, (_, i) => {
    const req = decodeTraceRequestJson(JSON.stringify(spanRequest({ spans: 100, seed: i + 1 })))
    const { records } = toBusRecords('traces', 'default', traceRows(req, { tenant: 'default' }).rows)
    return records.map((r) => ({ key: r.key, value: r.value, partition: partitionForKey(r.key, partitions) }))
  })
  const codec = compression === 'none' ? kafkajs.CompressionTypes.None : kafkajs.CompressionTypes.GZIP
  installGzipLevel(kafkajs, gzipLevel) // the same codec and level as the gateway's bus
  const cpu0 = cpuSeconds()
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  let sent = 0
  let i = 0
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (performance.now() < end) {
        await producer.send({ topic: 'aiops.traces', messages: batches[i++ % batches.length]!, acks: -1, compression: codec })
        sent += 100
      }
    }),
  )
  const wallS = (performance.now() - t0) / 1000
  const cpuS = cpuSeconds() - cpu0
  await producer.disconnect()
  return { spans: sent, wallS, cpuS }
}
