// test_capture.c — the offline reader: pcap and pcapng files written byte by byte into a temp
// dir; merge by timestamp, ns precision, damaged files, non-captures, BPF, per-packet link types.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"

static char dir[64];

typedef struct wbuf {
    uint8_t b[8192];
    size_t n;
    bool be;  // write big-endian
} wbuf;

static void w8(wbuf *w, unsigned v) {
    assert_true(w->n < sizeof w->b);
    w->b[w->n++] = (uint8_t)v;
}
static void w16(wbuf *w, unsigned v) {
    if (w->be) {
        w8(w, v >> 8), w8(w, v);
    } else {
        w8(w, v), w8(w, v >> 8);
    }
}
static void w32(wbuf *w, uint32_t v) {
    if (w->be) {
        w16(w, v >> 16), w16(w, v & 0xffff);
    } else {
        w16(w, v & 0xffff), w16(w, v >> 16);
    }
}
static void wbytes(wbuf *w, const void *p, size_t n) {
    assert_true(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void pcap_hdr(wbuf *w, uint32_t magic, uint32_t linktype) {
    w32(w, magic);
    w16(w, 2);
    w16(w, 4);
    w32(w, 0);
    w32(w, 0);
    w32(w, 65535);
    w32(w, linktype);
}

static void pcap_rec(wbuf *w, uint32_t sec, uint32_t frac, const void *p, uint32_t n) {
    w32(w, sec);
    w32(w, frac);
    w32(w, n);
    w32(w, n);
    wbytes(w, p, n);
}

static const char *save(const char *name, const wbuf *w, size_t len) {
    static char paths[8][128];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(w->b, 1, len, f), len);
    fclose(f);
    return p;
}

// A minimal Ethernet/IPv4/TCP frame to port `dport`, tagged with `tag` in the payload.
static size_t eth_tcp(uint8_t *b, uint16_t dport, uint8_t tag) {
    memset(b, 0, 60);
    b[12] = 0x08;
    b[14] = 0x45;
    b[17] = 41;  // total length 20 + 20 + 1
    b[22] = 64;
    b[23] = 6;
    b[26] = 10, b[29] = 1, b[30] = 10, b[33] = 2;
    b[34] = 0xc0, b[35] = 0x00;
    b[36] = (uint8_t)(dport >> 8), b[37] = (uint8_t)dport;
    b[46] = 0x50;
    b[47] = 0x18;
    b[54] = tag;
    return 55;
}

static cap_reader *open1(const char *path, const char *bpf, char *err) {
    const char *paths[] = {path};
    return cap_open(paths, 1, bpf, err, 512);
}

static void check_batch_same_as_next(const char *path, const char *bpf);

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tlsdiag-capXXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_merge_by_timestamp(void **state) {
    (void)state;
    uint8_t fr[64];
    wbuf a = {.n = 0}, b = {.n = 0};
    pcap_hdr(&a, 0xa1b2c3d4, 1);
    pcap_hdr(&b, 0xa1b2c3d4, 1);
    const uint32_t ta[] = {1, 3, 5}, tb[] = {2, 4, 5};
    for (int i = 0; i < 3; i++) {
        pcap_rec(&a, ta[i], 0, fr, (uint32_t)eth_tcp(fr, 443, (uint8_t)(0xa0 + i)));
        pcap_rec(&b, tb[i], 0, fr, (uint32_t)eth_tcp(fr, 443, (uint8_t)(0xb0 + i)));
    }
    const char *paths[] = {save("a.pcap", &a, a.n), save("b.pcap", &b, b.n)};
    char err[512] = "";
    cap_reader *r = cap_open(paths, 2, NULL, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(cap_bytes_total(r), a.n + b.n);
    const uint8_t want[] = {0xa0, 0xb0, 0xa1, 0xb1, 0xa2, 0xb2};  // tie at t=5: file order
    dissect_frame f;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(cap_next(r, &f), 1);
        assert_int_equal(f.frame_no, i + 1);
        assert_int_equal(f.linktype, 1);
        assert_int_equal(f.caplen, 55);
        assert_int_equal(f.data[54], want[i]);
    }
    assert_int_equal(f.ts_ns, 5000000000LL);
    assert_int_equal(cap_next(r, &f), 0);
    assert_int_equal(cap_num_errors(r), 0);
    assert_int_equal(cap_bytes_read(r), a.n + b.n);
    cap_close(r);
}

static void test_ns_precision_and_byte_order(void **state) {
    (void)state;
    uint8_t fr[64];
    wbuf n = {.be = true};  // big-endian, nanosecond magic
    pcap_hdr(&n, 0xa1b23c4d, 1);
    pcap_rec(&n, 1700000000, 123456789, fr, (uint32_t)eth_tcp(fr, 443, 1));
    wbuf u = {.n = 0};  // little-endian, microseconds
    pcap_hdr(&u, 0xa1b2c3d4, 1);
    pcap_rec(&u, 1700000000, 654321, fr, (uint32_t)eth_tcp(fr, 443, 2));
    char err[512];
    dissect_frame f;
    cap_reader *r = open1(save("ns.pcap", &n, n.n), NULL, err);
    assert_non_null(r);
    assert_int_equal(cap_next(r, &f), 1);
    assert_int_equal(f.ts_ns, 1700000000123456789LL);
    cap_close(r);
    r = open1(save("us.pcap", &u, u.n), NULL, err);
    assert_non_null(r);
    assert_int_equal(cap_next(r, &f), 1);
    assert_int_equal(f.ts_ns, 1700000000654321000LL);
    assert_int_equal(f.data[54], 2);
    cap_close(r);
}

static void test_truncated_file(void **state) {
    (void)state;
    uint8_t fr[64];
    size_t len = eth_tcp(fr, 443, 7);
    wbuf w = {.n = 0};
    pcap_hdr(&w, 0xa1b2c3d4, 1);
    for (uint32_t i = 0; i < 3; i++) {
        pcap_rec(&w, 10 + i, 0, fr, (uint32_t)len);
    }
    size_t third = 24 + 2 * (16 + len);
    // cut inside the third record's data, then inside its header
    const size_t cuts[] = {third + 16 + 10, third + 9};
    const char *why[] = {"truncated record: header says 55 bytes, only 10 in the file",
                         "truncated record header: needed 16 bytes, only 9 left"};
    for (int k = 0; k < 2; k++) {
        wbuf good = {.n = 0};
        pcap_hdr(&good, 0xa1b2c3d4, 1);
        pcap_rec(&good, 100, 0, fr, (uint32_t)len);  // later than all of the damaged file
        const char *paths[] = {save(k ? "cut2.pcap" : "cut1.pcap", &w, cuts[k]),
                               save("good.pcap", &good, good.n)};
        char err[512];
        cap_reader *r = cap_open(paths, 2, NULL, err, sizeof err);
        assert_non_null(r);
        dissect_frame f;
        int frames = 0;
        while (cap_next(r, &f) == 1) {
            frames++;
        }
        assert_int_equal(frames, 3);  // two before the damage, and the other file's one
        assert_int_equal(f.ts_ns, 100000000000LL);
        assert_int_equal(cap_num_errors(r), 1);
        const cap_error *e = cap_get_error(r, 0);
        assert_string_equal(e->file, paths[0]);
        assert_int_equal(e->frame, 3);
        assert_int_equal(e->offset, third);
        assert_string_equal(e->msg, why[k]);
        assert_null(cap_get_error(r, 1));
        cap_close(r);
    }
    // A corrupt record length (larger than any record): the offset of that record.
    wbuf c = {.n = 0};
    pcap_hdr(&c, 0xa1b2c3d4, 1);
    pcap_rec(&c, 1, 0, fr, (uint32_t)len);
    w32(&c, 2), w32(&c, 0), w32(&c, 0x7fffffff), w32(&c, 60);
    char err[512];
    cap_reader *r = open1(save("corrupt.pcap", &c, c.n), NULL, err);
    assert_non_null(r);
    dissect_frame f;
    assert_int_equal(cap_next(r, &f), 1);
    assert_int_equal(cap_next(r, &f), 0);
    assert_int_equal(cap_get_error(r, 0)->frame, 2);
    assert_int_equal(cap_get_error(r, 0)->offset, 24 + 16 + len);
    assert_string_equal(
        cap_get_error(r, 0)->msg,
        "corrupt record header: 2147483647-byte record, bigger than maximum of 262144");
    cap_close(r);
}

static void test_not_a_capture(void **state) {
    (void)state;
    wbuf w = {.n = 0};
    wbytes(&w, "GET / HTTP/1.1\r\n\r\n", 18);
    char err[512] = "";
    const char *p = save("notes.txt", &w, w.n);
    assert_null(open1(p, NULL, err));
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "not a pcap or pcapng file"));
    p = save("empty.pcap", &w, 0);
    assert_null(open1(p, NULL, err));
    assert_non_null(strstr(err, "empty file"));
    assert_null(open1("/nonexistent/x.pcap", NULL, err));
    assert_non_null(strstr(err, "/nonexistent/x.pcap: does not exist (check the name"));
    // a directory is called a directory, not an empty file
    assert_null(open1("/tmp", NULL, err));
    assert_non_null(strstr(err, "/tmp: is a directory, not a pcap or pcapng file"));
    // one bad file among good ones: the open fails and names the bad one
    wbuf g = {.n = 0};
    pcap_hdr(&g, 0xa1b2c3d4, 1);
    const char *paths[] = {save("g.pcap", &g, g.n), p};
    assert_null(cap_open(paths, 2, NULL, err, sizeof err));
    assert_non_null(strstr(err, p));
}

