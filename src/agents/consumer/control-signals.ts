/**
 * What the consumer tells other agents on bus.topics.control (src/lib/control.ts):
 * - `insert_queue` every report interval: rows taken from the bus but not yet stored, summed over topics. Gateways
 *   add up the fresh reports of all consumers and back off on the total.
 * - `ingested` after every flush: per tenant and table, the time range and row count just stored, so the router
 *   drops cached results that the new rows would change.
 * Both are signals, not data: a failed publish is logged (once per kind) and never holds up ingestion. Sends still
 * running are awaited, briefly, at shutdown.
 */
import type { Bus } from '../../lib/bus/types.js'
import { controlKey, encodeControl, type ControlMessage } from '../../lib/control.js'
import type { Logger } from '../../lib/telemetry/logger.js'
import { nsRange } from '../../lib/store/dedup.js'
import { tableSpec } from '../../lib/store/tables.js'
import type { Row } from '../../lib/store/types.js'

interface Range {
  tenant: string
  table: string
  from: bigint
  to: bigint
  rows: number
}

/** Per (tenant, table): min/max of the table's time column and the row count, over the rows given. */
export function ingestedRanges(byTable: Map<string, Array<{ tenant: string; rows: Row[] }>>): Range[] {
  const out = new Map<string, Range>()
  for (const [table, groups] of byTable) {
    const col = tableSpec(table)?.time.from
    if (!col) continue
    for (const g of groups) {
      // Validated rows always carry the time column; nsRange compares the decimal text (no BigInt per row).
      const range = nsRange(g.rows, col)
      if (!range) continue
      const key = `${g.tenant}\u0000${table}`
      const r = out.get(key)
      if (!r) out.set(key, { tenant: g.tenant, table, from: range[0], to: range[1], rows: g.rows.length })
      else {
        if (range[0] < r.from) r.from = range[0]
        if (range[1] > r.to) r.to = range[1]
        r.rows += g.rows.length
      }
    }
  }
  return [...out.values()]
}

export class ControlSignals {
  private readonly inflight = new Set<Promise<void>>()

  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly instance: string,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  insertQueue(depth: number): void {
    this.send([{ type: 'insert_queue', instance: this.instance, depth, tsMs: this.now() }])
  }

  ingested(ranges: Range[]): void {
    const tsMs = this.now()
    this.send(
      ranges.map((r) => ({ type: 'ingested', tenant: r.tenant, table: r.table, fromNs: `${r.from}`, toNs: `${r.to}`, rows: r.rows, tsMs })),
    )
  }

  /** Waits up to `timeoutMs` for sends still in flight. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.inflight.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
  }

  private send(messages: ControlMessage[]): void {
    if (messages.length === 0) return
    const records = messages.map((m) => ({ key: controlKey(m), value: encodeControl(m) }))
    const p = this.bus.produce(this.topic, records).catch((err: unknown) => {
      this.log.logOnce(`consumer-control-${messages[0]!.type}`, 'warn', 'publishing a control message failed (ingestion goes on)', {
        type: messages[0]!.type,
        topic: this.topic,
        err,
      })
    })
    this.inflight.add(p)
    void p.finally(() => this.inflight.delete(p))
  }
}
