// writer.c — pcap files from live frames: one file, or a ring of N files rotated by size, or
// files rotated by time (-G, as tcpdump: the -w name is a strftime(3) format).
//
// Records are gathered in a buffer and written with write(2) on flush. A failed or short write
// (ENOSPC, EDQUOT, EIO) cuts the file back to its last whole record with ftruncate(2), so the
// file on disk is always a valid pcap, and the writer stops: analysis goes on without it.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"

enum {
    WR_BUF = 256 * 1024,       // records gathered between flushes (at least one whole record)
    WR_FILE_HDR = 24,          // pcap global header
    WR_REC_HDR = 16,           // pcap record header
    WR_MAX_RING = 100000,      // -W cap (file descriptors are opened up front)
    WR_MAGIC_NS = 0xa1b23c4d,  // pcap, nanosecond timestamps, written in host byte order
};

struct cap_writer {
    cap_writer_options o;
    char *base;  // the -w path (owned)
    char *stem;  // the name files are numbered from: base, or with -G base through strftime
    char *name;  // the current file's name (owned)
    int *fds;    // one per ring file (-W), else one
    uint32_t num_fds;
    uint32_t cur;      // index of the current file
    uint32_t seq;      // files started so far - 1 (with -G: in this time period)
    uint32_t earlier;  // -G: files of the periods before this one
    int64_t period;    // -G: start of the current period (Unix seconds)
    uint64_t on_disk;  // whole-record bytes of the current file already written
    uint64_t frames;
    uint8_t *buf;
    size_t bufcap;  // WR_BUF, or one record of snaplen bytes if that is more
    size_t used;
    bool stopped;
    char error[512];
};

static void wr_put32(uint8_t *p, uint32_t v) {
    memcpy(p, &v, 4);  // host byte order: readers detect it from the magic
}

static void wr_put16(uint8_t *p, uint16_t v) {
    memcpy(p, &v, 2);
}

static void wr_header(const cap_writer *w, uint8_t h[WR_FILE_HDR]) {
    wr_put32(h, WR_MAGIC_NS);
    wr_put16(h + 4, 2);
    wr_put16(h + 6, 4);
    wr_put32(h + 8, 0);   // thiszone
    wr_put32(h + 12, 0);  // sigfigs
    wr_put32(h + 16, w->o.snaplen);
    wr_put32(h + 20, (uint32_t)w->o.linktype);
}

// wr_name: the file name of ring slot / sequence number n, as tcpdump makes them.
static void wr_name(const cap_writer *w, uint32_t n, char *out, size_t outlen) {
    if (w->o.ring_files > 0) {
        int digits = snprintf(NULL, 0, "%u", w->o.ring_files - 1);
        snprintf(out, outlen, "%s%0*u", w->stem, digits, n);
    } else if (n == 0) {
        snprintf(out, outlen, "%s", w->stem);
    } else {
        snprintf(out, outlen, "%s%u", w->stem, n);
    }
}

// wr_period: -G — the stem of the period starting at `sec`: the -w name through strftime(3)
// in local time (tcpdump's rule; a name without a conversion is reused, as tcpdump does).
static bool wr_period(cap_writer *w, int64_t sec) {
    time_t t = (time_t)sec;
    struct tm tm;
    char name[4096];
    // The format is the user's -w name, by design (tcpdump -G): strftime cannot overrun name.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = localtime_r(&t, &tm) ? strftime(name, sizeof name, w->base, &tm) : 0;
#pragma GCC diagnostic pop
    if (n == 0) {
        w->stopped = true;
        snprintf(w->error, sizeof w->error, "-G: the name '%.200s' gives no file name at %lld",
                 w->base, (long long)sec);
        return false;
    }
    char *stem = strdup(name);
    if (stem == NULL) {
        w->stopped = true;
        snprintf(w->error, sizeof w->error, "out of memory");
        return false;
    }
    if (w->stem != w->base) {
        free(w->stem);
    }
    w->stem = stem;
    w->period = sec;
    return true;
}

