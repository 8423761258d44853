/**
 * Before sending load: can we reach the target at all? A refused connection is a setup problem (exit 1 with what
 * to start), not a 100% error rate to be reported as a breached SLO (exit 99).
 */
import net from 'node:net'
import { DependencyError } from '../errors.js'
import type { TargetAddress } from './transport/types.js'

export async function checkReachable(address: TargetAddress, url: string, timeoutMs = 3000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: address.host, port: address.port })
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(
        new DependencyError('loadtest target', `cannot connect to ${url}: ${err.code ?? err.message}`, {
          code: 'AIOPS_LOADTEST_TARGET_DOWN',
          suggestions: [
            'start the target first (the gateway and router run under `aiops up`)',
            'or point --target (loadtest.target) at where it listens',
          ],
        }),
      )
    })
  })
}
