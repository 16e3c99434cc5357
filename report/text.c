// text.c — terminal rendering: connection ladders, one line per failure, the run summary.
//
// Wire strings are escaped with REPORT_ESC_TEXT (control bytes, C1, '\' and non-UTF-8 become
// \xNN), so a hostile SNI cannot move the cursor or recolour the terminal. The one-line-per-
// failure output is cut to the terminal's width only on a terminal (report_options.columns),
// never in a pipe or file; colour codes are added only when the caller enabled them.
#include <inttypes.h>
#include <string.h>

#include "report_internal.h"

#define C_RED "\x1b[1;31m"
#define C_GREEN "\x1b[32m"
#define C_YELLOW "\x1b[33m"
#define C_BOLD "\x1b[1m"
#define C_DIM "\x1b[2m"
#define C_OFF "\x1b[0m"

static const char *col(const report *r, const char *code) {
    return r->o.color ? code : "";
}

// esc_field escapes a string stored in a fixed array.
static const char *esc_field(const char *s, size_t cap, char *out, size_t outlen) {
    report_escape((const uint8_t *)s, strnlen(s, cap), REPORT_ESC_TEXT, out, outlen);
    return out;
}

static size_t sni_len(const tls_client_hello *ch) {
    return ch->sni_len < TLS_MAX_SNI_LEN ? ch->sni_len : TLS_MAX_SNI_LEN;
}

// columns counts display columns of UTF-8 text as code points (all our text is narrow).
static size_t columns(const char *s) {
    size_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

// fit cuts s in place to at most max columns, ending with "…" when cut.
static void fit(char *s, size_t cap, size_t max) {
    if (columns(s) <= max) {
        return;
    }
    size_t n = 0, i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (n == max - 1) {
                break;
            }
            n++;
        }
    }
    if (i + 4 <= cap) {
        memcpy(s + i, "\xe2\x80\xa6", 4);  // "…" and the NUL
    }
}

// ---------------------------------------------------------------------------------------------
// Ladder (tlsdiag dissect)
// ---------------------------------------------------------------------------------------------

// version_range: "TLSv1.0–1.3" from supported_versions (GREASE skipped), else the legacy field.
static void version_range(const tls_client_hello *ch, char *out, size_t outlen) {
    uint16_t lo = 0, hi = 0;
    for (size_t i = 0; i < ch->num_versions && i < TLS_MAX_VERSIONS; i++) {
        uint16_t v = ch->versions[i];
        if (tls_is_grease(v)) {
            continue;
        }
        if (lo == 0 || v < lo) {
            lo = v;
        }
        if (v > hi) {
            hi = v;
        }
    }
    char b1[32], b2[32];
    if (lo == 0) {
        snprintf(out, outlen, "%s", fmt_version(ch->legacy_version, b1));
        return;
    }
    const char *a = fmt_version(lo, b1), *b = fmt_version(hi, b2);
    if (lo == hi) {
        snprintf(out, outlen, "%s", a);
    } else if (strncmp(a, "TLSv", 4) == 0 && strncmp(b, "TLSv", 4) == 0) {
        snprintf(out, outlen, "%s\xe2\x80\x93%s", a, b + 4);  // "TLSv1.0–1.3"
    } else {
        snprintf(out, outlen, "%s\xe2\x80\x93%s", a, b);
    }
}

// group_name: a named group (RFC 8446 §4.2.7, the ML-KEM hybrids too), or its code point.
static const char *group_name(uint16_t g, char buf[8]) {
    const char *n = tls_group_name(g);
    if (n) {
        return n;
    }
    snprintf(buf, 8, "0x%04x", (unsigned)g);
    return buf;
}

