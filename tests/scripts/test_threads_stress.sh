#!/usr/bin/env bash
# test_threads_stress.sh — every `analyze --threads` mode (pipeline/threads.c and its parts), many times, with the
# cores kept busy: each run must end (a time limit per run is the hang guard) and its output and
# exit status must be those of one thread, byte for byte.
#   bash test_threads_stress.sh TLSDIAG SRCDIR
#   STRESS_REPS (default 6) rounds; STRESS_TIMEOUT (default 120) seconds per run, a hang guard
#   only (a run takes well under a second on an idle machine); STRESS_SYNS (default 16000) sizes
#   the capture (ThreadSanitizer runs are ~10x slower); STRESS_KEEP_GOING=1 counts hangs instead
#   of stopping at the first.
#
# The races this looks for need workers that hold many verdicts while another is behind, so the
# generated capture reports a connection every few frames in the middle of the file (SYNs spread
# over 20 minutes of capture time expire idle), mixed with the bundled handshakes. Modes: one file,
# stdin or a pipe (one-pass: the workers read it in turns), several files (each worker reads them
# all), several inputs one of them a pipe (one reader feeds the workers), a file cut short while
# being read, a damaged file, -c N, a missing file among several, a write error.
set -u
TLSDIAG=$(realpath "${1:?usage: test_threads_stress.sh TLSDIAG SRCDIR}")
SRCDIR=$(realpath "${2:?usage: test_threads_stress.sh TLSDIAG SRCDIR}")
REPS=${STRESS_REPS:-6}
LIMIT=${STRESS_TIMEOUT:-120}
SYNS=${STRESS_SYNS:-16000}
WORK=$(mktemp -d)
load_pids=()
stop_load() {
    for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${load_pids[@]}"; do wait "$p" 2>/dev/null; done
    load_pids=()
}
trap 'stop_load; rm -rf "$WORK"' EXIT

pass=0
fail=0
hangs=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

