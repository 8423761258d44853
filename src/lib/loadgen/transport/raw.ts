/**
 * The default transport: keep-alive HTTP/1.1 over plain net/tls sockets, one connection per slot, one request at a
 * time per connection (no pipelining, so latency means what it means for a real client). Requests are serialized
 * once and cached; responses go through a byte-counting parser. See bench/loadtest/vs-wrk.ts for why this exists
 * next to node:http and fetch: it is what gets a Node process near wrk's request rate per core.
 */
import net from 'node:net'
import tls from 'node:tls'
import { ResponseParser } from './response-parser.js'
import type { PreparedRequest, SendCallback, TargetAddress, Transport } from './types.js'

class Connection {
  socket: net.Socket | null = null
  private readonly parser = new ResponseParser()
  private cb: SendCallback | null = null
  private connected = false
  private queuedWrite: Buffer | null = null

  constructor(private readonly target: TargetAddress) {}

  send(wire: Buffer, method: string, cb: SendCallback): void {
    this.cb = cb
    this.parser.expect(method)
    if (!this.socket) this.open()
    if (this.connected) this.socket!.write(wire)
    else this.queuedWrite = wire
  }

  // Every path tears the socket down before calling back: the callback may send the next request on this slot.
  abort(reason: string): void {
    this.destroy()
    this.fail(reason)
  }

  destroy(): void {
    const s = this.socket
    this.socket = null
    this.connected = false
    this.queuedWrite = null
    this.parser.reset()
    s?.removeAllListeners()
    s?.on('error', () => {})
    s?.destroy()
  }

  private open(): void {
    const { host, port, protocol } = this.target
    const socket =
      protocol === 'https:'
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: process.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0' })
        : net.connect({ host, port })
    this.socket = socket
    socket.setNoDelay(true)
    socket.on(protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      this.connected = true
      if (this.queuedWrite) socket.write(this.queuedWrite)
      this.queuedWrite = null
    })
    socket.on('data', (chunk: Buffer) => {
      let ev
      try {
        ev = this.parser.push(chunk)
      } catch (err) {
        this.destroy()
        this.fail(`bad response: ${(err as Error).message}`)
        return
      }
      if (ev) {
        if (!ev.keepAlive) this.destroy()
        this.complete(ev.status, ev.bytes)
      }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.socket !== socket) return
      this.destroy()
      this.fail(err.code ?? err.message)
    })
    socket.on('close', () => {
      if (this.socket !== socket) return
      const ev = this.parser.end()
      this.destroy()
      if (ev) this.complete(ev.status, ev.bytes)
      else this.fail('connection closed by the target')
    })
  }

  private complete(status: number, bytes: number): void {
    const cb = this.cb
    this.cb = null
    cb?.(status, bytes)
  }

  private fail(reason: string): void {
    const cb = this.cb
    this.cb = null
    cb?.(0, 0, reason)
  }
}

export function serialize(req: PreparedRequest, target: TargetAddress): Buffer {
  let head = `${req.method} ${target.basePath}${req.path} HTTP/1.1\r\nHost: ${target.hostHeader}\r\n`
  for (const [k, v] of Object.entries(req.headers)) head += `${k}: ${v}\r\n`
  if (req.body) head += `Content-Length: ${req.body.length}\r\n`
  else if (req.method !== 'GET' && req.method !== 'HEAD') head += 'Content-Length: 0\r\n'
  head += '\r\n'
  return req.body ? Buffer.concat([Buffer.from(head, 'latin1'), req.body]) : Buffer.from(head, 'latin1')
}

export class RawTransport implements Transport {
  readonly name = 'raw' as const
  private readonly conns: Connection[] = []

  constructor(private readonly target: TargetAddress) {}

  send(slot: number, req: PreparedRequest, cb: SendCallback): void {
    const conn = (this.conns[slot] ??= new Connection(this.target))
    conn.send((req.wire ??= serialize(req, this.target)), req.method, cb)
  }

  abort(slot: number, reason: string): void {
    this.conns[slot]?.abort(reason)
  }

  close(): void {
    for (const c of this.conns) c.destroy()
  }
}
