#!/usr/bin/env python3
"""report.py — turns bench/run.sh's measurements into bench/RESULTS.md (markdown on stdout).

usage: report.py WORKDIR DATADIR TLSDIAG RUNS "FILES" "TOOLS"
WORKDIR holds times.tsv (run, file, tool, wall, user, sys, maxrss KiB), counts/*.json,
scale.tsv (kind, file, N, run, wall ms of the batch[, CPU s]; kind: loop, procs, threads,
threadsjson), c2c.tsv (run, file, core-to-core round trip in ns before and after that run's
`--threads 2`: bench/c2c.c), pagetouch.tsv (before|after, file, ns a mapped page's first touch,
MiB mapped in 2 MiB pages, MiB, read(2) MB/s: bench/pagetouch.c), threads_share.tsv (file, N, text|json, the calling thread's % of the CPU
samples, each worker's %), rss.tsv (file, bytes, variant, maxrss KiB) and rss_along.tsv
(bytes, variant, tenth of the run, peak KiB so far: bench/rss_along.py on handshake files).
bench/LIVE.md (bench/live.sh's live-capture section) and the hand-written profiling notes in
bench/NOTES.md are appended.
"""
import datetime
import json
import os
import platform
import statistics
import sys

from benchlib import sh

NAMES = {
    "tlsdiag": "tlsdiag analyze",
    "tlsdiag2": "tlsdiag analyze --threads 2",
    "tlsdiagjson": "tlsdiag analyze --json (every verdict in full)",
    "tcpdump": "tcpdump -r F -w /dev/null (libpcap floor)",
    "ndpi": "ndpiReader -v 2",
    "ssldump": "ssldump -n",
    "tshark": "tshark (fields, TLS reassembly)",
}


def machine():
    cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    rel = sh(". /etc/os-release && echo $PRETTY_NAME")
    mem = sh("free -g | awk '/^Mem:/{print $2}'")
    vers = {
        "tshark": sh("tshark --version | head -1"),
        "tcpdump": sh("tcpdump --version 2>&1 | head -2 | tr '\\n' ' '"),
        "ssldump": sh("dpkg-query -W -f='${Version}' ssldump"),
        "ndpiReader": sh("dpkg-query -W -f='${Version}' libndpi-bin"),
    }
    return cpu, rel, mem, vers


def fmt(x, nd=2):
    return f"{x:,.{nd}f}"


def tsv(work, name):
    """The tab-separated fields of each line of WORKDIR/name (nothing when it is missing)."""
    path = os.path.join(work, name)
    if os.path.exists(path):
        for line in open(path):
            yield line.rstrip("\n").split("\t")


def read_scale(work):
    """{(kind, file, n): [wall ms, ...]} and {(kind, file, n): [CPU s, ...]} from scale.tsv."""
    cells, cpu = {}, {}
    for p in tsv(work, "scale.tsv"):
        if len(p) < 5:
            continue
        try:
            cells.setdefault((p[0], p[1], int(p[2])), []).append(float(p[4]))
            if len(p) >= 6 and p[5]:
                cpu.setdefault((p[0], p[1], int(p[2])), []).append(float(p[5]))
        except ValueError:
            continue
    return cells, cpu


def read_shares(work):
    """[(file, n, variant, calling %, [worker %...])] from threads_share.tsv."""
    rows = []
    for p in tsv(work, "threads_share.tsv"):
        try:
            rows.append((p[0], int(p[1]), p[2], float(p[3]), sorted(
                (float(x) for x in p[4:]), reverse=True)))
        except (ValueError, IndexError):
            continue
    return rows


def ceiling(cells, kind, f, n):
    """How much the machine gives n independent processes: n × one alone ÷ the batch of n."""
    one, many = cells.get((kind, f, 1)), cells.get((kind, f, n))
    if not one or not many or statistics.median(many) <= 0:
        return None
    return n * statistics.median(one) / statistics.median(many)


