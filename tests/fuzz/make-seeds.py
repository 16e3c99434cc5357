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
    print("seeds written to", OUT, "handshake messages:", n_hs)


if __name__ == "__main__":
    sys.exit(main())
