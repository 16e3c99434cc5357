# test_live_lib.bash — shared by tests/scripts/test_live*.sh (sourced, not a test itself):
# network namespaces with veth pairs, a throw-away test PKI, real openssl peers, and a trap that
# removes every namespace, mount and process the test made, whether it passes or fails.
#
# Topology (all names carry the test's PID, so parallel runs never collide):
#   edge   15.158.0.10/16  (inside the --ranges prefix list)  ── veth ──┐
#   other  198.51.100.7/24 (outside it)                        ── veth ──┤ origin 192.0.2.1,
#                                                                        │ 198.51.100.1
# `tlsdiag capture` runs in the origin namespace, next to the openssl s_server instances.
set -u
TLSDIAG=${1:?usage: test_live*.sh TLSDIAG SRCDIR}
SRC=${2:?usage: test_live*.sh TLSDIAG SRCDIR}
ID=$$
NS_E=tdl-edge-$ID
NS_N=tdl-other-$ID
NS_O=tdl-origin-$ID
ORIGIN=192.0.2.1
ORIGIN_N=198.51.100.1
EDGE=15.158.0.10
OTHER=198.51.100.7
EDGE6=2600:9000:2000::10  # inside the IPv6 prefix of the --ranges file
OTHER6=2001:db8:1::7
ORIGIN6=2001:db8::1
ORIGIN6_N=2001:db8:1::1
WORK=$(mktemp -d /tmp/tlsdiag-live.XXXXXX)
chmod 755 "$WORK"
PIDS=()
MOUNTS=()
NETS_UP=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

live_cleanup() {
    local p m
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    for m in "${MOUNTS[@]}"; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    if [[ $NETS_UP == 1 ]]; then
        ip netns del "$NS_E" 2>/dev/null || true
        ip netns del "$NS_N" 2>/dev/null || true
        ip netns del "$NS_O" 2>/dev/null || true
    fi
    [[ -n ${KEEP:-} ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap live_cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) == 0 ]] || fail "this test needs root (network namespaces, live capture)"
[[ -x $TLSDIAG ]] || fail "tlsdiag binary not found or not executable: $TLSDIAG"
for tool in ip openssl tshark faketime setpriv python3; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup.sh installs it)"
done

in_e() { ip netns exec "$NS_E" "$@"; }
in_n() { ip netns exec "$NS_N" "$@"; }
in_o() { ip netns exec "$NS_O" "$@"; }

