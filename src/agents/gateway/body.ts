/**
 * Reading a request body with its size limit enforced as the bytes arrive: a declared Content-Length over the limit
 * is refused before reading, and a gzip body is decompressed as a stream with a running count of the output, so a
 * gzip bomb (a few KB that inflate to gigabytes) is cut off at the limit instead of filling memory.
 */
import type { IncomingMessage } from 'node:http'
import { createGunzip } from 'node:zlib'

export type BodyFailure =
  /** Larger than the limit (before or after decompression): 413. */
  | 'too_large'
  /** Not valid gzip: 400. */
  | 'bad_gzip'
  /** The client went away mid-body: nobody to answer. */
  | 'aborted'
  /** Cut off by the caller (memory hard limit, shutdown): 503. */
  | 'cut'

export class BodyError extends Error {
  constructor(
    readonly reason: BodyFailure,
    message: string,
  ) {
    super(message)
  }
}

export interface ReadBodyOptions {
  maxBytes: number
  gzip: boolean
  /** Aborting it stops reading with reason `cut`. */
  signal?: AbortSignal
}

export function readBody(req: IncomingMessage, opts: ReadBodyOptions): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    return Promise.reject(new BodyError('too_large', `body of ${declared} bytes is over the ${opts.maxBytes}-byte limit`))
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    let done = false
    const gunzip = opts.gzip ? createGunzip() : undefined
    const source: NodeJS.ReadableStream = gunzip ?? req

    const finish = (err?: BodyError): void => {
      if (done) return
      done = true
      opts.signal?.removeEventListener('abort', onCut)
      req.removeListener('close', onClose)
      req.removeListener('error', onReqError)
      if (err) {
        if (gunzip) {
          req.unpipe(gunzip)
          gunzip.destroy()
        }
        // Stop reading the rest: the caller answers with `Connection: close`.
        req.pause()
        reject(err)
        return
      }
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total))
    }
    const onCut = (): void => finish(new BodyError('cut', 'body reading was cut off (gateway over its memory limit or shutting down)'))
    const onAborted = (): void => finish(new BodyError('aborted', 'client closed the connection before sending the whole body'))
    const onReqError = (): void => onAborted()
    // 'close' before the whole body arrived means the client went away.
    const onClose = (): void => {
      if (!req.complete) onAborted()
    }

    source.on('data', (chunk: Buffer) => {
      if (done) return
      total += chunk.length
      if (total > opts.maxBytes) {
        finish(new BodyError('too_large', `body is over the ${opts.maxBytes}-byte limit${gunzip ? ' after decompression' : ''}`))
        return
      }
      chunks.push(chunk)
    })
    source.on('end', () => finish())
    req.on('close', onClose)
    req.on('error', onReqError)
    if (gunzip) {
      gunzip.on('error', (err: Error) => finish(new BodyError('bad_gzip', `Content-Encoding is gzip but the body is not valid gzip: ${err.message}`)))
      req.pipe(gunzip)
    }
    if (opts.signal?.aborted) onCut()
    else opts.signal?.addEventListener('abort', onCut, { once: true })
  })
}
