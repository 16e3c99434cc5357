// ecs.c — `--ecs`: one Elastic Common Schema event per handshake (JSON Lines), for the log
// pipeline a fleet already runs (Filebeat, Fluent Bit, Vector → Elasticsearch/OpenSearch).
//
// Field names, nesting and types are ECS's (ECS_VERSION below; the subset we emit is committed
// as tests/data/ecs/fields.tsv and every line is checked against it by tests/scripts/
// test_ecs.sh): the client (the CloudFront edge) is source.*, the origin destination.*;
// event.outcome is what happened on the wire (success / failure / unknown) and event.reason the
// cause id. Everything tlsdiag-specific (evidence, fix, dead ends, findings, predicted, frames)
// is under tlsdiag.*, in the same shapes as our own JSON (json.c). Strings from the wire are
// escaped as in json.c. Output is deterministic: times come from the capture, never "now".
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "jmemo.h"
#include "report_internal.h"

// The ECS release the field names and types were checked against.
#define ECS_VERSION "9.4.0"

// PUT writes "k": and then the value v writes; k is a string literal needing no escaping, quoted
// by the compiler (JSONW_KEY): every key of an ECS event is ("key" escaped at run time was
// ~4,000 instructions an event).
#define PUT(w, k, v) (JSONW_KEY((w), k), (v))

static void estr(jsonw *w, const char *s) {
    s ? jsonw_bytes(w, s, strlen(s)) : jsonw_null(w);
}

// efield: a NUL-terminated string kept in a fixed array (never read past it).
static void efield(jsonw *w, const char *s, size_t cap) {
    jsonw_field(w, s, cap);
}

// EPUT_OPT: "key": value only when the field is not empty (ECS leaves unknown fields out).
#define EPUT_OPT(w, key, arr)                           \
    do {                                                \
        if ((arr)[0]) {                                 \
            PUT(w, key, efield(w, (arr), sizeof(arr))); \
        }                                               \
    } while (0)

// eplain: a string our code made from a fixed alphabet (a name from our tables, a time),
// written without the escaping scan (jsonw_plain); NULL: null.
static void eplain(jsonw *w, const char *s) {
    s ? jsonw_plain(w, s, strlen(s)) : jsonw_null(w);
}

static void etime(jsonw *w, int64_t ns) {
    char buf[32];
    report_time(ns, buf);
    eplain(w, buf);
}

// edate_sec: a certificate date into buf; false when it has no ISO 8601 form (beyond year
// 9999): EPUT_DATE_SEC then leaves the field out.
static bool edate_sec(int64_t sec, char buf[32]) {
    report_time_sec(sec, buf);
    return isdigit((unsigned char)buf[0]);
}
#define EPUT_DATE_SEC(w, key, sec)         \
    do {                                   \
        char date_[32];                    \
        if (edate_sec((sec), date_)) {     \
            PUT(w, key, eplain(w, date_)); \
        }                                  \
    } while (0)

// ecs_tls_version: tls.version ("1.2") and tls.version_protocol ("tls"); false when unknown.
static bool ecs_tls_version(uint16_t v, char ver[8], const char **proto) {
    if (v == 0x0002) {
        memcpy(ver, "2.0", 4);
        *proto = "ssl";
        return true;
    }
    if (v == 0x0300) {
        memcpy(ver, "3.0", 4);
        *proto = "ssl";
        return true;
    }
    if (v >= 0x0301 && v <= 0x0304) {
        memcpy(ver, "1.0", 4);  // "1.%u" without snprintf (650 instructions an event)
        ver[2] = (char)('0' + (v - 0x0301));
        *proto = "tls";
        return true;
    }
    return false;
}

static const char *ecs_outcome(verdict_outcome o) {
    return o == OUTCOME_SUCCEEDED ? "success" : o == OUTCOME_FAILED ? "failure" : "unknown";
}

// eendpoint: {"ip","port","address"} of source or destination; ip is e's address as text.
static void eendpoint(jsonw *w, const tls_endpoint *e, const report_ip_text *ip) {
    jsonw_object_begin(w);
    PUT(w, "address", jsonw_plain(w, ip->s, ip->n));
    PUT(w, "ip", jsonw_plain(w, ip->s, ip->n));
    PUT(w, "port", jsonw_int(w, e->port));
    jsonw_object_end(w);
}

