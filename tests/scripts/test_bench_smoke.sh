#!/usr/bin/env bash
# test_bench_smoke.sh — the benchmark pipeline on a small generated capture: exact counts, same
# output with --threads. No timing assertion.
#   bash test_bench_smoke.sh TLSDIAG_BINARY SOURCE_DIR        (needs root: the generator
#   captures real TLS connections in a private network namespace it removes itself)
#
# Generates ~2 MiB handshake-heavy and mixed captures with the shared generator
# (SRCDIR/../shared/bench/make-bench-pcap.sh; CI has shared/ beside the repository), then
# checks tlsdiag's ClientHello / ServerHello / cleartext-alert (by sender and description)
# counts against the generator's truth (bench/count_tlsdiag.py --check), that --threads 2 and 3
# give byte-identical JSON and text (files: each worker reads; stdin: one reader feeds them),
# and that the summary counts every connection.
set -euo pipefail
BIN=$(realpath "$1")
SRC=$(realpath "$2")
GEN=$(realpath "$SRC/../shared/bench" 2>/dev/null)
if [ ! -f "$GEN/make-bench-pcap.sh" ]; then
    echo "FAIL: the shared bench generator is missing at $SRC/../shared/bench"
    exit 1
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (network namespace + tcpdump for the seed capture)"
for t in openssl tcpdump unshare ip python3; do
  command -v "$t" >/dev/null || fail "missing $t (scripts/setup.sh installs it)"
