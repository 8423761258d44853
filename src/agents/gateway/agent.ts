/**
 * The gateway agent: an OTLP/HTTP server (own node:http listener, default 127.0.0.1:4318) in front of the bus.
 *
 * start: settings from config → metrics → disk spool (when enabled: replays what an earlier run left) → produce buffer
 * → backpressure controller (bus lag + consumers' insert-queue reports) → memory limiter → listen.
 * stop (SIGTERM, via the host): stop accepting — the listener closes and requests arriving on open connections get
 * 503 + Connection: close — then wait for the requests already in progress (they finish producing), drain the buffer
 * (to the bus, or to the spool when the bus is down), and release everything. Safe to call twice.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { hostname } from 'node:os'
import type { HealthResult } from '../../lib/bus/types.js'
import { ConfigError } from '../../lib/errors.js'
import { BackpressureController } from '../../lib/resilience/backpressure.js'
import { type Clock, systemClock } from '../../lib/resilience/clock.js'
import type { Logger } from '../../lib/telemetry/logger.js'
import type { Agent, AgentContext } from '../types.js'
import { handleRequest, type GatewayCore } from './handler.js'
import { MemoryLimiter } from './memory-limiter.js'
import { gatewayMetrics, type GatewayMetrics } from './metrics.js'
import { InsertQueueReader, lagReader } from './pressure.js'
import { ProduceBuffer } from './produce-buffer.js'
import { TenantRateLimiter } from './rate-limit.js'
import { gatewaySettings, type GatewaySettings } from './settings.js'
import { DiskSpool } from './spool.js'

export interface GatewayAgentOptions {
  clock?: Clock
  /** Memory reading for the limiter (tests); default V8 heap + ArrayBuffers. */
  memoryRead?: () => number
  /** Randomness for sampling logs without a trace id (tests). */
  random?: () => number
}

export class GatewayAgent implements Agent {
  readonly name = 'gateway'
  private server: Server | undefined
  private settings: GatewaySettings | undefined
  private metrics: GatewayMetrics | undefined
  private buffer: ProduceBuffer | undefined
  private spool: DiskSpool | undefined
  private controller: BackpressureController | undefined
  private insertQueue: InsertQueueReader | undefined
  private memory: MemoryLimiter | undefined
  private logger: Logger | undefined
  private draining = false
  private inflight = 0
  private idle: Array<() => void> = []
  private cutter = new AbortController()
  private stopping: Promise<void> | undefined
  private core: GatewayCore | undefined

  constructor(private readonly opts: GatewayAgentOptions = {}) {}

  /** Where the OTLP/HTTP listener is, e.g. http://127.0.0.1:4318 (after start). */
  get url(): string {
    const a = this.server?.address() as AddressInfo | null | undefined
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : ''
  }

  get sampleRate(): number {
    return this.controller?.rate ?? 1
  }

