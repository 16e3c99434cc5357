// print.c — the doctor's verdicts for people (text) and for programs (JSON Lines: doctor_site
// objects, doctor_problem objects, then one doctor_summary; schema in doc/doctor-json.md).
// Every string from a configuration file is hostile: escaped for the terminal or for JSON.
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "doctor.h"
#include "report.h"

// esc: s for the terminal (control bytes and invalid UTF-8 as \xNN): a file is hostile input.
static const char *esc(const char *s, char *buf, size_t n) {
    report_escape((const uint8_t *)s, strlen(s), REPORT_ESC_TEXT, buf, n);
    return buf;
}

static void print_text(const doctor_verdict *v, int verbosity, FILE *out) {
    char a[1200], b[1200], c[1200];
    bool ok = v->cause == CAUSE_OK;
    fprintf(out, "%s %s  %s %s (%s) at %s:%u\n", ok ? (v->warning ? "WARN" : "OK  ") : "FAIL",
            v->cause_note ? "unknown (not a handshake cause: see the text)" : cause_name(v->cause),
            doctor_server_name(v->server), v->name[0] ? esc(v->name, a, sizeof a) : "(no name)",
            esc(v->listen, b, sizeof b), esc(v->site.file, c, sizeof c), v->site.line);
    if (!ok) {
        if (v->at.line) {
            fprintf(out, "  %s:%u  %s\n", esc(v->at.file, a, sizeof a), v->at.line,
                    esc(v->directive, b, sizeof b));
        } else {
            fprintf(out, "  %s:%u  (not written: the server's default applies)\n",
                    esc(v->site.file, a, sizeof a), v->site.line);
        }
        fprintf(out, "    problem: %s\n", esc(v->problem, a, sizeof a));
        fprintf(out, "    change:  %s\n", esc(v->change, a, sizeof a));
        if (v->check_openssl[0]) {
            fprintf(out, "    verify:  %s\n             %s\n", esc(v->check_openssl, a, sizeof a),
                    esc(v->check_probe, b, sizeof b));
        }
    }
    for (uint32_t i = 0; i < v->num_findings; i++) {
        const doctor_finding *f = &v->findings[i];
        fprintf(out, "  also %s: %s:%u  %s\n", cause_name(f->cause), esc(f->at.file, a, sizeof a),
                f->at.line, esc(f->text, b, sizeof b));
    }
    for (uint32_t i = 0; verbosity > 0 && v->chain && i < v->chain->num_certs; i++) {
        const x509_info *x = &v->chain->certs[i];
        fprintf(out, "  cert %u: %s (issuer %s)\n", i, esc(x->subject, a, sizeof a),
                esc(x->issuer, b, sizeof b));
    }
}

// header: a JSON Lines object with the schema version of every tlsdiag stream, and its type.
static json_t *header(const char *type) {
    json_t *o = json_object();
    json_object_set_new(o, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
    json_object_set_new(o, "type", json_string(type));
    return o;
}

static json_t *where_json(json_t *o, const char *prefix, const doctor_where *w) {
    char k[32];
    snprintf(k, sizeof k, "%sfile", prefix);
    json_object_set_new(o, k, w->line ? json_string(w->file) : json_null());
    snprintf(k, sizeof k, "%sline", prefix);
    json_object_set_new(o, k, w->line ? json_integer(w->line) : json_null());
    return o;
}

// jstr: a JSON string of bytes from a file (invalid UTF-8 escaped as \xNN first).
static json_t *jstr(const char *s) {
    char buf[2048];
    report_escape((const uint8_t *)s, strlen(s), REPORT_ESC_JSON, buf, sizeof buf);
    return json_string(buf);
}

static bool print_json(json_t *o, FILE *out) {
    bool ok = o && json_dumpf(o, out, JSON_COMPACT) == 0 && fputc('\n', out) != EOF;
    json_decref(o);
    return ok;
}

static bool site_json(const doctor_verdict *v, FILE *out) {
    json_t *o = header("doctor_site");
    json_object_set_new(o, "server", json_string(doctor_server_name(v->server)));
    json_object_set_new(o, "site_file", jstr(v->site.file));
    json_object_set_new(o, "site_line", json_integer(v->site.line));
    json_object_set_new(o, "name", v->name[0] ? jstr(v->name) : json_null());
    json_object_set_new(o, "listen", jstr(v->listen));
    json_object_set_new(o, "status",
                        json_string(v->cause != CAUSE_OK ? "fail"
                                    : v->warning         ? "warn"
                                                         : "ok"));
    json_object_set_new(o, "cause", json_string(cause_name(v->cause)));
    where_json(o, "", &v->at);
    json_object_set_new(o, "directive", v->directive[0] ? jstr(v->directive) : json_null());
    json_object_set_new(o, "problem", jstr(v->problem));
    json_object_set_new(o, "change", v->change[0] ? jstr(v->change) : json_null());
    json_t *chk = json_array();
    if (v->check_openssl[0]) {
        json_array_append_new(chk, jstr(v->check_openssl));
        json_array_append_new(chk, jstr(v->check_probe));
    }
    json_object_set_new(o, "verify", chk);
    json_t *fs = json_array();
    for (uint32_t i = 0; i < v->num_findings; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "cause", json_string(cause_name(v->findings[i].cause)));
        where_json(f, "", &v->findings[i].at);
        json_object_set_new(f, "text", jstr(v->findings[i].text));
        json_array_append_new(fs, f);
    }
    json_object_set_new(o, "findings", fs);
    json_t *certs = json_array();
    for (uint32_t i = 0; v->chain && i < v->chain->num_certs; i++) {
        const x509_info *x = &v->chain->certs[i];
        json_t *c = json_object();
        json_object_set_new(c, "subject", jstr(x->subject));
        json_object_set_new(c, "issuer", jstr(x->issuer));
        json_object_set_new(c, "not_after", json_integer(x->not_after));
        json_object_set_new(c, "sha256", json_string(x->sha256));
        json_array_append_new(certs, c);
    }
    json_object_set_new(o, "certificates", certs);
    return print_json(o, out);
}

