#!/usr/bin/env bash
# test_human_output.sh TLSDIAG SRCDIR — issue 17: output a person can act on. Every distinct
# failure cause gets its own fix block (most frequent first); nothing is cut in a pipe, and on
# a terminal lines are cut to the terminal's width; "failed on the wire" and "would fail for
# CloudFront" are separate columns and sentences (text and JSON); a tie is no dominant cause;
# "intermittent" needs one server address and port that both succeeded and failed.
set -uo pipefail
bin=${1:?usage: test_human_output.sh TLSDIAG SRCDIR} src=${2:?}
bin=$(readlink -f "$bin") src=$(readlink -f "$src")
work=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
pass=0 fail=0
check() { if eval "$2"; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi; }
cd "$src/pcaps" || exit 1
. "$src/tests/golden/golden.conf"

# --- item 1: a fix per distinct cause, ordered by count; no cut in a pipe --------------------
"$bin" analyze -v --color=never mixed.pcap >"$work/mixed.txt" 2>&1
causes=$(python3 -c '
import json,subprocess,sys
out=subprocess.run([sys.argv[1],"analyze","--json",sys.argv[2]],capture_output=True,text=True).stdout
s=[json.loads(l) for l in out.splitlines() if json.loads(l)["type"]=="summary"][0]
print(len(s["by_cause"]))' "$bin" mixed.pcap)
check "mixed.pcap has 4 distinct causes" '[ "$causes" = 4 ]'
check "mixed.pcap -v: one Fix block per distinct cause" '[ "$(grep -c "^  Fix:" "$work/mixed.txt")" = "$causes" ]'
check "mixed.pcap -v: one Check and one evidence list per cause" \
    '[ "$(grep -c "^  Check:" "$work/mixed.txt")" = 4 ] && [ "$(grep -c "^  Evidence (connection" "$work/mixed.txt")" = 4 ]'
check "each fix block is headed by its cause, numbered" \
    'grep -q "^1\. cert_untrusted_ca (1 would fail for CloudFront)" "$work/mixed.txt" && grep -q "^4\. connection_refused (1 failed on the wire)" "$work/mixed.txt"'
"$bin" analyze --color=never mixed.pcap | cat >"$work/pipe.txt"
check "piped: no failure line is cut (no …)" '! grep -q "…" "$work/pipe.txt"'
check "piped: the whole summary of each failure is there" \
    '[ "$(grep -E "^(FAIL|WILL) #[01] " "$work/pipe.txt" | grep -cF "none a private CA")" = 2 ]'
if command -v script >/dev/null; then
    script -qec "stty cols 60 rows 40; '$bin' analyze --color=never mixed.pcap" /dev/null >"$work/tty.txt" 2>&1
    widest=$(tr -d '\r' <"$work/tty.txt" | grep -E '^(FAIL|WILL) ' | python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in sys.stdin))')
    check "terminal of 60 columns: failure lines are cut to 60 (widest $widest)" '[ "$widest" = 60 ]'
    script -qec "stty cols 200 rows 40; '$bin' analyze --color=never mixed.pcap" /dev/null >"$work/tty2.txt" 2>&1
    check "terminal of 200 columns: the long summaries fit whole" 'tr -d "\r" <"$work/tty2.txt" | grep -F "none a private CA" >/dev/null'
else
    echo "FAIL script(1) (util-linux) is missing: needed to test terminal width"; fail=$((fail + 1))
fi

# --- item 2: failed on the wire vs would fail for CloudFront; ties ---------------------------
check "summary says failed on the wire" 'grep -q "^Summary: 4 connections: 1 succeeded, 3 failed on the wire, 0 incomplete, 0 not TLS$" "$work/mixed.txt"'
check "the would-fail sentence is its own" 'grep -q "^1 of the 1 succeeded handshake would fail for CloudFront$" "$work/mixed.txt"'
check "a four-way tie is no single dominant cause" 'grep -q "^No single dominant cause: 4 causes tie at 1 each$" "$work/mixed.txt" && ! grep -q "^Dominant cause" "$work/mixed.txt"'
check "By cause has separate failed / would fail columns" \
    'grep -Eq "^ +0 +1  cert_untrusted_ca — " "$work/mixed.txt" && grep -Eq "^ +1 +0  server_reset — " "$work/mixed.txt"'
