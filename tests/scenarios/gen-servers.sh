#!/usr/bin/env bash
# gen-servers.sh OUTDIR [SET] — the field set: real Debian servers (nginx, apache2, haproxy, each with a
# config this script writes, started and stopped by it) and CloudFront's own TLS client, s2n-tls's
# s2nc under its CloudFront-Upstream policies, captured with tcpdump. Written to OUTDIR (normally
# pcaps/field/); the truth is OUTDIR/truth.tsv, which a human writes after checking each capture
# with tshark (tests/scripts/test_scenario_pcaps.sh checks it).
#
# Run as root (tcpdump, ip netns):  sudo tests/scenarios/gen-servers.sh pcaps/field
# A SET (tests/scenarios/field-SET.bash, written to pcaps/field/SET/ with its own ca/ and
# truth.tsv) adds scenarios without regenerating the others: it is sourced after the servers and
# clients below are defined, may define set_pki (extra certificates, after the common PKI) and
# must define set_main (its `scenario` lines). Each set gets its own namespaces and veth pair,
# so two sets can be generated at once:
#                                   sudo tests/scenarios/gen-servers.sh pcaps/field/SET SET
# Needs: openssl, faketime, tcpdump, nginx, apache2, haproxy, python3, iproute2, and s2nc
# (S2NC=path, else /opt/s2nc/s2nc, else built with ../shared/tools/build-s2nc.sh, ~3 min).
#
# The peers run in two network namespaces joined by a veth pair: the client (s2nc, or openssl)
# has 15.158.0.10, inside CloudFront's origin-facing prefix 15.158.0.0/16, so the analyzer treats
# it as CloudFront; the origin has 192.0.2.10 (RFC 5737). Captured on the origin's side, one MSS
# per packet. Ports 47201-47299, every peer under `timeout`, a trap removes whatever this script
# started (processes, namespaces).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 OUTDIR [SET]" >&2
    exit 2
fi
SET=${2:-}
if [[ -n $SET && ! $SET =~ ^[a-z0-9]{1,8}$ ]]; then
    echo "$0: a SET name is 1-8 lowercase letters or digits (it names namespaces and links)" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
CA="$OUT/ca"
mkdir -p "$CA"
WORK=$(mktemp -d /tmp/tlsdiag-field.XXXXXX)
chmod 755 "$WORK"  # apache and nginx workers drop privileges and read the document root
KEYS="$WORK/keys"
mkdir -p "$KEYS" "$WORK/www"
echo ok >"$WORK/www/index.html"
mkdir -p "$WORK/www/secure"
echo secret >"$WORK/www/secure/index.html"
ONLY="${SCENARIOS:-}"

S2NC=${S2NC:-/opt/s2nc/s2nc}
if [[ ! -x $S2NC ]]; then
    S2NC=$("$REPO/../shared/tools/build-s2nc.sh" "$WORK/s2nc")
fi

TAG=${SET:-field}
NS_C=s2n-$TAG-c
NS_S=s2n-$TAG-s
VETH_C=${SET:-s2n}-c0
VETH_S=${SET:-s2n}-s0
CLIENT_IP=${CLIENT_IP:-15.158.0.10}  # a set may run its clients from elsewhere (not CloudFront)
HOST=192.0.2.10
IFACE=$VETH_S
IN_C=(ip netns exec "$NS_C")
IN_SERVER_NS=(ip netns exec "$NS_S")

log() { printf '[gen-servers] %s\n' "$*" >&2; }

