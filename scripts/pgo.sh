#!/usr/bin/env bash
# Builds the `tether` binary and `tether-bench` with profile-guided optimization (PGO): an
# instrumented build runs every wire's calls (the training), and the release build then lays
# out and inlines the code by what those calls ran. A call's code then spans fewer cache lines
# (the hot paths packed together, the cold ones moved away), which a plain build cannot do: its
# static rules see no cold code on a call's path.
#
#   scripts/pgo.sh              train and build: target/pgo/release/{tether,tether-bench}
#   scripts/pgo.sh --compare    then time the plain build against the PGO build, every wire
#   scripts/pgo.sh --compare-only [ROUNDS]   only the comparison (both builds must exist)
#
# Training: tether-bench's server and client of every wire (Pyro5 in msgpack, Pyro4 in serpent,
# Pyro5 over TLS, Pyro 3, Hessian, XML-RPC plain, over TLS and mutual TLS), sequential calls,
# 64 connections and the 1 MiB echo, and its Pyro5 echo with tracing and metrics on (the
# observability rows' server), once on one CPU (the current-thread runtime) and once on all (the
# multi-thread one); and the `tether` binary's own `echo-server` driven by `tether bench` on
# each Pyro wire, Hessian and TLS, and with tracing and metrics on (the admin server up). Every
# observed run exports its spans over OTLP to a minimal receiver this script starts. What the
# profile does not cover is built as a plain release build would build it. The comparison
# alternates the two builds, round by round, and prints each cell's median of the per-round
# ratios (PGO ÷ plain).
#
# Needs llvm-profdata of the toolchain's LLVM (rustup's llvm-tools component, added here when
# missing). Uses target/pgo-train (instrumented), target/pgo-data (profiles) and target/pgo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TRAIN="$TARGET/pgo-train"
DATA="$TARGET/pgo-data"
OUT="$TARGET/pgo"
MODE=build
ROUNDS=5
case "${1:-}" in
    --compare) MODE=both ;;
    --compare-only) MODE=compare; ROUNDS="${2:-5}" ;;
    "") ;;
    *) echo "usage: scripts/pgo.sh [--compare | --compare-only [ROUNDS]]" >&2; exit 2 ;;
esac

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    # (`|| true`: under `set -e` a failing command here would become the script's status.)
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Sets PIN to the prefix that pins a command line to CPUs $1 ("all": none), as scripts/bench.sh
# pins its rows. A server is started as `"${PIN[@]}" BIN ... &`, a simple command, so that `$!`
# is the server itself (taskset execs it): a function run in the background is a subshell, and
# killing that leaves the server.
pinned() {
    PIN=()
    if [ "$1" != all ] && command -v taskset >/dev/null; then PIN=(taskset -c "$1"); fi
}

