// json.c — JSON Lines rendering (schema_version 1): connections, handshakes, summary, errors.
//
// Every string that may hold wire bytes goes through jbytes(), which rewrites bytes that are not
// valid UTF-8 as "\xNN" text before json_stringn(): jansson returns NULL for invalid UTF-8, and
// a NULL value would silently drop the key. Keys are inserted in schema order (jansson keeps
// insertion order). When memory runs out a key may be missing, but what is printed is always
// valid JSON; a root that could not be built makes the call return false.
#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static json_t *jbytes(const void *p, size_t n) {
    size_t cap = n * 4 + 8;  // worst case: every byte becomes "\xNN"
    char *buf = malloc(cap);
    if (buf == NULL) {
        return NULL;
    }
    size_t len = report_escape(p, n, REPORT_ESC_JSON, buf, cap);
    json_t *s = json_stringn(buf, len);
    free(buf);
    return s;
}

static json_t *jstr(const char *s) {
    return s ? jbytes(s, strlen(s)) : json_null();
}

// jfield: a NUL-terminated string stored in a fixed array (never read past the array).
static json_t *jfield(const char *s, size_t cap) {
    return jbytes(s, strnlen(s, cap));
}

static json_t *jstr_or_null(const char *s, size_t cap) {
    return s[0] ? jfield(s, cap) : json_null();
}
#define JFIELD(arr) jfield((arr), sizeof(arr))
#define JOPT(arr) jstr_or_null((arr), sizeof(arr))

static json_t *jint(uint64_t v) {
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *jtime_sec(int64_t sec) {
    char buf[32];
    report_time_sec(sec, buf);
    return json_string(buf);
}

static json_t *jtime(int64_t ns) {
    char buf[32];
    report_time(ns, buf);
    return json_string(buf);
}

static void put(json_t *o, const char *k, json_t *v) {
    json_object_set_new(o, k, v);  // v == NULL (out of memory): key left out, see above
}

static json_t *jname(const char *name) {
    return name ? json_string(name) : json_null();
}

static json_t *jcode_name(uint16_t code, const char *name) {
    json_t *o = json_object();
    put(o, "code", json_integer(code));
    put(o, "name", jname(name));
    return o;
}

// jnamed_list: [{"code":..,"name":..}] for a list of 16-bit code points.
static json_t *jnamed_list(const uint16_t *v, size_t n, const char *(*namefn)(uint16_t)) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, jcode_name(v[i], namefn(v[i])));
    }
    return a;
}

// sni_len: the SNI as received, embedded NULs included (jansson escapes them as \u0000).
static size_t sni_len(const tls_client_hello *ch) {
    return ch->sni_len < TLS_MAX_SNI_LEN ? ch->sni_len : TLS_MAX_SNI_LEN;
}

static json_t *jversion(uint16_t v) {
    char buf[32];
    return json_string(fmt_version(v, buf));
}

static json_t *jendpoint(const tls_endpoint *e) {
    char ip[48];
    report_ip(e, ip);
    json_t *o = json_object();
    put(o, "ip", json_string(ip));
    put(o, "port", json_integer(e->port));
    return o;
}

static bool emit(report *r, json_t *root) {
    if (root == NULL) {
        return false;
    }
    int rc = json_dumpf(root, r->o.out, JSON_COMPACT);
    json_decref(root);
    if (rc != 0 || fputc('\n', r->o.out) == EOF) {
        return false;
    }
    return true;
}

// jwireshark: {"filter": display filter of the connection, "stream": tcp.stream or null}.
static json_t *jwireshark(const report *r, const tls_endpoint *client, const tls_endpoint *server,
                          uint64_t conn_id) {
    char filter[REPORT_WIRESHARK_FILTER_LEN];
    report_wireshark_filter(client, server, filter);
    json_t *ws = json_object();
    put(ws, "filter", json_string(filter));
    put(ws, "stream", r->o.stream_is_tcp_stream ? jint(conn_id) : json_null());
    return ws;
}

