// test_tls_conn.c — record layer, handshake reassembly, sniffing and decisions
// (dissect/tls_conn.c), driven with byte streams per direction (no packets).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "internal.h"
#include "tls_fixtures.h"
#include "tls_internal.h"

static dissect_config cfg;

static tls_transcript *new_transcript(void) {
    tls_transcript *t = calloc(1, sizeof *t);
    assert_non_null(t);
    return t;
}

static void free_transcript(tls_transcript *t) {
    tls_certificate_clear(&t->cert);
    tls_certificate_clear(&t->client_cert);
    free(t);
}

static tls_conn *new_conn(tls_transcript *t) {
    memset(&cfg, 0, sizeof cfg);
    dissect_config_default(&cfg);
    tls_conn *c = tls_conn_new(t, &cfg);
    assert_non_null(c);
    return c;
}

// feed sends n bytes of one direction in chunks of `chunk` (0: all at once).
static void feed(tls_conn *c, tls_dir dir, const uint8_t *p, size_t n, size_t chunk,
                 uint32_t frame) {
    tls_meta m = {frame, (int64_t)frame * 1000};
    if (chunk == 0) {
        tls_conn_feed(c, dir, p, n, &m);
        return;
    }
    for (size_t i = 0; i < n; i += chunk) {
        tls_conn_feed(c, dir, p + i, n - i < chunk ? n - i : chunk, &m);
    }
}

// hs appends one handshake message header (type, uint24 length) + body to x.
static void hs(bb *x, unsigned type, const uint8_t *body, size_t n) {
    bb_u8(x, type);
    bb_u24(x, (unsigned)n);
    bb_bytes(x, body, n);
}

// A TLS 1.2 server flight: ServerHello, Certificate (one cert of cert_len bytes),
// ServerKeyExchange (ECDHE secp256r1), ServerHelloDone — as handshake bytes, not yet records.
static void server_flight(bb *x, size_t cert_len) {
    static bb m;
    m.n = 0;
    bb_u16(&m, 0x0303);
    bb_fill(&m, 0x22, 32);
    bb_u8(&m, 0);
    bb_u16(&m, 0xc02f);
    bb_u8(&m, 0);
    bb_u16(&m, 0);  // empty extensions block
    hs(x, 2, m.b, m.n);
    m.n = 0;
    bb_u24(&m, (unsigned)cert_len + 3);
    bb_u24(&m, (unsigned)cert_len);
    for (size_t i = 0; i < cert_len; i++) {
        bb_u8(&m, (unsigned)(i * 7 + 1));
    }
    hs(x, 11, m.b, m.n);
    m.n = 0;
    bb_u8(&m, 3);
    bb_u16(&m, 0x0017);
    bb_u8(&m, 65);
    bb_fill(&m, 0x04, 65);
    bb_u16(&m, 0x0401);
    bb_u16(&m, 16);
    bb_fill(&m, 0x99, 16);
    hs(x, 12, m.b, m.n);
    hs(x, 14, NULL, 0);
}

typedef struct stream12 {
    bb c2s1, s2c1, c2s2, s2c2, c2s3, s2c3;  // ..., the request, the response
} stream12;