# Starts `BIN serve KIND` (CPU list in $1, "all" for none); sets SERVER and ADDR, what a client
# of tether-bench is given: `127.0.0.1:PORT` for a server that prints its port, the object's
# address (`NAME@127.0.0.1:PORT`) for one that prints its URL. Arguments after the third are
# put before the server's command line (`env VAR=VALUE ...`).
serve() {
    local cpus="$1" bin="$2" kind="$3" SERVE_ENV=("${@:4}")
    rm -f "$WORK/serve.out"
    pinned "$cpus"
    "${PIN[@]}" "${SERVE_ENV[@]}" "$bin" serve "$kind" >"$WORK/serve.out" 2>"$WORK/serve.err" &
    SERVER=$!
    PIDS+=("$SERVER")
    wait_line "$SERVER" "$WORK/serve.out" '^(PORT|URL) '
    ADDR="$(awk '/^PORT /{print "127.0.0.1:" $2} /^URL /{sub(/^PYRO:/, "", $2); print $2}' "$WORK/serve.out")"
    [ -n "$ADDR" ] || { echo "pgo.sh: $bin serve $kind did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }
}

# Waits (10 s at most) until FILE has a line matching the extended regex PATTERN, or PID has
# exited; the caller then reads FILE and says what is missing. (Always succeeds: under `set -e`
# a failing wait would end the script before the caller's message.)
wait_line() {
    local pid="$1" file="$2" pattern="$3"
    for _ in $(seq 200); do
        grep -qE "$pattern" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Runs one client of tether-bench; prints its number of calls.
client() {
    local cpus="$1" bin="$2" kind="$3" workload="$4" secs="$5" conns="$6"
    local out
    pinned "$cpus"
    out="$("${PIN[@]}" "$bin" client "$kind" "$ADDR" "$workload" "$secs" 0.2 "$conns")"
    sed -n 's/^RESULT calls=\([0-9]*\).*/\1/p' <<<"$out"
}

# The tether-bench kinds: client kind, server kind, serializer.
KINDS=(
    "tether tether msgpack"
    "tether4 tether serpent"
    "tether-tls tether-tls msgpack"
    "pyro3 pyro3 msgpack"
    "hessian hessian msgpack"
    "xmlrpc xmlrpc msgpack"
    "xmlrpc-tls xmlrpc-tls msgpack"
    "xmlrpc-mtls xmlrpc-mtls msgpack"
)

train_bench() {
    local bin="$TRAIN/release/tether-bench"
    # CPU 0 (the current-thread runtime), then every CPU (the multi-thread one).
    for cpus in 0 all; do
        for k in "${KINDS[@]}"; do
            read -r ck sk ser <<<"$k"
            for w in "seq 1" "conc 64" "big 1"; do
                read -r workload conns <<<"$w"
                # Pyro 3 and the HTTP wires have no 1 MiB echo row.
                if [ "$workload" = big ] && [[ "$ck" != tether* ]]; then continue; fi
                TETHER_BENCH_SERIALIZER="$ser" serve "$cpus" "$bin" "$sk"
                n="$(TETHER_BENCH_SERIALIZER="$ser" client "$cpus" "$bin" "$ck" "$workload" 1 "$conns")"
                stop "$SERVER"
                [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "pgo.sh: training $ck $workload made no calls" >&2; exit 1; }
                echo "  tether-bench $ck $workload (CPU $cpus): $n calls"
            done
        done
        # The Pyro5 echo observed (tracing, every span exported, and metrics), as the bench's
        # observability rows serve it, so that their observed calls are not laid out as cold.
        for w in "seq 1" "conc 64"; do
            read -r workload conns <<<"$w"
            serve "$cpus" "$bin" observed:on "${OTLP[@]}"
            n="$(client "$cpus" "$bin" tether "$workload" 1 "$conns")"
            stop "$SERVER"
            [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "pgo.sh: training observed $workload made no calls" >&2; exit 1; }
            echo "  tether-bench observed $workload (CPU $cpus): $n calls"
        done
    done
}

# Starts a minimal OTLP/HTTP receiver (a 200 for every POST) for the observed runs' spans; sets
# OTLP, the environment that turns tracing on (every call sampled and exported to it).
start_otlp() {
    python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    # A server stopped mid-connection resets it: nothing to report.
    def handle_error(self, *a): pass
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()' >"$WORK/otlp.port" &
    PIDS+=("$!")
    wait_line "$!" "$WORK/otlp.port" '^[0-9]+$'
    [ -s "$WORK/otlp.port" ] || { echo "pgo.sh: the OTLP receiver did not start" >&2; exit 1; }
    OTLP=(env OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$(cat "$WORK/otlp.port")"
        OTEL_TRACES_SAMPLER=always_on OTEL_BSP_SCHEDULE_DELAY=100)
}

# The `tether` binary: its echo server, driven by its own load generator.
train_cli() {
    local bin="$TRAIN/release/tether"
    for p in "pyro5 - - -" "pyro5 serpent - -" "pyro4 serpent - -" "pyro3 - - -" "hessian - - -" \
        "pyro5 - --tls -" "pyro5 - - observed" "hessian - - observed"; do
        read -r proto ser tls obs <<<"$p"
        [ "$tls" = - ] && tls=""
        # Observed: tracing (every call sampled, exported) and metrics (the admin server on).
        local run=()
        [ "$obs" = observed ] && run=("${OTLP[@]}")
        local sargs=(echo-server -H 127.0.0.1 -p 0 --protocol "$proto")
        [ "$obs" = observed ] && sargs+=(--admin 127.0.0.1:0)
        local cargs=()
        [ "$ser" != - ] && cargs+=(--serializer "$ser")
        [ "$proto" = pyro4 ] && cargs+=(--protocol pyro4)
        [ "$proto" = hessian ] && cargs+=(--protocol hessian)
        if [ -n "$tls" ]; then
            sargs+=(--tls "$WORK/pki")
            cargs+=(--tls "$WORK/pki")
        fi
        rm -f "$WORK/echo.out"
        pinned 0
        "${PIN[@]}" "${run[@]}" "$bin" "${sargs[@]}" >"$WORK/echo.out" 2>"$WORK/echo.err" &
        local pid=$!
        PIDS+=("$pid")
        wait_line "$pid" "$WORK/echo.out" '^echo uri: '
        local uri
        uri="$(sed -n 's/^echo uri: //p' "$WORK/echo.out")"
        [ -n "$uri" ] || { echo "pgo.sh: tether echo-server --protocol $proto did not start:" >&2; cat "$WORK/echo.err" >&2; exit 1; }
        local method=echo arg="'hello, tether'"
        for c in 1 64; do
            pinned 1
            "${PIN[@]}" "${run[@]}" "$bin" bench "$uri" "$method" "$arg" "${cargs[@]}" -c "$c" -z 1s --json >"$WORK/bench.json" 2>"$WORK/bench.err" \
                || { echo "pgo.sh: tether bench $proto failed:" >&2; cat "$WORK/bench.err" >&2; exit 1; }
            echo "  tether bench $proto ${ser/-/} ${tls} ${obs/-/} -c $c: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["calls"])' "$WORK/bench.json" 2>/dev/null || echo '?') calls"
        done
        stop "$pid"
    done
}

build() {
    local profdata
    local host sysroot
    host="$(rustc -vV | sed -n 's/^host: //p')"
    sysroot="$(rustc --print sysroot)"
    profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
    if [ ! -x "$profdata" ]; then
        echo "== rustup component add llvm-tools (llvm-profdata)"
        rustup component add llvm-tools
    fi
    [ -x "$profdata" ] || { echo "pgo.sh: no llvm-profdata at $profdata" >&2; exit 1; }

    echo "== instrumented build (target/pgo-train)"
    rm -rf "$DATA"
    mkdir -p "$DATA"
    CARGO_TARGET_DIR="$TRAIN" RUSTFLAGS="-Cprofile-generate=$DATA" \
        cargo build --release -q -p tether-cli -p tether-bench
    "$TRAIN/release/tether" pki "$WORK/pki" >/dev/null 2>&1
    export TETHER_BENCH_PKI="$WORK/pki"

    echo "== training"
    start_otlp
    train_bench
    train_cli
    "$profdata" merge -o "$DATA/merged.profdata" "$DATA"/*.profraw
    rm -f "$DATA"/*.profraw

    echo "== optimized build (target/pgo)"
    CARGO_TARGET_DIR="$OUT" RUSTFLAGS="-Cprofile-use=$DATA/merged.profdata" \
        cargo build --release -q -p tether-cli -p tether-bench

    # The optimized binaries answer a call (what PGO changes is layout and inlining, never
    # behaviour; the test suite checks the behaviour on the plain build).
    pinned 0
    "${PIN[@]}" "$OUT/release/tether" echo-server -H 127.0.0.1 -p 0 >"$WORK/echo.out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_line "$pid" "$WORK/echo.out" '^echo uri: '
    local got
    got="$("$OUT/release/tether" call "$(sed -n 's/^echo uri: //p' "$WORK/echo.out")" echo "'hello, tether'")"
    stop "$pid"
    [ "$got" = "'hello, tether'" ] || { echo "pgo.sh: the PGO build's echo returned $got" >&2; exit 1; }
    echo "built: $OUT/release/tether, $OUT/release/tether-bench"
}

# Times the plain release build (A) against the PGO build (B), round by round alternating,
# server on CPU 0 and the client on CPU 0 (pinned) or CPU 1 (split), as scripts/bench.sh runs
# its rows; prints a markdown table of the medians of the per-round ratios B ÷ A.
compare() {
    local a="$TARGET/release/tether-bench" b="$OUT/release/tether-bench"
    cargo build --release -q -p tether-bench
    [ -x "$b" ] || { echo "pgo.sh: no PGO build at $b (run scripts/pgo.sh first)" >&2; exit 1; }
    if [ -z "${TETHER_BENCH_PKI:-}" ]; then
        "$OUT/release/tether" pki "$WORK/pki" >/dev/null 2>&1
        export TETHER_BENCH_PKI="$WORK/pki"
    fi
    echo
    echo "PGO build ÷ plain build, calls/s ($ROUNDS alternating rounds of 1 s a cell; median of the rounds' ratios, their range)"
    echo
    echo "| wire | pinned seq | pinned 64 conns | split seq | split 64 conns |"
    echo "|---|---:|---:|---:|---:|"
    for k in "${KINDS[@]}"; do
        read -r ck sk ser <<<"$k"
        local row="| $ck"
        for cell in "0 seq 1" "0 conc 64" "1 seq 1" "1 conc 64"; do
            read -r ccpu workload conns <<<"$cell"
            local ratios=()
            for r in $(seq "$ROUNDS"); do
                local first="$a" second="$b" na nb
                [ $((r % 2)) = 0 ] && first="$b" && second="$a"
                TETHER_BENCH_SERIALIZER="$ser" serve 0 "$first" "$sk"
                local n1; n1="$(TETHER_BENCH_SERIALIZER="$ser" client "$ccpu" "$first" "$ck" "$workload" 1 "$conns")"
                stop "$SERVER"
                TETHER_BENCH_SERIALIZER="$ser" serve 0 "$second" "$sk"
                local n2; n2="$(TETHER_BENCH_SERIALIZER="$ser" client "$ccpu" "$second" "$ck" "$workload" 1 "$conns")"
                stop "$SERVER"
                if [ "$first" = "$a" ]; then na="$n1" nb="$n2"; else na="$n2" nb="$n1"; fi
                ratios+=("$na:$nb")
            done
            row+=" | $(python3 - "${ratios[@]}" <<'PY'
import statistics, sys
r = sorted(int(b) / int(a) for a, b in (x.split(":") for x in sys.argv[1:]))
print(f"{statistics.median(r):.3f} ({r[0]:.2f}–{r[-1]:.2f})")
PY
)"
        done
        echo "$row |"
    done
}

case "$MODE" in
    build) build ;;
    both) build; compare ;;
    compare) compare ;;
esac
