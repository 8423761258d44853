/**
 * Constant time expressions, as they appear in WHERE bounds: numbers, date strings, toDateTime/toDateTime64/
 * parseDateTimeBestEffort/fromUnixTimestamp64*, now()/now64()/today()/yesterday() ± INTERVAL n UNIT (or
 * toIntervalX(n), or seconds), + - * /, and {param:Type} placeholders. Anything else is "not a constant" (undefined),
 * which the caller treats as "no bound".
 */
import { identName, isKeyword, isOp, stringValue, type Token } from './tokens.js'

export type Value = { kind: 'time'; ms: number } | { kind: 'num'; v: number } | { kind: 'interval'; ms: number }

const UNIT_MS: Record<string, number> = {
  SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000, WEEK: 604_800_000, MONTH: 2_592_000_000, YEAR: 31_536_000_000,
}

/** Evaluates a constant time expression; undefined when it is not one we understand (then there is no bound). */
export function evaluate(tokens: Token[], nowMs: number, params: Record<string, string>): Value | undefined {
  const p = new ExprParser(tokens, nowMs, params)
  const v = p.sum()
  return p.done() ? v : undefined
}

class ExprParser {
  private i = 0
  constructor(
    private readonly t: Token[],
    private readonly nowMs: number,
    private readonly params: Record<string, string>,
  ) {}

  done(): boolean {
    return this.i === this.t.length
  }

  sum(): Value | undefined {
    let v = this.product()
    while (v && isOp(this.t[this.i], '+', '-')) {
      const op = (this.t[this.i++] as Token).text
      const r = this.product()
      v = r && combine(v, r, op)
    }
    return v
  }

  private product(): Value | undefined {
    let v = this.unary()
    while (v && isOp(this.t[this.i], '*', '/')) {
      const op = (this.t[this.i++] as Token).text
      const r = this.unary()
      v = v.kind === 'num' && r?.kind === 'num' ? { kind: 'num', v: op === '*' ? v.v * r.v : v.v / r.v } : undefined
    }
    return v
  }

  private unary(): Value | undefined {
    if (isOp(this.t[this.i], '-')) {
      this.i++
      const v = this.unary()
      return v?.kind === 'num' ? { kind: 'num', v: -v.v } : undefined
    }
    return this.primary()
  }

  private primary(): Value | undefined {
    const t = this.t[this.i]
    if (!t) return undefined
    if (t.type === 'number') {
      this.i++
      const v = Number(t.text)
      return Number.isFinite(v) ? { kind: 'num', v } : undefined
    }
    if (t.type === 'string') {
      this.i++
      const ms = parseDateText(stringValue(t))
      return ms === undefined ? undefined : { kind: 'time', ms }
    }
    if (isOp(t, '(')) {
      this.i++
      const v = this.sum()
      if (!isOp(this.t[this.i], ')')) return undefined
      this.i++
      return v
    }
    if (isOp(t, '{')) return this.param()
    if (isKeyword(t, 'INTERVAL')) {
      this.i++
      const n = this.unary()
      const unit = this.t[this.i++]
      const ms = UNIT_MS[(unit?.text ?? '').toUpperCase().replace(/S$/, '')]
      return n?.kind === 'num' && ms !== undefined ? { kind: 'interval', ms: n.v * ms } : undefined
    }
    if (t.type === 'word' && isOp(this.t[this.i + 1], '(')) return this.call(t.text)
    return undefined
  }

  private call(name: string): Value | undefined {
    this.i += 2
    const args: Array<Value | undefined> = []
    while (!isOp(this.t[this.i], ')')) {
      if (this.i >= this.t.length) return undefined
      args.push(this.sum())
      if (isOp(this.t[this.i], ',')) this.i++
      else if (!isOp(this.t[this.i], ')')) return undefined
    }
    this.i++
    const a = args[0]
    const fn = name.toLowerCase()
    if (fn === 'now' || fn === 'now64') return { kind: 'time', ms: fn === 'now' ? Math.floor(this.nowMs / 1000) * 1000 : this.nowMs }
    if (fn === 'today') return { kind: 'time', ms: Math.floor(this.nowMs / 86_400_000) * 86_400_000 }
    if (fn === 'yesterday') return { kind: 'time', ms: (Math.floor(this.nowMs / 86_400_000) - 1) * 86_400_000 }
    if (['todatetime', 'todatetime64', 'parsedatetimebesteffort', 'parsedatetime64besteffort', 'fromunixtimestamp', 'todate'].includes(fn)) {
      return a?.kind === 'num' ? { kind: 'time', ms: a.v * 1000 } : a?.kind === 'time' ? a : undefined
    }
    if (fn === 'fromunixtimestamp64nano') return a?.kind === 'num' ? { kind: 'time', ms: a.v / 1e6 } : undefined
    if (fn === 'fromunixtimestamp64micro') return a?.kind === 'num' ? { kind: 'time', ms: a.v / 1e3 } : undefined
    if (fn === 'fromunixtimestamp64milli') return a?.kind === 'num' ? { kind: 'time', ms: a.v } : undefined
    if (fn === 'tounixtimestamp') return a?.kind === 'time' ? { kind: 'num', v: Math.floor(a.ms / 1000) } : a
    if (fn === 'touint64' || fn === 'toint64' || fn === 'touint32') return a?.kind === 'time' ? { kind: 'num', v: Math.floor(a.ms / 1000) } : a
    const m = /^tointerval(second|minute|hour|day|week|month|year)$/.exec(fn)
    if (m && a?.kind === 'num') return { kind: 'interval', ms: a.v * (UNIT_MS[(m[1] as string).toUpperCase()] as number) }
    return undefined
  }

  private param(): Value | undefined {
    // {name:Type}
    const name = identName(this.t[this.i + 1])
    if (name === undefined || !isOp(this.t[this.i + 2], ':')) return undefined
    let j = this.i + 3
    let type = ''
    while (j < this.t.length && !isOp(this.t[j], '}')) type += (this.t[j++] as Token).text
    if (j >= this.t.length) return undefined
    this.i = j + 1
    const raw = this.params[name]
    if (raw === undefined) return undefined
    if (/^-?\d+(\.\d+)?$/.test(raw.trim())) {
      const v = Number(raw)
      return /^Date/.test(type) ? { kind: 'time', ms: v * 1000 } : { kind: 'num', v }
    }
    const ms = parseDateText(raw)
    return ms === undefined ? undefined : { kind: 'time', ms }
  }
}

function combine(a: Value, b: Value, op: string): Value | undefined {
  const sign = op === '+' ? 1 : -1
  if (a.kind === 'time' && b.kind === 'interval') return { kind: 'time', ms: a.ms + sign * b.ms }
  if (a.kind === 'time' && b.kind === 'num') return { kind: 'time', ms: a.ms + sign * b.v * 1000 }
  if (a.kind === 'num' && b.kind === 'num') return { kind: 'num', v: a.v + sign * b.v }
  if (a.kind === 'interval' && b.kind === 'time' && sign > 0) return { kind: 'time', ms: a.ms + b.ms }
  if (a.kind === 'time' && b.kind === 'time' && sign < 0) return { kind: 'num', v: (a.ms - b.ms) / 1000 }
  return undefined
}

/** 'YYYY-MM-DD', 'YYYY-MM-DD hh:mm:ss[.frac]' or ISO 8601 with T/Z/offset; server time zone UTC. */
export function parseDateText(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', tz] = m
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) + (frac ? Math.floor(Number(frac) * 1000) : 0)
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1
    const digits = tz.slice(1).replace(':', '')
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000
  }
  return Number.isFinite(ms) ? ms : undefined
}
