"""Python's own HTTP stack, with OpenTelemetry's official propagators, on both sides of a
tether process, for the tests of trace context and baggage propagation.

    propagation_peer.py serve
        an XML-RPC server (HTTP/1.1, introspection) whose `headers()` returns
        {"headers": the trace and baggage headers of the request that called it (names in
        lowercase), "extracted": what OpenTelemetry's propagators read from them:
        {"tracecontext" | "b3" | "b3multi": "TRACE-SPAN-SAMPLED" or "", "baggage": {k: v}}};
        prints "URL <url>"
    propagation_peer.py call URL [inject=FORMAT ...] [NAME=VALUE ...]
        calls `headers()` on URL, sending the headers OpenTelemetry's FORMAT propagator
        (tracecontext, b3, b3multi, baggage) injects for trace TRACE, span SPAN, sampled, and
        baggage user=alice, tier="gold plus", and any NAME=VALUE headers; prints the result
        as one JSON line
"""
import json
import sys
import xmlrpc.client
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from opentelemetry import baggage as otel_baggage
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACE = 0x4bf92f3577b34da6a3ce929d0e0e4736
SPAN = 0x00f067aa0ba902b7
PROPAGATORS = {
    "tracecontext": TraceContextTextMapPropagator(),
    "b3": B3SingleFormat(),
    "b3multi": B3MultiFormat(),
    "baggage": W3CBaggagePropagator(),
}
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

    def log_message(self, *args):
        pass


def extracted(headers):
    out = {}
    for name in ("tracecontext", "b3", "b3multi"):
        ctx = PROPAGATORS[name].extract(headers)
        sc = trace.get_current_span(ctx).get_span_context()
        out[name] = ("%032x-%016x-%d" % (sc.trace_id, sc.span_id, sc.trace_flags.sampled)
                     if sc.is_valid else "")
    ctx = PROPAGATORS["baggage"].extract(headers)
    out["baggage"] = {k: str(v) for k, v in otel_baggage.get_all(ctx).items()}
    return out


def headers():
    return {"headers": last, "extracted": extracted(last)}


def serve():
    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, allow_none=True,
                                logRequests=False)
    server.register_introspection_functions()
    server.register_function(headers, "headers")
    print("URL http://127.0.0.1:%d/RPC2" % server.server_address[1], flush=True)
    server.serve_forever()


def call(url, args):
    span = trace.NonRecordingSpan(trace.SpanContext(
        trace_id=TRACE, span_id=SPAN, is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)))
    ctx = trace.set_span_in_context(span)
    ctx = otel_baggage.set_baggage("user", "alice", ctx)
    ctx = otel_baggage.set_baggage("tier", "gold plus", ctx)
    carrier = {}
    extra = []
    for a in args:
        k, v = a.split("=", 1)
        if k == "inject":
            PROPAGATORS[v].inject(carrier, context=ctx)
        else:
            extra.append((k, v))
    extra = list(carrier.items()) + extra
    proxy = xmlrpc.client.ServerProxy(url, transport=xmlrpc.client.Transport(headers=extra))
    print(json.dumps(proxy.headers(), sort_keys=True), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        call(sys.argv[2], sys.argv[3:])