static void enetwork(jsonw *w, const tls_endpoint *client, const tls_endpoint *server) {
    char cid[REPORT_COMMUNITY_ID_LEN];
    jsonw_object_begin(w);
    PUT(w, "transport", JSONW_LIT(w, "tcp"));
    PUT(w, "iana_number", JSONW_LIT(w, "6"));
    PUT(w, "type", client->family == 6 ? JSONW_LIT(w, "ipv6") : JSONW_LIT(w, "ipv4"));
    if (report_community_id_tcp(client, server, cid)) {
        PUT(w, "community_id", eplain(w, cid));
    }
    jsonw_object_end(w);
}

// ehex_upper: ECS spells certificate hashes in upper-case hex.
static void ehex_upper(jsonw *w, const char *hex, size_t cap) {
    char buf[130];
    size_t n = strnlen(hex, cap);
    if (n >= sizeof buf) {
        n = sizeof buf - 1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = hex[i];  // toupper of the "C" locale (tlsdiag never sets another), inline
        buf[i] = c >= 'a' && c <= 'z' ? (char)(c - ('a' - 'A')) : c;
    }
    jsonw_bytes(w, buf, n);
}

// edn: {"distinguished_name":..}; EDN writes it as "issuer"/"subject", left out when empty.
static void edn(jsonw *w, const char *dn, size_t cap) {
    jsonw_object_begin(w);
    PUT(w, "distinguished_name", efield(w, dn, cap));
    jsonw_object_end(w);
}
#define EDN(w, key, arr)                             \
    do {                                             \
        if ((arr)[0]) {                              \
            PUT(w, key, edn(w, (arr), sizeof(arr))); \
        }                                            \
    } while (0)

// ex509: tls.server.x509.* of the leaf as sent.
static void ex509(jsonw *w, const x509_info *c) {
    jsonw_object_begin(w);
    PUT(w, "alternative_names", json_sans(w, c));
    EDN(w, "issuer", c->issuer);
    EDN(w, "subject", c->subject);
    EPUT_DATE_SEC(w, "not_before", c->not_before);
    EPUT_DATE_SEC(w, "not_after", c->not_after);
    if (c->serial[0]) {
        PUT(w, "serial_number", ehex_upper(w, c->serial, sizeof c->serial));  // ECS: upper case
    }
    EPUT_OPT(w, "signature_algorithm", c->sig_alg);
    EPUT_OPT(w, "public_key_algorithm", c->key_type);
    if (c->key_bits > 0) {
        PUT(w, "public_key_size", jsonw_int(w, c->key_bits));
    }
    EPUT_OPT(w, "public_key_curve", c->curve);
    jsonw_object_end(w);
}

static void etls_render(jsonw *w, const void *arg) {
    const verdict *v = arg;
    char ver[8];
    const char *proto = NULL;
    jsonw_object_begin(w);
    if (ecs_tls_version(v->version, ver, &proto)) {
        PUT(w, "version", eplain(w, ver));
        PUT(w, "version_protocol", eplain(w, proto));
    }
    const char *cipher = v->cipher ? tls_cipher_name(v->cipher) : NULL;
    if (cipher != NULL) {
        PUT(w, "cipher", eplain(w, cipher));
    }
    PUT(w, "established", jsonw_bool(w, v->outcome == OUTCOME_SUCCEEDED));
    JSONW_KEY(w, "client");
    jsonw_object_begin(w);
    if (v->has_sni) {
        PUT(w, "server_name", jsonw_bytes(w, v->sni, verdict_sni_kept(v)));
    }
    EPUT_OPT(w, "ja3", v->ja3);
    jsonw_object_end(w);
    JSONW_KEY(w, "server");
    jsonw_object_begin(w);
    EPUT_OPT(w, "ja3s", v->ja3s);
    if (v->num_certs > 0 && !v->certs[0].parse_error) {
        const x509_info *leaf = &v->certs[0];
        if (leaf->sha256[0]) {
            JSONW_KEY(w, "hash");
            jsonw_object_begin(w);
            PUT(w, "sha256", ehex_upper(w, leaf->sha256, sizeof leaf->sha256));
            jsonw_object_end(w);
        }
        EPUT_OPT(w, "subject", leaf->subject);
        EPUT_OPT(w, "issuer", leaf->issuer);
        EPUT_DATE_SEC(w, "not_before", leaf->not_before);
        EPUT_DATE_SEC(w, "not_after", leaf->not_after);
        PUT(w, "x509", ex509(w, leaf));
    }
    jsonw_object_end(w);
    jsonw_object_end(w);
}

