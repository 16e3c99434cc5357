// test_jsonw.c — report/jsonw: jansson's exact bytes for every string, nesting, commas, integers,
// misuse, and write errors (sticky, nothing written after the first failure).
//
// The reference for strings is what report/ printed before the writer existed: report_escape
// (REPORT_ESC_JSON) and then jansson's json_dumps(JSON_COMPACT). Every byte, every pair of bytes,
// every 4-byte string over the UTF-8 boundary values, and random strings must match it exactly.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <limits.h>

#include "jsonw.h"
#include "report.h"
#include "report_internal.h"

// A memory stream the writer writes into; buf is NUL-terminated after fclose.
typedef struct sink {
    FILE *f;
    char *buf;
    size_t len;
} sink;

static void sink_open(sink *s) {
    s->buf = NULL;
    s->len = 0;
    s->f = open_memstream(&s->buf, &s->len);
    assert_non_null(s->f);
}

static void sink_close(sink *s) {
    assert_int_equal(fclose(s->f), 0);
}

// reference_line: {"s":<string>}\n as report/ printed it through jansson (caller frees).
static char *reference_line(const uint8_t *p, size_t n) {
    size_t cap = n * 4 + 8;
    char *esc = malloc(cap);
    assert_non_null(esc);
    size_t len = report_escape(p, n, REPORT_ESC_JSON, esc, cap);
    json_t *o = json_object();
    json_t *str = json_stringn(esc, len);
    assert_non_null(str);  // report_escape's output is always valid UTF-8
    assert_int_equal(json_object_set_new(o, "s", str), 0);
    char *d = json_dumps(o, JSON_COMPACT);
    assert_non_null(d);
    json_decref(o);
    free(esc);
    char *line = malloc(strlen(d) + 2);
    assert_non_null(line);
    sprintf(line, "%s\n", d);
    free(d);
    return line;
}

// writer_line: the same object through jsonw, written into the open sink s.
static void writer_line(sink *s, const uint8_t *p, size_t n) {
    jsonw w;
    jsonw_begin_line(&w, s->f);
    jsonw_key(&w, "s");
    jsonw_bytes(&w, p, n);
    assert_true(jsonw_end_line(&w));
}

// check_strings compares count strings of length n, string i at in + i * n, in one sink.
static void check_strings(const uint8_t *in, size_t n, size_t count) {
    sink s;
    sink_open(&s);
    for (size_t i = 0; i < count; i++) {
        writer_line(&s, in + i * n, n);
    }
    sink_close(&s);
    const char *got = s.buf;
    for (size_t i = 0; i < count; i++) {
        char *want = reference_line(in + i * n, n);
        size_t wl = strlen(want);
        if (strncmp(got, want, wl) != 0) {
            const char *nl = strchr(got, '\n');
            fail_msg("string %zu of length %zu: want %s got %.*s", i, n, want,
                     nl ? (int)(nl - got + 1) : (int)strlen(got), got);
        }
        got += wl;
        free(want);
    }
    assert_int_equal(*got, '\0');
    free(s.buf);
}

static void test_every_byte(void **state) {
    (void)state;
    uint8_t in[256];
    for (int b = 0; b < 256; b++) {
        in[b] = (uint8_t)b;
    }
    check_strings(in, 1, 256);
}

// check_every_byte_at_every_place: each byte value at each place of a plain string of len
// bytes (filled with first), all 256 * len strings in one sink.
static void check_every_byte_at_every_place(size_t len, char first) {
    uint8_t *in = malloc(256 * len * len);
    assert_non_null(in);
    for (size_t b = 0; b < 256; b++) {
        for (size_t p = 0; p < len; p++) {
            uint8_t *str = in + (b * len + p) * len;
            memset(str, first + (int)(p % 26), len);
            str[p] = (uint8_t)b;
        }
    }
    check_strings(in, len, 256 * len);
    free(in);
}

static void test_every_byte_at_every_place_of_a_long_string(void **state) {
    (void)state;
    // The writer copies plain ASCII eight bytes at a time: each byte value at each of 24 places
    // in a plain string (so at every offset of three 8-byte words) must still be found.
    check_every_byte_at_every_place(24, 'a');
}

