#!/usr/bin/env python3
"""conformance.py — compare `tlsdiag dissect --json` with tshark's view of the real-capture corpus.

Usage: conformance.py TLSDIAG CORPUS_DIR EXPECTATIONS_TSV [--write-observed FILE] [--only NAME]

For every capture in CORPUS_DIR (*.pcap, *.pcapng) tlsdiag must exit 0 or 3 with no sanitizer
report, and per TCP stream (conn_id == tcp.stream, endpoints cross-checked) these must match
oracle/FILE.tsv:
  endpoints    the address/port pair
  hs_types     sequence of plaintext handshake message types (SSLv2 codes for 0x0002 records)
  alerts       sequence of plaintext alerts as level/description
  rec_versions set of record versions of handshake/alert (and SSLv2) records
  sni          the SNI of the ClientHello(s)
  sh_cipher    the cipher suite of each ServerHello (a HelloRetryRequest counts as one)
Every deviation must be listed in EXPECTATIONS_TSV (file, stream, field, ours, tshark, reason);
an unlisted deviation fails, and so does a listed one that no longer occurs. Python stdlib only.
"""
import csv
import json
import os
import subprocess
import sys

FIELDS = ("endpoints", "hs_types", "alerts", "rec_versions", "sni", "sh_cipher")
SANITIZER_MARKS = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                   "LeakSanitizer")
TIMEOUT_S = 120


def split(v):
    return [x for x in v.split(",")] if v != "" else []


def oracle_streams(path):
    """tshark rows → {stream: facts}. Several records/messages in one frame are comma-joined."""
    streams = {}
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        return streams
    head = rows[0]
    col = {name: i for i, name in enumerate(head)}
    for r in rows[1:]:
        r = r + [""] * (len(head) - len(r))
        get = lambda name: r[col[name]]
        for stream in split(get("tcp.stream"))[:1]:
            s = streams.setdefault(int(stream), {
                "ep_cands": [], "frozen": False, "hs_types": [], "alerts": [],
                "rec_versions": set(), "sni": [], "sh_cipher": []})
            sport, dport = split(get("tcp.srcport")), split(get("tcp.dstport"))
            # A tunnelled packet (6in4, IP-in-IP) has both ip.* and ipv6.* (or a comma list,
            # outer first): every address pair is a candidate; the cross-check takes the one
            # that matches ours.
            for fam in ("ip", "ipv6"):
                src, dst = split(get(fam + ".src")), split(get(fam + ".dst"))
                if src and dst and sport and dport and not s["frozen"]:
                    cand = frozenset({"%s:%s" % (src[-1], sport[-1]),
                                      "%s:%s" % (dst[-1], dport[-1])})
                    if cand not in s["ep_cands"]:
                        s["ep_cands"].append(cand)
            s["frozen"] = True  # the first row of a stream names its endpoints
            cts, vers = split(get("tls.record.content_type")), split(get("tls.record.version"))
            for i, v in enumerate(vers):
                ct = cts[i] if i < len(cts) else ""
                if ct in ("21", "22", ""):  # "" = SSLv2 record (no content type)
                    s["rec_versions"].add(int(v, 16))
            types = [int(t) for t in split(get("tls.handshake.type"))]
            s["hs_types"] += types
            for lv, ds in zip(split(get("tls.alert_message.level")),
                              split(get("tls.alert_message.desc"))):
                s["alerts"].append("%s/%s" % (lv, ds))
            sni = get("tls.handshake.extensions_server_name")
            if sni:
                s["sni"] += split(sni)
            suites = split(get("tls.handshake.ciphersuite"))
            # For a ClientHello the column is the offered list; for a ServerHello the chosen one.
            # SSLv2 SERVER-HELLO (type 4 on a 0x0002 record) lists ciphers too: skip those.
            if 2 in types and 1 not in types and 0x0002 not in [int(v, 16) for v in vers]:
                s["sh_cipher"] += [int(x, 16) for x in suites[:types.count(2)]]
    return streams


def ours_streams(lines):
    streams = {}
    for o in lines:
        if o.get("type") != "connection":
            continue
        ev = o.get("events", [])
        s = {"endpoints": frozenset(), "hs_types": [], "alerts": [], "rec_versions": set(),
             "sni": [], "sh_cipher": [], "tls_events": False}
        s["endpoints"] = frozenset("%s:%s" % (o[side]["ip"], o[side]["port"])
                                   for side in ("client", "server"))
        for e in ev:
            kind = e.get("kind")
            if kind in ("handshake", "ssl2"):
                s["hs_types"].append(e["code"])
                s["tls_events"] = True
            elif kind == "alert":
                s["alerts"].append("%s/%s" % (e["level_code"], e["code"]))
                s["tls_events"] = True
            elif kind in ("encrypted_alert", "encrypted_handshake"):
                s["tls_events"] = True
            if kind in ("handshake", "ssl2", "alert", "encrypted_alert", "encrypted_handshake"):
                code = e.get("record_version_code")
                if code is not None:
                    s["rec_versions"].add(code)
        for key in ("client_hello", "client_hello_2"):
            ch = o.get(key)
            if ch and ch.get("sni") is not None:
                s["sni"].append(ch["sni"])
        for key in ("hello_retry_request", "server_hello"):
            sh = o.get(key)
            if sh and not sh.get("sslv2"):
                s["sh_cipher"].append(sh["cipher"]["code"])
        streams[o["conn_id"]] = s
    return streams


def render(field, v):
    if field == "endpoints":
        return " ".join(sorted(v)) or "-"
    if field == "rec_versions":
        return ",".join("0x%04x" % x for x in sorted(v)) or "-"
    if field == "sh_cipher":
        return ",".join("0x%04x" % x for x in v) or "-"
    return ",".join(str(x) for x in v) or "-"


