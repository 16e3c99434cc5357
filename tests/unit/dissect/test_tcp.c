// test_tcp.c — flow table, roles and TCP reassembly through the public dissect_* API, with
// synthetic raw-IPv4 frames and a real ClientHello split into segments.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow.h"
#include "internal.h"

// ---------------------------------------------------------------------------------------------
// Collected transcripts (copied: the callback's transcript is gone after it returns).
// ---------------------------------------------------------------------------------------------
enum { KEEP = 8 };
static tls_transcript *got[KEEP];
static size_t ngot;
static uint32_t *reports_per_id;  // SYN-flood test: how often each conn_id was reported
static size_t reports_cap;
static size_t evicted_reports;

static void on_transcript(void *user, const tls_transcript *t) {
    (void)user;
    if (reports_per_id && t->conn_id < reports_cap) {
        reports_per_id[t->conn_id]++;
        evicted_reports += t->end_reason == TLS_END_EVICTED;
    }
    if (ngot < KEEP) {
        got[ngot] = malloc(sizeof *t);
        assert_non_null(got[ngot]);
        memcpy(got[ngot], t, sizeof *t);
        memset(&got[ngot]->cert, 0, sizeof got[ngot]->cert);  // DER pointers die with the call
        memset(&got[ngot]->client_cert, 0, sizeof got[ngot]->client_cert);
    }
    ngot++;
}

static int reset(void **state) {
    (void)state;
    for (size_t i = 0; i < KEEP && i < ngot; i++) {
        free(got[i]);
        got[i] = NULL;
    }
    ngot = 0;
    free(reports_per_id);
    reports_per_id = NULL;
    reports_cap = 0;
    evicted_reports = 0;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Frame builder: raw IPv4 (LINKTYPE_RAW) + TCP, one connection's endpoints at a time.
// ---------------------------------------------------------------------------------------------
typedef struct conn {
    uint8_t cip[4], sip[4];
    uint16_t cport, sport;
} conn;

static uint32_t frame_no;
static int64_t now_ns;

static size_t build(uint8_t *b, const conn *c, bool c2s, uint32_t seq, uint32_t ack, uint8_t flags,
                    const uint8_t *pl, size_t n) {
    size_t tot = 40 + n;
    memset(b, 0, 40);
    b[0] = 0x45;
    b[2] = (uint8_t)(tot >> 8);
    b[3] = (uint8_t)tot;
    b[8] = 64;
    b[9] = 6;
    memcpy(b + 12, c2s ? c->cip : c->sip, 4);
    memcpy(b + 16, c2s ? c->sip : c->cip, 4);
    uint16_t sp = c2s ? c->cport : c->sport, dp = c2s ? c->sport : c->cport;
    uint8_t *t = b + 20;
    t[0] = (uint8_t)(sp >> 8);
    t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8);
    t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 0x50;
    t[13] = flags;
    t[14] = 0xff;
    t[15] = 0xff;
    if (n) {
        memcpy(b + 40, pl, n);
    }
    return tot;
}

// feed_cut: `caplen` < full length simulates a snaplen cut.
static void feed_cut(dissect *d, const conn *c, bool c2s, uint32_t seq, uint32_t ack, uint8_t flags,
                     const uint8_t *pl, size_t n, size_t cut) {
    static uint8_t b[2048];
    size_t len = build(b, c, c2s, seq, ack, flags, pl, n);
    dissect_frame f = {101, (uint32_t)(cut ? cut : len), (uint32_t)len, b, now_ns, ++frame_no};
    now_ns += 1000000;
    dissect_feed(d, &f);
}

static void feed(dissect *d, const conn *c, bool c2s, uint32_t seq, uint32_t ack, uint8_t flags,
                 const uint8_t *pl, size_t n) {
    feed_cut(d, c, c2s, seq, ack, flags, pl, n, 0);
}

static const conn C1 = {{10, 0, 0, 1}, {192, 0, 2, 10}, 51000, 443};

// A ClientHello (TLS 1.2 record) with SNI "example.com" and two cipher suites.
static size_t client_hello(uint8_t *b) {
    static const char sni[] = "example.com";
    size_t n = 0, sl = sizeof sni - 1;
    b[n++] = 0x16, b[n++] = 0x03, b[n++] = 0x01, b[n++] = 0, b[n++] = 0;  // record, len later
    b[n++] = 0x01, b[n++] = 0, b[n++] = 0, b[n++] = 0;                    // ClientHello, len later
    b[n++] = 0x03, b[n++] = 0x03;
    for (int i = 0; i < 32; i++) {
        b[n++] = (uint8_t)i;
    }
    b[n++] = 0;  // session id
    b[n++] = 0, b[n++] = 4, b[n++] = 0xc0, b[n++] = 0x2f, b[n++] = 0x00, b[n++] = 0x9c;
    b[n++] = 1, b[n++] = 0;  // null compression
    size_t ext_len = 4 + 2 + 1 + 2 + sl;
    b[n++] = 0, b[n++] = (uint8_t)ext_len;
    b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = (uint8_t)(2 + 1 + 2 + sl);
    b[n++] = 0, b[n++] = (uint8_t)(1 + 2 + sl), b[n++] = 0, b[n++] = 0, b[n++] = (uint8_t)sl;
    memcpy(b + n, sni, sl);
    n += sl;
    b[3] = (uint8_t)((n - 5) >> 8), b[4] = (uint8_t)(n - 5);
    b[7] = (uint8_t)((n - 9) >> 8), b[8] = (uint8_t)(n - 9);
    return n;
}

static dissect *mk(uint32_t max_flows, uint32_t max_flow_bytes) {
    dissect_config cfg;
    dissect_config_default(&cfg);
    if (max_flows) {
        cfg.max_flows = max_flows;
    }
    if (max_flow_bytes) {
        cfg.max_flow_bytes = max_flow_bytes;
    }
    cfg.on_transcript = on_transcript;
    dissect *d = dissect_new(&cfg);
    assert_non_null(d);
    frame_no = 0;
    now_ns = 1700000000LL * 1000000000LL;
    return d;
}

static void handshake(dissect *d, const conn *c, uint32_t cisn, uint32_t sisn) {
    feed(d, c, true, cisn, 0, TCP_SYN, NULL, 0);
    feed(d, c, false, sisn, cisn + 1, TCP_SYN | TCP_ACK, NULL, 0);
    feed(d, c, true, cisn + 1, sisn + 1, TCP_ACK, NULL, 0);
}

static void assert_hello_parsed(const tls_transcript *t, size_t chlen) {
    assert_true(t->ch.present);
    assert_string_equal(t->ch.sni, "example.com");
    assert_int_equal(t->ch.num_ciphers, 2);
    assert_int_equal(t->ch.ciphers[0], 0xc02f);
    assert_int_equal(t->tcp.bytes[TLS_DIR_C2S], chlen);
}

static void test_in_order(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 10);
    feed(d, &C1, true, 1011, 5001, TCP_ACK, ch + 10, 30);
    feed(d, &C1, true, 1041, 5001, TCP_ACK | TCP_PSH, ch + 40, n - 40);
    assert_int_equal(ngot, 0);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    const tls_transcript *t = got[0];
    assert_hello_parsed(t, n);
    assert_int_equal(t->conn_id, 0);
    assert_true(t->roles_from_syn);
    assert_int_equal(t->client.port, 51000);
    assert_int_equal(t->server.port, 443);
    assert_memory_equal(t->client.addr, C1.cip, 4);
    assert_int_equal(t->client.family, 4);
    assert_int_equal(t->first_frame, 1);
    assert_int_equal(t->last_frame, 6);
    assert_int_equal(t->end_reason, TLS_END_CAPTURE_END);
    assert_true(t->quality.capture_ended);
    assert_false(t->quality.midstream);
    assert_int_equal(t->quality.gaps[0] + t->quality.gaps[1], 0);
    assert_true(t->tcp.syn && t->tcp.synack);
    assert_int_equal(t->tcp.syn_count, 1);
    assert_int_equal(t->events[0].kind, TLS_EV_TCP_SYN);
    assert_int_equal(t->events[0].dir, TLS_DIR_C2S);
    assert_int_equal(t->events[1].kind, TLS_EV_TCP_SYNACK);
    assert_int_equal(t->events[1].dir, TLS_DIR_S2C);
    assert_int_equal(t->events[2].kind, TLS_EV_HANDSHAKE);
    assert_int_equal(t->events[2].frame, 6);
    const dissect_stats *st = dissect_get_stats(d);
    assert_int_equal(st->frames, 6);
    assert_int_equal(st->flows_created, 1);
    assert_int_equal(st->transcripts, 1);
    dissect_free(d);
}

