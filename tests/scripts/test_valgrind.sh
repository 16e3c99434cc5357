#!/usr/bin/env bash
# test_valgrind.sh TLSDIAG SRCDIR — memcheck over every bundled capture and, when present, every
# capture of ../shared/corpus: no invalid read/write, no use of uninitialised memory, no leak.
# (Registered only for builds without sanitizers: valgrind and ASan cannot share a process.)
set -uo pipefail
bin=${1:?usage: test_valgrind.sh TLSDIAG SRCDIR} src=${2:?}
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed (scripts/setup.sh installs it)"; exit 1; }
files=("$src"/pcaps/*.pcap "$src"/pcaps/*.pcapng)
corpus="$src/../shared/corpus"
if [ -d "$corpus" ]; then
    files+=("$corpus"/*.pcap "$corpus"/*.pcapng)
else
    echo "note: $corpus is absent: checking the bundled captures only"
fi
pass=0 fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One process per subcommand over all files (merged by time) exercises every path at once;
# then each damaged file alone, since a damaged file ends its own stream early.
for cmd in "analyze --json --ca-file $src/pcaps/ca/root.pem" "dissect --json"; do
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$bin" $cmd "${files[@]}" >/dev/null 2>"$log"
    rc=$?
    if [ $rc -eq 99 ] || grep -q '==[0-9]*==' "$log"; then
        echo "FAIL valgrind: tlsdiag $cmd (${#files[@]} files):"; grep '==' "$log" | head -40
        fail=$((fail + 1))
    elif [ $rc -gt 3 ]; then
        echo "FAIL tlsdiag $cmd exited $rc"; tail -5 "$log"; fail=$((fail + 1))
    else
        echo "ok   valgrind clean: tlsdiag ${cmd%% *} over ${#files[@]} files (exit $rc)"
        pass=$((pass + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
