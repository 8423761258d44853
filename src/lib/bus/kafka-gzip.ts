/**
 * kafkajs's built-in gzip codec compresses at zlib's default level 6, always through zlib's async API. Both cost the
 * gateway CPU (bench/ingest, gateway process):
 * - level: on span envelopes level 1 takes about a third of level 6's CPU (272 vs 772 µs per 100 spans) for output
 *   ~15% larger (7.0 vs 6.1 KB). The level is a setting, bus.kafka.compressionLevel (default 1).
 * - async: each async call builds a zlib stream and hops to the thread pool: 66–126 µs of CPU for a 3 KB record
 *   batch that gzipSync compresses in 15–19 µs. A produce call carries one record batch per partition, so at
 *   moderate load (small batches, many calls) the async overhead dominated. Inputs up to SYNC_MAX_BYTES are
 *   compressed synchronously (≤ ~0.2 ms of event-loop time at level 1); larger ones still go to the thread pool.
 * kafkajs keeps codecs in one process-wide table, so this replaces its gzip entry; any level decodes the same way.
 */
import { promisify } from 'node:util'
import { gzip, gzipSync, unzip, unzipSync } from 'node:zlib'

const gzipAsync = promisify(gzip)
const unzipAsync = promisify(unzip)
/** Largest input compressed or decompressed on the event loop; above it, zlib's thread pool. */
export const SYNC_MAX_BYTES = 64 * 1024
let installedLevel: number | undefined

/** What this needs of the kafkajs module (its CommonJS exports, however it was imported). */
interface KafkaJsCodecs {
  CompressionCodecs: object
  CompressionTypes: { GZIP: number }
}

export function gzipCodec(level: number): { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> } {
  return {
    compress: async (encoder) => (encoder.buffer.length <= SYNC_MAX_BYTES ? gzipSync(encoder.buffer, { level }) : gzipAsync(encoder.buffer, { level })),
    // A gzip member's last 4 bytes are its uncompressed size (mod 2^32): small payloads inflate on the event loop.
    decompress: async (buffer) => (buffer.length >= 18 && buffer.readUInt32LE(buffer.length - 4) <= SYNC_MAX_BYTES ? unzipSync(buffer) : unzipAsync(buffer)),
  }
}

export function installGzipLevel(kafkajs: KafkaJsCodecs, level: number): void {
  if (installedLevel === level) return
  installedLevel = level
  const codecs = kafkajs.CompressionCodecs as Record<number, () => unknown>
  const codec = gzipCodec(level)
  codecs[kafkajs.CompressionTypes.GZIP] = () => codec
}
