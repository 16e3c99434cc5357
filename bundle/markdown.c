// markdown.c — report.md: report.html's content as plain Markdown (for text-only ticket systems).
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bundle_internal.h"
#include "report.h"

static void md_list(bbuf *b, const char *title, const char (*items)[VERDICT_TEXT], uint32_t n,
                    bool numbered) {
    if (n == 0) {
        return;
    }
    bbuf_printf(b, "\n**%s**\n\n", title);
    for (uint32_t i = 0; i < n; i++) {
        if (numbered) {
            bbuf_printf(b, "%u. ", i + 1);
        } else {
            bbuf_puts(b, "- ");
        }
        bbuf_md(b, items[i]);
        bbuf_puts(b, "\n");
    }
}

// The ladder as a fixed-width block (inside a code fence, so only control bytes are escaped).
static void md_ladder(const bundle_doc *d, const bundle_conn *c, bbuf *b) {
    int brk = bundle_break_index(c);
    int64_t t0 = c->num_events ? c->events[0].ts_ns : 0;
    bbuf_puts(
        b, "\n```\nframe   ev.pcap  time(ms)   client                                  server\n");
    for (uint32_t i = 0; i < c->num_events; i++) {
        const tls_event *e = &c->events[i];
        char label[160], safe[640];
        bundle_event_label(e, label, sizeof label);
        report_escape((const uint8_t *)label, strlen(label), REPORT_ESC_TEXT, safe, sizeof safe);
        bool c2s = e->dir == TLS_DIR_C2S;
        uint32_t ep = bundle_evidence_packet(d, c, e->frame);
        char evn[16] = "-";
        if (ep) {
            snprintf(evn, sizeof evn, "#%u", ep);
        }
        bbuf_printf(b, "%-7u %-7s %9.3f   %s %-34s %s%s\n", e->frame, evn,
                    (double)(e->ts_ns - t0) / 1e6, c2s ? "--" : "<-", safe, c2s ? "->" : "--",
                    (int)i == brk ? "   <== broke here" : "");
    }
    bbuf_puts(b, "```\n");
}

static void md_conn(const bundle_doc *d, const bundle_conn *c, bbuf *b) {
    const verdict *v = c->v;
    char cl[64], sv[64], st[32];
    report_endpoint(&v->client, cl);
    report_endpoint(&v->server, sv);
    report_time(v->first_ts_ns, st);
    bbuf_printf(b, "\n### Connection %" PRIu64 ": `%s` (%s)\n\n", v->conn_id, cause_name(v->cause),
                verdict_outcome_name(v->outcome));
    bbuf_md(b, v->summary);
    bbuf_puts(b, "\n\n- client: ");
    bbuf_md(b, cl);
    bbuf_puts(b, "\n- server: ");
    bbuf_md(b, sv);
    bbuf_puts(b, "\n- SNI: ");
    bbuf_sni(b, v, bbuf_md_n);
    bbuf_printf(b, "\n- started: %s, frames %u-%u\n- broke: ", st, v->first_frame, v->last_frame);
    bbuf_md(b, v->failed_step);
    bbuf_printf(b, " (ended by %s), confidence %s\n", verdict_party_name(v->aborted_by),
                verdict_confidence_name(v->confidence));
    if (v->capture_note[0]) {
        bbuf_puts(b, "- capture: ");
        bbuf_md(b, v->capture_note);
        bbuf_puts(b, "\n");
    }
    md_ladder(d, c, b);
    // a code block: pasted as is (the filter is shell-quoted, no Markdown escaping inside)
    char cmd[600], wsafe[4 * sizeof cmd];
    bbuf_puts(b, "\n**Open in Wireshark** (evidence.pcap in this bundle)\n\n```\n");
    bundle_wireshark_command(c, "wireshark", cmd, sizeof cmd);
    report_escape((const uint8_t *)cmd, strlen(cmd), REPORT_ESC_TEXT, wsafe, sizeof wsafe);
    bbuf_printf(b, "%s\n", wsafe);
    bundle_wireshark_command(c, "tshark", cmd, sizeof cmd);
    report_escape((const uint8_t *)cmd, strlen(cmd), REPORT_ESC_TEXT, wsafe, sizeof wsafe);
    bbuf_printf(b, "%s\n```\n", wsafe);
    if (v->num_evidence) {
        bbuf_puts(b, "\n**Evidence**\n\n");
        for (uint32_t i = 0; i < v->num_evidence; i++) {
            bbuf_puts(b, "- ");
            bbuf_md(b, v->evidence[i].key);
            bbuf_puts(b, ": ");
            bbuf_md_n(b, v->evidence[i].value, verdict_evidence_len(&v->evidence[i]));
            if (v->evidence[i].frame) {
                char ref[96];
                bundle_frame_ref(d, c, v->evidence[i].frame, ref, sizeof ref);
                bbuf_printf(b, " (%s)", ref);
            }
            bbuf_puts(b, "\n");
        }
    }
    if (v->num_certs) {
        int64_t t = v->first_ts_ns / 1000000000;
        bbuf_puts(b, "\n**Certificate chain as sent** (verify result: ");
        bbuf_md(b, v->verify_error);
        bbuf_puts(b, ")\n\n");
        for (uint32_t i = 0; i < v->num_certs; i++) {
            const x509_info *x = &v->certs[i];
            char nb[32], na[32];
            report_time_sec(x->not_before, nb);
            report_time_sec(x->not_after, na);
            bbuf_printf(b, "%u. subject: ", i);
            bbuf_md(b, x->subject);
            bbuf_puts(b, "; issuer: ");
            bbuf_md(b, x->issuer);
            bbuf_printf(b, "; valid %s to %s%s; SANs: ", nb, na,
                        t > x->not_after    ? " (EXPIRED at handshake time)"
                        : t < x->not_before ? " (NOT YET VALID at handshake time)"
                                            : "");
            bbuf_md(b, x->sans[0] ? x->sans : "(none)");
            if (x->num_sans_listed < x->num_sans) {
                bbuf_printf(b, " \xe2\x80\xa6 and %u more", x->num_sans - x->num_sans_listed);
            }
            bbuf_printf(b, "; key %s %u; SHA-256 %s\n", x->key_type, x->key_bits, x->sha256);
        }
        if (v->num_certs_sent > v->num_certs) {
            bbuf_printf(b, "\n\xe2\x80\xa6 and %u more certificates (not kept)\n",
                        v->num_certs_sent - v->num_certs);
        }
        const char *missing = bundle_missing_issuer(v);
        if (missing != NULL) {
            bbuf_printf(b, "%u. **MISSING: intermediate not sent by the server**: ", v->num_certs);
            bbuf_md(b, missing);
            bbuf_puts(b,
                      " (CloudFront does not fetch it: the server must send it after the leaf)\n");
        }
    }
    md_list(b, "Fix", v->fix, v->num_fix, true);
    if (v->check_command[0]) {
        char safe[4 * VERDICT_TEXT];
        report_escape((const uint8_t *)v->check_command, strlen(v->check_command), REPORT_ESC_TEXT,
                      safe, sizeof safe);
        bbuf_printf(b, "\n**Check**\n\n```\n%s\n```\n", safe);
    }
    md_list(b, "Dead ends", v->dead_ends, v->num_dead_ends, false);
}

