import { defineConfig } from 'vitest/config'

/**
 * Test tiers are selected by mode: `vitest run --mode unit|integration|e2e`.
 * - unit: pure logic, fake timers / injected clocks, no servers.
 * - integration: real Redis, ClickHouse, Kafka-protocol brokers started by test/support (random names, free ports).
 * - e2e: the built CLI (`bin/run.js`) run as a child process with --json.
 */
const tiers: Record<string, { include: string[]; testTimeout: number; hookTimeout?: number; fileParallelism: boolean }> = {
  unit: { include: ['test/unit/**/*.test.ts'], testTimeout: 10_000, fileParallelism: true },
  // Servers are heavy on a 2-core machine: run integration files one at a time.
  integration: { include: ['test/integration/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false },
  e2e: { include: ['test/e2e/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false },
}

export default defineConfig(({ mode }) => {
  const tier = tiers[mode]
  if (!tier) {
    throw new Error(`unknown test mode "${mode}": use --mode unit, --mode integration or --mode e2e`)
  }
  return { test: { ...tier, environment: 'node', reporters: ['default'], pool: 'forks' } }
})
