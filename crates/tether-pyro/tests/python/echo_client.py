"""A fixed scenario against an echo server (Python's Pyro5 or Pyro4 echoserver, or `tether
echo-server`), run with Python's Pyro5 client or, with --pyro4, Python's Pyro4 4.82 client
against a server speaking the Pyro4 wire (tether's daemon answers both on one port).

usage: echo_client.py URI SERIALIZER [--pyro4 [HMAC_KEY]]

Prints one canonical line per check, so the outputs from two servers can be compared with
diff: sets are printed sorted, floats by repr, exceptions as type + message (tracebacks only
as "has traceback"), and anything that legitimately differs (ports, server type) is left out.
"""
import sys
import uuid

PYRO4 = "--pyro4" in sys.argv[3:4]
KEY = sys.argv[4].encode() if PYRO4 and len(sys.argv) > 4 else None

if PYRO4:
    import Pyro4
    import Pyro4.core
    import Pyro4.errors
    import Pyro4.message
    import Pyro4.util
    from Pyro4 import config as pyro_config
    from Pyro4.core import current_context
    CommunicationError = Pyro4.errors.CommunicationError
else:
    import Pyro5.api
    from Pyro5 import config as pyro_config
    import Pyro5.errors
    from Pyro5 import protocol, serializers
    from Pyro5.callcontext import current_context
    CommunicationError = Pyro5.errors.CommunicationError


def proxy(uri, ser):
    """A proxy of the chosen Pyro with the serializer (and Pyro4's key, if any)."""
    q = Pyro4.Proxy(uri) if PYRO4 else Pyro5.api.Proxy(uri)
    q._pyroSerializer = ser
    if PYRO4 and KEY:
        q._pyroHmacKey = KEY
    return q


def batch_of(p):
    return Pyro4.batch(p) if PYRO4 else Pyro5.api.BatchProxy(p)


def loads(ser, data):
    if PYRO4:
        return Pyro4.util.get_serializer(ser).deserializeData(data)
    return serializers.serializers[ser].loads(data)


def send_ping(conn):
    if PYRO4:
        Pyro4.message.Message.ping(conn, hmac_key=KEY)
    else:
        conn.send(b"")
        protocol.SendingMessage.ping(conn)


