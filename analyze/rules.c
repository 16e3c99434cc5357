// rules.c — the rules: pure functions over (transcript, facts), one per cause; the cause table
// in causes.h names each one and sets their priority order.
//
// The first rule that matches a failed handshake names its primary cause; every later match
// becomes a secondary finding. For a handshake that succeeded, only the rules that predict a
// refusal by the profile's client (chain, name, version, cipher, group, key, signature) are run,
// and their matches become findings under the primary cause `ok`.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "analyze_internal.h"

enum {
    TLS13 = 0x0304,
    TLS12 = 0x0303,
    BIG_FLIGHT = 1200,  // a flight that needs more than one ~1500-byte packet
    MSS_1500 = 1460,    // TCP payload of one full segment on a 1500-byte MTU path (no options)
    ALERT_BAD_RECORD_MAC = 20,
    ALERT_HANDSHAKE_FAILURE = 40,
    ALERT_BAD_CERTIFICATE = 42,
    ALERT_UNSUPPORTED_CERTIFICATE = 43,
    ALERT_CERTIFICATE_REVOKED = 44,
    ALERT_CERTIFICATE_EXPIRED = 45,
    ALERT_CERTIFICATE_UNKNOWN = 46,
    ALERT_ILLEGAL_PARAMETER = 47,
    ALERT_UNKNOWN_CA = 48,
    ALERT_DECODE_ERROR = 50,
    ALERT_ACCESS_DENIED = 49,
    ALERT_DECRYPT_ERROR = 51,
    ALERT_PROTOCOL_VERSION = 70,
    ALERT_INSUFFICIENT_SECURITY = 71,
    ALERT_NO_RENEGOTIATION = 100,
    ALERT_UNRECOGNIZED_NAME = 112,
    ALERT_CERTIFICATE_REQUIRED = 116,
};

static const int64_t SERVER_TIMEOUT_CLIENT_NS = 1000000000LL;    // client gave up after ≥ 1 s
static const int64_t SERVER_TIMEOUT_CAPTURE_NS = 10000000000LL;  // capture ran ≥ 10 s past the CH
static const int64_t CONNECT_TIMEOUT_NS = 3000000000LL;     // first SYN retransmission: after 1-3 s
static const int64_t CLIENT_QUICK_CLOSE_NS = 1000000000LL;  // closed < 1 s after its ClientHello
static const int64_t SERVER_SLOW_CLOSE_NS = 1000000000LL;   // TLS refuses at once; a proxy waits

// rule_evidence_slot: the next evidence slot of m with key and frame set and its value
// started empty (NULL when m is full), for the values written without a format: "%s" and
// "0x%04X" through vsnprintf were ~700 instructions each, on findings of most succeeded
// handshakes in `--json` (bench/NOTES.md, round 6).
static verdict_evidence *rule_evidence_slot(rule_match *m, const char *key, uint32_t frame,
                                            an_text *out) {
    if (m->num_evidence >= sizeof m->evidence / sizeof m->evidence[0]) {
        return NULL;
    }
    verdict_evidence *e = &m->evidence[m->num_evidence++];
    an_copy(e->key, sizeof e->key, key);
    e->frame = frame;
    e->value_len = 0;
    *out = an_text_at(e->value, sizeof e->value);
    return e;
}

void rule_evidence(rule_match *m, const char *key, uint32_t frame, const char *fmt, ...) {
    an_text vt;
    verdict_evidence *e = rule_evidence_slot(m, key, frame, &vt);
    if (!e) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->value, sizeof e->value, fmt, ap);
    va_end(ap);
}

// rule_evidence_str is rule_evidence(m, key, frame, "%s", s).
static void rule_evidence_str(rule_match *m, const char *key, uint32_t frame, const char *s) {
    an_text vt;
    if (rule_evidence_slot(m, key, frame, &vt)) {
        an_text_str(&vt, s);
    }
}

// an_text_hex4 appends "0x%04X" of v.
static void an_text_hex4(an_text *t, uint16_t v) {
    static const char hex[] = "0123456789ABCDEF";
    char d[6] = {'0', 'x', hex[v >> 12], hex[(v >> 8) & 0xf], hex[(v >> 4) & 0xf], hex[v & 0xf]};
    an_text_mem(t, d, sizeof d);
}

// rule_evidence_hex4 is rule_evidence(m, key, frame, "0x%04X", v).
static void rule_evidence_hex4(rule_match *m, const char *key, uint32_t frame, uint16_t v) {
    an_text vt;
    if (rule_evidence_slot(m, key, frame, &vt)) {
        an_text_hex4(&vt, v);
    }
}

void rule_evidence_sni(rule_match *m, const tls_client_hello *ch) {
    if (!ch->has_sni) {
        rule_evidence(m, "sni", ch->frame, "(none sent)");
        return;
    }
    if (m->num_evidence >= sizeof m->evidence / sizeof m->evidence[0]) {
        return;
    }
    verdict_evidence *e = &m->evidence[m->num_evidence++];
    an_copy(e->key, sizeof e->key, "sni");
    e->frame = ch->frame;
    size_t kept = an_sni_kept(ch);  // ≤ TLS_MAX_SNI_LEN < sizeof e->value
    memcpy(e->value, ch->sni, kept);
    e->value[kept] = '\0';
    e->value_len = (uint16_t)kept;
}

const char *an_sni_problem(const tls_client_hello *ch) {
    size_t kept = an_sni_kept(ch);
    if (!ch->has_sni) {
        return NULL;
    }
    return kept < ch->sni_len ? "is longer than 253 bytes"
                              : analyze_host_name_problem(ch->sni, kept);
}

const char *an_sni_phrase(const tls_client_hello *ch, char *buf, size_t buflen) {
    if (!ch->has_sni) {
        an_copy(buf, buflen, "(none)");
    } else if (an_sni_problem(ch) == NULL) {
        an_copy(buf, buflen, ch->sni);
    } else {
        // Prose never carries the bytes themselves: the "sni" field shows them, escaped.
        an_copy(buf, buflen, "(not a valid host name)");
    }
    return buf;
}

// ---------------------------------------------------------------------------------------------
// Helpers over the transcript.
// ---------------------------------------------------------------------------------------------
static bool failed(const an_facts *f) {
    return f->outcome != OUTCOME_SUCCEEDED;
}

static bool alert_from(const an_facts *f, verdict_party who, uint8_t desc) {
    return f->has_alert && !f->alert_encrypted && f->alert_sender == who && f->alert_desc == desc;
}

// list_u16 writes "name, name, ..." of a code-point list using namefn (hex when unnamed).
static void list_u16(const uint16_t *v, uint32_t n, const char *(*namefn)(uint16_t), char *out,
                     size_t outlen) {
    // Written by hand, not with snprintf per entry (15 M of 570 M instructions of `analyze
    // --json`), with snprintf's bytes: an entry that does not fit is cut, and the list ends.
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < n && w + 1 < outlen; i++) {
        if (tls_is_grease(v[i])) {
            continue;
        }
        const char *name = namefn ? namefn(v[i]) : NULL;
        char item[8];
        if (name == NULL) {
            item[0] = '0';
            item[1] = 'x';
            for (int d = 0; d < 4; d++) {
                item[2 + d] = hex[(v[i] >> (12 - 4 * d)) & 0xf];
            }
            item[6] = '\0';
            name = item;
        }
        size_t len = strlen(name), room = outlen - w - 1;
        if (w > 0) {
            out[w++] = ' ';
            room--;
        }
        size_t k = len < room ? len : room;
        memcpy(out + w, name, k);
        w += k;
        out[w] = '\0';
        if (k < len) {
            break;
        }
    }
}

// client_versions: supported_versions when sent (RFC 8446 §4.2.1), else every version up to
// legacy_version (RFC 5246 §E.1).
static uint32_t client_versions(const tls_transcript *t, uint16_t *out, uint32_t cap) {
    uint32_t n = 0;
    if (t->ch.num_versions) {
        for (uint32_t i = 0; i < t->ch.num_versions && n < cap; i++) {
            if (!tls_is_grease(t->ch.versions[i])) {
                out[n++] = t->ch.versions[i];
            }
        }
        return n;
    }
    // A TLS ClientHello shows only its highest version: SSLv3 is listed only for a client that
    // stops there (no current stack offers it, so "offered SSLv3" would be a guess).
    uint16_t lo = t->ch.legacy_version > 0x0300 ? 0x0301 : 0x0300;
    for (uint16_t v = lo; v <= t->ch.legacy_version && v <= TLS12 && n < cap; v++) {
        out[n++] = v;
    }
    return n;
}

static bool server_sent_tls(const an_facts *f) {
    return f->server_tls;
}

// first_close returns the party whose FIN/RST came first (PARTY_NONE when neither closed).
static verdict_party first_close(const tls_transcript *t, uint32_t *frame) {
    uint32_t best = 0;
    verdict_party who = PARTY_NONE;
    for (int d = 0; d < 2; d++) {
        uint32_t fr[2] = {t->tcp.fin[d] ? t->tcp.fin_frame[d] : 0,
                          t->tcp.rst[d] ? t->tcp.rst_frame[d] : 0};
        for (int k = 0; k < 2; k++) {
            if (fr[k] && (best == 0 || fr[k] < best)) {
                best = fr[k];
                who = d == TLS_DIR_C2S ? PARTY_CLIENT : PARTY_SERVER;
            }
        }
    }
    *frame = best;
    return who;
}

static void add_alert_evidence(const an_facts *f, rule_match *m) {
    if (f->has_alert) {
        rule_evidence(m, "alert", f->alert_frame, "%s alert %s(%u) from the %s",
                      f->alert_level == 2 ? "fatal" : "warning",
                      f->alert_encrypted ? "(encrypted)" : an_alert_name(f->alert_desc),
                      f->alert_desc, verdict_party_name(f->alert_sender));
    }
}

static void add_client_offers(const tls_transcript *t, rule_match *m) {
    char buf[VERDICT_TEXT];
    list_u16(t->ch.ciphers, t->ch.num_ciphers, tls_cipher_name, buf, sizeof buf);
    rule_evidence_str(m, "client_ciphers", t->ch.frame, buf);
    list_u16(t->ch.groups, t->ch.num_groups, tls_group_name, buf, sizeof buf);
    rule_evidence_str(m, "client_groups", t->ch.frame, buf[0] ? buf : "(none sent)");
    list_u16(t->ch.sigalgs, t->ch.num_sigalgs, tls_sigalg_name, buf, sizeof buf);
    rule_evidence_str(m, "client_sigalgs", t->ch.frame, buf[0] ? buf : "(none sent)");
}

// ---------------------------------------------------------------------------------------------
// Capture and transport.
// ---------------------------------------------------------------------------------------------

