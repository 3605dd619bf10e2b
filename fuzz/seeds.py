"""Writes the seed corpus of every fuzz target from the real peers: Pyro5's and Pyro4's own
serializers and message framing (Python), and the project's XML context files. Run with the Python that has the
peers installed: scripts/fuzz.sh does.

    python fuzz/seeds.py OUT_DIR
"""
import datetime
import decimal
import glob
import os
import shutil
import sys
import uuid

import Pyro5.api
import Pyro5.protocol as protocol
import Pyro5.serializers as serializers

out = sys.argv[1]
values = [
    None, True, 42, -7, 2 ** 100, 1.5, float("inf"), "héllo \n 🎉", "it's", b"\x00bytes",
    [1, (2,), {"a": None}], (1, 2, 3), {1, 2}, {"k": [1, {"n": (None,)}]}, [[[[]]]],
    {"__class__": "builtins.ValueError", "__exception__": True, "args": ("bad",), "attributes": {}},
    datetime.datetime(2024, 1, 2, 3, 4, 5), decimal.Decimal("1.25"), uuid.UUID(int=5),
]
ids = {"serpent": 1, "marshal": 2, "json": 3, "msgpack": 4}


def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


for ser_name, ser_id in ids.items():
    ser = serializers.serializers[ser_name]
    for i, v in enumerate(values):
        try:
            data = ser.dumps(v)
        except Exception:
            continue
        write(ser_name, "value%d" % i, data)
        write("pyro5_frame", "%s-result%d" % (ser_name, i),
              protocol.SendingMessage(protocol.MSG_RESULT, 0, i, ser_id, data).data)
    for i, args in enumerate([("Hello",), (1, 2.5, None), ([1, 2], {"a": b"x"})]):
        try:
            data = ser.dumpsCall("example.greeting", "get_data", args, {"flag": True})
        except Exception:
            continue
        write(ser_name, "call%d" % i, data)
        write("pyro5_frame", "%s-invoke%d" % (ser_name, i),
              protocol.SendingMessage(protocol.MSG_INVOKE, 0, i, ser_id, data,
                                      {"CORR": b"0123456789abcdef"}).data)
    hello = ser.dumps({"handshake": "hello", "object": "test.echoserver"})
    write("pyro5_frame", "%s-connect" % ser_name,
          protocol.SendingMessage(protocol.MSG_CONNECT, 0, 0, ser_id, hello).data)
    Pyro5.api.config.COMPRESSION = True
    big = ser.dumpsCall("o", "echo", ("x" * 5000,), {})
    write("pyro5_frame", "%s-compressed" % ser_name,
          protocol.SendingMessage(protocol.MSG_INVOKE, protocol.FLAGS_COMPRESSED, 9, ser_id, big).data)
    Pyro5.api.config.COMPRESSION = False
write("pyro5_frame", "ping", protocol.SendingMessage(protocol.MSG_PING, 0, 1, 42, b"ping").data)

# Pyro4 frames, as Python's Pyro4 4.82 writes them (unsigned and signed with the key "fuzz").
import Pyro4.message as m4
import Pyro4.util as u4
for ser_name in ("serpent", "json", "marshal"):
    ser = u4.get_serializer(ser_name)
    for key in (None, b"fuzz"):
        tag = "%s-%s" % (ser_name, "hmac" if key else "plain")
        hello, _ = ser.serializeData({"handshake": "hello", "object": "test.echoserver"})
        write("pyro4_frame", tag + "-connect",
              m4.Message(m4.MSG_CONNECT, hello, ser.serializer_id, m4.FLAGS_META_ON_CONNECT, 0,
                         hmac_key=key).to_bytes())
        call, _ = ser.serializeCall("test.echoserver", "echo", ("Hello", [1, 2.5]), {})
        write("pyro4_frame", tag + "-invoke",
              m4.Message(m4.MSG_INVOKE, call, ser.serializer_id, 0, 1,
                         annotations={"CORR": b"0123456789abcdef"}, hmac_key=key).to_bytes())
        big, _ = ser.serializeCall("o", "echo", ("x" * 5000,), {}, compress=True)
        write("pyro4_frame", tag + "-compressed",
              m4.Message(m4.MSG_INVOKE, big, ser.serializer_id, m4.FLAGS_COMPRESSED, 2,
                         hmac_key=key).to_bytes())
write("pyro4_frame", "ping", m4.Message(m4.MSG_PING, b"ping", 42, 0, 0).to_bytes())

# Hessian: python-hessian's calls (Hessian 1, versions 1 and 2), and calls, replies and faults
# as Caucho's Java library writes them (the protocol reference's captures).
from pyhessian.encoder import encode_object
from pyhessian import protocol as hp
for v in (1, 2):
    for i, args in enumerate([("Hello",), (2, 3), ([1, "x", 2.5, None], {"a": hp.Binary(b"xyz")})]):
        write("hessian", "py-call-v%d-%d" % (v, i), encode_object(hp.Call("m", args, version=v)))
for name, data in {
    "h2-call": b"H\x02\x00C\x07getData\x91\x05Hello",
    "h2-reply": b"H\x02\x00R\x1bYou got remoted data: Hello",
    "h2-fault": b"H\x02\x00FH\x04code\x15NoSuchMethodException\x07message\x05nosuchZ",
    "h2-person": b"H\x02\x00RC\x0bpeer.Person\x93\x04name\x03age\x04tags\x60\x03Bob\xb9\x79\x02t1",
    "h2-typed": b"H\x02\x00R\x74\x04[int\x90\x91\x94\x99",
    "h2-ref": b"H\x02\x00R\x7aH\x01k\x91ZQ\x90",
    "h1-reply": b"r\x01\x00M\x74\x00\x0bpeer.PersonS\x00\x04nameS\x00\x03AnnzZ",
}.items():
    write("hessian", name, data)

