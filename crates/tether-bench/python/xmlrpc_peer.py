"""Python's standard XML-RPC for tether-bench: a server and the benchmark client.

    xmlrpc_peer.py serve                          prints "PORT <n>", serves pow() on 127.0.0.1
    xmlrpc_peer.py client URL seq SECS WARMUP CONNS SERIALIZER
                                                  sequential pow(41, 3) calls, one RESULT line

Environment: PEER_TLS_DIR=DIR serves/calls over HTTPS with `tether pki DIR`'s files;
PEER_MTLS=1 also requires/presents the client certificate. The server speaks HTTP/1.1 so that
clients keep their connection (Python's default HTTP/1.0 would reconnect on every call).
"""
import os
import ssl
import sys
import xmlrpc.client
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from timing import run_seq

TLS = os.environ.get("PEER_TLS_DIR")
MTLS = os.environ.get("PEER_MTLS") == "1"


class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"


def serve():
    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, logRequests=False)
    server.register_function(pow, "pow")
    if TLS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(TLS, "server-cert.pem"), os.path.join(TLS, "server-key.pem"))
        if MTLS:
            ctx.load_verify_locations(os.path.join(TLS, "ca-chain.pem"))
            ctx.verify_mode = ssl.CERT_REQUIRED
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()


def client(url, secs, warmup):
    ctx = None
    if TLS:
        url = url.replace("http://127.0.0.1", "https://localhost")
        ctx = ssl.create_default_context(cafile=os.path.join(TLS, "ca-chain.pem"))
        if MTLS:
            ctx.load_cert_chain(os.path.join(TLS, "client-cert.pem"), os.path.join(TLS, "client-key.pem"))
    p = xmlrpc.client.ServerProxy(url, context=ctx)

    def call():
        if p.pow(41, 3) != 68921:
            raise SystemExit("pow returned a wrong value")
    run_seq(call, secs, warmup)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "serve":
        serve()
    elif len(a) >= 5 and a[0] == "client":
        client(a[1], float(a[3]), float(a[4]))
    else:
        raise SystemExit(__doc__)
