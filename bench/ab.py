#!/usr/bin/env python3
# ab.py — interleaved A/B timing of tlsdiag binaries (and any command), for one change at a time.
#
#   bench/ab.py N BIN1 [BIN2 ...]       each BIN runs `BIN analyze $ARGS --ca-file $CA $F`
#   bench/ab.py N BIN "@tcpdump -r F -w /dev/null"    an argument starting with @ is a command
#
# Runs every argument once per round, N rounds, output to /dev/null, and prints per argument the
# median and minimum wall time (perf_counter around the run) and CPU time (the child's user+sys
# from getrusage). Interleaving keeps a busy neighbour from favouring one binary; on a shared
# machine trust the minimum and repeat. Environment: ARGS (extra analyze options, e.g.
# "--json --threads 2"), F (default $BENCH_DATA/handshakes.pcap), CA (default
# $BENCH_DATA/seed/certs/root.pem), BENCH_DATA (default /work/bench-data/full, as bench/run.sh).
import collections
import os
import resource
import statistics
import subprocess
import time
import sys

if len(sys.argv) < 3:
    sys.exit("usage: ab.py N BIN|@COMMAND ...")
rounds, progs = int(sys.argv[1]), sys.argv[2:]
data = os.environ.get("BENCH_DATA", "/work/bench-data/full")
pcap = os.environ.get("F", data + "/handshakes.pcap")
ca = os.environ.get("CA", data + "/seed/certs/root.pem")
extra = os.environ.get("ARGS", "").split()
wall, cpu = collections.defaultdict(list), collections.defaultdict(list)
with open(os.devnull, "w") as null:
    for _ in range(rounds):
        for p in progs:
            cmd = p[1:].split() if p.startswith("@") else [p, "analyze", *extra, "--ca-file", ca, pcap]
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=null, stderr=null, check=False)
            t1 = time.perf_counter()
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall[p].append(t1 - t0)
            cpu[p].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
for p in progs:
    print("%-40s wall median %.3f min %.3f   cpu median %.3f min %.3f"
          % (p[-40:], statistics.median(wall[p]), min(wall[p]), statistics.median(cpu[p]), min(cpu[p])))