// A complete TLS 1.2 handshake, record by record; the server flight in records of `frag`.
static void build_tls12(stream12 *s, size_t frag, size_t cert_len) {
    static bb flight;
    memset(s, 0, sizeof *s);
    bb_bytes(&s->c2s1, chrome_ch_record, sizeof chrome_ch_record);
    flight.n = 0;
    server_flight(&flight, cert_len);
    bb_records(&s->s2c1, 22, 0x0303, flight.b, flight.n, frag);
    static const uint8_t cke[] = {0x10, 0x00, 0x00, 0x03, 0x02, 0xab, 0xcd};
    bb_records(&s->c2s2, 22, 0x0303, cke, sizeof cke, 16384);
    bb_records(&s->c2s2, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
    static uint8_t fin[40];
    memset(fin, 0x5a, sizeof fin);
    bb_records(&s->c2s2, 22, 0x0303, fin, sizeof fin, 16384);
    bb_records(&s->s2c2, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
    bb_records(&s->s2c2, 22, 0x0303, fin, sizeof fin, 16384);
    bb_records(&s->c2s3, 23, 0x0303, fin, sizeof fin, 16384);
    bb_records(&s->s2c3, 23, 0x0303, fin, sizeof fin, 16384);
}

static void run_tls12(tls_conn *c, const stream12 *s, size_t chunk) {
    feed(c, TLS_DIR_C2S, s->c2s1.b, s->c2s1.n, chunk, 1);
    feed(c, TLS_DIR_S2C, s->s2c1.b, s->s2c1.n, chunk, 2);
    feed(c, TLS_DIR_C2S, s->c2s2.b, s->c2s2.n, chunk, 3);
    feed(c, TLS_DIR_S2C, s->s2c2.b, s->s2c2.n, chunk, 4);
    feed(c, TLS_DIR_C2S, s->c2s3.b, s->c2s3.n, chunk, 5);
    feed(c, TLS_DIR_S2C, s->s2c3.b, s->s2c3.n, chunk, 6);
}

static int count_events(const tls_transcript *t, tls_event_kind kind, int hs_type) {
    int n = 0;
    for (uint32_t i = 0; i < t->num_events; i++) {
        n += t->events[i].kind == kind && (hs_type < 0 || t->events[i].hs_type == hs_type);
    }
    return n;
}

static void test_tls12_handshake_completes(void **state) {
    (void)state;
    static stream12 s;
    build_tls12(&s, 16384, 300);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    run_tls12(c, &s, 0);
    tls_end_reason r;
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_HANDSHAKE_DONE);
    assert_true(t->is_tls);
    assert_true(t->ch.present);
    assert_int_equal(t->ch.record_version, 0x0301);
    assert_int_equal(t->ch.segments, 1);  // the hello came in one segment
    assert_string_equal(t->ja3, CHROME_CH_JA3);
    assert_string_equal(t->ja4, CHROME_CH_JA4);
    assert_true(t->sh.present);
    assert_int_equal(t->sh.cipher, 0xc02f);
    assert_int_equal(t->ja3s[0] != '\0', 1);
    assert_true(t->cert.present);
    assert_int_equal(t->cert.num_stored, 1);
    assert_int_equal(t->cert.certs[0].len, 300);
    assert_int_equal(t->ske.kind, 1);
    assert_int_equal(t->ske.group, 0x0017);
    assert_true(t->server_hello_done && t->client_key_exchange);
    assert_true(t->ccs[0] && t->ccs[1]);
    assert_int_equal(count_events(t, TLS_EV_ENCRYPTED_HANDSHAKE, -1), 2);
    assert_int_equal(t->app_records[0], 1);
    assert_int_equal(t->app_bytes[0], 40);
    assert_int_equal(t->num_errors, 0);
    // After the CCS: a 26-byte alert record is protected, a 2-byte one cannot be.
    static bb x;
    static const uint8_t enc_alert[26] = {0};
    x.n = 0;
    bb_records(&x, 21, 0x0303, enc_alert, sizeof enc_alert, 16384);
    bb_records(&x, 21, 0x0303, (const uint8_t *)"\x01\x00", 2, 16384);
    feed(c, TLS_DIR_S2C, x.b, x.n, 0, 6);
    assert_int_equal(count_events(t, TLS_EV_ENCRYPTED_ALERT, -1), 1);
    assert_int_equal(t->events[t->num_events - 1].kind, TLS_EV_ALERT);
    assert_int_equal(t->events[t->num_events - 1].alert_desc, 0);
    tls_conn_free(c);
    free_transcript(t);
}

// assert_same_transcript: what the record layer and the parsers produced is the same in a and b
// (ch.segments aside: it counts the segments that carried the hello).
static void assert_same_transcript(const tls_transcript *a, const tls_transcript *b) {
    assert_int_equal(a->num_events, b->num_events);
    assert_memory_equal(a->events, b->events, a->num_events * sizeof a->events[0]);
    tls_client_hello ch = b->ch;
    ch.segments = a->ch.segments;
    assert_memory_equal(&a->ch, &ch, sizeof ch);
    assert_memory_equal(&a->sh, &b->sh, sizeof a->sh);
    assert_memory_equal(&a->ske, &b->ske, sizeof a->ske);
    assert_int_equal(a->cert.num_stored, b->cert.num_stored);
    for (uint32_t i = 0; i < a->cert.num_stored; i++) {
        assert_int_equal(a->cert.certs[i].len, b->cert.certs[i].len);
        assert_memory_equal(a->cert.certs[i].der, b->cert.certs[i].der, a->cert.certs[i].len);
    }
    assert_memory_equal(a->records, b->records, sizeof a->records);
    assert_memory_equal(a->starttls_prefix, b->starttls_prefix, sizeof a->starttls_prefix);
    assert_int_equal(a->num_errors, b->num_errors);
    assert_int_equal(a->first_err_offset, b->first_err_offset);
    assert_int_equal(a->ch_partial_declared, b->ch_partial_declared);
    assert_int_equal(a->ch_partial_seen, b->ch_partial_seen);
    assert_string_equal(a->ja3, b->ja3);
    assert_string_equal(a->ja4, b->ja4);
    assert_string_equal(a->ja3s, b->ja3s);
}

// The same bytes fed 1 byte at a time give the same transcript as fed whole.
static void test_one_byte_at_a_time_identical(void **state) {
    (void)state;
    static stream12 s;
    build_tls12(&s, 1000, 2500);
    tls_transcript *a = new_transcript(), *b = new_transcript();
    tls_conn *ca = new_conn(a), *cb = new_conn(b);
    run_tls12(ca, &s, 0);
    run_tls12(cb, &s, 1);
    assert_same_transcript(a, b);
    // The one difference: how many segments carried the hello (what a device that reads the
    // first segment only would have seen of it).
    assert_int_equal(a->ch.segments, 1);
    assert_int_equal(b->ch.segments, sizeof chrome_ch_record);
    tls_end_reason ra, rb;
    assert_true(tls_conn_decided(ca, &ra));  // (apart: with &&, rb is unset if ca is undecided)
    assert_true(tls_conn_decided(cb, &rb));
    assert_int_equal(ra, rb);
    tls_conn_free(ca);
    tls_conn_free(cb);
    free_transcript(a);
    free_transcript(b);
}

// feed_capped_server_flight: a server flight with a certificate of cert_len bytes in records of
// frag bytes, fed in segments of `chunk` bytes (0: one) under max_flow_bytes; the connection
// must end at the byte cap.
static tls_conn *feed_capped_server_flight(tls_transcript *t, size_t cert_len, size_t frag,
                                           uint32_t max_flow_bytes, size_t chunk) {
    static bb flight, recs;
    flight.n = recs.n = 0;
    server_flight(&flight, cert_len);
    bb_records(&recs, 22, 0x0303, flight.b, flight.n, frag);
    memset(&cfg, 0, sizeof cfg);
    dissect_config_default(&cfg);
    cfg.max_flow_bytes = max_flow_bytes;
    tls_conn *c = tls_conn_new(t, &cfg);
    assert_non_null(c);
    feed(c, TLS_DIR_S2C, recs.b, recs.n, chunk, 1);
    tls_end_reason r;
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_BUFFER_CAP);
    assert_true(t->quality.buffer_cap_hit);
    return c;
}

// A direction's first segment is parsed in place when it starts with a record header (no sniff
// buffer). Split each side's first flight in two at every byte offset: the transcript is the one
// of the flight in one segment, whether the first part holds a whole record, part of a header
// (the sniff buffer's path) or part of a body.
static void test_first_segment_split_at_every_offset(void **state) {
    (void)state;
    static stream12 s;
    build_tls12(&s, 700, 900);
    tls_transcript *whole = new_transcript();
    tls_conn *cw = new_conn(whole);
    run_tls12(cw, &s, 0);
    tls_end_reason rw, r;
    assert_true(tls_conn_decided(cw, &rw));
    for (int side = 0; side < 2; side++) {
        const bb *first = side == 0 ? &s.c2s1 : &s.s2c1;
        for (size_t k = 1; k < first->n; k++) {
            tls_transcript *t = new_transcript();
            tls_conn *c = new_conn(t);
            tls_meta m = {side == 0 ? 1u : 2u, side == 0 ? 1000 : 2000};
            if (side == 1) {
                feed(c, TLS_DIR_C2S, s.c2s1.b, s.c2s1.n, 0, 1);
            }
            tls_dir dir = side == 0 ? TLS_DIR_C2S : TLS_DIR_S2C;
            tls_conn_feed(c, dir, first->b, k, &m);
            tls_conn_feed(c, dir, first->b + k, first->n - k, &m);
            if (side == 0) {
                feed(c, TLS_DIR_S2C, s.s2c1.b, s.s2c1.n, 0, 2);
            }
            feed(c, TLS_DIR_C2S, s.c2s2.b, s.c2s2.n, 0, 3);
            feed(c, TLS_DIR_S2C, s.s2c2.b, s.s2c2.n, 0, 4);
            feed(c, TLS_DIR_C2S, s.c2s3.b, s.c2s3.n, 0, 5);
            feed(c, TLS_DIR_S2C, s.s2c3.b, s.s2c3.n, 0, 6);
            assert_same_transcript(whole, t);
            assert_int_equal(t->ch.segments, side == 0 ? 2 : 1);
            assert_true(tls_conn_decided(c, &r));
            assert_int_equal(r, rw);
            tls_conn_free(c);
            free_transcript(t);
        }
    }
    tls_conn_free(cw);
    free_transcript(whole);
}

// A first segment larger than the per-direction byte cap is refused as before (the sniff
// buffer could not hold it): the cap is reported, nothing is parsed.
static void test_first_segment_over_byte_cap(void **state) {
    (void)state;
    tls_transcript *t = new_transcript();
    tls_conn *c = feed_capped_server_flight(t, 3000, 16384, 2000, 0);
    assert_false(t->sh.present);
    assert_int_equal(t->records[TLS_DIR_S2C], 0);
    tls_conn_free(c);
    free_transcript(t);
}