PIDS=()
NS_MADE=
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [[ -n $NS_MADE ]]; then
        ip netns del "$NS_C" 2>/dev/null || true
        ip netns del "$NS_S" 2>/dev/null || true
        rm -rf "/etc/netns/$NS_C"
    fi
    [[ -n ${KEEP:-} ]] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_up() {
    NS_MADE=1
    ip netns del "$NS_C" 2>/dev/null || true
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns add "$NS_C"
    ip netns add "$NS_S"
    ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S"
    ip -n "$NS_C" addr add "$CLIENT_IP/32" dev "$VETH_C"
    ip -n "$NS_S" addr add "$HOST/32" dev "$VETH_S"
    local ns
    for ns in "$NS_C" "$NS_S"; do
        ip -n "$ns" link set lo up
    done
    ip -n "$NS_C" link set "$VETH_C" up
    ip -n "$NS_S" link set "$VETH_S" up
    ip -n "$NS_C" route add "$HOST/32" dev "$VETH_C"
    ip -n "$NS_S" route add "$CLIENT_IP/32" dev "$VETH_S"
    ip -n "$NS_S" link set dev "$VETH_S" gso_max_segs 1
    ip -n "$NS_C" link set dev "$VETH_C" gso_max_segs 1
    # s2nc checks the certificate against the host it connects to: give the client namespace
    # its own /etc/hosts (ip netns exec bind-mounts /etc/netns/NAME/hosts) with the origin name.
    mkdir -p "/etc/netns/$NS_C"
    printf '%s origin.example.com other.example.net\n' "$HOST" >"/etc/netns/$NS_C/hosts"
}

# ------------------------------------------------------------------------------------------------
# PKI: root -> int -> leaves for the origin; a client CA the origins trust for origin mTLS, and a
# client certificate from another CA they do not trust. Valid ones last 25 years.
# ------------------------------------------------------------------------------------------------
DAYS=9131
cp "$HERE/pki-ext.cnf" "$WORK/ext.cnf"  # shared with gen.sh
export SAN=DNS:origin.example.com EKU=serverAuth

# KEYGEN (genpkey arguments) and DIGEST let a set issue other keys (RSA-1024, RSA-PSS, P-521)
# and other signatures (SHA-1).
newkey() {
    # shellcheck disable=SC2086  # KEYGEN is a list of genpkey arguments
    openssl genpkey ${KEYGEN:--algorithm RSA -pkeyopt rsa_keygen_bits:2048} -out "$KEYS/$1.key" 2>/dev/null
}
root_ca() {
    newkey "$1"
    openssl req -new -x509 -key "$KEYS/$1.key" -sha256 -days $((DAYS + 3650)) \
        -subj "/O=tlsdiag field PKI/CN=$2" -config "$WORK/ext.cnf" -extensions ca -out "$CA/$1.pem"
}
# issue NAME ISSUER EXT CN [FAKETIME DAYS]
issue() {
    local -a pre=()
    [[ -n ${5:-} ]] && pre=(faketime "$5")
    newkey "$1"
    openssl req -new -key "$KEYS/$1.key" -subj "/O=tlsdiag field PKI/CN=$4" -out "$WORK/$1.csr"
    SAN=${LEAF_SAN:-DNS:$4} EKU=${LEAF_EKU:-serverAuth} "${pre[@]}" openssl x509 -req \
        -in "$WORK/$1.csr" -CA "$CA/$2.pem" -CAkey "$KEYS/$2.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days "${6:-$DAYS}" "-${DIGEST:-sha256}" \
        -extfile "$WORK/ext.cnf" -extensions "$3" -out "$CA/$1.pem" 2>/dev/null
}
make_pki() {
    log "PKI"
    root_ca root "tlsdiag Field Root CA"
    issue int root ca "tlsdiag Field Intermediate CA"
    issue leaf int leaf origin.example.com
    LEAF_SAN=DNS:other.example.net issue leaf_wrongname int leaf other.example.net
    issue leaf_expired int leaf origin.example.com "2020-01-01 00:00:00" 366
    newkey leaf_self
    openssl req -new -x509 -key "$KEYS/leaf_self.key" -sha256 -days "$DAYS" \
        -subj "/O=tlsdiag field PKI/CN=origin.example.com" \
        -addext "subjectAltName=DNS:origin.example.com" -addext "basicConstraints=critical,CA:false" \
        -addext "extendedKeyUsage=serverAuth" -out "$CA/leaf_self.pem"
    root_ca private_root "Example Corp Field Internal Root CA"
    issue leaf_private private_root leaf origin.example.com
    # Origin mTLS: the CA the origins trust for client certificates, CloudFront's certificate
    # from it, and one from a CA the origins do not trust.
    root_ca client_ca "tlsdiag Field Client CA"
    LEAF_EKU=clientAuth LEAF_SAN=DNS:edge.example.com issue client_ok client_ca leaf edge.example.com
    root_ca other_client_ca "Example Other Client CA"
    LEAF_EKU=clientAuth LEAF_SAN=DNS:edge.example.com issue client_other other_client_ca leaf \
        edge.example.com
    cat "$CA/root.pem" >"$WORK/trust.pem"
}
# chain NAME [INT]: leaf + intermediate as one file (nginx, apache); + key for haproxy.
chain() {
    cat "$CA/$1.pem" ${2:+"$CA/$2.pem"} >"$WORK/$1${2:+-$2}.chain"
    cat "$WORK/$1${2:+-$2}.chain" "$KEYS/$1.key" >"$WORK/$1${2:+-$2}.haproxy"
}

