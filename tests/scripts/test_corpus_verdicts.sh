#!/usr/bin/env bash
# test_corpus_verdicts.sh TLSDIAG SRCDIR — `tlsdiag analyze` on every capture of the shared
# real-capture corpus: no crash, failed handshakes judged failed with their alert cited, and no
# bare `unknown` (see tests/corpus/verdicts.py). CI has the corpus beside the repository.
set -u
bin=${1:?usage: test_corpus_verdicts.sh TLSDIAG SRCDIR} src=${2:?}
corpus=${TLSDIAG_CORPUS:-$src/../shared/corpus}
if [ ! -d "$corpus/oracle" ]; then
    echo "NOTE: corpus not found at $corpus — verdicts NOT checked (CI has it)."
    exit 0
fi
exec python3 "$src/tests/corpus/verdicts.py" "$bin" "$corpus"
