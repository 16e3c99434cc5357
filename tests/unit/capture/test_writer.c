// test_writer.c — the pcap writer (round trip through the reader, tcpdump-style names, rotation,
// a ring of N files, a write error cutting the file back to whole records), the output-file
// policy (outfile.c), the live filter text, and dissect_feed_ex's per-frame flags that
// --handshake-only relies on.
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tlsdiag-wr.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", dir, name);
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

// frame i: 100 + i bytes of the value i, stamped i seconds + i ns after 1e9 s.
static dissect_frame make_frame(uint8_t *buf, uint32_t i) {
    uint32_t n = 100 + i;
    memset(buf, (int)(i & 0xff), n);
    dissect_frame f = {.linktype = 1,
                       .caplen = n,
                       .len = n + 7,
                       .data = buf,
                       .ts_ns = (1000000000LL + i) * 1000000000LL + i,
                       .frame_no = i + 1};
    return f;
}

static cap_writer *open_writer(const char *path, uint64_t rotate, uint32_t ring) {
    cap_writer_options o = {
        .path = path, .linktype = 1, .snaplen = 262144, .rotate_bytes = rotate, .ring_files = ring};
    char err[256] = "";
    cap_writer *w = cap_writer_open(&o, err, sizeof err);
    if (!w) {
        fail_msg("cap_writer_open: %s", err);
    }
    return w;
}

// read_all checks a file with the reader and returns its frame count; first frame index in *first.
static uint32_t read_all(const char *path, uint32_t *first) {
    const char *paths[] = {path};
    char err[256] = "";
    cap_reader *r = cap_open(paths, 1, NULL, err, sizeof err);
    if (!r) {
        fail_msg("cap_open %s: %s", path, err);
    }
    dissect_frame f;
    uint32_t n = 0;
    while (cap_next(r, &f) == 1) {
        uint32_t i = f.caplen - 100;
        if (n == 0 && first) {
            *first = i;
        }
        assert_int_equal(f.len, f.caplen + 7);
        assert_int_equal(f.ts_ns, (1000000000LL + i) * 1000000000LL + i);  // ns kept
        assert_int_equal(f.data[0], i & 0xff);
        assert_int_equal(f.data[f.caplen - 1], i & 0xff);
        n++;
    }
    assert_int_equal(cap_num_errors(r), 0);  // whole records only
    cap_close(r);
    return n;
}

static void test_round_trip(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "one.pcap");
    cap_writer *w = open_writer(p, 0, 0);
    assert_int_equal(file_size(p), 24);  // a valid empty pcap from the start
    uint8_t buf[512];
    for (uint32_t i = 0; i < 50; i++) {
        dissect_frame f = make_frame(buf, i);
        assert_true(cap_writer_write(w, &f));
    }
    assert_true(cap_writer_flush(w));
    uint32_t first = 99;
    assert_int_equal(read_all(p, &first), 50);  // readable while still open, after a flush
    assert_int_equal(first, 0);
    assert_int_equal(cap_writer_frames(w), 50);
    assert_null(cap_writer_error(w));
    assert_string_equal(cap_writer_current(w), p);
    char err[256] = "";
    assert_true(cap_writer_close(w, err, sizeof err));
    assert_int_equal(read_all(p, NULL), 50);
}

static void test_rotation_names(void **state) {
    (void)state;
    char base[128], p[160];
    path_of(base, sizeof base, "rot");
    // records are 16 + 100..139 bytes: ~4 per 600-byte file
    cap_writer *w = open_writer(base, 600, 0);
    uint8_t buf[512];
    for (uint32_t i = 0; i < 20; i++) {
        dissect_frame f = make_frame(buf, i);
        assert_true(cap_writer_write(w, &f));
    }
    uint32_t files = cap_writer_files(w);
    assert_true(cap_writer_close(w, NULL, 0));
    assert_true(files >= 5);
    uint32_t total = 0;
    for (uint32_t k = 0; k < files; k++) {
        if (k == 0) {
            snprintf(p, sizeof p, "%s", base);  // tcpdump: FILE, FILE1, FILE2, ...
        } else {
            snprintf(p, sizeof p, "%s%u", base, k);
        }
        assert_true(file_size(p) <= 600);
        total += read_all(p, NULL);
    }
    assert_int_equal(total, 20);  // nothing lost without a ring
    snprintf(p, sizeof p, "%s%u", base, files);
    assert_int_equal(file_size(p), -1);
}

