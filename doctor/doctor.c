// doctor.c — tlsdiag doctor: read each server's configuration, find its TLS sites, judge each.
#include <libgen.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor_internal.h"

const char *doctor_server_name(doctor_server s) {
    static const char *const n[] = {"nginx", "apache", "haproxy"};
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "unknown";
}

typedef struct reader {
    doctor_server server;
    const char *usual;  // where Debian keeps the main file
    dr_text_fn *text;
    void (*sites)(dr_conf *c, dr_sites *out);
} reader;

static void nginx_sites(dr_conf *c, dr_sites *out) {
    dr_nginx_sites(c, out);
}
static void apache_sites(dr_conf *c, dr_sites *out) {
    dr_apache_sites(c, out);
}

static const reader readers[] = {
    {DOCTOR_NGINX, "/etc/nginx/nginx.conf", dr_nginx_text, nginx_sites},
    {DOCTOR_APACHE, "/etc/apache2/apache2.conf", dr_apache_text, apache_sites},
    {DOCTOR_HAPROXY, "/etc/haproxy/haproxy.cfg", dr_haproxy_text, dr_haproxy_sites},
};

static void report_problem(doctor_report *r, const char *p) {
    if (r->num_problems < DOCTOR_MAX_UNREADABLE) {
        dr_fmt(r->problems[r->num_problems++], sizeof r->problems[0], "%s", p);
    } else {
        r->problems_dropped++;
    }
}

// one_server reads one main file and judges its sites. false: out of memory.
static bool one_server(analyzer *a, const reader *rd, const char *path, const dr_vfile *vf,
                       uint32_t nvf, doctor_report *r) {
    char dir[DR_PATH];
    dr_fmt(dir, sizeof dir, "%s", path);
    dr_conf *c = malloc(sizeof *c);
    dr_sites *sites = malloc(sizeof *sites);
    if (!c || !sites) {
        free(c), free(sites);
        return false;
    }
    // nginx -c FILE and Apache (ServerRoot unset) resolve relative paths from the file's folder
    dr_conf_init(c, dirname(dir));
    c->vfiles = vf;
    c->num_vfiles = nvf;
    bool ok = true;
    if (dr_read_main(c, rd->text, path)) {
        r->num_configs++;
        sites->n = sites->dropped = 0;
        rd->sites(c, sites);
        doctor_verdict *nv = realloc(r->verdicts, sizeof *nv * (r->num_verdicts + sites->n + 1));
        ok = nv != NULL;
        for (uint32_t i = 0; ok && i < sites->n; i++) {
            r->verdicts = nv;
            dr_judge(a, &sites->v[i], &nv[r->num_verdicts++]);
        }
        if (nv) {
            r->verdicts = nv;
        }
        if (sites->dropped) {
            char p[128];
            dr_fmt(p, sizeof p, "%s: %u more TLS sites not judged (at most %d)", path,
                   sites->dropped, DR_MAX_SITES);
            report_problem(r, p);
        }
    }
    for (uint32_t i = 0; i < c->num_problems; i++) {
        report_problem(r, c->problems[i]);
    }
    r->problems_dropped += c->problems_dropped;
    dr_conf_free(c);
    free(c);
    free(sites);
    return ok;
}

// nginx_dump: `nginx -T` (nginx's own reading of its configuration, includes expanded, each
// file marked) when the binary is on PATH and the test passes; its files are judged as read
// from disk. false: no nginx, or the test failed (then the files are read directly).
static bool nginx_dump(analyzer *a, doctor_report *r, bool *oom) {
    FILE *p = popen("nginx -T 2>/dev/null", "r");
    if (!p) {
        return false;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    while (text && !feof(p) && !ferror(p)) {
        if (len + 1 == cap) {
            char *nt = cap < DR_MAX_FILE_BYTES * 4 ? realloc(text, cap * 2) : NULL;
            if (!nt) {
                break;  // larger than any configuration: not used
            }
            text = nt;
            cap *= 2;
        }
        len += fread(text + len, 1, cap - 1 - len, p);
    }
    bool whole = text && feof(p);
    int status = pclose(p);
    dr_vfile *vf = whole && status == 0 ? calloc(DR_MAX_FILES, sizeof *vf) : NULL;
    uint32_t n = vf ? dr_nginx_dump(text, len, vf, DR_MAX_FILES) : 0;
    bool ok = n > 0;
    if (ok) {
        char path[DR_PATH];
        dr_fmt(path, sizeof path, "%s", vf[0].path);
        *oom = !one_server(a, &readers[DOCTOR_NGINX], path, vf, n, r);
    }
    free(vf);
    free(text);
    return ok;
}

doctor_report *doctor_run(analyzer *a, const doctor_config *cfg, char *err, size_t errlen) {
    doctor_report *r = calloc(1, sizeof *r);
    if (!r) {
        dr_fmt(err, errlen, "out of memory");
        return NULL;
    }
    const char *given[] = {cfg->nginx, cfg->apache, cfg->haproxy};
    bool any_given = cfg->nginx || cfg->apache || cfg->haproxy;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        const char *path = given[i];
        struct stat st;
        bool oom = false;
        if (!path && !any_given && cfg->discover && readers[i].server == DOCTOR_NGINX &&
            nginx_dump(a, r, &oom)) {
            path = NULL;  // read from nginx -T
        } else if (!path && !any_given && cfg->discover && stat(readers[i].usual, &st) == 0) {
            path = readers[i].usual;
        }
        if (oom || (path && !one_server(a, &readers[i], path, NULL, 0, r))) {
            doctor_report_free(r);
            dr_fmt(err, errlen, "out of memory");
            return NULL;
        }
    }
    if (r->num_configs == 0) {
        dr_fmt(err, errlen, "%s",
               r->num_problems ? r->problems[0]
               : any_given     ? "no configuration file could be read"
                               : "no nginx, Apache or HAProxy configuration found (give "
                                 "--nginx, --apache or --haproxy FILE)");
        doctor_report_free(r);
        return NULL;
    }
    return r;
}