static void test_bpf(void **state) {
    (void)state;
    uint8_t fr[64];
    wbuf w = {.n = 0};
    pcap_hdr(&w, 0xa1b2c3d4, 1);
    pcap_rec(&w, 1, 0, fr, (uint32_t)eth_tcp(fr, 80, 1));
    pcap_rec(&w, 2, 0, fr, (uint32_t)eth_tcp(fr, 443, 2));
    pcap_rec(&w, 3, 0, fr, (uint32_t)eth_tcp(fr, 80, 3));
    pcap_rec(&w, 4, 0, fr, (uint32_t)eth_tcp(fr, 443, 4));
    const char *p = save("bpf.pcap", &w, w.n);
    char err[512];
    cap_reader *r = open1(p, "tcp port 443", err);
    assert_non_null(r);
    dissect_frame f;
    assert_int_equal(cap_next(r, &f), 1);
    assert_int_equal(f.data[54], 2);
    assert_int_equal(f.frame_no, 2);  // frame numbers are the file's, filtered or not
    assert_int_equal(cap_next(r, &f), 1);
    assert_int_equal(f.data[54], 4);
    assert_int_equal(f.frame_no, 4);
    assert_int_equal(cap_next(r, &f), 0);
    cap_close(r);

    assert_null(open1(p, "tcp port", err));
    assert_non_null(strstr(err, "bad filter \"tcp port\""));
    assert_null(open1(p, "host 999.1.1.1", err));
    assert_non_null(strstr(err, "999.1.1.1"));
}