static void describe_client_hello(const tls_client_hello *ch, char *out, size_t outlen) {
    char sni[TLS_MAX_SNI_LEN * 4 + 8], vr[80];
    if (ch->has_sni) {
        report_escape((const uint8_t *)ch->sni, sni_len(ch), REPORT_ESC_TEXT, sni, sizeof sni);
    }
    version_range(ch, vr, sizeof vr);
    char kept[32] = "", shares[160];
    if (ch->num_ciphers_sent > ch->num_ciphers) {
        snprintf(kept, sizeof kept, ", %u kept", (unsigned)ch->num_ciphers);
    }
    char names[128];
    unsigned n = tls_key_share_names(ch, names, sizeof names);
    snprintf(shares, sizeof shares, "%s%s",
             n == 0   ? ""
             : n == 1 ? ", key share "
                      : ", key shares ",
             names);
    snprintf(
        out, outlen, "%s (%s%s%s%s, %u suites%s%s)",
        ch->sslv2 ? "SSLv2 ClientHello" : "ClientHello", ch->has_sni ? "SNI " : "no SNI",
        ch->has_sni ? sni : "", ", ", vr,
        (unsigned)(ch->num_ciphers_sent > ch->num_ciphers ? ch->num_ciphers_sent : ch->num_ciphers),
        kept, shares);
}

// describe_server_hello: version, suite and, in TLS 1.3, the group of the server's key share
// (or the one a HelloRetryRequest asks for).
static void describe_server_hello(const tls_server_hello *sh, char *out, size_t outlen) {
    char b1[32], b2[80], g[48] = "", b3[8];
    if (sh->key_share_group) {
        snprintf(g, sizeof g, ", %s%s", sh->is_hrr ? "asks for " : "",
                 group_name(sh->key_share_group, b3));
    }
    snprintf(out, outlen, "%s (%s, %s%s)", sh->is_hrr ? "HelloRetryRequest" : "ServerHello",
             fmt_version(tls_negotiated_version(sh), b1), fmt_cipher(sh->cipher, b2), g);
}

static void describe_certificate(const tls_certificate *c, uint32_t len, char *out, size_t outlen) {
    char b[32];
    fmt_group(c->message_len ? c->message_len : len, b);
    snprintf(out, outlen, "Certificate (%u cert%s, %s bytes)", (unsigned)c->num_certs,
             c->num_certs == 1 ? "" : "s", b);
}

// ladder_state tells which ClientHello / ServerHello an event is (first or after HRR).
typedef struct ladder_state {
    unsigned client_hellos, server_hellos;
} ladder_state;

static void describe_handshake(const tls_transcript *t, const tls_event *e, ladder_state *st,
                               char *out, size_t outlen) {
    const char *name = tls_handshake_name(e->hs_type);
    char b[32];
    switch (e->hs_type) {
        case 1:  // client_hello
            describe_client_hello(st->client_hellos++ == 0 || !t->ch2.present ? &t->ch : &t->ch2,
                                  out, outlen);
            return;
        case 2:  // server_hello (or HelloRetryRequest, RFC 8446 §4.1.3)
            describe_server_hello(t->hrr.present && st->server_hellos++ == 0 ? &t->hrr : &t->sh,
                                  out, outlen);
            return;
        case 11:  // certificate
            describe_certificate(e->dir == TLS_DIR_S2C ? &t->cert : &t->client_cert, e->length, out,
                                 outlen);
            return;
        case 12:  // server_key_exchange
            if (t->ske.present && t->ske.kind == 1) {
                const char *g = tls_group_name(t->ske.group);
                snprintf(out, outlen, "ServerKeyExchange (ECDHE %s)", g ? g : "unknown group");
                return;
            }
            if (t->ske.present && t->ske.kind == 2) {
                snprintf(out, outlen, "ServerKeyExchange (DHE %u bits)",
                         (unsigned)t->ske.dh_p_bits);
                return;
            }
            break;
        default:
            break;
    }
    fmt_group(e->length, b);
    if (name != NULL) {
        snprintf(out, outlen, "%s (%s bytes)", name, b);
    } else {
        snprintf(out, outlen, "handshake type %u (%s bytes)", (unsigned)e->hs_type, b);
    }
}

