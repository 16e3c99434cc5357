#!/usr/bin/env bash
# test_thread_stats.sh — TLSDIAG_THREAD_STATS: `analyze --threads N` says on stderr how much CPU
# each thread used and how much of it was the merge (the serial part), and how many certificate
# chains the workers verified and reused from their shared results, in the three ways the
# workers get their input (one file: one pass; several files: a reader each; stdin: queued),
# how often and how long the one-pass workers slept waiting for input or for room,
# and the report itself stays byte for byte what it is without it. No timing is asserted.
#   bash test_thread_stats.sh TLSDIAG_BINARY SOURCE_DIR
set -euo pipefail
BIN=$(realpath "$1")
SRC=$(realpath "$2")
fail() { echo "FAIL: $*" >&2; exit 1; }
TMP=$(mktemp -d /tmp/tlsdiag-thread-stats.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
one="$SRC/pcaps/mixed.pcap"
[ -s "$one" ] || fail "missing $one"
shopt -s nullglob
all=("$SRC"/pcaps/*.pcap)
check() {  # check NAME N ARGS... (stdin from $input when set)
  local name=$1 n=$2; shift 2
  local in=${input:-/dev/null}
  "$BIN" analyze --json --threads "$n" "$@" < "$in" > "$TMP/plain.json" 2> "$TMP/plain.err" || true
  TLSDIAG_THREAD_STATS=1 "$BIN" analyze --json --threads "$n" "$@" < "$in" > "$TMP/stats.json" 2> "$TMP/stats.err" || true
  cmp -s "$TMP/plain.json" "$TMP/stats.json" || fail "$name: the report changed with TLSDIAG_THREAD_STATS"
  grep -q "CPU ms" "$TMP/plain.err" && fail "$name: CPU figures without TLSDIAG_THREAD_STATS"
  local line; line=$(grep "^tlsdiag: --threads $n CPU ms: " "$TMP/stats.err" || true)
  [ -n "$line" ] || { cat "$TMP/stats.err" >&2; fail "$name: no CPU line on stderr"; }
  for ((i = 0; i < n; i++)); do
    [[ $line == *"worker $i "* ]] || fail "$name: worker $i missing: $line"
  done
  [[ $line =~ merging\ \(serial\)\ ([0-9.]+)\ =\ ([0-9.]+)\ %\ of\ ([0-9.]+)$ ]] || fail "$name: no merge share: $line"
  # The merge's time is part of the threads' time: never more than all of it.
  python3 - "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" <<'PY' || fail "$name: inconsistent: $line"
import sys
m, p, t = map(float, sys.argv[1:])
# (m is printed to 0.05 ms: on a short run that alone moves 100 * m / t by 100 * 0.05 / t)
assert 0 <= m <= t and 0 <= p <= 100 and (t == 0 or abs(100 * m / t - p) < 0.2 + 5 / t), (m, p, t)
PY
  # The workers' shared chain results: how many chains were verified, how many reused, how many
  # times a worker waited for another's verification of the same chain (every
  # bundled capture sends at least one certificate chain).
  local chains; chains=$(grep "^tlsdiag: --threads $n chain results: " "$TMP/stats.err" || true)
  [[ $chains =~ chain\ results:\ ([0-9]+)\ verified,\ ([0-9]+)\ reused,\ ([0-9]+)\ waited\ for$ ]] || fail "$name: no chain results line: $chains"
  [ "${BASH_REMATCH[1]}" -ge 1 ] || fail "$name: no chain verified: $chains"
  grep -q "chain results" "$TMP/plain.err" && fail "$name: chain results without TLSDIAG_THREAD_STATS"
  # The workers' sleeps (one-pass mode; zero in the others): count/ms for input and for room.
  local waits; waits=$(grep "^tlsdiag: --threads $n waits (one-pass mode), count/ms: " "$TMP/stats.err" || true)
  for ((i = 0; i < n; i++)); do
    [[ $waits =~ worker\ $i\ input\ [0-9]+/[0-9.]+\ room\ [0-9]+/[0-9.]+\; ]] || fail "$name: worker $i's waits missing: $waits"
  done
  grep -q "waits" "$TMP/plain.err" && fail "$name: waits without TLSDIAG_THREAD_STATS"
  echo "ok: $name: $line; $chains; $waits"
}
check "one file (one pass)" 2 "$one"
check "one file, 3 threads" 3 "$one"
check "several files (a reader each)" 2 "${all[@]}"
input="$one" check "stdin (queued)" 2 -
echo "PASS: TLSDIAG_THREAD_STATS reports the CPU of every thread and the merge's share"
