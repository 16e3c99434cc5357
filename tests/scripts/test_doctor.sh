#!/usr/bin/env bash
# test_doctor.sh TLSDIAG SRCDIR — `tlsdiag doctor` on configurations of the real servers from
# Debian (nginx, apache2, haproxy) with a throwaway PKI (root -> int1 -> int2 -> leaf):
# leaf-only certificate, misordered chain (ok: s2n accepts it), expired leaf, name mismatch,
# TLS 1.3-only protocols, a cipher list CloudFront cannot meet, client certificates required, a
# key that does not match, and a good site. For each: doctor names the cause and the file:line of the directive
# (read without any server binary), then the real server is STARTED on 127.0.0.1 (ports
# 47500-47599) and `tlsdiag probe` against it must agree with doctor's verdict (for the
# mismatched key: the server itself refuses to start). The trap stops every server.
set -uo pipefail
BIN=$1
SRC=$2
WORK=$(mktemp -d /tmp/tlsdiag-doctor.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
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

for tool in openssl faketime python3 ss nginx apache2 haproxy; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh)" >&2; exit 1; }
done

# ------------------------------------------------------------------------------------------------
# PKI.
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
export SAN=DNS:origin.test
newkey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$1.key" 2>/dev/null; }
# issue NAME ISSUER EXT CN DAYS [FAKETIME]
issue() {
    local name=$1 issuer=$2 ext=$3 cn=$4 days=$5 fake=${6:-}
    local -a pre=()
    [[ -n $fake ]] && pre=(faketime "$fake")
    openssl req -new -key "$PKI/$name.key" -subj "/O=tlsdiag doctor test/CN=$cn" -out "$PKI/$name.csr"
    SAN=DNS:$cn "${pre[@]}" openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$issuer.pem" \
        -CAkey "$PKI/$issuer.key" -set_serial "0x$(openssl rand -hex 8)" -days "$days" -sha256 \
        -extfile "$PKI/ext.cnf" -extensions "$ext" -out "$PKI/$name.pem" 2>/dev/null
}
newkey root
openssl req -new -x509 -key "$PKI/root.key" -sha256 -days 3650 -subj "/O=tlsdiag doctor test/CN=Doctor Root" \
    -config "$PKI/ext.cnf" -extensions ca -out "$PKI/root.pem"
newkey int1
issue int1 root ca "Doctor Intermediate 1" 3650
newkey int2
issue int2 int1 ca "Doctor Intermediate 2" 3650
newkey leaf
issue leaf int2 leaf origin.test 3650
newkey expired
issue expired int2 leaf origin.test 366 "2020-01-01 00:00:00"
newkey other
cat "$PKI/leaf.pem" "$PKI/int2.pem" "$PKI/int1.pem" >"$PKI/full.pem"
cat "$PKI/leaf.pem" "$PKI/int1.pem" "$PKI/int2.pem" >"$PKI/misordered.pem"
cat "$PKI/expired.pem" "$PKI/int2.pem" "$PKI/int1.pem" >"$PKI/expired_full.pem"
CA=$PKI/root.pem

# ------------------------------------------------------------------------------------------------
# Helpers.
# ------------------------------------------------------------------------------------------------
wait_listen() {
    local port=$1 i
    for i in $(seq 1 200); do
        ss -ltnH "sport = :$port" | grep -q . && return 0
        sleep 0.05
    done
    return 1
}
# stop PID: stop one server we started
stop() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
# line_of FILE WORD: the line number of the first line of FILE that contains WORD
line_of() { grep -n -m1 -F -- "$2" "$1" | cut -d: -f1; }

# doctor_check CASE OPTION CONFIG WANT_CAUSE WANT_FILE WANT_LINE: run doctor on the config (no
# server running) and assert the first site's cause and directive file:line.
doctor_check() {
    local name=$1 opt=$2 conf=$3 want=$4 file=$5 line=$6
    "$BIN" doctor "$opt" "$conf" --ca-file "$CA" --json >"$WORK/$name.jsonl" 2>"$WORK/$name.err"
    local rc=$?
    "$BIN" doctor "$opt" "$conf" --ca-file "$CA" >"$WORK/$name.txt" 2>&1
    local got
    got=$(python3 - "$WORK/$name.jsonl" <<'EOF'
import json, sys
sites = [o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "doctor_site"]
s = sites[0] if sites else {}
print(s.get("cause"), s.get("file"), s.get("line"), len(sites))
EOF
)
    local want_rc=1
    [[ $want == ok ]] && want_rc=0
    if [[ "$got" == "$want $file $line 1" && $rc -eq $want_rc ]]; then
        pass "$name: doctor says $want at $(basename "$file"):$line"
        sed -n '1,4p' "$WORK/$name.txt" | sed 's/^/    /'
    else
        fail "$name: doctor said '$got' (exit $rc), want '$want $file $line 1' (exit $want_rc); $(head -c 600 "$WORK/$name.txt")"
    fi
}

