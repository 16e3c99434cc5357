// origin.c — `analyze|capture --probe-origin`: when a passive connection failed and its chain
// was not visible (TLS 1.3 encrypts it), probe the origin with that connection's SNI and attach
// what the probe found. At most one probe per SNI per minute; later connections reuse it.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe_internal.h"

enum {
    PO_MAX_CACHE = 256,
    PO_REUSE_S = 60,
};

typedef struct po_entry {
    char key[TLS_MAX_SNI_LEN + 80];  // SNI|host|port
    int64_t when;                    // CLOCK_MONOTONIC seconds
    cause_id cause;
    char text[VERDICT_TEXT];
    uint32_t num_evidence;
    verdict_evidence evidence[4];
    char missing_issuer[VERDICT_TEXT];  // the intermediate the probe saw missing ("" if none)
} po_entry;

struct probe_origin {
    analyzer *an;
    X509_STORE *store;    // loaded at start: a capture drops privileges before it probes
    pipeline_config cfg;  // the passive run's: trust store, profile, limits
    bool has_target;
    char host[256];
    uint16_t port;
    size_t num;
    po_entry cache[PO_MAX_CACHE];
};

static int64_t mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

probe_origin *probe_origin_new(const pipeline_config *ac, const char *target, char *err,
                               size_t errlen) {
    probe_origin *po = calloc(1, sizeof *po);
    if (!po) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    po->cfg = *ac;
    if (target && target[0]) {
        if (!probe_parse_target(target, po->host, sizeof po->host, &po->port)) {
            snprintf(err, errlen, "--probe-origin: expected IP:PORT or HOST[:PORT], got '%s'",
                     target);
            free(po);
            return NULL;
        }
        po->has_target = true;
    }
    po->an = pipeline_analyzer_new(ac, err, errlen);
    po->store = po->an ? X509_STORE_new() : NULL;
    bool loaded =
        po->store && (ac->ca_file || ac->ca_path
                          ? (!ac->ca_file || X509_STORE_load_file(po->store, ac->ca_file)) &&
                                (!ac->ca_path || X509_STORE_load_path(po->store, ac->ca_path))
                          : X509_STORE_set_default_paths(po->store));
    if (!loaded) {
        if (po->an) {
            snprintf(err, errlen, "--probe-origin: cannot load the trust store %s",
                     ac->ca_file   ? ac->ca_file
                     : ac->ca_path ? ac->ca_path
                                   : "(system default)");
        }
        probe_origin_free(po);
        return NULL;
    }
    return po;
}

void probe_origin_free(probe_origin *po) {
    if (!po) {
        return;
    }
    analyzer_free(po->an);
    X509_STORE_free(po->store);
    free(po);
}

static void endpoint_host(const tls_endpoint *e, char *out, size_t outlen) {
    if (!inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, out, (socklen_t)outlen)) {
        snprintf(out, outlen, "?");
    }
}

