// json.c — JSON Lines rendering (schema_version 1): connections, handshakes, summary, errors.
//
// Each object is written straight onto the output stream by the writer in jsonw.c, in schema
// order, with no tree in between (building a jansson tree per handshake cost 85 % of
// `analyze --json`, issue 7). The bytes are those jansson's JSON_COMPACT printed before: every
// string that may hold wire bytes goes through jbytes(), which prints bytes that are not valid
// UTF-8 as "\xNN" text (report_escape's rule) and JSON-escapes the rest (jansson's rule); see
// jsonw.h. Each function writes one value; PUT writes a key and then its value. Nothing here
// allocates, so nothing is left out: a write error is the only failure, and emit reports it.
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "jmemo.h"
#include "jsonw.h"
#include "report_internal.h"

// PUT writes "k": and then the value that the call v writes (v is a void expression); k is a
// string literal (JSONW_KEY: its quoted form is built by the compiler).
#define PUT(w, k, v) (JSONW_KEY((w), k), (v))

static void jinteger(jsonw *w, long long v) {
    jsonw_int(w, v);
}

static void jboolean(jsonw *w, bool b) {
    jsonw_bool(w, b);
}

static void jnull(jsonw *w) {
    jsonw_null(w);
}

// jstring: a string from our own tables or formatters (ASCII), not from the wire.
static void jstring(jsonw *w, const char *s) {
    jsonw_string(w, s);
}

// jplain: a string our code made from a fixed alphabet — a name from our tables, a time, a
// digest — written without the escaping scan (jsonw_plain); NULL: null.
static void jplain(jsonw *w, const char *s) {
    s ? jsonw_plain(w, s, strlen(s)) : jnull(w);
}

static void jbytes(jsonw *w, const void *p, size_t n) {
    jsonw_bytes(w, p, n);  // invalid UTF-8 as "\xNN", as report_escape(REPORT_ESC_JSON)
}

static void jstr(jsonw *w, const char *s) {
    s ? jbytes(w, s, strlen(s)) : jnull(w);
}

// jfield: a NUL-terminated string stored in a fixed array (never read past the array).
static void jfield(jsonw *w, const char *s, size_t cap) {
    jsonw_field(w, s, cap);  // strnlen and the escaping in one pass
}

static void jstr_or_null(jsonw *w, const char *s, size_t cap) {
    s[0] ? jfield(w, s, cap) : jnull(w);
}
#define JFIELD(w, arr) jfield(w, (arr), sizeof(arr))
#define JOPT(w, arr) jstr_or_null(w, (arr), sizeof(arr))

static void jint(jsonw *w, uint64_t v) {
    jinteger(w, v > (uint64_t)INT64_MAX ? INT64_MAX : (long long)v);
}

static void jtime_sec(jsonw *w, int64_t sec) {
    char buf[32];
    report_time_sec(sec, buf);
    jplain(w, buf);
}

static void jtime(jsonw *w, int64_t ns) {
    char buf[32];
    report_time(ns, buf);
    jplain(w, buf);
}

static void jname(jsonw *w, const char *name) {
    jplain(w, name);
}

static void jcode_name(jsonw *w, uint16_t code, const char *name) {
    jsonw_object_begin(w);
    PUT(w, "code", jinteger(w, code));
    PUT(w, "name", jname(w, name));
    jsonw_object_end(w);
}

// jnamed_list: [{"code":..,"name":..}] for a list of 16-bit code points.
static void jnamed_list(jsonw *w, const uint16_t *v, size_t n, const char *(*namefn)(uint16_t)) {
    jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        jcode_name(w, v[i], namefn(v[i]));
    }
    jsonw_array_end(w);
}

// sni_len: the SNI as received, embedded NULs included (printed as \u0000).
static size_t sni_len(const tls_client_hello *ch) {
    return ch->sni_len < TLS_MAX_SNI_LEN ? ch->sni_len : TLS_MAX_SNI_LEN;
}

static void jversion(jsonw *w, uint16_t v) {
    char buf[32];
    jplain(w, fmt_version(v, buf));
}

// jendpoint_members: "ip":..,"port":.. inside an open object (json_verdict adds to it); ip is
// e's address as text.
static void jendpoint_members(jsonw *w, const tls_endpoint *e, const report_ip_text *ip) {
    PUT(w, "ip", jsonw_plain(w, ip->s, ip->n));
    PUT(w, "port", jinteger(w, e->port));
}

static void jendpoint(jsonw *w, const tls_endpoint *e, const report_ip_text *ip) {
    jsonw_object_begin(w);
    jendpoint_members(w, e, ip);
    jsonw_object_end(w);
}

// emit closes the line; false when any write of it failed (report.c also checks ferror).
static bool emit(report *r, jsonw *w) {
    (void)r;
    return jsonw_end_line(w);
}

// jwireshark: {"filter": display filter of the connection, "stream": tcp.stream or null}.
static void jwireshark(jsonw *w, const report *r, const tls_endpoint *client,
                       const report_ip_text *cip, const tls_endpoint *server,
                       const report_ip_text *sip, uint64_t conn_id) {
    char filter[REPORT_WIRESHARK_FILTER_LEN];
    size_t n = report_wireshark_filter_ips(client, cip, server, sip, filter);
    jsonw_object_begin(w);
    PUT(w, "filter", jsonw_plain(w, filter, n));
    PUT(w, "stream", r->o.stream_is_tcp_stream ? jint(w, conn_id) : jnull(w));
    jsonw_object_end(w);
}

// jschema: "schema_version" (changes when a field is removed or changes meaning) and
// "schema_minor" (counts additions a reader may ignore).
static void jschema(jsonw *w) {
    PUT(w, "schema_version", jinteger(w, REPORT_SCHEMA_VERSION));
    PUT(w, "schema_minor", jinteger(w, REPORT_SCHEMA_MINOR));
}

// jcommunity_id: Community ID v1 of the TCP connection (null for an address we cannot hash).
static void jcommunity_id(jsonw *w, const tls_endpoint *client, const tls_endpoint *server) {
    char id[REPORT_COMMUNITY_ID_LEN];
    report_community_id_tcp(client, server, id) ? jplain(w, id) : jnull(w);
}

// jframes: {"first":..,"last":..}.
static void jframes(jsonw *w, uint32_t first, uint32_t last) {
    jsonw_object_begin(w);
    PUT(w, "first", jinteger(w, first));
    PUT(w, "last", jinteger(w, last));
    jsonw_object_end(w);
}

// jheader starts the line: {"schema_version":1,"schema_minor":..,"type":..,"file":..
static void jheader_render(jsonw *w, const report *r, const char *type) {
    jschema(w);
    PUT(w, "type", jstring(w, type));
    PUT(w, "file", jstr(w, r->file));
}

