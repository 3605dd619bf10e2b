"""Python's standard XML-RPC as tether's peer.

    xmlrpc_peer.py serve [TLS_DIR [require]]
                                        a SimpleXMLRPCServer (HTTP/1.1, allow_none, introspection,
                                        multicall) with echo/add/fail/pow; prints "URL <url>";
                                        with "require", clients must show a certificate signed
                                        by TLS_DIR/ca-chain.pem"
    xmlrpc_peer.py scenario URL [TLS_DIR [client]]
                                        a fixed set of calls; one canonical line per call
    xmlrpc_peer.py call URL TLS_DIR CERT KEY [MAXVER]
                                        one call with the given client certificate (or "-"),
                                        prints "ok" or "refused: <exception class>"
"""
import datetime
import os
import ssl
import sys
import xmlrpc.client
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"
    rpc_paths = ("/", "/RPC2")


def fail(msg):
    raise ValueError(msg)


def echo(x):
    return x


def add(a, b):
    return a + b


def serve(tls_dir=None, require=None):
    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, allow_none=True,
                                logRequests=False, use_builtin_types=True)
    server.register_introspection_functions()
    server.register_multicall_functions()
    server.register_function(echo, "echo")
    server.register_function(add, "add")
    server.register_function(fail, "fail")
    server.register_function(pow, "pow")
    scheme = "http"
    if tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(tls_dir, "server-cert.pem"), os.path.join(tls_dir, "server-key.pem"))
        if require == "require":
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(os.path.join(tls_dir, "ca-chain.pem"))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    print("URL %s://localhost:%d/RPC2" % (scheme, server.server_address[1]), flush=True)
    server.serve_forever()


def context(tls_dir, client):
    if not tls_dir:
        return None
    ctx = ssl.create_default_context(cafile=os.path.join(tls_dir, "ca-chain.pem"))
    if client:
        ctx.load_cert_chain(os.path.join(tls_dir, "client-cert.pem"), os.path.join(tls_dir, "client-key.pem"))
    return ctx


def canon(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%r: %s" % (k, canon(x)) for k, x in sorted(v.items())) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(canon(x) for x in v) + "]"
    return type(v).__name__ + ":" + repr(v)


def scenario(url, tls_dir=None, client=False):
    p = xmlrpc.client.ServerProxy(url, allow_none=True, use_builtin_types=True, context=context(tls_dir, client))

    def check(label, fn):
        try:
            out = canon(fn())
        except xmlrpc.client.Fault as f:
            out = "Fault(%d, %r)" % (f.faultCode, f.faultString)
        except Exception as e:  # noqa: BLE001
            out = "raised " + type(e).__name__
        print(label, "->", out, flush=True)

    for i, v in enumerate([0, 1, -1, 2**31 - 1, -2**31, True, False, "", "héllo wörld ✓ 😀", "a&b<c>d\"e'f",
                           "tab\tnew\nline", 0.0, -0.0, 1.5, 1e300, 1e-300, float("inf"),
                           datetime.datetime(2023, 11, 14, 22, 14, 0), b"\x00\x01binary\xff" * 50,
                           [], [1, "two", [3.0, [None]]], {}, {"a": 1, "b": {"c": [True]}}, None]):
        check("echo %d" % i, lambda v=v: p.echo(v))
    check("add", lambda: p.add(2, 3))
    check("add strings", lambda: p.add("a", "b"))
    check("add too few", lambda: p.add(1))
    check("pow", lambda: p.pow(41, 3))
    check("fail", lambda: p.fail("bad value 1"))
    check("nope", lambda: p.nope())
    check("list methods", lambda: [m for m in p.system.listMethods() if "." not in m or m.startswith("system.")])
    check("method help", lambda: p.system.methodHelp("add"))
    check("method signature", lambda: p.system.methodSignature("add"))

    def multicall():
        m = xmlrpc.client.MultiCall(p)
        m.add(1, 2)
        m.nope()
        m.echo("x")
        out = []
        for i in range(3):
            try:
                out.append(m().results[i])
            except Exception:  # noqa: BLE001
                pass
        return m().results
    check("multicall", multicall)
    check("big int", lambda: p.echo(2**40))
    print("done", flush=True)


def one_call(url, tls_dir, cert, key, maxver=None):
    ctx = ssl.create_default_context(cafile=os.path.join(tls_dir, "ca-chain.pem"))
    if cert != "-":
        ctx.load_cert_chain(cert, key)
    if maxver == "1.1":
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        xmlrpc.client.ServerProxy(url, context=ctx).echo(1)
        print("ok")
    except Exception as e:  # noqa: BLE001
        print("refused:", type(e).__name__)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "serve":
        serve(a[1] if len(a) > 1 else None, a[2] if len(a) > 2 else None)
    elif a[0] == "scenario":
        scenario(a[1], a[2] if len(a) > 2 else None, len(a) > 3)
    elif a[0] == "call":
        one_call(*a[1:])