// etls: the "tls" object, kept per thread by its inputs (jmemo.h): the version, cipher, whether
// it succeeded, the SNI, JA3/JA3S and the leaf, known by fingerprint, place and validity as
// json.c knows a certificate (a leaf without a fingerprint: rendered each time).
static void etls(jsonw *w, const verdict *v) {
    jmemo_key k;
    jmemo_key_init(&k);
    uint32_t sni = v->has_sni ? (uint32_t)verdict_sni_kept(v) : UINT32_MAX;
    uint32_t small[] = {v->version, v->cipher, v->outcome == OUTCOME_SUCCEEDED, sni,
                        v->num_certs > 0};
    jmemo_key_u32s(&k, small, sizeof small / sizeof small[0]);
    if (v->has_sni) {
        jmemo_key_bytes(&k, v->sni, sni);
    }
    jmemo_key_field(&k, v->ja3, sizeof v->ja3);
    jmemo_key_field(&k, v->ja3s, sizeof v->ja3s);
    if (v->num_certs > 0) {
        const x509_info *c = &v->certs[0];
        if (c->parse_error || strnlen(c->sha256, sizeof c->sha256) != 64) {
            k.over = true;
        }
        jmemo_key_field(&k, c->sha256, sizeof c->sha256);
        uint32_t place[] = {c->index, (uint32_t)c->not_before, (uint32_t)(c->not_before >> 32),
                            (uint32_t)c->not_after, (uint32_t)(c->not_after >> 32)};
        jmemo_key_u32s(&k, place, sizeof place / sizeof place[0]);
    }
    jmemo_write(w, JMEMO_ECS_TLS, &k, true, etls_render, v);
}

// emessage: "message" and, for a failure, the same text as "error":{"message"} (n bytes at s;
// s NULL: null).
static void emessage(jsonw *w, const char *s, size_t n, bool failed) {
    PUT(w, "message", s ? jsonw_bytes(w, s, n) : jsonw_null(w));
    if (failed) {
        JSONW_KEY(w, "error");
        jsonw_object_begin(w);
        PUT(w, "message", s ? jsonw_bytes(w, s, n) : jsonw_null(w));
        jsonw_object_end(w);
    }
}

// eevent_common: "@timestamp", "ecs" and the start of "event" (left open).
static void eevent_common(jsonw *w, const report *r, int64_t ts_ns, const char *dataset,
                          const char *kind) {
    jsonw_begin_line(w, r->o.out);
    PUT(w, "@timestamp", etime(w, ts_ns));
    JSONW_KEY(w, "ecs");
    jsonw_object_begin(w);
    PUT(w, "version", JSONW_LIT(w, ECS_VERSION));
    jsonw_object_end(w);
    JSONW_KEY(w, "event");
    jsonw_object_begin(w);
    PUT(w, "kind", eplain(w, kind));  // a literal of this file
    PUT(w, "module", JSONW_LIT(w, "tlsdiag"));
    PUT(w, "dataset", jsonw_string(w, dataset));
}

// etype: event.category ["network"], event.type ["connection"] (ECS expects one of access,
// allowed, connection, denied, end, info, protocol, start with "network"; a failure is said
// by event.outcome, not by the type).
static void etype(jsonw *w) {
    JSONW_KEY(w, "category");
    jsonw_array_begin(w);
    JSONW_LIT(w, "network");
    jsonw_array_end(w);
    JSONW_KEY(w, "type");
    jsonw_array_begin(w);
    JSONW_LIT(w, "connection");
    jsonw_array_end(w);
}

