"""Python's ssl module as the peer of tether-tls's tests.

    tls_peer.py client PORT CA [CERT KEY PASSWORD]   connect, send a line, print the reply
    tls_peer.py version PORT CA [MAX]                 connect (at most TLS MAX: 1.2 or 1.3), print the version
    tls_peer.py cipher PORT CA                        connect with TLS 1.2, print the cipher suite
    tls_peer.py server CA CERT KEY REQS               serve one line-echo per connection, print PORT
Exit code 0 on success; on a TLS or connection error prints 'ERROR <class>' and exits 3.
"""
import socket
import ssl
import sys


def client(argv):
    port, ca = int(argv[0]), argv[1]
    ctx = ssl.create_default_context(cafile=ca)
    if len(argv) > 2:
        ctx.load_cert_chain(argv[2], argv[3], password=argv[4] or None)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"hello\n")
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed")
                    data += chunk
                print(data.decode().strip())
    except (OSError, ssl.SSLError) as e:
        print("ERROR", type(e).__name__)
        sys.exit(3)


def version(argv):
    port, ca = int(argv[0]), argv[1]
    ctx = ssl.create_default_context(cafile=ca)
    if len(argv) > 2:
        ctx.maximum_version = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[argv[2]]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                print(s.version())
    except (OSError, ssl.SSLError) as e:
        print("ERROR", type(e).__name__)
        sys.exit(3)


def cipher(argv):
    port, ca = int(argv[0]), argv[1]
    ctx = ssl.create_default_context(cafile=ca)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                print(s.cipher()[0])
    except (OSError, ssl.SSLError) as e:
        print("ERROR", type(e).__name__)
        sys.exit(3)


def server(argv):
    ca, cert, key, reqs = argv
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = {"none": ssl.CERT_NONE, "required": ssl.CERT_REQUIRED}[reqs]
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(5)
    ls.settimeout(30)
    print(ls.getsockname()[1], flush=True)
    while True:
        try:
            raw, _ = ls.accept()
        except socket.timeout:
            return
        try:
            with ctx.wrap_socket(raw, server_side=True) as s:
                s.settimeout(10)
                line = s.recv(4096)
                cert = s.getpeercert() or {}
                cn = dict(x[0] for x in cert.get("subject", ())).get("commonName", "-")
                s.sendall(b"python saw " + cn.encode() + b": " + line)
        except (OSError, ssl.SSLError):
            pass


if __name__ == "__main__":
    {"client": client, "server": server, "version": version, "cipher": cipher}[sys.argv[1]](sys.argv[2:])
