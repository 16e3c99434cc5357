#!/usr/bin/env bash
# test_systemd.sh TLSDIAG SRCDIR — the capture service as installed: `cmake --install` (into a
# DESTDIR) puts tlsdiag-capture@.service in lib/systemd/system with ExecStart= naming the
# installed binary and the CloudFront filter left at its default, JSON Lines appended under
# /var/log/tlsdiag; `systemd-analyze verify` finds nothing to say about it (template and an
# instance), its hardening is what the unit promises (and `systemd-analyze security` rates its
# exposure), and the installed logrotate configuration parses and rotates that log.
set -u
TLSDIAG=${1:?usage: test_systemd.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_systemd.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
for tool in systemd-analyze logrotate cmake; do
    command -v $tool >/dev/null || { echo "FAIL - $tool is not installed (scripts/setup.sh)"; exit 1; }
done
BUILD=$(dirname "$(readlink -f "$TLSDIAG")")
while [ "$BUILD" != / ] && [ ! -f "$BUILD/CMakeCache.txt" ]; do BUILD=$(dirname "$BUILD"); done
[ -f "$BUILD/CMakeCache.txt" ] || { echo "FAIL - no CMakeCache.txt above $TLSDIAG"; exit 1; }

# Installed with DESTDIR under a prefix of our own (never into this machine's /etc), so
# ExecStart= must name $prefix/bin/tlsdiag; verify runs on a copy pointing into DESTDIR.
prefix=/opt/tlsdiag-test
root=$WORK/root
DESTDIR=$root cmake --install "$BUILD" --prefix "$prefix" >"$WORK/install.log" 2>&1 ||
    bad "cmake --install: $(tail -3 "$WORK/install.log")"
unit=$root$prefix/lib/systemd/system/tlsdiag-capture@.service
[ -f "$unit" ] && ok "cmake --install puts lib/systemd/system/tlsdiag-capture@.service" ||
    { bad "no unit installed: $(tail -3 "$WORK/install.log")"; echo "$pass passed, $fail failed"; exit 1; }
exec_line=$(grep '^ExecStart=' "$unit")
bin=${exec_line#ExecStart=}
bin=${bin%% *}
[ "$bin" = "$prefix/bin/tlsdiag" ] && [ -x "$root$bin" ] && ok "ExecStart= names the installed binary ($bin)" ||
    bad "ExecStart= binary $bin is not the one installed ($prefix/bin/tlsdiag)"
grep -q -- ' capture -i %i ' <<<"$exec_line " && ! grep -q -- '--all-sources' <<<"$exec_line" &&
    ok "ExecStart= captures on the instance's interface with the CloudFront filter" || bad "ExecStart=: $exec_line"
grep -qx 'StandardOutput=append:/var/log/tlsdiag/capture-%i.jsonl' "$unit" &&
    ok "JSON Lines appended to /var/log/tlsdiag/capture-IFACE.jsonl" || bad "no StandardOutput=append: under /var/log/tlsdiag"
grep -qE '^ExecStart=.* --(json|ecs)( |$)' "$unit" && ok "ExecStart= writes JSON Lines" || bad "ExecStart= writes text"

# systemd-analyze verify: the template, and an instance; man:tlsdiag(1) from the installed page.
mkdir "$WORK/units"
sed "s|^ExecStart=$prefix/|ExecStart=$root$prefix/|" "$unit" >"$WORK/units/tlsdiag-capture@.service"
cp "$WORK/units/tlsdiag-capture@.service" "$WORK/units/tlsdiag-capture@lo.service"
for u in "$WORK"/units/tlsdiag-capture@.service "$WORK"/units/tlsdiag-capture@lo.service; do
    out=$(cd "$WORK/units" && MANPATH=$root$prefix/share/man systemd-analyze verify "./$(basename "$u")" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $(basename "$u"): clean"; else
        bad "systemd-analyze verify $(basename "$u") (exit $rc): $out"
    fi
done

# The hardening the unit promises, directive by directive.
for d in 'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN' 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ReadWritePaths=/var/log/tlsdiag' 'DynamicUser=yes' \
    'PrivateTmp=yes' 'ProtectHome=yes' 'RestrictAddressFamilies=AF_PACKET AF_NETLINK AF_INET AF_INET6 AF_UNIX' \
    'LogsDirectory=tlsdiag' 'SystemCallFilter=@system-service' 'MemoryDenyWriteExecute=yes'; do
    grep -qxF "$d" "$unit" && ok "$d" || bad "unit lacks $d"
done
grep -qE '^PrivateNetwork=yes' "$unit" && bad "PrivateNetwork=yes would hide the interfaces"
score=$(cd "$WORK/units" && systemd-analyze security --offline=yes ./tlsdiag-capture@lo.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN {exit !(s <= 2.5)}'; then
    ok "systemd-analyze security: exposure $score (at most 2.5)"
else
    bad "systemd-analyze security: exposure '${score:-?}' (more than 2.5, or not rated)"
fi

# logrotate: the installed configuration, pointed at a log of ours, parses and rotates it by
# copying and truncating in place (the service keeps the file open for appending).
conf=$root/etc/logrotate.d/tlsdiag
if [ ! -f "$conf" ]; then bad "no logrotate configuration installed"; else
    mkdir "$WORK/log"
    sed -e "s|/var/log/tlsdiag|$WORK/log|" -e '/^ *su /d' "$conf" >"$WORK/logrotate.conf"
    printf '{"schema_version":1}\n' >"$WORK/log/capture-eth0.jsonl"
    exec 3>>"$WORK/log/capture-eth0.jsonl"  # the open file, as systemd holds it
    if logrotate -f -s "$WORK/state" "$WORK/logrotate.conf" >"$WORK/lr.log" 2>&1 &&
        [ -s "$WORK/log/capture-eth0.jsonl.1" ] && [ ! -s "$WORK/log/capture-eth0.jsonl" ]; then
        printf '{"after":1}\n' >&3
        [ "$(cat "$WORK/log/capture-eth0.jsonl")" = '{"after":1}' ] &&
            ok "logrotate copies and truncates; the open file goes on at the start" ||
            bad "after rotation the open log holds: $(head -c 100 "$WORK/log/capture-eth0.jsonl")"
    else
        bad "logrotate: $(cat "$WORK/lr.log")"
    fi
    exec 3>&-
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