static void test_out_of_order(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1041, 5001, TCP_ACK, ch + 40, n - 40);
    feed(d, &C1, true, 1011, 5001, TCP_ACK, ch + 10, 30);
    assert_true(dissect_get_stats(d)->peak_buffered_bytes >= n - 10);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 10);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_hello_parsed(got[0], n);
    assert_int_equal(got[0]->quality.gaps[TLS_DIR_C2S], 0);
    assert_int_equal(got[0]->tcp.retransmits[TLS_DIR_C2S], 0);
    assert_int_equal(got[0]->ch.frame, 6);  // completed by the frame that filled the hole
    dissect_free(d);
}

static void test_retransmission_identical(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 40);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 40);
    feed(d, &C1, true, 1041, 5001, TCP_ACK, ch + 40, n - 40);
    feed(d, &C1, true, 1041, 5001, TCP_ACK, ch + 40, n - 40);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_hello_parsed(got[0], n);
    assert_int_equal(got[0]->tcp.retransmits[TLS_DIR_C2S], 2);
    assert_int_equal(got[0]->quality.overlap_conflicts, 0);
    // client retransmissions are not listed as events (only the server's flight is)
    for (uint32_t i = 0; i < got[0]->num_events; i++) {
        assert_int_not_equal(got[0]->events[i].kind, TLS_EV_TCP_RETRANSMIT);
    }
    dissect_free(d);
}

static void test_retransmission_conflicting(void **state) {
    (void)state;
    uint8_t ch[256], bad[256];
    size_t n = client_hello(ch);
    memcpy(bad, ch, n);
    memset(bad + 50, 'X', 5);  // 5 bytes differ inside the SNI's neighbourhood
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 20);
    feed(d, &C1, true, 1041, 5001, TCP_ACK, ch + 40, n - 40);   // held
    feed(d, &C1, true, 1041, 5001, TCP_ACK, bad + 40, n - 40);  // differs: first copy wins
    feed(d, &C1, true, 1021, 5001, TCP_ACK, ch + 20, 20);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_hello_parsed(got[0], n);
    assert_int_equal(got[0]->quality.overlap_conflicts, 5);
    assert_int_equal(got[0]->tcp.retransmits[TLS_DIR_C2S], 1);
    dissect_free(d);
}

// no_trouble: no malformed TLS, no gap, no retransmission, no conflicting overlap.
static void assert_no_trouble(const tls_transcript *t) {
    assert_int_equal(t->num_errors, 0);
    assert_int_equal(t->quality.gaps[0] + t->quality.gaps[1], 0);
    assert_int_equal(t->tcp.retransmits[0] + t->tcp.retransmits[1], 0);
    assert_int_equal(t->quality.overlap_conflicts, 0);
    for (uint32_t i = 0; i < t->num_events; i++) {
        assert_int_not_equal(t->events[i].kind, TLS_EV_MALFORMED);
        assert_int_not_equal(t->events[i].kind, TLS_EV_TCP_GAP);
    }
}

// corpus ndpi__heuristic_tcp_ack_payload.pcap (stream 4, frames 178-212): the SYN-ACK, every
// pure ACK and the FINs carry 2 (client) / 6 (server) zero bytes that the IP length counts, and
// the real data then starts at the same sequence number. First copy winning made both
// directions "00 00 01 00 ..." (not TLS). The zeros are padding, never delivered.
static void test_ack_zero_padding(void **state) {
    (void)state;
    static const uint8_t z[6] = {0};
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    feed(d, &C1, false, 5000, 1001, TCP_SYN | TCP_ACK, z, 2);
    feed(d, &C1, false, 5000, 1001, TCP_SYN | TCP_ACK, z, 2);  // duplicate SYN-ACK
    feed(d, &C1, true, 1001, 5001, TCP_ACK, z, 2);
    feed(d, &C1, true, 1001, 5001, TCP_ACK | TCP_PSH, ch, n);
    feed(d, &C1, false, 5001, 1001 + (uint32_t)n, TCP_ACK, z, 6);
    feed(d, &C1, true, 1001 + (uint32_t)n, 5001, TCP_ACK | TCP_FIN, z, 2);
    feed(d, &C1, false, 5001, 1002 + (uint32_t)n, TCP_ACK | TCP_FIN, z, 6);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_hello_parsed(got[0], n);  // tcp.bytes[C2S] == n: not one padding byte counted
    assert_int_equal(got[0]->tcp.bytes[TLS_DIR_S2C], 0);
    const tls_event *hs = NULL;
    for (uint32_t i = 0; i < got[0]->num_events && !hs; i++) {
        hs = got[0]->events[i].kind == TLS_EV_HANDSHAKE ? &got[0]->events[i] : NULL;
    }
    assert_non_null(hs);
    assert_int_equal(hs->frame, 5);
    assert_int_equal(hs->hs_type, 1);
    assert_no_trouble(got[0]);
    dissect_free(d);

    // The zeros were data: the sender continues right after them (ch[43..45) is the empty
    // session id and the high byte of the cipher-suite length, both 0).
    assert_true(ch[43] == 0 && ch[44] == 0);
    d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 43);
    feed(d, &C1, true, 1044, 5001, TCP_ACK, ch + 43, 2);
    feed(d, &C1, true, 1046, 5001, TCP_ACK | TCP_PSH, ch + 45, n - 45);
    dissect_finish(d);
    assert_int_equal(ngot, 2);
    assert_hello_parsed(got[1], n);
    assert_no_trouble(got[1]);
    dissect_free(d);

    // ... or the receiver acknowledges exactly them before anything else arrives.
    d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 43);
    feed(d, &C1, true, 1044, 5001, TCP_ACK, ch + 43, 2);
    feed(d, &C1, false, 5001, 1046, TCP_ACK, NULL, 0);
    feed(d, &C1, true, 1046, 5001, TCP_ACK | TCP_PSH, ch + 45, n - 45);
    dissect_finish(d);
    assert_int_equal(ngot, 3);
    assert_hello_parsed(got[2], n);
    assert_no_trouble(got[2]);
    dissect_free(d);
}

static void test_overlapping_segments(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001 + 60, 5001, TCP_ACK, ch + 60, n - 60);  // held
    feed(d, &C1, true, 1001 + 30, 5001, TCP_ACK, ch + 30, 40);      // held, overlaps it
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 35);                // fills, overlaps next
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_hello_parsed(got[0], n);
    assert_int_equal(got[0]->quality.overlap_conflicts, 0);
    dissect_free(d);
}

static void test_gap_then_fin(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 20);
    feed(d, &C1, true, 1041, 5001, TCP_ACK, ch + 40, n - 40);  // 20 bytes never captured
    feed(d, &C1, true, (uint32_t)(1001 + n), 5001, TCP_ACK | TCP_FIN, NULL, 0);
    feed(d, &C1, false, 5001, (uint32_t)(1002 + n), TCP_ACK | TCP_FIN, NULL, 0);
    assert_int_equal(ngot, 1);  // FIN both ways: reported without waiting for the end
    const tls_transcript *t = got[0];
    assert_int_equal(t->quality.gaps[TLS_DIR_C2S], 1);
    assert_int_equal(t->quality.gap_bytes[TLS_DIR_C2S], 20);
    assert_int_equal(t->quality.first_gap_frame[TLS_DIR_C2S], 6);
    assert_int_equal(t->tcp.bytes[TLS_DIR_C2S], n - 20);
    assert_true(t->tcp.fin[TLS_DIR_C2S]);
    assert_true(t->tcp.fin[TLS_DIR_S2C]);
    assert_int_equal(t->tcp.fin_frame[TLS_DIR_C2S], 6);
    assert_int_equal(t->end_reason, TLS_END_CLOSED);
    bool gap_event = false;
    for (uint32_t i = 0; i < t->num_events; i++) {
        if (t->events[i].kind == TLS_EV_TCP_GAP) {
            gap_event = true;
            assert_int_equal(t->events[i].length, 20);
            assert_int_equal(t->events[i].dir, TLS_DIR_C2S);
        }
    }
    assert_true(gap_event);
    // late ACK of the closed connection: absorbed, no second report
    feed(d, &C1, true, (uint32_t)(1002 + n), 5002, TCP_ACK, NULL, 0);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(dissect_get_stats(d)->flows_created, 1);
    dissect_free(d);
}

