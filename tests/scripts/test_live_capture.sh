#!/usr/bin/env bash
# test_live_capture.sh TLSDIAG SRCDIR — `tlsdiag capture` end to end, as root, in network
# namespaces: real openssl s_client handshakes from an "edge" address inside the --ranges list
# and from one outside it, to real s_server instances on the origin, where two captures run
# (-w everything, and --handshake-only). Asserts the verdicts streamed before the stop, that the
# non-edge client was filtered out in the kernel, the summary and capture counts, and that both
# written files re-analyze offline to the same verdicts, the handshake-only one with no
# application-data records (tshark).
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_live_lib.bash
source "$HERE/test_live_lib.bash"

live_net_up
live_pki
server 4431 leaf -cert_chain "$PKI/chain.pem"            # ok
server 4432 leaf_expired -cert_chain "$PKI/chain.pem"    # cert_expired
server 4433 leaf                                         # cert_missing_intermediate
server 4434 leaf -cert_chain "$PKI/chain.pem" -tls1_3    # protocol_version_mismatch
server 4435 leaf -cert_chain "$PKI/chain.pem" -no_tls1_3 -cipher 'AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305'
# 4436: nothing listens → connection_refused
PORTS=4431,4432,4433,4434,4435,4436

COMMON=(-i any -p "$PORTS" --ranges "$WORK/ip-ranges.json" --ca-file "$PKI/root.pem" --json)
capture "$WORK/full.jsonl" "$WORK/full.err" "${COMMON[@]}" -w "$WORK/full.pcap"
FULL_PID=$CAP_PID
capture "$WORK/hs.jsonl" "$WORK/hs.err" "${COMMON[@]}" -w "$WORK/hs.pcap" --handshake-only
HS_PID=$CAP_PID

# The generated filter names the prefix from --ranges, in both directions.
"$TLSDIAG" capture --print-filter --ranges "$WORK/ip-ranges.json" -p 4431 >"$WORK/filter.txt" ||
    fail "--print-filter failed"
grep -q 'src net 15.158.0.0/16' "$WORK/filter.txt" && grep -q 'dst net 15.158.0.0/16' "$WORK/filter.txt" &&
    grep -q 'src net 2600:9000:2000::/36' "$WORK/filter.txt" || fail "filter: $(cat "$WORK/filter.txt")"

other_client 4431   # not CloudFront: the kernel filter must drop it
other_client 4432
other_client6 4431
for port in 4431 4432 4433 4434 4435 4436; do
    edge_client "$port"
done
edge_client6 4431   # IPv6 edge → ok
edge_client6 4433   # IPv6 edge → missing intermediate

# The non-edge clients really connected (so "filtered out" below is the capture's doing).
[[ $(grep -c CONNECTED "$WORK/client-4431.log") == 4 ]] ||
    fail "not every client reached port 4431: $(cat "$WORK/client-4431.log")"

# Streamed: all eight verdicts are out while both captures are still running.
wait_json "$WORK/full.jsonl" 8
wait_json "$WORK/hs.jsonl" 8
grep -q '"type":"summary"' "$WORK/full.jsonl" && fail "summary printed before the capture stopped"

stop "$FULL_PID" INT
[[ $STOP_RC == 1 ]] || fail "capture (SIGINT) exited $STOP_RC, want 1 (failed handshakes seen): $(cat "$WORK/full.err")"
stop "$HS_PID" TERM
[[ $STOP_RC == 1 ]] || fail "capture --handshake-only (SIGTERM) exited $STOP_RC, want 1: $(cat "$WORK/hs.err")"

for f in full.pcap hs.pcap; do
    valid_pcap "$WORK/$f"
    "$TLSDIAG" analyze --json --ca-file "$PKI/root.pem" --ranges "$WORK/ip-ranges.json" \
        "$WORK/$f" >"$WORK/$f.offline.jsonl" 2>"$WORK/$f.offline.err"
    rc=$?
    [[ $rc == 1 ]] || fail "offline analyze of $f exited $rc: $(cat "$WORK/$f.offline.err")"
done

