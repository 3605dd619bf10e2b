#!/usr/bin/env bash
# Runs the benchmark: tether against raw TCP, tarpc and Python Pyro5, side by side, in one run.
#   scripts/bench.sh            full run (2 s per measurement, a few minutes)
#   scripts/bench.sh --quick    short smoke run
#   scripts/bench.sh --scale    the scale curves instead (growth exponents; target/bench/scale.md)
# Any other flag goes to tether-bench (see: scripts/bench.sh --help).
# Makes sure the Python peers are installed (scripts/test.sh --peers-only), builds in release,
# and prints markdown tables with every row's ratio to raw TCP; the tables are also written to
# target/bench/bench.md and the ratios drawn in target/bench/bench.svg (unless --svg FILE names
# another file).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/test.sh --peers-only
export TETHER_PYTHON="$ROOT/.venv/bin/python"
cargo build --release -p tether-bench
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$TARGET/bench"
SVG=(--svg "$TARGET/bench/bench.svg")
OUT="$TARGET/bench/bench.md"
for a in "$@"; do
    case "$a" in
        --svg|--svg=*|--help|-h) SVG=() ;;
        --scale) SVG=(); OUT="$TARGET/bench/scale.md" ;;
    esac
done
"$TARGET/release/tether-bench" "${SVG[@]}" "$@" | tee "$OUT"
exit "${PIPESTATUS[0]}"
