# lib.bash — the capture helpers gen.sh and gen-servers.sh share (sourced, not run): wait for a
# listener, tcpdump around one scenario, and the SCENARIOS=... filter. They read the caller's
# OUT, WORK, PIDS, ONLY, FILTER, IFACE and IN_SERVER_NS (a command prefix: the server's
# network namespace, empty on loopback), and set CUR, the scenario's name.
# shellcheck shell=bash

wait_listen() {
    local i
    for i in $(seq 1 100); do
        if "${IN_SERVER_NS[@]}" ss -Hltn "sport = :$1" | grep -q .; then
            return 0
        fi
        sleep 0.05
    done
    log "$CUR: nothing listening on $1"
    return 1
}

# ------------------------------------------------------------------------------------------------
# Capture around one scenario.
# ------------------------------------------------------------------------------------------------
TCPDUMP_PID=
# capture_start NAME PORT [tcpdump args...]
capture_start() {
    CUR=$1
    local port=$2
    shift 2
    : >"$WORK/$CUR.tcpdump"
    "${IN_SERVER_NS[@]}" tcpdump -i "$IFACE" -n -U --immediate-mode -w "$OUT/$CUR.pcap" "$@" \
        "${FILTER:-tcp port $port}" >"$WORK/$CUR.tcpdump" 2>&1 &
    TCPDUMP_PID=$!
    PIDS+=("$TCPDUMP_PID")
    local i
    for i in $(seq 1 100); do
        grep -q 'listening on' "$WORK/$CUR.tcpdump" && break
        sleep 0.05
    done
    sleep 0.2   # "listening on" is printed just before the BPF filter is attached
}

# capture_stop — let the last packets (FIN, RST) arrive, stop the peers, stop tcpdump with
# SIGINT so it flushes and writes a complete file.
capture_stop() {
    sleep 0.5
    local p
    for p in "${PIDS[@]}"; do
        [[ $p == "$TCPDUMP_PID" ]] && continue
        kill "$p" 2>/dev/null || true
    done
    kill -INT "$TCPDUMP_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    PIDS=()
    local n
    # tcpdump writes as the user it drops privileges to; give the file to OUTDIR's owner.
    chown --reference="$OUT" "$OUT/$CUR.pcap"
    n=$(tcpdump -r "$OUT/$CUR.pcap" -n 2>/dev/null | wc -l)
    log "$CUR: $n packets"
    if [[ $n -eq 0 ]]; then
        log "$CUR: empty capture; peer logs follow"
        cat "$WORK/$CUR".* >&2 || true
        exit 1
    fi
}

want() { [[ -z $ONLY || " $ONLY " == *" $1 "* ]]; }

# scenario NAME PORT FUNCTION — run FUNCTION (which starts peers) inside a capture.
scenario() {
    local name=$1 port=$2 fn=$3
    want "$name" || return 0
    capture_start "$name" "$port"
    "$fn" "$port"
    capture_stop
}