// Never blame a peer for bytes the capture lost (STYLE.md practice 4).
static bool rule_capture_incomplete(const tls_transcript *t, const an_facts *f, rule_match *m) {
    const tls_quality *q = &t->quality;
    m->confidence = CONF_HIGH;
    if (q->midstream && !t->ch.present &&
        !(f->has_alert && f->alert_level == 2 && !f->alert_encrypted)) {
        snprintf(m->summary, sizeof m->summary,
                 "the capture started mid-connection: no ClientHello, so the handshake cannot be "
                 "judged");
        return true;
    }
    if (!t->ch.present && q->gaps[TLS_DIR_C2S]) {
        snprintf(m->summary, sizeof m->summary,
                 "the capture lost client bytes before the ClientHello could be read");
        rule_evidence(m, "gap", q->first_gap_frame[TLS_DIR_C2S], "%u gap(s), %llu bytes missing",
                      q->gaps[TLS_DIR_C2S], (unsigned long long)q->gap_bytes[TLS_DIR_C2S]);
        return true;
    }
    if (q->gaps[TLS_DIR_S2C] &&
        (!f->has_alert || q->first_gap_frame[TLS_DIR_S2C] < f->alert_frame)) {
        snprintf(m->summary, sizeof m->summary,
                 "the capture lost %llu bytes of the server's flight before the handshake ended; "
                 "the missing bytes would decide",
                 (unsigned long long)q->gap_bytes[TLS_DIR_S2C]);
        rule_evidence(m, "gap", q->first_gap_frame[TLS_DIR_S2C],
                      "%u gap(s) in the server direction", q->gaps[TLS_DIR_S2C]);
        return true;
    }
    if (q->snaplen_truncated && (t->cert.truncated || (t->sh.present && !t->cert.present &&
                                                       tls_negotiated_version(&t->sh) < TLS13))) {
        snprintf(
            m->summary, sizeof m->summary,
            "frames were cut by the snapshot length, so the server's Certificate is incomplete");
        rule_evidence(m, "snaplen", q->first_truncated_frame, "%u frame(s) truncated",
                      q->snaplen_truncated);
        return true;
    }
    if (q->buffer_cap_hit || q->total_cap_hit || (q->kernel_drops && !f->has_alert)) {
        snprintf(m->summary, sizeof m->summary, "%s",
                 q->buffer_cap_hit  ? "the per-flow reassembly cap (--max-flow-bytes) was reached "
                                      "before the handshake ended"
                 : q->total_cap_hit ? "the total reassembly cap (--max-total-bytes) was reached "
                                      "before the handshake ended"
                                    : "the kernel dropped packets while this connection was open");
        m->confidence = CONF_MEDIUM;
        return true;
    }
    if (q->message_cap_hit && !(f->has_alert && !f->alert_encrypted)) {
        // The direction that declared the oversized message was no longer parsed: its later
        // records (ChangeCipherSpec, Finished, application data) were never read.
        m->confidence = CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary,
                 "a handshake message declared a length over the message-length cap, so the rest "
                 "of that direction was not parsed; the records that would decide were not read");
        return true;
    }
    return false;
}

static bool rule_connection_refused(const tls_transcript *t, const an_facts *f, rule_match *m) {
    (void)f;
    if (!t->tcp.syn || t->tcp.synack || !t->tcp.rst[TLS_DIR_S2C]) {
        return false;
    }
    m->confidence = CONF_HIGH;
    snprintf(m->summary, sizeof m->summary,
             "nothing listens on the server port: the SYN was answered by RST (CloudFront: 502)");
    rule_evidence(m, "rst", t->tcp.rst_frame[TLS_DIR_S2C], "RST from the server to the SYN");
    return true;
}

static bool rule_connect_timeout(const tls_transcript *t, const an_facts *f, rule_match *m) {
    (void)f;
    if (!t->tcp.syn || t->tcp.synack || t->tcp.rst[TLS_DIR_S2C] || t->tcp.bytes[TLS_DIR_S2C]) {
        return false;
    }
    int64_t waited = t->last_ts_ns - t->tcp.syn_ts_ns;
    if (t->tcp.syn_count < 2 && waited < CONNECT_TIMEOUT_NS) {
        return false;  // one SYN and a short capture: not enough to call it a timeout
    }
    m->confidence = t->tcp.syn_count >= 2 ? CONF_HIGH : CONF_MEDIUM;
    snprintf(
        m->summary, sizeof m->summary,
        "the SYN was never answered (%u SYN(s) over %.1f s): a firewall or security group drops "
        "the traffic; CloudFront reports this as 504, not 502",
        t->tcp.syn_count, (double)waited / 1e9);
    rule_evidence(m, "syn", t->first_frame, "%u SYN(s), no SYN-ACK, no RST", t->tcp.syn_count);
    return true;
}

// banner names what a non-TLS reply looks like.
static const char *banner(const uint8_t *p, uint16_t n) {
    static const struct {
        const char *prefix, *name;
    } known[] = {
        {"HTTP/", "plain HTTP"},      {"SSH-", "an SSH banner"},  {"220 ", "an SMTP/FTP greeting"},
        {"* OK", "an IMAP greeting"}, {"+OK", "a POP3 greeting"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t k = strlen(known[i].prefix);
        if (n >= k && memcmp(p, known[i].prefix, k) == 0) {
            return known[i].name;
        }
    }
    return "bytes that are not TLS";
}

// safe_preview renders bytes as printable ASCII, other bytes as \xNN.
static void safe_preview(const uint8_t *p, uint16_t n, char *out, size_t outlen) {
    size_t w = 0;
    for (uint16_t i = 0; i < n && w + 5 < outlen; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            out[w++] = (char)p[i];
        } else {
            w += (size_t)snprintf(out + w, outlen - w, "\\x%02x", p[i]);
        }
    }
    out[w] = '\0';
}

static bool rule_not_tls(const tls_transcript *t, const an_facts *f, rule_match *m) {
    (void)f;
    uint16_t n = t->preview_len[TLS_DIR_S2C];
    if (n == 0 || !t->ch.present) {
        return false;
    }
    if (n > TLS_MAX_PREVIEW) {
        n = TLS_MAX_PREVIEW;
    }
    char prev[4 * TLS_MAX_PREVIEW + 1];
    safe_preview(t->preview[TLS_DIR_S2C], n, prev, sizeof prev);
    m->confidence = CONF_HIGH;
    snprintf(m->summary, sizeof m->summary, "the server answered the ClientHello with %s, not TLS",
             banner(t->preview[TLS_DIR_S2C], n));
    uint32_t frame = 0;
    for (uint32_t i = 0; i < t->num_events; i++) {
        if (t->events[i].kind == TLS_EV_NOT_TLS && t->events[i].dir == TLS_DIR_S2C) {
            frame = t->events[i].frame;
            break;
        }
    }
    rule_evidence(m, "server_bytes", frame, "\"%s\"", prev);
    return true;
}

static bool rule_server_flight_lost(const tls_transcript *t, const an_facts *f, rule_match *m) {
    (void)f;
    if (t->tcp.server_flight_retransmits < 2 || t->tcp.server_flight_acked ||
        t->tcp.bytes[TLS_DIR_S2C] < BIG_FLIGHT) {
        return false;
    }
    m->confidence = CONF_MEDIUM;
    snprintf(
        m->summary, sizeof m->summary,
        "the server's %llu-byte flight was retransmitted %u times and never acknowledged: a path "
        "MTU black hole drops the large packets",
        (unsigned long long)t->tcp.bytes[TLS_DIR_S2C], t->tcp.server_flight_retransmits);
    rule_evidence(m, "retransmits", t->last_frame,
                  "%u server retransmissions, no ACK of the flight",
                  t->tcp.server_flight_retransmits);
    return true;
}

// alert_after_close: an alert the client sent after the server had already closed is a
// consequence (e.g. OpenSSL's decode_error on EOF), not the cause.
static bool alert_after_close(const an_facts *f, uint32_t close_frame) {
    return f->has_alert && f->alert_sender == PARTY_CLIENT && f->alert_frame > close_frame;
}

// reset_after_own_fin: the server's FIN was followed by its RST with nothing from the client
// in between (no TLS event, no FIN): an abortive close (SO_LINGER 0, haproxy `option nolinger`),
// not the kernel answering bytes sent to a socket that is gone.
static bool reset_after_own_fin(const tls_transcript *t, uint32_t fin_frame) {
    uint32_t rst = t->tcp.rst_frame[TLS_DIR_S2C];
    if (!t->tcp.rst[TLS_DIR_S2C] || rst <= fin_frame ||
        (t->tcp.fin[TLS_DIR_C2S] && t->tcp.fin_frame[TLS_DIR_C2S] < rst)) {
        return false;
    }
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->dir == TLS_DIR_C2S && e->frame > fin_frame && e->frame < rst) {
            return false;
        }
    }
    return true;
}

// server_dropped_hello: the server closed (FIN) or reset the connection first, after the
// ClientHello and before any TLS byte of its own; *frame is that FIN/RST, *rst whether it reset
// (a FIN its own RST follows unprovoked is a reset too).
static bool server_dropped_hello(const tls_transcript *t, const an_facts *f, uint32_t *frame,
                                 bool *rst) {
    if (!t->ch.present || server_sent_tls(f) || first_close(t, frame) != PARTY_SERVER ||
        (f->has_alert && !alert_after_close(f, *frame))) {
        return false;
    }
    *rst = t->tcp.rst[TLS_DIR_S2C] &&
           (*frame == t->tcp.rst_frame[TLS_DIR_S2C] || reset_after_own_fin(t, *frame));
    return *rst || t->tcp.fin[TLS_DIR_S2C];
}

// client_hello_bytes: the ClientHello's size on the wire (record header included), 0 if unseen.
static uint32_t client_hello_bytes(const tls_transcript *t) {
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->kind == TLS_EV_HANDSHAKE && e->dir == TLS_DIR_C2S && e->hs_type == 1) {
            return e->length + 4 + 5;
        }
    }
    return 0;
}

// rule_client_hello_rejected: the server refused the ClientHello as such — a decode_error or
// illegal_parameter alert before any ServerHello (RFC 8446 §6.2: the message could not be
// parsed, or a field is out of range), or a reset/close right after a ClientHello too large
// for one TCP segment (the post-quantum key shares of 2024-2025 made ClientHellos of 1.2-1.8 KB
// that some servers, load balancers and firewalls cannot reassemble).
static bool rule_client_hello_rejected(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (failed(f) && !t->sh.present &&
        (alert_from(f, PARTY_SERVER, ALERT_DECODE_ERROR) ||
         alert_from(f, PARTY_SERVER, ALERT_ILLEGAL_PARAMETER))) {
        m->confidence = CONF_HIGH;
        snprintf(m->summary, sizeof m->summary,
                 "the server answered the ClientHello with %s: it could not parse the hello or "
                 "refused one of its fields (an intolerant TLS stack or a middlebox)",
                 an_alert_name(f->alert_desc));
        add_alert_evidence(f, m);
        rule_evidence(m, "client_hello_size", t->ch.frame, "%u bytes, %u extensions",
                      client_hello_bytes(t), t->ch.num_extensions_sent);
        return true;
    }
    // The capture shows how many segments carried the hello (a path with a small MSS splits
    // even a 700-byte one); without that, a hello above one full 1500-MTU segment is split.
    uint32_t frame = 0, size = client_hello_bytes(t), segments = t->ch.segments;
    bool rst = false;
    if (!t->ch.present && t->ch_partial_declared && !t->tcp.bytes[TLS_DIR_S2C] &&
        first_close(t, &frame) == PARTY_SERVER) {
        // The hello never arrived whole: the server gave up on it after its first segment(s).
        rst = t->tcp.rst[TLS_DIR_S2C] && frame == t->tcp.rst_frame[TLS_DIR_S2C];
        m->confidence = CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary,
                 "the server %s the connection before the %u-byte ClientHello had arrived (%u "
                 "bytes of it seen): it decided on the first TCP segment(s) of a hello that spans "
                 "several, as load balancers and firewalls that read one segment do (haproxy "
                 "routing on req.ssl_sni without a `tcp-request content` rule)",
                 rst ? "reset" : "closed", t->ch_partial_declared, t->ch_partial_seen);
        rule_evidence(m, "client_hello_size", t->first_frame, "%u bytes declared, %u seen",
                      t->ch_partial_declared, t->ch_partial_seen);
        rule_evidence(m, rst ? "rst" : "fin", frame, "%s from the server, no bytes from it",
                      rst ? "RST" : "FIN");
        return true;
    }
    if (!server_dropped_hello(t, f, &frame, &rst) || (size <= MSS_1500 && segments < 2)) {
        return false;
    }
    m->confidence = CONF_MEDIUM;
    char spanned[64], shares[96];
    if (segments >= 2) {
        snprintf(spanned, sizeof spanned, "that spanned %u TCP segments", segments);
    } else {
        snprintf(spanned, sizeof spanned, "too large for one TCP segment on a 1500-byte MTU path");
    }
    snprintf(m->summary, sizeof m->summary,
             "the server %s the connection right after a %u-byte ClientHello %s: servers and "
             "middleboxes that read the hello from the first segment only fail on large "
             "(post-quantum) ClientHellos",
             rst ? "reset" : "closed", size, spanned);
    unsigned n = tls_key_share_names(&t->ch, shares, sizeof shares);
    if (segments >= 2) {
        rule_evidence(m, "client_hello_size", t->ch.frame,
                      "%u bytes in %u TCP segments, %u extensions, key share%s %s", size, segments,
                      t->ch.num_extensions_sent, n == 1 ? "" : "s", n ? shares : "none");
    } else {
        rule_evidence(m, "client_hello_size", t->ch.frame,
                      "%u bytes (> %u, one full segment), %u extensions, %u key share(s)", size,
                      (unsigned)MSS_1500, t->ch.num_extensions_sent, t->ch.num_key_shares);
    }
    rule_evidence(m, rst ? "rst" : "fin", frame, "%s from the server, no TLS bytes from it",
                  rst ? "RST" : "FIN");
    return true;
}

