// test_report.c — report/: escaping, transcript and verdict JSON, the 80-column line, summary.
//
// Every JSON output is parsed back with jansson: the test fails on invalid JSON, not only on
// wrong values.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <jansson.h>

#include "jmemo.h"
#include "report.h"

// A memory stream the report writes into; buf is NUL-terminated after close_capture.
typedef struct capture {
    FILE *f;
    char *buf;
    size_t len;
} capture;

static report *open_report_cols(capture *c, report_format fmt, int verbosity, unsigned columns) {
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    report_options o = {
        .format = fmt, .color = false, .verbosity = verbosity, .out = c->f, .columns = columns};
    report *r = report_new(&o);
    assert_non_null(r);
    return r;
}

static report *open_report(capture *c, report_format fmt, int verbosity) {
    return open_report_cols(c, fmt, verbosity, 0);
}

static void close_capture(capture *c, report *r) {
    assert_false(report_write_failed(r));
    report_free(r);
    assert_int_equal(fclose(c->f), 0);
}

// parse_one parses a single JSON Lines object (the whole buffer must be one line), and checks
// that the line has exactly the bytes jansson prints for it (JSON_COMPACT, keys in order): the
// writer in report/jsonw.c must stay byte-identical to the jansson dump it replaced.
static json_t *parse_one(const char *line) {
    json_error_t err;
    size_t len = strlen(line);
    assert_true(len > 1);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1));  // exactly one line
    json_t *j = json_loadb(line, len, 0, &err);
    if (j == NULL) {
        fail_msg("invalid JSON (%s): %s", err.text, line);
    }
    char *again = json_dumps(j, JSON_COMPACT);
    assert_non_null(again);
    if (strlen(again) != len - 1 || memcmp(again, line, len - 1) != 0) {
        fail_msg("not jansson's bytes:\n%s\n%s", line, again);
    }
    free(again);
    return j;
}