check "By SNI: failed on the wire (2) apart from would fail (1)" \
    'grep -Eq "^ +2 +1 +0  cert_untrusted_ca +origin.example.com$" "$work/mixed.txt"'
"$bin" analyze --color=never ok.pcap cert_untrusted_ca.pcap cert_expired.pcap server_reset.pcap >"$work/dom.txt" 2>&1
check "a single dominant cause says how many failed and how many would fail" \
    'grep -qx "Dominant cause: cert_untrusted_ca (3 of the 4 handshakes that failed or would fail: 2 failed on the wire, 1 would fail for CloudFront)" "$work/dom.txt"'
"$bin" analyze --json mixed.pcap | tail -n 1 >"$work/sum.json"
check "JSON: by_cause_failed sums to failed, by_cause_predicted to predicted; tie listed" 'python3 - "$work/sum.json" <<PY
import json,sys
s=json.load(open(sys.argv[1]))
assert sum(s["by_cause_failed"].values())==s["failed"]==3, s
assert sum(s["by_cause_predicted"].values())==s["predicted"]==1, s
assert s["by_cause_predicted"]=={"cert_untrusted_ca":1}
assert sorted(s["dominant_causes"])==sorted(s["by_cause"]), s["dominant_causes"]
row=s["by_sni"][0]
assert row["failed"]==row["failed_on_wire"]+row["predicted"] and row["predicted"]==1 and row["failed_on_wire"]==2, row
PY'

# --- item 10: intermittent only for one server address and port ------------------------------
"$bin" analyze $ANALYZE_OPTS --color=never ok-tls13.pcap cert_expired-tls13.pcap >"$work/ports.txt" 2>&1
check "success and failure at different ports: not intermittent" '! grep -q "Intermittent" "$work/ports.txt"'
"$bin" analyze $ANALYZE_OPTS --json ok-tls13.pcap cert_expired-tls13.pcap | tail -n 1 >"$work/ports.json"
check "JSON: intermittent null for different ports" 'python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"intermittent\"] is None" "$work/ports.json"'
"$bin" analyze $ANALYZE_OPTS --color=never cert_untrusted_ca-tls13.pcap >"$work/same.txt" 2>&1
check "success and failure at one server: intermittent, naming it" 'grep -q "^Intermittent: origin.example.com at 127.0.0.1:17434 " "$work/same.txt"'

# --- item 9: a reader that closes the pipe early (| head) is not an error ---------------------
# 300 copies of mixed.pcap: far more output than a pipe buffer holds, so the writes hit EPIPE.
many=$(for i in $(seq 300); do echo mixed.pcap; done)
for cmd in "analyze -v" "dissect" "analyze --json"; do
    # shellcheck disable=SC2086
    ( "$bin" $cmd $many 2>"$work/epipe.err"; echo $? >"$work/epipe.rc" ) | head -n 2 >/dev/null
    check "$cmd | head -n 2: nothing said about the closed pipe" \
        '! grep -Eq "Broken pipe|cannot write" "$work/epipe.err"'
    want=1; [ "$cmd" = dissect ] && want=0
    check "$cmd | head -n 2: exits $want (what was found until the reader left), not 4" \
        '[ "$(cat "$work/epipe.rc")" = $want ]'
done
if [ -w /dev/full ]; then
    "$bin" analyze mixed.pcap >/dev/full 2>"$work/full.err"; rc=$?
    check "a full disk is still an error (exit 4, said)" '[ $rc = 4 ] && grep -q "cannot write the results to standard output: No space left on device" "$work/full.err"'
