#!/usr/bin/env bash
# The one test command (README, `npm test`, .ci/run): installs what the tests need, builds, lints, and runs every
# tier against real servers the tests start themselves (Redis, ClickHouse 18.16, chDB, a librdkafka mock cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { echo; echo "=== $* ($((SECONDS - t0))s)"; }

step "system packages"; bash scripts/system-deps.sh
# `npm ci` refuses this lock: chdb lists optional per-platform packages (darwin, linux-arm64) that the registry
# does not serve, so they cannot be in the lock. `npm install --no-save` installs exactly the locked versions and
# skips optional packages it cannot get.
step "npm install (locked)"; npm install --no-save --no-audit --no-fund --loglevel=error
step "kafka mock launcher"; bash scripts/build-kafka-mock.sh
step "build"; npm run --silent build
step "lint"; npm run --silent lint
step "unit tests"; npx vitest run --mode unit
step "integration tests (real servers)"; npx vitest run --mode integration
step "e2e tests (built CLI)"; npx vitest run --mode e2e
echo; echo "=== all green in $((SECONDS - t0))s"
