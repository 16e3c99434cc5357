#!/usr/bin/env bash
# test_escaping.sh TLSDIAG SRCDIR — attacker-controlled strings (an SNI with terminal escapes,
# NUL, newline and invalid UTF-8; a non-TLS "banner" with control bytes and markup) must come out
# escaped: no control byte but newline in text output, every JSON line valid, and the evidence
# still shows what was sent (escaped, not dropped).
set -uo pipefail
bin=${1:?usage: test_escaping.sh TLSDIAG SRCDIR} src=${2:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$src/tests/limits/hostile.py" hostilesni >"$work/h.pcap" || { echo "FAIL: generator"; exit 1; }
pass=0 fail=0
check() { if eval "$2"; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi; }

"$bin" analyze -v --color=never "$work/h.pcap" >"$work/a.txt" 2>"$work/a.err"
"$bin" dissect --color=never "$work/h.pcap" >"$work/d.txt" 2>>"$work/a.err"
"$bin" analyze --json "$work/h.pcap" >"$work/a.json" 2>>"$work/a.err"
"$bin" dissect --json "$work/h.pcap" >"$work/d.json" 2>>"$work/a.err"
ctl() { LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f]' "$1"; }
check "analyze text has no raw control bytes" '[ "$(ctl "$work/a.txt")" = 0 ]'
check "dissect text has no raw control bytes" '[ "$(ctl "$work/d.txt")" = 0 ]'
check "stderr has no raw control bytes" '[ "$(ctl "$work/a.err")" = 0 ]'
check "the escaped SNI is shown (\\x1b[31mevil)" 'grep -qF "\\x1b[31mevil" "$work/a.txt"'
check "the escaped banner is shown" 'grep -qF "pwned" "$work/a.txt" && grep -qF "HTTP/1.1 400" "$work/a.txt"'
check "cause is not_tls" 'grep -q "not_tls" "$work/a.txt"'
for j in a.json d.json; do
    check "$j: every line is valid JSON with schema_version" \
        'python3 -c "import json,sys; [json.loads(l)[\"schema_version\"] for l in open(sys.argv[1])]" "$work/$j"'
done
check "JSON keeps the SNI's escape byte as a JSON escape" 'grep -qiF "\\u001b[31mevil" "$work/a.json"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
