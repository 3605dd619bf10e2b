#!/usr/bin/env bash
# Soak: ten minutes (or SECONDS) of mixed load and attacks against `tether echo-server`, sampling the
# server's memory and descriptors and a good client's latency (see scripts/soak.py), then a fault
# phase of FAULT_SECONDS (60): a pool over three hosts in network namespaces under load, one
# black-holed, one partitioned, both healed (scripts/soak_faults.sh). Not a test.
#   scripts/soak.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/test.sh --peers-only >/dev/null
cargo build -q --release -p tether-cli
ulimit -n 20000 2>/dev/null || true
T="${CARGO_TARGET_DIR:-$ROOT/target}/release/tether"
"$ROOT/.venv/bin/python" scripts/soak.py "$T" "${1:-600}"
# The fault phase: a black-holed and a partitioned server under load (scripts/soak_faults.sh).
scripts/soak_faults.sh "$T" "${FAULT_SECONDS:-60}"
