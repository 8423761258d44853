import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './ports.js'

/**
 * Real Redis servers for integration tests: Debian's `redis-server` on a free 127.0.0.1 port with a throwaway
 * directory and no persistence, so a test run leaves nothing behind and `kill()` + `restart()` model a crash
 * that loses the data (which is what a cache must survive).
 */
export interface RedisServer {
  url: string
  host: string
  port: number
  /** Graceful shutdown (SIGTERM) and removal of the temp dir. Safe to call twice. */
  stop(): Promise<void>
  /** SIGKILL, like a crashed server or a pulled cable: clients see the connection reset. The dir stays. */
  kill(): Promise<void>
  /** Starts again on the same port (kills the running server first if there is one). */
  restart(): Promise<void>
}

export interface SentinelServer {
  host: string
  port: number
  /** Safe to call twice. */
  stop(): Promise<void>
}

const HOST = '127.0.0.1'
const START_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 5_000

// Children still running when the test process exits (a failed test skipped its cleanup) must not outlive it:
// a stray redis-server would hold its port and its temp dir forever.
const live = new Set<ChildProcess>()
let exitHookInstalled = false
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL')
    })
  }
  live.add(child)
  child.once('exit', () => live.delete(child))
}

export async function startRedis(opts: { password?: string } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aiops-redis-'))
  const logfile = join(dir, 'redis.log')
  let port = await freePort()
  const args = (p: number): string[] => [
    '--port', String(p), '--bind', HOST, '--dir', dir, '--logfile', logfile, '--daemonize', 'no',
    '--save', '', '--appendonly', 'no',
    ...(opts.password === undefined ? [] : ['--requirepass', opts.password]),
  ]

  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    child = spawnServer(args(port))
    await waitForPing(port, opts.password, child, logfile)
  }
  // Between freePort() and the bind another process may take the port: on the first start only, pick
  // another one (restart() must keep its port, that is the point of it).
  for (let attempt = 1; ; attempt++) {
    try {
      await launch()
      break
    } catch (err) {
      await terminate(child, 'SIGKILL')
      const log = await tail(logfile)
      if (attempt >= 3 || !/address already in use/i.test(log)) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
      port = await freePort()
    }
  }

  const auth = opts.password === undefined ? '' : `:${encodeURIComponent(opts.password)}@`
  let stopped = false
  return {
    host: HOST,
    get port() {
      return port
    },
    get url() {
      return `redis://${auth}${HOST}:${port}`
    },
    async stop() {
      if (stopped) return
      stopped = true
      await terminate(child, 'SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
    async kill() {
      await terminate(child, 'SIGKILL')
    },
    async restart() {
      if (stopped) throw new Error('redis server was stopped; start a new one')
      await terminate(child, 'SIGKILL')
      await launch()
    },
  }
}

export async function startSentinel(opts: {
  masterName: string
  masterPort: number
  masterHost?: string
  quorum?: number
  masterPassword?: string
}): Promise<SentinelServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aiops-sentinel-'))
  const conf = join(dir, 'sentinel.conf')
  const logfile = join(dir, 'sentinel.log')
  const port = await freePort()
  const name = opts.masterName
  // Sentinel rewrites its config file at runtime (it records what it learns), so it must be a writable file
  // of our own, not command-line flags.
  const lines = [
    `port ${port}`,
    `bind ${HOST}`,
    'daemonize no',
    `dir ${dir}`,
    `logfile ${logfile}`,
    `sentinel monitor ${name} ${opts.masterHost ?? HOST} ${opts.masterPort} ${opts.quorum ?? 1}`,
    `sentinel down-after-milliseconds ${name} 5000`,
    ...(opts.masterPassword === undefined ? [] : [`sentinel auth-pass ${name} ${opts.masterPassword}`]),
  ]
  await writeFile(conf, lines.join('\n') + '\n')
  const child = spawnServer([conf, '--sentinel'])
  try {
    await waitForPing(port, undefined, child, logfile)
  } catch (err) {
    await terminate(child, 'SIGKILL')
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  let stopped = false
  return {
    host: HOST,
    port,
    async stop() {
      if (stopped) return
      stopped = true
      await terminate(child, 'SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
  }
}

function spawnServer(args: string[]): ChildProcess {
  // The server logs to its own logfile; stdio is ignored so a chatty server cannot block on a full pipe.
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  child.on('error', () => {}) // ENOENT etc. surface as an exit below and in waitForPing
  track(child)
  return child
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

async function terminate(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || exited(child)) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  const timer = sleep(STOP_TIMEOUT_MS, 'timeout' as const)
  if ((await Promise.race([gone, timer])) === 'timeout') {
    child.kill('SIGKILL')
    await gone
  }
}

async function tail(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(-2000)
  } catch {
    return ''
  }
}

/** One RESP command, binary-safe (a password may contain spaces). */
function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')
}

/** Resolves when the server answers PING with PONG (not merely accepts connections: it may still be loading). */
async function waitForPing(port: number, password: string | undefined, child: ChildProcess, logfile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}): ${await tail(logfile)}`)
    }
    const answer = await pingOnce(port, password).catch((err: unknown) => (err as Error).message)
    if (answer.includes('+PONG')) return
    last = answer
    await sleep(50)
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS}ms (${last}): ${await tail(logfile)}`)
}

function pingOnce(port: number, password: string | undefined): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const sock = connect({ host: HOST, port })
    let buf = ''
    const done = (fn: () => void): void => {
      sock.destroy()
      fn()
    }
    sock.setTimeout(1000, () => done(() => reject(new Error('ping timed out'))))
    sock.once('error', (err) => done(() => reject(err)))
    sock.once('connect', () => sock.write((password === undefined ? '' : resp('AUTH', password)) + resp('PING')))
    sock.on('data', (d: Buffer) => {
      buf += d.toString()
      if (buf.includes('+PONG') || buf.startsWith('-') || buf.includes('\r\n-')) done(() => resolve(buf))
    })
  })
}
