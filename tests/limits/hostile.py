#!/usr/bin/env python3
"""hostile.py KIND — write a crafted pcap to stdout that attacks one resource bound of tlsdiag.

KIND:
  synflood     1,000,000 half-open connections (SYN only, distinct source ports/addresses)
  hugemsg      one connection whose ClientHello declares a 16 MB (2^24-1 bytes) handshake message, then keeps
               sending handshake records (4 MB in all)
  tinyrecords  one connection whose ClientHello arrives as 20,000 one-byte records, then more
  hostilesni   a ClientHello whose SNI carries terminal escapes, NUL and invalid UTF-8, answered
               by a non-TLS "banner" full of control bytes (output escaping)
  overlaps     one connection with a hole that is never filled and 20,000 segments that overlap
               each other beyond it with differing bytes (endless retransmission)
  hostilecmd   ClientHellos whose SNIs are shell injections ($(), backticks, ;, quotes, a newline)
               and NUL-bearing names, over IPv4 and IPv6, one answered by a certificate (the
               printed commands and the SNI's escaping; tests/scripts/test_commands.sh)
  gro          2,000 segments of 64,000 bytes (a capture with receive offload), 128 MB
  reversed [N] one connection: N (default 125,000) 8-byte segments sent last first (each one
               out of order until the very last), then a FIN
  reversedflows  150 connections, each 6,000 reversed 8-byte segments, interleaved (58 MB)
  snapzero     one connection with a hole and 200,000 segments beyond it whose payload the
               snaplen cut to 0 bytes (only the headers were captured)
  bigmsg       one connection whose ClientHello is a 1,040,000-byte handshake message (under the
               1 MiB message cap), complete, in 16 KB records

Frames are raw IPv4 (LINKTYPE_RAW 101) with valid lengths; checksums are zero (tlsdiag does not
check them). The output is streamed, so even the flood needs no memory here."""
import struct
import sys

OUT = sys.stdout.buffer
TS = [1_700_000_000, 0]


def header():
    OUT.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))


def frame(src, dst, sport, dport, seq, ack, flags, payload=b"", wire=None):
    """One frame; `wire` (> len(payload)) is the payload length on the wire: a snaplen cut."""
    tot = 40 + (len(payload) if wire is None else wire)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, tot, 0, 0, 64, 6, 0, bytes(src), bytes(dst))
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50,
                      flags, 65535, 0, 0)
    TS[1] += 10
    if TS[1] >= 1_000_000:
        TS[0] += 1
        TS[1] = 0
    cap = 40 + len(payload)
    OUT.write(struct.pack("<IIII", TS[0], TS[1], cap, tot) + ip + tcp + payload)


C, S = [15, 158, 0, 10], [203, 0, 113, 10]
SYN, ACK, PSH = 0x02, 0x10, 0x08


def handshake(sport=40000):
    frame(C, S, sport, 443, 1000, 0, SYN)
    frame(S, C, 443, sport, 5000, 1001, SYN | ACK)
    frame(C, S, sport, 443, 1001, 5001, ACK)
    return 1001


def synflood():
    for i in range(1_000_000):
        src = [10, (i >> 16) & 255, (i >> 8) & 255, i & 255]
        frame(src, S, 1024 + (i % 60000), 443, i * 7919, 0, SYN)


def hugemsg():
    seq = handshake()
    first = True
    sent = 0
    while sent < 4 << 20:
        body = b"\x01" + (0xFFFFFF).to_bytes(3, "big") if first else b""
        chunk = 16000 - len(body)
        rec = b"\x16\x03\x01" + struct.pack(">H", len(body) + chunk) + body + b"\xAA" * chunk
        frame(C, S, 40000, 443, seq, 5001, ACK | PSH, rec)
        seq += len(rec)
        sent += len(rec)
        first = False


def tinyrecords():
    seq = handshake()
    hello = b"\x01\x00\x4e\x1c" + b"\x03\x03" + b"\x00" * 40  # 4 + 19996 = 20000 bytes
    data = b""
    for i in range(20000):
        byte = hello[i] if i < len(hello) else 0x42
        data += b"\x16\x03\x01\x00\x01" + bytes([byte])
    for i in range(0, len(data), 1200):
        frame(C, S, 40000, 443, seq + i, 5001, ACK | PSH, data[i:i + 1200])