void doctor_report_free(doctor_report *r) {
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->num_verdicts; i++) {
        verdict_free(r->verdicts[i].chain);
    }
    free(r->verdicts);
    free(r);
}

size_t doctor_failures(const doctor_report *r) {
    size_t n = 0;
    for (size_t i = 0; i < r->num_verdicts; i++) {
        n += r->verdicts[i].cause != CAUSE_OK;
    }
    return n;
}

bool doctor_guess(const char *path, doctor_server *out) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static const struct {
        const char *word;
        doctor_server server;
    } names[] = {{"nginx", DOCTOR_NGINX},
                 {"apache", DOCTOR_APACHE},
                 {"httpd", DOCTOR_APACHE},
                 {"haproxy", DOCTOR_HAPROXY}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strstr(base, names[i].word)) {
            *out = names[i].server;
            return true;
        }
    }
    // By content: the first 64 KiB, the first word that only one grammar has.
    FILE *f = fopen(path, "r");
    if (!f) {
        return false;
    }
    char line[512];
    bool found = false;
    for (int n = 0; !found && n < 2000 && fgets(line, sizeof line, f); n++) {
        char w[64] = "";
        if (sscanf(line, " %63s", w) != 1 || w[0] == '#') {
            continue;
        }
        found = true;
        if (w[0] == '<' || strcasecmp(w, "ServerRoot") == 0 || strcasecmp(w, "LoadModule") == 0 ||
            strcasecmp(w, "Include") == 0 || strcasecmp(w, "IncludeOptional") == 0) {
            *out = DOCTOR_APACHE;
        } else if (strcmp(w, "global") == 0 || strcmp(w, "defaults") == 0 ||
                   strcmp(w, "frontend") == 0 || strcmp(w, "listen") == 0) {
            *out = DOCTOR_HAPROXY;
        } else if (strchr(line, ';') || strchr(line, '{')) {
            *out = DOCTOR_NGINX;
        } else {
            found = false;
        }
    }
    fclose(f);
    return found;
}

// site_for: the failing site that answers v, preferring one with v's cause.
static const doctor_verdict *site_for(const doctor_report *r, const verdict *v) {
    const doctor_verdict *best = NULL;
    size_t on_port = 0;
    for (size_t i = 0; i < r->num_verdicts; i++) {
        on_port += r->verdicts[i].port == v->server.port;
    }
    for (size_t i = 0; i < r->num_verdicts; i++) {
        const doctor_verdict *d = &r->verdicts[i];
        bool named =
            v->has_sni && v->sni_problem == NULL && d->name[0] && strcasecmp(d->name, v->sni) == 0;
        bool only = !d->name[0] && on_port == 1;
        if (d->cause == CAUSE_OK || d->port != v->server.port || !(named || only)) {
            continue;
        }
        if (!best || (d->cause == v->cause && best->cause != v->cause)) {
            best = d;
        }
    }
    return best;
}

void doctor_attach(const doctor_report *r, verdict *v) {
    if (!r || !verdict_is_failure(v)) {
        return;
    }
    const doctor_verdict *d = site_for(r, v);
    if (!d) {
        return;
    }
    char step[VERDICT_TEXT];
    const doctor_where *at = d->at.line ? &d->at : &d->site;
    dr_fmt(step, sizeof step, "%.200s:%u  %.120s: %.300s", at->file, at->line,
           d->at.line ? d->directive : "(add the directive here)", d->change);
    uint32_t n = v->num_fix < VERDICT_MAX_STEPS ? v->num_fix : VERDICT_MAX_STEPS - 1;
    memmove(v->fix[1], v->fix[0], sizeof v->fix[0] * n);
    memcpy(v->fix[0], step, sizeof step);
    v->num_fix = n + 1;
    dr_fmt(step, sizeof step, "%s site %.200s:%u says %s: %.250s", doctor_server_name(d->server),
           d->site.file, d->site.line, cause_name(d->cause), d->problem);
    verdict_add_evidence(v, "config", 0, step);
}
