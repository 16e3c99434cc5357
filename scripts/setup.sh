#!/usr/bin/env bash
# setup.sh — install tlsdiag's Debian 12 build and test dependencies (as root) and build it.
#   scripts/setup.sh [BUILD_DIR [extra cmake args...]]     default BUILD_DIR: build
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true

pkgs=(build-essential cmake ninja-build pkg-config clang
      libpcap-dev libssl-dev libjansson-dev libcmocka-dev libnet1-dev libarchive-dev
      ca-certificates openssl tshark tcpdump python3 iproute2 valgrind clang-format
      chromium  # chromium: headless rendering of the bundle's report.html (tests)
      mandoc    # mandoc: lint of the man page doc/tlsdiag.1 (tests)
      faketime  # faketime: expired certificates for the probe's test PKI (tests)
      tcpreplay  # tcpreplay: bench/live.sh feeds a veth with the benchmark captures
      systemd logrotate lintian  # the service unit, its log rotation, the .deb (tests)
      nginx apache2 haproxy) # the servers tlsdiag doctor reads; its tests start them on 47500+
pkgs+=(strace)  # strace: test_output_writes counts the write(2) calls of a report
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: missing Debian packages: ${missing[*]} — run as root (sudo) to install them" >&2
        exit 1
    fi
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's postinst starts nginx, apache2 and haproxy on ports 80/443. Tests start their own
    # on their own ports, so a freshly installed one must not run: policy-rc.d exit 101 forbids
    # the start (invoke-rc.d honours it, with or without systemd), and one that runs anyway is
    # stopped. Servers that were installed before are left alone.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
        [ $own_policy -eq 0 ] || rm -f "$policy"
        exit 1
    }
    [ $own_policy -eq 0 ] || rm -f "$policy"
    for svc in nginx apache2 haproxy; do
        case " ${missing[*]} " in *" $svc "*) ;; *) continue ;; esac
        if [ -d /run/systemd/system ]; then
            systemctl stop "$svc" 2>/dev/null || true
        elif [ -x "/etc/init.d/$svc" ]; then
            "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
        fi
    done
fi

cmake -S . -B "$build" -G Ninja "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
