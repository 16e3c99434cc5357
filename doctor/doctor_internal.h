// doctor_internal.h — inside doctor/: the directive tree the three config readers build, the
// readers (nginx.c, apache.c, haproxy.c), the TLS sites they find, and the judge (judge.c).
//
// Nothing here is public API (cli/ uses doctor.h). Unit tests and the fuzz target include it to
// reach the tokenizers one at a time.
#ifndef TLSDIAG_DOCTOR_INTERNAL_H
#define TLSDIAG_DOCTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doctor.h"

// dr_fmt: snprintf whose truncation is accepted — a sentence or a path cut at its field's size
// (fields are sized for real configurations; a longer hostile value is cut, never overrun).
void dr_fmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Bounds: a configuration file is hostile input (huge, malformed, an include loop).
enum {
    DR_MAX_FILE_BYTES = 8 << 20,  // one file read; a larger one is refused with a problem
    DR_MAX_FILES = 512,           // files read per server (includes and globs together)
    DR_MAX_INCLUDE_DEPTH = 16,    // nested includes (loops stop at the first repeat anyway)
    DR_MAX_BLOCK_DEPTH = 32,      // nested blocks / sections
    DR_MAX_ARGS = 64,             // arguments kept per directive (more: a problem, rest dropped)
    DR_MAX_TOKEN = 4096,          // bytes of one word
    DR_MAX_NODES = 200000,        // directives per server
    DR_MAX_PROBLEMS = 32,         // problems kept (unreadable files, syntax); more are counted
    DR_PATH = 1024,
};

// One directive: name, arguments, where it was written, and (for a block) its children.
// nginx `server { … }`, Apache `<VirtualHost …>`, an HAProxy section are blocks. Includes are
// expanded where they stand: an included file's directives replace the include directive.
typedef struct dr_node {
    char *name;
    char **args;
    uint32_t nargs;
    const char *file;  // owned by the dr_conf (files[])
    uint32_t line;     // 1-based line of the directive's first word
    bool block;
    bool args_dropped;  // more than DR_MAX_ARGS arguments were written
    struct dr_node *child, *next;
} dr_node;

// A file held in memory: what `nginx -T` printed for it (dr_conf.vfiles).
typedef struct dr_vfile {
    const char *path;
    const char *text;
    size_t len;
} dr_vfile;

typedef struct dr_conf {
    dr_node *root;  // the top-level directives, a list
    char *files[DR_MAX_FILES];
    uint32_t num_files;        // files read (the paths nodes point at)
    const char *prefix;        // directory relative paths are resolved against
    char prefix_buf[DR_PATH];  // Apache: the ServerRoot the configuration sets
    uint32_t num_nodes;
    bool no_includes;  // the fuzz target: include directives are kept, not followed
    // files from a dump (nginx -T): includes and the main file are looked up here (patterns
    // matched with fnmatch) instead of on disk; NULL: the disk
    const dr_vfile *vfiles;
    uint32_t num_vfiles;
    // what could not be read or parsed, "file:line: what" (unreadable files first-hand)
    uint32_t num_problems, problems_dropped;
    char problems[DR_MAX_PROBLEMS][DR_PATH + 256];
    // the include chain being read, for loop detection (real paths)
    uint32_t depth;
    char *stack[DR_MAX_INCLUDE_DEPTH + 1];
} dr_conf;