# ------------------------------------------------------------------------------------------------
# Servers. Each writes its config into WORK and runs in the origin namespace, in the foreground,
# under `timeout`.
# ------------------------------------------------------------------------------------------------

# nginx PORT CERT CHAIN "extra server directives" — NGINX_LISTEN replaces the listen options (ssl),
# NGINX_HTTP adds to the http block (another server).
nginx_srv() {
    local port=$1 cert=$2 ch=$3 extra=${4:-}
    chain "$cert" "$ch"
    cat >"$WORK/$CUR.nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/$CUR.nginx.pid;
error_log $WORK/$CUR.nginx.err info;
events { worker_connections 16; }
http {
    access_log $WORK/$CUR.nginx.access;
    client_body_temp_path $WORK/nginx-body;
    proxy_temp_path $WORK/nginx-proxy;
    fastcgi_temp_path $WORK/nginx-fcgi;
    uwsgi_temp_path $WORK/nginx-uwsgi;
    scgi_temp_path $WORK/nginx-scgi;
    server {
        listen $HOST:$port${NGINX_LISTEN- ssl};
        server_name origin.example.com;
        ssl_certificate $WORK/$cert${ch:+-$ch}.chain;
        ssl_certificate_key $KEYS/$cert.key;
        root $WORK/www;
        ssl_protocols ${PROTOS:-TLSv1.2 TLSv1.3};
        $extra
    }
    ${NGINX_HTTP:-}
}
EOF
    "${IN_SERVER_NS[@]}" timeout 20 nginx -c "$WORK/$CUR.nginx.conf" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$port"
}

# apache PORT CERT CHAIN "extra virtual host directives"
apache_srv() {
    local port=$1 cert=$2 ch=$3 extra=${4:-} m=/usr/lib/apache2/modules
    chain "$cert" "$ch"
    cat >"$WORK/$CUR.apache.conf" <<EOF
ServerRoot $WORK
LoadModule mpm_prefork_module $m/mod_mpm_prefork.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule socache_shmcb_module $m/mod_socache_shmcb.so
LoadModule ssl_module $m/mod_ssl.so
User nobody
Group nogroup
ServerName origin.example.com
PidFile $WORK/$CUR.apache.pid
ErrorLog $WORK/$CUR.apache.err
LogLevel info ssl:info
Mutex file:$WORK
DefaultRuntimeDir $WORK
SSLSessionCache none
Listen $HOST:$port
<VirtualHost $HOST:$port>
    ServerName origin.example.com
    DocumentRoot $WORK/www
    <Directory $WORK/www>
        Require all granted
    </Directory>
    SSLEngine on
    SSLCertificateFile $WORK/$cert${ch:+-$ch}.chain
    SSLCertificateKeyFile $KEYS/$cert.key
    $extra
</VirtualHost>
EOF
    "${IN_SERVER_NS[@]}" timeout 20 apache2 -X -f "$WORK/$CUR.apache.conf" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$port"
}

# haproxy PORT CERT CHAIN "extra bind options"
haproxy_srv() {
    local port=$1 cert=$2 ch=$3 extra=${4:-}
    chain "$cert" "$ch"
    cat >"$WORK/$CUR.haproxy.cfg" <<EOF
global
    pidfile $WORK/$CUR.haproxy.pid
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend origin
    bind $HOST:$port ssl crt $WORK/$cert${ch:+-$ch}.haproxy $extra
    http-request return status 200 content-type text/plain string ok
EOF
    "${IN_SERVER_NS[@]}" timeout 20 haproxy -db -f "$WORK/$CUR.haproxy.cfg" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$port"
}

