#!/usr/bin/env bash
# Builds the librdkafka mock-cluster launcher used by the Kafka integration tests (test/support/kafka.ts).
# Idempotent: does nothing when build/aiops-kafka-mock is newer than its source. Needs gcc and librdkafka-dev.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/native/kafka-mock/aiops-kafka-mock.c"
out="$root/build/aiops-kafka-mock"
cc="${CC:-gcc}"

if [[ -x "$out" && "$out" -nt "$src" && "$out" -nt "${BASH_SOURCE[0]}" ]]; then
  exit 0
fi
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build-kafka-mock: $cc not found (install gcc, or set CC)" >&2
  exit 1
fi
if [[ ! -f /usr/include/librdkafka/rdkafka_mock.h ]] && ! pkg-config --exists rdkafka 2>/dev/null; then
  echo "build-kafka-mock: librdkafka headers not found (apt-get install librdkafka-dev)" >&2
  exit 1
fi
mkdir -p "$root/build"
cflags="$(pkg-config --cflags rdkafka 2>/dev/null || true)"
libs="$(pkg-config --libs rdkafka 2>/dev/null || echo -lrdkafka)"
# Build to a temporary name and rename: parallel test workers racing here never see a half-written binary.
tmp="$out.tmp.$$"
# shellcheck disable=SC2086
"$cc" -O2 -Wall -Wextra -std=gnu11 $cflags -o "$tmp" "$src" $libs
mv -f "$tmp" "$out"
echo "build-kafka-mock: built $out" >&2
