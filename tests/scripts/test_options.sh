#!/usr/bin/env bash
# test_options.sh — tcpdump/tshark habits of analyze and dissect: -c N stops after N
# handshakes, -n is accepted, long forms work, and every usage error names the option it is
# about (exit 2). The one option table and its one parser: every subcommand takes the limits (K/M/G the same
# everywhere), an option of another subcommand is named as such, and each --help lists exactly
# the table's options of its subcommand. Usage: bash test_options.sh TLSDIAG SRCDIR
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
# Refused after the files were taken (under ASan: nothing leaks, the status stays 2).
usage_err "-: standard input can be read only once" analyze - -
usage_err "standard input cannot be used" report -o "$WORK/r.tar.gz" "$MIXED" -

# --help per command, with examples, on stdout, exit 0.
for cmd in analyze dissect; do
    if "$TLSDIAG" "$cmd" --help >"$WORK/h" 2>&1 && grep -q "^Examples:" "$WORK/h" &&
        grep -q -- "-c, --count N" "$WORK/h" && grep -q -- "--wireshark" "$WORK/h"; then
        ok "$cmd --help: options (-c, --wireshark) and examples"
    else
        bad "$cmd --help: $(head -c 300 "$WORK/h")"
    fi
done

# --- one option table (cli/optable.h) -----------------------------------------------------------
# accepted CMD ARGS...: the command line is not a usage error (exit 0 or 1, nothing about options).
accepted() {
    local what=$1
    shift
    timeout 120 "$TLSDIAG" "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    if { [ $rc -eq 0 ] || [ $rc -eq 1 ]; } && ! grep -qE "usage|unknown option|not valid|expected" "$WORK/err"; then
        ok "$what accepted (exit $rc)"
    else
        bad "$what: exit $rc, stderr: $(head -c 300 "$WORK/err")"
    fi
}
# The limits apply wherever packets are read: every subcommand takes them, with K/M/G suffixes.
for lim in "--max-flows 8" "--max-flow-bytes 64K" "--max-flow-bytes=2M" "--max-total-bytes 1G"; do
    # shellcheck disable=SC2086
    {
        accepted "analyze $lim" analyze $lim --ca-file "$CA" "$MIXED"
        accepted "dissect $lim" dissect $lim "$MIXED"
        accepted "report $lim" report -o "$WORK/r.tar.gz" $lim --ca-file "$CA" "$MIXED"
        accepted "probe $lim" probe $lim --no-capture --connect-timeout 2 127.0.0.1:1
        accepted "capture $lim" capture $lim --print-filter
    }
done
# The same value is refused with the same message by every subcommand.
for cmd in analyze dissect report probe capture; do
    case $cmd in
        report) args=(-o "$WORK/r.tar.gz" "$MIXED") ;;
        probe) args=(127.0.0.1:1) ;;
        capture) args=(--print-filter) ;;
        *) args=("$MIXED") ;;
    esac
    usage_err "--max-flow-bytes: expected a positive integer (K/M/G suffix allowed, below 4G), got '4G'" \
        "$cmd" --max-flow-bytes 4G "${args[@]}"
    usage_err "--max-flows: expected a positive integer, got '1K'" "$cmd" --max-flows 1K "${args[@]}"
    usage_err "--max-total-bytes: expected a positive integer (K/M/G suffix allowed), got '0'" \
        "$cmd" --max-total-bytes 0 "${args[@]}"
done
# One parser (cli/options.c) for every subcommand: --now is read, and refused, in the same
# words wherever it is accepted.
for cmd in analyze dissect report doctor; do
    case $cmd in
        report) args=(-o "$WORK/r.tar.gz" "$MIXED") ;;
        doctor) args=() ;;
        *) args=("$MIXED") ;;
    esac
    usage_err "--now: expected an RFC 3339 time such as 2026-11-26T20:00:00Z, got 'yesterday'" \
        "$cmd" --now yesterday "${args[@]}"
done
# An option of another subcommand is named as such, with the subcommands it is for.
usage_err "option '--max-connections' is not valid for analyze (it is for: report)" \
    analyze --max-connections 3 "$MIXED"
usage_err "option '--wireshark' is not valid for report (it is for: analyze, dissect)" \
    report -o "$WORK/r.tar.gz" --wireshark "$MIXED"
usage_err "option '-i' is not valid for probe (it is for: capture)" probe -i eth0 example.com
usage_err "option '-r' is not valid for capture (it is for: analyze, dissect, report)" \
    capture -r "$MIXED"
usage_err "option '--matrix' is not valid for dissect (it is for: probe)" dissect --matrix "$MIXED"
usage_err "unknown option, or an argument it does not take: '--bogus'" report -o "$WORK/r.tar.gz" --bogus "$MIXED"

# Each subcommand's --help lists exactly the options of its rows in the table (what
# `--list-options` prints and the completion offers): an option added to the table and not to
# the help, or the other way round, fails here.
# shellcheck source=/dev/null
source "$SRCDIR/completion/tlsdiag.bash"
for cmd in analyze dissect capture probe report doctor; do
    from_help=$(_tlsdiag_help_options "$TLSDIAG" "$cmd")
    from_table=$("$TLSDIAG" --list-options "$cmd" | sort -u)
    if [ -n "$from_table" ] && [ "$from_help" = "$from_table" ]; then
        ok "$cmd --help lists exactly its $(echo $from_table | wc -w) options of the table"
    else
        bad "$cmd --help vs table: $(diff <(echo "$from_help") <(echo "$from_table") | tr '\n' ' ')"
    fi
done
for cmd in analyze dissect capture probe report; do
    "$TLSDIAG" --list-options "$cmd" | grep -qx -- --max-total-bytes &&
        ok "$cmd: the table gives it the limits" || bad "$cmd: no --max-total-bytes in its table"
done
usage_err "option '--nginx' is not valid for analyze (it is for: doctor)" analyze --nginx x "$MIXED"
usage_err "option '--count' is not valid for doctor (it is for: analyze, dissect, capture)" doctor --count 3
usage_err "--list-options needs one COMMAND" --list-options frobnicate

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