// A Certificate split over 3 records, and 3 messages in 1 record.
static void test_message_over_records_and_records_with_messages(void **state) {
    (void)state;
    static bb flight, recs;
    flight.n = recs.n = 0;
    server_flight(&flight, 30000);  // ~30 KB: Certificate spans records of 12000 bytes
    bb_records(&recs, 22, 0x0303, flight.b, flight.n, 12000);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 1);
    feed(c, TLS_DIR_S2C, recs.b, recs.n, 0, 2);
    assert_int_equal(count_events(t, TLS_EV_HANDSHAKE, 11), 1);
    assert_int_equal(t->cert.certs[0].len, 30000);
    assert_int_equal(t->cert.certs[0].der[29999], (uint8_t)(29999 * 7 + 1));
    assert_true(t->server_hello_done);
    tls_conn_free(c);
    free_transcript(t);

    // ServerHello + Certificate + ServerKeyExchange + ServerHelloDone in one record.
    flight.n = recs.n = 0;
    server_flight(&flight, 100);
    bb_records(&recs, 22, 0x0303, flight.b, flight.n, 16384);
    t = new_transcript();
    c = new_conn(t);
    feed(c, TLS_DIR_S2C, recs.b, recs.n, 0, 7);
    assert_int_equal(count_events(t, TLS_EV_HANDSHAKE, -1), 4);
    assert_true(t->sh.present && t->cert.present && t->ske.present && t->server_hello_done);
    assert_int_equal(t->events[3].frame, 7);
    tls_conn_free(c);
    free_transcript(t);
}

static void test_fatal_alert_and_split_alert(void **state) {
    (void)state;
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 1);
    tls_end_reason r;
    assert_false(tls_conn_decided(c, &r));
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70};
    feed(c, TLS_DIR_S2C, alert, sizeof alert, 0, 2);
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_ALERT);
    assert_int_equal(t->end_reason, TLS_END_ALERT);
    const tls_event *e = &t->events[t->num_events - 1];
    assert_int_equal(e->kind, TLS_EV_ALERT);
    assert_int_equal(e->dir, TLS_DIR_S2C);
    assert_int_equal(e->alert_level, 2);
    assert_int_equal(e->alert_desc, 112);
    tls_conn_free(c);
    free_transcript(t);

    // One alert split across two records (level in the first, description in the second).
    t = new_transcript();
    c = new_conn(t);
    static const uint8_t split[] = {0x15, 0x03, 0x03, 0x00, 0x01, 0x02,
                                    0x15, 0x03, 0x03, 0x00, 0x01, 0x28};
    feed(c, TLS_DIR_S2C, split, 6, 0, 3);
    assert_false(tls_conn_decided(c, &r));
    feed(c, TLS_DIR_S2C, split + 6, 6, 0, 4);
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_ALERT);
    assert_int_equal(count_events(t, TLS_EV_ALERT, -1), 1);
    e = &t->events[t->num_events - 1];
    assert_int_equal(e->alert_desc, 40);
    assert_int_equal(e->frame, 4);
    tls_conn_free(c);
    free_transcript(t);
}

static void test_http_answer_is_not_tls(void **state) {
    (void)state;
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 1);
    static const char http[] =
        "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n";
    feed(c, TLS_DIR_S2C, (const uint8_t *)http, 10, 0, 2);  // decided at the first bytes...
    tls_end_reason r;
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_NOT_TLS);
    feed(c, TLS_DIR_S2C, (const uint8_t *)http + 10, sizeof http - 11, 0, 3);  // ...preview grows
    assert_int_equal(t->preview_len[TLS_DIR_S2C], sizeof http - 1);
    assert_memory_equal(t->preview[TLS_DIR_S2C], "HTTP/1.1 400", 12);
    assert_int_equal(count_events(t, TLS_EV_NOT_TLS, -1), 1);
    assert_true(t->is_tls);  // the client's side was TLS
    tls_conn_free(c);
    free_transcript(t);
}

// A declared 16 MB handshake message is refused at its header: nothing is allocated for it.
static void test_huge_declared_message(void **state) {
    (void)state;
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    static const uint8_t rec[] = {0x16, 0x03, 0x03, 0x00, 0x08, 0x0b, 0xff,
                                  0xff, 0xff, 0x00, 0x00, 0x01, 0x02};
    feed(c, TLS_DIR_S2C, rec, sizeof rec, 0, 1);
    assert_int_equal(t->num_errors, 1);
    assert_int_equal(t->first_err, TLS_ERR_MESSAGE_TOO_LONG);
    assert_true(tls_conn_buffered(c) < 1024);
    // Split before the length is complete: still refused once the header is whole.
    tls_transcript *t2 = new_transcript();
    tls_conn *c2 = new_conn(t2);
    feed(c2, TLS_DIR_S2C, rec, sizeof rec, 1, 1);
    assert_int_equal(t2->first_err, TLS_ERR_MESSAGE_TOO_LONG);
    assert_true(tls_conn_buffered(c2) < 1024);
    tls_conn_free(c);
    tls_conn_free(c2);
    free_transcript(t);
    free_transcript(t2);
}

// Thousands of 1-byte records carrying one Certificate (RFC 8446 §5.1 allows it).
static void test_thousands_of_one_byte_records(void **state) {
    (void)state;
    static bb flight, recs;
    flight.n = recs.n = 0;
    server_flight(&flight, 3000);
    bb_records(&recs, 22, 0x0303, flight.b, flight.n, 1);
    assert_true(recs.n > 6 * 3000);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_S2C, recs.b, recs.n, 0, 1);
    assert_int_equal(count_events(t, TLS_EV_HANDSHAKE, -1), 4);
    assert_int_equal(t->cert.certs[0].len, 3000);
    assert_int_equal(t->num_errors, 0);
    tls_conn_free(c);
    free_transcript(t);
}

static void test_smtp_starttls(void **state) {
    (void)state;
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    static const char s1[] = "220 mail.example.com ESMTP Postfix\r\n";
    static const char c1[] = "EHLO client.example.org\r\n";
    static const char s2[] = "250-mail.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
    static const char c2[] = "STARTTLS\r\n";
    static const char s3[] = "220 2.0.0 Ready to start TLS\r\n";
    feed(c, TLS_DIR_S2C, (const uint8_t *)s1, sizeof s1 - 1, 0, 1);
    feed(c, TLS_DIR_C2S, (const uint8_t *)c1, sizeof c1 - 1, 0, 2);
    feed(c, TLS_DIR_S2C, (const uint8_t *)s2, sizeof s2 - 1, 0, 3);
    feed(c, TLS_DIR_C2S, (const uint8_t *)c2, sizeof c2 - 1, 0, 4);
    feed(c, TLS_DIR_S2C, (const uint8_t *)s3, sizeof s3 - 1, 0, 5);
    tls_end_reason r;
    assert_false(tls_conn_decided(c, &r));
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 6);
    static bb flight, recs;
    flight.n = recs.n = 0;
    server_flight(&flight, 200);
    bb_records(&recs, 22, 0x0303, flight.b, flight.n, 16384);
    feed(c, TLS_DIR_S2C, recs.b, recs.n, 7, 7);
    assert_int_equal(t->starttls_prefix[TLS_DIR_C2S], strlen(c1) + strlen(c2));
    assert_int_equal(t->starttls_prefix[TLS_DIR_S2C], strlen(s1) + strlen(s2) + strlen(s3));
    assert_true(t->ch.present);
    assert_string_equal(t->ch.sni, "edge.microsoft.com");
    assert_true(t->sh.present && t->cert.present && t->server_hello_done);
    assert_int_equal(t->num_errors, 0);
    assert_false(tls_conn_decided(c, &r));
    tls_conn_free(c);
    free_transcript(t);
}

