#!/usr/bin/env bash
# test_corpus.sh — conformance of `tlsdiag dissect --json` with tshark on the real-capture corpus.
# Usage: bash test_corpus.sh TLSDIAG SRCDIR. The corpus lives beside the repository
# (SRCDIR/../shared/corpus, or $TLSDIAG_CORPUS); CI has it. Deviations from tshark must be
# listed, with a reason, in tests/corpus/expectations.tsv (see tests/corpus/conformance.py).
set -u
TLSDIAG=${1:?usage: test_corpus.sh TLSDIAG SRCDIR}
SRCDIR=${2:?usage: test_corpus.sh TLSDIAG SRCDIR}
CORPUS=${TLSDIAG_CORPUS:-$SRCDIR/../shared/corpus}
if [ ! -d "$CORPUS/oracle" ]; then
    echo "NOTE: corpus not found at $CORPUS — conformance NOT checked (CI has it)."
    exit 0
fi
exec python3 "$SRCDIR/tests/corpus/conformance.py" "$TLSDIAG" "$CORPUS" \
    "$SRCDIR/tests/corpus/expectations.tsv"
