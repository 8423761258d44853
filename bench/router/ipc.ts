/**
 * The child side of children.ts: answers `cpu` (process.cpuUsage()), `stop`, and records CPU profiles of the steady
 * state on request (`{profileStart}` / `{profileStop: file}`): a --cpu-prof of the whole process would be dominated
 * by startup and module loading.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

export function serveIpc(url: string, stop: () => Promise<void>): void {
  const send = (m: unknown): void => void process.send?.(m)
  let session: Session | undefined
  process.on('message', (m: unknown) => {
    if (m === 'cpu') send({ cpu: process.cpuUsage() })
    if (m === 'stop') void stop().then(() => process.exit(0))
    if (m && typeof m === 'object' && 'profileStart' in m) {
      session = new Session()
      session.connect()
      void (async () => {
        await session.post('Profiler.enable')
        await session.post('Profiler.setSamplingInterval', { interval: 100 })
        await session.post('Profiler.start')
        send({ profiling: true })
      })()
    }
    if (m && typeof m === 'object' && 'profileStop' in m) {
      const file = String(m.profileStop)
      void (async () => {
        if (session) {
          const { profile } = await session.post('Profiler.stop')
          writeFileSync(file, JSON.stringify(profile))
          session.disconnect()
          session = undefined
        }
        send({ profiled: file })
      })()
    }
  })
  send({ url })
}
