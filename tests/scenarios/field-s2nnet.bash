# field-s2nnet.bash — the s2nnet set of gen-servers.sh (pcaps/field/s2nnet/): CloudFront's client
# (s2nc) against real origins that fail below or around TLS: nothing listening, a SYN dropped, plain
# HTTP on the TLS port, a layer-4 balancer that resets, closes or stalls, a path MTU black hole,
# refused or missing SNI, a capture that is cut or starts late, a client that refuses what the
# analyzer accepts, and a balancer that misroutes a ClientHello spanning several segments.
# Sourced by gen-servers.sh (its servers, `s2n`, `scenario`, the PKI); ports 47300-47349.
# shellcheck shell=bash

set_pki() {
    # The certificate a server hands out when it does not know the name asked for.
    LEAF_SAN=DNS:default.example.net issue leaf_default int leaf default.example.net
    # A trust store without the field root: a client that trusts other CAs than the analyzer.
    cat "$CA/private_root.pem" >"$WORK/other-trust.pem"
}

# haproxy_tcp PORT "frontend lines" [BACKEND_PORT] — haproxy in TCP mode, without TLS of its own:
# a layer-4 balancer in front of the origin (BACKEND_PORT, on the origin host), with the rules given.
# It logs every connection (tcplog) to WORK/NAME.server.
haproxy_tcp() {
    local port=$1 rules=$2 backend=${3:-}
    cat >"$WORK/$CUR.haproxy.cfg" <<EOF
global
    pidfile $WORK/$CUR.haproxy.pid
    log stdout format raw local0 info
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend origin
    bind $HOST:$port ${BIND_OPTS:-}
$rules
backend tls
    server origin $HOST:${backend:-1}
EOF
    "${IN_SERVER_NS[@]}" timeout 20 haproxy -db -f "$WORK/$CUR.haproxy.cfg" >>"$WORK/$CUR.server" 2>&1 &
    PIDS+=($!)
    wait_listen "$port"
}

# Nothing listens on the port: the origin's kernel answers the SYN with RST/ACK.
f_refused() { s2n "$TLS12" "$1"; }

# A firewall that silently drops: the origin host has a blackhole route back to CloudFront (this
# kernel has no netfilter or tc actions to drop the SYN itself; on the wire it is the same), so
# the SYN and its retransmissions arrive and are captured, no SYN-ACK leaves; s2nc gives up after 4 s.
f_syn_dropped() {
    nginx_srv "$1" leaf int
    ip -n "$NS_S" route replace blackhole "$CLIENT_IP/32"
    CLIENT_TIMEOUT=4 s2n "$TLS12" "$1"
    ip -n "$NS_S" route replace "$CLIENT_IP/32" dev "$VETH_S"
}

# "Port 443 serves plain HTTP": nginx's listen without `ssl`, apache's virtual host with
# SSLEngine off. Both answer the ClientHello with an HTTP 400.
f_plain_nginx() { NGINX_LISTEN='' nginx_srv "$1" leaf int; s2n "$TLS12" "$1"; }
f_plain_apache() { apache_srv "$1" leaf int "SSLEngine off"; s2n "$C2025" "$1"; }

# haproxy passing TLS through by SNI, with an allow-list that does not hold the name CloudFront
# sends: `tcp-request content reject` closes the connection (FIN); with `option nolinger` (set to
# spare the balancer its FIN_WAIT sockets) the same close is a reset.
sni_allow_list() {
    nginx_srv 47340 leaf int
    haproxy_tcp "$1" "    tcp-request inspect-delay 5s
    tcp-request content reject if !{ req.ssl_sni -i www.example.com }
    $2
    default_backend tls" 47340
}
f_reject_sni() { sni_allow_list "$1" ""; s2n "$TLS12" "$1"; }
f_reject_sni_nolinger() { sni_allow_list "$1" "option nolinger"; s2n "$TLS12" "$1"; }

