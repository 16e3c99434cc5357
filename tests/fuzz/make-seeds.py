#!/usr/bin/env python3
"""make-seeds.py — build the fuzz seed corpora in tests/fuzz/seeds/ from the project's own
scenario captures (pcaps/) and test PKI. Deterministic; rerun after pcaps/ change:
    python3 tests/fuzz/make-seeds.py
The shared corpus (../shared/corpus) may seed local fuzzing runs but is never copied here."""
import base64, os, shutil, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PCAPS = os.path.join(ROOT, "pcaps")
OUT = os.path.join(ROOT, "tests", "fuzz", "seeds")


def read_pcap(path):
    """Yield (linktype, frame bytes) of a classic pcap file (our scenario files)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        yield linktype, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def tcp_segments(path):
    """(dir, flags, seq, ack, payload) per TCP segment of the first connection; dir 0 = client."""
    client = None
    for lt, fr in read_pcap(path):
        ip = {1: 14, 113: 16, 276: 20, 0: 4, 101: 0}.get(lt)
        if ip is None or len(fr) < ip + 20 or fr[ip] >> 4 != 4:
            continue
        ihl = (fr[ip] & 15) * 4
        if fr[ip + 9] != 6:
            continue
        tot = struct.unpack(">H", fr[ip + 2:ip + 4])[0]
        t = ip + ihl
        sport, dport, seq, ack = struct.unpack(">HHII", fr[t:t + 12])
        doff = (fr[t + 12] >> 4) * 4
        flags = fr[t + 13]
        payload = fr[t + doff:ip + tot]
        if client is None:
            client = sport
        yield (0 if sport == client else 1), flags, seq, ack, payload


def write(target, name, blob):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


def records(stream):
    """Plaintext TLS handshake messages (type, body) of a byte stream, until encryption."""
    off, hs = 0, b""
    while off + 5 <= len(stream):
        ct, _, ln = stream[off], stream[off + 1:off + 3], struct.unpack(">H", stream[off + 3:off + 5])[0]
        body = stream[off + 5:off + 5 + ln]
        off += 5 + ln
        if ct == 20:
            break
        if ct == 22:
            hs += body
    msgs, o = [], 0
    while o + 4 <= len(hs):
        t, ln = hs[o], int.from_bytes(hs[o + 1:o + 4], "big")
        msgs.append((t, hs[o + 4:o + 4 + ln]))
        o += 4 + ln
    return msgs


# --- hostile captures (issue 14 item 10): the shapes that found real bugs, built from ok.pcap ---
# Seeds from well-formed scenario captures left the fuzzers far from the edges: a 4-minute run
# found nothing, while hand-made hostile pcaps found a crash in seconds. Each function below turns
# ok.pcap's frames (Ethernet, IPv4, TCP) into one hostile shape.

def pcap_file(frames, snaplen=262144, linktype=1):
    """A classic pcap of (caplen bytes, orig len) frames, 1 ms apart."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
    for i, (b, orig) in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + i // 1000, i % 1000 * 1000, len(b), orig) + b
    return bytes(out)


def split_eth_ip_tcp(fr):
    """(ethernet header, ip header, tcp header, payload) of an untagged IPv4/TCP frame, or None."""
    if len(fr) < 54 or fr[12:14] != b"\x08\x00" or fr[23] != 6:
        return None
    ihl = (fr[14] & 15) * 4
    tot = struct.unpack(">H", fr[16:18])[0]
    t = 14 + ihl
    doff = (fr[t + 12] >> 4) * 4
    return fr[:14], fr[14:t], fr[t:t + doff], fr[t + doff:14 + tot]


def ipv4(proto, payload, src=b"\xc0\x00\x02\x01", dst=b"\xc0\x00\x02\x02"):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                       src, dst) + payload


def tcp_frame(eth, ip, tcp, payload, seq_delta=0):
    """The frame with a new payload (IP total length fixed, checksums left: not verified)."""
    seq = (struct.unpack(">I", tcp[4:8])[0] + seq_delta) & 0xFFFFFFFF
    tcp = tcp[:4] + struct.pack(">I", seq) + tcp[8:]
    ip = ip[:2] + struct.pack(">H", len(ip) + len(tcp) + len(payload)) + ip[4:]
    return eth + ip + tcp + payload


def ok_frames():
    return [fr for _, fr in read_pcap(os.path.join(PCAPS, "ok.pcap"))]