# gen.pcap: SYNS SYNs of distinct connections spread over 10 minutes (idle after 300 s: from the
# middle on, about one verdict a frame), with the bundled captures replayed one after the other.
python3 - "$WORK/gen.pcap" "$SYNS" "$SRCDIR"/pcaps/*.pcap <<'EOF'
import struct, sys
out, syns, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
frames = []  # (time in µs, order, bytes of the record's data)
def eth_ipv4(payload):
    return b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00" + payload
for i in range(syns):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                     bytes([10, 9, (i >> 8) & 255, i & 255]), bytes([198, 51, 100, 7]))
    tcp = struct.pack(">HHIIBBHHH", 1024 + i % 60000, 443, i, 0, 0x50, 2, 65535, 0, 0)
    frames.append((1_700_000_000_000_000 + i * 600_000_000 // syns, len(frames), eth_ipv4(ip + tcp)))
t = 1_700_000_000_000_000
for rnd in range(3):
    for path in inputs:
        data = open(path, "rb").read()
        if data[:4] != b"\xd4\xc3\xb2\xa1" or struct.unpack("<I", data[20:24])[0] != 1:
            continue  # classic little-endian µs Ethernet captures only
        off, recs = 24, []
        while off + 16 <= len(data):
            sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
            recs.append((sec * 1_000_000 + usec, data[off + 16:off + 16 + incl]))
            off += 16 + incl
        if not recs:
            continue
        t0 = recs[0][0]
        for ts, b in recs:
            frames.append((t + ts - t0, len(frames), b))
        t += recs[-1][0] - t0 + 2_000_000  # replays of a capture never overlap
frames.sort()
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for ts, _, b in frames:
        f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(b), len(b)) + b)
EOF
# damaged.pcap: the same, its last record cut in the middle (an error the reader reports).
size=$(stat -c %s "$WORK/gen.pcap")
head -c $((size - 30)) "$WORK/gen.pcap" >"$WORK/damaged.pcap"
mkfifo "$WORK/fifo"

# run NAME ARGS...: tlsdiag ARGS (stdin from $STDIN_FILE if set; $FIFO_FILE written into
# $WORK/fifo if set) under the hang guard; output in $WORK/NAME.out, .err, .rc. A hang (timeout)
# is counted and fails the test.
run() {
    local name=$1
    shift
    local rc=0 feeder=
    if [ -n "${FIFO_FILE:-}" ]; then
        cat "$FIFO_FILE" >"$WORK/fifo" 2>/dev/null &
        feeder=$!
    fi
    timeout -k 5 "$LIMIT" "$TLSDIAG" "$@" <"${STDIN_FILE:-/dev/null}" >"$WORK/$name.out" \
        2>"$WORK/$name.err" || rc=$?
    if [ -n "$feeder" ]; then
        kill "$feeder" 2>/dev/null
        wait "$feeder" 2>/dev/null
    fi
    echo "$rc" >"$WORK/$name.rc"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        hangs=$((hangs + 1))
        bad "$name: tlsdiag $* did not end within ${LIMIT}s (hang)"
        [ "${STRESS_KEEP_GOING:-0}" = 1 ] || exit 1
        return 1
    fi
}
# same REF NAME: NAME's output, messages and exit status are REF's.
same() {
    if cmp -s "$WORK/$1.out" "$WORK/$2.out" && cmp -s "$WORK/$1.rc" "$WORK/$2.rc" &&
        cmp -s "$WORK/$1.err" "$WORK/$2.err"; then
        ok
    else
        bad "$2 differs from $1 (exit $(cat "$WORK/$2.rc"), want $(cat "$WORK/$1.rc")): $(diff "$WORK/$1.out" "$WORK/$2.out" | head -3; diff "$WORK/$1.err" "$WORK/$2.err" | head -3)"
    fi
}

pcaps=("$SRCDIR"/pcaps/*.pcap)
# The references, with one thread (no load needed).
run file.1 analyze --json --threads 1 "$WORK/gen.pcap"
run text.1 analyze -v --color=never --threads 1 "$WORK/gen.pcap"
run many.1 analyze --json --threads 1 "${pcaps[@]}" "$WORK/gen.pcap"
STDIN_FILE=$WORK/gen.pcap run stdin.1 analyze --json --threads 1 -
FIFO_FILE=$WORK/gen.pcap run fifo.1 analyze --json --threads 1 "$WORK/fifo"
FIFO_FILE=$WORK/gen.pcap run manyfifo.1 analyze --json --threads 1 "${pcaps[@]}" "$WORK/fifo"
run damaged.1 analyze --json --threads 1 "$WORK/damaged.pcap"
run count.1 analyze --json --threads 1 -c 7 "$WORK/gen.pcap"
run missing.1 analyze --json --threads 1 "${pcaps[0]}" "$WORK/none.pcap" "$WORK/gen.pcap"
if [ "$(wc -l <"$WORK/file.1.out")" -gt "$SYNS" ] && [ "$(cat "$WORK/file.1.rc")" = 1 ]; then
    ok
else
    bad "the reference run reports $(wc -l <"$WORK/file.1.out") lines (exit $(cat "$WORK/file.1.rc")), want > $SYNS, exit 1"
fi

# A busy loop on every core, so that the workers are preempted at any point.
for _ in $(seq "$(nproc)"); do
    (while :; do :; done) &
    load_pids+=($!)
done

for r in $(seq "$REPS"); do
    # one file (one-pass mode, where the deadlock of issue 14 item 9 was): most often, and two
    # workers most often (each holds the most verdicts)
    for th in 2 2 2 4; do
        run "file.$th" analyze --json --threads "$th" "$WORK/gen.pcap" && same file.1 "file.$th"
    done
    th=$((2 + r % 3))
    run "many.$th" analyze --json --threads "$th" "${pcaps[@]}" "$WORK/gen.pcap" &&
        same many.1 "many.$th"
    run "text.$th" analyze -v --color=never --threads "$th" "$WORK/gen.pcap" && same text.1 "text.$th"
    STDIN_FILE=$WORK/gen.pcap run "stdin.$th" analyze --json --threads "$th" - &&
        same stdin.1 "stdin.$th"
    # a pipe is read once, by the workers in turns, as stdin is
    FIFO_FILE=$WORK/gen.pcap run "fifo.$th" analyze --json --threads "$th" "$WORK/fifo" &&
        same fifo.1 "fifo.$th"
    # several inputs, one a pipe (it cannot be opened again): one reader feeds the workers
    FIFO_FILE=$WORK/gen.pcap run "manyfifo.$th" analyze --json --threads "$th" "${pcaps[@]}" \
        "$WORK/fifo" && same manyfifo.1 "manyfifo.$th"
    run "damaged.$th" analyze --json --threads "$th" "$WORK/damaged.pcap" && same damaged.1 "damaged.$th"
    run "count.$th" analyze --json --threads "$th" -c 7 "$WORK/gen.pcap" && same count.1 "count.$th"
    run "missing.$th" analyze --json --threads "$th" "${pcaps[0]}" "$WORK/none.pcap" "$WORK/gen.pcap" &&
        same missing.1 "missing.$th"
    # a write error: the workers are stopped, exit 4
    rc=0
    timeout -k 5 "$LIMIT" "$TLSDIAG" analyze --json --threads "$th" "$WORK/gen.pcap" >/dev/full \
        2>"$WORK/full.err" || rc=$?
    if [ "$rc" = 4 ]; then
        ok
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        hangs=$((hangs + 1))
        bad "write error, --threads $th: hang"
        [ "${STRESS_KEEP_GOING:-0}" = 1 ] || exit 1
    else
        bad "write error, --threads $th: exit $rc, want 4"
    fi
    # The file cut short while it is read (test_cli.sh's case, here with the verdicts of gen.pcap):
    # the reader is stopped once it has read from the file, the file is cut, the reader goes on. Where
    # it was stopped varies, so the checks are exit 3, one error object, the summary last.
    cp "$WORK/gen.pcap" "$WORK/cut.pcap"
    PYTHONPATH="$(dirname "$0")" python3 - "$TLSDIAG" "$WORK/cut.pcap" "$th" "$LIMIT" >"$WORK/cut.res" 2>"$WORK/cut.err" <<'EOF'
import json, os, signal, subprocess, sys, time
from fd_offset import fd_offset
binp, path, threads, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
size = os.path.getsize(path)
p = subprocess.Popen([binp, "analyze", "--json", "--threads", threads, path],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
deadline = time.time() + 30
while time.time() < deadline and p.poll() is None:
    try:
        if fd_offset(p.pid, path):
            break
    except OSError:
        break
    time.sleep(0.0002)
if p.poll() is None:
    os.kill(p.pid, signal.SIGSTOP)
    os.truncate(path, size * 5 // 8)
    os.kill(p.pid, signal.SIGCONT)
try:
    out, err = p.communicate(timeout=limit)
except subprocess.TimeoutExpired:
    p.kill()
    p.communicate()
    print("hang 0 -")
    sys.exit(0)
kinds = [json.loads(line)["type"] for line in out.decode().splitlines()]
print(p.returncode, kinds.count("error"), kinds[-1] if kinds else "-")
sys.stderr.write(err.decode())
EOF
    read -r rc errors lasttype <"$WORK/cut.res" || rc=none
    if [ "$rc" = hang ]; then
        hangs=$((hangs + 1))
        bad "file cut short while being read, --threads $th: hang"
        [ "${STRESS_KEEP_GOING:-0}" = 1 ] || exit 1
    elif [ "$rc" = 3 ] && [ "$errors" = 1 ] && [ "$lasttype" = summary ]; then
        ok
    elif [ "$rc" -le 1 ] 2>/dev/null && [ "$errors" = 0 ] && [ "$lasttype" = summary ]; then
        ok  # the file was read whole before it was cut (a fast machine)
    else
        bad "file cut short while being read, --threads $th: exit $rc, $errors error objects, last '$lasttype': $(head -2 "$WORK/cut.err")"
    fi
done
stop_load

echo "$pass passed, $fail failed, $hangs hangs ($REPS rounds)"
[ "$fail" -eq 0 ]
