/**
 * Load for the router benchmark, into HDR histograms (µs), for HTTP (keep-alive sockets, like a dashboard's data
 * source) and for raw Redis GETs (the L2 limit), in two shapes:
 * - closed loop (`concurrency` workers, each sending its next request when the previous answered): the throughput
 *   runs, which measure QPS per core;
 * - open model (`ratePerS` requests per second on a fixed schedule, whatever the answers): the latency runs. A
 *   latency counts from the request's scheduled time, so a stalled server (or load generator) is charged for the
 *   requests it delayed, not only the ones in flight (no coordinated omission).
 */
import { Agent, request } from 'node:http'
import * as hdr from 'hdr-histogram-js'
import { Redis } from 'ioredis'

export interface LoadResult {
  requests: number
  errors: number
  elapsedS: number
  histogram: hdr.Histogram
  /** Headers of the last response (to check X-Cache). */
  lastHeaders: Record<string, string | string[] | undefined>
}

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })
}

const record = (h: hdr.Histogram, fromMs: number): void => h.recordValue(Math.max(1, Math.round((performance.now() - fromMs) * 1000)))

export interface HttpLoad {
  url: string
  durationS: number
  /** Path and body of request number i. */
  next: (i: number) => { path: string; body: string }
  headers?: Record<string, string>
}

/** One POST per call on keep-alive sockets; resolves with the status (0 when the request failed). */
function httpClient(o: HttpLoad, maxSockets: number): { send: (i: number) => Promise<number>; last: () => LoadResult['lastHeaders']; close: () => void } {
  const target = new URL(o.url)
  const agent = new Agent({ keepAlive: true, maxSockets })
  let lastHeaders: LoadResult['lastHeaders'] = {}
  const send = (i: number): Promise<number> =>
    new Promise<number>((resolve) => {
      const { path, body } = o.next(i)
      const r = request({ hostname: target.hostname, port: target.port, path, method: 'POST', agent, headers: { ...o.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        lastHeaders = res.headers
        res.on('data', () => {})
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', () => resolve(0))
      })
      r.on('error', () => resolve(0))
      r.end(body)
    })
  return { send, last: () => lastHeaders, close: () => agent.destroy() }
}

export async function loadHttp(o: HttpLoad & { concurrency: number }): Promise<LoadResult> {
  const c = httpClient(o, o.concurrency)
  const h = histogram()
  let requests = 0
  let errors = 0
  let n = 0
  const t0 = performance.now()
  const end = t0 + o.durationS * 1000
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const s = performance.now()
      const status = await c.send(n++)
      record(h, s)
      requests++
      if (status !== 200) errors++
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker))
  c.close()
  return { requests, errors, elapsedS: (performance.now() - t0) / 1000, histogram: h, lastHeaders: c.last() }
}

/**
 * Calls `fire(i, scheduledAtMs)` for request i at `ratePerS` from now for `durationS`, then waits for the ones in
 * flight. Timers are coarse (≈1 ms), so each tick fires every request that has come due.
 */
async function openModel(ratePerS: number, durationS: number, fire: (i: number, at: number) => Promise<void>): Promise<number> {
  const t0 = performance.now()
  const total = Math.floor(ratePerS * durationS)
  const inFlight = new Set<Promise<void>>()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * ratePerS) / 1000) + 1)
    for (; sent < due; sent++) {
      const p = fire(sent, t0 + (sent * 1000) / ratePerS).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    await new Promise((r) => setTimeout(r, 1))
  }
  await Promise.all(inFlight)
  return (performance.now() - t0) / 1000
}

export async function loadHttpRate(o: HttpLoad & { ratePerS: number }): Promise<LoadResult> {
  const c = httpClient(o, 256)
  const h = histogram()
  let errors = 0
  const elapsedS = await openModel(o.ratePerS, o.durationS, async (i, at) => {
    const status = await c.send(i)
    record(h, at)
    if (status !== 200) errors++
  })
  c.close()
  return { requests: Math.floor(o.ratePerS * o.durationS), errors, elapsedS, histogram: h, lastHeaders: c.last() }
}

export async function loadRedisGet(url: string, key: string, concurrency: number, durationS: number): Promise<LoadResult> {
  const client = new Redis(url)
  const h = histogram()
  let requests = 0
  let errors = 0
  const t0 = performance.now()
  const end = t0 + durationS * 1000
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const s = performance.now()
      const v = await client.getBuffer(key).catch(() => null)
      record(h, s)
      requests++
      if (v === null) errors++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  client.disconnect()
  return { requests, errors, elapsedS: (performance.now() - t0) / 1000, histogram: h, lastHeaders: {} }
}

export async function loadRedisGetRate(url: string, key: string, ratePerS: number, durationS: number): Promise<LoadResult> {
  const client = new Redis(url)
  const h = histogram()
  let errors = 0
  const elapsedS = await openModel(ratePerS, durationS, async (_i, at) => {
    const v = await client.getBuffer(key).catch(() => null)
    record(h, at)
    if (v === null) errors++
  })
  client.disconnect()
  return { requests: Math.floor(ratePerS * durationS), errors, elapsedS, histogram: h, lastHeaders: {} }
}
