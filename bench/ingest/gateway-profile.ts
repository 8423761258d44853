/**
 * Summarises a V8 CPU profile of the gateway or the consumer (bench/ingest/gateway.ts and consumer.ts --profile):
 * where its CPU went, by function self time, and by the area of the code (decode, rows, envelopes, HTTP, kafkajs,
 * store encoding, GC…), so docs/gateway.md and docs/consumer.md can say what limits them.
 *
 *   npx tsx bench/ingest/gateway-profile.ts PROFILE.cpuprofile [--top N]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

export interface ProfileSummary {
  totalMs: number
  top: Array<{ fn: string; where: string; selfMs: number; pct: number }>
  areas: Array<{ area: string; selfMs: number; pct: number }>
}

/** Which part of the pipeline a frame belongs to, from its script URL and name. */
function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(idle)' || fn === '(program)') return fn
  if (url.includes('/src/lib/otlp/proto-') || url.includes('/src/lib/otlp/json-')) return 'OTLP decode'
  if (url.includes('/src/lib/otlp/convert-')) return 'rows (validate + convert)'
  if (url.includes('/src/lib/otlp/envelope') || url.includes('/agents/gateway/envelopes') || url.includes('/src/lib/bytes')) return 'bus envelopes (encode/decode)'
  if (url.includes('/agents/consumer/')) return 'consumer (validation, batching, units)'
  if (url.includes('/src/lib/store/')) return 'store (insert encoding, dedup)'
  if (url.includes('/agents/gateway/')) return 'gateway (handler, buffer, sampling)'
  if (url.includes('kafkajs')) return 'kafkajs'
  if (url.includes('/src/lib/bus/')) return 'bus (KafkaBus)'
  if (url.startsWith('node:zlib') || fn.toLowerCase().includes('zlib') || fn.includes('gzip')) return 'zlib'
  if (url.startsWith('node:_http') || url.startsWith('node:http') || url.startsWith('node:net') || url.startsWith('node:internal/http') || url.includes('stream')) return 'node http/net/streams'
  if (url === '' && fn !== '') return 'native (JSON, Buffer, …)'
  if (url.startsWith('node:')) return 'node core (other)'
  return 'other'
}

export async function summarise(file: string, topN = 15): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)))
  const byFn = new Map<string, { fn: string; where: string; us: number }>()
  const byArea = new Map<string, number>()
  let total = 0
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!
    const { functionName, url, lineNumber } = n.callFrame
    if (functionName === '(idle)') continue
    total += us
    const fn = functionName || '(anonymous)'
    const where = url ? `${url.replace(/^file:\/\/.*?\/(src|node_modules)\//, '$1/')}:${lineNumber + 1}` : ''
    const key = `${fn}@${where}`
    const e = byFn.get(key) ?? { fn, where, us: 0 }
    e.us += us
    byFn.set(key, e)
    const area = areaOf(url, functionName)
    byArea.set(area, (byArea.get(area) ?? 0) + us)
  }
  const pct = (us: number): number => Math.round((1000 * us) / total) / 10
  return {
    totalMs: Math.round(total / 1000),
    top: [...byFn.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 1000), pct: pct(e.us) })),
    areas: [...byArea].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: Math.round(us / 1000), pct: pct(us) })),
  }
}

export function printSummary(s: ProfileSummary, out: (line: string) => void): void {
  out(`CPU profile: ${s.totalMs} ms of samples (idle excluded)`)
  out('  by area:')
  for (const a of s.areas) out(`    ${a.pct.toFixed(1).padStart(5)}%  ${a.area}`)
  out('  top functions (self time):')
  for (const t of s.top) out(`    ${t.pct.toFixed(1).padStart(5)}%  ${t.fn}  ${t.where}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } })
  if (!positionals[0]) throw new Error('usage: npx tsx bench/ingest/gateway-profile.ts PROFILE.cpuprofile [--top N]')
  printSummary(await summarise(positionals[0], Number(values.top)), (l) => console.log(l))
}