static json_t *jheader(const report *r, const char *type) {
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    put(o, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
    put(o, "type", json_string(type));
    put(o, "file", jstr(r->file));
    return o;
}

// ---------------------------------------------------------------------------------------------
// Connections (tlsdiag dissect)
// ---------------------------------------------------------------------------------------------
static const char *end_reason_name(uint8_t reason) {
    static const char *const n[] = {"handshake_done", "alert",       "closed",    "not_tls",
                                    "evicted",        "capture_end", "buffer_cap"};
    return reason < sizeof n / sizeof n[0] ? n[reason] : "unknown";
}

static json_t *jclient_hello(const tls_client_hello *ch) {
    if (!ch->present) {
        return json_null();
    }
    json_t *o = json_object();
    put(o, "frame", json_integer(ch->frame));
    put(o, "sslv2", json_boolean(ch->sslv2));
    put(o, "record_version", jversion(ch->record_version));
    put(o, "version", jversion(ch->legacy_version));
    put(o, "session_id_length", json_integer(ch->session_id_len));
    put(o, "ciphers", jnamed_list(ch->ciphers, ch->num_ciphers, tls_cipher_name));
    put(o, "compression_methods", json_integer(ch->num_compression));
    put(o, "extensions", jnamed_list(ch->extensions, ch->num_extensions, tls_extension_name));
    put(o, "sni", ch->has_sni ? jbytes(ch->sni, sni_len(ch)) : json_null());
    put(o, "supported_versions", jnamed_list(ch->versions, ch->num_versions, tls_version_name));
    put(o, "groups", jnamed_list(ch->groups, ch->num_groups, tls_group_name));
    put(o, "sigalgs", jnamed_list(ch->sigalgs, ch->num_sigalgs, tls_sigalg_name));
    put(o, "sigalgs_cert", jnamed_list(ch->sigalgs_cert, ch->num_sigalgs_cert, tls_sigalg_name));
    put(o, "key_share", jnamed_list(ch->key_share_groups, ch->num_key_shares, tls_group_name));
    json_t *alpn = json_array();
    for (size_t i = 0; i < ch->num_alpn && i < TLS_MAX_ALPN; i++) {
        json_array_append_new(alpn, JFIELD(ch->alpn[i]));
    }
    put(o, "alpn", alpn);
    json_t *pf = json_array();
    for (size_t i = 0; i < ch->num_point_formats && i < TLS_MAX_POINT_FORMATS; i++) {
        json_array_append_new(pf, json_integer(ch->point_formats[i]));
    }
    put(o, "point_formats", pf);
    json_t *f = json_object();
#define FLAG(name) put(f, #name, json_boolean(ch->name))
    FLAG(status_request);
    FLAG(sct);
    FLAG(renegotiation_info);
    FLAG(extended_master_secret);
    FLAG(encrypt_then_mac);
    FLAG(session_ticket);
    FLAG(early_data);
    FLAG(ech);
    FLAG(padding);
    FLAG(post_handshake_auth);
    FLAG(record_size_limit);
    FLAG(pre_shared_key);
    FLAG(sni_has_nul_or_ctl);
#undef FLAG
    put(f, "psk_modes", ch->has_psk_modes ? json_integer(ch->psk_modes) : json_null());
    put(o, "flags", f);
    put(o, "truncated", json_boolean(ch->truncated));
    return o;
}

static json_t *jserver_hello(const tls_server_hello *sh) {
    if (!sh->present) {
        return json_null();
    }
    json_t *o = json_object();
    put(o, "frame", json_integer(sh->frame));
    put(o, "sslv2", json_boolean(sh->sslv2));
    put(o, "record_version", jversion(sh->record_version));
    put(o, "version", jversion(sh->legacy_version));
    put(o, "selected_version", sh->selected_version ? jversion(sh->selected_version) : json_null());
    put(o, "cipher", jcode_name(sh->cipher, tls_cipher_name(sh->cipher)));
    put(o, "compression", json_integer(sh->compression));
    put(o, "extensions", jnamed_list(sh->extensions, sh->num_extensions, tls_extension_name));
    put(o, "key_share_group",
        sh->key_share_group ? jcode_name(sh->key_share_group, tls_group_name(sh->key_share_group))
                            : json_null());
    put(o, "alpn", JOPT(sh->alpn));
    json_t *f = json_object();
#define FLAG(name) put(f, #name, json_boolean(sh->name))
    FLAG(renegotiation_info);
    FLAG(extended_master_secret);
    FLAG(encrypt_then_mac);
    FLAG(session_ticket);
    FLAG(status_request);
    FLAG(sct);
    FLAG(sni_ack);
#undef FLAG
    put(o, "flags", f);
    put(o, "truncated", json_boolean(sh->truncated));
    return o;
}

// jcertificates: [{"index","length","sha256"}] — SHA-256 of each DER as sent.
static json_t *jcertificates(const tls_certificate *c) {
    json_t *a = json_array();
    if (!c->present) {
        return a;
    }
    for (uint32_t i = 0; i < c->num_stored && i < TLS_MAX_CERTS; i++) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1] = "";
        if (c->certs[i].der != NULL &&
            EVP_Digest(c->certs[i].der, c->certs[i].len, md, &mdlen, EVP_sha256(), NULL) == 1) {
            for (unsigned int k = 0; k < mdlen; k++) {
                snprintf(hex + 2 * k, 3, "%02x", md[k]);
            }
        }
        json_t *o = json_object();
        put(o, "index", json_integer(i));
        put(o, "length", json_integer(c->certs[i].len));
        put(o, "sha256", hex[0] ? json_string(hex) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *jcert_message(const tls_certificate *c) {
    if (!c->present) {
        return json_null();
    }
    json_t *o = json_object();
    put(o, "frame", json_integer(c->frame));
    put(o, "tls13", json_boolean(c->tls13));
    put(o, "count", json_integer(c->num_certs));
    put(o, "stored", json_integer(c->num_stored));
    put(o, "message_length", json_integer(c->message_len));
    put(o, "truncated", json_boolean(c->truncated));
    return o;
}

static json_t *jske(const tls_server_key_exchange *s) {
    if (!s->present) {
        return json_null();
    }
    static const char *const kinds[] = {"unknown", "ecdhe_named_curve", "dhe", "ecdhe_other"};
    json_t *o = json_object();
    put(o, "frame", json_integer(s->frame));
    put(o, "kind", json_string(s->kind < 4 ? kinds[s->kind] : "unknown"));
    put(o, "group", s->kind == 1 ? jcode_name(s->group, tls_group_name(s->group)) : json_null());
    put(o, "dh_p_bits", s->kind == 2 ? json_integer(s->dh_p_bits) : json_null());
    put(o, "sigalg", s->sigalg ? jcode_name(s->sigalg, tls_sigalg_name(s->sigalg)) : json_null());
    put(o, "length", json_integer(s->body_len));
    return o;
}

static json_t *jcert_request(const tls_cert_request *c) {
    if (!c->present) {
        return json_null();
    }
    json_t *o = json_object();
    put(o, "frame", json_integer(c->frame));
    json_t *types = json_array();
    for (size_t i = 0; i < c->num_cert_types && i < TLS_MAX_CERT_TYPES; i++) {
        json_array_append_new(types, json_integer(c->cert_types[i]));
    }
    put(o, "cert_types", types);
    put(o, "sigalgs", jnamed_list(c->sigalgs, c->num_sigalgs, tls_sigalg_name));
    put(o, "ca_names", json_integer(c->num_ca_names));
    put(o, "truncated", json_boolean(c->truncated));
    return o;
}

// event_kind_name: "TCP_SYN" → "tcp_syn" (the JSON spelling of tls_event_kind).
static json_t *jevent_kind(uint8_t kind) {
    char buf[40];
    const char *n = tls_event_name((tls_event_kind)kind);
    size_t i = 0;
    for (; n[i] && i < sizeof buf - 1; i++) {
        buf[i] = (char)tolower((unsigned char)n[i]);
    }
    buf[i] = '\0';
    return json_string(buf);
}

static json_t *jevent(const tls_transcript *t, const tls_event *e) {
    json_t *o = json_object();
    put(o, "frame", json_integer(e->frame));
    put(o, "time", jtime(e->ts_ns));
    put(o, "dir", json_string(e->dir == TLS_DIR_C2S ? "c2s" : "s2c"));
    put(o, "kind", jevent_kind(e->kind));
    switch (e->kind) {
        case TLS_EV_HANDSHAKE:
            put(o, "name", jname(tls_handshake_name(e->hs_type)));
            put(o, "code", json_integer(e->hs_type));
            break;
        case TLS_EV_SSL2:
            put(o, "name", jname(sslv2_msg_name(e->hs_type)));
            put(o, "code", json_integer(e->hs_type));
            break;
        case TLS_EV_ALERT:
            put(o, "level",
                json_string(e->alert_level == 1   ? "warning"
                            : e->alert_level == 2 ? "fatal"
                                                  : "unknown"));
            put(o, "level_code", json_integer(e->alert_level));
            put(o, "description", jname(tls_alert_name(e->alert_desc)));
            put(o, "code", json_integer(e->alert_desc));
            break;
        case TLS_EV_MALFORMED:
            put(o, "error", json_string(tls_err_name((tls_err)e->err)));
            put(o, "message", json_string(tls_err_msg((tls_err)e->err)));
            break;
        case TLS_EV_NOT_TLS:
            put(o, "preview",
                jbytes(t->preview[e->dir & 1], t->preview_len[e->dir & 1] < TLS_MAX_PREVIEW
                                                   ? t->preview_len[e->dir & 1]
                                                   : TLS_MAX_PREVIEW));
            break;
        default:
            break;
    }
    put(o, "length", json_integer(e->length));
    if (e->content_type != 0 || e->kind == TLS_EV_SSL2) {
        // SSLv2 records have no content type; their version is 0x0002 (RFC 6101 App. E).
        put(o, "content_type", e->content_type ? json_integer(e->content_type) : json_null());
        put(o, "record_version", jversion(e->version));
        put(o, "record_version_code", json_integer(e->version));
        put(o, "encrypted",
            json_boolean(e->kind == TLS_EV_ENCRYPTED_HANDSHAKE ||
                         e->kind == TLS_EV_ENCRYPTED_ALERT || e->kind == TLS_EV_APPLICATION_DATA));
    }
    if (e->count > 0) {
        put(o, "count", json_integer(e->count));
    }
    return o;
}

static json_t *jtcp(const tls_tcp_facts *f) {
    json_t *o = json_object();
    put(o, "syn", json_boolean(f->syn));
    put(o, "synack", json_boolean(f->synack));
    put(o, "syn_count", json_integer(f->syn_count));
    put(o, "syn_retransmitted", json_boolean(f->syn_retransmitted));
    put(o, "fin_client", f->fin[0] ? json_integer(f->fin_frame[0]) : json_null());
    put(o, "fin_server", f->fin[1] ? json_integer(f->fin_frame[1]) : json_null());
    put(o, "rst_client", f->rst[0] ? json_integer(f->rst_frame[0]) : json_null());
    put(o, "rst_server", f->rst[1] ? json_integer(f->rst_frame[1]) : json_null());
    put(o, "bytes_c2s", jint(f->bytes[0]));
    put(o, "bytes_s2c", jint(f->bytes[1]));
    put(o, "retransmits_c2s", json_integer(f->retransmits[0]));
    put(o, "retransmits_s2c", json_integer(f->retransmits[1]));
    put(o, "server_flight_retransmits", json_integer(f->server_flight_retransmits));
    put(o, "server_flight_acked", json_boolean(f->server_flight_acked));
    return o;
}

static json_t *jquality(const tls_quality *q) {
    json_t *o = json_object();
    put(o, "midstream", json_boolean(q->midstream));
    put(o, "client_unseen", json_boolean(q->client_unseen));
    put(o, "server_unseen", json_boolean(q->server_unseen));
    put(o, "gaps_c2s", json_integer(q->gaps[0]));
    put(o, "gaps_s2c", json_integer(q->gaps[1]));
    put(o, "gap_bytes_c2s", jint(q->gap_bytes[0]));
    put(o, "gap_bytes_s2c", jint(q->gap_bytes[1]));
    put(o, "snaplen_truncated", json_integer(q->snaplen_truncated));
    put(o, "overlap_conflicts", json_integer(q->overlap_conflicts));
    put(o, "buffer_cap_hit", json_boolean(q->buffer_cap_hit));
    put(o, "evicted", json_boolean(q->evicted));
    put(o, "capture_ended", json_boolean(q->capture_ended));
    put(o, "kernel_drops", json_boolean(q->kernel_drops));
    return o;
}

// negotiated_version: supported_versions in the ServerHello wins (RFC 8446 §4.2.1), else the
// legacy field; 0 when there is no ServerHello.
static uint16_t negotiated_version(const tls_transcript *t) {
    if (!t->sh.present) {
        return 0;
    }
    return t->sh.selected_version ? t->sh.selected_version : t->sh.legacy_version;
}

bool json_transcript(report *r, const tls_transcript *t) {
    json_t *o = jheader(r, "connection");
    if (o == NULL) {
        return false;
    }
    put(o, "conn_id", jint(t->conn_id));
    put(o, "client", jendpoint(&t->client));
    put(o, "server", jendpoint(&t->server));
    put(o, "roles_from_syn", json_boolean(t->roles_from_syn));
    put(o, "first_frame", json_integer(t->first_frame));
    put(o, "last_frame", json_integer(t->last_frame));
    put(o, "wireshark", jwireshark(r, &t->client, &t->server, t->conn_id));
    put(o, "start", jtime(t->first_ts_ns));
    put(o, "end", jtime(t->last_ts_ns));
    put(o, "end_reason", json_string(end_reason_name(t->end_reason)));
    put(o, "is_tls", json_boolean(t->is_tls));
    put(o, "sni",
        t->ch.present && t->ch.has_sni ? jbytes(t->ch.sni, sni_len(&t->ch)) : json_null());
    uint16_t ver = negotiated_version(t);
    json_t *tls = json_object();
    put(tls, "version", ver ? jversion(ver) : json_null());
    put(tls, "version_code", ver ? json_integer(ver) : json_null());
    put(tls, "cipher", t->sh.present ? jname(tls_cipher_name(t->sh.cipher)) : json_null());
    put(tls, "cipher_code", t->sh.present ? json_integer(t->sh.cipher) : json_null());
    put(tls, "ja3", JOPT(t->ja3));
    put(tls, "ja3s", JOPT(t->ja3s));
    put(tls, "ja4", JOPT(t->ja4));
    put(o, "tls", tls);
    put(o, "client_hello", jclient_hello(&t->ch));
    put(o, "hello_retry_request", jserver_hello(&t->hrr));
    put(o, "client_hello_2", jclient_hello(&t->ch2));
    put(o, "server_hello", jserver_hello(&t->sh));
    put(o, "certificate", jcert_message(&t->cert));
    put(o, "certificates", jcertificates(&t->cert));
    put(o, "client_certificates", jcertificates(&t->client_cert));
    put(o, "server_key_exchange", jske(&t->ske));
    put(o, "certificate_request", jcert_request(&t->cert_req));
    put(o, "server_hello_done", json_boolean(t->server_hello_done));
    put(o, "client_key_exchange", json_boolean(t->client_key_exchange));
    put(o, "renegotiation_attempt", json_boolean(t->renegotiation_attempt));
    json_t *ev = json_array();
    for (uint32_t i = 0; i < t->num_events && i < TLS_MAX_EVENTS; i++) {
        json_array_append_new(ev, jevent(t, &t->events[i]));
    }
    put(o, "events", ev);
    put(o, "events_dropped", json_integer(t->events_dropped));
    json_t *app = json_object();
    put(app, "records_c2s", json_integer(t->app_records[0]));
    put(app, "records_s2c", json_integer(t->app_records[1]));
    put(app, "bytes_c2s", jint(t->app_bytes[0]));
    put(app, "bytes_s2c", jint(t->app_bytes[1]));
    put(o, "application_data", app);
    put(o, "tcp", jtcp(&t->tcp));
    put(o, "quality", jquality(&t->quality));
    json_t *err = json_object();
    put(err, "count", json_integer(t->num_errors));
    put(err, "first",
        t->num_errors ? json_string(tls_err_name((tls_err)t->first_err)) : json_null());
    put(err, "frame", t->num_errors ? json_integer(t->first_err_frame) : json_null());
    put(err, "offset", t->num_errors ? json_integer(t->first_err_offset) : json_null());
    put(o, "errors", err);
    return emit(r, o);
}

// ---------------------------------------------------------------------------------------------
// Handshakes (tlsdiag analyze)
// ---------------------------------------------------------------------------------------------
static json_t *jtext_list(const char (*items)[VERDICT_TEXT], uint32_t n, uint32_t cap) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < n && i < cap; i++) {
        json_array_append_new(a, jfield(items[i], VERDICT_TEXT));
    }
    return a;
}

