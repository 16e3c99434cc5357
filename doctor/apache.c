// apache.c — Apache httpd's configuration grammar (server/util.c ap_cfg_getline,
// ap_getword_conf): one directive per line, `\` continues a line, `#` comments a whole line,
// <Section …> … </Section> containers, quoted words; Include/IncludeOptional (globs,
// directories, relative to ServerRoot — /etc/apache2 in Debian's layout); and the TLS virtual
// hosts (SSLEngine on) with the SSL* directives they inherit from the main server.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doctor_internal.h"
#include "lex.h"

// logical_line reads one line (joining `\`-continued lines) into l->word; false at the end.
static bool logical_line(dr_lex *l) {
    l->wlen = 0;
    l->too_long = false;
    if (l->pos >= l->n) {
        return false;
    }
    l->tline = l->line;
    for (;;) {
        int ch = dr_lex_next(l);
        if (ch < 0 || ch == '\n') {
            while (l->wlen && (l->word[l->wlen - 1] == '\r' || l->word[l->wlen - 1] == ' ' ||
                               l->word[l->wlen - 1] == '\t')) {
                l->wlen--;
            }
            if (ch == '\n' && l->wlen && l->word[l->wlen - 1] == '\\') {
                l->wlen--;  // continued on the next line
                continue;
            }
            l->word[l->wlen] = '\0';
            return true;
        }
        dr_lex_put(l, ch);
    }
}

// next_word: the next word of line[*pos..n) (quotes stripped, \" kept as "); false: none.
static bool next_word(const char *line, size_t n, size_t *pos, char *out, size_t outlen,
                      size_t *olen) {
    size_t i = *pos, o = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) {
        i++;
    }
    if (i >= n) {
        return false;
    }
    char q = line[i] == '"' || line[i] == '\'' ? line[i++] : 0;
    while (i < n && (q ? line[i] != q : line[i] != ' ' && line[i] != '\t')) {
        if (q && line[i] == '\\' && i + 1 < n && (line[i + 1] == q || line[i + 1] == '\\')) {
            i++;
        }
        if (o + 1 < outlen) {
            out[o++] = line[i];
        }
        i++;
    }
    if (q && i < n) {
        i++;
    }
    out[o] = '\0';
    *olen = o;
    *pos = i;
    return true;
}

// expand_vars replaces ${NAME} by the environment's value (Apache's Define/envvars; Debian's
// apache2ctl exports APACHE_* from /etc/apache2/envvars), leaving unknown names as written.
static void expand_vars(const char *in, char *out, size_t outlen) {
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < outlen;) {
        const char *end = in[i] == '$' && in[i + 1] == '{' ? strchr(in + i, '}') : NULL;
        char name[128];
        const char *val = NULL;
        if (end && (size_t)(end - in - i - 2) < sizeof name) {
            dr_fmt(name, sizeof name, "%.*s", (int)(end - in - i - 2), in + i + 2);
            val = getenv(name);
        }
        if (val) {
            for (; *val && o + 1 < outlen; val++) {
                out[o++] = *val;
            }
            i = (size_t)(end - in) + 1;
        } else {
            out[o++] = in[i++];
        }
    }
    out[o] = '\0';
}

typedef struct ap_frame {
    dr_node *node;  // the open section
    dr_node **tail;
} ap_frame;

void dr_apache_text(dr_conf *c, const char *name, const char *text, size_t len, dr_node ***tail) {
    dr_lex *l = malloc(sizeof *l);
    char *w = malloc(DR_MAX_TOKEN);
    ap_frame *st = calloc(DR_MAX_BLOCK_DEPTH, sizeof *st);
    if (!l || !w || !st) {
        dr_problem(c, name, 0, "out of memory");
        free(l), free(w), free(st);
        return;
    }
    dr_lex_init(l, text, len);
    uint32_t depth = 0;
    dr_node ***cur = tail;
    while (logical_line(l)) {
        const char *line = l->word;
        size_t n = l->wlen, pos = 0, wl = 0;
        uint32_t at = l->tline;
        if (l->too_long) {
            dr_problem(c, name, at, "line longer than %d bytes: ignored", DR_MAX_TOKEN);
            continue;
        }
        while (pos < n && (line[pos] == ' ' || line[pos] == '\t')) {
            pos++;
        }
        if (pos >= n || line[pos] == '#') {
            continue;
        }
        if (line[pos] == '<' && pos + 1 < n && line[pos + 1] == '/') {  // </Section>
            if (depth == 0) {
                dr_problem(c, name, at, "%.100s without matching section start", line + pos);
                continue;
            }
            depth--;
            cur = depth ? &st[depth - 1].tail : tail;
            continue;
        }
        bool section = line[pos] == '<';
        if (section) {
            pos++;
            n = n && line[n - 1] == '>' ? n - 1 : n;
        }
        if (!next_word(line, n, &pos, w, DR_MAX_TOKEN, &wl)) {
            continue;
        }
        dr_node *d = dr_node_new(c, w, wl, name, at);
        while (d && next_word(line, n, &pos, w, DR_MAX_TOKEN, &wl)) {
            (void)dr_node_arg(c, d, w, wl);
        }
        if (!d) {
            continue;
        }
        bool inc =
            strcasecmp(d->name, "Include") == 0 || strcasecmp(d->name, "IncludeOptional") == 0;
        if (!section && inc && d->nargs == 1 && !c->no_includes) {
            char pattern[DR_PATH];
            expand_vars(d->args[0], pattern, sizeof pattern);
            bool optional = strcasecmp(d->name, "IncludeOptional") == 0;
            dr_nodes_free(d);
            dr_include(c, dr_apache_text, pattern, optional, name, at, cur);
            continue;
        }
        if (!section && strcasecmp(d->name, "ServerRoot") == 0 && d->nargs == 1) {
            dr_fmt(c->prefix_buf, sizeof c->prefix_buf, "%s", d->args[0]);
            c->prefix = c->prefix_buf;
        }
        **cur = d;
        *cur = &d->next;
        if (section) {
            d->block = true;
            if (depth + 1 >= DR_MAX_BLOCK_DEPTH) {
                dr_problem(c, name, at, "sections nested deeper than %d: the rest is not read",
                           DR_MAX_BLOCK_DEPTH);
                break;
            }
            st[depth] = (ap_frame){d, &d->child};
            depth++;
            cur = &st[depth - 1].tail;
        }
    }
    if (depth > 0) {
        dr_problem(c, name, st[depth - 1].node->line, "<%.100s> is not closed in this file",
                   st[depth - 1].node->name);
    }
    free(l), free(w), free(st);
}

