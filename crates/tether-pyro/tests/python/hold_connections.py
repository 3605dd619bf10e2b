"""Opens N Pyro5 connections to HOST:PORT, completes CONNECT on each, prints 'held N', then keeps
them idle until stdin closes.

    hold_connections.py HOST PORT N
"""
import resource
import socket
import struct
import sys

import Pyro5.protocol as protocol
import Pyro5.serializers as serializers

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
ser = serializers.serializers["serpent"]
hello = ser.dumps({"handshake": "hello", "object": "test.echoserver"})
frame = protocol.SendingMessage(protocol.MSG_CONNECT, 0, 0, 1, hello).data


def read_exact(s, k):
    buf = b""
    while len(buf) < k:
        chunk = s.recv(k - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


held = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=30)
    s.sendall(frame)
    head = read_exact(s, 40)
    data_len, ann_len = struct.unpack(">II", head[12:20])
    read_exact(s, data_len + ann_len)
    if head[6] != protocol.MSG_CONNECTOK:
        print("refused at", i, flush=True)
        sys.exit(3)
    held.append(s)
print("held", len(held), flush=True)
sys.stdin.read()
