# field-clients.bash — the `clients` field set (issue 16): clients other than s2n-tls against the
# same real servers: curl (Debian's, OpenSSL), gnutls-cli (GnuTLS), Python 3's ssl module
# (pyclient.py), Go's crypto/tls (goclient.go, built into WORK) and `openssl s_client
# -verify_return_error`. Each puts its own choices on the wire (alerts, resets, closes) for the
# same fault. Sourced by gen-servers.sh (see there); the clients run from a non-CloudFront
# address, then (the `-cfaddr` scenarios) from CloudFront's, in one run so that every capture
# is made with the one PKI in ca/ (a run makes a new one: regenerate the whole set, never a few):
#   sudo CLIENT_IP=198.51.100.20 tests/scenarios/gen-servers.sh pcaps/field/clients clients
# Needs curl, gnutls-bin, python3, golang-go (1.19), openssl. Ports 47400-47449.
# shellcheck shell=bash

GO_CLIENT=$WORK/goclient
build_goclient() {
    mkdir -p "$WORK/gocache" "$WORK/gopath"
    (cd "$HERE" && GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GO111MODULE=off \
        go build -o "$GO_CLIENT" goclient.go)
}

# get SNI — the request the clients that read it from standard input send.
get() { printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1"; }

# client KIND PORT SNI [MAXVER] — one HTTPS GET from the client namespace to the origin's
# address with SNI (and name check) SNI, trusting ca/root.pem; MAXVER 1.2 caps the version.
# Output (the client's own error message) goes to WORK/CUR.client.
client() {
    local kind=$1 port=$2 sni=$3 max=${4:-} root=$CA/root.pem
    local -a run=("${IN_C[@]}" timeout 6)
    case $kind in
        curl)
            "${run[@]}" curl -sS -o /dev/null -w 'curl: HTTP %{http_code}\n' --max-time 5 \
                --cacert "$root" --resolve "$sni:$port:$HOST" ${max:+--tls-max "$max"} \
                "https://$sni:$port/" ;;
        gnutls)
            (get "$sni"; sleep 1) | "${run[@]}" gnutls-cli -p "$port" --x509cafile "$root" \
                --sni-hostname "$sni" --verify-hostname "$sni" \
                ${max:+--priority NORMAL:-VERS-TLS1.3} "$HOST" ;;
        python)
            "${run[@]}" python3 "$HERE/pyclient.py" "$HOST" "$port" "$sni" "$root" ${max:+"$max"} ;;
        go)
            "${run[@]}" "$GO_CLIENT" "$HOST:$port" "$sni" "$root" ${max:+"$max"} ;;
        openssl)
            (get "$sni"; sleep 1) | "${run[@]}" openssl s_client -brief -verify_return_error \
                -CAfile "$root" -connect "$HOST:$port" -servername "$sni" -verify_hostname "$sni" \
                ${max:+-tls1_2} ;;
    esac >>"$WORK/$CUR.client" 2>&1 || true
}

# srv SERVER PORT CERT CHAIN CASE — the server for a case, in that server's own words.
srv() {
    local s=$1 port=$2 cert=$3 ch=$4 case=$5
    case $s:$case in
        nginx:tls10) PROTOS=TLSv1 nginx_srv "$port" "$cert" "$ch" "ssl_ciphers DEFAULT@SECLEVEL=0;" ;;
        apache:tls10) apache_srv "$port" "$cert" "$ch" "SSLProtocol TLSv1
    SSLCipherSuite DEFAULT@SECLEVEL=0" ;;
        haproxy:tls10) haproxy_srv "$port" "$cert" "$ch" \
            "ssl-min-ver TLSv1.0 ssl-max-ver TLSv1.0 ciphers DEFAULT@SECLEVEL=0" ;;
        # One TLS 1.2 suite none of the five clients offers by default.
        nginx:cipher) PROTOS=TLSv1.2 nginx_srv "$port" "$cert" "$ch" \
            "ssl_ciphers ECDHE-RSA-CAMELLIA256-SHA384;" ;;
        apache:cipher) apache_srv "$port" "$cert" "$ch" "SSLProtocol TLSv1.2
    SSLCipherSuite ECDHE-RSA-CAMELLIA256-SHA384" ;;
        haproxy:cipher) haproxy_srv "$port" "$cert" "$ch" \
            "ssl-max-ver TLSv1.2 ciphers ECDHE-RSA-CAMELLIA256-SHA384" ;;
        nginx:ccreq) nginx_srv "$port" "$cert" "$ch" \
            "ssl_verify_client on; ssl_client_certificate $CA/client_ca.pem;" ;;
        apache:ccreq) apache_srv "$port" "$cert" "$ch" "SSLVerifyClient require
    SSLVerifyDepth 2
    SSLCACertificateFile $CA/client_ca.pem" ;;
        haproxy:ccreq) haproxy_srv "$port" "$cert" "$ch" "verify required ca-file $CA/client_ca.pem" ;;
        # nginx: a default server that refuses every handshake, beside origin.example.com's
        # (the extra directives close the first server block and open the second).
        nginx:sni) nginx_srv "$port" "$cert" "$ch" "}
    server {
        listen $HOST:$port ssl default_server;
        ssl_reject_handshake on;" ;;
        haproxy:sni) haproxy_srv "$port" "$cert" "$ch" "strict-sni" ;;
        *) "${s}_srv" "$port" "$cert" "$ch" ;;
    esac
}

