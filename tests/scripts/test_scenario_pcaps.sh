#!/usr/bin/env bash
# test_scenario_pcaps.sh [TLSDIAG] SRCDIR — check with tshark (the reference dissector, not our
# code) that every golden capture holds what pcaps/truth.tsv and pcaps/field/truth.tsv say it does: the connection exists,
# the first cleartext alert has the recorded sender and description (or there is none), and the
# row's wire_check display filter matches at least one frame. Needs no tlsdiag; the optional
# first argument is accepted (and ignored) so CTest can call every script the same way.
set -u
if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 [TLSDIAG] SRCDIR" >&2
    exit 2
fi
SRC=${!#}
if ! command -v tshark >/dev/null; then
    echo "FAIL: tshark not installed" >&2
    exit 1
fi
exec python3 - "$SRC" <<'PY'
import glob
import os
import subprocess
import sys

src = sys.argv[1]
SETS = [os.path.join(src, "pcaps"), os.path.join(src, "pcaps", "field")]
# Scenario sets of the field generator (gen-servers.sh OUTDIR SET): pcaps/field/SET/, each with
# its own truth.tsv and ca/.
SETS += sorted(os.path.dirname(t) for t in glob.glob(os.path.join(src, "pcaps", "field", "*", "truth.tsv")))
for pcaps in SETS:
    if not os.path.isfile(os.path.join(pcaps, "truth.tsv")):
        print("FAIL: missing " + os.path.join(pcaps, "truth.tsv"))
        sys.exit(1)

# RFC 8446 §6 / RFC 5246 §7.2 AlertDescription values used in truth.tsv.
ALERTS = {
    "close_notify": 0, "unexpected_message": 10, "bad_record_mac": 20, "handshake_failure": 40,
    "bad_certificate": 42, "unsupported_certificate": 43, "certificate_revoked": 44,
    "certificate_expired": 45, "certificate_unknown": 46, "illegal_parameter": 47,
    "unknown_ca": 48, "access_denied": 49, "decode_error": 50, "decrypt_error": 51,
    "protocol_version": 70, "insufficient_security": 71, "internal_error": 80,
    "inappropriate_fallback": 86, "user_canceled": 90, "missing_extension": 109,
    "unsupported_extension": 110, "unrecognized_name": 112, "certificate_required": 116,
    "no_application_protocol": 120,
}


def tshark(path, dfilter, fields):
    cmd = ["tshark", "-n", "-r", path, "-Y", dfilter, "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("tshark failed on %s -Y %r: %s" % (path, dfilter, p.stderr.decode()[-200:]))
    return [l.split("\t") for l in p.stdout.decode().splitlines() if l.strip()]


def server_port(frames):
    """The port the client connected to: the SYN's destination, or (a capture that starts
    mid-stream has no SYN) the lower of the two ports, since clients use ephemeral ports."""
    for f in frames:
        if f["syn"] == "1" and f["ack"] == "0":
            return f["dport"]
    return str(min(int(frames[0]["sport"]), int(frames[0]["dport"])))


def check(pcaps, row):
    path = os.path.join(pcaps, row["file"])
    if not os.path.isfile(path):
        return ["capture missing"]
    stream = int(row["conn_id"])
    names = ["syn", "ack", "sport", "dport", "alert"]
    frames = [dict(zip(names, f + [""] * (len(names) - len(f))))
              for f in tshark(path, "tcp.stream == %d" % stream,
                              ["tcp.flags.syn", "tcp.flags.ack", "tcp.srcport", "tcp.dstport",
                               "tls.alert_message.desc"])]
    if not frames:
        return ["no TCP stream %d" % stream]
    sport = server_port(frames)
    errs = []
    alerts = [(f["sport"], f["alert"]) for f in frames if f["alert"]]
    want_sender, want_alert = row["alert_sender"], row["alert"]
    if want_alert == "-":
        if alerts:
            errs.append("cleartext alert %s seen, truth says none" % alerts[0][1])
    else:
        if want_alert not in ALERTS:
            return ["truth names unknown alert %r" % want_alert]
        if not alerts:
            errs.append("no cleartext alert, truth says %s %s" % (want_sender, want_alert))
        else:
            sender = "server" if alerts[0][0] == sport else "client"
            desc = int(alerts[0][1].split(",")[0])
            if (sender, desc) != (want_sender, ALERTS[want_alert]):
                errs.append("first alert %s %d, truth says %s %s(%d)"
                            % (sender, desc, want_sender, want_alert, ALERTS[want_alert]))
    wire = row.get("wire_check", "-")
    if wire and wire != "-":
        if not tshark(path, "tcp.stream == %d && (%s)" % (stream, wire), ["frame.number"]):
            errs.append("wire_check matched no frame: " + wire)
    return errs


passed = failed = 0
rows = []
for pcaps in SETS:
    with open(os.path.join(pcaps, "truth.tsv"), encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    header = lines[0].split("\t")
    rows += [(pcaps, dict(zip(header, line.split("\t")))) for line in lines[1:]]
for pcaps, row in rows:
    try:
        errs = check(pcaps, row)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        errs = [str(e)]
    if errs:
        print("MISMATCH %s conn %s: %s" % (os.path.relpath(os.path.join(pcaps, row["file"]), src),
                                           row["conn_id"], "; ".join(errs)))
        failed += 1
    else:
        passed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed or not passed else 0)
PY