static void test_every_byte_at_every_place_of_16_byte_blocks(void **state) {
    (void)state;
    // Strings of 16 bytes or more are copied 16 bytes a step, the last 1..16 bytes as the 16
    // that end the string (overlapping), and at a special byte the byte loop goes on from it:
    // each byte value at each place, for lengths around one, two and three blocks.
    static const size_t lens[] = {16, 17, 31, 32, 33, 47, 48, 49};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        check_every_byte_at_every_place(lens[i], 'a');
    }
}

static void test_every_byte_at_every_place_of_a_short_string(void **state) {
    (void)state;
    // Strings of 4..15 bytes are tested as two overlapping words (the first and last 8 or 4
    // bytes): every byte value at every place of every length 1..16, where the words overlap
    // and where they do not.
    for (size_t len = 1; len <= 16; len++) {
        check_every_byte_at_every_place(len, 'A');
    }
}

static void test_every_control_byte_spelled_out(void **state) {
    (void)state;
    // jansson's spellings: the five short escapes, "\u00XX" with upper-case hex for the rest of
    // C0; '/' and DEL as they are; a lone continuation byte as the text "\x80".
    static const char *const want[0x20] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b",     "\\t",     "\\n",     "\\u000B", "\\f",     "\\r",     "\\u000E", "\\u000F",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001A", "\\u001B", "\\u001C", "\\u001D", "\\u001E", "\\u001F",
    };
    for (int b = 0; b < 0x20; b++) {
        sink s;
        sink_open(&s);
        uint8_t c = (uint8_t)b;
        writer_line(&s, &c, 1);
        sink_close(&s);
        char expect[32];
        snprintf(expect, sizeof expect, "{\"s\":\"%s\"}\n", want[b]);
        assert_string_equal(s.buf, expect);
        free(s.buf);
    }
    sink s;
    sink_open(&s);
    writer_line(&s, (const uint8_t *)"\"\\/\x7f\x80\xc3\xa9", 7);
    sink_close(&s);
    assert_string_equal(s.buf, "{\"s\":\"\\\"\\\\/\x7f\\\\x80\xc3\xa9\"}\n");
    free(s.buf);
}

static void test_every_byte_pair(void **state) {
    (void)state;
    uint8_t *in = malloc(2 * 65536);
    assert_non_null(in);
    for (size_t i = 0; i < 65536; i++) {
        in[2 * i] = (uint8_t)(i >> 8);
        in[2 * i + 1] = (uint8_t)i;
    }
    check_strings(in, 2, 65536);
    free(in);
}

