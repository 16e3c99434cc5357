// matrix.c — the compatibility matrix: one short handshake per protocol version and per cipher
// suite of the profile, rate-limited, to show which Origin SSL Protocols settings would work.
//
// Verification is off here: the question is what the server negotiates, not its certificate
// (the plain probe answers that). A transport failure (refused, timeout) ends the matrix early:
// every later connection would fail the same way, so they are not made.
#include <jansson.h>
#include <openssl/opensslconf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "probe_internal.h"
#include "report.h"

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

const char *probe_matrix_offers(const analyzer *a, uint16_t version) {
    analyzer_offer o;
    analyzer_profile_offer(a, &o);
    bool offered = o.num_versions == 0;  // no list: the TLS library's default, up to 1.3
    for (uint32_t i = 0; i < o.num_versions; i++) {
        offered |= o.versions[i] == version;
    }
    if (version >= 0x0300 && version <= 0x0303) {
        return "setting";  // CloudFront's Origin SSL Protocols: SSLv3 ... TLSv1.2
    }
    if (offered) {
        return "offered";
    }
    const char *name, *policy;
    analyzer_offer other;
    for (size_t k = 0; analyzer_judging_profile(a, k, &name, &policy, &other); k++) {
        for (uint32_t i = 0; i < other.num_versions; i++) {
            if (other.versions[i] == version) {
                return "2025-only";  // offered by a later CloudFront policy, not this profile
            }
        }
    }
    return "never";
}

const char *probe_matrix_policy_version(const probe_matrix *m, const analyzer_offer *offer) {
    const char *best = NULL;
    uint16_t best_code = 0;
    for (uint32_t i = 0; i < m->num_versions; i++) {
        const probe_matrix_row *r = &m->versions[i];
        bool offered = false;
        for (uint32_t k = 0; k < offer->num_versions; k++) {
            offered |= offer->versions[k] == r->code;
        }
        if (offered && r->state == PROBE_ACCEPTED && r->code > best_code) {
            best_code = r->code;
            best = r->name;
        }
    }
    return best;
}

// short_detail leaves out OpenSSL's "error:XXXXXXXX:LIB:FUNC:" prefix: the reason is the news.
static const char *short_detail(const char *d) {
    if (strncmp(d, "error:", 6) != 0) {
        return d;
    }
    const char *p = d;
    for (int colons = 0; *p && colons < 4; p++) {
        colons += *p == ':';
    }
    return *p ? p : d;
}

static int width(const probe_matrix_row *rows, uint32_t n, int min) {
    int w = min;
    for (uint32_t i = 0; i < n; i++) {
        int k = (int)strlen(rows[i].name);
        w = k > w ? k : w;
    }
    return w;
}

void probe_matrix_text(const probe_matrix *m, const analyzer *a, const char *target, FILE *out) {
    fprintf(out, "\nCompatibility matrix for %s (%u connection%s)\n", target, m->connections,
            m->connections == 1 ? "" : "s");
    int wv = width(m->versions, m->num_versions, 7);
    fprintf(out, "  %-*s  %-10s  %-11s  %s\n", wv, "version", "CloudFront", "origin", "detail");
    char working[128] = "";
    for (uint32_t i = 0; i < m->num_versions; i++) {
        const probe_matrix_row *r = &m->versions[i];
        const char *cf = probe_matrix_offers(a, r->code);
        fprintf(out, "  %-*s  %-10s  %-11s  %s\n", wv, r->name, cf, probe_state_name(r->state),
                short_detail(r->detail));
        if (strcmp(cf, "setting") == 0 && r->state == PROBE_ACCEPTED) {
            size_t n = strlen(working);
            snprintf(working + n, sizeof working - n, "%s%s", n ? ", " : "", r->name);
        }
    }
    fprintf(out, "Origin SSL Protocols settings that would work: %s\n",
            working[0] ? working : "none");
    const char *name, *policy;
    analyzer_offer offer;
    for (size_t i = 0; analyzer_judging_profile(a, i, &name, &policy, &offer); i++) {
        const char *v = probe_matrix_policy_version(m, &offer);
        fprintf(out, "Under %s%s (profile %s): %s\n", policy[0] ? "s2n " : "",
                policy[0] ? policy : name, name,
                v ? v : "no version in common: the handshake fails (502)");
    }
    uint32_t accepted = 0;
    for (uint32_t i = 0; i < m->num_ciphers; i++) {
        accepted += m->ciphers[i].state == PROBE_ACCEPTED;
    }
    fprintf(out, "Cipher suites of CloudFront's %u the origin accepts: %u\n", m->num_ciphers,
            accepted);
    int wc = width(m->ciphers, m->num_ciphers, 6);
    for (uint32_t i = 0; i < m->num_ciphers; i++) {
        const probe_matrix_row *r = &m->ciphers[i];
        fprintf(out, "  %-11s  %-*s  %s\n", probe_state_name(r->state), wc, r->name,
                r->state == PROBE_ACCEPTED ? "" : short_detail(r->detail));
    }
}

static bool cloudfront_setting(uint16_t v) {
    // Origin SSL Protocols lists SSLv3 .. TLSv1.2; TLS 1.3 comes with s2n's 2025 policies, not
    // with a setting.
    return v >= 0x0300 && v <= 0x0303;
}

