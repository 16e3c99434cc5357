// matrix.c — the compatibility matrix: one short handshake per protocol version and per cipher
// suite of the profile, rate-limited, to show which Origin SSL Protocols settings would work.
//
// Verification is off here: the question is what the server negotiates, not its certificate
// (the plain probe answers that). A transport failure (refused, timeout) ends the matrix early:
// every later connection would fail the same way, so they are not made.
#include <openssl/opensslconf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "probe_internal.h"

static const char *const probe_state_names[] = {"accepted", "refused", "unavailable", "failed"};

const char *probe_state_name(probe_state s) {
    return (unsigned)s < sizeof probe_state_names / sizeof probe_state_names[0]
               ? probe_state_names[s]
               : "?";
}

static void pause_ms(uint32_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

typedef struct mx_run {
    pc_params base;
    uint32_t made;
    bool transport_failed;
    char transport_error[160];
} mx_run;

// one handshake with p; fills row state/detail. false only when out of memory.
static bool one(mx_run *m, const pc_params *p, probe_matrix_row *row) {
    if (m->transport_failed) {
        row->state = PROBE_FAILED;
        snprintf(row->detail, sizeof row->detail, "not tried: %.140s", m->transport_error);
        return true;
    }
    if (m->made++) {
        pause_ms(PROBE_MATRIX_INTERVAL_MS);
    }
    pc_result r;
    char err[256] = "";
    if (!pc_connect(p, &r, err, sizeof err)) {
        pc_result_free(&r);
        if (strcmp(err, "out of memory") == 0) {
            return false;
        }
        row->state = PROBE_UNAVAILABLE;
        snprintf(row->detail, sizeof row->detail, "%s", err);
        return true;
    }
    switch (r.stage) {
        case PC_HANDSHAKE_OK: {
            row->state = PROBE_ACCEPTED;
            const char *cn = tls_cipher_name(r.cipher);
            snprintf(row->detail, sizeof row->detail, "%s %s",
                     tls_version_name(r.version) ? tls_version_name(r.version) : "?",
                     cn ? cn : "?");
            break;
        }
        case PC_HANDSHAKE_FAILED:
        case PC_HANDSHAKE_TIMEOUT:
            row->state = PROBE_REFUSED;
            snprintf(row->detail, sizeof row->detail, "%.150s", r.error);
            break;
        default:
            row->state = PROBE_FAILED;
            snprintf(row->detail, sizeof row->detail, "%.150s", r.error);
            m->transport_failed = true;
            snprintf(m->transport_error, sizeof m->transport_error, "%.150s", r.error);
            break;
    }
    pc_result_free(&r);
    return true;
}

bool probe_matrix_run(analyzer *a, const probe_config *c, probe_matrix *mx, char *err,
                      size_t errlen) {
    memset(mx, 0, sizeof *mx);
    analyzer_offer offer;
    analyzer_profile_offer(a, &offer);
    mx_run m;
    memset(&m, 0, sizeof m);
    pc_params *p = &m.base;
    uint16_t port = c->port ? c->port : PROBE_DEFAULT_PORT;
    char rerr[256];
    if (!pc_resolve(c->connect_ip ? c->connect_ip : c->host, port, &p->peer, &p->peer_len, rerr,
                    sizeof rerr)) {
        m.transport_failed = true;
        snprintf(m.transport_error, sizeof m.transport_error, "%.150s", rerr);
    }
    p->sni = c->sni ? (c->sni[0] ? c->sni : NULL) : (pc_is_ip_literal(c->host) ? NULL : c->host);
    p->connect_timeout_ms =
        c->connect_timeout_ms ? c->connect_timeout_ms : PROBE_CONNECT_TIMEOUT_MS;
    p->handshake_timeout_ms =
        c->handshake_timeout_ms ? c->handshake_timeout_ms : PROBE_HANDSHAKE_TIMEOUT_MS;
    char ciphers[2048], groups[256], sigalgs[512];
    pc_cipher_list(&offer, ciphers, sizeof ciphers);
    pc_group_list(&offer, false, groups, sizeof groups);
    pc_sigalg_list(&offer, false, sigalgs, sizeof sigalgs);

    // One row per version: the profile's offer for TLS ≤ 1.2, the library's for TLS 1.3 (only
    // s2n's 2025 CloudFront-Upstream policies offer it; the row says whether the origin could).
    for (unsigned b = 0; b < PROBE_V__COUNT; b++) {
        probe_matrix_row *row = &mx->versions[mx->num_versions++];
        row->code = probe_version_code(b);
        snprintf(row->name, sizeof row->name, "%s", probe_version_name(b));
#ifdef OPENSSL_NO_SSL3
        if (b == PROBE_V_SSL3_BIT) {
            row->state = PROBE_UNAVAILABLE;
            snprintf(row->detail, sizeof row->detail, "this OpenSSL build cannot offer SSLv3");
            continue;
        }
#endif
        pc_params q = *p;
        q.versions = 1u << b;
        bool v13 = b == PROBE_V_TLS1_3_BIT;
        q.cipher_list = v13 ? NULL : ciphers;
        q.groups = v13 ? NULL : groups;
        q.sigalgs = v13 ? NULL : sigalgs;
        if (!one(&m, &q, row)) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
    }
    // One row per cipher suite of the profile, over the profile's versions (TLS ≤ 1.2).
    uint32_t versions = c->versions ? c->versions : pc_offer_versions(&offer);
    versions &= ~(1u << PROBE_V_TLS1_3_BIT);
    if (!versions) {
        versions = 1u << PROBE_V_TLS1_2_BIT;
    }
    for (uint32_t i = 0; i < offer.num_ciphers && mx->num_ciphers < PROBE_MAX_MATRIX; i++) {
        probe_matrix_row *row = &mx->ciphers[mx->num_ciphers++];
        row->code = offer.ciphers[i];
        const char *iana = tls_cipher_name(row->code);
        snprintf(row->name, sizeof row->name, "%s", iana ? iana : "?");
        analyzer_offer one_offer = offer;
        one_offer.num_ciphers = 1;
        one_offer.ciphers = &offer.ciphers[i];
        char name[128];
        pc_cipher_list(&one_offer, name, sizeof name);
        if (!name[0]) {
            row->state = PROBE_UNAVAILABLE;
            snprintf(row->detail, sizeof row->detail, "this OpenSSL build cannot offer it");
            continue;
        }
        pc_params q = *p;
        q.versions = versions;
        q.cipher_list = name;
        q.groups = groups;
        q.sigalgs = sigalgs;
        if (!one(&m, &q, row)) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
    }
    mx->connections = m.made;
    return true;
}