static bool wr_fail(cap_writer *w, const char *what, int err) {
    if (!w->stopped) {
        w->stopped = true;
        snprintf(w->error, sizeof w->error, "%s %s: %s", what, w->name, strerror(err));
    }
    return false;
}

// wr_write_all: writes n bytes; returns how many reached the file, sets *err on a short write.
static size_t wr_write_all(int fd, const uint8_t *p, size_t n, int *err) {
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, p + done, n - done);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            *err = k < 0 ? errno : ENOSPC;
            return done;
        }
        done += (size_t)k;
    }
    return done;
}

// wr_start: (re)starts file slot `slot` with a header. Opens it unless it is already open.
static bool wr_start(cap_writer *w, uint32_t slot, uint32_t seq) {
    char name[4096];
    wr_name(w, w->o.ring_files ? slot : seq, name, sizeof name);
    free(w->name);
    w->name = strdup(name);
    if (!w->name) {
        w->name = NULL;
        w->stopped = true;
        snprintf(w->error, sizeof w->error, "out of memory");
        return false;
    }
    int fd = w->fds[slot];
    if (fd < 0) {
        fd = cap_output_open(name, w->error, sizeof w->error);
        if (fd < 0) {
            w->stopped = true;  // w->error says which path and why
            return false;
        }
        w->fds[slot] = fd;
    } else if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        return wr_fail(w, "cannot reuse", errno);
    }
    uint8_t h[WR_FILE_HDR];
    wr_header(w, h);
    int err = 0;
    if (wr_write_all(fd, h, sizeof h, &err) != sizeof h) {
        // Not even a header fits: leave an empty file rather than half a header.
        if (ftruncate(fd, 0) != 0) {
            err = errno;
        }
        return wr_fail(w, "cannot write", err);
    }
    w->cur = slot;
    w->on_disk = WR_FILE_HDR;
    return true;
}

cap_writer *cap_writer_open(const cap_writer_options *o, char *err, size_t errlen) {
    if (!o->path || !*o->path) {
        snprintf(err, errlen, "-w needs a file name");
        return NULL;
    }
    if (o->ring_files > WR_MAX_RING) {
        snprintf(err, errlen, "-W %u: at most %u files", o->ring_files, (unsigned)WR_MAX_RING);
        return NULL;
    }
    if (o->rotate_seconds && o->ring_files) {
        snprintf(err, errlen, "-G cannot be combined with -W (a ring is rotated by size: -C)");
        return NULL;
    }
    cap_writer *w = calloc(1, sizeof *w);
    uint32_t n = o->ring_files ? o->ring_files : 1;
    size_t bufcap =
        (size_t)o->snaplen + WR_REC_HDR > WR_BUF ? (size_t)o->snaplen + WR_REC_HDR : WR_BUF;
    if (!w || !(w->base = strdup(o->path)) || !(w->buf = malloc(bufcap)) ||
        !(w->fds = malloc(n * sizeof *w->fds))) {
        snprintf(err, errlen, "out of memory");
        if (w) {
            free(w->base);
            free(w->buf);
            free(w);
        }
        return NULL;
    }
    w->o = *o;
    w->o.path = w->base;
    w->stem = w->base;
    if (o->rotate_seconds && !wr_period(w, (int64_t)time(NULL))) {
        snprintf(err, errlen, "%s", w->error);
        w->used = 0;
        cap_writer_close(w, NULL, 0);
        return NULL;
    }
    w->bufcap = bufcap;
    w->num_fds = n;
    for (uint32_t i = 0; i < n; i++) {
        w->fds[i] = -1;
    }
    // Every ring file now, while we may still have the rights to create them.
    for (uint32_t i = n; i-- > 0;) {
        if (!wr_start(w, i, i)) {
            snprintf(err, errlen, "%s", w->error);
            w->used = 0;
            cap_writer_close(w, NULL, 0);  // its failure is the one already in err
            return NULL;
        }
    }
    return w;
}

