/**
 * The one error the OTLP decoders throw for bad input (the gateway answers it with 400). Anything else escaping a
 * decoder is a bug: the fuzz test (test/unit/otlp-fuzz.test.ts) holds the decoders to that.
 */
import { AiopsError } from '../errors.js'

export type OtlpFormat = 'protobuf' | 'json'

export class OtlpDecodeError extends AiopsError {
  constructor(
    readonly format: OtlpFormat,
    message: string,
    /** Byte offset (protobuf) or JSON path (json) where decoding stopped. */
    readonly where?: number | string,
  ) {
    super(message, {
      code: 'AIOPS_OTLP_DECODE',
      retriable: false,
      details: { format, ...(where === undefined ? {} : { where }) },
      suggestions:
        format === 'protobuf'
          ? ['send a protobuf-encoded OTLP Export*ServiceRequest with Content-Type: application/x-protobuf']
          : ['send OTLP/JSON (protobuf-JSON mapping: lowerCamelCase fields, hex ids) with Content-Type: application/json'],
    })
  }
}

/** Items nested deeper than this (AnyValue arrays/kvlists, protobuf groups) are refused, so no input can blow the stack. */
export const MAX_NESTING = 32
