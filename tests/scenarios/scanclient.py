#!/usr/bin/env python3
"""scanclient.py HOST PORT SNI — a client that gives up on its own, as scanners and
fingerprinting tools do (the corpus's mercury__top_100_fingerprints.pcap): it sends a real
ClientHello (made by OpenSSL through Python's ssl module), reads the server's first flight, and
resets the connection without an alert. Nothing on the wire blames the server (client_closed).
Stdlib only.
"""
import socket
import ssl
import struct
import sys
import time


def main() -> int:
    host, port, sni = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass  # the ClientHello is in `outgoing`
    conn = socket.create_connection((host, port), timeout=5)
    conn.sendall(outgoing.read())
    got = conn.recv(65536)
    time.sleep(0.2)  # let the rest of the flight arrive, as a scanner reading the reply would
    print("scanclient: %d bytes of server flight, first record type %d; resetting"
          % (len(got), got[0] if got else -1), flush=True)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
