#!/usr/bin/env bash
# test_golden.sh TLSDIAG SRCDIR — each bundled capture's dissect ladder and analyze JSON must
# equal its committed golden output (tests/golden/, rewritten by tests/golden/update.sh when a
# change is intended). Output must be deterministic: a diff here is a behaviour change.
set -uo pipefail
bin=$(realpath "${1:?usage: test_golden.sh TLSDIAG SRCDIR}") src=$(realpath "${2:?}")
. "$src/tests/golden/golden.conf"
cd "$src/pcaps" || exit 1
pass=0 fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in *.pcap *.pcapng; do
    for kind in dissect analyze; do
        if [ $kind = dissect ]; then
            gold="$src/tests/golden/$f.dissect.txt"
            "$bin" dissect --color=never "$f" >"$tmp" 2>&1
        else
            gold="$src/tests/golden/$f.analyze.jsonl"
            "$bin" analyze --json $ANALYZE_OPTS "$f" >"$tmp" 2>&1
        fi
        if [ ! -f "$gold" ]; then
            echo "FAIL $f $kind: no golden file $gold (run tests/golden/update.sh)"
            fail=$((fail + 1))
        elif ! diff -u "$gold" "$tmp" >/tmp/golden.diff.$$; then
            echo "FAIL $f $kind differs from its golden output:"; head -20 /tmp/golden.diff.$$
            fail=$((fail + 1))
        else
            pass=$((pass + 1))
        fi
    done
done
rm -f /tmp/golden.diff.$$
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