static const char *jget_str(json_t *o, const char *path) {
    json_t *v = json_object_get(o, path);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_int_t jget_int(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static tls_transcript *sample_transcript(const char *sni, size_t sni_len) {
    tls_transcript *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->conn_id = 7;
    t->client = (tls_endpoint){.family = 4, .addr = {192, 0, 2, 1}, .port = 51000};
    t->server = (tls_endpoint){.family = 4, .addr = {198, 51, 100, 2}, .port = 443};
    t->first_frame = 1;
    t->last_frame = 5;
    t->first_ts_ns = INT64_C(1764186901000000000);  // 2025-11-26T19:55:01Z
    t->last_ts_ns = t->first_ts_ns + 2500000;
    t->end_reason = TLS_END_ALERT;
    t->is_tls = true;
    t->ch.present = true;
    t->ch.record_version = 0x0301;
    t->ch.legacy_version = 0x0303;
    t->ch.num_ciphers = 2;
    t->ch.ciphers[0] = 0x1301;
    t->ch.ciphers[1] = 0xc02f;
    t->ch.has_sni = true;
    memcpy(t->ch.sni, sni, sni_len);
    t->ch.sni_len = (uint16_t)sni_len;
    t->sh.present = true;
    t->sh.legacy_version = 0x0303;
    t->sh.cipher = 0xc02f;
    tls_event ev[3] = {
        {.kind = TLS_EV_TCP_SYN, .dir = TLS_DIR_C2S, .frame = 1, .ts_ns = t->first_ts_ns},
        {.kind = TLS_EV_HANDSHAKE,
         .dir = TLS_DIR_C2S,
         .content_type = 22,
         .hs_type = 1,
         .version = 0x0301,
         .frame = 4,
         .ts_ns = t->first_ts_ns + 1000000,
         .length = 512},
        {.kind = TLS_EV_ALERT,
         .dir = TLS_DIR_C2S,
         .content_type = 21,
         .alert_level = 2,
         .alert_desc = 48,
         .version = 0x0303,
         .frame = 5,
         .ts_ns = t->last_ts_ns,
         .length = 2},
    };
    memcpy(t->events, ev, sizeof ev);
    t->num_events = 3;
    return t;
}

static void test_escape_text(void **state) {
    (void)state;
    const char in[] = "a\nb\x1b[31m\\\xff\xc3\xa9\xc2\x9b";
    char out[128];
    size_t n = report_escape((const uint8_t *)in, sizeof in - 1, REPORT_ESC_TEXT, out, sizeof out);
    // newline, ESC, backslash, a lone 0xff and the C1 CSI are escaped; é (valid UTF-8) is kept
    assert_string_equal(out, "a\\x0ab\\x1b[31m\\\\\\xff\xc3\xa9\\xc2\\x9b");
    assert_int_equal(n, strlen(out));
}

static void test_escape_json_mode_and_overlong(void **state) {
    (void)state;
    // 0xc0 0xaf is an overlong '/', 0xed 0xa0 0x80 a surrogate: neither is valid UTF-8.
    const char in[] = "x\n\xc0\xaf\xed\xa0\x80y";
    char out[128];
    report_escape((const uint8_t *)in, sizeof in - 1, REPORT_ESC_JSON, out, sizeof out);
    assert_string_equal(out, "x\n\\xc0\\xaf\\xed\\xa0\\x80y");
}

static void test_escape_cuts_with_ellipsis(void **state) {
    (void)state;
    char out[10];
    report_escape((const uint8_t *)"abcdefghijklmnop", 16, REPORT_ESC_TEXT, out, sizeof out);
    assert_string_equal(out, "abcdef\xe2\x80\xa6");  // 6 bytes + "…" + NUL = 10
}

static void test_escape_every_small_buffer(void **state) {
    (void)state;
    // Cutting must never split an escape or a UTF-8 sequence, nor write past outlen.
    const char in[] =
        "\xc3\xa9\x01\xff"
        "ab";
    for (size_t outlen = 1; outlen <= 16; outlen++) {
        char *out = malloc(outlen);  // exact size: ASan catches any overrun
        assert_non_null(out);
        size_t n = report_escape((const uint8_t *)in, sizeof in - 1, REPORT_ESC_TEXT, out, outlen);
        assert_int_equal(n, strlen(out));
        assert_true(n < outlen);
        if (outlen >= 13) {
            assert_string_equal(out, "\xc3\xa9\\x01\\xffab");  // 12 bytes: fits whole
        } else if (outlen >= 6) {
            assert_memory_equal(out + n - 3, "\xe2\x80\xa6", 3);  // cut, with "…"
            assert_memory_equal(out, "\xc3\xa9", 2);
        }
        free(out);
    }
}

// Every ASCII byte alone and between plain bytes, both modes: the plain-byte path of
// report_escape must agree with the rule (text: C0, DEL and '\\' escaped; JSON: all as is).
static void test_escape_every_ascii_byte(void **state) {
    (void)state;
    for (int b = 0; b < 0x80; b++) {
        uint8_t in[3] = {'a', (uint8_t)b, 'z'};
        char want[16], out[16];
        if (b < 0x20 || b == 0x7f) {
            snprintf(want, sizeof want, "a\\x%02xz", b);
        } else if (b == '\\') {
            snprintf(want, sizeof want, "a\\\\z");
        } else {
            snprintf(want, sizeof want, "a%cz", b);
        }
        assert_int_equal(report_escape(in, 3, REPORT_ESC_TEXT, out, sizeof out), strlen(want));
        assert_string_equal(out, want);
        assert_int_equal(report_escape(in, 3, REPORT_ESC_JSON, out, sizeof out), 3);
        assert_memory_equal(out, in, 3);
        // cut one byte short of the whole: "…" after what fits
        size_t cap = strlen(want);
        size_t n = report_escape(in, 3, REPORT_ESC_TEXT, out, cap);
        if (cap > 4) {
            assert_memory_equal(out + n - 3, "\xe2\x80\xa6", 3);
            assert_memory_equal(out, want, n - 3);
        } else {
            assert_int_equal(n, 0);  // no room for a byte and "…": nothing
        }
    }
}

// oracle_escape: report_escape as it was before its plain-run fast path (round 5 of issue 20),
// kept here unchanged as the reference the fast path must match byte for byte.
static size_t oracle_unit(const uint8_t *s, size_t n, report_escape_mode mode, char *u,
                          size_t *ulen) {
    size_t len = analyze_utf8_seq(s, n);
    bool escape = (len == 0);
    if (mode == REPORT_ESC_TEXT && len == 1) {
        escape = s[0] < 0x20 || s[0] == 0x7f;
        if (s[0] == '\\') {
            memcpy(u, "\\\\", 2);
            *ulen = 2;
            return 1;
        }
    }
    if (mode == REPORT_ESC_TEXT && len == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
        escape = true;
    }
    if (escape) {
        size_t k = len ? len : 1;
        for (size_t i = 0; i < k; i++) {
            snprintf(u + 4 * i, 5, "\\x%02x", s[i]);
        }
        *ulen = 4 * k;
        return k;
    }
    memcpy(u, s, len);
    *ulen = len;
    return len;
}

static size_t oracle_escape(const uint8_t *s, size_t n, report_escape_mode mode, char *out,
                            size_t outlen) {
    if (outlen == 0) {
        return 0;
    }
    size_t total = 0;
    char u[16];
    size_t ulen;
    for (size_t i = 0; i < n;) {
        i += oracle_unit(s + i, n - i, mode, u, &ulen);
        total += ulen;
    }
    size_t limit = total < outlen ? total : (outlen > 4 ? outlen - 1 - 3 : 0);
    size_t pos = 0;
    for (size_t i = 0; i < n;) {
        i += oracle_unit(s + i, n - i, mode, u, &ulen);
        if (pos + ulen > limit) {
            break;
        }
        memcpy(out + pos, u, ulen);
        pos += ulen;
    }
    if (total >= outlen && outlen > 4) {
        memcpy(out + pos, "\xe2\x80\xa6", 3);
        pos += 3;
    }
    out[pos] = '\0';
    return pos;
}

// check_against_oracle: both modes, outlen from 1 to past the whole output; exact-size
// buffers, so ASan catches a write past outlen.
static void check_against_oracle(const uint8_t *in, size_t n) {
    static const report_escape_mode modes[] = {REPORT_ESC_TEXT, REPORT_ESC_JSON};
    for (size_t m = 0; m < 2; m++) {
        char full[1024];
        size_t whole = oracle_escape(in, n, modes[m], full, sizeof full);
        for (size_t outlen = 1; outlen <= whole + 2; outlen++) {
            char *got = malloc(outlen), *want = malloc(outlen);
            assert_non_null(got);
            assert_non_null(want);
            size_t gn = report_escape(in, n, modes[m], got, outlen);
            size_t wn = oracle_escape(in, n, modes[m], want, outlen);
            if (gn != wn || memcmp(got, want, wn + 1) != 0) {
                fail_msg("mode %zu, %zu bytes, outlen %zu: got \"%s\", want \"%s\"", m, n, outlen,
                         got, want);
            }
            free(got);
            free(want);
        }
    }
}

// The plain-run fast path (16 bytes at a time) against the old escaper: a special byte or
// sequence at every position of every length 1..64, in plain text and in plain text of
// every printable byte, cut at every buffer size.
static void test_escape_matches_oracle(void **state) {
    (void)state;
    static const char *const specials[] = {
        "\x00",         "\x01",
        "\x1b",         "\x1f",
        "\x7f",         "\\",
        "\"",           "/",
        "\x80",         "\x9b",
        "\xc2",         "\xff",
        "\xc2\x9b",     "\xc2\xa0",
        "\xc3\xa9",     "\xe2\x80\xa6",
        "\xe2\x80\xa8", "\xe2\x80\xa9",
        "\xed\xa0\x80", "\xf0\x9f\x98\x80",
        "\xc0\xaf",     "\xf4\x90\x80\x80",
    };
    uint8_t in[80];
    for (size_t n = 1; n <= 64; n++) {
        for (size_t pos = 0; pos < n; pos++) {
            for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
                for (int bg = 0; bg < 2; bg++) {
                    for (size_t i = 0; i < n; i++) {
                        in[i] = bg ? (uint8_t)(0x20 + (i * 7 + pos) % 95) : (uint8_t)('a' + i % 26);
                        if (in[i] == '\\' || in[i] == 0x7f) {
                            in[i] = 'q';  // the background stays plain in both modes
                        }
                    }
                    // a 1-byte special is written as it is, the 0x00 included
                    size_t sl = k == 0 ? 1 : strlen(specials[k]);
                    size_t len = pos + sl <= n ? n : pos + sl;
                    memcpy(in + pos, specials[k], sl);
                    check_against_oracle(in, len);
                }
            }
        }
        // and all plain: the fast path whole
        for (size_t i = 0; i < n; i++) {
            in[i] = (uint8_t)('A' + i % 26);
        }
        check_against_oracle(in, n);
    }
    check_against_oracle((const uint8_t *)"", 0);
}

static void test_time_format(void **state) {
    (void)state;
    char b[32];
    report_time(0, b);
    assert_string_equal(b, "1970-01-01T00:00:00.000000Z");
    report_time(-1, b);
    assert_string_equal(b, "1969-12-31T23:59:59.999999Z");
    report_time(INT64_C(1764186901123456789), b);
    assert_string_equal(b, "2025-11-26T19:55:01.123456Z");
}

// ref_time: what report_time printed through gmtime_r + strftime + snprintf before it formatted
// by hand; the hand-written path must give the same bytes for every time.
static void ref_time(int64_t ts_ns, char out[32]) {
    int64_t sec = ts_ns / 1000000000, ns = ts_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        sec -= 1;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    assert_non_null(gmtime_r(&tt, &tm));
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%06lldZ", base, (long long)(ns / 1000));
}

static void ref_time_sec(int64_t sec, char out[32]) {
    time_t tt = (time_t)sec;
    struct tm tm;
    assert_non_null(gmtime_r(&tt, &tm));
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void check_time_sec(int64_t sec) {
    char got[32], want[32];
    report_time_sec(sec, got);
    ref_time_sec(sec, want);
    if (strcmp(got, want) != 0) {
        fail_msg("report_time_sec(%lld): %s, strftime: %s", (long long)sec, got, want);
    }
    if (sec > INT64_MIN / 1000000000 + 1 && sec < INT64_MAX / 1000000000 - 1) {
        for (int64_t frac = -1; frac <= 1; frac++) {  // a nanosecond around the second
            int64_t ns = sec * 1000000000 + frac * 999999;
            report_time(ns, got);
            ref_time(ns, want);
            if (strcmp(got, want) != 0) {
                fail_msg("report_time(%lld): %s, strftime: %s", (long long)ns, got, want);
            }
        }
    }
}

// The first and last second of every day from 1890 to 2210 and of every 7th day from year 1 to
// 10100 (leap years of every kind, the years where %Y stops being four digits), and random
// seconds of the range certificates use: the hand formatter against gmtime_r + strftime.
static void test_time_matches_strftime(void **state) {
    (void)state;
    for (int64_t day = -719162; day <= 2969000; day++) {  // 0001-01-01 .. about 10098
        if (day % 7 != 0 && (day < -29220 || day > 87666)) {
            continue;
        }
        check_time_sec(day * 86400);
        check_time_sec(day * 86400 + 86399);
    }
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_time_sec((int64_t)(x % 400000000000u) - 100000000000);
    }
}

// IPv4 by hand against inet_ntop: every value of every octet, and random addresses.
static void test_ip_matches_inet_ntop(void **state) {
    (void)state;
    tls_endpoint e = {.family = 4};
    uint64_t x = 2463534242u;
    for (int i = 0; i < 4 * 256 + 100000; i++) {
        if (i < 4 * 256) {
            memcpy(e.addr, (uint8_t[4]){1, 22, 133, 4}, 4);
            e.addr[i / 256] = (uint8_t)(i % 256);
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(e.addr, &x, 4);
        }
        char got[48], want[48];
        report_ip(&e, got);
        assert_non_null(inet_ntop(AF_INET, e.addr, want, sizeof want));
        assert_string_equal(got, want);
    }
    tls_endpoint v6 = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    char got[48];
    report_ip(&v6, got);
    assert_string_equal(got, "2001:db8::1");
}

static void test_transcript_json_hostile_sni(void **state) {
    (void)state;
    static const char sni[] = "evil\n.example\x1b[2J\xff\xfe.com";
    tls_transcript *t = sample_transcript(sni, sizeof sni - 1);
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_NORMAL);
    report_set_file(r, "cap\xff.pcap");
    assert_true(report_transcript(r, t));
    close_capture(&c, r);

    json_t *j = parse_one(c.buf);
    // control bytes survive as JSON escapes; invalid UTF-8 became "\xNN" text
    assert_string_equal(jget_str(j, "sni"), "evil\n.example\x1b[2J\\xff\\xfe.com");
    assert_string_equal(jget_str(j, "file"), "cap\\xff.pcap");
    assert_null(strstr(c.buf, "\x1b"));  // the raw ESC byte never reaches the output
    json_decref(j);
    free(c.buf);
    free(t);
}