def pair_streams(ours, theirs):
    """[(tshark stream or None, our conn_id or None)]: conn_id == tcp.stream when the
    endpoints agree; otherwise the unused connection of ours with the same endpoints nearest
    in number (tshark and tlsdiag may number streams differently, e.g. on port reuse)."""
    pairs, used, todo = [], set(), []
    for ts in sorted(theirs):
        o, cands = ours.get(ts), theirs[ts]["ep_cands"]
        if o is not None and (not cands or o["endpoints"] in cands):
            pairs.append((ts, ts))
            used.add(ts)
        else:
            todo.append(ts)
    for ts in todo:
        cands = theirs[ts]["ep_cands"]
        found = sorted((abs(k - ts), k) for k, v in ours.items()
                       if k not in used and v["endpoints"] in cands)
        if found:
            k = found[0][1]
        elif ts in ours and ts not in used:
            k = ts  # same number, other endpoints: reported as an endpoints deviation
        else:
            k = None
        pairs.append((ts, k))
        if k is not None:
            used.add(k)
    for k in sorted(ours):
        if k not in used and ours[k]["tls_events"]:
            pairs.append((None, k))
    return pairs


def compare(ours, theirs):
    """Yields (stream, field, ours, tshark) for every difference."""
    for ts, k in pair_streams(ours, theirs):
        if k is None:
            yield ts, "stream", "absent", "present"
            continue
        o = ours[k]
        if ts is None:
            yield k, "stream", "present", "absent"
            continue
        if k != ts:
            yield ts, "conn_id", str(k), str(ts)
        t = theirs[ts]
        cands = t["ep_cands"]
        t_ep = o["endpoints"] if o["endpoints"] in cands else (cands[0] if cands else None)
        for field in FIELDS:
            if field == "endpoints":
                a, b = o["endpoints"], t_ep
                if b is None:
                    continue
            else:
                a, b = o[field], t[field]
            if field == "sni":
                # tshark repeats the SNI per ClientHello; compare the distinct names in order
                a = list(dict.fromkeys(a))
                b = list(dict.fromkeys(b))
            if render(field, a) != render(field, b):
                yield ts, field, render(field, a), render(field, b)


def load_expectations(path):
    exp = {}
    if not os.path.exists(path):
        return exp
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row or row[0].startswith("#") or row[0] == "file":
                continue
            if len(row) != 6 or not (row[5].startswith("tshark wrong: ") or
                                     row[5].startswith("deliberate: ")):
                sys.exit("%s:%d: want 6 columns and a reason starting 'tshark wrong: ' or "
                         "'deliberate: '" % (path, n))
            if tuple(row[:5]) in exp:
                sys.exit("%s:%d: duplicate row for %s" % (path, n, " ".join(row[:3])))
            exp[tuple(row[:5])] = row[5]
    return exp


def run_one(tlsdiag, path):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    try:
        p = subprocess.run([tlsdiag, "dissect", "--json", path], capture_output=True,
                           timeout=TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        return None, "timeout after %ds" % TIMEOUT_S, []
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode not in (0, 3):
        return p.returncode, "exit %d: %s" % (p.returncode, err[-600:]), []
    if any(m in err for m in SANITIZER_MARKS):
        return p.returncode, "sanitizer report: " + err[-600:], []
    lines = []
    for n, line in enumerate(p.stdout.decode("utf-8", "strict").splitlines(), 1):
        try:
            lines.append(json.loads(line))
        except ValueError as e:
            return p.returncode, "invalid JSON on line %d: %s" % (n, e), []
    return p.returncode, None, lines


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    tlsdiag, corpus, exp_path = argv[1], argv[2], argv[3]
    write_observed = None
    only = None
    rest = argv[4:]
    while rest:
        if rest[0] == "--write-observed" and len(rest) > 1:
            write_observed, rest = rest[1], rest[2:]
        elif rest[0] == "--only" and len(rest) > 1:
            only, rest = rest[1], rest[2:]
        else:
            sys.exit("unknown argument %r" % rest[0])
    expectations = load_expectations(exp_path)
    files = sorted(f for f in os.listdir(corpus) if f.endswith((".pcap", ".pcapng")))
    if only:
        files = [f for f in files if only in f]
    passed = failed = 0
    seen = set()
    observed = []
    for name in files:
        rc, problem, lines = run_one(tlsdiag, os.path.join(corpus, name))
        problems = []
        if problem:
            problems.append(problem)
        else:
            theirs = oracle_streams(os.path.join(corpus, "oracle", name + ".tsv"))
            for stream, field, a, b in compare(ours_streams(lines), theirs):
                key = (name, str(stream), field, a, b)
                observed.append(key)
                if key in expectations:
                    seen.add(key)
                else:
                    problems.append("stream %s %s: ours %s, tshark %s (not in expectations)" %
                                    (stream, field, a, b))
        for key in expectations:
            if key[0] == name and key not in seen and not problem:
                problems.append("listed deviation no longer occurs: stream %s %s ours %s "
                                "tshark %s" % key[1:5])
        if problems:
            failed += 1
            print("FAIL %s" % name)
            for p in problems:
                print("     " + p)
        else:
            passed += 1
    stale = [k for k in expectations if k[0] not in files and not only]
    for k in stale:
        failed += 1
        print("FAIL expectations.tsv lists a file not in the corpus: %s" % k[0])
    if write_observed:
        with open(write_observed, "w", encoding="utf-8") as f:
            f.write("file\tstream\tfield\tours\ttshark\treason\n")
            for key in observed:
                f.write("\t".join(key) + "\t" + expectations.get(key, "UNREVIEWED") + "\n")
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
