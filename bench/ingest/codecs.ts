/**
 * The ingest path's codecs, side by side in one process (CPU time per row, bytes per row): what the gateway and
 * consumer benchmarks are made of, measured in isolation so a change to one codec can be judged on its own.
 *   - bus envelope: v2 (JSON) against v3 (binary) — the gateway's encoding, the consumer's decode + checks;
 *   - store insert bodies: JSONEachRow against RowBinary (ClickHouse server), with and without the 18.16 dedup stamp;
 *   - chDB: the engine's CPU to insert JSONEachRow against JSONCompactEachRow bodies of the same rows;
 *   - gzip (level 1) per call at the sizes kafkajs compresses: the cost of setting up a deflate state each time.
 *
 *   npx tsx bench/ingest/codecs.ts [--repeats N]
 *
 * Prints a table and writes bench/results/codecs.json. Each figure is the median of N repeats (default 5).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { decodeRecord } from '../../src/agents/consumer/validate.js'
import { toBusRecords } from '../../src/agents/gateway/envelopes.js'
import type { ConsumedRecord } from '../../src/lib/bus/types.js'
import { decodeTraceRequest, encodeExportTraceRequest, traceRows } from '../../src/lib/otlp/index.js'
import { compactJsonEncoder } from '../../src/lib/store/compact-json.js'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { rowBinaryEncoder } from '../../src/lib/store/rowbinary.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { encodeJSONEachRow } from '../../src/lib/store/sql.js'
import { tableSpec } from '../../src/lib/store/tables.js'
import type { Row } from '../../src/lib/store/types.js'
import { rowsOf } from '../lib/consumer-bench.js'
import { spanRecords } from '../lib/consumer-data.js'
import { spanRequest } from '../lib/gateway-spans.js'

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' } } })
const repeats = Math.max(1, Number(values.repeats) || 5)

interface Result {
  what: string
  variant: string
  /** CPU µs per unit (row, or call for gzip). */
  cpuUs: number
  bytes?: number
  unit: 'row' | 'call'
}
const results: Result[] = []

/** Median CPU µs per unit of `fn`, which handles `units` units per call. */
function cpuPer(units: number, fn: () => unknown): number {
  fn() // warm-up
  fn()
  const runs: number[] = []
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage()
    fn()
    const c = process.cpuUsage(c0)
    runs.push((c.user + c.system) / units)
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!
}

const record = (value: Buffer): ConsumedRecord => ({ topic: 't', partition: 0, offset: '0', key: 'k', value, timestampMs: 0 })

function envelopes(): void {
  // The gateway benchmark's requests: 100 spans, ~10 per trace, 8 attributes and 5 resource attributes per span.
  const rows = Array.from({ length: 50 }, (_, i) => traceRows(decodeTraceRequest(encodeExportTraceRequest(spanRequest({ spans: 100, seed: i + 1 }))), { tenant: 'acme' }).rows)
  const n = rows.reduce((k, r) => k + r.length, 0)
  for (const version of [2, 3] as const) {
    const encoded = rows.map((r) => toBusRecords('traces', 'acme', r, version).records)
    const bytes = encoded.flat().reduce((k, r) => k + r.value.length, 0) / n
    results.push({ what: 'bus envelope: gateway encode', variant: `v${version}`, cpuUs: cpuPer(n * 10, () => {
      for (let k = 0; k < 10; k++) for (const r of rows) toBusRecords('traces', 'acme', r, version)
    }), bytes, unit: 'row' })
    results.push({ what: 'bus envelope: consumer decode + checks', variant: `v${version}`, cpuUs: cpuPer(n * 10, () => {
      for (let k = 0; k < 10; k++) for (const recs of encoded) for (const r of recs) decodeRecord(record(r.value))
    }), unit: 'row' })
  }
}

