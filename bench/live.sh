#!/usr/bin/env bash
# live.sh — issue 7's live target: `tlsdiag capture` vs `tcpdump -w /dev/null` on a veth fed by tcpreplay.
#
#   bench/live.sh [DATA_DIR [TLSDIAG_BINARY]]      (as root; bench/run.sh calls it at its end)
#
# DATA_DIR (default $BENCH_DATA or /work/bench-data/full) holds the generator's mixed.pcap and
# handshakes.pcap and seed/certs/root.pem (bench/run.sh makes them). The script
# 1. installs tcpreplay from Debian when missing (fails loudly when it cannot);
# 2. makes its own network namespace with a veth pair (tcpreplay sends on one end, the
#    capturers listen on the other; MTU from the largest frame in the files), removed on exit;
# 3. runs RUNS interleaved rounds (the capturers' order rotates each round); per file and round:
#    - separate: each capturer alone during one `tcpreplay --topspeed` replay: tcpdump,
#      tlsdiag (default text output), tlsdiag --json;
#    - same: tcpdump and tlsdiag listening at once during one replay ("in the same run");
#    - same_small: the same with a small kernel buffer for both (-B $LIVE_SMALL_KIB, default
#      1024 KiB = four of libpcap's 256 KiB TPACKET_V3 blocks, a few ms of headroom), so that
#      a difference in per-packet cost shows as drops;
#    - fixed: tcpdump and tlsdiag, each alone at `tcpreplay --pps` = half the rate a
#      calibration replay with nobody listening reached at top speed (tcpreplay's own pacing
#      cannot hold the full top rate; half of it both capturers can be fed at; LIVE_PPS
#      overrides);
#    each capturer is started, waited for until it prints "listening on", and stopped with
#    SIGINT once the replay is over and its CPU time has stopped growing; libpcap's received and
#    dropped counts come from its own report (tcpdump's stderr; tlsdiag's "Capture:" line or
#    the --json capture object). Both capturers get the same kernel filter (tlsdiag's
#    `--all-sources --print-filter`), kernel buffer (-B: tlsdiag's default, read from --help),
#    snapshot length and no promiscuous mode;
# 4. compares each text-mode tlsdiag run's summary (connections, outcomes, counts by cause) with
#    `tlsdiag analyze` of the same file whose timestamps were moved to the bench's date (the
#    live capture validates certificates at capture time, so the offline reference must too);
# 5. writes $LIVE_RESULTS (default bench/LIVE.md) through bench/live_report.py.
#
# Environment: RUNS [3] (or LIVE_RUNS), LIVE_FILES ["handshakes mixed"], LIVE_RESULTS,
# LIVE_SMALL_KIB [1024],
# LIVE_PPS (fixed rate in packets/s; default: calibrated per file), KEEP=1 keeps the work dir.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DATA=${1:-${BENCH_DATA:-/work/bench-data/full}}
TLSDIAG=${2:-${TLSDIAG:-$ROOT/build/cli/tlsdiag}}
RUNS=${LIVE_RUNS:-${RUNS:-3}}
FILES=${LIVE_FILES:-"handshakes mixed"}
OUT=${LIVE_RESULTS:-$HERE/LIVE.md}
SMALL_KIB=${LIVE_SMALL_KIB:-1024}
log() { printf '[%s] live: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    printf 'live.sh: %s\n' "$*" >&2
    exit 1
}

[[ $(id -u) == 0 ]] || die "needs root (network namespace, veth pair, live capture)"
[[ -x $TLSDIAG ]] || die "no tlsdiag binary at $TLSDIAG (build first, or pass it as the 2nd argument)"
TLSDIAG=$(realpath "$TLSDIAG")
[[ -d $DATA ]] || die "no data directory $DATA (bench/run.sh generates it)"
DATA=$(realpath "$DATA")
CA=$DATA/seed/certs/root.pem
[[ -s $CA ]] || die "no CA at $CA"
for f in $FILES; do
    [[ -s $DATA/$f.pcap ]] || die "no $DATA/$f.pcap (bench/run.sh generates it)"
