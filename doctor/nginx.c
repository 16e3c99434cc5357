// nginx.c — nginx's configuration grammar (src/core/ngx_conf_file.c): words, `;`, `{ }`
// blocks, quotes, `#` comments, `include` (globs, relative to the main file's directory, as
// nginx -c resolves them), and the TLS server blocks of its http { } context.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor_internal.h"
#include "lex.h"

typedef enum { T_WORD, T_SEMI, T_OPEN, T_CLOSE, T_END, T_BAD } ngx_tok;

// token reads the next token; a word's bytes are in l->word[0..wlen).
static ngx_tok token(dr_lex *l) {
    int ch;
    for (;;) {  // blanks and comments
        ch = dr_lex_peek(l);
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            dr_lex_next(l);
        } else if (ch == '#') {
            while ((ch = dr_lex_next(l)) >= 0 && ch != '\n') {
            }
        } else {
            break;
        }
    }
    l->tline = l->line;
    if (ch < 0) {
        return T_END;
    }
    l->wlen = 0;
    l->too_long = false;
    if (ch == ';' || ch == '{' || ch == '}') {
        dr_lex_next(l);
        return ch == ';' ? T_SEMI : ch == '{' ? T_OPEN : T_CLOSE;
    }
    if (ch == '"' || ch == '\'') {
        dr_lex_next(l);
        return dr_lex_quoted(l, ch) ? T_WORD : T_BAD;
    }
    // a NUL byte is part of a word (strchr would find the string's terminator: no progress)
    while ((ch = dr_lex_peek(l)) >= 0 && (ch == 0 || !strchr(" \t\r\n;{}", ch))) {
        dr_lex_next(l);
        if (ch == '\\' && dr_lex_peek(l) >= 0) {
            ch = dr_lex_next(l);
        }
        dr_lex_put(l, ch);
    }
    return T_WORD;
}

// block parses directives until `}` (depth > 0) or the end of the text (depth 0).
static void block(dr_conf *c, const char *file, dr_lex *l, dr_node ***tail, uint32_t depth) {
    for (;;) {
        ngx_tok t = token(l);
        uint32_t line = l->tline;
        if (t == T_END) {
            if (depth > 0) {
                dr_problem(c, file, line, "unexpected end of file, expecting \"}\"");
            }
            return;
        }
        if (t == T_CLOSE) {
            if (depth > 0) {
                return;
            }
            dr_problem(c, file, line, "unexpected \"}\"");
            continue;
        }
        if (t != T_WORD) {
            dr_problem(c, file, line,
                       t == T_BAD ? "unterminated quoted string" : "unexpected \";\" or \"{\"");
            if (t == T_BAD) {
                return;
            }
            continue;
        }
        dr_node *d = dr_node_new(c, l->word, l->wlen, file, line);
        while ((t = token(l)) == T_WORD) {
            if (d) {
                (void)dr_node_arg(c, d, l->word, l->wlen);
            }
        }
        if (t == T_END || t == T_BAD || t == T_CLOSE) {
            dr_problem(
                c, file, line, "directive \"%.100s\" %s", d ? d->name : "?",
                t == T_BAD ? "has an unterminated quoted string" : "is not terminated by \";\"");
            dr_nodes_free(d);
            if (t == T_CLOSE && depth > 0) {
                return;
            }
            if (t != T_CLOSE) {
                return;
            }
            continue;
        }
        if (t == T_OPEN) {
            if (depth + 1 >= DR_MAX_BLOCK_DEPTH) {
                dr_problem(c, file, line, "blocks nested deeper than %d: the rest is not read",
                           DR_MAX_BLOCK_DEPTH);
                dr_nodes_free(d);
                l->pos = l->n;
                return;
            }
            dr_node **ctail = d ? &d->child : NULL;
            dr_node *scratch = NULL;
            if (!d) {
                ctail = &scratch;  // over the node cap: parse to stay in step, keep nothing
            }
            block(c, file, l, &ctail, depth + 1);
            dr_nodes_free(scratch);
            if (d) {
                d->block = true;
            }
        }
        if (!d) {
            continue;
        }
        if (!d->block && strcmp(d->name, "include") == 0 && d->nargs == 1 && !c->no_includes) {
            char *pattern = d->args[0];
            d->args[0] = NULL;
            d->nargs = 0;
            uint32_t dline = d->line;
            dr_nodes_free(d);
            dr_include(c, dr_nginx_text, pattern, false, file, dline, tail);
            free(pattern);
            continue;
        }
        **tail = d;
        *tail = &d->next;
    }
}

void dr_nginx_text(dr_conf *c, const char *name, const char *text, size_t len, dr_node ***tail) {
    dr_lex *l = malloc(sizeof *l);
    if (!l) {
        dr_problem(c, name, 0, "out of memory");
        return;
    }
    dr_lex_init(l, text, len);
    block(c, name, l, tail, 0);
    free(l);
}

