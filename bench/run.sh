#!/usr/bin/env bash
# run.sh — tlsdiag against its peers on the benchmark captures; writes bench/RESULTS.md.
#
#   bench/run.sh [TLSDIAG_BINARY]          (as root; default binary: build/cli/tlsdiag)
#
# 1. Generates the captures with the shared generator (../shared/bench, or $BENCH_GEN) into $BENCH_DATA (default
#    /work/bench-data/full; never inside the repository), or reuses them when present.
# 2. Runs once per tool with the output kept and counts what each tool reports against the
#    generator's *.truth.json (tlsdiag: bench/count_tlsdiag.py; tshark, ssldump, ndpiReader:
#    the shared count-tool-output.py).
# 3. Timed runs, interleaved: for each of $RUNS rounds, every tool on every file, each as
#    `/usr/bin/time sh -c 'exec CMD >/dev/null 2>&1'` (wall, user, sys, peak RSS); before and
#    after each `--threads 2` run, the core-to-core round trip of a cache line (bench/c2c.c:
#    where the host put the two vCPUs), so the report can split that figure by placement; before
#    and after the rounds, what a mapped page of each file costs (bench/pagetouch.c).
# 4. Scaling (SCALE=0 skips it), per file, in $RUNS interleaved rounds: the machine's own ceiling
#    — N independent one-thread `tlsdiag analyze` processes of the same file at once, and N
#    copies of a fixed CPU loop, against one alone ("the machine scales S× with N independent
#    processes") — and `analyze --threads N` (text and --json) for N in $THREADS_LIST (default
#    1..nproc and 2×nproc), each speedup also given as a fraction of that S, with the CPU time
#    of --threads N against one thread's (work that threads add) and, where perf works, each
#    thread's share of the CPU samples (the calling thread's share is the serial part).
# 5. Memory as files grow: peak RSS of `analyze` (1 and 2 threads, text and --json) on a small
#    set of the same captures ($BENCH_SMALL, default $BENCH_DATA-small: MIXED_MB=64 HS_MB=32,
#    made with the same seed when missing; RSS_SMALL=0 skips it) and on the full files; and the
#    resident size sampled along one run of the full handshake file and of one three times its
#    size ($BENCH_LARGE, default $BENCH_DATA-large, HS_MB=600; RSS_LARGE=0 skips it).
# 6. Runs bench/live.sh (the live-capture benchmark, tcpreplay on a veth) unless LIVE=0; its
#    bench/LIVE.md goes into RESULTS.md before the notes.
# 7. Writes bench/RESULTS.md (machine, date, the targets of issue 20 with what was measured,
#    medians with min–max, ratios, the scaling curve, peak RSS, counts).
#
# Environment: RUNS [3], BENCH_DATA [/work/bench-data/full], TOOLS [all: "tlsdiag tlsdiag2
# tlsdiagjson tcpdump ndpi ssldump tshark"], FILES ["handshakes mixed"], RESULTS [bench/RESULTS.md],
# SCALE [1], THREADS_LIST [1..nproc, 2×nproc], BENCH_SMALL, RSS_SMALL [1], BENCH_LARGE, RSS_LARGE [1], LIVE [1], the generator's knobs (MIXED_MB, HS_MB, ...) when the captures are made.
# Peers missing from the machine are installed from Debian (ssldump, libndpi-bin) when root.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The capture generator is the shared one beside the repository (CI has it); never copied here.
GEN=${BENCH_GEN:-$(cd "$HERE/../../shared/bench" 2>/dev/null && pwd)}
[ -n "$GEN" ] && [ -f "$GEN/make-bench-pcap.sh" ] || { echo "bench: the shared generator (../shared/bench) is missing; set BENCH_GEN" >&2; exit 1; }
ROOT=$(cd "$HERE/.." && pwd)
TLSDIAG=$(realpath "${1:-$ROOT/build/cli/tlsdiag}")
RUNS=${RUNS:-3}
DATA=${BENCH_DATA:-/work/bench-data/full}
TOOLS=${TOOLS:-"tlsdiag tlsdiag2 tlsdiagjson tcpdump ndpi ssldump tshark"}
FILES=${FILES:-"handshakes mixed"}
RESULTS=${RESULTS:-$HERE/RESULTS.md}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ -x "$TLSDIAG" ] || { echo "run.sh: no tlsdiag binary at $TLSDIAG (build first)" >&2; exit 1; }
need_pkgs=()
command -v ssldump >/dev/null || need_pkgs+=(ssldump)
command -v ndpiReader >/dev/null || need_pkgs+=(libndpi-bin)
command -v tshark >/dev/null || need_pkgs+=(tshark)
command -v tcpdump >/dev/null || need_pkgs+=(tcpdump)
[ -x /usr/bin/time ] || need_pkgs+=(time)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "run.sh: missing ${need_pkgs[*]} (run as root to install)" >&2; exit 1; }
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

