#!/usr/bin/env bash
# test_probe.sh TLSDIAG SRCDIR — `tlsdiag probe` against real local peers: openssl s_server with
# a throwaway PKI (expired leaf, missing intermediate, name mismatch, TLS 1.3 only, TLS 1.0 only,
# no shared cipher, client certificate required, TLS 1.3 with an expired leaf) and python
# peers (plain HTTP, silent), on 127.0.0.1; asserts each verdict's cause, the matrix for the
# TLS 1.3-only and TLS 1.0-only servers, --save-chain, --cert-file/--key-file, -w, and both
# packet paths (live capture on lo as root, and the client's view with --no-capture).
# Every peer runs under `timeout` and the trap kills them all, even on failure.
set -euo pipefail
BIN=$1
SRC=$2
WORK=$(mktemp -d /tmp/tlsdiag-probe.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILS=0
fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}
pass() { echo "ok: $*"; }

for tool in openssl faketime python3 ss; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh)" >&2; exit 1; }
done

# ------------------------------------------------------------------------------------------------
# A throwaway PKI: root -> int -> leaves for origin.example.com.
# ------------------------------------------------------------------------------------------------
PKI=$WORK/pki
mkdir -p "$PKI"
cat >"$PKI/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
export SAN=DNS:origin.example.com
newkey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$1.key" 2>/dev/null; }
# issue NAME ISSUER EXT CN DAYS [FAKETIME]
issue() {
    local name=$1 issuer=$2 ext=$3 cn=$4 days=$5 fake=${6:-}
    local -a pre=()
    [[ -n $fake ]] && pre=(faketime "$fake")
    openssl req -new -key "$PKI/$name.key" -subj "/O=tlsdiag probe test/CN=$cn" -out "$PKI/$name.csr"
    SAN=DNS:$cn "${pre[@]}" openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$issuer.pem" \
        -CAkey "$PKI/$issuer.key" -set_serial "0x$(openssl rand -hex 8)" -days "$days" -sha256 \
        -extfile "$PKI/ext.cnf" -extensions "$ext" -out "$PKI/$name.pem" 2>/dev/null
}
newkey root
openssl req -new -x509 -key "$PKI/root.key" -sha256 -days 3650 -subj "/O=tlsdiag probe test/CN=Probe Root" \
    -config "$PKI/ext.cnf" -extensions ca -out "$PKI/root.pem"
newkey int
issue int root ca "Probe Intermediate" 3650
newkey leaf
issue leaf int leaf origin.example.com 3650
newkey leaf_expired
issue leaf_expired int leaf origin.example.com 366 "2020-01-01 00:00:00"
newkey leaf_other
issue leaf_other int leaf other.example.net 3650
# The same key renewed: the old certificate (what a server that was not reloaded still serves).
cp "$PKI/leaf_expired.key" "$PKI/renewed.key"
issue renewed int leaf origin.example.com 3650

# ------------------------------------------------------------------------------------------------
# Peers.
# ------------------------------------------------------------------------------------------------
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_listen() {
    local port=$1 i
    for i in $(seq 1 200); do
        ss -ltnH "sport = :$port" | grep -q . && return 0
        sleep 0.05
    done
    echo "FAIL: nothing listens on $port" >&2
    exit 1
}
# tls_server PORT s_server-args... — serves until the test ends
tls_server() {
    local port=$1
    shift
    timeout 600 openssl s_server -accept "127.0.0.1:$port" -quiet "$@" >"$WORK/s_$port.log" 2>&1 </dev/null &
    PIDS+=($!)
    wait_listen "$port"
}
# hold_closed_port: CLOSED_PORT becomes a port bound by a socket that never listens (a connection
# to it is refused), held until the test ends. A port that was only free when it was picked could
# be taken meanwhile by another test's server (ctest -j2): "refused" then met a TLS server.
hold_closed_port() {
    local f="$WORK/closed_port" i
    timeout 300 python3 -c 'import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as o:
    o.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)' "$f" >/dev/null 2>&1 &
    PIDS+=($!)
    for i in $(seq 1 200); do
        [ -s "$f" ] && break
        sleep 0.05
    done
    CLOSED_PORT=$(cat "$f")
    [ -n "$CLOSED_PORT" ] || { echo "FAIL: no port held closed" >&2; exit 1; }
}
py_server() {  # MODE PORT — tests/scenarios/tcpserver.py, one connection
    timeout 120 python3 "$SRC/tests/scenarios/tcpserver.py" "$1" "$2" >"$WORK/py_$2.log" 2>&1 &
    PIDS+=($!)
    wait_listen "$2"
}

