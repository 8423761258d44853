/**
 * Worker handles: a forked process per worker (uses every core), or the CLI process itself for a single worker (no
 * fork cost for small CI runs). Both speak WorkerMessage.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { AiopsError } from '../errors.js'
import { runWorker, type WorkerMessage, type WorkerSpec } from './worker.js'

export interface WorkerHandle {
  /** Resolves once the worker can start at a given time. */
  ready: Promise<void>
  start(spec: WorkerSpec): void
  stop(): void
  kill(): void
}

export function inlineWorker(onMessage: (m: WorkerMessage) => void): WorkerHandle {
  const ac = new AbortController()
  return {
    ready: Promise.resolve(),
    start(spec) {
      runWorker(spec, onMessage, ac.signal).catch((err: unknown) => {
        const e = err instanceof AiopsError ? err : null
        onMessage({ type: 'error', worker: spec.workerIndex, message: (err as Error).message ?? String(err), code: e?.code, suggestions: e?.suggestions })
      })
    },
    stop: () => ac.abort(),
    kill: () => ac.abort(),
  }
}

/** The worker entry next to this module: worker-main.js in dist/, worker-main.ts under tsx or vitest (loaded via tsx). */
function workerEntry(): { path: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url)
  if (self.endsWith('.ts')) return { path: self.replace(/workers\.ts$/, 'worker-main.ts'), execArgv: ['--import', 'tsx'] }
  return { path: self.replace(/workers\.js$/, 'worker-main.js'), execArgv: [] }
}

export function processWorker(index: number, onMessage: (m: WorkerMessage) => void): WorkerHandle {
  const entry = workerEntry()
  const child: ChildProcess = fork(entry.path, [], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  let done = false
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve
    child.once('error', reject)
    child.once('exit', () => reject(new AiopsError(`worker ${index} exited before it was ready`, { code: 'AIOPS_LOADTEST_WORKER' })))
  })
  child.on('message', (m: WorkerMessage) => {
    if (m.type === 'ready') return markReady()
    if (m.type === 'done' || m.type === 'error') done = true
    onMessage(m)
  })
  child.on('exit', (code, sig) => {
    if (!done) onMessage({ type: 'error', worker: index, message: `worker ${index} exited (${sig ?? `code ${code}`}) before finishing` })
  })
  return {
    ready,
    start: (spec) => child.send({ type: 'start', spec }),
    stop: () => {
      if (child.connected) child.send({ type: 'stop' })
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL')
    },
  }
}
