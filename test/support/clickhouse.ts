import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './ports.js'

/**
 * Real ClickHouse servers for integration tests: Debian's `clickhouse-server` (18.16) with a generated minimal
 * config in a throwaway directory, listening on 127.0.0.1 only (HTTP and native TCP on free ports; no
 * interserver port: it is only opened when configured). Unlike the Redis helper, data survives kill() +
 * restart(): the data directory stays, which is what a store must prove (committed inserts are durable).
 * 18.16 runs as root without complaint; newer servers refuse a data dir owned by another user, which a fresh
 * temp dir never is.
 */
export interface ClickHouseServer {
  url: string
  httpPort: number
  tcpPort: number
  /** The temp directory holding config, data and logs. */
  dir: string
  /** Graceful shutdown (SIGTERM) and removal of the temp dir. Safe to call twice. */
  stop(): Promise<void>
  /** SIGKILL: a crash. Clients see connections refused/reset; the data dir stays for restart(). */
  kill(): Promise<void>
  /** Starts again on the same ports with the same data (stops the running server first if there is one). */
  restart(): Promise<void>
}

export interface StartClickHouseOptions {
  /** Server binary (default /usr/sbin/clickhouse-server, or $AIOPS_CLICKHOUSE_SERVER). */
  binary?: string
  /**
   * Extra users.xml content, for tests of per-user settings and row filters: `users` is XML placed inside
   * `<users>` next to `default`, `profiles` inside `<profiles>` next to the `default` profile. A user element
   * needs its own `<networks>`, `<profile>` and `<quota>` (the `default` quota exists).
   */
  usersXml?: { users?: string; profiles?: string }
}

const HOST = '127.0.0.1'
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 15_000

// A server left running when the test process exits (a failed test skipped its cleanup) must not outlive it.
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

function configXml(dir: string, httpPort: number, tcpPort: number): string {
  // Small caches: tests run several servers on a small machine. UTC so DateTime text is the same everywhere.
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${dir}/server.log</log>
    <errorlog>${dir}/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>${HOST}</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <keep_alive_timeout>10</keep_alive_timeout>
</yandex>
`
}

const usersXml = (extra: StartClickHouseOptions['usersXml'] = {}): string => `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default>${extra.profiles ?? ''}</profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>${extra.users ?? ''}
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`

export async function startClickHouse(opts: StartClickHouseOptions = {}): Promise<ClickHouseServer> {
  const binary = opts.binary ?? process.env.AIOPS_CLICKHOUSE_SERVER ?? '/usr/sbin/clickhouse-server'
  const dir = await mkdtemp(join(tmpdir(), 'aiops-clickhouse-'))
  const config = join(dir, 'config.xml')
  await writeFile(join(dir, 'users.xml'), usersXml(opts.usersXml))
  let httpPort = await freePort()
  let tcpPort = await freePort()

  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    await writeFile(config, configXml(dir, httpPort, tcpPort))
    child = spawnServer(binary, ['--config-file', config], dir)
    await waitForPing(httpPort, child, dir)
  }
  // Between freePort() and the bind another process may take a port: on the first start only, pick others
  // (restart() must keep its ports, that is the point of it).
  for (let attempt = 1; ; attempt++) {
    try {
      await launch()
      break
    } catch (err) {
      await terminate(child, 'SIGKILL')
      const log = await tail(dir)
      if (attempt >= 3 || !/address already in use/i.test(log)) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
      httpPort = await freePort()
      tcpPort = await freePort()
    }
  }

  let stopped = false
  return {
    dir,
    get httpPort() {
      return httpPort
    },
    get tcpPort() {
      return tcpPort
    },
    get url() {
      return `http://${HOST}:${httpPort}`
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
      if (stopped) throw new Error('clickhouse server was stopped; start a new one')
      await terminate(child, 'SIGTERM')
      await launch()
    },
  }
}

function spawnServer(binary: string, args: string[], dir: string): ChildProcess {
  // Logs go to files in `dir`; stdio is ignored so a chatty server cannot block on a full pipe.
  const child = spawn(binary, args, { stdio: 'ignore', cwd: dir })
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

async function tail(dir: string): Promise<string> {
  const read = async (f: string): Promise<string> => {
    try {
      return (await readFile(join(dir, f), 'utf8')).slice(-2000)
    } catch {
      return ''
    }
  }
  return (await read('server.err.log')) || (await read('server.log'))
}

/** Resolves when GET /ping answers "Ok." (the HTTP handler is up, so queries will be served). */
async function waitForPing(port: number, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new Error(`clickhouse-server on port ${port} exited (${child.exitCode ?? child.signalCode}): ${await tail(dir)}`)
    }
    try {
      const res = await fetch(`http://${HOST}:${port}/ping`, { signal: AbortSignal.timeout(1000) })
      const body = await res.text()
      if (res.ok && body.trim() === 'Ok.') return
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    await sleep(100)
  }
  throw new Error(`clickhouse-server on port ${port} did not answer /ping within ${START_TIMEOUT_MS}ms (${last}): ${await tail(dir)}`)
}
