#!/usr/bin/env python3
"""verdicts.py TLSDIAG CORPUS — `tlsdiag analyze` over every corpus capture (issue 3):
  * no crash: exit status 0, 1 or 3 (3 only for files tshark also found damaged), every line JSON;
  * every stream whose tshark oracle shows a plaintext *fatal* alert is judged `failed` — or
    `predicted`/`incomplete` is not enough: the alert is on the wire — and its verdict names the
    alert in its evidence;
  * a verdict of cause `unknown` states the facts it saw (at least two evidence items, and the
    ClientHello when there was one) and the rules it came closest to: never a bare "unknown";
  * over the whole corpus, at most 5 % of the failed handshakes are `unknown` (issue 16: 56 of
    182 were), and the failed handshakes count per cause as in FAILED_BY_CAUSE: a rule change that
    moves a corpus verdict shows here and is decided on purpose.
Prints one line per problem and "N passed, M failed"."""
import collections, csv, json, os, subprocess, sys

MAX_UNKNOWN_SHARE = 0.05
# Failed handshakes per cause over the 149 captures (issue 16 item 6, checked one by one with
# tshark): Sample5's Bleichenbacher probes end in bad_record_mac at Finished; mercury's scanner
# resets after the ServerHello (client_closed) or meets decode_error (client_hello_rejected).
# Item 4: mercury's 2019 Google chains end at GlobalSign Root CA - R2, which today's store no
# longer carries; the public-intermediate index knows R2 cross-signed by GlobalSign Root CA,
# which it does: a public intermediate left out (82 were cert_untrusted_ca).
FAILED_BY_CAUSE = {
    "cert_missing_intermediate": 83, "cert_untrusted_ca": 3, "handshake_integrity_failure": 33,
    "cert_self_signed": 18,
    "client_closed": 14, "protocol_version_mismatch": 6, "connection_refused": 5,
    "client_hello_rejected": 4, "capture_incomplete": 3, "not_tls": 3, "no_shared_cipher": 3,
    "connect_timeout": 1, "renegotiation_refused": 1, "client_cert_required": 1,
    # curl's pattern (pcaps/field/clients/): the client completes the handshake, sends an
    # encrypted alert and leaves without a request on a certificate for another name — nDPI's
    # ssl-cert-name-mismatch, and http_ipv6's three tries at www.ntop.org (shop.ntop.org's cert).
    "cert_name_mismatch": 4,
}

def main():
    tlsdiag, corpus = sys.argv[1], sys.argv[2]
    oracle = os.path.join(corpus, "oracle")
    files = sorted(f for f in os.listdir(corpus) if f.endswith((".pcap", ".pcapng")))
    passed = failed = 0
    by_cause = collections.Counter()
    for name in files:
        problems = []
        p = subprocess.run([tlsdiag, "analyze", "--json", os.path.join(corpus, name)],
                           capture_output=True, timeout=120)
        damaged = os.path.exists(os.path.join(oracle, name + ".tshark-stderr.txt"))
        if p.returncode not in (0, 1) and not (p.returncode == 3 and damaged):
            problems.append("exit status %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-300:]))
        verdicts = {}
        for line in p.stdout.decode("utf-8", errors="strict").splitlines():
            try:
                d = json.loads(line)
            except ValueError as e:
                problems.append("invalid JSON line: %s" % e)
                continue
            if d.get("type") == "handshake":
                verdicts[d["conn_id"]] = d
                if d["outcome"] == "failed":
                    by_cause[d["cause"]] += 1
        fatal = {}
        tsv = os.path.join(oracle, name + ".tsv")
        if os.path.exists(tsv):
            with open(tsv) as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    levels = (row.get("tls.alert_message.level") or "").split(",")
                    descs = (row.get("tls.alert_message.desc") or "").split(",")
                    for lv, ds in zip(levels, descs):
                        if lv == "2" and row["tcp.stream"]:
                            fatal.setdefault(int(row["tcp.stream"]), (int(ds), row["frame.number"]))
        for stream, (desc, frame) in sorted(fatal.items()):
            v = verdicts.get(stream)
            if v is None:
                problems.append("stream %d: tshark shows fatal alert %d (frame %s), tlsdiag has no verdict" % (stream, desc, frame))
                continue
            if v["outcome"] != "failed":
                problems.append("stream %d: fatal alert %d on the wire (frame %s) but outcome %s (%s)" % (stream, desc, frame, v["outcome"], v["cause"]))
            ev = json.dumps(v.get("evidence", [])) + json.dumps(v.get("alert"))
            if str(desc) not in ev:
                problems.append("stream %d: verdict %s does not cite alert %d" % (stream, v["cause"], desc))
        for cid, v in sorted(verdicts.items()):
            if v["cause"] == "unknown":
                keys = [e["key"] for e in v.get("evidence", [])]
                if len(keys) < 2:
                    problems.append("conn %d: cause unknown with too few facts: %s" % (cid, keys))
                if not any(x["text"].startswith("closest rules: ") for x in v.get("findings", [])):
                    problems.append("conn %d: cause unknown without its closest rules" % cid)
        if problems:
            failed += 1
            print("FAIL", name)
            for pr in problems[:10]:
                print("    ", pr)
        else:
            passed += 1
    total = sum(by_cause.values())
    share = by_cause["unknown"] / total if total else 0.0
    print("failed handshakes: %d, unknown: %d (%.1f %%)" % (total, by_cause["unknown"], 100 * share))
    if share > MAX_UNKNOWN_SHARE:
        failed += 1
        print("FAIL corpus: %.1f %% of failed handshakes are unknown (at most %.0f %%)"
              % (100 * share, 100 * MAX_UNKNOWN_SHARE))
    for cause in sorted(set(by_cause) | set(FAILED_BY_CAUSE)):
        if by_cause[cause] != FAILED_BY_CAUSE.get(cause, 0):
            failed += 1
            print("FAIL corpus: %d failed handshakes of cause %s, expected %d"
                  % (by_cause[cause], cause, FAILED_BY_CAUSE.get(cause, 0)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