static void test_stdin(void **state) {
    (void)state;
    uint8_t fr[64];
    wbuf w = {.n = 0};
    pcap_hdr(&w, 0xa1b2c3d4, 1);
    pcap_rec(&w, 7, 0, fr, (uint32_t)eth_tcp(fr, 443, 0x5a));
    assert_non_null(freopen(save("stdin.pcap", &w, w.n), "rb", stdin));
    char err[512];
    cap_reader *r = open1("-", NULL, err);
    assert_non_null(r);
    dissect_frame f;
    assert_int_equal(cap_next(r, &f), 1);
    assert_int_equal(f.data[54], 0x5a);
    assert_int_equal(cap_next(r, &f), 0);
    cap_close(r);
    const char *twice[] = {"-", "-"};
    assert_null(cap_open(twice, 2, NULL, err, sizeof err));
    assert_non_null(strstr(err, "stdin"));
}

// pcapng block helpers (little- or big-endian section).
static void ng_shb(wbuf *w) {
    w32(w, 0x0A0D0D0A), w32(w, 28), w32(w, 0x1A2B3C4D), w16(w, 1), w16(w, 0);
    w32(w, 0xffffffff), w32(w, 0xffffffff), w32(w, 28);
}
static void ng_idb(wbuf *w, unsigned linktype, int tsresol) {
    uint32_t len = 20 + (tsresol >= 0 ? 12 : 0);
    w32(w, 1), w32(w, len), w16(w, linktype), w16(w, 0), w32(w, 0);
    if (tsresol >= 0) {
        w16(w, 9), w16(w, 1), w8(w, (unsigned)tsresol), w8(w, 0), w8(w, 0), w8(w, 0);
        w16(w, 0), w16(w, 0);
    }
    w32(w, len);
}
static void ng_epb(wbuf *w, uint32_t iface, uint64_t ts, const uint8_t *p, uint32_t n) {
    uint32_t pad = (4 - (n & 3)) & 3, len = 32 + n + pad;
    w32(w, 6), w32(w, len), w32(w, iface), w32(w, (uint32_t)(ts >> 32)), w32(w, (uint32_t)ts);
    w32(w, n), w32(w, n);
    wbytes(w, p, n);
    for (uint32_t i = 0; i < pad; i++) {
        w8(w, 0);
    }
    w32(w, len);
}