// TLS 1.3: after the ServerHello both directions are protected; the client's plaintext CCS
// and alert are still read (RFC 8446 §5, peers.md #3).
static void test_tls13_plaintext_alert_after_server_hello(void **state) {
    (void)state;
    static bb m, x;
    m.n = x.n = 0;
    bb_u16(&m, 0x0303);
    bb_fill(&m, 0x33, 32);
    bb_u8(&m, 0);
    bb_u16(&m, 0x1301);
    bb_u8(&m, 0);
    bb_open(&m, 2);
    bb_u16(&m, 0x002b);
    bb_u16(&m, 2);
    bb_u16(&m, 0x0304);
    bb_close(&m);
    static bb msg;
    msg.n = 0;
    hs(&msg, 2, m.b, m.n);
    bb_records(&x, 22, 0x0303, msg.b, msg.n, 16384);
    bb_records(&x, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
    static uint8_t enc[2000];
    memset(enc, 0x77, sizeof enc);
    bb_records(&x, 23, 0x0303, enc, 1500, 16384);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 1);
    feed(c, TLS_DIR_S2C, x.b, x.n, 0, 2);
    assert_int_equal(count_events(t, TLS_EV_ENCRYPTED_HANDSHAKE, -1), 1);
    assert_true(t->encrypted[0] && t->encrypted[1]);
    static const uint8_t ccs_alert[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x15,
                                        0x03, 0x03, 0x00, 0x02, 0x02, 0x30};
    feed(c, TLS_DIR_C2S, ccs_alert, sizeof ccs_alert, 0, 3);
    tls_end_reason r;
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_ALERT);
    assert_int_equal(t->events[t->num_events - 1].alert_desc, 48);
    tls_conn_free(c);
    free_transcript(t);

    // The same start, then a client Finished-sized record and server data: completed.
    t = new_transcript();
    c = new_conn(t);
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 1);
    feed(c, TLS_DIR_S2C, x.b, x.n, 0, 2);
    x.n = 0;
    bb_records(&x, 23, 0x0303, enc, 53, 16384);
    feed(c, TLS_DIR_C2S, x.b, x.n, 0, 3);
    assert_false(tls_conn_decided(c, &r));
    x.n = 0;
    bb_records(&x, 23, 0x0303, enc, 300, 16384);
    feed(c, TLS_DIR_S2C, x.b, x.n, 0, 4);
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_HANDSHAKE_DONE);
    assert_int_equal(t->app_records[1], 1);
    tls_conn_free(c);
    free_transcript(t);
}

static void test_bad_records(void **state) {
    (void)state;
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    static const uint8_t too_long[] = {0x16, 0x03, 0x03, 0x48, 0x01, 0x01};
    feed(c, TLS_DIR_C2S, too_long, sizeof too_long, 0, 1);
    assert_int_equal(t->first_err, TLS_ERR_RECORD_TOO_LONG);
    assert_int_equal(t->first_err_frame, 1);
    tls_conn_free(c);
    free_transcript(t);

    // A valid record followed by garbage: BAD_CONTENT_TYPE at the garbage's stream offset.
    t = new_transcript();
    c = new_conn(t);
    static bb x;
    x.n = 0;
    bb_bytes(&x, chrome_ch_record, sizeof chrome_ch_record);
    bb_bytes(&x, "\x63\x03\x03\x00\x01\x00", 6);
    feed(c, TLS_DIR_C2S, x.b, x.n, 0, 1);
    assert_true(t->ch.present);
    assert_int_equal(t->first_err, TLS_ERR_BAD_CONTENT_TYPE);
    assert_int_equal(t->first_err_offset, sizeof chrome_ch_record);
    tls_conn_free(c);
    free_transcript(t);
}

static void test_sslv2_hello_record(void **state) {
    (void)state;
    static bb x;
    x.n = 0;
    static const uint8_t specs[] = {0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x35};
    bb_u8(&x, 0x80);
    bb_u8(&x, 9 + sizeof specs + 16);
    bb_u8(&x, 1);
    bb_u16(&x, 0x0301);
    bb_u16(&x, sizeof specs);
    bb_u16(&x, 0);
    bb_u16(&x, 16);
    bb_bytes(&x, specs, sizeof specs);
    bb_fill(&x, 0x42, 16);
    assert_int_equal(tls_sniff(x.b, x.n), 1);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, x.b, x.n, 0, 1);
    assert_true(t->is_tls);
    assert_true(t->ch.present && t->ch.sslv2);
    assert_int_equal(t->ch.num_ciphers, 2);
    assert_int_equal(t->events[0].kind, TLS_EV_SSL2);
    assert_int_equal(t->events[0].hs_type, 1);
    assert_int_equal(t->events[0].version, 0x0002);
    assert_int_equal(t->num_errors, 0);
    tls_conn_free(c);
    free_transcript(t);
}

// Mid-stream captures (corpus ndpi__tls_alert.pcap frame 12, ndpi__KakaoTalk_chat.pcap frame 79):
// the first record seen is a protected alert; no CCS was seen, but its bytes are not 2-byte
// alerts of level 1/2, so it is one ENCRYPTED_ALERT, not 13 (11) garbage plaintext alerts.
static void test_midstream_encrypted_alert(void **state) {
    (void)state;
    static const uint8_t tls_alert_f12[] = {0x15, 0x03, 0x03, 0x00, 0x1a, 0x00, 0x00, 0x00,
                                            0x00, 0x00, 0x00, 0x00, 0x02, 0xf7, 0xa8, 0x63,
                                            0x64, 0x65, 0x4f, 0x35, 0xeb, 0x79, 0x94, 0x00,
                                            0xee, 0xe0, 0x96, 0x5a, 0x59, 0x9b, 0xf5};
    static const uint8_t kakao_f79[] = {0x15, 0x03, 0x01, 0x00, 0x16, 0x07, 0x62, 0x2d, 0x38,
                                        0xe1, 0x10, 0x58, 0xbe, 0xec, 0x77, 0xb5, 0x83, 0x9f,
                                        0x42, 0x0a, 0xce, 0x61, 0x47, 0x36, 0xb3, 0xee, 0xb2};
    const struct {
        const uint8_t *p;
        size_t n;
    } cases[] = {{tls_alert_f12, sizeof tls_alert_f12}, {kakao_f79, sizeof kakao_f79}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t chunk = 0; chunk <= 1; chunk++) {
            tls_transcript *t = new_transcript();
            tls_conn *c = new_conn(t);
            feed(c, TLS_DIR_S2C, cases[i].p, cases[i].n, chunk, 12);
            assert_true(t->is_tls);
            assert_int_equal(t->num_events, 1);
            assert_int_equal(t->events[0].kind, TLS_EV_ENCRYPTED_ALERT);
            assert_int_equal(t->events[0].length, cases[i].n - 5);
            assert_int_equal(count_events(t, TLS_EV_ALERT, -1), 0);
            tls_end_reason r;
            assert_false(tls_conn_decided(c, &r));
            tls_conn_free(c);
            free_transcript(t);
        }
    }
    // Still plaintext: two coalesced alerts of level 1/2 in one record, before any CCS.
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    static const uint8_t two[] = {0x15, 0x03, 0x03, 0x00, 0x04, 0x01, 0x00, 0x02, 0x28};
    feed(c, TLS_DIR_S2C, two, sizeof two, 0, 1);
    assert_int_equal(count_events(t, TLS_EV_ALERT, -1), 2);
    assert_int_equal(count_events(t, TLS_EV_ENCRYPTED_ALERT, -1), 0);
    assert_int_equal(t->events[1].alert_level, 2);
    assert_int_equal(t->events[1].alert_desc, 40);
    tls_conn_free(c);
    free_transcript(t);
}

