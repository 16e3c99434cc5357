#!/usr/bin/env bash
# test_commands.sh TLSDIAG SRCDIR — every command tlsdiag prints is safe to paste into a shell.
#
# A capture whose ClientHellos carry SNIs built to inject commands ($(), backticks, ';', quotes,
# a newline) and a NUL, read from a file whose own name is an injection, goes through analyze
# (text, -v, --json, --wireshark) and report (report.html, report.md). Every printed command
# (Check lines, openssl commands in the fix steps, wireshark/tshark/mergecap lines) is extracted,
# checked with sh -n, and run by sh in a sandbox directory with openssl, wireshark, tshark,
# mergecap and tlsdiag replaced by stubs on PATH: the marker file PWNED must never appear. The
# SNIs must be shown escaped, whole (a\x00b.example.com, never "a") and flagged as not valid host
# names.
set -uo pipefail
bin=${1:?usage: test_commands.sh TLSDIAG SRCDIR} src=${2:?}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { if eval "$2"; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi; }

mkdir -p "$work/in" "$work/out" "$work/stub" "$work/sandbox"
# The capture's file name is an injection too (the --wireshark lines carry it).
cap="$work/in/cap \$(touch PWNED);x'q.pcap"
python3 "$src/tests/limits/hostile.py" hostilecmd >"$cap" || { echo "FAIL: generator"; exit 1; }
ca=(--ca-file "$src/pcaps/ca/root.pem")

"$bin" analyze --color=never "${ca[@]}" "$cap" >"$work/out/a.txt" 2>&1
"$bin" analyze -v --color=never "${ca[@]}" "$cap" >"$work/out/av.txt" 2>&1
"$bin" analyze --json "${ca[@]}" "$cap" >"$work/out/a.json" 2>/dev/null
"$bin" analyze --wireshark --color=never "${ca[@]}" "$cap" >"$work/out/aw.txt" 2>&1
"$bin" analyze --wireshark --color=never "${ca[@]}" "$cap" "$src/pcaps/ok.pcap" \
    >"$work/out/aw2.txt" 2>&1
"$bin" report -o "$work/out/b.tar.gz" "${ca[@]}" "$cap" >/dev/null 2>&1
mkdir "$work/out/b" && tar -xzf "$work/out/b.tar.gz" -C "$work/out/b"
check "nothing ran while tlsdiag itself worked" '[ -z "$(find "$work" -name PWNED)" ]'

# Extract every printed command, one per line (NUL-separated, a command may not hold NUL).
python3 - "$work/out" >"$work/cmds" <<'EOF' || { echo "FAIL: extraction"; exit 1; }
import html, json, re, sys
out = sys.argv[1]
cmds = []
def from_prose(s):
    # A fix step names its command after a colon: "reproduce: openssl s_client ...".
    i = s.find("openssl ")
    if i >= 0:
        cmds.append(s[i:])
for name in ("a.txt", "av.txt", "aw.txt", "aw2.txt"):
    lines = open(f"{out}/{name}", encoding="utf-8", errors="replace").read().split("\n")
    for i, l in enumerate(lines):
        t = l.strip()
        if l.strip() == "Check:" and i + 1 < len(lines):
            cmds.append(lines[i + 1].strip())
        elif re.match(r"^\d+\. ", t):
            from_prose(t)
        elif re.match(r"^(wireshark|tshark|mergecap) ", t):
            cmds.append(t)
for l in open(f"{out}/a.json", encoding="utf-8"):
    j = json.loads(l)
    for o in [j, j.get("dominant_example") or {}]:
        if o.get("check_command"):
            cmds.append(o["check_command"])
        for f in o.get("fix") or []:
            from_prose(f)
page = open(f"{out}/b/report.html", encoding="utf-8").read()
for m in re.finditer(r"<pre>(.*?)</pre>", page, re.S):
    cmds.append(html.unescape(m.group(1)))
for m in re.finditer(r"<li>(.*?)</li>", page, re.S):
    from_prose(html.unescape(re.sub(r"<[^>]*>", "", m.group(1))))
md = open(f"{out}/b/report.md", encoding="utf-8").read()
for m in re.finditer(r"\*\*Check\*\*\n\n```\n(.*?)\n```", md, re.S):
    cmds.append(m.group(1))
sys.stdout.write("\0".join(cmds) + "\0")
EOF
n=$(tr -cd '\0' <"$work/cmds" | wc -c)
check "commands were found in every output (>= 40, got $n)" '[ "$n" -ge 40 ]'
check "check commands from text, JSON, HTML and Markdown" \
    '[ "$(tr "\0" "\n" <"$work/cmds" | grep -c "^openssl s_client -connect .* -showcerts")" -ge 20 ]'
