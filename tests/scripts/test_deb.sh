#!/usr/bin/env bash
# test_deb.sh TLSDIAG SRCDIR — the Debian package is lintian clean: `cpack -G DEB` from the build
# of TLSDIAG, then lintian on the .deb must print no E: or W: line (overrides only from the
# lintian-overrides file the package ships, each with a comment saying why), and the package
# holds what Debian asks for: a DEP-5 copyright file, changelog.Debian.gz and the man page
# compressed with gzip -9n (no name, no time stamp), the service unit and the logrotate
# configuration (a conffile).
set -u
TLSDIAG=${1:?usage: test_deb.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_deb.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
for tool in cpack dpkg-deb lintian; do
    command -v $tool >/dev/null || { echo "FAIL - $tool is not installed (scripts/setup.sh)"; exit 1; }
done
BUILD=$(dirname "$(readlink -f "$TLSDIAG")")
while [ "$BUILD" != / ] && [ ! -f "$BUILD/CMakeCache.txt" ]; do BUILD=$(dirname "$BUILD"); done
[ -f "$BUILD/CMakeCache.txt" ] || { echo "FAIL - no CMakeCache.txt above $TLSDIAG"; exit 1; }

if (cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg") >"$WORK/cpack.log" 2>&1; then
    ok "cpack -G DEB"
else
    bad "cpack: $(tail -5 "$WORK/cpack.log")"
fi
deb=$(ls "$WORK"/pkg/tlsdiag_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { bad "no tlsdiag_*.deb"; echo "$pass passed, $fail failed"; exit 1; }

# lintian as root warns about running as root on stderr; only its findings count.
lintian --show-overrides "$deb" >"$WORK/lintian.txt" 2>"$WORK/lintian.err"
grep -v 'running with root privileges' "$WORK/lintian.err" | grep . && bad "lintian failed to run"
findings=$(grep -E '^[EW]: ' "$WORK/lintian.txt")
if [ -z "$findings" ]; then ok "lintian: no E: or W: ($(grep -c '^O: ' "$WORK/lintian.txt") justified overrides)"; else
    bad "lintian:"; echo "$findings"
fi

mkdir "$WORK/root"
dpkg-deb -x "$deb" "$WORK/root"
doc=$WORK/root/usr/share/doc/tlsdiag
head -1 "$doc/copyright" 2>/dev/null | grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' &&
    grep -q '^Files: \*' "$doc/copyright" && grep -q '^License: ' "$doc/copyright" &&
    ok "DEP-5 /usr/share/doc/tlsdiag/copyright" || bad "no machine-readable copyright file"
# gzip -9n: header flags 0 (no file name), mtime 0, XFL 2 (best compression).
gz9n() { [ "$(od -An -tx1 -N10 "$1" | tr -d ' \n')" = 1f8b0800000000000203 ]; }
for f in "$doc/changelog.Debian.gz" "$WORK/root/usr/share/man/man1/tlsdiag.1.gz"; do
    if [ -f "$f" ] && gz9n "$f" && gzip -t "$f"; then ok "${f#"$WORK/root"} is gzip -9n"; else
        bad "${f#"$WORK/root"} missing or not gzip -9n"
    fi
done
v=$(dpkg-deb -f "$deb" Version)
zcat "$doc/changelog.Debian.gz" | head -1 | grep -qF "tlsdiag ($v)" &&
    ok "changelog.Debian.gz is for version $v" || bad "changelog.Debian.gz does not start with version $v"
for f in usr/lib/systemd/system/tlsdiag-capture@.service etc/logrotate.d/tlsdiag \
    usr/share/lintian/overrides/tlsdiag; do
    [ -f "$WORK/root/$f" ] && ok "package holds /$f" || bad "package lacks /$f"
done
dpkg-deb -I "$deb" conffiles 2>/dev/null | grep -qx /etc/logrotate.d/tlsdiag &&
    ok "/etc/logrotate.d/tlsdiag is a conffile" || bad "/etc/logrotate.d/tlsdiag is not a conffile"
# Every override has a comment right above it.
if awk '/^#/ {c = 1; next} /^[^#[:space:]]/ {if (!c) {print; bad = 1}; c = 0} END {exit bad}' \
    "$WORK/root/usr/share/lintian/overrides/tlsdiag"; then ok "every lintian override has its reason"; else
    bad "a lintian override without a comment"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
