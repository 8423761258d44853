/**
 * Entry point of a forked worker process: waits for its spec over IPC, runs, reports, exits. Forked workers are
 * what let one `aiops loadtest` use every core: Node runs JavaScript on one thread per process.
 */
import { AiopsError } from '../errors.js'
import { runWorker, type WorkerMessage, type WorkerSpec } from './worker.js'

const stop = new AbortController()
const send = (m: WorkerMessage): void => {
  // After the parent is gone there is nobody to report to; the run is being torn down anyway.
  if (process.connected) process.send?.(m)
}

process.on('message', (msg: { type: 'start'; spec: WorkerSpec } | { type: 'stop' }) => {
  if (msg.type === 'stop') {
    stop.abort()
    return
  }
  const worker = msg.spec.workerIndex
  runWorker(msg.spec, send, stop.signal)
    .catch((err: unknown) => {
      const e = err instanceof AiopsError ? err : null
      send({ type: 'error', worker, message: (err as Error).message ?? String(err), code: e?.code, suggestions: e?.suggestions })
    })
    .finally(() => process.disconnect?.())
})
// The parent going away (Ctrl-C, crash) must not leave a worker sending load forever.
process.on('disconnect', () => stop.abort())
// Modules are loaded: the coordinator may now pick a start time every worker can meet.
send({ type: 'ready' })