void dr_conf_init(dr_conf *c, const char *prefix);
void dr_conf_free(dr_conf *c);  // frees the tree and the strings; c may be reused after init
void dr_problem(dr_conf *c, const char *file, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

// dr_read_file reads a whole file (≤ DR_MAX_FILE_BYTES) into a NUL-terminated buffer; on
// failure records a problem naming the file and why, and returns NULL. *out_name: the path
// as kept by c (for nodes' file), owned by c.
char *dr_read_file(dr_conf *c, const char *path, size_t *len, const char **out_name);

// dr_resolve writes path resolved against c->prefix (unchanged when absolute).
void dr_resolve(const dr_conf *c, const char *path, char *out, size_t outlen);

// dr_node_new: a directive with name name[0..n), at file:line; NULL (and a problem) past
// DR_MAX_NODES or out of memory.
dr_node *dr_node_new(dr_conf *c, const char *name, size_t n, const char *file, uint32_t line);
bool dr_node_arg(dr_conf *c, dr_node *d, const char *s, size_t n);  // false: dropped
void dr_nodes_free(dr_node *n);

// A reader parses one file's text into nodes appended at *tail (the `next` slot of the last
// node, or the list head), moving *tail along; it follows includes through
// c (unless c->no_includes). The *_text functions are what the unit tests and fuzzer call;
// dr_*_file reads a file (and records a problem when it cannot).
typedef void dr_text_fn(dr_conf *c, const char *name, const char *text, size_t len,
                        dr_node ***tail);
dr_text_fn dr_nginx_text, dr_apache_text, dr_haproxy_text;
// dr_include expands one include pattern (glob, relative to c->prefix) with reader fn: each
// file read appends its nodes at *tail. optional: no problem when nothing matches.
void dr_include(dr_conf *c, dr_text_fn *fn, const char *pattern, bool optional, const char *from,
                uint32_t line, dr_node ***tail);
bool dr_read_main(dr_conf *c, dr_text_fn *fn, const char *path);  // false: unreadable

// dr_nginx_dump splits `nginx -T` output into its files ("# configuration file PATH:" lines
// start each; each path is cut at its ':' in text); vf (capacity max) points into text.
// Returns the number of files.
uint32_t dr_nginx_dump(char *text, size_t len, dr_vfile *vf, uint32_t max);

// Lookups in a list of directives (names compared without case for Apache, with for nginx).
const dr_node *dr_find(const dr_node *list, const char *name, bool nocase);
const char *dr_arg(const dr_node *d, uint32_t i);  // "" past the end

// dr_outer: the directives of an enclosing context (nginx's http { }, Apache's main server)
// looked up once per name however many sites inherit from it: 20000 server blocks must not
// cost 20000 walks of http { } each.
enum { DR_OUTER_NAMES = 16 };
typedef struct dr_outer {
    const dr_node *list;
    const dr_node *(*find)(const dr_node *list, const char *name);  // the reader's lookup
    uint32_t n;
    const char *name[DR_OUTER_NAMES];
    const dr_node *found[DR_OUTER_NAMES];
} dr_outer;
const dr_node *dr_outer_find(dr_outer *o, const char *name);

// ---------------------------------------------------------------------------------------------
// TLS sites: what the judge needs from one server block / virtual host / bind, with the
// directive behind every value (NULL: the server's default applies).
// ---------------------------------------------------------------------------------------------
typedef struct dr_site {
    doctor_server server;
    const char *file;  // where the block starts
    uint32_t line;
    char name[256];     // the name clients send as SNI ("" none known)
    char aliases[512];  // other names, space-separated (shown only)
    char addr[64];      // listen address ("" any)
    uint16_t port;
    char cert[DR_PATH], key[DR_PATH], chain[DR_PATH];  // resolved paths ("" none)
    const dr_node *cert_d, *key_d, *chain_d;
    bool cert_is_dir;           // HAProxy crt DIR: every file in it
    uint32_t versions;          // bits of DOCTOR_V_* the server enables
    const dr_node *versions_d;  // the directive that set them (NULL: default)
    char ciphers[1024];         // OpenSSL cipher string for TLS ≤ 1.2 ("" default)
    const dr_node *ciphers_d;
    char curves[256];  // ':'-separated groups ("" default)
    const dr_node *curves_d;
    bool verify_required;
    const dr_node *verify_d;
    bool rejects_sni;  // ssl_reject_handshake on / strict-sni
    const dr_node *reject_d;
    const char *change_versions;  // how to write the directive for the change text
} dr_site;

enum {
    DOCTOR_V_TLS1 = 1 << 0,
    DOCTOR_V_TLS1_1 = 1 << 1,
    DOCTOR_V_TLS1_2 = 1 << 2,
    DOCTOR_V_TLS1_3 = 1 << 3,
    DOCTOR_V_SSL3 = 1 << 4,
    DR_MAX_SITES = 256,
};

typedef struct dr_sites {
    uint32_t n, dropped;
    dr_site v[DR_MAX_SITES];
} dr_sites;

// dr_versions_parse: the protocol versions a list of words enables, from args first.. of d:
// nginx "TLSv1.2 TLSv1.3"; Apache "all -SSLv3 +TLSv1.2" (a word without +/- starts over).
uint32_t dr_versions_parse(const dr_node *d, uint32_t first);
// dr_versions_text writes the versions of a bit set ("TLSv1.2 TLSv1.3", "none").
void dr_versions_text(uint32_t v, char *out, size_t outlen);

// Shared by the site finders: dr_site_path resolves d's first argument into out and returns
// d (NULL: nothing written); dr_site_alias appends a name to s->aliases (one that does not fit
// is left out); dr_site_versions sets s->versions from d (NULL: all of TLS 1.0-1.3, the
// servers' defaults in Debian 12) and how the change is written.
// dr_site_new: the next site of out, zeroed, for server, starting at `at` (where its block or
// bind is); NULL (counted in out->dropped) past DR_MAX_SITES.
dr_site *dr_site_new(dr_sites *out, doctor_server server, const dr_node *at);
const dr_node *dr_site_path(const dr_conf *c, const dr_node *d, char *out, size_t outlen);
void dr_site_alias(dr_site *s, const char *name);
void dr_site_versions(dr_site *s, const dr_node *d, const char *change);

// The site finders: the TLS sites of a parsed configuration.
void dr_nginx_sites(const dr_conf *c, dr_sites *out);
void dr_apache_sites(const dr_conf *c, dr_sites *out);
void dr_haproxy_sites(dr_conf *c, dr_sites *out);

// dr_judge: one verdict for a site (judge.c).
void dr_judge(analyzer *a, const dr_site *s, doctor_verdict *out);

#endif
