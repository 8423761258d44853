/**
 * Kafka's default partitioner (Java client ≥ 0.10 and kafkajs's DefaultPartitioner): murmur2 of the key bytes,
 * made positive, modulo the partition count. The memory bus uses the same function so a key lands on the same
 * partition number whichever backend runs, which keeps tests and capacity maths comparable.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** 32-bit murmur2 exactly as Kafka's `Utils.murmur2` (signed result). */
export function murmur2(data: Uint8Array): number {
  const len = data.length
  let h = (SEED ^ len) | 0
  const len4 = len >>> 2
  for (let i = 0; i < len4; i++) {
    const i4 = i * 4
    let k = (data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)) | 0
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const tail = len & ~3
  switch (len % 4) {
    case 3:
      h ^= data[tail + 2]! << 16
    // falls through
    case 2:
      h ^= data[tail + 1]! << 8
    // falls through
    case 1:
      h ^= data[tail]!
      h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Partition for a key, as Kafka's default partitioner chooses it for keyed records. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions
}
