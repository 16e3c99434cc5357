// an_fixtures.h — hand-built transcripts and PEM fixtures for the analyze/ unit tests.
//
// Transcripts are built field by field (no packets): a CloudFront edge 15.158.1.2:40000 talks
// to the origin 192.0.2.10:443; the ServerHello is at T0 = 2026-01-01 00:00:00 UTC, the time
// the certificates are validated at. Certificates come from tests/data/certs (make.sh).
#ifndef TLSDIAG_AN_FIXTURES_H
#define TLSDIAG_AN_FIXTURES_H

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"

#define T0 1767225600LL  // 2026-01-01T00:00:00Z
#define NS 1000000000LL
#define CERT_DIR TLSDIAG_SOURCE_DIR "/tests/data/certs/"

enum { FX_MAX_DER = 8 };

typedef struct fx {
    tls_transcript *t;
    uint8_t *der[FX_MAX_DER];
    uint32_t ndr;
    uint32_t frame;
    int64_t ts;
} fx;

// fx_der loads tests/data/certs/<name>.pem as DER (caller frees with fx_free).
static inline uint8_t *fx_der(const char *name, uint32_t *len) {
    char path[512];
    snprintf(path, sizeof path, CERT_DIR "%s.pem", name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "missing fixture %s\n", path);
        abort();
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) {
        abort();
    }
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    if (n <= 0) {
        abort();
    }
    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (uint32_t)n;
    return copy;
}

static inline void fx_event(fx *x, tls_event_kind kind, tls_dir dir, uint8_t hs_type,
                            int64_t dt_ms) {
    tls_event e;
    memset(&e, 0, sizeof e);
    e.kind = (uint8_t)kind;
    e.dir = (uint8_t)dir;
    e.hs_type = hs_type;
    e.frame = ++x->frame;
    x->ts += dt_ms * 1000000LL;
    e.ts_ns = x->ts;
    tls_transcript *t = x->t;
    if (t->num_events < TLS_MAX_EVENTS) {
        t->events[t->num_events++] = e;
    }
    t->last_frame = e.frame;
    t->last_ts_ns = e.ts_ns;
}

// fx_new: the TCP handshake done at T0 - 20 ms, nothing else.
static inline fx fx_new(void) {
    fx x;
    memset(&x, 0, sizeof x);
    x.t = calloc(1, sizeof *x.t);
    tls_transcript *t = x.t;
    t->client.family = t->server.family = 4;
    const uint8_t c[4] = {15, 158, 1, 2}, s[4] = {192, 0, 2, 10};
    memcpy(t->client.addr, c, 4);
    memcpy(t->server.addr, s, 4);
    t->client.port = 40000;
    t->server.port = 443;
    t->roles_from_syn = true;
    t->first_frame = 1;
    x.ts = (T0 * NS) - 20 * 1000000LL;
    t->first_ts_ns = x.ts;
    t->end_reason = TLS_END_CLOSED;
    t->tcp.syn = true;
    t->tcp.syn_count = 1;
    t->tcp.syn_ts_ns = x.ts;
    fx_event(&x, TLS_EV_TCP_SYN, TLS_DIR_C2S, 0, 0);
    return x;
}

static inline void fx_synack(fx *x) {
    x->t->tcp.synack = true;
    x->t->tcp.synack_ts_ns = x->ts;
    fx_event(x, TLS_EV_TCP_SYNACK, TLS_DIR_S2C, 0, 1);
}