static void test_transcript_json_fields(void **state) {
    (void)state;
    tls_transcript *t = sample_transcript("origin.example.com", 18);
    static const uint8_t der[] = {'a', 'b', 'c'};  // not a certificate: only hashed here
    t->cert.present = true;
    t->cert.num_certs = 2;  // one more than stored: the array lists what was kept
    t->cert.num_stored = 1;
    t->cert.certs[0] = (tls_cert){.der = der, .len = sizeof der};
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_NORMAL);
    report_set_file(r, "a.pcap");
    assert_true(report_transcript(r, t));
    close_capture(&c, r);

    json_t *j = parse_one(c.buf);
    // key order: schema_version, type, file come first
    const char *head =
        "{\"schema_version\":1,\"schema_minor\":1,\"type\":\"connection\",\"file\":\"a.pcap\"";
    assert_true(strncmp(c.buf, head, strlen(head)) == 0);
    assert_int_equal(jget_int(j, "conn_id"), 7);
    json_t *client = json_object_get(j, "client");
    assert_string_equal(jget_str(client, "ip"), "192.0.2.1");
    assert_int_equal(jget_int(client, "port"), 51000);
    assert_int_equal(jget_int(json_object_get(j, "server"), "port"), 443);
    assert_string_equal(jget_str(j, "start"), "2025-11-26T19:55:01.000000Z");
    assert_string_equal(jget_str(j, "end_reason"), "alert");
    assert_true(json_is_true(json_object_get(j, "is_tls")));
    assert_string_equal(jget_str(j, "sni"), "origin.example.com");
    json_t *tls = json_object_get(j, "tls");
    assert_string_equal(jget_str(tls, "version"), "TLSv1.2");
    assert_int_equal(jget_int(tls, "version_code"), 0x0303);
    assert_int_equal(jget_int(tls, "cipher_code"), 0xc02f);
    assert_string_equal(jget_str(tls, "cipher"), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_true(json_is_null(json_object_get(tls, "ja3")));
    json_t *ch = json_object_get(j, "client_hello");
    json_t *ciphers = json_object_get(ch, "ciphers");
    assert_int_equal(json_array_size(ciphers), 2);
    assert_int_equal(jget_int(json_array_get(ciphers, 0), "code"), 0x1301);
    assert_string_equal(jget_str(json_array_get(ciphers, 0), "name"), "TLS_AES_128_GCM_SHA256");
    assert_true(json_is_null(json_object_get(j, "hello_retry_request")));
    json_t *ev = json_object_get(j, "events");
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(jget_str(json_array_get(ev, 0), "kind"), "tcp_syn");
    assert_string_equal(jget_str(json_array_get(ev, 1), "name"), "ClientHello");
    assert_int_equal(jget_int(json_array_get(ev, 1), "code"), 1);
    assert_string_equal(jget_str(json_array_get(ev, 1), "record_version"), "TLSv1.0");
    json_t *alert = json_array_get(ev, 2);
    assert_string_equal(jget_str(alert, "dir"), "c2s");
    assert_string_equal(jget_str(alert, "kind"), "alert");
    assert_string_equal(jget_str(alert, "level"), "fatal");
    assert_string_equal(jget_str(alert, "description"), "unknown_ca");
    assert_int_equal(jget_int(alert, "code"), 48);
    assert_int_equal(jget_int(alert, "frame"), 5);
    assert_int_equal(jget_int(json_object_get(j, "errors"), "count"), 0);
    json_t *certs = json_object_get(j, "certificates");
    assert_int_equal(json_array_size(certs), 1);
    assert_int_equal(jget_int(json_array_get(certs, 0), "length"), 3);
    assert_string_equal(jget_str(json_array_get(certs, 0), "sha256"),  // SHA-256("abc")
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(jget_int(json_object_get(j, "certificate"), "count"), 2);
    json_decref(j);
    free(c.buf);
    free(t);
}

// A ClientHello whose lists were capped: the JSON carries the true counts beside `truncated`;
// an ALPN id is printed with its length, NULs included.
static void test_transcript_json_true_counts(void **state) {
    (void)state;
    tls_transcript *t = sample_transcript("origin.example.com", 18);
    t->ch.truncated = true;
    t->ch.num_ciphers_sent = 300;  // 2 kept (the sample's)
    t->ch.num_extensions_sent = 70;
    t->ch.num_alpn_sent = 20;
    t->ch.num_alpn = 1;  // an id with a NUL inside: shown whole, not cut at the NUL
    memcpy(t->ch.alpn[0], "h2\0x", 5);
    t->ch.alpn_len[0] = 4;
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_NORMAL);
    assert_true(report_transcript(r, t));
    close_capture(&c, r);
    // jansson refuses \u0000 unless told (parse_one does not): look at the bytes, then parse.
    assert_non_null(strstr(c.buf, "\"alpn\":[\"h2\\u0000x\"]"));
    json_error_t err;
    json_t *j = json_loads(c.buf, JSON_ALLOW_NUL, &err);
    assert_non_null(j);
    json_t *ch = json_object_get(j, "client_hello");
    assert_true(json_is_true(json_object_get(ch, "truncated")));
    assert_int_equal(jget_int(ch, "ciphers_count"), 300);
    assert_int_equal(jget_int(ch, "extensions_count"), 70);
    assert_int_equal(jget_int(ch, "alpn_count"), 20);
    json_decref(j);
    free(c.buf);
    free(t);
}