// dropped_summary: the server_reset / server_closed summary. A TLS stack refuses a ClientHello
// at once; a close a second or more later is a proxy or load balancer in front of the origin
// that waited for a backend it could not reach (haproxy: connect retries, then SC).
static void dropped_summary(const tls_transcript *t, const an_facts *f, uint32_t frame,
                            const char *what, rule_match *m) {
    int64_t waited = 0;
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->frame == frame && (e->kind == TLS_EV_TCP_FIN || e->kind == TLS_EV_TCP_RST)) {
            waited = f->ch_ts_ns ? e->ts_ns - f->ch_ts_ns : 0;
            break;
        }
    }
    if (waited < SERVER_SLOW_CLOSE_NS) {
        snprintf(m->summary, sizeof m->summary,
                 "the server %s after the ClientHello, without an alert", what);
        return;
    }
    snprintf(m->summary, sizeof m->summary,
             "the server %s %.1f s after the ClientHello, without an alert: a TLS "
             "server refuses a hello at once, a wait like this is a proxy or load balancer in "
             "front of the origin that could not reach its backend",
             what, (double)waited / 1e9);
    rule_evidence(m, "wait", frame, "%.1f s after the ClientHello", (double)waited / 1e9);
}

static bool rule_server_reset(const tls_transcript *t, const an_facts *f, rule_match *m) {
    uint32_t frame = 0;
    bool rst = false;
    if (!server_dropped_hello(t, f, &frame, &rst) || !rst) {
        return false;
    }
    m->confidence = CONF_HIGH;
    dropped_summary(t, f, frame, "reset the connection", m);
    rule_evidence(m, "rst", frame, "RST from the server, no TLS bytes from it");
    return true;
}

static bool rule_server_closed(const tls_transcript *t, const an_facts *f, rule_match *m) {
    uint32_t frame = 0;
    bool rst = false;
    if (!server_dropped_hello(t, f, &frame, &rst) || rst) {
        return false;
    }
    m->confidence = CONF_HIGH;
    dropped_summary(t, f, frame, "closed the connection (FIN)", m);
    rule_evidence(m, "fin", frame, "FIN from the server, no TLS bytes from it");
    add_alert_evidence(f, m);
    return true;
}

static bool rule_server_timeout(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!t->ch.present || server_sent_tls(f) || t->tcp.bytes[TLS_DIR_S2C] || f->has_alert) {
        return false;
    }
    uint32_t frame = 0;
    verdict_party who = first_close(t, &frame);
    int64_t waited = t->last_ts_ns - f->ch_ts_ns;
    if (who == PARTY_CLIENT && waited >= SERVER_TIMEOUT_CLIENT_NS) {
        m->confidence = CONF_HIGH;
        snprintf(
            m->summary, sizeof m->summary,
            "the server accepted the connection but never answered the ClientHello; the client "
            "gave up after %.1f s",
            (double)waited / 1e9);
        rule_evidence(m, "client_close", frame, "client closed after %.1f s of silence",
                      (double)waited / 1e9);
        return true;
    }
    if (who == PARTY_NONE && waited >= SERVER_TIMEOUT_CAPTURE_NS) {
        m->confidence = CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary,
                 "the server never answered the ClientHello in the %.1f s the capture ran after it",
                 (double)waited / 1e9);
        rule_evidence(m, "silence", f->ch_frame, "no server byte for %.1f s", (double)waited / 1e9);
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Negotiation.
// ---------------------------------------------------------------------------------------------

// profile_min_version: the lowest version the profile offers (0: any).
static uint16_t profile_min_version(const an_profile *p) {
    uint16_t lo = 0;
    for (uint32_t i = 0; i < p->num_versions; i++) {
        lo = lo == 0 || p->versions[i] < lo ? p->versions[i] : lo;
    }
    return lo;
}

// silent_version_refusal: s2n-tls, CloudFront's client, sends no alert when the ServerHello's
// version is below its minimum (tls/s2n_server_hello.c): it resets or closes before its own
// flight. Named when the server chose a version below the best the client offered and either
// that version is below the profile's minimum, or the chain (in clear at those versions) has no
// fault that would explain the drop instead.
static bool silent_version_refusal(const tls_transcript *t, const an_facts *f, uint16_t nv,
                                   uint16_t maxv, const char *offered, rule_match *m) {
    if (!failed(f) || f->has_alert || f->aborted_by != PARTY_CLIENT || !nv || nv >= maxv ||
        t->client_key_exchange || t->ccs[TLS_DIR_C2S]) {
        return false;
    }
    uint16_t lo = profile_min_version(f->profile);
    bool below_min = lo && nv < lo;
    if (!below_min && f->has_chain && an_chain_fault(f->chain)) {
        return false;
    }
    m->confidence = below_min ? CONF_HIGH : CONF_MEDIUM;
    uint32_t frame = 0;
    (void)first_close(t, &frame);
    snprintf(m->summary, sizeof m->summary,
             "the server chose %s (the client offered up to %s) and the client dropped the "
             "connection without an alert: %s (CloudFront's client, s2n-tls, resets on a version "
             "below its minimum: the distribution's Origin SSL Protocols)",
             an_version_name(nv), an_version_name(maxv),
             below_min ? "below the profile's minimum" : "below the client's minimum");
    rule_evidence_str(m, "server_version", t->sh.frame, an_version_name(nv));
    rule_evidence_str(m, "client_versions", t->ch.frame, offered);
    rule_evidence(m, "client_close", frame,
                  "%s from the client right after the server's hello, "
                  "no alert",
                  t->tcp.rst[TLS_DIR_C2S] ? "RST" : "FIN");
    return true;
}

// legacy_version_refusal: the server chose TLS 1.0 or 1.1 though the client offered TLS 1.2 or
// newer, and the client ended the handshake with an alert of its own after the server's flight,
// before its key exchange. Those versions sign the key exchange with MD5+SHA-1 (RFC 4346
// §7.4.3), which current clients refuse whatever the alert: OpenSSL 3 (curl, openssl s_client)
// says internal_error ("legacy sigalg disallowed or unsupported"). A certificate fault in the
// chain, in clear at those versions, is left to the certificate rules.
static bool legacy_version_refusal(const tls_transcript *t, const an_facts *f, uint16_t nv,
                                   uint16_t maxv, const char *offered, rule_match *m) {
    if (!failed(f) || !f->has_alert || f->alert_encrypted || f->alert_sender != PARTY_CLIENT ||
        f->alert_desc == ALERT_PROTOCOL_VERSION || !nv || nv >= TLS12 || maxv < TLS12 ||
        t->client_key_exchange || t->ccs[TLS_DIR_C2S] ||
        (f->has_chain && an_chain_fault(f->chain))) {
        return false;
    }
    m->confidence = CONF_MEDIUM;
    snprintf(m->summary, sizeof m->summary,
             "the server chose %s (the client offered up to %s) and the client refused its "
             "flight with %s: at TLS 1.0/1.1 the server signs with MD5+SHA-1, which current "
             "clients refuse; enable TLS 1.2 on the origin",
             an_version_name(nv), an_version_name(maxv), an_alert_name(f->alert_desc));
    rule_evidence_str(m, "server_version", t->sh.frame, an_version_name(nv));
    rule_evidence_str(m, "client_versions", t->ch.frame, offered);
    add_alert_evidence(f, m);
    return true;
}

// profile_version_finding: the finding of a negotiated version nv the profile does not offer
// (every TLS 1.3 handshake judged by a TLS 1.2 profile).
static bool profile_version_finding(const tls_transcript *t, const an_facts *f, uint16_t nv,
                                    rule_match *m) {
    if (!nv || !f->profile->num_versions ||
        an_list_has(f->profile->versions, f->profile->num_versions, nv)) {
        return false;
    }
    m->confidence = CONF_LOW;
    m->finding_only = true;
    an_text st = an_text_at(m->summary, sizeof m->summary);
    an_text_str(&st, "the server negotiated ");
    an_text_str(&st, an_version_name(nv));
    an_text_str(&st, ", which ");
    an_text_str(&st, f->profile->name);
    an_text_str(&st, " does not offer: make sure the origin also accepts TLS 1.2");
    rule_evidence_str(m, "server_version", t->sh.frame, an_version_name(nv));
    return true;
}

static bool rule_protocol_version(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!failed(f)) {
        // Every other branch needs a failure: a success skips the client's version list.
        return profile_version_finding(t, f, tls_negotiated_version(&t->sh), m);
    }
    uint16_t cv[TLS_MAX_VERSIONS + 8] = {0};
    uint32_t ncv = t->ch.present ? client_versions(t, cv, sizeof cv / sizeof cv[0]) : 0;
    char offered[128];
    list_u16(cv, ncv, an_version_name, offered, sizeof offered);
    uint16_t nv = tls_negotiated_version(&t->sh), maxv = 0;
    for (uint32_t i = 0; i < ncv; i++) {
        maxv = cv[i] > maxv ? cv[i] : maxv;
    }
    // No alert at all (s2n-tls): the reset right after the ServerHello says more than the lists.
    if (silent_version_refusal(t, f, nv, maxv, offered, m) ||
        legacy_version_refusal(t, f, nv, maxv, offered, m)) {
        return true;
    }
    if (failed(f) && (alert_from(f, PARTY_SERVER, ALERT_PROTOCOL_VERSION) ||
                      alert_from(f, PARTY_CLIENT, ALERT_PROTOCOL_VERSION) ||
                      (nv && ncv && !an_list_has(cv, ncv, nv)))) {
        m->confidence = ncv ? CONF_HIGH : CONF_MEDIUM;  // without the hello: the alert alone
        if (!ncv) {
            snprintf(offered, sizeof offered, "(the ClientHello was not captured)");
        }
        if (f->alert_sender == PARTY_SERVER && maxv && maxv < TLS13) {
            snprintf(m->summary, sizeof m->summary,
                     "client offered %s, server answered protocol_version: it accepts only TLS 1.3 "
                     "— or something older",
                     offered);
        } else if (nv && t->ch.num_versions == 0 && an_list_has(cv, ncv, nv)) {
            // Without supported_versions a ClientHello shows only its highest version: a chosen
            // version below it may still be one the client refuses (a minimum of TLS 1.2).
            snprintf(m->summary, sizeof m->summary,
                     "the server chose %s and the %s refused it with protocol_version: the client "
                     "needs a newer version (it offered up to %s)",
                     an_version_name(nv), verdict_party_name(f->alert_sender),
                     an_version_name(t->ch.legacy_version));
        } else if (nv) {
            snprintf(m->summary, sizeof m->summary,
                     "the server chose %s, which the client did not offer (%s)",
                     an_version_name(nv), offered);
        } else if (!ncv) {
            snprintf(m->summary, sizeof m->summary,
                     "%s sent protocol_version: no protocol version in common %s",
                     verdict_party_name(f->alert_sender), offered);
        } else {
            snprintf(m->summary, sizeof m->summary,
                     "no protocol version in common: client offered %s", offered);
        }
        rule_evidence_str(m, "client_versions", t->ch.frame, offered);
        add_alert_evidence(f, m);
        return true;
    }
    if (profile_version_finding(t, f, nv, m)) {
        return true;
    }
    if (failed(f) && f->has_alert && f->alert_sender == PARTY_SERVER && !t->sh.present && ncv &&
        (f->alert_desc == ALERT_HANDSHAKE_FAILURE) && t->ch.num_versions == 0 &&
        t->ch.legacy_version < TLS12) {
        // A client that stops at TLS 1.0/1.1 meets a server that needs 1.2: servers often send
        // handshake_failure instead of protocol_version (RFC 8446 §D.2 permits either).
        m->confidence = CONF_LOW;
        snprintf(m->summary, sizeof m->summary,
                 "client offered only %s; the server refused with handshake_failure and likely "
                 "needs TLS 1.2",
                 offered);
        rule_evidence_str(m, "client_versions", t->ch.frame, offered);
        add_alert_evidence(f, m);
        return true;
    }
    return false;
}