void bundle_markdown(const bundle_doc *d, bbuf *b) {
    const bundle_run *r = d->run;
    const summary *s = d->sum;
    bbuf_puts(b, "# tlsdiag: why the TLS handshakes failed\n\n## Summary\n\n");
    for (size_t i = 0; i < r->num_errors; i++) {
        const cap_error *e = &r->errors[i];
        bbuf_puts(b, "**Damaged input:** ");
        bbuf_md(b, e->file);
        bbuf_printf(b, ": frame %" PRIu64 " (offset %" PRIu64 "): ", e->frame, e->offset);
        bbuf_md(b, e->msg);
        bbuf_puts(b, "\n\n");
    }
    if (s->dominant_example != NULL && s->dominant_ties > 1) {
        bbuf_printf(b,
                    "**No single dominant cause:** %u causes tie at %" PRIu64
                    " each; each has its fix in its connection below.\n\n",
                    s->dominant_ties, summary_cause_failures(s, s->dominant));
    } else if (s->dominant_example != NULL) {
        bbuf_printf(b, "**Dominant cause: `%s`** - ", cause_name(s->dominant));
        bbuf_md(b, s->dominant_example->summary);
        bbuf_puts(b, "\n\n");
    } else {
        bbuf_puts(b, "No failed handshake in the capture.\n\n");
    }
    bbuf_printf(b,
                "Connections %" PRIu64 ", succeeded %" PRIu64 " (of which %" PRIu64
                " would fail for CloudFront), failed on the wire %" PRIu64 ", incomplete %" PRIu64
                ", not TLS %" PRIu64
                ".\n\n| cause | failed on the wire | would fail for CloudFront |\n|---|---|---|\n",
                s->connections, s->succeeded, s->predicted, s->failed, s->incomplete, s->not_tls);
    cause_id order[CAUSE__COUNT];
    size_t nc = summary_causes_by_count(s, order);
    for (size_t i = 0; i < nc; i++) {
        bbuf_printf(b, "| `%s` | %" PRIu64 " | %" PRIu64 " |\n", cause_name(order[i]),
                    s->by_cause_failed[order[i]], s->by_cause_predicted[order[i]]);
    }
    if (s->dominant_example != NULL && s->dominant_ties == 1) {
        md_list(b, "Fix", s->dominant_example->fix, s->dominant_example->num_fix, true);
    }
    bbuf_printf(b,
                "\nShown: %u connection(s) of %" PRIu64
                " failing (every distinct cause first); "
                "evidence.pcap holds their %u packets, application data removed. A frame is "
                "cited by its number in the original capture and its packet number in "
                "evidence.pcap.%s%s\n\n## Connections\n",
                r->num_conns, r->failing, d->evidence_packets,
                d->anonymized ? " Addresses are keyed prefix-preserving pseudonyms." : "",
                d->redacted ? " SNI and certificate identifiers (names, serials, fingerprints, key "
                              "identifiers) are replaced; certificates in evidence.pcap are "
                              "zeros; no chain files."
                            : "");
    for (uint32_t i = 0; i < r->num_conns; i++) {
        md_conn(d, &r->conns[i], b);
    }
}
