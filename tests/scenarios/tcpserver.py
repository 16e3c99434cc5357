#!/usr/bin/env python3
"""tcpserver.py MODE PORT — a one-connection TCP peer that misbehaves the way broken origins do.

Used by gen.sh for the transport scenarios, where the server is not a TLS stack at all:
  http400  answer the ClientHello with an HTTP/1.1 400 response, then close  (not_tls)
  ssh      send an SSH banner first, as sshd does (RFC 4253 §4.2), then close (not_tls-ssh)
  reset    read the ClientHello, then close with SO_LINGER 0 so the kernel sends RST (server_reset)
  close    read the ClientHello, then close normally: FIN, no alert            (server_closed)
  silent   read the ClientHello and never answer, until the client gives up  (server_timeout)
Stdlib only; serves exactly one connection and exits (gen.sh also bounds it with timeout).
"""
import socket
import struct
import sys
import time


def main() -> int:
    mode, port = sys.argv[1], int(sys.argv[2])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    conn.settimeout(10)
    if mode == "ssh":
        # An SSH server speaks first (RFC 4253 §4.2); the TLS client's ClientHello crosses it.
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    try:
        data = conn.recv(65536)
    except socket.timeout:
        data = b""
    if mode == "http400":
        body = b"<html><body><h1>400 Bad Request</h1></body></html>\n"
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    elif mode == "ssh":
        # sshd answers a garbage identification line with this and hangs up.
        conn.sendall(b"Invalid SSH identification string.\r\n")
    elif mode == "reset":
        # l_onoff=1, l_linger=0: close() discards the socket and sends RST instead of FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif mode == "silent":
        # Hold the connection open without answering until the client closes it.
        conn.settimeout(None)
        while data:
            data = conn.recv(65536)
    elif mode != "close":
        print("unknown mode " + mode, file=sys.stderr)
        return 2
    if mode in ("http400", "ssh"):
        time.sleep(0.2)
    conn.close()
    srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
