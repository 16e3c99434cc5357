# field-pq.bash — the `pq` field set: CloudFront's post-quantum ClientHello, made by a real s2n-tls
# with ML-KEM (pcaps/field/pq/). Sourced by gen-servers.sh (see there); ports 47450-47499.
#
#   sudo PQ_PEERS=DIR tests/scenarios/gen-servers.sh pcaps/field/pq pq
#
# PQ_PEERS holds s2nc and s2nd built against AWS-LC by tests/scenarios/build-pq-peers.sh
# AWSLC_SRC DIR (AWS-LC from github.com/aws/aws-lc; the set was made from commit 3bda7ba and
# s2n-tls 8cbf81a). The prebuilt /opt/s2nc/s2nc links Debian 12's OpenSSL 3.0, which has no
# ML-KEM: under the -PQ policies it silently leaves the hybrid groups out, so it cannot be used
# here. Every client in this set is that s2nc, from 15.158.0.10 (CloudFront's prefix), under
# CloudFront-Upstream-2025-PQ (X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024) or, for
# the small hello, CloudFront-Upstream-2025.
# shellcheck shell=bash

PQ_PEERS=${PQ_PEERS:-}
if [[ ! -x $PQ_PEERS/s2nc || ! -x $PQ_PEERS/s2nd ]]; then
    log "PQ_PEERS=DIR must hold s2nc and s2nd built with tests/scenarios/build-pq-peers.sh"
    exit 1
fi
# shellcheck disable=SC2034  # read by gen-servers.sh's s2n(), which runs every client here
S2NC=$PQ_PEERS/s2nc
PQ=CloudFront-Upstream-2025-PQ

# s2nd_srv PORT POLICY — s2n-tls's own server (AWS-LC, ML-KEM) with the origin's chain.
s2nd_srv() {
    local port=$1 policy=$2
    chain leaf int
    "${IN_SERVER_NS[@]}" timeout 20 "$PQ_PEERS/s2nd" -c "$policy" --cert "$WORK/leaf-int.chain" \
        --key "$KEYS/leaf.key" -s -w "$HOST" "$port" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$port"
}

# A PQ server: s2nd under the same policy negotiates X25519MLKEM768.
f_pq_ok_s2nd() { s2nd_srv "$1" "$PQ"; s2n "$PQ" "$1"; }
# Debian's nginx (OpenSSL 3.0, no ML-KEM): it takes the classic key share s2n sends beside the
# hybrid one.
f_pq_nginx() { nginx_srv "$1" leaf int; s2n "$PQ" "$1"; }
# The same nginx limited to X25519: neither share s2n sent is usable, nginx asks for X25519
# with a HelloRetryRequest.
f_pq_nginx_hrr() { nginx_srv "$1" leaf int "ssl_ecdh_curve X25519;"; s2n "$PQ" "$1"; }

# A device that reads the ClientHello from the first TCP segment only (tests/scenarios/
# tcpserver.py first_segment: one recv of at most one 1448-byte MSS; a hello that does not fit is
# answered with a RST, a small one is relayed) in front of Debian's nginx, on the set's plain
# 1500-byte-MTU veth: the 2025 hello (~300 bytes) fits one segment and completes, the PQ hello
# (1556 bytes with its 1216-byte X25519MLKEM768 share) spans two and is reset. HAProxy does not
# reproduce this: with `tcp-request inspect-delay` its req.ssl_hello_type waits for the whole
# record (both hellos pass), without it the rules run at accept, before any byte arrives, and
# every connection is closed before its hello (small ones too).
f_hello_rejected_split() {
    local back=$(($1 + 25))
    nginx_srv "$back" leaf int
    "${IN_SERVER_NS[@]}" env TCPSERVER_HOST="$HOST" timeout 20 python3 "$HERE/tcpserver.py" \
        first_segment "$1" "$back" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$1"
    s2n "$C2025" "$1"
    s2n "$PQ" "$1"
}

set_main() {
    scenario ok-s2nd-s2n-2025-pq-x25519mlkem768 47450 f_pq_ok_s2nd
    scenario ok-nginx-s2n-2025-pq-classic-share 47451 f_pq_nginx
    scenario ok-nginx-x25519-s2n-2025-pq-hrr 47452 f_pq_nginx_hrr
    scenario client_hello_rejected-firstseg-split-s2n-2025-pq 47453 f_hello_rejected_split
}
