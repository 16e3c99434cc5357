// haproxy.c — HAProxy's configuration grammar (src/cfgparse.c, parse_line): one statement per
// line, words split on blanks, "…" (escapes) and '…' quotes, `\` escapes, `#` comments; a
// section keyword (global, defaults, frontend, listen, …) opens a section that runs to the next.
// Sites: every `bind … ssl` line of a frontend/listen, with its crt (a PEM of cert + key +
// chain, or a directory of them), crt-list, verify, ssl-min-ver/ssl-max-ver, ciphers, curves,
// strict-sni, and the global ssl-default-bind-* and crt-base.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "doctor_internal.h"
#include "lex.h"

static const char *const sections[] = {
    "global",    "defaults",    "frontend",  "backend",     "listen", "peers",
    "resolvers", "userlist",    "program",   "http-errors", "ring",   "mailers",
    "cache",     "log-forward", "crt-store", "traces",
};

static bool is_section(const char *w) {
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (strcmp(w, sections[i]) == 0) {
            return true;
        }
    }
    return false;
}

// word reads the next word of the current line; false at the end of the line (or a comment).
static bool word(dr_lex *l) {
    int ch;
    while ((ch = dr_lex_peek(l)) == ' ' || ch == '\t' || ch == '\r') {
        dr_lex_next(l);
    }
    l->wlen = 0;
    l->too_long = false;
    if (ch < 0 || ch == '\n') {
        return false;
    }
    if (ch == '#') {
        while ((ch = dr_lex_peek(l)) >= 0 && ch != '\n') {
            dr_lex_next(l);
        }
        return false;
    }
    while ((ch = dr_lex_peek(l)) >= 0 && ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
        dr_lex_next(l);
        if (ch == '"' || ch == '\'') {
            int q = ch;
            while ((ch = dr_lex_peek(l)) >= 0 && ch != q && ch != '\n') {
                dr_lex_next(l);
                if (q == '"' && ch == '\\' && dr_lex_peek(l) >= 0 && dr_lex_peek(l) != '\n') {
                    ch = dr_lex_next(l);
                }
                dr_lex_put(l, ch);
            }
            if (ch == q) {
                dr_lex_next(l);
            }
            continue;
        }
        if (ch == '\\' && dr_lex_peek(l) >= 0 && dr_lex_peek(l) != '\n') {
            ch = dr_lex_next(l);
        }
        dr_lex_put(l, ch);
    }
    return true;
}

void dr_haproxy_text(dr_conf *c, const char *name, const char *text, size_t len, dr_node ***tail) {
    dr_lex *l = malloc(sizeof *l);
    if (!l) {
        dr_problem(c, name, 0, "out of memory");
        return;
    }
    dr_lex_init(l, text, len);
    dr_node *section = NULL;
    dr_node **stail = NULL;
    while (l->pos < l->n) {
        uint32_t at = l->line;
        dr_node *d = NULL;
        if (word(l)) {
            if (l->too_long) {
                dr_problem(c, name, at, "word longer than %d bytes", DR_MAX_TOKEN);
            }
            d = dr_node_new(c, l->word, l->wlen, name, at);
            while (word(l)) {
                if (d) {
                    (void)dr_node_arg(c, d, l->word, l->wlen);
                }
            }
        }
        while (dr_lex_peek(l) >= 0 && dr_lex_next(l) != '\n') {
        }
        if (!d) {
            continue;
        }
        if (is_section(d->name)) {
            d->block = true;
            **tail = d;
            *tail = &d->next;
            section = d;
            stail = &d->child;
        } else if (section) {
            *stail = d;
            stail = &d->next;
        } else {
            **tail = d;  // a statement before any section (or a crt-list line)
            *tail = &d->next;
        }
    }
    free(l);
}

// ---------------------------------------------------------------------------------------------
// Sites.
// ---------------------------------------------------------------------------------------------
static uint32_t version_bit(const char *w) {
    return strcasecmp(w, "SSLv3") == 0     ? DOCTOR_V_SSL3
           : strcasecmp(w, "TLSv1.0") == 0 ? DOCTOR_V_TLS1
           : strcasecmp(w, "TLSv1.1") == 0 ? DOCTOR_V_TLS1_1
           : strcasecmp(w, "TLSv1.2") == 0 ? DOCTOR_V_TLS1_2
           : strcasecmp(w, "TLSv1.3") == 0 ? DOCTOR_V_TLS1_3
                                           : 0;
}

typedef struct tls_opts {
    uint32_t min, max, off;  // version bits
    bool min_set, max_set;
    const dr_node *versions_d;
    char ciphers[1024], curves[256];
    const dr_node *ciphers_d, *curves_d, *verify_d, *strict_d;
    bool verify_required;
} tls_opts;