static void test_ack_past_hole(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, ch, 20);
    feed(d, &C1, true, 1041, 5001, TCP_ACK, ch + 40, n - 40);
    // the server acknowledges everything: the 20 missing bytes reached it, not the capture
    feed(d, &C1, false, 5001, (uint32_t)(1001 + n), TCP_ACK, NULL, 0);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->quality.gaps[TLS_DIR_C2S], 1);
    assert_int_equal(got[0]->quality.first_gap_frame[TLS_DIR_C2S], 6);  // the server's ACK
    assert_int_equal(got[0]->quality.gap_bytes[TLS_DIR_C2S], 20);
    dissect_free(d);
}

static void test_midstream_roles(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    // The ClientHello comes *from* port 443: the bytes, not the port, name the client.
    const conn odd = {{10, 0, 0, 9}, {10, 0, 0, 8}, 443, 40000};
    dissect *d = mk(0, 0);
    feed(d, &odd, true, 777, 888, TCP_ACK, ch, n);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_true(got[0]->quality.midstream);
    assert_false(got[0]->roles_from_syn);
    assert_int_equal(got[0]->client.port, 443);
    assert_int_equal(got[0]->server.port, 40000);
    assert_true(got[0]->ch.present);
    assert_true(got[0]->quality.server_unseen);
    assert_false(got[0]->quality.client_unseen);
    reset(NULL);
    dissect_free(d);

    // No payload at all: the well-known port is the server's.
    const conn plain = {{10, 0, 0, 1}, {10, 0, 0, 2}, 50123, 993};
    d = mk(0, 0);
    feed(d, &plain, false, 1, 2, TCP_ACK, NULL, 0);
    feed(d, &plain, true, 2, 1, TCP_ACK, NULL, 0);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->server.port, 993);
    assert_int_equal(got[0]->client.port, 50123);
    assert_true(got[0]->quality.midstream);
    dissect_free(d);
}

static void test_seq_wraparound(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    uint32_t isn = 0xffffffe0u;  // the ClientHello straddles 2^32
    handshake(d, &C1, isn, 0xfffffffeu);
    feed(d, &C1, true, isn + 1 + 40, 0xffffffffu, TCP_ACK, ch + 40, n - 40);  // wraps: held
    feed(d, &C1, true, isn + 1, 0xffffffffu, TCP_ACK, ch, 40);
    feed(d, &C1, false, 0xffffffffu, (uint32_t)(isn + 1 + n), TCP_ACK, NULL, 0);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_hello_parsed(got[0], n);
    assert_int_equal(got[0]->quality.gaps[TLS_DIR_C2S], 0);
    assert_int_equal(got[0]->quality.gaps[TLS_DIR_S2C], 0);
    assert_int_equal(got[0]->tcp.last_ack_from_client, 0xffffffffu);
    dissect_free(d);
}

static void test_syn_flood(void **state) {
    (void)state;
    enum { FLOWS = 100000, CAP = 1000 };
    reports_cap = FLOWS;
    reports_per_id = calloc(FLOWS, sizeof *reports_per_id);
    assert_non_null(reports_per_id);
    dissect *d = mk(CAP, 0);
    for (uint32_t i = 0; i < FLOWS; i++) {
        conn c = {{10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i},
                  {192, 0, 2, 1},
                  (uint16_t)(1024 + (i % 60000)),
                  443};
        feed(d, &c, true, i * 7919u, 0, TCP_SYN, NULL, 0);
    }
    const dissect_stats *st = dissect_get_stats(d);
    assert_int_equal(st->flows_created, FLOWS);
    assert_int_equal(st->flows_evicted, FLOWS - CAP);
    assert_int_equal(st->peak_flows, CAP);
    assert_int_equal(st->transcripts, FLOWS - CAP);
    dissect_finish(d);
    assert_int_equal(st->transcripts, FLOWS);
    assert_int_equal(ngot, FLOWS);
    assert_int_equal(evicted_reports, FLOWS - CAP);
    for (uint32_t i = 0; i < FLOWS; i++) {
        assert_int_equal(reports_per_id[i], 1);
    }
    assert_true(got[0]->quality.evicted);
    assert_false(got[0]->quality.idle);  // the table was full
    assert_int_equal(st->flows_idle, 0);
    assert_int_equal(got[0]->end_reason, TLS_END_EVICTED);
    assert_true(got[0]->tcp.syn);
    assert_false(got[0]->tcp.synack);
    assert_true(got[0]->quality.server_unseen);
    dissect_free(d);
}

static void test_per_flow_cap(void **state) {
    (void)state;
    uint8_t junk[200];
    memset(junk, 0x16, sizeof junk);
    dissect *d = mk(0, 300);
    handshake(d, &C1, 1000, 5000);
    // a hole at 1001..1100, then 400 bytes waiting behind it: the cap (300) is hit
    feed(d, &C1, true, 1101, 5001, TCP_ACK, junk, 200);
    feed(d, &C1, true, 1301, 5001, TCP_ACK, junk, 200);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_true(got[0]->quality.buffer_cap_hit);
    assert_int_equal(got[0]->quality.gaps[TLS_DIR_C2S], 1);
    assert_int_equal(got[0]->quality.gap_bytes[TLS_DIR_C2S], 100);
    assert_true(dissect_get_stats(d)->peak_buffered_bytes <= 300 + 16384);
    dissect_free(d);
}

static void test_global_cap(void **state) {
    (void)state;
    uint8_t junk[200];
    memset(junk, 0x16, sizeof junk);
    dissect_config cfg;
    dissect_config_default(&cfg);
    cfg.max_total_bytes = 300;
    cfg.on_transcript = on_transcript;
    dissect *d = dissect_new(&cfg);
    assert_non_null(d);
    const conn c2 = {{10, 0, 0, 2}, {192, 0, 2, 10}, 51001, 443};
    handshake(d, &C1, 1000, 5000);
    handshake(d, &c2, 1000, 5000);
    feed(d, &C1, true, 1101, 5001, TCP_ACK, junk, 200);  // held: 200 of 300
    feed(d, &c2, true, 1101, 5001, TCP_ACK, junk, 200);  // would make 400: gap instead
    assert_true(dissect_get_stats(d)->peak_buffered_bytes <= 300);
    dissect_finish(d);
    assert_int_equal(ngot, 2);
    assert_false(got[0]->quality.buffer_cap_hit);
    assert_false(got[0]->quality.total_cap_hit);
    // The total cap refused the hold, not the flow's own: named as such (issue 14 item 5).
    assert_false(got[1]->quality.buffer_cap_hit);
    assert_true(got[1]->quality.total_cap_hit);
    assert_int_equal(dissect_get_stats(d)->bounds.total_cap, 1);
    assert_int_equal(dissect_get_stats(d)->bounds.flow_cap, 0);
    assert_int_equal(got[1]->quality.gap_bytes[TLS_DIR_C2S], 100);
    assert_int_equal(got[0]->quality.gap_bytes[TLS_DIR_C2S], 100);  // declared at the end
    dissect_free(d);
}

// ---------------------------------------------------------------------------------------------
// Issue 14: reassembly work for any arrival order, real memory of held data, every cap named.
// ---------------------------------------------------------------------------------------------
enum { ORDER_REVERSED, ORDER_STRIDE, ORDER_OVERLAP, ORDER_COUNT };

// Byte `o` of the client stream: application-data records of 1,024 bytes, so the TLS layer
// keeps the connection open whatever order the bytes arrive in.
static uint8_t stream_byte(uint32_t o) {
    static const uint8_t hdr[5] = {0x17, 0x03, 0x03, 0x03, 0xfb};  // 1,019-byte body
    return o % 1024 < 5 ? hdr[o % 1024] : (uint8_t)(o * 31);
}

