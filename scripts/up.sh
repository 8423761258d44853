#!/usr/bin/env bash
# Sets up (npm ci, build) and runs `aiops up` on embedded defaults. Extra arguments go to `aiops up`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/@oclif/core ] || npm ci --no-audit --no-fund --loglevel=error
[ -f dist/commands/up.js ] && [ -z "$(find src -newer dist/commands/up.js -name '*.ts' | head -1)" ] || npm run --silent build
exec node bin/run.js up "$@"