// apply reads version/cipher/verify keywords from args first.. of d (a bind line, or global
// ssl-default-bind-options).
static void apply(const dr_node *d, uint32_t first, tls_opts *t) {
    for (uint32_t i = first; i < d->nargs; i++) {
        const char *k = d->args[i], *v = i + 1 < d->nargs ? d->args[i + 1] : "";
        if (strcmp(k, "ssl-min-ver") == 0 || strcmp(k, "ssl-max-ver") == 0) {
            bool min = strcmp(k, "ssl-min-ver") == 0;
            (min ? &t->min : &t->max)[0] = version_bit(v);
            (min ? &t->min_set : &t->max_set)[0] = true;
            t->versions_d = d;
            i++;
        } else if (strncmp(k, "no-tlsv1", 8) == 0 || strcmp(k, "no-sslv3") == 0) {
            t->off |= strcmp(k, "no-sslv3") == 0    ? DOCTOR_V_SSL3
                      : strcmp(k, "no-tlsv10") == 0 ? DOCTOR_V_TLS1
                      : strcmp(k, "no-tlsv11") == 0 ? DOCTOR_V_TLS1_1
                      : strcmp(k, "no-tlsv12") == 0 ? DOCTOR_V_TLS1_2
                                                    : DOCTOR_V_TLS1_3;
            t->versions_d = d;
        } else if (strcmp(k, "ciphers") == 0) {
            dr_fmt(t->ciphers, sizeof t->ciphers, "%s", v);
            t->ciphers_d = d;
            i++;
        } else if (strcmp(k, "curves") == 0) {
            dr_fmt(t->curves, sizeof t->curves, "%s", v);
            t->curves_d = d;
            i++;
        } else if (strcmp(k, "verify") == 0) {
            t->verify_required = strcmp(v, "required") == 0;
            t->verify_d = d;
            i++;
        } else if (strcmp(k, "strict-sni") == 0) {
            t->strict_d = d;
        }
    }
}

static uint32_t versions_of(const tls_opts *t) {
    // HAProxy ≥ 2.2 defaults to ssl-min-ver TLSv1.2, up to TLSv1.3
    uint32_t order[] = {DOCTOR_V_SSL3, DOCTOR_V_TLS1, DOCTOR_V_TLS1_1, DOCTOR_V_TLS1_2,
                        DOCTOR_V_TLS1_3};
    uint32_t min = t->min_set ? t->min : DOCTOR_V_TLS1_2,
             max = t->max_set ? t->max : DOCTOR_V_TLS1_3;
    uint32_t set = 0;
    bool on = false;
    for (size_t i = 0; i < 5; i++) {
        on = on || order[i] == min;
        if (on) {
            set |= order[i];
        }
        if (order[i] == max) {
            break;
        }
    }
    return set & ~t->off;
}

// crt_site: one site per certificate file a bind serves.
static void crt_site(dr_conf *c, const dr_node *bind, const dr_node *crt_d, const char *path,
                     const char *sni, const tls_opts *t, dr_sites *out) {
    dr_site *s = dr_site_new(out, DOCTOR_HAPROXY, bind);
    if (!s) {
        return;
    }
    const char *a = dr_arg(bind, 0);
    const char *colon = strrchr(a, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 443;
    s->port = port > 0 && port < 65536 ? (uint16_t)port : 443;
    dr_fmt(s->addr, sizeof s->addr, "%.*s", colon ? (int)(colon - a) : 0, a);
    if (strcmp(s->addr, "*") == 0 || strcmp(s->addr, "0.0.0.0") == 0 ||
        strcmp(s->addr, "::") == 0) {
        s->addr[0] = '\0';
    }
    if (sni && sni[0] && sni[0] != '*' && sni[0] != '!') {
        dr_fmt(s->name, sizeof s->name, "%s", sni);
    }
    s->cert_d = crt_d;
    dr_fmt(s->cert, sizeof s->cert, "%s", path);
    char key[DR_PATH + 8];
    struct stat st;
    dr_fmt(key, sizeof key, "%s.key", path);  // HAProxy's sidecar key when the PEM has none
    if (stat(key, &st) == 0) {
        dr_fmt(s->key, sizeof s->key, "%s", key);
        s->key_d = crt_d;
    }
    s->versions = versions_of(t);
    s->versions_d = t->versions_d;
    s->change_versions = "ssl-min-ver TLSv1.2 (without ssl-max-ver below it)";
    dr_fmt(s->ciphers, sizeof s->ciphers, "%s", t->ciphers);
    s->ciphers_d = t->ciphers_d;
    dr_fmt(s->curves, sizeof s->curves, "%s", t->curves);
    s->curves_d = t->curves_d;
    s->verify_required = t->verify_required;
    s->verify_d = t->verify_d;
    s->rejects_sni = t->strict_d != NULL;
    s->reject_d = t->strict_d;
    (void)c;
}

static void crt_path(const dr_conf *c, const char *base, const char *p, char *out, size_t n) {
    if (p[0] != '/' && base[0]) {
        dr_fmt(out, n, "%s/%s", base, p);
    } else {
        dr_resolve(c, p, out, n);
    }
}

static void crt_dir_sites(dr_conf *c, const dr_node *bind, const dr_node *crt_d, const char *dir,
                          const tls_opts *t, dr_sites *out) {
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        dr_problem(c, bind->file, bind->line, "cannot list the crt directory %s", dir);
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *e = names[i]->d_name;
        size_t len = strlen(e);
        bool skip =
            e[0] == '.' ||
            (len > 4 && (strcmp(e + len - 4, ".key") == 0 || strcmp(e + len - 4, ".ocsp") == 0)) ||
            (len > 7 && strcmp(e + len - 7, ".issuer") == 0);
        char path[DR_PATH];
        dr_fmt(path, sizeof path, "%s/%s", dir, e);
        if (!skip) {
            crt_site(c, bind, crt_d, path, NULL, t, out);
        }
        free(names[i]);
    }
    free(names);
}