static void test_utf8_boundaries_four_bytes(void **state) {
    (void)state;
    // Every 4-byte string over the values where UTF-8 validity changes (RFC 3629 §4): lead
    // bytes, the overlong and surrogate limits of the second byte, continuation limits.
    static const uint8_t v[] = {0x00, 0x1f, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x8f,
                                0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
                                0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    enum { NV = sizeof v };
    size_t count = (size_t)NV * NV * NV * NV;
    uint8_t *in = malloc(4 * count);
    assert_non_null(in);
    size_t k = 0;
    for (size_t a = 0; a < NV; a++) {
        for (size_t b = 0; b < NV; b++) {
            for (size_t c = 0; c < NV; c++) {
                for (size_t d = 0; d < NV; d++) {
                    in[k++] = v[a];
                    in[k++] = v[b];
                    in[k++] = v[c];
                    in[k++] = v[d];
                }
            }
        }
    }
    check_strings(in, 4, count);
    free(in);
}

static void test_random_strings(void **state) {
    (void)state;
    // Biased towards bytes that matter (controls, quotes, UTF-8 lead and continuation bytes).
    static const uint8_t pick[] = {0x00, 0x09, 0x0a, 0x1b, 0x22, 0x2f, 0x5c, 0x61, 0x7f, 0x80,
                                   0xa0, 0xbf, 0xc2, 0xc3, 0xe0, 0xe2, 0xed, 0xf0, 0xf4, 0xff};
    uint32_t seed = 12345;
    enum { N = 48, COUNT = 4000 };
    uint8_t *in = malloc((size_t)N * COUNT);
    assert_non_null(in);
    for (size_t i = 0; i < (size_t)N * COUNT; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t x = seed >> 8;
        in[i] = (x & 1) ? pick[(x >> 1) % sizeof pick] : (uint8_t)(x >> 9);
    }
    check_strings(in, N, COUNT);
    free(in);
}

// one_string: {"s":<s[0..n) through jsonw_bytes or jsonw_plain>}\n (caller frees).
static char *one_string(const char *p, size_t n, bool plain) {
    sink s;
    sink_open(&s);
    jsonw w;
    jsonw_begin_line(&w, s.f);
    JSONW_KEY(&w, "s");
    plain ? jsonw_plain(&w, p, n) : jsonw_bytes(&w, p, n);
    assert_true(jsonw_end_line(&w));
    sink_close(&s);
    return s.buf;
}

// jsonw_is_plain says yes for a byte exactly when the escaping path prints it as itself, alone
// and at every place of a plain string; and jsonw_plain then prints what jsonw_bytes prints.
static void test_is_plain_every_byte(void **state) {
    (void)state;
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        char *esc = one_string(&c, 1, false);
        char want[16];
        snprintf(want, sizeof want, "{\"s\":\"%c\"}\n", c);
        bool as_itself = b != 0 && strcmp(esc, want) == 0;
        assert_int_equal(jsonw_is_plain(&c, 1), as_itself);
        if (as_itself) {
            char *pl = one_string(&c, 1, true);
            assert_string_equal(pl, esc);
            free(pl);
        }
        free(esc);
        char str[40];
        for (size_t at = 0; at < sizeof str; at++) {
            memset(str, 'a', sizeof str);
            str[at] = c;
            assert_int_equal(jsonw_is_plain(str, sizeof str), as_itself);
        }
    }
    assert_true(jsonw_is_plain("", 0));
}

static void assert_plain(const char *s) {
    if (s != NULL && !jsonw_is_plain(s, strlen(s))) {
        fail_msg("not plain: %s", s);
    }
}

// Every name table and formatter that report/ writes through jsonw_plain gives plain strings.
static void test_plain_sources(void **state) {
    (void)state;
    for (int c = 0; c < CAUSE__COUNT; c++) {
        assert_plain(cause_name((cause_id)c));
    }
    for (int i = 0; i <= OUTCOME_NOT_TLS; i++) {
        assert_plain(verdict_outcome_name((verdict_outcome)i));
    }
    for (int i = 0; i <= PARTY_CAPTURE; i++) {
        assert_plain(verdict_party_name((verdict_party)i));
    }
    for (int i = 0; i <= CONF_HIGH; i++) {
        assert_plain(verdict_confidence_name((verdict_confidence)i));
    }
    for (int i = 0; i <= METHOD_CONFIG; i++) {
        assert_plain(verdict_method_name((verdict_method)i));
    }
    char buf[64];
    for (unsigned v = 0; v <= 0xffff; v++) {
        assert_plain(tls_cipher_name((uint16_t)v));
        assert_plain(fmt_version((uint16_t)v, buf));
        // json.c's jcode_name/jnamed_list tables (key share, groups, signature schemes,
        // extensions, versions) go through jname, the unescaped path, too.
        assert_plain(tls_group_name((uint16_t)v));
        assert_plain(tls_sigalg_name((uint16_t)v));
        assert_plain(tls_extension_name((uint16_t)v));
        assert_plain(tls_version_name((uint16_t)v));
    }
    for (unsigned v = 0; v <= 0xff; v++) {
        assert_plain(tls_alert_name((uint8_t)v));
        assert_plain(tls_handshake_name((uint8_t)v));
        assert_plain(sslv2_msg_name((uint8_t)v));
    }
    // Nanoseconds (connection times) and seconds (certificate dates), the extremes included:
    // years before 1 and after 9999 take the slow formatters' paths.
    static const int64_t times[] = {INT64_MIN,    -62135596801,        -1,       0, 1,
                                    253402300800, 1709294400123456789, INT64_MAX};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        report_time(times[i], buf);
        assert_plain(buf);
        report_time_sec(times[i], buf);
        assert_plain(buf);
    }
    srand(7);
    for (int i = 0; i < 2000; i++) {
        tls_endpoint a = {0}, b = {0};
        a.family = b.family = i % 2 ? 6 : 4;
        for (size_t k = 0; k < sizeof a.addr; k++) {
            a.addr[k] = (uint8_t)rand();
            b.addr[k] = (uint8_t)rand();
        }
        a.port = (uint16_t)rand();
        b.port = (uint16_t)rand();
        char id[REPORT_COMMUNITY_ID_LEN];
        assert_true(report_community_id_tcp(&a, &b, id));
        assert_plain(id);
        report_ip_text ia, ib;
        report_ip_text_of(&a, &ia);
        report_ip_text_of(&b, &ib);
        assert_true(jsonw_is_plain(ia.s, ia.n));
        char filter[REPORT_WIRESHARK_FILTER_LEN];
        size_t n = report_wireshark_filter_ips(&a, &ia, &b, &ib, filter);
        assert_true(jsonw_is_plain(filter, n));
    }
}

