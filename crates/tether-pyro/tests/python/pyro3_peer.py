# -*- coding: utf-8 -*-
# Python 2 / Pyro 3.16 peer for tether's Pyro 3 tests.
#   pyro3_peer.py server            serves EchoServer as "echo" on 127.0.0.1 (random port) and
#                                   prints "pyro3 uri: PYROLOC://127.0.0.1:PORT/echo"
#   pyro3_peer.py client URL        runs the scenario against URL, one line per check
#   pyro3_peer.py bench URL SECS    sequential get_data calls for SECS seconds: "RESULT calls=N secs=S"
# Environment: PEER_PASSPHRASE (identification on both sides), PYRO_CHECKSUM, PYRO_COMPRESSION.
import datetime
import md5
import os
import sys
import time

import Pyro.core
import Pyro.errors


class EchoServer(object):
    """The methods of tether's echo service, with the same texts."""

    def echo(self, message):
        return message

    def error(self):
        raise ValueError("this is the generated error from echoserver echo() method")

    def error_with_text(self):
        raise ValueError("the message of the error")

    def oneway_echo(self, message):
        return "bogus return value"

    def slow(self):
        time.sleep(0.5)
        return "Finally, an answer!"

    def get_data(self, param):
        return "You got remote data => %s" % param


def server():
    Pyro.core.initServer(banner=0)
    daemon = Pyro.core.Daemon(host="127.0.0.1", port=0, norange=1)
    passphrase = os.environ.get("PEER_PASSPHRASE")
    if passphrase:
        daemon.setAllowedIdentifications([passphrase])
    obj = Pyro.core.ObjBase()
    obj.delegateTo(EchoServer())
    daemon.connect(obj, "echo")
    print "pyro3 uri: PYROLOC://127.0.0.1:%d/echo" % daemon.port
    sys.stdout.flush()
    daemon.requestLoop()


def proxy(url):
    Pyro.core.initClient(banner=0)
    p = Pyro.core.getProxyForURI(url)
    passphrase = os.environ.get("PEER_PASSPHRASE")
    if passphrase:
        p._setIdentification(passphrase)
    return p


def show(label, f):
    try:
        r = f()
        text = repr(r)
        if len(text) > 200:
            text = "%d chars, md5 %s" % (len(text), md5.new(text).hexdigest())
        print label, type(r).__name__, text
    except Exception, e:
        print label, "EXC", type(e).__module__ + "." + type(e).__name__, repr(e.args)
    sys.stdout.flush()


VALUES = [
    ("int-small", 1), ("int-neg", -1), ("int-255", 255), ("int-256", 256),
    ("int-65535", 65535), ("int-65536", 65536), ("int-i32max", 2 ** 31 - 1),
    ("int-i32min", -2 ** 31), ("int-2^31", 2 ** 31), ("int-2^40", 2 ** 40),
    ("int-i64max", 2 ** 63 - 1), ("int-i64min", -2 ** 63),
    ("long-small", 5L), ("long-zero", 0L), ("long-2^64", 2 ** 64), ("long-neg", -2 ** 70),
    ("float", 1.5), ("float-negzero", -0.0), ("float-inf", float("inf")),
    ("float-tiny", 5e-324), ("true", True), ("false", False), ("none", None),
    ("str", "ascii text"), ("str-empty", ""), ("unicode", u"caf\xe9 \u20ac"),
    ("unicode-ascii", u"plain"), ("unicode-empty", u""),
    ("str-binary", "b\xff\x00"), ("str-long", "x" * 300),
    ("tuple-0", ()), ("tuple-1", (1,)), ("tuple-3", (1, "two", 3.0)),
    ("tuple-5", (1, 2, 3, 4, 5)), ("list", [1, [2, [3, []]], "x"]),
    ("list-big", range(2500)), ("dict", {"a": 1, "b": [1, 2]}),
    ("dict-keys", {1: "int key", (1, 2): "tuple key", None: "none key"}),
    ("dict-big", dict((i, str(i)) for i in range(1500))),
    ("set", set([1, 2, 3])), ("frozenset", frozenset(["a"])),
    ("datetime", datetime.datetime(2020, 1, 2, 3, 4, 5, 678000)),
    ("nested", {"k": [(1, {"x": set([2])}), None]}),
]


def client(url):
    p = proxy(url)
    for label, v in VALUES:
        show(label, lambda: p.echo(v))
    shared = [1, 2]
    show("shared-refs", lambda: p.echo([shared, shared]))
    show("kwargs", lambda: p.echo(message="by keyword"))
    show("error", lambda: p.error())
    show("error_with_text", lambda: p.error_with_text())
    show("unknown-method", lambda: p.nosuchmethod())
    show("wrong-arity", lambda: p.echo(1, 2))
    # oneway: the reply is not waited for; the next call still works
    p._setOneway(["oneway_echo"])
    show("oneway", lambda: p.oneway_echo("fire and forget"))
    show("after-oneway", lambda: p.echo("still here"))
    show("unknown-name", lambda: proxy(url.rsplit("/", 1)[0] + "/NoSuchName").echo(1))


def bench(url, secs):
    p = proxy(url)
    p.get_data("warm")
    n = 0
    start = time.time()
    while time.time() - start < secs:
        p.get_data("Hello")
        n += 1
    print "RESULT calls=%d secs=%f" % (n, time.time() - start)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server()
    elif sys.argv[1] == "client":
        client(sys.argv[2])
    elif sys.argv[1] == "bench":
        bench(sys.argv[2], float(sys.argv[3]))