// Every handshake line of a file starts with the same members: each thread keeps their bytes
// for the last (type, file) it wrote, and compares the file name instead of escaping it again
// (~500 instructions a verdict). Names longer than JHEAD_MAX are written each time.
enum { JHEAD_MAX = 1024 };
typedef struct jhead_kept {
    const char *type;  // a literal of this file: compared by address; NULL: empty
    bool file_null;
    size_t file_len;
    char file[JHEAD_MAX];
    size_t len;
    char bytes[JHEAD_MAX + 128];
} jhead_kept;
static __thread jhead_kept jhead;

static void jheader(jsonw *w, const report *r, const char *type) {
    jsonw_begin_line(w, r->o.out);
    size_t flen = r->file ? strlen(r->file) : 0;
    if (jhead.type == type && jhead.file_null == (r->file == NULL) && jhead.file_len == flen &&
        (flen == 0 || memcmp(jhead.file, r->file, flen) == 0)) {
        jsonw_members_bytes(w, jhead.bytes, jhead.len);
        return;
    }
    jsonw_mark from = jsonw_mark_here(w);
    jheader_render(w, r, type);
    jsonw_mark to = jsonw_mark_here(w);
    size_t n = to.at - from.at;
    jhead.type = NULL;
    if (from.flushes != to.flushes || to.at < from.at || n > sizeof jhead.bytes ||
        flen > sizeof jhead.file || w->failed) {
        return;  // not all staged at once, or too long: not kept
    }
    memcpy(jhead.bytes, w->buf + from.at, n);
    jhead.len = n;
    jhead.file_null = r->file == NULL;
    jhead.file_len = flen;
    if (flen > 0) {
        memcpy(jhead.file, r->file, flen);
    }
    jhead.type = type;
}

// ---------------------------------------------------------------------------------------------
// Connections (tlsdiag dissect)
// ---------------------------------------------------------------------------------------------
static const char *end_reason_name(uint8_t reason) {
    static const char *const n[] = {"handshake_done", "alert",       "closed",    "not_tls",
                                    "evicted",        "capture_end", "buffer_cap"};
    return reason < sizeof n / sizeof n[0] ? n[reason] : "unknown";
}

static void jclient_hello(jsonw *w, const tls_client_hello *ch) {
    if (!ch->present) {
        jnull(w);
        return;
    }
    jsonw_object_begin(w);
    PUT(w, "frame", jinteger(w, ch->frame));
    PUT(w, "sslv2", jboolean(w, ch->sslv2));
    PUT(w, "record_version", jversion(w, ch->record_version));
    PUT(w, "version", jversion(w, ch->legacy_version));
    PUT(w, "session_id_length", jinteger(w, ch->session_id_len));
    PUT(w, "ciphers", jnamed_list(w, ch->ciphers, ch->num_ciphers, tls_cipher_name));
    PUT(w, "compression_methods", jinteger(w, ch->num_compression));
    PUT(w, "extensions", jnamed_list(w, ch->extensions, ch->num_extensions, tls_extension_name));
    PUT(w, "sni", ch->has_sni ? jbytes(w, ch->sni, sni_len(ch)) : jnull(w));
    PUT(w, "supported_versions", jnamed_list(w, ch->versions, ch->num_versions, tls_version_name));
    PUT(w, "groups", jnamed_list(w, ch->groups, ch->num_groups, tls_group_name));
    PUT(w, "sigalgs", jnamed_list(w, ch->sigalgs, ch->num_sigalgs, tls_sigalg_name));
    PUT(w, "sigalgs_cert", jnamed_list(w, ch->sigalgs_cert, ch->num_sigalgs_cert, tls_sigalg_name));
    PUT(w, "key_share", jnamed_list(w, ch->key_share_groups, ch->num_key_shares, tls_group_name));
    JSONW_KEY(w, "alpn");
    jsonw_array_begin(w);
    for (size_t i = 0; i < ch->num_alpn && i < TLS_MAX_ALPN; i++) {
        // The id's bytes as sent (a NUL inside is \u0000, not the end), up to the copy's cap.
        size_t kept =
            ch->alpn_len[i] < TLS_MAX_ALPN_LEN - 1 ? ch->alpn_len[i] : TLS_MAX_ALPN_LEN - 1;
        jbytes(w, ch->alpn[i], kept);
    }
    jsonw_array_end(w);
    JSONW_KEY(w, "point_formats");
    jsonw_array_begin(w);
    for (size_t i = 0; i < ch->num_point_formats && i < TLS_MAX_POINT_FORMATS; i++) {
        jinteger(w, ch->point_formats[i]);
    }
    jsonw_array_end(w);
    JSONW_KEY(w, "flags");
    jsonw_object_begin(w);
#define FLAG(name) PUT(w, #name, jboolean(w, ch->name))
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
    PUT(w, "psk_modes", ch->has_psk_modes ? jinteger(w, ch->psk_modes) : jnull(w));
    jsonw_object_end(w);
    PUT(w, "truncated", jboolean(w, ch->truncated));
    // The true counts of the lists above, only where some entries were not kept.
    if (ch->num_ciphers_sent > ch->num_ciphers) {
        PUT(w, "ciphers_count", jinteger(w, ch->num_ciphers_sent));
    }
    if (ch->num_extensions_sent > ch->num_extensions) {
        PUT(w, "extensions_count", jinteger(w, ch->num_extensions_sent));
    }
    if (ch->num_alpn_sent > ch->num_alpn) {
        PUT(w, "alpn_count", jinteger(w, ch->num_alpn_sent));
    }
    jsonw_object_end(w);
}

static void jserver_hello(jsonw *w, const tls_server_hello *sh) {
    if (!sh->present) {
        jnull(w);
        return;
    }
    jsonw_object_begin(w);
    PUT(w, "frame", jinteger(w, sh->frame));
    PUT(w, "sslv2", jboolean(w, sh->sslv2));
    PUT(w, "record_version", jversion(w, sh->record_version));
    PUT(w, "version", jversion(w, sh->legacy_version));
    PUT(w, "selected_version", sh->selected_version ? jversion(w, sh->selected_version) : jnull(w));
    PUT(w, "cipher", jcode_name(w, sh->cipher, tls_cipher_name(sh->cipher)));
    PUT(w, "compression", jinteger(w, sh->compression));
    PUT(w, "extensions", jnamed_list(w, sh->extensions, sh->num_extensions, tls_extension_name));
    PUT(w, "key_share_group",
        sh->key_share_group
            ? jcode_name(w, sh->key_share_group, tls_group_name(sh->key_share_group))
            : jnull(w));
    PUT(w, "alpn", JOPT(w, sh->alpn));
    JSONW_KEY(w, "flags");
    jsonw_object_begin(w);
#define FLAG(name) PUT(w, #name, jboolean(w, sh->name))
    FLAG(renegotiation_info);
    FLAG(extended_master_secret);
    FLAG(encrypt_then_mac);
    FLAG(session_ticket);
    FLAG(status_request);
    FLAG(sct);
    FLAG(sni_ack);
#undef FLAG
    jsonw_object_end(w);
    PUT(w, "truncated", jboolean(w, sh->truncated));
    if (sh->num_extensions_sent > sh->num_extensions) {
        PUT(w, "extensions_count", jinteger(w, sh->num_extensions_sent));
    }
    jsonw_object_end(w);
}