static void test_nesting_and_commas(void **state) {
    (void)state;
    sink s;
    sink_open(&s);
    jsonw w;
    jsonw_begin_line(&w, s.f);
    jsonw_key(&w, "a");
    jsonw_array_begin(&w);
    jsonw_int(&w, 1);
    jsonw_array_begin(&w);
    jsonw_array_end(&w);
    jsonw_object_begin(&w);
    jsonw_object_end(&w);
    jsonw_object_begin(&w);
    jsonw_key(&w, "b");
    jsonw_null(&w);
    jsonw_key(&w, "c");
    jsonw_string(&w, NULL);
    jsonw_object_end(&w);
    jsonw_string(&w, "");
    jsonw_array_end(&w);
    jsonw_key(&w, "d");
    jsonw_object_begin(&w);
    jsonw_key(&w, "e");
    jsonw_array_begin(&w);
    jsonw_bool(&w, true);
    jsonw_bool(&w, false);
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    jsonw_key(&w, "k\"\n");  // keys are escaped like strings
    jsonw_bytes(&w, "x\0y", 3);
    assert_true(jsonw_end_line(&w));
    jsonw_begin_line(&w, s.f);  // an empty object on the next line
    assert_true(jsonw_end_line(&w));
    sink_close(&s);
    assert_string_equal(s.buf,
                        "{\"a\":[1,[],{},{\"b\":null,\"c\":null},\"\"],\"d\":{\"e\":[true,false]},"
                        "\"k\\\"\\n\":\"x\\u0000y\"}\n{}\n");
    // and jansson reads it back and prints the same bytes
    char *first = strndup(s.buf, (size_t)(strchr(s.buf, '\n') - s.buf));
    json_error_t err;
    json_t *j = json_loads(first, JSON_ALLOW_NUL, &err);
    assert_non_null(j);
    char *again = json_dumps(j, JSON_COMPACT);
    assert_string_equal(again, first);
    free(again);
    json_decref(j);
    free(first);
    free(s.buf);
}

static void test_deepest_nesting(void **state) {
    (void)state;
    sink s;
    sink_open(&s);
    jsonw w;
    jsonw_begin_line(&w, s.f);  // depth 1
    jsonw_key(&w, "a");
    for (int i = 1; i < JSONW_MAX_DEPTH; i++) {
        jsonw_array_begin(&w);
    }
    for (int i = 1; i < JSONW_MAX_DEPTH; i++) {
        jsonw_array_end(&w);
    }
    assert_true(jsonw_end_line(&w));
    jsonw_begin_line(&w, s.f);
    jsonw_key(&w, "a");
    for (int i = 0; i < JSONW_MAX_DEPTH; i++) {  // one level too many
        jsonw_array_begin(&w);
    }
    for (int i = 0; i < JSONW_MAX_DEPTH; i++) {
        jsonw_array_end(&w);
    }
    assert_false(jsonw_end_line(&w));
    sink_close(&s);
    assert_int_equal(strncmp(s.buf, "{\"a\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}\n", 37), 0);
    free(s.buf);
}

