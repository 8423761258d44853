import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readBody, type BodyError } from '../../src/agents/gateway/body.js'

/** An in-process HTTP server whose handler reads the body with the options of the test and reports what happened. */
let server: Server
let url = ''
let opts = { maxBytes: 1024, gzip: false }
let cutter: AbortController | undefined

beforeAll(async () => {
  server = createServer((req, res) => {
    readBody(req, { ...opts, ...(cutter ? { signal: cutter.signal } : {}) }).then(
      (body) => res.end(JSON.stringify({ ok: true, bytes: body.length, head: body.subarray(0, 8).toString() })),
      (err: BodyError) => res.writeHead(200, { connection: 'close' }).end(JSON.stringify({ ok: false, reason: err.reason, message: err.message })),
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

async function send(body: Buffer, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', body, headers })
  return (await res.json()) as Record<string, unknown>
}

describe('request body reading', () => {
  it('reads a plain body within the limit', async () => {
    opts = { maxBytes: 1024, gzip: false }
    expect(await send(Buffer.from('hello'))).toEqual({ ok: true, bytes: 5, head: 'hello' })
  })

  it('refuses a declared Content-Length over the limit before reading', async () => {
    opts = { maxBytes: 1024, gzip: false }
    expect(await send(Buffer.alloc(2048))).toMatchObject({ ok: false, reason: 'too_large' })
  })

  it('refuses a chunked body that grows past the limit', async () => {
    opts = { maxBytes: 1024, gzip: false }
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(url, { method: 'POST' }, (res) => {
        let text = ''
        res.on('data', (d: Buffer) => (text += d.toString()))
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>))
      })
      req.on('error', reject)
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(200)) // no Content-Length: chunked
      req.end()
    })
    expect(result).toMatchObject({ ok: false, reason: 'too_large' })
  })

  it('decompresses gzip', async () => {
    opts = { maxBytes: 1024, gzip: true }
    expect(await send(gzipSync(Buffer.from('compressed body')))).toEqual({ ok: true, bytes: 15, head: 'compress' })
  })

  it('cuts a gzip bomb off at the limit instead of inflating it', async () => {
    opts = { maxBytes: 1024 * 1024, gzip: true }
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024)) // 256 MiB of zeros in ~250 KB
    expect(bomb.length).toBeLessThan(1024 * 1024)
    const before = process.memoryUsage().arrayBuffers
    const result = await send(bomb)
    expect(result).toMatchObject({ ok: false, reason: 'too_large' })
    expect(result.message).toMatch(/after decompression/)
    // Far less than the 256 MiB the bomb inflates to was ever held.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
  })

  it('refuses a body that is not gzip', async () => {
    opts = { maxBytes: 1024, gzip: true }
    expect(await send(Buffer.from('not gzip at all'))).toMatchObject({ ok: false, reason: 'bad_gzip' })
  })

  it('stops reading when the caller cuts it off (memory hard limit)', async () => {
    opts = { maxBytes: 1024, gzip: false }
    cutter = new AbortController()
    cutter.abort()
    try {
      expect(await send(Buffer.from('x'))).toMatchObject({ ok: false, reason: 'cut' })
    } finally {
      cutter = undefined
    }
  })
})
