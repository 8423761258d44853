/**
 * Which tenant a request belongs to: its API key (the configured header, or `Authorization: Bearer KEY`) looked up in
 * the key map; in open single-tenant mode (no keys configured) every request is the open tenant.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { GatewaySettings, TenantPlan } from './settings.js'

export type TenantResult = { ok: true; plan: TenantPlan } | { ok: false; reason: 'missing_key' | 'unknown_key' }

export function resolveTenant(s: Pick<GatewaySettings, 'keys' | 'open' | 'apiKeyHeader'>, headers: IncomingHttpHeaders): TenantResult {
  if (s.open) return { ok: true, plan: s.open }
  const key = apiKeyOf(headers, s.apiKeyHeader)
  if (!key) return { ok: false, reason: 'missing_key' }
  const plan = s.keys.get(key)
  return plan ? { ok: true, plan } : { ok: false, reason: 'unknown_key' }
}

export function apiKeyOf(headers: IncomingHttpHeaders, header: string): string | undefined {
  const direct = headers[header]
  const v = Array.isArray(direct) ? direct[0] : direct
  if (v) return v.trim()
  const auth = headers.authorization
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim()
  return undefined
}