done
TMP=$(mktemp -d /tmp/tlsdiag-bench-smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# Small: 96 seed connections (the 12 failure kinds cycle through them), 2 + 12 MiB.
MIXED_MB=12 HS_MB=2 SEED_BULK=48 SEED_SMALL=48 \
  bash "$GEN/make-bench-pcap.sh" "$TMP/data" > "$TMP/gen.log" 2>&1 ||
  { tail -20 "$TMP/gen.log" >&2; fail "the capture generator failed"; }
CA="$TMP/data/seed/certs/root.pem"

for f in handshakes mixed; do
  F="$TMP/data/$f.pcap"
  T="$TMP/data/$f.truth.json"
  [ -s "$F" ] && [ -s "$T" ] || fail "generator made no $f.pcap / truth"
  rc=0
  "$BIN" analyze --json --ca-file "$CA" "$F" > "$TMP/$f.1.jsonl" || rc=$?
  [ "$rc" -le 1 ] || fail "$f: tlsdiag analyze exited $rc"
  python3 "$SRC/bench/count_tlsdiag.py" "$TMP/$f.1.jsonl" "$T" --check > "$TMP/$f.counts.json" ||
    { cat "$TMP/$f.counts.json" >&2; fail "$f: counts differ from the generator's truth"; }
  n=$(python3 -c "import json; print(json.load(open('$T'))['client_hellos'])")
  [ "$n" -gt 30 ] || fail "$f: only $n handshakes generated"
  for th in 2 3; do
    "$BIN" analyze --json --threads $th --ca-file "$CA" "$F" > "$TMP/$f.$th.jsonl" || true
    cmp -s "$TMP/$f.1.jsonl" "$TMP/$f.$th.jsonl" ||
      { diff "$TMP/$f.1.jsonl" "$TMP/$f.$th.jsonl" | head -5 >&2; fail "$f: --threads $th JSON differs"; }
    a=$("$BIN" analyze -v --color=never --ca-file "$CA" "$F" | md5sum || true)
    b=$("$BIN" analyze -v --color=never --threads $th --ca-file "$CA" "$F" | md5sum || true)
    [ "$a" = "$b" ] || fail "$f: --threads $th text output differs"
    a=$("$BIN" analyze --color=never --ca-file "$CA" "$F" | md5sum || true)
    b=$("$BIN" analyze --color=never --threads $th --ca-file "$CA" "$F" | md5sum || true)
    [ "$a" = "$b" ] || fail "$f: --threads $th default text output differs"
  done
  # stdin cannot be read by every worker: one reader feeds them (the other mode of threads.c)
  "$BIN" analyze --json --ca-file "$CA" - < "$F" > "$TMP/$f.stdin1.jsonl" || true
  "$BIN" analyze --json --threads 2 --ca-file "$CA" - < "$F" > "$TMP/$f.stdin2.jsonl" || true
  [ -s "$TMP/$f.stdin1.jsonl" ] || fail "$f: nothing read from stdin"
  cmp -s "$TMP/$f.stdin1.jsonl" "$TMP/$f.stdin2.jsonl" ||
    { diff "$TMP/$f.stdin1.jsonl" "$TMP/$f.stdin2.jsonl" | head -5 >&2; fail "$f: --threads 2 on stdin differs"; }
  echo "ok $f: $n handshakes, counts exact, --threads 2/3 identical"
done

# Several files (scenario captures made hours apart): connections left open in an earlier file
# go idle when the merged clock jumps. They must be reported at the same place with any thread
# count (every worker moves its clock with every frame), and the message must say "idle", not
# blame a full flow table.
"$BIN" analyze --json --ca-file "$SRC/pcaps/ca/root.pem" "$SRC"/pcaps/*.pcap \
  > "$TMP/many.1.jsonl" 2> "$TMP/many.err" || true
grep -q "had no packet for 300 s of capture time" "$TMP/many.err" ||
  { cat "$TMP/many.err" >&2; fail "several files: no idle-connection message"; }
if grep -q "flow table full" "$TMP/many.err"; then fail "several files: idle connections blamed on a full flow table"; fi
for th in 2 3; do
  "$BIN" analyze --json --threads $th --ca-file "$SRC/pcaps/ca/root.pem" "$SRC"/pcaps/*.pcap \
    > "$TMP/many.$th.jsonl" 2>/dev/null || true
  cmp -s "$TMP/many.1.jsonl" "$TMP/many.$th.jsonl" ||
    { diff "$TMP/many.1.jsonl" "$TMP/many.$th.jsonl" | head -5 >&2; fail "several files: --threads $th differs"; }
done
echo "ok several files: idle connections reported alike with 1, 2 and 3 threads"

# The same captures as one file (the workers take turns reading it: pipeline/selfread.c one-pass
# mode), whole and through a filter that drops frames (the frame numbers then have gaps).
command -v mergecap >/dev/null || fail "missing mergecap (wireshark-common; scripts/setup.sh installs it)"
mergecap -F pcap -w "$TMP/merged.pcap" "$SRC"/pcaps/*.pcap
for filt in "" "greater 80"; do
  args=(--json --ca-file "$SRC/pcaps/ca/root.pem")
  [ -n "$filt" ] && args+=(-f "$filt")
  "$BIN" analyze "${args[@]}" "$TMP/merged.pcap" > "$TMP/merged.1.jsonl" 2>/dev/null || true
  [ -s "$TMP/merged.1.jsonl" ] || fail "merged file${filt:+ with -f '$filt'}: no output"
  for th in 2 3; do
    "$BIN" analyze "${args[@]}" --threads $th "$TMP/merged.pcap" > "$TMP/merged.$th.jsonl" 2>/dev/null || true
    cmp -s "$TMP/merged.1.jsonl" "$TMP/merged.$th.jsonl" ||
      { diff "$TMP/merged.1.jsonl" "$TMP/merged.$th.jsonl" | head -5 >&2
        fail "merged file${filt:+ with -f '$filt'}: --threads $th differs"; }
  done
done
echo "ok one merged file, whole and filtered: 1, 2 and 3 threads alike"

# Usage errors for --threads name the option.
out=$("$BIN" analyze --threads 0 "$TMP/data/handshakes.pcap" 2>&1 >/dev/null) && fail "--threads 0 accepted"
[[ "$out" == *--threads* ]] || fail "--threads 0: message does not name the option: $out"
out=$("$BIN" analyze --threads 65 "$TMP/data/handshakes.pcap" 2>&1 >/dev/null) && fail "--threads 65 accepted"
[[ "$out" == *--threads* ]] || fail "--threads 65: message does not name the option"
echo "PASS"