// Every integer from -1,000 to 1,100,000 (the in-place path for 0..99,999, its edges, and the
// general one on both sides), each on its own line, against printf's "%lld".
static void test_every_small_integer(void **state) {
    (void)state;
    sink s;
    sink_open(&s);
    for (long long v = -1000; v <= 1100000; v++) {
        jsonw w;
        jsonw_begin_line(&w, s.f);
        JSONW_KEY(&w, "v");
        jsonw_int(&w, v);
        assert_true(jsonw_end_line(&w));
    }
    sink_close(&s);
    const char *p = s.buf;
    char want[64];
    for (long long v = -1000; v <= 1100000; v++) {
        int n = snprintf(want, sizeof want, "{\"v\":%lld}\n", v);
        if (strncmp(p, want, (size_t)n) != 0) {
            fail_msg("jsonw_int(%lld): %.*s", v, n, p);
        }
        p += n;
    }
    assert_int_equal(*p, '\0');
    free(s.buf);
}

static void test_integer_extremes(void **state) {
    (void)state;
    static const long long v[] = {0,
                                  1,
                                  -1,
                                  9,
                                  10,
                                  -10,
                                  255,
                                  65535,
                                  INT32_MAX,
                                  INT32_MIN,
                                  (long long)UINT32_MAX,
                                  1000000000000LL,
                                  LLONG_MAX,
                                  LLONG_MIN};
    sink s;
    sink_open(&s);
    jsonw w;
    jsonw_begin_line(&w, s.f);
    jsonw_key(&w, "v");
    jsonw_array_begin(&w);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        jsonw_int(&w, v[i]);
    }
    jsonw_array_end(&w);
    assert_true(jsonw_end_line(&w));
    sink_close(&s);
    // jansson's reference for the same array
    json_t *o = json_object();
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        json_array_append_new(a, json_integer(v[i]));
    }
    json_object_set_new(o, "v", a);
    char *d = json_dumps(o, JSON_COMPACT);
    assert_non_null(d);
    char want[512];
    snprintf(want, sizeof want, "%s\n", d);
    assert_string_equal(s.buf, want);
    assert_non_null(strstr(s.buf, "9223372036854775807,-9223372036854775808]"));
    free(d);
    json_decref(o);
    free(s.buf);
}

// JSONW_KEY (the key's quoted bytes made by the compiler, copied inline) writes what jsonw_key
// writes: first and later members, nested objects, and keys that cross the staging buffer's
// end at every offset; and it fails the line where jsonw_key does.
// KEY: the key through JSONW_KEY or through jsonw_key, as `literal` says.
#define KEY(w, lit) (literal ? JSONW_KEY((w), lit) : jsonw_key((w), lit))

static void write_keys(sink *s, size_t pad, bool literal) {
    jsonw w;
    jsonw_begin_line(&w, s->f);
    char filler[JSONW_BUF];
    memset(filler, 'x', sizeof filler);
    KEY(&w, "pad");
    jsonw_bytes(&w, filler, pad);
    for (int i = 0; i < 3; i++) {
        KEY(&w, "schema_version");
        jsonw_int(&w, i);
        KEY(&w, "o");
        jsonw_object_begin(&w);
        KEY(&w, "a");
        jsonw_null(&w);
        KEY(&w, "b_2");
        jsonw_bool(&w, true);
        jsonw_object_end(&w);
    }
    assert_true(jsonw_end_line(&w));
}
#undef KEY

static void test_literal_keys_match(void **state) {
    (void)state;
    for (size_t pad = JSONW_BUF - 80; pad < JSONW_BUF; pad++) {
        sink a, b;
        sink_open(&a);
        sink_open(&b);
        write_keys(&a, pad, true);
        write_keys(&b, pad, false);
        sink_close(&a);
        sink_close(&b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.buf, b.buf, a.len);
        free(a.buf);
        free(b.buf);
    }
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    jsonw w;
    jsonw_begin_line(&w, f);
    JSONW_KEY(&w, "a");
    JSONW_KEY(&w, "b");  // a key after a key
    jsonw_int(&w, 1);
    assert_false(jsonw_end_line(&w));
    jsonw_begin_line(&w, f);
    JSONW_KEY(&w, "a");
    jsonw_array_begin(&w);
    JSONW_KEY(&w, "b");  // a key inside an array
    jsonw_array_end(&w);
    assert_false(jsonw_end_line(&w));
    assert_int_equal(fclose(f), 0);
}

