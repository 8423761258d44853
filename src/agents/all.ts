/**
 * The agents `aiops up` runs in one process, in start order (sinks before sources, so nothing is produced
 * before its consumer is ready). Each pipeline issue adds its agent here.
 */
import type { AiopsConfig } from '../lib/config/index.js'
import type { Agent } from './types.js'

export function allAgents(_config: AiopsConfig): Agent[] {
  return []
}
