#!/usr/bin/env bash
# gen.sh OUTDIR — regenerate the golden scenario captures: a private PKI, real OpenSSL peers on
# 127.0.0.1 (or a veth pair between two network namespaces for the path faults), one tcpdump
# capture per failure cause, written to OUTDIR (normally pcaps/). See pcaps/README.md.
#
# Run as root (tcpdump, ip netns):  sudo tests/scenarios/gen.sh pcaps
# Needs: openssl, faketime, tcpdump, editcap and tshark, python3, iproute2 (ip, ss).
# Every peer runs under `timeout`, every scenario uses a fixed port, and a trap kills whatever
# this script started, so a broken scenario can neither hang the run nor leak processes.
#
# gen.sh --extra OUTDIR makes only the captures added since the last full regeneration (see
# main_extra): they use their own small PKI, whose root is appended to OUTDIR/ca/root.pem, so the
# existing captures stay valid and unchanged.
# The truth for the captures lives in OUTDIR/truth.tsv, which this script does not write: a
# human checks each new capture with tshark (tests/scripts/test_scenario_pcaps.sh) and records it.
set -euo pipefail

EXTRA=
if [[ ${1:-} == --extra ]]; then
    EXTRA=1
    shift
fi
if [[ $# -ne 1 ]]; then
    echo "usage: $0 [--extra] OUTDIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
CA="$OUT/ca"
mkdir -p "$CA"
WORK=$(mktemp -d /tmp/tlsdiag-scen.XXXXXX)
KEYS="$WORK/keys"
mkdir -p "$KEYS"
ONLY="${SCENARIOS:-}"   # optional space-separated subset of scenario names, for iterating
if [[ -n $EXTRA && ! -e $CA/root.pem ]]; then
    echo "$0: --extra adds to an existing OUTDIR (its ca/root.pem is the trust anchor file)" >&2
    exit 2
fi
if [[ -z $EXTRA && -n $ONLY && -e $CA/root.pem ]]; then
    # Every run makes a new PKI; a partial run would leave the other captures signed by a root
    # that is no longer pcaps/ca/root.pem.
    echo "$0: SCENARIOS=... needs a scratch OUTDIR (no ca/root.pem in it)" >&2
    exit 2
fi

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    netns_down
    [[ -n ${KEEP:-} ]] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[gen] %s\n' "$*" >&2; }

# ------------------------------------------------------------------------------------------------
# PKI. Valid certificates last 25 years (the goldens must stay true); invalid ones get their
# dates from faketime, because OpenSSL 3.0's `x509 -req` has no -not_before.
# ------------------------------------------------------------------------------------------------
VALID_DAYS=9131   # 25 years
# ext.cnf reads SAN and EKU from the environment; every openssl call parses the whole file.
export SAN=DNS:origin.example.com EKU=serverAuth
cp "$HERE/pki-ext.cnf" "$WORK/ext.cnf"

# newkey NAME ALG [BITS]
newkey() {
    if [[ $2 == RSA ]]; then
        openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${3:-2048}" -out "$KEYS/$1.key" 2>/dev/null
    else
        openssl genpkey -algorithm "$2" -out "$KEYS/$1.key"
    fi
}

# selfsign_ca NAME CN — a self-signed root CA, valid 35 years.
selfsign_ca() {
    local name=$1 cn=$2
    newkey "$name" RSA
    openssl req -new -x509 -key "$KEYS/$name.key" -sha256 -days $((VALID_DAYS + 3650)) \
        -subj "/O=tlsdiag test PKI/CN=$cn" -config "$WORK/ext.cnf" -extensions ca \
        -out "$CA/$name.pem"
}

# issue NAME ISSUER EXT CN DAYS [FAKETIME] [DIGEST] — sign NAME's key (already made) by ISSUER.
issue() {
    local name=$1 issuer=$2 ext=$3 cn=$4 days=$5 fake=${6:-} md=${7:--sha256}
    local -a pre=()
    [[ -n $fake ]] && pre=(faketime "$fake")
    openssl req -new -key "$KEYS/$name.key" -subj "/O=tlsdiag test PKI/CN=$cn" \
        -out "$WORK/$name.csr"
    SAN=${LEAF_SAN:-DNS:$cn} EKU=${LEAF_EKU:-serverAuth} "${pre[@]}" openssl x509 -req -in "$WORK/$name.csr" \
        -CA "$CA/$issuer.pem" -CAkey "$KEYS/$issuer.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days "$days" "$md" -extfile "$WORK/ext.cnf" -extensions "$ext" -out "$CA/$name.pem" 2>/dev/null
}

make_pki() {
    log "PKI"
    # Trusted hierarchy: root -> int -> leaves. root.pem is the analyzer's --ca-file.
    selfsign_ca root "tlsdiag Test Root CA"
    newkey int RSA
    issue int root ca "tlsdiag Test Intermediate CA" "$VALID_DAYS"
    newkey leaf RSA
    issue leaf int leaf origin.example.com "$VALID_DAYS"
    # Two-level intermediates for the misordered chain: root -> int -> int2 -> leaf2.
    newkey int2 RSA
    issue int2 int ca "tlsdiag Test Issuing CA 2" "$VALID_DAYS"
    newkey leaf_l2 RSA
    issue leaf_l2 int2 leaf origin.example.com "$VALID_DAYS"
    # Expired leaf: valid 2020-01-01 .. 2021-01-01.
    newkey leaf_expired RSA
    issue leaf_expired int leaf origin.example.com 366 "2020-01-01 00:00:00"
    # Not yet valid leaf: from 2046-01-01, so the capture (made before then) is always before it.
    newkey leaf_notyet RSA
    issue leaf_notyet int leaf origin.example.com 3650 "2046-01-01 00:00:00"
    # Expired intermediate (2019-2021) issuing an otherwise valid leaf.
    newkey int_expired RSA
    issue int_expired root ca "tlsdiag Test Expired Intermediate CA" 731 "2019-01-01 00:00:00"
    newkey leaf_intexp RSA
    issue leaf_intexp int_expired leaf origin.example.com "$VALID_DAYS"
    # Self-signed leaf.
    newkey leaf_self RSA
    openssl req -new -x509 -key "$KEYS/leaf_self.key" -sha256 -days "$VALID_DAYS" \
        -subj "/O=tlsdiag test PKI/CN=origin.example.com" \
        -addext "subjectAltName=DNS:origin.example.com" -addext "basicConstraints=critical,CA:false" \
        -addext "extendedKeyUsage=serverAuth" -out "$CA/leaf_self.pem"
    # A second, unrelated private root (NOT in root.pem) with its own intermediate.
    selfsign_ca private_root "Example Corp Internal Root CA"
    newkey private_int RSA
    issue private_int private_root ca "Example Corp Internal Issuing CA" "$VALID_DAYS"
    newkey leaf_private RSA
    issue leaf_private private_int leaf origin.example.com "$VALID_DAYS"
    # Wrong name: only other.example.net.
    newkey leaf_wrongname RSA
    LEAF_SAN=DNS:other.example.net issue leaf_wrongname int leaf other.example.net "$VALID_DAYS"
    # Default vhost certificate for a server that ignores / gets no SNI.
    newkey leaf_default RSA
    LEAF_SAN=DNS:default.example.net issue leaf_default int leaf default.example.net "$VALID_DAYS"
    # EKU clientAuth only.
    newkey leaf_clientauth RSA
    LEAF_EKU=clientAuth issue leaf_clientauth int leaf origin.example.com "$VALID_DAYS"
    # RSA-1024 key.
    newkey leaf_rsa1024 RSA 1024
    issue leaf_rsa1024 int leaf origin.example.com "$VALID_DAYS"
    # SHA-1 signature.
    newkey leaf_sha1 RSA
    issue leaf_sha1 int leaf origin.example.com "$VALID_DAYS" "" -sha1
    # Ed25519 leaf: no signature scheme CloudFront offers can use it.
    newkey leaf_ed25519 ED25519
    issue leaf_ed25519 int leaf_sigonly origin.example.com "$VALID_DAYS"
    # The -cert_chain files: what the server sends after its leaf. The misordered one puts the
    # root's child before the leaf's issuer (RFC 5246 §7.4.2 wants each cert to certify the one
    # before it).
    cat "$CA/int.pem" >"$CA/chain_int.pem"
    cat "$CA/int.pem" "$CA/int2.pem" >"$CA/chain_l2_misordered.pem"
    # 1024-bit DH group for dh_too_small.
    openssl dhparam -out "$WORK/dh1024.pem" 1024 2>/dev/null
}

# ------------------------------------------------------------------------------------------------
# Peers.
# ------------------------------------------------------------------------------------------------
# The client that imitates CloudFront's origin fetch (reference/cloudfront.md §1): TLS 1.2 at
# most, CloudFront's origin cipher list (DES-CBC3-SHA and RC4-MD5 are not built into this
# OpenSSL), its three groups and its RSA-PKCS1/ECDSA signature schemes. OpenSSL 3.0 accepts the
# whole -sigalgs list but drops RSA+SHA1/ECDSA+SHA1 from the ClientHello at security level >= 1,
# so the hello offers 8 of CloudFront's 10 schemes. SECLEVEL=2 is Debian's default and makes the
# client refuse RSA-1024 keys, SHA-1 certificate signatures and 1024-bit DH, as CloudFront should.
CF_CIPHERS='ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA:DES-CBC3-SHA:RC4-MD5@SECLEVEL=2'
CF_SIGALGS='RSA+SHA256:RSA+SHA384:RSA+SHA512:RSA+SHA224:ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ECDSA+SHA224:RSA+SHA1:ECDSA+SHA1'
CF_GROUPS='X25519:P-256:P-384'
SNI=origin.example.com
# Where peers run: loopback by default; the veth scenarios below switch these.
HOST=127.0.0.1
IFACE=lo
IN_CLIENT_NS=()
IN_SERVER_NS=()
HTTP_GET=$'GET / HTTP/1.1\r\nHost: origin.example.com\r\nUser-Agent: Amazon CloudFront\r\nConnection: close\r\n\r\n'

# cf_client PORT [extra s_client args...] — CloudFront-like client; output to $WORK/NAME.client.
cf_client() {
    local port=$1
    shift
    local -a sni=(-servername "$SNI")
    [[ -z $SNI ]] && sni=(-noservername)
    client -connect "$HOST:$port" "${sni[@]}" -verify_hostname origin.example.com \
        -verify_return_error -CAfile "${CLIENT_CA:-$CA/root.pem}" -no_tls1_3 -cipher "$CF_CIPHERS" \
        -curves "$CF_GROUPS" -sigalgs "$CF_SIGALGS" "$@"
}

# generic_client PORT [extra args...] — a plain OpenSSL client (health checker, curl-like):
# default versions (TLS 1.3 allowed), ciphers and groups.
generic_client() {
    local port=$1
    shift
    client -connect "$HOST:$port" -servername "$SNI" -verify_hostname "$SNI" \
        -verify_return_error -CAfile "${CLIENT_CA:-$CA/root.pem}" "$@"
}

client() {
    printf '%s' "$HTTP_GET" | "${IN_CLIENT_NS[@]}" timeout "${CLIENT_TIMEOUT:-5}" openssl s_client -ign_eof "$@" \
        >>"$WORK/$CUR.client" 2>&1 || true
}

# server_tls PORT CERT [extra s_server args...] — one-connection s_server answering HTTP with
# its status page (-www), so a successful handshake carries application data both ways.
server_tls() {
    local port=$1 cert=$2
    shift 2
    "${IN_SERVER_NS[@]}" timeout 20 openssl s_server -accept "$HOST:$port" -naccept "${NACCEPT:-1}" -www \
        -cert "$CA/$cert.pem" -key "$KEYS/$cert.key" "$@" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$port"
}

# server_py MODE PORT [ARG] — the stdlib misbehaving peers (tcpserver.py).
server_py() {
    timeout 20 python3 "$HERE/tcpserver.py" "$@" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$2"
}

. "$HERE/lib.bash"  # wait_listen, capture_start/stop, want, scenario

# ------------------------------------------------------------------------------------------------
# Scenarios. Port numbers are fixed so a capture's structure is the same on every run.
# ------------------------------------------------------------------------------------------------
s_ok() { server_tls "$1" leaf -cert_chain "$CA/chain_int.pem"; cf_client "$1"; }
s_ok_tls13() { server_tls "$1" leaf -cert_chain "$CA/chain_int.pem"; generic_client "$1"; }
s_expired() { server_tls "$1" leaf_expired -cert_chain "$CA/chain_int.pem"; cf_client "$1"; }
s_missing_int() { server_tls "$1" leaf; cf_client "$1"; }
s_self_signed() { server_tls "$1" leaf_self; cf_client "$1"; }
s_untrusted() { server_tls "$1" leaf_private -cert_chain "$CA/private_int.pem"; cf_client "$1"; }
s_name_mismatch() { server_tls "$1" leaf_wrongname -cert_chain "$CA/chain_int.pem"; cf_client "$1"; }
s_proto_tls13only() { server_tls "$1" leaf -cert_chain "$CA/chain_int.pem" -tls1_3; cf_client "$1"; }
s_proto_tls10only() {
    server_tls "$1" leaf -cert_chain "$CA/chain_int.pem" -tls1 -cipher 'DEFAULT@SECLEVEL=0'
    cf_client "$1" -min_protocol TLSv1.2
}
s_no_shared_cipher() {
    server_tls "$1" leaf -cert_chain "$CA/chain_int.pem" -no_tls1_3 \
        -cipher 'AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305'
    cf_client "$1"
}
s_sni_rejected() {
    # -cert2 serves the configured name; any other SNI gets a fatal unrecognized_name.
    server_tls "$1" leaf_default -cert_chain "$CA/chain_int.pem" -servername origin.example.com \
        -servername_fatal -cert2 "$CA/leaf.pem" -key2 "$KEYS/leaf.key"
    SNI=d111111abcdef8.cloudfront.net cf_client "$1"
}
s_refused() { cf_client "$1"; }
s_not_tls() { server_py http400 "$1"; cf_client "$1"; }
s_not_tls_ssh() { server_py ssh "$1"; cf_client "$1"; }
s_reset() { server_py reset "$1"; cf_client "$1"; }
s_closed() { server_py close "$1"; cf_client "$1"; }
s_timeout() { server_py silent "$1"; CLIENT_TIMEOUT=3 cf_client "$1"; }
s_notyet() { server_tls "$1" leaf_notyet -cert_chain "$CA/chain_int.pem"; cf_client "$1"; }
s_int_expired() { server_tls "$1" leaf_intexp -cert_chain "$CA/int_expired.pem"; cf_client "$1"; }
s_misordered() { server_tls "$1" leaf_l2 -cert_chain "$CA/chain_l2_misordered.pem"; cf_client "$1"; }
s_client_cert() {
    server_tls "$1" leaf -cert_chain "$CA/chain_int.pem" -Verify 1 -CAfile "$CA/root.pem"
    cf_client "$1"
}
s_wrong_purpose() { server_tls "$1" leaf_clientauth -cert_chain "$CA/chain_int.pem"; cf_client "$1"; }
s_weak_key() {
    # The server must drop to SECLEVEL 0 even to load a 1024-bit key.
    server_tls "$1" leaf_rsa1024 -cert_chain "$CA/chain_int.pem" -cipher 'DEFAULT@SECLEVEL=0'
    cf_client "$1"
}
s_weak_sig() {
    server_tls "$1" leaf_sha1 -cert_chain "$CA/chain_int.pem" -cipher 'DEFAULT@SECLEVEL=0'
    cf_client "$1"
}
s_no_group() {
    server_tls "$1" leaf -cert_chain "$CA/chain_int.pem" -no_tls1_3 -groups secp521r1 \
        -cipher 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384'
    cf_client "$1"
}
s_no_sigalg() { server_tls "$1" leaf_ed25519 -cert_chain "$CA/chain_int.pem"; cf_client "$1"; }
s_sni_missing() { server_tls "$1" leaf_default -cert_chain "$CA/chain_int.pem"; SNI= cf_client "$1"; }
s_dh_small() {
    server_tls "$1" leaf -cert_chain "$CA/chain_int.pem" -no_tls1_3 -dhparam "$WORK/dh1024.pem" \
        -cipher 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384@SECLEVEL=0'
    generic_client "$1" -no_tls1_3 -cipher 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384'
}
s_reneg() {
    # The origin asks to renegotiate (s_server's "r" command sends a HelloRequest, RFC 5246
    # §7.4.1.1) after the request arrived; the CloudFront-like client refuses all renegotiation
    # (-no_renegotiation: encrypted no_renegotiation alert, then the server's handshake_failure).
    # Not -www: the server must stay in its interactive loop to read "r" from stdin.
    { sleep 1; printf 'r\n'; sleep 3; } | "${IN_SERVER_NS[@]}" timeout 20 openssl s_server \
        -accept "$HOST:$1" -naccept 1 -cert "$CA/leaf.pem" -key "$KEYS/leaf.key" \
        -cert_chain "$CA/chain_int.pem" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$1"
    CLIENT_TIMEOUT=4 cf_client "$1" -no_renegotiation
}
s_expired_tls13() { server_tls "$1" leaf_expired -cert_chain "$CA/chain_int.pem"; generic_client "$1"; }
s_missing_int_tls13() { server_tls "$1" leaf; generic_client "$1"; }

# capture_incomplete from an ok handshake: a snaplen-truncated capture ...
s_snaplen() {
    want capture_incomplete-snaplen || return 0
    capture_start capture_incomplete-snaplen "$1" -s 96
    s_ok "$1"
    capture_stop
}
# ... and a copy that starts mid-stream (no SYN, no ClientHello: the first packet kept is the
# server's first data segment).
s_midstream() {
    want capture_incomplete-midstream || return 0
    [[ -f $OUT/ok.pcap ]] || { log "midstream needs ok.pcap"; return 1; }
    local first
    first=$(tshark -r "$OUT/ok.pcap" -Y 'tcp.srcport == 17401 && tcp.len > 0' -T fields \
        -e frame.number 2>/dev/null | head -1)
    editcap -F pcap -r "$OUT/ok.pcap" "$OUT/capture_incomplete-midstream.pcap" "$first-100000"
    chown --reference="$OUT" "$OUT/capture_incomplete-midstream.pcap"
    log "capture_incomplete-midstream: from frame $first of ok.pcap"
}

# ------------------------------------------------------------------------------------------------
# Scenarios that need a real path between two hosts: two network namespaces joined by a veth
# pair, captured on the server's side (where an origin admin would run tcpdump). There is no
# netfilter here, so the faults are made with routing and MTU, which is how they happen anyway.
# ------------------------------------------------------------------------------------------------
NS_C=tlsdiag-scen-c
NS_S=tlsdiag-scen-s
NS_MADE=
netns_up() {
    NS_MADE=1
    ip netns del "$NS_C" 2>/dev/null || true   # left over from a run that was killed -9
    ip netns del "$NS_S" 2>/dev/null || true
    ip netns add "$NS_C"
    ip netns add "$NS_S"
    ip link add td-c netns "$NS_C" type veth peer name td-s netns "$NS_S"
    ip -n "$NS_C" addr add 10.251.0.1/24 dev td-c
    ip -n "$NS_S" addr add 10.251.0.2/24 dev td-s
    ip -n "$NS_C" link set lo up
    ip -n "$NS_S" link set lo up
    ip -n "$NS_C" link set td-c up
    ip -n "$NS_S" link set td-s up
    # One MSS per packet, as on a real NIC after TSO: the capture then shows real segment sizes.
    ip -n "$NS_S" link set dev td-s gso_max_segs 1
    ip -n "$NS_C" link set dev td-c gso_max_segs 1
    HOST=10.251.0.2
    IFACE=td-s
    IN_CLIENT_NS=(ip netns exec "$NS_C")
    IN_SERVER_NS=(ip netns exec "$NS_S")
}
netns_down() {
    if [[ -n $NS_MADE ]]; then
        ip netns del "$NS_C" 2>/dev/null || true
        ip netns del "$NS_S" 2>/dev/null || true
        NS_MADE=
    fi
    HOST=127.0.0.1
    IFACE=lo
    IN_CLIENT_NS=()
    IN_SERVER_NS=()
}

# connect_timeout: a firewall that silently drops. The server host has a blackhole route back to
# the client, so SYNs arrive (and are captured) but no SYN-ACK or RST ever leaves.
s_connect_timeout() {
    ip -n "$NS_S" route add blackhole 10.251.0.1/32
    server_tls "$1" leaf -cert_chain "$CA/chain_int.pem"
    CLIENT_TIMEOUT=4 cf_client "$1"
    ip -n "$NS_S" route del blackhole 10.251.0.1/32
}
# server_flight_lost: a path MTU black hole. The client's link has MTU 1000 but advertises MSS
# 1460 (as behind a router with a smaller MTU that filters ICMP "fragmentation needed"), so every
# full-size server segment is dropped silently and retransmitted until the client gives up.
s_flight_lost() {
    ip -n "$NS_C" link set td-c mtu 1000
    ip -n "$NS_C" route replace 10.251.0.0/24 dev td-c advmss 1460
    server_tls "$1" leaf -cert_chain "$CA/chain_int.pem"
    CLIENT_TIMEOUT=4 cf_client "$1"
}

# Several connections in one file, so conn_id numbering (order of first frame) is tested too:
# 0 ok, 1 missing intermediate, 2 refused, 3 reset.
s_mixed() {
    want mixed || return 0
    FILTER='tcp portrange 17450-17453' capture_start mixed 17450
    server_tls 17450 leaf -cert_chain "$CA/chain_int.pem"
    cf_client 17450
    server_tls 17451 leaf
    cf_client 17451
    cf_client 17452
    server_py reset 17453
    cf_client 17453
    capture_stop
}
# The same ok handshake as a pcapng file (tcpdump writes pcap; Wireshark users send pcapng).
s_pcapng() {
    want ok-pcapng || return 0
    editcap -F pcapng "$OUT/ok.pcap" "$OUT/ok-pcapng.pcapng"
    chown --reference="$OUT" "$OUT/ok-pcapng.pcapng"
    log "ok-pcapng: ok.pcap as pcapng"
}

# ------------------------------------------------------------------------------------------------
# Extra scenarios (gen.sh --extra, and every full run): a client that trusts another root than
# the one the server's chain leads to, and TLS 1.3 client certificates. Their own PKI: vroot
# (appended to ca/root.pem, so the chains verify for tlsdiag) -> vint -> leaf_v, a client
# certificate client_v, and other_root, the only root the refusing clients trust.
# ------------------------------------------------------------------------------------------------
make_extra_pki() {
    log "extra PKI"
    local old=
    [[ -f $CA/vroot.pem ]] && old=$(cat "$CA/vroot.pem")
    selfsign_ca vroot "tlsdiag Test Verified Root CA"
    newkey vint RSA
    issue vint vroot ca "tlsdiag Test Verified Intermediate CA" "$VALID_DAYS"
    newkey leaf_v RSA
    issue leaf_v vint leaf origin.example.com "$VALID_DAYS"
    newkey client_v RSA
    LEAF_EKU=clientAuth LEAF_SAN=DNS:edge-client.example.com \
        issue client_v vint leaf edge-client.example.com "$VALID_DAYS"
    selfsign_ca other_root "tlsdiag Test Other Root CA"
    # root.pem: the full run's root(s), without a previous vroot, then this vroot.
    if [[ -z $EXTRA ]]; then
        :  # make_pki wrote a fresh root.pem
    elif [[ -n $old ]]; then
        OLD="$old" python3 -c 'import os,sys; p=sys.argv[1]; s=open(p).read(); o=os.environ["OLD"].strip()+"\n"; open(p,"w").write(s.replace(o,""))' "$CA/root.pem"
    fi
    cat "$CA/vroot.pem" >>"$CA/root.pem"
}
# TLS 1.2: the chain is complete and verifies against ca/root.pem, but the client trusts only
# other_root and answers unknown_ca (CloudFront with a private CA's certificate).
s_untrusted_validates() {
    server_tls "$1" leaf_v -cert_chain "$CA/vint.pem"
    CLIENT_CA=$CA/other_root.pem cf_client "$1"
}
# Two connections to the same server and SNI: TLS 1.2 from a client that trusts vroot (ok, the
# chain in clear), then TLS 1.3 from one that does not (unknown_ca, certificate encrypted).
s_untrusted_tls13() {
    NACCEPT=2 server_tls "$1" leaf_v -cert_chain "$CA/vint.pem"
    cf_client "$1"
    CLIENT_CA=$CA/other_root.pem generic_client "$1" -tls1_3
}
# TLS 1.3 origin that requires a client certificate; the client has none: empty Certificate +
# Finished (encrypted), then the server's encrypted certificate_required alert.
s_client_cert_tls13() {
    server_tls "$1" leaf_v -cert_chain "$CA/vint.pem" -Verify 1 -CAfile "$CA/root.pem" -tls1_3
    generic_client "$1"
}
# The same origin and a client that has a certificate: Certificate, CertificateVerify, Finished.
s_client_cert_tls13_ok() {
    server_tls "$1" leaf_v -cert_chain "$CA/vint.pem" -Verify 1 -CAfile "$CA/root.pem" -tls1_3
    generic_client "$1" -cert "$CA/client_v.pem" -key "$KEYS/client_v.key"
}
# ------------------------------------------------------------------------------------------------
# Failures read from real captures (issue 16 item 6), ports 47301-47313. Their own throwaway PKI,
# wroot -> leaf_w, which the clients trust through ca/wroot.pem and which is NOT in ca/root.pem:
# these captures are not about the certificate (it is encrypted, or the server ends the handshake
# first), and the other captures' trust anchor file stays as it is.
# ------------------------------------------------------------------------------------------------
make_wire_pki() {
    [[ -f $KEYS/wroot.key ]] && return 0
    log "wire PKI"
    selfsign_ca wroot "tlsdiag Test Wire Root CA"
    newkey leaf_w RSA
    issue leaf_w wroot leaf origin.example.com "$VALID_DAYS"
}
# server_relay MODE PORT BACKEND_PORT — tcpserver.py as a device in front of a real s_server.
server_relay() {
    "${IN_SERVER_NS[@]}" env TCPSERVER_HOST="$HOST" timeout 20 python3 "$HERE/tcpserver.py" \
        "$1" "$2" "$3" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$2"
}
# A ClientHello of about 1.9 KB, the size post-quantum key shares (X25519MLKEM768) give; this
# OpenSSL has no ML-KEM, so eight 200-byte ALPN ids stand in for the key share bytes.
BIG_ALPN=$(python3 -c 'print(",".join(("pq-size-%d-" % i).ljust(200, "x") for i in range(8)))')
# The server's TLS stack answers the hello with decode_error (a stack that cannot parse it).
s_hello_decode_error() { server_py decode_error "$1"; cf_client "$1"; }
# A device that reads the hello from the first segment only, in front of a TLS 1.3 s_server,
# across a real 1500-byte-MTU link: a small hello passes (conn 0), a 1.9 KB one that spans two
# segments is reset (conn 1).
s_hello_first_segment() {
    local back=$(($1 + 10))
    NACCEPT=1 server_tls "$back" leaf_w -tls1_3
    server_relay first_segment "$1" "$back"
    CLIENT_CA=$CA/wroot.pem generic_client "$1" -tls1_3
    CLIENT_CA=$CA/wroot.pem generic_client "$1" -tls1_3 -alpn "$BIG_ALPN"
}
# A faulty offload between a CloudFront-like client and a TLS 1.2 s_server flips one bit of the
# client's Finished: the server cannot decrypt it and answers bad_record_mac.
s_integrity() {
    local back=$(($1 + 10))
    server_tls "$back" leaf_w -no_tls1_3
    server_relay corrupt_finished "$1" "$back"
    CLIENT_CA=$CA/wroot.pem cf_client "$1"
}
# A scanner reads the TLS 1.3 server's first flight and resets, with no alert.
s_client_closed() {
    server_tls "$1" leaf_w -tls1_3
    "${IN_CLIENT_NS[@]}" timeout 5 python3 "$HERE/scanclient.py" "$HOST" "$1" "$SNI" \
        >>"$WORK/$CUR.client" 2>&1 || true
}
main_wire() {
    want client_hello_rejected || want client_hello_rejected-first_segment ||
        want handshake_integrity_failure || want client_closed || return 0
    make_wire_pki
    scenario client_hello_rejected 47301 s_hello_decode_error
    if want client_hello_rejected-first_segment; then
        netns_up
        scenario client_hello_rejected-first_segment 47302 s_hello_first_segment
        netns_down
    fi
    scenario handshake_integrity_failure 47303 s_integrity
    scenario client_closed 47304 s_client_closed
}

# ------------------------------------------------------------------------------------------------
# A real public leaf without its intermediate (issue 16 item 4), port 47900. The leaf is
# www.google.com's of 2022 (public bytes from the corpus capture suricata-verify__dump_mtu300.pcap,
# issued by GTS CA 1C3, which is in data/public-intermediates-2026-05.pem, under GTS Root R1).
# Without its key the server is crafted (tcpserver.py leaf_only): ServerHello + Certificate; the
# client checks the chain against Debian's store on receipt of Certificate and sends unknown_ca
# before any signature is needed. The client runs at a time inside the leaf's validity (faketime)
# and the capture's timestamps are shifted by the same offset (editcap -t), so the handshake is
# judged at the time the client saw. GTS Root R1 is kept as ca/public_root.pem, NOT added to
# ca/root.pem (every golden names that file's size): tests pass it, or Debian's store, themselves.
# ------------------------------------------------------------------------------------------------
PUBLIC_TIME='2022-08-15 12:00:00'
PUBLIC_SHIFT=0
s_public_missing_int() {
    server_py leaf_only "$1" "$HERE/public_leaf-www.google.com.pem"
    local -a IN_CLIENT_NS=(env TZ=UTC faketime "$PUBLIC_TIME")
    PUBLIC_SHIFT=$(($(date -u -d "$PUBLIC_TIME" +%s) - $(date +%s)))
    SNI=www.google.com CLIENT_CA=/etc/ssl/certs/ca-certificates.crt cf_client "$1" \
        -verify_hostname www.google.com
}
main_public() {
    want cert_missing_intermediate-public || return 0
    cp /etc/ssl/certs/GTS_Root_R1.pem "$CA/public_root.pem"
    scenario cert_missing_intermediate-public 47900 s_public_missing_int
    local f=$OUT/cert_missing_intermediate-public.pcap
    editcap -F pcap -t "$PUBLIC_SHIFT" "$f" "$f.tmp" && mv "$f.tmp" "$f"
}

main_extra() {
    # A run for other scenarios only (SCENARIOS=...) must not remake vroot: the captures below
    # would no longer verify against ca/root.pem.
    if want cert_untrusted_ca-validates || want cert_untrusted_ca-tls13 ||
        want client_cert_required-tls13 || want ok-tls13-client_cert; then
        make_extra_pki
    fi
    scenario cert_untrusted_ca-validates 17433 s_untrusted_validates
    scenario cert_untrusted_ca-tls13 17434 s_untrusted_tls13
    scenario client_cert_required-tls13 17435 s_client_cert_tls13
    scenario ok-tls13-client_cert 17436 s_client_cert_tls13_ok
    main_wire
    main_public
}

main() {
    make_pki
    scenario ok 17401 s_ok
    scenario ok-tls13 17402 s_ok_tls13
    scenario cert_expired 17403 s_expired
    scenario cert_missing_intermediate 17404 s_missing_int
    scenario cert_self_signed 17405 s_self_signed
    scenario cert_untrusted_ca 17406 s_untrusted
    scenario cert_name_mismatch 17407 s_name_mismatch
    scenario protocol_version_mismatch 17408 s_proto_tls13only
    scenario protocol_version_mismatch-tls10 17409 s_proto_tls10only
    scenario no_shared_cipher 17410 s_no_shared_cipher
    scenario sni_rejected 17411 s_sni_rejected
    scenario connection_refused 17412 s_refused
    scenario not_tls 17413 s_not_tls
    scenario not_tls-ssh 17414 s_not_tls_ssh
    scenario server_reset 17415 s_reset
    scenario server_closed 17416 s_closed
    scenario server_timeout 17417 s_timeout
    scenario cert_not_yet_valid 17418 s_notyet
    scenario cert_intermediate_expired 17419 s_int_expired
    scenario cert_chain_misordered 17420 s_misordered
    scenario client_cert_required 17421 s_client_cert
    scenario cert_wrong_purpose 17422 s_wrong_purpose
    scenario cert_weak_key 17423 s_weak_key
    scenario cert_weak_signature 17424 s_weak_sig
    scenario no_shared_group 17425 s_no_group
    scenario no_shared_signature_algorithm 17426 s_no_sigalg
    scenario sni_missing 17427 s_sni_missing
    scenario dh_too_small 17428 s_dh_small
    s_snaplen 17429
    s_midstream
    s_pcapng
    s_mixed
    scenario cert_expired-tls13 17430 s_expired_tls13
    scenario cert_missing_intermediate-tls13 17431 s_missing_int_tls13
    scenario renegotiation_refused 17432 s_reneg
    if want connect_timeout || want server_flight_lost; then
        netns_up
        scenario connect_timeout 17441 s_connect_timeout
        scenario server_flight_lost 17442 s_flight_lost
        netns_down
    fi
    main_extra
    # Only public certificates are kept: drop the working files the chains were built from.
    rm -f "$CA"/chain_*.pem
    log "done: $(ls "$OUT"/*.pcap* | wc -l) captures in $OUT"
}

if [[ -n $EXTRA ]]; then
    main_extra
    log "done: extra captures in $OUT"
else
    main
fi
