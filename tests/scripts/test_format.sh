#!/usr/bin/env bash
# test_format.sh TLSDIAG SRCDIR — every C source follows the committed .clang-format
# (STYLE.md: ".clang-format committed and checked"). Fix with: clang-format -i FILE.
set -uo pipefail
src=${2:?usage: test_format.sh TLSDIAG SRCDIR}
cd "$src" || exit 1
command -v clang-format >/dev/null || { echo "FAIL: clang-format is not installed (scripts/setup.sh installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
bad=0
for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "FAIL $f is not clang-formatted"; bad=$((bad + 1))
    fi
done
echo "$((${#files[@]} - bad)) passed, $bad failed"
[ $bad -eq 0 ]
