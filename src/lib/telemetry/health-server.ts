/**
 * Every agent's telemetry endpoint: /healthz (alive), /readyz (dependencies reachable), /metrics (Prometheus).
 *
 * Dependency checks run in the background, one round at a time, every probeIntervalMs, each bounded by a
 * timeout shorter than the interval; /readyz serves the last report. So a dependency going down shows within
 * one interval, a hung dependency cannot make probes pile up, and a probe storm from Kubernetes costs nothing.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { UsageError } from '../errors.js'
import { type Clock, systemClock } from '../resilience/clock.js'
import type { Logger } from './logger.js'

export type CheckResult = { ok: true; detail?: string } | { ok: false; error: string }
export type HealthCheck = () => Promise<CheckResult>

export interface ReadyReport {
  ok: boolean
  /** Per dependency: "ok", "pending" (not probed yet) or "down: <reason>". */
  checks: Record<string, string>
  /** Details reported by healthy checks (e.g. server version), when they gave any. */
  details?: Record<string, string>
  /** ISO time of the probe round this report comes from; null before the first one finished. */
  checkedAt: string | null
  /** What the agent is running without (breakers open, fallbacks in use), from the `degraded` callback. */
  degraded?: Record<string, unknown>
}

export interface TelemetryServerOptions {
  host?: string
  /** 0 picks a free port (tests). */
  port?: number
  registry: Registry
  checks?: Record<string, HealthCheck>
  probeIntervalMs?: number
  /** Per-check timeout; default 80 % of the interval and always below it. */
  checkTimeoutMs?: number
  degraded?: () => Record<string, unknown>
  logger?: Logger
  clock?: Clock
}

export interface TelemetryServer {
  url: string
  port: number
  /** Stops probing and closes the server (open keep-alive connections included). Safe to call twice. */
  close(): Promise<void>
  /** Runs a probe round now (or joins the one in progress) and returns its report. */
  probeNow(): Promise<ReadyReport>
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' && !err.message.includes(code) ? `${code} ${err.message}` : err.message
  }
  return String(err)
}

export async function startTelemetryServer(opts: TelemetryServerOptions): Promise<TelemetryServer> {
  const host = opts.host ?? '127.0.0.1'
  const interval = Math.max(1, opts.probeIntervalMs ?? 5000)
  const checkTimeout = Math.min(Math.max(1, opts.checkTimeoutMs ?? Math.floor(interval * 0.8)), Math.max(1, interval - 1))
  const clock = opts.clock ?? systemClock
  const checks = opts.checks ?? {}
  const names = Object.keys(checks)
  const logger = opts.logger

  let report: ReadyReport = {
    ok: names.length === 0,
    checks: Object.fromEntries(names.map((n) => [n, 'pending'])),
    checkedAt: null,
  }
  let inFlight: Promise<ReadyReport> | undefined

  const stopProbing = new AbortController()

  const runCheck = async (name: string, check: HealthCheck): Promise<string | CheckResult> => {
    const timer = new AbortController()
    // close() must not wait for a hung check: stopping aborts the timeout, which ends the race at once.
    const onStop = (): void => timer.abort(new Error('probing stopped'))
    stopProbing.signal.addEventListener('abort', onStop, { once: true })
    try {
      const result = await Promise.race([
        Promise.resolve().then(check),
        clock.sleep(checkTimeout, timer.signal).then((): CheckResult => ({ ok: false, error: `timed out after ${checkTimeout}ms` })),
      ])
      if (!result || typeof result !== 'object' || typeof result.ok !== 'boolean') return `check ${name} returned no result`
      return result
    } catch (err) {
      // Checks should return {ok:false} rather than throw; a throw is still a failed check, not a crash.
      return errorMessage(err)
    } finally {
      stopProbing.signal.removeEventListener('abort', onStop)
      timer.abort()
    }
  }

  const round = async (): Promise<ReadyReport> => {
    const results = await Promise.all(names.map(async (n) => [n, await runCheck(n, checks[n] as HealthCheck)] as const))
    // Checks cut short by close() say nothing about the dependencies: keep the last real report.
    if (stopProbing.signal.aborted) return report
    const next: ReadyReport = { ok: true, checks: {}, checkedAt: new Date(clock.now()).toISOString() }
    const details: Record<string, string> = {}
    for (const [name, r] of results) {
      if (typeof r === 'object' && r.ok) {
        next.checks[name] = 'ok'
        if (r.detail) details[name] = r.detail
      } else {
        next.ok = false
        next.checks[name] = `down: ${typeof r === 'string' ? r : r.error}`
      }
      const was = report.checks[name]
      if (was !== next.checks[name] && !(was === 'pending' && next.checks[name] === 'ok')) {
        if (next.checks[name] === 'ok') logger?.info('dependency recovered', { check: name })
        else logger?.warn('dependency down', { check: name, error: next.checks[name] })
      }
    }
    if (Object.keys(details).length > 0) next.details = details
    report = next
    return next
  }

  const probeNow = (): Promise<ReadyReport> => {
    inFlight ??= round().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }

  // Fixed cadence: rounds start every `interval` (a round lasts at most checkTimeout < interval, so they never
  // overlap), which is what bounds the time until a failing dependency shows in /readyz.
  const loop = (async () => {
    while (!stopProbing.signal.aborted) {
      const started = clock.now()
      await probeNow()
      try {
        await clock.sleep(Math.max(0, started + interval - clock.now()), stopProbing.signal)
      } catch {
        return
      }
    }
  })()

  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
  const json = 'application/json; charset=utf-8'

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const known = path === '/healthz' || path === '/readyz' || path === '/metrics'
    if (!known) return send(req, res, 404, json, JSON.stringify({ ok: false, error: `not found: ${path}` }))
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return send(req, res, 405, json, JSON.stringify({ ok: false, error: 'method not allowed' }))
    }
    if (path === '/healthz') return send(req, res, 200, json, JSON.stringify({ ok: true }))
    if (path === '/readyz') {
      const body: ReadyReport = { ...report, ...(opts.degraded ? { degraded: opts.degraded() } : {}) }
      return send(req, res, body.ok ? 200 : 503, json, JSON.stringify(body))
    }
    send(req, res, 200, opts.registry.contentType, await opts.registry.metrics())
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger?.error('telemetry request failed', { err, url: req.url })
      if (!res.headersSent) send(req, res, 500, json, JSON.stringify({ ok: false, error: errorMessage(err) }))
      else res.destroy()
    })
  })

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port ?? 9464, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    stopProbing.abort()
    await loop
    throw new UsageError(`cannot listen on ${host}:${opts.port ?? 9464}: ${errorMessage(err)}`, {
      code: 'AIOPS_TELEMETRY_LISTEN',
      cause: err,
      suggestions: ['choose another telemetry port (0 picks a free one) or stop the process that holds it'],
    })
  }

  const port = (server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  logger?.info('telemetry server listening', { url })

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopProbing.abort()
      await loop
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Keep-alive sockets (Prometheus scrapers) would otherwise hold close() open until they time out.
        server.closeAllConnections()
      })
    })()
    return closing
  }

  return { url, port, close, probeNow }
}