static void test_misuse_fails_the_line(void **state) {
    (void)state;
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    jsonw w;
    jsonw_begin_line(&w, f);
    jsonw_int(&w, 1);  // a value where a key is due
    assert_false(jsonw_end_line(&w));
    jsonw_begin_line(&w, f);
    jsonw_key(&w, "a");
    jsonw_array_begin(&w);
    jsonw_key(&w, "b");  // a key inside an array
    jsonw_array_end(&w);
    assert_false(jsonw_end_line(&w));
    jsonw_begin_line(&w, f);
    jsonw_key(&w, "a");
    jsonw_array_begin(&w);  // never closed
    assert_false(jsonw_end_line(&w));
    jsonw_begin_line(&w, f);
    jsonw_key(&w, "a");
    jsonw_array_begin(&w);
    jsonw_object_end(&w);  // closes the wrong kind
    assert_false(jsonw_end_line(&w));
    jsonw_begin_line(&w, f);
    jsonw_key(&w, "a");  // a key without its value
    assert_false(jsonw_end_line(&w));
    jsonw_begin_line(&w, f);  // and a good line after all that
    jsonw_key(&w, "a");
    jsonw_int(&w, 1);
    assert_true(jsonw_end_line(&w));
    assert_int_equal(fclose(f), 0);
}

// A stream that accepts writes while they fit in `budget` bytes, then fails every write (all or
// nothing, so stdio does not retry the rest of a short write), counting the calls.
typedef struct budget_stream {
    size_t budget;
    size_t written;
    char data[3 * JSONW_BUF];
    int writes_after_failure;
    bool failed;
} budget_stream;

static ssize_t budget_write(void *cookie, const char *buf, size_t size) {
    budget_stream *b = cookie;
    if (b->failed) {
        b->writes_after_failure++;
    }
    if (size > b->budget - b->written) {
        b->failed = true;
        return 0;  // the error return of a cookie write (fopencookie(3): never negative)
    }
    memcpy(b->data + b->written, buf, size);
    b->written += size;
    return (ssize_t)size;
}

static void write_long_line(jsonw *w, FILE *f) {
    jsonw_begin_line(w, f);
    jsonw_key(w, "list");
    jsonw_array_begin(w);
    for (int i = 0; i < 500; i++) {  // about 16 KB: several blocks of JSONW_BUF
        jsonw_string(w, "a string of some length");
        jsonw_int(w, i);
    }
    jsonw_array_end(w);
}

static void test_write_error_stops_the_line(void **state) {
    (void)state;
    // Unbuffered, so every write reaches the cookie: the writer must stop at the first failure.
    sink want;
    sink_open(&want);
    jsonw w;
    write_long_line(&w, want.f);
    assert_true(jsonw_end_line(&w));
    sink_close(&want);
    assert_true(want.len > 3 * JSONW_BUF);
    static const size_t budgets[] = {0, 1, 7, 100, JSONW_BUF - 1, JSONW_BUF, 2 * JSONW_BUF + 5};
    for (size_t k = 0; k < sizeof budgets / sizeof budgets[0]; k++) {
        size_t budget = budgets[k];
        budget_stream b = {.budget = budget};
        cookie_io_functions_t io = {.write = budget_write};
        FILE *f = fopencookie(&b, "w", io);
        assert_non_null(f);
        assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
        write_long_line(&w, f);
        assert_false(jsonw_end_line(&w));
        assert_true(b.failed);
        assert_int_equal(b.written, budget / JSONW_BUF * JSONW_BUF);  // whole blocks only
        assert_memory_equal(b.data, want.buf, b.written);  // what got out is the line's start
        assert_int_equal(b.writes_after_failure, 0);
        fclose(f);
    }
    free(want.buf);
}