check "wireshark and tshark lines found" \
    '[ "$(tr "\0" "\n" <"$work/cmds" | grep -c "^tshark -r ")" -ge 8 ]'

for t in openssl wireshark tshark mergecap tlsdiag; do
    printf '#!/bin/sh\nprintf "%%s\\n" "%s $*" >>"%s/ran"\n' "$t" "$work" >"$work/stub/$t"
    chmod +x "$work/stub/$t"
done
bad_syntax=0 ran=0
while IFS= read -r -d '' cmd; do
    if ! sh -n -c "$cmd" 2>/dev/null; then
        bad_syntax=$((bad_syntax + 1))
        printf 'syntax: %s\n' "$cmd"
    fi
    (cd "$work/sandbox" && PATH="$work/stub:$PATH" sh -c "$cmd" </dev/null >/dev/null 2>&1)
    ran=$((ran + 1))
done <"$work/cmds"
check "every printed command parses (sh -n)" '[ "$bad_syntax" = 0 ]'
check "the stubs ran (commands are real commands: $ran)" '[ "$(wc -l <"$work/ran")" -ge "$ran" ]'
check "no injected command ran (no PWNED file anywhere)" '[ -z "$(find "$work" -name PWNED)" ]'
# (grep -c reads all its input: a grep -q leaving early would SIGPIPE tr and, under pipefail,
# turn a match into a pass.)
check "no command line sends a hostile SNI" '! tr "\0" "\n" <"$work/cmds" | grep -c "servername .*touch" >/dev/null'
check "an invalid SNI gives a command without -servername and says why" \
    'grep -qF -- "-noservername -showcerts  # the SNI sent is not a valid host name (RFC 6066 §3): left out" "$work/out/a.txt"'
check "IPv6 -connect is bracketed and quoted" \
    'grep -qF -- "-connect '"'"'[2001:db8::9]'"'"':443" "$work/out/a.json"'
check "the capture file name is quoted in the wireshark lines" \
    'grep -qF "tshark -r '"'"'$work/in/cap \$(touch PWNED);x'"'"'\\'"'"''"'"'q.pcap'"'"' -Y" "$work/out/aw.txt"'

# Item 8: the SNI is shown whole and escaped, and flagged; never cut at its NUL.
check "text: the NUL SNI is shown escaped and whole" 'grep -qF "→ a\\x00b.example.com " "$work/out/a.txt"'
check "text: by-SNI table keeps the whole name" 'grep -qE "server_reset +a\\\\x00b\\.example\\.com$" "$work/out/a.txt"'
check "text: no SNI is shown as just \"a\"" '! grep -qE "(→ a |matches the SNI .a.|server_reset +a$)" "$work/out/a.txt" "$work/out/av.txt"'
check "text -v: evidence flags the SNI" 'grep -qF "sni_invalid: not a valid host name: contains a NUL byte" "$work/out/av.txt"'
check "text -v: evidence shows the SNI escaped" 'grep -qF "sni: a\\x00b.example.com (frame" "$work/out/av.txt"'
check "text: the newline SNI is escaped" 'grep -qF "n\\x0atouch PWNED\\x0a.example.com" "$work/out/a.txt"'
check "text: the name mismatch is found for the NUL SNI" 'grep -qF "a\\x00b.example.com  cert_name_mismatch" "$work/out/a.txt"'
check "JSON: sni whole, sni_invalid set, by_sni whole" 'python3 - "$work/out/a.json" <<'"'"'EOF'"'"'
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])]
hs = [j for j in v if j.get("type") == "handshake"]
nul = [j for j in hs if j["sni"] == "a\0b.example.com"]
assert len(nul) == 2, nul
assert all(j["sni_invalid"] == "contains a NUL byte" for j in nul)
assert all("sni_invalid" in j for j in hs)
ev = [e["value"] for e in nul[1]["evidence"] if e["key"] == "sni"]
assert ev == ["a\0b.example.com"], ev
s = [j for j in v if j.get("type") == "summary"][0]
keys = [c["sni"] for c in s["by_sni"]]
assert "a\0b.example.com" in keys and "a" not in keys, keys
EOF'
check "HTML: the SNI is escaped, whole and flagged" \
    'grep -qF "a\\x00b.example.com (not a valid host name: contains a NUL byte)" "$work/out/b/report.html"'
check "Markdown: the SNI is escaped, whole and flagged" \
    'grep -qF "a\\\\x00b.example.com (not a valid host name: contains a NUL byte)" "$work/out/b/report.md"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
