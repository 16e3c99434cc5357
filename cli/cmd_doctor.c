// cmd_doctor.c — `tlsdiag doctor`: options, then one verdict per TLS site as text or JSON Lines
// (doctor_site objects, then one doctor_summary; schema in doc/doctor-json.md).
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_doctor.h"
#include "doctor.h"
#include "optable.h"
#include "report.h"

static void doctor_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag doctor [--nginx FILE] [--apache FILE] [--haproxy FILE] [options]\n"
        "\n"
        "On the origin host: read the web server's configuration (following includes), load\n"
        "the certificate and key files of every TLS server block / virtual host / bind, and\n"
        "judge each the way CloudFront would. Each verdict names the cause, the file:line of\n"
        "the directive to change, the change, and the commands that verify the fix.\n"
        "Read-only: never writes a file or reloads a server; prints no key material.\n"
        "\n"
        "Configuration (default: nginx -T when nginx is on PATH, and the usual files of\n"
        "nginx, Apache and HAProxy that exist):\n"
        "      --nginx FILE         nginx's main file (e.g. /etc/nginx/nginx.conf)\n"
        "      --apache FILE        Apache's main file (e.g. /etc/apache2/apache2.conf)\n"
        "      --haproxy FILE       HAProxy's configuration (e.g. /etc/haproxy/haproxy.cfg)\n"
        "\n"
        "Checks:\n"
        "      --ca-file FILE, --ca-path DIR   trust store (default: the system's)\n"
        "      --profile NAME       cloudfront (default) or generic\n"
        "      --now TIME           judge expiry at TIME (RFC 3339) instead of now\n"
        "\n"
        "Output:\n"
        "      --json               JSON Lines: doctor_site objects, then a doctor_summary\n"
        "  -v, --verbose            also the certificates of each site\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 every TLS site would work for CloudFront, 1 some site would fail,\n"
        "2 usage error, 3 no configuration could be read, 4 internal error.\n"
        "Files that could not be read are listed on stderr (and as doctor_problem objects).\n"
        "\n"
        "Examples:\n"
        "  tlsdiag doctor\n"
        "  tlsdiag doctor --nginx /etc/nginx/nginx.conf\n"
        "  tlsdiag doctor --apache /etc/apache2/apache2.conf --json\n",
        f);
}

typedef struct doctor_opts {
    doctor_config dc;
    pipeline_config pc;
    bool json;
    int verbosity;
} doctor_opts;

static int usage_error(const char *msg) {
    fprintf(stderr, "tlsdiag: %s\nTry 'tlsdiag doctor --help'.\n", msg);
    return TLSDIAG_EXIT_USAGE;
}

static int parse(int argc, char **argv, doctor_opts *o) {
    memset(o, 0, sizeof *o);
    pipeline_config_default(&o->pc);
    o->dc.discover = true;
    optind = 1;
    opterr = 0;
    cli_getopt g;
    cli_getopt_init(CLI_CMD_DOCTOR, &g);
    char msg[256];
    int c;
    while ((c = getopt_long(argc, argv, g.optstring, g.longopts, NULL)) != -1) {
        switch (c) {
            case CLI_OPT_NGINX:
                o->dc.nginx = optarg;
                break;
            case CLI_OPT_APACHE:
                o->dc.apache = optarg;
                break;
            case CLI_OPT_HAPROXY:
                o->dc.haproxy = optarg;
                break;
            case CLI_OPT_CA_FILE:
                o->pc.ca_file = optarg;
                break;
            case CLI_OPT_CA_PATH:
                o->pc.ca_path = optarg;
                break;
            case CLI_OPT_PROFILE:
                o->pc.profile = optarg;
                break;
            case CLI_OPT_NOW:
                if (!cli_parse_rfc3339(optarg, &o->pc.now)) {
                    snprintf(msg, sizeof msg, "--now: expected RFC 3339, got '%.100s'", optarg);
                    return usage_error(msg);
                }
                break;
            case CLI_OPT_JSON:
                o->json = true;
                break;
            case 'v':
                o->verbosity++;
                break;
            case 'h':
                doctor_usage(stdout);
                return -1;
            case ':':
                snprintf(msg, sizeof msg, "option '%.100s' needs an argument", argv[optind - 1]);
                return usage_error(msg);
            default:
                if (!cli_opt_elsewhere(CLI_CMD_DOCTOR, argv[optind - 1], optopt, msg, sizeof msg)) {
                    snprintf(msg, sizeof msg, "unknown option '%.100s'", argv[optind - 1]);
                }
                return usage_error(msg);
        }
    }
    if (optind < argc) {
        snprintf(msg, sizeof msg,
                 "unexpected argument '%.100s' (give --nginx, --apache or "
                 "--haproxy FILE)",
                 argv[optind]);
        return usage_error(msg);
    }
    return 0;
}

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