static void crt_list_sites(dr_conf *c, const dr_node *bind, const char *base, const char *list,
                           const tls_opts *t, dr_sites *out) {
    dr_conf sub;  // the list's lines, parsed as statements: path [ssl options] [sni filters]
    dr_conf_init(&sub, c->prefix);
    sub.no_includes = true;
    if (!dr_read_main(&sub, dr_haproxy_text, list)) {
        for (uint32_t i = 0; i < sub.num_problems; i++) {
            dr_problem(c, bind->file, bind->line, "crt-list: %s", sub.problems[i]);
        }
        dr_conf_free(&sub);
        return;
    }
    // the nodes point at sub's file name: keep it alive in c (files[] owns the names)
    for (const dr_node *d = sub.root; d; d = d->next) {
        char path[DR_PATH];
        crt_path(c, base, d->name, path, sizeof path);
        const char *sni = NULL;
        bool in_opts = false;
        for (uint32_t i = 0; i < d->nargs; i++) {
            const char *w = d->args[i];
            in_opts = in_opts || w[0] == '[';
            if (!in_opts && !sni) {
                sni = w;
            }
            in_opts = in_opts && !strchr(w, ']');
        }
        crt_site(c, bind, bind, path, sni, t, out);
    }
    dr_conf_free(&sub);
}

void dr_haproxy_sites(dr_conf *c, dr_sites *out) {
    tls_opts def;
    memset(&def, 0, sizeof def);
    char base[DR_PATH] = "";
    for (const dr_node *sec = c->root; sec; sec = sec->next) {
        if (!sec->block || strcmp(sec->name, "global") != 0) {
            continue;
        }
        for (const dr_node *d = sec->child; d; d = d->next) {
            if (strcmp(d->name, "ssl-default-bind-options") == 0) {
                apply(d, 0, &def);
            } else if (strcmp(d->name, "ssl-default-bind-ciphers") == 0) {
                dr_fmt(def.ciphers, sizeof def.ciphers, "%s", dr_arg(d, 0));
                def.ciphers_d = d;
            } else if (strcmp(d->name, "ssl-default-bind-curves") == 0) {
                dr_fmt(def.curves, sizeof def.curves, "%s", dr_arg(d, 0));
                def.curves_d = d;
            } else if (strcmp(d->name, "crt-base") == 0) {
                dr_resolve(c, dr_arg(d, 0), base, sizeof base);
            }
        }
    }
    for (const dr_node *sec = c->root; sec; sec = sec->next) {
        if (!sec->block ||
            (strcmp(sec->name, "frontend") != 0 && strcmp(sec->name, "listen") != 0)) {
            continue;
        }
        for (const dr_node *b = sec->child; b; b = b->next) {
            bool ssl = false;
            for (uint32_t i = 1; strcmp(b->name, "bind") == 0 && i < b->nargs; i++) {
                ssl = ssl || strcmp(b->args[i], "ssl") == 0;
            }
            if (!ssl) {
                continue;
            }
            tls_opts t = def;
            apply(b, 1, &t);
            for (uint32_t i = 1; i + 1 < b->nargs; i++) {
                char path[DR_PATH];
                struct stat st;
                if (strcmp(b->args[i], "crt") == 0) {
                    crt_path(c, base, b->args[i + 1], path, sizeof path);
                    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                        crt_dir_sites(c, b, b, path, &t, out);
                    } else {
                        crt_site(c, b, b, path, NULL, &t, out);
                    }
                } else if (strcmp(b->args[i], "crt-list") == 0) {
                    dr_resolve(c, b->args[i + 1], path, sizeof path);
                    crt_list_sites(c, b, base, path, &t, out);
                }
            }
        }
    }
}
