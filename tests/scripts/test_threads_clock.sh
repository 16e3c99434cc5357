#!/usr/bin/env bash
# test_threads_clock.sh — idle connections are reported at the same frame, in the same order,
# whatever the thread count: each `--threads N` worker moves its capture clock over the other
# shards' frames (dissect_clock_only, or a whole run of them in one step when the reader's copy of
# the clock says nothing of the worker's goes idle in it) and expires its own connections by it.
# Checked across clock
# jumps (one bogus TCP frame 10 years ahead, a confirmed jump), clocks that step back and equal
# timestamps, with --threads 2/3/4/5/8 against one thread, JSON and text.
#   bash test_threads_clock.sh TLSDIAG SRCDIR
set -u
TLSDIAG=$(realpath "${1:?usage: test_threads_clock.sh TLSDIAG SRCDIR}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

# clock.pcap: SYNs of distinct connections (so the workers' shards interleave in short and long
# runs) and, for some, a second segment later; the idle timeout is 300 s. Sections:
#  1. one SYN every 2 s for 800 s: from 300 s on, connections expire in other shards' runs;
#  2. one TCP frame 10 years ahead (a jump never confirmed), then the clock goes on as before:
#     its connection's idle time must not start 10 years ahead (it would head its LRU list and
#     hold back the expiry of the connections behind it, differently in each worker's list than
#     in one thread's); and one such frame again, confirmed this time by a second one;
#  3. frames 100 s back in time (the clock holds), and equal timestamps;
#  4. a jump of 1,000 s confirmed by a second frame: everything older expires there;
#  5. bursts at one instant 299 / 301 s apart, runs of one shard's frames between them;
#  6. every other connection expires while one "ticker" connection speaks every 4 s, then new
#     connections open a second apart and go idle inside a run of the ticker's frames 100 s
#     apart: a worker that held nothing when its chunk began must see its first connections'
#     timeout inside the chunk (dissect_idle_deadline asked again once it holds one).
python3 - "$WORK/clock.pcap" <<'EOF'
import random, struct, sys
random.seed(20)
S = 1_000_000
frames = []  # (time in µs, bytes of the record's data)
def syn(i, flags=2, seq=0):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                     bytes([10, 7, (i >> 8) & 255, i & 255]), bytes([198, 51, 100, 7]))
    tcp = struct.pack(">HHIIBBHHH", 2000 + i % 50000, 443, seq, 0, 0x50, flags, 65535, 0, 0)
    return b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00" + ip + tcp
t0, conn = 1_700_000_000 * S, 0
def add(t):
    global conn
    frames.append((t, syn(conn)))
    if conn % 3 == 0:  # an older connection speaks again: its idle time restarts
        frames.append((t, syn(random.randrange(conn + 1), 0x10, 1)))
    conn += 1
t = t0
for _ in range(400):                      # 1.
    add(t); t += 2 * S
add(t + 10 * 365 * 86400 * S)            # 2.
for _ in range(60):
    add(t); t += 3 * S
for k in range(60):                       # 3.
    add(t - 100 * S if k % 2 else t); t += S // 2
for _ in range(30):
    add(t)
t += 1000 * S                             # 4.
add(t); add(t + S // 2); t += S
for _ in range(200):
    add(t); t += random.choice([0, 1, S, 5 * S, 40 * S])
for gap in (299, 301, 299, 301, 150, 160, 301):  # 5.
    t += gap * S
    for _ in range(random.randrange(1, 40)):
        add(t)
ticker = conn                             # 6.
conn += 1
for rep in range(4):
    for _ in range(300 + 37 * rep):       # old connections expire; the next chunks are steady
        frames.append((t, syn(ticker, 0x10, 1))); t += 4 * S
    for _ in range(24):                   # new ones, one a second, on every worker
        frames.append((t, syn(conn))); conn += 1; t += S
    for _ in range(5):                    # they go idle inside this run
        t += 100 * S
        frames.append((t, syn(ticker, 0x10, 1)))
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for ts, b in frames:
        f.write(struct.pack("<IIII", ts // S, ts % S, len(b), len(b)) + b)
EOF

for fmt in "--json" "-v --color=never"; do
    # shellcheck disable=SC2086 # $fmt is two words on purpose
    "$TLSDIAG" analyze $fmt --threads 1 "$WORK/clock.pcap" >"$WORK/ref.out" 2>"$WORK/ref.err"
    echo $? >"$WORK/ref.rc"
    if [ "$(grep -c . "$WORK/ref.out")" -gt 500 ]; then
        ok
    else
        bad "$fmt: the reference reports only $(grep -c . "$WORK/ref.out") lines"
    fi
    for th in 2 3 4 5 8; do
        # shellcheck disable=SC2086
        "$TLSDIAG" analyze $fmt --threads "$th" "$WORK/clock.pcap" >"$WORK/t.out" 2>"$WORK/t.err"
        echo $? >"$WORK/t.rc"
        if cmp -s "$WORK/ref.out" "$WORK/t.out" && cmp -s "$WORK/ref.rc" "$WORK/t.rc" &&
            cmp -s "$WORK/ref.err" "$WORK/t.err"; then
            ok
        else
            bad "$fmt --threads $th differs from one thread: $(diff "$WORK/ref.out" "$WORK/t.out" | head -4)"
        fi
    done
done
echo "test_threads_clock: $pass passed, $fail failed"
[ "$fail" = 0 ]