# haproxy in TCP mode whose only backend is down (nothing listens there): it reads the ClientHello,
# fails to connect, and closes the client's connection.
f_backend_down() {
    haproxy_tcp "$1" "    default_backend tls" 47341
    s2n "$TLS12" "$1"
}

# apache2 with its only worker busy (MaxRequestWorkers reached): the kernel completes the TCP
# handshake and acknowledges the ClientHello from the listen backlog, no worker ever reads it.
# The connection that keeps the worker busy comes from the origin host itself (not captured) and
# sends the first bytes of a record (apache accepts only connections with data: TCP_DEFER_ACCEPT),
# then nothing more, so the worker waits for the rest.
f_busy_apache() {
    apache_srv "$1" leaf int
    "${IN_SERVER_NS[@]}" timeout 15 bash -c "exec 3<>/dev/tcp/$HOST/$1; printf '\\x16\\x03\\x01\\x01\\x00' >&3; sleep 14" &
    PIDS+=($!)
    sleep 0.3
    s2n "$TLS12" "$1"
}

# A path MTU black hole: the client's link has MTU 1000 but advertises MSS 1460 (behind a router
# with a smaller MTU that filters ICMP), so the server's full-size segments never arrive; the
# capture, on the origin's side, shows them retransmitted and never acknowledged.
mtu_hole() {
    ip -n "$NS_C" link set "$VETH_C" mtu 1000
    ip -n "$NS_C" route replace "$HOST/32" dev "$VETH_C" advmss 1460
}
mtu_restore() {
    ip -n "$NS_C" link set "$VETH_C" mtu 1500
    ip -n "$NS_C" route replace "$HOST/32" dev "$VETH_C"
}
f_mtu_nginx() { mtu_hole; nginx_srv "$1" leaf int; CLIENT_TIMEOUT=4 s2n "$TLS12" "$1"; mtu_restore; }
f_mtu_haproxy() { mtu_hole; haproxy_srv "$1" leaf int; CLIENT_TIMEOUT=4 s2n "$C2025" "$1"; mtu_restore; }

# nginx's default server rejects handshakes for names it does not serve (ssl_reject_handshake on:
# unrecognized_name); CloudFront asks for other.example.net.
f_reject_handshake() {
    NGINX_HTTP="server {
        listen $HOST:$1 ssl default_server;
        ssl_reject_handshake on;
    }" nginx_srv "$1" leaf int
    s2n "$TLS12" "$1" -n other.example.net
}
# haproxy strict-sni: no certificate for the name asked, no handshake.
f_strict_sni() {
    haproxy_srv "$1" leaf int "strict-sni"
    s2n "$TLS12" "$1" -n other.example.net
}

# s2nc without SNI (-n ''): nginx's default server answers with its certificate for
# default.example.net, which does not fit the origin's name; s2nc closes without an alert.
f_no_sni_nginx() {
    chain leaf_default int
    NGINX_HTTP="server {
        listen $HOST:$1 ssl default_server;
        ssl_certificate $WORK/leaf_default-int.chain;
        ssl_certificate_key $KEYS/leaf_default.key;
    }" nginx_srv "$1" leaf int
    s2n "$TLS12" "$1" -n ''
}
# haproxy strict-sni and no SNI at all.
f_no_sni_haproxy() {
    haproxy_srv "$1" leaf int "strict-sni"
    s2n "$TLS12" "$1" -n ''
}

# An ok handshake captured with a 96-byte snaplen: every TLS payload is cut.
snaplen_scenario() {
    want "$1" || return 0
    capture_start "$1" "$2" -s 96
    nginx_srv "$2" leaf int
    s2n "$TLS12" "$2"
    capture_stop
}
# A capture started in the middle of the handshake: haproxy in front of nginx holds every
# connection 3 s before passing it on (`tcp-request content accept if WAIT_END`, a tarpit), and
# tcpdump starts after the client's ClientHello, before the server's flight.
midstream_scenario() {
    want "$1" || return 0
    CUR=$1
    nginx_srv 47343 leaf int
    haproxy_tcp "$2" "    tcp-request inspect-delay 3s
    tcp-request content accept if WAIT_END
    default_backend tls" 47343
    CLIENT_TIMEOUT=8 s2n "$TLS12" "$2" &
    PIDS+=($!)
    sleep 1
    capture_start "$1" "$2"
    sleep 3
    capture_stop
}

