import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

/**
 * A Kafka-protocol cluster for integration tests: librdkafka's mock cluster behind a tiny C launcher
 * (native/kafka-mock), started in milliseconds with no JVM, with fault injection over its stdin.
 *
 * Known limits of the mock (librdkafka 2.0.2) as seen from kafkajs:
 * - Metadata reports a controller id that is no broker, so admin calls kafkajs sends to the controller
 *   (createTopics, deleteTopics, createPartitions, describeConfigs…) fail: create topics with `createTopic`.
 * - kafkajs's idempotent producer cannot initialise against it: use `idempotent: false` in tests.
 * - `brokerDown` closes the broker's connections but does not move partition leadership; use `setLeader`.
 */
export interface KafkaMock {
  /** Bootstrap addresses, one per broker (broker ids are 1..N in this order). */
  brokers: string[]
  bootstrap: string
  brokerDown(id: number): Promise<void>
  brokerUp(id: number): Promise<void>
  setRtt(id: number, ms: number): Promise<void>
  /** The next `errorCodes.length` requests with this API key (0 = Produce, 1 = Fetch…) fail with these codes. */
  pushRequestErrors(apiKey: number, errorCodes: number[]): Promise<void>
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>
  createTopic(name: string, partitions?: number, replication?: number): Promise<void>
  /** Raw command, for faults the helpers above don't cover. Resolves with the text after `OK`. */
  command(line: string): Promise<string>
  /** Safe to call twice. */
  stop(): Promise<void>
}

export interface StartKafkaOptions {
  brokers?: number
  topics?: Array<string | { name: string; partitions?: number }>
}

const root = fileURLToPath(new URL('../../', import.meta.url))
const launcher = `${root}build/aiops-kafka-mock`
const DEFAULT_PARTITIONS = 4

let built: Promise<void> | undefined

/** Runs scripts/build-kafka-mock.sh once per process; the script itself skips when the binary is current. */
function buildLauncher(): Promise<void> {
  built ??= new Promise<void>((resolve, reject) => {
    const p = spawn('bash', [`${root}scripts/build-kafka-mock.sh`], { stdio: ['ignore', 'inherit', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    p.on('error', reject)
    p.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`build-kafka-mock.sh exited ${code}: ${stderr.trim()}`)),
    )
  }).catch((err: unknown) => {
    built = undefined // let a later test try again (e.g. after installing gcc)
    throw err
  })
  return built
}

export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaMock> {
  await buildLauncher()
  const brokerCount = opts.brokers ?? 3
  const rf = Math.min(3, brokerCount)
  const args = ['--brokers', String(brokerCount)]
  for (const t of opts.topics ?? []) {
    const { name, partitions } = typeof t === 'string' ? { name: t, partitions: DEFAULT_PARTITIONS } : t
    args.push('--topic', `${name}:${partitions ?? DEFAULT_PARTITIONS}:${rf}`)
  }
  const child: ChildProcessWithoutNullStreams = spawn(launcher, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  // The mock logs only errors (log_level 3); keep the tail for error messages instead of flooding test output.
  let stderrTail = ''
  child.stderr.on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-4000)))

  const lines = createInterface({ input: child.stdout })
  const waiting: Array<(line: string | undefined) => void> = []
  const early: string[] = []
  lines.on('line', (line) => {
    const w = waiting.shift()
    if (w) w(line)
    else early.push(line)
  })
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true
      for (const w of waiting.splice(0)) w(undefined)
      resolve()
    }),
  )
  child.on('error', (err) => {
    stderrTail += `\n${err.message}`
  })
  const nextLine = (): Promise<string | undefined> =>
    early.length > 0 ? Promise.resolve(early.shift()) : exited ? Promise.resolve(undefined) : new Promise((r) => waiting.push(r))

  const first = await Promise.race([
    nextLine(),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000).unref()),
  ])
  if (!first?.startsWith('BOOTSTRAP ')) {
    child.kill('SIGKILL')
    throw new Error(`aiops-kafka-mock did not start (got ${JSON.stringify(first)}): ${stderrTail.trim()}`)
  }
  const bootstrap = first.slice('BOOTSTRAP '.length).trim()

  // Commands are answered strictly in order, one line each; chain them so concurrent callers can't interleave.
  let chain: Promise<unknown> = Promise.resolve()
  const command = (line: string): Promise<string> => {
    const run = chain.then(async () => {
      if (exited) throw new Error(`aiops-kafka-mock has exited; cannot run "${line}"`)
      child.stdin.write(`${line}\n`)
      const answer = await nextLine()
      if (answer === undefined) throw new Error(`aiops-kafka-mock exited during "${line}": ${stderrTail.trim()}`)
      if (!answer.startsWith('OK')) throw new Error(`aiops-kafka-mock: "${line}" → ${answer}`)
      return answer.slice(2).trim()
    })
    chain = run.catch(() => undefined)
    return run
  }
  const ok = async (line: string): Promise<void> => {
    await command(line)
  }

  let stopping: Promise<void> | undefined
  return {
    brokers: bootstrap.split(','),
    bootstrap,
    brokerDown: (id) => ok(`broker down ${id}`),
    brokerUp: (id) => ok(`broker up ${id}`),
    setRtt: (id, ms) => ok(`broker rtt ${id} ${ms}`),
    pushRequestErrors: (apiKey, codes) => ok(`errors ${apiKey} ${codes.length} ${codes.join(' ')}`),
    setLeader: (topic, partition, brokerId) => ok(`leader ${topic} ${partition} ${brokerId}`),
    createTopic: (name, partitions = DEFAULT_PARTITIONS, replication = rf) =>
      ok(`topic create ${name} ${partitions} ${replication}`),
    command,
    stop() {
      // Closing stdin is the launcher's shutdown signal; SIGKILL only if it hangs.
      stopping ??= (async () => {
        if (exited) return
        child.stdin.end()
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exit
        clearTimeout(timer)
      })()
      return stopping
    },
  }
}