static void test_pcapng_mixed_link_types(void **state) {
    (void)state;
    uint8_t fr[64];
    size_t len = eth_tcp(fr, 443, 9);
    for (int be = 0; be < 2; be++) {
        wbuf w = {.be = be};
        ng_shb(&w);
        ng_idb(&w, 1, -1);   // Ethernet, microseconds (default)
        ng_idb(&w, 101, 9);  // raw IP, nanoseconds
        ng_epb(&w, 0, 1700000000000001ULL, fr, (uint32_t)len);
        ng_epb(&w, 1, 1700000000000000002ULL, fr + 14, (uint32_t)len - 14);
        // SPB: interface 0, no timestamp
        w32(&w, 3), w32(&w, 16 + 56), w32(&w, (uint32_t)len);
        wbytes(&w, fr, len);
        w8(&w, 0);
        w32(&w, 16 + 56);
        char err[512] = "";
        cap_reader *r = open1(save(be ? "be.pcapng" : "le.pcapng", &w, w.n), NULL, err);
        assert_non_null(r);
        dissect_frame f;
        assert_int_equal(cap_next(r, &f), 1);  // within one file: file order
        assert_int_equal(f.linktype, 1);
        assert_int_equal(f.ts_ns, 1700000000000001000LL);
        assert_int_equal(f.data[54], 9);
        assert_int_equal(cap_next(r, &f), 1);
        assert_int_equal(f.linktype, 101);
        assert_int_equal(f.ts_ns, 1700000000000000002LL);
        assert_int_equal(f.data[0], 0x45);
        assert_int_equal(cap_next(r, &f), 1);  // SPB: interface 0, no timestamp
        assert_int_equal(f.ts_ns, 0);
        assert_int_equal(f.linktype, 1);
        assert_int_equal(f.caplen, len);
        assert_int_equal(f.frame_no, 3);
        assert_int_equal(cap_next(r, &f), 0);
        assert_int_equal(cap_num_errors(r), 0);
        cap_close(r);

        // cut in the middle of the second EPB: one frame, then the error at that block
        size_t epb2 = 28 + 20 + 32 + 32 + 56;
        r = open1(save("cut.pcapng", &w, epb2 + 20), NULL, err);
        assert_non_null(r);
        assert_int_equal(cap_next(r, &f), 1);
        assert_int_equal(cap_next(r, &f), 0);
        assert_int_equal(cap_num_errors(r), 1);
        assert_int_equal(cap_get_error(r, 0)->frame, 2);
        assert_int_equal(cap_get_error(r, 0)->offset, epb2);
        assert_non_null(strstr(cap_get_error(r, 0)->msg, "truncated block"));
        cap_close(r);
        check_batch_same_as_next(save("cut2.pcapng", &w, epb2 + 20), NULL);  // one a call
    }
    assert_string_equal(cap_linktype_name(1), "EN10MB");
    assert_string_equal(cap_linktype_name(276), "LINUX_SLL2");
}

