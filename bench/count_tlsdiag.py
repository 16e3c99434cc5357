#!/usr/bin/env python3
"""count_tlsdiag.py — counts in `tlsdiag analyze --json` output, compared with a *.truth.json.

usage: count_tlsdiag.py TLSDIAG_JSONL TRUTH_JSON [--check]

Prints one JSON object: tlsdiag's counts, the truth's, and per item "exact" or the difference.
With --check, exits 1 unless the counts tlsdiag is required to get exactly right match:
connections, ClientHellos, ServerHellos and cleartext alerts by sender and description.
Failure causes are compared too (printed), mapped from the generator's failure kinds.
"""
import json
import sys
from collections import Counter

# generator failure kind -> tlsdiag cause id (causes.md)
KIND_TO_CAUSE = {
    "expired_cert": "cert_expired",
    "hostname_mismatch": "cert_name_mismatch",
    "unrecognized_name": "sni_rejected",
    "protocol_version": "protocol_version_mismatch",
    "no_shared_cipher": "no_shared_cipher",
    "mtls_no_client_cert": "client_cert_required",
    "unknown_ca": "cert_untrusted_ca",
}


def count(path):
    c, alerts, causes = Counter(), Counter(), Counter()
    summary = None
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if o.get("type") == "summary":
                summary = o
                continue
            if o.get("type") != "handshake":
                continue
            c["connections"] += 1
            tls = o.get("tls") or {}
            c["client_hellos"] += bool(tls.get("ja3"))
            c["server_hellos"] += bool(tls.get("ja3s"))
            c["failed"] += o.get("outcome") == "failed"
            a = o.get("alert")
            if a and not a.get("encrypted"):
                alerts["%s:%s(%d)" % (a["sender"][0], a["description"], a["code"])] += 1
            if o.get("outcome") == "failed":
                causes[o.get("cause")] += 1
    return c, alerts, causes, summary


def main():
    path, truth_path = sys.argv[1], sys.argv[2]
    check = "--check" in sys.argv[3:]
    c, alerts, causes, summary = count(path)
    t = json.load(open(truth_path))
    rows, required_ok = [], True

    def cmp(name, ours, truth, required):
        nonlocal required_ok
        ok = ours == truth
        if required and not ok:
            required_ok = False
        rows.append({"item": name, "tlsdiag": ours, "truth": truth,
                     "match": "exact" if ok else "%+d" % (ours - truth), "required": required})

    cmp("connections", c["connections"], t["connections"], True)
    cmp("client_hellos", c["client_hellos"], t["client_hellos"], True)
    cmp("server_hellos", c["server_hellos"], t["server_hellos"], True)
    cmp("alerts_cleartext_total", sum(alerts.values()), t["alerts_cleartext_total"], True)
    for k, v in sorted(t["alerts_cleartext_by_sender_desc"].items()):
        cmp("alert " + k, alerts.get(k, 0), v, True)
    for k in sorted(set(alerts) - set(t["alerts_cleartext_by_sender_desc"])):
        cmp("alert " + k, alerts[k], 0, True)
    cmp("failed_handshakes", c["failed"], t["handshake_failures_total"], False)
    for kind, n in sorted(t["outcomes"].items()):
        if kind == "ok":
            continue
        cause = KIND_TO_CAUSE.get(kind, kind)
        cmp("cause %s (%s)" % (cause, kind), causes.get(cause, 0), n, False)
    expected = {KIND_TO_CAUSE.get(k, k) for k in t["outcomes"]}
    for cause in sorted(set(causes) - expected):
        cmp("cause %s (not in truth)" % cause, causes[cause], 0, False)
    if summary is not None:
        cmp("summary.connections", summary.get("connections", -1), t["connections"], True)
    print(json.dumps({"file": path, "required_exact": required_ok, "rows": rows}, indent=1))
    if check and not required_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
