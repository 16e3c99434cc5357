#!/usr/bin/env bash
# run-fuzz.sh BINARY SECONDS FUZZDIR TARGET [SEEDS] — a short libFuzzer run from the committed seeds.
# New inputs go to a scratch folder (the repo stays clean); a crash leaves crash-* in it,
# which the message says to copy into regressions/TARGET/.
set -euo pipefail
bin=$1 secs=$2 dir=$3 target=$4 seedname=${5:-$4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds=("$dir/seeds/$seedname")
[ -d "$dir/regressions/$target" ] && seeds+=("$dir/regressions/$target")
cd "$work"
if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "$work" "${seeds[@]}" >"$work/log" 2>&1; then
    tail -60 "$work/log"
    mkdir -p /tmp/tlsdiag-fuzz-crashes
    cp -f "$work"/crash-* "$work"/timeout-* "$work"/oom-* /tmp/tlsdiag-fuzz-crashes/ 2>/dev/null || true
    echo "$target: fuzzer found a problem; inputs copied to /tmp/tlsdiag-fuzz-crashes/ — add them to tests/fuzz/regressions/$target/"
    exit 1
fi
grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs' "$work/log" | tr '\n' ' '
echo