static uint32_t log2_ceil(uint32_t n) {
    uint32_t l = 0;
    while ((1u << l) < n) {
        l++;
    }
    return l;
}

// n 8-byte segments of one connection in the given order (ORDER_OVERLAP: reversed, each segment
// 16 bytes long so it also re-sends the next one's bytes); returns the tree steps it took.
static uint64_t reassemble(uint32_t n, int order) {
    dissect_config cfg;
    dissect_config_default(&cfg);
    cfg.max_flow_bytes = 64u << 20;
    cfg.max_total_bytes = 1ull << 30;
    cfg.on_transcript = on_transcript;
    dissect *d = dissect_new(&cfg);
    assert_non_null(d);
    frame_no = 0;
    handshake(d, &C1, 1000, 5000);
    for (uint32_t k = 0; k < n; k++) {
        // 7919 is prime and divides no n used here: k·7919 mod n visits every slot once.
        uint32_t i = order == ORDER_STRIDE ? (uint32_t)((uint64_t)k * 7919 % n) : n - 1 - k;
        uint32_t len = order == ORDER_OVERLAP && i + 1 < n ? 16 : 8;
        uint8_t seg[16];
        for (uint32_t j = 0; j < len; j++) {
            seg[j] = stream_byte(8 * i + j);
        }
        feed(d, &C1, true, 1001 + 8 * i, 5001, TCP_ACK, seg, len);
    }
    dissect_finish(d);
    uint64_t steps = tcp__steps(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->tcp.bytes[TLS_DIR_C2S], 8ull * n);
    assert_int_equal(got[0]->quality.gaps[TLS_DIR_C2S], 0);
    assert_int_equal(got[0]->quality.overlap_conflicts, 0);
    assert_false(got[0]->quality.buffer_cap_hit);
    dissect_free(d);
    reset(NULL);
    return steps;
}

// Held segments live in an ordered tree: the work stays within 4·n·log2(n) tree steps for
// reversed, scattered and overlapping arrival at n = 1k, 10k, 100k. A sorted list (before
// issue 14) walked n²/2 nodes for reversed input: 5·10^9 at n = 100k.
static void test_any_order_n_log_n(void **state) {
    (void)state;
    static const uint32_t sizes[] = {1000, 10000, 100000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t n = sizes[k];
        for (int order = 0; order < ORDER_COUNT; order++) {
            uint64_t steps = reassemble(n, order);
            print_message("n=%u order=%d: %llu steps (%.2f n log2 n)\n", n, order,
                          (unsigned long long)steps, (double)steps / n / log2_ceil(n));
            assert_true(steps <= 4ull * n * log2_ceil(n));
        }
    }
}

// The ClientHello cut into overlapping pieces of 1..24 bytes sent in a shuffled order, 300
// times with different cuts: every byte reaches the parser once, in order (first copy wins
// over the identical re-sent bytes), whatever shape the held ranges take.
static void test_shuffled_overlapping_pieces(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    uint32_t rng = 12345;
    for (int round = 0; round < 300; round++) {
        enum { MAXP = 512 };
        uint32_t off[MAXP], len[MAXP], np = 0;
        for (uint32_t o = 0; o < n && np < MAXP;) {  // pieces covering it all, overlapping
            rng = rng * 1103515245u + 12345u;
            uint32_t l = 1 + (rng >> 16) % 24;
            off[np] = o;
            len[np] = o + l > n ? (uint32_t)n - o : l;
            np++;
            o += 1 + (rng >> 8) % l;  // the next piece starts inside this one or right after
        }
        for (uint32_t i = np - 1; i > 0; i--) {  // Fisher-Yates
            rng = rng * 1103515245u + 12345u;
            uint32_t j = (rng >> 16) % (i + 1), to = off[i], tl = len[i];
            off[i] = off[j], len[i] = len[j], off[j] = to, len[j] = tl;
        }
        dissect *d = mk(0, 0);
        handshake(d, &C1, 1000, 5000);
        for (uint32_t i = 0; i < np; i++) {
            // PSH: a short all-zero piece must not pass for Ethernet padding (tcp_is_pad)
            feed(d, &C1, true, 1001 + off[i], 5001, TCP_ACK | TCP_PSH, ch + off[i], len[i]);
        }
        dissect_finish(d);
        assert_int_equal(ngot, 1);
        assert_hello_parsed(got[0], n);
        assert_int_equal(got[0]->quality.gaps[TLS_DIR_C2S], 0);
        assert_int_equal(got[0]->quality.overlap_conflicts, 0);
        dissect_free(d);
        reset(NULL);
    }
}

// A held 8-byte segment costs its node and the allocator's overhead, not 8 bytes: 200 of them
// behind a hole do not fit in --max-flow-bytes 4800 (they took 9,600 bytes of heap, counted
// as 1,600 bytes), and the cap is stated.
static void test_tiny_segments_real_cost(void **state) {
    (void)state;
    uint8_t junk[8];
    memset(junk, 0x17, sizeof junk);
    dissect *d = mk(0, 4800);
    handshake(d, &C1, 1000, 5000);
    for (uint32_t i = 0; i < 200; i++) {
        feed(d, &C1, true, 1001 + 8 + 16 * i, 5001, TCP_ACK, junk, 8);  // hole at 1001..1008
    }
    assert_true(dissect_get_stats(d)->peak_buffered_bytes <= 4800);
    assert_true(dissect_get_stats(d)->peak_buffered_bytes >= 4800 - 48);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_true(got[0]->quality.buffer_cap_hit);
    assert_false(got[0]->quality.total_cap_hit);
    dissect_free(d);
}

// Segments whose payload the snaplen cut to 0 bytes are not held (no byte to keep): 20,000 of
// them beyond a hole cost no memory and no per-segment walk, and the hole is still a gap.
static void test_zero_length_cut_segments(void **state) {
    (void)state;
    uint8_t junk[100];
    memset(junk, 0x17, sizeof junk);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001 + 100, 5001, TCP_ACK, junk, 100);  // held behind a 100-byte hole
    uint64_t before = tcp__steps(d);
    for (uint32_t i = 0; i < 20000; i++) {
        feed_cut(d, &C1, true, 1001 + 300 + 100 * i, 5001, TCP_ACK, junk, 100, 40);
    }
    assert_true(tcp__steps(d) - before <= 20000ull * 4);
    assert_true(dissect_get_stats(d)->peak_buffered_bytes <= 256);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->quality.snaplen_truncated, 20000);
    assert_int_equal(got[0]->quality.gap_bytes[TLS_DIR_C2S], 100);
    assert_int_equal(got[0]->tcp.bytes[TLS_DIR_C2S], 100);
    dissect_free(d);
}

// The TLS layer's own buffer cap (an incomplete 5,000-byte handshake message under
// --max-flow-bytes 1000) reaches the transcript: the flow's flags used to overwrite it.
static void test_tls_buffer_cap_kept(void **state) {
    (void)state;
    uint8_t rec[1400];
    memset(rec, 0, sizeof rec);
    memcpy(rec, "\x16\x03\x01\x05\x73\x01\x00\x13\x88", 9);  // ClientHello of 5,000 bytes
    dissect *d = mk(0, 1000);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, rec, sizeof rec);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->end_reason, TLS_END_BUFFER_CAP);
    assert_true(got[0]->quality.buffer_cap_hit);
    assert_false(got[0]->quality.total_cap_hit);
    assert_false(got[0]->quality.message_cap_hit);
    assert_int_equal(dissect_get_stats(d)->bounds.flow_cap, 1);  // what stderr states
    dissect_free(d);
}

// A declared handshake length over max_message_len is a quality fact, not only an event that
// may not fit in the transcript.
static void test_message_cap_flag(void **state) {
    (void)state;
    static const uint8_t rec[] = {0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0, 0, 0, 0};
    dissect_config cfg;
    dissect_config_default(&cfg);
    cfg.max_message_len = 4096;  // the declared 65,536 bytes are over it
    cfg.on_transcript = on_transcript;
    dissect *d = dissect_new(&cfg);
    assert_non_null(d);
    frame_no = 0;
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK, rec, sizeof rec);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_true(got[0]->quality.message_cap_hit);
    assert_false(got[0]->quality.buffer_cap_hit);
    assert_int_equal(dissect_get_stats(d)->bounds.message_cap, 1);
    dissect_free(d);
}

