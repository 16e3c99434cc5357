#!/usr/bin/env bash
# test_intermediates_index.sh [TLSDIAG] SRCDIR — data/public-intermediates-2026-05.tsv, the index
# tlsdiag embeds, is what scripts/make-intermediates-index.py makes from the PEM snapshot beside
# it: one row per certificate, and 40 rows spread over the file regenerated with the openssl CLI
# and compared (the whole file takes minutes to regenerate).
set -u
SRC=${!#}
exec python3 - "$SRC" <<'PY'
import importlib.util, os, re, sys
src = sys.argv[1]
spec = importlib.util.spec_from_file_location(
    "mkindex", os.path.join(src, "scripts", "make-intermediates-index.py"))
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)
pem = open(os.path.join(src, "data", "public-intermediates-2026-05.pem")).read()
certs = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.S)
with open(os.path.join(src, "data", "public-intermediates-2026-05.tsv")) as f:
    text = f.read()
rows = [l for l in text.splitlines() if l and not l.startswith("#")]
bad = 0
if not text.startswith(mk.HEADER):
    print("FAIL: the index header is not the generator's")
    bad += 1
if len(rows) != len(certs) or len(certs) != 1263:
    print("FAIL: %d rows for %d certificates (1263 expected)" % (len(rows), len(certs)))
    bad += 1
for i in range(0, len(certs), max(1, len(certs) // 40)):
    want = mk.row(certs[i])
    if i >= len(rows) or rows[i] != want:
        print("FAIL: row %d differs:\n  have %s\n  want %s" % (i, rows[i] if i < len(rows) else None, want))
        bad += 1
print("%s: %d rows checked against the PEM" % ("FAIL" if bad else "ok", len(range(0, len(certs), max(1, len(certs) // 40)))))
sys.exit(1 if bad else 0)
PY