static void test_transcript_text_ladder(void **state) {
    (void)state;
    tls_transcript *t = sample_transcript("origin.example.com", 18);
    capture c;
    report *r = open_report(&c, REPORT_TEXT, REPORT_NORMAL);
    assert_true(report_transcript(r, t));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf,
                           "conn 7  192.0.2.1:51000 \xe2\x86\x92 198.51.100.2:443  SNI "
                           "origin.example.com  TLSv1.2"));
    assert_non_null(strstr(c.buf,
                           "C\xe2\x86\x92S  ClientHello (SNI origin.example.com, "
                           "TLSv1.2, 2 suites)"));
    assert_non_null(strstr(c.buf, "Alert fatal unknown_ca (48)"));
    assert_null(strchr(c.buf, '\x1b'));  // no colour unless asked
    free(c.buf);
    free(t);
}

// A TLS 1.3 ladder names the key shares and the group chosen: the post-quantum hello of
// pcaps/field/pq/ok-nginx-x25519-s2n-2025-pq-hrr.pcap (X25519MLKEM768 + secp256r1 shares), the
// HelloRetryRequest that asks for x25519, the second hello and the ServerHello.
static void test_transcript_text_key_shares(void **state) {
    (void)state;
    tls_transcript *t = sample_transcript("origin.example.com", 18);
    t->ch.num_versions = 1;
    t->ch.versions[0] = 0x0304;
    t->ch.num_key_shares = 2;
    t->ch.key_share_groups[0] = 0x11EC;
    t->ch.key_share_groups[1] = 0x0017;
    t->ch2 = t->ch;
    t->ch2.num_key_shares = 1;
    t->ch2.key_share_groups[0] = 0x001D;
    t->hrr = t->sh;
    t->hrr.is_hrr = true;
    t->hrr.selected_version = 0x0304;
    t->hrr.cipher = 0x1301;
    t->hrr.key_share_group = 0x001D;
    t->sh.selected_version = 0x0304;
    t->sh.cipher = 0x1301;
    t->sh.key_share_group = 0x001D;
    tls_event hello = t->events[1];
    tls_event ev[4] = {hello, hello, hello, hello};
    ev[1].dir = ev[3].dir = TLS_DIR_S2C;
    ev[1].hs_type = ev[3].hs_type = 2;
    for (uint32_t i = 0; i < 4; i++) {
        ev[i].frame = 4 + i;
    }
    memcpy(t->events + 1, ev, sizeof ev);
    t->num_events = 5;
    capture c;
    report *r = open_report(&c, REPORT_TEXT, REPORT_NORMAL);
    assert_true(report_transcript(r, t));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf,
                           "ClientHello (SNI origin.example.com, TLSv1.3, 2 suites, "
                           "key shares X25519MLKEM768 + secp256r1)\n"));
    assert_non_null(strstr(c.buf,
                           "HelloRetryRequest (TLSv1.3, TLS_AES_128_GCM_SHA256, "
                           "asks for x25519)\n"));
    assert_non_null(strstr(c.buf,
                           "ClientHello (SNI origin.example.com, TLSv1.3, 2 suites, "
                           "key share x25519)\n"));
    assert_non_null(strstr(c.buf, "ServerHello (TLSv1.3, TLS_AES_128_GCM_SHA256, x25519)\n"));
    free(c.buf);
    free(t);
}

static verdict *sample_verdict(void) {
    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->conn_id = 12;
    v->client = (tls_endpoint){.family = 4, .addr = {15, 158, 1, 2}, .port = 40000};
    v->server = (tls_endpoint){.family = 4, .addr = {203, 0, 113, 9}, .port = 443};
    v->has_sni = true;
    memset(v->sni, 'a', 200);  // a long hostile name must not break the 80 columns
    memcpy(v->sni + 200, "\n.example.com", 13);
    v->outcome = OUTCOME_FAILED;
    v->aborted_by = PARTY_CLIENT;
    v->has_alert = true;
    v->alert_sender = PARTY_CLIENT;
    v->alert_level = 2;
    v->alert_desc = 45;
    v->alert_frame = 9;
    v->cause = CAUSE_CERT_EXPIRED;
    v->confidence = CONF_HIGH;
    snprintf(v->summary, sizeof v->summary,
             "leaf certificate CN=origin expired 2026-01-01, 329 days before the handshake");
    v->num_evidence = 1;
    snprintf(v->evidence[0].key, sizeof v->evidence[0].key, "not_after");
    snprintf(v->evidence[0].value, sizeof v->evidence[0].value, "2026-01-01T00:00:00Z");
    v->evidence[0].frame = 6;
    v->num_fix = 1;
    snprintf(v->fix[0], sizeof v->fix[0], "Renew the certificate");
    return v;
}

