/**
 * The attack suite: tenant A tries to read tenant B's rows through the router, on ClickHouse 18.16, with every trick
 * in the issue (UNION and subqueries on other tables, comments and multi-statements, SETTINGS readonly=0, table
 * functions, system tables, joins on B's rows, a cache-key collision) and more. Each attempt must be refused or
 * return only A's rows. It runs twice: with the router's service account, and with per-tenant database users
 * (readonly profile, allowed databases) as the second layer. The count of leaked rows is printed and must be 0.
 *
 * It also records what ClickHouse 18.16 itself does with a users.xml row filter (<databases><db><table><filter>):
 * it ignores it, which is why the router's rewrite is the isolation on 18.16 (docs/router.md).
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseStore } from '../../src/lib/store/clickhouse.js'
import { applySchema } from '../../src/lib/store/index.js'
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse.js'
import { randomName } from '../support/names.js'
import { baseTimeMs, post, seed, startRouter, type RunningRouter } from './router-helpers.js'

const db = randomName('router_attack')

/** Every seeded row of B carries one of these in a text column (or B as its tenant id). */
const B_MARKER = /(^|[\t,"'[\s])B([\t,"'\]\s]|$)|of B|v-B|B-inc|B-a\d|b0{3}\d{3}/

function attacks(chPort: number): Array<{ name: string; sql: string; params?: Record<string, string> }> {
  const q = (name: string, sql: string, params?: Record<string, string>) => ({ name, sql, ...(params ? { params } : {}) })
  return [
    q('filter on B', "SELECT tenant_id, status_message FROM spans WHERE tenant_id = 'B'"),
    q('OR 1=1', "SELECT tenant_id, status_message FROM spans WHERE tenant_id = 'A' OR 1 = 1"),
    q('not A', "SELECT tenant_id, body FROM logs WHERE tenant_id != 'A'"),
    q('UNION with qualified table', `SELECT tenant_id, status_message FROM spans UNION ALL SELECT tenant_id, status_message FROM ${db}.spans`),
    q('UNION with quoted names', `SELECT tenant_id, body FROM logs UNION ALL SELECT tenant_id, body FROM \`${db}\`.\`logs\``),
    q('UNION with spaced dots', `SELECT tenant_id, body FROM logs UNION ALL SELECT tenant_id, body FROM ${db} . logs`),
    q('UNION on another table', `SELECT body FROM logs UNION ALL SELECT status_message FROM ${db}.spans`),
    q('subquery in FROM', "SELECT * FROM (SELECT tenant_id, body FROM logs) WHERE tenant_id = 'B'"),
    q('subquery in IN', `SELECT body FROM logs WHERE ts_ns IN (SELECT ts_ns FROM ${db}.logs WHERE tenant_id = 'B')`),
    q('scalar subquery', `SELECT (SELECT groupArray(body) FROM ${db}.logs)`),
    q('IN table', 'SELECT body FROM logs WHERE body IN logs'),
    q('in() function', `SELECT in(body, ${db}.logs) FROM logs`),
    q('comment hides UNION', `SELECT body FROM logs /* harmless */ UNION ALL SELECT body FROM ${db}.logs`),
    q('line comment + newline', `SELECT body FROM logs -- comment\nUNION ALL SELECT body FROM ${db}.logs`),
    q('comment in table name', `SELECT body FROM /* spans */ ${db}./**/logs`),
    q('nested comment', `SELECT body FROM logs /* /* */ UNION ALL SELECT body FROM ${db}.logs /* */`),
    q('hash comment', `SELECT body FROM logs # comment\nUNION ALL SELECT body FROM ${db}.logs`),
    q('multi-statement', "SELECT 1; SELECT tenant_id, body FROM logs WHERE tenant_id = 'B'"),
    q('multi-statement no space', `SELECT 1;SELECT body FROM ${db}.logs`),
    q('string escape trick', `SELECT body FROM logs WHERE body = 'x\\' UNION ALL SELECT body FROM ${db}.logs -- '`),
    q('doubled quote trick', `SELECT body FROM logs WHERE body = 'x'' UNION ALL SELECT body FROM ${db}.logs -- '`),
    q('SETTINGS readonly=0', 'SELECT body FROM logs SETTINGS readonly = 0'),
    q('URL readonly=0', 'SELECT body FROM logs', { readonly: '0' }),
    q('SETTINGS max_execution_time=0', 'SELECT count() FROM system.numbers SETTINGS max_execution_time = 0'),
    q('URL max_result_rows lifting', 'SELECT body FROM logs', { max_result_rows: '0' }),
    q('table function remote', `SELECT tenant_id, body FROM remote('127.0.0.1:${chPort}', ${db}.logs)`),
    q('table function remote as scalar arg', `SELECT * FROM numbers(1) WHERE 1 IN (SELECT 1 FROM remote('127.0.0.1:${chPort}', ${db}.logs))`),
    q('table function url', `SELECT * FROM url('http://127.0.0.1:${chPort}/?query=SELECT+body+FROM+${db}.logs', TSV, 'body String')`),
    q('table function file', "SELECT * FROM file('/etc/passwd', TSV, 'line String')"),
    q('table function merge', `SELECT tenant_id, body FROM merge('${db}', '^logs$')`),
    q('table function cluster', `SELECT * FROM cluster('default', ${db}.logs)`),
    q('table function mysql', "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')"),
    q('table function input', "SELECT * FROM input('a String')"),
    q('dictGet', "SELECT dictGet('d', 'x', toUInt64(1))"),
    q('joinGet', `SELECT joinGet('${db}.logs', 'body', 1)`),
    q('system.processes', 'SELECT query FROM system.processes'),
    q('system.query_log', 'SELECT query FROM system.query_log'),
    q('system.parts', 'SELECT * FROM system.parts'),
    q('SHOW PROCESSLIST', 'SHOW PROCESSLIST'),
    q('DESCRIBE a closed table', 'DESCRIBE TABLE system.processes'),
    q('join on B rows', `SELECT a.status_message, b.status_message FROM spans AS a ALL INNER JOIN ${db}.spans AS b USING service`),
    q('join subquery on B', `SELECT b.body FROM logs AS a ALL LEFT JOIN (SELECT ts_ns, body FROM ${db}.logs WHERE tenant_id = 'B') AS b USING ts_ns`),
    q('comma join', `SELECT l.body, s.status_message FROM logs AS l, ${db}.spans AS s`),
    q('comma join after a join', `SELECT b.body FROM logs AS a ALL INNER JOIN logs AS b USING ts_ns, ${db}.logs`),
    q('PREWHERE on B', "SELECT tenant_id, body FROM logs PREWHERE tenant_id = 'B'"),
    q('FINAL on B', "SELECT tenant_id, title FROM incidents FINAL WHERE tenant_id = 'B'"),
    q('SAMPLE', 'SELECT body FROM logs SAMPLE 1'),
    q('other database', 'SELECT * FROM system.one, default.secrets'),
    q('INTO OUTFILE', "SELECT body FROM logs INTO OUTFILE '/tmp/leak.tsv'"),
    q('INSERT', "INSERT INTO logs (tenant_id, body) VALUES ('A', 'x')"),
    q('ALTER', 'ALTER TABLE logs DELETE WHERE 1'),
    q('KILL', 'KILL QUERY WHERE 1'),
    q('SET', 'SET readonly = 0'),
    q('CTE shadowing a table', `WITH logs AS (SELECT * FROM ${db}.logs) SELECT tenant_id, body FROM logs`),
    q('query parameter injection', 'SELECT body FROM logs WHERE body = {x:String}', { param_x: "' OR 1=1 --" }),
    q('allowed setting, still filtered', "SELECT tenant_id, body FROM logs WHERE tenant_id = 'B' SETTINGS enable_optimize_predicate_expression = 0"),
    q('arrayJoin over rows', 'SELECT arrayJoin(attr_values) FROM spans'),
    q('session', 'SELECT body FROM logs', { session_id: 'steal' }),
  ]
}

interface Outcome {
  name: string
  status: number
  leaked: number
  answer: string
}

async function runSuite(url: string, chPort: number, key: string): Promise<Outcome[]> {
  const out: Outcome[] = []
  for (const a of attacks(chPort)) {
    const r = await post(url, a.sql, { user: 'A', key, ...(a.params ? { params: a.params } : {}) })
    const lines = r.status === 200 ? r.body.split('\n').filter((l) => l.length > 0) : []
    out.push({ name: a.name, status: r.status, leaked: lines.filter((l) => B_MARKER.test(l)).length, answer: r.body.slice(0, 160).trim() })
  }
  return out
}

function print(label: string, outcomes: Outcome[]): number {
  const leaked = outcomes.reduce((n, o) => n + o.leaked, 0)
  console.log(`\n${label}: ${outcomes.length} attacks, ${outcomes.filter((o) => o.status !== 200).length} refused, ` +
    `${outcomes.filter((o) => o.status === 200).length} answered with A's rows only; leaked rows: ${leaked}`)
  for (const o of outcomes) console.log(`  ${String(o.status).padEnd(4)} ${String(o.leaked).padEnd(3)} ${o.name.padEnd(36)} ${o.answer.split('\n')[0]?.slice(0, 90)}`)
  return leaked
}

const TENANT_USERS = `
<tenant_a><password>pass-a</password><networks><ip>127.0.0.1</ip></networks><profile>tenant</profile><quota>default</quota>
  <allow_databases><database>${db}</database></allow_databases>
  <databases><${db}><spans><filter>tenant_id = 'A'</filter></spans></${db}></databases></tenant_a>
<tenant_b><password>pass-b</password><networks><ip>127.0.0.1</ip></networks><profile>tenant</profile><quota>default</quota>
  <allow_databases><database>${db}</database></allow_databases></tenant_b>
<probe_ro><password>pass-ro</password><networks><ip>127.0.0.1</ip></networks><profile>strict</profile><quota>default</quota>
  <allow_databases><database>${db}</database></allow_databases></probe_ro>`

/**
 * readonly=2 for tenant users: no writes or DDL, and the router can still set each query's limits (readonly=1 would
 * refuse every setting the router sends). `strict` (readonly=1) is only probed below for what 18.16 enforces.
 */
const PROFILES = '<tenant><readonly>2</readonly><max_execution_time>60</max_execution_time></tenant><strict><readonly>1</readonly></strict>'

describe('router: tenant isolation under attack (ClickHouse 18.16)', () => {
  let ch: ClickHouseServer
  let store: ClickHouseStore
  let service: RunningRouter
  let perTenant: RunningRouter

  beforeAll(async () => {
    ch = await startClickHouse({ usersXml: { users: TENANT_USERS, profiles: PROFILES } })
    store = new ClickHouseStore({ url: ch.url, database: db })
    await applySchema(store, { database: db })
    await seed(store, db, ['A', 'B'], baseTimeMs())
    const common = {
      AIOPS_STORE_BACKEND: 'clickhouse', AIOPS_STORE_CLICKHOUSE_URL: ch.url, AIOPS_STORE_CLICKHOUSE_DATABASE: db, AIOPS_ROUTER_REPLICAS: `hot=${ch.url}`,
    }
    service = await startRouter({ ...common, AIOPS_ROUTER_AUTH_KEYS: 'key-a=A,key-b=B' })
    const file = path.join(tmpdir(), `${randomName('tenants')}.yaml`)
    writeFileSync(file, [
      'tenants:',
      '  - { id: A, keys: [key-a], replica: { username: tenant_a, password: pass-a } }',
      '  - { id: B, keys: [key-b], replica: { username: tenant_b, password: pass-b } }',
    ].join('\n'))
    perTenant = await startRouter({ ...common, AIOPS_ROUTER_AUTH_TENANTS_FILE: file })
  })

  afterAll(async () => {
    await service?.stop()
    await perTenant?.stop()
    await store?.close()
    await ch?.stop()
  })

  it('every attack is refused or returns only A\'s rows (router with its service account)', async () => {
    // The leak detector does see B's rows when they are there: read straight from ClickHouse, all of B's 20 logs show.
    const control = await post(ch.url, `SELECT tenant_id, body FROM ${db}.logs`)
    expect(control.body.split('\n').filter((l) => B_MARKER.test(l))).toHaveLength(20)
    const outcomes = await runSuite(service.url, ch.httpPort, 'key-a')
    expect(print('service account', outcomes)).toBe(0)
    // The harmless ones really answered (the suite would prove nothing if everything failed for another reason).
    const answered = outcomes.filter((o) => o.status === 200).map((o) => o.name)
    expect(answered).toEqual(expect.arrayContaining(['filter on B', 'OR 1=1', 'UNION with qualified table', 'join on B rows', 'PREWHERE on B', 'FINAL on B']))
    const or = await post(service.url, "SELECT count() FROM spans WHERE tenant_id = 'A' OR 1 = 1", { user: 'A', key: 'key-a' })
    expect(or.body).toBe('20\n')
  })

  it('every attack is refused or returns only A\'s rows (router with per-tenant database users)', async () => {
    const outcomes = await runSuite(perTenant.url, ch.httpPort, 'key-a')
    expect(print('per-tenant users', outcomes)).toBe(0)
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(15)
    const ok = await post(perTenant.url, 'SELECT count() FROM logs', { user: 'A', key: 'key-a' })
    expect([ok.status, ok.body]).toEqual([200, '20\n'])
  })

  it('cache-key collision: the same SQL from another tenant gets its own rows, not the cached ones', async () => {
    const t0 = baseTimeMs()
    const sql = `SELECT tenant_id, body FROM logs WHERE ts >= toDateTime(${t0 / 1000}) AND ts < toDateTime(${t0 / 1000 + 3600}) ORDER BY ts_ns`
    const b1 = await post(service.url, sql, { user: 'B', key: 'key-b' })
    const b2 = await post(service.url, sql, { user: 'B', key: 'key-b' })
    expect(b2.headers.get('x-cache')).toBe('HIT-L1')
    const a = await post(service.url, sql, { user: 'A', key: 'key-a' })
    expect(a.headers.get('x-cache')).toBe('MISS')
    expect(a.body).not.toBe(b1.body)
    const leaked = a.body.split('\n').filter((l) => B_MARKER.test(l)).length
    console.log(`cache-key collision: tenant A got ${a.body.split('\n').filter(Boolean).length} rows, leaked rows: ${leaked}`)
    expect(leaked).toBe(0)
  })

  it('a key cannot be used as another tenant', async () => {
    const r = await post(service.url, 'SELECT 1', { user: 'B', key: 'key-a' })
    expect(r.status).toBe(401)
  })

  it('ClickHouse 18.16 ignores users.xml row filters; its readonly profile does refuse table functions and writes', async () => {
    // tenant_a has <filter>tenant_id = 'A'</filter> on spans: 18.16 returns B's rows anyway.
    const direct = await post(ch.url, `SELECT count() FROM ${db}.spans WHERE tenant_id = 'B'`, { user: 'tenant_a', key: 'pass-a' })
    expect([direct.status, direct.body]).toEqual([200, '20\n'])
    // readonly=2 (the tenant profile) still allows table functions; readonly=1 refuses them, and every setting.
    const remote = `SELECT count() FROM remote('127.0.0.1:${ch.tcpPort}', ${db}.spans)`
    expect((await post(ch.url, remote, { user: 'tenant_a', key: 'pass-a' })).body).toBe('40\n')
    expect((await post(ch.url, remote, { user: 'probe_ro', key: 'pass-ro' })).body).toMatch(/Table functions are forbidden in readonly mode/)
    const setting = await post(ch.url, 'SELECT 1', { user: 'probe_ro', key: 'pass-ro', params: { max_execution_time: '5' } })
    expect(setting.body).toMatch(/Cannot override setting \(max_execution_time\) in readonly mode/)
    // What the database does enforce for tenant users: no writes, no other databases.
    const write = await post(ch.url, `INSERT INTO ${db}.logs (tenant_id) VALUES ('A')`, { user: 'tenant_a', key: 'pass-a' })
    expect(write.body).toMatch(/readonly/i)
    const otherDb = await post(ch.url, 'SELECT count() FROM default.nothing', { user: 'tenant_a', key: 'pass-a' })
    expect(otherDb.body).toMatch(/Access denied to database default/)
  })
})