done
need=()
command -v tcpreplay >/dev/null || need+=(tcpreplay)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v editcap >/dev/null || need+=(tshark)  # editcap (wireshark-common) shifts timestamps
command -v ip >/dev/null || need+=(iproute2)
if ((${#need[@]})); then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
        die "cannot install ${need[*]} with apt-get"
fi
for t in tcpreplay tcpdump editcap ip python3; do
    command -v "$t" >/dev/null || die "$t is missing"
done

# --- the capture settings both capturers get -------------------------------------------------
BUF_KIB=$("$TLSDIAG" capture --help | sed -n 's/.*-B, --buffer-size.*(default \([0-9]*\)).*/\1/p')
SNAPLEN=$("$TLSDIAG" capture --help | sed -n 's/.*-s, --snaplen.*(default \([0-9]*\).*/\1/p')
[[ $BUF_KIB =~ ^[0-9]+$ && $SNAPLEN =~ ^[0-9]+$ ]] ||
    die "cannot read tlsdiag capture's default -B/-s from its --help"
FILTER=$("$TLSDIAG" capture --all-sources --print-filter)
[[ -n $FILTER ]] || die "tlsdiag capture --print-filter printed nothing"

ID=$$
NS=tdlive-$ID
TX=tdltx$ID  # tcpreplay sends here
RX=tdlrx$ID  # the capturers listen here
WORK=$(mktemp -d /tmp/tlsdiag-live-bench.XXXXXX)
chmod 755 "$WORK"  # tlsdiag drops to nobody after opening its outputs; nothing else is needed
date -u '+%Y-%m-%d %H:%M UTC' >"$WORK/date.txt"  # when the measurements started
PIDS=()
NS_UP=0
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [[ $NS_UP == 1 ]]; then
        ip netns del "$NS" 2>/dev/null || true
    fi
    if [[ -n ${KEEP:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
in_ns() { ip netns exec "$NS" "$@"; }

# --- the largest frame decides the veth MTU ---------------------------------------------------
max_frame() {  # max_frame FILE → the largest original frame length (pcap or pcapng)
    python3 - "$1" <<'PY'
import struct, sys
f = open(sys.argv[1], "rb")
head = f.read(24)
magic = struct.unpack("<I", head[:4])[0]
if magic in (0xA1B2C3D4, 0xA1B23C4D): e = "<"
elif magic in (0xD4C3B2A1, 0x4D3CB2A1): e = ">"
else: sys.exit("not a classic pcap file (tcpreplay needs pcap): %s" % sys.argv[1])
mx = 0
while True:
    h = f.read(16)
    if len(h) < 16: break
    _, _, caplen, length = struct.unpack(e + "IIII", h)
    mx = max(mx, length)
    f.seek(caplen, 1)
print(mx)
PY
}
MAXF=0
for f in $FILES; do
    m=$(max_frame "$DATA/$f.pcap") || die "cannot read $DATA/$f.pcap"
    ((m > MAXF)) && MAXF=$m
done
MTU=$((MAXF > 1514 ? MAXF - 14 : 1500))  # Ethernet: frame = MTU + 14 (no FCS in the files)
log "largest frame $MAXF bytes → veth MTU $MTU; -B $BUF_KIB KiB, -s $SNAPLEN, filter: $FILTER"

NS_UP=1
ip netns add "$NS" || die "ip netns add $NS"
ip -n "$NS" link add "$TX" type veth peer name "$RX" || die "ip link add veth"
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
for i in "$TX" "$RX"; do
    ip -n "$NS" link set "$i" mtu "$MTU" up || die "ip link set $i mtu $MTU up"
done
ip -n "$NS" link set lo up

# --- one capturer -----------------------------------------------------------------------------
# start_cap KIND TAG [BUFFER_KIB] → starts the capturer in the namespace, waits for its
# "listening on" line, sets CAP_PID. KIND: tcpdump | tlsdiag | tlsdiag_json. Files:
# $WORK/TAG.out, $WORK/TAG.err. BUFFER_KIB: -B for either tool (default $BUF_KIB).
start_cap() {
    local kind=$1 tag=$2 buf=${3:-$BUF_KIB}
    case $kind in
        tcpdump)
            ip netns exec "$NS" tcpdump -n -p -i "$RX" -B "$buf" -s "$SNAPLEN" -w /dev/null "$FILTER" \
                >"$WORK/$tag.out" 2>"$WORK/$tag.err" &
            ;;
        tlsdiag)
            ip netns exec "$NS" "$TLSDIAG" capture -i "$RX" --all-sources -B "$buf" -s "$SNAPLEN" \
                --ca-file "$CA" >"$WORK/$tag.out" 2>"$WORK/$tag.err" &
            ;;
        tlsdiag_json)
            ip netns exec "$NS" "$TLSDIAG" capture -i "$RX" --all-sources -B "$buf" -s "$SNAPLEN" \
                --ca-file "$CA" --json >"$WORK/$tag.out" 2>"$WORK/$tag.err" &
            ;;
        *) die "unknown capturer $kind" ;;
    esac
    CAP_PID=$!  # `ip netns exec` execs the command: this is the capturer itself
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 1 600); do
        grep -q 'listening on' "$WORK/$tag.err" 2>/dev/null && return 0
        kill -0 "$CAP_PID" 2>/dev/null || die "$kind exited before listening: $(cat "$WORK/$tag.err")"
        sleep 0.05
    done
    die "$kind never printed 'listening on' in 30 s: $(cat "$WORK/$tag.err")"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo gone; }

# quiesce PID...: after the replay, wait until every capturer's CPU time stopped growing for
# 1.6 s (it has read what the ring held; the kernel hands over a partly filled block after
# the capturer's timeout: 250 ms for tlsdiag, 1 s for tcpdump -w), at most 60 s.
quiesce() {
    local i p still cur
    declare -A last=()
    local calm=0
    for i in $(seq 1 300); do
        still=0
        for p in "$@"; do
            cur=$(cpu_ticks "$p")
            [[ ${last[$p]:-} == "$cur" ]] || still=1
            last[$p]=$cur
        done
        if ((still)); then calm=0; else calm=$((calm + 1)); fi
        ((calm >= 8)) && return 0
        sleep 0.2
    done
    log "warning: a capturer was still busy 60 s after the replay"
}

# stop_cap PID → SIGINT, wait for it to exit (60 s, then SIGKILL and fail).
stop_cap() {
    local pid=$1 i
    kill -INT "$pid" 2>/dev/null || true
    for i in $(seq 1 1200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        die "capturer $pid still running 60 s after SIGINT"
    fi
    wait "$pid" 2>/dev/null || true  # tlsdiag exits 1 when it saw failed handshakes
    local keep=() p
    for p in "${PIDS[@]}"; do  # reaped: its PID may be reused, so cleanup must not signal it
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# counts KIND TAG → "received<TAB>dropped<TAB>processed" from the capturer's own report.
counts() {
    local kind=$1 tag=$2 line
    case $kind in
        tcpdump)
            awk '/packets captured/{c=$1} /received by filter/{r=$1} /dropped by kernel/{d=$1}
                 END{if (r == "" || d == "" || c == "") exit 1; print r "\t" d "\t" c}' \
                "$WORK/$tag.err" || die "no counts in tcpdump's report: $(cat "$WORK/$tag.err")"
            ;;
        tlsdiag)
            line=$(grep '^Capture: interface' "$WORK/$tag.out") ||
                die "no 'Capture:' line from tlsdiag: $(tail -3 "$WORK/$tag.out") $(cat "$WORK/$tag.err")"
            sed -E 's/.* ([0-9]+) packets analysed, libpcap: ([0-9]+) received, ([0-9]+) dropped.*/\2\t\3\t\1/' \
                <<<"$line"
            ;;
        tlsdiag_json)
            python3 -c '
import json, sys
c = [json.loads(l) for l in open(sys.argv[1]) if "\"type\":\"capture\"" in l][-1]
print("%d\t%d\t%d" % (c["received"], c["dropped"], c["packets"]))' "$WORK/$tag.out" ||
                die "no capture object in tlsdiag --json output: $(cat "$WORK/$tag.err")"
            ;;
    esac
}

