/**
 * The gateway's OTLP protobuf encoder (src/lib/otlp/encode), loaded on first use: JSON runs do not need it, and a
 * loader that finds it by path keeps the load generator working on checkouts where only OTLP/JSON exists.
 */
import { UsageError } from '../../errors.js'
import type { OtlpLogsRequestJson, OtlpMetricsRequestJson, OtlpTraceRequestJson } from '../../otlp/types.js'

export interface OtlpProtobufEncoder {
  traces(req: OtlpTraceRequestJson): Uint8Array
  metrics(req: OtlpMetricsRequestJson): Uint8Array
  logs(req: OtlpLogsRequestJson): Uint8Array
}

interface EncodeModule {
  encodeExportTraceRequest?: (req: OtlpTraceRequestJson) => Uint8Array
  encodeExportMetricsRequest?: (req: OtlpMetricsRequestJson) => Uint8Array
  encodeExportLogsRequest?: (req: OtlpLogsRequestJson) => Uint8Array
}

export async function loadProtobufEncoder(): Promise<OtlpProtobufEncoder> {
  // From dist/ the module is encode.js; from the TypeScript sources (tsx, vitest) it is encode.ts.
  const candidates = ['../../otlp/encode.js', '../../otlp/encode.ts']
  for (const rel of candidates) {
    let mod: EncodeModule
    try {
      mod = (await import(new URL(rel, import.meta.url).href)) as EncodeModule
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION') continue
      throw err
    }
    const { encodeExportTraceRequest: t, encodeExportMetricsRequest: m, encodeExportLogsRequest: l } = mod
    if (t && m && l) return { traces: t, metrics: m, logs: l }
  }
  throw new UsageError('protobuf encoding needs the OTLP encoder (src/lib/otlp/encode), which this build does not include', {
    suggestions: ['send OTLP/JSON instead: --encoding json (loadtest.gateway.encoding)'],
  })
}
