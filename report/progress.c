// progress.c — the status line on stderr for long runs (bytes read, %, handshakes seen).
//
// Drawn only when stderr is a terminal (the caller decides), not before the run is one second
// old (short runs never flicker), at most four times a second, and erased at the end so it
// never mixes with the results.
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "report.h"

enum { TICKS_PER_CLOCK_READ = 256 };  // frames between clock reads: keeps the tick cheap

int64_t report_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void report_progress_init(report_progress *p, bool enabled) {
    p->enabled = enabled;
    p->shown = false;
    p->start_ns = p->last_ns = enabled ? report_now_ns() : 0;
    p->ticks = 0;
}

void report_progress_tick(report_progress *p, uint64_t bytes_read, uint64_t bytes_total,
                          uint64_t handshakes) {
    if (!p->enabled || ++p->ticks % TICKS_PER_CLOCK_READ != 0) {
        return;
    }
    int64_t t = report_now_ns();
    if (t - p->start_ns < 1000000000 || t - p->last_ns < 250000000) {
        return;
    }
    p->last_ns = t;
    double mb = (double)bytes_read / (1024.0 * 1024.0);
    if (bytes_total > 0) {
        double pct = 100.0 * (double)bytes_read / (double)bytes_total;
        fprintf(stderr, "\r\x1b[Ktlsdiag: %.1f of %.1f MB read (%.0f%%), %" PRIu64 " handshakes",
                mb, (double)bytes_total / (1024.0 * 1024.0), pct > 100.0 ? 100.0 : pct, handshakes);
    } else {
        fprintf(stderr, "\r\x1b[Ktlsdiag: %.1f MB read, %" PRIu64 " handshakes", mb, handshakes);
    }
    fflush(stderr);
    p->shown = true;
}

void report_progress_end(report_progress *p) {
    if (p->shown) {
        fputs("\r\x1b[K", stderr);
        fflush(stderr);
        p->shown = false;
    }
}
