#!/usr/bin/env python3
"""tcpserver.py MODE PORT — a one-connection TCP peer that misbehaves the way broken origins do.

Used by gen.sh for the transport scenarios, where the server is not a TLS stack at all:
  http400  answer the ClientHello with an HTTP/1.1 400 response, then close  (not_tls)
  ssh      send an SSH banner first, as sshd does (RFC 4253 §4.2), then close (not_tls-ssh)
  reset    read the ClientHello, then close with SO_LINGER 0 so the kernel sends RST (server_reset)
  close    read the ClientHello, then close normally: FIN, no alert            (server_closed)
  silent   read the ClientHello and never answer, until the client gives up  (server_timeout)
  decode_error  read the ClientHello, answer with a fatal decode_error alert in clear, close
                (client_hello_rejected: a TLS stack that cannot parse the hello)
  leaf_only PORT PEM  answer with a TLS 1.2 ServerHello (ECDHE-ECDSA-AES128-GCM-SHA256) and a
                Certificate carrying only PEM's certificate, then wait for the client's alert:
                a real public leaf (no private key needed) sent without its intermediate
Stdlib only; serves exactly one connection and exits (gen.sh also bounds it with timeout).

Two relay modes stand for a device in front of a real TLS server (tcpserver.py MODE PORT
BACKEND_PORT; they serve connections until killed, and relay everything else unchanged):
  first_segment  reads the ClientHello from the first TCP segment only (one recv of at most one
                 MSS): a hello that does not fit is answered with a RST (client_hello_rejected,
                 the large post-quantum ClientHello failure); a small one is relayed
  corrupt_finished  flips one bit of the client's first record after its ChangeCipherSpec (its
                 Finished), as a faulty offload or middlebox would (handshake_integrity_failure)
The listening address is 127.0.0.1, or $TCPSERVER_HOST.
"""
import base64
import os
import socket
import struct
import sys
import threading
import time

HOST = os.environ.get("TCPSERVER_HOST", "127.0.0.1")
MSS = 1448  # one full segment on a 1500-byte MTU link with TCP timestamps


def reset(conn):
    # l_onoff=1, l_linger=0: close() discards the socket and sends RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def pump(src, dst, edit=None):
    """Copy src to dst until EOF; edit(bytes) -> bytes may rewrite the stream on the way."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(edit(data) if edit else data)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FinishedFlipper:
    """Parses the client's TLS records; flips the last bit of the first record after its
    ChangeCipherSpec (the encrypted Finished), so the server's integrity check fails."""

    def __init__(self):
        self.buf, self.seen_ccs, self.done = b"", False, False

    def __call__(self, data):
        if self.done:
            return data
        self.buf += data
        out = b""
        while len(self.buf) >= 5:
            n = 5 + struct.unpack("!H", self.buf[3:5])[0]
            if len(self.buf) < n:
                break
            rec, self.buf = bytearray(self.buf[:n]), self.buf[n:]
            if self.seen_ccs and not self.done and rec[0] == 22:
                rec[-1] ^= 0x01
                self.done = True
            self.seen_ccs |= rec[0] == 20
            out += bytes(rec)
        if self.done:
            out, self.buf = out + self.buf, b""
        return out


def handshake(msg_type, body):
    """One TLS 1.2 handshake record holding one handshake message."""
    msg = bytes([msg_type]) + len(body).to_bytes(3, "big") + body
    return bytes([22, 3, 3]) + len(msg).to_bytes(2, "big") + msg


def leaf_only_flight(pem_path):
    """ServerHello + Certificate (that one certificate, no intermediate), as one write."""
    with open(pem_path) as f:
        b64 = "".join(l.strip() for l in f if l.strip() and not l.startswith("-----"))
    der = base64.b64decode(b64)
    # renegotiation_info (RFC 5746): OpenSSL clients refuse a server without it.
    ext = bytes([0xFF, 0x01, 0, 1, 0])
    hello = (bytes([3, 3]) + os.urandom(32) + b"\x00" + bytes([0xC0, 0x2B, 0]) +
             len(ext).to_bytes(2, "big") + ext)
    certs = len(der).to_bytes(3, "big") + der
    return handshake(2, hello) + handshake(11, len(certs).to_bytes(3, "big") + certs)


def relay(mode, conn, backend_port):
    first = conn.recv(MSS)
    if mode == "first_segment" and (
            len(first) < 5 or len(first) < 5 + struct.unpack("!H", first[3:5])[0]):
        reset(conn)  # the hello spans more than this one segment
        return
    back = socket.create_connection((HOST, backend_port))
    edit = FinishedFlipper() if mode == "corrupt_finished" else None
    back.sendall(edit(first) if edit else first)
    t = threading.Thread(target=pump, args=(back, conn), daemon=True)
    t.start()
    pump(conn, back, edit)
    t.join(5)
    conn.close()
    back.close()


def serve_relay(mode, port, backend_port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, port))
    srv.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=relay, args=(mode, conn, backend_port), daemon=True).start()


def main() -> int:
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode in ("first_segment", "corrupt_finished"):
        serve_relay(mode, port, int(sys.argv[3]))
        return 0
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, port))
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
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif mode == "decode_error":
        # A fatal decode_error(50) alert in a TLS 1.2 record (RFC 8446 §6.2).
        conn.sendall(bytes([21, 3, 3, 0, 2, 2, 50]))
    elif mode == "leaf_only":
        conn.sendall(leaf_only_flight(sys.argv[3]))
        try:
            conn.recv(65536)  # the client's alert, then its FIN
        except socket.timeout:
            pass
    elif mode == "silent":
        # Hold the connection open without answering until the client closes it.
        conn.settimeout(None)
        while data:
            data = conn.recv(65536)
    elif mode != "close":
        print("unknown mode " + mode, file=sys.stderr)
        return 2
    if mode in ("http400", "ssh", "decode_error"):
        time.sleep(0.2)
    conn.close()
    srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
