// html.c — report.html: one self-contained page (inline CSS and SVG, no script, no request).
//
// Summary first, then per connection: the ladder (SVG, one arrow per event, alerts red, the
// step where it broke marked), evidence, certificate panels with a validity bar against the
// handshake time, the fix, the check command and the dead ends. Every string goes through
// bbuf_html (control bytes and invalid UTF-8 as \xNN, then HTML-escaped).
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bundle_internal.h"
#include "report.h"

// Human labels per event kind (the dissector's table gives only the enum names).
static const char *const kind_label[TLS_EV__COUNT] = {
    [TLS_EV_TCP_SYN] = "SYN",
    [TLS_EV_TCP_SYNACK] = "SYN-ACK",
    [TLS_EV_TCP_FIN] = "FIN",
    [TLS_EV_TCP_RST] = "RST",
    [TLS_EV_TCP_GAP] = "bytes missing from capture",
    [TLS_EV_TCP_RETRANSMIT] = "retransmission",
    [TLS_EV_HANDSHAKE] = "handshake",
    [TLS_EV_ENCRYPTED_HANDSHAKE] = "encrypted handshake",
    [TLS_EV_ALERT] = "Alert",
    [TLS_EV_ENCRYPTED_ALERT] = "encrypted alert",
    [TLS_EV_CHANGE_CIPHER_SPEC] = "ChangeCipherSpec",
    [TLS_EV_APPLICATION_DATA] = "application data",
    [TLS_EV_SSL2] = "SSLv2 message",
    [TLS_EV_NOT_TLS] = "non-TLS bytes",
    [TLS_EV_MALFORMED] = "malformed TLS",
    [TLS_EV_HEARTBEAT] = "heartbeat",
};

const char *bundle_event_label(const tls_event *e, char *buf, size_t n) {
    const char *k = e->kind < TLS_EV__COUNT && kind_label[e->kind] ? kind_label[e->kind] : "?";
    if (e->kind == TLS_EV_HANDSHAKE) {
        const char *h = tls_handshake_name(e->hs_type);
        snprintf(buf, n, "%s", h ? h : "handshake message");
    } else if (e->kind == TLS_EV_ALERT) {
        const char *a = tls_alert_name(e->alert_desc);
        snprintf(buf, n, "Alert %s %s", e->alert_level == 2 ? "fatal" : "warning",
                 a ? a : "unknown");
    } else if (e->kind == TLS_EV_MALFORMED) {
        snprintf(buf, n, "%s: %s", k, tls_err_msg((tls_err)e->err));
    } else if (e->kind == TLS_EV_TCP_GAP || e->kind == TLS_EV_APPLICATION_DATA ||
               e->kind == TLS_EV_NOT_TLS) {
        snprintf(buf, n, "%s (%u bytes)", k, e->length);
    } else {
        snprintf(buf, n, "%s", k);
    }
    return buf;
}

int bundle_break_index(const bundle_conn *c) {
    if (c->num_events == 0) {
        return -1;
    }
    const verdict *v = c->v;
    for (uint32_t i = 0; v->has_alert && i < c->num_events; i++) {
        const tls_event *e = &c->events[i];
        if ((e->kind == TLS_EV_ALERT || e->kind == TLS_EV_ENCRYPTED_ALERT) &&
            e->frame == v->alert_frame) {
            return (int)i;
        }
    }
    return (int)c->num_events - 1;
}

static bool is_alert(const tls_event *e) {
    return e->kind == TLS_EV_ALERT || e->kind == TLS_EV_ENCRYPTED_ALERT ||
           e->kind == TLS_EV_TCP_RST;
}