# probe_check CASE PORT SNI WANT_CAUSE: the started server, probed the way CloudFront connects
probe_check() {
    local name=$1 port=$2 sni=$3 want=$4
    "$BIN" probe --no-capture --ca-file "$CA" --connect 127.0.0.1 --json -w "$WORK/$name.pcap" "$sni:$port" \
        >"$WORK/$name.probe.jsonl" 2>"$WORK/$name.probe.err"
    local got
    got=$(python3 -c 'import json,sys; print([o for o in map(json.loads, open(sys.argv[1])) if o["type"]=="handshake"][0]["cause"])' "$WORK/$name.probe.jsonl" 2>/dev/null)
    if [[ "$got" == "$want" ]]; then
        pass "$name: probe of the running server agrees ($got)"
    elif [[ $name == nginx-client_cert ]] &&
        python3 -c 'import json,sys; h=[o for o in map(json.loads, open(sys.argv[1])) if o["type"]=="handshake"][0]; sys.exit(0 if any(f["cause"]==sys.argv[2] for f in h.get("findings",[])) else 1)' "$WORK/$name.probe.jsonl" "$want" &&
        printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$sni" |
        timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" -servername "$sni" 2>/dev/null |
            head -1 | grep -q " 400 "; then
        # nginx completes the handshake and answers 400 "No required SSL certificate was sent"
        pass "$name: probe agrees (the server requests a client certificate: $want finding; nginx answers 400 without one)"
    else
        fail "$name: probe says '$got', doctor says '$want' ($(head -c 300 "$WORK/$name.probe.err"))"
    fi
}

# serve_and_probe CASE PORT SNI WANT_CAUSE LOG SERVER-COMMAND...: start the real server in the
# foreground (under timeout, stopped by the trap at the latest), probe it, stop it.
serve_and_probe() {
    local name=$1 port=$2 sni=$3 want=$4 log=$5
    shift 5
    timeout 300 "$@" >"$WORK/$name.stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    if wait_listen "$port"; then
        probe_check "$name" "$port" "$sni" "$want"
    else
        fail "$name: $1 did not start: $(tail -c 400 "$log" "$WORK/$name.stdout")"
    fi
    stop "$pid"
}