// fx_client_hello: CloudFront-like offer (TLS 1.0-1.2, its ciphers, groups, sigalgs).
static inline void fx_client_hello(fx *x, const char *sni) {
    tls_transcript *t = x->t;
    tls_client_hello *ch = &t->ch;
    static const uint16_t ciphers[] = {0xC02F, 0xC030, 0xC02B, 0xC02C,
                                       0xC013, 0xC014, 0x002F, 0x0035};
    static const uint16_t groups[] = {0x001D, 0x0017, 0x0018};
    static const uint16_t sigalgs[] = {0x0401, 0x0501, 0x0601, 0x0403, 0x0503};
    ch->present = true;
    ch->legacy_version = 0x0303;
    ch->record_version = 0x0301;
    ch->num_ciphers = sizeof ciphers / sizeof ciphers[0];
    memcpy(ch->ciphers, ciphers, sizeof ciphers);
    ch->num_groups = sizeof groups / sizeof groups[0];
    memcpy(ch->groups, groups, sizeof groups);
    ch->num_sigalgs = sizeof sigalgs / sizeof sigalgs[0];
    memcpy(ch->sigalgs, sigalgs, sizeof sigalgs);
    if (sni) {
        ch->has_sni = true;
        snprintf(ch->sni, sizeof ch->sni, "%s", sni);
        ch->sni_len = (uint16_t)strlen(sni);
    }
    t->is_tls = true;
    t->tcp.bytes[TLS_DIR_C2S] += 200;
    fx_event(x, TLS_EV_HANDSHAKE, TLS_DIR_C2S, 1, 1);
    ch->frame = x->frame;
}

// fx_server_flight: ServerHello (TLS 1.2, ECDHE-RSA-AES128-GCM), Certificate with the named
// fixtures (NULL-terminated list), ServerKeyExchange (x25519), ServerHelloDone, at T0.
static inline void fx_server_flight(fx *x, const char *const *certs) {
    tls_transcript *t = x->t;
    x->ts = T0 * NS - 1000000LL;
    t->sh.present = true;
    t->sh.legacy_version = 0x0303;
    t->sh.cipher = 0xC02F;
    fx_event(x, TLS_EV_HANDSHAKE, TLS_DIR_S2C, 2, 1);
    t->sh.frame = x->frame;
    if (certs && certs[0]) {
        t->cert.present = true;
        for (uint32_t i = 0; certs[i] && x->ndr < FX_MAX_DER; i++) {
            uint32_t len = 0;
            x->der[x->ndr] = fx_der(certs[i], &len);
            t->cert.certs[i].der = x->der[x->ndr++];
            t->cert.certs[i].len = len;
            t->cert.num_certs = t->cert.num_stored = i + 1;
            t->cert.message_len += len + 3;
        }
        fx_event(x, TLS_EV_HANDSHAKE, TLS_DIR_S2C, 11, 0);
        t->cert.frame = x->frame;
    }
    t->ske.present = true;
    t->ske.kind = 1;
    t->ske.group = 0x001D;
    t->ske.sigalg = 0x0401;
    fx_event(x, TLS_EV_HANDSHAKE, TLS_DIR_S2C, 12, 0);
    t->ske.frame = x->frame;
    t->server_hello_done = true;
    fx_event(x, TLS_EV_HANDSHAKE, TLS_DIR_S2C, 14, 0);
    t->tcp.bytes[TLS_DIR_S2C] += 3000;
    t->tcp.server_flight_acked = true;
}

static inline void fx_alert(fx *x, tls_dir dir, uint8_t level, uint8_t desc) {
    fx_event(x, TLS_EV_ALERT, dir, 0, 2);
    tls_event *e = &x->t->events[x->t->num_events - 1];
    e->alert_level = level;
    e->alert_desc = desc;
    e->content_type = 21;
    if (level == 2) {
        x->t->end_reason = TLS_END_ALERT;
    }
}

static inline void fx_close(fx *x, tls_dir dir, bool rst, int64_t dt_ms) {
    fx_event(x, rst ? TLS_EV_TCP_RST : TLS_EV_TCP_FIN, dir, 0, dt_ms);
    if (rst) {
        x->t->tcp.rst[dir] = true;
        x->t->tcp.rst_frame[dir] = x->frame;
    } else {
        x->t->tcp.fin[dir] = true;
        x->t->tcp.fin_frame[dir] = x->frame;
    }
}