# ------------------------------------------------------------------------------------------------
# Clients.
# ------------------------------------------------------------------------------------------------
printf 'GET /%s HTTP/1.1\r\nHost: origin.example.com\r\nUser-Agent: Amazon CloudFront\r\nConnection: close\r\n\r\n' \
    "" >"$WORK/get.http"
printf 'GET /secure/ HTTP/1.1\r\nHost: origin.example.com\r\nUser-Agent: Amazon CloudFront\r\nConnection: close\r\n\r\n' \
    >"$WORK/get-secure.http"

# s2n POLICY PORT [s2nc args...] — CloudFront's client; sends the GET unless NOREQ is set.
s2n() {
    local policy=$1 port=$2
    shift 2
    local -a req=(--send-file "${REQ:-$WORK/get.http}")
    [[ -n ${NOREQ:-} ]] && req=()
    "${IN_C[@]}" timeout "${CLIENT_TIMEOUT:-5}" "$S2NC" -c "$policy" -n origin.example.com \
        -f "$WORK/trust.pem" "${req[@]}" "$@" "${DIAL:-origin.example.com}" "$port" </dev/null \
        >>"$WORK/$CUR.client" 2>&1 || true
}

# ------------------------------------------------------------------------------------------------
# Capture.
# ------------------------------------------------------------------------------------------------
. "$HERE/lib.bash"  # wait_listen, capture_start/stop, want, scenario (shared with gen.sh)

# ------------------------------------------------------------------------------------------------
# Scenarios (policy names: s2n-tls tls/s2n_security_policies.c).
# ------------------------------------------------------------------------------------------------
TLS12=CloudFront-Upstream-TLS-1-2
C2025=CloudFront-Upstream-2025

f_ok_nginx_tls12() { nginx_srv "$1" leaf int; s2n "$TLS12" "$1"; }
f_ok_nginx_tls13() { nginx_srv "$1" leaf int; s2n "$C2025" "$1"; }
f_ok_apache() { apache_srv "$1" leaf int; s2n CloudFront-Upstream "$1"; }
f_ok_haproxy_tls13() { haproxy_srv "$1" leaf int; s2n "$C2025" "$1"; }
# The ClientHello spans several TCP segments: the origin advertises an MSS of 120 bytes.
f_ok_split() {
    ip -n "$NS_S" route replace "$CLIENT_IP/32" dev "$VETH_S" advmss 120
    nginx_srv "$1" leaf int
    s2n "$C2025" "$1"
    ip -n "$NS_S" route replace "$CLIENT_IP/32" dev "$VETH_S"
}
# A TLS-1.0-only origin: it answers with a TLS 1.0 ServerHello, which s2n under a TLS 1.2
# minimum drops without an alert.
f_proto_tls10() {
    PROTOS=TLSv1 nginx_srv "$1" leaf int "ssl_ciphers DEFAULT@SECLEVEL=0;"
    s2n "$TLS12" "$1"
}
# nginx `ssl_verify_client on`: the handshake completes without a client certificate, then
# every request is answered 400 ("No required SSL certificate was sent").
f_cc_required_nginx() {
    nginx_srv "$1" leaf int "ssl_verify_client on; ssl_client_certificate $CA/client_ca.pem;"
    s2n "$TLS12" "$1"
}
# haproxy `verify required`: refuses the empty client Certificate with an alert.
f_cc_required_haproxy() {
    haproxy_srv "$1" leaf int "verify required ca-file $CA/client_ca.pem"
    s2n "$TLS12" "$1"
}
# Origin mTLS with a certificate from a CA the origin does not trust: apache's alert.
f_cc_rejected_apache() {
    apache_srv "$1" leaf int "SSLVerifyClient require
    SSLVerifyDepth 2
    SSLCACertificateFile $CA/client_ca.pem"
    s2n "$TLS12" "$1" -l "$CA/client_other.pem" -k "$KEYS/client_other.key"
}
# The same refusal in TLS 1.3 (CloudFront-Upstream-2025): certificate and alert are encrypted.
f_cc_rejected_apache_tls13() {
    apache_srv "$1" leaf int "SSLVerifyClient require
    SSLVerifyDepth 2
    SSLCACertificateFile $CA/client_ca.pem"
    s2n "$C2025" "$1" -l "$CA/client_other.pem" -k "$KEYS/client_other.key"
}
# The same origin, CloudFront configured with the right certificate: ok.
f_mtls_ok_apache() {
    apache_srv "$1" leaf int "SSLVerifyClient require
    SSLVerifyDepth 2
    SSLCACertificateFile $CA/client_ca.pem"
    s2n "$TLS12" "$1" -l "$CA/client_ok.pem" -k "$KEYS/client_ok.key"
}
# Per-location client authentication on TLS 1.2: apache asks to renegotiate (encrypted
# HelloRequest) when /secure/ is requested; s2n ignores it, and the request stalls.
f_reneg_apache() {
    apache_srv "$1" leaf int "SSLProtocol -all +TLSv1.2
    SSLCACertificateFile $CA/client_ca.pem
    <Location /secure>
        SSLVerifyClient require
        SSLVerifyDepth 2
    </Location>"
    REQ=$WORK/get-secure.http CLIENT_TIMEOUT=4 s2n "$TLS12" "$1"
}
f_name_mismatch() { nginx_srv "$1" leaf_wrongname int; s2n "$TLS12" "$1"; }
f_missing_int() { haproxy_srv "$1" leaf ""; s2n "$TLS12" "$1"; }
f_expired() { apache_srv "$1" leaf_expired int; s2n "$TLS12" "$1"; }
f_self_signed() { nginx_srv "$1" leaf_self ""; s2n "$TLS12" "$1"; }
f_untrusted() { haproxy_srv "$1" leaf_private private_root; s2n "$TLS12" "$1"; }
# A client that completes the handshake and closes before any request: s2nc checks the name
# against the host it dialled (other.example.net), the analyzer against the SNI it sent
# (origin.example.com), which the certificate does not carry.
f_name_mismatch_after_finished() {
    nginx_srv "$1" leaf_wrongname int
    NOREQ=1 DIAL=other.example.net s2n "$TLS12" "$1"
}
f_no_shared_cipher() {
    PROTOS=TLSv1.2 nginx_srv "$1" leaf int "ssl_ciphers ECDHE-RSA-CHACHA20-POLY1305;"
    s2n "$TLS12" "$1"
}

