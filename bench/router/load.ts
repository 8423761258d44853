/**
 * Closed-loop load for the router benchmark: `concurrency` workers, each sending its next request as soon as the
 * previous answered, for `durationS`; latencies into an HDR histogram (µs). One for HTTP (keep-alive sockets, like a
 * dashboard's data source) and one for raw Redis GETs (the L2 limit).
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

export interface HttpLoad {
  url: string
  concurrency: number
  durationS: number
  /** Path and body of request number i. */
  next: (i: number) => { path: string; body: string }
  headers?: Record<string, string>
}

export async function loadHttp(o: HttpLoad): Promise<LoadResult> {
  const target = new URL(o.url)
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency })
  const h = histogram()
  let requests = 0
  let errors = 0
  let n = 0
  let lastHeaders: LoadResult['lastHeaders'] = {}
  const t0 = performance.now()
  const end = t0 + o.durationS * 1000
  const one = (path: string, body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const r = request({ hostname: target.hostname, port: target.port, path, method: 'POST', agent, headers: { ...o.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        lastHeaders = res.headers
        res.on('data', () => {})
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      })
      r.on('error', reject)
      r.end(body)
    })
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const { path, body } = o.next(n++)
      const s = performance.now()
      const status = await one(path, body).catch(() => 0)
      h.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)))
      requests++
      if (status !== 200) errors++
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker))
  agent.destroy()
  return { requests, errors, elapsedS: (performance.now() - t0) / 1000, histogram: h, lastHeaders }
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
      h.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)))
      requests++
      if (v === null) errors++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  client.disconnect()
  return { requests, errors, elapsedS: (performance.now() - t0) / 1000, histogram: h, lastHeaders: {} }
}