bool cap_writer_flush(cap_writer *w) {
    if (w->stopped) {
        return false;
    }
    if (w->used == 0) {
        return true;
    }
    int fd = w->fds[w->cur], err = 0;
    size_t done = wr_write_all(fd, w->buf, w->used, &err);
    if (done == w->used) {
        w->on_disk += done;
        w->used = 0;
        return true;
    }
    // Keep the whole records that made it; cut the partial one (the buffer holds our own
    // record headers, so their lengths are trusted).
    size_t whole = 0;
    while (whole + WR_REC_HDR <= done) {
        uint32_t incl;
        memcpy(&incl, w->buf + whole + 8, 4);
        if (whole + WR_REC_HDR + incl > done) {
            break;
        }
        whole += WR_REC_HDR + incl;
    }
    if (ftruncate(fd, (off_t)(w->on_disk + whole)) != 0) {
        err = errno;
    }
    w->used = 0;
    return wr_fail(w, "stopped writing", err);
}

bool cap_writer_write(cap_writer *w, const dissect_frame *f) {
    if (w->stopped) {
        return false;
    }
    // A record longer than the file's snaplen would make the file invalid: cut it (len says
    // how long the packet was, as for any snaplen-truncated packet).
    uint32_t caplen = f->caplen > w->o.snaplen ? w->o.snaplen : f->caplen;
    size_t rec = WR_REC_HDR + (size_t)caplen;
    int64_t sec = (f->ts_ns < 0 ? 0 : f->ts_ns) / 1000000000;
    if (w->o.rotate_seconds && sec - w->period >= (int64_t)w->o.rotate_seconds) {
        // -G: this frame opens the next period's file (as tcpdump, on the first packet past it).
        if (!cap_writer_flush(w)) {
            return false;
        }
        close(w->fds[0]);
        w->fds[0] = -1;
        w->earlier += w->seq + 1;
        w->seq = 0;
        if (!wr_period(w, sec) || !wr_start(w, 0, 0)) {
            return false;
        }
    }
    uint64_t size = w->on_disk + w->used;
    if (w->o.rotate_bytes && size > WR_FILE_HDR && size + rec > w->o.rotate_bytes) {
        if (!cap_writer_flush(w)) {
            return false;
        }
        w->seq++;
        uint32_t slot = w->o.ring_files ? w->seq % w->o.ring_files : 0;
        if (!w->o.ring_files && w->fds[0] >= 0) {
            close(w->fds[0]);
            w->fds[0] = -1;
        }
        if (!wr_start(w, slot, w->seq)) {
            return false;
        }
    }
    if (w->used + rec > w->bufcap && !cap_writer_flush(w)) {
        return false;
    }
    uint8_t *p = w->buf + w->used;
    int64_t ts = f->ts_ns < 0 ? 0 : f->ts_ns;
    wr_put32(p, (uint32_t)(ts / 1000000000));
    wr_put32(p + 4, (uint32_t)(ts % 1000000000));
    wr_put32(p + 8, caplen);
    wr_put32(p + 12, f->len < caplen ? caplen : f->len);
    memcpy(p + WR_REC_HDR, f->data, caplen);
    w->used += rec;
    w->frames++;
    return true;
}

const char *cap_writer_error(const cap_writer *w) {
    return w->stopped ? w->error : NULL;
}

uint64_t cap_writer_frames(const cap_writer *w) {
    return w->frames;
}

uint32_t cap_writer_files(const cap_writer *w) {
    return w->earlier + w->seq + 1;
}

const char *cap_writer_current(const cap_writer *w) {
    return w->name ? w->name : w->base;
}

bool cap_writer_close(cap_writer *w, char *err, size_t errlen) {
    if (!w) {
        return true;
    }
    bool was_stopped = w->stopped;
    bool ok = was_stopped || cap_writer_flush(w);
    for (uint32_t i = 0; w->fds && i < w->num_fds; i++) {
        if (w->fds[i] >= 0 && close(w->fds[i]) != 0 && ok) {
            ok = wr_fail(w, "cannot close", errno);
        }
    }
    if (!ok && err) {
        snprintf(err, errlen, "%s", w->error);
    }
    free(w->fds);
    free(w->buf);
    if (w->stem != w->base) {
        free(w->stem);
    }
    free(w->base);
    free(w->name);
    free(w);
    return ok;
}
