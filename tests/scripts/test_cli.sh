#!/usr/bin/env bash
# test_cli.sh — end-to-end checks of the tlsdiag command line: options, exit statuses, damaged
# input, stdin, filters, JSON validity. Usage: bash test_cli.sh TLSDIAG SRCDIR
#
# The capture is generated here (python3 stdlib), so the test needs no fixture file: two TCP
# connections, each SYN / SYN-ACK / ACK / ClientHello (SNI) / fatal handshake_failure alert.
set -u
TLSDIAG=${1:?usage: test_cli.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_cli.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
# expect_status WANT DESC: compares $rc with WANT.
expect_status() { if [ "$rc" -eq "$1" ]; then ok "$2 (exit $rc)"; else bad "$2: exit $rc, want $1"; fi; }
# expect_grep FILE PATTERN DESC (fixed string)
expect_grep() { if grep -qF -- "$2" "$1"; then ok "$3"; else bad "$3: '$2' not in $(head -c 400 "$1")"; fi; }

python3 - "$WORK/two.pcap" <<'EOF'
import struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp) + len(payload))
    c = csum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0x4000, 64, 6, 0,
                     src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + tcp + payload

def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    exts = struct.pack("!HH", 0, len(sni_ext)) + sni_ext
    body = (struct.pack("!H", 0x0303) + bytes(range(32)) + b"\0" +
            struct.pack("!H", 4) + struct.pack("!HH", 0xc02f, 0x009c) + b"\x01\x00" +
            struct.pack("!H", len(exts)) + exts)
    hs = struct.pack("!B", 1) + struct.pack("!I", len(body))[1:] + body
    return struct.pack("!BHH", 22, 0x0301, len(hs)) + hs

ALERT = struct.pack("!BHH", 21, 0x0303, 2) + b"\x02\x28"   # fatal handshake_failure (40)
C = bytes([192, 0, 2, 10])
S = bytes([198, 51, 100, 20])
frames = []
for i, (port, sni) in enumerate([(40001, "a.example"), (40002, "b.example")]):
    ch = client_hello(sni)
    cs, ss = 1000 + i, 5000 + i
    frames += [
        frame(C, S, port, 443, cs, 0, 0x02),
        frame(S, C, 443, port, ss, cs + 1, 0x12),
        frame(C, S, port, 443, cs + 1, ss + 1, 0x10),
        frame(C, S, port, 443, cs + 1, ss + 1, 0x18, ch),
        frame(S, C, 443, port, ss + 1, cs + 1 + len(ch), 0x18, ALERT),
        frame(S, C, 443, port, ss + 1 + len(ALERT), cs + 1 + len(ch), 0x11),
    ]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for n, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1764186900 + n, 0, len(fr), len(fr)))
        f.write(fr)
EOF
PCAP=$WORK/two.pcap
[ -s "$PCAP" ] || { echo "FAIL - could not generate the test capture"; exit 1; }

# jsonl_check FILE: every line parses as JSON; prints "type:conn_id:sni" per object for greps.
jsonl_check() {
    python3 - "$1" <<'EOF'
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        print("INVALID line %d: %s" % (n, e))
        sys.exit(1)
    print("%s:%s:%s" % (o.get("type"), o.get("conn_id"), o.get("sni")))
EOF
}

# --- usage errors: exit 2 and the offending option is named ---------------------------------
"$TLSDIAG" dissect --max-flows x "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "--max-flows x is a usage error"
expect_grep "$WORK/err" "tlsdiag: --max-flows: expected a positive integer, got 'x'" "--max-flows named"
"$TLSDIAG" analyze --max-flow-bytes -5 "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "--max-flow-bytes -5 is a usage error"
expect_grep "$WORK/err" "--max-flow-bytes: expected a positive integer" "--max-flow-bytes named"
"$TLSDIAG" analyze --bogus "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "unknown option"
expect_grep "$WORK/err" "unknown option '--bogus'" "unknown option named"
"$TLSDIAG" analyze --color=sometimes "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "bad --color value"
expect_grep "$WORK/err" "--color: expected auto, always or never, got 'sometimes'" "--color named"
"$TLSDIAG" analyze --now yesterday "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "bad --now value"
expect_grep "$WORK/err" "--now: expected an RFC 3339 time" "--now named"
"$TLSDIAG" dissect -r >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "-r without its argument"
expect_grep "$WORK/err" "-r: missing argument" "-r named"
"$TLSDIAG" dissect >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "no input file"
expect_grep "$WORK/err" "no capture file given" "missing input explained"
"$TLSDIAG" frobnicate "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "unknown command"
expect_grep "$WORK/err" "unknown command 'frobnicate'" "unknown command named"
[ -s "$WORK/out" ] && bad "usage errors print nothing on stdout" || ok "usage errors print nothing on stdout"

