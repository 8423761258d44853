#!/usr/bin/env bash
# Installs the Debian packages the tests start as real servers. Idempotent: skips apt when all are present.
# Needs root (CI runs as root) or passwordless sudo.
set -euo pipefail
PKGS=(redis-server redis-sentinel clickhouse-server librdkafka-dev gcc chromium wrk)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "system deps: all present"; exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
