#!/usr/bin/env python3
"""pyclient.py HOST PORT SNI CAFILE [MAXVER] — Python 3's ssl module as a plain HTTPS client
(field-clients.bash): wrap_socket with a CA file and server_hostname, send a GET, print the
status line or the exception the ssl module raised. MAXVER 1.2 caps the version at TLS 1.2.
Stdlib only.
"""
import socket
import ssl
import sys


def main() -> int:
    host, port, sni, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.create_default_context(cafile=cafile)
    if len(sys.argv) > 5 and sys.argv[5] == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        with socket.create_connection((host, port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=sni) as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % sni.encode())
                reply = tls.recv(4096)
                print("python: %s" % (reply.split(b"\r\n")[0].decode(errors="replace") or "(no reply)"))
    except (OSError, ssl.SSLError) as e:
        print("python: %s: %s" % (type(e).__name__, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