static bool rule_sni_rejected(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!failed(f) || !alert_from(f, PARTY_SERVER, ALERT_UNRECOGNIZED_NAME) ||
        (t->ch.present && !t->ch.has_sni)) {  // no name refused: sni_missing
        return false;
    }
    m->confidence = CONF_HIGH;
    char sni[160];
    snprintf(m->summary, sizeof m->summary, "the server refused the SNI '%s' (unrecognized_name)",
             an_sni_phrase(&t->ch, sni, sizeof sni));
    add_alert_evidence(f, m);
    rule_evidence_sni(m, &t->ch);
    return true;
}

// tls13_client_flight counts the client's protected handshake records (TLS 1.3): 1 is a plain
// Finished; a Certificate before it means the server sent an (encrypted) CertificateRequest,
// and a Certificate without CertificateVerify is an empty one (RFC 8446 §4.4.2, §4.4.3).
static uint32_t tls13_client_flight(const tls_transcript *t, uint32_t *first_len, uint32_t *frame) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->dir == TLS_DIR_C2S && e->kind == TLS_EV_ENCRYPTED_HANDSHAKE) {
            if (n++ == 0) {
                *first_len = e->length;
                *frame = e->frame;
            }
        }
    }
    return n;
}

// A client that is not CloudFront sent no certificate and the server went on: the wire cannot
// tell an origin that only asks from one that answers every request with an error afterwards
// (curl and Go got nginx's HTTP 400 so, pcaps/field/clients/): say both.
#define EMPTY_CERT_LET_THROUGH                                                                     \
    "the server asked for a client certificate, this client sent none and the handshake "          \
    "completed: an origin that requires one refuses every request afterwards (nginx "              \
    "ssl_verify_client on answers HTTP 400, encrypted), one that only asks serves; CloudFront is " \
    "in the same place unless origin mTLS is configured"

enum { TLS13_EMPTY_CERT_RECORD_MAX = 64 };  // empty Certificate: 8 bytes + type + tag (+ padding)

// rule_client_cert_required_tls13: TLS 1.3 hides the CertificateRequest and the alert's
// description; the client's flight size and the server's alert-sized answer still show it.
static bool rule_client_cert_required_tls13(const tls_transcript *t, const an_facts *f,
                                            rule_match *m) {
    uint32_t first_len = 0, frame = 0;
    uint32_t n = tls13_client_flight(t, &first_len, &frame);
    if (n < 2) {
        return false;  // a plain Finished: no certificate was requested
    }
    if (!failed(f)) {
        if (!f->profile->cloudfront) {
            return false;
        }
        m->confidence = CONF_LOW;
        m->finding_only = true;
        if (n == 2 && first_len <= TLS13_EMPTY_CERT_RECORD_MAX) {
            an_copy(m->summary, sizeof m->summary, EMPTY_CERT_LET_THROUGH);
        } else {
            an_copy(m->summary, sizeof m->summary,
                    "the client's TLS 1.3 flight carried a Certificate, so the server requests "
                    "client certificates; CloudFront sends one only with origin mTLS configured");
        }
        an_text vt;
        if (rule_evidence_slot(m, "client_flight", frame, &vt)) {
            an_text_u64(&vt, n);
            an_text_str(&vt, " protected handshake records");
        }
        return true;
    }
    if (!f->has_alert || !f->alert_encrypted || f->alert_sender != PARTY_SERVER ||
        f->aborted_by != PARTY_SERVER || t->app_records[TLS_DIR_S2C] != 0) {
        return false;
    }
    bool empty = n == 2 && first_len <= TLS13_EMPTY_CERT_RECORD_MAX;
    if (!empty) {
        return false;  // the client did send a certificate: client_cert_rejected
    }
    m->confidence = CONF_MEDIUM;
    snprintf(m->summary, sizeof m->summary,
             "TLS 1.3: the server asked for a client certificate, the client sent none (an empty "
             "Certificate, then Finished), and the server ended the handshake with an encrypted "
             "alert (RFC 8446 prescribes certificate_required)");
    rule_evidence(m, "client_flight", frame,
                  "2 protected handshake records after the ServerHello: a %u-byte one (an empty "
                  "Certificate; a certificate would be far larger and need a CertificateVerify), "
                  "then Finished",
                  first_len);
    rule_evidence(m, "server_answer", f->alert_frame,
                  "the server answered the client's flight with an alert-sized protected record, "
                  "and no application data");
    add_alert_evidence(f, m);
    return true;
}

static bool rule_client_cert_required(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!t->cert_req.present && tls_negotiated_version(&t->sh) == TLS13) {
        return rule_client_cert_required_tls13(t, f, m);
    }
    if (!t->cert_req.present) {
        return false;
    }
    if (!failed(f)) {
        if (!f->profile->cloudfront) {
            return false;
        }
        m->confidence = CONF_LOW;
        m->finding_only = true;
        if (t->client_cert.present && t->client_cert.num_certs == 0) {
            an_copy(m->summary, sizeof m->summary, EMPTY_CERT_LET_THROUGH);
        } else {
            an_copy(m->summary, sizeof m->summary,
                    "the server requests a client certificate; CloudFront sends one only with "
                    "origin mTLS configured");
        }
        rule_evidence_str(m, "certificate_request", t->cert_req.frame, "CertificateRequest");
        return true;
    }
    if (t->client_cert.present && t->client_cert.num_certs > 0) {
        return false;  // the client sent one: client_cert_rejected
    }
    if (f->completed && !f->has_alert && t->client_cert.present) {
        // RFC 5246 §7.4.6: an empty Certificate, and the server finished the handshake anyway.
        m->confidence = CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary,
                 "the server asked for a client certificate (frame %u), the client sent an empty "
                 "one, and the server completed the handshake anyway: a server that requires the "
                 "certificate refuses every request afterwards (nginx ssl_verify_client on answers "
                 "HTTP 400 \"No required SSL certificate was sent\"): CloudFront will see 400s "
                 "from the origin, not a TLS failure",
                 t->cert_req.frame);
        rule_evidence(m, "certificate_request", t->cert_req.frame,
                      "CertificateRequest (%u CA names)", t->cert_req.num_ca_names);
        rule_evidence(m, "client_certificate", t->client_cert.frame,
                      "empty (no certificate), then the handshake completed");
        rule_evidence(m, "after_handshake", 0,
                      "%u application data record(s) from the client, %u from the server",
                      t->app_records[TLS_DIR_C2S], t->app_records[TLS_DIR_S2C]);
        return true;
    }
    bool server_alert =
        f->has_alert && f->alert_sender == PARTY_SERVER &&
        (f->alert_desc == ALERT_HANDSHAKE_FAILURE || f->alert_desc == ALERT_CERTIFICATE_REQUIRED ||
         f->alert_desc == ALERT_BAD_CERTIFICATE || f->alert_encrypted);
    bool server_close = !f->has_alert && f->aborted_by == PARTY_SERVER;
    if (!server_alert && !server_close) {
        return false;
    }
    m->confidence = server_alert ? CONF_HIGH : CONF_MEDIUM;
    snprintf(m->summary, sizeof m->summary,
             "the server asked for a client certificate (frame %u) and then ended the handshake",
             t->cert_req.frame);
    rule_evidence(m, "certificate_request", t->cert_req.frame, "CertificateRequest (%u CA names)",
                  t->cert_req.num_ca_names);
    rule_evidence(
        m, "client_certificate", t->client_cert.frame, "%s",
        t->client_cert.present ? (t->client_cert.num_certs ? "sent" : "empty") : "not seen");
    add_alert_evidence(f, m);
    return true;
}

// What the server's certificate key allows, for predictions: a key type no scheme (or suite) of
// the profile can use proves a refusal; a usable one proves nothing either way.
typedef enum key_fit { KEY_FITS, KEY_DOES_NOT_FIT, KEY_UNKNOWN } key_fit;

static const char *leaf_key_type(const an_facts *f) {
    return f->has_chain && f->chain->num_info ? f->chain->certs[0].key_type : NULL;
}

// The server key types x509.c names (EVP_PKEY type names), as an enum: the checks below
// compared the name with strcmp for every scheme and suite of the profile (in --json, on each
// TLS 1.2 handshake whose cipher the profile does not list: 1,900 instructions a call).
typedef enum key_kind {
    KEY_NONE,
    KEY_RSA,
    KEY_RSA_PSS,
    KEY_EC,
    KEY_DSA,
    KEY_ED25519,
    KEY_ED448
} key_kind;

// key_kind_of: the kind of key type name key (KEY_NONE: NULL or a type not listed).
static key_kind key_kind_of(const char *key) {
    static const struct {
        const char *name;
        key_kind kind;
    } known[] = {{"RSA", KEY_RSA}, {"RSA-PSS", KEY_RSA_PSS}, {"EC", KEY_EC},
                 {"DSA", KEY_DSA}, {"Ed25519", KEY_ED25519}, {"Ed448", KEY_ED448}};
    for (size_t i = 0; key && i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(key, known[i].name) == 0) {
            return known[i].kind;
        }
    }
    return KEY_NONE;
}

// sigalg_signs: can a key of this kind sign with scheme s (RFC 8446 §4.2.3; TLS 1.2 pairs in
// RFC 5246 §7.4.1.4.1: the low byte is the signature algorithm)?
static bool sigalg_signs(uint16_t s, key_kind key) {
    switch (key) {
        case KEY_RSA:
            return (s & 0xFF) == 0x01 || (s >= 0x0804 && s <= 0x0806);
        case KEY_RSA_PSS:
            return s >= 0x0809 && s <= 0x080B;
        case KEY_EC:
            return (s & 0xFF) == 0x03 && s < 0x0800;
        case KEY_DSA:
            return (s & 0xFF) == 0x02 && s < 0x0800;
        case KEY_ED25519:
            return s == 0x0807;
        case KEY_ED448:
            return s == 0x0808;
        case KEY_NONE:
            break;
    }
    return false;
}