// json_line writes v as one JSON line and returns it (caller frees).
static char *json_line(const verdict *v) {
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_NORMAL);
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    return c.buf;
}

// The first members of a handshake line are kept per thread for the last file: each line must
// name the file current when it was written, through changes of file, a name that needs
// escaping, no file, a name longer than what is kept, and back.
static void test_header_kept_per_file(void **state) {
    (void)state;
    verdict *v = sample_verdict();
    char long_name[3000];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *files[] = {"a.pcap",   "a.pcap", "c.pcap",  "b\"q\\\x01\xff.pcap",
                           NULL,       "a.pcap", long_name, long_name,
                           "a.pcapng", "a.pcap", NULL,      NULL};
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_NORMAL);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        report_set_file(r, files[i]);
        assert_true(report_verdict(r, v));
    }
    close_capture(&c, r);
    const char *line = c.buf;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        char *one = strndup(line, (size_t)(nl - line + 1));
        assert_non_null(one);
        json_t *j = parse_one(one);  // also: exactly jansson's bytes
        json_t *f = json_object_get(j, "file");
        if (files[i] == NULL) {
            assert_true(json_is_null(f));
        } else if (i == 3) {
            assert_string_equal(json_string_value(f), "b\"q\\\x01\\xff.pcap");
        } else {
            assert_string_equal(json_string_value(f), files[i]);
        }
        assert_string_equal(jget_str(j, "type"), "handshake");
        json_decref(j);
        free(one);
        line = nl + 1;
    }
    assert_int_equal(*line, '\0');
    free(c.buf);
    free(v);
}

// A certificate's JSON is kept per thread by fingerprint and place in the chain, and copied into
// later lines: the copy must be the bytes a fresh rendering writes, first in the array or after
// a comma, and a certificate with another place or fingerprint, or none, is rendered afresh.
static void test_certificates_kept_bytes(void **state) {
    (void)state;
    verdict *v = sample_verdict();
    v->num_certs = v->num_certs_sent = 3;
    for (uint32_t i = 0; i < 3; i++) {
        x509_info *x = &v->certs[i];
        x->index = i;
        snprintf(x->subject, sizeof x->subject, "CN=cert %u \"q\" \xc3\xa9 \x01", i);
        snprintf(x->issuer, sizeof x->issuer, "CN=issuer %u", i);
        snprintf(x->sans, sizeof x->sans, "a%u.example,b%u.example", i, i);
        x->not_before = 1700000000 + i;
        x->not_after = 1800000000 + i;
        memset(x->sha256, i == 2 ? 0 : 'a' + (int)i, 64);  // the third: no fingerprint
    }
    char *first = json_line(v);
    char *again = json_line(v);  // every certificate from the kept bytes now
    assert_string_equal(again, first);
    json_t *j = parse_one(first);
    json_t *certs = json_object_get(j, "certificates");
    assert_int_equal(json_array_size(certs), 3);
    assert_string_equal(jget_str(json_array_get(certs, 1), "issuer"), "CN=issuer 1");
    json_decref(j);
    // the same fingerprint at another place, and the first one alone: rendered for what they are
    x509_info c0 = v->certs[0];
    v->certs[0] = v->certs[1];
    v->certs[0].index = 0;
    snprintf(v->certs[0].issuer, sizeof v->certs[0].issuer, "CN=issuer moved");
    v->certs[1] = c0;
    v->certs[1].index = 1;
    char *moved = json_line(v);
    j = parse_one(moved);
    certs = json_object_get(j, "certificates");
    assert_string_equal(jget_str(json_array_get(certs, 0), "issuer"), "CN=issuer moved");
    assert_int_equal(jget_int(json_array_get(certs, 1), "index"), 1);
    assert_string_equal(jget_str(json_array_get(certs, 1), "issuer"), "CN=issuer 0");
    json_decref(j);
    free(first);
    free(again);
    free(moved);
    free(v);
}

// A verdict with every part of its line filled: the parts kept per thread (jmemo.h) must be
// rendered from each of these fields.
static verdict *full_verdict(void) {
    verdict *v = sample_verdict();
    memset(v->sni, 0, sizeof v->sni);  // a line shorter than the writer's buffer: kept whole
    memcpy(v->sni, "origin\x01.example.com", 19);
    v->sni_len = 19;
    v->version = 0x0303;
    v->cipher = 0xc02f;
    snprintf(v->ja3, sizeof v->ja3, "%032d", 3);
    snprintf(v->ja3s, sizeof v->ja3s, "%032d", 4);
    snprintf(v->ja4, sizeof v->ja4, "t13d0412h1_16476d049b0b_6775ac8fe30b");
    snprintf(v->client_network, sizeof v->client_network, "15.158.0.0/16");
    snprintf(v->profile, sizeof v->profile, "cloudfront");
    snprintf(v->profile_why, sizeof v->profile_why, "the default profile \"why\"");
    snprintf(v->failed_step, sizeof v->failed_step, "after server Certificate");
    v->predicted = true;
    v->num_fix = 2;
    snprintf(v->fix[1], sizeof v->fix[1], "Then reload \x01 it");
    v->num_dead_ends = 1;
    snprintf(v->dead_ends[0], sizeof v->dead_ends[0], "not the cipher");
    snprintf(v->check_command, sizeof v->check_command,
             "openssl s_client -connect 203.0.113.9:443 -servername x -showcerts");
    v->num_findings = 2;
    v->findings[0].cause = CAUSE_PROTOCOL_VERSION_MISMATCH;
    snprintf(v->findings[0].text, sizeof v->findings[0].text, "CloudFront might refuse");
    v->findings[1].cause = CAUSE_CERT_EXPIRED;
    snprintf(v->findings[1].text, sizeof v->findings[1].text, "expired \xc3\xa9");
    v->num_certs = v->num_certs_sent = 2;
    for (uint32_t i = 0; i < 2; i++) {
        x509_info *x = &v->certs[i];
        x->index = i;
        snprintf(x->subject, sizeof x->subject, "CN=cert %u", i);
        snprintf(x->issuer, sizeof x->issuer, "CN=issuer %u", i);
        x->not_before = 1700000000 + i;
        x->not_after = 1800000000 + i;
        memset(x->sha256, 'a' + (int)i, 64);
    }
    memset(v->chain_sha256, 'c', 64);
    snprintf(v->verify_error, sizeof v->verify_error, "certificate has expired");
    snprintf(v->trust_store, sizeof v->trust_store, "root.pem: 1 certificate");
    snprintf(v->capture_note, sizeof v->capture_note, "the capture started mid-stream");
    return v;
}

