/**
 * The load side of the gateway benchmark: HTTP POSTs of pre-encoded OTLP bodies over keep-alive connections, either
 * closed-loop (N clients back to back: finds the peak) or open-loop at a fixed arrival rate (latency at a given load;
 * each request's latency counts from when it was due, so a stalled server cannot hide its queueing — no coordinated
 * omission).
 */
import { Agent, request } from 'node:http'

export interface LoadResult {
  requests: number
  ok: number
  statuses: Record<string, number>
  wallS: number
  /** Latencies in ms, sorted. */
  latenciesMs: number[]
}

export interface LoadTarget {
  url: string
  bodies: Buffer[]
  headers: Record<string, string>
}

function post(agent: Agent, t: LoadTarget, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(t.url, { method: 'POST', agent, headers: { ...t.headers, 'content-length': body.length } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(0))
    })
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

function finish(statuses: Record<string, number>, latencies: number[], wallS: number): LoadResult {
  latencies.sort((a, b) => a - b)
  const requests = latencies.length
  return { requests, ok: statuses['200'] ?? 0, statuses, wallS, latenciesMs: latencies }
}

/** `concurrency` clients, each sending its next request as soon as the previous one is answered. */
export async function closedLoop(t: LoadTarget, concurrency: number, durationS: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const statuses: Record<string, number> = {}
  const latencies: number[] = []
  const t0 = performance.now()
  const end = t0 + durationS * 1000
  let i = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const body = t.bodies[i++ % t.bodies.length]!
        const start = performance.now()
        const status = await post(agent, t, body)
        latencies.push(performance.now() - start)
        statuses[status] = (statuses[status] ?? 0) + 1
      }
    }),
  )
  agent.destroy()
  return finish(statuses, latencies, (performance.now() - t0) / 1000)
}

/** Requests due every 1/rate s for durationS; latency counted from each request's due time. */
export async function openLoop(t: LoadTarget, ratePerS: number, durationS: number, maxSockets = 64): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets })
  const statuses: Record<string, number> = {}
  const latencies: number[] = []
  const total = Math.max(1, Math.round(ratePerS * durationS))
  const t0 = performance.now()
  const pending: Array<Promise<void>> = []
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / ratePerS
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    const body = t.bodies[i % t.bodies.length]!
    pending.push(
      post(agent, t, body).then((status) => {
        latencies.push(performance.now() - due)
        statuses[status] = (statuses[status] ?? 0) + 1
      }),
    )
  }
  await Promise.all(pending)
  agent.destroy()
  return finish(statuses, latencies, (performance.now() - t0) / 1000)
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN
  return sortedMs[Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1))]!
}