static void describe_event(const tls_transcript *t, const tls_event *e, ladder_state *st, char *out,
                           size_t outlen) {
    char b[32], p[TLS_MAX_PREVIEW * 4 + 8];
    switch (e->kind) {
        case TLS_EV_TCP_SYN:
        case TLS_EV_TCP_SYNACK:
        case TLS_EV_TCP_FIN:
        case TLS_EV_TCP_RST:
            snprintf(out, outlen, "%s",
                     e->kind == TLS_EV_TCP_SYN      ? "SYN"
                     : e->kind == TLS_EV_TCP_SYNACK ? "SYN-ACK"
                     : e->kind == TLS_EV_TCP_FIN    ? "FIN"
                                                    : "RST");
            return;
        case TLS_EV_TCP_GAP:
            fmt_group(e->length, b);
            snprintf(out, outlen, "[gap %s bytes]", b);
            return;
        case TLS_EV_TCP_RETRANSMIT:
            fmt_bytes(e->length, b);
            snprintf(out, outlen, "retransmission \xc3\x97%u (%s)",
                     (unsigned)(e->count ? e->count : 1), b);
            return;
        case TLS_EV_HANDSHAKE:
            describe_handshake(t, e, st, out, outlen);
            return;
        case TLS_EV_ENCRYPTED_HANDSHAKE:
            fmt_group(e->length, b);
            snprintf(out, outlen, "encrypted handshake record (%s bytes)", b);
            return;
        case TLS_EV_ALERT: {
            // RFC 5246 §7.2: level is 1 (warning) or 2 (fatal); anything else is shown as a number.
            const char *d = tls_alert_name(e->alert_desc);
            char lv[16];
            snprintf(lv, sizeof lv, "level %u", (unsigned)e->alert_level);
            snprintf(out, outlen, "Alert %s %s (%u)",
                     e->alert_level == 1   ? "warning"
                     : e->alert_level == 2 ? "fatal"
                                           : lv,
                     d ? d : "unknown", (unsigned)e->alert_desc);
            return;
        }
        case TLS_EV_ENCRYPTED_ALERT:
            snprintf(out, outlen, "encrypted alert (%u bytes)", (unsigned)e->length);
            return;
        case TLS_EV_CHANGE_CIPHER_SPEC:
            snprintf(out, outlen, "ChangeCipherSpec");
            return;
        case TLS_EV_APPLICATION_DATA:
            fmt_bytes(e->length, b);
            snprintf(out, outlen, "application data \xc3\x97%u (%s)", (unsigned)e->count, b);
            return;
        case TLS_EV_SSL2: {
            const char *n = sslv2_msg_name(e->hs_type);
            snprintf(out, outlen, "SSLv2 %s", n ? n : "message");
            return;
        }
        case TLS_EV_NOT_TLS: {
            unsigned d = e->dir & 1u;
            size_t n = t->preview_len[d] < TLS_MAX_PREVIEW ? t->preview_len[d] : TLS_MAX_PREVIEW;
            report_escape(t->preview[d], n, REPORT_ESC_TEXT, p, sizeof p);
            fmt_group(e->length, b);
            snprintf(out, outlen, "not TLS (%s bytes): \"%s\"", b, p);
            return;
        }
        case TLS_EV_MALFORMED:
            snprintf(out, outlen, "malformed TLS: %s (%s) at stream offset %u",
                     tls_err_name((tls_err)e->err), tls_err_msg((tls_err)e->err),
                     (unsigned)e->length);
            return;
        default:
            snprintf(out, outlen, "%s", tls_event_name((tls_event_kind)e->kind));
            return;
    }
}

static const char *end_reason_text(uint8_t reason) {
    static const char *const n[] = {"handshake done",    "fatal alert", "closed",
                                    "not TLS",           "evicted",     "capture ended",
                                    "buffer cap reached"};
    return reason < sizeof n / sizeof n[0] ? n[reason] : "unknown";
}

