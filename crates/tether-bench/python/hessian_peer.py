"""python-hessian client for tether-bench: sequential getData("Hello") calls.

    hessian_peer.py client URL seq SECS WARMUP CONNS SERIALIZER   prints one RESULT line

python-hessian opens a new connection for every call (its own behaviour); the row measures
that, as its users get it.
"""
import sys
import time

from pyhessian.client import HessianProxy


def main(argv):
    if len(argv) < 5 or argv[0] != "client":
        raise SystemExit(__doc__)
    url, secs, warmup = argv[1], float(argv[3]), float(argv[4])
    p = HessianProxy(url)
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        p.getData("Hello")
    lat = []
    now = time.perf_counter_ns
    start = now()
    stop = start + int(secs * 1e9)
    while True:
        t = now()
        if t >= stop:
            break
        p.getData("Hello")
        lat.append(now() - t)
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, round((len(lat) - 1) * q))] / 1000.0 if lat else 0.0
    print(f"RESULT calls={len(lat)} secs={(now() - start) / 1e9:.6f} p50_us={pct(0.5):.3f} p99_us={pct(0.99):.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