// ---------------------------------------------------------------------------------------------
// Sites: every server { } of http { } that listens with ssl (or says `ssl on`).
// ---------------------------------------------------------------------------------------------

// inherited: the directive in the server block, else in http { } (nginx merges ssl_* down).
static const dr_node *inherited(const dr_node *server, dr_outer *http, const char *name) {
    const dr_node *d = dr_find(server->child, name, false);
    return d ? d : dr_outer_find(http, name);
}

static const dr_node *find_in(const dr_node *list, const char *name) {
    return dr_find(list, name, false);
}

// listen_addr splits a listen argument ("443", "127.0.0.1:443", "[::1]:443", "*:443").
static void listen_addr(const char *a, char *addr, size_t addrlen, uint16_t *port) {
    const char *colon = strrchr(a, ':');
    const char *p = a;
    addr[0] = '\0';
    if (colon && (a[0] != '[' || colon > strchr(a, ']'))) {
        dr_fmt(addr, addrlen, "%.*s", (int)(colon - a), a);
        p = colon + 1;
    } else if (strchr(a, '.') || a[0] == '[') {
        dr_fmt(addr, addrlen, "%s", a);  // an address alone: port 80
        p = "80";
    }
    if (strcmp(addr, "*") == 0) {
        addr[0] = '\0';
    }
    long v = strtol(p, NULL, 10);
    *port = v > 0 && v < 65536 ? (uint16_t)v : 443;
}

static void server_site(const dr_conf *c, const dr_node *srv, dr_outer *http, dr_sites *out) {
    const dr_node *tls_listen = NULL, *any_listen = NULL;
    for (const dr_node *d = srv->child; d; d = d->next) {
        if (d->block || strcmp(d->name, "listen") != 0) {
            continue;
        }
        any_listen = any_listen ? any_listen : d;
        for (uint32_t i = 1; i < d->nargs; i++) {
            if (strcmp(d->args[i], "ssl") == 0 && !tls_listen) {
                tls_listen = d;
            }
        }
    }
    const dr_node *ssl_on = inherited(srv, http, "ssl");
    if (!tls_listen && !(ssl_on && strcmp(dr_arg(ssl_on, 0), "on") == 0)) {
        return;
    }
    dr_site *s = dr_site_new(out, DOCTOR_NGINX, srv);
    if (!s) {
        return;
    }
    const dr_node *l = tls_listen ? tls_listen : any_listen;
    if (l) {
        listen_addr(dr_arg(l, 0), s->addr, sizeof s->addr, &s->port);
    } else {
        s->port = 443;
    }
    const dr_node *names = dr_find(srv->child, "server_name", false);
    for (uint32_t i = 0; names && i < names->nargs; i++) {
        const char *n = names->args[i];
        bool usable = n[0] && n[0] != '~' && n[0] != '*' && n[0] != '.' && strcmp(n, "_") != 0 &&
                      !strchr(n, '$');
        if (usable && !s->name[0]) {
            dr_fmt(s->name, sizeof s->name, "%s", n);
        } else {
            dr_site_alias(s, n);
        }
    }
    s->cert_d = dr_site_path(c, inherited(srv, http, "ssl_certificate"), s->cert, sizeof s->cert);
    s->key_d = dr_site_path(c, inherited(srv, http, "ssl_certificate_key"), s->key, sizeof s->key);
    // nginx 1.22 (Debian 12): TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 unless ssl_protocols says otherwise
    dr_site_versions(s, inherited(srv, http, "ssl_protocols"), "ssl_protocols TLSv1.2 TLSv1.3;");
    if ((s->ciphers_d = inherited(srv, http, "ssl_ciphers")) != NULL) {
        dr_fmt(s->ciphers, sizeof s->ciphers, "%s", dr_arg(s->ciphers_d, 0));
    }
    if ((s->curves_d = inherited(srv, http, "ssl_ecdh_curve")) != NULL &&
        strcmp(dr_arg(s->curves_d, 0), "auto") != 0) {
        dr_fmt(s->curves, sizeof s->curves, "%s", dr_arg(s->curves_d, 0));
    }
    if ((s->verify_d = inherited(srv, http, "ssl_verify_client")) != NULL) {
        s->verify_required = strcmp(dr_arg(s->verify_d, 0), "on") == 0;
    }
    if ((s->reject_d = inherited(srv, http, "ssl_reject_handshake")) != NULL) {
        s->rejects_sni = strcmp(dr_arg(s->reject_d, 0), "on") == 0;
    }
}

void dr_nginx_sites(const dr_conf *c, dr_sites *out) {
    for (const dr_node *http = c->root; http; http = http->next) {
        if (!http->block || strcmp(http->name, "http") != 0) {
            continue;
        }
        dr_outer outer = {.list = http->child, .find = find_in};
        for (const dr_node *srv = http->child; srv; srv = srv->next) {
            if (srv->block && strcmp(srv->name, "server") == 0) {
                server_site(c, srv, &outer, out);
            }
        }
    }
}
