"""Soak: mixed load and attacks against `tether echo-server` for a while, sampling the server's
memory and open descriptors and a good client's latency every second. Not a test: it prints a
table (one row per sample period) and a summary. scripts/soak.sh builds and runs it.

    soak.py TETHER_BINARY [SECONDS]

Attackers, all on loopback, each bounded in count and time:
  silent      opens sockets that never send a byte (200 at a time, reopened as the server sheds them)
  idle        completes CONNECT then idles (100 connections)
  garbage     sends random bytes and lying length fields (4 GiB), reconnecting
  bombs       sends zlib bombs (64 KB inflating to 64 MiB)
  slowloris   dribbles a valid frame one byte per 200 ms
  oneway      streams oneway calls at slow() (the daemon's back-pressure must hold it)
  load        4 well-behaved clients calling echo as fast as they can
The good client is a new client every 50 ms (connect, handshake, echo, close); its latency is
recorded.
"""
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

import Pyro5.api
import Pyro5.protocol as protocol
import Pyro5.serializers as serializers

binary = sys.argv[1]
duration = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
import tempfile
log = tempfile.NamedTemporaryFile(prefix="tether-soak-", suffix=".log", delete=False)
server = subprocess.Popen([binary, "echo-server", "-H", "127.0.0.1", "-p", "0"],
                          stdout=subprocess.PIPE, stderr=log, text=True)
uri = None
for line in server.stdout:
    if line.startswith("echo uri:"):
        uri = line.split()[-1]
        break
host, port = uri.split("@")[1].rsplit(":", 1)
port = int(port)
stop = time.time() + duration
ser = serializers.serializers["serpent"]
HELLO = protocol.SendingMessage(protocol.MSG_CONNECT, 0, 0, 1,
                                ser.dumps({"handshake": "hello", "object": "test.echoserver"})).data


def connect():
    s = socket.create_connection((host, port), timeout=5)
    return s


def handshaken():
    s = connect()
    s.sendall(HELLO)
    s.recv(65536)
    return s


def silent():
    socks = []
    while time.time() < stop:
        try:
            while len(socks) < 200:
                socks.append(connect())
        except OSError:
            pass
        time.sleep(0.5)
        alive = []
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    s.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            alive.append(s)
        socks = alive


def idle():
    socks = []
    while time.time() < stop:
        try:
            while len(socks) < 100:
                socks.append(handshaken())
        except OSError:
            pass
        time.sleep(1)


def garbage():
    while time.time() < stop:
        try:
            s = connect()
            if random.random() < 0.5:
                s.sendall(os.urandom(random.randint(1, 4096)))
            else:
                head = bytearray(protocol.SendingMessage(protocol.MSG_INVOKE, 0, 1, 1, b"x").data[:40])
                head[12:16] = struct.pack(">I", 0xFFFFFFFF)
                s.sendall(bytes(head))
            s.recv(1024)
            s.close()
        except OSError:
            pass
        time.sleep(0.01)


BOMB = zlib.compress(b" " * (64 << 20), 9)


def bombs():
    while time.time() < stop:
        try:
            s = handshaken()
            msg = protocol.SendingMessage(protocol.MSG_INVOKE, protocol.FLAGS_COMPRESSED, 1, 1, b"")
            head = bytearray(msg.data[:40])
            head[12:16] = struct.pack(">I", len(BOMB))
            s.sendall(bytes(head) + BOMB)
            s.recv(1024)
            s.close()
        except OSError:
            pass
        time.sleep(0.05)


def slowloris():
    while time.time() < stop:
        try:
            s = connect()
            for b in HELLO:
                if time.time() > stop:
                    break
                s.send(bytes([b]))
                time.sleep(0.2)
            s.close()
        except OSError:
            time.sleep(0.2)


def oneway():
    while time.time() < stop:
        try:
            with Pyro5.api.Proxy(uri) as p:
                p._pyroOneway.add("slow")
                while time.time() < stop:
                    p.slow()
        except Exception:
            time.sleep(0.1)


calls = [0]


def load():
    while time.time() < stop:
        try:
            with Pyro5.api.Proxy(uri) as p:
                while time.time() < stop:
                    p.echo("x")
                    calls[0] += 1
        except Exception:
            time.sleep(0.1)


lat = []
errors = [0]


def good():
    # A new client for every call: connect, handshake, call, close.
    while time.time() < stop:
        t = time.perf_counter()
        try:
            with Pyro5.api.Proxy(uri) as p:
                p._pyroTimeout = 5
                p.echo("good")
            lat.append((time.time(), time.perf_counter() - t))
        except Exception:
            errors[0] += 1
        time.sleep(0.05)


threads = [threading.Thread(target=f, daemon=True) for f in
           (silent, idle, garbage, bombs, slowloris, oneway, load, load, load, load, good)]
for t in threads:
    t.start()


def sample():
    with open("/proc/%d/status" % server.pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
    fds = len(os.listdir("/proc/%d/fd" % server.pid))
    return rss // 1024, fds


print("| t (s) | server RSS MB | server fds | new good clients | p50 ms | p99 ms | failed (total) | load calls/s |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
start = time.time()
period = max(1.0, duration / 30)
last_calls, worst_rss, worst_p99 = 0, 0, 0.0
while time.time() < stop:
    time.sleep(period)
    rss, fds = sample()
    now = time.time()
    window = sorted(d for (t, d) in lat if t > now - period)
    p = lambda q: window[min(len(window) - 1, int(q * (len(window) - 1)))] * 1000 if window else float("nan")
    rate = (calls[0] - last_calls) / period
    last_calls = calls[0]
    worst_rss = max(worst_rss, rss)
    if window:
        worst_p99 = max(worst_p99, p(0.99))
    print("| %.0f | %d | %d | %d | %.1f | %.1f | %d | %.0f |" % (now - start, rss, fds, len(window), p(0.5), p(0.99), errors[0], rate), flush=True)
total = len(lat)
print()
print("soak: %.0f s, %d new good clients, %d failed (%.2f%% served), worst p99 %.1f ms, peak server RSS %d MB"
      % (duration, total, errors[0], 100.0 * total / max(1, total + errors[0]), worst_p99, worst_rss))
server.terminate()
server.wait(timeout=10)
log.close()
with open(log.name) as f:
    lines = sum(1 for _ in f)
print("soak: server log %d lines (%.1f a second; client-caused warnings are rate-limited), in %s"
      % (lines, lines / duration, log.name))