int cli_cmd_doctor(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    doctor_opts o;
    int rc = parse(argc, argv, &o);
    if (rc != 0) {
        return rc == -1 ? TLSDIAG_EXIT_OK : rc;
    }
    char err[1400] = "";
    analyzer *an = pipeline_analyzer_new(&o.pc, err, sizeof err);
    if (!an) {
        fprintf(stderr, "tlsdiag: %s\n", err[0] ? err : "cannot load the analyzer");
        return TLSDIAG_EXIT_INPUT;
    }
    doctor_report *r = doctor_run(an, &o.dc, err, sizeof err);
    if (!r) {
        char e[1600];
        fprintf(stderr, "tlsdiag: doctor: %s\n", esc(err, e, sizeof e));
        analyzer_free(an);
        return strstr(err, "out of memory") ? TLSDIAG_EXIT_INTERNAL : TLSDIAG_EXIT_INPUT;
    }
    bool ok = true;
    size_t warnings = 0;
    for (size_t i = 0; i < r->num_verdicts; i++) {
        warnings += r->verdicts[i].warning;
        if (o.json) {
            ok = site_json(&r->verdicts[i], stdout) && ok;
        } else {
            print_text(&r->verdicts[i], o.verbosity, stdout);
        }
    }
    for (uint32_t i = 0; i < r->num_problems; i++) {
        char e[1600];
        fprintf(stderr, "tlsdiag: doctor: %s\n", esc(r->problems[i], e, sizeof e));
        if (o.json) {
            json_t *p = header("doctor_problem");
            json_object_set_new(p, "text", jstr(r->problems[i]));
            ok = print_json(p, stdout) && ok;
        }
    }
    size_t failures = doctor_failures(r);
    if (o.json) {
        json_t *s = header("doctor_summary");
        json_object_set_new(s, "configs", json_integer(r->num_configs));
        json_object_set_new(s, "sites", json_integer((json_int_t)r->num_verdicts));
        json_object_set_new(s, "failing", json_integer((json_int_t)failures));
        json_object_set_new(s, "warnings", json_integer((json_int_t)warnings));
        json_object_set_new(s, "problems", json_integer(r->num_problems + r->problems_dropped));
        json_object_set_new(s, "trust_store", json_string(analyzer_trust_store(an)));
        ok = print_json(s, stdout) && ok;
    } else {
        printf("%zu TLS site(s): %zu would fail for CloudFront, %zu warning(s)%s\n",
               r->num_verdicts, failures, warnings,
               r->num_problems ? "; some files could not be read (stderr)" : "");
    }
    doctor_report_free(r);
    analyzer_free(an);
    if (!ok || fflush(stdout) != 0 || ferror(stdout)) {
        return TLSDIAG_EXIT_INTERNAL;
    }
    return failures ? TLSDIAG_EXIT_FAILURES : TLSDIAG_EXIT_OK;
}

struct doctor_report *cli_doctor_load(const cli_options *o, analyzer *an, int *status) {
    *status = TLSDIAG_EXIT_OK;
    if (o->num_doctor == 0) {
        return NULL;
    }
    doctor_config dc;
    memset(&dc, 0, sizeof dc);
    const char **slot[] = {&dc.nginx, &dc.apache, &dc.haproxy};
    char e[1600];
    for (size_t i = 0; i < o->num_doctor; i++) {
        doctor_server s;
        if (!doctor_guess(o->doctor[i], &s)) {
            fprintf(stderr,
                    "tlsdiag: --doctor %s: cannot tell whether this is an nginx, Apache or "
                    "HAProxy configuration (or cannot read it)\n",
                    esc(o->doctor[i], e, sizeof e));
            *status = TLSDIAG_EXIT_INPUT;
            return NULL;
        }
        *slot[s] = o->doctor[i];
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
