/**
 * Decimal text checks for UInt64 values (nanosecond timestamps arrive as 19-digit strings). A char loop instead of
 * /^\d{1,20}$/ and text comparison instead of BigInt: these run several times per row on the consumer's hot path,
 * where the regex and BigInt were each a measurable share of its CPU.
 */

/** 1 to `maxLen` ASCII digits. */
export function isDigits(s: string, maxLen = 20): boolean {
  const n = s.length
  if (n === 0 || n > maxLen) return false
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** The same number without leading zeros ("0" stays "0"). */
export function stripZeros(s: string): string {
  return s.length > 1 && s.charCodeAt(0) === 48 ? s.replace(/^0+(?=\d)/, '') : s
}

/** a < b for digit strings without leading zeros. */
export function decimalLess(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b
}