def canon(v):
    if isinstance(v, (set, frozenset)):
        return "set(" + ", ".join(sorted(canon(x) for x in v)) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(canon(k) + ": " + canon(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(canon(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(canon(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return type(v).__name__ + ":" + repr(v)


def exc(e):
    tb = getattr(e, "_pyroTraceback", None)
    return "%s: %s%s" % (type(e).__name__, e, " [has traceback]" if tb else "")


def check(label, fn):
    try:
        print(label, "->", canon(fn()))
    except Exception as e:  # noqa: BLE001 - every outcome is data here
        print(label, "raised", exc(e))
    sys.stdout.flush()


def values(ser):
    vals = [
        None, True, False, 0, 1, -1, 2**31, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**70, -2**100,
        1.5, -0.0, 1e-05, 1e16, 1.7976931348623157e308, 5e-324, float("inf"), float("-inf"),
        "", "hello", "héllo wörld ✓", "non-BMP 😀 \U0001F600 \U00010000", "it's", 'say "hi"', "both ' and \"",
        "back\\slash", "ctrl \x00\x01\x1f\x7f\x9f \n\r\t\x0b\x0c", "line\u2028sep\u2029", "x" * 5000,
        [], {}, [1, [2, [3, [4]]]], {"a": 1, "b": [1, 2], "c": {"d": None}},
        {"unicode ✓": "😀", "": ""},
    ]
    if ser == "serpent":
        # msgpack (strict_map_key) and json can't carry non-string keys in Python either
        vals += [{1: "int key", 2: "b"}, {(1, 2): "tuple key"}, {1.5: "float key"}, frozenset({1, 2})]
    if ser != "json":
        vals += [(), (1,), (1, "a", None), {"k": (1, 2)},
                 b"", b"\x00\x01binary\xff", bytes(range(256)), {1, 2, 3}, {"a", "b"}]
    return vals


def main():
    uri, ser = sys.argv[1], sys.argv[2]
    p = proxy(uri, ser)
    p._pyroTimeout = 20
    check("bind", p._pyroBind)
    print("methods", canon(set(p._pyroMethods)))
    print("oneway", canon(set(p._pyroOneway)))
    print("attrs", canon(set(p._pyroAttrs)))
    for i, v in enumerate(values(ser)):
        check("echo %d %s" % (i, canon(v)[:60]), lambda v=v: p.echo(v))
    def compressed():
        pyro_config.COMPRESSION = True
        try:
            return p.echo("compress me " * 200)
        finally:
            pyro_config.COMPRESSION = False
    check("echo compressed", compressed)
    check("echo nan", lambda: repr(p.echo(float("nan"))))
    check("echo kwargs", lambda: p.echo(message="by keyword"))
    check("echo no args", lambda: type(p.echo()).__name__)
    check("echo too many", lambda: p.echo(1, 2))
    check("nan", lambda: repr(p.nan()))
    check("inf", p.inf)
    check("dunder", p.__dunder__)
    check("error", p.error)
    check("error_with_text", p.error_with_text)
    check("oneway_echo", lambda: p.oneway_echo("fire and forget"))
    check("after oneway", lambda: p.echo("still in sync"))
    check("verbose get", lambda: p.verbose)
    check("verbose set", lambda: setattr(p, "verbose", 1))
    check("verbose get2", lambda: p.verbose)
    check("verbose reset", lambda: setattr(p, "verbose", 0))
    check("raw nosuch", lambda: p._pyroInvoke("nosuch", (), {}))
    check("raw private", lambda: p._pyroInvoke("_private", (), {}))
    check("raw mangled", lambda: p._pyroInvoke("__private", (), {}))
    check("raw getattr private", lambda: p._pyroInvoke("__getattr__", ("_verbose",), None))
    check("raw verbose as method", lambda: p._pyroInvoke("verbose", (), {}))

    def batch():
        b = batch_of(p)
        b.echo(1)
        b.echo("two")
        b.error_with_text()
        b.echo(3)
        out = []
        try:
            for r in b():
                out.append(r)
        except Exception as e:  # noqa: BLE001
            out.append(exc(e))
        return out
    check("batch", batch)

    # streaming: a generator result is iterated item by item (get_next_stream_item)
    check("generator type", lambda: type(p.generator()).__name__)
    check("generator", lambda: list(p.generator()))
    check("generator twice", lambda: [list(p.generator()), list(p.generator())])
    def gen_partial():
        g = p.generator()
        first = next(g)
        g.close()  # early stop: close_stream, oneway
        return [first, p.echo("in sync after close")]
    check("generator partial", gen_partial)
    def gen_interleaved():
        g1, g2 = p.generator(), p.generator()
        return [next(g1), next(g2), p.echo("between"), next(g1), list(g2), list(g1)]
    check("generator interleaved", gen_interleaved)
    def gen_raw():
        p._pyroRawWireResponse = True
        try:
            msg = p._pyroInvoke("generator", (), {})
        finally:
            p._pyroRawWireResponse = False
        sid = bytes(msg.annotations["STRM"]).decode()
        err = loads(ser, msg.data)
        return [hex(msg.flags & ~0x40), sorted(msg.annotations), len(sid), str(uuid.UUID(sid)) == sid,
                exc(err).split(" [")[0], sid]
    def gen_stream_ops():
        flags, anns, n, is_uuid, err, sid = gen_raw()
        d = proxy(uri.replace("test.echoserver", "Pyro.Daemon"), ser)
        out = [flags, anns, n, is_uuid, err]
        for _ in range(5):  # another connection may read it
            try:
                out.append(d.get_next_stream_item(sid))
            except StopIteration as e:
                out.append("StopIteration%r" % (e.args,))
                break
        for what in (lambda: d.get_next_stream_item(sid), lambda: d.get_next_stream_item("nosuch"),
                     lambda: d.get_next_stream_item(42)):
            try:
                out.append(canon(what()))
            except Exception as e:  # noqa: BLE001
                out.append(exc(e))
        out.append(d.close_stream("nosuch"))
        _, _, _, _, _, sid2 = gen_raw()
        out.append(d.get_next_stream_item(sid2))
        d.close_stream(sid2)
        try:
            d.get_next_stream_item(sid2)
        except Exception as e:  # noqa: BLE001
            out.append("after close: " + exc(e))
        d._pyroRelease()
        return out
    check("generator stream ops", gen_stream_ops)
    def batch_generator():
        b = batch_of(p)
        b.echo(1)
        b.generator()
        b.echo(2)
        return list(b())
    check("batch generator", batch_generator)
    check("after batch generator", lambda: p.echo("still in sync"))

    def corr():
        current_context.correlation_id = uuid.UUID("11111111-2222-3333-4444-555555555555")
        try:
            q = proxy(uri, ser)
            return q.echo("with correlation id")
        finally:
            current_context.correlation_id = None
    check("correlation id", corr)

    d = proxy(uri.replace("test.echoserver", "Pyro.Daemon"), ser)
    check("daemon ping", d.ping)
    check("daemon registered", lambda: sorted(d.registered()))
    check("daemon get_metadata", lambda: {k: set(v) for k, v in d.get_metadata("test.echoserver").items()})
    check("daemon get_metadata unknown", lambda: d.get_metadata("nosuch"))
    check("daemon info type", lambda: type(d.info()).__name__)

    def unknown_object():
        q = proxy(uri.replace("test.echoserver", "no.such.object"), ser)
        try:
            q._pyroBind()
        except CommunicationError as e:
            return type(e).__name__ + ": " + str(e).split("rejected: ")[-1]
    check("unknown object", unknown_object)

    def ping():
        send_ping(p._pyroConnection)
        return "pong"
    check("msg ping", ping)
    check("after ping", lambda: p.echo("still in sync after ping"))
    if PYRO4:
        pyro4_checks(uri, ser)
    p._pyroRelease()
    print("done")


def pyro4_checks(uri, ser):
    """What only Pyro4 has: serializers a daemon accepts or refuses by default (marshal yes,
    msgpack no), connecting without metadata, and the HMAC key on one side only or wrong."""

    def bind_with(name):
        q = proxy(uri, name)
        try:
            q._pyroBind()
            return "bound"
        except CommunicationError as e:
            return type(e).__name__ + ": " + str(e).split("rejected: ")[-1].split(" (")[0]
    check("bind with marshal", lambda: bind_with("marshal"))
    check("bind with msgpack", lambda: bind_with("msgpack"))

    def no_metadata_on_connect():
        pyro_config.METADATA = False
        try:
            q = proxy(uri, ser)
            q._pyroBind()
            return [q.echo("no metadata"), sorted(q._pyroMethods)]
        finally:
            pyro_config.METADATA = True
    check("no metadata on connect", no_metadata_on_connect)

    def bind_with_key(key):
        global KEY
        saved = KEY
        KEY = key
        try:
            q = proxy(uri, ser)
            q._pyroBind()
            return "bound"
        except Exception as e:  # noqa: BLE001
            return exc(e).split(": ")[-1]
        finally:
            KEY = saved
    check("hmac one side only",
          lambda: bind_with_key(None if KEY else b"a key the server does not have"))
    if KEY:
        check("hmac wrong key", lambda: bind_with_key(b"the wrong key"))


if __name__ == "__main__":
    main()