# Application data: the full file has it (so the check below can fail), the handshake-only has none.
DECODE=(-d 'tcp.port==4431-4436,tls')
n_full=$(tshark -r "$WORK/full.pcap" "${DECODE[@]}" -Y 'tls.record.content_type == 23' 2>/dev/null | wc -l)
n_hs=$(tshark -r "$WORK/hs.pcap" "${DECODE[@]}" -Y 'tls.record.content_type == 23' 2>/dev/null | wc -l)
[[ $n_full -gt 0 ]] || fail "the full capture has no application-data record (the ok handshake sent a request)"
[[ $n_hs == 0 ]] || fail "the --handshake-only capture has $n_hs frames with application-data records"
hs_size=$(stat -c %s "$WORK/hs.pcap")
full_size=$(stat -c %s "$WORK/full.pcap")
[[ $hs_size -lt $full_size ]] || fail "handshake-only file ($hs_size bytes) not smaller than full ($full_size)"

python3 - "$WORK" "$EDGE" "$OTHER" "$EDGE6" "$OTHER6" <<'PY' || exit 1
import json, sys
work, edge, other, edge6, other6 = sys.argv[1:]
want = {(edge, 4431): "ok", (edge, 4432): "cert_expired", (edge, 4433): "cert_missing_intermediate",
        (edge, 4434): "protocol_version_mismatch", (edge, 4435): "no_shared_cipher",
        (edge, 4436): "connection_refused", (edge6, 4431): "ok",
        (edge6, 4433): "cert_missing_intermediate"}
problems = []

def load(name):
    objs = []
    with open(f"{work}/{name}") as f:
        for i, line in enumerate(f, 1):
            try:
                objs.append(json.loads(line))
            except ValueError as e:
                problems.append(f"{name}:{i}: not JSON ({e}): {line[:80]!r}")
    return objs

def verdicts(name, objs):
    by_port = {}
    for o in objs:
        if o.get("type") != "handshake":
            continue
        ip = o["client"]["ip"]
        if ip in (other, other6):
            problems.append(f"{name}: the non-edge client {ip} was not filtered out")
            continue
        if ip not in (edge, edge6):
            problems.append(f"{name}: unexpected client {ip}")
            continue
        key = (ip, o["server"]["port"])
        if key in by_port:
            problems.append(f"{name}: two verdicts for {key}")
        by_port[key] = o["cause"]
    got = {p: by_port.get(p) for p in want}
    if got != want:
        problems.append(f"{name}: causes {got}, want {want}")
    return by_port

for name in ("full.jsonl", "hs.jsonl"):
    objs = load(name)
    live = verdicts(name, objs)
    edge_objs = [o for o in objs if o.get("type") == "handshake"]
    if not all(o["client"].get("cloudfront") for o in edge_objs):
        problems.append(f"{name}: edge client not labelled cloudfront")
    sums = [o for o in objs if o.get("type") == "summary"]
    caps = [o for o in objs if o.get("type") == "capture"]
    if len(sums) != 1:
        problems.append(f"{name}: {len(sums)} summary objects, want 1")
    else:
        s = sums[0]
        exp = {"connections": 8, "succeeded": 2, "failed": 6}
        got = {k: s.get(k) for k in exp}
        if got != exp:
            problems.append(f"{name}: summary {got}, want {exp}")
        bc = s.get("by_cause", {})
        for c, n in (("cert_expired", 1), ("cert_missing_intermediate", 2),
                     ("protocol_version_mismatch", 1), ("no_shared_cipher", 1),
                     ("connection_refused", 1)):
            if bc.get(c) != n:
                problems.append(f"{name}: summary by_cause[{c}] = {bc.get(c)}, want {n}")
    if len(caps) != 1:
        problems.append(f"{name}: {len(caps)} capture objects, want 1")
    else:
        c = caps[0]
        if not isinstance(c.get("received"), int) or c["received"] < c["packets"] or c["packets"] < 20:
            problems.append(f"{name}: capture counts {c}")
        if c.get("dropped") != 0:
            problems.append(f"{name}: kernel drops {c.get('dropped')} on an idle test network")
        if c.get("written", 0) <= 0:
            problems.append(f"{name}: nothing written {c}")
    offline = verdicts(name + " offline", load(name.replace(".jsonl", ".pcap") + ".offline.jsonl"))
    if offline != live:
        problems.append(f"{name}: offline verdicts {offline} differ from live {live}")

for p in problems:
    print("FAIL: " + p)
if problems:
    sys.exit(1)
print("live capture: 8 streamed verdicts (IPv4 and IPv6, x2), non-edge clients filtered, "
      "summary, -w and --handshake-only files re-analyzed to the same verdicts")
PY
echo "PASS"
