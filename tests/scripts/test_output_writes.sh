#!/usr/bin/env bash
# test_output_writes.sh — a report to a file or pipe leaves in large writes, not one write(2)
# per 4 KiB of stdio's default buffer (`analyze --json > FILE` of the 200 MiB benchmark
# capture made ~25,000 of them, a quarter of its CPU time), with one thread and with the
# merging thread of --threads 2. Counts system calls (strace), never time; the output itself
# must be the same as through a terminal-sized pipe.
#   bash test_output_writes.sh TLSDIAG_BINARY SOURCE_DIR
set -euo pipefail
BIN=$(realpath "$1")
SRC=$(realpath "$2")
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v strace >/dev/null || fail "missing strace (scripts/setup.sh installs it)"
TMP=$(mktemp -d /tmp/tlsdiag-output-writes.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
shopt -s nullglob
pcaps=("$SRC"/pcaps/*.pcap)
[ ${#pcaps[@]} -gt 10 ] || fail "the bundled pcaps/ are missing"
for threads in 1 2; do
  strace -f -qq -e trace=write -o "$TMP/trace" \
    "$BIN" analyze --json --threads "$threads" "${pcaps[@]}" > "$TMP/out.json" 2>/dev/null || true
  size=$(stat -c %s "$TMP/out.json")
  [ "$size" -gt 65536 ] || fail "expected more than 64 KiB of JSON from pcaps/, got $size bytes"
  writes=$(grep -c 'write(1,' "$TMP/trace" || true)
  # 256 KiB per write: a few writes at most; stdio's 4 KiB buffer needs size/4096 of them.
  max=$(( size / 262144 + 2 ))
  [ "$writes" -le "$max" ] || fail "--threads $threads: $writes write(2) calls for $size bytes (want at most $max)"
  # The same bytes as without the large buffer: through cat (a pipe) and straight to a file.
  "$BIN" analyze --json --threads "$threads" "${pcaps[@]}" 2>/dev/null | cat > "$TMP/piped.json" || true
  cmp -s "$TMP/out.json" "$TMP/piped.json" || fail "--threads $threads: a file and a pipe got different output"
  echo "ok: --threads $threads: $size bytes in $writes write(2) calls"
done
echo "PASS: reports leave in large writes"
