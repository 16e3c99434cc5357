#!/usr/bin/env bash
# test_wireshark.sh — the Wireshark hand-off agrees with tshark: for every handshake tlsdiag
# reports, `tshark -r FILE -Y '<our filter>'` selects exactly the tcp.stream we name, that
# stream starts at our first frame, and `--wireshark` / `-v` print the matching commands.
# Usage: bash test_wireshark.sh TLSDIAG SRCDIR
#
# Captures: every bundled scenario pcap, and, when ../shared/corpus is present, a few real-world
# ones chosen for their link layers and tunnels (IPv6, 6in4, VXLAN, PPPoE over QinQ, SLL, many
# streams). Needs tshark (scripts/setup.sh installs it).
set -u
TLSDIAG=${1:?usage: test_wireshark.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_wireshark.sh TLSDIAG SRCDIR}
command -v tshark >/dev/null || { echo "FAIL - tshark is not installed (scripts/setup.sh installs it)"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

files=("$SRCDIR"/pcaps/*.pcap "$SRCDIR"/pcaps/*.pcapng)
CORPUS="$SRCDIR/../shared/corpus"
if [ -d "$CORPUS" ]; then
    for f in zeek__certificate-request-failed.pcap zeek__missing-intermediate.pcap \
             zeek__ssl.v3.pcap zeek__irc-starttls.pcap zeek__pop3-starttls.pcap \
             zeek__pppoe-over-qinq.pcap ndpi__6in4tunnel.pcap ndpi__vxlan.pcap \
             ndpi__http_ipv6.pcap ndpi__weibo.pcap mercury__top_100_fingerprints.pcap; do
        [ -f "$CORPUS/$f" ] && files+=("$CORPUS/$f")
    done
else
    echo "note - $CORPUS is absent: checking the bundled pcaps only"
fi

python3 - "$TLSDIAG" "$SRCDIR/pcaps/ca/root.pem" "$WORK" "${files[@]}" <<'EOF'
import json, re, subprocess, sys

tlsdiag, ca, work, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
passed = failed = 0

def ok(msg):
    global passed
    passed += 1

def bad(msg):
    global failed
    failed += 1
    print("FAIL - " + msg)

def tshark(path, flt, field):
    r = subprocess.run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-e", field],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return [l for l in r.stdout.split("\n") if l != ""], ""

FILTER = re.compile(r"^(ip|ipv6)\.addr==[0-9a-f.:]+ && (ip|ipv6)\.addr==[0-9a-f.:]+ && "
                    r"tcp\.port==\d+ && tcp\.port==\d+$")
MAX_PER_FILE = 12     # spread over the file: first, last and evenly between
checked_files = 0
for path in files:
    r = subprocess.run([tlsdiag, "analyze", "--json", "--ca-file", ca, path],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1, 3):
        bad(f"{path}: analyze exited {r.returncode}: {r.stderr[:300]}")
        continue
    hs = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    hs = [o for o in hs if o.get("type") == "handshake"]
    if not hs:
        continue
    checked_files += 1
    if len(hs) > MAX_PER_FILE:
        step = (len(hs) - 1) / (MAX_PER_FILE - 1)
        hs = [hs[round(i * step)] for i in range(MAX_PER_FILE)]
    for o in hs:
        where = f"{path.split('/')[-1]} conn {o['conn_id']}"
        ws = o.get("wireshark")
        if not isinstance(ws, dict) or not isinstance(ws.get("filter"), str):
            bad(f"{where}: no wireshark object: {ws!r}")
            continue
        flt, stream = ws["filter"], ws.get("stream")
        if not FILTER.match(flt):
            bad(f"{where}: filter has an unexpected shape: {flt}")
            continue
        if stream != o["conn_id"]:
            bad(f"{where}: stream {stream!r} is not conn_id {o['conn_id']} for one whole file")
            continue
        streams, err = tshark(path, flt, "tcp.stream")
        if streams is None:
            bad(f"{where}: tshark rejected the filter {flt!r}: {err}")
            continue
        got = sorted(set(int(s) for s in streams))
        if got == [stream]:
            ok(where)
        elif stream in got:
            # The same address/port pair used again (port reuse): the filter cannot tell the
            # connections apart, tcp.stream does. Accept, but the stream check below must hold.
            print(f"note - {where}: the 4-tuple is reused by streams {got}; tcp.stream eq {stream} isolates it")
            ok(where)
        else:
            bad(f"{where}: tshark -Y '{flt}' selects tcp.stream {got}, we said {stream}")
            continue
        frames, err = tshark(path, f"tcp.stream eq {stream}", "frame.number")
        first = int(frames[0]) if frames else None
        if first == o["frames"]["first"]:
            ok(where + " first frame")
        else:
            bad(f"{where}: tcp.stream eq {stream} starts at frame {first}, we said {o['frames']['first']}")

# --wireshark and -v print the same filter / stream as ready commands.
mixed = [f for f in files if f.endswith("/mixed.pcap")]
if not mixed:
    bad("pcaps/mixed.pcap is missing")
else:
    m = mixed[0]
    r = subprocess.run([tlsdiag, "analyze", "--wireshark", "-v", "--ca-file", ca, m],
                       capture_output=True, text=True)
    hs = [json.loads(l) for l in subprocess.run(
        [tlsdiag, "analyze", "--json", "--ca-file", ca, m], capture_output=True,
        text=True).stdout.splitlines()]
    fails = [o for o in hs if o.get("type") == "handshake" and o["outcome"] == "failed"]
    if not fails:
        bad("mixed.pcap has no failed handshake")
    for o in fails:
        s = o["wireshark"]["stream"]
        for tool in ("wireshark", "tshark"):
            want = f"      {tool} -r {m} -Y 'tcp.stream eq {s}'"
            if want in r.stdout.splitlines():
                ok(f"--wireshark {tool} conn {s}")
            else:
                bad(f"--wireshark: line {want!r} missing from:\n{r.stdout[:1500]}")
        want = f"      wireshark: tcp.stream eq {s}  ({o['wireshark']['filter']})"
        if want in r.stdout.splitlines():
            ok(f"-v filter conn {s}")
        else:
            bad(f"-v: line {want!r} missing")
    # The printed tshark command really runs and shows the connection's first frame.
    cmd = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith("tshark -r ")]
    if cmd:
        out = subprocess.run(cmd[0] + " -T fields -e frame.number", shell=True,
                             capture_output=True, text=True).stdout.split()
        if out and int(out[0]) == fails[0]["frames"]["first"]:
            ok("printed tshark command runs")
        else:
            bad(f"printed command {cmd[0]!r} gave frames {out[:5]}")
    else:
        bad("--wireshark printed no tshark command")
    # dissect --wireshark: a command under every connection's ladder.
    r = subprocess.run([tlsdiag, "dissect", "--wireshark", m], capture_output=True, text=True)
    got = [l for l in r.stdout.splitlines() if l.startswith("      tshark -r ")]
    want = [f"      tshark -r {m} -Y 'tcp.stream eq {i}'" for i in range(4)]
    if got == want:
        ok("dissect --wireshark")
    else:
        bad(f"dissect --wireshark: {got} want {want}")
    # Two files, or a BPF filter: conn_id is not the file's tcp.stream, so no stream is claimed.
    for extra in (["-f", "tcp"], [m]):
        r = subprocess.run([tlsdiag, "analyze", "--json", "--ca-file", ca, m] + extra,
                           capture_output=True, text=True)
        hs = [json.loads(l) for l in r.stdout.splitlines()]
        streams = [o["wireshark"]["stream"] for o in hs if o.get("type") == "handshake"]
        if streams and all(s is None for s in streams):
            ok(f"no stream with {extra}")
        else:
            bad(f"with {extra} streams are {streams}, want null")
    r = subprocess.run([tlsdiag, "analyze", "--wireshark", "--ca-file", ca, m, m],
                       capture_output=True, text=True)
    if f"mergecap -w - {m} {m} | tshark -r - -Y 'ip.addr==" in r.stdout:
        ok("--wireshark with two files uses mergecap and the address filter")
    else:
        bad(f"--wireshark with two files: {r.stdout[:600]}")

if checked_files < 20:
    bad(f"only {checked_files} captures had handshakes to check")
print(f"{passed} passed, {failed} failed ({checked_files} captures)")
sys.exit(1 if failed else 0)
EOF