// An SSLv2 server hello with no certificate, one cipher kind, a 16-byte connection id.
static void sslv2_server_hello(bb *x, unsigned hit) {
    bb_u8(x, 0x80);
    bb_u8(x, 11 + 3 + 16);
    bb_u8(x, 4);
    bb_u8(x, hit);
    bb_u8(x, 1);
    bb_u16(x, 0x0002);
    bb_u16(x, 0);
    bb_u16(x, 3);
    bb_u16(x, 16);
    bb_bytes(x, "\x01\x00\x80", 3);
    bb_fill(x, 0x55, 16);
}

// corpus zeek__ssl-v2.pcap: after CLIENT-MASTER-KEY every SSLv2 record is encrypted (3-byte
// headers, frames 9-11 and 13). Their first body byte is ciphertext: they were reported as
// SSLv2 message type 0 (ERROR); now SERVER-VERIFY / CLIENT-FINISHED / SERVER-FINISHED are
// ENCRYPTED_HANDSHAKE and the client's next record is application data.
static void test_sslv2_encrypted_records(void **state) {
    (void)state;
    static const uint8_t f9[] = {0x00, 0x28, 0x07, 0x1a, 0xe7, 0xf8, 0x9a, 0x87, 0xcb, 0xa8, 0xfb,
                                 0x61, 0xaf, 0x18, 0x57, 0x54, 0xde, 0xc3, 0xae, 0xc3, 0x54, 0x8e,
                                 0xba, 0xba, 0xb5, 0x9a, 0x95, 0x3d, 0x9a, 0xde, 0x36, 0xc5, 0x1a,
                                 0x57, 0xbf, 0xaf, 0x7a, 0xae, 0x0d, 0xb1, 0x61, 0xca, 0x17};
    static const uint8_t f10[] = {0x00, 0x28, 0x07, 0x3e, 0xdf, 0x91, 0xc8, 0x40, 0x85, 0x43, 0x89,
                                  0xbe, 0x2f, 0xf9, 0xdb, 0xcf, 0x90, 0x45, 0x76, 0x7a, 0xf7, 0xe7,
                                  0xbb, 0x69, 0xd2, 0x01, 0x4d, 0x15, 0xef, 0xc5, 0x90, 0x56, 0xaa,
                                  0x88, 0x84, 0x52, 0xdb, 0x67, 0x32, 0xaf, 0x4f, 0x32, 0x69};
    static const uint8_t f11[] = {0x00, 0x28, 0x07, 0xeb, 0x09, 0x01, 0x2a, 0xd3, 0x78, 0xdc, 0x01,
                                  0x25, 0x5a, 0xbf, 0x64, 0x4e, 0x77, 0x07, 0x43, 0xe9, 0xf4, 0x8c,
                                  0x0a, 0xb0, 0x29, 0xf6, 0x52, 0x6b, 0x02, 0x58, 0xbd, 0xea, 0xa4,
                                  0x7a, 0xe8, 0x61, 0xd7, 0xae, 0xd0, 0x71, 0xf0, 0x06, 0x9c};
    static const uint8_t f13[] = {0x00, 0x18, 0x07, 0x2e, 0xd0, 0x5c, 0x4a, 0x75, 0xd1,
                                  0xca, 0xb5, 0x3f, 0x81, 0x94, 0xbb, 0xbd, 0x54, 0x40,
                                  0x8a, 0x13, 0xfe, 0x84, 0x51, 0xb1, 0xf5, 0x52, 0xfa};
    static const uint8_t specs[] = {0x01, 0x00, 0x80};
    static bb ch, sh, cmk;
    ch.n = sh.n = cmk.n = 0;
    bb_u8(&ch, 0x80);
    bb_u8(&ch, 9 + sizeof specs + 16);
    bb_u8(&ch, 1);
    bb_u16(&ch, 0x0002);
    bb_u16(&ch, sizeof specs);
    bb_u16(&ch, 0);
    bb_u16(&ch, 16);
    bb_bytes(&ch, specs, sizeof specs);
    bb_fill(&ch, 0x42, 16);
    sslv2_server_hello(&sh, 0);
    bb_u8(&cmk, 0x80);  // CLIENT-MASTER-KEY: kind, clear/encrypted/key-arg lengths, data
    bb_u8(&cmk, 10 + 8);
    bb_u8(&cmk, 2);
    bb_bytes(&cmk, specs, sizeof specs);
    bb_u16(&cmk, 0);
    bb_u16(&cmk, 8);
    bb_u16(&cmk, 0);
    bb_fill(&cmk, 0x77, 8);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, ch.b, ch.n, 0, 4);
    feed(c, TLS_DIR_S2C, sh.b, sh.n, 0, 6);
    feed(c, TLS_DIR_C2S, cmk.b, cmk.n, 0, 8);
    feed(c, TLS_DIR_S2C, f9, sizeof f9, 0, 9);
    feed(c, TLS_DIR_C2S, f10, sizeof f10, 0, 10);
    feed(c, TLS_DIR_S2C, f11, sizeof f11, 0, 11);
    feed(c, TLS_DIR_C2S, f13, sizeof f13, 0, 13);
    assert_true(t->ch.present && t->sh.present && t->sh.sslv2);
    assert_int_equal(count_events(t, TLS_EV_SSL2, -1), 3);
    assert_int_equal(count_events(t, TLS_EV_SSL2, 0), 0);
    assert_int_equal(t->num_events, 7);
    static const uint8_t kinds[] = {TLS_EV_SSL2,
                                    TLS_EV_SSL2,
                                    TLS_EV_SSL2,
                                    TLS_EV_ENCRYPTED_HANDSHAKE,
                                    TLS_EV_ENCRYPTED_HANDSHAKE,
                                    TLS_EV_ENCRYPTED_HANDSHAKE,
                                    TLS_EV_APPLICATION_DATA};
    static const uint8_t types[] = {1, 4, 2};
    for (size_t i = 0; i < sizeof kinds; i++) {
        assert_int_equal(t->events[i].kind, kinds[i]);
        assert_int_equal(t->events[i].version, 0x0002);
        if (i < sizeof types) {
            assert_int_equal(t->events[i].hs_type, types[i]);
        }
    }
    assert_int_equal(t->events[3].length, 40);
    assert_int_equal(t->events[6].length, 24);
    assert_true(t->encrypted[0] && t->encrypted[1]);
    assert_int_equal(t->app_records[0], 1);
    tls_end_reason r;
    assert_true(tls_conn_decided(c, &r));
    assert_int_equal(r, TLS_END_HANDSHAKE_DONE);
    assert_int_equal(t->num_errors, 0);
    tls_conn_free(c);
    free_transcript(t);

    // SESSION-ID-HIT: no CLIENT-MASTER-KEY; the client's next record is already encrypted.
    sh.n = 0;
    sslv2_server_hello(&sh, 1);
    t = new_transcript();
    c = new_conn(t);
    feed(c, TLS_DIR_C2S, ch.b, ch.n, 0, 1);
    feed(c, TLS_DIR_S2C, sh.b, sh.n, 0, 2);
    feed(c, TLS_DIR_C2S, f10, sizeof f10, 0, 3);
    assert_int_equal(t->num_events, 3);
    assert_int_equal(t->events[2].kind, TLS_EV_ENCRYPTED_HANDSHAKE);
    assert_int_equal(t->events[2].dir, TLS_DIR_C2S);
    assert_int_equal(count_events(t, TLS_EV_SSL2, -1), 2);
    tls_conn_free(c);
    free_transcript(t);
}