fi

# --- item 6 (and 2, 10): the bundle cites its own packets ------------------------------------
command -v tshark >/dev/null || { echo "FAIL tshark is missing (scripts/setup.sh installs it)"; fail=$((fail + 1)); }
mkdir -p "$work/b" && (cd "$work/b" && "$bin" report -o t.tar.gz --ca-file "$src/pcaps/ca/root.pem" \
    "$src/pcaps/mixed.pcap" "$src/pcaps/cert_missing_intermediate.pcap" >/dev/null 2>&1; tar xzf t.tar.gz)
brk=$(grep -m1 "<== broke here" "$work/b/report.md" | awk '{print $2}' | tr -d '#')
check "report.md: the broken frame cites its evidence.pcap packet (#$brk)" '[[ $brk =~ ^[0-9]+$ ]]'
check "evidence.pcap packet #$brk is that fatal alert (unknown_ca, 48)" \
    '[ "$(tshark -r "$work/b/evidence.pcap" -Y "frame.number==$brk" -T fields -e tls.alert_message.desc 2>/dev/null)" = 48 ]'
check "report.md evidence lines cite frame and evidence.pcap packet" \
    'grep -q "^- alert: fatal alert unknown_ca(48) from the client (frame 8, evidence.pcap #8)$" "$work/b/report.md"'
line=$(grep -m1 "^tshark -r evidence.pcap -Y '" "$work/b/report.md")
check "report.md: a pasteable tshark line on evidence.pcap selects the connection's packets" \
    '[ -n "$line" ] && [ "$(cd "$work/b" && bash -c "$line" 2>/dev/null | wc -l)" -ge 6 ]'
check "report.html: a ready wireshark -r evidence.pcap -Y line" \
    'grep -q "wireshark -r evidence.pcap -Y &#39;ip.addr==\|wireshark -r evidence.pcap -Y '"'"'ip.addr==" "$work/b/report.html"'
check "report.html: the missing intermediate is a named placeholder in the chain" \
    'grep -q "id=\"missing-intermediate\".*CN=tlsdiag Test Intermediate CA" "$work/b/report.html"'
check "report.md: commands paste as written (s_client, not s\\_client)" \
    'grep -q "openssl s_client -connect" "$work/b/report.md" && ! grep -qF "s\_client" "$work/b/report.md"'
mkdir -p "$work/t" && (cd "$work/t" && "$bin" report -o t.tar.gz "$src/pcaps/mixed.pcap" >/dev/null 2>&1; tar xzf t.tar.gz)
check "report.html of a tie: no single dominant cause; would-fail column" \
    'grep -q "No single dominant cause:</b> 4 causes tie at 1 each" "$work/t/report.html" && grep -q "<th>would fail for CloudFront</th>" "$work/t/report.html"'
check "report.md: failed on the wire and would fail for CloudFront apart" \
    'grep -q "^| \`cert_untrusted_ca\` | 0 | 1 |$" "$work/t/report.md"'
(cd "$work/t" && "$bin" report -o x.zip "$src/pcaps/mixed.pcap" >/dev/null 2>"$work/zip.err"; echo $? >"$work/zip.rc")
check "report -o x.zip refuses (exit 2), says why, writes nothing" \
    '[ "$(cat "$work/zip.rc")" = 2 ] && [ ! -e "$work/t/x.zip" ] && grep -q "gzip-compressed tar archive, not zip; name it x.tar.gz" "$work/zip.err"'

# --- item 7: a file error names the file, what is wrong and what to do -----------------------
mkdir -p "$work/dir"
"$bin" analyze "$work/dir" >"$work/e.out" 2>"$work/e.err"; rc=$?
check "a directory is called a directory (exit 3)" \
    '[ $rc = 3 ] && grep -q "dir: is a directory, not a pcap or pcapng file (name the capture files in it" "$work/e.err" && ! grep -q "empty file" "$work/e.err"'
