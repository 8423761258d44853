/**
 * The bus: one interface, two backends chosen by configuration (`bus.backend`). kafkajs is loaded only when a
 * Kafka bus first connects (kafka-support.ts), so the embedded memory bus never pays for it.
 */
import type { Bus } from './types.js'
import { MemoryBus, type MemoryBusOptions } from './memory.js'
import { KafkaBus, type KafkaBusOptions } from './kafka.js'
import { ConfigError } from '../errors.js'

export * from './types.js'
export { MemoryBus, type MemoryBusOptions } from './memory.js'
export { KafkaBus, type KafkaBusOptions } from './kafka.js'
export { partitionForKey, murmur2 } from './partitioner.js'

export interface BusConfig {
  backend: 'memory' | 'kafka'
  memory?: MemoryBusOptions
  kafka?: KafkaBusOptions
}

export function createBus(cfg: BusConfig): Bus {
  switch (cfg.backend) {
    case 'memory':
      return new MemoryBus(cfg.memory ?? {})
    case 'kafka':
      if (!cfg.kafka) throw new ConfigError('bus.kafka.brokers', 'bus.backend is kafka but no Kafka settings were given')
      return new KafkaBus(cfg.kafka)
    default:
      throw new ConfigError('bus.backend', `unknown bus backend ${JSON.stringify((cfg as { backend: unknown }).backend)}`, {
        suggestions: ['set bus.backend to memory or kafka'],
      })
  }
}