static void test_ring(void **state) {
    (void)state;
    char base[128], p[160];
    path_of(base, sizeof base, "ring");
    cap_writer *w = open_writer(base, 600, 3);
    // All three files exist (valid, empty) before anything is written: opened up front.
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s%d", base, k);
        assert_int_equal(file_size(p), 24);
    }
    uint8_t buf[512];
    for (uint32_t i = 0; i < 40; i++) {
        dissect_frame f = make_frame(buf, i);
        assert_true(cap_writer_write(w, &f));
    }
    uint32_t files = cap_writer_files(w);
    assert_true(cap_writer_close(w, NULL, 0));
    assert_true(files > 3);  // wrapped
    // The newest file holds the last frame; together the ring holds the most recent frames.
    uint32_t newest = (files - 1) % 3, first = 0, total = 0;
    for (uint32_t k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s%u", base, k);
        assert_true(file_size(p) <= 600);
        uint32_t n = read_all(p, &first);
        assert_true(n > 0);
        total += n;
    }
    snprintf(p, sizeof p, "%s%u", base, newest);
    uint32_t n = read_all(p, &first);
    assert_int_equal(first + n, 40);
    assert_true(total < 40);
    snprintf(p, sizeof p, "%s3", base);
    assert_int_equal(file_size(p), -1);
}

// A file size limit makes write(2) fail part-way (EFBIG), as a full disk does (ENOSPC): the
// file must be cut back to whole records, the writer stop once, and say why.
static void test_write_error_keeps_whole_records(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "limited.pcap");
    cap_writer *w = open_writer(p, 0, 0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 1000;  // header + ~7 records, then a record cut in the middle
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    uint8_t buf[512];
    bool ok = true;
    for (uint32_t i = 0; i < 40 && ok; i++) {
        dissect_frame f = make_frame(buf, i);
        ok = cap_writer_write(w, &f);
    }
    bool flushed = cap_writer_flush(w);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_false(flushed);
    assert_non_null(cap_writer_error(w));
    assert_non_null(strstr(cap_writer_error(w), "stopped writing"));
    assert_non_null(strstr(cap_writer_error(w), "limited.pcap"));
    dissect_frame f = make_frame(buf, 1);
    assert_false(cap_writer_write(w, &f));  // stays stopped
    char err[256] = "";
    assert_true(cap_writer_close(w, err, sizeof err));  // the earlier stop is not a new error
    long size = file_size(p);
    assert_true(size <= 1000);
    uint32_t n = read_all(p, NULL);  // every record whole, no damage reported
    assert_true(n >= 5 && n < 40);
    long expect = 24;
    for (uint32_t i = 0; i < n; i++) {
        expect += 16 + 100 + (long)i;
    }
    assert_int_equal(size, expect);  // cut exactly at a record boundary
}

// Frames longer than the file's snaplen are cut to it (len keeps the wire length), so the file
// stays valid for readers that reject caplen > snaplen.
static void test_snaplen_cut(void **state) {
    (void)state;
    char p[128];
    path_of(p, sizeof p, "snap.pcap");
    cap_writer_options o = {.path = p, .linktype = 1, .snaplen = 120};
    char err[256] = "";
    cap_writer *w = cap_writer_open(&o, err, sizeof err);
    assert_non_null(w);
    uint8_t buf[512];
    dissect_frame f = make_frame(buf, 30);  // 130 bytes
    assert_true(cap_writer_write(w, &f));
    assert_true(cap_writer_close(w, err, sizeof err));
    const char *paths[] = {p};
    cap_reader *r = cap_open(paths, 1, NULL, err, sizeof err);
    assert_non_null(r);
    dissect_frame g;
    assert_int_equal(cap_next(r, &g), 1);
    assert_int_equal(g.caplen, 120);
    assert_int_equal(g.len, 137);
    assert_int_equal(cap_next(r, &g), 0);
    assert_int_equal(cap_num_errors(r), 0);
    cap_close(r);
}

