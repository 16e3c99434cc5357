#!/usr/bin/env bash
# test_live_ops.sh TLSDIAG SRCDIR — the operational promises of `tlsdiag capture`, as root, in
# network namespaces: SIGINT and SIGTERM leave valid pcaps; -C/-W rotates a ring of valid files;
# a full disk (64 KiB tmpfs) stops the writing once, with one message, and analysis goes on;
# without permission the command says what to do in one sentence and exits 3; after activation
# the process runs as nobody with no capabilities (/proc/PID/status).
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_live_lib.bash
source "$HERE/test_live_lib.bash"

live_net_up
live_pki
server 4431 leaf -cert_chain "$PKI/chain.pem"
COMMON=(-i any -p 4431 --ranges "$WORK/ip-ranges.json" --ca-file "$PKI/root.pem" --json)
OUTDIR=$WORK/out
mkdir -p "$OUTDIR"

# --- privilege drop: uid/gid nobody, no capability, and it still captures ----------------------
capture "$WORK/priv.jsonl" "$WORK/priv.err" "${COMMON[@]}" -Z nobody
NOBODY_UID=$(id -u nobody)
st=/proc/$CAP_PID/status
read -r _ ruid euid suid fsuid < <(grep '^Uid:' "$st")
[[ "$ruid $euid $suid $fsuid" == "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ]] ||
    fail "uid after activation: $ruid $euid $suid $fsuid, want $NOBODY_UID (nobody) x4"
for set in CapEff CapPrm CapInh CapAmb; do
    v=$(awk -v k="$set:" '$1 == k {print $2}' "$st")
    [[ $v == 0000000000000000 ]] || fail "$set after activation is $v, want none"
done
[[ $(grep '^Groups:' "$st" | wc -w) -le 2 ]] || fail "supplementary groups kept: $(grep '^Groups:' "$st")"
edge_client 4431
wait_json "$WORK/priv.jsonl" 1
stop "$CAP_PID" INT
[[ $STOP_RC == 0 ]] || fail "capture after the drop exited $STOP_RC, want 0: $(cat "$WORK/priv.err")"
grep -q '"cause":"ok"' "$WORK/priv.jsonl" || fail "no ok verdict after the drop: $(cat "$WORK/priv.jsonl")"
echo "privilege drop: uid $NOBODY_UID, no capabilities, capture still works"

# --- SIGINT and SIGTERM leave valid pcaps -------------------------------------------------------
for sig in INT TERM; do
    capture "$WORK/sig$sig.jsonl" "$WORK/sig$sig.err" "${COMMON[@]}" -w "$OUTDIR/sig$sig.pcap"
    edge_client 4431
    edge_client 4431
    wait_json "$WORK/sig$sig.jsonl" 2
    stop "$CAP_PID" "$sig"
    [[ $STOP_RC == 0 ]] || fail "SIG$sig: exit $STOP_RC, want 0: $(cat "$WORK/sig$sig.err")"
    grep -q '"type":"summary"' "$WORK/sig$sig.jsonl" || fail "SIG$sig: no summary after the signal"
    valid_pcap "$OUTDIR/sig$sig.pcap"
    n=$("$TLSDIAG" analyze --json --ca-file "$PKI/root.pem" "$OUTDIR/sig$sig.pcap" | grep -c '"cause":"ok"')
    [[ $n == 2 ]] || fail "SIG$sig: the file re-analyzes to $n ok handshakes, want 2"
done
echo "signals: SIGINT and SIGTERM leave valid pcaps with both handshakes"

# --- rotation: -C 16k -W 3 → ring0..ring2, each valid and within the size -----------------------
capture "$WORK/ring.jsonl" "$WORK/ring.err" "${COMMON[@]}" -w "$OUTDIR/ring" -C 16k -W 3
for i in $(seq 1 12); do
    edge_client 4431
done
wait_json "$WORK/ring.jsonl" 12
stop "$CAP_PID" INT
[[ $STOP_RC == 0 ]] || fail "ring: exit $STOP_RC: $(cat "$WORK/ring.err")"
[[ -e $OUTDIR/ring3 || -e $OUTDIR/ring ]] && fail "ring: a file beyond the ring of 3: $(ls "$OUTDIR")"
total=0 filled=0
for i in 0 1 2; do
    f=$OUTDIR/ring$i
    valid_pcap "$f"
    size=$(stat -c %s "$f")
    [[ $size -le 16384 ]] || fail "ring: $f is $size bytes, over -C 16k"
    [[ $size -gt 24 ]] || fail "ring: $f holds no packet (12 handshakes are ~100 KB: all 3 are used)"
    [[ $size -gt 8192 ]] && filled=$((filled + 1))
    total=$((total + size))
done
# The two older files were filled up to the size (the newest may have just started).
[[ $filled -ge 2 ]] || fail "ring: only $filled file(s) over 8 KiB: no rotation at 16 KiB?"
full=$(python3 -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)['type']=='capture' and json.loads(l)['written']>0))" "$WORK/ring.jsonl")
[[ $full == 1 ]] || fail "ring: no capture object with written frames"
echo "rotation: 3 ring files, each valid and <= 16 KiB ($total bytes kept of 12 handshakes)"

