"""python-hessian client for tether-bench: sequential getData("Hello") calls.

    hessian_peer.py client URL seq SECS WARMUP CONNS SERIALIZER   prints one RESULT line

python-hessian opens a new connection for every call (its own behaviour); the row measures
that, as its users get it.
"""
import sys

from pyhessian.client import HessianProxy
from timing import run_seq


def main(argv):
    if len(argv) < 5 or argv[0] != "client":
        raise SystemExit(__doc__)
    url, secs, warmup = argv[1], float(argv[3]), float(argv[4])
    p = HessianProxy(url)
    run_seq(lambda: p.getData("Hello"), secs, warmup)


if __name__ == "__main__":
    main(sys.argv[1:])