// profile_signs_key: does the profile offer a signature scheme the server's key can sign with?
static key_fit profile_signs_key(const an_profile *p, const char *key) {
    key_kind kind = key_kind_of(key);
    if (kind == KEY_NONE || p->num_sigalgs == 0) {
        return KEY_UNKNOWN;
    }
    for (uint32_t i = 0; i < p->num_sigalgs; i++) {
        if (sigalg_signs(p->sigalgs[i], kind)) {
            return KEY_FITS;
        }
    }
    return KEY_DOES_NOT_FIT;
}

// profile_suite_for_key: does the profile offer a TLS 1.2 suite this key can authenticate?
// (ECDSA suites need an EC key, DSS suites a DSA key, RSA suites an RSA or RSA-PSS key.)
static key_fit profile_suite_for_key(const an_profile *p, const char *key) {
    key_kind kind = key_kind_of(key);
    if (kind == KEY_NONE || p->num_ciphers == 0) {
        return KEY_UNKNOWN;
    }
    bool rsa = kind == KEY_RSA || kind == KEY_RSA_PSS;
    for (uint32_t i = 0; i < p->num_ciphers; i++) {
        const char *n = tls_cipher_name(p->ciphers[i]);
        if (!n) {
            return KEY_UNKNOWN;
        }
        if ((kind == KEY_EC && strstr(n, "_ECDSA_")) || (kind == KEY_DSA && strstr(n, "_DSS_")) ||
            (rsa && (strstr(n, "_RSA_WITH_") || strncmp(n, "TLS_RSA_", 8) == 0))) {
            return KEY_FITS;
        }
    }
    return KEY_DOES_NOT_FIT;
}

static void unix_date(int64_t s, char *out, size_t outlen) {
    time_t tt = (time_t)s;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, outlen, "%lld", (long long)s);
    }
}

// rule_client_cert_rejected: the client did send a certificate (origin mTLS, RFC 5246 §7.4.6)
// and the server then ended the handshake: its client-CA store, the certificate's purpose or
// its validity. The certificate is named so the origin's owner can find it.
// rule_client_cert_rejected_tls13: TLS 1.3 hides the CertificateRequest, the client's
// certificate and the alert; a client flight longer than an empty Certificate and Finished
// (Certificate, CertificateVerify, Finished: RFC 8446 §4.4) answered by the server's
// alert-sized record and no application data is a refusal of that certificate.
static bool rule_client_cert_rejected_tls13(const tls_transcript *t, const an_facts *f,
                                            rule_match *m) {
    uint32_t first_len = 0, frame = 0;
    uint32_t n = tls13_client_flight(t, &first_len, &frame);
    bool sent = n >= 3 || (n == 2 && first_len > TLS13_EMPTY_CERT_RECORD_MAX);
    if (!failed(f) || !sent || !f->has_alert || !f->alert_encrypted ||
        f->alert_sender != PARTY_SERVER || f->aborted_by != PARTY_SERVER ||
        t->app_records[TLS_DIR_S2C] != 0) {
        return false;
    }
    m->confidence = CONF_MEDIUM;
    snprintf(m->summary, sizeof m->summary,
             "TLS 1.3: the client sent a certificate (%u protected handshake records after the "
             "ServerHello: Certificate, CertificateVerify, Finished) and the server ended the "
             "handshake with an encrypted alert: it refused the client certificate (origin "
             "mTLS); the certificate is encrypted, so its subject and issuer are not on the wire",
             n);
    rule_evidence(m, "client_flight", frame, "%u protected handshake records, the first %u bytes",
                  n, first_len);
    add_alert_evidence(f, m);
    return true;
}

static bool rule_client_cert_rejected(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!t->cert_req.present && tls_negotiated_version(&t->sh) == TLS13) {
        return rule_client_cert_rejected_tls13(t, f, m);
    }
    static const uint8_t cert_alerts[] = {
        ALERT_BAD_CERTIFICATE,     ALERT_UNSUPPORTED_CERTIFICATE, ALERT_CERTIFICATE_REVOKED,
        ALERT_CERTIFICATE_EXPIRED, ALERT_CERTIFICATE_UNKNOWN,     ALERT_UNKNOWN_CA,
        ALERT_ACCESS_DENIED,       ALERT_DECRYPT_ERROR,           ALERT_HANDSHAKE_FAILURE};
    if (!failed(f) || !t->cert_req.present || !t->client_cert.present ||
        t->client_cert.num_certs == 0) {
        return false;
    }
    bool server_alert = f->has_alert && f->alert_sender == PARTY_SERVER;
    if (!server_alert && !(!f->has_alert && f->aborted_by == PARTY_SERVER)) {
        return false;
    }
    m->confidence = CONF_MEDIUM;
    for (size_t i = 0; server_alert && i < sizeof cert_alerts; i++) {
        if (alert_from(f, PARTY_SERVER, cert_alerts[i])) {
            m->confidence = CONF_HIGH;
        }
    }
    const x509_info *c = f->client_cert;
    char from[40], to[40];
    if (c) {
        unix_date(c->not_before, from, sizeof from);
        unix_date(c->not_after, to, sizeof to);
        const char *when = f->handshake_time > c->not_after    ? "; it had EXPIRED"
                           : f->handshake_time < c->not_before ? "; it was NOT YET valid"
                                                               : "";
        snprintf(m->summary, sizeof m->summary,
                 "the server refused the client certificate '%.150s' issued by '%.150s' "
                 "(origin mTLS)%s%s",
                 c->subject, c->issuer, server_alert ? " with " : "",
                 server_alert
                     ? (f->alert_encrypted ? "an encrypted alert" : an_alert_name(f->alert_desc))
                     : "");
        rule_evidence(m, "client_certificate", t->client_cert.frame,
                      "subject %.200s; issuer %.200s", c->subject, c->issuer);
        rule_evidence(m, "client_certificate_validity", t->client_cert.frame, "%s to %s%s", from,
                      to, when);
    } else {
        snprintf(m->summary, sizeof m->summary,
                 "the server refused the client certificate the client sent (origin mTLS; %u "
                 "certificate(s), not decodable)",
                 t->client_cert.num_certs);
    }
    rule_evidence(m, "certificate_request", t->cert_req.frame, "CertificateRequest (%u CA names)",
                  t->cert_req.num_ca_names);
    add_alert_evidence(f, m);
    return true;
}

static bool server_refused_hello(const tls_transcript *t, const an_facts *f) {
    return failed(f) && f->has_alert && f->alert_sender == PARTY_SERVER && !t->sh.present &&
           (f->alert_desc == ALERT_HANDSHAKE_FAILURE ||
            f->alert_desc == ALERT_INSUFFICIENT_SECURITY);
}

static bool rule_no_shared_sigalg(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (server_refused_hello(t, f) && t->ch.num_sigalgs != 0) {
        // The server's key type is not on the wire: keep the possibility as a finding.
        char buf[VERDICT_TEXT - 120];
        list_u16(t->ch.sigalgs, t->ch.num_sigalgs, tls_sigalg_name, buf, sizeof buf);
        m->confidence = CONF_LOW;
        m->finding_only = true;
        snprintf(m->summary, sizeof m->summary,
                 "cannot be ruled out passively: the server may hold no certificate it can sign "
                 "with one of: %s",
                 buf);
        return true;
    }
    if (server_refused_hello(t, f) && t->ch.num_sigalgs == 0 &&
        (t->ch.legacy_version >= TLS12 || t->ch.num_versions)) {
        // RFC 5246 §7.4.1.4.1: without signature_algorithms the server must assume SHA-1; a
        // server that refuses SHA-1 signatures has nothing to sign with.
        m->confidence = CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary,
                 "the client sent no signature_algorithms and the server refused the ClientHello");
        add_alert_evidence(f, m);
        add_client_offers(t, m);
        return true;
    }
    if (t->ske.present && t->ske.sigalg && f->profile->num_sigalgs &&
        !an_list_has(f->profile->sigalgs, f->profile->num_sigalgs, t->ske.sigalg)) {
        const char *n = tls_sigalg_name(t->ske.sigalg);
        // the client itself offered the scheme: a prediction for the profile's client only
        m->finding_only = an_list_has(t->ch.sigalgs, t->ch.num_sigalgs, t->ske.sigalg);
        const char *key = leaf_key_type(f);
        key_fit fit = profile_signs_key(f->profile, key);
        if (m->finding_only && fit == KEY_FITS) {
            // The server picks among the schemes offered: for the profile's client its key
            // signs with one the profile offers (an RSA key signs PKCS#1 as well as PSS).
            return false;
        }
        m->confidence = fit == KEY_DOES_NOT_FIT ? CONF_HIGH : CONF_LOW;
        m->proven = fit == KEY_DOES_NOT_FIT;
        if (m->proven) {
            snprintf(m->summary, sizeof m->summary,
                     "the server's %s key signs only with schemes %s does not offer (it signed "
                     "with %s)",
                     key, f->profile->name, n ? n : "an unknown scheme");
        } else {
            snprintf(m->summary, sizeof m->summary,
                     "the server signed with %s, which %s does not accept",
                     n ? n : "an unknown scheme", f->profile->name);
        }
        rule_evidence_hex4(m, "server_sigalg", t->ske.frame, t->ske.sigalg);
        if (key) {
            rule_evidence_str(m, "server_key", t->cert.frame, key);
        }
        return true;
    }
    return false;
}

static bool rule_no_shared_cipher(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (server_refused_hello(t, f)) {
        // Passively the server's list is unknown: list what the client offered, and say so.
        m->confidence = CONF_LOW;
        snprintf(
            m->summary, sizeof m->summary,
            "the server refused the ClientHello with %s: most likely no cipher suite in common "
            "(a group or signature scheme cannot be ruled out passively)",
            an_alert_name(f->alert_desc));
        add_alert_evidence(f, m);
        add_client_offers(t, m);
        return true;
    }
    if (t->sh.present && !t->sh.is_hrr && f->profile->num_ciphers &&
        tls_negotiated_version(&t->sh) < TLS13 &&
        !an_list_has(f->profile->ciphers, f->profile->num_ciphers, t->sh.cipher)) {
        const char *n = tls_cipher_name(t->sh.cipher), *key = leaf_key_type(f);
        m->confidence = CONF_LOW;
        m->finding_only = true;
        // The server chose among this client's suites; only a key that none of the profile's
        // suites can use proves that it would find none for the profile's client.
        m->proven = profile_suite_for_key(f->profile, key) == KEY_DOES_NOT_FIT;
        an_text st = an_text_at(m->summary, sizeof m->summary);  // most TLS 1.2 handshakes
        an_text_str(&st, "the server chose ");
        an_text_str(&st, n ? n : "a cipher");
        an_text_str(&st, " (");
        an_text_hex4(&st, t->sh.cipher);
        an_text_str(&st, "), which is not in ");
        an_text_str(&st, f->profile->name);
        an_text_str(&st, "'s cipher list");
        if (m->proven) {
            an_text_str(&st, ", and none of that list can use its ");
            an_text_str(&st, key);
            an_text_str(&st, " key");
        }
        an_text vt;
        if (rule_evidence_slot(m, "server_cipher", t->sh.frame, &vt)) {
            an_text_hex4(&vt, t->sh.cipher);
            an_text_str(&vt, " ");
            an_text_str(&vt, n ? n : "");
        }
        return true;
    }
    return false;
}

