#!/usr/bin/env bash
# test_install.sh — tlsdiag fits the system: `cmake --install` puts the binary, man page and
# completion in the usual places; the man page passes mandoc's lint and documents every command
# and option the binary has; the bash completion completes commands, options, interfaces and
# files; `cpack -G DEB` builds a package with the Debian runtime dependencies, and
# `apt-get install ./tlsdiag_*.deb` installs a tlsdiag that runs (`--version`, one `analyze`).
# The package is removed again at the end, also on failure. Needs root (CI is root), mandoc.
# Usage: bash test_install.sh TLSDIAG SRCDIR
set -u
TLSDIAG=${1:?usage: test_install.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_install.sh TLSDIAG SRCDIR}
WORK=$(mktemp -d)
installed_pkg=0
cleanup() {
    if [ "$installed_pkg" = 1 ]; then
        apt-get purge -y -qq -o DPkg::Lock::Timeout=600 tlsdiag >/dev/null 2>&1 ||
            dpkg -P tlsdiag >/dev/null 2>&1  # purge: /etc/logrotate.d/tlsdiag is a conffile
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
need() { command -v "$1" >/dev/null || { bad "$1 is not installed (scripts/setup.sh installs it)"; echo "$pass passed, $fail failed"; exit 1; }; }
need mandoc
need cpack
need dpkg-deb
need apt-get

# The build directory holds CMakeCache.txt, above the binary (build/cli/tlsdiag).
BUILD=$(dirname "$(readlink -f "$TLSDIAG")")
while [ "$BUILD" != / ] && [ ! -f "$BUILD/CMakeCache.txt" ]; do BUILD=$(dirname "$BUILD"); done
[ -f "$BUILD/CMakeCache.txt" ] || { bad "no CMakeCache.txt above $TLSDIAG"; exit 1; }
MAN=$SRCDIR/doc/tlsdiag.1
COMPLETION=$SRCDIR/completion/tlsdiag.bash

# --- man page -------------------------------------------------------------------------------
lint=$(mandoc -T lint -W warning "$MAN" 2>&1)
if [ -z "$lint" ]; then ok "mandoc -T lint: no warnings"; else bad "mandoc -T lint: $lint"; fi
if command -v man >/dev/null && command -v groff >/dev/null; then
    warn=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$MAN" 2>&1 >/dev/null)
    if [ -z "$warn" ]; then ok "man --warnings: none"; else bad "man --warnings: $warn"; fi
fi
# The rendered page, without overstrike, one long line per paragraph.
mandoc -T ascii -O width=400 "$MAN" | sed 's/.\x08//g' >"$WORK/man.txt"
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "JSON OUTPUT" "WIRESHARK HAND-OFF" \
    "EXIT STATUS" ENVIRONMENT EXAMPLES; do
    grep -q "^$section" "$WORK/man.txt" && ok "man: section $section" || bad "man: no section $section"
done
for code in 0 1 2 3 4; do
    grep -qE "^ +$code +[A-Z]" "$WORK/man.txt" && ok "man: exit status $code" || bad "man: exit status $code not documented"
done
grep -q "README.md" "$WORK/man.txt" && grep -q "schema_version" "$WORK/man.txt" &&
    ok "man: points to the JSON schema" || bad "man: no JSON schema pointer"
for use in "During an incident" "Offline capture" "Support-ticket bundle" "Probe the origin"; do
    grep -q "^ *$use" "$WORK/man.txt" && ok "man: example '$use'" || bad "man: no example '$use'"
done

# Every command `tlsdiag --help` lists, and every option of each command's --help, is in the
# page, and completion offers it. A command whose --help does not run yet is listed, not skipped.
source "$COMPLETION"
commands=$("$TLSDIAG" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]+ / {print $1} on && /^$/ {on = 0}')
[ -n "$commands" ] || bad "tlsdiag --help lists no commands"
checked=0
for cmd in $commands; do
    grep -q "^ *tlsdiag $cmd" "$WORK/man.txt" && ok "man: synopsis of $cmd" || bad "man: no synopsis line for $cmd"
    grep -qE "^ {5,}$cmd( |\$)" "$WORK/man.txt" && ok "man: command $cmd described" || bad "man: command $cmd not described under COMMANDS"
    if ! "$TLSDIAG" "$cmd" --help >"$WORK/help.txt" 2>&1; then
        bad "tlsdiag $cmd --help fails: $(head -c 200 "$WORK/help.txt")"
        continue
    fi
    checked=$((checked + 1))
    opts=$(_tlsdiag_options "$TLSDIAG" "$cmd")
    [ -n "$opts" ] || bad "$cmd: no options parsed from --help"
    missing=() nolong=()
    for o in $opts; do
        case "$o" in
            --*) grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$WORK/man.txt" || missing+=("$o") ;;
            -?) grep -qE -- "(^|[ (])$o(,| |\$)" "$WORK/man.txt" || missing+=("$o") ;;
        esac
    done
    # Every short option has a long form on the same help line.
    # (The option column of a help line is what precedes the two blanks of its description.)
    while read -r line; do nolong+=("$line"); done < <(awk '/^[[:space:]]+([A-Z]+, )?-/ {
        sub(/^[[:space:]]+/, ""); i = index($0, "  "); col = i ? substr($0, 1, i - 1) : $0
        if (col ~ /(^|[ ,])-[A-Za-z0-9]/ && col !~ /--[a-z]/) print "[" col "]" }' "$WORK/help.txt")
    if [ ${#missing[@]} -eq 0 ]; then ok "man documents all $(echo $opts | wc -w) options of $cmd"; else bad "man lacks $cmd options: ${missing[*]}"; fi
    if [ ${#nolong[@]} -eq 0 ]; then ok "$cmd: every short option has a long form"; else bad "$cmd: short options without a long form: ${nolong[*]}"; fi
    grep -q "^Examples:" "$WORK/help.txt" && ok "$cmd --help has examples" || bad "$cmd --help has no Examples: section"
    # Completion: every option of the command, from its help.
    COMP_WORDS=("$TLSDIAG" "$cmd" "--"); COMP_CWORD=2; _tlsdiag
    want=$(printf '%s\n' $opts | grep -- '^--' | sort); got=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
    [ "$want" = "$got" ] && ok "completion offers the $(echo $want | wc -w) long options of $cmd" || bad "completion of '$cmd --': got [$got] want [$want]"
done
[ "$checked" -ge 2 ] || bad "only $checked commands had a working --help"
# And the other way: every long option the page documents exists in some command's --help.
all_opts=$(for cmd in $commands; do _tlsdiag_options "$TLSDIAG" "$cmd"; done | sort -u)
stale=()
for o in $(grep -oE -- '--[a-z][a-z0-9-]*' "$WORK/man.txt" | sort -u); do
    case "$o" in --colour | --version | --help) continue ;; esac
    grep -qx -- "$o" <<<"$all_opts" || stale+=("$o")
done
if [ ${#stale[@]} -eq 0 ]; then ok "man documents no option the binary lacks"; else bad "man documents options no --help has: ${stale[*]}"; fi

# --- bash completion --------------------------------------------------------------------------
# t WORD... : complete the last word; COMPREPLY is left for the caller.
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _tlsdiag; }
has() { local w; for w in "${COMPREPLY[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }
t "$TLSDIAG" an
[ "${COMPREPLY[*]}" = analyze ] && ok "completion: an → analyze" || bad "completion: an → ${COMPREPLY[*]}"
t "$TLSDIAG" ""
for c in analyze dissect capture probe report; do has "$c" || bad "completion: command $c not offered (${COMPREPLY[*]})"; done
has analyze && has report && ok "completion: all commands"
t "$TLSDIAG" analyze --ca-
[ "${COMPREPLY[*]}" = "--ca-file --ca-path" ] && ok "completion: --ca- → --ca-file --ca-path" || bad "completion: --ca- → ${COMPREPLY[*]}"
t "$TLSDIAG" analyze --color=n
[ "${COMPREPLY[*]}" = never ] && ok "completion: --color=n → never" || bad "completion: --color=n → ${COMPREPLY[*]}"
t "$TLSDIAG" capture -i ""
has any && has lo && ok "completion: -i offers any and lo (${COMPREPLY[*]})" || bad "completion: -i → ${COMPREPLY[*]}"
t "$TLSDIAG" capture --interface l
has lo && ! has any && ok "completion: --interface l → lo" || bad "completion: --interface l → ${COMPREPLY[*]}"
mkdir -p "$WORK/caps/sub dir"
: >"$WORK/caps/one.pcap"
: >"$WORK/caps/two.pcapng"
t "$TLSDIAG" analyze -r "$WORK/caps/o"
[ "${COMPREPLY[*]}" = "$WORK/caps/one.pcap" ] && ok "completion: -r completes a file" || bad "completion: -r → ${COMPREPLY[*]}"
t "$TLSDIAG" dissect "$WORK/caps/"
has "$WORK/caps/one.pcap" && has "$WORK/caps/two.pcapng" && has "$WORK/caps/sub dir" &&
    ok "completion: positional files and directories" || bad "completion: files → ${COMPREPLY[*]}"
t "$TLSDIAG" analyze --color "$WORK/caps/on"
[ "${COMPREPLY[*]}" = "$WORK/caps/one.pcap" ] && ok "completion: a file after --color (its value needs =)" || bad "completion: --color FILE → ${COMPREPLY[*]}"
t "$TLSDIAG" analyze -c ""
[ ${#COMPREPLY[@]} -eq 0 ] && ok "completion: nothing after -c" || bad "completion: -c → ${COMPREPLY[*]}"

# --- cmake --install into a DESTDIR ------------------------------------------------------------
if DESTDIR="$WORK/root" cmake --install "$BUILD" --prefix /usr >"$WORK/install.log" 2>&1; then
    ok "cmake --install"
else
    bad "cmake --install: $(tail -5 "$WORK/install.log")"
fi
for f in usr/bin/tlsdiag usr/share/man/man1/tlsdiag.1.gz \
    usr/share/bash-completion/completions/tlsdiag usr/share/doc/tlsdiag/README.md; do
    [ -f "$WORK/root/$f" ] && ok "installed /$f" || bad "not installed: /$f"
done
if cmp -s <(gzip -dc "$WORK/root/usr/share/man/man1/tlsdiag.1.gz") "$MAN"; then
    ok "installed man page is doc/tlsdiag.1"
else
    bad "installed man page differs from doc/tlsdiag.1 (stale build?)"
fi

# --- cpack -G DEB, apt-get install ./tlsdiag_*.deb ---------------------------------------------
if (cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg") >"$WORK/cpack.log" 2>&1; then
    ok "cpack -G DEB"
else
    bad "cpack: $(tail -5 "$WORK/cpack.log")"
fi
deb=$(ls "$WORK"/pkg/tlsdiag_*.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
    bad "no tlsdiag_*.deb in $WORK/pkg"
    echo "$pass passed, $fail failed"
    exit 1
fi
ok "package $(basename "$deb")"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpcap0.8 libssl3 libnet1 libjansson4 libarchive13 ca-certificates; do
    [[ ", $depends," == *", $lib"[\ ,]* ]] && ok "Depends: $lib" || bad "Depends lacks $lib: $depends"
done
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/tlsdiag ./usr/share/man/man1/tlsdiag.1.gz ./usr/share/bash-completion/completions/tlsdiag; do
    grep -q " $f\$" <<<"$contents" && ok "package holds $f" || bad "package lacks $f"
done

export DEBIAN_FRONTEND=noninteractive
installed_pkg=1
if apt-get install -y -qq -o DPkg::Lock::Timeout=600 "$deb" >"$WORK/apt.log" 2>&1; then
    ok "apt-get install ./$(basename "$deb")"
else
    bad "apt-get install: $(tail -5 "$WORK/apt.log")"
fi
dpkg-query -W -f='${Status}' tlsdiag 2>/dev/null | grep -q 'install ok installed' &&
    ok "dpkg says tlsdiag is installed" || bad "tlsdiag is not installed after apt-get"
v=$(/usr/bin/tlsdiag --version 2>&1 | head -1)
[[ "$v" == "tlsdiag "[0-9]* ]] && ok "/usr/bin/tlsdiag --version: $v" || bad "/usr/bin/tlsdiag --version: $v"
/usr/bin/tlsdiag analyze --ca-file "$SRCDIR/pcaps/ca/root.pem" "$SRCDIR/pcaps/cert_expired.pcap" >"$WORK/an.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "FAIL #0 .* cert_expired" "$WORK/an.txt" && ok "installed tlsdiag analyze finds cert_expired (exit 1)" ||
    bad "installed analyze: exit $rc: $(head -c 300 "$WORK/an.txt")"
if grep -qs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
    echo "note - dpkg is configured to drop /usr/share/man on this machine (a container image): man -w not checked"
elif command -v man >/dev/null; then
    [ "$(man -w tlsdiag 2>/dev/null)" = /usr/share/man/man1/tlsdiag.1.gz ] && ok "man -w tlsdiag" || bad "man -w tlsdiag: $(man -w tlsdiag 2>&1)"
else
    [ -f /usr/share/man/man1/tlsdiag.1.gz ] && ok "installed /usr/share/man/man1/tlsdiag.1.gz" || bad "the package did not install the man page"
fi
# The installed completion, with tlsdiag found in PATH.
unset -f _tlsdiag
_tlsdiag_option_cache=()
source /usr/share/bash-completion/completions/tlsdiag
t tlsdiag analyze --wire
[ "${COMPREPLY[*]}" = --wireshark ] && ok "installed completion: --wire → --wireshark" || bad "installed completion: --wire → ${COMPREPLY[*]}"

# The service unit and the logrotate conffile came with the package and go with it (purge).
[ -f /usr/lib/systemd/system/tlsdiag-capture@.service ] && [ -f /etc/logrotate.d/tlsdiag ] &&
    ok "installed the service unit and /etc/logrotate.d/tlsdiag" || bad "the package did not install the unit or the logrotate file"
if apt-get purge -y -qq -o DPkg::Lock::Timeout=600 tlsdiag >"$WORK/rm.log" 2>&1; then
    installed_pkg=0
    ok "apt-get purge tlsdiag"
else
    bad "apt-get purge: $(tail -5 "$WORK/rm.log")"
fi
[ ! -e /usr/bin/tlsdiag ] && ok "/usr/bin/tlsdiag removed" || bad "/usr/bin/tlsdiag still there"
[ ! -e /etc/logrotate.d/tlsdiag ] && ok "/etc/logrotate.d/tlsdiag purged" || bad "/etc/logrotate.d/tlsdiag left behind"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
