#!/usr/bin/env bash
# test.sh — set up (Debian packages, builds) and run every test: the normal build and an
# ASan+UBSan build, each through CTest (unit tests, end-to-end scripts, corpus conformance).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build
scripts/setup.sh build-asan -DTLSDIAG_SANITIZE=ON

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for b in build build-asan; do
    echo "== ctest ($b)"
    ctest --test-dir "$b" --output-on-failure -j"$(nproc)" || status=1
done
exit $status