function storeBodies(): Row[] {
  const spec = tableSpec('spans')!
  const records = spanRecords(37_500, { run: 'codec', perRecord: 10 })
  const rows = rowsOf(records)
  const stamp = { tokenColumn: 'dedup_token', token: 'aiops-consumer.traces/aiops.traces/3/1000-2000~k3J9xQ/spans', seqColumn: 'dedup_seq', seq: (i: number) => i }
  const rb = rowBinaryEncoder(spec)
  // JSONEachRow's stamp is written into the rows: each repeat decodes fresh ones (the decode is subtracted).
  const fresh = (): Row[] => rowsOf(records)
  for (const [variant, withStamp] of [['', false], [' + 18.16 stamp', true]] as const) {
    const s = withStamp ? stamp : undefined
    let copies = fresh()
    results.push({ what: `store body${variant}`, variant: 'JSONEachRow', cpuUs: cpuPer(rows.length, () => {
      encodeJSONEachRow((copies = fresh()), { defaults: { sample_weight: 1 }, ...(s ? { stamp: s } : {}) })
    }) - cpuPer(rows.length, fresh), bytes: encodeJSONEachRow(copies, { defaults: { sample_weight: 1 }, ...(s ? { stamp: s } : {}) }).length / rows.length, unit: 'row' })
    results.push({ what: `store body${variant}`, variant: 'RowBinary', cpuUs: cpuPer(rows.length, () => rb.encode(rows, s)), bytes: rb.encode(rows, s)!.length / rows.length, unit: 'row' })
  }
  return rows
}

async function chdbEngine(rows: Row[]): Promise<void> {
  const path = await mkdtemp(join(tmpdir(), 'aiops-bench-codecs-'))
  try {
    const setup = new ChdbStore({ path, database: 'codecs' })
    await applySchema(setup, { database: 'codecs' })
    await setup.close()
    const chdb = await import('chdb')
    const session = new chdb.Session(path)
    try {
      const compact = compactJsonEncoder(tableSpec('spans')!)
      const bodies = {
        JSONEachRow: { values: encodeJSONEachRow(rows, { defaults: { sample_weight: 1 } }) },
        JSONCompactEachRow: { values: compact.encode(rows)!, columns: compact.columns() },
      }
      for (const [format, body] of Object.entries(bodies)) {
        const runs: number[] = []
        for (let r = 0; r < repeats + 1; r++) {
          const c0 = process.cpuUsage()
          await session.insert({ table: 'codecs.spans', format: format as 'JSONEachRow', ...body, settings: { insert_deduplicate: 0 } })
          const c = process.cpuUsage(c0)
          if (r > 0) runs.push((c.user + c.system) / rows.length)
        }
        results.push({ what: 'chDB engine insert', variant: format, cpuUs: runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!, bytes: body.values.length / rows.length, unit: 'row' })
      }
    } finally {
      session.close()
    }
  } finally {
    await rm(path, { recursive: true, force: true })
  }
}

function gzip(): void {
  for (const size of [500, 3_000, 12_000, 50_000]) {
    const input = Buffer.alloc(size)
    for (let i = 0; i < size; i++) input[i] = ((i * 7 + (i >> 5)) % 61) + 32
    results.push({ what: 'gzip level 1, one call', variant: `${size} B in`, cpuUs: cpuPer(500, () => {
      for (let k = 0; k < 500; k++) gzipSync(input, { level: 1 })
    }), bytes: gzipSync(input, { level: 1 }).length, unit: 'call' })
  }
}

const log = (s: string): void => void process.stderr.write(`${s}\n`)
log(`codecs bench: median of ${repeats}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
envelopes()
const rows = storeBodies()
await chdbEngine(rows)
gzip()

const head = ['what', 'variant', 'CPU µs', 'per', 'bytes']
const body = results.map((r) => [r.what, r.variant, r.cpuUs.toFixed(2), r.unit, r.bytes === undefined ? '' : r.bytes.toFixed(0)])
const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')
console.log(line(head))
console.log(w.map((x) => '─'.repeat(x)).join('  '))
for (const b of body) console.log(line(b))
const out = resolve(import.meta.dirname, '../results/codecs.json')
await mkdir(resolve(out, '..'), { recursive: true })
await writeFile(out, JSON.stringify({ bench: 'codecs', at: new Date().toISOString(), machine: { cores: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() }, repeats, results }, null, 2))
log(`wrote ${out}`)