// More events than a transcript keeps (300 SYN retries): counted in events_dropped and in the
// dissector's bounds, which the CLI states on stderr.
static void test_events_cap_counted(void **state) {
    (void)state;
    dissect *d = mk(0, 0);
    for (int i = 0; i < 300; i++) {
        feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    }
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->num_events, TLS_MAX_EVENTS);
    assert_int_equal(got[0]->events_dropped, 300 - TLS_MAX_EVENTS);
    assert_int_equal(dissect_get_stats(d)->bounds.events_dropped, 1);
    dissect_free(d);
}

static void test_refused_and_streams(void **state) {
    (void)state;
    dissect *d = mk(0, 0);
    feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);             // retransmitted SYN
    feed(d, &C1, false, 0, 1001, TCP_RST | TCP_ACK, NULL, 0);  // nothing listening
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->conn_id, 0);
    assert_int_equal(got[0]->tcp.syn_count, 2);
    assert_true(got[0]->tcp.syn_retransmitted);
    assert_true(got[0]->tcp.rst[TLS_DIR_S2C]);
    assert_int_equal(got[0]->tcp.rst_frame[TLS_DIR_S2C], 3);
    assert_int_equal(got[0]->end_reason, TLS_END_CLOSED);
    // The same ISN again after the RST: a retry of the same connection (Wireshark 4.0's
    // tcp.stream), absorbed by the decided record.
    feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    feed(d, &C1, false, 0, 1001, TCP_RST | TCP_ACK, NULL, 0);
    assert_int_equal(ngot, 1);
    // A different ISN: a new connection; and another while that one is still open: a third.
    feed(d, &C1, true, 9000, 0, TCP_SYN, NULL, 0);
    feed(d, &C1, true, 7000, 0, TCP_SYN, NULL, 0);
    dissect_finish(d);
    assert_int_equal(ngot, 3);
    assert_int_equal(got[1]->conn_id, 1);
    assert_int_equal(got[1]->first_frame, 6);
    assert_int_equal(got[1]->end_reason, TLS_END_CLOSED);
    assert_int_equal(got[2]->conn_id, 2);
    assert_int_equal(got[2]->first_frame, 7);
    assert_int_equal(got[2]->end_reason, TLS_END_CAPTURE_END);
    assert_int_equal(dissect_get_stats(d)->flows_created, 3);
    dissect_free(d);
}

static void test_server_flight_lost(void **state) {
    (void)state;
    // A ServerHello record declaring more than is sent: the TLS layer keeps waiting.
    uint8_t flight[600];
    memset(flight, 0, sizeof flight);
    flight[0] = 0x16, flight[1] = 3, flight[2] = 3, flight[3] = 0x10, flight[4] = 0;
    flight[5] = 2, flight[6] = 0, flight[7] = 0x0f, flight[8] = 0xfc;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK | TCP_PSH, ch, n);
    for (int i = 0; i < 3; i++) {  // sent, then resent twice; the client never acks it
        feed(d, &C1, false, 5001, (uint32_t)(1001 + n), TCP_ACK, flight, sizeof flight);
    }
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    const tls_transcript *t = got[0];
    assert_int_equal(t->tcp.retransmits[TLS_DIR_S2C], 2);
    assert_int_equal(t->tcp.server_flight_retransmits, 2);
    assert_false(t->tcp.server_flight_acked);
    assert_int_equal(t->tcp.bytes[TLS_DIR_S2C], sizeof flight);
    uint32_t retx_events = 0;
    for (uint32_t i = 0; i < t->num_events; i++) {
        if (t->events[i].kind == TLS_EV_TCP_RETRANSMIT) {
            retx_events++;
            assert_int_equal(t->events[i].count, 2);  // merged
            assert_int_equal(t->events[i].dir, TLS_DIR_S2C);
        }
    }
    assert_int_equal(retx_events, 1);
    dissect_free(d);
}

static void test_snaplen_cut(void **state) {
    (void)state;
    uint8_t ch[256];
    size_t n = client_hello(ch);
    dissect *d = mk(0, 0);
    handshake(d, &C1, 1000, 5000);
    feed_cut(d, &C1, true, 1001, 5001, TCP_ACK, ch, n, 40 + 30);  // 30 payload bytes captured
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->quality.snaplen_truncated, 1);
    assert_int_equal(got[0]->quality.first_truncated_frame, 4);
    assert_int_equal(got[0]->quality.gaps[TLS_DIR_C2S], 1);
    assert_int_equal(got[0]->quality.gap_bytes[TLS_DIR_C2S], n - 30);
    assert_int_equal(got[0]->tcp.bytes[TLS_DIR_C2S], 30);
    dissect_free(d);
}

// rss_anon_kib: the process's resident anonymous memory (/proc/self/status RssAnon).
static long rss_anon_kib(void) {
    FILE *st = fopen("/proc/self/status", "r");
    assert_non_null(st);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, st)) {
        if (sscanf(line, "RssAnon: %ld kB", &kib) == 1) {
            break;
        }
    }
    fclose(st);
    assert_true(kib >= 0);
    return kib;
}

// dissect_prefault writes the connection table's pages (262,144 flows: 2 MiB of buckets), so
// none of them is first mapped to the zero page by a lookup and then copied when an insert writes
// it (--threads: each such copy's TLB flush interrupts the other cores); the dissector works as
// before.
static void test_prefault(void **state) {
    (void)state;
    long before = rss_anon_kib();
    dissect *d = mk(262144, 0);
    dissect_prefault(d);
    assert_true(rss_anon_kib() - before >= 1900);
    uint8_t ch[256];
    size_t n = client_hello(ch);
    handshake(d, &C1, 1000, 5000);
    feed(d, &C1, true, 1001, 5001, TCP_ACK | TCP_PSH, ch, n);
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_hello_parsed(got[0], n);
    dissect_free(d);
}

static void test_bad_frames_counted(void **state) {
    (void)state;
    dissect *d = mk(0, 0);
    uint8_t junk[10] = {0x45};
    dissect_frame f = {147, sizeof junk, sizeof junk, junk, 0, 1};
    dissect_feed(d, &f);
    f.linktype = 101;
    dissect_feed(d, &f);  // IPv4 header cut short
    const dissect_stats *st = dissect_get_stats(d);
    assert_int_equal(st->frames, 2);
    assert_int_equal(st->frames_unsupported_link, 1);
    assert_int_equal(st->first_unsupported_linktype, 147);
    assert_int_equal(st->frames_truncated, 1);
    dissect_finish(d);
    assert_int_equal(ngot, 0);
    dissect_free(d);
    dissect_free(NULL);
}

static void test_decided_then_late_packets(void **state) {
    (void)state;
    static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    uint8_t ch[256];
    size_t n = client_hello(ch);
    for (int keep = 1; keep >= 0; keep--) {
        dissect_config cfg;
        dissect_config_default(&cfg);
        cfg.keep_decided_flows = keep;
        cfg.on_transcript = on_transcript;
        dissect *d = dissect_new(&cfg);
        assert_non_null(d);
        handshake(d, &C1, 1000, 5000);
        feed(d, &C1, true, 1001, 5001, TCP_ACK | TCP_PSH, ch, n);
        feed(d, &C1, false, 5001, (uint32_t)(1001 + n), TCP_ACK | TCP_PSH, (const uint8_t *)http,
             sizeof http - 1);
        assert_int_equal(ngot, 1);  // decided by the TLS layer: reported at once
        assert_int_equal(got[0]->end_reason, TLS_END_NOT_TLS);
        assert_int_equal(dissect_get_stats(d)->flows_decided, 1);
        feed(d, &C1, false, (uint32_t)(5001 + sizeof http - 1), (uint32_t)(1001 + n),
             TCP_ACK | TCP_FIN, NULL, 0);
        feed(d, &C1, true, (uint32_t)(1001 + n), (uint32_t)(5002 + sizeof http - 1), TCP_ACK, NULL,
             0);
        dissect_finish(d);
        // kept record: late packets are absorbed; without it they look like a new flow
        assert_int_equal(dissect_get_stats(d)->flows_created, keep ? 1 : 2);
        assert_int_equal(ngot, keep ? 1 : 2);
        if (!keep) {
            assert_true(got[1]->quality.midstream);
            assert_int_equal(got[1]->conn_id, 1);
        }
        dissect_free(d);
        reset(NULL);
    }
}

