#!/usr/bin/env bash
# The README's demo: the seed's example, server in one process and client in another.
#   1. builds the quickstart example (examples/quickstart),
#   2. starts `quickstart-server run server.xml --log debug` (Spring Python's server.xml, unchanged) and
#      waits until 127.0.0.1:7000 accepts,
#   3. runs the client with client.xml (a PyroProxyFactory) and prints its line,
#      `CLIENT: You got remote data => Hello`, then the same client with
#      applicationContext.xml (the local object, no server involved),
#   4. runs the high-availability demo: ten exporters on 127.0.0.1:7001-7010 and a client pool
#      through tether.cluster.PoolProxyFactory over the ten servers,
#   5. stops each server with SIGTERM (graceful shutdown) and shows the server's log lines.
# Needs python3 (it reads cargo's metadata) and ports 7000-7010 free on 127.0.0.1. The first build
# compiles the whole stack (a few minutes on 2 cores): cargo's progress is shown. Exits non-zero if
# any step fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QS="$ROOT/examples/quickstart"
cd "$ROOT"

command -v python3 >/dev/null || { echo "demo.sh: python3 is needed (it reads cargo's metadata)" >&2; exit 1; }
echo "==> cargo build -p quickstart (the first build compiles the whole stack: a few minutes)"
cargo build -p quickstart
BIN="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"

LOG="$(mktemp -d)"
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap 'stop_server; rm -rf "$LOG"' EXIT

wait_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG/server.log"; echo "demo: the server exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "demo: nothing listens on 127.0.0.1:$1 after 10 s" >&2
    exit 1
}

echo "==> server: run server.xml --log debug (in the background)"
(cd "$QS" && exec "$BIN/quickstart-server" run server.xml --log debug) >"$LOG/server.log" 2>&1 &
SERVER_PID=$!
wait_port 7000

echo "==> client: client.xml (a PyroProxyFactory for PYROLOC://127.0.0.1:7000/ServiceName)"
(cd "$QS" && "$BIN/quickstart-client" client.xml)
echo "==> client: applicationContext.xml (the local object)"
(cd "$QS" && "$BIN/quickstart-client" applicationContext.xml)

stop_server
echo "==> server log (debug; Spring Python's logger names as tracing targets)"
grep -E "springpython\.remoting|tether\.run" "$LOG/server.log"

echo "==> high availability: server run ha-server.xml (10 exporters on 7001-7010)"
(cd "$QS" && exec "$BIN/quickstart-server" run ha-server.xml) >"$LOG/ha.log" 2>&1 &
SERVER_PID=$!
for p in $(seq 7001 7010); do wait_port "$p"; done
echo "==> ha-client: 12 calls through a pool (tether.cluster.PoolProxyFactory) over 10 servers"
(cd "$QS" && "$BIN/quickstart-ha-client" ha-client.xml)
stop_server
echo "demo: OK"
