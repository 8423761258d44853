/**
 * The agents `aiops up` runs in one process, in start order (sinks before sources, so nothing is produced
 * before its consumer is ready). Each pipeline issue adds its agent here.
 */
import type { AiopsConfig } from '../lib/config/index.js'
import type { Agent } from './types.js'
import { ConsumerAgent } from './consumer/index.js'
import { DetectorAgent } from './detector/index.js'
import { GatewayAgent } from './gateway/index.js'
import { RouterAgent } from './router/index.js'

export function allAgents(_config: AiopsConfig): Agent[] {
  return [new ConsumerAgent(), new DetectorAgent(), new GatewayAgent(), new RouterAgent()]
}