# s2nc trusts another CA than the analyzer (only Example Corp's private root): it refuses a chain
# that verifies against the field root and closes without an alert. Nothing the origin did is wrong.
f_other_trust() { nginx_srv "$1" leaf int; s2n "$TLS12" "$1" -f "$WORK/other-trust.pem"; }
f_other_trust_tls13() { nginx_srv "$1" leaf int; s2n "$C2025" "$1" -f "$WORK/other-trust.pem"; }

# haproxy routing TLS by SNI without a `tcp-request content` rule (its inspect-delay then waits for
# nothing) and with `defer-accept`: it decides on the first segment. CloudFront-Upstream-TLS-1-2's
# ClientHello fits in one and is routed to nginx; with the origin advertising MSS 120 and the
# client's link at 64 kbit/s (segments arrive apart), CloudFront-Upstream-2025's hello spans three,
# the SNI is not in the first, no backend matches and haproxy drops the connection. The failure
# haproxy issue 3148 reports for post-quantum ClientHellos.
f_split_sni() {
    nginx_srv 47342 leaf int
    BIND_OPTS=defer-accept haproxy_tcp "$1" "    tcp-request inspect-delay 5s
    use_backend tls if { req.ssl_sni -i origin.example.com }" 47342
    s2n "$TLS12" "$1"
    ip -n "$NS_S" route replace "$CLIENT_IP/32" dev "$VETH_S" advmss 120
    tc -n "$NS_C" qdisc add dev "$VETH_C" root tbf rate 64kbit burst 200 limit 20000
    s2n "$C2025" "$1"
    tc -n "$NS_C" qdisc del dev "$VETH_C" root
    ip -n "$NS_S" route replace "$CLIENT_IP/32" dev "$VETH_S"
}

set_main() {
    scenario connection_refused-nothing-s2n 47300 f_refused
    scenario connect_timeout-nginx-syn-dropped-s2n 47301 f_syn_dropped
    scenario not_tls-nginx-plain-http-s2n 47302 f_plain_nginx
    scenario not_tls-apache-plain-http-s2n-2025 47303 f_plain_apache
    scenario server_closed-haproxy-sni-reject-s2n 47304 f_reject_sni
    scenario server_closed-haproxy-backend-down-s2n 47305 f_backend_down
    scenario server_reset-haproxy-sni-reject-nolinger-s2n 47318 f_reject_sni_nolinger
    scenario server_timeout-apache-busy-s2n 47306 f_busy_apache
    scenario server_flight_lost-nginx-mtu-s2n 47307 f_mtu_nginx
    scenario server_flight_lost-haproxy-mtu-s2n-2025-tls13 47308 f_mtu_haproxy
    scenario sni_rejected-nginx-reject-handshake-s2n 47309 f_reject_handshake
    scenario sni_rejected-haproxy-strict-sni-s2n 47310 f_strict_sni
    scenario sni_missing-nginx-default-cert-s2n 47311 f_no_sni_nginx
    scenario sni_missing-haproxy-strict-sni-s2n 47312 f_no_sni_haproxy
    snaplen_scenario capture_incomplete-nginx-snaplen-s2n 47313
    midstream_scenario capture_incomplete-nginx-midstream-s2n 47314
    scenario client_closed-nginx-other-trust-s2n 47315 f_other_trust
    scenario client_closed-nginx-other-trust-s2n-2025-tls13 47316 f_other_trust_tls13
    scenario client_hello_rejected-haproxy-sni-split-s2n-2025 47317 f_split_sni
}
