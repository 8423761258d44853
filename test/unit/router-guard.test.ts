import { describe, expect, it } from 'vitest'
import { QueryRefusedError } from '../../src/lib/routing/errors.js'
import { guardQuery } from '../../src/lib/routing/guard.js'
import { buildPolicy } from '../../src/lib/routing/policy.js'

const policy = buildPolicy('aiops', ['one', 'numbers', 'tables', 'columns'])
const limits = { max_execution_time: 30, max_result_rows: 0, max_result_bytes: 0 }
const guard = (sql: string, tenant = 'A') => guardQuery(sql, { tenant, policy, limits })
/** The tenant view of `table` listing `cols` (a query naming no column gets the tenant column only). */
const view = (table: string, cols = '`tenant_id`') => `(SELECT ${cols} FROM \`aiops\`.\`${table}\` WHERE tenant_id = 'A')`

function refusal(sql: string): { name: string; message: string } {
  try {
    guard(sql)
  } catch (err) {
    if (err instanceof QueryRefusedError) return { name: err.errorName, message: err.message }
    throw err
  }
  throw new Error(`not refused: ${sql}`)
}

describe('router guard: rewrites every pipeline table to the tenant\'s rows', () => {
  it.each([
    ['SELECT count() FROM spans', `SELECT count() FROM ${view('spans')} AS \`spans\``],
    ['SELECT * FROM aiops.logs AS l', `SELECT * FROM ${view('logs', '*')} AS l`],
    ['SELECT * FROM `aiops`.`logs` l', `SELECT * FROM ${view('logs', '*')} l`],
    ['SELECT ts FROM metric_points', `SELECT ts FROM ${view('metric_points', '`ts`')} AS \`metric_points\``],
    ['SELECT * FROM incidents AS i FINAL', `SELECT * FROM ${view('incidents', '*').replace(' WHERE', ' FINAL WHERE')} AS i`],
    ['SELECT 1 FROM logs a JOIN spans b ON a.trace_id = b.trace_id', `SELECT 1 FROM ${view('logs', '`trace_id`')} a JOIN ${view('spans', '`trace_id`')} b ON a.trace_id = b.trace_id`],
    ['SELECT 1 FROM logs, anomalies', `SELECT 1 FROM ${view('logs')} AS \`logs\`, ${view('anomalies')} AS \`anomalies\``],
    ['SELECT 1 UNION ALL SELECT 2 FROM logs', `SELECT 1 UNION ALL SELECT 2 FROM ${view('logs')} AS \`logs\``],
    ['SELECT x IN (SELECT y FROM logs) FROM system.one', `SELECT x IN (SELECT y FROM ${view('logs')} AS \`logs\`) FROM system.one`],
    ['WITH c AS (SELECT * FROM logs) SELECT * FROM c', `WITH c AS (SELECT * FROM ${view('logs', '*')} AS \`logs\`) SELECT * FROM c`],
    ['SELECT exists(FROM logs SELECT 1)', `SELECT exists(FROM ${view('logs')} AS \`logs\` SELECT 1)`],
  ])('%s', (sql, expected) => {
    expect(guard(sql).sql).toBe(expected)
  })

  it('a column alias named like a table may be referred to by that name', () => {
    const g = guard('SELECT service, count() AS spans FROM spans GROUP BY service ORDER BY spans DESC')
    expect(g.sql).toBe(`SELECT service, count() AS spans FROM ${view('spans', '`service`')} AS \`spans\` GROUP BY service ORDER BY spans DESC`)
  })

  it.each([
    // Only the columns the query names, in table order (the time column by name: `*` would leave it out).
    ['SELECT service, max(duration_ns) FROM spans WHERE start_time >= now() - INTERVAL 1 HOUR GROUP BY service', '`service`, `duration_ns`, `start_time`'],
    ['SELECT count(*) FROM spans WHERE `service` = \'a\'', '`service`'],
    // Whatever may expand columns keeps them all: `*` (even a product, to be safe), t.*, COLUMNS(…).
    ['SELECT duration_ns * 2 FROM spans', '*'],
    ['SELECT s.* FROM spans AS s', '*'],
    ["SELECT COLUMNS('dur') FROM spans", '*'],
    ['SELECT *, start_time FROM spans', '*, `start_time`'],
    // Columns outside the table descriptions (18.16's dedup stamps) are only reachable through `*`.
    ['SELECT dedup_token FROM spans', '*'],
  ])('a tenant view lists what %s names', (sql, cols) => {
    expect(guard(sql).sql).toContain(view('spans', cols))
  })

  it('puts the tenant in a string literal, escaped', () => {
    expect(guard('SELECT 1 FROM logs', "we'ird").sql).toContain("tenant_id = 'we\\'ird'")
  })

  it('takes FORMAT out, keeps allowed SETTINGS, drops readonly=1/2, turns PREWHERE into WHERE', () => {
    const g = guard('SELECT 1 FROM logs PREWHERE a = 1 WHERE b = 2 OR c = 3 SETTINGS readonly = 1, max_execution_time = 5 FORMAT JSONEachRow')
    expect(g.format).toBe('JSONEachRow')
    expect(g.settings).toEqual([['max_execution_time', '5']])
    expect(g.sql).toBe(`SELECT 1 FROM ${view('logs')} AS \`logs\` WHERE ( a = 1 ) AND ( b = 2 OR c = 3 ) SETTINGS max_execution_time = 5`)
    expect(guard('SELECT 1 FROM logs PREWHERE a = 1').sql).toBe(`SELECT 1 FROM ${view('logs')} AS \`logs\` WHERE a = 1`)
  })

  it('allows metadata: system tables on the list, table functions that read nothing stored, SHOW, DESCRIBE', () => {
    expect(guard('SELECT * FROM system.tables').sql).toBe('SELECT * FROM system.tables')
    expect(guard('SELECT * FROM numbers(10)').sql).toBe('SELECT * FROM numbers(10)')
    expect(guard('SHOW TABLES FROM aiops').kind).toBe('show')
    expect(guard('DESCRIBE TABLE spans').sql).toBe('DESCRIBE TABLE spans')
    expect(guard('SELECT extract(DAY FROM ts) FROM logs').tables).toEqual(['logs'])
  })

  it.each([
    ['SELECT 1; SELECT 2', 'SYNTAX_ERROR', /multi-statement/],
    ['INSERT INTO logs VALUES (1)', 'READONLY', /INSERT/],
    ['SELEC 1', 'SYNTAX_ERROR', /expected SELECT/],
    ['SELECT * FROM other.t', 'ACCESS_DENIED', /other\.t is not readable/],
    ['SELECT * FROM schema_migrations', 'ACCESS_DENIED', /schema_migrations is not readable/],
    ['SELECT * FROM system.processes', 'ACCESS_DENIED', /system\.processes/],
    ["SELECT * FROM url('http://x', CSV, 'a String')", 'ACCESS_DENIED', /table function url/],
    ["SELECT file('/etc/passwd')", 'ACCESS_DENIED', /function file/],
    ["SELECT * FROM s3('x')", 'ACCESS_DENIED', /table function s3/],
    ["SELECT dictGetString('d', 'a', 1)", 'ACCESS_DENIED', /dictGetString/],
    ['SELECT 1 FROM logs WHERE x IN spans', 'ACCESS_DENIED', /IN spans/],
    ['SELECT in(1, spans)', 'ACCESS_DENIED', /function in/],
    ['SELECT 1 SETTINGS readonly = 0', 'READONLY', /readonly=0/],
    ['SELECT 1 SETTINGS max_execution_time = 60', 'SETTING_CONSTRAINT_VIOLATION', /lift the tenant's limit \(30\)/],
    ['SELECT 1 SETTINGS allow_ddl = 1', 'SETTING_CONSTRAINT_VIOLATION', /allow_ddl is not allowed/],
    ["SELECT 1 INTO OUTFILE 'x'", 'ACCESS_DENIED', /OUTFILE/],
    ['SHOW PROCESSLIST', 'ACCESS_DENIED', /PROCESSLIST/],
    ['SHOW TABLES FROM secret', 'ACCESS_DENIED', /secret/],
    ['SELECT 1 FROM logs SAMPLE 0.1', 'NOT_IMPLEMENTED', /SAMPLE/],
    ['SELECT 1 FROM (WITH c AS (SELECT 1) SELECT 1) AS x, c', 'ACCESS_DENIED', /table c is not readable/],
    ['SELECT count() spans FROM logs', 'ACCESS_DENIED', /spans is used in a way/],
    ['SELECT 1 FROM logs ORDER BY spans', 'ACCESS_DENIED', /spans is used in a way/],
  ])('refuses %s', (sql, name, message) => {
    const r = refusal(sql)
    expect(r.name).toBe(name)
    expect(r.message).toMatch(message)
  })

  it('records scopes with the tables they read and their WHERE spans', () => {
    const g = guard('SELECT 1 FROM logs WHERE ts > 1 UNION ALL SELECT 2 FROM spans WHERE start_time < 2')
    expect(g.scopes.map((s) => s.tables)).toEqual([['logs'], ['spans']])
    expect(g.scopes.map((s) => s.filters.length)).toEqual([1, 1])
  })
})