// dissect_oldest_live_frame (--threads drops conn_id bookkeeping below it): the first frame of
// the oldest connection not yet reported; reported ones (a reset here) no longer count.
static void test_oldest_live_frame(void **state) {
    (void)state;
    dissect *d = mk(0, 0);
    assert_int_equal(dissect_oldest_live_frame(d), UINT32_MAX);
    const conn c2 = {{10, 0, 0, 2}, {192, 0, 2, 10}, 40000, 443};
    handshake(d, &C1, 1000, 5000);  // frames 1-3
    handshake(d, &c2, 2000, 6000);  // frames 4-6
    assert_int_equal(dissect_oldest_live_frame(d), 1);
    feed(d, &C1, true, 1001, 5001, TCP_RST | TCP_ACK, NULL, 0);  // C1 ends, reported
    assert_int_equal(ngot, 1);
    assert_int_equal(dissect_oldest_live_frame(d), 4);
    dissect_finish(d);
    assert_int_equal(ngot, 2);
    assert_int_equal(dissect_oldest_live_frame(d), UINT32_MAX);
    dissect_free(d);
}

// mk_idle1: a dissector with an idle timeout of one second, reporting to on_transcript.
static dissect *mk_idle1(void) {
    dissect_config cfg;
    dissect_config_default(&cfg);
    cfg.idle_timeout_s = 1;
    cfg.on_transcript = on_transcript;
    dissect *d = dissect_new(&cfg);
    assert_non_null(d);
    frame_no = 0;
    return d;
}

static void test_idle_eviction(void **state) {
    (void)state;
    dissect *d = mk_idle1();
    now_ns = 0;
    feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    const conn other = {{10, 0, 0, 3}, {192, 0, 2, 10}, 40000, 443};
    const conn third = {{10, 0, 0, 4}, {192, 0, 2, 10}, 40001, 443};
    // One frame with a bogus timestamp decades ahead, one decades back: nobody is evicted.
    now_ns = 1000000000LL * 1000000000LL;
    feed(d, &other, true, 1, 0, TCP_SYN, NULL, 0);
    now_ns = 1000000;
    feed(d, &other, true, 1, 0, TCP_SYN, NULL, 0);
    assert_int_equal(ngot, 0);
    now_ns = 2000000000LL;  // two seconds of capture time after the first frame ...
    feed(d, &third, true, 1, 0, TCP_SYN, NULL, 0);
    assert_int_equal(ngot, 0);  // ... a jump beyond the timeout waits for confirmation
    feed(d, &third, true, 1, 0, TCP_SYN, NULL, 0);
    assert_int_equal(ngot, 2);  // confirmed: C1 and `other` were idle
    assert_int_equal(got[1]->conn_id, 1);
    assert_int_equal(got[0]->conn_id, 0);
    assert_int_equal(got[0]->end_reason, TLS_END_EVICTED);
    assert_true(got[0]->quality.evicted);
    assert_true(got[0]->quality.idle);  // idle, not a full table
    assert_int_equal(dissect_get_stats(d)->flows_evicted, 2);
    assert_int_equal(dissect_get_stats(d)->flows_idle, 2);
    dissect_finish(d);
    assert_int_equal(ngot, 3);
    assert_int_equal(got[2]->conn_id, 2);
    assert_int_equal(got[2]->end_reason, TLS_END_CAPTURE_END);
    dissect_free(d);
}

// A frame that starts a clock jump leaves its connection in the LRU order of idle times: a jump
// never confirmed must not keep that connection from idling out, nor hold back the connections
// behind it (expiry reads the list heads only; --threads workers' shorter lists must expire each
// connection at the same frame as one thread's). A confirmed jump still spares the connection
// that arrived with it.
static void test_clock_jump_keeps_idle_order(void **state) {
    (void)state;
    dissect *d = mk_idle1();
    const int64_t S = 1000000000LL;
    const conn a = {{10, 0, 0, 5}, {192, 0, 2, 10}, 40005, 443};
    const conn b = {{10, 0, 0, 6}, {192, 0, 2, 10}, 40006, 443};
    const conn e = {{10, 0, 0, 7}, {192, 0, 2, 10}, 40007, 443};
    now_ns = 0;
    feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);  // conn 0
    now_ns = 30LL * 365 * 86400 * S;                // one bogus frame, never confirmed
    feed(d, &a, true, 1, 0, TCP_SYN, NULL, 0);      // conn 1, behind C1
    now_ns = S / 2;
    feed(d, &b, true, 1, 0, TCP_SYN, NULL, 0);  // conn 2: the clock goes on (0.5 s)
    assert_int_equal(ngot, 0);
    now_ns = S + S / 10;  // 1.1 s: C1 and a were last seen at 0 s (the clock then)
    feed(d, &b, true, 2, 0, TCP_ACK, NULL, 0);
    assert_int_equal(ngot, 2);
    assert_int_equal(got[0]->conn_id, 0);
    assert_int_equal(got[1]->conn_id, 1);
    assert_int_equal(got[1]->end_reason, TLS_END_EVICTED);
    assert_true(got[1]->quality.idle);
    // A confirmed jump: 100 s ahead on e, confirmed by b's frame 0.1 s later. b (seen at 1.1 s)
    // is idle by then; e, which arrived with the jump, is not, and goes idle 1 s after it.
    now_ns = 100 * S;
    feed(d, &e, true, 1, 0, TCP_SYN, NULL, 0);  // conn 3
    assert_int_equal(ngot, 2);
    now_ns = 100 * S + S / 10;
    feed(d, &C1, true, 5000, 0, TCP_SYN, NULL, 0);  // conn 4: confirms
    assert_int_equal(ngot, 3);
    assert_int_equal(got[2]->conn_id, 2);
    now_ns = 100 * S + 9 * S / 10;  // 0.9 s after e's frame: e stays
    feed(d, &C1, true, 5001, 0, TCP_ACK, NULL, 0);
    assert_int_equal(ngot, 3);
    now_ns = 101 * S + S / 20;  // 1.05 s after e's frame: e goes, conn 4 (0.95 s) stays
    feed(d, &C1, true, 5002, 0, TCP_ACK, NULL, 0);
    assert_int_equal(ngot, 4);
    assert_int_equal(got[3]->conn_id, 3);
    assert_true(got[3]->quality.idle);
    dissect_finish(d);
    assert_int_equal(ngot, 5);
    dissect_free(d);
}

// The record of a connection that idled out is kept one timeout from its eviction for late
// packets, whatever decided records are ahead of it in the list (with --threads those differ).
static void test_idle_record_kept_one_timeout(void **state) {
    (void)state;
    dissect *d = mk_idle1();
    const int64_t S = 1000000000LL;
    const conn x = {{10, 0, 0, 8}, {192, 0, 2, 10}, 40008, 443};
    const conn y = {{10, 0, 0, 9}, {192, 0, 2, 10}, 40009, 443};
    now_ns = 0;
    feed(d, &C1, true, 1000, 0, TCP_SYN, NULL, 0);  // conn 0
    now_ns = 6 * S / 10;
    feed(d, &x, true, 1, 0, TCP_SYN, NULL, 0);  // conn 1, reset: decided at 0.6 s
    feed(d, &x, true, 2, 0, TCP_RST, NULL, 0);
    assert_int_equal(ngot, 1);
    now_ns = 11 * S / 10;
    feed(d, &y, true, 1, 0, TCP_SYN, NULL, 0);  // conn 2; C1 idles out (1.1 s)
    assert_int_equal(ngot, 2);
    assert_int_equal(got[1]->conn_id, 0);
    now_ns = 17 * S / 10;  // x's record goes; C1's stays until 2.1 s
    feed(d, &y, true, 2, 0, TCP_ACK, NULL, 0);
    now_ns = 18 * S / 10;  // a late packet of C1: its record takes it, no new connection
    feed(d, &C1, true, 1001, 0, TCP_ACK, NULL, 0);
    assert_int_equal(dissect_get_stats(d)->flows_created, 3);
    now_ns = 29 * S / 10;  // more than a timeout after that packet: C1 is a new connection
    feed(d, &y, true, 3, 0, TCP_ACK, NULL, 0);
    feed(d, &C1, true, 1002, 0, TCP_ACK, NULL, 0);
    assert_int_equal(dissect_get_stats(d)->flows_created, 4);
    dissect_finish(d);
    dissect_free(d);
}

