"""Python Pyro5 client against tether's TestService (tests/common/mod.rs), one serializer.

usage: service_client.py URI SERIALIZER
Exits non-zero (AssertionError) on the first mismatch; prints "ok" at the end.
"""
import sys
import threading
import time

import Pyro5.api
import Pyro5.errors

uri, ser = sys.argv[1], sys.argv[2]


def proxy():
    p = Pyro5.api.Proxy(uri)
    p._pyroSerializer = ser
    p._pyroTimeout = 20
    return p


p = proxy()
# kwargs, positional, and Python's own argument errors reported by tether
assert p.echo(data=[1, "two"]) == [1, "two"]
assert p.greet("Hi", name="you") == '"Hi", "you"!', p.greet("Hi", name="you")
try:
    p.greet("Hi", bogus=1)
    raise AssertionError("no TypeError")
except TypeError as e:
    assert "unexpected keyword argument 'bogus'" in str(e)

# Pyro5's marshal serializer cannot send a call whose kwargs are None, which is how Python's
# proxy sends attribute access and batches (MarshalSerializer.dumpsCall calls kwargs.items()):
# a Python marshal client has neither, whatever the server.
FULL = ser != "marshal"

# attributes through Python's property syntax
if FULL:
    assert p.name == "world"
    p.name = "python"
    assert p.name == "python"
    p.name = "world"
    assert p.readonly == "fixed"
    try:
        p.readonly = 1
        raise AssertionError("readonly set")
    except AttributeError as e:
        assert "attempt to access unexposed or unknown remote attribute 'readonly'" in str(e), e

# exceptions with remote tracebacks
try:
    p.fail("x")
    raise AssertionError("no ValueError")
except ValueError as e:
    assert str(e) == "bad param: x"
    tb = "".join(Pyro5.errors.get_pyro_traceback())
    assert "Remote traceback" in tb and "ValueError: bad param: x" in tb, tb
try:
    p.boom()
    raise AssertionError("no exception")
except Exception as e:  # noqa: BLE001
    assert type(e) is Exception and str(e) == "com.example.Boom: boom", repr(e)
try:
    p.panic()
    raise AssertionError("no RuntimeError")
except RuntimeError as e:
    assert "deliberate panic" in str(e)
assert p.echo("after panic") == "after panic"
assert len(p) == 42  # __len__ is a public dunder

# oneway: notify('block') waits for release(); if it blocked the connection, release() could
# never be served on it and this would hang (bounded by the proxy timeout)
p.notify("block")
deadline = time.time() + 20
while "block" not in p.events():
    p.release()
    assert time.time() < deadline, "oneway call never completed"
    time.sleep(0.01)

# batch, stopping at the first error
if FULL:
    b = Pyro5.api.BatchProxy(p)
    b.echo(1)
    b.fail("in batch")
    b.echo(2)
    results = b()
    assert next(results) == 1
    try:
        next(results)
        raise AssertionError("no batch error")
    except ValueError as e:
        assert str(e) == "bad param: in batch"

# large payloads both ways (several reads per frame)
big = "ü" * (3 * 1024 * 1024)
assert p.echo(big) == big
if ser in ("msgpack", "marshal"):
    blob = bytes(range(256)) * 8192
    assert p.echo(blob) == blob

# 8 concurrent clients, each with its own proxy and connection
errors = []


def worker(n):
    try:
        q = proxy()
        for i in range(100):
            assert q.echo([n, i]) == [n, i]
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))


threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
assert not errors, errors
assert not any(t.is_alive() for t in threads), "a client hung"
print("ok")
