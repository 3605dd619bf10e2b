"""Python's own HTTP stack on both sides of a tether process, for the tests of trace context
and baggage propagation.

    propagation_peer.py serve
        an XML-RPC server (HTTP/1.1, introspection) whose `headers()` returns the trace and
        baggage headers of the request that called it, names in lowercase; prints "URL <url>"
    propagation_peer.py call URL [NAME=VALUE ...]
        calls `headers()` on URL, sending those extra request headers; prints the result as
        one JSON line
"""
import json
import sys
import xmlrpc.client
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

CARRIED = ("traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled",
           "x-b3-flags", "baggage")

last = {}


class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"
    rpc_paths = ("/", "/RPC2")

    def do_POST(self):
        global last
        last = {}
        for k, v in self.headers.items():
            if k.lower() in CARRIED:
                last[k.lower()] = v if k.lower() not in last else last[k.lower()] + "," + v
        super().do_POST()


def headers():
    return last


def serve():
    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, allow_none=True,
                                logRequests=False)
    server.register_introspection_functions()
    server.register_function(headers, "headers")
    print("URL http://127.0.0.1:%d/RPC2" % server.server_address[1], flush=True)
    server.serve_forever()


def call(url, pairs):
    extra = [tuple(p.split("=", 1)) for p in pairs]
    proxy = xmlrpc.client.ServerProxy(url, transport=xmlrpc.client.Transport(headers=extra))
    print(json.dumps(proxy.headers(), sort_keys=True), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        call(sys.argv[2], sys.argv[3:])
