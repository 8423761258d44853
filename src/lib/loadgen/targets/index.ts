/** Target specs (serializable: they travel to worker processes) and the request source each one builds. */
import type { RequestSource } from '../engine.js'
import { gatewaySource, type GatewayTargetSpec } from './gateway.js'
import { plainSource, type HttpTargetSpec } from './plain.js'
import { routerSource, type RouterTargetSpec } from './router.js'

export type { GatewayTargetSpec, HttpTargetSpec, RouterTargetSpec }
export type TargetSpec = GatewayTargetSpec | RouterTargetSpec | HttpTargetSpec

/** Each worker gets its own seed (seed + worker index) so workers do not send identical payloads. */
export async function createRequestSource(spec: TargetSpec, seed: number): Promise<RequestSource> {
  switch (spec.kind) {
    case 'gateway':
      return gatewaySource(spec, seed)
    case 'router':
      return routerSource(spec, seed)
    case 'http':
      return plainSource(spec)
  }
}
