/**
 * Secrets must not reach a terminal, a log line or an error envelope. Fields marked secret in the schema print
 * as ***, and so does the password part of any URL (redis://user:pw@host, http://user:pw@clickhouse).
 */
import { leaves } from './fields.js'
import { configSchema } from './schema.js'

export const REDACTED = '***'

const SECRET_PATHS = new Set(leaves(configSchema).filter((l) => l.spec.secret).map((l) => l.path))
/** Keys that look secret wherever they appear (logs of arbitrary objects). */
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|credential/i

/** Masks the password in a URL-looking string; leaves other strings alone. */
export function redactUrl(value: string): string {
  return value.replace(/([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]+)@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
}

/**
 * A deep copy of a config (or any log record) with secret fields and URL passwords masked. Only plain objects and
 * arrays are walked (an Error, Date or Buffer passes through as is), and cycles become '[Circular]'.
 */
export function redact<T>(value: T, prefix = '', seen: WeakSet<object> = new WeakSet()): T {
  if (typeof value === 'string') return redactUrl(value) as T
  if (value === null || typeof value !== 'object') return value
  if (seen.has(value)) return '[Circular]' as T
  if (Array.isArray(value)) {
    seen.add(value)
    const out = value.map((v) => redact(v, prefix, seen)) as T
    seen.delete(value)
    return out
  }
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) return value
  seen.add(value)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = prefix ? `${prefix}.${k}` : k
    const isSecret = SECRET_PATHS.has(p) || (SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number'))
    out[k] = isSecret ? (v === '' ? '' : REDACTED) : redact(v, p, seen)
  }
  seen.delete(value)
  return out as T
}