def overlaps():
    seq = handshake()
    # A hole of 100 bytes right after the handshake that never arrives, then 20,000 segments
    # re-sending overlapping windows beyond it with different contents.
    base = seq + 100
    for i in range(20000):
        off = (i * 37) % 30000
        frame(C, S, 40000, 443, base + off, 5001, ACK | PSH, bytes([i & 255]) * 1400)


def client_hello(sni):
    """A well-formed TLS 1.2 ClientHello record with one server_name (RFC 6066 §3)."""
    name = struct.pack(">BH", 0, len(sni)) + sni
    ext = struct.pack(">HH", 0, len(name) + 2) + struct.pack(">H", len(name)) + name
    body = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + struct.pack(">H", 4) + b"\xc0\x2f\x00\x2f" +
            b"\x01\x00" + struct.pack(">H", len(ext)) + ext)
    msg = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(msg)) + msg


def hostilesni():
    """Attacker-controlled strings: an SNI with ANSI escapes, a newline, NUL and invalid UTF-8,
    answered by a 'banner' full of control bytes (the not_tls preview)."""
    seq = handshake()
    ch = client_hello(b"\x1b[31mevil\n\x00\xff\xfe.example.com\x07")
    frame(C, S, 40000, 443, seq, 5001, ACK | PSH, ch)
    banner = b"HTTP/1.1 400 \x1b]0;pwned\x07\r\n\x1b[2J\x00\xc3\x28</script><b>x"
    frame(S, C, 443, 40000, 5001, seq + len(ch), ACK | PSH, banner)
    frame(S, C, 443, 40000, 5001 + len(banner), seq + len(ch), ACK | 0x01)


MARK = b"PWNED"  # the file an injected command would create (in the current directory)
HOSTILE_SNIS = [
    b"o$(touch " + MARK + b").example.com",
    b"x;touch " + MARK + b";#",
    b"a`touch " + MARK + b"`b.example.com",
    b"q'$(touch " + MARK + b")'q.example.com",
    b"n\ntouch " + MARK + b"\n.example.com",
    b"a\x00b.example.com",
]


def frame6(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """frame() for IPv6 (LINKTYPE_RAW carries both: the version nibble tells them apart)."""
    plen = 20 + len(payload)
    ip = struct.pack(">IHBB16s16s", 0x60000000, plen, 6, 64, bytes(src), bytes(dst))
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50,
                      flags, 65535, 0, 0)
    TS[1] += 10
    tot = 40 + plen
    OUT.write(struct.pack("<IIII", TS[0], TS[1], tot, tot) + ip + tcp + payload)


def cert_der(name):
    import base64
    import os
    pem = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../pcaps/ca",
                            name)).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


def server_flight():
    """ServerHello (TLS 1.2, ECDHE-RSA-AES128-GCM), Certificate (pcaps/ca leaf.pem for
    origin.example.com, then int.pem), ServerHelloDone — in one record."""
    sh = b"\x03\x03" + b"\x22" * 32 + b"\x00" + b"\xc0\x2f" + b"\x00"
    certs = b""
    for der in (cert_der("leaf.pem"), cert_der("int.pem")):
        certs += len(der).to_bytes(3, "big") + der
    cert = len(certs).to_bytes(3, "big") + certs
    msgs = (b"\x02" + len(sh).to_bytes(3, "big") + sh + b"\x0b" + len(cert).to_bytes(3, "big") +
            cert + b"\x0e\x00\x00\x00")
    return b"\x16\x03\x03" + struct.pack(">H", len(msgs)) + msgs


def hostilecmd():
    """One connection per hostile SNI: the server resets after the ClientHello (server_reset,
    whose fix line carries an openssl command with {sni}). Then a\\0b.example.com answered by a
    certificate for origin.example.com and refused by the client (cert_name_mismatch: the SNI
    must not be cut to "a"), and one over IPv6 (-connect needs [addr], quoted). The capture is
    dated 2026-11-27, inside the certificates' validity."""
    TS[0] = 1_795_800_000
    for i, sni in enumerate(HOSTILE_SNIS):
        sport = 41000 + i
        seq = handshake(sport)
        ch = client_hello(sni)
        frame(C, S, sport, 443, seq, 5001, ACK | PSH, ch)
        frame(S, C, 443, sport, 5001, seq + len(ch), 0x04 | ACK)  # RST
    sport = 42000
    seq = handshake(sport)
    ch = client_hello(b"a\x00b.example.com")
    frame(C, S, sport, 443, seq, 5001, ACK | PSH, ch)
    fl = server_flight()
    frame(S, C, 443, sport, 5001, seq + len(ch), ACK | PSH, fl)
    alert = b"\x15\x03\x03\x00\x02\x02\x2a"  # fatal bad_certificate
    frame(C, S, sport, 443, seq + len(ch), 5001 + len(fl), ACK | PSH, alert)
    frame(C, S, sport, 443, seq + len(ch) + len(alert), 5001 + len(fl), ACK | 0x01)
    c6 = [0x26, 0, 0x90, 0x00] + [0] * 11 + [1]
    s6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [9]
    sport = 43000
    frame6(c6, s6, sport, 443, 1000, 0, SYN)
    frame6(s6, c6, 443, sport, 5000, 1001, SYN | ACK)
    frame6(c6, s6, sport, 443, 1001, 5001, ACK)
    ch = client_hello(b"o$(touch " + MARK + b").example.com")
    frame6(c6, s6, sport, 443, 1001, 5001, ACK | PSH, ch)
    frame6(s6, c6, 443, sport, 5001, 1001 + len(ch), 0x04 | ACK)


