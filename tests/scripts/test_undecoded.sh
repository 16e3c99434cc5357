#!/usr/bin/env bash
# test_undecoded.sh TLSDIAG SRCDIR — frames that may carry TCP but cannot be decoded are never
# dropped in silence: Ethernet frames saved as raw IP or BSD loopback, more VLAN tags, MPLS
# labels or IPv6 extension headers than the limits, tunnels nested too deep
# (tests/data/undecoded/make.py). Each gives one stderr line with the count, the first frame and
# the link type, and an "undecoded_frames" entry in the JSON summary (a "Not decoded" line in the
# text one); the control captures just within each limit decode to one connection and say nothing.
set -euo pipefail
BIN=$1
SRC=$2
D=$SRC/tests/data/undecoded
WORK=$(mktemp -d /tmp/tlsdiag-undec.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# The committed captures are what make.py writes.
cp "$D/make.py" "$WORK/" && (cd "$WORK" && python3 make.py)
for f in "$D"/*.pcap; do
    cmp -s "$f" "$WORK/$(basename "$f")" || fail "$(basename "$f") differs from make.py's output"
done

# check FILE REASON STDERR-TEXT LINKTYPE-NAME LINKTYPE
check() {
    local f=$1 reason=$2 text=$3 ltname=$4 lt=$5 rc=0
    "$BIN" analyze --json "$D/$f" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [[ $rc == 0 ]] || fail "$f: exit $rc"
    grep -qxF "tlsdiag: not decoded: 4 frame(s): $text; first frame 1, link type $ltname ($lt)" \
        "$WORK/err" || fail "$f: no stderr line for $reason: $(cat "$WORK/err")"
    python3 - "$WORK/out" "$reason" "$lt" "$f" <<'PY' || FAILS=$((FAILS + 1))
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
s = [o for o in lines if o.get("type") == "summary"][-1]
u = s.get("undecoded_frames")
want = {"reason": sys.argv[2], "frames": 4, "first_frame": 1, "link_type": int(sys.argv[3])}
if not u or len(u) != 1 or any(u[0].get(k) != v for k, v in want.items()):
    print(f"FAIL: {sys.argv[4]}: summary undecoded_frames {u!r}, want {want!r}", file=sys.stderr)
    sys.exit(1)
PY
    "$BIN" analyze "$D/$f" >"$WORK/text" 2>/dev/null || true
    grep -qF "Not decoded: 4 frame(s): $text; first frame 1, link type $lt" "$WORK/text" ||
        fail "$f: text summary does not say it: $(cat "$WORK/text")"
}

WRONG="no IP header where the link type puts one (Ethernet frames saved under a raw-IP or loopback link type?)"
check ether-as-raw.pcap wrong_link_type "$WRONG" RAW 101
check ether-as-null.pcap wrong_link_type "$WRONG" NULL 0
check vlan-10.pcap vlan_depth "more stacked VLAN tags than the limit (4)" EN10MB 1
check mpls-12.pcap mpls_depth "more MPLS labels than the limit (8)" EN10MB 1
check ipv6-ext-12.pcap ipv6_extension_depth "more IPv6 extension headers than the limit (8)" RAW 101
check ipip-10.pcap tunnel_depth "tunnels nested deeper than the limit (8)" RAW 101

# --threads merges the workers' counts into the same line.
"$BIN" analyze --threads 2 "$D/vlan-10.pcap" >/dev/null 2>"$WORK/err" || true
grep -qxF "tlsdiag: not decoded: 4 frame(s): more stacked VLAN tags than the limit (4); first frame 1, link type EN10MB (1)" \
    "$WORK/err" || fail "--threads 2: $(cat "$WORK/err")"

# report -o: the bundle says it too (environment.txt and findings.json).
"$BIN" report -o "$WORK/b.tar.gz" "$D/mpls-12.pcap" >/dev/null 2>&1 || true
tar -xzOf "$WORK/b.tar.gz" environment.txt 2>/dev/null | grep -F \
    "not decoded: 4 frame(s): more MPLS labels than the limit (8); first frame 1, link type 1" >/dev/null ||
    fail "report -o: environment.txt does not name the undecoded frames"
tar -xzOf "$WORK/b.tar.gz" findings.json 2>/dev/null | grep -F '"undecoded_frames":[{"reason":"mpls_depth"' >/dev/null ||
    fail "report -o: findings.json has no undecoded_frames"

# Just within the limits: one connection, not a word about undecoded frames.
for f in vlan-4.pcap mpls-8.pcap ipv6-ext-8.pcap ipip-8.pcap; do
    "$BIN" analyze --json "$D/$f" >"$WORK/out" 2>"$WORK/err" || true
    grep -q "not decoded" "$WORK/err" && fail "$f: $(cat "$WORK/err")"
    python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]
sys.exit(0 if s.get("connections") == 1 and "undecoded_frames" not in s else 1)' "$WORK/out" ||
        fail "$f: want 1 connection and no undecoded_frames: $(tail -1 "$WORK/out" | cut -c1-300)"
done

if ((FAILS)); then
    echo "$FAILS failure(s)" >&2
    exit 1
fi
echo "all undecoded-frame checks passed"
