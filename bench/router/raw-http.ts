/**
 * The limit of the router's HTTP path, for the benchmark: a bare node:http server that reads the request body and
 * answers a fixed payload with the same response headers a cache hit gets — no auth, parsing, cache or metrics.
 * Forked like server.ts (IPC in ipc.ts); the payload comes in the PAYLOAD_B64 environment variable.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveIpc } from './ipc.js'

const payload = Buffer.from(process.env.PAYLOAD_B64 ?? '', 'base64')
const server = createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=UTF-8',
      'x-clickhouse-format': 'JSONEachRow',
      'x-clickhouse-query-id': 'q',
      'x-clickhouse-server-display-name': 'raw',
      'x-cache': 'HIT-L1',
      'content-length': String(payload.length),
    })
    res.end(payload)
  })
})
server.keepAliveTimeout = 10_000
server.listen(0, '127.0.0.1', () => serveIpc(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => new Promise<void>((r) => server.close(() => r()))))
