/**
 * The router under benchmark, in its own process (forked with IPC by router.ts) so its CPU time can be measured
 * apart from the load generator's: `cpu` → process.cpuUsage(), `stop` → drain and exit. Configured by AIOPS_* env.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startHost } from '../../src/agents/host.js'
import { RouterAgent } from '../../src/agents/router/index.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { silentLogger } from '../../src/lib/telemetry/index.js'

const send = (m: unknown): void => void process.send?.(m)

const resolved = await resolveConfig({ cwd: mkdtempSync(path.join(tmpdir(), 'aiops-router-bench-')), env: process.env })
const router = new RouterAgent()
const host = await startHost({ resolved, agents: [router], logger: silentLogger })
process.on('message', (m: unknown) => {
  if (m === 'cpu') send({ cpu: process.cpuUsage() })
  if (m === 'stop') void host.stop().then(() => process.exit(0))
})
send({ url: router.url })