LEAF=(-cert "$PKI/leaf.pem" -key "$PKI/leaf.key" -cert_chain "$PKI/int.pem")
EXPIRED=(-cert "$PKI/leaf_expired.pem" -key "$PKI/leaf_expired.key" -cert_chain "$PKI/int.pem")

# sanitizer_check STDERR-FILE NAME — an ASan/UBSan build reports here (its exit status may be 1,
# which is also "failures found").
sanitizer_check() {
    if grep -qE "Sanitizer|runtime error" "$1"; then
        fail "$2: sanitizer report: $(grep -m3 -E "Sanitizer|runtime error|#[0-9] " "$1")"
    fi
}

# json_check FILE PYTHON-EXPR — h: handshake objects, m: matrix objects, s: summary objects
json_check() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
h = [o for o in objs if o.get("type") == "handshake"]
m = [o for o in objs if o.get("type") == "probe_matrix"]
s = [o for o in objs if o.get("type") == "summary"]
assert all("schema_version" in o for o in objs)
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
EOF
}

# probe NAME EXPECTED-EXIT PORT [args...] — runs the probe (JSON) into $WORK/NAME.json
probe() {
    local name=$1 want=$2 port=$3 rc=0
    shift 3
    "$BIN" probe --json --ca-file "$PKI/root.pem" --connect 127.0.0.1 --timeout 5 "$@" \
        "origin.example.com:$port" >"$WORK/$name.json" 2>"$WORK/$name.err" || rc=$?
    sanitizer_check "$WORK/$name.err" "$name"
    if [[ $rc != "$want" ]]; then
        fail "$name: exit $rc, expected $want ($(head -c 300 "$WORK/$name.err"))"
        return 1
    fi
}
# expect_cause NAME PORT CAUSE [args...]
expect_cause() {
    local name=$1 port=$2 cause=$3 want=1
    shift 3
    [[ $cause == ok ]] && want=0
    probe "$name" "$want" "$port" "$@" || return 0
    if json_check "$WORK/$name.json" \
        "len(h) == 1 and h[0]['cause'] == '$cause' and h[0]['method'] == 'probe' and len(s) == 1"; then
        pass "$name: $cause"
    else
        fail "$name: expected cause $cause, got: $(python3 -c 'import json,sys; [print(o.get("cause"), o.get("summary")) for o in map(json.loads, open(sys.argv[1])) if o.get("type")=="handshake"]' "$WORK/$name.json")"
    fi
}

P_OK=$(free_port); tls_server "$P_OK" "${LEAF[@]}"
P_EXP=$(free_port); tls_server "$P_EXP" "${EXPIRED[@]}"
P_MISS=$(free_port); tls_server "$P_MISS" -cert "$PKI/leaf.pem" -key "$PKI/leaf.key"
P_NAME=$(free_port); tls_server "$P_NAME" -cert "$PKI/leaf_other.pem" -key "$PKI/leaf_other.key" -cert_chain "$PKI/int.pem"
P_13=$(free_port); tls_server "$P_13" "${LEAF[@]}" -tls1_3
P_10=$(free_port); tls_server "$P_10" "${LEAF[@]}" -tls1 -cipher 'ALL:@SECLEVEL=0'
P_CIPH=$(free_port); tls_server "$P_CIPH" "${LEAF[@]}" -no_tls1_3 -cipher ECDHE-RSA-CHACHA20-POLY1305  # in no CloudFront-Upstream policy (AES128-GCM-SHA256 is: s2n offers it)
P_CCERT=$(free_port); tls_server "$P_CCERT" "${LEAF[@]}" -Verify 1 -CAfile "$PKI/root.pem"
P_13EXP=$(free_port); tls_server "$P_13EXP" "${EXPIRED[@]}" -tls1_3
P_HTTP=$(free_port); py_server http400 "$P_HTTP"
P_SILENT=$(free_port); py_server silent "$P_SILENT"
hold_closed_port
P_CLOSED=$CLOSED_PORT  # bound, never listening: connections are refused