// kept_skips: bytes of a verdict the exactness test leaves alone — the SNI problem (a pointer),
// and a certificate's bytes other than its fingerprint, place and validity (json.c renders a
// certificate known by those from the bytes kept for it: jx509's rule, older than jmemo).
static bool kept_skips(size_t off) {
    size_t p = offsetof(verdict, sni_problem);
    if (off >= p && off < p + sizeof(const char *)) {
        return true;
    }
    size_t c0 = offsetof(verdict, certs);
    if (off < c0 || off >= c0 + sizeof(((verdict *)0)->certs)) {
        return false;
    }
    size_t in = (off - c0) % sizeof(x509_info);
    static const struct {
        size_t at, n;
    } keyed[] = {
        {offsetof(x509_info, index), sizeof(uint32_t)},
        {offsetof(x509_info, not_before), 2 * sizeof(int64_t)},
        {offsetof(x509_info, sha256), 65},
        {offsetof(x509_info, parse_error), 1},
    };
    for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++) {
        if (in >= keyed[i].at && in < keyed[i].at + keyed[i].n) {
            return false;
        }
    }
    return true;
}

// line_in writes v as one line of format fmt and returns it (caller frees).
static char *line_in(const verdict *v, report_format fmt) {
    capture c;
    report *r = open_report(&c, fmt, REPORT_NORMAL);
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    return c.buf;
}

// The parts of a handshake line kept per thread are used only for the inputs they were rendered
// from: with v's parts kept, a verdict that differs from v in any one byte gets the line that a
// rendering with nothing kept gives it (a field missing from a part's key fails here), in JSON
// and in ECS.
static void test_verdict_json_kept_parts_exact(void **state) {
    (void)state;
    static const report_format formats[] = {REPORT_JSON, REPORT_ECS};
    static const jmemo_part parts[][2] = {{JMEMO_HEAD, JMEMO_TAIL},
                                          {JMEMO_ECS_TLS, JMEMO_ECS_TAIL}};
    verdict *v = full_verdict();
    verdict *m = malloc(sizeof *m);
    assert_non_null(m);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        jmemo_clear();
        char *first = line_in(v, formats[f]);
        uint64_t hits[2] = {jmemo_hits(parts[f][0]), jmemo_hits(parts[f][1])};
        char *again = line_in(v, formats[f]);  // from the kept parts
        assert_string_equal(again, first);
        assert_int_equal(jmemo_hits(parts[f][0]), hits[0] + 1);
        assert_int_equal(jmemo_hits(parts[f][1]), hits[1] + 1);
        json_decref(parse_one(first));
        size_t changed = 0;
        for (size_t off = 0; off < sizeof *v; off++) {
            if (kept_skips(off)) {
                continue;
            }
            memcpy(m, v, sizeof *m);
            ((unsigned char *)m)[off] ^= 1;
            free(line_in(v, formats[f]));  // v's parts kept again
            char *kept = line_in(m, formats[f]);
            jmemo_clear();
            char *fresh = line_in(m, formats[f]);
            if (strcmp(kept, fresh) != 0) {
                fail_msg("format %zu, byte %zu of the verdict: kept %s\nfresh %s", f, off, kept,
                         fresh);
            }
            changed += strcmp(fresh, first) != 0;
            free(kept);
            free(fresh);
        }
        assert_true(changed > 700);  // the mutations reach the output (2,243 and 766 bytes)
        free(first);
        free(again);
    }
    free(m);
    free(v);
}

// On a terminal (columns set) the line is cut to its width; in a pipe or file (0) never.
static void test_verdict_text_fits_the_terminal(void **state) {
    (void)state;
    verdict *v = sample_verdict();
    capture c;
    static const unsigned widths[] = {80, 60, 132};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        report *r = open_report_cols(&c, REPORT_TEXT, REPORT_NORMAL, widths[w]);
        assert_true(report_verdict(r, v));
        close_capture(&c, r);
        assert_true(strncmp(c.buf, "FAIL #12 15.158.1.2 \xe2\x86\x92 aaaa", 26) == 0);
        char *nl = strchr(c.buf, '\n');
        assert_non_null(nl);
        assert_null(strchr(nl + 1, '\n'));  // one line
        size_t cols = 0;
        for (const char *p = c.buf; p < nl; p++) {
            cols += ((unsigned char)*p & 0xc0) != 0x80;
        }
        assert_int_equal(cols, widths[w]);  // cut exactly at the width, ending with "…"
        assert_memory_equal(nl - 3, "\xe2\x80\xa6", 3);
        free(c.buf);
    }
    report *r = open_report(&c, REPORT_TEXT, REPORT_NORMAL);  // not a terminal: whole
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_null(strstr(c.buf, "\xe2\x80\xa6"));
    assert_non_null(strstr(c.buf, v->summary));
    free(c.buf);

    // A shorter line keeps its cause id.
    snprintf(v->sni, sizeof v->sni, "origin.example.com");
    r = open_report(&c, REPORT_TEXT, REPORT_NORMAL);
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf, "origin.example.com  cert_expired: leaf certificate"));
    free(c.buf);
    free(v);
}

static void test_verdict_quiet_and_succeeded(void **state) {
    (void)state;
    verdict *v = sample_verdict();
    capture c;
    report *r = open_report(&c, REPORT_TEXT, REPORT_QUIET);
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_int_equal(c.len, 0);
    free(c.buf);

    v->outcome = OUTCOME_SUCCEEDED;  // succeeded: printed only with -v
    r = open_report(&c, REPORT_TEXT, REPORT_NORMAL);
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_int_equal(c.len, 0);
    free(c.buf);
    r = open_report(&c, REPORT_TEXT, REPORT_VERBOSE);
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_true(strncmp(c.buf, "ok   #12 ", 9) == 0);
    free(c.buf);
    free(v);
}

static void test_verdict_json(void **state) {
    (void)state;
    verdict *v = sample_verdict();
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_QUIET);  // JSON ignores -q per handshake
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    json_t *j = parse_one(c.buf);
    assert_string_equal(jget_str(j, "type"), "handshake");
    assert_string_equal(jget_str(j, "outcome"), "failed");
    assert_string_equal(jget_str(j, "cause"), "cert_expired");
    assert_string_equal(jget_str(j, "confidence"), "high");
    assert_string_equal(jget_str(j, "aborted_by"), "client");
    json_t *alert = json_object_get(j, "alert");
    assert_string_equal(jget_str(alert, "description"), "certificate_expired");
    assert_int_equal(jget_int(alert, "code"), 45);
    assert_int_equal(jget_int(json_array_get(json_object_get(j, "evidence"), 0), "frame"), 6);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "fix"), 0)),
                        "Renew the certificate");
    const char *sni = jget_str(j, "sni");
    assert_int_equal(strlen(sni), 213);
    assert_int_equal(sni[200], '\n');
    json_decref(j);
    free(c.buf);
    free(v);
}