bool text_transcript(report *r, const tls_transcript *t) {
    FILE *f = r->o.out;
    char cl[64], sv[64], b1[32], b2[80], sni[TLS_MAX_SNI_LEN * 4 + 8];
    report_endpoint(&t->client, cl);
    report_endpoint(&t->server, sv);
    fprintf(f, "%sconn %" PRIu64 "%s  %s \xe2\x86\x92 %s", col(r, C_BOLD), t->conn_id,
            col(r, C_OFF), cl, sv);
    if (t->ch.present && t->ch.has_sni) {
        report_escape((const uint8_t *)t->ch.sni, sni_len(&t->ch), REPORT_ESC_TEXT, sni,
                      sizeof sni);
        fprintf(f, "  SNI %s", sni);
    } else if (t->ch.present) {
        fprintf(f, "  no SNI");
    }
    if (t->sh.present && t->sh.sslv2) {
        fprintf(f, "  SSLv2");  // SSLv2 SERVER-HELLO lists cipher kinds, it picks none
    } else if (t->sh.present) {
        fprintf(f, "  %s  %s", fmt_version(tls_negotiated_version(&t->sh), b1),
                fmt_cipher(t->sh.cipher, b2));
    }
    if (t->ja3[0]) {
        fprintf(f, "  JA3 %.32s", t->ja3);
    }
    if (t->ja4[0]) {
        fprintf(f, "  JA4 %.39s", t->ja4);
    }
    fprintf(f, "  [%s]\n", end_reason_text(t->end_reason));

    ladder_state st = {0, 0};
    char what[1400];
    for (uint32_t i = 0; i < t->num_events && i < TLS_MAX_EVENTS; i++) {
        const tls_event *e = &t->events[i];
        describe_event(t, e, &st, what, sizeof what);
        int64_t rel = e->ts_ns - t->first_ts_ns;
        bool bad = e->kind == TLS_EV_ALERT || e->kind == TLS_EV_MALFORMED ||
                   e->kind == TLS_EV_TCP_RST || e->kind == TLS_EV_TCP_GAP ||
                   e->kind == TLS_EV_NOT_TLS;
        fprintf(f, "  %7" PRIu32 "  %10.6f  %s  %s%s%s\n", e->frame, (double)rel / 1e9,
                e->dir == TLS_DIR_C2S ? "C\xe2\x86\x92S"
                                      : "S\xe2\x86\x92"
                                        "C",
                bad ? col(r, C_RED) : "", what, bad ? col(r, C_OFF) : "");
    }
    if (t->events_dropped > 0) {
        fprintf(f, "  (%" PRIu32 " more events not kept)\n", t->events_dropped);
    }
    if (t->num_errors > 0) {
        fprintf(f, "  %u malformed-TLS finding(s); first %s in frame %u\n", (unsigned)t->num_errors,
                tls_err_name((tls_err)t->first_err), (unsigned)t->first_err_frame);
    }
    if (r->o.wireshark_commands) {
        wireshark_commands(r, &t->client, &t->server, t->conn_id);
    }
    fputc('\n', f);
    return true;
}