main() {
    netns_up
    make_pki
    if [[ -n $SET ]]; then
        # shellcheck source=/dev/null
        . "$HERE/field-$SET.bash"
        if declare -F set_pki >/dev/null; then
            set_pki
        fi
        set_main
        log "done: $(ls "$OUT"/*.pcap | wc -l) captures in $OUT"
        return
    fi
    scenario ok-nginx-s2n-tls12 47201 f_ok_nginx_tls12
    scenario ok-nginx-s2n-2025-tls13 47202 f_ok_nginx_tls13
    scenario ok-apache-s2n 47203 f_ok_apache
    scenario ok-haproxy-s2n-2025-tls13 47204 f_ok_haproxy_tls13
    scenario ok-nginx-s2n-2025-split-clienthello 47205 f_ok_split
    scenario protocol_version_mismatch-nginx-tls10-s2n 47206 f_proto_tls10
    scenario client_cert_required-nginx-400-s2n 47207 f_cc_required_nginx
    scenario client_cert_required-haproxy-s2n 47208 f_cc_required_haproxy
    scenario client_cert_rejected-apache-s2n 47209 f_cc_rejected_apache
    scenario ok-apache-mtls-s2n 47210 f_mtls_ok_apache
    scenario renegotiation_refused-apache-s2n 47211 f_reneg_apache
    scenario cert_name_mismatch-nginx-s2n 47212 f_name_mismatch
    scenario cert_missing_intermediate-haproxy-s2n 47213 f_missing_int
    scenario cert_expired-apache-s2n 47214 f_expired
    scenario cert_self_signed-nginx-s2n 47215 f_self_signed
    scenario cert_untrusted_ca-haproxy-s2n 47216 f_untrusted
    scenario cert_name_mismatch-nginx-after-finished-s2n 47217 f_name_mismatch_after_finished
    scenario no_shared_cipher-nginx-s2n 47218 f_no_shared_cipher
    scenario client_cert_rejected-apache-tls13-s2n 47219 f_cc_rejected_apache_tls13
    # Only public certificates are kept (the keys stay in WORK, removed on exit).
    log "done: $(ls "$OUT"/*.pcap | wc -l) captures in $OUT"
}
main
