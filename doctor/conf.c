// conf.c — the directive tree the config readers share: bounded file reading, includes (globs,
// loops, depth), nodes, problems and lookups.
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "doctor_internal.h"

void dr_fmt(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

void dr_conf_init(dr_conf *c, const char *prefix) {
    memset(c, 0, sizeof *c);
    c->prefix = prefix;
}

void dr_nodes_free(dr_node *n) {
    while (n) {
        dr_node *next = n->next;
        dr_nodes_free(n->child);
        for (uint32_t i = 0; i < n->nargs; i++) {
            free(n->args[i]);
        }
        free(n->args);
        free(n->name);
        free(n);
        n = next;
    }
}

void dr_conf_free(dr_conf *c) {
    dr_nodes_free(c->root);
    c->root = NULL;
    for (uint32_t i = 0; i < c->num_files; i++) {
        free(c->files[i]);
    }
    c->num_files = 0;
    for (uint32_t i = 0; i < c->depth; i++) {
        free(c->stack[i]);
    }
    c->depth = 0;
}

void dr_problem(dr_conf *c, const char *file, uint32_t line, const char *fmt, ...) {
    if (c->num_problems >= DR_MAX_PROBLEMS) {
        c->problems_dropped++;
        return;
    }
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char *p = c->problems[c->num_problems++];
    if (line) {
        dr_fmt(p, sizeof c->problems[0], "%.1000s:%u: %s", file, line, what);
    } else {
        dr_fmt(p, sizeof c->problems[0], "%.1000s: %s", file, what);
    }
}

void dr_resolve(const dr_conf *c, const char *path, char *out, size_t outlen) {
    if (path[0] == '/' || !c->prefix || !c->prefix[0]) {
        dr_fmt(out, outlen, "%s", path);
    } else {
        dr_fmt(out, outlen, "%s/%s", c->prefix, path);
    }
}

static const char *keep_name(dr_conf *c, const char *path) {
    for (uint32_t i = 0; i < c->num_files; i++) {
        if (strcmp(c->files[i], path) == 0) {
            return c->files[i];
        }
    }
    if (c->num_files >= DR_MAX_FILES) {
        return NULL;
    }
    char *s = strdup(path);
    if (s) {
        c->files[c->num_files++] = s;
    }
    return s;
}

char *dr_read_file(dr_conf *c, const char *path, size_t *len, const char **out_name) {
    if (c->num_files >= DR_MAX_FILES) {
        dr_problem(c, path, 0, "not read: more than %d configuration files", DR_MAX_FILES);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        dr_problem(c, path, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        dr_problem(c, path, 0, "not a regular file");
        fclose(f);
        return NULL;
    }
    if (st.st_size > DR_MAX_FILE_BYTES) {
        dr_problem(c, path, 0, "not read: larger than %d bytes", DR_MAX_FILE_BYTES);
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    bool err = ferror(f) != 0;
    fclose(f);
    const char *name = buf && !err ? keep_name(c, path) : NULL;
    if (!name) {
        dr_problem(c, path, 0, "cannot read: %s", buf && err ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';  // a file that shrank while read is parsed as far as it goes
    *len = n;
    *out_name = name;
    return buf;
}

// vfile_read: a copy of a dump's file (as dr_read_file gives one from disk).
static char *vfile_read(dr_conf *c, const char *path, size_t *len, const char **out_name) {
    for (uint32_t i = 0; i < c->num_vfiles; i++) {
        const dr_vfile *v = &c->vfiles[i];
        if (strcmp(v->path, path) != 0) {
            continue;
        }
        char *copy = malloc(v->len + 1);
        const char *name = copy ? keep_name(c, path) : NULL;
        if (!name) {
            free(copy);
            dr_problem(c, path, 0, "not read: out of memory or more than %d files", DR_MAX_FILES);
            return NULL;
        }
        memcpy(copy, v->text, v->len);
        copy[v->len] = '\0';
        *len = v->len;
        *out_name = name;
        return copy;
    }
    dr_problem(c, path, 0, "not in the dump of the server's configuration");
    return NULL;
}

uint32_t dr_nginx_dump(char *text, size_t len, dr_vfile *vf, uint32_t max) {
    static const char mark[] = "# configuration file ";
    uint32_t n = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        size_t ll = end - pos - (nl != NULL);
        if (ll > sizeof mark && memcmp(text + pos, mark, sizeof mark - 1) == 0 &&
            text[pos + ll - 1] == ':') {
            if (n > 0) {
                vf[n - 1].len = pos - (size_t)(vf[n - 1].text - text);
            }
            if (n == max) {
                return n;
            }
            text[pos + ll - 1] = '\0';  // the path ends at the ':'
            vf[n].path = text + pos + sizeof mark - 1;
            vf[n].text = text + end;
            vf[n].len = len - end;
            n++;
        }
        pos = end;
    }
    return n;
}

// read_one: one included (or main) file, unless it is already being read (a loop).
static bool read_one(dr_conf *c, dr_text_fn *fn, const char *path, const char *from, uint32_t line,
                     dr_node ***tail) {
    if (c->depth >= DR_MAX_INCLUDE_DEPTH) {
        dr_problem(c, from, line, "includes nested deeper than %d: %s not read",
                   DR_MAX_INCLUDE_DEPTH, path);
        return false;
    }
    char *real = c->vfiles ? strdup(path) : realpath(path, NULL);
    for (uint32_t i = 0; real && i < c->depth; i++) {
        if (strcmp(c->stack[i], real) == 0) {
            dr_problem(c, from, line, "include loop: %s includes itself; not read again", path);
            free(real);
            return false;
        }
    }
    size_t len = 0;
    const char *name = NULL;
    char *text = c->vfiles ? vfile_read(c, path, &len, &name) : dr_read_file(c, path, &len, &name);
    if (!text) {
        free(real);
        return false;
    }
    c->stack[c->depth++] = real;  // NULL when realpath failed: no loop can be seen through it
    fn(c, name, text, len, tail);
    free(c->stack[--c->depth]);
    free(text);
    return true;
}

void dr_include(dr_conf *c, dr_text_fn *fn, const char *pattern, bool optional, const char *from,
                uint32_t line, dr_node ***tail) {
    char path[DR_PATH];
    dr_resolve(c, pattern, path, sizeof path);
    struct stat st;
    if (!strpbrk(path, "*?[") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        // Apache: a directory includes every file in it, in alphabetical order
        size_t n = strlen(path);
        dr_fmt(path + n, sizeof path - n, "/*");
    }
    if (c->vfiles) {  // a dump holds the files the server read, in its glob order
        bool any = false;
        for (uint32_t i = 0; i < c->num_vfiles; i++) {
            if (fnmatch(path, c->vfiles[i].path, FNM_PATHNAME) == 0) {
                any = true;
                (void)read_one(c, fn, c->vfiles[i].path, from, line, tail);
            }
        }
        if (!any && !optional && !strpbrk(path, "*?[")) {
            dr_problem(c, from, line, "included file %s is not in the dump", path);
        }
        return;
    }
    glob_t g;
    int rc = glob(path, 0, NULL, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
        if (!optional && !strpbrk(path, "*?[")) {
            dr_problem(c, from, line, "included file %s: %s", path, strerror(ENOENT));
        }
    } else if (rc != 0) {
        dr_problem(c, from, line, "include %s: cannot list the files", path);
    } else {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
                continue;
            }
            (void)read_one(c, fn, g.gl_pathv[i], from, line, tail);
        }
    }
    globfree(&g);
}

bool dr_read_main(dr_conf *c, dr_text_fn *fn, const char *path) {
    dr_node **tail = &c->root;
    while (*tail) {
        tail = &(*tail)->next;
    }
    return read_one(c, fn, path, path, 0, &tail);
}

dr_node *dr_node_new(dr_conf *c, const char *name, size_t n, const char *file, uint32_t line) {
    if (c->num_nodes >= DR_MAX_NODES) {
        if (c->num_nodes++ == DR_MAX_NODES) {
            dr_problem(c, file, line, "more than %d directives: the rest is not read",
                       DR_MAX_NODES);
        }
        return NULL;
    }
    dr_node *d = calloc(1, sizeof *d);
    if (!d || !(d->name = strndup(name, n))) {
        free(d);
        return NULL;
    }
    c->num_nodes++;
    d->file = file;
    d->line = line;
    return d;
}

bool dr_node_arg(dr_conf *c, dr_node *d, const char *s, size_t n) {
    if (d->nargs >= DR_MAX_ARGS) {
        if (!d->args_dropped) {
            dr_problem(c, d->file, d->line, "more than %d arguments: the rest is ignored",
                       DR_MAX_ARGS);
        }
        d->args_dropped = true;
        return false;
    }
    if (d->nargs % 8 == 0) {
        char **na = realloc(d->args, sizeof *na * (d->nargs + 8));
        if (!na) {
            return false;
        }
        d->args = na;
    }
    char *a = strndup(s, n);
    if (!a) {
        return false;
    }
    d->args[d->nargs++] = a;
    return true;
}

const dr_node *dr_find(const dr_node *list, const char *name, bool nocase) {
    const dr_node *found = NULL;  // the last one wins, as in the servers
    for (const dr_node *d = list; d; d = d->next) {
        if (!d->block && (nocase ? strcasecmp(d->name, name) : strcmp(d->name, name)) == 0) {
            found = d;
        }
    }
    return found;
}

const char *dr_arg(const dr_node *d, uint32_t i) {
    return d && i < d->nargs ? d->args[i] : "";
}

const dr_node *dr_outer_find(dr_outer *o, const char *name) {
    for (uint32_t i = 0; i < o->n; i++) {
        if (strcmp(o->name[i], name) == 0) {
            return o->found[i];
        }
    }
    const dr_node *d = o->find(o->list, name);
    if (o->n < DR_OUTER_NAMES) {
        o->name[o->n] = name;
        o->found[o->n++] = d;
    }
    return d;
}
