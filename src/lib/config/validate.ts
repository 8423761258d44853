/**
 * Turning raw values (typed from a file, strings from the environment or flags) into checked field values.
 * Every failure is a ConfigError naming the field, the bad value (redacted for secrets) and what is accepted.
 */
import { ConfigError } from '../errors.js'
import { describeAccepted, type FieldSpec } from './fields.js'

export type Origin = 'file' | 'env' | 'flag'

function show(spec: FieldSpec, raw: unknown): string {
  if (spec.secret) return '***'
  return typeof raw === 'string' ? JSON.stringify(raw) : JSON.stringify(raw) ?? String(raw)
}

function fail(path: string, spec: FieldSpec, raw: unknown, where: string, fix: string): never {
  throw new ConfigError(path, `${path}: ${show(spec, raw)} is not accepted (from ${where}); expected ${describeAccepted(spec)}`, {
    details: { value: spec.secret ? '***' : raw, accepted: describeAccepted(spec), source: where },
    suggestions: [fix],
  })
}

/**
 * Checks one value. `origin` decides how strings are read: a YAML/JSON file must use the real type
 * (`port: "80"` is an error there, because it hides typos), while the environment and flags only have strings.
 */
export function coerceField(path: string, spec: FieldSpec, raw: unknown, origin: Origin, where: string, fix: string): unknown {
  const fromText = origin !== 'file' && typeof raw === 'string'
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string') fail(path, spec, raw, where, fix)
      return raw
    case 'enum':
      if (typeof raw !== 'string' || !spec.values!.includes(raw)) fail(path, spec, raw, where, fix)
      return raw
    case 'boolean': {
      if (typeof raw === 'boolean') return raw
      if (fromText && /^(true|1|yes|on)$/i.test(raw as string)) return true
      if (fromText && /^(false|0|no|off)$/i.test(raw as string)) return false
      return fail(path, spec, raw, where, fix)
    }
    case 'integer':
    case 'number': {
      const n = typeof raw === 'number' ? raw : fromText && (raw as string).trim() !== '' ? Number(raw) : NaN
      if (!Number.isFinite(n) || (spec.type === 'integer' && !Number.isInteger(n))) fail(path, spec, raw, where, fix)
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) fail(path, spec, raw, where, fix)
      return n
    }
    case 'list': {
      if (fromText) {
        return (raw as string)
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      }
      if (!Array.isArray(raw) || !raw.every((v) => typeof v === 'string')) fail(path, spec, raw, where, fix)
      return [...(raw as string[])]
    }
  }
}

/** Levenshtein distance, for "did you mean" on unknown keys (typos like `bakend`). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length]!
}

export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}