# summary_counts FILE → the time-independent lines of a text summary: totals, predicted
# failures, and the count of every cause (descriptions included).
summary_counts() {
    sed -n -e '/^Summary: /p' -e '/would fail for CloudFront/p' \
        -e '/^By cause$/,/^Dominant cause/{/^ *[0-9]/p}' "$1"
}

# replay TAG FILE [tcpreplay rate options] → "sent<TAB>seconds<TAB>Mbps<TAB>pps" (tcpreplay's own).
replay() {
    local tag=$1 file=$2
    shift 2
    in_ns tcpreplay -i "$TX" "$@" "$file" >"$WORK/$tag.replay" 2>&1 ||
        die "tcpreplay failed: $(tail -5 "$WORK/$tag.replay")"
    awk '/Actual:/{n=$2; for (i=1;i<=NF;i++) if ($i=="in") s=$(i+1)}
         /Rated:/{for (i=1;i<=NF;i++) {if ($i ~ /^Mbps/) m=$(i-1); if ($i ~ /^pps/) p=$(i-1)}}
         END{if (n == "") exit 1; gsub(",", "", m); gsub(",", "", p); print n "\t" s "\t" m "\t" p}' \
        "$WORK/$tag.replay" || die "cannot read tcpreplay's report: $(cat "$WORK/$tag.replay")"
}