// A file larger than the reader's buffer (1 MiB), with records of many sizes, some straddling
// its refills: read from a path and from stdin, every frame must come back whole and in order,
// and a cut deep in the file must be found at the right frame and offset.
static uint32_t big_len(uint32_t i) {
    return 60 + (i * 7919u) % 9000u;  // 60..9059 bytes
}
static uint8_t big_byte(uint32_t i, uint32_t k) {
    return (uint8_t)(i * 31u + k);
}
static void check_big(cap_reader *r, uint32_t n) {
    dissect_frame f;
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(cap_next(r, &f), 1);
        assert_int_equal(f.caplen, big_len(i));
        assert_int_equal(f.frame_no, i + 1);
        for (uint32_t k = 0; k < f.caplen; k += 997) {
            assert_int_equal(f.data[k], big_byte(i, k));
        }
        assert_int_equal(f.data[f.caplen - 1], big_byte(i, f.caplen - 1));
    }
}
// cap_next_batch returns what cap_next does, frame for frame (fields, bytes, frame numbers,
// errors), whatever the batch sizes; every frame of a batch is still whole when it returns.
typedef struct frame_sum {
    dissect_frame f;
    uint64_t hash;
} frame_sum;
static uint64_t bytes_hash(const uint8_t *p, uint32_t n) {
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}
static void check_batch_same_as_next(const char *path, const char *bpf) {
    char err[512] = "";
    cap_reader *r = open1(path, bpf, err);
    assert_non_null(r);
    size_t n = 0, cap = 1024;
    frame_sum *want = malloc(cap * sizeof *want);
    assert_non_null(want);
    dissect_frame f;
    while (cap_next(r, &f) == 1) {
        if (n == cap) {
            want = realloc(want, (cap *= 2) * sizeof *want);
            assert_non_null(want);
        }
        want[n].f = f;
        want[n++].hash = bytes_hash(f.data, f.caplen);
    }
    size_t errors = cap_num_errors(r);
    cap_error e0 = errors ? *cap_get_error(r, 0) : (cap_error){0};
    cap_close(r);
    r = open1(path, bpf, err);
    assert_non_null(r);
    dissect_frame got[64];
    size_t seen = 0, k;
    for (size_t max = 1; (k = cap_next_batch(r, got, max)) > 0; max = max * 5 % 64 + 1) {
        assert_true(k <= max);
        for (size_t i = 0; i < k; i++, seen++) {
            assert_true(seen < n);
            assert_int_equal(got[i].linktype, want[seen].f.linktype);
            assert_int_equal(got[i].caplen, want[seen].f.caplen);
            assert_int_equal(got[i].len, want[seen].f.len);
            assert_int_equal(got[i].ts_ns, want[seen].f.ts_ns);
            assert_int_equal(got[i].frame_no, want[seen].f.frame_no);
            assert_int_equal(bytes_hash(got[i].data, got[i].caplen), want[seen].hash);
        }
    }
    assert_int_equal(seen, n);
    assert_int_equal(cap_num_errors(r), errors);
    if (errors) {
        assert_int_equal(cap_get_error(r, 0)->frame, e0.frame);
        assert_int_equal(cap_get_error(r, 0)->offset, e0.offset);
        assert_string_equal(cap_get_error(r, 0)->msg, e0.msg);
    }
    cap_close(r);
    free(want);
}