static void ealert(jsonw *w, const verdict *v) {
    if (!v->has_alert) {
        jsonw_null(w);
        return;
    }
    jsonw_object_begin(w);
    PUT(w, "sender", eplain(w, verdict_party_name(v->alert_sender)));
    PUT(w, "encrypted", jsonw_bool(w, v->alert_encrypted));
    if (!v->alert_encrypted) {
        PUT(w, "level", jsonw_int(w, v->alert_level));
        const char *name = tls_alert_name(v->alert_desc);
        PUT(w, "description", eplain(w, name));
        PUT(w, "code", jsonw_int(w, v->alert_desc));
    }
    PUT(w, "frame", jsonw_int(w, v->alert_frame));
    jsonw_object_end(w);
}

// etail_render: "fix" … "capture_note" of tlsdiag.* (kept per thread by json_tail_key).
static void etail_render(jsonw *w, const void *arg) {
    const verdict *v = arg;
    PUT(w, "fix", json_text_list(w, v->fix, v->num_fix, VERDICT_MAX_STEPS));
    EPUT_OPT(w, "check_command", v->check_command);
    PUT(w, "dead_ends", json_text_list(w, v->dead_ends, v->num_dead_ends, VERDICT_MAX_STEPS));
    PUT(w, "findings", json_findings(w, v));
    EPUT_OPT(w, "chain_sha256", v->chain_sha256);
    EPUT_OPT(w, "verify_result", v->verify_error);
    EPUT_OPT(w, "trust_store", v->trust_store);
    EPUT_OPT(w, "capture_note", v->capture_note);
}

// etlsdiag: tlsdiag.* — the diagnosis, as in our own JSON.
static void etlsdiag(jsonw *w, const report *r, const verdict *v, const report_ip_text *cip,
                     const report_ip_text *sip) {
    char filter[REPORT_WIRESHARK_FILTER_LEN];
    size_t filter_len = report_wireshark_filter_ips(&v->client, cip, &v->server, sip, filter);
    jsonw_object_begin(w);
    PUT(w, "file", estr(w, r->file));
    PUT(w, "conn_id", jsonw_int(w, v->conn_id > INT64_MAX ? INT64_MAX : (long long)v->conn_id));
    PUT(w, "cause", eplain(w, cause_name(v->cause)));
    PUT(w, "outcome", eplain(w, verdict_outcome_name(v->outcome)));
    PUT(w, "predicted", jsonw_bool(w, v->predicted));
    PUT(w, "confidence", eplain(w, verdict_confidence_name(v->confidence)));
    PUT(w, "method", eplain(w, verdict_method_name(v->method)));
    PUT(w, "client_cloudfront", jsonw_bool(w, v->client_is_cloudfront));
    EPUT_OPT(w, "client_network", v->client_network);
    if (v->sni_problem) {
        PUT(w, "sni_invalid", estr(w, v->sni_problem));
    }
    EPUT_OPT(w, "failed_step", v->failed_step);
    if (v->outcome == OUTCOME_FAILED && v->aborted_by != PARTY_NONE) {
        PUT(w, "aborted_by", eplain(w, verdict_party_name(v->aborted_by)));
    }
    PUT(w, "alert", ealert(w, v));
    JSONW_KEY(w, "frames");
    jsonw_object_begin(w);
    PUT(w, "first", jsonw_int(w, v->first_frame));
    PUT(w, "last", jsonw_int(w, v->last_frame));
    jsonw_object_end(w);
    PUT(w, "wireshark_filter", jsonw_plain(w, filter, filter_len));
    EPUT_OPT(w, "ja4", v->ja4);
    PUT(w, "evidence", json_evidence_list(w, v));
    jmemo_key k;
    jmemo_key_init(&k);
    json_tail_key(&k, v, false);
    jmemo_write(w, JMEMO_ECS_TAIL, &k, false, etail_render, v);
    jsonw_object_end(w);
}

