#!/usr/bin/env bash
# test.sh — set up (Debian packages, builds) and run every test:
#   build/       normal build: every CTest test (units, end-to-end scripts, corpus, valgrind)
#   build-asan/  ASan+UBSan build: the same tests again (valgrind excluded)
#   build-fuzz/  clang libFuzzer build: each fuzz target for FUZZ_SECONDS (default 15) from the
#                committed seeds, plus the replay of every seed and regression input
# Every test has a time limit (CTest --timeout), so a hung peer fails the run instead of hanging it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build
scripts/setup.sh build-asan -DTLSDIAG_SANITIZE=ON
# FUZZ_SECONDS is read when build-fuzz is configured (tests/fuzz/CMakeLists.txt).
export FUZZ_SECONDS=${FUZZ_SECONDS:-15}
# The fuzz build needs only the fuzz targets (libFuzzer's main), not the whole tree again.
CC=clang cmake -S . -B build-fuzz -G Ninja -DTLSDIAG_FUZZ=ON -DTLSDIAG_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_all

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for b in build build-asan; do
    echo "== ctest ($b)"
    ctest --test-dir "$b" --output-on-failure --timeout 600 -j"$(nproc)" -E '^fuzz/' || status=1
done
echo "== fuzzing (build-fuzz, ${FUZZ_SECONDS}s per target)"
ctest --test-dir build-fuzz --output-on-failure --timeout 300 -j"$(nproc)" -R '^fuzz/' || status=1
exit $status