def speedup(cells, kind, f, n):
    one, many = cells.get((kind, f, 1)), cells.get((kind, f, n))
    if not one or not many or statistics.median(many) <= 0:
        return None
    return statistics.median(one) / statistics.median(many)


def inflation(cpu, kind, f, n):
    """CPU time of --threads n ÷ one thread's: the work the threads add (1.00 = none)."""
    one, many = cpu.get((kind, f, 1)), cpu.get((kind, f, n))
    if not one or not many or statistics.median(one) <= 0:
        return None
    return statistics.median(many) / statistics.median(one)


def scaling_section(cells, cpu, shares, files, w):
    ns = sorted({k[2] for k in cells})
    if not ns:
        return
    w("## Scaling: the machine's ceiling and `--threads N`\n")
    w("Each cell is a median over the rounds of the wall time of a whole batch. **Ceiling S(N)** "
      "= N × (one process alone) ÷ (N independent one-thread processes started together): what "
      "this machine gives N CPU-bound processes that share nothing (SMT siblings, a shared "
      "last-level cache, memory bandwidth and other tenants all show here). A fixed CPU loop "
      "(awk) and `tlsdiag analyze` of the same file are both measured. **`--threads N`** is "
      "one process's speedup over one thread, and as a fraction of the tlsdiag ceiling S(N); "
      "**CPU ÷ 1 thread** is its CPU time (user+sys) over one thread's: the work the threads "
      "add (duplicated reading, handing over, merging). With a ceiling S and CPU inflation c, "
      "the speedup cannot pass S ÷ c.\n")
    for f in files:
        if not any(k[1] == f for k in cells):
            continue
        w(f"### {f}.pcap\n")
        w("| N | CPU loop: S(N) | tlsdiag processes: S(N) | `--threads N`: × one thread | "
          "÷ S(N) | CPU ÷ 1 thread | `--json --threads N`: × one thread | ÷ S(N) | "
          "CPU ÷ 1 thread | wall s, --threads N (text / json) |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for n in ns:
            loop = ceiling(cells, "loop", "-", n)
            proc = ceiling(cells, "procs", f, n)
            t = speedup(cells, "threads", f, n)
            tj = speedup(cells, "threadsjson", f, n)
            tw = cells.get(("threads", f, n))
            tjw = cells.get(("threadsjson", f, n))

            def x(v):
                return "—" if v is None else f"{v:.2f}×"

            def frac(v, c):
                return "—" if v is None or not c else f"{100 * v / c:.0f} %"
            walls = (f"{statistics.median(tw) / 1000:.3f} / {statistics.median(tjw) / 1000:.3f}"
                     if tw and tjw else "—")
            ci, cj = inflation(cpu, "threads", f, n), inflation(cpu, "threadsjson", f, n)
            w(f"| {n} | {x(loop)} | {x(proc)} | {x(t)} | {frac(t, proc)} | {x(ci)} | {x(tj)} | "
              f"{frac(tj, proc)} | {x(cj)} | {walls} |")
        s2 = ceiling(cells, "procs", f, 2)
        if s2:
            w(f"\n- The machine scales {s2:.2f}× with two independent `tlsdiag analyze` "
              f"processes on {f}.pcap"
              + (f" ({ceiling(cells, 'loop', '-', 2):.2f}× with two CPU loops)"
                 if ceiling(cells, 'loop', '-', 2) else "") + ".")
        sh = [r for r in shares if r[0] == f]
        if sh:
            w("\nPer-thread share of the CPU samples (`perf record -e cpu-clock`, one run each): "
              "the calling thread merges the workers' verdicts in one thread's order and writes "
              "them, after the start-up (OpenSSL, CA file) that it does alone: its share is the serial "
              "part.\n")
            w("| --threads | output | calling thread (serial) | workers |")
            w("|---|---|---|---|")
            for _, n, v, main_share, workers in sh:
                w(f"| {n} | {v} | {main_share:.1f} % | "
                  f"{', '.join(f'{x:.1f} %' for x in workers)} |")
        w("")


def read_rss(work):
    return [(p[0], int(p[1]), p[2], int(p[3])) for p in tsv(work, "rss.tsv")
            if len(p) >= 4 and p[3].isdigit()]


def read_rss_along(work):
    """{(bytes, variant): {tenth: KiB}} from rss_along.tsv."""
    runs = {}
    for p in tsv(work, "rss_along.tsv"):
        if len(p) >= 4 and p[0].isdigit() and p[3].isdigit():
            runs.setdefault((int(p[0]), p[1]), {})[round(float(p[2]) * 10)] = int(p[3])
    return runs


# The tenth of the run past which the largest file must be flat. Decided connections are kept
# for 300 s of capture time: the 629 MB handshake file spans 614 s, so that window fills at 0.49
# of it, and a run's first tenths cover less of the file than later ones (start-up, page tables):
# half way is the knee itself (rounds 9-10 read 1.00-1.12x there, the flow slabs' last 2 MiB
# steps landing on either side of it). 0.7 is past it with room.
FLAT_FROM = 7


def along_growth(runs):
    """Flatness on the largest file: the worst variant's peak at the end of the run over its
    peak FLAT_FROM tenths in (past the 300 s of capture time decided connections are kept), or
    None."""
    if not runs:
        return None
    big = max(b for b, _ in runs)
    growth = [r[10] / r[FLAT_FROM] for (b, _), r in runs.items()
              if b == big and r.get(FLAT_FROM) and 10 in r]
    return max(growth) if growth else None


def rss_along_section(runs, w):
    if not runs:
        return
    w("### Resident size along one run\n")
    w("`bench/rss_along.py` reads VmRSS every 2 ms; each cell is the peak reached by "
      "each tenth of the run's time, about that tenth of the file. Decided "
      "connections are kept for 300 s of capture time, so memory climbs until then and must "
      "stay flat after: the full file (206 s of capture) never gets there, the large one (three "
      f"times its size, 614 s) at 0.49 of it; flatness is the end over 0.{FLAT_FROM}.\n")
    w("| handshake file MB | variant | " + " | ".join(f"{t / 10:.1f}" for t in range(1, 11))
      + f" | end ÷ 0.{FLAT_FROM} |")
    w("|---|---|" + "---|" * 11)
    for (b, v), r in sorted(runs.items()):
        g = f"{r[10] / r[FLAT_FROM]:.2f}×" if r.get(FLAT_FROM) and 10 in r else "—"
        w(f"| {b / 1e6:,.0f} | `{v}` | "
          + " | ".join(f"{r[t] / 1024:.1f}" if t in r else "—" for t in range(1, 11))
          + f" | {g} |")
    w("")


def rss_section(rows, w):
    if not rows:
        return
    w("## Peak RSS as files grow\n")
    w("`/usr/bin/time -f %M` of `tlsdiag analyze` on the small set (MIXED_MB=64 HS_MB=32, the "
      "same seed) and on the full files. Flat means it does not follow the file size.\n")
    variants = []
    for r in rows:
        if r[2] not in variants:
            variants.append(r[2])
    w("| file | size MB | " + " | ".join(f"`{v}` MiB" for v in variants) + " |")
    w("|---|---|" + "---|" * len(variants))
    keys = []
    for r in rows:
        if (r[0], r[1]) not in keys:
            keys.append((r[0], r[1]))
    for f, size in keys:
        cell = {r[2]: r[3] for r in rows if r[0] == f and r[1] == size}
        w(f"| {f} | {size / 1e6:,.0f} | "
          + " | ".join(f"{cell[v] / 1024:.1f}" if v in cell else "—" for v in variants) + " |")
    w("")


def read_c2c(work):
    """{file: [(round, before ns, after ns)]} from c2c.tsv (bench/c2c.c around each --threads 2
    run of the main table; rounds where it could not be measured are left out)."""
    out = {}
    for p in tsv(work, "c2c.tsv"):
        try:
            out.setdefault(p[1], []).append((int(p[0]), float(p[2]), float(p[3])))
        except (ValueError, IndexError):
            continue
    return out


def read_pagetouch(work):
    """{file: [(when, ns a page, MiB in 2 MiB pages, MiB, read MB/s)]} from pagetouch.tsv
    (bench/pagetouch.c before and after the timed rounds)."""
    out = {}
    for p in tsv(work, "pagetouch.tsv"):
        try:
            out.setdefault(p[1], []).append((p[0], float(p[2]), float(p[3]), float(p[4]),
                                             float(p[5])))
        except (ValueError, IndexError):
            continue
    return out


def pagetouch_line(m):
    """The sentence on how the page cache held a file, from read_pagetouch's list for it."""
    parts = []
    for when, ns, pmd, mib, mbs in m:
        held = f"{pmd:,.0f} of its {mib:,.0f} MiB in 2 MiB pages" if pmd >= 0 else "(folios unknown)"
        parts.append(f"{when} the rounds {ns:,.0f} ns a 4 KiB page, {held}, read(2) "
                     f"{mbs / 1000:.1f} GB/s")
    return ("- The mapped file's first touch (bench/pagetouch.c: the page table filled, then a "
            "byte of every page; what tlsdiag's reader meets): " + "; ".join(parts)
            + ". Under a hypervisor that builds its own page table on first access, a file held "
            "in 4 KiB pages costs about 1 µs a page there, and one thread's time follows it "
            "(bench/NOTES.md, round 11)")


# A round trip above this is two CPUs that share no cache (another die or socket): the round
# trips seen were 72–139 ns within one L3 and 380–500 ns across.
FAR_NS = 250


def placement_split(rows, c2c, f):
    """The main table's --threads 2 vs one thread on file f, split by where the host put the two
    vCPUs: a round is "near" when the round trip before and after its --threads 2 run is at most
    twice the smallest one measured and at most FAR_NS, else "far" (near ones vary by 1.6×, the
    far ones seen were 4–5×; a run whose every round is far has no near ones). None without measurements; otherwise a dict:
    limit (ns), lo/hi (ns), and per class the rounds' paired ratios (one thread's wall ÷ the
    same round's --threads 2 wall)."""
    one, two, m = rows.get((f, "tlsdiag")), rows.get((f, "tlsdiag2")), c2c.get(f)
    if not one or not two or not m:
        return None
    lo = min(min(b, a) for _, b, a in m)
    hi = max(max(b, a) for _, b, a in m)
    limit = min(2 * lo, FAR_NS)
    split = {"limit": limit, "lo": lo, "hi": hi, "near": [], "far": []}
    for r, before, after in m:
        i = r - 1
        if 0 <= i < len(one) and i < len(two) and two[i][0] > 0:
            near = before <= limit and after <= limit
            split["near" if near else "far"].append(one[i][0] / two[i][0])
    return split


def targets_section(rows, cells, rss, along, w, c2c=None):
    """Issue 20's targets, each with what this run measured."""
    def med(f, tool, i=0):
        r = rows.get((f, tool))
        return statistics.median(x[i] for x in r) if r else None

    def ratio(a, b):
        return a / b if a and b else None
    out = []

    def row(what, value, target, ok, unit="×"):
        v = "not measured" if value is None else f"{value:.2f}{unit}"
        met = "—" if value is None else ("yes" if ok(value) else "**no**")
        out.append(f"| {what} | {v} | {target} | {met} |")
    row("handshakes: `analyze --json` vs ndpiReader -v 2 (wall, × faster)",
        ratio(med("handshakes", "ndpi"), med("handshakes", "tlsdiagjson")), "≥ 7×",
        lambda v: v >= 7)
    row("handshakes: `analyze` vs libpcap floor `tcpdump -r F -w /dev/null` (its speed)",
        ratio(med("handshakes", "tcpdump"), med("handshakes", "tlsdiag")), "≥ 0.5×",
        lambda v: v >= 0.5)
    row("mixed: `analyze` vs libpcap floor",
        ratio(med("mixed", "tcpdump"), med("mixed", "tlsdiag")), "≥ 1×", lambda v: v >= 1)
    t2 = ratio(med("handshakes", "tlsdiag"), med("handshakes", "tlsdiag2"))
    if t2 is None:
        t2 = speedup(cells, "threads", "handshakes", 2)
    row("handshakes: `--threads 2` vs one thread (wall)", t2, "≥ 1.5×", lambda v: v >= 1.5)
    sp = placement_split(rows, c2c or {}, "handshakes")
    for cls, words in (("near", "close (round trip ≤ {:.0f} ns"),
                       ("far", "farther apart (> {:.0f} ns")):
        if sp and sp[cls]:
            row(f"… rounds with the two vCPUs {words.format(sp['limit'])}, bench/c2c.c: "
                f"{len(sp[cls])} of {len(sp['near']) + len(sp['far'])}), paired median",
                statistics.median(sp[cls]), "≥ 1.5×", lambda v: v >= 1.5)
    s2 = ceiling(cells, "procs", "handshakes", 2)
    row("handshakes: the machine's ceiling, two independent processes", s2, "(measured)",
        lambda v: True)
    row("handshakes: `--threads 2` as a fraction of that ceiling",
        None if t2 is None or not s2 else 100 * t2 / s2, "—", lambda v: True, " %")
    peak = max((r[3] for r in rss), default=None)
    if peak is None:
        peak = max((x[2] for r in rows.values() for x in r), default=None)
    # Flat: on each file and variant, the full file's peak over the small one's.
    growth = []
    for f in {r[0] for r in rss}:
        sizes = sorted({r[1] for r in rss if r[0] == f})
        if len(sizes) < 2:
            continue
        for v in {r[2] for r in rss}:
            a = [r[3] for r in rss if r[0] == f and r[1] == sizes[0] and r[2] == v]
            b = [r[3] for r in rss if r[0] == f and r[1] == sizes[-1] and r[2] == v]
            if a and b:
                growth.append(b[0] / a[0])
    row("peak RSS, every run (MiB)", None if peak is None else peak / 1024, "≤ 64 MiB",
        lambda v: v <= 64, " MiB")
    row("peak RSS, full file ÷ small file (worst variant; the small one is below the plateau, "
        "so this is the way up, not flatness)", max(growth) if growth else None, "(measured)",
        lambda v: True)
    row(f"flat as files grow: RSS at the end ÷ 0.{FLAT_FROM} of the way into a handshake file 3× "
        "the full one, past the 300 s its decided connections are kept (worst variant)",
        along_growth(along), "≤ 1.10×", lambda v: v <= 1.10)
    w("## Targets (issue 20)\n")
    w("| what | measured | target | met |")
    w("|---|---|---|---|")
    for line in out:
        w(line)
    w("")


def main():
    work, data, tlsdiag, runs, files, tools = sys.argv[1:7]
    files, tools = files.split(), tools.split()
    rows = {}
    with open(os.path.join(work, "times.tsv")) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 7:
                continue
            try:
                wall, user, sysc, rss = float(p[3]), float(p[4]), float(p[5]), int(p[6])
            except ValueError:
                continue
            rows.setdefault((p[1], p[2]), []).append((wall, user + sysc, rss))
    truth = {f: json.load(open(os.path.join(data, f + ".truth.json"))) for f in files}
    cpu, rel, mem, vers = machine()
    out = []
    w = out.append
    w("# tlsdiag benchmark results\n")
    w("Generated by `bench/run.sh` (do not edit by hand; the notes at the end come from "
      "`bench/NOTES.md`).\n")
    w(f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}")
    w(f"- Machine: {rel}, kernel {platform.release()}, {os.cpu_count()} vCPU ({cpu}), "
      f"{mem} GiB RAM")
    w(f"- Peers: {vers['tshark']}; {vers['tcpdump']}; ssldump {vers['ssldump']}; "
      f"ndpiReader {vers['ndpiReader']}")
    w(f"- tlsdiag: `{tlsdiag}`, `analyze` with full verdicts (certificate validation "
      f"included): the default text output prints each failure with its evidence and fix and "
      f"the summary (a succeeded handshake gets its outcome, cause and chain validation, not "
      f"the prose nobody prints); the `--json` row writes every verdict in full")
    w(f"- Method: {runs} interleaved rounds (every tool on every file per round), each run as "
      "`/usr/bin/time sh -c 'exec CMD >/dev/null 2>&1'`; wall time in ms from the clock "
      "around each run (GNU time's own counts in 10 ms steps), median with min–max; "
      "CPU = user+sys (median); peak = max RSS. Files warm in the page cache.")
    w("- Noise: the machine is shared (other engineers compile on the same 2 cores during the "
      "run), so wall times move by tens of percent between rounds; the before/after comparisons "
      "of optimizations in the notes use callgrind instruction counts instead.\n")
    cells, cpu = read_scale(work)
    shares = read_shares(work)
    rss_rows = read_rss(work)
    along = read_rss_along(work)
    c2c = read_c2c(work)
    touch = read_pagetouch(work)
    targets_section(rows, cells, rss_rows, along, w, c2c)
    for f in files:
        t = truth[f]
        size = t["bytes_file"]
        hs = t["client_hellos"]
        w(f"## {f}.pcap — {size / 1e6:,.0f} MB, {t['packets']:,} packets, {hs:,} handshakes\n")
        w("| tool | wall s, median (min–max) | CPU s | MB/s | handshakes/s | peak RSS MiB | "
          "wall ÷ tlsdiag wall | CPU ÷ tlsdiag CPU |")
        w("|---|---|---|---|---|---|---|---|")
        base = rows.get((f, "tlsdiag"))
        base_wall = statistics.median(r[0] for r in base) if base else None
        base_cpu = statistics.median(r[1] for r in base) if base else None
        for tool in tools:
            r = rows.get((f, tool))
            if not r:
                continue
            walls = [x[0] for x in r]
            med = statistics.median(walls)
            cpu_s = statistics.median(x[1] for x in r)
            rss = max(x[2] for x in r) / 1024
            mbps = size / 1e6 / med if med > 0 else float("inf")
            hps = hs / med if med > 0 else float("inf")
            ratio = "—" if tool == "tlsdiag" or not base_wall else f"{med / base_wall:,.2f}"
            cratio = "—" if tool == "tlsdiag" or not base_cpu else f"{cpu_s / base_cpu:,.2f}"
            w(f"| {NAMES.get(tool, tool)} | {fmt(med, 3)} ({fmt(min(walls), 3)}–"
              f"{fmt(max(walls), 3)}) | {fmt(cpu_s, 3)} | {fmt(mbps, 0)} | {fmt(hps, 0)} | "
              f"{fmt(rss, 1)} | {ratio} | {cratio} |")
        w("")
        one, two, floor = rows.get((f, "tlsdiag")), rows.get((f, "tlsdiag2")), rows.get((f, "tcpdump"))
        if one and two:
            m1 = statistics.median(x[0] for x in one)
            m2 = statistics.median(x[0] for x in two)
            paired = [a[0] / b[0] for a, b in zip(one, two) if b[0] > 0]
            w(f"- `--threads 2` vs 1 thread: {m1 / m2:.2f}× (wall medians; the same round's runs "
              f"paired: median {statistics.median(paired):.2f}×, "
              f"{min(paired):.2f}–{max(paired):.2f}×; on a shared 2-vCPU machine this depends on "
              "what else runs)")
        sp = placement_split(rows, c2c, f)
        if sp:
            parts = [f"{len(sp[c])} round{'s' if len(sp[c]) != 1 else ''} {name}: "
                     f"{statistics.median(sp[c]):.2f}× (paired median)"
                     for c, name in (("near", f"with them close (≤ {sp['limit']:.0f} ns)"),
                                     ("far", "farther apart")) if sp[c]]
            w(f"- Where the host put the two vCPUs (bench/c2c.c: a cache line's round trip "
              f"between two threads, before and after each `--threads 2` run): "
              f"{sp['lo']:.0f}–{sp['hi']:.0f} ns; " + "; ".join(parts)
              + ". The workers hand each other chunks, frames and verdicts, so every line "
              "between them costs that round trip (bench/NOTES.md, round 10)")
        if f in touch:
            w(pagetouch_line(touch[f]))
        if one and floor:
            m1 = statistics.median(x[0] for x in one)
            mf = statistics.median(x[0] for x in floor)
            w(f"- tlsdiag reads at {mf / m1:.2f}× libpcap's speed (tcpdump -w /dev/null) on "
              "this file in the same session")
        same = os.path.join(work, "counts", f"threads_identical.{f}")
        if os.path.exists(same):
            w(f"- `--json` output with `--threads 2` vs 1 thread: "
              f"{'byte-identical' if open(same).read().strip() == 'same' else 'DIFFERENT'}")
        w("")
        w(f"### Counts on {f}.pcap against the generator's truth\n")
        w("| tool | ClientHello | ServerHello | cleartext alerts | notes |")
        w("|---|---|---|---|---|")
        for tool in tools:
            p = os.path.join(work, "counts", f"{tool}.{f}.json")
            if not os.path.exists(p):
                continue
            d = json.load(open(p))
            if tool.startswith("tlsdiag"):
                rr = {x["item"]: x for x in d["rows"]}

                def cell(k):
                    x = rr[k]
                    return f"{x['tlsdiag']:,} ({x['match']})"
                bad = [f"{x['item']}: {x['tlsdiag']} vs {x['truth']}" for x in d["rows"]
                       if x["match"] != "exact"]
                alerts_ok = all(x["match"] == "exact" for x in d["rows"]
                                if x["item"].startswith("alert "))
                note = ("every cleartext alert exact by sender and description"
                        if alerts_ok else "alert descriptions differ")
                if bad:
                    note += "; differences: " + "; ".join(bad)
                w(f"| {NAMES[tool]} | {cell('client_hellos')} | {cell('server_hellos')} | "
                  f"{cell('alerts_cleartext_total')} | {note} |")
            else:
                c, tr = d["counts"], d.get("truth", {})

                def cell2(k):
                    v = c.get(k, 0)
                    tv = tr.get(k)
                    m = "exact" if v == tv else f"{v - tv:+,}" if tv is not None else "?"
                    return f"{v:,} ({m})"
                w(f"| {NAMES[tool]} | {cell2('client_hellos')} | {cell2('server_hellos')} | "
                  f"{cell2('alerts_cleartext_total')} | alerts named: "
                  f"{', '.join(f'{k} {v}' for k, v in d['alerts'].items()) or 'none'} |")
        w("")
    scaling_section(cells, cpu, shares, files, w)
    rss_section(rss_rows, w)
    rss_along_section(along, w)
    live = os.path.join(os.path.dirname(os.path.abspath(__file__)), "LIVE.md")
    if os.path.exists(live):  # bench/live.sh's section (generated, with its own date)
        w(open(live).read())
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(notes):
        w(open(notes).read())
    print("\n".join(out))


if __name__ == "__main__":
    main()
