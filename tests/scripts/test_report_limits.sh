#!/usr/bin/env bash
# test_report_limits.sh TLSDIAG SRCDIR — `report` applies the dissector's limits like `analyze`
# (issue 15: every subcommand builds its dissector through pipeline/). With 200 bytes buffered
# per flow the certificate chains of pcaps/mixed.pcap are cut short: analyze and the bundle's
# findings.json both say capture_incomplete twice; without the limit neither does.
set -uo pipefail
bin=${1:?usage: test_report_limits.sh TLSDIAG SRCDIR} src=${2:?}
pcap="$src/pcaps/mixed.pcap"
now=2026-11-26T00:00:00Z
pass=0 fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

# incomplete OPTIONS...: capture_incomplete verdicts in analyze --json and in the bundle.
incomplete() {
    local a b
    a=$("$bin" analyze --json --now "$now" "$@" "$pcap" 2>/dev/null |
        grep -c '"cause":"capture_incomplete"')
    rm -f "$work/r.tar.gz"
    "$bin" report --now "$now" "$@" -o "$work/r.tar.gz" "$pcap" >/dev/null 2>&1
    b=$(tar -xzOf "$work/r.tar.gz" findings.json 2>/dev/null | grep -o '"cause":"capture_incomplete"' |
        wc -l)
    echo "$a $b"
}

got=$(incomplete --max-flow-bytes 200)
if [ "$got" = "2 2" ]; then
    ok "--max-flow-bytes 200: analyze and report both cut the chains (capture_incomplete x2)"
else
    bad "--max-flow-bytes 200: capture_incomplete in analyze/report: $got (want 2 2)"
fi
got=$(incomplete)
if [ "$got" = "0 0" ]; then
    ok "no limit: no capture_incomplete in analyze or report"
else
    bad "no limit: capture_incomplete in analyze/report: $got (want 0 0)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
