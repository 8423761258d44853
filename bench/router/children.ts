/**
 * The servers under benchmark run in their own processes (server.ts: the router; raw-http.ts: its limit), so their
 * CPU time is measured apart from the load generator's. IPC: `cpu` → process.cpuUsage(), `stop`, and (server.ts)
 * CPU profiles of the steady state only.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

export interface Child {
  url: string
  /** CPU seconds (user + system) the process used so far. */
  cpu(): Promise<number>
  /** Starts a CPU profile (server.ts only); `profileStop(file)` writes it. */
  profileStart(): Promise<void>
  profileStop(file: string): Promise<void>
  stop(): Promise<void>
}

export async function startChild(script: 'server.ts' | 'raw-http.ts', env: Record<string, string>): Promise<Child> {
  const child: ChildProcess = fork(resolve(here, script), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = <T>(key: string): Promise<T> =>
    new Promise((res, rej) => {
      const on = (m: unknown): void => {
        if (m && typeof m === 'object' && key in m) {
          child.off('message', on)
          res((m as Record<string, T>)[key] as T)
        }
      }
      child.on('message', on)
      child.once('exit', (code) => rej(new Error(`${script} exited (${code})`)))
    })
  const ask = async <T>(message: unknown, key: string): Promise<T> => {
    const p = next<T>(key)
    child.send(message as object)
    return p
  }
  const url = await next<string>('url')
  return {
    url,
    cpu: async () => {
      const c = await ask<{ user: number; system: number }>('cpu', 'cpu')
      return (c.user + c.system) / 1e6
    },
    profileStart: async () => void (await ask({ profileStart: true }, 'profiling')),
    profileStop: async (file) => void (await ask({ profileStop: file }, 'profiled')),
    stop: () => new Promise<void>((res) => (child.once('exit', () => res()), child.send('stop'))),
  }
}