for f in $FILES; do
  if [ ! -s "$DATA/$f.pcap" ] || [ ! -s "$DATA/$f.truth.json" ]; then
    log "generating the captures in $DATA"
    bash "$GEN/make-bench-pcap.sh" "$DATA"
    break
  fi
done
CA="$DATA/seed/certs/root.pem"
WORK=$(mktemp -d /tmp/tlsdiag-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# c2c: the core-to-core round trip of a cache line (bench/c2c.c), measured before and after each
# timed `--threads 2` run: a shared host moves its vCPUs, and the workers hand lines to each
# other (bench/NOTES.md, round 10). Empty when it cannot be built or run (one CPU).
C2C=""
if cc -O2 -pthread -o "$WORK/c2c" "$HERE/c2c.c" 2>/dev/null; then C2C="$WORK/c2c"; fi
c2c() { [ -n "$C2C" ] && "$C2C" 2>/dev/null || true; }
# pagetouch: what the first read of a page of each file's mapping costs, how much of the file the
# page cache holds in 2 MiB folios, and read(2)'s speed on it (bench/pagetouch.c), before and
# after the timed runs: under a hypervisor that fills its own page table on first access, a file
# held in 4 KiB pages took tlsdiag 1.5x as long as the same file in 2 MiB folios (round 11).
PAGETOUCH=""
if cc -O2 -o "$WORK/pagetouch" "$HERE/pagetouch.c" 2>/dev/null; then PAGETOUCH="$WORK/pagetouch"; fi
pagetouch() {  # pagetouch WHEN → pagetouch.tsv: when, file, ns/page, MiB in 2 MiB pages, MiB, MB/s
  [ -n "$PAGETOUCH" ] || return 0
  local f line
  for f in $FILES; do
    line=$("$PAGETOUCH" "$DATA/$f.pcap" 2>/dev/null) && printf '%s\t%s\t%s\n' "$1" "$f" "$line" >> "$WORK/pagetouch.tsv"
  done
}
# now_us: the clock in µs into REPLY, read without starting a process (bash ≥ 5's
# EPOCHREALTIME). With `date +%s%N` forked before and after each run, `--threads 2` read
# 0.107–0.127 s where this read 0.098–0.106 in the same minutes (one thread 0.159–0.177 vs
# 0.157–0.176): what a process started around the run leaves to the kernel lands on the runs that
# use every CPU (bench/NOTES.md, round 10).
now_us() { REPLY=${EPOCHREALTIME//[!0-9]/}; }
[ -n "${EPOCHREALTIME:-}" ] || { echo "run.sh: needs bash 5 or later (EPOCHREALTIME)" >&2; exit 1; }

cmd_for() {  # cmd_for TOOL FILE → the shell command
  local t=$1 F=$2
  case $t in
    tlsdiag)  echo "$TLSDIAG analyze --ca-file $CA $F" ;;
    tlsdiag2) echo "$TLSDIAG analyze --threads 2 --ca-file $CA $F" ;;
    tlsdiagjson) echo "$TLSDIAG analyze --json --ca-file $CA $F" ;;
    tcpdump)  echo "tcpdump -r $F -w /dev/null" ;;
    ndpi)     echo "ndpiReader -i $F -v 2" ;;
    ssldump)  echo "ssldump -n -r $F" ;;
    tshark)   echo "tshark -r $F -Y 'tls.handshake.type==1 or tls.handshake.type==2 or tls.alert_message' -T fields -e frame.number -e tls.handshake.type -e tls.handshake.extensions_server_name -e tls.alert_message.desc" ;;
  esac
}