// The capture clock's rules (dissect_clock_step), the one copy a dissector and --threads' reader
// both run: steps within the timeout move it, steps back hold it, a jump waits for a second frame.
static void test_clock_rules(void **state) {
    (void)state;
    const int64_t S = 1000000000LL;
    dissect_clock c;
    dissect_clock_init(&c, 10);
    assert_int_equal(dissect_clock_step(&c, 100 * S), DISSECT_CLOCK_STEADY);  // first frame
    assert_true(c.set && c.now_ns == 100 * S);
    assert_int_equal(dissect_clock_step(&c, 105 * S), DISSECT_CLOCK_STEADY);
    assert_int_equal(dissect_clock_step(&c, 50 * S), DISSECT_CLOCK_STEADY);  // back: holds
    assert_true(c.now_ns == 105 * S && !c.jump_pending);
    assert_int_equal(dissect_clock_step(&c, 1000 * S), DISSECT_CLOCK_JUMP);
    assert_true(c.jump_pending && c.now_ns == 105 * S && c.jump_ns == 1000 * S);
    assert_int_equal(dissect_clock_step(&c, 106 * S), DISSECT_CLOCK_STEADY);  // not confirmed
    assert_true(!c.jump_pending && c.now_ns == 106 * S);
    assert_int_equal(dissect_clock_step(&c, 2000 * S), DISSECT_CLOCK_JUMP);
    assert_int_equal(dissect_clock_step(&c, 2005 * S), DISSECT_CLOCK_CONFIRMED);
    assert_true(!c.jump_pending && c.now_ns == 2005 * S);
    dissect_clock_init(&c, 0);  // no idle timeout: every step forward is a jump
    assert_int_equal(dissect_clock_step(&c, S), DISSECT_CLOCK_STEADY);
    assert_int_equal(dissect_clock_step(&c, S), DISSECT_CLOCK_STEADY);
    assert_int_equal(dissect_clock_step(&c, 2 * S), DISSECT_CLOCK_JUMP);
}