  async start(ctx: AgentContext): Promise<void> {
    const s = (this.settings = gatewaySettings(ctx.config))
    const log = (this.logger = ctx.logger)
    const clock = this.opts.clock ?? systemClock
    const m = (this.metrics = gatewayMetrics(ctx.registry, () => this.controller?.rate ?? 1))

    if (s.spool.enabled) {
      this.spool = new DiskSpool({
        dir: s.spool.dir,
        maxBytes: s.spool.maxBytes,
        bus: ctx.bus,
        logger: log,
        onChange: (bytes) => m.spoolBytes.set(bytes),
        onReplayed: (n) => m.spoolReplayed.inc(n),
      })
      await this.spool.open()
    }
    this.buffer = new ProduceBuffer({
      bus: ctx.bus,
      maxBytes: s.buffer.maxBytes,
      maxBatchBytes: s.buffer.maxBatchBytes,
      concurrency: s.buffer.produceConcurrency,
      lingerMs: s.buffer.lingerMs,
      retryAfterS: s.retryAfterS,
      ...(this.spool ? { spool: { sink: this.spool, afterMs: s.spool.afterMs } } : {}),
      clock,
      logger: log,
      onProduced: (topic, _n, seconds) => m.produceSeconds.observe({ topic }, seconds),
      onRequeue: (topic, n, reason) => m.produceRequeued.inc({ topic, reason }, n),
      onDepth: (bytes, records) => {
        m.bufferBytes.set(bytes)
        m.bufferDepth.set(records)
      },
    })
    this.memory = new MemoryLimiter({
      softBytes: s.memory.softBytes,
      hardBytes: s.memory.hardBytes,
      ...(this.opts.memoryRead ? { read: this.opts.memoryRead } : {}),
      onSample: (bytes) => {
        m.memoryBytes.set(bytes)
        if (this.memory?.level === 'hard') this.cutBodies()
      },
    })

    this.controller = new BackpressureController(
      // The insert-queue reader needs the listener's port for its group name; it is created right after listen.
      { readLag: lagReader(ctx.bus, s.lagSources), readInsertQueue: () => this.insertQueue?.read() ?? Promise.resolve(0) },
      { lagThreshold: s.backpressure.lagThreshold, insertQueueThreshold: s.backpressure.insertQueueThreshold, minRate: s.backpressure.minRate },
      { intervalMs: s.backpressure.intervalMs, clock, logger: log },
    )
    this.core = {
      settings: s,
      metrics: m,
      limiter: new TenantRateLimiter(s.burstSeconds, clock),
      memory: this.memory,
      buffer: this.buffer,
      controller: this.controller,
      logger: log,
      draining: () => this.draining,
      cut: () => this.cutter.signal,
      ...(this.opts.random ? { random: this.opts.random } : {}),
    }
    const server = createServer((req, res) => this.onRequest(req, res))
    server.keepAliveTimeout = 30_000
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(s.port, s.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      await this.spool?.close()
      const code = (err as NodeJS.ErrnoException).code
      throw new ConfigError('gateway.port', `gateway cannot listen on ${s.host}:${s.port}: ${code ?? (err as Error).message}`, {
        cause: err,
        suggestions: [code === 'EADDRINUSE' ? 'another process uses that port: pick another with --port or gateway.port (AIOPS_GATEWAY_PORT)' : 'check gateway.host and gateway.port'],
      })
    }
    this.server = server
    const port = (server.address() as AddressInfo).port
    const instance = ctx.config.gateway.instance || `${hostname()}-${port}`

    this.insertQueue = new InsertQueueReader(ctx.bus, s.controlTopic, `aiops-gateway.${instance}`, s.backpressure.intervalMs * 3, clock, log)
    this.insertQueue.start()
    this.controller.start()
    this.memory.start()

    if (s.open) {
      const loopback = s.host === '127.0.0.1' || s.host === '::1' || s.host === 'localhost'
      const fields = { tenant: s.open.tenant, host: s.host }
      if (loopback) log.info('gateway in open single-tenant mode: every request is stamped with one tenant', fields)
      else log.warn('gateway in open single-tenant mode on a non-loopback address: anyone who can reach it can write; set gateway.apiKeys', fields)
    }
    log.info('gateway listening', { url: this.url, tenants: s.open ? 0 : s.keys.size, spool: s.spool.enabled, instance })
  }

  private onRequest(req: Parameters<typeof handleRequest>[1], res: Parameters<typeof handleRequest>[2]): void {
    this.inflight++
    void handleRequest(this.core!, req, res).finally(() => {
      this.inflight--
      if (this.inflight === 0) for (const w of this.idle.splice(0)) w()
    })
  }

  /** Memory past the hard limit: bodies still being read are cut off (503); a fresh signal serves later requests. */
  private cutBodies(): void {
    this.cutter.abort()
    this.cutter = new AbortController()
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<void> {
    const log = this.logger
    this.draining = true
    const server = this.server
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve()
    server?.closeIdleConnections()
    while (this.inflight > 0) await new Promise<void>((r) => this.idle.push(r))
    await this.buffer?.drain()
    if (this.spool) {
      await this.spool.replay() // one last try while the bus is still open
      await this.spool.close()
    }
    await this.controller?.stop()
    await this.insertQueue?.stop()
    this.memory?.stop()
    server?.closeAllConnections()
    await closed
    log?.info('gateway stopped', { spoolBytes: this.spool?.bytes ?? 0 })
  }

  checks(): Record<string, () => Promise<HealthResult>> {
    return {
      gateway: async () => (this.server?.listening && !this.draining ? { ok: true } : { ok: false, error: this.draining ? 'shutting down' : 'not listening' }),
    }
  }
}
