/**
 * The gateway's disk spool: when the bus cannot take records in time, they are appended here, fsynced, and only then
 * acknowledged; a replay loop produces them to the bus once it answers again (and on start, for a spool left by a
 * previous run), then deletes them.
 *
 * Layout: append-only segment files `seg-<n>.spool` under the spool directory, each a run of frames
 * `[u32 payload length][u32 crc32][payload]`, payload = `[u16 topic length][topic][u32 count]` then per record
 * `[u32 key length][key][u32 value length][value]`. Appends arriving together share one write and one fdatasync
 * (group commit). A segment is sealed when it reaches segmentBytes or when the replay loop finds it idle; only sealed
 * segments are replayed. Replay progress (the offset of the next frame) is kept in `seg-<n>.spool.pos`, fsynced
 * after each produced frame, so a crash during replay re-sends at most one frame (at-least-once). A frame with a bad
 * length or checksum ends its segment: appends are acknowledged only after fdatasync, so a torn tail was never
 * acknowledged.
 */
import { mkdir, open, readFile, readdir, rm, stat, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import type { Bus, BusRecord } from '../../lib/bus/types.js'
import { BackpressureError } from '../../lib/errors.js'
import type { Logger } from '../../lib/telemetry/logger.js'
import type { SpoolSink } from './produce-buffer.js'
import { decodeFrames, encodeFrame } from './spool-format.js'

export interface DiskSpoolOptions {
  dir: string
  maxBytes: number
  bus: Bus
  segmentBytes?: number
  /** How often sealed segments are replayed (default 1 s). */
  replayIntervalMs?: number
  logger?: Logger
  onChange?: (bytes: number) => void
  onReplayed?: (records: number) => void
}

interface Pending {
  frame: Buffer
  resolve: () => void
  reject: (err: unknown) => void
}

const SEGMENT = /^seg-(\d{12})\.spool$/

export class DiskSpool implements SpoolSink {
  private seq = 0
  private total = 0
  private current: { name: string; fh: FileHandle; size: number } | undefined
  private sealed: string[] = []
  private pending: Pending[] = []
  private writing: Promise<void> | undefined
  private replaying: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private readonly segmentBytes: number

  constructor(private readonly o: DiskSpoolOptions) {
    this.segmentBytes = o.segmentBytes ?? 16 * 1024 * 1024
  }

  get bytes(): number {
    return this.total
  }

  /** Opens the directory; segments left by an earlier run are queued for replay. */
  async open(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true })
    const names = (await readdir(this.o.dir)).sort()
    for (const name of names) {
      const m = SEGMENT.exec(name)
      if (m) {
        this.seq = Math.max(this.seq, Number(m[1]) + 1)
        this.sealed.push(name)
        this.total += (await stat(this.file(name))).size
      } else if (name.endsWith('.pos') && !names.includes(name.slice(0, -4))) {
        await rm(this.file(name), { force: true }) // progress of a segment already deleted
      }
    }
    this.o.onChange?.(this.total)
    if (this.sealed.length > 0) this.o.logger?.warn('gateway spool: replaying records left by an earlier run', { segments: this.sealed.length, bytes: this.total })
    const every = this.o.replayIntervalMs ?? 1000
    this.timer = setInterval(() => void this.replay(), every)
    this.timer.unref()
    void this.replay()
  }

  append(topic: string, records: BusRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool is closed'))
    const frame = encodeFrame(topic, records)
    if (this.total + frame.length > this.o.maxBytes) {
      return Promise.reject(new BackpressureError(`gateway spool is full (${this.total} of ${this.o.maxBytes} bytes)`, 5, { code: 'AIOPS_GATEWAY_SPOOL_FULL' }))
    }
    this.total += frame.length
    this.o.onChange?.(this.total)
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ frame, resolve, reject })
      // writeLoop clears `writing` in the same tick as its last look at `pending`, so no append is ever left behind.
      // (It cannot finish before this assignment: pending is non-empty, so it awaits at least once.)
      this.writing ??= this.writeLoop()
    })
  }

  /** Group commit: everything pending goes out in one write + one fdatasync. */
  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0)
      try {
        const seg = await this.segment()
        const data = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((p) => p.frame))
        await seg.fh.write(data, 0, data.length, seg.size)
        await seg.fh.datasync()
        seg.size += data.length
        for (const p of batch) p.resolve()
        if (seg.size >= this.segmentBytes) await this.seal()
      } catch (err) {
        const bytes = batch.reduce((n, p) => n + p.frame.length, 0)
        this.total -= bytes
        this.o.onChange?.(this.total)
        for (const p of batch) p.reject(err)
      }
    }
    this.writing = undefined
  }

  private async segment(): Promise<NonNullable<DiskSpool['current']>> {
    if (!this.current) {
      const name = `seg-${String(this.seq++).padStart(12, '0')}.spool`
      this.current = { name, fh: await open(this.file(name), 'a'), size: 0 }
    }
    return this.current
  }

  private async seal(): Promise<void> {
    const c = this.current
    if (!c) return
    this.current = undefined
    await c.fh.close()
    if (c.size > 0) this.sealed.push(c.name)
    else await rm(this.file(c.name), { force: true })
  }

  /** Replays sealed segments, oldest first; stops at the first produce failure and tries again next tick. */
  replay(): Promise<void> {
    if (this.replaying) return this.replaying
    // Cleared in a .finally callback (always asynchronous), so a run with nothing to do cannot leave it set.
    const run = this.replayOnce().finally(() => {
      if (this.replaying === run) this.replaying = undefined
    })
    this.replaying = run
    return run
  }

  private async replayOnce(): Promise<void> {
    try {
      // An idle current segment is sealed so its records do not wait for more appends.
      if (this.sealed.length === 0 && this.current && this.current.size > 0 && !this.writing) await this.seal()
      while (this.sealed.length > 0 && !this.closed) {
        if (!(await this.replaySegment(this.sealed[0]!))) return
        this.sealed.shift()
      }
    } catch (err) {
      this.o.logger?.logOnce('gateway.spool_replay_failed', 'warn', 'gateway spool: replay failed; will retry', { err })
    }
  }

  /** True when the whole segment was produced and deleted. */
  private async replaySegment(name: string): Promise<boolean> {
    const file = this.file(name)
    const data = await readFile(file)
    let from = Number(await readFile(`${file}.pos`, 'utf8').catch(() => '0')) || 0
    const { frames, end } = decodeFrames(data, from)
    for (const f of frames) {
      try {
        await this.o.bus.produce(f.topic, f.records)
      } catch (err) {
        this.o.logger?.logOnce('gateway.spool_bus_down', 'warn', 'gateway spool: bus still unavailable; replay will retry', { err })
        return false
      }
      from = f.next
      const pos = await open(`${file}.pos`, 'w')
      try {
        await pos.writeFile(String(from))
        await pos.datasync()
      } finally {
        await pos.close()
      }
      this.o.onReplayed?.(f.records.length)
    }
    if (end < data.length) {
      this.o.logger?.error('gateway spool: segment ends in a damaged frame; the rest was never acknowledged and is dropped', { segment: name, bytes: data.length - end })
    }
    await rm(file, { force: true })
    await rm(`${file}.pos`, { force: true })
    this.total = Math.max(0, this.total - data.length)
    this.o.onChange?.(this.total)
    return true
  }

  /** Stops replaying and closes the open segment (what is on disk stays for the next start). */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.writing
    await this.replaying
    if (this.current) {
      const c = this.current
      this.current = undefined
      await c.fh.close()
      if (c.size === 0) await rm(this.file(c.name), { force: true })
    }
  }

  private file(name: string): string {
    return path.join(this.o.dir, name)
  }
}

