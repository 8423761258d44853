/**
 * A ClickHouse SQL tokenizer, for the router's guard: it decides what a tenant's query reads, and the router then
 * sends its OWN serialization of these tokens (comments dropped) to the replica. So the replica never sees text the
 * guard did not classify: a comment trick (`/* … *\/`, `--`, `#`) that one parser would read differently from
 * another cannot smuggle a statement through, because comments do not reach the replica at all.
 *
 * Strings and quoted identifiers follow ClickHouse's rules (backslash escapes any character; a doubled quote is a
 * quote) and keep their original text. Anything the tokenizer does not know is a syntax error, not a guess.
 */
import { QueryRefusedError } from './errors.js'

export type TokenType = 'word' | 'quoted' | 'string' | 'number' | 'op'

export interface Token {
  type: TokenType
  /** The token exactly as written (quotes and escapes included). */
  text: string
  /** Whitespace or a comment came before it (serialization keeps one space there). */
  space: boolean
  /** Byte offset in the original query, for error messages. */
  pos: number
}

/** Operators and punctuation, longest first so `::` wins over `:`. */
const OPERATORS = ['::', '->', '||', '==', '!=', '<>', '<=', '>=', '(', ')', '[', ']', '{', '}', ',', ';', '.', ':', '?', '+', '-', '*', '/', '%', '=', '<', '>', '@', '^']

export class SqlSyntaxError extends QueryRefusedError {
  readonly position: number
  constructor(message: string, position: number) {
    super(`Syntax error at position ${position}: ${message}`, 'SYNTAX_ERROR', { position })
    this.position = position
  }
}

const isWordStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isWordChar = (c: number): boolean => isWordStart(c) || isDigit(c)
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11

/** Splits `sql` into tokens. Throws SqlSyntaxError on an unterminated string/comment or an unknown character. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = []
  let i = 0
  let space = false
  const n = sql.length
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (isSpace(c)) {
      space = true
      i++
      continue
    }
    // Comments: `-- …`, `# …` (modern servers) to end of line; `/* … */`. A `/*` inside a block comment is
    // refused: servers disagree on nesting, and we will not guess which reading the replica has.
    if ((c === 45 && sql.charCodeAt(i + 1) === 45) || c === 35) {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? n : end + 1
      space = true
      continue
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) throw new SqlSyntaxError('unterminated /* comment', i)
      const nested = sql.indexOf('/*', i + 2)
      if (nested >= 0 && nested < end) throw new SqlSyntaxError('nested /* comments are not accepted', nested)
      i = end + 2
      space = true
      continue
    }
    const start = i
    if (c === 39) {
      i = skipQuoted(sql, i, "'")
      out.push({ type: 'string', text: sql.slice(start, i), space, pos: start })
    } else if (c === 96 || c === 34) {
      i = skipQuoted(sql, i, sql[i] as string)
      if (i - start <= 2) throw new SqlSyntaxError('empty quoted identifier', start)
      out.push({ type: 'quoted', text: sql.slice(start, i), space, pos: start })
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i = skipNumber(sql, i)
      if (i < n && isWordChar(sql.charCodeAt(i))) throw new SqlSyntaxError(`malformed number ${sql.slice(start, i + 1)}`, start)
      out.push({ type: 'number', text: sql.slice(start, i), space, pos: start })
    } else if (isWordStart(c)) {
      while (i < n && isWordChar(sql.charCodeAt(i))) i++
      out.push({ type: 'word', text: sql.slice(start, i), space, pos: start })
    } else {
      const op = OPERATORS.find((o) => sql.startsWith(o, i))
      if (op === undefined) throw new SqlSyntaxError(`unexpected character ${JSON.stringify(sql[i])}`, i)
      i += op.length
      out.push({ type: 'op', text: op, space, pos: start })
    }
    space = false
  }
  return out
}

function skipQuoted(sql: string, start: number, q: string): number {
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]
    if (c === '\\') i += 2
    else if (c === q && sql[i + 1] === q) i += 2
    else if (c === q) return i + 1
    else i++
  }
  throw new SqlSyntaxError(`unterminated ${q === "'" ? 'string literal' : 'quoted identifier'}`, start)
}

function skipNumber(sql: string, start: number): number {
  let i = start
  if (sql[i] === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'X')) {
    i += 2
    while (i < sql.length && /[0-9a-fA-F]/.test(sql[i] as string)) i++
    return i
  }
  while (i < sql.length && isDigit(sql.charCodeAt(i))) i++
  if (sql[i] === '.') {
    i++
    while (i < sql.length && isDigit(sql.charCodeAt(i))) i++
  }
  if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
    i += 2
    while (i < sql.length && isDigit(sql.charCodeAt(i))) i++
  }
  return i
}

/** The identifier a word or quoted token names (quotes and escapes removed); undefined for other tokens. */
export function identName(t: Token | undefined): string | undefined {
  if (!t) return undefined
  if (t.type === 'word') return t.text
  if (t.type !== 'quoted') return undefined
  return unescapeQuoted(t.text)
}

/** The value of a string literal token. */
export function stringValue(t: Token): string {
  return unescapeQuoted(t.text)
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f', a: '\x07', v: '\v', e: '\x1b' }

function unescapeQuoted(text: string): string {
  const q = text[0] as string
  let out = ''
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i] as string
    if (c === '\\') {
      const next = text[++i] as string
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
        out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16))
        i += 2
      } else out += ESCAPES[next] ?? next
    } else if (c === q && text[i + 1] === q) {
      out += q
      i++
    } else out += c
  }
  return out
}

/** Case-insensitive keyword test on a bare word (a quoted identifier is never a keyword). */
export function isKeyword(t: Token | undefined, ...words: string[]): boolean {
  if (!t || t.type !== 'word') return false
  const u = t.text.toUpperCase()
  return words.includes(u)
}

export function isOp(t: Token | undefined, ...ops: string[]): boolean {
  return !!t && t.type === 'op' && ops.includes(t.text)
}

/** Tokens back to SQL: one space wherever whitespace or a comment was, nothing else changed. */
export function serialize(tokens: readonly Token[]): string {
  let s = ''
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token
    s += (t.space && i > 0 ? ' ' : '') + t.text
  }
  return s
}

/** A synthetic token (from the router's rewrites), preceded by a space. */
export function synth(type: TokenType, text: string, space = true): Token {
  return { type, text, space, pos: -1 }
}