static void test_large_file(void **state) {
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/big.pcap", dir);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    wbuf w = {.be = true};
    pcap_hdr(&w, 0xa1b2c3d4, 1);
    assert_int_equal(fwrite(w.b, 1, w.n, out), w.n);
    static uint8_t rec[9100];
    uint32_t n = 0;
    long size = (long)w.n, cut_at = 0;
    while (size < 11L << 20) {
        uint32_t len = big_len(n);
        w.n = 0;
        w32(&w, 1000 + n), w32(&w, 0), w32(&w, len), w32(&w, len);
        for (uint32_t k = 0; k < len; k++) {
            rec[k] = big_byte(n, k);
        }
        assert_int_equal(fwrite(w.b, 1, 16, out), 16);
        assert_int_equal(fwrite(rec, 1, len, out), len);
        if (!cut_at && size > (9L << 20)) {
            cut_at = size;  // a record a little past 9 MiB: the cut goes inside it
        }
        size += 16 + (long)len;
        n++;
    }
    assert_int_equal(fclose(out), 0);
    char err[512] = "";
    cap_reader *r = open1(path, NULL, err);
    assert_non_null(r);
    check_big(r, n);
    dissect_frame f;
    assert_int_equal(cap_next(r, &f), 0);
    assert_int_equal(cap_num_errors(r), 0);
    cap_close(r);
    check_batch_same_as_next(path, NULL);  // ~1,900 records across refills of the read buffer
    check_batch_same_as_next(path, "len > 4000");

    assert_non_null(freopen(path, "rb", stdin));
    r = open1("-", NULL, err);
    assert_non_null(r);
    check_big(r, n);
    assert_int_equal(cap_next(r, &f), 0);
    assert_int_equal(cap_num_errors(r), 0);
    cap_close(r);

    // Cut 100 bytes into the record at cut_at: the frames before it, then the damage there.
    assert_int_equal(truncate(path, cut_at + 100), 0);
    r = open1(path, NULL, err);
    assert_non_null(r);
    uint32_t got = 0;
    while (cap_next(r, &f) == 1) {
        assert_int_equal(f.caplen, big_len(got));
        got++;
    }
    assert_int_equal(cap_num_errors(r), 1);
    assert_int_equal(cap_get_error(r, 0)->frame, got + 1);
    assert_int_equal(cap_get_error(r, 0)->offset, (uint64_t)cut_at);
    assert_non_null(strstr(cap_get_error(r, 0)->msg, "truncated record"));
    cap_close(r);
    check_batch_same_as_next(path, NULL);

    // Cut by another program at the record boundary cut_at while being read (the reader has
    // read its first frames, and the buffer holds less than the file): the frames before the
    // cut, then the damage there, said as a cut — not a clean end of the file.
    r = open1(path, NULL, err);
    assert_non_null(r);
    uint32_t before_cut = 0;
    assert_int_equal(cap_next(r, &f), 1);
    before_cut++;
    assert_int_equal(truncate(path, cut_at), 0);
    while (cap_next(r, &f) == 1) {
        assert_int_equal(f.caplen, big_len(before_cut));
        before_cut++;
    }
    assert_int_equal(cap_num_errors(r), 1);
    assert_int_equal(cap_get_error(r, 0)->frame, before_cut + 1);
    assert_int_equal(cap_get_error(r, 0)->offset, (uint64_t)cut_at);
    assert_non_null(strstr(cap_get_error(r, 0)->msg, "cut short by another program"));
    cap_close(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_by_timestamp),
        cmocka_unit_test(test_ns_precision_and_byte_order),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_not_a_capture),
        cmocka_unit_test(test_bpf),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_pcapng_mixed_link_types),
        cmocka_unit_test(test_large_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
