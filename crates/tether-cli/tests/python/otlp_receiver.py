"""An OTLP/HTTP trace receiver for tether's tests: decodes each POST /v1/traces body with the
official opentelemetry-proto messages (protobuf, or JSON through protobuf's own JSON parser,
which refuses any field the messages do not have) and prints one JSON line per span on stdout;
POST /v1/metrics bodies likewise, one line per data point (see print_metrics), and /v1/logs
bodies one line per log record (see print_logs).

Prints `otlp receiver: http://127.0.0.1:PORT` once it listens. Each span line:
{"service": ..., "trace_id": hex, "span_id": hex, "parent": hex or "", "name": ...,
 "kind": "SPAN_KIND_CLIENT"..., "status": "STATUS_CODE_ERROR"..., "attrs": {...},
 "content_type": ...}

With --grpc it is an OTLP/gRPC receiver instead (grpcio, the TraceService of the same
messages); its lines say "content_type": "application/grpc". With --tls DIR (a `tether pki`
directory) it serves gRPC over TLS with DIR's server certificate.

usage: otlp_receiver.py [--grpc [--tls DIR]]
"""
import base64
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status


def value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def print_spans(req, content_type, content_encoding=None):
    for rs in req.resource_spans:
        res = {kv.key: value(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                line = {
                    "service": res.get("service.name"),
                    "scope": ss.scope.name,
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent": s.parent_span_id.hex(),
                    "name": s.name,
                    "kind": Span.SpanKind.Name(s.kind),
                    "status": Status.StatusCode.Name(s.status.code),
                    "start": s.start_time_unix_nano,
                    "end": s.end_time_unix_nano,
                    "attrs": {kv.key: value(kv.value) for kv in s.attributes},
                    "content_type": content_type,
                    "content_encoding": content_encoding,
                }
                print(json.dumps(line), flush=True)


def print_metrics(req, content_type, content_encoding=None):
    """One JSON line per data point: {"metric": name, "type": "histogram"|"sum"|"gauge",
    "service", "unit", "attrs", and count/sum/bounds/buckets or value/monotonic,
    "temporality", "content_type"}."""
    for rm in req.resource_metrics:
        res = {kv.key: value(kv.value) for kv in rm.resource.attributes}
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                data = getattr(m, kind)
                for p in data.data_points:
                    line = {
                        "metric": m.name,
                        "type": kind,
                        "service": res.get("service.name"),
                        "scope": sm.scope.name,
                        "unit": m.unit,
                        "attrs": {kv.key: value(kv.value) for kv in p.attributes},
                        "start": p.start_time_unix_nano,
                        "time": p.time_unix_nano,
                        "content_type": content_type,
                    }
                    if kind == "histogram":
                        line.update(count=p.count, sum=p.sum, bounds=list(p.explicit_bounds),
                                    buckets=list(p.bucket_counts))
                    else:
                        line["value"] = getattr(p, p.WhichOneof("value"))
                    if kind in ("histogram", "sum"):
                        line["temporality"] = AggregationTemporality.Name(
                            data.aggregation_temporality)
                    if kind == "sum":
                        line["monotonic"] = data.is_monotonic
                    print(json.dumps(line), flush=True)


def print_logs(req, content_type, content_encoding=None):
    """One JSON line per log record: {"log": body, "severity", "severity_number", "service",
    "scope", "attrs", "trace_id", "span_id", "content_type"}."""
    for rl in req.resource_logs:
        res = {kv.key: value(kv.value) for kv in rl.resource.attributes}
        for sl in rl.scope_logs:
            for r in sl.log_records:
                print(json.dumps({
                    "log": value(r.body),
                    "severity": r.severity_text,
                    "severity_number": SeverityNumber.Name(r.severity_number),
                    "service": res.get("service.name"),
                    "scope": sl.scope.name,
                    "attrs": {kv.key: value(kv.value) for kv in r.attributes},
                    "trace_id": r.trace_id.hex(),
                    "span_id": r.span_id.hex(),
                    "time": r.time_unix_nano,
                    "content_type": content_type,
                }), flush=True)


# path: (request message, response message, printer, the JSON levels down to the items whose
# hex ids protobuf's JSON parser wants in base64, those ids)
SIGNALS = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse, print_spans,
                   ("resourceSpans", "scopeSpans", "spans"),
                   ("traceId", "spanId", "parentSpanId")),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse, print_metrics,
                    (), ()),
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse, print_logs,
                 ("resourceLogs", "scopeLogs", "logRecords"), ("traceId", "spanId")),
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        if self.path not in SIGNALS:
            self.send_response(404)
            self.end_headers()
            return
        request, response, printer, levels, ids = SIGNALS[self.path]
        req = request()
        content_type = self.headers.get("Content-Type")
        if (content_type or "").startswith("application/json"):
            d = json.loads(body)
            # OTLP's JSON has ids in hex where protobuf's JSON mapping has base64.
            items = [d]
            for level in levels:
                items = [x for item in items for x in item.get(level, [])]
            for item in items:
                for k in ids:
                    if k in item:
                        item[k] = base64.b64encode(bytes.fromhex(item[k])).decode()
            json_format.ParseDict(d, req)
            out, ctype = b"{}", "application/json"
        else:
            req.ParseFromString(body)
            out, ctype = response().SerializeToString(), "application/x-protobuf"
        printer(req, content_type, encoding)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def serve_grpc():
    from concurrent import futures

    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):
            print_spans(request, "application/grpc")
            return ExportTraceServiceResponse()

    class MetricsService(metrics_service_pb2_grpc.MetricsServiceServicer):
        def Export(self, request, context):
            print_metrics(request, "application/grpc")
            return ExportMetricsServiceResponse()

    class LogsService(logs_service_pb2_grpc.LogsServiceServicer):
        def Export(self, request, context):
            print_logs(request, "application/grpc")
            return ExportLogsServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(LogsService(), server)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(MetricsService(), server)
    if "--tls" in sys.argv:
        d = sys.argv[sys.argv.index("--tls") + 1]
        read = lambda name: open("%s/%s" % (d, name), "rb").read()
        chain = read("server-cert.pem") + read("ca-signing-cert.pem")
        creds = grpc.ssl_server_credentials([(read("server-key.pem"), chain)])
        port = server.add_secure_port("127.0.0.1:0", creds)
        scheme = "https"
    else:
        port = server.add_insecure_port("127.0.0.1:0")
        scheme = "http"
    server.start()
    print("otlp receiver: %s://127.0.0.1:%d" % (scheme, port), flush=True)
    server.wait_for_termination()


if "--grpc" in sys.argv[1:]:
    try:
        serve_grpc()
    except KeyboardInterrupt:
        pass
    sys.exit(0)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("otlp receiver: http://127.0.0.1:%d" % server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
sys.exit(0)