live_net_up() {
    NETS_UP=1
    ip netns add "$NS_E" && ip netns add "$NS_N" && ip netns add "$NS_O" || fail "ip netns add"
    ip link add "tde$ID" type veth peer name "tdo$ID" || fail "veth edge"
    ip link add "tdn$ID" type veth peer name "tdp$ID" || fail "veth other"
    ip link set "tde$ID" netns "$NS_E" && ip link set "tdo$ID" netns "$NS_O" &&
        ip link set "tdn$ID" netns "$NS_N" && ip link set "tdp$ID" netns "$NS_O" || fail "ip link set netns"
    in_e ip addr add "$EDGE/16" dev "tde$ID"
    in_o ip addr add "$ORIGIN/24" dev "tdo$ID"
    in_n ip addr add "$OTHER/24" dev "tdn$ID"
    in_o ip addr add "$ORIGIN_N/24" dev "tdp$ID"
    local ns
    for ns in "$NS_E" "$NS_N" "$NS_O"; do
        ip netns exec "$ns" ip link set lo up
    done
    in_e ip link set "tde$ID" up && in_o ip link set "tdo$ID" up &&
        in_n ip link set "tdn$ID" up && in_o ip link set "tdp$ID" up || fail "link up"
    in_e ip route add 192.0.2.0/24 dev "tde$ID" || fail "edge route"
    in_o ip route add 15.158.0.0/16 dev "tdo$ID" || fail "origin route"
    # IPv6 (nodad: usable at once, no duplicate-address wait).
    in_e ip -6 addr add "$EDGE6/64" dev "tde$ID" nodad &&
        in_o ip -6 addr add "$ORIGIN6/64" dev "tdo$ID" nodad &&
        in_n ip -6 addr add "$OTHER6/64" dev "tdn$ID" nodad &&
        in_o ip -6 addr add "$ORIGIN6_N/64" dev "tdp$ID" nodad || fail "IPv6 addresses"
    in_e ip -6 route add 2001:db8::/64 dev "tde$ID" &&
        in_o ip -6 route add 2600:9000:2000::/64 dev "tdo$ID" || fail "IPv6 routes"
    # The prefix list the capture is told about: the edge's /16 (and an IPv6 one, unused).
    cat >"$WORK/ip-ranges.json" <<'JSON'
{"syncToken": "1", "createDate": "2026-11-26-00-00-00",
 "prefixes": [{"ip_prefix": "15.158.0.0/16", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING", "network_border_group": "GLOBAL"}],
 "ipv6_prefixes": [{"ipv6_prefix": "2600:9000:2000::/36", "region": "GLOBAL", "service": "CLOUDFRONT_ORIGIN_FACING", "network_border_group": "GLOBAL"}]}
JSON
}

# live_pki: root → intermediate → leaf for origin.example.com, and an expired leaf (2020).
live_pki() {
    local P=$WORK/pki
    mkdir -p "$P"
    cat >"$P/ext.cnf" <<'EOF2'
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:origin.example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF2
    local k
    for k in root int leaf leaf_expired; do
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/$k.key" 2>/dev/null ||
            fail "openssl genpkey"
    done
    openssl req -new -x509 -key "$P/root.key" -sha256 -days 3650 -subj "/CN=tlsdiag live test root" \
        -config "$P/ext.cnf" -extensions ca -out "$P/root.pem" 2>/dev/null || fail "root"
    issue() {  # NAME ISSUER EXT CN DAYS [FAKETIME]
        local -a pre=()
        [[ -n ${6:-} ]] && pre=(faketime "$6")
        openssl req -new -key "$P/$1.key" -subj "/CN=$4" -out "$P/$1.csr" 2>/dev/null &&
            "${pre[@]}" openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" -CAkey "$P/$2.key" \
                -set_serial "0x$(openssl rand -hex 8)" -days "$5" -sha256 -extfile "$P/ext.cnf" \
                -extensions "$3" -out "$P/$1.pem" 2>/dev/null || fail "issue $1"
    }
    issue int root ca "tlsdiag live test intermediate" 3650
    issue leaf int leaf origin.example.com 3650
    issue leaf_expired int leaf origin.example.com 366 "2020-01-01 00:00:00"
    cp "$P/int.pem" "$P/chain.pem"
    PKI=$P
}

# server PORT CERT [s_server args...] — a real openssl s_server in the origin namespace.
server() {
    local port=$1 cert=$2
    shift 2
    # `ip netns exec` execs the command: $! is the server itself (a shell function would add a
    # subshell between them, and signals would reach the subshell only).
    ip netns exec "$NS_O" openssl s_server -accept "$port" -www -cert "$PKI/$cert.pem" \
        -key "$PKI/$cert.key" "$@" >"$WORK/server-$port.log" 2>&1 &
    PIDS+=($!)
    local i
    for i in $(seq 1 200); do
        in_o ss -Hltn "sport = :$port" | grep -q . && return 0
        sleep 0.05
    done
    fail "s_server on port $port did not start: $(cat "$WORK/server-$port.log")"
}

CF_CIPHERS='ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA'
HTTP_GET=$'GET / HTTP/1.1\r\nHost: origin.example.com\r\nUser-Agent: Amazon CloudFront\r\nConnection: close\r\n\r\n'

# client NS-FUNC HOST PORT — a CloudFront-like handshake (TLS 1.2, CloudFront's ciphers, SNI,
# verification against the test root) that sends one HTTP request.
client() {
    local ns=$1 host=$2 port=$3
    printf '%s' "$HTTP_GET" | "$ns" timeout 10 openssl s_client -connect "$host:$port" \
        -servername origin.example.com -verify_hostname origin.example.com -verify_return_error \
        -CAfile "$PKI/root.pem" -no_tls1_3 -cipher "$CF_CIPHERS" -ign_eof \
        >>"$WORK/client-$port.log" 2>&1 || true
}
edge_client() { client in_e "$ORIGIN" "$1"; }
other_client() { client in_n "$ORIGIN_N" "$1"; }
edge_client6() { client in_e "[$ORIGIN6]" "$1"; }
other_client6() { client in_n "[$ORIGIN6_N]" "$1"; }

# capture OUT ERR [tlsdiag capture args...] — start `tlsdiag capture` in the origin namespace
# and wait until its filter is installed ("listening on" is printed after activation).
capture() {
    local out=$1 err=$2
    shift 2
    ip netns exec "$NS_O" "$TLSDIAG" capture "$@" >"$out" 2>"$err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 1 400); do
        grep -q 'listening on' "$err" && return 0
        kill -0 "$CAP_PID" 2>/dev/null || fail "tlsdiag capture exited early: $(cat "$err")"
        sleep 0.05
    done
    fail "tlsdiag capture never started listening: $(cat "$err")"
}

# wait_json FILE N — wait until FILE holds N JSON objects of type handshake (bounded: 20 s).
wait_json() {
    local i
    for i in $(seq 1 400); do
        [[ $(grep -c '"type": *"handshake"' "$1" 2>/dev/null) -ge $2 ]] && return 0
        sleep 0.05
    done
    fail "expected $2 streamed verdicts in $1, got $(grep -c '"type": *"handshake"' "$1"): $(cat "$1")"
}

# stop PID SIGNAL — signal the capture and return its exit status in STOP_RC.
# A capture that ignores the signal is killed after 20 s and the test fails (never hangs).
stop() {
    kill "-$2" "$1" || fail "kill -$2 $1"
    local i
    for i in $(seq 1 400); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null
        fail "process $1 still running 20 s after SIG$2"
    fi
    STOP_RC=0
    wait "$1" || STOP_RC=$?
}

# valid_pcap FILE — tshark and tlsdiag both read it whole (no "cut short", no damage).
valid_pcap() {
    local f=$1 msg
    [[ -s $f ]] || fail "$f is missing or empty"
    msg=$(tshark -r "$f" 2>&1 >/dev/null | grep -v 'Running as user')
    [[ -z $msg ]] || fail "tshark on $f: $msg"
    local rc=0
    "$TLSDIAG" analyze -q "$f" >/dev/null 2>"$WORK/valid.err" || rc=$?
    [[ $rc -le 1 ]] || fail "tlsdiag analyze $f exited $rc: $(cat "$WORK/valid.err")"
}