CLIENTS=(curl gnutls python go openssl)
SERVERS=(nginx apache haproxy)
# case id, cause, port, certificate, chain, server config, SNI, client's maximum version
CASES=(
    "tls12 ok 47400 leaf int - origin.example.com 1.2"
    "tls13 ok 47401 leaf int - origin.example.com -"
    "untrusted cert_untrusted_ca 47402 leaf_private private_root - origin.example.com 1.2"
    "name cert_name_mismatch 47403 leaf_wrongname int - origin.example.com 1.2"
    "expired cert_expired 47404 leaf_expired int - origin.example.com 1.2"
    "noint cert_missing_intermediate 47405 leaf - - origin.example.com 1.2"
    "self cert_self_signed 47406 leaf_self - - origin.example.com 1.2"
    "tls10 protocol_version_mismatch 47407 leaf int tls10 origin.example.com -"
    "cipher no_shared_cipher 47408 leaf int cipher origin.example.com -"
    "ccreq client_cert_required 47409 leaf int ccreq origin.example.com -"
    "sni sni_rejected 47410 leaf int sni unknown.example.org -"
)

# run_case CASE-INDEX CLIENT-INDEX [SERVER] [DETAIL] [MAXVER] — one capture of the matrix; the
# server rotates over the clients so every case meets every server.
run_case() {
    local -a c
    read -r -a c <<<"${CASES[$1]}"
    local cl=${CLIENTS[$2]} sv=${3:-${SERVERS[$((($1 + $2) % 3))]}} detail=${4:-}
    local max=${5:-${c[7]}}
    [[ $max == - ]] && max=
    [[ ${c[0]} == sni && -z ${3:-} ]] && sv=$([[ $cl == gnutls || $cl == go ]] && echo haproxy || echo nginx)
    local chain=${c[4]} conf=${c[5]}
    [[ $chain == - ]] && chain=
    [[ $conf == - ]] && conf=${c[0]}
    local name="${c[1]}-$sv-$cl${detail:+-$detail}"
    # Debian's GnuTLS still accepts TLS 1.0 (its NORMAL priority): that handshake succeeds.
    [[ ${c[0]} == tls10 && $cl == gnutls ]] && c[1]=ok
    [[ ${c[1]} == ok ]] && name="ok-$sv-$cl-${c[0]}${detail:+-$detail}"
    want "$name" || return 0
    capture_start "$name" "${c[2]}"
    srv "$sv" "${c[2]}" "${c[3]}" "$chain" "$conf"
    client "$cl" "${c[2]}" "${c[6]}" "$max"
    capture_stop
}

# client_address IP — move the client namespace to IP (the origin's route follows).
client_address() {
    ip -n "$NS_S" route del "$CLIENT_IP/32" dev "$VETH_S"
    ip -n "$NS_C" addr del "$CLIENT_IP/32" dev "$VETH_C"
    CLIENT_IP=$1
    ip -n "$NS_C" addr add "$CLIENT_IP/32" dev "$VETH_C"
    ip -n "$NS_C" route replace "$HOST/32" dev "$VETH_C"  # went with the last address
    ip -n "$NS_S" route add "$CLIENT_IP/32" dev "$VETH_S"
}

set_main() {
    build_goclient
    local i j
    for j in "${!CLIENTS[@]}"; do
        for i in "${!CASES[@]}"; do
            run_case "$i" "$j"
        done
    done
    # nginx's 400 after a TLS 1.2 handshake (the CertificateRequest in clear), two clients.
    run_case 9 0 nginx tls12 1.2
    run_case 9 3 nginx tls12 1.2
    # Certificate faults at the clients' default version, TLS 1.3: the certificate is encrypted
    # and each client's alert (in clear or not) is all the wire shows.
    run_case 2 3 haproxy tls13 -   # go, private CA
    run_case 6 1 nginx tls13 -     # gnutls, self-signed
    run_case 4 0 apache tls13 -    # curl, expired
    run_case 5 2 haproxy tls13 -   # python, leaf only
    run_case 3 4 nginx tls13 -     # openssl, wrong name
    run_case 3 3 apache tls13 -    # go, wrong name
    # From a CloudFront address (15.158.0.10): the CloudFront profile judges another client.
    client_address 15.158.0.10
    run_case 0 0 nginx cfaddr             # curl TLS 1.2 to nginx: ok
    run_case 9 0 nginx cfaddr-tls12 1.2   # curl, nginx ssl_verify_client on, TLS 1.2: 400
    run_case 3 3 haproxy cfaddr           # go, wrong name, TLS 1.2
    run_case 1 2 apache cfaddr            # python TLS 1.3 to apache: ok, but not CloudFront's
}
