#!/usr/bin/env bash
# test_bundle_probe.sh — `tlsdiag report --probe`: the probe's handshake with a real local
# openssl s_server (self-signed leaf) goes into the bundle like a capture: its cause, its
# packets in evidence.pcap (same cause when re-analysed), the probe named in environment.txt.
# Usage: bash test_bundle_probe.sh TLSDIAG SRCDIR. The server runs under timeout; the trap
# kills it and removes the work directory even on failure.
set -u
TLSDIAG=${1:?usage: test_bundle_probe.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_bundle_probe.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
for tool in openssl python3 ss tar; do
    command -v "$tool" >/dev/null || { echo "FAIL - $tool is required (scripts/setup.sh)"; exit 1; }
done
if "$TLSDIAG" report --help | grep -q "not available"; then
    echo "FAIL - this tlsdiag was built without probe/"; exit 1
fi

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 30 \
    -subj "/CN=origin.example.com" -addext "subjectAltName=DNS:origin.example.com" 2>/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
timeout 120 openssl s_server -accept "127.0.0.1:$PORT" -quiet -cert "$WORK/cert.pem" \
    -key "$WORK/key.pem" >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!
for _ in $(seq 1 200); do
    ss -ltnH "sport = :$PORT" | grep -q . && break
    sleep 0.05
done

mkdir "$WORK/tmp"
TMPDIR="$WORK/tmp" "$TLSDIAG" report -o "$WORK/p.tar.gz" --probe "127.0.0.1:$PORT" --probe-sni origin.example.com \
    --ca-file "$SRCDIR/pcaps/ca/root.pem" >"$WORK/out.txt" 2>"$WORK/err.txt"
rc=$?
if [ "$rc" -eq 1 ]; then ok "report --probe: failure found (exit 1)"; else bad "report --probe: exit $rc: $(cat "$WORK/err.txt")"; fi
mkdir "$WORK/p" && tar -xzf "$WORK/p.tar.gz" -C "$WORK/p" 2>/dev/null
if grep -q "^probe: 127.0.0.1:$PORT (SNI origin.example.com): cause cert_self_signed" "$WORK/p/environment.txt"; then
    ok "environment.txt names the probe and its cause"
else
    bad "environment.txt: $(grep probe "$WORK/p/environment.txt")"
fi
if grep -q '"cause":"cert_self_signed"' "$WORK/p/findings.json"; then ok "findings.json: cert_self_signed"; else bad "findings.json has no cert_self_signed"; fi
if [ -s "$WORK/p/chain-1.pem" ] && [ "$(openssl x509 -in "$WORK/p/chain-1.pem" -noout -fingerprint -sha256)" = "$(openssl x509 -in "$WORK/cert.pem" -noout -fingerprint -sha256)" ]; then
    ok "chain-1.pem is the served certificate"
else
    bad "chain-1.pem is not the served certificate"
fi
cause=$("$TLSDIAG" analyze --json --ca-file "$SRCDIR/pcaps/ca/root.pem" "$WORK/p/evidence.pcap" | python3 -c '
import json, sys
print(" ".join(o["cause"] for o in map(json.loads, sys.stdin) if o.get("type") == "handshake"))')
if [ "$cause" = "cert_self_signed" ]; then ok "evidence.pcap re-analyses to cert_self_signed"; else bad "evidence.pcap gives '$cause'"; fi
if [ -n "$(ls -A "$WORK/tmp")" ]; then bad "the probe's temporary directory was left in /tmp"; else ok "temporary probe capture removed"; fi

echo "# test_bundle_probe: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
