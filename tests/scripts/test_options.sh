#!/usr/bin/env bash
# test_options.sh — tcpdump/tshark habits of analyze and dissect: -c N stops after N
# handshakes, -n is accepted, long forms work, and every usage error names the option it is
# about (exit 2). Usage: bash test_options.sh TLSDIAG SRCDIR
set -u
TLSDIAG=${1:?usage: test_options.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_options.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CA=$SRCDIR/pcaps/ca/root.pem
MIXED=$SRCDIR/pcaps/mixed.pcap   # 4 connections: ok, missing intermediate, refused, reset

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

# count_json FILE TYPE: number of JSON lines of that type
count_json() { python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("type")==sys.argv[2]))' "$1" "$2"; }

"$TLSDIAG" analyze --json --ca-file "$CA" "$MIXED" >"$WORK/all.jsonl"
all=$(count_json "$WORK/all.jsonl" handshake)
[ "$all" -eq 4 ] && ok "mixed.pcap has 4 handshakes" || bad "mixed.pcap: $all handshakes, want 4"

for form in "-c 2" "-c2" "--count 2" "--count=2"; do
    # shellcheck disable=SC2086
    "$TLSDIAG" analyze --json --ca-file "$CA" $form "$MIXED" >"$WORK/c.jsonl"
    rc=$?
    n=$(count_json "$WORK/c.jsonl" handshake)
    conns=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1].get("connections"))' "$WORK/c.jsonl")
    ids=$(python3 -c 'import json,sys; print(",".join(str(o["conn_id"]) for o in map(json.loads, open(sys.argv[1])) if o["type"]=="handshake"))' "$WORK/c.jsonl")
    if [ "$n" -eq 2 ] && [ "$conns" = 2 ] && [ "$ids" = "0,1" ] && [ $rc -eq 1 ]; then
        ok "analyze $form: 2 handshakes (conn 0,1), summary of 2, exit 1"
    else
        bad "analyze $form: $n handshakes ($ids), summary connections=$conns, exit $rc"
    fi
done
"$TLSDIAG" dissect --json -c 1 "$MIXED" >"$WORK/d.jsonl"
n=$(count_json "$WORK/d.jsonl" connection)
[ "$n" -eq 1 ] && ok "dissect -c 1: one connection" || bad "dissect -c 1: $n connections"
"$TLSDIAG" analyze --json -c 100 --ca-file "$CA" "$MIXED" >"$WORK/c.jsonl"
n=$(count_json "$WORK/c.jsonl" handshake)
[ "$n" -eq 4 ] && ok "-c larger than the capture: all 4" || bad "-c 100: $n handshakes"

"$TLSDIAG" analyze -n --json --ca-file "$CA" "$MIXED" >"$WORK/n.jsonl"
cmp -s "$WORK/n.jsonl" "$WORK/all.jsonl" && ok "-n changes nothing" || bad "-n changed the output"
"$TLSDIAG" dissect --no-resolve "$MIXED" >/dev/null && ok "dissect --no-resolve accepted" || bad "dissect --no-resolve rejected"
"$TLSDIAG" analyze --read "$MIXED" --ca-file "$CA" --quiet >/dev/null
[ $? -eq 1 ] && ok "--read and --quiet" || bad "--read/--quiet"

# Usage errors: exit 2 and the message names the option.
# usage_err WANT_IN_MESSAGE ARGS...
usage_err() {
    local want=$1
    shift
    "$TLSDIAG" "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$want" "$WORK/err" && [ ! -s "$WORK/out" ]; then
        ok "usage error names '$want': $(head -1 "$WORK/err")"
    else
        bad "tlsdiag $*: exit $rc, stderr: $(head -c 300 "$WORK/err")"
    fi
}
usage_err "-c/--count" analyze -c 0 "$MIXED"
usage_err "-c/--count" analyze --count=x "$MIXED"
usage_err "-c/--count" dissect --count -5 "$MIXED"
usage_err "-c: missing argument" analyze "$MIXED" -c
usage_err "--json: takes no argument" analyze --json=yes "$MIXED"
usage_err "--wireshark: takes no argument" analyze --wireshark=1 "$MIXED"
usage_err "unknown option '--bogus'" dissect --bogus "$MIXED"
usage_err "unknown option '-x'" analyze -x "$MIXED"
usage_err "--color" analyze --color=sometimes "$MIXED"

# --help per command, with examples, on stdout, exit 0.
for cmd in analyze dissect; do
    if "$TLSDIAG" "$cmd" --help >"$WORK/h" 2>&1 && grep -q "^Examples:" "$WORK/h" &&
        grep -q -- "-c, --count N" "$WORK/h" && grep -q -- "--wireshark" "$WORK/h"; then
        ok "$cmd --help: options (-c, --wireshark) and examples"
    else
        bad "$cmd --help: $(head -c 300 "$WORK/h")"
    fi
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