static void test_open_errors(void **state) {
    (void)state;
    char err[256] = "";
    cap_writer_options o = {.path = "/nonexistent-dir/x.pcap", .linktype = 1, .snaplen = 65535};
    assert_null(cap_writer_open(&o, err, sizeof err));
    assert_non_null(strstr(err, "cannot create /nonexistent-dir/x.pcap"));
    o.path = "";
    assert_null(cap_writer_open(&o, err, sizeof err));
    assert_non_null(strstr(err, "-w needs a file name"));
    assert_true(cap_writer_close(NULL, NULL, 0));
}

static void test_live_filter(void **state) {
    (void)state;
    const char *nets[] = {"15.158.0.0/16", "2600:9000:2000::/36"};
    uint16_t ports[] = {443, 8443};
    char *f = cap_live_filter(nets, 2, ports, 2, NULL);
    assert_non_null(f);
    assert_string_equal(f,
                        "tcp and (((dst port 443 or dst port 8443) and (src net 15.158.0.0/16 or "
                        "src net 2600:9000:2000::/36)) or ((src port 443 or src port 8443) and "
                        "(dst net 15.158.0.0/16 or dst net 2600:9000:2000::/36)))");
    free(f);
    f = cap_live_filter(nets, 1, NULL, 0, "not host 10.0.0.1");  // default port 443
    assert_string_equal(f,
                        "(tcp and ((dst port 443 and src net 15.158.0.0/16) or (src port 443 "
                        "and dst net 15.158.0.0/16))) and (not host 10.0.0.1)");
    free(f);
    f = cap_live_filter(NULL, 0, ports, 1, "");  // --all-sources
    assert_string_equal(f, "tcp and port 443");
    free(f);
}

static void test_live_errors(void **state) {
    (void)state;
    cap_live_options o;
    cap_live_options_default(&o);
    assert_true(o.immediate);
    assert_true(o.snaplen >= 65535 + 40);
    o.iface = "tlsdiag-no-such0";
    char err[512] = "";
    cap_live_status st = CAP_LIVE_OK;
    cap_reader *r = cap_live_open(&o, &st, err, sizeof err);
    assert_null(r);
    // Root gets "no such interface"; an unprivileged run gets the permission sentence first.
    if (geteuid() == 0) {
        assert_int_equal(st, CAP_LIVE_NO_IFACE);
        assert_non_null(strstr(err, "tlsdiag-no-such0"));
    } else {
        assert_true(st == CAP_LIVE_EPERM || st == CAP_LIVE_NO_IFACE);
    }
    // A file reader is not live: the live accessors say so rather than crash.
    assert_int_equal(cap_live_linktype(NULL), -1);
    uint64_t a, b;
    assert_false(cap_live_stats(NULL, &a, &b));
    assert_string_equal(cap_live_error(NULL), "");
    dissect_frame f;
    assert_int_equal(cap_live_next_queued(NULL, &f), 0);
    cap_breakloop(NULL);
}

// dissect_feed_ex on a real capture: TLS 1.2 handshake, then application data both ways.
typedef struct fx_state {
    uint32_t transcripts;
} fx_state;

static void fx_cb(void *user, const tls_transcript *t) {
    (void)t;
    ((fx_state *)user)->transcripts++;
}