static bool rule_no_shared_group(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (server_refused_hello(t, f) && t->ch.num_groups) {
        char buf[VERDICT_TEXT - 120];
        list_u16(t->ch.groups, t->ch.num_groups, tls_group_name, buf, sizeof buf);
        m->confidence = CONF_LOW;
        m->finding_only = true;
        snprintf(m->summary, sizeof m->summary,
                 "cannot be ruled out passively: the server may accept none of the client's "
                 "groups: %s",
                 buf);
        return true;
    }
    uint16_t g = t->ske.present && t->ske.kind == 1 ? t->ske.group : t->sh.key_share_group;
    if (!g) {
        return false;
    }
    const char *n = tls_group_name(g);
    if (failed(f) && f->aborted_by == PARTY_CLIENT && t->ch.num_groups &&
        !an_list_has(t->ch.groups, t->ch.num_groups, g)) {
        m->confidence = CONF_HIGH;
        snprintf(m->summary, sizeof m->summary,
                 "the server chose group %s, which the client did not offer", n ? n : "?");
        rule_evidence_hex4(m, "server_group", t->ske.present ? t->ske.frame : t->sh.frame, g);
        return true;
    }
    if (f->profile->num_groups && !an_list_has(f->profile->groups, f->profile->num_groups, g)) {
        m->confidence = CONF_LOW;
        m->finding_only = true;
        snprintf(m->summary, sizeof m->summary,
                 "the server chose group %s, which %s does not offer", n ? n : "?",
                 f->profile->name);
        rule_evidence_hex4(m, "server_group", t->ske.present ? t->ske.frame : t->sh.frame, g);
        return true;
    }
    return false;
}

// profile_offers_dhe: does the profile offer a finite-field DHE suite at all?
static bool profile_offers_dhe(const an_profile *p) {
    for (uint32_t i = 0; i < p->num_ciphers; i++) {
        const char *n = tls_cipher_name(p->ciphers[i]);
        if (!n || strncmp(n, "TLS_DHE_", 8) == 0) {
            return true;
        }
    }
    return p->num_ciphers == 0;
}

static bool rule_dh_too_small(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!t->ske.present || t->ske.kind != 2 || t->ske.dh_p_bits >= 2048) {
        return false;
    }
    if (!failed(f) && !profile_offers_dhe(f->profile)) {
        return false;  // the profile's client never negotiates DHE: the prime cannot refuse it
    }
    m->confidence = failed(f) ? CONF_HIGH : CONF_MEDIUM;
    snprintf(m->summary, sizeof m->summary, "the server's DHE prime has %u bits (< 2048)",
             t->ske.dh_p_bits);
    rule_evidence(m, "dh_p_bits", t->ske.frame, "%u", t->ske.dh_p_bits);
    return true;
}

// server_asked_renegotiation: the first protected handshake record after both Finished came
// from the server (its HelloRequest, RFC 5246 §7.4.1.1), or a HelloRequest went in clear. The
// server would ask the profile's client too; a client-initiated one proves nothing about it.
static bool server_asked_renegotiation(const tls_transcript *t) {
    bool fin[2] = {false, false};
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->kind == TLS_EV_HANDSHAKE && e->hs_type == 0 && e->dir == TLS_DIR_S2C) {
            return true;
        }
        if (e->kind == TLS_EV_ENCRYPTED_HANDSHAKE && e->dir < 2) {
            if (fin[0] && fin[1]) {
                return e->dir == TLS_DIR_S2C;
            }
            fin[e->dir] = true;
        }
    }
    return false;
}

static bool rule_renegotiation(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!t->renegotiation_attempt) {
        return false;
    }
    if (failed(f) && f->reneg_failed &&
        (!f->has_alert || f->alert_encrypted || f->alert_desc == ALERT_NO_RENEGOTIATION)) {
        m->confidence = CONF_HIGH;
        snprintf(m->summary, sizeof m->summary,
                 "the origin asked to renegotiate (an encrypted HelloRequest at frame %u, after "
                 "%u request record(s) from the client) and the client did not start a new "
                 "handshake: CloudFront never renegotiates, so the request fails (typically "
                 "per-directory client certificates, e.g. Apache SSLVerifyClient in <Location>)",
                 f->reneg_request_frame, t->app_records[TLS_DIR_C2S]);
        rule_evidence(m, "hello_request", f->reneg_request_frame,
                      "a protected handshake record from the server after both Finished");
        add_alert_evidence(f, m);
        return true;
    }
    if (failed(f) &&
        (f->alert_desc == ALERT_NO_RENEGOTIATION || !f->has_alert || f->alert_encrypted)) {
        // An encrypted alert after the renegotiation attempt: its description is hidden, but
        // nothing else happened on the connection (medium confidence).
        m->confidence = f->alert_desc == ALERT_NO_RENEGOTIATION && !f->alert_encrypted
                            ? CONF_HIGH
                            : CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary, "a renegotiation was attempted and refused");
        add_alert_evidence(f, m);
        return true;
    }
    if (!f->profile->renegotiation) {
        m->confidence = CONF_MEDIUM;
        m->finding_only = true;
        m->proven = server_asked_renegotiation(t);
        snprintf(m->summary, sizeof m->summary,
                 "the connection renegotiated%s; %s does not support renegotiation",
                 m->proven ? " at the server's request" : "", f->profile->name);
        return true;
    }
    return false;
}

// client_finished_frame: the frame of the client's first protected handshake record (its
// Finished) or ChangeCipherSpec, 0 when the client never got that far.
static uint32_t client_finished_frame(const tls_transcript *t) {
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->dir == TLS_DIR_C2S &&
            (e->kind == TLS_EV_CHANGE_CIPHER_SPEC || e->kind == TLS_EV_ENCRYPTED_HANDSHAKE)) {
            return e->frame;
        }
    }
    return 0;
}

// rule_handshake_integrity: bad_record_mac or decrypt_error in clear once the client has sent
// its ChangeCipherSpec/Finished: the peer could not decrypt or verify the Finished, so the two
// sides derived different keys (RFC 5246 §7.4.9; RFC 8446 §4.4.4). With RSA key exchange a
// server whose private key does not match its certificate ends exactly so: it decrypts the
// premaster secret to garbage and, by design (RFC 5246 §7.4.7.1), says so only at Finished.
static bool rule_handshake_integrity(const tls_transcript *t, const an_facts *f, rule_match *m) {
    uint32_t fin = client_finished_frame(t);
    if (!failed(f) || !t->sh.present || fin == 0 || f->alert_frame < fin ||
        !(alert_from(f, f->alert_sender, ALERT_BAD_RECORD_MAC) ||
          alert_from(f, f->alert_sender, ALERT_DECRYPT_ERROR))) {
        return false;
    }
    m->confidence = CONF_HIGH;
    bool rsa_kx = !t->ske.present && tls_negotiated_version(&t->sh) < TLS13;
    snprintf(m->summary, sizeof m->summary,
             "the %s could not verify the handshake after the client's Finished (%s): the two "
             "sides derived different keys%s",
             verdict_party_name(f->alert_sender), an_alert_name(f->alert_desc),
             rsa_kx ? " (RSA key exchange: a private key that does not match the certificate, "
                      "or a client that sent a bad premaster secret)"
                    : " (a middlebox that alters bytes, a broken TLS offload, or a session "
                      "resumed from a mismatched cache)");
    add_alert_evidence(f, m);
    rule_evidence(m, "client_finished", fin, "the client's ChangeCipherSpec/Finished");
    rule_evidence_str(m, "key_exchange", t->sh.frame,
                      rsa_kx ? "RSA (no ServerKeyExchange)" : "(EC)DHE");
    return true;
}

// ---------------------------------------------------------------------------------------------
// Certificates.
// ---------------------------------------------------------------------------------------------

// tls13_implied: TLS 1.3 hides the Certificate; a client alert sent in clear still tells what
// the client disliked (RFC 8446 §6.2). Medium confidence at best.
static cause_id tls13_implied(const tls_transcript *t, const an_facts *f) {
    uint16_t nv = tls_negotiated_version(&t->sh);
    bool tls13 = nv == TLS13 || (nv & 0xFF00) == 0x7F00;  // 0x7Fxx: TLS 1.3 drafts
    if (f->has_chain || !tls13 || !f->has_alert || f->alert_encrypted ||
        f->alert_sender != PARTY_CLIENT) {
        return CAUSE__COUNT;
    }
    switch (f->alert_desc) {
        // unknown_ca is also what a self-signed leaf or a private CA get; a missing intermediate
        // is the common case behind CloudFront (field reports), so it is named, with low
        // confidence.
        case ALERT_UNKNOWN_CA:
            return CAUSE_CERT_MISSING_INTERMEDIATE;
        case ALERT_CERTIFICATE_EXPIRED:
            return CAUSE_CERT_EXPIRED;
        case ALERT_BAD_CERTIFICATE:
            return CAUSE_CERT_NAME_MISMATCH;
        case ALERT_UNSUPPORTED_CERTIFICATE:
            return CAUSE_CERT_WEAK_KEY;
        default:
            return CAUSE__COUNT;
    }
}

// cert_rule_applies: the chain is the suspect unless the server itself ended the handshake.
static bool cert_rule_applies(const an_facts *f) {
    return f->has_chain && !(failed(f) && f->has_alert && f->alert_sender == PARTY_SERVER);
}

bool an_cert_rules_may_match(const an_facts *f) {
    // Every CAUSE_F_CERT rule starts from cert_rule_applies (the chain), tls13_match or
    // alert_from (an alert): without either, none can match. With a chain, a handshake that
    // succeeded without an alert is refused only for one of the chain's faults below (the
    // seclevel and root-refused cases need an alert, sni_missing a failure). Unit tests
    // test_cert_rules_need_facts and test_cert_rules_need_a_fault hold the rules to this.
    if (!f->has_chain || f->has_alert || failed(f)) {
        return f->has_chain || f->has_alert;
    }
    const an_chain *c = f->chain;
    return c->self_signed || c->untrusted_ca || c->missing_intermediate || c->misordered ||
           c->intermediates_unordered || c->leaf_expired || c->leaf_not_yet_valid ||
           c->intermediate_expired || (c->name_checked && !c->name_ok) || c->wrong_purpose ||
           c->weak_key || c->weak_signature;
}

// corroborate sets confidence from the client's alert (or its silent abort after the chain).
static void corroborate(const an_facts *f, const uint8_t *alerts, size_t n, rule_match *m) {
    m->confidence = failed(f) ? CONF_MEDIUM : CONF_HIGH;
    for (size_t i = 0; i < n; i++) {
        if (alert_from(f, PARTY_CLIENT, alerts[i])) {
            m->confidence = CONF_HIGH;
        }
    }
    if (failed(f) && !f->has_alert && f->aborted_by == PARTY_CLIENT) {
        m->confidence = CONF_HIGH;  // CloudFront "drops the TCP connection" (DG-https-origin)
    }
    add_alert_evidence(f, m);
}

static bool tls13_match(const tls_transcript *t, const an_facts *f, cause_id c, rule_match *m) {
    if (tls13_implied(t, f) != c) {
        return false;
    }
    m->confidence = CONF_MEDIUM;
    snprintf(m->summary, sizeof m->summary,
             "TLS 1.3 hid the certificate; the client's plaintext alert %s(%u) implies: %s",
             an_alert_name(f->alert_desc), f->alert_desc, cause_meaning(c));
    add_alert_evidence(f, m);
    return true;
}

static const uint8_t CA_ALERTS[] = {ALERT_UNKNOWN_CA, ALERT_BAD_CERTIFICATE,
                                    ALERT_CERTIFICATE_UNKNOWN};

static bool rule_cert_self_signed(const tls_transcript *t, const an_facts *f, rule_match *m) {
    (void)t;
    if (!cert_rule_applies(f) || !f->chain->self_signed) {
        return false;
    }
    corroborate(f, CA_ALERTS, sizeof CA_ALERTS, m);
    snprintf(m->summary, sizeof m->summary, "the leaf certificate '%.300s' is self-signed",
             f->chain->certs[0].subject);
    rule_evidence(m, "leaf", t->cert.frame, "subject = issuer = %.300s",
                  f->chain->certs[0].subject);
    return true;
}

