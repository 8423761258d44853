/**
 * OTLP/HTTP response bodies, in the request's encoding (the spec: the response Content-Type matches the request's):
 * - success: Export*ServiceResponse, with partial_success {rejected_<items>, error_message} when items were refused;
 * - failure (4xx/5xx): google.rpc.Status {code, message}, code being the gRPC status matching the HTTP one.
 */
import { WIRE_LEN, WIRE_VARINT } from './proto-reader.js'
import { ProtoWriter } from './proto-writer.js'
import type { Signal } from './envelope.js'

export type OtlpEncoding = 'protobuf' | 'json'

export const CONTENT_TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' }

/** partial_success's count field name per signal (JSON); the protobuf field number is 1 for all three. */
const REJECTED_FIELD: Record<Signal, string> = { traces: 'rejectedSpans', metrics: 'rejectedDataPoints', logs: 'rejectedLogRecords' }

export function exportResponseBody(signal: Signal, encoding: OtlpEncoding, rejected: number, message: string): Buffer {
  if (encoding === 'json') {
    if (rejected === 0 && !message) return Buffer.from('{}')
    // int64 as a decimal string, as the protobuf-JSON mapping writes it.
    return Buffer.from(JSON.stringify({ partialSuccess: { [REJECTED_FIELD[signal]]: String(rejected), errorMessage: message } }))
  }
  if (rejected === 0 && !message) return Buffer.alloc(0)
  const w = new ProtoWriter(64 + message.length * 3)
  w.tag(1, WIRE_LEN)
  w.fork()
  if (rejected > 0) {
    w.tag(1, WIRE_VARINT)
    w.varint64(rejected % 4294967296, Math.floor(rejected / 4294967296))
  }
  w.stringField(2, message)
  w.join()
  return Buffer.from(w.finish())
}

/** gRPC status codes for the HTTP statuses the gateway answers with. */
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14 }

export function statusBody(encoding: OtlpEncoding, httpStatus: number, message: string): Buffer {
  const code = GRPC_CODE[httpStatus] ?? 2
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }))
  const w = new ProtoWriter(32 + message.length * 3)
  w.tag(1, WIRE_VARINT)
  w.int32(code)
  w.stringField(2, message)
  return Buffer.from(w.finish())
}
