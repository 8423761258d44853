/**
 * The gateway target: OTLP/HTTP export requests (traces, metrics, logs in a weighted mix) carrying generated
 * telemetry, as JSON or protobuf, to /v1/{signal} — what SDKs and collectors send.
 */
import type { RequestSource } from '../engine.js'
import type { PreparedRequest } from '../transport/types.js'
import { loadProtobufEncoder, type OtlpProtobufEncoder } from './otlp-encoder.js'
import { Rng } from './prng.js'
import { TelemetryGenerator, type TelemetryOptions } from './telemetry.js'

export type Signal = 'traces' | 'metrics' | 'logs'

export interface GatewayTargetSpec {
  kind: 'gateway'
  encoding: 'json' | 'protobuf'
  signals: Array<{ signal: Signal; weight: number }>
  telemetry: TelemetryOptions
  headers: Record<string, string>
}

export async function gatewaySource(spec: GatewayTargetSpec, seed: number): Promise<RequestSource> {
  const rng = new Rng(seed)
  const gen = new TelemetryGenerator(spec.telemetry, rng)
  const encoder: OtlpProtobufEncoder | null = spec.encoding === 'protobuf' ? await loadProtobufEncoder() : null
  const contentType = encoder ? 'application/x-protobuf' : 'application/json'
  const total = spec.signals.reduce((s, x) => s + x.weight, 0)
  const pickSignal = (): Signal => {
    let r = rng.next() * total
    for (const s of spec.signals) if ((r -= s.weight) < 0) return s.signal
    return spec.signals[spec.signals.length - 1]!.signal
  }
  return {
    next(): PreparedRequest {
      const signal = pickSignal()
      let body: Buffer
      let items: number
      if (signal === 'traces') {
        const t = gen.traces()
        items = t.items
        body = encoder ? Buffer.from(encoder.traces(t.body)) : Buffer.from(JSON.stringify(t.body))
      } else if (signal === 'metrics') {
        const m = gen.metrics()
        items = m.items
        body = encoder ? Buffer.from(encoder.metrics(m.body)) : Buffer.from(JSON.stringify(m.body))
      } else {
        const l = gen.logs()
        items = l.items
        body = encoder ? Buffer.from(encoder.logs(l.body)) : Buffer.from(JSON.stringify(l.body))
      }
      return { method: 'POST', path: `/v1/${signal}`, headers: { 'content-type': contentType, ...spec.headers }, body, tag: signal, events: items }
    },
  }
}