static json_t *jstr(const char *s) {
    char buf[1024];
    report_escape((const uint8_t *)s, strlen(s), REPORT_ESC_JSON, buf, sizeof buf);
    return json_string(buf);
}

bool probe_matrix_json(const probe_matrix *m, const analyzer *an, const char *target,
                       const char *sni, FILE *out) {
    json_t *root = json_object(), *vers = json_array(), *ciph = json_array(), *work = json_array(),
           *acc = json_array(), *pol = json_array();
    const char *name, *policy;
    analyzer_offer offer;
    for (size_t i = 0; analyzer_judging_profile(an, i, &name, &policy, &offer); i++) {
        const char *v = probe_matrix_policy_version(m, &offer);
        json_array_append_new(pol, json_pack("{s:s, s:s, s:o}", "profile", name, "policy", policy,
                                             "version", v ? json_string(v) : json_null()));
    }
    char code[8];
    for (uint32_t i = 0; i < m->num_versions; i++) {
        const probe_matrix_row *r = &m->versions[i];
        snprintf(code, sizeof code, "0x%04x", r->code);
        json_array_append_new(
            vers, json_pack("{s:s, s:s, s:s, s:o, s:b}", "version", r->name, "code", code, "state",
                            probe_state_name(r->state), "detail", jstr(r->detail),
                            "cloudfront_setting", cloudfront_setting(r->code)));
        if (r->state == PROBE_ACCEPTED && cloudfront_setting(r->code)) {
            json_array_append_new(work, json_string(r->name));
        }
    }
    for (uint32_t i = 0; i < m->num_ciphers; i++) {
        const probe_matrix_row *r = &m->ciphers[i];
        snprintf(code, sizeof code, "0x%04x", r->code);
        json_array_append_new(
            ciph, json_pack("{s:s, s:s, s:s, s:o}", "cipher", r->name, "code", code, "state",
                            probe_state_name(r->state), "detail", jstr(r->detail)));
        if (r->state == PROBE_ACCEPTED) {
            json_array_append_new(acc, json_string(r->name));
        }
    }
    json_object_set_new(root, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
    json_object_set_new(root, "schema_minor", json_integer(REPORT_SCHEMA_MINOR));
    json_object_set_new(root, "type", json_string("probe_matrix"));
    json_object_set_new(root, "target", jstr(target));
    json_object_set_new(root, "sni", jstr(sni));
    json_object_set_new(root, "versions", vers);
    json_object_set_new(root, "ciphers", ciph);
    json_object_set_new(root, "working_settings", work);
    json_object_set_new(root, "accepted_ciphers", acc);
    json_object_set_new(root, "per_policy", pol);
    json_object_set_new(root, "connections", json_integer(m->connections));
    bool ok = json_dumpf(root, out, JSON_COMPACT) == 0 && fputc('\n', out) != EOF;
    json_decref(root);
    return ok;
}

void probe_matrix_refine(verdict *v, const probe_matrix *m, const analyzer *a) {
    if (v == NULL || v->cause != CAUSE_PROTOCOL_VERSION_MISMATCH) {
        return;
    }
    bool tls13 = false, older = false;
    char refused[96] = "", unavailable[64] = "";
    for (uint32_t i = 0; i < m->num_versions; i++) {
        const probe_matrix_row *r = &m->versions[i];
        char *list = r->state == PROBE_UNAVAILABLE ? unavailable : refused;
        size_t cap = r->state == PROBE_UNAVAILABLE ? sizeof unavailable : sizeof refused;
        if (r->code == 0x0304) {
            tls13 = r->state == PROBE_ACCEPTED;
        } else if (r->state == PROBE_ACCEPTED || r->state == PROBE_FAILED) {
            older = true;  // accepted, or not learned: no proof
        } else {
            size_t n = strlen(list);
            snprintf(list + n, cap - n, "%s%s", n ? ", " : "", r->name);
        }
    }
    if (!tls13 || older) {
        return;
    }
    analyzer_offer o;
    analyzer_profile_offer(a, &o);
    uint16_t pmax = o.num_versions ? 0 : 0x0304;
    for (uint32_t i = 0; i < o.num_versions; i++) {
        pmax = o.versions[i] > pmax ? o.versions[i] : pmax;
    }
    const char *pmax_name = "TLSv1.3";
    for (unsigned b = 0; b < PROBE_V__COUNT; b++) {
        if (probe_version_code(b) == pmax) {
            pmax_name = probe_version_name(b);
        }
    }
    snprintf(v->summary, sizeof v->summary,
             "the origin accepts only TLS 1.3 (the matrix: TLSv1.3 accepted, %s refused), and "
             "CloudFront (profile %s) offers origins up to %s",
             refused[0] ? refused : "nothing older", analyzer_profile_name(a), pmax_name);
    char ev[VERDICT_TEXT];
    snprintf(ev, sizeof ev, "TLSv1.3 accepted; %s refused%s%s%s", refused[0] ? refused : "none",
             unavailable[0] ? "; " : "", unavailable,
             unavailable[0] ? " not tried (this OpenSSL build cannot offer it)" : "");
    verdict_add_evidence(v, "matrix", 0, ev);
}
