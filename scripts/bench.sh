#!/usr/bin/env bash
# Runs the benchmark: tether against raw TCP, tarpc and Python Pyro5, side by side, in one run.
#   scripts/bench.sh            full run (2 s per measurement, a few minutes)
#   scripts/bench.sh --quick    short smoke run
#   scripts/bench.sh --scale    the scale curves instead (growth exponents; target/bench/scale.md)
#   scripts/bench.sh --pgo ...  the same rows with the profile-guided build (scripts/pgo.sh
#                               trains and builds it first; tables in target/bench/bench-pgo.md)
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
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release/tether-bench"
SUFFIX=""
ARGS=()
for a in "$@"; do
    if [ "$a" = --pgo ]; then
        BIN="$TARGET/pgo/release/tether-bench"
        SUFFIX="-pgo"
    else
        ARGS+=("$a")
    fi
done
if [ -n "$SUFFIX" ]; then
    scripts/pgo.sh
else
    cargo build --release -p tether-bench
fi
mkdir -p "$TARGET/bench"
SVG=(--svg "$TARGET/bench/bench$SUFFIX.svg")
OUT="$TARGET/bench/bench$SUFFIX.md"
for a in "${ARGS[@]}"; do
    case "$a" in
        --svg|--svg=*|--help|-h) SVG=() ;;
        --scale) SVG=(); OUT="$TARGET/bench/scale$SUFFIX.md" ;;
    esac
done
"$BIN" "${SVG[@]}" "${ARGS[@]}" | tee "$OUT"
exit "${PIPESTATUS[0]}"
