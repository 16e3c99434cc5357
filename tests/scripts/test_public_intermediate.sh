#!/usr/bin/env bash
# test_public_intermediate.sh TLSDIAG SRCDIR — issue 16 item 4 on a capture made by real peers:
# pcaps/cert_missing_intermediate-public.pcap is a real public leaf (www.google.com, 2022) sent
# without its intermediate GTS CA 1C3, refused with unknown_ca by an OpenSSL client that trusts
# Debian's store. With Debian's store (/etc/ssl/certs/ca-certificates.crt, package ca-certificates)
# or only its root (pcaps/ca/public_root.pem), tlsdiag must name the public intermediate and its
# caIssuers URL, in JSON and in the text report. With the test PKI's store (pcaps/ca/root.pem,
# no Google root) the index entry leads to no trusted root: same cause, but no "add it" claim.
set -u
bin=$(realpath "${1:?usage: test_public_intermediate.sh TLSDIAG SRCDIR}") src=$(realpath "${2:?}")
exec python3 - "$bin" "$src" <<'PY'
import json, os, subprocess, sys

tlsdiag, src = sys.argv[1], sys.argv[2]
pcap = os.path.join(src, "pcaps", "cert_missing_intermediate-public.pcap")
system_store = "/etc/ssl/certs/ca-certificates.crt"
INTERMEDIATE = "CN=GTS CA 1C3,O=Google Trust Services LLC,C=US"
URL = "http://pki.goog/repo/certs/gts1c3.der"
CLAIM = "not the public intermediate '%s'" % INTERMEDIATE
NOW = ["--now", "2026-11-26T00:00:00Z"]
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)


def handshake(store):
    out = subprocess.run([tlsdiag, "analyze", "--json", "--ca-file", store] + NOW + [pcap],
                         capture_output=True, text=True)
    hs = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    hs = [o for o in hs if o.get("type") == "handshake"]
    if out.returncode not in (0, 1) or len(hs) != 1:
        fail("%s: exit %d, %d handshakes (want 1): %s" % (store, out.returncode, len(hs),
                                                          out.stderr.strip()[:300]))
        return None
    return hs[0]


def evidence(h, key):
    return [e.get("value", "") for e in h.get("evidence", []) if e.get("key") == key]


for must in (pcap, system_store):
    if not os.path.isfile(must):
        print("FAIL: missing %s%s" % (must, " (install ca-certificates: scripts/setup.sh)"
                                      if must == system_store else ""))
        sys.exit(1)

for store in (system_store, os.path.join(src, "pcaps", "ca", "public_root.pem")):
    h = handshake(store)
    if h is None:
        continue
    got = (h.get("cause"), h.get("outcome"), h.get("confidence"))
    if got != ("cert_missing_intermediate", "failed", "high"):
        fail("%s: cause/outcome/confidence %s" % (store, got))
    summary = h.get("summary", "")
    if CLAIM not in summary or ("it is at " + URL) not in summary:
        fail("%s: the summary does not name %s and %s: %r" % (store, INTERMEDIATE, URL, summary))
    if not any(v.startswith("listed in") for v in evidence(h, "public_intermediate")):
        fail("%s: no public_intermediate 'listed in' evidence: %s" % (store, h.get("evidence")))
    # The capture's time is the client's (faketime), inside the leaf's validity (2022-07-18 to
    # 2022-10-10), so the missing intermediate is the only fault the capture shows.
    if not h.get("start", "").startswith("2022-08-15T"):
        fail("%s: handshake start %r, want 2022-08-15 (the client's faketime)" % (store, h.get("start")))
    text = subprocess.run([tlsdiag, "analyze", "--color=never", "--ca-file", store] + NOW + [pcap],
                          capture_output=True, text=True).stdout
    if CLAIM not in text or URL not in text:
        fail("%s: the text report does not name the intermediate and the URL" % store)

# Control: a store without GTS Root R1. The index knows the issuer, but it reaches no root the
# client trusts, so tlsdiag must not tell the admin that adding the intermediate fixes it.
h = handshake(os.path.join(src, "pcaps", "ca", "root.pem"))
if h is not None:
    if h.get("cause") != "cert_missing_intermediate":
        fail("test PKI store: cause %s" % h.get("cause"))
    if CLAIM in h.get("summary", ""):
        fail("test PKI store: the summary claims a public intermediate that reaches no trusted root")
    if not any("leads to no root of the trust store" in v
               for v in evidence(h, "public_intermediate")):
        fail("test PKI store: no 'leads to no root' evidence: %s" % evidence(h, "public_intermediate"))

print("%s: %d failure(s)" % ("FAIL" if fails else "ok", fails))
sys.exit(1 if fails else 0)
PY
