# The seed's stack as a benchmark peer (Python 2.7, Pyro 3.16): the Pyro 3 rows.
#   pyro3_peer.py serve                           serves get_data as "ServiceName"; prints "PORT <n>"
#   pyro3_peer.py client URL seq SECS WARMUP      sequential get_data("Hello") calls; one RESULT line
import sys
import time

import Pyro.core


class Service(object):
    def get_data(self, param):
        return "You got remote data => %s" % param


def serve():
    Pyro.core.initServer(banner=0)
    daemon = Pyro.core.Daemon(host="127.0.0.1", port=0, norange=1)
    obj = Pyro.core.ObjBase()
    obj.delegateTo(Service())
    daemon.connect(obj, "ServiceName")
    print "PORT %d" % daemon.port
    sys.stdout.flush()
    daemon.requestLoop()


def client(url, secs, warmup):
    Pyro.core.initClient(banner=0)
    p = Pyro.core.getProxyForURI(url)
    clock = time.time
    end = clock() + warmup
    while clock() < end:
        p.get_data("Hello")
    lat = []
    start = clock()
    end = start + secs
    while True:
        t0 = clock()
        if t0 >= end:
            break
        if p.get_data("Hello") != "You got remote data => Hello":
            raise SystemExit("wrong answer")
        lat.append(clock() - t0)
    total = clock() - start
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e6 if lat else 0.0
    print "RESULT calls=%d secs=%.6f p50_us=%.3f p99_us=%.3f" % (len(lat), total, pct(0.5), pct(0.99))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        client(sys.argv[2], float(sys.argv[4]), float(sys.argv[5]))
