import { randomBytes } from 'node:crypto'

/**
 * A random name for a topic, database, consumer group or key prefix, so integration tests never collide with
 * each other or with leftovers of an earlier run. Lowercase letters, digits and `_` only: valid as a Kafka
 * topic, a ClickHouse database and a Redis key alike.
 */
export function randomName(prefix = 't'): string {
  const safe = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')
  return `${safe}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}
