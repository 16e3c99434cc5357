#!/usr/bin/env bash
# update.sh TLSDIAG — rewrite the golden outputs of every bundled capture (pcaps/): the dissect
# ladder and the analyze JSON of each file, with "now" fixed so the output never drifts.
# Review the diff (git diff tests/golden) before committing: a change here is a change users see.
set -euo pipefail
bin=${1:?usage: tests/golden/update.sh TLSDIAG}
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$(dirname "$here")")
. "$here/golden.conf"
cd "$src/pcaps"
for f in *.pcap *.pcapng; do
    "$bin" dissect --color=never "$f" >"$here/$f.dissect.txt" 2>&1 || true
    "$bin" analyze --json $ANALYZE_OPTS "$f" >"$here/$f.analyze.jsonl" 2>&1 || true
done
echo "golden outputs written to $here"