static void test_buffer_cap(void **state) {
    (void)state;
    tls_transcript *t = new_transcript();
    tls_conn *c = feed_capped_server_flight(t, 50000, 16000, 20000, 1500);
    assert_false(t->cert.present);
    assert_true(tls_conn_buffered(c) <= 20000);
    tls_conn_free(c);
    free_transcript(t);
}

// HelloRetryRequest (RFC 8446 §4.1.4): the second ClientHello goes to ch2, not renegotiation.
static void test_hrr_second_client_hello(void **state) {
    (void)state;
    static bb m, msg, x;
    m.n = msg.n = x.n = 0;
    bb_u16(&m, 0x0303);
    bb_bytes(&m, tls_hrr_random, 32);
    bb_u8(&m, 0);
    bb_u16(&m, 0x1301);
    bb_u8(&m, 0);
    bb_open(&m, 2);
    bb_u16(&m, 0x002b);
    bb_u16(&m, 2);
    bb_u16(&m, 0x0304);
    bb_u16(&m, 0x0033);
    bb_u16(&m, 2);
    bb_u16(&m, 0x0017);
    bb_close(&m);
    hs(&msg, 2, m.b, m.n);
    bb_records(&x, 22, 0x0303, msg.b, msg.n, 16384);
    bb_records(&x, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 1);
    feed(c, TLS_DIR_S2C, x.b, x.n, 0, 2);
    assert_true(t->hrr.present && t->hrr.is_hrr);
    assert_int_equal(t->hrr.key_share_group, 0x0017);
    assert_false(t->sh.present);
    assert_false(t->encrypted[TLS_DIR_S2C]);  // an HRR switches no keys
    static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    feed(c, TLS_DIR_C2S, ccs, sizeof ccs, 0, 3);
    feed(c, TLS_DIR_C2S, chrome_ch_record, sizeof chrome_ch_record, 0, 4);
    assert_true(t->ch2.present);
    assert_int_equal(t->ch2.frame, 4);
    assert_false(t->renegotiation_attempt);
    assert_int_equal(t->num_errors, 0);
    tls_conn_free(c);
    free_transcript(t);
}

// TLS 1.2 is decided at the server's first application data, not the client's: a renegotiation
// between request and response (the client's protected ClientHello, refused with an encrypted
// no_renegotiation alert — what openssl s_server does by default) stays in the transcript.
// Regression: the first version decided at the request and never saw the refusal.
static void test_renegotiation_before_response(void **state) {
    (void)state;
    static stream12 s;
    build_tls12(&s, 16384, 100);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    feed(c, TLS_DIR_C2S, s.c2s1.b, s.c2s1.n, 0, 1);
    feed(c, TLS_DIR_S2C, s.s2c1.b, s.s2c1.n, 0, 2);
    feed(c, TLS_DIR_C2S, s.c2s2.b, s.c2s2.n, 0, 3);
    feed(c, TLS_DIR_S2C, s.s2c2.b, s.s2c2.n, 0, 4);
    feed(c, TLS_DIR_C2S, s.c2s3.b, s.c2s3.n, 0, 5);  // the request
    tls_end_reason r;
    assert_false(tls_conn_decided(c, &r));  // no response yet
    static bb x, y;
    x.n = y.n = 0;
    static uint8_t hello[197], alert[26];
    memset(hello, 0x3c, sizeof hello);
    memset(alert, 0x7e, sizeof alert);
    bb_records(&x, 22, 0x0303, hello, sizeof hello, 16384);
    feed(c, TLS_DIR_C2S, x.b, x.n, 0, 6);
    bb_records(&y, 21, 0x0303, alert, sizeof alert, 16384);
    feed(c, TLS_DIR_S2C, y.b, y.n, 0, 7);
    assert_true(t->renegotiation_attempt);
    assert_false(tls_conn_decided(c, &r));  // the connection's end (TCP) will decide
    assert_int_equal(count_events(t, TLS_EV_ENCRYPTED_ALERT, -1), 1);
    assert_int_equal(t->app_records[TLS_DIR_S2C], 0);
    tls_conn_free(c);
    free_transcript(t);
}

// A ClientHello after a completed TLS 1.2 handshake is a renegotiation (RFC 5746); in clear
// here only because the test sends it so.
static void test_renegotiation_and_gap(void **state) {
    (void)state;
    static stream12 s;
    build_tls12(&s, 16384, 100);
    tls_transcript *t = new_transcript();
    tls_conn *c = new_conn(t);
    run_tls12(c, &s, 0);
    static bb x;
    x.n = 0;
    // a protected handshake record after application data
    static uint8_t enc[64];
    memset(enc, 0x3c, sizeof enc);
    bb_records(&x, 22, 0x0303, enc, sizeof enc, 16384);
    feed(c, TLS_DIR_C2S, x.b, x.n, 0, 9);
    assert_true(t->renegotiation_attempt);
    // A gap: the direction stops; later bytes produce nothing (and no malformation).
    uint32_t before = t->num_events;
    tls_meta m = {10, 0};
    tls_conn_gap(c, TLS_DIR_S2C, 1000, &m);
    feed(c, TLS_DIR_S2C, enc, sizeof enc, 0, 11);
    assert_int_equal(t->num_events, before);
    assert_int_equal(t->num_errors, 0);
    assert_int_equal(tls_conn_buffered(c), 0);
    tls_conn_free(c);
    free_transcript(t);
}

static void test_sniff(void **state) {
    (void)state;
    assert_int_equal(tls_sniff(chrome_ch_record, sizeof chrome_ch_record), 1);
    static const uint8_t sh[] = {0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00};
    assert_int_equal(tls_sniff(sh, sizeof sh), 2);
    static const uint8_t alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28};
    assert_int_equal(tls_sniff(alert, sizeof alert), 2);
    assert_int_equal(tls_sniff((const uint8_t *)"GET / HTTP/1.1\r\n", 16), 0);
    assert_int_equal(tls_sniff(chrome_ch_record, 3), 0);
}

