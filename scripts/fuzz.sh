#!/usr/bin/env bash
# Fuzzes every decoder with libFuzzer (cargo-fuzz on the nightly toolchain), each target seeded
# with traffic from the real peers (fuzz/seeds.py: Python Pyro5's serializers and framing, the
# project's XML contexts).
#   scripts/fuzz.sh                 10,000,000 executions per target (the README's figures)
#   scripts/fuzz.sh --runs N        N executions per target (scripts/test.sh runs a short one)
#   scripts/fuzz.sh [--runs N] T..  only the targets named
# Targets: pyro5_frame pyro4_frame serpent json msgpack marshal hessian xmlrpc xml_context pyro3_pickle
# http_reply http_request etcd_reader ns_udp (fuzz/fuzz_targets/).
# Built optimised with overflow checks on (fuzz/Cargo.toml): an arithmetic overflow on a lying length
# is a crash here, not a silent wrap (it found one in the Pyro4 header checksum). No AddressSanitizer
# (-s none): every library crate is #![forbid(unsafe_code)], so there is no memory error for it to
# find, and it doubled the build (9 min -> 4.5 min on 2 cores); panics, overflows, timeouts, memory
# growth (-rss_limit_mb) and any single allocation over 256 MiB (fuzz/src/lib.rs's allocator, in place
# of -malloc_limit_mb, which needs a sanitizer) are what the runs catch.
# A crash stops the run with the input under fuzz/artifacts/TARGET/: make it a regression test in the decoder's
# crate, then fix. New decoders add their target in fuzz/ and to TARGETS below.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUNS=10000000
ALL=(pyro5_frame pyro4_frame serpent json msgpack marshal hessian xmlrpc xml_context pyro3_pickle http_reply http_request etcd_reader ns_udp)
if [ "${1:-}" = "--runs" ]; then
    RUNS="${2:?--runs needs a number}"
    shift 2
fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
    case " ${ALL[*]} " in
        *" $t "*) ;;
        *) echo "usage: scripts/fuzz.sh [--runs N] [TARGET...]; targets: ${ALL[*]}" >&2; exit 2 ;;
    esac
done

rustup toolchain list | grep -q '^nightly' || {
    echo "fuzz.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2; exit 1; }
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> cargo install cargo-fuzz"
    cargo install -q --locked cargo-fuzz
fi
[ -x "$ROOT/.venv/bin/python" ] || scripts/test.sh --peers-only >/dev/null
rm -rf fuzz/seeds
"$ROOT/.venv/bin/python" fuzz/seeds.py fuzz/seeds

echo "==> cargo +nightly fuzz build (${TARGETS[*]})"
(cd fuzz && cargo +nightly fuzz build -O -s none 2>&1 | tail -2)

total_start=$(date +%s)
for t in "${TARGETS[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    start=$(date +%s)
    log="$(mktemp)"
    if ! (cd fuzz && cargo +nightly fuzz run -O -s none "$t" "corpus/$t" "seeds/$t" -- \
            -runs="$RUNS" -max_len=65536 -rss_limit_mb=6144 -timeout=10 -print_final_stats=1) \
            >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz.sh: $t FAILED (input under fuzz/artifacts/$t/)"
        echo "Fuzz: 0 passed, 1 failed"
        exit 1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    secs=$(( $(date +%s) - start ))
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $t: $execs executions in ${secs}s, ${cov}, no crash"
    rm -f "$log"
done
echo "fuzz.sh: ${#TARGETS[@]} targets, $RUNS runs each, in $(( $(date +%s) - total_start ))s"
