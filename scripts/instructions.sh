#!/usr/bin/env bash
# Counts the instructions one call costs a tether-bench server (or client), with callgrind:
# a figure that does not move with the machine's noise, for A/B work on a shared VM where
# calls/s swing by several percent between runs of the same build.
#
#   scripts/instructions.sh KIND [WORKLOAD] [CONNS]            the server's instructions per call
#   scripts/instructions.sh --client KIND [WORKLOAD] [CONNS]   the client's
#   BIN=path/to/tether-bench scripts/instructions.sh ...       another build (A/B)
#
# KIND is a `tether-bench serve` kind (tether, tether4, pyro3, hessian, xmlrpc, raw-tokio, ...;
# tether-service: the Pyro5 echo with a dispatcher `#[tether::service]` generates, as a user's
# service has it, where `tether` has a hand-written one),
# WORKLOAD seq (default) or conc, CONNS 1 (default) or more. The side under callgrind runs two
# timed loops (1 s and 3 s, no warm-up); the figure is the slope between them, so start-up and
# connection set-up drop out. User-space instructions only (the kernel's share is not counted),
# the runtime's own included: raw-tokio is the floor to compare with.
# Needs valgrind (Debian: apt-get install -y valgrind).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIDE=server
if [ "${1:-}" = "--client" ]; then
    SIDE=client
    shift
fi
KIND="${1:?usage: scripts/instructions.sh [--client] KIND [WORKLOAD] [CONNS]}"
WORKLOAD="${2:-seq}"
CONNS="${3:-1}"
# The Pyro4 rows' client (tether4) calls the same daemon as Pyro5's, in serpent (a Pyro4 daemon
# refuses msgpack); TETHER_BENCH_SERIALIZER picks another serializer for the Pyro kinds.
SERVE_KIND="$KIND"
if [ "$KIND" = tether4 ]; then
    SERVE_KIND=tether
    export TETHER_BENCH_SERIALIZER="${TETHER_BENCH_SERIALIZER:-serpent}"
fi
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt-get install -y valgrind)" >&2; exit 2; }
if [ -z "${BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p tether-bench)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/tether-bench"
fi
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# Starts the server (under callgrind when it is the side measured); sets SERVER_PID and PORT.
start_server() {
    if [ "$SIDE" = server ]; then
        valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BIN" serve "$SERVE_KIND" \
            >"$WORK/serve.out" 2>"$WORK/serve.err" &
    else
        "$BIN" serve "$SERVE_KIND" >"$WORK/serve.out" 2>"$WORK/serve.err" &
    fi
    SERVER_PID=$!
    for _ in $(seq 300); do
        grep -q PORT "$WORK/serve.out" 2>/dev/null && break
        sleep 0.1
    done
    PORT="$(awk '/PORT/{print $2}' "$WORK/serve.out")"
    [ -n "$PORT" ] || { echo "instructions.sh: the server did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
}

# One timed loop of SECS seconds; sets CALLS and INSTR.
measure() {
    local secs="$1" result
    rm -f "$WORK/cg.out"
    start_server
    if [ "$SIDE" = server ]; then
        result="$("$BIN" client "$KIND" "127.0.0.1:$PORT" "$WORKLOAD" "$secs" 0 "$CONNS" | grep RESULT)"
    else
        result="$(valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
            "$BIN" client "$KIND" "127.0.0.1:$PORT" "$WORKLOAD" "$secs" 0 "$CONNS" 2>/dev/null | grep RESULT)"
    fi
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    CALLS="$(sed 's/.*calls=\([0-9]*\).*/\1/' <<<"$result")"
    INSTR="$(awk '/^(summary|totals):/{print $2; exit}' "$WORK/cg.out")"
}

measure 1
C1=$CALLS I1=$INSTR
measure 3
C2=$CALLS I2=$INSTR
if [ "$C2" -le "$C1" ]; then
    echo "instructions.sh: the longer run made no more calls ($C1, $C2)" >&2
    exit 1
fi
echo "$KIND $WORKLOAD $CONNS, $SIDE: $(( (I2 - I1) / (C2 - C1) )) instructions per call ($C1 and $C2 calls)"
