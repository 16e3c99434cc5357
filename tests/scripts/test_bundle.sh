#!/usr/bin/env bash
# test_bundle.sh — `tlsdiag report` end to end on the scenario captures: members, evidence.pcap
# checked by tshark (checksums on, expert info), same causes when re-analysed, no application
# data, --anonymize on the raw bytes of every member, prefix relations, damaged input, usage.
# Usage: bash test_bundle.sh TLSDIAG SRCDIR
set -u
TLSDIAG=${1:?usage: test_bundle.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_bundle.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CA="$SRCDIR/pcaps/ca/root.pem"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
expect_status() { if [ "$rc" -eq "$1" ]; then ok "$2 (exit $rc)"; else bad "$2: exit $rc, want $1"; fi; }
expect_grep() { if grep -qF -- "$2" "$1"; then ok "$3"; else bad "$3: '$2' not in $1"; fi; }
for tool in tshark tar python3; do
    command -v "$tool" >/dev/null || { echo "FAIL - $tool is required (scripts/setup.sh installs it)"; exit 1; }
done

# --- 1. every scenario pcap, every failing connection --------------------------------------
"$TLSDIAG" report -o "$WORK/all.tar.gz" --max-connections 100 --ca-file "$CA" \
    "$SRCDIR"/pcaps/*.pcap >"$WORK/out.txt" 2>"$WORK/err.txt"
rc=$?
expect_status 1 "report over all scenarios (failures found)"
tar -tzf "$WORK/all.tar.gz" | sort >"$WORK/list.txt"
for m in report.html report.md findings.json evidence.pcap environment.txt chain-1.pem; do
    if grep -qx "$m" "$WORK/list.txt"; then ok "member $m present"; else bad "member $m missing"; fi
done
mkdir "$WORK/all" && tar -xzf "$WORK/all.tar.gz" -C "$WORK/all"
EV="$WORK/all/evidence.pcap"

# tshark with checksum validation: no malformed packet, no bad checksum, no sequence problem.
tshark -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -r "$EV" \
    -T fields -e _ws.expert.group -e _ws.expert.message 2>"$WORK/tshark.err" >"$WORK/expert.txt"
if [ -s "$WORK/expert.txt" ]; then ok "tshark read evidence.pcap"; else bad "tshark read nothing"; fi
if grep -iE "malformed|checksum|previous segment|unseen segment|out-of-order|lost" "$WORK/expert.txt" >"$WORK/probs.txt"; then
    bad "tshark reports problems: $(sort "$WORK/probs.txt" | uniq -c | head -5)"
else
    ok "tshark: no malformed packet, bad checksum or sequence problem"
fi
if grep -qiE "cut short|appears to have been cut|malformed" "$WORK/tshark.err"; then
    bad "tshark complains about the file: $(head -3 "$WORK/tshark.err")"
else
    ok "tshark reads the file without complaint"
fi
# The check can fail: a flipped TCP checksum byte in a copy is reported.
python3 - "$EV" "$WORK/corrupt.pcap" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
# first record after the 24-byte header: 16-byte record header, Ethernet 14, IPv4 20, TCP cksum at 16
off = 24 + 16 + 14 + 20 + 16
d[off] ^= 0xff
open(sys.argv[2], "wb").write(d)
PY
if tshark -o tcp.check_checksum:TRUE -r "$WORK/corrupt.pcap" -T fields -e _ws.expert.message 2>/dev/null | grep -qi checksum; then
    ok "a corrupted checksum is detected (the check is live)"
else
    bad "tshark did not flag a corrupted checksum"
fi

# Same causes as the original captures (the failing connections of each file).
causes() {  # analyze --json → sorted "cause outcome" of handshakes whose cause is not ok
    python3 -c '
import json, sys
out = []
for line in sys.stdin:
    o = json.loads(line)
    if o.get("type") == "handshake" and o["cause"] != "ok":
        cause = o["cause"]
        # evidence.pcap holds the failing connections only: a cause inferred from an earlier
        # connection to the same server (analyze/memo.c) is compared as what the connection
        # shows on its own, which its verdict keeps as an "on its own" finding.
        if any(e["key"] == "same_server_chain" for e in o.get("evidence", [])):
            cause = [f["cause"] for f in o["findings"] if f["text"].startswith("on its own: ")][0]
        out.append(cause + " " + o["outcome"])
print("\n".join(sorted(out)))'
}
"$TLSDIAG" analyze --json --ca-file "$CA" "$SRCDIR"/pcaps/*.pcap | causes >"$WORK/orig.causes"
"$TLSDIAG" analyze --json --ca-file "$CA" "$EV" | causes >"$WORK/ev.causes"
n=$(wc -l <"$WORK/orig.causes")
if [ "$n" -ge 30 ] && diff "$WORK/orig.causes" "$WORK/ev.causes" >"$WORK/causes.diff"; then
    ok "analyze evidence.pcap gives the same $n causes as the originals"
else
    bad "causes differ ($n originals): $(head -10 "$WORK/causes.diff")"
fi
causes <"$WORK/all/findings.json" >"$WORK/findings.causes"
if diff -q "$WORK/orig.causes" "$WORK/findings.causes" >/dev/null; then
    ok "findings.json carries the same causes"
else
    bad "findings.json causes differ from analyze"
fi

# No application data: no TLS <= 1.2 record of content type 23, and the dissector finds no
# application-data record (TLS 1.3 encrypted handshake records stay: they are the handshake).
n23=$(tshark -r "$EV" -Y "tls.record.content_type == 23" -T fields -e frame.number 2>/dev/null | wc -l)
if [ "$n23" -eq 0 ]; then ok "no record of content type 23 (TLS <= 1.2)"; else bad "$n23 frame(s) with content type 23"; fi
orig23=$(tshark -r "$SRCDIR/pcaps/cert_chain_misordered.pcap" -Y "tls.record.content_type == 23" -T fields -e frame.number 2>/dev/null | wc -l)
if [ "$orig23" -gt 0 ]; then ok "the input did carry application data ($orig23 frames)"; else bad "input has no application data: the check proves nothing"; fi
"$TLSDIAG" dissect --json "$EV" | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    o = json.loads(line)
    if o.get("type") == "connection":
        a = o["application_data"]
        n += a["records_c2s"] + a["records_s2c"]
        n += sum(1 for e in o["events"] if e["kind"] == "application_data")
sys.exit(1 if n else 0)'
rc=$?
expect_status 0 "dissect finds no application-data record in evidence.pcap"

# --- 2. --anonymize: no original address in any member, prefixes preserved ----------------
"$TLSDIAG" report -o "$WORK/anon.tar.gz" --anonymize --max-connections 100 --ca-file "$CA" \
    "$SRCDIR"/pcaps/*.pcap >/dev/null 2>&1
rc=$?
expect_status 1 "report --anonymize"
mkdir "$WORK/anon" && tar -xzf "$WORK/anon.tar.gz" -C "$WORK/anon"
for f in "$SRCDIR"/pcaps/*.pcap; do
    tshark -r "$f" -T fields -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst 2>/dev/null
done | tr '\t' '\n' | grep -v '^$' | sort -u >"$WORK/addrs.txt"
python3 - "$WORK/addrs.txt" "$WORK/anon" <<'PY'
import ipaddress, os, sys
addrs = [ipaddress.ip_address(a) for a in open(sys.argv[1]).read().split()]
assert len(addrs) >= 3, addrs
bad = []
for name in sorted(os.listdir(sys.argv[2])):
    data = open(os.path.join(sys.argv[2], name), "rb").read()
    for a in addrs:
        for form in (str(a).encode(), a.packed):
            if form in data:
                bad.append("%s: %s (%s)" % (name, a, "text" if form == str(a).encode() else "binary"))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
rc=$?
expect_status 0 "no original address (text or binary) in any anonymized member"

# Prefix relations: map each original address to its pseudonym through the TCP ports (kept),
# then compare the common-prefix length of every pair.
tshark -r "$WORK/anon/evidence.pcap" -T fields -e tcp.srcport -e tcp.dstport -e ip.src -e ip.dst 2>/dev/null >"$WORK/anon.ports"
for f in "$SRCDIR"/pcaps/*.pcap; do
    tshark -r "$f" -T fields -e tcp.srcport -e tcp.dstport -e ip.src -e ip.dst 2>/dev/null
done >"$WORK/orig.ports"
python3 - "$WORK/orig.ports" "$WORK/anon.ports" "$WORK/anon/findings.json" <<'PY'
import ipaddress, json, sys
def rows(p):
    for line in open(p):
        f = line.split()
        if len(f) == 4:
            yield (f[0], f[1]), ipaddress.ip_address(f[2]), ipaddress.ip_address(f[3])
orig = {}
for ports, s, d in rows(sys.argv[1]):
    orig[ports] = (s, d)
m = {}
for ports, s, d in rows(sys.argv[2]):
    if ports in orig:
        for o, p in zip(orig[ports], (s, d)):
            if m.setdefault(o, p) != p:
                sys.exit("inconsistent pseudonym for %s: %s and %s" % (o, m[o], p))
def cp(a, b):
    x, y = int(a), int(b)
    n = 32
    while n and (x >> (32 - n)) != (y >> (32 - n)):
        n -= 1
    return n
keys = sorted(m, key=int)
assert len(keys) >= 3, m
checked = 0
for i, a in enumerate(keys):
    assert m[a] != a, "address %s not replaced" % a
    for b in keys[i + 1:]:
        if cp(a, b) != cp(m[a], m[b]):
            sys.exit("prefix of %s/%s is %d bits, of pseudonyms %d" % (a, b, cp(a, b), cp(m[a], m[b])))
        checked += 1
a, b = ipaddress.ip_address("10.251.0.1"), ipaddress.ip_address("10.251.0.2")
assert a in m and b in m, "10.251.0.1/.2 not in the evidence"
assert int(m[a]) >> 8 == int(m[b]) >> 8, "the /24 of %s and %s is not shared: %s %s" % (a, b, m[a], m[b])
# consistent across members: the pseudonyms are what findings.json says
ips = set()
for line in open(sys.argv[3]):
    o = json.loads(line)
    if o.get("type") == "handshake":
        ips.add(o["client"]["ip"]); ips.add(o["server"]["ip"])
assert ips == set(str(p) for p in m.values()), (ips, m)
print("pairs checked:", checked)
PY
rc=$?
expect_status 0 "prefix relations preserved and pseudonyms consistent between pcap and JSON"
if grep -q "anonymized addresses: yes" "$WORK/anon/environment.txt"; then ok "environment.txt says anonymized"; else bad "environment.txt does not say anonymized"; fi

# The same key gives the same pseudonyms (a second bundle for the same ticket).
for i in 1 2; do
    "$TLSDIAG" report -o "$WORK/k$i.tar.gz" --anonymize-key "ticket 4711" --ca-file "$CA" \
        "$SRCDIR/pcaps/server_flight_lost.pcap" >/dev/null 2>&1
    mkdir "$WORK/k$i" && tar -xzf "$WORK/k$i.tar.gz" -C "$WORK/k$i"
    tshark -r "$WORK/k$i/evidence.pcap" -T fields -e ip.src 2>/dev/null | sort -u >"$WORK/k$i.ips"
done
if [ -s "$WORK/k1.ips" ] && cmp -s "$WORK/k1.ips" "$WORK/k2.ips"; then ok "--anonymize-key is deterministic"; else bad "--anonymize-key gave different pseudonyms"; fi

# --redact-names: the SNI and certificate names are gone from every member.
"$TLSDIAG" report -o "$WORK/red.tar.gz" --anonymize --redact-names --ca-file "$CA" \
    "$SRCDIR/pcaps/cert_expired.pcap" >/dev/null 2>&1
mkdir "$WORK/red" && tar -xzf "$WORK/red.tar.gz" -C "$WORK/red"
if grep -rlF "origin.example.com" "$WORK/red" >"$WORK/red.hits"; then
    bad "origin.example.com still in: $(cat "$WORK/red.hits")"
else
    ok "--redact-names: the SNI/certificate name is in no member"
fi

# --- 3. damaged input, directories, usage --------------------------------------------------
size=$(stat -c %s "$SRCDIR/pcaps/mixed.pcap")
head -c $((size - 30)) "$SRCDIR/pcaps/mixed.pcap" >"$WORK/damaged.pcap"
"$TLSDIAG" report -o "$WORK/dmg.tar.gz" --ca-file "$CA" "$WORK/damaged.pcap" >/dev/null 2>"$WORK/dmg.err"
rc=$?
expect_status 3 "damaged input"
mkdir "$WORK/dmg" && tar -xzf "$WORK/dmg.tar.gz" -C "$WORK/dmg"
expect_grep "$WORK/dmg/environment.txt" "damaged input: $WORK/damaged.pcap: frame" "environment.txt names the damage"
expect_grep "$WORK/dmg/report.md" "Damaged input" "report.md names the damage"
expect_grep "$WORK/dmg.err" "damaged.pcap" "stderr names the file"
if ls "$WORK" | grep -q '\.tmp\.'; then bad "a temporary archive was left behind"; else ok "no temporary file left"; fi

# a capture run's ring files (edge.pcap0, edge.pcap1) and a file that is not a capture
mkdir "$WORK/run" && cp "$SRCDIR/pcaps/cert_expired.pcap" "$WORK/run/edge.pcap0"
cp "$SRCDIR/pcaps/sni_rejected.pcap" "$WORK/run/edge.pcap1"
echo "capture notes" >"$WORK/run/notes.txt"
"$TLSDIAG" report -o "$WORK/dir.tar.gz" --ca-file "$CA" "$WORK/run" >/dev/null 2>&1
rc=$?
expect_status 1 "a capture run's directory as input"
n=$(tar -xzOf "$WORK/dir.tar.gz" findings.json | grep -c '"type":"handshake"')
if [ "$n" -eq 2 ]; then ok "both captures of the directory were read"; else bad "$n handshakes from the directory, want 2"; fi

"$TLSDIAG" report "$SRCDIR/pcaps/ok.pcap" >/dev/null 2>"$WORK/u1.err"; rc=$?
expect_status 2 "missing -o"
"$TLSDIAG" report -o "$WORK/x.tar.gz" --max-connections 0 "$SRCDIR/pcaps/ok.pcap" >/dev/null 2>&1; rc=$?
expect_status 2 "--max-connections 0"
"$TLSDIAG" report -o "$WORK/ok.tar.gz" --ca-file "$CA" "$SRCDIR/pcaps/ok.pcap" >/dev/null 2>&1; rc=$?
expect_status 0 "no failed handshake"
"$TLSDIAG" report -o "$WORK/nf.tar.gz" "$WORK/does-not-exist.pcap" >/dev/null 2>&1; rc=$?
expect_status 3 "missing input"
if [ -e "$WORK/nf.tar.gz" ]; then bad "an archive was written for a missing input"; else ok "no archive for a missing input"; fi

# libarchive is loaded when an archive is written, not when tlsdiag starts (bundle/larchive.h):
# analyze never maps it; report does; a libarchive that cannot be loaded is named, exit 4, and
# no archive is left.
LD_DEBUG=files "$TLSDIAG" analyze --ca-file "$CA" "$SRCDIR/pcaps/ok.pcap" >/dev/null 2>"$WORK/ld_analyze.txt"
if grep -q 'file=libarchive' "$WORK/ld_analyze.txt"; then bad "analyze loaded libarchive"; else ok "analyze does not load libarchive"; fi
LD_DEBUG=files "$TLSDIAG" report -o "$WORK/ld.tar.gz" --ca-file "$CA" "$SRCDIR/pcaps/ok.pcap" >/dev/null 2>"$WORK/ld_report.txt"
if grep -q 'file=libarchive.so.13 .*dynamically loaded' "$WORK/ld_report.txt" && [ -s "$WORK/ld.tar.gz" ]; then
    ok "report loads libarchive when it writes"
else
    bad "report did not load libarchive or wrote no archive"
fi
LIBA=$(ldconfig -p | awk '/libarchive.so.13 .*x86-64/ {print $NF; exit}')
if [ -z "$LIBA" ] || ! command -v unshare >/dev/null; then
    bad "libarchive.so.13 not in ldconfig's cache or no unshare: cannot hide the library"
else
    # A private mount namespace in which the library is an empty file.
    unshare -m sh -c 'mount --bind /dev/null "$(readlink -f "$1")" && shift && exec "$@"' sh "$LIBA" \
        "$TLSDIAG" report -o "$WORK/nolib.tar.gz" --ca-file "$CA" "$SRCDIR/pcaps/cert_expired.pcap" \
        >/dev/null 2>"$WORK/nolib.err"
    rc=$?
    expect_status 4 "libarchive that cannot be loaded"
    expect_grep "$WORK/nolib.err" "cannot load libarchive.so.13 (Debian package libarchive13)" "the missing library is named"
    if ls "$WORK" | grep -q 'nolib.tar.gz'; then bad "an archive or temporary file was left without libarchive"; else ok "nothing written without libarchive"; fi
fi

echo "# test_bundle: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
