#!/usr/bin/env bash
# test_bundle_html.sh — the bundle's report.html in headless Chromium: a non-empty screenshot,
# no console message at all (errors, blocked requests), and the DOM of the cert_expired ladder
# has the client's alert arrow marked as the breaking step. Usage: bash test_bundle_html.sh
# TLSDIAG SRCDIR. Needs Debian's chromium (scripts/setup.sh installs it); runs as root (CI).
set -u
TLSDIAG=${1:?usage: test_bundle_html.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_bundle_html.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "FAIL - chromium is not installed (scripts/setup.sh installs Debian's chromium)"
    exit 1
fi

# chrome ARGS...: one headless run with its own profile directory and logging on stderr.
chrome() {
    local profile
    profile=$(mktemp -d "$WORK/profile.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}
# console_problems LOG: console messages and uncaught exceptions Chromium logged.
console_problems() { grep -E "CONSOLE|Uncaught|Refused to|net::ERR" "$1"; }

"$TLSDIAG" report -o "$WORK/b.tar.gz" --ca-file "$SRCDIR/pcaps/ca/root.pem" \
    "$SRCDIR/pcaps/cert_expired.pcap" "$SRCDIR/pcaps/mixed.pcap" >/dev/null 2>&1
mkdir "$WORK/b" && tar -xzf "$WORK/b.tar.gz" -C "$WORK/b"
PAGE="file://$WORK/b/report.html"

# The console check is live: a page with a script error is caught.
printf '<!DOCTYPE html><html><body><script>throw new Error("boom")</script></body></html>' >"$WORK/broken.html"
chrome --dump-dom "file://$WORK/broken.html" >/dev/null 2>"$WORK/broken.log"
if console_problems "$WORK/broken.log" >/dev/null; then ok "a script error is seen in the log (check is live)"; else bad "Chromium's log did not show a script error"; fi

chrome --screenshot="$WORK/shot.png" --window-size=1000,2400 "$PAGE" >/dev/null 2>"$WORK/shot.log"
if [ -s "$WORK/shot.png" ] && [ "$(head -c 8 "$WORK/shot.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
    ok "screenshot is a non-empty PNG ($(stat -c %s "$WORK/shot.png") bytes)"
else
    bad "no screenshot: $(tail -3 "$WORK/shot.log")"
fi
if console_problems "$WORK/shot.log" >"$WORK/problems.txt"; then
    bad "console problems: $(head -3 "$WORK/problems.txt")"
else
    ok "no console error, no blocked request"
fi

chrome --dump-dom "$PAGE" >"$WORK/dom.html" 2>"$WORK/dom.log"
python3 - "$WORK/dom.html" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.section = None
        self.found = []
        self.ladders = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "conn" in a.get("class", ""):
            self.section = a.get("data-cause")
        if tag == "svg" and a.get("class") == "ladder":
            self.ladders += 1
        if tag == "g" and "arrow" in a.get("class", "").split():
            self.found.append((self.section, a.get("class"), a.get("data-kind"), a.get("data-frame")))
p = P()
p.feed(open(sys.argv[1]).read())
exp = [f for f in p.found if f[0] == "cert_expired"]
alerts = [f for f in exp if "alert" in f[1].split()]
assert p.ladders == 4, "ladders: %d" % p.ladders
assert len(exp) == 8, exp
# the client's fatal certificate_expired alert (frame 8), red and marked as the break
assert alerts == [("cert_expired", "arrow alert break", "ALERT", "8")], alerts
print("cert_expired ladder:", len(exp), "arrows; alert", alerts[0][1:])
PY
if [ $? -eq 0 ]; then ok "DOM: the cert_expired ladder shows the alert arrow (frame 8) as the break"; else bad "DOM assertion failed"; fi
if console_problems "$WORK/dom.log" >/dev/null; then bad "console problems while dumping the DOM"; else ok "no console problem in --dump-dom"; fi

echo "# test_bundle_html: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
