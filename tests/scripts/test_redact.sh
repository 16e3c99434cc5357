#!/usr/bin/env bash
# test_redact.sh TLSDIAG SRCDIR — `report --redact-names` leaves no certificate identifier that
# could be looked up in Certificate Transparency anywhere in the bundle: for every certificate of
# every chain, the SHA-256 fingerprint (hex, upper-case hex, colon-hex, base64), the chain
# fingerprint, the serial, the SKI/AKI, the subject and issuer DNs and their attribute values,
# the SANs and the SNI are in no member (after extracting the tar.gz), no chain-*.pem is written,
# evidence.pcap holds no 16-byte run of any original certificate, and tshark still dissects its
# Certificate messages with the original lengths. Without the flag the same checks find them (so
# the test can fail).
set -euo pipefail
BIN=$1
SRC=$2
WORK=$(mktemp -d /tmp/tlsdiag-redact.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
for tool in tshark tar python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done
FAILS=0
CA=$SRC/pcaps/ca/root.pem

# cert_intermediate_expired: a failure whose chain has an intermediate (cert_chain_misordered.pcap,
# its predecessor here, is no failure since s2n accepts its order).
for pcap in cert_expired.pcap cert_missing_intermediate.pcap cert_intermediate_expired.pcap mixed.pcap; do
    w=$WORK/${pcap%.pcap}
    mkdir -p "$w/plain" "$w/red"
    "$BIN" analyze --json --ca-file "$CA" "$SRC/pcaps/$pcap" >"$w/orig.jsonl" 2>/dev/null || true
    "$BIN" report -o "$w/plain.tar.gz" --ca-file "$CA" "$SRC/pcaps/$pcap" >/dev/null 2>&1 || true
    "$BIN" report -o "$w/red.tar.gz" --redact-names --ca-file "$CA" "$SRC/pcaps/$pcap" \
        >/dev/null 2>&1 || true
    tar -xzf "$w/plain.tar.gz" -C "$w/plain"
    tar -xzf "$w/red.tar.gz" -C "$w/red"
    python3 - "$w" "$pcap" <<'PY' || FAILS=$((FAILS + 1))
import base64, glob, json, os, re, subprocess, sys

w, name = sys.argv[1], sys.argv[2]
fails = []
verdicts = [json.loads(l) for l in open(f"{w}/orig.jsonl") if '"type":"handshake"' in l]

def hex_forms(h):
    d = re.sub(r"[^0-9a-fA-F]", "", h).lower()
    if len(d) < 4:
        return []
    forms = {d, d.upper()}
    if len(d) % 2 == 0:
        colon = ":".join(d[i:i + 2] for i in range(0, len(d), 2))
        forms |= {colon, colon.upper(), base64.b64encode(bytes.fromhex(d)).decode()}
    return sorted(forms)

def dn_values(dn):
    return [v for v in re.split(r"(?<!\\)[,+]", dn) if "=" in v for v in [v.split("=", 1)[1]]]

needles = set()
for v in verdicts:
    if v.get("sni"):
        needles.add(v["sni"])
    for f in hex_forms(v.get("chain_sha256") or ""):
        needles.add(f)
    for c in v.get("certificates") or []:
        for key in ("sha256", "serial", "ski", "aki"):
            needles.update(hex_forms(c.get(key) or ""))
        for key in ("subject", "issuer"):
            if c.get(key):
                needles.add(c[key])
                needles.update(x for x in dn_values(c[key]) if len(x) >= 3)
        needles.update(s for s in c.get("sans") or [] if len(s) >= 3)
if not any(v.get("certificates") for v in verdicts):
    fails.append("no certificate in the original analysis: the test would prove nothing")

def pem_ders(d):
    ders = []
    for p in sorted(glob.glob(f"{d}/chain-*.pem")):
        for b in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END", open(p).read(), re.S):
            ders.append(base64.b64decode("".join(b.split())))
    return ders

def hits(d):
    out = []
    for p in sorted(glob.glob(f"{d}/*")):
        data = open(p, "rb").read()
        low = data.lower()
        for n in needles:
            nb = n.encode()
            if (nb.lower() in low) if re.fullmatch(r"[0-9a-fA-F:]+", n) else (nb in data):
                out.append(f"{os.path.basename(p)}: {n}")
    return out

ders = pem_ders(f"{w}/plain")
if not ders:
    fails.append("the plain bundle has no chain PEM to compare with")
plain_hits = hits(f"{w}/plain")
if not plain_hits:
    fails.append("the plain bundle holds none of the identifiers: the search is broken")
red_hits = hits(f"{w}/red")
if red_hits:
    fails.append("identifiers left by --redact-names: " + "; ".join(red_hits[:8]))
if glob.glob(f"{w}/red/chain-*.pem"):
    fails.append("chain-*.pem written under --redact-names")

ev = open(f"{w}/red/evidence.pcap", "rb").read()
plain_ev = open(f"{w}/plain/evidence.pcap", "rb").read()
for i, der in enumerate(ders):
    runs = [der[k:k + 16] for k in range(0, len(der) - 16, 16)]
    if not any(r in plain_ev for r in runs):
        fails.append(f"certificate {i} is not in the plain evidence.pcap: the check is broken")
    left = [k for k, r in enumerate(runs) if r in ev and r != bytes(16)]
    if left:
        fails.append(f"certificate {i}: {len(left)} 16-byte runs left in evidence.pcap")

def cert_lengths(p):
    out = subprocess.run(["tshark", "-r", p, "-T", "fields", "-e", "tls.handshake.certificate_length"],
                         capture_output=True, text=True).stdout
    return sorted(x for l in out.split() for x in l.split(","))
want, got = cert_lengths(f"{w}/plain/evidence.pcap"), cert_lengths(f"{w}/red/evidence.pcap")
if not want or want != got:
    fails.append(f"tshark certificate lengths {got}, want {want}")
for f in fails:
    print(f"FAIL: {name}: {f}", file=sys.stderr)
print(f"{name}: {len(needles)} identifiers, {len(plain_hits)} found without the flag, "
      f"{len(red_hits)} with it")
sys.exit(1 if fails else 0)
PY
done

if ((FAILS)); then
    echo "$FAILS capture(s) failed" >&2
    exit 1
fi
echo "all redaction checks passed"