# --- offline references: the files with their timestamps moved to today -----------------------
declare -A REF=()
for f in $FILES; do
    first=$(python3 -c '
import struct, sys
f = open(sys.argv[1], "rb"); h = f.read(24); r = f.read(16)
e = "<" if struct.unpack("<I", h[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
print(struct.unpack(e + "I", r[:4])[0])' "$DATA/$f.pcap")
    shift_s=$(($(date +%s) - first))
    log "offline reference for $f.pcap (timestamps +${shift_s} s, to the bench's date)"
    editcap -t "$shift_s" "$DATA/$f.pcap" "$WORK/$f.now.pcap" || die "editcap -t failed on $f.pcap"
    "$TLSDIAG" analyze --ca-file "$CA" "$WORK/$f.now.pcap" >"$WORK/$f.offline.txt" 2>"$WORK/$f.offline.err" || true
    summary_counts "$WORK/$f.offline.txt" >"$WORK/$f.offline.counts"
    [[ -s $WORK/$f.offline.counts ]] || die "no summary from tlsdiag analyze $f: $(cat "$WORK/$f.offline.err")"
    rm -f "$WORK/$f.now.pcap"
    REF[$f]=$WORK/$f.offline.counts
done

# --- calibration: the top rate tcpreplay reaches with nobody listening --------------------------
declare -A PPS=()
for f in $FILES; do
    cat "$DATA/$f.pcap" >/dev/null  # warm the page cache
    r=$(replay "calib-$f" "$DATA/$f.pcap" --topspeed)
    top=$(cut -f4 <<<"$r" | cut -d. -f1)
    PPS[$f]=${LIVE_PPS:-$((top / 2))}
    log "calibration $f: $(cut -f3 <<<"$r") Mbps, $(cut -f4 <<<"$r") pps at top speed with nobody listening; fixed-rate runs at ${PPS[$f]} pps"
    printf '%s\t%s\t%s\n' "$f" "$r" "${PPS[$f]}" >>"$WORK/calibration.tsv"
done

# --- the rounds -------------------------------------------------------------------------------
RES=$WORK/live.tsv
printf 'round\tfile\tmode\tcapturer\tsent\tseconds\tmbps\tpps\treceived\tdropped\tprocessed\tsummary\n' >"$RES"
record() {  # record ROUND FILE MODE KIND TAG REPLAYLINE
    local c match=-
    c=$(counts "$4" "$5")
    if [[ $4 == tlsdiag ]]; then
        summary_counts "$WORK/$5.out" >"$WORK/$5.counts"
        if cmp -s "$WORK/$5.counts" "${REF[$2]}"; then match=same; else match=differs; fi
        cp "$WORK/$5.counts" "$WORK/last-$2-$3.counts"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$6" "$c" "$match" >>"$RES"
    log "  $3 $4: $(cut -f1 <<<"$6") sent at $(cut -f3 <<<"$6") Mbps / $(cut -f4 <<<"$6") pps; received, dropped, processed: $(tr '\t' ' ' <<<"$c") ${match/-/}"
}
one() {  # one ROUND FILE MODE KIND [rate options]: a capturer alone during one replay
    local r=$1 f=$2 mode=$3 kind=$4 tag="r$1-$2-$3-$4" rl
    shift 4
    start_cap "$kind" "$tag"
    local pid=$CAP_PID
    rl=$(replay "$tag" "$DATA/$f.pcap" "$@")
    quiesce "$pid"
    stop_cap "$pid"
    record "$r" "$f" "$mode" "$kind" "$tag" "$rl"
}
both() {  # both ROUND FILE MODE BUFFER_KIB: tcpdump and tlsdiag listening at once, one replay
    local r=$1 f=$2 mode=$3 buf=$4 t1="r$1-$2-$3-tcpdump" t2="r$1-$2-$3-tlsdiag" rl p1 p2
    if ((r % 2)); then
        start_cap tcpdump "$t1" "$buf"; p1=$CAP_PID
        start_cap tlsdiag "$t2" "$buf"; p2=$CAP_PID
    else
        start_cap tlsdiag "$t2" "$buf"; p2=$CAP_PID
        start_cap tcpdump "$t1" "$buf"; p1=$CAP_PID
    fi
    rl=$(replay "r$1-$2-$3" "$DATA/$f.pcap" --topspeed)
    quiesce "$p1" "$p2"
    stop_cap "$p1"
    stop_cap "$p2"
    record "$r" "$f" "$mode" tcpdump "$t1" "$rl"
    record "$r" "$f" "$mode" tlsdiag "$t2" "$rl"
}

KINDS=(tcpdump tlsdiag tlsdiag_json)
for r in $(seq 1 "$RUNS"); do
    for f in $FILES; do
        log "round $r/$RUNS, $f.pcap"
        n=${#KINDS[@]}
        for k in $(seq 0 $((n - 1))); do  # the order rotates from round to round
            one "$r" "$f" separate "${KINDS[$(((k + r - 1) % n))]}" --topspeed
        done
        both "$r" "$f" same "$BUF_KIB"
        both "$r" "$f" same_small "$SMALL_KIB"
        if ((r % 2)); then fixed=(tcpdump tlsdiag); else fixed=(tlsdiag tcpdump); fi
        for kind in "${fixed[@]}"; do
            one "$r" "$f" fixed "$kind" --pps="${PPS[$f]}"
        done
    done
done

for f in $FILES; do
    cp "${REF[$f]}" "$WORK/ref-$f.counts"
done
python3 "$HERE/live_report.py" "$WORK" "$DATA" "$TLSDIAG" "$RUNS" "$FILES" "$BUF_KIB" "$SNAPLEN" \
    "$FILTER" "$MTU" "$SMALL_KIB" >"$OUT" || die "live_report.py failed"
log "wrote $OUT"
