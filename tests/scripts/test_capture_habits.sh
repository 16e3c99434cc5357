#!/usr/bin/env bash
# test_capture_habits.sh TLSDIAG SRCDIR — tcpdump habits of `tlsdiag capture`:
#   -D lists the same interfaces as `tcpdump -D`, in the same words, and exits;
#   -G N rotates the -w file every N seconds under a strftime(3) name: a live capture on the
#   loopback of a namespace of our own, with TCP traffic we make, must leave at least two files,
#   each a valid pcap (tshark -r), named by the time its first frame's period started, holding
#   together every frame the capture wrote (none lost at a rotation);
#   --ecs on live TLS handshakes writes ECS events that agree with `analyze --json`.
set -uo pipefail
bin=$(realpath "${1:?usage: test_capture_habits.sh TLSDIAG SRCDIR}") src=$(realpath "${2:?}")
[[ $(id -u) == 0 ]] || { echo "FAIL: this test needs root (live capture, a namespace)"; exit 1; }
for tool in tcpdump tshark ip python3; do
    command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/setup.sh)"; exit 1; }
done
ns=ecs-g-$$
work=$(mktemp -d /tmp/tlsdiag-habits.XXXXXX)
chmod 755 "$work"  # capture drops to nobody, who must reach out/
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# -D: interface names (and whole lines) as tcpdump -D prints them. Other tests create and remove
# interfaces concurrently, so a difference counts only when it persists over three tries.
same=0
for _ in 1 2 3; do
    "$bin" capture -D >"$work/ours" 2>&1
    rc=$?
    tcpdump -D >"$work/theirs" 2>/dev/null
    if [[ $rc == 0 ]] && diff -q "$work/ours" "$work/theirs" >/dev/null; then same=1; break; fi
    sleep 1
done
if [[ $same == 1 && -s $work/ours ]]; then ok; else
    bad "capture -D differs from tcpdump -D"; diff "$work/ours" "$work/theirs" | head
fi

# -G: a namespace with only its loopback, a listener, and a client connecting 10 times a second.
ip netns add "$ns" || { echo "FAIL: cannot create namespace $ns"; exit 1; }
ip -n "$ns" link set lo up
port=47601
ip netns exec "$ns" python3 - "$port" <<'PY' &
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
def serve(c):
    c.recv(100); c.sendall(b"pong"); c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
pids+=($!)
ip netns exec "$ns" python3 - "$port" <<'PY' &
import socket, sys, time
while True:
    try:
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
        c.sendall(b"ping"); c.recv(10); c.close()
    except OSError:
        pass
    time.sleep(0.1)
PY
pids+=($!)
mkdir "$work/out" && chown nobody "$work/out"  # capture drops to nobody before rotating
export TZ=UTC
ip netns exec "$ns" "$bin" capture -i lo -p "$port" --all-sources --duration 5 --json \
    -w "$work/out/edge-%Y%m%d-%H%M%S.pcap" -G 1 >"$work/capture.jsonl" 2>"$work/capture.err"