static void ladder(const bundle_doc *d, const bundle_conn *c, size_t idx, bbuf *b) {
    enum { W = 760, XC = 150, XS = 610, TOP = 56, STEP = 34 };
    uint32_t n = c->num_events;
    int brk = bundle_break_index(c);
    unsigned h = TOP + (n ? n : 1) * STEP + 24;
    char cl[64], sv[64];
    report_endpoint(&c->v->client, cl);
    report_endpoint(&c->v->server, sv);
    bbuf_printf(b,
                "<svg class=\"ladder\" id=\"ladder-%zu\" xmlns=\"http://www.w3.org/2000/svg\" "
                "width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" role=\"img\">\n",
                idx, W, h, W, h);
    bbuf_printf(b, "<text x=\"%d\" y=\"20\" class=\"col\" text-anchor=\"middle\">client ", XC);
    bbuf_html(b, cl);
    bbuf_printf(b, "</text><text x=\"%d\" y=\"20\" class=\"col\" text-anchor=\"middle\">server ",
                XS);
    bbuf_html(b, sv);
    bbuf_puts(b, "</text>\n");
    bbuf_printf(b,
                "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%u\" class=\"life\"/>"
                "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%u\" class=\"life\"/>\n",
                XC, XC, h - 8, XS, XS, h - 8);
    int64_t t0 = n ? c->events[0].ts_ns : 0;
    for (uint32_t i = 0; i < n; i++) {
        const tls_event *e = &c->events[i];
        unsigned y = TOP + i * STEP;
        bool c2s = e->dir == TLS_DIR_C2S;
        int x1 = c2s ? XC : XS, x2 = c2s ? XS - 8 : XC + 8;
        char label[160];
        bundle_event_label(e, label, sizeof label);
        const char *cls = is_alert(e) ? "arrow alert" : "arrow";
        bbuf_printf(b, "<g class=\"%s%s\" data-frame=\"%u\" data-kind=\"%s\">", cls,
                    (int)i == brk ? " break" : "", e->frame,
                    tls_event_name((tls_event_kind)e->kind));
        bbuf_printf(b, "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\"/>", x1, y, x2, y);
        if (c2s) {
            bbuf_printf(b, "<polygon points=\"%d,%u %d,%u %d,%u\"/>", XS, y, XS - 10, y - 5,
                        XS - 10, y + 5);
        } else {
            bbuf_printf(b, "<polygon points=\"%d,%u %d,%u %d,%u\"/>", XC, y, XC + 10, y - 5,
                        XC + 10, y + 5);
        }
        bbuf_printf(b, "<text x=\"%d\" y=\"%u\" text-anchor=\"middle\">", (XC + XS) / 2, y - 6);
        bbuf_html(b, label);
        bbuf_puts(b, "</text>");
        // the original frame, and the same packet's number in evidence.pcap
        uint32_t ep = bundle_evidence_packet(d, c, e->frame);
        char evn[32] = "";
        if (ep) {
            snprintf(evn, sizeof evn, " (ev #%u)", ep);
        }
        bbuf_printf(b,
                    "<text x=\"%d\" y=\"%u\" class=\"meta\" text-anchor=\"end\">#%u%s +%.3f "
                    "ms</text>",
                    XC - 10, y + 4, e->frame, evn, (double)(e->ts_ns - t0) / 1e6);
        if ((int)i == brk) {
            bbuf_printf(b, "<text x=\"%d\" y=\"%u\" class=\"brk\">\xe2\x9c\x96 broke here</text>",
                        XS + 10, y + 4);
        }
        bbuf_puts(b, "</g>\n");
    }
    if (n == 0) {
        bbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">(no events recorded)</text>",
                    (XC + XS) / 2, TOP);
    }
    bbuf_puts(b, "</svg>\n");
}