# --- disk full: a 64 KiB tmpfs; one message; files valid; every verdict still printed ----------
mkdir -p "$WORK/tiny"
mount -t tmpfs -o size=64k,mode=0755 tdl-tiny "$WORK/tiny" || fail "mount tmpfs"
MOUNTS+=("$WORK/tiny")
capture "$WORK/full.jsonl" "$WORK/full.err" "${COMMON[@]}" -w "$WORK/tiny/cap.pcap"
n=0
for round in 1 2 3; do
    for i in $(seq 1 8); do
        edge_client 4431
    done
    n=$((n + 8))
    wait_json "$WORK/full.jsonl" "$n"
    sleep 1.2  # the writer flushes about once a second: let it hit the full disk mid-run
done
stop "$CAP_PID" INT
[[ $STOP_RC == 0 ]] || fail "disk full: exit $STOP_RC, want 0 (analysis goes on): $(cat "$WORK/full.err")"
msgs=$(grep -c 'stopped writing' "$WORK/full.err")
[[ $msgs == 1 ]] || fail "disk full: $msgs messages, want exactly 1: $(cat "$WORK/full.err")"
grep -q 'No space left on device' "$WORK/full.err" || fail "disk full: the message does not say why"
n_ok=$(grep -c '"cause":"ok"' "$WORK/full.jsonl")
[[ $n_ok == 24 ]] || fail "disk full: $n_ok verdicts, want 24 (analysis must go on)"
valid_pcap "$WORK/tiny/cap.pcap"
kept=$("$TLSDIAG" analyze --json --ca-file "$PKI/root.pem" "$WORK/tiny/cap.pcap" | grep -c '"type":"handshake"')
[[ $kept -ge 3 && $kept -lt 24 ]] || fail "disk full: the file holds $kept handshakes, want some but not all"
echo "disk full: one message, file valid with $kept of 24 handshakes, 24 verdicts printed"

# --- only CAP_NET_RAW + CAP_NET_ADMIN (as setcap gives them), not root: works, then drops them ---
ip netns exec "$NS_O" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin \
    "$TLSDIAG" capture "${COMMON[@]}" >"$WORK/caps.jsonl" 2>"$WORK/caps.err" &
CAP_PID=$!
PIDS+=("$CAP_PID")
for i in $(seq 1 400); do
    grep -q 'listening on' "$WORK/caps.err" && break
    kill -0 "$CAP_PID" 2>/dev/null || fail "capture with capabilities only exited: $(cat "$WORK/caps.err")"
    sleep 0.05
done
grep -q 'listening on' "$WORK/caps.err" || fail "capture with capabilities only never listened"
for set in CapEff CapPrm CapInh CapAmb; do
    v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$CAP_PID/status")
    [[ $v == 0000000000000000 ]] || fail "capabilities only: $set after activation is $v, want none"
done
edge_client 4431
wait_json "$WORK/caps.jsonl" 1
stop "$CAP_PID" TERM
[[ $STOP_RC == 0 ]] || fail "capabilities only: exit $STOP_RC: $(cat "$WORK/caps.err")"
echo "capabilities only: captures as nobody with net_raw+net_admin, then holds none"

# --- --duration and --count stop the capture by themselves --------------------------------------
# wait_exit PID — the process must end by itself (bounded: 20 s); its status in STOP_RC.
wait_exit() {
    for i in $(seq 1 400); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; fail "process $1 did not stop by itself"; }
    STOP_RC=0
    wait "$1" || STOP_RC=$?
}
capture "$WORK/dur.jsonl" "$WORK/dur.err" "${COMMON[@]}" --duration 1
wait_exit "$CAP_PID"
[[ $STOP_RC == 0 ]] || fail "--duration 1: exit $STOP_RC: $(cat "$WORK/dur.err")"
grep -q '"type":"summary"' "$WORK/dur.jsonl" || fail "--duration: no summary"
capture "$WORK/count.jsonl" "$WORK/count.err" "${COMMON[@]}" --count 2
edge_client 4431
edge_client 4431
wait_exit "$CAP_PID"
[[ $STOP_RC == 0 ]] || fail "--count 2: exit $STOP_RC: $(cat "$WORK/count.err")"
n=$(grep -c '"type":"handshake"' "$WORK/count.jsonl")
[[ $n == 2 ]] || fail "--count 2: $n verdicts"
grep -q '"connections":2,' "$WORK/count.jsonl" || fail "--count 2: summary: $(grep summary "$WORK/count.jsonl")"
echo "stop conditions: --duration 1 and --count 2 end the capture with a summary"