# ------------------------------------------------------------------------------------------------
# One verdict per origin fault.
# ------------------------------------------------------------------------------------------------
expect_cause ok "$P_OK" ok
expect_cause expired "$P_EXP" cert_expired
expect_cause expired_client_view "$P_EXP" cert_expired --no-capture
expect_cause missing_intermediate "$P_MISS" cert_missing_intermediate
expect_cause name_mismatch "$P_NAME" cert_name_mismatch
expect_cause tls13_only "$P_13" protocol_version_mismatch
expect_cause tls10_only_cloudfront_default "$P_10" ok
expect_cause tls10_only_tls12_setting "$P_10" protocol_version_mismatch --origin-protocols TLSv1.2
expect_cause no_shared_cipher "$P_CIPH" no_shared_cipher
expect_cause client_cert "$P_CCERT" client_cert_required
expect_cause tls13_expired "$P_13EXP" cert_expired --origin-protocols TLSv1.2,TLSv1.3
expect_cause tls13_expired_client_view "$P_13EXP" cert_expired --origin-protocols TLSv1.3 --no-capture
expect_cause plain_http "$P_HTTP" not_tls
expect_cause silent "$P_SILENT" server_timeout --timeout 2
expect_cause refused "$P_CLOSED" connection_refused

# The two packet paths say where the verdict came from.
if [[ $(id -u) == 0 ]]; then
    json_check "$WORK/expired.json" \
        "any(e['key'] == 'probe_capture' and 'captured on lo' in e['value'] for e in h[0]['evidence'])" &&
        pass "live capture on lo (root)" || fail "expired: the verdict does not come from a capture on lo"
fi
json_check "$WORK/expired_client_view.json" \
    "any(e['key'] == 'probe_capture' and e['value'].startswith(\"client's view\") for e in h[0]['evidence'])" &&
    pass "--no-capture says client's view" || fail "expired_client_view: no client's-view evidence"
# TLS 1.3: the chain is encrypted on the wire and still analyzed.
json_check "$WORK/tls13_expired.json" \
    "h[0]['tls']['version'] == 'TLSv1.3' and len(h[0]['certificates']) == 2" &&
    pass "TLS 1.3 chain obtained and analyzed" || fail "tls13_expired: no TLS 1.3 chain in the verdict"

# ------------------------------------------------------------------------------------------------
# --save-chain, --cert-file/--key-file, -w.
# ------------------------------------------------------------------------------------------------
probe save_chain 1 "$P_13EXP" --origin-protocols TLSv1.3 --save-chain "$WORK/chain.pem" \
    --cert-file "$PKI/renewed.pem" --key-file "$PKI/leaf_other.key" -w "$WORK/probe.pcap" || true
if [[ -s $WORK/chain.pem ]] && [[ $(grep -c 'BEGIN CERTIFICATE' "$WORK/chain.pem") == 2 ]] &&
    [[ $(openssl x509 -in "$WORK/chain.pem" -noout -fingerprint -sha256) == \
       $(openssl x509 -in "$PKI/leaf_expired.pem" -noout -fingerprint -sha256) ]]; then
    pass "--save-chain wrote the served chain (leaf first) under TLS 1.3"
else
    fail "--save-chain: $WORK/chain.pem is not leaf_expired + int"
fi
json_check "$WORK/save_chain.json" \
    "any('renewed on disk but not reloaded' in f['text'] for f in h[0]['findings'])" &&
    pass "--cert-file: renewed on disk but not reloaded" || fail "--cert-file: no 'renewed' finding"
json_check "$WORK/save_chain.json" \
    "any('does not belong' in f['text'] for f in h[0]['findings'])" &&
    pass "--key-file: key mismatch" || fail "--key-file: no key mismatch finding"
probe same_cert 1 "$P_EXP" --cert-file "$PKI/leaf_expired.pem" --key-file "$PKI/leaf_expired.key" || true
json_check "$WORK/same_cert.json" \
    "any(e['key'] == 'cert_file' and 'serves the certificate in' in e['value'] for e in h[0]['evidence']) and any(e['key'] == 'key_file' and 'matches' in e['value'] for e in h[0]['evidence'])" &&
    pass "--cert-file: same certificate, matching key" || fail "--cert-file: same certificate not recognized"
if [[ -s $WORK/probe.pcap ]] && "$BIN" analyze --json "$WORK/probe.pcap" >"$WORK/probe_pcap.json"; [[ -s $WORK/probe_pcap.json ]] &&
    json_check "$WORK/probe_pcap.json" "len(h) == 1 and h[0]['tls']['version'] == 'TLSv1.3'"; then
    pass "-w wrote the probe's packets (a pcap tlsdiag analyze reads)"
else
    fail "-w: $WORK/probe.pcap missing or unreadable"