# --- help and version --------------------------------------------------------------------------
"$TLSDIAG" analyze --help >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 0 "analyze --help"
expect_grep "$WORK/out" "Exit status:" "help documents exit statuses"
expect_grep "$WORK/out" "tlsdiag analyze --json --now" "help has examples"
"$TLSDIAG" --version >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 0 "--version"
if head -1 "$WORK/out" | grep -qx "tlsdiag 0.1.0"; then ok "--version first line"; else bad "--version first line: $(head -1 "$WORK/out")"; fi
expect_grep "$WORK/out" "OpenSSL: OpenSSL 3." "--version names OpenSSL"
expect_grep "$WORK/out" "libpcap: libpcap version 1." "--version names libpcap"
expect_grep "$WORK/out" "profile: " "--version names the profile"

# --- missing file: exit 3, named -----------------------------------------------------------------
"$TLSDIAG" dissect /nonexistent/missing.pcap >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 3 "missing file"
expect_grep "$WORK/err" "/nonexistent/missing.pcap" "missing file named"
"$TLSDIAG" analyze --json /nonexistent/missing.pcap >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 3 "missing file (analyze --json)"
jsonl_check "$WORK/out" >"$WORK/types" || bad "JSON after a missing file is invalid"
if tail -1 "$WORK/types" | grep -q '^summary:'; then ok "JSON stream ends with its summary"; else bad "no summary after a missing file: $(cat "$WORK/types")"; fi

# --- a good capture ------------------------------------------------------------------------------
"$TLSDIAG" dissect --json "$PCAP" >"$WORK/full.jsonl" 2>"$WORK/err"; rc=$?
expect_status 0 "dissect --json on the generated capture"
jsonl_check "$WORK/full.jsonl" >"$WORK/types" && ok "dissect JSON lines parse" || bad "dissect JSON invalid"
expect_grep "$WORK/types" "connection:0:a.example" "connection 0 with its SNI"
expect_grep "$WORK/types" "connection:1:b.example" "connection 1 with its SNI"
"$TLSDIAG" dissect "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 0 "dissect (text)"
expect_grep "$WORK/out" "Alert fatal handshake_failure (40)" "text ladder shows the alert"
expect_grep "$WORK/out" "ClientHello (SNI a.example" "text ladder shows the ClientHello"

"$TLSDIAG" dissect --json -r "$PCAP" >"$WORK/r.jsonl" 2>"$WORK/err"; rc=$?
expect_status 0 "-r FILE"
if [ "$(jsonl_check "$WORK/r.jsonl")" = "$(jsonl_check "$WORK/full.jsonl")" ]; then ok "-r FILE reads like a positional file"; else bad "-r FILE differs"; fi
"$TLSDIAG" dissect --help >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 0 "dissect --help"
expect_grep "$WORK/out" "tlsdiag dissect --json" "dissect help has its own examples"

# --- stdin ---------------------------------------------------------------------------------------
"$TLSDIAG" dissect --json - <"$PCAP" >"$WORK/stdin.jsonl" 2>"$WORK/err"; rc=$?
expect_status 0 "stdin (-)"
if [ "$(jsonl_check "$WORK/stdin.jsonl")" = "$(jsonl_check "$WORK/full.jsonl")" ] &&
   [ "$(wc -l <"$WORK/stdin.jsonl")" -eq 2 ]; then ok "stdin gives the same connections"; else bad "stdin differs"; fi
