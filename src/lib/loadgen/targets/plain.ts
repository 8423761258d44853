/** The plain HTTP target: the same request every time (method, path, headers, body), like wrk or vegeta. */
import type { RequestSource } from '../engine.js'
import type { PreparedRequest } from '../transport/types.js'

export interface HttpTargetSpec {
  kind: 'http'
  method: string
  /** Path and query of the target URL. */
  path: string
  headers: Record<string, string>
  body: string
}

export function plainSource(spec: HttpTargetSpec): RequestSource {
  // One object for the whole run: the raw transport serializes it once and reuses the bytes.
  const req: PreparedRequest = {
    method: spec.method,
    path: spec.path,
    headers: spec.headers,
    ...(spec.body ? { body: Buffer.from(spec.body) } : {}),
    tag: spec.method,
    events: 0,
  }
  return { next: () => req }
}
