#!/usr/bin/env bash
# test_ecs.sh TLSDIAG SRCDIR — `analyze --ecs` on every bundled capture (pcaps/) must be ECS:
# each field outside tlsdiag.* a field of tests/data/ecs/fields.tsv (the committed subset of the
# ECS 9.4.0 field reference) with ECS's type and allowed values, event.reason the --json cause of
# the same handshake, and network.community_id what tshark's Community ID dissector says for
# the connection (tests/scripts/ecs_check.py does the checking).
set -uo pipefail
bin=$(realpath "${1:?usage: test_ecs.sh TLSDIAG SRCDIR}") src=$(realpath "${2:?}")
. "$src/tests/golden/golden.conf"
command -v tshark >/dev/null || { echo "FAIL: tshark is missing (scripts/setup.sh installs it)"; exit 1; }
cd "$src/pcaps" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for f in *.pcap *.pcapng; do
    "$bin" analyze --ecs $ANALYZE_OPTS "$f" >"$tmp/ecs.jsonl" 2>"$tmp/err"
    "$bin" analyze --json $ANALYZE_OPTS "$f" >"$tmp/json.jsonl" 2>/dev/null
    tshark -r "$f" --enable-protocol communityid -Y tcp -T fields -e ip.src -e ipv6.src \
        -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport -e communityid 2>/dev/null |
        awk -F'\t' '{ s = $1 != "" ? $1 : $2; d = $4 != "" ? $4 : $5; print s, $3, d, $6, $7 }' \
            >"$tmp/tshark.tsv"
    if out=$(python3 "$src/tests/scripts/ecs_check.py" "$src/tests/data/ecs/fields.tsv" \
        "$tmp/ecs.jsonl" "$tmp/json.jsonl" "$tmp/tshark.tsv"); then
        pass=$((pass + 1))
        echo "ok $f: ${out##*$'\n'}"
    else
        fail=$((fail + 1))
        echo "FAIL $f:"; echo "$out" | head -20; head -3 "$tmp/err"
    fi
done
# --ecs writes events only: no summary object, and the error event of a damaged input has no
# fake frame or offset when none was read.
printf 'not a capture' >"$tmp/bad.pcap"
"$bin" analyze --ecs "$tmp/bad.pcap" >"$tmp/bad.jsonl" 2>/dev/null
if python3 - "$tmp/bad.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines, "no output for a damaged input"
assert all("type" not in l for l in lines), "a non-ECS object in the ECS stream"
e = lines[0]
assert e["event"]["kind"] == "pipeline_error" and e["event"]["outcome"] == "failure", e
assert e["error"]["message"], e
PY
then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --ecs on a damaged input"; fi
# dissect has no --ecs (ECS describes handshakes): a usage error, not silence.
"$bin" dissect --ecs ok.pcap >/dev/null 2>&1
if [ $? -eq 2 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: dissect --ecs accepted"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