static void test_feed_ex_flags(void **state) {
    (void)state;
    const char *paths[] = {TLSDIAG_SOURCE_DIR "/pcaps/ok.pcap"};
    char err[256] = "";
    cap_reader *r = cap_open(paths, 1, NULL, err, sizeof err);
    assert_non_null(r);
    fx_state fx = {0};
    dissect_config c;
    dissect_config_default(&c);
    c.on_transcript = fx_cb;
    c.user = &fx;
    dissect *d = dissect_new(&c);
    assert_non_null(d);
    dissect_frame f;
    uint32_t kept = 0, app = 0, decided_frame = 0, after = 0;
    while (cap_next(r, &f) == 1) {
        dissect_frame_info info;
        memset(&info, 0xff, sizeof info);  // every field must be written
        dissect_feed_ex(d, &f, &info);
        if (info.decided_now) {
            assert_int_equal(decided_frame, 0);
            decided_frame = f.frame_no;
            assert_int_equal(fx.transcripts, 1);  // the callback ran during this call
        }
        if (decided_frame && !info.decided_now) {
            assert_false(info.undecided);  // late packets of a decided connection
            assert_false(info.tcp);
            after++;
        }
        app += info.app_data;
        kept += info.tcp && info.undecided && !info.app_data;
    }
    // ok.pcap: frames 1-9 are the handshake, frame 10 the request, frame 11 the server's first
    // application data (the response decides it: a renegotiation would come before it).
    assert_int_equal(decided_frame, 11);
    assert_int_equal(app, 2);
    assert_int_equal(kept, 9);
    assert_true(after > 0);
    dissect_free(d);
    cap_close(r);
}

// ---------------------------------------------------------------------------------------------
// cap_output_open/cap_output_check: what tlsdiag refuses to write through as root (FIFO,
// directory, symbolic link even to nothing, hard link, world-writable file) and what it reuses
// (its own earlier output, then 0600 and empty). tests/scripts/test_output_files.sh runs the same
// policy through every writer of the binary.
// ---------------------------------------------------------------------------------------------
// refused: both entry points refuse path, naming it and giving `why`.
static void refused(const char *path, const char *why) {
    char err[512] = "", want[512];
    snprintf(want, sizeof want, "refusing to write %s: %s", path, why);
    assert_int_equal(cap_output_open(path, err, sizeof err), -1);
    assert_non_null(strstr(err, want));
    err[0] = '\0';
    assert_false(cap_output_check(path, err, sizeof err));
    assert_non_null(strstr(err, want));
}

static void test_refusals(void **state) {
    (void)state;
    char p[128], victim[128];
    path_of(p, sizeof p, "fifo");
    assert_int_equal(mkfifo(p, 0666), 0);
    refused(p, "it exists and is not a regular file");  // and does not block on the FIFO
    path_of(p, sizeof p, "subdir");
    assert_int_equal(mkdir(p, 0700), 0);
    refused(p, "it exists and is not a regular file");
    path_of(p, sizeof p, "dangling");
    assert_int_equal(symlink("/nonexistent/tlsdiag-victim", p), 0);
    refused(p, "it is a symbolic link");  // O_CREAT would have created the target
    assert_int_equal(access("/nonexistent/tlsdiag-victim", F_OK), -1);
    path_of(victim, sizeof victim, "victim");
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fputs("VICTIM", f);
    fclose(f);
    path_of(p, sizeof p, "hardlink");
    assert_int_equal(link(victim, p), 0);
    refused(p, "it exists and has other hard links");
    path_of(p, sizeof p, "open");
    f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(p, 0646), 0);
    refused(p, "it exists and is writable by every user");
    struct stat st;
    assert_int_equal(stat(victim, &st), 0);
    assert_int_equal(st.st_size, 6);
}

static void test_create_and_reuse(void **state) {
    (void)state;
    char p[128], err[256] = "";
    path_of(p, sizeof p, "new.pcap");
    mode_t old = umask(0);
    assert_true(cap_output_check(p, err, sizeof err));  // nothing there yet
    int fd = cap_output_open(p, err, sizeof err);
    umask(old);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    // Our own earlier output, made readable by others since: reused, emptied, 0600 again.
    assert_int_equal(chmod(p, 0644), 0);
    assert_true(cap_output_check(p, err, sizeof err));
    FILE *f = cap_output_fopen(p, err, sizeof err);
    assert_non_null(f);
    fclose(f);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rotation_names),
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_write_error_keeps_whole_records),
        cmocka_unit_test(test_snaplen_cut),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_live_filter),
        cmocka_unit_test(test_live_errors),
        cmocka_unit_test(test_feed_ex_flags),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_create_and_reuse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