# --- counts ---------------------------------------------------------------------------------
mkdir -p "$WORK/counts"
for f in $FILES; do
  F="$DATA/$f.pcap"; T="$DATA/$f.truth.json"
  cat "$F" > /dev/null  # warm the page cache
  for t in $TOOLS; do
    out="$WORK/counts/$t.$f.out"
    case $t in
      tlsdiag|tlsdiag2)
        extra=""; [ "$t" = tlsdiag2 ] && extra="--threads 2"
        # shellcheck disable=SC2086
        "$TLSDIAG" analyze --json $extra --ca-file "$CA" "$F" > "$out" || true
        python3 "$HERE/count_tlsdiag.py" "$out" "$T" > "$WORK/counts/$t.$f.json" ;;
      ndpi|ssldump|tshark)
        log "counting $t on $f"
        sh -c "exec $(cmd_for "$t" "$F")" > "$out" 2>/dev/null || true
        python3 "$GEN/count-tool-output.py" "${t}" "$out" "$T" > "$WORK/counts/$t.$f.json" ;;
    esac
  done
  if [[ " $TOOLS " == *" tlsdiag "* && " $TOOLS " == *" tlsdiag2 "* ]]; then
    if cmp -s "$WORK/counts/tlsdiag.$f.out" "$WORK/counts/tlsdiag2.$f.out"; then
      echo same > "$WORK/counts/threads_identical.$f"
    else
      echo DIFFERENT > "$WORK/counts/threads_identical.$f"
    fi
  fi
  rm -f "$WORK"/counts/*."$f".out
done

# --- timed runs, interleaved ----------------------------------------------------------------
: > "$WORK/times.tsv"
: > "$WORK/c2c.tsv"
: > "$WORK/pagetouch.tsv"
pagetouch before
for r in $(seq 1 "$RUNS"); do
  for f in $FILES; do
    F="$DATA/$f.pcap"
    for t in $TOOLS; do
      log "run $r/$RUNS $t $f"
      # Wall time in ms from the clock around the run (GNU time's %e has 10 ms steps: too
      # coarse for a 0.2 s run), read without starting a process (now_us); CPU and peak RSS
      # from GNU time.
      if [ "$t" = tlsdiag2 ]; then c2c_before=$(c2c); fi
      run_cmd=$(cmd_for "$t" "$F")
      now_us; t0=$REPLY
      /usr/bin/time -o "$WORK/t" -f "%U	%S	%M" sh -c "exec $run_cmd >/dev/null 2>&1" || true
      now_us; t1=$REPLY
      if [ "$t" = tlsdiag2 ]; then
        printf '%s\t%s\t%s\t%s\n' "$r" "$f" "$c2c_before" "$(c2c)" >> "$WORK/c2c.tsv"
      fi
      printf -v wall '%d.%03d' $(( (t1 - t0) / 1000000 )) $(( (t1 - t0) / 1000 % 1000 ))
      printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$f" "$t" "$wall" "$(tail -1 "$WORK/t")" >> "$WORK/times.tsv"
    done
  done
done
pagetouch after

# --- scaling: the machine's ceiling with N independent processes, and --threads N -----------
# Every cell is the wall time of the whole batch (all N processes started together, waited
# for together), so "N × one alone ÷ batch" is how much the machine gives N independent
# CPU-bound processes; --threads N is compared with one thread and with that ceiling.
NPROC=$(nproc)
THREADS_LIST=${THREADS_LIST:-"$(seq 1 "$NPROC" | tr '\n' ' ')$((2 * NPROC))"}
LOOP_N=${LOOP_N:-20000000}
cpu_loop() { awk -v n="$LOOP_N" 'BEGIN { for (i = 0; i < n; i++) s += i % 7; print s }' >/dev/null; }
batch() {  # batch N CMD… : N copies of CMD at once; prints the wall ms of the batch
  local n=$1 i t0; shift
  local pids=()
  now_us; t0=$REPLY
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || true; done
  now_us; echo $(( (REPLY - t0) / 1000 ))
}
timed() {  # timed CMD… : one run; prints "wall ms<TAB>CPU s (user+sys)"
  local t0
  now_us; t0=$REPLY
  /usr/bin/time -o "$WORK/tt" -f "%U %S" "$@" >/dev/null 2>&1 || true
  now_us
  printf '%s\t%s\n' "$(( (REPLY - t0) / 1000 ))" "$(awk '{ print $1 + $2 }' "$WORK/tt" | tail -1)"
}
# threads_share FILE N: with perf, the share of CPU samples of each thread of one
# `analyze --threads N` run; the calling thread (tid = pid: it merges and writes, the workers
# read and dissect) is the serial part. Lines "file N json|text calling-share% worker-shares…".
threads_share() {
  local f=$1 n=$2 v
  for v in text json; do
    local x=""; [ "$v" = json ] && x=--json
    rm -f "$WORK/perf.data"
    # shellcheck disable=SC2086
    perf record -q -F 2000 -e cpu-clock -o "$WORK/perf.data" \
      "$TLSDIAG" analyze $x --threads "$n" --ca-file "$CA" "$DATA/$f.pcap" >/dev/null 2>&1 || true
    [ -s "$WORK/perf.data" ] || return 0  # perf cannot sample here (perf_event_paranoid, a VM)
    # perf script prints "pid/tid" per sample.
    perf script -i "$WORK/perf.data" -F pid,tid 2>/dev/null | tr '/' ' ' | awk -v f="$f" -v n="$n" -v v="$v" '
      NF >= 2 { c[$2]++; total++; if ($1 == $2) main = $2 }
      END { if (!total) exit; printf "%s\t%s\t%s\t%.1f", f, n, v, 100 * c[main] / total
            for (t in c) if (t != main) printf "\t%.1f", 100 * c[t] / total; printf "\n" }' \
      >> "$WORK/threads_share.tsv"
  done
}
: > "$WORK/scale.tsv"
: > "$WORK/threads_share.tsv"
if [ "${SCALE:-1}" != 0 ]; then
  if command -v perf >/dev/null; then
    for f in $FILES; do
      for n in $THREADS_LIST; do
        if [ "$n" -ge 2 ]; then
          log "per-thread CPU shares, $f, --threads $n (perf)"
          threads_share "$f" "$n"
        fi
      done
    done
  fi
  # shellcheck disable=SC2086  # THREADS_LIST is a list of words
  procs_list=$(printf '%s\n' $THREADS_LIST | sort -n | uniq | tr '\n' ' ')
  for r in $(seq 1 "$RUNS"); do
    for n in $procs_list; do
      log "scaling run $r/$RUNS: $n CPU loop(s)"
      printf 'loop\t-\t%s\t%s\t%s\n' "$n" "$r" "$(batch "$n" cpu_loop)" >> "$WORK/scale.tsv"
    done
    for f in $FILES; do
      F="$DATA/$f.pcap"
      for n in $procs_list; do
        log "scaling run $r/$RUNS $f: $n independent process(es), --threads $n (text, --json)"
        printf 'procs\t%s\t%s\t%s\t%s\n' "$f" "$n" "$r" \
          "$(batch "$n" "$TLSDIAG" analyze --ca-file "$CA" "$F")" >> "$WORK/scale.tsv"
        printf 'threads\t%s\t%s\t%s\t%s\n' "$f" "$n" "$r" \
          "$(timed "$TLSDIAG" analyze --threads "$n" --ca-file "$CA" "$F")" >> "$WORK/scale.tsv"
        printf 'threadsjson\t%s\t%s\t%s\t%s\n' "$f" "$n" "$r" \
          "$(timed "$TLSDIAG" analyze --json --threads "$n" --ca-file "$CA" "$F")" >> "$WORK/scale.tsv"
      done
    done
  done
fi

# --- peak RSS as files grow: the small set against the full one -----------------------------
: > "$WORK/rss.tsv"
if [ "${RSS_SMALL:-1}" != 0 ]; then
  SMALL=${BENCH_SMALL:-$DATA-small}
  if [ ! -s "$SMALL/handshakes.pcap" ] || [ ! -s "$SMALL/mixed.pcap" ]; then
    log "generating the small captures in $SMALL (MIXED_MB=64 HS_MB=32, the same seed)"
    mkdir -p "$SMALL"
    [ -d "$SMALL/seed" ] || cp -r "$DATA/seed" "$SMALL/"
    MIXED_MB=64 HS_MB=32 bash "$GEN/make-bench-pcap.sh" "$SMALL" >/dev/null
  fi
  for f in $FILES; do
    for dir in "$SMALL" "$DATA"; do
      F="$dir/$f.pcap"
      [ -s "$F" ] || continue
      for v in "" "--threads 2" "--json" "--json --threads 2"; do
        # shellcheck disable=SC2086
        /usr/bin/time -o "$WORK/t" -f "%M" "$TLSDIAG" analyze $v --ca-file "$CA" "$F" >/dev/null 2>&1 || true
        printf '%s\t%s\t%s\t%s\n' "$f" "$(stat -c %s "$F")" "${v:-text}" "$(tail -1 "$WORK/t")" >> "$WORK/rss.tsv"
      done
    done
  done
fi
# Flat as files grow: the small file is below the plateau (decided connections are kept for 300 s
# of capture time) and the full one only reaches it at its end, so their ratio shows the way up,
# not flatness. So the resident size is also sampled along one run of a handshake file three
# times the full one ($BENCH_LARGE, default $BENCH_DATA-large: HS_MB=600, the same seed, made
# when missing; RSS_LARGE=0 skips it): its second half is all on the plateau.
: > "$WORK/rss_along.tsv"
if [ "${RSS_LARGE:-1}" != 0 ]; then
  LARGE=${BENCH_LARGE:-$DATA-large}
  if [ ! -s "$LARGE/handshakes.pcap" ]; then
    log "generating the large handshake capture in $LARGE (MIXED_MB=0 HS_MB=600, the same seed)"
    mkdir -p "$LARGE"
    [ -d "$LARGE/seed" ] || cp -r "$DATA/seed" "$LARGE/"
    MIXED_MB=0 HS_MB=600 bash "$GEN/make-bench-pcap.sh" "$LARGE" >/dev/null
  fi
  for v in "" "--threads 2" "--json"; do
    for F in "$DATA/handshakes.pcap" "$LARGE/handshakes.pcap"; do
      [ -s "$F" ] || continue
      # shellcheck disable=SC2086
      python3 "$HERE/rss_along.py" "$(stat -c %s "$F")"$'\t'"${v:-text}" "$TLSDIAG" analyze $v \
        --ca-file "$CA" "$F" >> "$WORK/rss_along.tsv"
    done
  done
fi

# --- live capture: bench/live.sh (tcpreplay on a veth; writes bench/LIVE.md, which report.py
# puts into RESULTS.md before the notes). LIVE=0 skips it and keeps the last LIVE.md.
if [ "${LIVE:-1}" != 0 ]; then
  log "live capture benchmark (bench/live.sh)"
  RUNS=$RUNS LIVE_FILES="${LIVE_FILES:-$FILES}" LIVE_RESULTS="$HERE/LIVE.md" bash "$HERE/live.sh" "$DATA" "$TLSDIAG"
fi

python3 "$HERE/report.py" "$WORK" "$DATA" "$TLSDIAG" "$RUNS" "$FILES" "$TOOLS" > "$RESULTS"
log "wrote $RESULTS"
