import { createServer } from 'node:net'

/**
 * A TCP port that is free on 127.0.0.1 right now: the kernel picks one for a throwaway listener, which we close
 * and hand out. Another process could grab it in between; test servers bind within milliseconds, so in
 * practice that race does not happen, and callers that care retry on EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      if (addr === null || typeof addr === 'string') {
        srv.close()
        reject(new Error('could not determine a free port'))
        return
      }
      srv.close(() => resolve(addr.port))
    })
  })
}
