/**
 * From resolved configuration (defaults < file < AIOPS_LOADTEST_* < flags) to a validated LoadtestSpec. Every
 * error names the field (or flag) and what to write instead; nothing here touches the network.
 */
import os from 'node:os'
import type { AiopsConfig } from '../config/index.js'
import { ConfigError, UsageError } from '../errors.js'
import { parseDurationMs, parseDurationS } from './duration.js'
import { buildPlan, type Plan } from './profiles.js'
import type { LoadtestSpec } from './result.js'
import type { Signal } from './targets/gateway.js'
import type { TargetSpec } from './targets/index.js'
import { serviceName } from './targets/telemetry.js'
import { defaultThresholds, parseThreshold, type TargetKind, type Threshold } from './thresholds.js'
import { parseTarget } from './transport/types.js'

type LoadtestConfig = AiopsConfig['loadtest']

/** Requests/s one worker process is expected to sustain with room to spare (bench/loadtest/vs-wrk.ts measures it). */
export const RATE_PER_WORKER = 20_000

/** Where a threshold list came from, for the result and for errors (`--threshold`, `loadtest.thresholds`). */
export interface ThresholdSource {
  field: string
  label: string
}

/** Ports this deployment's own gateway and router listen on (gateway.port, router.port), for kind detection. */
export interface KnownPorts {
  gateway?: number
  router?: number
}

export function detectKind(url: URL, configured: LoadtestConfig['kind'], known: KnownPorts = {}): TargetKind {
  if (configured !== 'auto') return configured
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  if (/\/v1\/(traces|metrics|logs)\/?$/.test(url.pathname) || port === 4318 || port === known.gateway) return 'gateway'
  if (port === 8123 || port === 8124 || port === known.router) return 'router'
  return 'http'
}

export function parseHeaders(lines: readonly string[], field: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of lines) {
    const i = line.indexOf(':')
    const name = i > 0 ? line.slice(0, i).trim() : ''
    if (!name || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new ConfigError(field, `${field}: "${line}" is not a header`, { suggestions: ['write headers as "Name: value", e.g. --header "authorization: Bearer abc"'] })
    }
    out[name.toLowerCase()] = line.slice(i + 1).trim()
  }
  return out
}

function parseSignals(items: readonly string[], field: string): Array<{ signal: Signal; weight: number }> {
  const out = items.map((item) => {
    const [name, w] = item.split(':').map((x) => x.trim())
    const weight = w === undefined ? 1 : Number(w)
    if ((name !== 'traces' && name !== 'metrics' && name !== 'logs') || !(weight > 0)) {
      throw new ConfigError(field, `${field}: "${item}" is not SIGNAL[:WEIGHT]`, { suggestions: ['signals are traces, metrics, logs with optional positive weights, e.g. traces:2,metrics:1,logs:1'] })
    }
    return { signal: name as Signal, weight }
  })
  if (out.length === 0) throw new ConfigError(field, `${field} is empty`, { suggestions: ['name at least one of traces, metrics, logs'] })
  return out
}

export function resolveThresholds(kind: TargetKind, exprs: readonly string[], src: ThresholdSource, plan: Plan): Threshold[] {
  const list = exprs.length > 0 ? exprs.map((e) => parseThreshold(e, src.field, src.label)) : defaultThresholds(kind)
  const needs: Record<string, Plan['profile']> = { knee: 'stress', recovery: 'spike', drift: 'soak' }
  for (const t of list) {
    const profile = needs[t.metric]
    if (profile && plan.profile !== profile) {
      throw new UsageError(`threshold ${t.expr} needs --profile ${profile}; this run is ${plan.profile}`, {
        details: { field: src.field },
        suggestions: [`run with --profile ${profile}, or drop ${t.expr}`],
      })
    }
  }
  return list
}

export function buildSpec(cfg: LoadtestConfig, thresholdSource: ThresholdSource, known: KnownPorts = {}): LoadtestSpec {
  let url: URL
  try {
    url = new URL(cfg.target)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol')
  } catch {
    throw new ConfigError('loadtest.target', `loadtest.target: "${cfg.target}" is not an http(s) URL`, {
      suggestions: ['give --target as a full URL, e.g. http://127.0.0.1:4318 (gateway) or http://127.0.0.1:8124 (router)'],
    })
  }
  const kind = detectKind(url, cfg.kind, known)
  const plan = buildPlan({ profile: cfg.profile, rate: cfg.rate, duration: cfg.duration, stages: cfg.stages, stress: cfg.stress, spike: cfg.spike, soak: cfg.soak })
  const thresholds = resolveThresholds(kind, cfg.thresholds, thresholdSource, plan)
  const headers = parseHeaders(cfg.http.headers, 'loadtest.http.headers')
  // Both the gateway and the router accept a Bearer token (whatever their own API-key header is called).
  if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`
  const address = parseTarget(url.href)
  let target: TargetSpec
  if (kind === 'gateway') {
    const fixed = /\/v1\/(traces|metrics|logs)\/?$/.exec(url.pathname)
    address.basePath = address.basePath.replace(/\/v1\/(traces|metrics|logs)$/, '')
    const g = cfg.gateway
    target = {
      kind,
      encoding: g.encoding,
      signals: fixed ? [{ signal: fixed[1] as Signal, weight: 1 }] : parseSignals(g.signals, 'loadtest.gateway.signals'),
      telemetry: {
        services: g.services, spansPerTrace: g.spansPerTrace, tracesPerRequest: g.tracesPerRequest, metricsPerRequest: g.metricsPerRequest,
        logsPerRequest: g.logsPerRequest, errorFraction: g.errorFraction, slowFraction: g.slowFraction,
      },
      headers,
    }
  } else if (kind === 'router') {
    const r = cfg.router
    if (r.hot + r.warm + r.cold <= 0) {
      throw new ConfigError('loadtest.router.hot', 'loadtest.router.hot + warm + cold is 0: no query has a time range', { suggestions: ['give at least one tier a positive weight, e.g. hot: 0.7'] })
    }
    target = {
      kind,
      sqlFraction: r.sqlFraction,
      tiers: { hot: r.hot, warm: r.warm, cold: r.cold },
      tenant: r.tenant,
      database: r.database,
      services: Array.from({ length: Math.min(cfg.gateway.services, 50) }, (_, i) => serviceName(i)),
      headers,
    }
  } else {
    address.basePath = ''
    target = { kind, method: cfg.http.method.toUpperCase(), path: `${url.pathname}${url.search}`, headers, body: cfg.http.body }
  }
  const peak = Math.max(...plan.stages.map((s) => s.rate))
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  const workers = cfg.workers > 0 ? cfg.workers : Math.max(1, Math.min(cores, Math.ceil(peak / RATE_PER_WORKER)))
  return {
    url: url.href,
    kind,
    target,
    address,
    plan,
    thresholds,
    abortOnFail: cfg.abortOnFail,
    abortDelayS: parseDurationS(cfg.abortDelay, 'loadtest.abortDelay'),
    workers,
    seed: cfg.seed,
    connections: cfg.connections,
    maxInFlight: Math.max(cfg.maxInFlight, cfg.connections),
    timeoutMs: parseDurationMs(cfg.timeout, 'loadtest.timeout'),
    client: cfg.client,
    timing: cfg.timing,
  }
}
