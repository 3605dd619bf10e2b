"""Python Pyro5 (or Pyro4) peer for tether-bench: an echo server and the benchmark client.

Environment: PEER_PYRO=4 uses Pyro4 instead of Pyro5; PEER_TLS_DIR=DIR turns on Pyro's SSL with
the files `tether pki DIR` writes (server-cert.pem/server-key.pem, ca-chain.pem).

    pyro_peer.py serve                      prints "PORT <n>", then serves object "echo" on 127.0.0.1
    pyro_peer.py client URI WORKLOAD SECS WARMUP CONNS SERIALIZER
                                            prints one "RESULT calls=.. secs=.. p50_us=.. p99_us=.." line

WORKLOAD is seq (one proxy, small echo calls, per-call latency), conc (CONNS proxies on CONNS
threads, aggregate calls) or big (echo of 1 MiB bytes, per-call latency). The loops mirror
crates/tether-bench/src/drive.rs so Python and Rust rows are timed the same way.
"""

import random
import sys
import threading
import time

import os

if os.environ.get("PEER_PYRO") == "4":
    import Pyro4 as api
    import serpent
else:
    import Pyro5.api as api
    serpent = None

TLS_DIR = os.environ.get("PEER_TLS_DIR")
if TLS_DIR:
    api.config.SSL = True
    api.config.SSL_SERVERCERT = os.path.join(TLS_DIR, "server-cert.pem")
    api.config.SSL_SERVERKEY = os.path.join(TLS_DIR, "server-key.pem")
    api.config.SSL_CACERTS = os.path.join(TLS_DIR, "ca-chain.pem")
    if os.environ.get("PEER_PYRO") != "4":
        # Pyro5 makes its client SSL context lazily and publishes it before it loads the CA
        # certificates: proxies connecting on many threads at once can get it unloaded and fail
        # to verify the server. Made here, once, before any thread starts.
        import Pyro5.socketutil

        Pyro5.socketutil.get_ssl_context(cacerts=api.config.SSL_CACERTS)


SMALL_ARG = "hello, tether"  # keep in step with workload.rs
BIG_SIZE = 1 << 20
MAX_SEQ_CALLS = 2_000_000
MAX_BIG_CALLS = 400
MIN_BIG_CALLS = 5


@api.expose
@api.behavior(instance_mode="single")
class Echo:
    def echo(self, value):
        return value


def serve():
    api.config.SERVERTYPE = "thread"
    api.config.THREADPOOL_SIZE = 160  # room for the 64-connection row plus warm-up proxies
    daemon = api.Daemon(host="127.0.0.1", port=0)
    daemon.register(Echo(), objectId="echo")
    print("PORT", daemon.locationStr.rsplit(":", 1)[1], flush=True)
    daemon.requestLoop()


def big_payload():
    # not all zeros, so compression (off by default in Pyro5) could not flatter a row
    return random.Random(1).randbytes(BIG_SIZE)


def proxy(uri, serializer):
    p = api.Proxy(uri)
    p._pyroSerializer = serializer
    p._pyroBind()
    return p


def report(calls, secs, lat_ns):
    lat_ns.sort()

    def pct(q):
        if not lat_ns:
            return 0.0
        return lat_ns[min(len(lat_ns) - 1, round((len(lat_ns) - 1) * q))] / 1000.0

    print(f"RESULT calls={calls} secs={secs:.6f} p50_us={pct(0.5):.3f} p99_us={pct(0.99):.3f}", flush=True)


def client(uri, workload, secs, warmup, conns, serializer):
    now = time.perf_counter_ns
    if workload == "seq":
        p = proxy(uri, serializer)
        warm_end = time.perf_counter() + warmup
        while time.perf_counter() < warm_end:
            p.echo(SMALL_ARG)
        lat = []
        start = now()
        end = start + int(secs * 1e9)
        while True:
            t = now()
            if t >= end or len(lat) >= MAX_SEQ_CALLS:
                break
            if p.echo(SMALL_ARG) != SMALL_ARG:
                raise SystemExit("echo returned a different value")
            lat.append(now() - t)
        report(len(lat), (now() - start) / 1e9, lat)
    elif workload == "big":
        p = proxy(uri, serializer)
        data = big_payload()
        got = p.echo(data)
        if isinstance(got, dict) and serpent is not None:
            got = serpent.tobytes(got)  # Pyro4's serpent hands bytes back as a base64 dict
        if got != data:
            raise SystemExit(f"big echo returned {type(got).__name__} of {len(got)}, not the bytes sent")
        lat = []
        start = now()
        end = start + int(secs * 1e9)
        while len(lat) < MAX_BIG_CALLS and (len(lat) < MIN_BIG_CALLS or now() < end):
            t = now()
            p.echo(data)
            lat.append(now() - t)
        report(len(lat), (now() - start) / 1e9, lat)
    elif workload == "conc":
        # Pyro5 proxies belong to the thread that made them: each thread connects its own, then
        # all start together once every connection is up.
        window = {}

        def start_clock():
            window["t0"] = time.perf_counter() + warmup
            window["end"] = window["t0"] + secs

        barrier = threading.Barrier(conns, action=start_clock)
        counts = [0] * conns
        errors = []

        def run(i):
            n = 0
            try:
                p = proxy(uri, serializer)
                barrier.wait()
                t0, end = window["t0"], window["end"]
                while True:
                    p.echo(SMALL_ARG)
                    t = time.perf_counter()
                    if t >= end:
                        break
                    if t >= t0:
                        n += 1
            except Exception as e:  # reported below, the row shows "failed"
                errors.append(repr(e))
                barrier.abort()
            counts[i] = n

        threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise SystemExit("client thread failed: " + errors[0])
        report(sum(counts), secs, [])
    else:
        raise SystemExit(f"unknown workload {workload!r}")


def main(argv):
    if len(argv) >= 1 and argv[0] == "serve":
        serve()
    elif len(argv) == 7 and argv[0] == "client":
        _, uri, workload, secs, warmup, conns, serializer = argv
        client(uri, workload, float(secs), float(warmup), int(conns), serializer)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
