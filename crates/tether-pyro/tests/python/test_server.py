"""A Python Pyro5 server for tether's client tests: kwargs, attributes, oneway, exceptions,
batch and a panic-free 'slow' call. Prints `server uri: PYRO:...` once it listens.

usage: test_server.py
"""
import threading
import time

import Pyro5.api
import Pyro5.errors


class CustomError(Exception):
    pass


@Pyro5.api.expose
@Pyro5.api.behavior(instance_mode="single")
class Tester:
    def __init__(self):
        self._name = "world"
        self._events = []
        self._lock = threading.Lock()

    def echo(self, data):
        return data

    def greet(self, greeting, name="nobody", punct="!"):
        return "%s, %s%s" % (greeting, name, punct)

    def kwargs_echo(self, *args, **kwargs):
        return [list(args), kwargs]

    def fail(self, text):
        raise ValueError("bad param: " + text)

    def fail_key(self):
        raise KeyError("missing", 42)

    def fail_pyro(self):
        raise Pyro5.errors.NamingError("no such name")

    def fail_custom(self):
        raise CustomError("custom")

    @Pyro5.api.oneway
    def notify(self, msg):
        time.sleep(0.3)
        with self._lock:
            self._events.append(msg)

    def correlation(self):
        from Pyro5.callcontext import current_context
        return str(current_context.correlation_id)

    def events(self):
        with self._lock:
            return list(self._events)

    def slow(self, secs):
        time.sleep(secs)
        return "slept"

    def types(self):
        return {
            "tuple": (1, "a"), "list": [1, 2], "set": {3}, "empty_set": set(), "empty_tuple": (),
            "big": 2**80, "neg_big": -2**80, "float": 0.1, "inf": float("inf"), "ninf": float("-inf"),
            "none": None, "true": True, "unicode": "héllo 😀", "quote": "it's \"q\"", "ctrl": "\x00\x1f\x7f\n",
        }

    def count(self, n):
        """a generator: streamed to the client item by item"""
        for i in range(n):
            yield i

    def endless(self):
        """a generator that never ends (clients must stop early and close it)"""
        i = 0
        while True:
            yield i
            i += 1

    def failing_generator(self):
        yield "first"
        raise ValueError("generator failed")

    def open_streams(self):
        return len(self._pyroDaemon.streaming_responses)

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = value

    @property
    def readonly(self):
        return "fixed"


def main():
    daemon = Pyro5.api.Daemon(host="127.0.0.1", port=0)
    uri = daemon.register(Tester(), "example.tester")
    print("server uri:", uri, flush=True)
    daemon.requestLoop()


if __name__ == "__main__":
    main()