// ---------------------------------------------------------------------------------------------
// One line per handshake (tlsdiag analyze)
// ---------------------------------------------------------------------------------------------
bool text_verdict(report *r, const verdict *v) {
    bool failed = verdict_is_failure(v);
    if (r->o.verbosity <= REPORT_QUIET || (!failed && r->o.verbosity < REPORT_VERBOSE)) {
        return true;
    }
    FILE *f = r->o.out;
    char ip[48], sv[64], sni[TLS_MAX_SNI_LEN * 4 + 8], sum[VERDICT_TEXT * 4];
    report_ip(&v->client, ip);
    if (v->has_sni) {
        // The bytes as sent, NULs included (shown \x00): never cut at the first NUL.
        report_escape((const uint8_t *)v->sni, verdict_sni_kept(v), REPORT_ESC_TEXT, sni,
                      sizeof sni);
    } else {
        report_endpoint(&v->server, sv);
        snprintf(sni, sizeof sni, "%s", sv);
    }
    esc_field(v->summary, sizeof v->summary, sum, sizeof sum);
    static const char *const tags[] = {"ok  ", "FAIL", "INC ", "NTLS"};
    const char *tag = v->predicted ? "WILL" : (unsigned)v->outcome < 4 ? tags[v->outcome] : "????";
    const char *tag_col = failed ? C_RED : v->outcome == OUTCOME_SUCCEEDED ? C_GREEN : C_YELLOW;
    // The tag is printed apart so colour codes never count towards the terminal's columns.
    char line[4096];
    snprintf(line, sizeof line, " #%" PRIu64 " %s \xe2\x86\x92 %s  %s: %s", v->conn_id, ip, sni,
             cause_name(v->cause), sum);
    if (r->o.columns > 8) {
        fit(line, sizeof line, r->o.columns - 4);
    }
    fprintf(f, "%s%s%s%s\n", col(r, tag_col), tag, col(r, C_OFF), line);
    if (r->o.verbosity >= REPORT_VERBOSE) {
        char val[VERDICT_TEXT * 4], key[200];
        for (uint32_t i = 0; i < v->num_evidence && i < VERDICT_MAX_EVIDENCE; i++) {
            const verdict_evidence *e = &v->evidence[i];
            esc_field(e->key, sizeof e->key, key, sizeof key);
            report_escape((const uint8_t *)e->value, verdict_evidence_len(e), REPORT_ESC_TEXT, val,
                          sizeof val);
            if (e->frame) {
                fprintf(f, "      %s: %s (frame %" PRIu32 ")\n", key, val, e->frame);
            } else {
                fprintf(f, "      %s: %s\n", key, val);
            }
        }
        for (uint32_t i = 0; i < v->num_findings && i < VERDICT_MAX_FINDINGS; i++) {
            fprintf(f, "      note (%s): %s\n", cause_name(v->findings[i].cause),
                    esc_field(v->findings[i].text, VERDICT_TEXT, val, sizeof val));
        }
        bool said = false;  // a probe's evidence may carry the same note: say it once
        for (uint32_t i = 0; i < v->num_evidence && i < VERDICT_MAX_EVIDENCE; i++) {
            said |= strncmp(v->evidence[i].value, v->capture_note, sizeof v->capture_note) == 0;
        }
        if (v->capture_note[0] && !said) {
            fprintf(f, "      capture: %s\n",
                    esc_field(v->capture_note, sizeof v->capture_note, val, sizeof val));
        }
        char wsf[REPORT_WIRESHARK_FILTER_LEN];
        report_wireshark_filter(&v->client, &v->server, wsf);
        if (r->o.stream_is_tcp_stream) {
            fprintf(f, "      wireshark: tcp.stream eq %" PRIu64 "  (%s)\n", v->conn_id, wsf);
        } else {
            fprintf(f, "      wireshark: %s\n", wsf);
        }
    }
    if (failed && r->o.wireshark_commands) {
        wireshark_commands(r, &v->client, &v->server, v->conn_id);
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------
static void text_table(report *r, const char *title, const char *keyname, const summary_count *c,
                       size_t n) {
    if (c == NULL || n == 0) {
        return;
    }
    FILE *f = r->o.out;
    char key[TLS_MAX_SNI_LEN * 4 + 8];
    fprintf(f, "\n%s%s (top %zu)%s\n", col(r, C_BOLD), title, n < 10 ? n : 10, col(r, C_OFF));
    // "failed" is what failed on the wire; "would fail" succeeded but CloudFront would refuse
    // it; "ok" succeeded and CloudFront would accept it. The three never overlap.
    fprintf(f, "  %8s %11s %8s  %-29s %s\n", "failed", "would fail", "ok", "top cause", keyname);
    for (size_t i = 0; i < n && i < 10; i++) {
        report_escape((const uint8_t *)c[i].key, summary_key_len(&c[i]), REPORT_ESC_TEXT, key,
                      sizeof key);
        fprintf(f, "  %8" PRIu64 " %11" PRIu64 " %8" PRIu64 "  %-29s %s\n",
                c[i].failed - c[i].predicted, c[i].predicted, c[i].ok,
                c[i].failed ? cause_name(c[i].top_cause) : "-", key);
    }
}

// text_counts says how many handshakes of a cause failed and would fail: "2 failed on the wire,
// 1 would fail for CloudFront", leaving out a part that is 0.
static void text_counts(char *out, size_t outlen, uint64_t failed, uint64_t predicted) {
    if (failed && predicted) {
        snprintf(out, outlen,
                 "%" PRIu64 " failed on the wire, %" PRIu64 " would fail for CloudFront", failed,
                 predicted);
    } else if (predicted) {
        snprintf(out, outlen, "%" PRIu64 " would fail for CloudFront", predicted);
    } else {
        snprintf(out, outlen, "%" PRIu64 " failed on the wire", failed);
    }
}

// text_fix prints what one cause's example says: summary, evidence, fix, check, dead ends.
static void text_fix(report *r, const summary *s, cause_id c, size_t rank) {
    FILE *f = r->o.out;
    char b[VERDICT_TEXT * 4], n[160];
    const verdict *ex = s->example[c];
    bool one = r->o.one_connection;  // its line and evidence are printed already
    if (!one) {
        text_counts(n, sizeof n, s->by_cause_failed[c], s->by_cause_predicted[c]);
        fprintf(f, "\n%s%zu. %s%s (%s)\n", col(r, C_BOLD), rank, cause_name(c), col(r, C_OFF), n);
    }
    if (ex == NULL) {
        fprintf(f, "  %s\n", cause_meaning(c));
        return;
    }
    if (!one) {
        fprintf(f, "  %s\n", esc_field(ex->summary, sizeof ex->summary, b, sizeof b));
    }
    if (ex->num_evidence > 0 && !one) {
        fprintf(f, "  Evidence (connection #%" PRIu64 "):\n", ex->conn_id);
    }
    for (uint32_t i = 0; !one && i < ex->num_evidence && i < VERDICT_MAX_EVIDENCE; i++) {
        char key[200];
        esc_field(ex->evidence[i].key, sizeof ex->evidence[i].key, key, sizeof key);
        report_escape((const uint8_t *)ex->evidence[i].value,
                      verdict_evidence_len(&ex->evidence[i]), REPORT_ESC_TEXT, b, sizeof b);
        if (ex->evidence[i].frame) {
            fprintf(f, "    - %s: %s (frame %" PRIu32 ")\n", key, b, ex->evidence[i].frame);
        } else {
            fprintf(f, "    - %s: %s\n", key, b);
        }
    }
    if (ex->num_fix > 0) {
        fprintf(f, "  Fix:\n");
    }
    for (uint32_t i = 0; i < ex->num_fix && i < VERDICT_MAX_STEPS; i++) {
        fprintf(f, "    %u. %s\n", (unsigned)i + 1,
                esc_field(ex->fix[i], VERDICT_TEXT, b, sizeof b));
    }
    if (ex->check_command[0]) {
        fprintf(f, "  Check:\n    %s\n",
                esc_field(ex->check_command, sizeof ex->check_command, b, sizeof b));
    }
    if (ex->num_dead_ends > 0) {
        fprintf(f, "  Dead ends (these will not help):\n");
    }
    for (uint32_t i = 0; i < ex->num_dead_ends && i < VERDICT_MAX_STEPS; i++) {
        fprintf(f, "    - %s\n", esc_field(ex->dead_ends[i], VERDICT_TEXT, b, sizeof b));
    }
}

bool text_summary(report *r, const summary *s, const report_run_info *info) {
    FILE *f = r->o.out;
    char b[VERDICT_TEXT * 4], t1[32], t2[32];
    uint64_t failures = s->failed + s->predicted;  // predicted: CloudFront would refuse them
    if (r->o.verbosity > REPORT_QUIET && (failures > 0 || r->o.verbosity >= REPORT_VERBOSE)) {
        fputc('\n', f);
    }
    fprintf(f,
            "%sSummary:%s %" PRIu64 " connection%s: %" PRIu64 " succeeded, %s%" PRIu64
            " failed on the wire%s, %" PRIu64 " incomplete, %" PRIu64 " not TLS\n",
            col(r, C_BOLD), col(r, C_OFF), s->connections, s->connections == 1 ? "" : "s",
            s->succeeded, s->failed ? col(r, C_RED) : "", s->failed, s->failed ? col(r, C_OFF) : "",
            s->incomplete, s->not_tls);
    if (s->predicted > 0) {
        fprintf(
            f,
            "%s%" PRIu64 " of the %" PRIu64 " succeeded handshake%s would fail for CloudFront%s\n",
            col(r, C_RED), s->predicted, s->succeeded, s->succeeded == 1 ? "" : "s", col(r, C_OFF));
    }
    if (failures > 0) {
        report_time(s->first_fail_ns, t1);
        report_time(s->last_fail_ns, t2);
        if (r->o.one_connection) {
            const verdict *ex = s->example[s->dominant];
            if (ex != NULL && (ex->num_fix > 0 || ex->check_command[0])) {
                fputc('\n', f);
            }
            text_fix(r, s, s->dominant, 1);
            goto tail;
        }
        fprintf(f, "Failures from %s to %s\n", t1, t2);
        fprintf(f, "\n%sBy cause%s\n", col(r, C_BOLD), col(r, C_OFF));
        fprintf(f, "  %8s %11s  %s\n", "failed", "would fail", "cause");
        cause_id order[CAUSE__COUNT];
        size_t n = summary_causes_by_count(s, order);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "  %8" PRIu64 " %11" PRIu64 "  %s \xe2\x80\x94 %s\n",
                    s->by_cause_failed[order[i]], s->by_cause_predicted[order[i]],
                    cause_name(order[i]), cause_meaning(order[i]));
        }
        uint64_t top = summary_cause_failures(s, s->dominant);
        char counts[160];
        if (s->dominant_ties > 1) {
            fprintf(f, "\n%sNo single dominant cause:%s %u causes tie at %" PRIu64 " each\n",
                    col(r, C_BOLD), col(r, C_OFF), s->dominant_ties, top);
        } else if (top == failures) {
            text_counts(counts, sizeof counts, s->by_cause_failed[s->dominant],
                        s->by_cause_predicted[s->dominant]);
            fprintf(f, "\n%sDominant cause: %s%s (the only one: %s)\n", col(r, C_BOLD),
                    cause_name(s->dominant), col(r, C_OFF), counts);
        } else {
            text_counts(counts, sizeof counts, s->by_cause_failed[s->dominant],
                        s->by_cause_predicted[s->dominant]);
            fprintf(f,
                    "\n%sDominant cause: %s%s (%" PRIu64 " of the %" PRIu64
                    " handshakes that failed or would fail: %s)\n",
                    col(r, C_BOLD), cause_name(s->dominant), col(r, C_OFF), top, failures, counts);
        }
        if (n > 1) {
            fprintf(f, "\n%sWhat to do, cause by cause (most frequent first)%s\n", col(r, C_BOLD),
                    col(r, C_OFF));
        }
        for (size_t i = 0; i < n; i++) {
            text_fix(r, s, order[i], i + 1);
        }
    }
    if (!r->o.one_connection) {
        text_table(r, "By SNI", "SNI", s->by_sni, s->num_sni);
        text_table(r, "By client network", "network", s->by_network, s->num_networks);
        text_table(r, "By server certificate", "SHA-256", s->by_cert, s->num_certs);
    }
tail:
    if (s->intermittent) {
        report_escape((const uint8_t *)s->intermittent_sni, s->intermittent_sni_len,
                      REPORT_ESC_TEXT, b, sizeof b);
        char sv[64];
        report_endpoint(&s->intermittent_server, sv);
        fprintf(f,
                "\n%sIntermittent:%s %s at %s both succeeded and failed in this capture: look "
                "for differences between origin servers behind that address (load balancer "
                "members, rolling deploys).\n",
                col(r, C_YELLOW), col(r, C_OFF), b, sv);
    }
    if (info->profile_name != NULL || info->trust_store != NULL) {
        fprintf(f, "\nProfile %s %s, prefixes %s; trust store %s\n",
                info->profile_name ? info->profile_name : "?",
                info->profile_version ? info->profile_version : "",
                info->prefix_source ? info->prefix_source : "?",
                info->trust_store ? info->trust_store : "?");
    }
    for (size_t i = 0; i < s->num_judged; i++) {
        fprintf(f, "Judged by %s (%" PRIu64 " connection%s): %s\n", s->judged[i].profile,
                s->judged[i].connections, s->judged[i].connections == 1 ? "" : "s",
                s->judged[i].why);
    }
    for (size_t i = 0; i < info->num_input_errors && info->input_errors; i++) {
        const report_input_error *e = &info->input_errors[i];
        char file[1100];
        report_escape((const uint8_t *)e->file, e->file ? strlen(e->file) : 0, REPORT_ESC_TEXT,
                      file, sizeof file);
        if (e->frame == 0) {  // could not be opened: the message names the file already
            fprintf(f, "Input error: %s\n", e->message ? e->message : "cannot open");
            continue;
        }
        fprintf(f, "Input error: %s: frame %" PRIu64 " (offset %" PRIu64 "): %s\n", file, e->frame,
                e->offset, e->message ? e->message : "damaged");
    }
    for (int i = 0; info->undecoded != NULL && i < DISSECT_UNDECODED_COUNT; i++) {
        const dissect_undecoded *u = &info->undecoded[i];
        dissect_undecoded_reason why = (dissect_undecoded_reason)i;
        if (u->frames == 0) {
            continue;
        }
        char line[400];
        dissect_undecoded_describe(why, u, line, sizeof line);
        fprintf(f, "Not decoded: %s, link type %d\n", line, u->linktype);
    }
    return true;
}
