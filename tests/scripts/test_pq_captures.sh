#!/usr/bin/env bash
# test_pq_captures.sh TLSDIAG SRCDIR — what tlsdiag says on the real post-quantum captures of
# pcaps/field/pq/ (s2n-tls on AWS-LC under CloudFront-Upstream-2025-PQ; truth.tsv there): the
# hello is recognised as the -PQ variant of the 2025 policy (its ML-DSA signature schemes
# included), key shares and chosen groups are named in the ladder (X25519MLKEM768), the
# HelloRetryRequest is not a failure, and the split hello's reset is client_hello_rejected with
# the segments in its evidence. One line per broken promise; exit 1 on any.
set -u
if [[ $# -ne 2 ]]; then
    echo "usage: $0 TLSDIAG SRCDIR" >&2
    exit 2
fi
exec python3 - "$1" "$2" <<'PY'
import json
import os
import subprocess
import sys

tlsdiag, src = sys.argv[1], sys.argv[2]
pq = os.path.join(src, "pcaps", "field", "pq")
CA = ["--ca-file", os.path.join(pq, "ca", "root.pem"), "--now", "2027-01-01T00:00:00Z"]
fails = []


def run(*args):
    p = subprocess.run([tlsdiag, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode not in (0, 1):
        fails.append("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()[-200:]))
    return p.stdout.decode()


def analyze(name):
    lines = [json.loads(l) for l in run("analyze", "--json", *CA, os.path.join(pq, name)).splitlines()]
    return [l for l in lines if l["type"] == "handshake"], lines[-1]


def expect(cond, what):
    if not cond:
        fails.append(what)


PQ_WHY = ("ClientHellos match s2n CloudFront-Upstream-2025-PQ: TLS 1.3 first, "
          "X25519MLKEM768 + secp256r1 key shares, RSA-PSS offered")
for name, server_hello in [
        ("ok-s2nd-s2n-2025-pq-x25519mlkem768.pcap",
         "ServerHello (TLSv1.3, TLS_AES_128_GCM_SHA256, X25519MLKEM768)"),
        ("ok-nginx-s2n-2025-pq-classic-share.pcap",
         "ServerHello (TLSv1.3, TLS_AES_128_GCM_SHA256, secp256r1)"),
        ("ok-nginx-x25519-s2n-2025-pq-hrr.pcap",
         "HelloRetryRequest (TLSv1.3, TLS_AES_128_GCM_SHA256, asks for x25519)")]:
    hs, summary = analyze(name)
    expect(len(hs) == 1 and hs[0]["outcome"] == "succeeded" and hs[0]["cause"] == "ok",
           "%s: not one ok handshake: %s" % (name, [(h["outcome"], h["cause"]) for h in hs]))
    for h in hs:
        expect(h["profile"] == {"name": "cloudfront-2025", "why": PQ_WHY},
               "%s: profile %s" % (name, h["profile"]))
    ladder = run("dissect", os.path.join(pq, name))
    expect("23 suites, key shares X25519MLKEM768 + secp256r1)" in ladder,
           "%s: the ladder does not name the PQ hello's key shares" % name)
    expect(server_hello in ladder, "%s: no %r in the ladder" % (name, server_hello))

name = "client_hello_rejected-firstseg-split-s2n-2025-pq.pcap"
hs, summary = analyze(name)
got = [(h["conn_id"], h["outcome"], h["cause"]) for h in hs]
expect(got == [(0, "succeeded", "ok"), (1, "failed", "client_hello_rejected")], "%s: %s" % (name, got))
if len(hs) == 2:
    ev = {e["key"]: e["value"] for e in hs[1]["evidence"]}
    expect(ev.get("client_hello_size", "").startswith(
        "1556 bytes in 2 TCP segments, 10 extensions, key shares X25519MLKEM768 + secp256r1"),
        "%s: evidence %s" % (name, ev.get("client_hello_size")))
    expect(any("segments" in f and "until its record is complete" in f for f in hs[1]["fix"]),
           "%s: no fix about hellos spanning segments: %s" % (name, hs[1]["fix"]))
    expect(any("without ML-KEM" in f for f in hs[1]["fix"]),
           "%s: no non-PQ stopgap in the fix: %s" % (name, hs[1]["fix"]))
    expect(hs[0]["profile"]["why"].startswith("ClientHellos match s2n CloudFront-Upstream-2025: ")
           and hs[1]["profile"]["why"] == PQ_WHY,
           "%s: profiles %s" % (name, [h["profile"] for h in hs]))
judged = [(j["name"], j["why"].split(":")[0]) for j in summary["profile"]["judged_by"]]
expect(judged == [("cloudfront-2025", "ClientHellos match s2n CloudFront-Upstream-2025"),
                  ("cloudfront-2025", "ClientHellos match s2n CloudFront-Upstream-2025-PQ")],
       "%s: judged_by %s" % (name, judged))

for f in fails:
    print("FAIL: " + f)
print("%d failed" % len(fails))
sys.exit(1 if fails else 0)
PY