fi

# ------------------------------------------------------------------------------------------------
# --matrix for the TLS 1.3-only and TLS 1.0-only origins.
# ------------------------------------------------------------------------------------------------
probe matrix13 1 "$P_13" --matrix || true
json_check "$WORK/matrix13.json" "
len(m) == 1 and m[0]['working_settings'] == [] and
{v['version']: v['state'] for v in m[0]['versions']} == {'SSLv3': 'unavailable', 'TLSv1': 'refused', 'TLSv1.1': 'refused', 'TLSv1.2': 'refused', 'TLSv1.3': 'accepted'} and
m[0]['accepted_ciphers'] == [] and len(m[0]['ciphers']) == 19 and
m[0]['per_policy'] == [{'profile': 'cloudfront', 'policy': 'CloudFront-Upstream', 'version': None},
                       {'profile': 'cloudfront-2025', 'policy': 'CloudFront-Upstream-2025', 'version': 'TLSv1.3'}]" &&
    pass "matrix: TLS 1.3-only origin, no Origin SSL Protocols setting works, the 2025 policies would" ||
    fail "matrix13: $(python3 -c 'import json,sys; [print(o["versions"], o["working_settings"], o.get("per_policy")) for o in map(json.loads, open(sys.argv[1])) if o.get("type")=="probe_matrix"]' "$WORK/matrix13.json")"
probe matrix10 0 "$P_10" --matrix || true
json_check "$WORK/matrix10.json" "
len(m) == 1 and m[0]['working_settings'] == ['TLSv1'] and
[p['version'] for p in m[0]['per_policy']] == ['TLSv1', 'TLSv1'] and
{v['version']: v['state'] for v in m[0]['versions']} == {'SSLv3': 'unavailable', 'TLSv1': 'accepted', 'TLSv1.1': 'refused', 'TLSv1.2': 'refused', 'TLSv1.3': 'refused'} and
'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA' in m[0]['accepted_ciphers'] and
'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' not in m[0]['accepted_ciphers']" &&
    pass "matrix: TLS 1.0-only origin works only with the TLSv1 setting" ||
    fail "matrix10: $(python3 -c 'import json,sys; [print(o["versions"], o["working_settings"], o["accepted_ciphers"]) for o in map(json.loads, open(sys.argv[1])) if o.get("type")=="probe_matrix"]' "$WORK/matrix10.json")"

# ------------------------------------------------------------------------------------------------
# --probe-origin: a passive capture of failed TLS 1.3 handshakes (the certificate is encrypted)
# gets the probe's certificate cause attached. Needs tcpdump on lo (root, as CI).
# ------------------------------------------------------------------------------------------------
command -v tcpdump >/dev/null || { echo "FAIL: tcpdump is not installed (scripts/setup.sh)" >&2; exit 1; }
P_PASSIVE=$(free_port); tls_server "$P_PASSIVE" "${EXPIRED[@]}"
P_PASSIVE_MISS=$(free_port); tls_server "$P_PASSIVE_MISS" -cert "$PKI/leaf.pem" -key "$PKI/leaf.key"
timeout 120 tcpdump -i lo -U -w "$WORK/passive.pcap" "tcp and (port $P_PASSIVE or port $P_PASSIVE_MISS)" \
    2>"$WORK/tcpdump.err" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for i in $(seq 1 200); do
    grep -q "listening on" "$WORK/tcpdump.err" && break
    sleep 0.05
done
grep -q "listening on" "$WORK/tcpdump.err" || { echo "FAIL: tcpdump did not start: $(cat "$WORK/tcpdump.err")" >&2; exit 1; }
# A generic TLS 1.3 client (not CloudFront) that verifies: twice to the expired origin, once to
# the one without its intermediate.
for port in "$P_PASSIVE" "$P_PASSIVE" "$P_PASSIVE_MISS"; do
    timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername origin.example.com -tls1_3 \
        -verify_return_error -CAfile "$PKI/root.pem" </dev/null >/dev/null 2>&1 || true
done
# Stop tcpdump once it has written every packet of the three connections (no timing assumed:
# poll the file for the third connection's FIN/RST, then SIGINT).
for i in $(seq 1 200); do
    n=$(tcpdump -r "$WORK/passive.pcap" "port $P_PASSIVE_MISS and tcp[tcpflags] & (tcp-fin|tcp-rst) != 0" 2>/dev/null | wc -l)
    [[ $n -ge 2 ]] && break
    sleep 0.05