bool doctor_print(const doctor_report *r, const analyzer *an, bool json, int verbosity, FILE *out) {
    bool ok = true;
    size_t warnings = 0;
    for (size_t i = 0; i < r->num_verdicts; i++) {
        warnings += r->verdicts[i].warning;
        if (json) {
            ok = site_json(&r->verdicts[i], out) && ok;
        } else {
            print_text(&r->verdicts[i], verbosity, out);
        }
    }
    for (uint32_t i = 0; i < r->num_problems; i++) {
        char e[1600];
        fprintf(stderr, "tlsdiag: doctor: %s\n", esc(r->problems[i], e, sizeof e));
        if (json) {
            json_t *p = header("doctor_problem");
            json_object_set_new(p, "text", jstr(r->problems[i]));
            ok = print_json(p, out) && ok;
        }
    }
    size_t failures = doctor_failures(r);
    if (json) {
        json_t *s = header("doctor_summary");
        json_object_set_new(s, "configs", json_integer(r->num_configs));
        json_object_set_new(s, "sites", json_integer((json_int_t)r->num_verdicts));
        json_object_set_new(s, "failing", json_integer((json_int_t)failures));
        json_object_set_new(s, "warnings", json_integer((json_int_t)warnings));
        json_object_set_new(s, "problems", json_integer(r->num_problems + r->problems_dropped));
        json_object_set_new(s, "trust_store", json_string(analyzer_trust_store(an)));
        ok = print_json(s, out) && ok;
    } else {
        fprintf(out, "%zu TLS site(s): %zu would fail for CloudFront, %zu warning(s)%s\n",
                r->num_verdicts, failures, warnings,
                r->num_problems ? "; some files could not be read (stderr)" : "");
    }
    return ok;
}

doctor_report *doctor_load(const char *const *files, size_t num_files, analyzer *an, int *status) {
    *status = TLSDIAG_EXIT_OK;
    if (num_files == 0) {
        return NULL;
    }
    doctor_config dc;
    memset(&dc, 0, sizeof dc);
    const char **slot[] = {&dc.nginx, &dc.apache, &dc.haproxy};
    char e[1600];
    for (size_t i = 0; i < num_files; i++) {
        doctor_server s;
        if (!doctor_guess(files[i], &s)) {
            fprintf(stderr,
                    "tlsdiag: --doctor %s: cannot tell whether this is an nginx, Apache or "
                    "HAProxy configuration (or cannot read it)\n",
                    esc(files[i], e, sizeof e));
            *status = TLSDIAG_EXIT_INPUT;
            return NULL;
        }
        *slot[s] = files[i];
    }
    char err[1400] = "";
    doctor_report *r = doctor_run(an, &dc, err, sizeof err);
    if (!r) {
        fprintf(stderr, "tlsdiag: --doctor: %s\n", esc(err, e, sizeof e));
        *status = TLSDIAG_EXIT_INPUT;
        return NULL;
    }
    for (uint32_t i = 0; i < r->num_problems; i++) {
        fprintf(stderr, "tlsdiag: --doctor: %s\n", esc(r->problems[i], e, sizeof e));
    }
    return r;
}