// rule_cert_root_refused: the chain is complete and verifies against the trust store tlsdiag
// was given, yet the client answered unknown_ca (RFC 8446 §6.2: "a valid certificate chain or
// partial chain was received, but the certificate was not accepted because the CA certificate
// could not be located or could not be matched with a known trust anchor"): the client's own
// store lacks the root. CloudFront's store is Mozilla's list (AWS DG-https-origin).
static bool rule_cert_root_refused(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!failed(f) || !cert_rule_applies(f) || !f->chain->verified ||
        !alert_from(f, PARTY_CLIENT, ALERT_UNKNOWN_CA)) {
        return false;
    }
    char root[512];
    an_chain_root(f->chain->certs, f->chain->num_info, root, sizeof root);
    const char *store = f->trust_store ? f->trust_store : "";
    bool system_store = strncmp(store, "system ", 7) == 0;
    if (system_store) {
        // Mozilla's list trusts the root, so CloudFront would; this client's store differs.
        m->confidence = CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary,
                 "the chain is complete and verifies against the system trust store up to "
                 "'%.200s', yet the client refused it with unknown_ca: this client does not trust "
                 "that root",
                 root);
    } else {
        m->confidence = CONF_HIGH;
        snprintf(m->summary, sizeof m->summary,
                 "the chain is complete and verifies against the CA file given to tlsdiag up to "
                 "'%.200s', but the client refused it with unknown_ca: it does not trust that "
                 "root (CloudFront trusts only publicly trusted CAs, Mozilla's list)",
                 root);
    }
    rule_evidence(m, "trusted_root", t->cert.frame,
                  "%.200s: in the trust store tlsdiag used (%.250s)", root, store);
    rule_evidence(m, "chain", t->cert.frame, "%u certificate(s) sent, leaf '%.200s'; verified: %s",
                  f->chain->num_certs, f->chain->certs[0].subject, f->chain->verify_error);
    add_alert_evidence(f, m);
    return true;
}

// How to tell a left-out intermediate from a private CA when the index does not know the
// issuer (issue 16 item 4).
// Short enough that a summary naming a 100-byte subject still fits VERDICT_TEXT whole.
#define HOW_TO_TELL                                                                          \
    "tell them apart with openssl x509 -noout -issuer -ext authorityInfoAccess on the last " \
    "certificate sent: a caIssuers URL of a public CA means an intermediate to add, none a " \
    "private CA"
// The index as summaries name it (evidence gives its source in full: AN_PUBLIC_CA_SOURCE).
#define PUBLIC_INDEX "the public-intermediate index (2026-05-17)"

// issuer_evidence: what the public-intermediate index said of the missing issuer.
static void issuer_evidence(const tls_transcript *t, const an_facts *f, rule_match *m) {
    const an_chain *c = f->chain;
    if (c->issuer_public || c->issuer_unknown) {
        rule_evidence(m, "public_intermediate", t->cert.frame, "%s in %s",
                      c->issuer_public ? "listed" : "not listed", AN_PUBLIC_CA_SOURCE);
    } else if (c->issuer_listed) {
        rule_evidence(m, "public_intermediate", t->cert.frame,
                      "listed in %s, issued by '%.200s', but that leads to no root of the trust "
                      "store",
                      AN_PUBLIC_CA_SOURCE, c->issuer_parent);
    }
    if (c->issuer_url[0]) {
        rule_evidence(m, "issuer_url", t->cert.frame, "%s (caIssuers of the last certificate sent)",
                      c->issuer_url);
    }
}

static bool rule_cert_untrusted_ca(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (rule_cert_root_refused(t, f, m)) {
        return true;
    }
    if (!cert_rule_applies(f) || !f->chain->untrusted_ca) {
        return false;
    }
    corroborate(f, CA_ALERTS, sizeof CA_ALERTS, m);
    if (f->chain->issuer_unknown) {
        // A sent intermediate whose issuer neither the store nor the index knows.
        snprintf(m->summary, sizeof m->summary,
                 "the chain ends at '%.100s', which neither the trust store nor %s knows: a "
                 "private CA, or a second intermediate the server left out; %s",
                 f->chain->untrusted_root, PUBLIC_INDEX, HOW_TO_TELL);
    } else {
        snprintf(m->summary, sizeof m->summary,
                 "the chain ends at '%.260s', a CA that is not in the trust store (a private CA, "
                 "or a root the store no longer carries)",
                 f->chain->untrusted_root);
    }
    rule_evidence_str(m, "untrusted_root", t->cert.frame, f->chain->untrusted_root);
    issuer_evidence(t, f, m);
    return true;
}

static bool rule_cert_missing_intermediate(const tls_transcript *t, const an_facts *f,
                                           rule_match *m) {
    if (tls13_match(t, f, CAUSE_CERT_MISSING_INTERMEDIATE, m)) {
        m->confidence = CONF_LOW;
        snprintf(m->summary + strlen(m->summary), sizeof m->summary - strlen(m->summary),
                 " (unknown_ca is also sent for a self-signed certificate or a private CA)");
        return true;
    }
    if (!cert_rule_applies(f) || !f->chain->missing_intermediate) {
        return false;
    }
    corroborate(f, CA_ALERTS, sizeof CA_ALERTS, m);
    const an_chain *c = f->chain;
    if (c->issuer_public) {
        snprintf(m->summary, sizeof m->summary,
                 "the server sent %u certificate(s) but not the public intermediate '%.120s' "
                 "(issued by '%.70s'): add it to the chain%s%.150s",
                 c->num_certs, c->missing_issuer, c->issuer_parent,
                 c->issuer_url[0] ? "; it is at " : "", c->issuer_url);
    } else if (c->issuer_unknown) {
        snprintf(m->summary, sizeof m->summary,
                 "the server sent %u certificate(s) but not the issuer '%.100s', which neither "
                 "the trust store nor %s knows: an intermediate left out, or a private CA; %s",
                 c->num_certs, c->missing_issuer, PUBLIC_INDEX, HOW_TO_TELL);
    } else {
        snprintf(m->summary, sizeof m->summary,
                 "the server sent %u certificate(s) but not the issuer '%.250s'%s%s", c->num_certs,
                 c->missing_issuer, c->missing_aki[0] ? " keyid " : "", c->missing_aki);
    }
    rule_evidence_str(m, "missing_issuer", t->cert.frame, c->missing_issuer);
    if (c->missing_aki[0]) {
        rule_evidence_str(m, "missing_issuer_keyid", t->cert.frame, c->missing_aki);
    }
    issuer_evidence(t, f, m);
    return true;
}

// rule_cert_misordered: the leaf is not first (every profile), or — a finding only — the leaf
// is first and the intermediates are out of order, which s2n accepts and AWS's guide does not.
static bool rule_cert_misordered(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!cert_rule_applies(f)) {
        return false;
    }
    if (!f->chain->misordered && f->chain->intermediates_unordered) {
        m->finding_only = true;
        snprintf(m->summary, sizeof m->summary,
                 "the intermediates come in the wrong order after the leaf: s2n-tls, CloudFront's "
                 "client, accepts that, but AWS's guide says CloudFront drops chains in the wrong "
                 "order; reorder to be safe: %.300s",
                 f->chain->right_order);
        rule_evidence_str(m, "right_order", t->cert.frame, f->chain->right_order);
        return true;
    }
    if (!f->chain->misordered) {
        return false;
    }
    corroborate(f, CA_ALERTS, sizeof CA_ALERTS, m);
    snprintf(m->summary, sizeof m->summary,
             "the server sent the right certificates in the wrong order; right order: %.400s",
             f->chain->right_order);
    rule_evidence_str(m, "right_order", t->cert.frame, f->chain->right_order);
    return true;
}

static void validity_evidence(const tls_transcript *t, const x509_info *xi, rule_match *m,
                              int64_t when) {
    rule_evidence(m, "validity", t->cert.frame, "notBefore %lld, notAfter %lld, handshake at %lld",
                  (long long)xi->not_before, (long long)xi->not_after, (long long)when);
}

static const uint8_t EXPIRY_ALERTS[] = {ALERT_CERTIFICATE_EXPIRED, ALERT_BAD_CERTIFICATE,
                                        ALERT_CERTIFICATE_UNKNOWN};

static bool rule_cert_expired(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (tls13_match(t, f, CAUSE_CERT_EXPIRED, m)) {
        return true;
    }
    if (!cert_rule_applies(f) || !f->chain->leaf_expired) {
        return false;
    }
    corroborate(f, EXPIRY_ALERTS, sizeof EXPIRY_ALERTS, m);
    snprintf(m->summary, sizeof m->summary,
             "the leaf certificate expired %lld day(s) before the handshake",
             (long long)((f->handshake_time - f->chain->certs[0].not_after) / 86400));
    validity_evidence(t, &f->chain->certs[0], m, f->handshake_time);
    return true;
}

static bool rule_cert_not_yet_valid(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (!cert_rule_applies(f) || !f->chain->leaf_not_yet_valid) {
        return false;
    }
    corroborate(f, EXPIRY_ALERTS, sizeof EXPIRY_ALERTS, m);
    char from[40];
    unix_date(f->chain->certs[0].not_before, from, sizeof from);
    snprintf(m->summary, sizeof m->summary,
             "the leaf certificate becomes valid only on %s, %lld day(s) after the handshake", from,
             (long long)((f->chain->certs[0].not_before - f->handshake_time) / 86400));
    validity_evidence(t, &f->chain->certs[0], m, f->handshake_time);
    return true;
}

static bool rule_cert_intermediate_expired(const tls_transcript *t, const an_facts *f,
                                           rule_match *m) {
    if (!cert_rule_applies(f) || !f->chain->intermediate_expired) {
        return false;
    }
    corroborate(f, EXPIRY_ALERTS, sizeof EXPIRY_ALERTS, m);
    uint32_t i = f->chain->intermediate_index;
    const char *subj = i < f->chain->num_info ? f->chain->certs[i].subject : "?";
    snprintf(m->summary, sizeof m->summary,
             "the intermediate #%u '%.300s' the server sent is expired or not yet valid", i, subj);
    if (i < f->chain->num_info) {
        validity_evidence(t, &f->chain->certs[i], m, f->handshake_time);
    }
    return true;
}

static bool rule_sni_missing(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (failed(f) && t->ch.present && !t->ch.has_sni &&
        alert_from(f, PARTY_SERVER, ALERT_UNRECOGNIZED_NAME)) {
        m->confidence = CONF_HIGH;
        snprintf(m->summary, sizeof m->summary,
                 "the client sent no SNI and the server refuses handshakes without one "
                 "(unrecognized_name: haproxy strict-sni, nginx ssl_reject_handshake in the "
                 "default server)");
        add_alert_evidence(f, m);
        rule_evidence(m, "sni", t->ch.frame, "none sent");
        return true;
    }
    if (!cert_rule_applies(f) || t->ch.has_sni || !failed(f) || f->aborted_by != PARTY_CLIENT ||
        !f->chain->verified) {
        return false;
    }
    corroborate(f, CA_ALERTS, sizeof CA_ALERTS, m);
    m->confidence = CONF_MEDIUM;
    char sans[128];
    an_sans_fit(&f->chain->certs[0], 100, sans, sizeof sans);
    snprintf(m->summary, sizeof m->summary,
             "the client sent no SNI and rejected the default certificate ('%.300s', SANs %s)",
             f->chain->certs[0].subject, sans);
    return true;
}

// last_two_labels points at "example.com" in "a.b.example.com" (the whole name when shorter).
static const char *last_two_labels(const char *name, size_t len) {
    int dots = 0;
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '.' && ++dots == 2) {
            return name + i;
        }
    }
    return name;
}