done
kill -INT "$TCPDUMP" 2>/dev/null || true
wait "$TCPDUMP" 2>/dev/null || true
rc=0
"$BIN" analyze --json --ca-file "$PKI/root.pem" --probe-origin "$WORK/passive.pcap" \
    >"$WORK/passive.json" 2>"$WORK/passive.err" || rc=$?
[[ $rc == 1 ]] || fail "analyze --probe-origin: exit $rc ($(head -c 300 "$WORK/passive.err"))"
sanitizer_check "$WORK/passive.err" "analyze --probe-origin"
json_check "$WORK/passive.json" "
len(h) == 3 and all(x['tls']['version'] == 'TLSv1.3' and x['certificates'] == [] for x in h) and
all(any(f['cause'] == 'cert_expired' and f['text'].startswith('probe of 127.0.0.1:$P_PASSIVE ') for f in x['findings']) for x in h[:2]) and
all(any(e['key'] == 'probe_leaf' and 'CN=origin.example.com' in e['value'] for e in x['evidence']) for x in h[:2]) and
any(f['cause'] == 'cert_missing_intermediate' and f['text'].startswith('probe of') for f in h[2]['findings'])" &&
    pass "--probe-origin: TLS 1.3 failures get the probe's certificate cause" ||
    fail "--probe-origin: $(python3 -c 'import json,sys; [print(o.get("cause"), [f["cause"] for f in o["findings"]]) for o in map(json.loads, open(sys.argv[1])) if o.get("type")=="handshake"]' "$WORK/passive.json")"
# An explicit target, and the option before the file.
rc=0
"$BIN" analyze --json --ca-file "$PKI/root.pem" --probe-origin "127.0.0.1:$P_PASSIVE_MISS" \
    "$WORK/passive.pcap" >"$WORK/passive2.json" 2>/dev/null || rc=$?
json_check "$WORK/passive2.json" "len(h) == 3 and all(any(f['cause'] == 'cert_missing_intermediate' and f['text'].startswith('probe of 127.0.0.1:$P_PASSIVE_MISS ') for f in x['findings']) for x in h)" &&
    pass "--probe-origin IP:PORT probes that address" || fail "--probe-origin IP:PORT: exit $rc"

# capture --probe-origin: the same, live on lo (capture stops after one handshake).
timeout 120 "$BIN" capture -i lo -p "$P_PASSIVE" --all-sources --count 1 --json --ca-file "$PKI/root.pem" \
    --probe-origin >"$WORK/live.json" 2>"$WORK/live.err" &
LIVE=$!
PIDS+=($LIVE)
for i in $(seq 1 200); do
    grep -q "listening on" "$WORK/live.err" && break
    sleep 0.05
done
if grep -q "listening on" "$WORK/live.err"; then
    timeout 10 openssl s_client -connect "127.0.0.1:$P_PASSIVE" -servername origin.example.com -tls1_3 \
        -verify_return_error -CAfile "$PKI/root.pem" </dev/null >/dev/null 2>&1 || true
    rc=0
    wait "$LIVE" || rc=$?
    [[ $rc == 1 ]] || fail "capture --probe-origin: exit $rc ($(head -c 300 "$WORK/live.err"))"
    sanitizer_check "$WORK/live.err" "capture --probe-origin"
    json_check "$WORK/live.json" "len(h) == 1 and h[0]['certificates'] == [] and any(f['cause'] == 'cert_expired' and f['text'].startswith('probe of 127.0.0.1:$P_PASSIVE ') for f in h[0]['findings'])" &&
        pass "capture --probe-origin: the live TLS 1.3 failure gets the probe's certificate cause" ||
        fail "capture --probe-origin: $(python3 -c 'import json,sys; [print(o.get("cause"), o["findings"]) for o in map(json.loads, open(sys.argv[1])) if o.get("type")=="handshake"]' "$WORK/live.json") $(head -c 300 "$WORK/live.err")"
else
    fail "capture did not start: $(cat "$WORK/live.err")"
fi

# Usage errors.
rc=0; "$BIN" probe --origin-protocols TLSv9 origin.example.com >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] && pass "bad --origin-protocols is a usage error" || fail "bad --origin-protocols: exit $rc"
rc=0; "$BIN" probe >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] && pass "no target is a usage error" || fail "no target: exit $rc"

if [[ $FAILS -ne 0 ]]; then
    echo "$FAILS probe check(s) failed" >&2
    exit 1
fi
echo "all probe checks passed"
