/**
 * Runs the built CLI (`node bin/run.js`) as a child process, the way users, CI and runbooks do.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

const BIN = path.resolve(import.meta.dirname, '../../bin/run.js')

export interface CliOptions {
  cwd?: string
  env?: Record<string, string>
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** The environment of a test run without AIOPS_* leaking in from the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AIOPS_')) env[k] = v
  return { ...env, NO_COLOR: '1', ...extra }
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).exited
}

export interface RunningCli {
  child: ChildProcess
  exited: Promise<CliResult>
  /** Waits for a JSON log line on stderr whose msg is `msg`; returns pick(line). */
  waitForLog<T>(msg: string, pick: (line: Record<string, unknown>) => T, timeoutMs?: number): Promise<T>
}

export function startCli(args: string[], opts: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: Array<() => void> = []
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
    for (const w of waiters.splice(0)) w()
  })
  const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  const waitForLog = <T>(msg: string, pick: (line: Record<string, unknown>) => T, timeoutMs = 60_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${msg}" log line within ${timeoutMs}ms; stderr:\n${stderr}`)), timeoutMs)
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`process exited before logging "${msg}"; stderr:\n${stderr}`))
      })
      const check = (): void => {
        for (const line of stderr.split('\n')) {
          if (!line.startsWith('{')) continue
          try {
            const obj = JSON.parse(line) as Record<string, unknown>
            if (obj.msg === msg) {
              clearTimeout(timer)
              resolve(pick(obj))
              return
            }
          } catch {
            // a partial line: wait for more output
          }
        }
        waiters.push(check)
      }
      check()
    })
  return { child, exited, waitForLog }
}