// A certificate whose SAN list was capped, and a chain of which not all certificates were kept:
// JSON lists what was kept and carries the true count and the flag; a list that was not capped
// has neither (the goldens stay as they were).
static void test_verdict_json_sans_count(void **state) {
    (void)state;
    verdict *v = sample_verdict();
    v->num_certs = 2;
    memset(v->certs, 0, 2 * sizeof v->certs[0]);
    snprintf(v->certs[0].sans, sizeof v->certs[0].sans, "n0.example,n1.example");
    v->certs[0].num_sans = 10000;
    v->certs[0].num_sans_listed = 2;
    v->certs[0].sans_truncated = true;
    snprintf(v->certs[1].sans, sizeof v->certs[1].sans, "whole.example");
    v->certs[1].num_sans = v->certs[1].num_sans_listed = 1;
    v->num_certs_sent = 12;  // the server sent 12, two were kept
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_QUIET);
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    json_t *j = parse_one(c.buf);
    json_t *certs = json_object_get(j, "certificates");
    json_t *c0 = json_array_get(certs, 0), *c1 = json_array_get(certs, 1);
    assert_int_equal(json_array_size(json_object_get(c0, "sans")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c0, "sans"), 1)),
                        "n1.example");
    assert_int_equal(jget_int(c0, "sans_count"), 10000);
    assert_true(json_is_true(json_object_get(c0, "sans_truncated")));
    assert_null(json_object_get(c1, "sans_count"));
    assert_null(json_object_get(c1, "sans_truncated"));
    assert_int_equal(jget_int(j, "certificates_count"), 12);
    assert_true(json_is_true(json_object_get(j, "certificates_truncated")));
    json_decref(j);
    free(c.buf);
    free(v);
}

static void test_summary_json_and_error(void **state) {
    (void)state;
    verdict *ex = sample_verdict();
    summary_count sni[1];
    memset(sni, 0, sizeof sni);
    snprintf(sni[0].key, sizeof sni[0].key, "bad\xff.example");
    sni[0].ok = 2;
    sni[0].failed = 3;
    sni[0].top_cause = CAUSE_CERT_EXPIRED;
    summary s;
    memset(&s, 0, sizeof s);
    s.connections = 6;
    s.succeeded = 2;
    s.failed = 3;
    s.incomplete = 1;
    s.by_cause[CAUSE_CERT_EXPIRED] = 3;
    s.dominant = CAUSE_CERT_EXPIRED;
    s.first_fail_ns = 0;
    s.last_fail_ns = 1000000000;
    s.num_sni = 1;
    s.by_sni = sni;
    s.intermittent = true;
    snprintf(s.intermittent_sni, sizeof s.intermittent_sni, "bad.example");
    s.intermittent_sni_len = (uint16_t)strlen(s.intermittent_sni);
    s.dominant_example = ex;
    report_input_error e = {"x.pcap", 42, 9000, "truncated record"};
    report_run_info info = {.profile_name = "cloudfront",
                            .profile_version = "1",
                            .num_input_errors = 1,
                            .input_errors = &e};
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_NORMAL);
    assert_true(report_error(r, &e));
    assert_true(report_summary(r, &s, &info));
    close_capture(&c, r);

    char *second = strchr(c.buf, '\n') + 1;
    char *first = strndup(c.buf, (size_t)(second - c.buf));
    json_t *err = parse_one(first);
    free(first);
    assert_string_equal(jget_str(err, "type"), "error");
    assert_int_equal(jget_int(err, "frame"), 42);
    assert_int_equal(jget_int(err, "offset"), 9000);
    json_t *j = parse_one(second);
    assert_string_equal(jget_str(j, "type"), "summary");
    assert_int_equal(jget_int(j, "connections"), 6);
    assert_int_equal(jget_int(j, "failed"), 3);
    assert_int_equal(jget_int(json_object_get(j, "by_cause"), "cert_expired"), 3);
    assert_int_equal(json_object_size(json_object_get(j, "by_cause")), 1);
    assert_string_equal(jget_str(j, "dominant_cause"), "cert_expired");
    assert_string_equal(jget_str(j, "last_failure"), "1970-01-01T00:00:01.000000Z");
    json_t *by_sni = json_array_get(json_object_get(j, "by_sni"), 0);
    assert_string_equal(jget_str(by_sni, "sni"), "bad\\xff.example");
    assert_int_equal(jget_int(by_sni, "failed"), 3);
    assert_string_equal(jget_str(json_object_get(j, "intermittent"), "sni"), "bad.example");
    assert_string_equal(jget_str(json_object_get(j, "profile"), "name"), "cloudfront");
    json_t *ie = json_array_get(json_object_get(j, "input_errors"), 0);
    assert_string_equal(jget_str(ie, "message"), "truncated record");
    json_decref(j);
    json_decref(err);
    free(c.buf);
    free(ex);
}