// ---------------------------------------------------------------------------------------------
// Records split across segments: a record whose payload is never read (application data, a
// protected handshake record, heartbeat) is skipped by length, not buffered. Whatever the split,
// the transcript must be the one of the record in one segment.
// ---------------------------------------------------------------------------------------------
typedef struct rec_log {
    uint32_t calls;
    uint64_t off;
    uint32_t len;
    uint8_t type;
    bool app;
} rec_log;

static void log_record(void *user, uint64_t conn_id, uint8_t dir, uint64_t off, uint32_t len,
                       uint8_t type, bool app) {
    (void)conn_id, (void)dir;
    rec_log *l = user;
    *l = (rec_log){l->calls + 1, off, len, type, app};
}

// A connection fed whole records [0] and one fed the same records split [1], past a TLS 1.2
// handshake (both directions protected).
typedef struct split_pair {
    dissect_config cfg[2];
    rec_log log[2];
    tls_transcript *t[2];
    tls_conn *c[2];
} split_pair;

static void pair_open(split_pair *p, const stream12 *s, uint32_t max_flow_bytes) {
    for (int i = 0; i < 2; i++) {
        memset(&p->cfg[i], 0, sizeof p->cfg[i]);
        dissect_config_default(&p->cfg[i]);
        p->cfg[i].max_flow_bytes = max_flow_bytes;
        p->cfg[i].on_record = log_record;
        p->cfg[i].user = &p->log[i];
        memset(&p->log[i], 0, sizeof p->log[i]);
        p->t[i] = new_transcript();
        p->c[i] = tls_conn_new(p->t[i], &p->cfg[i]);
        assert_non_null(p->c[i]);
        run_tls12(p->c[i], s, 0);
    }
    assert_true(p->t[0]->encrypted[0] && p->t[0]->encrypted[1]);
}

static void pair_close(split_pair *p) {
    for (int i = 0; i < 2; i++) {
        tls_conn_free(p->c[i]);
        free_transcript(p->t[i]);
    }
}

static void assert_pair_same(const split_pair *p) {
    const tls_transcript *a = p->t[0], *b = p->t[1];
    assert_int_equal(a->num_events, b->num_events);
    assert_memory_equal(a->events, b->events, a->num_events * sizeof a->events[0]);
    assert_memory_equal(a->records, b->records, sizeof a->records);
    assert_memory_equal(a->app_records, b->app_records, sizeof a->app_records);
    assert_memory_equal(a->app_bytes, b->app_bytes, sizeof a->app_bytes);
    assert_int_equal(a->num_errors, b->num_errors);
    assert_int_equal(a->first_err_offset, b->first_err_offset);
    assert_int_equal(a->end_reason, b->end_reason);
    assert_int_equal(a->renegotiation_attempt, b->renegotiation_attempt);
    assert_memory_equal(&a->quality, &b->quality, sizeof a->quality);
    assert_memory_equal(&p->log[0], &p->log[1], sizeof p->log[0]);
}

// split_record feeds one record of `type` with an n-byte body: whole to [0] (frame f), to [1]
// in segments cut at k (and at k + 1 when three), the last one with frame f, the others with
// frame `early` (a record's events carry the frame of the segment that completed it).
static void split_record(split_pair *p, tls_dir dir, unsigned type, size_t n, size_t k, bool three,
                         uint32_t f, uint32_t early_frame) {
    static uint8_t rec[5 + 65535];
    if (rec[6] == 0) {
        for (size_t i = 0; i < 65535; i++) {
            rec[5 + i] = (uint8_t)(i * 7 + 3);  // never a run of plaintext alerts
        }
    }
    rec[0] = (uint8_t)type;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (uint8_t)(n >> 8);
    rec[4] = (uint8_t)n;
    size_t total = 5 + n;
    tls_meta whole = {f, (int64_t)f * 1000}, early = {early_frame, (int64_t)early_frame * 1000};
    tls_conn_feed(p->c[0], dir, rec, total, &whole);
    size_t k2 = three && k + 1 < total ? k + 1 : k;
    tls_conn_feed(p->c[1], dir, rec, k, &early);
    tls_conn_feed(p->c[1], dir, rec + k, k2 - k, &early);
    tls_conn_feed(p->c[1], dir, rec + k2, total - k2, &whole);
}

static void test_record_split_at_every_offset(void **state) {
    (void)state;
    static stream12 s;
    build_tls12(&s, 700, 900);
    static const size_t lens[] = {0,  1,   2,   3,   4,    5,     6,     23,    24,   25,
                                  58, 255, 256, 257, 4096, 16384, 16385, 18431, 18432};
    static const unsigned types[] = {23, 22, 24, 21, 20};
    split_pair p;
    pair_open(&p, &s, 0);
    uint32_t f = 10;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t total = 5 + lens[li];
            for (size_t k = 1; k < total; k++) {
                if (p.t[0]->num_events > TLS_MAX_EVENTS - 8) {
                    pair_close(&p);
                    pair_open(&p, &s, 0);
                }
                tls_dir dir = (k & 1) ? TLS_DIR_C2S : TLS_DIR_S2C;
                split_record(&p, dir, types[ti], lens[li], k, lens[li] < 300, f + 1, f);
                f += 2;
                assert_pair_same(&p);
                assert_int_equal(p.log[1].len, total);
                assert_int_equal(p.log[1].type, types[ti]);
            }
        }
    }
    pair_close(&p);
    // Longer than 2^14 + 2048 (RFC 5246 §6.2.3): refused at the header, whatever the split.
    static const size_t bad[] = {18433, 65535};
    for (size_t bi = 0; bi < 2; bi++) {
        for (size_t k = 1; k < 5 + 300; k++) {
            pair_open(&p, &s, 0);
            uint32_t records = p.t[0]->records[TLS_DIR_S2C];
            // The header is refused in the segment that completes it: one frame for all parts.
            split_record(&p, TLS_DIR_S2C, 23, bad[bi], k, true, 100, 100);
            assert_pair_same(&p);
            assert_int_equal(p.t[1]->records[TLS_DIR_S2C], records);
            assert_int_equal(count_events(p.t[1], TLS_EV_MALFORMED, -1), 1);
            pair_close(&p);
        }
    }
}

// A skipped record is still charged to --max-flow-bytes as the bytes it would have buffered
// (deliberately: the caps and their messages are unchanged). An application data record split
// in two under a smaller cap reaches it; the direction stops.
static void test_skipped_record_meets_byte_cap(void **state) {
    (void)state;
    static stream12 s;
    build_tls12(&s, 700, 900);
    split_pair p;
    pair_open(&p, &s, 4096);
    uint32_t records = p.t[1]->records[TLS_DIR_S2C];
    split_record(&p, TLS_DIR_S2C, 23, 6000, 3000, false, 50, 49);
    assert_true(p.t[1]->quality.buffer_cap_hit);
    assert_false(p.t[0]->quality.buffer_cap_hit);  // whole records are never buffered
    assert_int_equal(p.t[1]->records[TLS_DIR_S2C], records);
    assert_true(tls_conn_buffered(p.c[1]) <= 4096);
    split_record(&p, TLS_DIR_S2C, 23, 100, 50, false, 52, 51);
    assert_int_equal(p.t[1]->records[TLS_DIR_S2C], records);
    // Under the cap the same split record is counted and nothing is left over.
    pair_close(&p);
    pair_open(&p, &s, 8192);
    split_record(&p, TLS_DIR_S2C, 23, 6000, 3000, false, 50, 49);
    assert_false(p.t[1]->quality.buffer_cap_hit);
    assert_pair_same(&p);
    pair_close(&p);
}