// dissect_clock_pass (a --threads worker passing a run of other shards' frames): nothing due by
// a clock, the pass leaves the same state as stepping through the run; something due, it changes
// nothing and the run is stepped through, the expiry reported at its frame, as one dissector does.
static void test_clock_skip_matches_stepping(void **state) {
    (void)state;
    const int64_t S = 1000000000LL;
    dissect *a = mk_idle1(), *b = mk_idle1();
    now_ns = 0;
    feed(a, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    feed(b, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    // A run of other shards' frames at 0.2, 0.5, 0.9 s: b steps, a passes to 0.9 s in one step.
    for (int i = 0; i < 3; i++) {
        dissect_clock_only(b, (int64_t[]){2 * S / 10, 5 * S / 10, 9 * S / 10}[i]);
    }
    assert_true(dissect_clock_pass(a, 9 * S / 10));
    assert_false(dissect_clock_pass(a, 11 * S / 10));  // by 1.1 s, C1 has been idle 1.1 s
    assert_true(dissect_clock_pass(a, S));             // (idle for more than the timeout)
    assert_int_equal(ngot, 0);
    // The next run ends past the timeout: due, so stepped through; C1 goes at that frame in both.
    now_ns = 105 * S / 100;
    dissect_clock_only(a, now_ns);
    assert_int_equal(ngot, 1);
    dissect_clock_only(b, now_ns);
    assert_int_equal(ngot, 2);
    assert_int_equal(got[0]->end_reason, TLS_END_EVICTED);
    assert_int_equal(got[1]->end_reason, TLS_END_EVICTED);
    assert_int_equal(got[0]->conn_id, got[1]->conn_id);
    assert_true(got[0]->quality.idle && got[1]->quality.idle);
    dissect_free(a);
    dissect_free(b);
}

// dissect_idle_deadline: INT64_MAX while nothing is held; then the oldest connection's last
// frame plus the timeout, exactly the last clock dissect_clock_pass takes in one step; it moves
// on when that connection speaks again, and a pass up to it changes the clock of dissect_clock_of.
static void test_idle_deadline(void **state) {
    (void)state;
    const int64_t S = 1000000000LL;
    static const conn C2 = {{10, 0, 0, 2}, {192, 0, 2, 10}, 51001, 443};
    dissect *a = mk_idle1();
    assert_true(dissect_idle_deadline(a) == INT64_MAX);
    now_ns = 0;
    feed(a, &C1, true, 1000, 0, TCP_SYN, NULL, 0);
    assert_true(dissect_idle_deadline(a) == S);
    now_ns = S / 2;
    feed(a, &C2, true, 1000, 0, TCP_SYN, NULL, 0);
    assert_true(dissect_idle_deadline(a) == S);  // C1 is still the oldest
    now_ns = 6 * S / 10;
    feed(a, &C1, true, 1001, 0, TCP_ACK, NULL, 0);
    assert_true(dissect_idle_deadline(a) == S + S / 2);  // now C2 is
    assert_false(dissect_clock_pass(a, S + S / 2 + 1));
    assert_true(dissect_clock_pass(a, S + S / 2));
    assert_true(dissect_clock_of(a)->now_ns == S + S / 2);
    assert_int_equal(ngot, 0);
    dissect_free(a);
}

// dissect_feed_frames reports what one-by-one dissect_feed does and returns right after each
// frame that reported a transcript (the pipeline asks whether to go on only then).
static void test_feed_frames_stops_after_transcript(void **state) {
    (void)state;
    enum { CONNS = 5, PER = 5, N = CONNS * PER };
    static uint8_t bufs[N][64];
    dissect_frame fr[N];
    for (size_t c = 0; c < CONNS; c++) {
        const conn k = {{10, 0, 0, (uint8_t)(10 + c)}, {192, 0, 2, 10}, (uint16_t)(50000 + c), 443};
        const struct {
            bool c2s;
            uint32_t seq, ack;
            uint8_t flags;
        } seg[PER] = {{true, 100, 0, TCP_SYN},
                      {false, 900, 101, TCP_SYN | TCP_ACK},
                      {true, 101, 901, TCP_ACK},
                      {true, 101, 901, TCP_RST | TCP_ACK},
                      {false, 901, 101, TCP_ACK}};  // a late packet of a reported connection
        for (size_t j = 0; j < PER; j++) {
            size_t i = c * PER + j;
            size_t len =
                build(bufs[i], &k, seg[j].c2s, seg[j].seq, seg[j].ack, seg[j].flags, NULL, 0);
            fr[i] = (dissect_frame){101,
                                    (uint32_t)len,
                                    (uint32_t)len,
                                    bufs[i],
                                    1700000000LL * 1000000000LL + (int64_t)i,
                                    (uint32_t)i + 1};
        }
    }
    size_t want[CONNS], nwant = 0;
    dissect *d = mk(0, 0);
    for (size_t i = 0; i < N; i++) {
        size_t before = ngot;
        dissect_feed(d, &fr[i]);
        if (ngot != before) {
            assert_true(nwant < CONNS);
            want[nwant++] = i + 1;
        }
    }
    assert_int_equal(nwant, CONNS);
    dissect_free(d);
    reset(NULL);
    d = mk(0, 0);
    assert_int_equal(dissect_feed_frames(d, fr, 0), 0);
    for (size_t i = 0; i < N;) {
        size_t before = ngot, k = dissect_feed_frames(d, &fr[i], N - i);
        assert_true(k >= 1 && k <= N - i);
        i += k;
        if (ngot != before) {
            assert_int_equal(ngot, before + 1);
            assert_int_equal(i, want[ngot - 1]);
        } else {
            assert_int_equal(i, N);
        }
    }
    assert_int_equal(ngot, CONNS);
    assert_int_equal(dissect_get_stats(d)->frames, N);
    dissect_free(d);
}

// An ICMP error quoting a TCP header takes a conn_id (as tcp.stream does) but, with no packet of
// its own, yields no transcript.
static void test_icmp_quote_numbering(void **state) {
    (void)state;
    dissect *d = mk(0, 0);
    uint8_t b[128];
    memset(b, 0, sizeof b);
    b[0] = 0x45, b[3] = 20 + 8 + 20 + 8, b[9] = 1;  // IPv4, ICMP
    b[20] = 3, b[21] = 3;                           // port unreachable
    b[28] = 0x45, b[30] = 0x05, b[31] = 0xdc, b[37] = 6;
    memcpy(b + 40, (const uint8_t[]){10, 9, 9, 9, 10, 8, 8, 8}, 8);
    b[48] = 0x9c, b[49] = 0x40, b[50] = 0x01, b[51] = 0xbb;  // 40000 → 443
    dissect_frame f = {101, 56, 56, b, now_ns, ++frame_no};
    dissect_feed(d, &f);
    handshake(d, &C1, 1000, 5000);
    dissect_feed(d, &f);  // quoting the same tuple again: no new number
    dissect_finish(d);
    assert_int_equal(ngot, 1);
    assert_int_equal(got[0]->conn_id, 1);
    assert_int_equal(dissect_get_stats(d)->flows_created, 2);
    assert_int_equal(dissect_get_stats(d)->transcripts, 1);
    assert_int_equal(dissect_get_stats(d)->frames_not_tcp, 2);
    dissect_free(d);
}

// flow_table: records from small slabs, then from FLOW_HUGE pages once FLOW_HUGE_AFTER were made;
// every record found by its key through inserts, removals and reuse across the slab kinds;
// never more records made than the capacity (max_flows).
static flow_key table_key(uint32_t i) {
    flow_key k;
    memset(&k, 0, sizeof k);
    memcpy(k.addr[0], &i, sizeof i);
    k.port[0] = 443;
    k.family = 4;
    return k;
}

static uint32_t table_hash(uint32_t i) {
    return i * 2654435761u;
}

static void table_check(const flow_table *ft, uint32_t n, const bool *gone) {
    for (uint32_t i = 0; i < n; i++) {
        flow_key k = table_key(i);
        flow *f = flow_lookup(ft, &k, table_hash(i));
        if (gone[i]) {
            assert_null(f);
        } else {
            assert_non_null(f);
            assert_memory_equal(&f->key, &k, sizeof k);
        }
    }
}

static void test_flow_table_slabs(void **state) {
    (void)state;
    enum { HUGE_LEN = (FLOW_HUGE - sizeof(flow_slab)) / sizeof(flow) };
    const uint32_t caps[] = {FLOW_HUGE_AFTER + 2 * HUGE_LEN + 100, FLOW_HUGE_AFTER + 10, 7};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        uint32_t cap = caps[c];
        flow_table ft;
        assert_true(flow_table_init(&ft, cap));
        bool *gone = calloc(cap, sizeof *gone);
        flow **recs = calloc(cap, sizeof *recs);
        assert_non_null(gone);
        assert_non_null(recs);
        for (uint32_t i = 0; i < cap; i++) {
            flow_key k = table_key(i);
            recs[i] = flow_insert(&ft, &k, table_hash(i));
            assert_non_null(recs[i]);
            assert_int_equal(ft.made, i + 1);
            assert_int_equal(ft.count, i + 1);
        }
        table_check(&ft, cap, gone);
        uint32_t huge = 0, total = 0, slots = 0;
        for (const flow_slab *s = ft.slabs; s; s = s->next) {
            slots += s->len;
            if (s->bytes > 0) {
                assert_int_equal(s->bytes, FLOW_HUGE);
                assert_int_equal((uintptr_t)s % FLOW_HUGE, 0);
                assert_int_equal(s->len, HUGE_LEN);
                huge++;
            }
        }
        assert_int_equal(slots, cap);  // records made never exceed max_flows
        for (uint32_t i = 0; i < cap; i++) {
            bool in_huge = false;
            for (const flow_slab *s = ft.slabs; s; s = s->next) {
                if (s->bytes > 0 && (const uint8_t *)recs[i] >= (const uint8_t *)s &&
                    (const uint8_t *)(recs[i] + 1) <= (const uint8_t *)s + s->bytes) {
                    in_huge = true;
                }
            }
            total += in_huge;
            // the first FLOW_HUGE_AFTER records come from small slabs
            assert_true(!in_huge || i >= FLOW_HUGE_AFTER);
        }
        assert_int_equal(huge, c == 0 ? 2 : 0);
        assert_int_equal(total, c == 0 ? 2 * HUGE_LEN : 0);
        // Remove every third record, reinsert as many new keys: spares reused, nothing made.
        for (uint32_t i = 0; i < cap; i += 3) {
            flow_remove(&ft, recs[i]);
            gone[i] = true;
        }
        table_check(&ft, cap, gone);
        for (uint32_t i = 0; i < cap; i += 3) {
            flow_key k = table_key(i);
            assert_non_null(flow_insert(&ft, &k, table_hash(i)));
            gone[i] = false;
            assert_true(ft.made <= cap);
        }
        assert_int_equal(ft.made, cap);
        assert_int_equal(ft.count, cap);
        table_check(&ft, cap, gone);
        flow_table_destroy(&ft);
        free(gone);
        free(recs);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_prefault, reset),  // first: no freed memory to reuse yet
        cmocka_unit_test_teardown(test_in_order, reset),
        cmocka_unit_test_teardown(test_feed_frames_stops_after_transcript, reset),
        cmocka_unit_test(test_flow_table_slabs),
        cmocka_unit_test_teardown(test_out_of_order, reset),
        cmocka_unit_test_teardown(test_retransmission_identical, reset),
        cmocka_unit_test_teardown(test_retransmission_conflicting, reset),
        cmocka_unit_test_teardown(test_ack_zero_padding, reset),
        cmocka_unit_test_teardown(test_overlapping_segments, reset),
        cmocka_unit_test_teardown(test_gap_then_fin, reset),
        cmocka_unit_test_teardown(test_ack_past_hole, reset),
        cmocka_unit_test_teardown(test_midstream_roles, reset),
        cmocka_unit_test_teardown(test_seq_wraparound, reset),
        cmocka_unit_test_teardown(test_syn_flood, reset),
        cmocka_unit_test_teardown(test_per_flow_cap, reset),
        cmocka_unit_test_teardown(test_global_cap, reset),
        cmocka_unit_test_teardown(test_any_order_n_log_n, reset),
        cmocka_unit_test_teardown(test_shuffled_overlapping_pieces, reset),
        cmocka_unit_test_teardown(test_tiny_segments_real_cost, reset),
        cmocka_unit_test_teardown(test_zero_length_cut_segments, reset),
        cmocka_unit_test_teardown(test_tls_buffer_cap_kept, reset),
        cmocka_unit_test_teardown(test_message_cap_flag, reset),
        cmocka_unit_test_teardown(test_events_cap_counted, reset),
        cmocka_unit_test_teardown(test_refused_and_streams, reset),
        cmocka_unit_test_teardown(test_server_flight_lost, reset),
        cmocka_unit_test_teardown(test_snaplen_cut, reset),
        cmocka_unit_test_teardown(test_bad_frames_counted, reset),
        cmocka_unit_test_teardown(test_decided_then_late_packets, reset),
        cmocka_unit_test_teardown(test_oldest_live_frame, reset),
        cmocka_unit_test_teardown(test_idle_eviction, reset),
        cmocka_unit_test_teardown(test_clock_jump_keeps_idle_order, reset),
        cmocka_unit_test_teardown(test_idle_record_kept_one_timeout, reset),
        cmocka_unit_test_teardown(test_clock_rules, reset),
        cmocka_unit_test_teardown(test_clock_skip_matches_stepping, reset),
        cmocka_unit_test_teardown(test_idle_deadline, reset),
        cmocka_unit_test_teardown(test_icmp_quote_numbering, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