"$TLSDIAG" dissect --json -r - - <"$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 2 "stdin twice is a usage error"

# --- filters -------------------------------------------------------------------------------------
"$TLSDIAG" dissect --json -f 'tcp port 1' "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 0 "-f 'tcp port 1'"
if [ ! -s "$WORK/out" ]; then ok "-f 'tcp port 1' filters every frame"; else bad "-f 'tcp port 1' left $(wc -l <"$WORK/out") line(s)"; fi
"$TLSDIAG" dissect --json -f 'tcp port 40002' "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
if [ "$(jsonl_check "$WORK/out")" = "connection:0:b.example" ]; then ok "-f keeps the matching connection"; else bad "-f port 40002: $(jsonl_check "$WORK/out")"; fi
"$TLSDIAG" dissect -f 'tcp port' "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 3 "a filter that does not compile"

# --- damaged input: truncated in the second connection ------------------------------------------
size=$(stat -c %s "$PCAP")
head -c $((size - 40)) "$PCAP" >"$WORK/cut.pcap"
"$TLSDIAG" dissect --json "$WORK/cut.pcap" >"$WORK/cut.jsonl" 2>"$WORK/err"; rc=$?
expect_status 3 "truncated capture"
if grep -Eq "^tlsdiag: $WORK/cut.pcap: frame 12 \(offset [0-9]+\): .* results up to frame 11 are shown$" "$WORK/err"; then
    ok "damage message names file, frame and offset"
else
    bad "damage message: $(cat "$WORK/err")"
fi
jsonl_check "$WORK/cut.jsonl" >"$WORK/types" && ok "JSON valid after damage" || bad "JSON invalid after damage"
expect_grep "$WORK/types" "connection:0:a.example" "connection before the damage still shown"
expect_grep "$WORK/types" "error:None:None" "error object in the stream"
"$TLSDIAG" analyze --json "$WORK/cut.pcap" >"$WORK/cut2.jsonl" 2>"$WORK/err"; rc=$?
expect_status 3 "truncated capture (analyze)"
jsonl_check "$WORK/cut2.jsonl" >"$WORK/types" && ok "analyze JSON valid after damage" || bad "analyze JSON invalid after damage"
expect_grep "$WORK/types" "handshake:0:a.example" "handshake before the damage still judged"
if tail -1 "$WORK/types" | grep -q '^summary:'; then ok "analyze JSON ends with the summary"; else bad "analyze JSON does not end with a summary"; fi

# --- a file cut short by another program while tlsdiag reads it ----------------------------------
# The reader is stopped as soon as it has read the first part of the file (its descriptor's
# offset has moved), the file is cut to 5/8 of its size, the reader goes on: the file must end as
# damaged at the cut (exit 3, the message, valid JSON ending with the summary), with one thread
# and with two — not a clean end, and no lost output. Should the reader already be past the cut
# when it is stopped (a slow host), the run is made again, five times at most.
for th in 1 2; do
    PYTHONPATH="$(dirname "$0")" python3 - "$TLSDIAG" "$WORK/cutlive.pcap" "$th" >"$WORK/cutlive.out" 2>"$WORK/cutlive.err" <<'EOF'
import json, os, signal, struct, subprocess, sys, time
from fd_offset import fd_offset
binp, path, threads = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path, "wb") as f:  # 300,000 SYNs of distinct connections, raw IPv4: ~16 MB
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
    f.write(b"".join(
        struct.pack("<IIII", 1_700_000_000 + i // 100000, i % 100000 * 10, 40, 40)
        + struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                      bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]), bytes([203, 0, 113, 10]))
        + struct.pack(">HHIIBBHHH", 1024 + i % 60000, 443, i, 0, 0x50, 2, 65535, 0, 0)
        for i in range(300_000)))
size = os.path.getsize(path)
cut = size * 5 // 8
data = open(path, "rb").read()