// run_probe probes host:port with sni; the first probe offers what CloudFront offers; when it
// sees no chain, a second one also offers TLS 1.3 to reveal it.
static void run_probe(probe_origin *po, const char *host, uint16_t port, const char *sni,
                      po_entry *e) {
    probe_config c;
    memset(&c, 0, sizeof c);
    c.host = host;
    c.port = port;
    c.sni = sni ? sni : "";
    c.ca_file = po->cfg.ca_file;
    c.ca_path = po->cfg.ca_path;
    c.limits = po->cfg.limits;
    char err[256] = "";
    probe_result *r = probe_run_store(po->an, &c, po->store, err, sizeof err);
    bool with13 = false;
    if (r && r->num_chain == 0 && r->v->cause != CAUSE_CONNECTION_REFUSED &&
        r->v->cause != CAUSE_CONNECT_TIMEOUT) {
        analyzer_offer offer;
        analyzer_profile_offer(po->an, &offer);
        c.versions = pc_offer_versions(&offer) | (1u << PROBE_V_TLS1_3_BIT);
        probe_result *r2 = probe_run_store(po->an, &c, po->store, err, sizeof err);
        if (r2 && r2->num_chain) {
            probe_result_free(r);
            r = r2;
            with13 = true;
        } else {
            probe_result_free(r2);
        }
    }
    if (!r) {
        e->cause = CAUSE_UNKNOWN;
        snprintf(e->text, sizeof e->text, "probe of %.200s:%u failed: %.200s", host, port, err);
        return;
    }
    const verdict *v = r->v;
    e->cause = v->cause;
    for (uint32_t i = 0; v->cause == CAUSE_CERT_MISSING_INTERMEDIATE && i < v->num_evidence; i++) {
        if (strcmp(v->evidence[i].key, "missing_issuer") == 0) {
            snprintf(e->missing_issuer, sizeof e->missing_issuer, "%s", v->evidence[i].value);
        }
    }
    snprintf(e->text, sizeof e->text, "probe of %.100s:%u (SNI %.100s%s): %s — %.250s", host, port,
             sni ? sni : "none", with13 ? ", TLS 1.3 allowed" : ", as CloudFront",
             cause_name(v->cause), v->summary);
    verdict_evidence *ev = e->evidence;
    snprintf(ev[0].key, sizeof ev[0].key, "probe_cause");
    snprintf(ev[0].value, sizeof ev[0].value, "%s", cause_name(v->cause));
    e->num_evidence = 1;
    if (v->num_certs) {
        const x509_info *x = &v->certs[0];
        char nb[32], na[32];
        time_t tb = (time_t)x->not_before, ta = (time_t)x->not_after;
        struct tm tm;
        strftime(nb, sizeof nb, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tb, &tm));
        strftime(na, sizeof na, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&ta, &tm));
        snprintf(ev[1].key, sizeof ev[1].key, "probe_leaf");
        snprintf(ev[1].value, sizeof ev[1].value, "%.300s, valid %s to %s, SHA-256 %.64s",
                 x->subject, nb, na, x->sha256);
        e->num_evidence = 2;
    }
    if (v->verify_error[0]) {
        snprintf(ev[e->num_evidence].key, sizeof ev[0].key, "probe_verify");
        snprintf(ev[e->num_evidence].value, sizeof ev[0].value, "%.400s", v->verify_error);
        e->num_evidence++;
    }
    probe_result_free(r);
}

void probe_origin_attach(probe_origin *po, verdict *v) {
    if (!po || v->outcome != OUTCOME_FAILED || v->num_certs > 0 ||
        !(v->version == 0x0304 || v->cause == CAUSE_UNKNOWN)) {
        return;
    }
    if (v->has_sni && v->sni_problem) {
        // The probe would send the wire's bytes as its own SNI (OpenSSL cuts them at a NUL): not
        // a name CloudFront sends, so nothing the probe could say about it would hold.
        return;
    }
    char host[256];
    uint16_t port;
    if (po->has_target) {
        snprintf(host, sizeof host, "%s", po->host);
        port = po->port;
    } else {
        endpoint_host(&v->server, host, sizeof host);
        port = v->server.port;
    }
    const char *sni = v->has_sni ? v->sni : NULL;
    char key[sizeof po->cache[0].key];
    snprintf(key, sizeof key, "%.255s|%.60s|%u", sni ? sni : "", host, port);
    int64_t now = mono_s();
    po_entry *e = NULL;
    for (size_t i = 0; i < po->num; i++) {
        if (strcmp(po->cache[i].key, key) == 0) {
            e = &po->cache[i];
            break;
        }
    }
    if (!e || now - e->when >= PO_REUSE_S) {
        if (!e) {
            // a full cache recycles its oldest entry
            bool full = po->num == PO_MAX_CACHE;
            size_t slot = full ? 0 : po->num++;
            for (size_t i = 1; full && i < po->num; i++) {
                slot = po->cache[i].when < po->cache[slot].when ? i : slot;
            }
            e = &po->cache[slot];
        }
        memset(e, 0, sizeof *e);
        snprintf(e->key, sizeof e->key, "%s", key);
        e->when = now;
        run_probe(po, host, port, sni, e);
    }
    verdict_add_finding(v, e->cause, e->text);
    for (uint32_t i = 0; i < e->num_evidence; i++) {
        verdict_copy_evidence(v, &e->evidence[i]);
    }
    if (e->missing_issuer[0]) {
        verdict_name_hidden_issuer(v, e->missing_issuer);  // the fix names what the probe saw
    }
}