"$bin" analyze "$work/missing.pcap" >"$work/m.out" 2>"$work/m.err"; rc=$?
check "a missing pcap: said once, on stderr; no empty summary on stdout" \
    '[ $rc = 3 ] && [ "$(grep -c "missing.pcap: does not exist" "$work/m.err")" = 1 ] && [ ! -s "$work/m.out" ]'
"$bin" analyze --json "$work/missing.pcap" 2>/dev/null | tail -n 1 >"$work/m.json"
check "a missing pcap with --json still ends with its summary" 'grep -q "\"type\":\"summary\"" "$work/m.json"'
"$bin" analyze --ca-file "$work/nope.pem" mixed.pcap >/dev/null 2>"$work/ca.err"; rc=$?
check "--ca-file on a missing file says it does not exist, not 'not PEM'" \
    '[ $rc = 3 ] && grep -q -- "--ca-file .*nope.pem: does not exist; give a PEM file of CA certificates" "$work/ca.err" && ! grep -q "not PEM" "$work/ca.err"'
printf '\x89PNG\r\n\x1a\n' >"$work/img.png"
"$bin" analyze --ranges "$work/img.png" mixed.pcap >/dev/null 2>"$work/r.err"; rc=$?
check "--ranges img.png names the option and the expected ip-ranges.json" \
    '[ $rc = 3 ] && grep -q -- "--ranges .*img.png:1: not JSON (.*); give AWS.s ip-ranges.json (https://ip-ranges.amazonaws.com/ip-ranges.json)" "$work/r.err"'

# --- item 10: smaller frictions ---------------------------------------------------------------
for c in analyze dissect capture probe report; do
    "$bin" $c -Y tls.alert x.pcap >/dev/null 2>"$work/y.err"; rc=$?
    check "$c -Y: the hint says -f (BPF) and --wireshark (exit 2)" \
        '[ $rc = 2 ] && grep -q "tlsdiag filters with -f (BPF); use --wireshark to get a display filter" "$work/y.err"'
    check "$c: one error prefix style ('tlsdiag: ')" 'head -n 1 "$work/y.err" | grep -q "^tlsdiag: option"'
done
"$bin" dissect --help >"$work/dh.txt"
check "dissect --help lists no analyze-only option (--threads)" '! grep -q -- "--threads" "$work/dh.txt"'
"$bin" analyze --help >"$work/ah.txt"
check "analyze --help still lists --threads" 'grep -q -- "--threads N" "$work/ah.txt"'
"$bin" mixed.pcap >/dev/null 2>"$work/cmd.err"; rc=$?
check "tlsdiag FILE suggests every command that reads a file (analyze, dissect, report)" \
    '[ $rc = 2 ] && grep -q "tlsdiag analyze mixed.pcap" "$work/cmd.err" && grep -q "tlsdiag dissect mixed.pcap" "$work/cmd.err" && grep -q "tlsdiag report -o ticket.tar.gz mixed.pcap" "$work/cmd.err"'
"$bin" capture --bogus >/dev/null 2>"$work/cap.err"
check "capture's errors use the same prefix" 'head -n 1 "$work/cap.err" | grep -q "^tlsdiag: "'
"$bin" analyze -q -v server_reset.pcap >"$work/qv.txt"
"$bin" analyze -v -q server_reset.pcap >"$work/vq.txt"
check "-q -v: the last wins (-v: failure line and evidence)" 'grep -q "^FAIL #0" "$work/qv.txt" && grep -q "^      rst: " "$work/qv.txt"'
check "-v -q: the last wins (-q: summary only)" '! grep -q "^FAIL" "$work/vq.txt" && grep -q "^Summary:" "$work/vq.txt"'
# the roff source, lines joined (no man(1) needed)
man_txt=$(tr '\n' ' ' <"$src/doc/tlsdiag.1")
check "man page: -q/-v precedence is documented" 'grep -q "the last of the two wins" <<<"$man_txt"'
check "man page: probe resolves the HOST it is given" 'grep -q "resolves the" <<<"$man_txt" && ! grep -q "never resolves names, needs" <<<"$man_txt"'
check "man page: a closed pipe is documented in EXIT STATUS" 'grep -q "A reader that closes the pipe early" <<<"$man_txt"'

