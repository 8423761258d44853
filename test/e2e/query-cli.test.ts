/**
 * `aiops query` as a newcomer runs it, against a real ClickHouse server (18.16) holding aiops tables: over the
 * ClickHouse HTTP interface (--url), with placeholders, in every output format, through --direct, and the errors
 * they meet first (nothing listening, bad SQL). Needs `npm run build` first.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/schema.js'
import { spanRow } from '../../bench/lib/consumer-data.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { runCli } from '../support/cli.js'
import { freePort } from '../support/ports.js'
import { randomName } from '../support/names.js'

let server: ClickHouseServer
const database = randomName('aiops_query')
const cwd = mkdtempSync(path.join(tmpdir(), 'aiops-query-'))
const NS = 1_700_000_000_000_000_000n

beforeAll(async () => {
  server = await startClickHouse()
  const store = new ClickHouseStore({ url: server.url, database })
  await applySchema(store, { database })
  // 30 spans: services svc-0, svc-1, svc-2 (traces of 10), durations 2.5 ms.
  await store.insert(`${database}.spans`, Array.from({ length: 30 }, (_, i) => spanRow(i, 'q', 'acme', NS)))
  await store.close()
})
afterAll(async () => {
  await server?.stop()
})

interface Result {
  columns: Array<{ name: string; type: string }>
  rows: Array<Record<string, unknown>>
  rowCount: number
  truncated: boolean
  source: string
}

describe('aiops query', () => {
  it('--json returns columns with their types and rows, 64-bit integers as exact strings', async () => {
    const r = await runCli(['query', '--url', server.url, '--database', database, '--json',
      'SELECT service, count() AS spans, max(start_time_ns) AS last_ns FROM spans GROUP BY service ORDER BY service'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as Result
    expect(out.source).toBe('url')
    expect(out.columns).toEqual([{ name: 'service', type: 'String' }, { name: 'spans', type: 'UInt64' }, { name: 'last_ns', type: 'UInt64' }])
    expect(out.rows).toEqual([
      { service: 'svc-0', spans: '10', last_ns: (NS + 9_000n).toString() },
      { service: 'svc-1', spans: '10', last_ns: (NS + 19_000n).toString() },
      { service: 'svc-2', spans: '10', last_ns: (NS + 29_000n).toString() },
    ])
    expect(out).toMatchObject({ rowCount: 3, truncated: false })
  })

  it('binds --param values into {name:Type} placeholders (on 18.16, which has no server-side parameters)', async () => {
    const r = await runCli(['query', '--url', server.url, '-d', database, '--json',
      '-p', 'svc=svc-1', '-p', 'kinds=["SERVER"]',
      'SELECT count() AS c FROM spans WHERE service = {svc:String} AND has({kinds:Array(String)}, kind)'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as Result).rows).toEqual([{ c: '1' }])
  })

  it('prints an aligned table for humans, says when --limit cut the result, and offers json and tsv', async () => {
    const sql = 'SELECT span_id, duration_ns FROM spans ORDER BY start_time_ns'
    const table = await runCli(['query', '--url', server.url, '-d', database, '--limit', '2', sql], { cwd })
    expect(table.code, table.stderr).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^span_id\s+duration_ns$/)
    expect(lines[2]).toMatch(/^q-0\s+2500000$/)
    expect(lines.at(-1)).toMatch(/^2 rows in \d+ ms, cut at --limit 2/)
    const tsv = await runCli(['query', '--url', server.url, '-d', database, '--limit', '2', '--format', 'tsv', sql], { cwd })
    expect(tsv.stdout.trimEnd().split('\n')).toEqual(['span_id\tduration_ns', 'q-0\t2500000', 'q-1\t2500000'])
    const json = await runCli(['query', '--url', server.url, '-d', database, '--limit', '1', '-f', 'json', sql], { cwd })
    expect(JSON.parse(json.stdout)).toEqual([{ span_id: 'q-0', duration_ns: '2500000' }])
  })

  it('--direct opens the configured store in-process', async () => {
    const env = { AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_URL: server.url, AIOPS_STORE_CLICKHOUSE_DATABASE: database }
    const r = await runCli(['query', '--direct', '--json', 'SELECT count() AS c FROM spans WHERE tenant_id = {t:String}', '-p', 't=acme'], { cwd, env })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'direct', rows: [{ c: '30' }] })
  })

  it('exits 1 naming --url, `aiops up` and --direct when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await freePort()}`
    const r = await runCli(['query', '--url', url, '--json', 'SELECT 1'], { cwd })
    expect(r.code).toBe(1)
    const err = (JSON.parse(r.stdout) as { error: { code: string; message: string; suggestions: string[] } }).error
    expect(err.code).toBe('AIOPS_DEPENDENCY_FAILED')
    expect(err.message).toContain(`nothing answers at ${url} (--url)`)
    expect(err.suggestions.join(' ')).toMatch(/aiops up.*--direct/s)
    const human = await runCli(['query', '--url', url, 'SELECT 1'], { cwd })
    expect(human.code).toBe(1)
    expect(human.stderr).toContain('--url')
  })

  it('exits 2 with ClickHouse\'s explanation when the server refuses the SQL', async () => {
    const r = await runCli(['query', '--url', server.url, '-d', database, '--json', 'SELECT nope FROM spans'], { cwd })
    expect(r.code).toBe(2)
    const err = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error
    expect(err.code).toBe('AIOPS_USAGE')
    expect(err.message).toMatch(/the server refused the query \(code 47\): .*nope/)
    const bad = await runCli(['query', '--url', server.url, '--json', '-p', 'oops', 'SELECT 1'], { cwd })
    expect(bad.code).toBe(2)
    expect(bad.stdout).toContain('--param \\"oops\\" is not name=value')
  })
})
