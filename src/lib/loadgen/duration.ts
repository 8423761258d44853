/**
 * Durations and rates as people type them in flags and config files: `500ms`, `30s`, `5m`, `1h30m`, or a bare number
 * of seconds. Parsing errors name the field and show an accepted example, because a typo in a CI pipeline's
 * `--duration` should fail the build with a message that says what to type instead.
 */
import { ConfigError } from '../errors.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `30s` → 30000. `field` is the config path or flag named in the error. */
export function parseDurationMs(input: string | number, field: string): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw badDuration(String(input), field)
    return input * 1000
  }
  const text = input.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw badDuration(input, field)
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0)
}

export function parseDurationS(input: string | number, field: string): number {
  return parseDurationMs(input, field) / 1000
}

function badDuration(input: string, field: string): ConfigError {
  return new ConfigError(field, `${field}: "${input}" is not a duration`, {
    suggestions: [`write ${field} as a number with a unit: 500ms, 30s, 5m, 1h30m (a bare number means seconds)`],
  })
}

/** 1234.5 → "1.23s", 12.3 → "12.3ms", 0.0421 → "42µs": three significant digits, the unit that reads best. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-'
  if (ms >= 60_000) return `${(ms / 60_000).toPrecision(3)}m`
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)}s`
  if (ms >= 1) return `${ms.toPrecision(3)}ms`
  return `${Math.round(ms * 1000)}µs`
}

/** Seconds for humans: 95 → "1m35s", 12.5 → "12.5s". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${Number(s.toFixed(1))}s`
  const m = Math.floor(s / 60)
  const rest = Math.round(s - m * 60)
  if (m < 60) return rest ? `${m}m${rest}s` : `${m}m`
  const h = Math.floor(m / 60)
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`
}