# --- item 3: probe of a name that does not resolve (RFC 6761: .invalid never resolves) --------
"$bin" probe --no-capture nonexistent.invalid >"$work/dns.out" 2>"$work/dns.err"; rc=$?
check "probe of an unresolvable name: one line naming it, the error and what to check; exit 1" \
    '[ $rc = 1 ] && [ "$(wc -l <"$work/dns.out")" = 1 ] && grep -q "^FAIL nonexistent.invalid does not resolve (.*): CloudFront cannot connect either. Check the origin domain name .*: dig +short nonexistent.invalid$" "$work/dns.out"'
check "... no 0.0.0.0, no filter, no empty summary" '! grep -Eq "0\.0\.0\.0|ip\.addr|Summary" "$work/dns.out"'
"$bin" probe -q --no-capture nonexistent.invalid >"$work/dnsq.out" 2>&1
check "... the same line with -q" 'cmp -s "$work/dns.out" "$work/dnsq.out"'
"$bin" probe --json --no-capture nonexistent.invalid >"$work/dnsj.out" 2>"$work/dnsj.err"
check "... no empty 'probe: ;' reason on stderr (text or --json)" \
    '! grep -q "probe: ;" "$work/dns.err" && ! grep -q "probe: ;" "$work/dnsj.err"'

# --- items 4, 5: one probe's text, the matrix, TLS 1.3 guidance from the profile ---------------
"$bin" analyze -v connection_refused.pcap >"$work/rst.txt"
check "one RST is one evidence line (rst, not also tcp_rst)" \
    'grep -q "^      rst: " "$work/rst.txt" && ! grep -q "tcp_rst" "$work/rst.txt"'
"$bin" analyze --ca-file "$src/tests/data/certs/root.pem" mixed.pcap >"$work/one.txt"
check "a trust store of one certificate says '1 certificate'" 'grep -q "root.pem: 1 certificate, sha256" "$work/one.txt"'
"$bin" analyze protocol_version_mismatch.pcap >"$work/pv.txt"
check "TLS 1.3 dead end derives from the profile (cloudfront: up to TLSv1.2)" \
    'grep -q "enabling only TLS 1.3 on the origin: CloudFront (profile cloudfront) offers origins up to TLSv1.2" "$work/pv.txt" && ! grep -q "does not offer TLS 1.3" "$work/pv.txt"'
"$bin" analyze --profile generic protocol_version_mismatch.pcap >"$work/pvg.txt"
check "a profile that offers TLS 1.3 has no TLS 1.3 dead end" '! grep -q "enabling only TLS 1.3" "$work/pvg.txt"'
command -v openssl >/dev/null || { echo "FAIL openssl is missing"; fail=$((fail + 1)); }
pki=$work/pki && mkdir -p "$pki"
printf '[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n[leaf]\nbasicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:origin.example.com\n' >"$pki/ext.cnf"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/root.key" -out "$pki/root.pem" -days 30 \
    -subj "/CN=o17 Root" -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
for n in int leaf; do
    openssl req -newkey rsa:2048 -nodes -keyout "$pki/$n.key" -out "$pki/$n.csr" -subj "/CN=$([ $n = int ] && echo o17 Intermediate || echo origin.example.com)" 2>/dev/null
