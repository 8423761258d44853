/** The consumer agent: bus topics → validated, deduplicated batches → the store. See agent.ts and docs/consumer.md. */
export { ConsumerAgent, type ConsumerAgentOptions } from './agent.js'
export { consumerGroupFor, consumerSettings, type ConsumerSettings } from './settings.js'
export { DLQ_HEADERS } from './dead-letter.js'
export { INTENTS_TABLE } from './intents.js'
export type { StoredInfo } from './topic-consumer.js'