static void validity_bar(const x509_info *x, int64_t t, bbuf *b) {
    enum { BW = 420 };
    int64_t lo = x->not_before < t ? x->not_before : t;
    int64_t hi = x->not_after > t ? x->not_after : t;
    if (hi <= lo) {
        hi = lo + 1;
    }
    double span = (double)(hi - lo);
    double vx = (double)(x->not_before - lo) / span * BW;
    double vw = (double)(x->not_after - x->not_before) / span * BW;
    double tx = (double)(t - lo) / span * BW;
    bool valid = t >= x->not_before && t <= x->not_after;
    char nb[32], na[32], ht[32];
    report_time_sec(x->not_before, nb);
    report_time_sec(x->not_after, na);
    report_time_sec(t, ht);
    bbuf_printf(b,
                "<svg class=\"validity\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                "height=\"26\"><rect x=\"0\" y=\"8\" width=\"%d\" height=\"10\" class=\"vbg\"/>"
                "<rect x=\"%.1f\" y=\"8\" width=\"%.1f\" height=\"10\" class=\"%s\"/>"
                "<line x1=\"%.1f\" y1=\"2\" x2=\"%.1f\" y2=\"24\" class=\"now\"/></svg>"
                "<div class=\"meta\">%s \xe2\x80\x93 %s; handshake %s</div>",
                BW + 4, BW, vx, vw < 1 ? 1 : vw, valid ? "vok" : "vbad", tx + 1, tx + 1, nb, na,
                ht);
}

static void cert_panels(const bundle_conn *c, bbuf *b) {
    const verdict *v = c->v;
    if (v->num_certs == 0) {
        return;
    }
    const char *missing = bundle_missing_issuer(v);
    int64_t t = v->first_ts_ns / 1000000000;
    bbuf_puts(b, "<h4>Certificate chain as sent");
    if (c->chain_no) {
        bbuf_printf(b, " (chain-%d.pem)", c->chain_no);
    }
    bbuf_puts(b, " \xe2\x80\x94 verify result: <code>");
    bbuf_html(b, v->verify_error);
    bbuf_puts(b, "</code></h4>\n");
    for (uint32_t i = 0; i < v->num_certs; i++) {
        const x509_info *x = &v->certs[i];
        bool bad =
            t > x->not_after || t < x->not_before || (i == 0 && x->self_signed) || x->parse_error;
        bbuf_printf(b, "<div class=\"cert%s\"><b>#%u</b> ", bad ? " certbad" : "", x->index);
        bbuf_puts(b, "<table><tr><th>subject</th><td>");
        bbuf_html(b, x->subject);
        bbuf_puts(b, "</td></tr><tr><th>issuer</th><td>");
        bbuf_html(b, x->issuer);
        bbuf_puts(b, "</td></tr><tr><th>validity</th><td>");
        validity_bar(x, t, b);
        bbuf_puts(b, "</td></tr><tr><th>SANs</th><td>");
        bbuf_html(b, x->sans[0] ? x->sans : "(none)");
        if (x->num_sans_listed < x->num_sans) {
            bbuf_printf(b, " \xe2\x80\xa6 and %u more", x->num_sans - x->num_sans_listed);
        }
        bbuf_printf(b, "</td></tr><tr><th>key</th><td>%s %u%s%s</td></tr>", x->key_type,
                    x->key_bits, x->curve[0] ? " " : "", x->curve);
        bbuf_puts(b, "<tr><th>signature</th><td>");
        bbuf_html(b, x->sig_alg);
        bbuf_printf(b, "</td></tr><tr><th>SHA-256</th><td><code>%s</code></td></tr>", x->sha256);
        bbuf_puts(b, "<tr><th>what failed</th><td>");
        if (t > x->not_after) {
            bbuf_puts(b, "expired at handshake time. ");
        } else if (t < x->not_before) {
            bbuf_puts(b, "not yet valid at handshake time. ");
        }
        if (x->self_signed) {
            bbuf_puts(b, "self-signed. ");
        }
        if (x->parse_error) {
            bbuf_puts(b, "could not be parsed. ");
        }
        if (!bad && missing != NULL && i + 1 == v->num_certs) {
            bbuf_puts(b,
                      "nothing wrong with this certificate itself, but its issuer (below) was "
                      "not sent");
        } else if (!bad) {
            bbuf_puts(b, "nothing found on this certificate");
        }
        bbuf_puts(b, "</td></tr></table></div>\n");
    }
    if (missing != NULL) {
        // cert_missing_intermediate: the gap in the chain, where the intermediate should be.
        bbuf_printf(b,
                    "<div class=\"cert certmissing\" id=\"missing-intermediate\"><b>#%u</b> "
                    "<table><tr><th>missing</th><td><b>intermediate not sent by the server"
                    "</b></td></tr><tr><th>subject</th><td>",
                    v->num_certs);
        bbuf_html(b, missing);
        bbuf_puts(b,
                  "</td></tr><tr><th>what failed</th><td>CloudFront does not fetch missing "
                  "intermediates: the server must send it after the leaf"
                  "</td></tr></table></div>\n");
    }
    if (v->num_certs_sent > v->num_certs) {
        bbuf_printf(b, "<p class=\"meta\">\xe2\x80\xa6 and %u more certificates (not kept).</p>\n",
                    v->num_certs_sent - v->num_certs);
    }
}