static void test_dev_full(void **state) {
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    assert_non_null(f);
    assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
    jsonw w;
    jsonw_begin_line(&w, f);
    jsonw_key(&w, "a");
    jsonw_int(&w, 1);
    assert_false(jsonw_end_line(&w));
    assert_true(ferror(f));
    fclose(f);

    // Buffered: a line larger than the stdio buffer fails while it is being written.
    f = fopen("/dev/full", "w");
    assert_non_null(f);
    write_long_line(&w, f);
    for (int i = 0; i < 400; i++) {
        jsonw_key(&w, "k");
        jsonw_string(&w, "0123456789012345678901234567890123456789");
    }
    assert_false(jsonw_end_line(&w));
    fclose(f);
}

static void test_tiny_fmemopen(void **state) {
    (void)state;
    char buf[16];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
    jsonw w;
    write_long_line(&w, f);
    assert_false(jsonw_end_line(&w));
    fclose(f);
}

// jsonw_repeat writes a staged value again byte for byte (escapes included), and refuses, writing
// nothing, once the value has left the staging buffer (a long line flushed it).
// jsonw_field (the string up to the first NUL of a fixed array, in one pass) must write what
// jsonw_bytes(strnlen(...)) writes: a NUL and a special byte or sequence at every position of
// arrays of 1..64 bytes (exact-size heap copies: ASan catches a read past the array), bytes
// after the NUL that would need escaping, and a staging buffer nearly full, so the copy stops
// for a flush at every place.
static void field_pair(const char *arr, size_t cap, size_t fill) {
    static uint8_t pad[JSONW_BUF];
    memset(pad, 'p', sizeof pad);
    assert_true(fill <= sizeof pad);
    sink a, b;
    sink_open(&a);
    sink_open(&b);
    char *heap = malloc(cap);
    assert_non_null(heap);
    memcpy(heap, arr, cap);
    jsonw w;
    jsonw_begin_line(&w, a.f);
    JSONW_KEY(&w, "pad");
    jsonw_bytes(&w, pad, fill);
    JSONW_KEY(&w, "s");
    jsonw_field(&w, heap, cap);
    assert_true(jsonw_end_line(&w));
    jsonw_begin_line(&w, b.f);
    JSONW_KEY(&w, "pad");
    jsonw_bytes(&w, pad, fill);
    JSONW_KEY(&w, "s");
    jsonw_bytes(&w, heap, strnlen(heap, cap));
    assert_true(jsonw_end_line(&w));
    sink_close(&a);
    sink_close(&b);
    if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0) {
        fail_msg("cap %zu fill %zu: got %s want %s", cap, fill, a.buf, b.buf);
    }
    free(heap);
    free(a.buf);
    free(b.buf);
}

static void test_field_matches_strnlen(void **state) {
    (void)state;
    static const char *const specials[] = {"\x01",         "\"",       "\\",
                                           "\x7f",         "\xff",     "\xc3\xa9",
                                           "\xe2\x80\xa8", "\xe2\x80", "\xf0\x9f\x98\x80"};
    char arr[80];
    for (size_t cap = 1; cap <= 64; cap++) {
        for (size_t nul = 0; nul <= cap; nul++) {  // nul == cap: no NUL in the array
            for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
                for (size_t at = 0; at < cap; at += 3) {
                    for (size_t i = 0; i < cap; i++) {
                        arr[i] = (char)('a' + (i + at) % 26);
                    }
                    size_t sl = strlen(specials[k]);
                    memcpy(arr + at, specials[k], at + sl <= cap ? sl : cap - at);
                    if (nul < cap) {
                        arr[nul] = '\0';
                    }
                    field_pair(arr, cap, 0);
                }
            }
        }
    }
    // The staging buffer full at every place of a 64-byte field: the line's start
    // ({"pad":"<fill bytes>","s":") leaves the field 0..120 bytes before the flush.
    for (size_t i = 0; i < 64; i++) {
        arr[i] = (char)(i % 5 == 0 ? '"' : 'x');
    }
    arr[50] = '\0';
    for (size_t fill = JSONW_BUF - 140; fill <= JSONW_BUF - 10; fill++) {
        field_pair(arr, 64, fill);
    }
}