// fx_finish_ok: client key exchange, CCS/Finished both ways, application data.
static inline void fx_finish_ok(fx *x) {
    tls_transcript *t = x->t;
    t->client_key_exchange = true;
    fx_event(x, TLS_EV_HANDSHAKE, TLS_DIR_C2S, 16, 1);
    t->ccs[0] = t->ccs[1] = true;
    t->encrypted[0] = t->encrypted[1] = true;
    fx_event(x, TLS_EV_CHANGE_CIPHER_SPEC, TLS_DIR_C2S, 0, 0);
    fx_event(x, TLS_EV_CHANGE_CIPHER_SPEC, TLS_DIR_S2C, 0, 1);
    t->app_records[0] = t->app_records[1] = 1;
    fx_event(x, TLS_EV_APPLICATION_DATA, TLS_DIR_C2S, 0, 1);
    fx_event(x, TLS_EV_APPLICATION_DATA, TLS_DIR_S2C, 0, 1);
    t->end_reason = TLS_END_HANDSHAKE_DONE;
}

// fx_finish_protected: ClientKeyExchange, then each side's CCS and protected Finished (TLS 1.2,
// as the dissector reports them), and the client's request when `request`.
static inline void fx_finish_protected(fx *x, bool request) {
    tls_transcript *t = x->t;
    t->client_key_exchange = true;
    fx_event(x, TLS_EV_HANDSHAKE, TLS_DIR_C2S, 16, 1);
    t->ccs[0] = t->ccs[1] = true;
    t->encrypted[0] = t->encrypted[1] = true;
    fx_event(x, TLS_EV_CHANGE_CIPHER_SPEC, TLS_DIR_C2S, 0, 0);
    fx_event(x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_C2S, 0, 0);
    fx_event(x, TLS_EV_CHANGE_CIPHER_SPEC, TLS_DIR_S2C, 0, 1);
    fx_event(x, TLS_EV_ENCRYPTED_HANDSHAKE, TLS_DIR_S2C, 0, 0);
    if (request) {
        t->app_records[TLS_DIR_C2S]++;
        fx_event(x, TLS_EV_APPLICATION_DATA, TLS_DIR_C2S, 0, 1);
    }
}

static inline void fx_free(fx *x) {
    for (uint32_t i = 0; i < x->ndr; i++) {
        free(x->der[i]);
    }
    free(x->t);
}

// fx_analyzer_ca: profile, tests/data/certs/<ca_file> as the trust store, "now" = T0 + 1 day.
static inline analyzer *fx_analyzer_ca(const char *profile, const char *ca_file) {
    char path[512];
    snprintf(path, sizeof path, CERT_DIR "%s", ca_file);
    analyzer_config c;
    analyzer_config_default(&c);
    c.profile = profile;
    c.ca_file = path;
    c.now = T0 + 86400;
    char err[256] = "";
    analyzer *a = analyzer_new(&c, err, sizeof err);
    if (!a) {
        fprintf(stderr, "analyzer_new: %s\n", err);
        abort();
    }
    return a;
}

// fx_analyzer: the test root as the only trust anchor.
static inline analyzer *fx_analyzer(const char *profile) {
    return fx_analyzer_ca(profile, "root.pem");
}

// FX_SHARED_ANALYZER(profile): the analyzer A one test file shares, its cmocka group fixtures
// fx_group_setup / fx_group_teardown, and run(x): analyzer_run on x's transcript, never NULL.
// Include cmocka.h first.
#define FX_SHARED_ANALYZER(profile)                      \
    static analyzer *A;                                  \
    static int fx_group_setup(void **state) {            \
        (void)state;                                     \
        A = fx_analyzer(profile);                        \
        return 0;                                        \
    }                                                    \
    static int fx_group_teardown(void **state) {         \
        (void)state;                                     \
        analyzer_free(A);                                \
        return 0;                                        \
    }                                                    \
    static __attribute__((unused)) verdict *run(fx *x) { \
        verdict *v = analyzer_run(A, x->t);              \
        assert_non_null(v);                              \
        return v;                                        \
    }

// fx_has_finding: does v carry a secondary finding with cause c?
static inline bool fx_has_finding(const verdict *v, cause_id c) {
    for (uint32_t i = 0; i < v->num_findings; i++) {
        if (v->findings[i].cause == c) {
            return true;
        }
    }
    return false;
}

static inline const char *fx_evidence(const verdict *v, const char *key) {
    for (uint32_t i = 0; i < v->num_evidence; i++) {
        if (strcmp(v->evidence[i].key, key) == 0) {
            return v->evidence[i].value;
        }
    }
    return NULL;
}

#endif
