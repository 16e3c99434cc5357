#!/usr/bin/env python3
"""rss_along.py — resident size sampled along one run: is memory flat as the file goes on?

    python3 rss_along.py LABEL CMD...   (prints LABEL<TAB>fraction<TAB>KiB for 0.1, 0.2 ... 1.0)

Runs CMD (output discarded), reads VmRSS from /proc every 2 ms, and prints the peak resident size
reached by each tenth of the run's time. A capture is read at a steady rate, so a tenth of the
time is about a tenth of the file: flat means the last tenths do not grow, whatever the length.
(Peak RSS over two files compares sizes below and on the plateau; this looks at one run.)
"""
import subprocess
import sys
import time


def main():
    label, cmd = sys.argv[1], sys.argv[2:]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    samples = []
    status = f"/proc/{p.pid}/status"
    while p.poll() is None:
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        samples.append((time.monotonic() - t0, int(line.split()[1])))
                        break
        except OSError:
            break
        time.sleep(0.002)
    total = time.monotonic() - t0
    if len(samples) < 20:
        return  # too short a run to say anything
    for tenth in range(1, 11):
        peak = max((kib for t, kib in samples if t <= tenth / 10 * total), default=0)
        print(f"{label}\t{tenth / 10:.1f}\t{peak}")


if __name__ == "__main__":
    main()
