#!/usr/bin/env python3
"""ecs_check.py FIELDS.TSV ECS.JSONL JSON.JSONL TSHARK.TSV — validate `tlsdiag analyze --ecs`.

Every line must be one JSON object whose every field outside tlsdiag.* is an ECS field of
FIELDS.TSV (tests/data/ecs/fields.tsv, a committed subset of the ECS field reference) with
ECS's type (keyword/text: string, long: integer, boolean, date: ISO 8601, ip: an address;
"array" normalization: a list) and, where ECS lists them, an allowed value (event.type also
among the types ECS expects for the event's category). Cross-checks: event.reason is the
cause of the same handshake in --json, and network.community_id is what tshark's Community ID
dissector computes for that connection (TSHARK.TSV: src, sport, dst, dport, community id).
Prints "N events, M fields checked"; exits 1 on the first class of error, listing them all.
"""
import ipaddress
import json
import re
import sys

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def load_fields(path):
    fields = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        name, typ, norm, allowed = line.rstrip("\n").split("\t")
        fields[name] = (typ, norm == "array", None if allowed == "-" else allowed.split(" "))
    return fields


def flatten(obj, prefix=""):
    for k, v in obj.items():
        path = prefix + k
        if isinstance(v, dict):
            yield from flatten(v, path + ".")
        else:
            yield path, v


def type_ok(typ, v):
    if typ in ("keyword", "match_only_text", "text", "wildcard", "constant_keyword"):
        return isinstance(v, str)
    if typ == "long":
        return isinstance(v, int) and not isinstance(v, bool)
    if typ == "boolean":
        return isinstance(v, bool)
    if typ == "date":
        return isinstance(v, str) and DATE.match(v) is not None
    if typ == "ip":
        try:
            ipaddress.ip_address(v)
            return True
        except (ValueError, TypeError):
            return False
    return False


def main():
    fields = load_fields(sys.argv[1])
    ecs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
    ours = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
    ours = [o for o in ours if o.get("type") == "handshake"]
    tshark = {}
    for line in open(sys.argv[4], encoding="utf-8"):
        parts = line.split()
        if len(parts) == 5:
            tshark[tuple(parts[:4])] = parts[4]
    errors, checked = [], 0
    categories = {}
    for a in (fields["event.category"][2] or []):
        name, _, types = a.partition(":")
        categories[name] = set(types.split(",")) if types else set()
    handshakes = [e for e in ecs if e.get("event", {}).get("dataset") == "tlsdiag.handshake"]
    if len(handshakes) != len(ours):
        errors.append(f"{len(handshakes)} ECS handshake events, {len(ours)} --json handshakes")
    for i, e in enumerate(ecs):
        if not isinstance(e.get("tlsdiag"), dict):
            errors.append(f"line {i + 1}: no tlsdiag object")
        for path, v in flatten(e):
            if path.startswith("tlsdiag."):
                continue
            checked += 1
            if path not in fields:
                errors.append(f"line {i + 1}: {path} is not in the ECS subset")
                continue
            typ, is_array, allowed = fields[path]
            values = v if is_array else [v]
            if is_array and not isinstance(v, list):
                errors.append(f"line {i + 1}: {path} must be an array")
                continue
            for x in values:
                if not type_ok(typ, x):
                    errors.append(f"line {i + 1}: {path}={x!r} is not of ECS type {typ}")
                elif allowed and path != "event.category" and x not in allowed:
                    errors.append(f"line {i + 1}: {path}={x!r} is not an allowed value")
                elif path == "event.category" and x not in categories:
                    errors.append(f"line {i + 1}: event.category {x!r} is not allowed")
        ev = e.get("event", {})
        for cat in ev.get("category", []):
            for t in ev.get("type", []):
                if t not in categories.get(cat, set()):
                    errors.append(f"line {i + 1}: event.type {t} not expected for {cat}")
        for need in ("@timestamp", "ecs", "event", "message"):
            if need not in e:
                errors.append(f"line {i + 1}: no {need}")
    for e, o in zip(handshakes, ours):
        if e["event"]["reason"] != o["cause"]:
            errors.append(f"conn {o['conn_id']}: event.reason {e['event']['reason']} != {o['cause']}")
        want = {"succeeded": "success", "failed": "failure"}.get(o["outcome"], "unknown")
        if e["event"]["outcome"] != want:
            errors.append(f"conn {o['conn_id']}: event.outcome {e['event']['outcome']} for {o['outcome']}")
        if e["source"]["ip"] != o["client"]["ip"] or e["destination"]["port"] != o["server"]["port"]:
            errors.append(f"conn {o['conn_id']}: source/destination are not client/server")
        if o.get("community_id") != e["network"].get("community_id"):
            errors.append(f"conn {o['conn_id']}: --json community_id differs from ECS")
        key = (o["client"]["ip"], str(o["client"]["port"]), o["server"]["ip"], str(o["server"]["port"]))
        if tshark.get(key) != e["network"].get("community_id"):
            errors.append(f"conn {o['conn_id']}: community_id {e['network'].get('community_id')} "
                          f"but tshark says {tshark.get(key)}")
        v = e.get("tls", {}).get("version")
        if v is not None and not re.match(r"^\d\.\d$", v):
            errors.append(f"conn {o['conn_id']}: tls.version {v!r}")
        h = e.get("tls", {}).get("server", {}).get("hash", {}).get("sha256")
        if h is not None and not re.match(r"^[0-9A-F]{64}$", h):
            errors.append(f"conn {o['conn_id']}: tls.server.hash.sha256 {h!r} is not upper-case hex")
    for err in errors:
        print("FAIL", err)
    print(f"{len(ecs)} events, {checked} fields checked against the ECS subset")
    return 1 if errors or not ecs else 0


if __name__ == "__main__":
    sys.exit(main())