// jsonw_members_bytes: finished members into the open object, with a comma only after others;
// outside an object (top level, an array) or where a value is due it fails the line.
static void test_members_bytes(void **state) {
    (void)state;
    sink s;
    sink_open(&s);
    jsonw w;
    jsonw_begin_line(&w, s.f);
    jsonw_members_bytes(&w, "\"a\":1,\"b\":\"x\"", 13);
    JSONW_KEY(&w, "c");
    jsonw_object_begin(&w);
    JSONW_KEY(&w, "d");
    jsonw_int(&w, 2);
    jsonw_members_bytes(&w, "\"e\":[]", 6);
    jsonw_members_bytes(&w, "", 0);
    jsonw_object_end(&w);
    assert_true(jsonw_end_line(&w));
    sink_close(&s);
    assert_string_equal(s.buf, "{\"a\":1,\"b\":\"x\",\"c\":{\"d\":2,\"e\":[]}}\n");
    free(s.buf);

    sink_open(&s);
    jsonw_begin_line(&w, s.f);
    JSONW_KEY(&w, "k");
    jsonw_members_bytes(&w, "\"a\":1", 5);  // a value is due
    assert_false(jsonw_end_line(&w));
    jsonw_begin_line(&w, s.f);
    JSONW_KEY(&w, "k");
    jsonw_array_begin(&w);
    jsonw_members_bytes(&w, "\"a\":1", 5);  // inside an array
    jsonw_array_end(&w);
    assert_false(jsonw_end_line(&w));
    sink_close(&s);
    free(s.buf);
}

static void test_repeat(void **state) {
    (void)state;
    static const char v[] = "a\"b\\c\n\x01\xff\xc3\xa9";
    sink s;
    sink_open(&s);
    jsonw w;
    jsonw_begin_line(&w, s.f);
    JSONW_KEY(&w, "a");
    jsonw_mark from = jsonw_mark_here(&w);
    jsonw_string(&w, v);
    jsonw_mark to = jsonw_mark_here(&w);
    JSONW_KEY(&w, "b");
    assert_true(jsonw_repeat(&w, from, to));
    JSONW_KEY(&w, "c");
    jsonw_array_begin(&w);
    jsonw_string(&w, "x");
    assert_true(jsonw_repeat(&w, from, to));  // inside an array: after a comma
    jsonw_array_end(&w);
    char big[JSONW_BUF + 16];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    JSONW_KEY(&w, "d");
    jsonw_string(&w, big);  // flushes: the marks are gone
    JSONW_KEY(&w, "e");
    assert_false(jsonw_repeat(&w, from, to));
    jsonw_null(&w);
    assert_true(jsonw_end_line(&w));
    sink_close(&s);
    const char *want_head = "{\"a\":\"a\\\"b\\\\c\\n\\u0001\\\\xff\u00e9\"";
    char want[256];
    const char *val = want_head + 5;  // the quoted value
    snprintf(want, sizeof want, "%s,\"b\":%s,\"c\":[\"x\",%s],\"d\":", want_head, val, val);
    assert_int_equal(strncmp(s.buf, want, strlen(want)), 0);
    assert_non_null(strstr(s.buf, "\"e\":null}\n"));
    free(s.buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeat),
        cmocka_unit_test(test_members_bytes),
        cmocka_unit_test(test_field_matches_strnlen),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_every_byte_at_every_place_of_a_long_string),
        cmocka_unit_test(test_every_byte_at_every_place_of_a_short_string),
        cmocka_unit_test(test_every_byte_at_every_place_of_16_byte_blocks),
        cmocka_unit_test(test_every_control_byte_spelled_out),
        cmocka_unit_test(test_every_byte_pair),
        cmocka_unit_test(test_utf8_boundaries_four_bytes),
        cmocka_unit_test(test_random_strings),
        cmocka_unit_test(test_is_plain_every_byte),
        cmocka_unit_test(test_plain_sources),
        cmocka_unit_test(test_nesting_and_commas),
        cmocka_unit_test(test_deepest_nesting),
        cmocka_unit_test(test_integer_extremes),
        cmocka_unit_test(test_every_small_integer),
        cmocka_unit_test(test_literal_keys_match),
        cmocka_unit_test(test_misuse_fails_the_line),
        cmocka_unit_test(test_write_error_stops_the_line),
        cmocka_unit_test(test_dev_full),
        cmocka_unit_test(test_tiny_fmemopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