bool ecs_verdict(report *r, const verdict *v) {
    jsonw wr, *w = &wr;
    bool failed = v->outcome == OUTCOME_FAILED;
    eevent_common(w, r, v->first_ts_ns, "tlsdiag.handshake", "event");
    etype(w);
    PUT(w, "outcome", eplain(w, ecs_outcome(v->outcome)));
    PUT(w, "reason", eplain(w, cause_name(v->cause)));
    PUT(w, "start", etime(w, v->first_ts_ns));
    PUT(w, "end", etime(w, v->last_ts_ns));
    int64_t dur = v->last_ts_ns >= v->first_ts_ns ? v->last_ts_ns - v->first_ts_ns : 0;
    PUT(w, "duration", jsonw_int(w, dur));
    jsonw_object_end(w);  // event
    emessage(w, v->summary, strnlen(v->summary, sizeof v->summary), failed);
    report_ip_text cip, sip;  // each address formatted once for the event
    report_ip_text_of(&v->client, &cip);
    report_ip_text_of(&v->server, &sip);
    PUT(w, "source", eendpoint(w, &v->client, &cip));
    PUT(w, "destination", eendpoint(w, &v->server, &sip));
    PUT(w, "network", enetwork(w, &v->client, &v->server));
    PUT(w, "tls", etls(w, v));
    PUT(w, "tlsdiag", etlsdiag(w, r, v, &cip, &sip));
    return jsonw_end_line(w);
}

// ecs_error: a damaged input as an event of kind "pipeline_error" (frame/offset when known).
bool ecs_error(report *r, const report_input_error *e) {
    jsonw wr, *w = &wr;
    // The capture has no time for damage it could not read: the event is stamped when seen.
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    eevent_common(w, r, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, "tlsdiag.input",
                  "pipeline_error");
    PUT(w, "outcome", jsonw_string(w, "failure"));
    jsonw_object_end(w);  // event
    emessage(w, e->message, e->message ? strlen(e->message) : 0, true);
    JSONW_KEY(w, "tlsdiag");
    jsonw_object_begin(w);
    PUT(w, "file", estr(w, e->file));
    if (e->frame > 0) {
        PUT(w, "frame", jsonw_int(w, e->frame > INT64_MAX ? INT64_MAX : (long long)e->frame));
        PUT(w, "offset", jsonw_int(w, e->offset > INT64_MAX ? INT64_MAX : (long long)e->offset));
    }
    jsonw_object_end(w);
    return jsonw_end_line(w);
}

bool report_ecs_check(report *r, const report_ecs_check_event *c) {
    if (r->failed) {
        return false;
    }
    jsonw wr, *w = &wr;
    eevent_common(w, r, c->ts_ns, c->dataset ? c->dataset : "tlsdiag.doctor", "event");
    JSONW_KEY(w, "category");
    jsonw_array_begin(w);
    jsonw_string(w, "configuration");
    jsonw_array_end(w);
    JSONW_KEY(w, "type");
    jsonw_array_begin(w);
    jsonw_string(w, "info");
    jsonw_array_end(w);
    PUT(w, "outcome", jsonw_string(w, c->failed ? "failure" : "success"));
    if (c->cause) {
        PUT(w, "reason", jsonw_string(w, c->cause));
    }
    jsonw_object_end(w);  // event
    emessage(w, c->message, c->message ? strlen(c->message) : 0, c->failed);
    if (c->config_file) {
        JSONW_KEY(w, "file");
        jsonw_object_begin(w);
        PUT(w, "path", estr(w, c->config_file));
        jsonw_object_end(w);
    }
    if (c->server) {
        report_ip_text ip;
        report_ip_text_of(c->server, &ip);
        PUT(w, "destination", eendpoint(w, c->server, &ip));
    }
    if (c->server_name) {
        JSONW_KEY(w, "tls");
        jsonw_object_begin(w);
        JSONW_KEY(w, "client");
        jsonw_object_begin(w);
        PUT(w, "server_name", estr(w, c->server_name));
        jsonw_object_end(w);
        jsonw_object_end(w);
    }
    JSONW_KEY(w, "tlsdiag");
    jsonw_object_begin(w);
    if (c->config_line > 0) {
        PUT(w, "config_line", jsonw_int(w, c->config_line));
    }
    JSONW_KEY(w, "evidence");
    jsonw_array_begin(w);
    for (size_t i = 0; i < c->num_evidence && c->evidence; i++) {
        estr(w, c->evidence[i]);
    }
    jsonw_array_end(w);
    JSONW_KEY(w, "fix");
    jsonw_array_begin(w);
    for (size_t i = 0; i < c->num_fix && c->fix; i++) {
        estr(w, c->fix[i]);
    }
    jsonw_array_end(w);
    jsonw_object_end(w);
    bool ok = jsonw_end_line(w);
    if (!ok || ferror_unlocked(r->o.out)) {
        r->failed = true;
    }
    return !r->failed;
}
