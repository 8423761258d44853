/**
 * The router writes ClickHouse formats itself for the embedded replica. Here its output is compared, byte for
 * byte, with what the ClickHouse engine (chDB) writes for the same query and settings, over values of every kind
 * the pipeline's tables and typical queries produce: 64-bit integers (quoted and not), escapes, arrays, tuples (named
 * and nested), maps, NULLs, dates and times, decimals, floats.
 */
import { query } from 'chdb'
import { describe, expect, it } from 'vitest'
import { formatResult, type ResultSet } from '../../src/lib/routing/formats.js'

const QUERIES = [
  "SELECT toUInt64(1) AS a, 'x\\ty''z\"q\\\\' AS s, [1,2] AS arr, toDateTime(0, 'UTC') AS t, NULL AS n, toDate(0) AS d, 0.1 AS h, toInt64(-5) AS i, (1,'a') AS tup, map('k', 1) AS m, true AS b, toNullable(3) AS nn, toDecimal64(1.5, 2) AS dec, toUUID('00000000-0000-0000-0000-000000000001') AS u, ['a','b\\'c'] AS sa, 1e20 AS big, 1e-7 AS small, toFloat32(0.1) AS f32, [[1,2],[3]] AS nested, [NULL, 'x'] AS na, toDateTime64('2024-01-01 00:00:00.123456789', 9, 'UTC') AS t64, CAST('a' AS Enum8('a' = 1)) AS e, [toUInt64(5)] AS a64",
  "SELECT CAST((1, 'x') AS Tuple(a UInt8, b String)) AS nt, tuple(1, tuple(2, 'y')) AS nest, 'a\\nb' AS nl, toNullable(1.5) AS nf, [toDateTime(0, 'UTC')] AS ad, map('a', [1]) AS ma",
  'SELECT number, toString(number) AS s, number * 1000000000000 AS ns FROM numbers(3)',
  'SELECT 1 WHERE 0',
  "SELECT toLowCardinality('svc') AS service, count() AS n, quantiles(0.5, 0.9)(number) AS q FROM numbers(10) GROUP BY service",
]
const TEXT_FORMATS = ['TSV', 'TabSeparatedWithNames', 'TSVWithNamesAndTypes', 'CSV', 'CSVWithNames', 'CSVWithNamesAndTypes', 'JSONEachRow', 'JSONCompactEachRow']

function resultSet(sql: string): ResultSet {
  // What the store hands the embedded replica: names, types, then rows, with 64-bit integers quoted.
  const lines = query(`${sql} SETTINGS output_format_json_quote_64bit_integers=1`, 'JSONCompactEachRowWithNamesAndTypes')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown[])
  return { names: lines[0] as string[], types: lines[1] as string[], rows: lines.slice(2) }
}

describe('router formats match the ClickHouse engine', () => {
  for (const quote of [0, 1]) {
    it(`text and line formats are byte-identical (output_format_json_quote_64bit_integers=${quote})`, () => {
      let compared = 0
      for (const sql of QUERIES) {
        const rs = resultSet(sql)
        for (const format of TEXT_FORMATS) {
          const engine = query(`${sql} SETTINGS output_format_json_quote_64bit_integers=${quote}`, format)
          const ours = formatResult(format, rs, { quote64: quote === 1 }).body.toString('utf8')
          // The engine separates JSONCompactEachRow values with ", "; JSON whitespace is not part of the data.
          const norm = (x: string) => (format.startsWith('JSON') ? x.split('\n').filter(Boolean).map((l) => JSON.stringify(JSON.parse(l))) : x)
          expect(norm(ours), `${format} of ${sql.slice(0, 60)}`).toEqual(norm(engine))
          compared++
        }
      }
      expect(compared).toBe(QUERIES.length * TEXT_FORMATS.length)
    })

    it(`JSON and JSONCompact documents carry the same meta, data and rows (quote=${quote})`, () => {
      for (const sql of QUERIES) {
        const rs = resultSet(sql)
        for (const format of ['JSON', 'JSONCompact']) {
          const engine = JSON.parse(query(`${sql} SETTINGS output_format_json_quote_64bit_integers=${quote}`, format)) as Record<string, unknown>
          const ours = JSON.parse(formatResult(format, rs, { quote64: quote === 1 }).body.toString('utf8')) as Record<string, unknown>
          expect({ meta: ours.meta, data: ours.data, rows: ours.rows }, `${format} of ${sql.slice(0, 60)}`).toEqual({ meta: engine.meta, data: engine.data, rows: engine.rows })
        }
      }
    })
  }
})
