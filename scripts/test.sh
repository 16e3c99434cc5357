#!/usr/bin/env bash
# test.sh — set up (Debian packages, builds) and run every test:
#   build/       normal build: every CTest test (units, end-to-end scripts, corpus, valgrind)
#   build-asan/  ASan+UBSan build: the same tests again (valgrind excluded)
#   build-clang/ clang build of the whole tree (-Werror: clang warns where gcc does not): units
#   build-tsan/  ThreadSanitizer build of the binary: the --threads stress test (every mode,
#                the cut-short file included), smaller (STRESS_*: a TSan run is ~10x slower)
#   build-fuzz/  clang libFuzzer build: each fuzz target for FUZZ_SECONDS (default 15) from the
#                committed seeds, plus the replay of every seed and regression input
# Every test has a time limit (CTest --timeout), so a hung peer fails the run instead of hanging it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build
scripts/setup.sh build-asan -DTLSDIAG_SANITIZE=ON
CC=clang cmake -S . -B build-clang -G Ninja >/dev/null
cmake --build build-clang -j"$(nproc)"
cmake -S . -B build-tsan -G Ninja -DTLSDIAG_TSAN=ON >/dev/null
cmake --build build-tsan -j"$(nproc)" --target tlsdiag
# FUZZ_SECONDS is read when build-fuzz is configured (tests/fuzz/CMakeLists.txt).
export FUZZ_SECONDS=${FUZZ_SECONDS:-15}
# The fuzz build needs only the fuzz targets (libFuzzer's main), not the whole tree again.
CC=clang cmake -S . -B build-fuzz -G Ninja -DTLSDIAG_FUZZ=ON -DTLSDIAG_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_all

# The end-to-end tests listen on fixed loopback ports 47000-47999, inside Linux's ephemeral range
# (32768-60999): a client socket of a test running beside them can be given one as its local port,
# and the server then cannot bind (seen once: test_doctor's haproxy, "Address already in use",
# during the ASan run). The range is kept out of automatic assignment while the tests run.
ports=/proc/sys/net/ipv4/ip_local_reserved_ports
if [ -w "$ports" ]; then
    reserved=$(cat "$ports")
    echo "${reserved:+$reserved,}47000-47999" >"$ports"
    trap 'echo "$reserved" >"$ports"' EXIT
else
    echo "note: cannot reserve ports 47000-47999 ($ports not writable): a test server may not bind" >&2
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for b in build build-asan; do
    echo "== ctest ($b)"
    # (the stress test's rounds: 6 in the normal build, 2 under ASan)
    STRESS_REPS=$([ $b = build ] && echo 6 || echo 2) \
        ctest --test-dir "$b" --output-on-failure --timeout 600 -j"$(nproc)" -E '^fuzz/' || status=1
done
echo "== ctest (build-clang: unit tests)"
ctest --test-dir build-clang --output-on-failure --timeout 600 -j"$(nproc)" -R '^unit/' || status=1
echo "== ctest (build-tsan: the --threads tests)"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 STRESS_REPS=1 STRESS_SYNS=4000 \
    STRESS_TIMEOUT=300 ctest --test-dir build-tsan --output-on-failure --timeout 1200 \
    -j"$(nproc)" -R '^script/test_threads_stress$' || status=1
echo "== fuzzing (build-fuzz, ${FUZZ_SECONDS}s per target)"
ctest --test-dir build-fuzz --output-on-failure --timeout 300 -j"$(nproc)" -R '^fuzz/' || status=1
exit $status
