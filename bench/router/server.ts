/**
 * The router under benchmark, in its own process (forked by children.ts) so its CPU time can be measured apart from
 * the load generator's. Configured by AIOPS_* env; IPC in ipc.ts.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startHost } from '../../src/agents/host.js'
import { RouterAgent } from '../../src/agents/router/index.js'
import { resolveConfig } from '../../src/lib/config/index.js'
import { silentLogger } from '../../src/lib/telemetry/index.js'
import { serveIpc } from './ipc.js'

const resolved = await resolveConfig({ cwd: mkdtempSync(path.join(tmpdir(), 'aiops-router-bench-')), env: process.env })
const router = new RouterAgent()
const host = await startHost({ resolved, agents: [router], logger: silentLogger })
serveIpc(router.url, () => host.stop())
