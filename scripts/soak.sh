#!/usr/bin/env bash
# Soak: ten minutes (or SECONDS) of mixed load and attacks against `tether echo-server`, sampling the
# server's memory and descriptors and a good client's latency (see scripts/soak.py). Not a test.
#   scripts/soak.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/test.sh --peers-only >/dev/null
cargo build -q --release -p tether-cli
ulimit -n 20000 2>/dev/null || true
exec "$ROOT/.venv/bin/python" scripts/soak.py "${CARGO_TARGET_DIR:-$ROOT/target}/release/tether" "${1:-600}"