def gro():
    """A capture taken on a host with receive offload: 64,000-byte segments (four 16,000-byte
    application-data records each), 2,000 of them (128 MB). Read from a file with --threads,
    the frames stay mapped until every worker is past them: the read-ahead must be bounded in
    bytes, not only in frames."""
    seq = handshake()
    ch = client_hello(b"origin.example.com")
    frame(C, S, 40000, 443, seq, 5001, ACK | PSH, ch)
    seq += len(ch)
    rec = b"\x17\x03\x03" + struct.pack(">H", 15995) + bytes(15995)
    sseq = 5001
    for _ in range(2000):
        frame(S, C, 443, 40000, sseq, seq, ACK | PSH, rec * 4)
        sseq += 64000


def reversed_segments(n=125_000, flows=1):
    """Out-of-order arrival at its worst for a sorted list: `flows` connections, each sending
    n 8-byte segments last first (interleaved), so every segment but the last is held and each
    new one goes in front of all the others."""
    isn = 1001
    for f in range(flows):
        handshake(40000 + f)
    data = b"\x17\x03\x03" + struct.pack(">H", min(n * 8 - 5, 0x4800)) + b"\x42" * (n * 8 - 5)
    for i in reversed(range(n)):
        for f in range(flows):
            frame(C, S, 40000 + f, 443, isn + 8 * i, 5001, ACK | PSH, data[8 * i:8 * i + 8])
    for f in range(flows):
        frame(C, S, 40000 + f, 443, isn + 8 * n, 5001, ACK | 0x01)


def reversed_flows():
    reversed_segments(6000, 150)


def snapzero():
    """Segments whose payload the snaplen cut to nothing (a capture with -s 54 or so), beyond a
    hole: 200,000 of them, each at its own sequence number, none carrying a captured byte."""
    seq = handshake()
    for i in range(200_000):
        frame(C, S, 40000, 443, seq + 100 + 1000 * i, 5001, ACK | PSH, b"", wire=1000)


def bigmsg():
    """A ClientHello-typed handshake message of 1,040,000 bytes (under max_message_len, 1 MiB),
    complete, in 16,000-byte records sent as 1,448-byte segments: the record tail and the
    message buffer together pass the per-flow byte cap (--max-flow-bytes, 1 MiB by default)
    before the message completes."""
    seq = handshake()
    body_len = 1_040_000 - 4
    msg = b"\x01" + body_len.to_bytes(3, "big") + b"\x00" * body_len
    stream = b"".join(b"\x16\x03\x01" + struct.pack(">H", len(msg[i:i + 16000])) +
                      msg[i:i + 16000] for i in range(0, len(msg), 16000))
    for i in range(0, len(stream), 1448):
        frame(C, S, 40000, 443, seq + i, 5001, ACK | PSH, stream[i:i + 1448])


KINDS = {"synflood": synflood, "hugemsg": hugemsg, "tinyrecords": tinyrecords,
         "overlaps": overlaps, "hostilesni": hostilesni, "gro": gro, "hostilecmd": hostilecmd,
         "reversed": reversed_segments, "reversedflows": reversed_flows, "snapzero": snapzero,
         "bigmsg": bigmsg}

if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) in (2, 3) else ""
    if kind not in KINDS:
        sys.exit("usage: hostile.py " + "|".join(KINDS) + " [N for reversed]")
    header()
    if len(sys.argv) == 3:
        KINDS[kind](int(sys.argv[2]))
    else:
        KINDS[kind]()