done
openssl x509 -req -in "$pki/int.csr" -CA "$pki/root.pem" -CAkey "$pki/root.key" -CAcreateserial -out "$pki/int.pem" -days 30 -extfile "$pki/ext.cnf" -extensions ca 2>/dev/null
openssl x509 -req -in "$pki/leaf.csr" -CA "$pki/int.pem" -CAkey "$pki/int.key" -CAcreateserial -out "$pki/leaf.pem" -days 30 -extfile "$pki/ext.cnf" -extensions leaf 2>/dev/null
cat "$pki/root.pem" "$src/pcaps/ca/root.pem" >"$pki/trust.pem"
# a TLS 1.3-only origin that also leaves out its intermediate (ports: 47400-47499)
timeout 120 openssl s_server -accept 127.0.0.1:47411 -cert "$pki/leaf.pem" -key "$pki/leaf.key" -tls1_3 -www -quiet >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/47411) 2>/dev/null && break; sleep 0.1; done
"$bin" probe --no-capture --matrix --ca-file "$pki/trust.pem" --connect 127.0.0.1 origin.example.com:47411 >"$work/m.txt" 2>&1
check "TLS 1.3-only origin proved by the matrix: no hedge" \
    'grep -q "protocol_version_mismatch: the origin accepts only TLS 1.3 (the matrix: TLSv1.3 accepted, TLSv1, TLSv1.1, TLSv1.2 refused), and CloudFront (profile cloudfront) offers origins up to TLSv1.2" "$work/m.txt" && ! grep -q "or something older" "$work/m.txt"'
check "evidence does not list SSLv3 as offered" 'grep -q "client_versions: TLSv1.0 TLSv1.1 TLSv1.2" "$work/m.txt" && ! grep -q "client_versions: SSLv3" "$work/m.txt"'
check "matrix details are whole (OpenSSL's reason, not cut mid-word)" \
    'grep -Eq "^  TLSv1\.2 +setting +refused +tlsv1 alert protocol version$" "$work/m.txt" && grep -Eq "^  TLSv1\.3 +2025-only +accepted +TLSv1\.3 TLS_AES_256_GCM_SHA384$" "$work/m.txt"'
check "matrix columns aligned (origin column at one offset)" \
    '[ "$(grep -E "^  (SSLv3|TLSv1|TLSv1\.[123]|version) " "$work/m.txt" | awk "{print index(\$0, \$3)}" | sort -u | wc -l)" = 1 ]'
check "one probe: evidence once, no By-SNI/network/certificate tables" \
    '[ "$(grep -c "client_hello: " "$work/m.txt")" = 1 ] && ! grep -Eq "^By (SNI|client network|server certificate)" "$work/m.txt"'
"$bin" probe -q --no-capture --matrix --connect 127.0.0.1 origin.example.com:47411 >"$work/mq.txt" 2>&1
check "probe -q --matrix still shows the matrix it was asked for" 'grep -q "^Compatibility matrix for origin.example.com:47411" "$work/mq.txt"'
"$bin" probe --no-capture --matrix --profile generic --connect 127.0.0.1 origin.example.com:47411 >"$work/mg.txt" 2>&1
check "matrix: TLS 1.3 offered or not comes from the profile (generic: offered)" 'grep -Eq "^  TLSv1\.3 +offered +accepted" "$work/mg.txt"'

# --- item 8: the TLS 1.3 fix names the intermediate (--probe-origin found it), never '' -------
"$bin" analyze --ca-file "$src/pcaps/ca/root.pem" cert_missing_intermediate-tls13.pcap >"$work/i13.txt" 2>&1
check "TLS 1.3, no probe: the fix says the chain was hidden, not the intermediate ''" \
    '! grep -q "intermediate '"''"'" "$work/i13.txt" && grep -q "then the intermediate that issued the leaf (TLS 1.3 hid the chain: tlsdiag probe or --probe-origin names it)" "$work/i13.txt"'
"$bin" analyze --ca-file "$pki/trust.pem" --probe-origin=127.0.0.1:47411 cert_missing_intermediate-tls13.pcap >"$work/i13p.txt" 2>&1
check "TLS 1.3 with --probe-origin: the fix names what the probe found" \
    'grep -q "then the intermediate '"'"'CN=o17 Intermediate'"'"')" "$work/i13p.txt"'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
