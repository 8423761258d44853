/** `--param name=value` parsing for `aiops query`; values for {name:Type} placeholders. */
import { UsageError } from '../errors.js'

/** ["svc=checkout", "n=5"] → {svc: "checkout", n: "5"}; a malformed entry names the flag and the fix. */
export function paramList(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of list) {
    const i = p.indexOf('=')
    const name = i > 0 ? p.slice(0, i) : ''
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`--param ${JSON.stringify(p)} is not name=value`, {
        suggestions: ['e.g. --param service=checkout for {service:String} in the SQL'],
      })
    }
    out[name] = p.slice(i + 1)
  }
  return out
}

/** Command-line strings → bind values: a JSON array (`[1,2]`, `["a","b"]`) for Array(...) placeholders, else the string. */
export function parseParams(params: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(params)) {
    if (v.trim().startsWith('[')) {
      try {
        out[k] = JSON.parse(v) as unknown
        continue
      } catch {
        // not JSON: a string that happens to start with [
      }
    }
    out[k] = v
  }
  return out
}
