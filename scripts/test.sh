#!/usr/bin/env bash
# The one test command (README, `npm test`, .ci/run): installs what the tests need, builds, lints, and runs every
# tier against real servers the tests start themselves (Redis, ClickHouse 18.16, chDB, a librdkafka mock cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { echo; echo "=== $* ($((SECONDS - t0))s)"; }

step "system packages"; bash scripts/system-deps.sh
# npm ci: exactly the lock. (chdb's optional darwin/linux-arm64 packages are not served by the registry these
# machines reach, so npm cannot write their lock entries itself; they were added by hand with their os/cpu, which
# makes every other platform skip them. After an `npm install` that drops them, restore them the same way.)
step "npm ci"; npm ci --no-audit --no-fund --loglevel=error
step "kafka mock launcher"; bash scripts/build-kafka-mock.sh
step "build"; npm run --silent build
step "lint"; npm run --silent lint
step "unit tests"; npx vitest run --mode unit
step "integration tests (real servers)"; npx vitest run --mode integration
step "e2e tests (built CLI)"; npx vitest run --mode e2e
echo; echo "=== all green in $((SECONDS - t0))s"
