# -*- coding: utf-8 -*-
"""The seed's own secure XML-RPC (Spring Python 1.3.0.RC1 on Python 2.7) as the peer of tether's.

    seed_ssl_peer.py server PKI MODE      SSLServer with every documented argument; prints PORT
    seed_ssl_peer.py client URL PKI MODE [echo]  SSLClient with every documented argument; prints
                                          the results of pow(2, 10) and echo(...) (echo only: echo)

MODE is encrypt (no client certificate), require-cert (a client certificate signed by the CA)
or verify-fields (and its subject fields checked). ssl_version is PROTOCOL_SSLv23 (TLS 1.2 or
1.3): the seed's default PROTOCOL_TLSv1 (TLS 1.0) fails seed to seed on today's OpenSSL too.

The seed's SSLClient as shipped cannot make a call on Python 2.7 (its default transport returns
an old-style httplib.HTTP, "CAValidatingHTTPS instance has no attribute 'getresponse'"); its own
documented `transport` argument with a transport that returns the seed's
CAValidatingHTTPSConnection works, and is what a Python 2 client must pass.
"""
import logging
import socket
import ssl
import sys

from springpython.remoting.http import CAValidatingHTTPSConnection
from springpython.remoting.xmlrpc import SSLClient, SSLClientTransport, SSLServer

logging.basicConfig(level=logging.INFO,
                    format="%(asctime)s - %(name)s - %(levelname)s - %(message)s")

FIELDS = {"commonName": "My Client", "organizationName": "My Company"}


class MySSLServer(SSLServer):
    def register_functions(self):
        self.register_function(pow)
        self.register_function(lambda x: x, "echo")


class ConnectionTransport(SSLClientTransport):
    """The seed's transport, returning the seed's HTTPS *connection* (what Python 2.7's
    xmlrpclib needs) instead of the old-style HTTPS object."""

    def make_connection(self, host):
        host, _extra, _x509 = self.get_host_info(host)
        return CAValidatingHTTPSConnection(host, ca_certs=self.ca_certs, keyfile=self.keyfile,
                                           certfile=self.certfile, cert_reqs=self.cert_reqs,
                                           ssl_version=self.ssl_version, timeout=self.timeout,
                                           strict=self.strict)


def server(pki, mode):
    reqs = ssl.CERT_NONE if mode == "encrypt" else ssl.CERT_REQUIRED
    kwargs = {"verify_fields": FIELDS} if mode == "verify-fields" else {}
    # SSLServer(host, port, keyfile, certfile, ca_certs, cert_reqs, ssl_version,
    #           do_handshake_on_connect, suppress_ragged_eofs, ciphers, log_requests)
    s = MySSLServer("127.0.0.1", 0, pki + "/server-key.pem", pki + "/server-cert.pem",
                    pki + "/ca-chain.pem", reqs, ssl.PROTOCOL_SSLv23, True, True, None, False,
                    **kwargs)
    print(s.socket.getsockname()[1])
    sys.stdout.flush()
    s.serve_forever()


def client(url, pki, mode, only_echo=False):
    key = cert = None
    if mode != "encrypt":
        key, cert = pki + "/client-key.pem", pki + "/client-cert.pem"
    # SSLClient(uri, ca_certs, keyfile, certfile, cert_reqs, ssl_version, transport, encoding,
    #           verbose, allow_none, use_datetime, timeout, strict)
    c = SSLClient(url, pki + "/ca-chain.pem", key, cert, ssl.CERT_REQUIRED, ssl.PROTOCOL_SSLv23,
                  ConnectionTransport, "utf-8", 0, 1, 0, 20, None)
    try:
        if not only_echo:
            print(repr(c.pow(2, 10)))
        print(repr(c.echo([u"h\xe9llo", 1.5, {"k": True}])))
    except Exception as e:  # every outcome is data here
        print("ERROR %s" % type(e).__name__)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3])
    else:
        client(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:] == ["echo"])