static json_t *jevidence_list(const verdict *v) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < v->num_evidence && i < VERDICT_MAX_EVIDENCE; i++) {
        const verdict_evidence *e = &v->evidence[i];
        json_t *o = json_object();
        put(o, "key", JFIELD(e->key));
        put(o, "value", JFIELD(e->value));
        put(o, "frame", e->frame ? json_integer(e->frame) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *jx509(const x509_info *c) {
    json_t *o = json_object();
    put(o, "index", json_integer(c->index));
    put(o, "subject", JFIELD(c->subject));
    put(o, "issuer", JFIELD(c->issuer));
    put(o, "serial", JFIELD(c->serial));
    put(o, "not_before", jtime_sec(c->not_before));
    put(o, "not_after", jtime_sec(c->not_after));
    json_t *sans = json_array();
    // sans is "a,b,c" (analyze/); split on commas for the array form.
    const char *s = c->sans;
    size_t total = strnlen(c->sans, sizeof c->sans);
    size_t start = 0;
    for (size_t i = 0; i <= total; i++) {
        if (i == total || s[i] == ',') {
            if (i > start) {
                json_array_append_new(sans, jbytes(s + start, i - start));
            }
            start = i + 1;
        }
    }
    put(o, "sans", sans);
    json_t *key = json_object();
    put(key, "type", JOPT(c->key_type));
    put(key, "bits", json_integer(c->key_bits));
    put(key, "curve", JOPT(c->curve));
    put(o, "key", key);
    put(o, "signature_algorithm", JOPT(c->sig_alg));
    put(o, "sha256", JOPT(c->sha256));
    put(o, "ski", JOPT(c->ski));
    put(o, "aki", JOPT(c->aki));
    put(o, "self_issued", json_boolean(c->self_issued));
    put(o, "self_signed", json_boolean(c->self_signed));
    put(o, "ca", json_boolean(c->is_ca));
    put(o, "parse_error", json_boolean(c->parse_error));
    return o;
}

bool json_verdict(report *r, const verdict *v) {
    json_t *o = jheader(r, "handshake");
    if (o == NULL) {
        return false;
    }
    put(o, "conn_id", jint(v->conn_id));
    json_t *client = jendpoint(&v->client);
    put(client, "cloudfront", json_boolean(v->client_is_cloudfront));
    put(client, "network", JOPT(v->client_network));
    put(o, "client", client);
    put(o, "server", jendpoint(&v->server));
    put(o, "sni", v->has_sni ? JFIELD(v->sni) : json_null());
    put(o, "start", jtime(v->first_ts_ns));
    put(o, "end", jtime(v->last_ts_ns));
    json_t *frames = json_object();
    put(frames, "first", json_integer(v->first_frame));
    put(frames, "last", json_integer(v->last_frame));
    put(o, "frames", frames);
    put(o, "wireshark", jwireshark(r, &v->client, &v->server, v->conn_id));
    json_t *tls = json_object();
    put(tls, "version", v->version ? jversion(v->version) : json_null());
    put(tls, "version_code", v->version ? json_integer(v->version) : json_null());
    put(tls, "cipher", v->cipher ? jname(tls_cipher_name(v->cipher)) : json_null());
    put(tls, "cipher_code", v->cipher ? json_integer(v->cipher) : json_null());
    put(tls, "ja3", JOPT(v->ja3));
    put(tls, "ja3s", JOPT(v->ja3s));
    put(tls, "ja4", JOPT(v->ja4));
    put(o, "tls", tls);
    put(o, "outcome", json_string(verdict_outcome_name(v->outcome)));
    put(o, "predicted", json_boolean(v->predicted));
    put(o, "failed_step", JOPT(v->failed_step));
    put(o, "aborted_by",
        v->outcome == OUTCOME_FAILED && v->aborted_by != PARTY_NONE
            ? json_string(verdict_party_name(v->aborted_by))
            : json_null());
    if (v->has_alert) {
        json_t *a = json_object();
        put(a, "sender", json_string(verdict_party_name(v->alert_sender)));
        if (v->alert_encrypted) {
            put(a, "level", json_null());
            put(a, "description", json_null());
            put(a, "code", json_null());
        } else {
            put(a, "level",
                json_string(v->alert_level == 1   ? "warning"
                            : v->alert_level == 2 ? "fatal"
                                                  : "unknown"));
            put(a, "description", jname(tls_alert_name(v->alert_desc)));
            put(a, "code", json_integer(v->alert_desc));
        }
        put(a, "frame", json_integer(v->alert_frame));
        put(a, "encrypted", json_boolean(v->alert_encrypted));
        put(o, "alert", a);
    } else {
        put(o, "alert", json_null());
    }
    put(o, "cause", json_string(cause_name(v->cause)));
    put(o, "confidence", json_string(verdict_confidence_name(v->confidence)));
    put(o, "method", json_string(verdict_method_name(v->method)));
    put(o, "summary", JFIELD(v->summary));
    put(o, "evidence", jevidence_list(v));
    put(o, "fix", jtext_list(v->fix, v->num_fix, VERDICT_MAX_STEPS));
    put(o, "check_command", JOPT(v->check_command));
    put(o, "dead_ends", jtext_list(v->dead_ends, v->num_dead_ends, VERDICT_MAX_STEPS));
    json_t *findings = json_array();
    for (uint32_t i = 0; i < v->num_findings && i < VERDICT_MAX_FINDINGS; i++) {
        json_t *f = json_object();
        put(f, "cause", json_string(cause_name(v->findings[i].cause)));
        put(f, "text", JFIELD(v->findings[i].text));
        json_array_append_new(findings, f);
    }
    put(o, "findings", findings);
    json_t *certs = json_array();
    for (uint32_t i = 0; i < v->num_certs && i < VERDICT_MAX_CERTS; i++) {
        json_array_append_new(certs, jx509(&v->certs[i]));
    }
    put(o, "certificates", certs);
    put(o, "chain_sha256", JOPT(v->chain_sha256));
    put(o, "verify_result", JOPT(v->verify_error));
    put(o, "trust_store", JOPT(v->trust_store));
    put(o, "capture_note", JOPT(v->capture_note));
    return emit(r, o);
}

// ---------------------------------------------------------------------------------------------
// Summary and errors
// ---------------------------------------------------------------------------------------------
static json_t *jcounts(const summary_count *c, size_t n, const char *keyname) {
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < 10; i++) {  // top 10, as the text tables
        json_t *o = json_object();
        put(o, keyname, JFIELD(c[i].key));
        put(o, "ok", jint(c[i].ok));
        put(o, "failed", jint(c[i].failed));
        put(o, "first_failure", c[i].failed ? jtime(c[i].first_fail_ns) : json_null());
        put(o, "last_failure", c[i].failed ? jtime(c[i].last_fail_ns) : json_null());
        put(o, "top_cause", c[i].failed ? json_string(cause_name(c[i].top_cause)) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

bool json_summary(report *r, const summary *s, const report_run_info *info) {
    json_t *o = jheader(r, "summary");
    if (o == NULL) {
        return false;
    }
    json_t *files = json_array();
    for (size_t i = 0; i < info->num_files && info->files; i++) {
        json_array_append_new(files, jstr(info->files[i]));
    }
    put(o, "files", files);
    put(o, "connections", jint(s->connections));
    put(o, "succeeded", jint(s->succeeded));
    put(o, "failed", jint(s->failed));
    put(o, "predicted", jint(s->predicted));
    put(o, "incomplete", jint(s->incomplete));
    put(o, "not_tls", jint(s->not_tls));
    json_t *by = json_object();
    for (int c = 0; c < CAUSE__COUNT; c++) {
        if (c != CAUSE_OK && s->by_cause[c] > 0) {
            put(by, cause_name((cause_id)c), jint(s->by_cause[c]));
        }
    }
    put(o, "by_cause", by);
    bool any = s->failed + s->predicted > 0;
    put(o, "dominant_cause", any ? json_string(cause_name(s->dominant)) : json_null());
    put(o, "first_failure", any ? jtime(s->first_fail_ns) : json_null());
    put(o, "last_failure", any ? jtime(s->last_fail_ns) : json_null());
    const verdict *ex = s->dominant_example;
    if (ex != NULL) {
        json_t *d = json_object();
        put(d, "conn_id", jint(ex->conn_id));
        put(d, "summary", JFIELD(ex->summary));
        put(d, "evidence", jevidence_list(ex));
        put(d, "fix", jtext_list(ex->fix, ex->num_fix, VERDICT_MAX_STEPS));
        put(d, "check_command", JOPT(ex->check_command));
        put(d, "dead_ends", jtext_list(ex->dead_ends, ex->num_dead_ends, VERDICT_MAX_STEPS));
        put(o, "dominant_example", d);
    } else {
        put(o, "dominant_example", json_null());
    }
    put(o, "by_sni", jcounts(s->by_sni, s->by_sni ? s->num_sni : 0, "sni"));
    put(o, "by_network", jcounts(s->by_network, s->by_network ? s->num_networks : 0, "network"));
    put(o, "by_certificate", jcounts(s->by_cert, s->by_cert ? s->num_certs : 0, "sha256"));
    if (s->intermittent) {
        json_t *im = json_object();
        put(im, "sni", JFIELD(s->intermittent_sni));
        put(o, "intermittent", im);
    } else {
        put(o, "intermittent", json_null());
    }
    json_t *prof = json_object();
    put(prof, "name", jstr(info->profile_name));
    put(prof, "version", jstr(info->profile_version));
    put(prof, "prefixes", jstr(info->prefix_source));
    put(o, "profile", prof);
    put(o, "trust_store", jstr(info->trust_store));
    json_t *errs = json_array();
    for (size_t i = 0; i < info->num_input_errors && info->input_errors; i++) {
        const report_input_error *e = &info->input_errors[i];
        json_t *eo = json_object();
        put(eo, "file", jstr(e->file));
        put(eo, "frame", jint(e->frame));
        put(eo, "offset", jint(e->offset));
        put(eo, "message", jstr(e->message));
        json_array_append_new(errs, eo);
    }
    put(o, "input_errors", errs);
    return emit(r, o);
}

bool json_error(report *r, const report_input_error *e) {
    json_t *o = json_object();
    if (o == NULL) {
        return false;
    }
    put(o, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
    put(o, "type", json_string("error"));
    put(o, "file", jstr(e->file));
    put(o, "frame", jint(e->frame));
    put(o, "offset", jint(e->offset));
    put(o, "message", jstr(e->message));
    return emit(r, o);
}