rc=$?
[[ $rc == 0 || $rc == 1 ]] || { bad "capture -G exited $rc"; cat "$work/capture.err"; }
written=$(python3 -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]["written"])' "$work/capture.jsonl")
files=("$work"/out/edge-*.pcap)
if (( ${#files[@]} >= 2 )); then ok; else bad "-G 1 for 5 s left ${#files[@]} file(s)"; fi
total=0
for f in "${files[@]}"; do
    tshark -r "$f" -T fields -e frame.time_epoch 2>&1 >"$work/times" |
        grep -v '^Running as user' >"$work/tshark.err"
    n=$(wc -l <"$work/times")
    if [[ -s $work/tshark.err ]]; then
        bad "$(basename "$f") is not a valid pcap: $(head -1 "$work/tshark.err")"
        continue
    fi
    total=$((total + n))
    # The name is the period's start (strftime, UTC here); its frames lie in [start, start+1 s).
    if ! python3 - "$(basename "$f")" "$work/times" <<'PY'; then bad "$(basename "$f"): frames outside its period"; else ok; fi
import calendar, sys, time
start = calendar.timegm(time.strptime(sys.argv[1], "edge-%Y%m%d-%H%M%S.pcap"))
times = [float(t) for t in open(sys.argv[2]) if t.strip()]
sys.exit(0 if all(start <= t < start + 1 for t in times) else 1)
PY
    perm=$(stat -c %a "$f")
    [[ $perm == 600 ]] || bad "$(basename "$f") has mode $perm, not 600"
done
if [[ $total -gt 0 && $total == "$written" ]]; then ok; else
    bad "the files hold $total frames, the capture wrote $written"
fi
echo "-G: ${#files[@]} files, $total frames (capture wrote $written)"

# capture --ecs: the events of live TLS handshakes are ECS, and say what `analyze --json` of the
# same packets (-w) says (ecs_check.py: field names and types, reasons, Community IDs).
if command -v openssl >/dev/null; then
    tport=47602
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
        -days 30 -subj /CN=origin.example.com >/dev/null 2>&1
    ip netns exec "$ns" openssl s_server -quiet -accept "$tport" -cert "$work/cert.pem" \
        -key "$work/key.pem" -www >/dev/null 2>&1 &
    pids+=($!)
    sleep 0.5
    ip netns exec "$ns" "$bin" capture -i lo -p "$tport" --all-sources --duration 4 --ecs \
        -w "$work/out/tls.pcap" >"$work/live-ecs.jsonl" 2>"$work/live-ecs.err" &
    cap=$!
    sleep 1
    for _ in 1 2 3; do
        echo | ip netns exec "$ns" timeout 3 openssl s_client -connect 127.0.0.1:$tport \
            -servername origin.example.com >/dev/null 2>&1
    done
    wait $cap
    "$bin" analyze --json "$work/out/tls.pcap" >"$work/live.json" 2>/dev/null
    tshark -r "$work/out/tls.pcap" --enable-protocol communityid -Y tcp -T fields -e ip.src \
        -e tcp.srcport -e ip.dst -e tcp.dstport -e communityid 2>/dev/null >"$work/live-tshark.tsv"
    if out=$(python3 "$src/tests/scripts/ecs_check.py" "$src/tests/data/ecs/fields.tsv" \
        "$work/live-ecs.jsonl" "$work/live.json" "$work/live-tshark.tsv") &&
        [[ $(grep -c '"dataset":"tlsdiag.handshake"' "$work/live-ecs.jsonl") -ge 3 ]]; then
        ok; echo "capture --ecs: ${out##*$'\n'}"
    else
        bad "capture --ecs:"; echo "$out" | head; head -3 "$work/live-ecs.err"
    fi
else
    bad "openssl is missing (scripts/setup.sh)"
fi

# A link planted where the next period's file will go is never followed.
rm -f "$work"/out/*
next=$(date -u -d @$(($(date +%s) + 2)) +"$work/out/edge-%Y%m%d-%H%M%S.pcap")
ln -s /etc/passwd-tlsdiag-never "$next"; chown -h nobody "$next"
for s in 1 2 3 4; do ln -sf /etc/passwd-tlsdiag-never "$(date -u -d @$(($(date +%s) + s)) +"$work/out/edge-%Y%m%d-%H%M%S.pcap")"; done
ip netns exec "$ns" "$bin" capture -i lo -p "$port" --all-sources --duration 4 \
    -w "$work/out/edge-%Y%m%d-%H%M%S.pcap" -G 1 >/dev/null 2>"$work/planted.err"
if [[ ! -e /etc/passwd-tlsdiag-never ]] && grep -q "refusing" "$work/planted.err"; then ok; else
    bad "a planted link at a -G name was not refused"; cat "$work/planted.err"
fi
rm -f /etc/passwd-tlsdiag-never
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
