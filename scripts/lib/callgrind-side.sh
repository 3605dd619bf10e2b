# Shared by scripts/instructions.sh and scripts/footprint.sh (sourced, with their arguments):
# one tether-bench server and one client on loopback, the side being measured under the
# valgrind command in the array CG, which the sourcing script sets after this file (it may use
# $WORK).
#
# Arguments: [--client] KIND [WORKLOAD] [CONNS] [...]; sets SIDE (server or client), KIND,
# WORKLOAD (default seq), CONNS (default 1), ARGS (the arguments after --client), SERVE_KIND,
# BIN (built unless given), WORK (a temporary directory, removed at exit) and, once a server
# runs, SERVER_PID and PORT. Expects NAME (the script's name, for messages) and USAGE.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIDE=server
ARGS=("$@")
if [ "${ARGS[0]:-}" = "--client" ]; then
    SIDE=client
    ARGS=("${ARGS[@]:1}")
fi
KIND="${ARGS[0]:-}"
[ -n "$KIND" ] || { echo "usage: $USAGE" >&2; exit 2; }
WORKLOAD="${ARGS[1]:-seq}"
CONNS="${ARGS[2]:-1}"
# The Pyro4 rows' client (tether4) calls the same daemon as Pyro5's, in serpent (a Pyro4 daemon
# refuses msgpack); TETHER_BENCH_SERIALIZER picks another serializer for the Pyro kinds.
SERVE_KIND="$KIND"
if [ "$KIND" = tether4 ]; then
    SERVE_KIND=tether
    export TETHER_BENCH_SERIALIZER="${TETHER_BENCH_SERIALIZER:-serpent}"
fi
command -v valgrind >/dev/null || { echo "$NAME: needs valgrind (apt-get install -y valgrind)" >&2; exit 2; }
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

# Starts the server (under CG when it is the side measured); sets SERVER_PID and PORT.
start_server() {
    if [ "$SIDE" = server ]; then
        "${CG[@]}" "$BIN" serve "$SERVE_KIND" >"$WORK/serve.out" 2>"$WORK/serve.err" &
    else
        "$BIN" serve "$SERVE_KIND" >"$WORK/serve.out" 2>"$WORK/serve.err" &
    fi
    SERVER_PID=$!
    for _ in $(seq 300); do
        grep -q PORT "$WORK/serve.out" 2>/dev/null && break
        sleep 0.1
    done
    PORT="$(awk '/PORT/{print $2}' "$WORK/serve.out")"
    [ -n "$PORT" ] || { echo "$NAME: the server did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
}

# Runs the client for SECS seconds (under CG when it is the side measured), then stops the
# server and waits for it (callgrind writes its file as the server exits); sets RESULT, the
# client's RESULT line. (Not to be run in a subshell: the server is this shell's child.)
run_client() {
    local secs="$1"
    if [ "$SIDE" = server ]; then
        RESULT="$("$BIN" client "$KIND" "127.0.0.1:$PORT" "$WORKLOAD" "$secs" 0 "$CONNS" | grep RESULT)"
    else
        RESULT="$("${CG[@]}" "$BIN" client "$KIND" "127.0.0.1:$PORT" "$WORKLOAD" "$secs" 0 "$CONNS" 2>/dev/null | grep RESULT)"
    fi
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
