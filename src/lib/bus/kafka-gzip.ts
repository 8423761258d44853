/**
 * kafkajs's built-in gzip codec compresses at zlib's default level 6. On the gateway, gzip was the largest single
 * CPU item (15–17% of a core in bench/ingest's profile); level 1 costs about a third of that per byte for output
 * ~20% larger on OTLP-derived JSON (measured: 100 spans, 95 KB → 6.3 KB at 6, 7.7 KB at 1). The level is a setting
 * (bus.kafka.compressionLevel). kafkajs keeps codecs in one process-wide table, so this replaces its gzip entry;
 * decompression is unchanged (any level decodes the same way).
 */
import { promisify } from 'node:util'
import { gzip, unzip } from 'node:zlib'

const gzipAsync = promisify(gzip)
const unzipAsync = promisify(unzip)
let installedLevel: number | undefined

/** What this needs of the kafkajs module (its CommonJS exports, however it was imported). */
interface KafkaJsCodecs {
  CompressionCodecs: object
  CompressionTypes: { GZIP: number }
}

export function installGzipLevel(kafkajs: KafkaJsCodecs, level: number): void {
  if (installedLevel === level) return
  installedLevel = level
  const codecs = kafkajs.CompressionCodecs as Record<number, () => unknown>
  codecs[kafkajs.CompressionTypes.GZIP] = () => ({
    compress: async (encoder: { buffer: Buffer }) => gzipAsync(encoder.buffer, { level }),
    decompress: async (buffer: Buffer) => unzipAsync(buffer),
  })
}
