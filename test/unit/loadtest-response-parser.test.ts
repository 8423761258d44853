import { describe, expect, it } from 'vitest'
import { ResponseParser } from '../../src/lib/loadgen/transport/response-parser.js'

const feed = (p: ResponseParser, ...chunks: string[]) => {
  let ev = null
  for (const c of chunks) ev = p.push(Buffer.from(c, 'latin1')) ?? ev
  return ev
}

describe('raw transport response parser', () => {
  it('reads a Content-Length body split across chunks', () => {
    const p = new ResponseParser()
    p.expect('GET')
    expect(p.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le'))).toBeNull()
    expect(p.push(Buffer.from('ngth: 11\r\n\r\nhello'))).toBeNull()
    expect(p.push(Buffer.from(' world'))).toEqual({ status: 200, bytes: 11, keepAlive: true })
    // and the next response on the same connection
    expect(feed(p, 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n')).toEqual({ status: 404, bytes: 0, keepAlive: true })
  })

  it('reads chunked bodies, chunk boundaries anywhere, with trailers', () => {
    const p = new ResponseParser()
    p.expect('POST')
    const ev = feed(p, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 'lo\r\n6;ext=1\r\n world\r', '\n0\r\nX-Trailer: 1\r\n\r\n')
    expect(ev).toEqual({ status: 200, bytes: 11, keepAlive: true })
  })

  it('skips 100 Continue, and knows 204/304/HEAD have no body', () => {
    const p = new ResponseParser()
    p.expect('POST')
    expect(feed(p, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n')).toEqual({ status: 204, bytes: 0, keepAlive: true })
    p.expect('HEAD')
    expect(feed(p, 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n')).toEqual({ status: 200, bytes: 0, keepAlive: true })
  })

  it('a body without framing ends with the connection, which is then not reused', () => {
    const p = new ResponseParser()
    p.expect('GET')
    expect(feed(p, 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc', 'def')).toBeNull()
    expect(p.end()).toEqual({ status: 200, bytes: 6, keepAlive: false })
  })

  it('Connection: close and HTTP/1.0 responses are not kept alive', () => {
    const p = new ResponseParser()
    p.expect('GET')
    expect(feed(p, 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno')).toEqual({ status: 503, bytes: 2, keepAlive: false })
    expect(feed(p, 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).toEqual({ status: 200, bytes: 0, keepAlive: false })
  })

  it('rejects garbage instead of guessing', () => {
    const p = new ResponseParser()
    p.expect('GET')
    expect(() => p.push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(/malformed status line/)
    const q = new ResponseParser()
    q.expect('GET')
    expect(() => q.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab'))).toThrow(/unexpected bytes/)
  })
})