// ---------------------------------------------------------------------------------------------
// Sites: every <VirtualHost> with SSLEngine on. <IfModule>, <IfDefine>, <IfVersion>, <IfFile>
// are read through (their conditions are not evaluated: the doctor reads what is written).
// ---------------------------------------------------------------------------------------------
static bool transparent(const dr_node *d) {
    return d->block && strncasecmp(d->name, "If", 2) == 0;
}

// find: the last directive named name in list, looking through <If…> containers.
static const dr_node *find(const dr_node *list, const char *name) {
    const dr_node *found = NULL;
    for (const dr_node *d = list; d; d = d->next) {
        const dr_node *f = transparent(d)                                ? find(d->child, name)
                           : !d->block && strcasecmp(d->name, name) == 0 ? d
                                                                         : NULL;
        found = f ? f : found;
    }
    return found;
}

static const dr_node *inherited(const dr_node *vhost, dr_outer *top, const char *name) {
    const dr_node *d = find(vhost->child, name);
    return d ? d : dr_outer_find(top, name);
}

static void vhost_site(const dr_conf *c, const dr_node *vh, dr_outer *top, dr_sites *out) {
    const dr_node *engine = find(vh->child, "SSLEngine");
    if (!engine || strcasecmp(dr_arg(engine, 0), "on") != 0) {
        return;
    }
    dr_site *s = dr_site_new(out, DOCTOR_APACHE, vh);
    if (!s) {
        return;
    }
    const char *a = dr_arg(vh, 0);
    const char *colon = strrchr(a, ':');
    s->port = 443;
    if (colon && colon[1]) {
        long v = strtol(colon + 1, NULL, 10);
        s->port = v > 0 && v < 65536 ? (uint16_t)v : 443;
    }
    dr_fmt(s->addr, sizeof s->addr, "%.*s", colon ? (int)(colon - a) : (int)strlen(a), a);
    if (strcmp(s->addr, "*") == 0 || strcasecmp(s->addr, "_default_") == 0) {
        s->addr[0] = '\0';
    }
    const dr_node *sn = find(vh->child, "ServerName");
    if (sn) {
        const char *n = dr_arg(sn, 0);
        const char *scheme = strstr(n, "://");
        n = scheme ? scheme + 3 : n;
        dr_fmt(s->name, sizeof s->name, "%.*s", (int)strcspn(n, ":/"), n);
    }
    const dr_node *al = find(vh->child, "ServerAlias");
    for (uint32_t i = 0; al && i < al->nargs; i++) {
        dr_site_alias(s, al->args[i]);
    }
    s->cert_d = dr_site_path(c, inherited(vh, top, "SSLCertificateFile"), s->cert, sizeof s->cert);
    s->key_d = dr_site_path(c, inherited(vh, top, "SSLCertificateKeyFile"), s->key, sizeof s->key);
    s->chain_d =
        dr_site_path(c, inherited(vh, top, "SSLCertificateChainFile"), s->chain, sizeof s->chain);
    // mod_ssl's default: all -SSLv3 (OpenSSL 3 has no SSLv3 anyway)
    dr_site_versions(s, inherited(vh, top, "SSLProtocol"), "SSLProtocol -all +TLSv1.2 +TLSv1.3");
    if ((s->ciphers_d = inherited(vh, top, "SSLCipherSuite")) != NULL) {
        const dr_node *d = s->ciphers_d;
        bool proto = d->nargs >= 2;
        if (!proto || strcasecmp(dr_arg(d, 0), "SSL") == 0) {
            dr_fmt(s->ciphers, sizeof s->ciphers, "%s", dr_arg(d, proto ? 1 : 0));
        } else {
            s->ciphers_d = NULL;  // TLSv1.3 suites only: the ≤ 1.2 list keeps its default
        }
    }
    const dr_node *conf = inherited(vh, top, "SSLOpenSSLConfCmd");
    if (conf && (strcasecmp(dr_arg(conf, 0), "Curves") == 0 ||
                 strcasecmp(dr_arg(conf, 0), "Groups") == 0)) {
        s->curves_d = conf;
        dr_fmt(s->curves, sizeof s->curves, "%s", dr_arg(conf, 1));
    }
    if ((s->verify_d = inherited(vh, top, "SSLVerifyClient")) != NULL) {
        s->verify_required = strcasecmp(dr_arg(s->verify_d, 0), "require") == 0;
    }
}

static void walk(const dr_conf *c, const dr_node *list, dr_outer *top, dr_sites *out) {
    for (const dr_node *d = list; d; d = d->next) {
        if (d->block && strcasecmp(d->name, "VirtualHost") == 0) {
            vhost_site(c, d, top, out);
        } else if (transparent(d)) {
            walk(c, d->child, top, out);
        }
    }
}

void dr_apache_sites(const dr_conf *c, dr_sites *out) {
    dr_outer top = {.list = c->root, .find = find};
    walk(c, c->root, &top, out);
}