// same_site: does any SAN share the SNI's last two labels? When none does, the server most
// likely ignored the SNI and served its default certificate.
static bool same_site(const char *sni, const char *sans) {
    const char *want = last_two_labels(sni, strlen(sni));
    for (const char *p = sans; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *have = last_two_labels(p, len);
        if ((size_t)(p + len - have) == strlen(want) &&
            strncasecmp(have, want, strlen(want)) == 0) {
            return true;
        }
        p = end ? end + 1 : p + len;
    }
    return false;
}

static bool rule_cert_name_mismatch(const tls_transcript *t, const an_facts *f, rule_match *m) {
    if (tls13_match(t, f, CAUSE_CERT_NAME_MISMATCH, m)) {
        return true;
    }
    if (!cert_rule_applies(f) || !f->chain->name_checked || f->chain->name_ok) {
        return false;
    }
    corroborate(f, CA_ALERTS, sizeof CA_ALERTS, m);
    char sni[160], sans[300];
    // Whole names only, with "… and N more": a list cut mid-name reads as a name it is not.
    an_sans_fit(&f->chain->certs[0], 250, sans, sizeof sans);
    snprintf(m->summary, sizeof m->summary,
             "no name in the certificate matches the SNI '%.150s' (SANs: %s)",
             an_sni_phrase(&t->ch, sni, sizeof sni), sans[0] ? sans : "(none)");
    rule_evidence_sni(m, &t->ch);
    an_sans_fit(&f->chain->certs[0], 250, sans, sizeof sans);
    rule_evidence(m, "leaf_names", t->cert.frame, "subject %.200s; SANs %s",
                  f->chain->certs[0].subject, sans);
    if (failed(f) && f->completed && !f->cloudfront_client) {
        // Not CloudFront: the failure is inferred from a client that left without a request.
        m->confidence = CONF_MEDIUM;
        uint32_t frame = 0;
        (void)first_close(t, &frame);
        rule_evidence(m, "client_left", frame,
                      "the client completed the handshake and closed without a request: clients "
                      "such as curl check the name after the handshake");
    }
    if (strcmp(sni, t->ch.sni) == 0 && !same_site(t->ch.sni, f->chain->certs[0].sans)) {
        rule_evidence(m, "default_certificate", t->cert.frame,
                      "no name of the certificate is under %.200s: the server likely ignored the "
                      "SNI (or has no site for it) and served its default certificate",
                      last_two_labels(t->ch.sni, strlen(t->ch.sni)));
    }
    return true;
}

static bool rule_cert_wrong_purpose(const tls_transcript *t, const an_facts *f, rule_match *m) {
    static const uint8_t alerts[] = {ALERT_UNSUPPORTED_CERTIFICATE, ALERT_BAD_CERTIFICATE,
                                     ALERT_CERTIFICATE_UNKNOWN};
    if (!cert_rule_applies(f) || !f->chain->wrong_purpose) {
        return false;
    }
    corroborate(f, alerts, sizeof alerts, m);
    snprintf(m->summary, sizeof m->summary,
             "the leaf's key usage / extended key usage does not allow TLS server authentication");
    rule_evidence(m, "leaf", t->cert.frame, "%.300s", f->chain->certs[0].subject);
    return true;
}

// weak_text: why the chain is weak for the profile's client; or, when that client accepts it
// (s2n under the CloudFront policies takes RSA-1024 and SHA-1) but the client on the wire refused
// the chain with one of alerts, why it is weak at OpenSSL's default security level, which that
// client applies. NULL when neither.
static const char *weak_text(const an_facts *f, bool weak, const char *text, bool seclevel_weak,
                             const char *seclevel_text, const uint8_t *alerts, size_t n) {
    if (weak) {
        return text;
    }
    for (size_t i = 0; seclevel_weak && failed(f) && i < n; i++) {
        if (alert_from(f, PARTY_CLIENT, alerts[i])) {
            return seclevel_text;
        }
    }
    return NULL;
}

static bool rule_cert_weak_key(const tls_transcript *t, const an_facts *f, rule_match *m) {
    static const uint8_t alerts[] = {ALERT_UNSUPPORTED_CERTIFICATE, ALERT_BAD_CERTIFICATE,
                                     ALERT_HANDSHAKE_FAILURE};
    if (tls13_match(t, f, CAUSE_CERT_WEAK_KEY, m)) {
        return true;
    }
    if (!cert_rule_applies(f)) {
        return false;
    }
    const char *why =
        weak_text(f, f->chain->weak_key, f->chain->weak_key_text, f->chain->seclevel_weak_key,
                  f->chain->seclevel_key_text, alerts, sizeof alerts);
    if (!why) {
        return false;
    }
    corroborate(f, alerts, sizeof alerts, m);
    snprintf(m->summary, sizeof m->summary, "%s", why);
    rule_evidence_str(m, "key", t->cert.frame, why);
    return true;
}

static bool rule_cert_weak_signature(const tls_transcript *t, const an_facts *f, rule_match *m) {
    static const uint8_t alerts[] = {ALERT_BAD_CERTIFICATE, ALERT_UNSUPPORTED_CERTIFICATE,
                                     ALERT_CERTIFICATE_UNKNOWN};
    if (!cert_rule_applies(f)) {
        return false;
    }
    const char *why = weak_text(f, f->chain->weak_signature, f->chain->weak_sig_text,
                                f->chain->seclevel_weak_signature, f->chain->seclevel_sig_text,
                                alerts, sizeof alerts);
    if (!why) {
        return false;
    }
    corroborate(f, alerts, sizeof alerts, m);
    snprintf(m->summary, sizeof m->summary, "%s", why);
    rule_evidence_str(m, "signature", t->cert.frame, why);
    return true;
}

// rule_client_closed: the client ended the connection with a FIN or RST and no alert, and
// nothing on the wire blames the server (every earlier rule, the certificate ones included, had
// its chance first): the client's own policy, another trust store, pinning, or a scanner that
// wanted only the ServerHello. TLS 1.3 hides the certificate, and clients that refuse one
// without an alert (s2n-tls, CloudFront's) look the same: low confidence there.
static bool rule_client_closed(const tls_transcript *t, const an_facts *f, rule_match *m) {
    uint32_t frame = 0;
    if (f->outcome != OUTCOME_FAILED || !t->ch.present || f->has_alert ||
        first_close(t, &frame) != PARTY_CLIENT) {
        return false;
    }
    double after_ms = (double)(t->last_ts_ns - f->ch_ts_ns) / 1e6;
    bool rst = t->tcp.rst[TLS_DIR_C2S] && frame == t->tcp.rst_frame[TLS_DIR_C2S];
    if (!server_sent_tls(f)) {
        if (t->tcp.bytes[TLS_DIR_S2C] || t->last_ts_ns - f->ch_ts_ns >= CLIENT_QUICK_CLOSE_NS) {
            return false;  // server bytes that are not TLS, or a wait: other rules' cases
        }
        m->confidence = CONF_LOW;
        snprintf(m->summary, sizeof m->summary,
                 "the client %s the connection %.0f ms after its ClientHello, before the server "
                 "answered: it gave up on its own",
                 rst ? "reset" : "closed", after_ms);
    } else if (f->has_chain && f->chain->verified &&
               (!f->chain->name_checked || f->chain->name_ok)) {
        m->confidence = CONF_MEDIUM;
        snprintf(m->summary, sizeof m->summary,
                 "the client %s the connection without an alert after the server's flight, whose "
                 "chain verifies and matches the name: the client's own policy ended it (another "
                 "trust store, pinning, or a scanner that wanted only the ServerHello)",
                 rst ? "reset" : "closed");
    } else if (f->cloudfront_client && !f->has_chain && tls_negotiated_version(&t->sh) >= TLS13 &&
               client_finished_frame(t) == 0) {
        // s2n sends no alert when it refuses the server's Certificate or CertificateVerify: it
        // closes the socket (the s2nc captures pcaps/field/s2ncert/*-tls13-s2n-2025.pcap). TLS
        // 1.3 encrypts both, so the check that failed is not on the wire.
        m->confidence = CONF_LOW;
        snprintf(m->summary, sizeof m->summary,
                 "CloudFront's client (s2n-tls) %s the connection without an alert right after "
                 "the server's encrypted flight, before its own Finished: s2n ends a handshake "
                 "this way when it refuses the server's certificate (expired, untrusted CA, name, "
                 "purpose) or its signature; TLS 1.3 encrypts both, so which check failed is not "
                 "on the wire: probe the origin (tlsdiag probe, or analyze --probe-origin)",
                 rst ? "reset" : "closed");
    } else {
        m->confidence = CONF_LOW;
        snprintf(m->summary, sizeof m->summary,
                 "the client %s the connection without an alert after the server's %sflight; "
                 "no server fault is visible%s",
                 rst ? "reset" : "closed",
                 tls_negotiated_version(&t->sh) >= TLS13 ? "encrypted " : "",
                 f->has_chain ? ""
                              : ", but the certificate was not seen: a client that refuses a "
                                "certificate silently (s2n-tls, CloudFront) looks the same");
    }
    rule_evidence(m, rst ? "tcp_rst" : "tcp_fin", frame, "%s from the client, no alert",
                  rst ? "RST" : "FIN");
    return true;
}

// an_closest_rules: for a verdict no rule explained, the rules whose situation it resembles
// and the fact each one missed, so that `unknown` says where it fell between the rules.
void an_closest_rules(const tls_transcript *t, const an_facts *f, char *out, size_t outlen) {
    size_t w = 0;
    out[0] = '\0';
#define NEAR(id, why)                                                               \
    do {                                                                            \
        int k = snprintf(out + w, outlen - w, "%s%s (%s)", w ? "; " : "", id, why); \
        w = k > 0 && (size_t)k < outlen - w ? w + (size_t)k : w;                    \
    } while (0)
    uint32_t frame = 0;
    verdict_party closer = first_close(t, &frame);
    bool plain = f->has_alert && !f->alert_encrypted;
    if (!t->ch.present) {
        NEAR("capture_incomplete",
             "the capture has no ClientHello, but it did not start "
             "mid-connection and lost no bytes");
    }
    if (t->ch.present && !t->sh.present && plain && f->alert_sender == PARTY_SERVER) {
        NEAR("client_hello_rejected / no_shared_cipher",
             "they read decode_error, illegal_parameter, handshake_failure or "
             "insufficient_security after the ClientHello");
    }
    if (closer == PARTY_SERVER && server_sent_tls(f)) {
        NEAR("server_closed / server_reset",
             "they need the close before any TLS byte from "
             "the server");
    }
    if (closer == PARTY_CLIENT || f->aborted_by == PARTY_CLIENT) {
        NEAR("client_closed", f->has_alert ? "it needs a close without an alert"
                                           : "it needs the server's answer, or a close within "
                                             "1 s of the ClientHello");
    }
    if (client_finished_frame(t) && f->has_alert) {
        NEAR("handshake_integrity_failure",
             "it needs bad_record_mac or decrypt_error in clear "
             "after the client's Finished");
    }
    if (f->has_chain) {
        NEAR("certificate rules", "the chain verified, with the name, dates and keys in order");
    } else if (t->sh.present && tls_negotiated_version(&t->sh) >= TLS13) {
        NEAR("certificate rules",
             "TLS 1.3 encrypted the certificate and no plaintext alert "
             "from the client names a certificate fault");
    }
    if (!w) {
        NEAR("none", "no rule reads any of the facts above");
    }
#undef NEAR
}

// The rule array, generated from the cause table in causes.h: its rows are in priority order.
const rule an_rules[] = {
#define X(e, num, id, meaning, fn, flags, refs, texts) {CAUSE_##e, fn, flags},
    CAUSE_TABLE(X)
#undef X
};
const size_t an_num_rules = sizeof an_rules / sizeof an_rules[0];