# --- bounded: 40 idle connections against --max-flows 8 → evicting, said once, table capped ------
capture "$WORK/flood.jsonl" "$WORK/flood.err" "${COMMON[@]}" --max-flows 8
in_e timeout 20 python3 -c '
import socket, sys, time
socks = [socket.create_connection((sys.argv[1], 4431), timeout=5) for _ in range(40)]
time.sleep(1.5)
' "$ORIGIN" || fail "flood client failed"
for i in $(seq 1 400); do
    grep -q 'evicting' "$WORK/flood.err" && break
    sleep 0.05
done
stop "$CAP_PID" INT
[[ $(grep -c 'evicting' "$WORK/flood.err") == 1 ]] || fail "flood: want one eviction message: $(cat "$WORK/flood.err")"
python3 - "$WORK/flood.jsonl" <<'PY' || exit 1
import json, sys
caps = [json.loads(l) for l in open(sys.argv[1]) if '"type":"capture"' in l]
c = caps[0]
if not (c["peak_flows"] <= 8 and c["flows_evicted"] >= 30):
    print("FAIL: flood: capture counts %s (want peak_flows <= 8, >= 30 evicted)" % c)
    sys.exit(1)
PY
echo "bounded: 40 connections, flow table stayed at <= 8, eviction announced once"

# --- a byte cap that engages is said on stderr once, naming its option, and in the verdicts -----
# (issue 14) Two handshakes under --max-flow-bytes 1024: the server's flight does not fit.
capture "$WORK/cap.jsonl" "$WORK/cap.err" "${COMMON[@]}" --max-flow-bytes 1024
edge_client 4431
edge_client 4431
wait_json "$WORK/cap.jsonl" 2
stop "$CAP_PID" INT
[[ $(grep -c 'per-flow buffer cap (--max-flow-bytes 1024)' "$WORK/cap.err") == 1 ]] ||
    fail "cap: want one --max-flow-bytes message: $(cat "$WORK/cap.err")"
[[ $(grep -c '"capture_note":"per-flow buffer cap reached (--max-flow-bytes)' "$WORK/cap.jsonl") == 2 ]] ||
    fail "cap: want both verdicts to name --max-flow-bytes: $(cat "$WORK/cap.jsonl")"
echo "caps: --max-flow-bytes 1024 engaged, said once on stderr and in both verdicts"

# --- kernel drops: a 1 KiB buffer and a stopped reader; the drops are counted and stamped -------
capture "$WORK/drops.jsonl" "$WORK/drops.err" "${COMMON[@]}" -B 1
kill -STOP "$CAP_PID"
for i in $(seq 1 20); do
    edge_client 4431  # the ring holds almost none of these packets
done
kill -CONT "$CAP_PID"
stop "$CAP_PID" INT   # what the ring kept is still read after the stop
python3 - "$WORK/drops.jsonl" <<'PY' || exit 1
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
cap = [o for o in objs if o["type"] == "capture"][0]
stamped = [o for o in objs if o["type"] == "handshake" and o["cause"] == "capture_incomplete"
           and "kernel dropped" in (o.get("capture_note") or "")]
if not cap["dropped"] > 0 or not stamped:
    print("FAIL: drops: capture %s, %d verdict(s) stamped with kernel drops" % (cap, len(stamped)))
    sys.exit(1)
PY
echo "kernel drops: counted by libpcap and stamped into the open connection's verdict"

# --- permission denied: one clear sentence, exit 3 ---------------------------------------------
rc=0
in_o setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all \
    "$TLSDIAG" capture -i any -p 4431 >"$WORK/eperm.out" 2>"$WORK/eperm.err" || rc=$?
[[ $rc == 3 ]] || fail "permission denied: exit $rc, want 3: $(cat "$WORK/eperm.err")"
[[ $(wc -l <"$WORK/eperm.err") == 1 ]] || fail "permission denied: want one line, got: $(cat "$WORK/eperm.err")"
grep -q 'no permission to capture' "$WORK/eperm.err" && grep -q 'root' "$WORK/eperm.err" &&
    grep -q 'setcap' "$WORK/eperm.err" || fail "permission denied: unclear message: $(cat "$WORK/eperm.err")"
[[ ! -s $WORK/eperm.out ]] || fail "permission denied: output on stdout: $(cat "$WORK/eperm.out")"
echo "permission denied: exit 3, one sentence"

# --- a bad -f filter and a missing interface: exit 3 with the reason ---------------------------
rc=0
in_o "$TLSDIAG" capture -i any -f 'bogus (' >/dev/null 2>"$WORK/badf.err" || rc=$?
[[ $rc == 3 ]] && grep -q 'bad filter -f "bogus ("' "$WORK/badf.err" ||
    fail "bad filter: exit $rc: $(cat "$WORK/badf.err")"
rc=0
in_o "$TLSDIAG" capture -i tdl-nosuch0 >/dev/null 2>"$WORK/noif.err" || rc=$?
[[ $rc == 3 ]] && grep -q 'no such interface "tdl-nosuch0"' "$WORK/noif.err" ||
    fail "no such interface: exit $rc: $(cat "$WORK/noif.err")"
echo "bad filter, no such interface: exit 3 with the reason"
echo "PASS"