// jcertificates: [{"index","length","sha256"}] — SHA-256 of each DER as sent.
static void jcertificates(jsonw *w, const tls_certificate *c) {
    jsonw_array_begin(w);
    if (!c->present) {
        jsonw_array_end(w);
        return;
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
        jsonw_object_begin(w);
        PUT(w, "index", jinteger(w, i));
        PUT(w, "length", jinteger(w, c->certs[i].len));
        PUT(w, "sha256", hex[0] ? jstring(w, hex) : jnull(w));
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

static void jcert_message(jsonw *w, const tls_certificate *c) {
    if (!c->present) {
        jnull(w);
        return;
    }
    jsonw_object_begin(w);
    PUT(w, "frame", jinteger(w, c->frame));
    PUT(w, "tls13", jboolean(w, c->tls13));
    PUT(w, "count", jinteger(w, c->num_certs));
    PUT(w, "stored", jinteger(w, c->num_stored));
    PUT(w, "message_length", jinteger(w, c->message_len));
    PUT(w, "truncated", jboolean(w, c->truncated));
    jsonw_object_end(w);
}

static void jske(jsonw *w, const tls_server_key_exchange *s) {
    if (!s->present) {
        jnull(w);
        return;
    }
    static const char *const kinds[] = {"unknown", "ecdhe_named_curve", "dhe", "ecdhe_other"};
    jsonw_object_begin(w);
    PUT(w, "frame", jinteger(w, s->frame));
    PUT(w, "kind", jstring(w, s->kind < 4 ? kinds[s->kind] : "unknown"));
    PUT(w, "group", s->kind == 1 ? jcode_name(w, s->group, tls_group_name(s->group)) : jnull(w));
    PUT(w, "dh_p_bits", s->kind == 2 ? jinteger(w, s->dh_p_bits) : jnull(w));
    PUT(w, "sigalg", s->sigalg ? jcode_name(w, s->sigalg, tls_sigalg_name(s->sigalg)) : jnull(w));
    PUT(w, "length", jinteger(w, s->body_len));
    jsonw_object_end(w);
}

static void jcert_request(jsonw *w, const tls_cert_request *c) {
    if (!c->present) {
        jnull(w);
        return;
    }
    jsonw_object_begin(w);
    PUT(w, "frame", jinteger(w, c->frame));
    JSONW_KEY(w, "cert_types");
    jsonw_array_begin(w);
    for (size_t i = 0; i < c->num_cert_types && i < TLS_MAX_CERT_TYPES; i++) {
        jinteger(w, c->cert_types[i]);
    }
    jsonw_array_end(w);
    PUT(w, "sigalgs", jnamed_list(w, c->sigalgs, c->num_sigalgs, tls_sigalg_name));
    PUT(w, "ca_names", jinteger(w, c->num_ca_names));
    PUT(w, "truncated", jboolean(w, c->truncated));
    jsonw_object_end(w);
}

// event_kind_name: "TCP_SYN" → "tcp_syn" (the JSON spelling of tls_event_kind).
static void jevent_kind(jsonw *w, uint8_t kind) {
    char buf[40];
    const char *n = tls_event_name((tls_event_kind)kind);
    size_t i = 0;
    for (; n[i] && i < sizeof buf - 1; i++) {
        buf[i] = (char)tolower((unsigned char)n[i]);
    }
    buf[i] = '\0';
    jstring(w, buf);
}

static void jevent(jsonw *w, const tls_transcript *t, const tls_event *e) {
    jsonw_object_begin(w);
    PUT(w, "frame", jinteger(w, e->frame));
    PUT(w, "time", jtime(w, e->ts_ns));
    PUT(w, "dir", jstring(w, e->dir == TLS_DIR_C2S ? "c2s" : "s2c"));
    PUT(w, "kind", jevent_kind(w, e->kind));
    switch (e->kind) {
        case TLS_EV_HANDSHAKE:
            PUT(w, "name", jname(w, tls_handshake_name(e->hs_type)));
            PUT(w, "code", jinteger(w, e->hs_type));
            break;
        case TLS_EV_SSL2:
            PUT(w, "name", jname(w, sslv2_msg_name(e->hs_type)));
            PUT(w, "code", jinteger(w, e->hs_type));
            break;
        case TLS_EV_ALERT:
            PUT(w, "level",
                jstring(w, e->alert_level == 1   ? "warning"
                           : e->alert_level == 2 ? "fatal"
                                                 : "unknown"));
            PUT(w, "level_code", jinteger(w, e->alert_level));
            PUT(w, "description", jname(w, tls_alert_name(e->alert_desc)));
            PUT(w, "code", jinteger(w, e->alert_desc));
            break;
        case TLS_EV_MALFORMED:
            PUT(w, "error", jstring(w, tls_err_name((tls_err)e->err)));
            PUT(w, "message", jstring(w, tls_err_msg((tls_err)e->err)));
            break;
        case TLS_EV_NOT_TLS:
            PUT(w, "preview",
                jbytes(w, t->preview[e->dir & 1],
                       t->preview_len[e->dir & 1] < TLS_MAX_PREVIEW ? t->preview_len[e->dir & 1]
                                                                    : TLS_MAX_PREVIEW));
            break;
        default:
            break;
    }
    PUT(w, "length", jinteger(w, e->length));
    if (e->content_type != 0 || e->kind == TLS_EV_SSL2) {
        // SSLv2 records have no content type; their version is 0x0002 (RFC 6101 App. E).
        PUT(w, "content_type", e->content_type ? jinteger(w, e->content_type) : jnull(w));
        PUT(w, "record_version", jversion(w, e->version));
        PUT(w, "record_version_code", jinteger(w, e->version));
        PUT(w, "encrypted",
            jboolean(w, e->kind == TLS_EV_ENCRYPTED_HANDSHAKE ||
                            e->kind == TLS_EV_ENCRYPTED_ALERT ||
                            e->kind == TLS_EV_APPLICATION_DATA));
    }
    if (e->count > 0) {
        PUT(w, "count", jinteger(w, e->count));
    }
    jsonw_object_end(w);
}

static void jtcp(jsonw *w, const tls_tcp_facts *f) {
    jsonw_object_begin(w);
    PUT(w, "syn", jboolean(w, f->syn));
    PUT(w, "synack", jboolean(w, f->synack));
    PUT(w, "syn_count", jinteger(w, f->syn_count));
    PUT(w, "syn_retransmitted", jboolean(w, f->syn_retransmitted));
    PUT(w, "fin_client", f->fin[0] ? jinteger(w, f->fin_frame[0]) : jnull(w));
    PUT(w, "fin_server", f->fin[1] ? jinteger(w, f->fin_frame[1]) : jnull(w));
    PUT(w, "rst_client", f->rst[0] ? jinteger(w, f->rst_frame[0]) : jnull(w));
    PUT(w, "rst_server", f->rst[1] ? jinteger(w, f->rst_frame[1]) : jnull(w));
    PUT(w, "bytes_c2s", jint(w, f->bytes[0]));
    PUT(w, "bytes_s2c", jint(w, f->bytes[1]));
    PUT(w, "retransmits_c2s", jinteger(w, f->retransmits[0]));
    PUT(w, "retransmits_s2c", jinteger(w, f->retransmits[1]));
    PUT(w, "server_flight_retransmits", jinteger(w, f->server_flight_retransmits));
    PUT(w, "server_flight_acked", jboolean(w, f->server_flight_acked));
    jsonw_object_end(w);
}

static void jquality(jsonw *w, const tls_quality *q) {
    jsonw_object_begin(w);
    PUT(w, "midstream", jboolean(w, q->midstream));
    PUT(w, "client_unseen", jboolean(w, q->client_unseen));
    PUT(w, "server_unseen", jboolean(w, q->server_unseen));
    PUT(w, "gaps_c2s", jinteger(w, q->gaps[0]));
    PUT(w, "gaps_s2c", jinteger(w, q->gaps[1]));
    PUT(w, "gap_bytes_c2s", jint(w, q->gap_bytes[0]));
    PUT(w, "gap_bytes_s2c", jint(w, q->gap_bytes[1]));
    PUT(w, "snaplen_truncated", jinteger(w, q->snaplen_truncated));
    PUT(w, "overlap_conflicts", jinteger(w, q->overlap_conflicts));
    PUT(w, "buffer_cap_hit", jboolean(w, q->buffer_cap_hit));
    PUT(w, "total_cap_hit", jboolean(w, q->total_cap_hit));
    PUT(w, "message_cap_hit", jboolean(w, q->message_cap_hit));
    PUT(w, "evicted", jboolean(w, q->evicted));
    PUT(w, "capture_ended", jboolean(w, q->capture_ended));
    PUT(w, "kernel_drops", jboolean(w, q->kernel_drops));
    jsonw_object_end(w);
}

bool json_transcript(report *r, const tls_transcript *t) {
    jsonw wr, *w = &wr;
    jheader(w, r, "connection");
    report_ip_text cip, sip;  // each address formatted once for the line
    report_ip_text_of(&t->client, &cip);
    report_ip_text_of(&t->server, &sip);
    PUT(w, "conn_id", jint(w, t->conn_id));
    PUT(w, "client", jendpoint(w, &t->client, &cip));
    PUT(w, "server", jendpoint(w, &t->server, &sip));
    PUT(w, "roles_from_syn", jboolean(w, t->roles_from_syn));
    PUT(w, "first_frame", jinteger(w, t->first_frame));
    PUT(w, "last_frame", jinteger(w, t->last_frame));  // as frames{} (kept for schema 1)
    PUT(w, "frames", jframes(w, t->first_frame, t->last_frame));
    PUT(w, "wireshark", jwireshark(w, r, &t->client, &cip, &t->server, &sip, t->conn_id));
    PUT(w, "community_id", jcommunity_id(w, &t->client, &t->server));
    PUT(w, "start", jtime(w, t->first_ts_ns));
    PUT(w, "end", jtime(w, t->last_ts_ns));
    PUT(w, "end_reason", jstring(w, end_reason_name(t->end_reason)));
    PUT(w, "is_tls", jboolean(w, t->is_tls));
    PUT(w, "sni",
        t->ch.present && t->ch.has_sni ? jbytes(w, t->ch.sni, sni_len(&t->ch)) : jnull(w));
    uint16_t ver = tls_negotiated_version(&t->sh);
    JSONW_KEY(w, "tls");
    jsonw_object_begin(w);
    PUT(w, "version", ver ? jversion(w, ver) : jnull(w));
    PUT(w, "version_code", ver ? jinteger(w, ver) : jnull(w));
    PUT(w, "cipher", t->sh.present ? jname(w, tls_cipher_name(t->sh.cipher)) : jnull(w));
    PUT(w, "cipher_code", t->sh.present ? jinteger(w, t->sh.cipher) : jnull(w));
    PUT(w, "ja3", JOPT(w, t->ja3));
    PUT(w, "ja3s", JOPT(w, t->ja3s));
    PUT(w, "ja4", JOPT(w, t->ja4));
    jsonw_object_end(w);
    PUT(w, "client_hello", jclient_hello(w, &t->ch));
    PUT(w, "hello_retry_request", jserver_hello(w, &t->hrr));
    PUT(w, "client_hello_2", jclient_hello(w, &t->ch2));
    PUT(w, "server_hello", jserver_hello(w, &t->sh));
    PUT(w, "certificate", jcert_message(w, &t->cert));
    PUT(w, "certificates", jcertificates(w, &t->cert));
    PUT(w, "client_certificates", jcertificates(w, &t->client_cert));
    PUT(w, "server_key_exchange", jske(w, &t->ske));
    PUT(w, "certificate_request", jcert_request(w, &t->cert_req));
    PUT(w, "server_hello_done", jboolean(w, t->server_hello_done));
    PUT(w, "client_key_exchange", jboolean(w, t->client_key_exchange));
    PUT(w, "renegotiation_attempt", jboolean(w, t->renegotiation_attempt));
    JSONW_KEY(w, "events");
    jsonw_array_begin(w);
    for (uint32_t i = 0; i < t->num_events && i < TLS_MAX_EVENTS; i++) {
        jevent(w, t, &t->events[i]);
    }
    jsonw_array_end(w);
    PUT(w, "events_dropped", jinteger(w, t->events_dropped));
    JSONW_KEY(w, "application_data");
    jsonw_object_begin(w);
    PUT(w, "records_c2s", jinteger(w, t->app_records[0]));
    PUT(w, "records_s2c", jinteger(w, t->app_records[1]));
    PUT(w, "bytes_c2s", jint(w, t->app_bytes[0]));
    PUT(w, "bytes_s2c", jint(w, t->app_bytes[1]));
    jsonw_object_end(w);
    PUT(w, "tcp", jtcp(w, &t->tcp));
    PUT(w, "quality", jquality(w, &t->quality));
    JSONW_KEY(w, "errors");
    jsonw_object_begin(w);
    PUT(w, "count", jinteger(w, t->num_errors));
    PUT(w, "first", t->num_errors ? jstring(w, tls_err_name((tls_err)t->first_err)) : jnull(w));
    PUT(w, "frame", t->num_errors ? jinteger(w, t->first_err_frame) : jnull(w));
    PUT(w, "offset", t->num_errors ? jinteger(w, t->first_err_offset) : jnull(w));
    jsonw_object_end(w);
    return emit(r, w);
}

// ---------------------------------------------------------------------------------------------
// Handshakes (tlsdiag analyze)
// ---------------------------------------------------------------------------------------------
void json_text_list(jsonw *w, const char (*items)[VERDICT_TEXT], uint32_t n, uint32_t cap) {
    jsonw_array_begin(w);
    for (uint32_t i = 0; i < n && i < cap; i++) {
        jfield(w, items[i], VERDICT_TEXT);
    }
    jsonw_array_end(w);
}

// jevidence_typed: the facts behind a piece of evidence as typed fields, where the verdict
// holds them: the alert's level, description code and sender (the prose is in "text").
static void jevidence_typed(jsonw *w, const verdict *v, const verdict_evidence *e) {
    if (v->has_alert && e->frame == v->alert_frame && strcmp(e->key, "alert") == 0) {
        PUT(w, "sender", jplain(w, verdict_party_name(v->alert_sender)));
        PUT(w, "level", v->alert_encrypted ? jnull(w) : jinteger(w, v->alert_level));
        PUT(w, "description", v->alert_encrypted ? jnull(w) : jinteger(w, v->alert_desc));
        PUT(w, "encrypted", jboolean(w, v->alert_encrypted));
    }
}

// jevidence_value: the value's bytes (verdict_evidence_len); a value without a length is the
// string in its array, found in the pass that escapes it (no strnlen first).
static void jevidence_value(jsonw *w, const verdict_evidence *e) {
    e->value_len ? jbytes(w, e->value, e->value_len) : JFIELD(w, e->value);
}

void json_evidence_list(jsonw *w, const verdict *v) {
    jsonw_array_begin(w);
    for (uint32_t i = 0; i < v->num_evidence && i < VERDICT_MAX_EVIDENCE; i++) {
        const verdict_evidence *e = &v->evidence[i];
        jsonw_object_begin(w);
        // key and value: as kind and text (schema 1), their bytes copied, not escaped again
        JSONW_KEY(w, "key");
        jsonw_mark key = jsonw_mark_here(w);
        JFIELD(w, e->key);
        jsonw_mark key_end = jsonw_mark_here(w);
        JSONW_KEY(w, "value");
        jsonw_mark value = jsonw_mark_here(w);
        jevidence_value(w, e);
        jsonw_mark value_end = jsonw_mark_here(w);
        PUT(w, "frame", e->frame ? jinteger(w, e->frame) : jnull(w));
        JSONW_KEY(w, "kind");
        if (!jsonw_repeat(w, key, key_end)) {
            JFIELD(w, e->key);
        }
        jevidence_typed(w, v, e);
        JSONW_KEY(w, "text");
        if (!jsonw_repeat(w, value, value_end)) {
            jevidence_value(w, e);
        }
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

// json_sans: the SANs as an array (analyze/ keeps them as "a,b,c"; split on the commas).
void json_sans(jsonw *w, const x509_info *c) {
    jsonw_array_begin(w);
    const char *s = c->sans;
    size_t total = strnlen(c->sans, sizeof c->sans);
    size_t start = 0;
    for (size_t i = 0; i <= total; i++) {
        if (i == total || s[i] == ',') {
            if (i > start) {
                jbytes(w, s + start, i - start);
            }
            start = i + 1;
        }
    }
    jsonw_array_end(w);
}

// json_findings: [{"cause","text"}] — the secondary findings.
void json_findings(jsonw *w, const verdict *v) {
    jsonw_array_begin(w);
    for (uint32_t i = 0; i < v->num_findings && i < VERDICT_MAX_FINDINGS; i++) {
        jsonw_object_begin(w);
        PUT(w, "cause", jplain(w, cause_name(v->findings[i].cause)));
        PUT(w, "text", JFIELD(w, v->findings[i].text));
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

static void jx509_render(jsonw *w, const x509_info *c) {
    jsonw_object_begin(w);
    PUT(w, "index", jinteger(w, c->index));
    PUT(w, "subject", JFIELD(w, c->subject));
    PUT(w, "issuer", JFIELD(w, c->issuer));
    PUT(w, "serial", JFIELD(w, c->serial));
    PUT(w, "not_before", jtime_sec(w, c->not_before));
    PUT(w, "not_after", jtime_sec(w, c->not_after));
    PUT(w, "sans", json_sans(w, c));
    if (c->sans_truncated) {
        // Only when names were left out (the list is whole otherwise): the true count.
        PUT(w, "sans_count", jinteger(w, c->num_sans));
        PUT(w, "sans_truncated", jboolean(w, true));
    }
    JSONW_KEY(w, "key");
    jsonw_object_begin(w);
    PUT(w, "type", JOPT(w, c->key_type));
    PUT(w, "bits", jinteger(w, c->key_bits));
    PUT(w, "curve", JOPT(w, c->curve));
    jsonw_object_end(w);
    PUT(w, "signature_algorithm", JOPT(w, c->sig_alg));
    PUT(w, "sha256", JOPT(w, c->sha256));
    PUT(w, "ski", JOPT(w, c->ski));
    PUT(w, "aki", JOPT(w, c->aki));
    PUT(w, "self_issued", jboolean(w, c->self_issued));
    PUT(w, "self_signed", jboolean(w, c->self_signed));
    PUT(w, "ca", jboolean(w, c->is_ca));
    PUT(w, "parse_error", jboolean(w, c->parse_error));
    jsonw_object_end(w);
}

// The JSON of a certificate depends on its DER alone (and its place in the chain), and a
// capture shows the same few chains again and again: each thread keeps the finished bytes of
// the last certificates it wrote, by SHA-256 and index, and copies them (rendering one cost
// 4,000 instructions, a fifth of a verdict's line). Per thread, so no lock.
enum { JX509_KEPT = 8, JX509_MAX = 3072 };
typedef struct jx509_kept {
    char sha256[65];  // "" : an empty slot
    uint32_t index;
    int64_t not_before, not_after;
    uint32_t len;
    char bytes[JX509_MAX];
} jx509_kept;
static __thread jx509_kept jx509_cache[JX509_KEPT];
static __thread uint32_t jx509_next;

static bool jx509_same(const jx509_kept *k, const x509_info *c) {
    return k->sha256[0] && k->index == c->index && k->not_before == c->not_before &&
           k->not_after == c->not_after && strcmp(k->sha256, c->sha256) == 0;
}

static void jx509(jsonw *w, const x509_info *c) {
    if (c->parse_error || strnlen(c->sha256, sizeof c->sha256) != 64) {
        jx509_render(w, c);  // no fingerprint to know it by
        return;
    }
    for (uint32_t i = 0; i < JX509_KEPT; i++) {
        if (jx509_same(&jx509_cache[i], c)) {
            jsonw_value_bytes(w, jx509_cache[i].bytes, jx509_cache[i].len);
            return;
        }
    }
    jsonw_mark from = jsonw_mark_here(w);
    jx509_render(w, c);
    jsonw_mark to = jsonw_mark_here(w);
    // Nothing is read from the buffer unless the value was staged whole between the marks: after
    // a flush, from.at may be the old end of the buffer (JSONW_BUF), not an index into it.
    if (from.flushes != to.flushes || to.at < from.at || w->failed) {
        return;  // not all staged at once: not kept
    }
    size_t at = from.at, n = to.at - from.at;
    if (n > 0 && w->buf[at] == ',') {  // the comma before the value is not part of it
        at++;
        n--;
    }
    if (n > JX509_MAX) {
        return;  // too long: not kept
    }
    jx509_kept *k = &jx509_cache[jx509_next++ % JX509_KEPT];
    memcpy(k->sha256, c->sha256, sizeof k->sha256);
    k->index = c->index;
    k->not_before = c->not_before;
    k->not_after = c->not_after;
    k->len = (uint32_t)n;
    memcpy(k->bytes, w->buf + at, n);
}

// The members "tls" … "summary" of a handshake line: the negotiated parameters, the outcome and
// the diagnosis. jhead_key holds every field of v that jhead_render reads.
static void jhead_render(jsonw *w, const void *arg) {
    const verdict *v = arg;
    JSONW_KEY(w, "tls");
    jsonw_object_begin(w);
    PUT(w, "version", v->version ? jversion(w, v->version) : jnull(w));
    PUT(w, "version_code", v->version ? jinteger(w, v->version) : jnull(w));
    PUT(w, "cipher", v->cipher ? jname(w, tls_cipher_name(v->cipher)) : jnull(w));
    PUT(w, "cipher_code", v->cipher ? jinteger(w, v->cipher) : jnull(w));
    PUT(w, "ja3", JOPT(w, v->ja3));
    PUT(w, "ja3s", JOPT(w, v->ja3s));
    PUT(w, "ja4", JOPT(w, v->ja4));
    jsonw_object_end(w);
    PUT(w, "outcome", jplain(w, verdict_outcome_name(v->outcome)));
    PUT(w, "predicted", jboolean(w, v->predicted));
    PUT(w, "failed_step", JOPT(w, v->failed_step));
    PUT(w, "aborted_by",
        v->outcome == OUTCOME_FAILED && v->aborted_by != PARTY_NONE
            ? jplain(w, verdict_party_name(v->aborted_by))
            : jnull(w));
    if (v->has_alert) {
        JSONW_KEY(w, "alert");
        jsonw_object_begin(w);
        PUT(w, "sender", jplain(w, verdict_party_name(v->alert_sender)));
        if (v->alert_encrypted) {
            PUT(w, "level", jnull(w));
            PUT(w, "description", jnull(w));
            PUT(w, "code", jnull(w));
        } else {
            PUT(w, "level",
                jplain(w, v->alert_level == 1   ? "warning"
                          : v->alert_level == 2 ? "fatal"
                                                : "unknown"));
            PUT(w, "description", jname(w, tls_alert_name(v->alert_desc)));
            PUT(w, "code", jinteger(w, v->alert_desc));
        }
        PUT(w, "frame", jinteger(w, v->alert_frame));
        PUT(w, "encrypted", jboolean(w, v->alert_encrypted));
        jsonw_object_end(w);
    } else {
        PUT(w, "alert", jnull(w));
    }
    PUT(w, "cause", jplain(w, cause_name(v->cause)));
    PUT(w, "confidence", jplain(w, verdict_confidence_name(v->confidence)));
    PUT(w, "method", jplain(w, verdict_method_name(v->method)));
    jsonw_key(w, "profile");  // which profile judged, and why (the wire, --profile, default)
    jsonw_object_begin(w);
    PUT(w, "name", JOPT(w, v->profile));
    PUT(w, "why", JOPT(w, v->profile_why));
    jsonw_object_end(w);
    PUT(w, "summary", JFIELD(w, v->summary));
}

static void jhead_key(jmemo_key *k, const verdict *v) {
    uint32_t small[] = {
        v->version,
        v->cipher,
        (uint32_t)v->outcome,
        v->predicted,
        v->has_alert,
        v->alert_sender,
        v->alert_encrypted,
        v->alert_level,
        v->alert_desc,
        v->alert_frame,
        (uint32_t)v->aborted_by,
        (uint32_t)v->cause,
        (uint32_t)v->confidence,
        (uint32_t)v->method,
    };
    jmemo_key_u32s(k, small, sizeof small / sizeof small[0]);
    jmemo_key_field(k, v->ja3, sizeof v->ja3);
    jmemo_key_field(k, v->ja3s, sizeof v->ja3s);
    jmemo_key_field(k, v->ja4, sizeof v->ja4);
    jmemo_key_field(k, v->failed_step, sizeof v->failed_step);
    jmemo_key_field(k, v->profile, sizeof v->profile);
    jmemo_key_field(k, v->profile_why, sizeof v->profile_why);
    jmemo_key_field(k, v->summary, sizeof v->summary);
}

// The members "fix" … "capture_note": the texts, findings and chain. jtail_key holds every field
// of v that jtail_render reads, but for the certificates: as jx509's copies, each is known by
// its fingerprint, place and validity (its JSON is a function of its DER), and a chain with a
// certificate that has no fingerprint is rendered each time (the key is marked over).
static void jtail_render(jsonw *w, const void *arg) {
    const verdict *v = arg;
    PUT(w, "fix", json_text_list(w, v->fix, v->num_fix, VERDICT_MAX_STEPS));
    PUT(w, "check_command", JOPT(w, v->check_command));
    PUT(w, "dead_ends", json_text_list(w, v->dead_ends, v->num_dead_ends, VERDICT_MAX_STEPS));
    PUT(w, "findings", json_findings(w, v));
    JSONW_KEY(w, "certificates");
    jsonw_array_begin(w);
    for (uint32_t i = 0; i < v->num_certs && i < VERDICT_MAX_CERTS; i++) {
        jx509(w, &v->certs[i]);
    }
    jsonw_array_end(w);
    if (v->num_certs_sent > v->num_certs) {
        // Only when some were not kept (VERDICT_MAX_CERTS): the true count and the flag.
        PUT(w, "certificates_count", jinteger(w, v->num_certs_sent));
        PUT(w, "certificates_truncated", jboolean(w, true));
    }
    PUT(w, "chain_sha256", JOPT(w, v->chain_sha256));
    PUT(w, "verify_result", JOPT(w, v->verify_error));
    PUT(w, "trust_store", JOPT(w, v->trust_store));
    PUT(w, "capture_note", JOPT(w, v->capture_note));
}

static void jtext_list_key(jmemo_key *k, const char (*items)[VERDICT_TEXT], uint32_t n,
                           uint32_t cap) {
    uint32_t kept = n < cap ? n : cap;
    jmemo_key_u32(k, kept);
    for (uint32_t i = 0; i < kept; i++) {
        jmemo_key_field(k, items[i], VERDICT_TEXT);
    }
}

// json_tail_key: the inputs of "fix" … "capture_note", with the certificates (JSON) or without
// (ECS, whose "tlsdiag" has the same members but the certificates).
void json_tail_key(jmemo_key *k, const verdict *v, bool certs) {
    jtext_list_key(k, v->fix, v->num_fix, VERDICT_MAX_STEPS);
    jmemo_key_field(k, v->check_command, sizeof v->check_command);
    jtext_list_key(k, v->dead_ends, v->num_dead_ends, VERDICT_MAX_STEPS);
    uint32_t nf = v->num_findings < VERDICT_MAX_FINDINGS ? v->num_findings : VERDICT_MAX_FINDINGS;
    jmemo_key_u32(k, nf);
    for (uint32_t i = 0; i < nf; i++) {
        jmemo_key_u32(k, (uint32_t)v->findings[i].cause);
        jmemo_key_field(k, v->findings[i].text, sizeof v->findings[i].text);
    }
    uint32_t nc = v->num_certs < VERDICT_MAX_CERTS ? v->num_certs : VERDICT_MAX_CERTS;
    if (!certs) {
        nc = 0;
    }
    uint32_t counts[] = {nc, v->num_certs_sent};
    jmemo_key_u32s(k, counts, 2);
    for (uint32_t i = 0; i < nc; i++) {
        const x509_info *c = &v->certs[i];
        if (c->parse_error || strnlen(c->sha256, sizeof c->sha256) != 64) {
            k->over = true;  // jx509 renders it each time: so is the tail
            return;
        }
        jmemo_key_field(k, c->sha256, sizeof c->sha256);  // 64 bytes
        uint32_t place[] = {c->index, (uint32_t)c->not_before, (uint32_t)(c->not_before >> 32),
                            (uint32_t)c->not_after, (uint32_t)(c->not_after >> 32)};
        jmemo_key_u32s(k, place, sizeof place / sizeof place[0]);
    }
    jmemo_key_field(k, v->chain_sha256, sizeof v->chain_sha256);
    jmemo_key_field(k, v->verify_error, sizeof v->verify_error);
    jmemo_key_field(k, v->trust_store, sizeof v->trust_store);
    jmemo_key_field(k, v->capture_note, sizeof v->capture_note);
}

bool json_verdict(report *r, const verdict *v) {
    jsonw wr, *w = &wr;
    jheader(w, r, "handshake");
    report_ip_text cip, sip;  // each address formatted once for the line
    report_ip_text_of(&v->client, &cip);
    report_ip_text_of(&v->server, &sip);
    PUT(w, "conn_id", jint(w, v->conn_id));
    JSONW_KEY(w, "client");
    jsonw_object_begin(w);
    jendpoint_members(w, &v->client, &cip);
    PUT(w, "cloudfront", jboolean(w, v->client_is_cloudfront));
    PUT(w, "network", JOPT(w, v->client_network));
    jsonw_object_end(w);
    PUT(w, "server", jendpoint(w, &v->server, &sip));
    PUT(w, "sni", v->has_sni ? jbytes(w, v->sni, verdict_sni_kept(v)) : jnull(w));
    if (v->sni_problem) {
        PUT(w, "sni_invalid", jstr(w, v->sni_problem));  // "contains a NUL byte", ...
    }
    PUT(w, "start", jtime(w, v->first_ts_ns));
    PUT(w, "end", jtime(w, v->last_ts_ns));
    PUT(w, "frames", jframes(w, v->first_frame, v->last_frame));
    PUT(w, "wireshark", jwireshark(w, r, &v->client, &cip, &v->server, &sip, v->conn_id));
    PUT(w, "community_id", jcommunity_id(w, &v->client, &v->server));
    jmemo_key k;
    jmemo_key_init(&k);
    jhead_key(&k, v);
    jmemo_write(w, JMEMO_HEAD, &k, false, jhead_render, v);
    PUT(w, "evidence", json_evidence_list(w, v));
    jmemo_key_init(&k);
    json_tail_key(&k, v, true);
    jmemo_write(w, JMEMO_TAIL, &k, false, jtail_render, v);
    return emit(r, w);
}

// ---------------------------------------------------------------------------------------------
// Summary and errors
// ---------------------------------------------------------------------------------------------
static void jcounts(jsonw *w, const summary_count *c, size_t n, const char *keyname) {
    jsonw_array_begin(w);
    for (size_t i = 0; i < n && i < 10; i++) {  // top 10, as the text tables
        jsonw_object_begin(w);
        jsonw_key(w, keyname);  // not a literal: escaped on the way
        c[i].absent ? jnull(w) : jbytes(w, c[i].key, summary_key_len(&c[i]));
        PUT(w, "ok", jint(w, c[i].ok));  // as "succeeded" (kept for schema 1)
        PUT(w, "succeeded", jint(w, c[i].ok));
        PUT(w, "failed", jint(w, c[i].failed));  // failed_on_wire + predicted
        PUT(w, "failed_on_wire", jint(w, c[i].failed - c[i].predicted));
        PUT(w, "predicted", jint(w, c[i].predicted));
        PUT(w, "first_failure", c[i].failed ? jtime(w, c[i].first_fail_ns) : jnull(w));
        PUT(w, "last_failure", c[i].failed ? jtime(w, c[i].last_fail_ns) : jnull(w));
        PUT(w, "top_cause", c[i].failed ? jstring(w, cause_name(c[i].top_cause)) : jnull(w));
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

// "undecoded_frames": one object per reason frames could not be decoded; absent when none were
// (so captures that decode whole keep their exact summary).
static void jundecoded(jsonw *w, const dissect_undecoded *u) {
    bool any = false;
    for (int i = 0; u != NULL && i < DISSECT_UNDECODED_COUNT; i++) {
        any |= u[i].frames > 0;
    }
    if (!any) {
        return;
    }
    JSONW_KEY(w, "undecoded_frames");
    jsonw_array_begin(w);
    for (int i = 0; i < DISSECT_UNDECODED_COUNT; i++) {
        if (u[i].frames == 0) {
            continue;
        }
        dissect_undecoded_reason why = (dissect_undecoded_reason)i;
        unsigned limit = dissect_undecoded_limit(why);
        jsonw_object_begin(w);
        PUT(w, "reason", jstr(w, dissect_undecoded_name(why)));
        PUT(w, "frames", jint(w, u[i].frames));
        PUT(w, "first_frame", jint(w, u[i].first_frame));
        PUT(w, "link_type", jint(w, (uint64_t)u[i].linktype));
        PUT(w, "limit", limit ? jint(w, limit) : jnull(w));
        PUT(w, "message", jstr(w, dissect_undecoded_text(why)));
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

// jerror_members: "file", "frame" and "offset" (only when known: frame 0 is "no frame read"),
// "message".
static void jerror_members(jsonw *w, const report_input_error *e) {
    PUT(w, "file", jstr(w, e->file));
    if (e->frame > 0) {
        PUT(w, "frame", jint(w, e->frame));
        PUT(w, "offset", jint(w, e->offset));
    }
    PUT(w, "message", jstr(w, e->message));
}

// "by_cause_failed" / "by_cause_predicted": the failures of by_cause on the wire, and the
// handshakes that succeeded but CloudFront would refuse (causes with a count only).
static void jcause_split(jsonw *w, const char *key, const uint64_t *count) {
    jsonw_key(w, key);
    jsonw_object_begin(w);
    for (int c = 0; c < CAUSE__COUNT; c++) {
        if (c != CAUSE_OK && count[c] > 0) {
            jsonw_key(w, cause_name((cause_id)c));  // not a literal: PUT needs one
            jint(w, count[c]);
        }
    }
    jsonw_object_end(w);
}

bool json_summary(report *r, const summary *s, const report_run_info *info) {
    jsonw wr, *w = &wr;
    jheader(w, r, "summary");
    JSONW_KEY(w, "files");
    jsonw_array_begin(w);
    for (size_t i = 0; i < info->num_files && info->files; i++) {
        jstr(w, info->files[i]);
    }
    jsonw_array_end(w);
    PUT(w, "connections", jint(w, s->connections));
    PUT(w, "succeeded", jint(w, s->succeeded));
    PUT(w, "failed", jint(w, s->failed));
    PUT(w, "predicted", jint(w, s->predicted));
    PUT(w, "incomplete", jint(w, s->incomplete));
    PUT(w, "not_tls", jint(w, s->not_tls));
    JSONW_KEY(w, "by_cause");
    jsonw_object_begin(w);
    for (int c = 0; c < CAUSE__COUNT; c++) {
        if (c != CAUSE_OK && s->by_cause[c] > 0) {
            jsonw_key(w, cause_name((cause_id)c));
            jint(w, s->by_cause[c]);
        }
    }
    jsonw_object_end(w);
    jcause_split(w, "by_cause_failed", s->by_cause_failed);
    jcause_split(w, "by_cause_predicted", s->by_cause_predicted);
    bool any = s->failed + s->predicted > 0;
    PUT(w, "dominant_cause", any ? jstring(w, cause_name(s->dominant)) : jnull(w));
    // every cause sharing the top count: one entry when one cause dominates, several on a tie
    jsonw_key(w, "dominant_causes");
    jsonw_array_begin(w);
    for (int c = 0; any && c < CAUSE__COUNT; c++) {
        if (c != CAUSE_OK &&
            summary_cause_failures(s, (cause_id)c) == summary_cause_failures(s, s->dominant)) {
            jstring(w, cause_name((cause_id)c));
        }
    }
    jsonw_array_end(w);
    PUT(w, "first_failure", any ? jtime(w, s->first_fail_ns) : jnull(w));
    PUT(w, "last_failure", any ? jtime(w, s->last_fail_ns) : jnull(w));
    const verdict *ex = s->dominant_example;
    if (ex != NULL) {
        JSONW_KEY(w, "dominant_example");
        jsonw_object_begin(w);
        PUT(w, "conn_id", jint(w, ex->conn_id));
        PUT(w, "summary", JFIELD(w, ex->summary));
        PUT(w, "evidence", json_evidence_list(w, ex));
        PUT(w, "fix", json_text_list(w, ex->fix, ex->num_fix, VERDICT_MAX_STEPS));
        PUT(w, "check_command", JOPT(w, ex->check_command));
        PUT(w, "dead_ends", json_text_list(w, ex->dead_ends, ex->num_dead_ends, VERDICT_MAX_STEPS));
        jsonw_object_end(w);
    } else {
        PUT(w, "dominant_example", jnull(w));
    }
    PUT(w, "by_sni", jcounts(w, s->by_sni, s->by_sni ? s->num_sni : 0, "sni"));
    PUT(w, "by_network", jcounts(w, s->by_network, s->by_network ? s->num_networks : 0, "network"));
    PUT(w, "by_certificate", jcounts(w, s->by_cert, s->by_cert ? s->num_certs : 0, "sha256"));
    if (s->intermittent) {
        JSONW_KEY(w, "intermittent");
        jsonw_object_begin(w);
        PUT(w, "sni",
            s->intermittent_no_sni ? jnull(w)
                                   : jbytes(w, s->intermittent_sni, s->intermittent_sni_len));
        char sv[64];
        report_endpoint(&s->intermittent_server, sv);
        PUT(w, "server", jstr(w, sv));
        jsonw_object_end(w);
    } else {
        PUT(w, "intermittent", jnull(w));
    }
    JSONW_KEY(w, "profile");
    jsonw_object_begin(w);
    PUT(w, "name", jstr(w, info->profile_name));
    PUT(w, "version", jstr(w, info->profile_version));
    PUT(w, "prefixes", jstr(w, info->prefix_source));
    jsonw_key(w, "judged_by");
    jsonw_array_begin(w);
    for (size_t i = 0; i < s->num_judged; i++) {
        jsonw_object_begin(w);
        PUT(w, "name", JFIELD(w, s->judged[i].profile));
        PUT(w, "connections", jint(w, s->judged[i].connections));
        PUT(w, "why", JFIELD(w, s->judged[i].why));
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    jsonw_object_end(w);
    PUT(w, "trust_store", jstr(w, info->trust_store));
    JSONW_KEY(w, "input_errors");
    jsonw_array_begin(w);
    for (size_t i = 0; i < info->num_input_errors && info->input_errors; i++) {
        const report_input_error *e = &info->input_errors[i];
        jsonw_object_begin(w);
        jerror_members(w, e);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    jundecoded(w, info->undecoded);
    return emit(r, w);
}

bool json_error(report *r, const report_input_error *e) {
    jsonw wr, *w = &wr;
    jsonw_begin_line(w, r->o.out);
    jschema(w);
    PUT(w, "type", jstring(w, "error"));
    jerror_members(w, e);
    return emit(r, w);
}