def hostile_pcaps():
    frames = ok_frames()
    whole = lambda fs: [(f, len(f)) for f in fs]
    out = {}
    # Deep encapsulations: VLAN tags up to and past the decoder's depth limit, and nested tunnels
    # (IP-in-IP, GRE carrying Ethernet, VXLAN) around the same frames.
    for tags in (4, 5):  # the decoder follows 4 tags here (NET_MAX_DEPTH), not 5
        out["hostile-vlan%d.pcap" % tags] = whole(
            f[:12] + b"\x81\x00\x00\x01" * tags + f[12:] for f in frames)
    nested = []
    for f in frames:
        inner = f[14:]
        gre = ipv4(47, b"\x00\x00\x65\x58" + f)                      # GRE, Ethernet inside
        vx = ipv4(17, struct.pack(">HHHH", 40000, 4789, 8 + 8 + len(f) + 20 + len(gre), 0)
                  + b"\x08\x00\x00\x00\x00\x00\x01\x00" + f[:12] + b"\x08\x00" + gre)
        nested.append(f[:12] + b"\x08\x00" + ipv4(4, ipv4(4, vx)))
        nested.append(f[:12] + b"\x08\x00" + ipv4(4, ipv4(4, ipv4(4, inner))))
    out["hostile-tunnels.pcap"] = whole(nested)
    # Snaplen-cut segments: frames cut inside the TCP header and at points in the payload, the
    # declared length kept.
    cuts = (50, 66, 80, 128, 300, 1000)
    out["hostile-snaplen.pcap"] = [(f[:cuts[i % len(cuts)]], len(f)) for i, f in enumerate(frames)]
    # Reversed segments: the whole capture backwards, and each direction's data out of order.
    out["hostile-reversed.pcap"] = whole(reversed(frames))
    data = [f for f in frames if (p := split_eth_ip_tcp(f)) and p[3]]
    rest = [f for f in frames if f not in data]
    out["hostile-data-reversed.pcap"] = whole(rest[:3] + list(reversed(data)) + rest[3:])
    # Huge declared lengths: each first TLS record says 65535 bytes and its handshake message
    # 16 MB; then a pcap record header that declares a 4 GB frame.
    huge = []
    for f in frames:
        p = split_eth_ip_tcp(f)
        if p and len(p[3]) >= 9 and p[3][0] == 22:
            pl = p[3][:3] + b"\xff\xff" + p[3][5:6] + b"\xff\xff\xff" + p[3][9:]
            f = tcp_frame(p[0], p[1], p[2], pl)
        huge.append(f)
    blob = pcap_file(whole(huge))
    out["hostile-huge-lengths.pcap"] = blob + struct.pack("<IIII", 1_700_000_100, 0, 0xFFFFFFF0,
                                                          0xFFFFFFF0) + b"\0" * 64
    # Many tiny records: the data of each segment re-framed as one-byte handshake records, each
    # record its own TCP segment.
    tiny = []
    for f in frames:
        p = split_eth_ip_tcp(f)
        if not p or not p[3] or p[3][0] != 22:
            tiny.append(f)
            continue
        recs, off = [], 0
        for t, body in records(p[3]):
            msg = bytes([t]) + len(body).to_bytes(3, "big") + body
            for b in msg[:600]:
                recs.append(b"\x16\x03\x03\x00\x01" + bytes([b]))
        for r in recs:
            tiny.append(tcp_frame(p[0], p[1], p[2], r, off))
            off += len(r)
    out["hostile-tiny-records.pcap"] = whole(tiny)
    # Overlapping retransmissions: each data segment first as garbage covering its second half
    # and beyond, then the real one, then again shifted by 3 bytes with different bytes.
    ovl = []
    for f in frames:
        p = split_eth_ip_tcp(f)
        if not p or not p[3]:
            ovl.append(f)
            continue
        n = len(p[3])
        ovl.append(tcp_frame(p[0], p[1], p[2], b"\xee" * (n // 2 + 20), n // 2))
        ovl.append(f)
        ovl.append(tcp_frame(p[0], p[1], p[2], bytes(reversed(p[3])), 3))
    out["hostile-overlaps.pcap"] = whole(ovl)
    return {name: (v if isinstance(v, bytes) else pcap_file(v)) for name, v in out.items()}


def hostile_streams():
    """fuzz_tls_conn / fuzz_tcp inputs of the same shapes, in their control formats."""
    segs = list(tcp_segments(os.path.join(PCAPS, "ok.pcap")))
    client = b"".join(pl for d, _, _, _, pl in segs if d == 0)
    server = b"".join(pl for d, _, _, _, pl in segs if d == 1)
    tls, tcp = {}, {}
    # one byte per chunk, alternating directions while both have bytes
    blob = bytearray()
    for i in range(max(len(client), len(server))):
        for d, s in ((0, client), (1, server)):
            if i < len(s):
                blob += bytes([d]) + s[i:i + 1]
    tls["hostile-bytewise"] = bytes(blob[:65536])
    # huge declared record and handshake lengths in both directions
    big = lambda s: s[:3] + b"\xff\xff" + s[5:6] + b"\xff\xff\xff" + s[9:] if len(s) > 9 else s
    blob = bytearray()
    for d, s in ((0, big(client)), (1, big(server))):
        for i in range(0, len(s), 127):
            c = s[i:i + 127]
            blob += bytes([((len(c) - 1) << 1) | d]) + c
    tls["hostile-huge-lengths"] = bytes(blob[:65536])
    # many tiny records: the ClientHello as one-byte handshake records
    blob = bytearray()
    for t, body in records(client)[:1]:
        msg = bytes([t]) + len(body).to_bytes(3, "big") + body
        for b in msg:
            blob += bytes([(5 << 1) | 0]) + b"\x16\x03\x03\x00\x01" + bytes([b])
    tls["hostile-tiny-records"] = bytes(blob[:65536])
    # fuzz_tcp: [ctl = port-bit|flags<<1|dir][port][dseq i16][dack i16][len u8][payload]
    def seg(d, fl, dseq, c):
        return bytes([((fl & 0x3f) << 1) | d, 0]) + struct.pack(">hhB", dseq, 0, len(c)) + c
    hs = [(d, fl, pl) for d, fl, _, _, pl in segs[:40]]
    blob = bytearray()  # data segments of each direction in reverse order
    for d, fl, pl in hs:
        if not pl:
            blob += seg(d, fl, 0, b"")
    for d, fl, pl in reversed(hs):
        if pl:
            blob += seg(d, fl, 0, pl[:255])
    tcp["hostile-reversed"] = bytes(blob)
    blob = bytearray()  # each chunk overlapped: sent back 100 bytes, then forward, different bytes
    for d, fl, pl in hs:
        for i in range(0, max(len(pl), 1), 255):
            c = pl[i:i + 255]
            blob += seg(d, fl, 0, c)
            if c:
                blob += seg(d, fl, -100, bytes(reversed(c)))
                blob += seg(d, fl, 50, b"\xee" * len(c))
    tcp["hostile-overlaps"] = bytes(blob[:65536])
    blob = bytearray()  # zero-length and one-byte segments
    for d, fl, pl in hs:
        for b in pl[:200]:
            blob += seg(d, fl, 0, bytes([b]))
        blob += seg(d, fl, 0, b"")
    tcp["hostile-tiny"] = bytes(blob[:65536])
    return tls, tcp


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    pcaps = sorted(p for p in os.listdir(PCAPS) if p.endswith(".pcap"))
    small = ["ok.pcap", "cert_expired.pcap", "mixed.pcap", "not_tls.pcap", "sni_rejected.pcap",
             "capture_incomplete-snaplen.pcap", "connection_refused.pcap", "ok-tls13.pcap",
             "protocol_version_mismatch.pcap", "server_reset.pcap"]
    for p in small + ["ok-pcapng.pcapng"]:
        path = os.path.join(PCAPS, p)
        if os.path.exists(path):
            with open(path, "rb") as f:
                write("fuzz_pipeline", p, f.read())
    n_hs = 0
    for p in pcaps:
        segs = list(tcp_segments(os.path.join(PCAPS, p)))
        if not segs:
            continue
        stem = p[:-5]
        # fuzz_tls_conn: [ctl = (len-1)<<1 | dir][chunk], chunks of at most 127 bytes.
        blob = bytearray()
        streams = [b"", b""]
        for d, _, _, _, pl in segs:
            streams[d] += pl
            for i in range(0, len(pl), 127):
                c = pl[i:i + 127]
                blob += bytes([((len(c) - 1) << 1) | d]) + c
        if blob:
            write("fuzz_tls_conn", stem, bytes(blob[:65536]))
        # fuzz_tcp: [ctl = port-bit|flags<<1|dir][port][dseq u16][dack u16][len u8][payload]
        blob = bytearray()
        for d, fl, _, _, pl in segs[:40]:
            for i in range(0, max(len(pl), 1), 255):
                c = pl[i:i + 255]
                blob += bytes([((fl & 0x3f) << 1) | d, 0]) + struct.pack(">hhB", 0, 0, len(c)) + c
        write("fuzz_tcp", stem, bytes(blob[:65536]))
        # fuzz_hs_msg: [cipher u16][version u16][body] for each plaintext handshake message.
        for d in (0, 1):
            for t, body in records(streams[d]):
                if t in (1, 2, 11, 12, 13):
                    write("fuzz_hs_msg", "%s-%d-%d" % (stem, d, t), b"\xc0\x2f\x03\x03" + body)
                    n_hs += 1
    # fuzz_x509: [sni len][sni][alert][len u16 + DER]... from the test PKI.
    ca = os.path.join(PCAPS, "ca")
    ders = {}
    for f in sorted(os.listdir(ca)):
        text = open(os.path.join(ca, f)).read()
        for i, b64 in enumerate(text.split("-----BEGIN CERTIFICATE-----")[1:]):
            der = base64.b64decode(b64.split("-----END CERTIFICATE-----")[0])
            ders["%s-%d" % (f[:-4], i)] = der
    sni = b"origin.example.com"
    inter = ders.get("int-0", b"")
    for name, der in ders.items():
        chain = struct.pack(">H", len(der)) + der + struct.pack(">H", len(inter)) + inter
        write("fuzz_x509", name, bytes([len(sni)]) + sni + bytes([48]) + chain)
    for name, blob in hostile_pcaps().items():
        write("fuzz_pipeline", name, blob)
    tls, tcp = hostile_streams()
    for name, blob in tls.items():
        write("fuzz_tls_conn", name, blob)
    for name, blob in tcp.items():
        write("fuzz_tcp", name, blob)
    print("seeds written to", OUT, "handshake messages:", n_hs)


if __name__ == "__main__":
    sys.exit(main())