for attempt in range(5):
    with open(path, "wb") as f:
        f.write(data)
    p = subprocess.Popen([binp, "analyze", "--json", "--threads", threads, path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline and p.poll() is None and not (fd_offset(p.pid, path) or 0):
        time.sleep(0.0002)
    os.kill(p.pid, signal.SIGSTOP)
    at = fd_offset(p.pid, path)
    if at is not None and 0 < at < cut:
        os.truncate(path, cut)
        os.kill(p.pid, signal.SIGCONT)
        break
    os.kill(p.pid, signal.SIGCONT)
    p.communicate()
    sys.stderr.write(f"attempt {attempt + 1}: stopped at offset {at}, not before the cut at {cut}\n")
else:
    sys.exit("the reader could not be stopped before the cut in five runs")
out, err = p.communicate()
kinds = [json.loads(line)["type"] for line in out.decode().splitlines()]
print(p.returncode, kinds.count("error"), kinds[-1] if kinds else "-")
sys.stderr.write(err.decode())
EOF
    read -r rc errors lasttype <"$WORK/cutlive.out" || rc=none
    if [ "$rc" = 3 ] && [ "$errors" = 1 ] && [ "$lasttype" = summary ] &&
        grep -Eq "^tlsdiag: $WORK/cutlive.pcap: frame [0-9]+ \(offset [0-9]+\): the file was cut short by another program while being read \(it now has [0-9]+ bytes\) — results up to frame [0-9]+ are shown$" "$WORK/cutlive.err"; then
        ok "file cut short while being read, --threads $th: exit 3, damage at the cut, JSON whole"
    else
        bad "file cut short while being read, --threads $th: exit $rc, $errors error objects, last '$lasttype': $(grep -v 'flow table' "$WORK/cutlive.err" | head -3)"
    fi
done

# --- analyze: failures found → exit 1 ------------------------------------------------------------
"$TLSDIAG" analyze --json --now 2026-11-26T20:00:00Z "$PCAP" >"$WORK/an.jsonl" 2>"$WORK/err"; rc=$?
expect_status 1 "analyze finds the failed handshakes"
python3 - "$WORK/an.jsonl" <<'EOF' && ok "analyze summary counts 2 failures" || bad "analyze summary counts"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
s = objs[-1]
assert s["type"] == "summary" and s["connections"] == 2 and s["failed"] == 2, s
assert [o["outcome"] for o in objs[:-1]] == ["failed", "failed"], objs[:-1]
EOF
"$TLSDIAG" analyze -q --color=never "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_status 1 "analyze -q"
if head -1 "$WORK/out" | grep -q '^Summary: 2 connections'; then ok "-q prints the summary only"; else bad "-q output: $(head -3 "$WORK/out")"; fi
if grep -q $'\x1b' "$WORK/out"; then bad "--color=never has escapes"; else ok "--color=never: no escapes"; fi
"$TLSDIAG" analyze --color=always "$PCAP" >"$WORK/out" 2>"$WORK/err"; rc=$?
if grep -q $'\x1b\[' "$WORK/out"; then ok "--color=always colours"; else bad "--color=always has no colour"; fi

# --color=auto: colour on a terminal (script(1) gives one), none when NO_COLOR is set
script -qec "'$TLSDIAG' analyze '$PCAP'" /dev/null >"$WORK/tty.out" 2>&1 </dev/null
if grep -q $'\x1b\[' "$WORK/tty.out"; then ok "auto colour on a terminal"; else bad "no colour on a terminal: $(head -2 "$WORK/tty.out")"; fi
NO_COLOR=1 script -qec "'$TLSDIAG' analyze '$PCAP'" /dev/null >"$WORK/tty.out" 2>&1 </dev/null
if grep -q $'\x1b\[' "$WORK/tty.out"; then bad "NO_COLOR ignored"; else ok "NO_COLOR turns automatic colour off"; fi

# --- output errors: exit 4, said once ------------------------------------------------------------
if [ -w /dev/full ]; then
    "$TLSDIAG" dissect "$PCAP" >/dev/full 2>"$WORK/err"; rc=$?
    expect_status 4 "write error on stdout (/dev/full)"
    if [ "$(grep -c 'cannot write' "$WORK/err")" -eq 1 ]; then ok "write error said once"; else bad "write error message: $(cat "$WORK/err")"; fi
else
    bad "/dev/full is not available"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