// Schema minor 1: one shape everywhere — frames{} and community_id in handshake records, typed
// alert evidence beside its prose, "succeeded" beside "ok" in the tables, null for the no-SNI
// bucket, and no frame/offset in an error about a file that never opened.
static void test_json_consistency(void **state) {
    (void)state;
    verdict *v = sample_verdict();
    v->num_evidence = 2;
    snprintf(v->evidence[1].key, sizeof v->evidence[1].key, "alert");
    snprintf(v->evidence[1].value, sizeof v->evidence[1].value, "fatal alert from the client");
    v->evidence[1].frame = v->alert_frame;
    summary_count sni[2];
    memset(sni, 0, sizeof sni);
    snprintf(sni[0].key, sizeof sni[0].key, "(no SNI)");
    sni[0].absent = true;
    sni[0].ok = 4;
    snprintf(sni[1].key, sizeof sni[1].key, "(no SNI)");  // a client may send these bytes
    sni[1].ok = 1;
    summary s;
    memset(&s, 0, sizeof s);
    s.connections = 5;
    s.succeeded = 5;
    s.num_sni = 2;
    s.by_sni = sni;
    s.intermittent = true;  // the handshakes without SNI succeed and fail
    snprintf(s.intermittent_sni, sizeof s.intermittent_sni, "(no SNI)");
    s.intermittent_no_sni = true;
    report_input_error e = {"gone.pcap", 0, 0, "No such file or directory"};
    capture c;
    report *r = open_report(&c, REPORT_JSON, REPORT_NORMAL);
    assert_true(report_verdict(r, v));
    assert_true(report_error(r, &e));
    assert_true(report_summary(r, &s, NULL));
    close_capture(&c, r);

    char *l2 = strchr(c.buf, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    char *one = strndup(c.buf, (size_t)(l2 - c.buf)), *two = strndup(l2, (size_t)(l3 - l2));
    json_t *h = parse_one(one), *err = parse_one(two), *sum = parse_one(l3);
    free(one);
    free(two);
    assert_int_equal(jget_int(h, "schema_minor"), 1);
    assert_int_equal(jget_int(json_object_get(h, "frames"), "first"), v->first_frame);
    // 15.158.1.2:40000 -> 203.0.113.9:443, Community ID v1 seed 0 (computed apart, with
    // Python's hashlib and the spec's byte layout).
    assert_string_equal(jget_str(h, "community_id"), "1:hH0/JnQoLpoPz2vkpCoNfS0ahlI=");
    json_t *ev = json_array_get(json_object_get(h, "evidence"), 1);
    assert_string_equal(jget_str(ev, "kind"), "alert");
    assert_string_equal(jget_str(ev, "text"), "fatal alert from the client");
    assert_int_equal(jget_int(ev, "level"), 2);
    assert_int_equal(jget_int(ev, "description"), 45);
    assert_int_equal(jget_int(ev, "frame"), 9);
    assert_string_equal(jget_str(ev, "sender"), "client");
    json_t *plain = json_array_get(json_object_get(h, "evidence"), 0);
    assert_string_equal(jget_str(plain, "kind"), "not_after");
    assert_null(json_object_get(plain, "level"));  // typed fields only where the facts are
    assert_string_equal(jget_str(err, "type"), "error");
    assert_null(json_object_get(err, "frame"));
    assert_null(json_object_get(err, "offset"));
    json_t *none = json_array_get(json_object_get(sum, "by_sni"), 0);
    assert_true(json_is_null(json_object_get(none, "sni")));
    assert_int_equal(jget_int(none, "succeeded"), 4);
    assert_int_equal(jget_int(none, "ok"), 4);
    assert_true(json_is_null(json_object_get(json_object_get(sum, "intermittent"), "sni")));
    json_t *literal = json_array_get(json_object_get(sum, "by_sni"), 1);
    assert_string_equal(jget_str(literal, "sni"), "(no SNI)");
    json_decref(h);
    json_decref(err);
    json_decref(sum);
    free(c.buf);
    free(v);
}

static void test_summary_text(void **state) {
    (void)state;
    verdict *ex = sample_verdict();
    snprintf(ex->check_command, sizeof ex->check_command,
             "openssl s_client -connect 203.0.113.9:443 -servername origin.example.com");
    summary s;
    memset(&s, 0, sizeof s);
    s.connections = 4;
    s.succeeded = 1;
    s.failed = 3;
    s.predicted = 1;
    s.by_cause[CAUSE_CERT_EXPIRED] = 3;
    s.by_cause[CAUSE_SERVER_RESET] = 1;
    s.by_cause_failed[CAUSE_CERT_EXPIRED] = 2;
    s.by_cause_predicted[CAUSE_CERT_EXPIRED] = 1;
    s.by_cause_failed[CAUSE_SERVER_RESET] = 1;
    s.dominant = CAUSE_CERT_EXPIRED;
    s.dominant_ties = 1;
    s.dominant_example = ex;
    s.example[CAUSE_CERT_EXPIRED] = ex;  // server_reset has no example: its meaning is shown
    capture c;
    report *r = open_report(&c, REPORT_TEXT, REPORT_QUIET);
    assert_true(report_summary(r, &s, NULL));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf, "Summary: 4 connections: 1 succeeded, 3 failed on the wire"));
    assert_non_null(strstr(c.buf, "\n1 of the 1 succeeded handshake would fail for CloudFront\n"));
    char *dom = strstr(c.buf, "cert_expired \xe2\x80\x94");
    char *other = strstr(c.buf, "server_reset \xe2\x80\x94");
    assert_non_null(dom);
    assert_non_null(other);
    assert_true(dom < other);  // dominant cause first
    assert_non_null(strstr(c.buf, "         2           1  cert_expired \xe2\x80\x94"));
    assert_non_null(strstr(c.buf,
                           "Dominant cause: cert_expired (3 of the 4 handshakes that failed "
                           "or would fail: 2 failed on the wire, 1 would fail for "
                           "CloudFront)"));
    assert_non_null(strstr(c.buf, "    1. Renew the certificate\n"));
    assert_non_null(strstr(c.buf, "openssl s_client -connect 203.0.113.9:443"));
    // every cause gets its block, most frequent first
    char *b1 =
        strstr(c.buf, "\n1. cert_expired (2 failed on the wire, 1 would fail for CloudFront)\n");
    char *b2 = strstr(c.buf, "\n2. server_reset (1 failed on the wire)\n");
    assert_non_null(b1);
    assert_non_null(b2);
    assert_true(b1 < b2);
    free(c.buf);

    // a tie names no dominant cause
    s.by_cause_failed[CAUSE_SERVER_RESET] = 3;
    s.by_cause[CAUSE_SERVER_RESET] = 3;
    s.dominant_ties = 2;
    r = open_report(&c, REPORT_TEXT, REPORT_QUIET);
    assert_true(report_summary(r, &s, NULL));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf, "No single dominant cause: 2 causes tie at 3 each\n"));
    assert_null(strstr(c.buf, "Dominant cause"));
    free(c.buf);
    free(ex);
}

static void test_write_error_is_sticky(void **state) {
    (void)state;
    FILE *ro = fopen("/dev/null", "r");  // writes fail: the stream gets its error flag
    assert_non_null(ro);
    report_options o = {.format = REPORT_JSON, .out = ro};
    report *r = report_new(&o);
    assert_non_null(r);
    verdict *v = sample_verdict();
    assert_false(report_verdict(r, v));
    assert_true(report_write_failed(r));
    assert_false(report_verdict(r, v));
    report_free(r);
    fclose(ro);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_text),
        cmocka_unit_test(test_escape_json_mode_and_overlong),
        cmocka_unit_test(test_escape_cuts_with_ellipsis),
        cmocka_unit_test(test_escape_every_small_buffer),
        cmocka_unit_test(test_escape_every_ascii_byte),
        cmocka_unit_test(test_escape_matches_oracle),
        cmocka_unit_test(test_header_kept_per_file),
        cmocka_unit_test(test_certificates_kept_bytes),
        cmocka_unit_test(test_verdict_json_kept_parts_exact),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_matches_strftime),
        cmocka_unit_test(test_ip_matches_inet_ntop),
        cmocka_unit_test(test_transcript_json_hostile_sni),
        cmocka_unit_test(test_transcript_json_fields),
        cmocka_unit_test(test_transcript_json_true_counts),
        cmocka_unit_test(test_transcript_text_ladder),
        cmocka_unit_test(test_verdict_text_fits_the_terminal),
        cmocka_unit_test(test_verdict_quiet_and_succeeded),
        cmocka_unit_test(test_verdict_json),
        cmocka_unit_test(test_verdict_json_sans_count),
        cmocka_unit_test(test_summary_json_and_error),
        cmocka_unit_test(test_json_consistency),
        cmocka_unit_test(test_summary_text),
        cmocka_unit_test(test_transcript_text_key_shares),
        cmocka_unit_test(test_write_error_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