// ch_normalized: a copy of ch with every list's array cleared past its count (and the SNI and
// ALPN ids past their terminating NUL) — what a reader may look at, as one comparable block.
static void ch_normalized(const tls_client_hello *ch, tls_client_hello *out) {
    *out = *ch;
    memset(out->ciphers + out->num_ciphers, 0,
           sizeof out->ciphers - out->num_ciphers * sizeof out->ciphers[0]);
    memset(out->extensions + out->num_extensions, 0,
           sizeof out->extensions - out->num_extensions * sizeof out->extensions[0]);
    size_t sni = out->has_sni ? strlen(out->sni) + 1 : 1;
    memset(out->sni + sni, 0, sizeof out->sni - sni);
    memset(out->groups + out->num_groups, 0,
           sizeof out->groups - out->num_groups * sizeof out->groups[0]);
    memset(out->sigalgs + out->num_sigalgs, 0,
           sizeof out->sigalgs - out->num_sigalgs * sizeof out->sigalgs[0]);
    memset(out->sigalgs_cert + out->num_sigalgs_cert, 0,
           sizeof out->sigalgs_cert - out->num_sigalgs_cert * sizeof out->sigalgs_cert[0]);
    for (size_t i = 0; i < TLS_MAX_ALPN; i++) {
        size_t keep = i < out->num_alpn ? strlen(out->alpn[i]) + 1 : 0;
        memset(out->alpn[i] + keep, 0, sizeof out->alpn[i] - keep);
    }
}

// A transcript reused through tr_reset leaves the first ClientHello's lists uncleared past their
// counts (ch_reset): a small hello parsed after a large one must read exactly as a hello parsed
// into a zeroed struct, below every count, with an empty SNI string — every other field zero.
static void test_reused_transcript_client_hello(void **state) {
    (void)state;
    static bb m, msg, x;
    m.n = msg.n = x.n = 0;
    bb_u16(&m, 0x0301);
    for (int i = 0; i < 32; i++) {
        bb_u8(&m, (unsigned)i);
    }
    bb_u8(&m, 0);  // no session id
    bb_open(&m, 2);
    bb_u16(&m, 0x002f);
    bb_close(&m);
    bb_u8(&m, 1);
    bb_u8(&m, 0);  // null compression; no extensions block
    hs(&msg, 1, m.b, m.n);
    bb_records(&x, 22, 0x0301, msg.b, msg.n, 16384);
    tls_client_hello fresh, reused;
    memset(&fresh, 0, sizeof fresh);
    assert_int_equal(tls_parse_client_hello(cur_make(m.b, m.n), &fresh), TLS_ERR_OK);
    const uint8_t *recs[] = {chrome_ch_record, x.b};
    size_t lens[] = {sizeof chrome_ch_record, x.n};
    tls_transcript *t = tr_new();
    assert_non_null(t);
    for (int i = 0; i < 2; i++) {  // the large hello, then the small one in the same transcript
        tr_reset(t);
        tls_conn *c = new_conn(t);
        feed(c, TLS_DIR_C2S, recs[i], lens[i], 0, 1);
        tls_conn_free(c);
    }
    assert_true(t->ch.present);
    assert_false(t->ch.has_sni);
    assert_string_equal(t->ch.sni, "");
    fresh.frame = t->ch.frame;  // set by tls_conn, not by the parser
    fresh.segments = t->ch.segments;
    fresh.record_version = t->ch.record_version;
    ch_normalized(&t->ch, &reused);
    tls_client_hello want;
    ch_normalized(&fresh, &want);
    assert_memory_equal(&reused, &want, sizeof want);
    tls_certificate_clear(&t->cert);
    tls_certificate_clear(&t->client_cert);
    free(t);
}

// A connection made after others were freed (a spare, with the record buffer it kept) starts
// as a new one: nothing buffered, and the same bytes buffered, the same events and the same
// byte cap as the first connection for a record split across segments.
static void test_spare_connection_starts_like_a_new_one(void **state) {
    (void)state;
    static uint8_t rec[5 + 3000];
    rec[0] = 22;
    rec[1] = 3;
    rec[2] = 3;
    rec[3] = (uint8_t)(3000 >> 8);
    rec[4] = (uint8_t)(3000 & 0xff);
    static const uint8_t ch_hdr[] = {1, 0, (uint8_t)(2996 >> 8), (uint8_t)(2996 & 0xff)};
    memcpy(rec + 5, ch_hdr, sizeof ch_hdr);  // a ClientHello that fails to parse: an error event
    size_t buffered[3][2];
    tls_transcript *t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = new_transcript();
        tls_conn *c = new_conn(t[i]);
        assert_int_equal(tls_conn_buffered(c), 0);
        feed(c, TLS_DIR_C2S, rec, 1000, 0, 1);
        buffered[i][0] = tls_conn_buffered(c);
        feed(c, TLS_DIR_C2S, rec + 1000, sizeof rec - 1000, 0, 2);
        buffered[i][1] = tls_conn_buffered(c);
        tls_conn_free(c);  // kept for the next round (not in sanitizer builds)
    }
    for (int i = 1; i < 3; i++) {
        assert_memory_equal(buffered[i], buffered[0], sizeof buffered[0]);
        assert_int_equal(t[i]->num_events, t[0]->num_events);
        assert_memory_equal(t[i]->events, t[0]->events, t[0]->num_events * sizeof t[0]->events[0]);
        assert_memory_equal(&t[i]->quality, &t[0]->quality, sizeof t[0]->quality);
    }
    assert_true(buffered[0][0] > 0);
    for (int i = 0; i < 3; i++) {
        free_transcript(t[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_handshake_completes),
        cmocka_unit_test(test_reused_transcript_client_hello),
        cmocka_unit_test(test_spare_connection_starts_like_a_new_one),
        cmocka_unit_test(test_one_byte_at_a_time_identical),
        cmocka_unit_test(test_first_segment_split_at_every_offset),
        cmocka_unit_test(test_first_segment_over_byte_cap),
        cmocka_unit_test(test_message_over_records_and_records_with_messages),
        cmocka_unit_test(test_fatal_alert_and_split_alert),
        cmocka_unit_test(test_http_answer_is_not_tls),
        cmocka_unit_test(test_huge_declared_message),
        cmocka_unit_test(test_thousands_of_one_byte_records),
        cmocka_unit_test(test_smtp_starttls),
        cmocka_unit_test(test_tls13_plaintext_alert_after_server_hello),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_sslv2_hello_record),
        cmocka_unit_test(test_midstream_encrypted_alert),
        cmocka_unit_test(test_sslv2_encrypted_records),
        cmocka_unit_test(test_buffer_cap),
        cmocka_unit_test(test_hrr_second_client_hello),
        cmocka_unit_test(test_renegotiation_and_gap),
        cmocka_unit_test(test_renegotiation_before_response),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_record_split_at_every_offset),
        cmocka_unit_test(test_skipped_record_meets_byte_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
