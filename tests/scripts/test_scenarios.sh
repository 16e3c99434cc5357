#!/usr/bin/env bash
# test_scenarios.sh TLSDIAG SRCDIR — end-to-end check of the analyzer against the golden captures:
# for every row of pcaps/truth.tsv (and pcaps/field/truth.tsv, the real-server captures, with
# their own ca/root.pem), run `TLSDIAG analyze --json` on the capture and compare the
# conn_id's cause and outcome with the truth. One line per mismatch, then "N passed, M failed";
# exit 1 on any mismatch, on a missing binary or capture, or on output that is not the promised
# JSON Lines (one handshake object per connection, then a summary object).
set -u
if [[ $# -ne 2 ]]; then
    echo "usage: $0 TLSDIAG SRCDIR" >&2
    exit 2
fi
TLSDIAG=$1
SRC=$2
if [[ ! -x $TLSDIAG ]]; then
    echo "FAIL: tlsdiag binary not found or not executable: $TLSDIAG" >&2
    exit 1
fi
exec python3 - "$TLSDIAG" "$SRC" <<'PY'
import json
import glob
import os
import subprocess
import sys

tlsdiag, src = sys.argv[1], sys.argv[2]
SETS = [os.path.join(src, "pcaps"), os.path.join(src, "pcaps", "field")]
# Scenario sets of the field generator (gen-servers.sh OUTDIR SET): pcaps/field/SET/, each with
# its own truth.tsv and ca/.
SETS += sorted(os.path.dirname(t) for t in glob.glob(os.path.join(src, "pcaps", "field", "*", "truth.tsv")))
for pcaps in SETS:
    for must in (os.path.join(pcaps, "truth.tsv"), os.path.join(pcaps, "ca", "root.pem")):
        if not os.path.isfile(must):
            print("FAIL: missing " + must)
            sys.exit(1)


def read_truth(path):
    """truth.tsv: a header line, then one tab-separated row per expected handshake verdict."""
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, l.split("\t"))) for l in lines[1:]]


runs = {}  # file -> (handshakes by conn_id, problem or None)


def analyze(pcaps, name):
    """Run tlsdiag once per capture; return ({conn_id: object}, problem-or-None)."""
    ca = os.path.join(pcaps, "ca", "root.pem")
    path = os.path.join(pcaps, name)
    name = path
    if name in runs:
        return runs[name]
    if not os.path.isfile(path):
        runs[name] = ({}, "capture missing: " + path)
        return runs[name]
    cmd = [tlsdiag, "analyze", "--json", "--ca-file", ca, path]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except subprocess.TimeoutExpired:
        runs[name] = ({}, "tlsdiag timed out")
        return runs[name]
    problem = None
    if p.returncode < 0 or p.returncode >= 128:
        problem = "tlsdiag died (status %d): %s" % (p.returncode, p.stderr.decode(errors="replace")[-300:])
    conns, kinds = {}, []
    for i, line in enumerate(p.stdout.decode(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            problem = problem or "stdout line %d is not JSON (%s): %.80s" % (i, e, line)
            continue
        kinds.append(obj.get("type"))
        if obj.get("type") == "handshake":
            conns[obj.get("conn_id")] = obj
    if problem is None and (not kinds or kinds[-1] != "summary"):
        problem = "no summary object at the end of the JSON Lines output"
    runs[name] = (conns, problem)
    return runs[name]


passed = failed = 0
rows = [(pcaps, row) for pcaps in SETS for row in read_truth(os.path.join(pcaps, "truth.tsv"))]
for pcaps, row in rows:
    name, conn_id = row["file"], int(row["conn_id"])
    want_cause, want_outcome = row["cause"], row["outcome"]
    accept = {want_cause} | {c for c in row.get("accept", "-").split(",") if c and c != "-"}
    conns, problem = analyze(pcaps, name)
    where = "%s conn %d" % (os.path.relpath(os.path.join(pcaps, name), src), conn_id)
    if problem:
        print("MISMATCH %s: %s" % (where, problem))
        failed += 1
        continue
    got = conns.get(conn_id)
    if got is None:
        print("MISMATCH %s: no handshake object with this conn_id (have %s)" % (where, sorted(conns)))
        failed += 1
        continue
    errs = []
    if got.get("cause") not in accept:
        errs.append("cause %s, want %s" % (got.get("cause"), "|".join(sorted(accept))))
    if got.get("outcome") != want_outcome:
        errs.append("outcome %s, want %s" % (got.get("outcome"), want_outcome))
    if errs:
        print("MISMATCH %s: %s" % (where, "; ".join(errs)))
        failed += 1
    else:
        passed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed or not passed else 0)
PY
