# -*- coding: utf-8 -*-
# Captures Pyro 3.16 traffic (Python 2.7) for tether's golden tests: runs pyro3_peer.py's
# EchoServer, puts a recording relay in front of it, makes the calls below through the relay,
# and writes each frame as a hex line "<label> <c2s|s2c> <hex>" to the file given.
#   PYTHONPATH=.py2 python2.7 pyro3_capture.py OUT [checksum+compression: 1]
import datetime
import os
import socket
import sys
import threading
import time

if len(sys.argv) > 2 and sys.argv[2] == "1":
    os.environ["PYRO_CHECKSUM"] = "1"
    os.environ["PYRO_COMPRESSION"] = "1"

import Pyro.core
import Pyro.protocol

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyro3_peer

log = []
label = ["handshake"]


def pump(src, dst, direction):
    while True:
        try:
            data = src.recv(65536)
        except socket.error:
            break
        if not data:
            break
        log.append((label[0], direction, data))
        dst.sendall(data)
    try:
        dst.shutdown(socket.SHUT_WR)
    except socket.error:
        pass


def relay(listener, port):
    while True:
        c, _ = listener.accept()
        s = socket.create_connection(("127.0.0.1", port))
        threading.Thread(target=pump, args=(c, s, "c2s")).start()
        threading.Thread(target=pump, args=(s, c, "s2c")).start()


def main():
    Pyro.core.initServer(banner=0)
    daemon = Pyro.core.Daemon(host="127.0.0.1", port=0, norange=1)
    obj = Pyro.core.ObjBase()
    obj.delegateTo(pyro3_peer.EchoServer())
    daemon.connect(obj, "echo")
    t = threading.Thread(target=daemon.requestLoop)
    t.setDaemon(True)
    t.start()
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(5)
    r = threading.Thread(target=relay, args=(lst, daemon.port))
    r.setDaemon(True)
    r.start()
    p = Pyro.core.getProxyForURI("PYROLOC://127.0.0.1:%d/echo" % lst.getsockname()[1])
    calls = [
        ("get_data", lambda: p.get_data("Hello")),
        ("kwargs", lambda: p.get_data(param="kw")),
        ("values", lambda: p.echo((1, -1, 300, 70000, 2 ** 31, 2 ** 40, 5L, 2 ** 70, -2 ** 70,
                                   1.5, True, False, None, "str", u"caf\xe9", "b\xff",
                                   [1, [2]], {"k": "v", 2: None}, set([3]), frozenset([4]),
                                   datetime.datetime(2020, 1, 2, 3, 4, 5, 678000),
                                   "x" * 300))),
        ("error", lambda: p.error()),
        ("unknown-method", lambda: p.nosuch()),
    ]
    for name, f in calls:
        label[0] = name
        try:
            f()
        except Exception:
            pass
        time.sleep(0.2)
    label[0] = "unknown-name"
    try:
        Pyro.core.getProxyForURI("PYROLOC://127.0.0.1:%d/Nope" % lst.getsockname()[1]).echo(1)
    except Exception:
        pass
    time.sleep(0.3)
    with open(sys.argv[1], "w") as out:
        # Merge the chunks of one direction and label into frames.
        for lab, direction, data in log:
            out.write("%s %s %s\n" % (lab, direction, data.encode("hex")))


main()