# XML-RPC: Python's own calls and responses (xmlrpc.client.dumps), faults too.
import datetime as _dt
import xmlrpc.client as xc
for i, params in enumerate([(1, "two", 3.5), ([1, [2, {"a": None}]],), (xc.Binary(b"\x00\xff"),),
                            (_dt.datetime(2023, 11, 14, 22, 14),), ({"k": True, "s": "h\u00e9 <&>"},)]):
    write("xmlrpc", "call%d" % i, xc.dumps(params, "echo", allow_none=True).encode())
    write("xmlrpc", "resp%d" % i, xc.dumps((params[0],), methodresponse=True, allow_none=True).encode())
write("xmlrpc", "fault", xc.dumps(xc.Fault(1, "<class 'ValueError'>:bad"), methodresponse=True).encode())

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for f in glob.glob(os.path.join(root, "crates/tether-context/tests/fixtures/*.xml")) + \
        glob.glob(os.path.join(root, "examples/quickstart/*.xml")):
    d = os.path.join(out, "xml_context")
    os.makedirs(d, exist_ok=True)
    shutil.copy(f, os.path.join(d, os.path.basename(f)))

# Pyro 3: the frames captured from Pyro 3.16 on Python 2 (crates/tether-pyro/tests/golden/
# pyro3), whole and as bare bodies, plus protocol 0-2 pickles of plain values.
import pickle
for f in glob.glob(os.path.join(root, "crates/tether-pyro/tests/golden/pyro3/*.txt")):
    base = os.path.basename(f)[:-4]
    for n, line in enumerate(open(f)):
        label, direction, data = line.split()
        raw = bytes.fromhex(data)
        write("pyro3_pickle", "%s-%d-%s" % (base, n, direction), raw)
        if raw.startswith(b"PYRO") and len(raw) > 18:
            write("pyro3_pickle", "%s-%d-body" % (base, n), raw[18:])
for proto in (0, 1, 2):
    for i, v in enumerate(values[:15]):
        try:
            write("pyro3_pickle", "p%d-%d" % (proto, i), pickle.dumps(v, proto))
        except Exception:
            pass

# HTTP replies as Python's http.server and Caucho's servlet send them (http_reply): framed by
# Content-Length, chunked, after an interim 100, two in a row on one connection, an error.
body = xc.dumps(("ok",), methodresponse=True).encode()
write("http_reply", "length", b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 40]), body[i:i + 40]) for i in range(0, len(body), 40)) + b"0\r\n\r\n"
write("http_reply", "chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
write("http_reply", "continue", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
write("http_reply", "two", (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") * 2)
write("http_reply", "error", b"HTTP/1.0 500 Internal Server Error\r\nConnection: close\r\n\r\n<h1>Hessian Requires POST</h1>")

# HTTP requests as the HTTP wires' clients send them (http_request): Python's xmlrpc.client,
# Caucho's Java client (chunked), curl waiting for 100 Continue, an HTTP/1.0 client, two in a
# row on one connection, tether's own with trace headers.
call = xc.dumps((41, 3), "pow").encode()
write("http_request", "xmlrpc", b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept-Encoding: gzip\r\nContent-Type: text/xml\r\nUser-Agent: Python-xmlrpc/3.11\r\nContent-Length: %d\r\n\r\n" % len(call) + call)
hcall = b"H\x02\x00C\x07getData\x91\x05Hello"
write("http_request", "chunked", b"POST /echo HTTP/1.1\r\nContent-Type: x-application/hessian\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(hcall), hcall))
write("http_request", "continue", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello")
write("http_request", "http10", b"POST /echo HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(hcall) + hcall)
write("http_request", "two", (b"POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nok") * 2 + b"GET /metrics HTTP/1.1\r\n\r\n")
write("http_request", "traced", b"POST /echo HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: a=b\r\ntether-timeout-ms: 1500\r\nContent-Length: 2\r\n\r\nok")
# Zipkin's B3 (both forms) and W3C baggage in two headers, as OpenTelemetry's propagators write them.
write("http_request", "b3", b"POST /echo HTTP/1.1\r\nb3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90\r\nX-B3-TraceId: 64fe8b2a57d3eff7\r\nX-B3-SpanId: e457b5a2e4d86bd1\r\nX-B3-Sampled: 1\r\nX-B3-Flags: 1\r\nbaggage: user=alice,tier=gold%20plus;p=1\r\nbaggage: k=v\r\nContent-Length: 2\r\n\r\nok")

# etcd's JSON gateway (etcd_reader): a range reply, and a watch stream in chunks.
rng = b'{"header":{"cluster_id":"1","member_id":"2","revision":"7","raft_term":"2"},"kvs":[{"key":"L3RldGhlci9h","value":"UFlSTzp4QDEyNy4wLjAuMTox","create_revision":"5","mod_revision":"5","version":"1","lease":"694d7a"}],"count":"1"}\n'
write("etcd_reader", "range", rng)
ev = b'{"result":{"header":{"revision":"8"},"events":[{"type":"DELETE","kv":{"key":"L3RldGhlci9h","mod_revision":"8"}}]}}\n'
write("etcd_reader", "watch", b"%x\r\n%s\r\n" % (len(ev), ev) * 3)
write("etcd_reader", "error", b'{"error":"etcdserver: user name is empty","code":3}\n')

# The name server's UDP side (ns_udp): a locate request, and replies.
write("ns_udp", "request", b"GET_NSURI")
write("ns_udp", "reply", b"PYRO:Pyro.NameServer@127.0.0.1:9090")
write("ns_udp", "reply6", b"PYRO:Pyro.NameServer@[::1]:9090")