# ------------------------------------------------------------------------------------------------
# nginx: nginx.conf includes conf.d/*.conf (relative: resolved from nginx.conf's folder, as
# nginx -c does); the server block is in conf.d/origin.conf.
# ------------------------------------------------------------------------------------------------
# nginx_conf CASE PORT SERVER_NAME CERT KEY [EXTRA DIRECTIVE...]
nginx_conf() {
    local name=$1 port=$2 sname=$3 cert=$4 key=$5
    shift 5
    local d=$WORK/nginx/$name
    mkdir -p "$d/conf.d" "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
# tlsdiag doctor test: $name
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    include conf.d/*.conf;
}
EOF
    {
        echo "server {"
        echo "    listen 127.0.0.1:$port ssl;"
        echo "    server_name $sname;"
        echo "    ssl_certificate $cert;"
        echo "    ssl_certificate_key $key;"
        local x
        for x in "$@"; do echo "    $x"; done
        echo "    location / { return 200 \"ok\\n\"; }"
        echo "}"
    } >"$d/conf.d/origin.conf"
}

# nginx_case CASE PORT SERVER_NAME CERT KEY WANT_CAUSE DIRECTIVE [EXTRA...]
nginx_case() {
    local name=$1 port=$2 sname=$3 cert=$4 key=$5 want=$6 directive=$7
    shift 7
    nginx_conf "$name" "$port" "$sname" "$cert" "$key" "$@"
    local d=$WORK/nginx/$name file line
    file=$d/conf.d/origin.conf
    line=$(line_of "$file" "$directive")
    [[ $want == ok ]] && file=None line=None
    doctor_check "nginx-$name" --nginx "$d/nginx.conf" "$want" "$file" "$line"
    if [[ $want == unknown ]]; then  # the key does not match: nginx itself refuses the pair
        if nginx -t -c "$d/nginx.conf" -p "$d" >"$WORK/$name.t" 2>&1; then
            fail "nginx-$name: nginx -t accepts the configuration doctor refused"
        elif grep -q "key values mismatch" "$WORK/$name.t"; then
            pass "nginx-$name: nginx agrees: it refuses to start (key values mismatch)"
        else
            fail "nginx-$name: nginx -t failed for another reason: $(tail -c 300 "$WORK/$name.t")"
        fi
        return
    fi
    serve_and_probe "nginx-$name" "$port" "$sname" "$want" "$d/error.log" nginx -c "$d/nginx.conf" -p "$d"
}

nginx_case leaf_only 47500 origin.test "$PKI/leaf.pem" "$PKI/leaf.key" cert_missing_intermediate "ssl_certificate "
# Intermediates out of order after the leaf: s2n, CloudFront's client, takes the first certificate
# as the leaf and builds the path from the rest in any order (tls/s2n_x509_validator.c:649;
# pcaps/field/s2ncert/ok-nginx-misordered-chain-s2n.pcap): ok.
nginx_case misordered 47501 origin.test "$PKI/misordered.pem" "$PKI/leaf.key" ok "ssl_certificate "
nginx_case expired 47502 origin.test "$PKI/expired_full.pem" "$PKI/expired.key" cert_expired "ssl_certificate "
nginx_case name 47503 www.other.test "$PKI/full.pem" "$PKI/leaf.key" cert_name_mismatch "ssl_certificate "
nginx_case tls13 47504 origin.test "$PKI/full.pem" "$PKI/leaf.key" protocol_version_mismatch ssl_protocols "ssl_protocols TLSv1.3;"
nginx_case ciphers 47505 origin.test "$PKI/full.pem" "$PKI/leaf.key" no_shared_cipher ssl_ciphers "ssl_ciphers ECDHE-RSA-CHACHA20-POLY1305;"
nginx_case client_cert 47506 origin.test "$PKI/full.pem" "$PKI/leaf.key" client_cert_required ssl_verify_client \
    "ssl_verify_client on;" "ssl_client_certificate $PKI/root.pem;"
nginx_case key 47507 origin.test "$PKI/full.pem" "$PKI/other.key" unknown ssl_certificate_key
nginx_case good 47508 origin.test "$PKI/full.pem" "$PKI/leaf.key" ok "ssl_certificate "
nginx_case reject 47509 origin.test "$PKI/full.pem" "$PKI/leaf.key" sni_rejected ssl_reject_handshake \
    "ssl_reject_handshake on;"

# warn_check CASE OPTION CONFIG FINDING_CAUSE TEXT: doctor says ok with a warning (exit 0) and a
# finding of that cause whose text contains TEXT.
warn_check() {
    local name=$1 opt=$2 conf=$3 cause=$4 text=$5
    "$BIN" doctor "$opt" "$conf" --ca-file "$CA" --json >"$WORK/$name.jsonl" 2>"$WORK/$name.err"
    local rc=$?
    if [[ $rc -eq 0 ]] && python3 - "$WORK/$name.jsonl" "$cause" "$text" <<'EOF'
import json, sys
s = [o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "doctor_site"][0]
assert s["status"] == "warn" and s["cause"] == "ok", s
assert any(f["cause"] == sys.argv[2] and sys.argv[3] in f["text"] for f in s["findings"]), s
EOF
    then
        pass "$name: ok with a warning ($cause: $text), exit 0"
    else
        fail "$name: exit $rc, $(head -c 600 "$WORK/$name.jsonl")"
    fi
}
# A catch-all server that refuses unknown names is not a failure; its placeholder (self-signed)
# certificate is never sent, so it is not judged.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/dummy.key" -out "$PKI/dummy.pem" -days 30 \
    -subj /CN=placeholder 2>/dev/null
nginx_conf catchall 47510 _ "$PKI/dummy.pem" "$PKI/dummy.key" "ssl_reject_handshake on;"
warn_check nginx-catchall --nginx "$WORK/nginx/catchall/nginx.conf" sni_rejected "matches no server_name"
# A leaf that expires in 10 days: a warning, not a failure.
newkey soon
issue soon int2 leaf origin.test 10
cat "$PKI/soon.pem" "$PKI/int2.pem" "$PKI/int1.pem" >"$PKI/soon_full.pem"
nginx_conf soon 47511 origin.test "$PKI/soon_full.pem" "$PKI/soon.key"
warn_check nginx-soon --nginx "$WORK/nginx/soon/nginx.conf" cert_expired "the leaf expires in"

# ------------------------------------------------------------------------------------------------
# Apache: Debian's layout in miniature — apache2.conf (ServerRoot set) with IncludeOptional
# sites-enabled/*.conf relative to ServerRoot; the <VirtualHost> is in sites-enabled/origin.conf.
# ------------------------------------------------------------------------------------------------
MODS=/usr/lib/apache2/modules
RUN_USER=www-data
id "$RUN_USER" >/dev/null 2>&1 || RUN_USER=nobody
# apache_conf CASE PORT SERVER_NAME CERT KEY [EXTRA DIRECTIVE...]
apache_conf() {
    local name=$1 port=$2 sname=$3 cert=$4 key=$5
    shift 5
    local d=$WORK/apache/$name
    mkdir -p "$d/sites-enabled" "$d/run"
    chmod 755 "$WORK" "$WORK/apache" "$d" "$d/run"
    cat >"$d/apache2.conf" <<EOF
# tlsdiag doctor test: $name
ServerRoot "$d"
ServerName localhost
Listen 127.0.0.1:$port
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule ssl_module $MODS/mod_ssl.so
User $RUN_USER
PidFile $d/run/apache2.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
ErrorLog $d/error.log
IncludeOptional sites-enabled/*.conf
EOF
    {
        echo "<VirtualHost 127.0.0.1:$port>"
        echo "    ServerName $sname"
        echo "    SSLEngine on"
        echo "    SSLCertificateFile \"$cert\""
        echo "    SSLCertificateKeyFile $key"
        local x
        for x in "$@"; do echo "    $x"; done
        echo "</VirtualHost>"
    } >"$d/sites-enabled/origin.conf"
}

# apache_case CASE PORT SERVER_NAME CERT KEY WANT_CAUSE DIRECTIVE [EXTRA...]
apache_case() {
    local name=$1 port=$2 sname=$3 cert=$4 key=$5 want=$6 directive=$7
    shift 7
    apache_conf "$name" "$port" "$sname" "$cert" "$key" "$@"
    local d=$WORK/apache/$name file line
    file=$d/sites-enabled/origin.conf
    line=$(line_of "$file" "$directive")
    [[ $want == ok ]] && file=None line=None
    doctor_check "apache-$name" --apache "$d/apache2.conf" "$want" "$file" "$line"
    if [[ $want == unknown ]]; then  # the key does not match: Apache refuses the pair and exits
        timeout 20 apache2 -d "$d" -f "$d/apache2.conf" -DFOREGROUND >"$d/stdout" 2>&1
        local rc=$?
        if [[ $rc -eq 0 || $rc -eq 124 ]]; then
            fail "apache-$name: Apache ran with the pair doctor refused (exit $rc)"
        elif grep -q "AH02565" "$d/error.log" "$d/stdout"; then
            pass "apache-$name: Apache agrees: it refuses to start ($(grep -ho "AH02565[^:]*" "$d/error.log" | head -1))"
        else
            fail "apache-$name: Apache failed for another reason: $(tail -c 300 "$d/error.log")"
        fi
        return
    fi
    serve_and_probe "apache-$name" "$port" "$sname" "$want" "$d/error.log" \
        apache2 -d "$d" -f "$d/apache2.conf" -DFOREGROUND
}

cat "$PKI/int2.pem" "$PKI/int1.pem" >"$PKI/chain.pem"
cat "$PKI/int1.pem" "$PKI/int2.pem" >"$PKI/chain_misordered.pem"
apache_case leaf_only 47520 origin.test "$PKI/leaf.pem" "$PKI/leaf.key" cert_missing_intermediate SSLCertificateFile
apache_case misordered 47521 origin.test "$PKI/leaf.pem" "$PKI/leaf.key" ok SSLCertificateChainFile \
    "SSLCertificateChainFile $PKI/chain_misordered.pem"
apache_case expired 47522 origin.test "$PKI/expired_full.pem" "$PKI/expired.key" cert_expired SSLCertificateFile
apache_case name 47523 www.other.test "$PKI/full.pem" "$PKI/leaf.key" cert_name_mismatch SSLCertificateFile
apache_case tls13 47524 origin.test "$PKI/full.pem" "$PKI/leaf.key" protocol_version_mismatch SSLProtocol "SSLProtocol -all +TLSv1.3"
apache_case ciphers 47525 origin.test "$PKI/full.pem" "$PKI/leaf.key" no_shared_cipher SSLCipherSuite "SSLCipherSuite ECDHE-RSA-CHACHA20-POLY1305"
apache_case client_cert 47526 origin.test "$PKI/full.pem" "$PKI/leaf.key" client_cert_required SSLVerifyClient \
    "SSLVerifyClient require" "SSLCACertificateFile $PKI/root.pem"
apache_case key 47527 origin.test "$PKI/full.pem" "$PKI/other.key" unknown SSLCertificateKeyFile
apache_case good 47528 origin.test "$PKI/leaf.pem" "$PKI/leaf.key" ok SSLCertificateFile "SSLCertificateChainFile $PKI/chain.pem"

# ------------------------------------------------------------------------------------------------
# HAProxy: `bind … ssl crt PEM` with the certificate, its chain and its key in one PEM (or a
# crt-list with an SNI filter), global ssl-default-bind-options / ssl-default-bind-ciphers.
# ------------------------------------------------------------------------------------------------
# haproxy_conf CASE PORT BIND_OPTIONS [GLOBAL LINE...]
haproxy_conf() {
    local name=$1 port=$2 opts=$3
    shift 3
    local d=$WORK/haproxy/$name
    mkdir -p "$d"
    {
        echo "# tlsdiag doctor test: $name"
        echo "global"
        local x
        for x in "$@"; do echo "    $x"; done
        echo "defaults"
        echo "    mode http"
        echo "    timeout connect 5s"
        echo "    timeout client 10s"
        echo "    timeout server 10s"
        echo "frontend origin"
        echo "    bind 127.0.0.1:$port ssl $opts"
        echo "    http-request return status 200 content-type text/plain string ok"
    } >"$d/haproxy.cfg"
}

# haproxy_case CASE PORT SNI BIND_OPTIONS WANT_CAUSE DIRECTIVE [GLOBAL LINE...]
haproxy_case() {
    local name=$1 port=$2 sni=$3 opts=$4 want=$5 directive=$6
    shift 6
    haproxy_conf "$name" "$port" "$opts" "$@"
    local d=$WORK/haproxy/$name file line
    file=$d/haproxy.cfg
    line=$(line_of "$file" "$directive")
    [[ $want == ok ]] && file=None line=None
    doctor_check "haproxy-$name" --haproxy "$d/haproxy.cfg" "$want" "$file" "$line"
    if [[ $want == unknown ]]; then  # the key does not match: HAProxy refuses the pair
        if haproxy -c -f "$d/haproxy.cfg" >"$d/check" 2>&1; then
            fail "haproxy-$name: haproxy -c accepts the configuration doctor refused"
        elif grep -qi "private key.*not match\|inconsistencies between private key and certificate" "$d/check"; then
            pass "haproxy-$name: HAProxy agrees: it refuses to start (key does not match)"
        else
            fail "haproxy-$name: haproxy -c failed for another reason: $(tail -c 300 "$d/check")"
        fi
        return
    fi
    serve_and_probe "haproxy-$name" "$port" "$sni" "$want" /dev/null haproxy -f "$d/haproxy.cfg" -db
}

H=$WORK/hpem
mkdir -p "$H"
cat "$PKI/leaf.pem" "$PKI/leaf.key" >"$H/leaf_only.pem"
cat "$PKI/misordered.pem" "$PKI/leaf.key" >"$H/misordered.pem"
cat "$PKI/expired_full.pem" "$PKI/expired.key" >"$H/expired.pem"
cat "$PKI/full.pem" "$PKI/leaf.key" >"$H/full.pem"
cat "$PKI/full.pem" "$PKI/other.key" >"$H/badkey.pem"
echo "$H/full.pem www.other.test" >"$H/list.txt"
haproxy_case leaf_only 47540 origin.test "crt $H/leaf_only.pem" cert_missing_intermediate "bind 127"
haproxy_case misordered 47541 origin.test "crt $H/misordered.pem" ok "bind 127"
haproxy_case expired 47542 origin.test "crt $H/expired.pem" cert_expired "bind 127"
haproxy_case name 47543 www.other.test "crt-list $H/list.txt" cert_name_mismatch "bind 127"
haproxy_case tls13 47544 origin.test "crt $H/full.pem" protocol_version_mismatch ssl-default-bind-options \
    "ssl-default-bind-options ssl-min-ver TLSv1.3"
haproxy_case ciphers 47545 origin.test "crt $H/full.pem" no_shared_cipher ssl-default-bind-ciphers \
    "ssl-default-bind-ciphers ECDHE-RSA-CHACHA20-POLY1305"
haproxy_case client_cert 47546 origin.test "crt $H/full.pem verify required ca-file $PKI/root.pem" client_cert_required "bind 127"
haproxy_case key 47547 origin.test "crt $H/badkey.pem" unknown "bind 127"
haproxy_case good 47548 origin.test "crt $H/full.pem" ok "bind 127"

# ------------------------------------------------------------------------------------------------
# The tie-in: analyze --doctor CONFIG on a capture of the failing handshake (the probe's -w)
# puts the configuration's file:line first in the failure's fix.
# ------------------------------------------------------------------------------------------------
# tie_in CASE CONFIG WANT_FILE WANT_LINE
tie_in() {
    local name=$1 conf=$2 file=$3 line=$4
    "$BIN" analyze --json --ca-file "$CA" --doctor "$conf" "$WORK/$name.pcap" >"$WORK/$name.tie.jsonl" 2>"$WORK/$name.tie.err"
    local rc=$? got
    got=$(python3 -c 'import json,sys; h=[o for o in map(json.loads, open(sys.argv[1])) if o["type"]=="handshake"][0]; print(h["cause"], h["fix"][0])' "$WORK/$name.tie.jsonl" 2>&1)
    if [[ $rc -eq 1 && "$got" == *" $file:$line  "* ]]; then
        pass "$name: analyze --doctor: the fix starts with $(basename "$file"):$line"
    else
        fail "$name: analyze --doctor (exit $rc): '$got' $(head -c 300 "$WORK/$name.tie.err")"
    fi
    "$BIN" analyze --json --ca-file "$CA" "$WORK/$name.pcap" >"$WORK/$name.plain.jsonl" 2>/dev/null
    grep -qF "$file" "$WORK/$name.plain.jsonl" &&
        fail "$name: analyze without --doctor names the configuration" ||
        pass "$name: analyze without --doctor is unchanged"
    # capture --doctor: the same handshake replayed on lo (the probe's raw-IP packets given
    # Ethernet headers, as lo's link type is), read live by `capture -c 1`.
    local port cpid
    port=$(tshark -r "$WORK/$name.pcap" -T fields -e tcp.dstport -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | head -1)
    # (the probe writes raw IP: each packet gets a zero-MAC Ethernet header, link type 1)
    python3 - "$WORK/$name.pcap" "$WORK/$name.eth.pcap" <<'PY' ||
import struct, sys
src = open(sys.argv[1], "rb").read()
magic = src[:4]
e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
hdr = bytearray(src[:24])
struct.pack_into(e + "I", hdr, 20, 1)
out, off = [bytes(hdr)], 24
while off + 16 <= len(src):
    ts, tu, incl, orig = struct.unpack_from(e + "IIII", src, off)
    pkt = src[off + 16:off + 16 + incl]
    eth = b"\0" * 12 + (b"\x86\xdd" if pkt[:1] and pkt[0] >> 4 == 6 else b"\x08\x00")
    out.append(struct.pack(e + "IIII", ts, tu, incl + 14, orig + 14) + eth + pkt)
    off += 16 + incl
open(sys.argv[2], "wb").write(b"".join(out))
PY
        fail "$name: could not give the capture Ethernet headers"
    timeout 30 "$BIN" capture -i lo --all-sources -p "$port" -c 1 --json --ca-file "$CA" \
        --doctor "$conf" >"$WORK/$name.cap.jsonl" 2>"$WORK/$name.cap.err" &
    cpid=$!
    for _ in $(seq 100); do grep -q "listening on" "$WORK/$name.cap.err" && break; sleep 0.1; done
    tcpreplay -i lo "$WORK/$name.eth.pcap" >/dev/null 2>&1 || fail "$name: tcpreplay on lo failed"
    wait $cpid
    got=$(python3 -c 'import json,sys; h=[o for o in map(json.loads, open(sys.argv[1])) if o["type"]=="handshake"][0]; print(h["cause"], h["fix"][0])' "$WORK/$name.cap.jsonl" 2>&1)
    if [[ "$got" == *" $file:$line  "* ]]; then
        pass "$name: capture --doctor: the fix starts with $(basename "$file"):$line"
    else
        fail "$name: capture --doctor: '$got' $(head -c 300 "$WORK/$name.cap.err")"
    fi
}
tie_in nginx-leaf_only "$WORK/nginx/leaf_only/nginx.conf" "$WORK/nginx/leaf_only/conf.d/origin.conf" \
    "$(line_of "$WORK/nginx/leaf_only/conf.d/origin.conf" "ssl_certificate ")"
tie_in apache-tls13 "$WORK/apache/tls13/apache2.conf" "$WORK/apache/tls13/sites-enabled/origin.conf" \
    "$(line_of "$WORK/apache/tls13/sites-enabled/origin.conf" SSLProtocol)"
"$BIN" analyze --ca-file "$CA" --doctor "$PKI/root.pem" "$WORK/nginx-leaf_only.pcap" >/dev/null 2>"$WORK/guess.err"
rc=$?
[[ $rc -eq 3 ]] && grep -q "cannot tell" "$WORK/guess.err" &&
    pass "--doctor with a file that is no server configuration: exit 3, said" ||
    fail "--doctor on a PEM file: exit $rc, $(cat "$WORK/guess.err")"

# ------------------------------------------------------------------------------------------------
# Unprivileged: a key file doctor may not read is named, the rest is still judged (as nobody
# when the test runs as root; a mode-000 file is unreadable for anyone else).
# ------------------------------------------------------------------------------------------------
cp "$PKI/leaf.key" "$PKI/secret.key"
chmod 000 "$PKI/secret.key"
chmod 755 "$WORK" "$PKI"
chmod 644 "$PKI"/*.pem
nginx_conf secret 47591 origin.test "$PKI/full.pem" "$PKI/secret.key"
as=()
[[ $(id -u) -eq 0 ]] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${as[@]}" "$BIN" doctor --nginx "$WORK/nginx/secret/nginx.conf" --ca-file "$CA" --json \
    >"$WORK/secret.jsonl" 2>"$WORK/secret.err"
rc=$?
if [[ $rc -eq 0 ]] && python3 - "$WORK/secret.jsonl" "$PKI/secret.key" <<'EOF'
import json, sys
s = [o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "doctor_site"][0]
assert s["status"] == "warn" and s["cause"] == "ok", s
assert any(sys.argv[2] in f["text"] and "cannot read the private key" in f["text"] and
           f["line"] == 5 for f in s["findings"]), s
EOF
then
    pass "unprivileged: the unreadable key is named (line 5), the certificate still judged (ok, warn)"
else
    fail "unprivileged: exit $rc, $(head -c 500 "$WORK/secret.jsonl") $(head -c 200 "$WORK/secret.err")"
fi

# ------------------------------------------------------------------------------------------------
# Hostile configuration text: terminal escapes and shell syntax from a file are escaped in the
# text output and never enter a printed command.
# ------------------------------------------------------------------------------------------------
mkdir -p "$WORK/hostile"
printf 'http {\n server {\n  listen 127.0.0.1:47592 ssl;\n  server_name "x\033[31m.test" "a'"'"'b.test";\n  ssl_certificate "%s";\n  ssl_certificate_key %s;\n }\n}\n' \
    "$PKI/full.pem" "$PKI/leaf.key" >"$WORK/hostile/nginx.conf"
"$BIN" doctor --nginx "$WORK/hostile/nginx.conf" --ca-file "$CA" >"$WORK/hostile.txt" 2>&1
rc=$?
if [[ $rc -le 1 ]] && ! grep -q $'\033' "$WORK/hostile.txt" && grep -qF 'x\x1b[31m.test' "$WORK/hostile.txt" &&
    grep -q "tlsdiag probe 127.0.0.1:47592" "$WORK/hostile.txt" && ! grep -q "servername x" "$WORK/hostile.txt"; then
    pass "hostile names: escaped in the text, not in the verify commands"
else
    fail "hostile names (exit $rc): $(cat -v "$WORK/hostile.txt" | head -c 600)"
fi

# ------------------------------------------------------------------------------------------------
# No file given: doctor asks nginx itself (`nginx -T`, here a stand-in on PATH that prints the
# dump of the leaf-only configuration under paths that do not exist on disk): the verdict's
# file:line are the dump's.
# ------------------------------------------------------------------------------------------------
mkdir -p "$WORK/bin"
{
    echo "nginx: the configuration file /nonexistent/nginx.conf syntax is ok"
    echo "# configuration file /nonexistent/nginx.conf:"
    cat "$WORK/nginx/leaf_only/nginx.conf"
    echo
    echo "# configuration file /nonexistent/conf.d/origin.conf:"
    cat "$WORK/nginx/leaf_only/conf.d/origin.conf"
    echo
} >"$WORK/dump.txt"
printf '#!/bin/sh\n[ "$1" = -T ] || exit 1\ncat %q\n' "$WORK/dump.txt" >"$WORK/bin/nginx"
chmod 755 "$WORK/bin/nginx"
PATH=$WORK/bin:$PATH "$BIN" doctor --ca-file "$CA" --json >"$WORK/dump.jsonl" 2>"$WORK/dump.err"
rc=$?
got=$(python3 -c 'import json,sys; s=[o for o in map(json.loads, open(sys.argv[1])) if o["type"]=="doctor_site" and o["server"]=="nginx"]; print(len(s), s[0]["cause"], s[0]["file"], s[0]["line"])' "$WORK/dump.jsonl" 2>&1)
want="1 cert_missing_intermediate /nonexistent/conf.d/origin.conf $(line_of "$WORK/nginx/leaf_only/conf.d/origin.conf" "ssl_certificate ")"
[[ $rc -eq 1 && "$got" == "$want" ]] &&
    pass "no file given: nginx -T's dump is read (file:line of the dump: ${got#* * })" ||
    fail "nginx -T dump: exit $rc, got '$got', want '$want'; $(head -c 300 "$WORK/dump.err")"

# ------------------------------------------------------------------------------------------------
# Safety: no key material in any output; files that cannot be read are named; no configuration
# at all is exit 3.
# ------------------------------------------------------------------------------------------------
keyline=$(sed -n 2p "$PKI/leaf.key")
if grep -rlF -e "$keyline" -e "PRIVATE KEY" "$WORK"/*.jsonl "$WORK"/*.txt "$WORK"/*.err >/dev/null 2>&1; then
    fail "doctor printed private key material"
else
    pass "no private key material in any doctor output ($(ls "$WORK"/*.jsonl | wc -l) runs)"
fi

nginx_conf unreadable 47590 origin.test "$WORK/missing/cert.pem" "$PKI/leaf.key" "include $WORK/missing/extra.conf;"
D=$WORK/nginx/unreadable
"$BIN" doctor --nginx "$D/nginx.conf" --ca-file "$CA" --json >"$WORK/unreadable.jsonl" 2>"$WORK/unreadable.err"
rc=$?
if [[ $rc -eq 1 ]] && grep -qF "$WORK/missing/extra.conf" "$WORK/unreadable.err" &&
    python3 - "$WORK/unreadable.jsonl" "$WORK/missing/cert.pem" <<'EOF'
import json, sys
objs = list(map(json.loads, open(sys.argv[1])))
site = [o for o in objs if o["type"] == "doctor_site"][0]
probs = [o for o in objs if o["type"] == "doctor_problem"]
assert site["cause"] == "unknown" and sys.argv[2] in site["problem"] and "cannot read" in site["problem"], site
assert any("extra.conf" in p["text"] for p in probs), probs
assert objs[-1]["type"] == "doctor_summary" and objs[-1]["problems"] >= 1, objs[-1]
assert all(o["schema_version"] == 1 for o in objs), objs
EOF
then
    pass "unreadable files are named (the missing include on stderr and as doctor_problem, the missing certificate in the verdict)"
else
    fail "unreadable files: exit $rc, stderr $(head -c 300 "$WORK/unreadable.err")"
fi
"$BIN" doctor --nginx "$WORK/no-such-nginx.conf" >/dev/null 2>"$WORK/none.err"
rc=$?
[[ $rc -eq 3 ]] && grep -qF "no-such-nginx.conf" "$WORK/none.err" &&
    pass "a main file that cannot be read: exit 3, named" ||
    fail "a main file that cannot be read: exit $rc, $(cat "$WORK/none.err")"

echo
if [ "$FAILS" -eq 0 ]; then
    echo "all doctor tests passed"
else
    echo "$FAILS doctor test(s) failed" >&2
    exit 1
fi
