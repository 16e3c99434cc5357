#!/usr/bin/env python3
# make.py — writes the crafted captures of tests/scripts/test_undecoded.sh: one TCP connection
# (SYN, SYN-ACK, ACK, RST to port 443) wrapped in encapsulations deeper than tlsdiag decodes, or
# saved under the wrong link type, beside a control capture that is just within each limit.
# Deterministic: run it again and the files are byte-identical.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp(sport, dport, seq, ack, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)


def ipv4(proto, payload, src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02"):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(next_hdr, payload, src=b"\x20\x01" + b"\0" * 13 + b"\x01",
         dst=b"\x20\x01" + b"\0" * 13 + b"\x02"):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_hdr, 64, src, dst) + payload


def ether(ethertype, payload):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", ethertype) + payload


def conversation():
    """The TCP segments (client, server) of one refused-after-handshake connection."""
    c, s = 40000, 443
    return [
        (True, tcp(c, s, 1000, 0, 0x02)),
        (False, tcp(s, c, 5000, 1001, 0x12)),
        (True, tcp(c, s, 1001, 5001, 0x10)),
        (True, tcp(c, s, 1001, 5001, 0x04)),
    ]


def v4(seg, to_server):
    a, b = b"\x0a\0\0\x01", b"\x0a\0\0\x02"
    return ipv4(6, seg, a, b) if to_server else ipv4(6, seg, b, a)


def v6(seg, to_server, chain=0):
    a = b"\x20\x01" + b"\0" * 13 + b"\x01"
    b = b"\x20\x01" + b"\0" * 13 + b"\x02"
    body, nxt = seg, 6
    for _ in range(chain):  # destination options headers: Next Header, Hdr Ext Len 0, PadN(4)
        body, nxt = struct.pack("!BBBB4s", nxt, 0, 1, 4, b"\0" * 4) + body, 60
    return ipv6(nxt, body, a, b) if to_server else ipv6(nxt, body, b, a)


def vlan(n, inner):
    out, et = inner, 0x0800
    for i in range(n):
        out, et = struct.pack("!HH", 100 + i, et) + out, 0x8100
    return ether(et, out)


def mpls(n, inner):
    out = inner
    for i in range(n):
        bottom = 1 if i == 0 else 0
        out = struct.pack("!I", ((16 + i) << 12) | (bottom << 8) | 64) + out
    return ether(0x8847, out)


def ipip(n, inner):
    out = inner
    for _ in range(n):
        out = ipv4(4, out, b"\xc0\xa8\0\x01", b"\xc0\xa8\0\x02")
    return out


def write(name, linktype, frames):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def frames(wrap):
    return [wrap(seg, to_server) for to_server, seg in conversation()]


def null_hdr(fr):
    return struct.pack("<I", 2) + fr


# Ethernet frames saved as raw IP (DLT_RAW 101) and as BSD loopback (DLT_NULL 0).
write("ether-as-raw.pcap", 101, frames(lambda s, t: ether(0x0800, v4(s, t))))
write("ether-as-null.pcap", 0, frames(lambda s, t: ether(0x0800, v4(s, t))))
# Encapsulation just within each limit (control: decodes to one connection) and one beyond it.
write("vlan-4.pcap", 1, frames(lambda s, t: vlan(4, v4(s, t))))
write("vlan-10.pcap", 1, frames(lambda s, t: vlan(10, v4(s, t))))
write("mpls-8.pcap", 1, frames(lambda s, t: mpls(8, v4(s, t))))
write("mpls-12.pcap", 1, frames(lambda s, t: mpls(12, v4(s, t))))
write("ipv6-ext-8.pcap", 101, frames(lambda s, t: v6(s, t, 8)))
write("ipv6-ext-12.pcap", 101, frames(lambda s, t: v6(s, t, 12)))
write("ipip-8.pcap", 101, frames(lambda s, t: ipip(8, v4(s, t))))
write("ipip-10.pcap", 101, frames(lambda s, t: ipip(10, v4(s, t))))