static void list(bbuf *b, const char *title, const char (*items)[VERDICT_TEXT], uint32_t n,
                 const char *tag) {
    if (n == 0) {
        return;
    }
    bbuf_printf(b, "<h4>%s</h4><%s>", title, tag);
    for (uint32_t i = 0; i < n; i++) {
        bbuf_puts(b, "<li>");
        bbuf_html(b, items[i]);
        bbuf_puts(b, "</li>");
    }
    bbuf_printf(b, "</%s>\n", tag);
}

static void connection(const bundle_doc *d, const bundle_conn *c, size_t idx, bbuf *b) {
    const verdict *v = c->v;
    char cl[64], sv[64], st[32];
    report_endpoint(&v->client, cl);
    report_endpoint(&v->server, sv);
    report_time(v->first_ts_ns, st);
    bbuf_printf(b, "<section class=\"conn\" id=\"conn-%zu\" data-cause=\"%s\">\n", idx,
                cause_name(v->cause));
    bbuf_printf(b, "<h3>Connection %" PRIu64 ": <span class=\"cause\">%s</span> (%s)</h3>\n",
                v->conn_id, cause_name(v->cause), verdict_outcome_name(v->outcome));
    bbuf_puts(b, "<p class=\"sum\">");
    bbuf_html(b, v->summary);
    bbuf_puts(b, "</p>\n<table class=\"facts\"><tr><th>client</th><td>");
    bbuf_html(b, cl);
    bbuf_puts(b, "</td><th>server</th><td>");
    bbuf_html(b, sv);
    bbuf_puts(b, "</td></tr><tr><th>SNI</th><td>");
    bbuf_sni(b, v, bbuf_html_n);
    bbuf_printf(b,
                "</td><th>started</th><td>%s</td></tr><tr><th>frames</th><td>%u\xe2\x80\x93%u"
                "</td><th>broke</th><td>",
                st, v->first_frame, v->last_frame);
    bbuf_html(b, v->failed_step);
    bbuf_printf(b,
                " (ended by %s)</td></tr><tr><th>confidence</th><td>%s</td><th>method</th>"
                "<td>%s</td></tr></table>\n",
                verdict_party_name(v->aborted_by), verdict_confidence_name(v->confidence),
                verdict_method_name(v->method));
    if (v->capture_note[0]) {
        bbuf_puts(b, "<p class=\"warn\">Capture: ");
        bbuf_html(b, v->capture_note);
        bbuf_puts(b, "</p>\n");
    }
    bbuf_puts(b, "<h4>Ladder</h4>\n");
    ladder(d, c, idx, b);
    if (c->events_dropped) {
        bbuf_printf(b, "<p class=\"meta\">%u more events not kept.</p>\n", c->events_dropped);
    }
    if (v->num_evidence) {
        bbuf_puts(b, "<h4>Evidence</h4><table class=\"ev\">");
        for (uint32_t i = 0; i < v->num_evidence; i++) {
            bbuf_puts(b, "<tr><th>");
            bbuf_html(b, v->evidence[i].key);
            bbuf_puts(b, "</th><td>");
            bbuf_html_n(b, v->evidence[i].value, verdict_evidence_len(&v->evidence[i]));
            if (v->evidence[i].frame) {
                char ref[96];
                bundle_frame_ref(d, c, v->evidence[i].frame, ref, sizeof ref);
                bbuf_printf(b, " <span class=\"meta\">(%s)</span>", ref);
            }
            bbuf_puts(b, "</td></tr>");
        }
        bbuf_puts(b, "</table>\n");
    }
    char cmd[600];
    bbuf_puts(b, "<h4>Open in Wireshark (evidence.pcap in this bundle)</h4><pre class=\"ws\">");
    bundle_wireshark_command(c, "wireshark", cmd, sizeof cmd);
    bbuf_html(b, cmd);
    bbuf_puts(b, "\n");
    bundle_wireshark_command(c, "tshark", cmd, sizeof cmd);
    bbuf_html(b, cmd);
    bbuf_puts(b, "</pre>\n");
    cert_panels(c, b);
    list(b, "Fix", v->fix, v->num_fix, "ol");
    if (v->check_command[0]) {
        bbuf_puts(b, "<h4>Check</h4><pre>");
        bbuf_html(b, v->check_command);
        bbuf_puts(b, "</pre>\n");
    }
    list(b, "Dead ends (do not spend time on these)", v->dead_ends, v->num_dead_ends, "ul");
    if (v->num_findings) {
        bbuf_puts(b, "<h4>Other findings</h4><ul>");
        for (uint32_t i = 0; i < v->num_findings; i++) {
            bbuf_printf(b, "<li><code>%s</code> ", cause_name(v->findings[i].cause));
            bbuf_html(b, v->findings[i].text);
            bbuf_puts(b, "</li>");
        }
        bbuf_puts(b, "</ul>\n");
    }
    bbuf_puts(b, "</section>\n");
}

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}"
    "h1{font-size:22px}h2{border-bottom:1px solid #ccc}code,pre{font:12px monospace}"
    "pre{background:#f4f4f4;padding:8px;white-space:pre-wrap}"
    "table{border-collapse:collapse}th,td{text-align:left;padding:2px 8px;vertical-align:top}"
    ".conn{border:1px solid #ddd;padding:8px 16px;margin:16px 0}.cause{color:#b00}"
    ".damage,.warn{background:#fff3cd;padding:6px}.meta{fill:#777;color:#777;font-size:11px}"
    "svg.ladder text{font:12px sans-serif}svg .life{stroke:#999;stroke-dasharray:4 3}"
    "svg .arrow line{stroke:#246;stroke-width:1.5}svg .arrow polygon{fill:#246}"
    "svg .arrow.alert line{stroke:#d00;stroke-width:2.5}svg .arrow.alert polygon{fill:#d00}"
    "svg .arrow.alert text{fill:#d00}svg .brk{fill:#d00;font-weight:bold}"
    "svg .col{font-weight:bold}.cert{border-left:4px solid #4a4;margin:6px 0;padding:4px}"
    ".certbad{border-left-color:#d00}.certmissing{border:2px dashed #d00;background:#fff5f5}"
    "table.causes{margin-top:10px}"
    ".vbg{fill:#eee}.vok{fill:#4a4}.vbad{fill:#e88}"
    ".now{stroke:#d00;stroke-width:2}";

void bundle_html(const bundle_doc *d, bbuf *b) {
    const bundle_run *r = d->run;
    const summary *s = d->sum;
    bbuf_puts(b,
              "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
              "style-src 'unsafe-inline'; img-src data:\">"
              "<title>tlsdiag report</title><style>");
    bbuf_puts(b, css);
    bbuf_puts(b, "</style></head><body>\n<h1>tlsdiag: why the TLS handshakes failed</h1>\n");
    bbuf_puts(b, "<section id=\"summary\"><h2>Summary</h2>\n");
    if (r->num_errors > 0) {
        bbuf_puts(b, "<div class=\"damage\" id=\"damage\"><b>Damaged input:</b><ul>");
        for (size_t i = 0; i < r->num_errors; i++) {
            const cap_error *e = &r->errors[i];
            bbuf_puts(b, "<li>");
            bbuf_html(b, e->file);
            bbuf_printf(b, ": frame %" PRIu64 " (offset %" PRIu64 "): ", e->frame, e->offset);
            bbuf_html(b, e->msg);
            bbuf_printf(b, " \xe2\x80\x94 results up to frame %" PRIu64 " are included</li>",
                        e->frame ? e->frame - 1 : 0);
        }
        bbuf_puts(b, "</ul></div>\n");
    }
    if (s->failed == 0 && r->failing == 0) {
        bbuf_puts(b, "<p>No failed handshake in the capture.</p>\n");
    } else if (s->dominant_ties > 1) {
        bbuf_printf(b,
                    "<p id=\"dominant\"><b>No single dominant cause:</b> %u causes tie at %" PRIu64
                    " each; each has its fix in its connection below.</p>\n",
                    s->dominant_ties, summary_cause_failures(s, s->dominant));
    } else if (s->dominant_example != NULL) {
        bbuf_printf(b,
                    "<p id=\"dominant\"><b>Dominant cause: <span class=\"cause\">%s</span></b> "
                    "\xe2\x80\x94 ",
                    cause_name(s->dominant));
        bbuf_html(b, s->dominant_example->summary);
        bbuf_puts(b, "</p>\n");
    }
    bbuf_printf(b,
                "<table class=\"facts\"><tr><th>connections</th><td>%" PRIu64
                "</td><th>succeeded</th><td>%" PRIu64
                "</td><th>of which would fail for "
                "CloudFront</th><td>%" PRIu64 "</td><th>failed on the wire</th><td>%" PRIu64
                "</td><th>incomplete</th><td>%" PRIu64 "</td><th>not TLS</th><td>%" PRIu64
                "</td></tr></table>\n",
                s->connections, s->succeeded, s->predicted, s->failed, s->incomplete, s->not_tls);
    bbuf_puts(b,
              "<table class=\"causes\"><tr><th>cause</th><th>failed on the wire</th>"
              "<th>would fail for CloudFront</th><th>meaning</th></tr>");
    cause_id order[CAUSE__COUNT];
    size_t nc = summary_causes_by_count(s, order);
    for (size_t i = 0; i < nc; i++) {
        bbuf_printf(b,
                    "<tr><td><code>%s</code></td><td>%" PRIu64 "</td><td>%" PRIu64
                    "</td><td>%s</td></tr>",
                    cause_name(order[i]), s->by_cause_failed[order[i]],
                    s->by_cause_predicted[order[i]], cause_meaning(order[i]));
    }
    bbuf_puts(b, "</table>\n");
    if (s->dominant_example != NULL && s->dominant_ties == 1) {
        const verdict *v = s->dominant_example;
        list(b, "Fix", v->fix, v->num_fix, "ol");
    }
    bbuf_printf(b,
                "<p class=\"meta\">Shown below: %u connection(s) (every distinct cause first) "
                "of %" PRIu64
                " that failed or would fail for CloudFront; evidence.pcap holds "
                "their %u packets up to the verdict, application data removed. A frame is cited "
                "by its number in the original capture and by its packet number in "
                "evidence.pcap (\xe2\x80\x9c#25 (ev #8)\xe2\x80\x9d). Profile: ",
                r->num_conns, r->failing, d->evidence_packets);
    bbuf_html(b, d->profile);
    bbuf_puts(b, "; trust store: ");
    bbuf_html(b, d->trust_store);
    bbuf_printf(b, ".%s%s</p>\n",
                d->anonymized ? " Addresses are keyed prefix-preserving pseudonyms." : "",
                d->redacted ? " SNI and certificate identifiers (names, serials, fingerprints, key "
                              "identifiers) are replaced; certificates in evidence.pcap are "
                              "zeros; no chain files."
                            : "");
    bbuf_puts(b, "</section>\n<h2>Connections</h2>\n");
    for (uint32_t i = 0; i < r->num_conns; i++) {
        connection(d, &r->conns[i], i, b);
    }
    bbuf_puts(b, "</body></html>\n");
}
