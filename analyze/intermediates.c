// intermediates.c — the index of publicly trusted intermediate CAs (issue 16 item 4).
//
// When the last certificate a server sent is issued by a CA that is neither sent nor in the
// trust store, the index tells a missing *public* intermediate (cert_missing_intermediate: name
// it, say where it is published) from a CA the public PKI does not know (a private CA). It never
// completes a chain: CloudFront does not fetch intermediates, so neither does the verdict.
//
// The table is data/public-intermediates-2026-05.tsv (made by scripts/make-intermediates-index.py
// from the PEM snapshot next to it), embedded at build time. Most runs never see such a chain,
// so it is parsed only on the first lookup, once per process (pthread_once: worker threads may
// ask at the same time), into an array that lives until exit.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"

typedef struct entry {
    const char *ski, *name_hash, *issuer_hash, *subject, *issuer, *not_after, *aia;
} entry;

static entry *entries;
static size_t num_entries;
static char *text;  // the embedded table, copied and cut into fields
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

// next_field cuts *p at the next tab or newline and returns the field ("" at the line's end).
static const char *next_field(char **p) {
    char *s = *p, *e = s + strcspn(s, "\t\n");
    *p = *e == '\t' ? e + 1 : e;
    if (*e == '\t') {
        *e = '\0';
    }
    return s;
}

static void load(void) {
    size_t len = an_embedded_intermediates_len;
    text = malloc(len + 1);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += an_embedded_intermediates[i] == '\n';
    }
    entries = calloc(lines + 1, sizeof *entries);
    if (!text || !entries) {
        free(text), free(entries);
        text = NULL, entries = NULL;
        return;  // out of memory: every lookup finds nothing, as for an unknown issuer
    }
    memcpy(text, an_embedded_intermediates, len);
    text[len] = '\0';
    for (char *p = text; *p;) {
        char *eol = p + strcspn(p, "\n");
        bool last = *eol == '\0';
        *eol = '\0';
        if (*p != '#' && *p) {
            entry e;
            char *q = p;
            e.ski = next_field(&q);
            e.name_hash = next_field(&q);
            e.issuer_hash = next_field(&q);
            e.subject = next_field(&q);
            e.issuer = next_field(&q);
            e.not_after = next_field(&q);
            e.aia = next_field(&q);
            if (*e.aia && num_entries < lines + 1) {
                entries[num_entries++] = e;
            }
        }
        p = last ? eol : eol + 1;
    }
}

bool an_public_ca_find(const char *keyid, const char *name_hash, an_public_ca *out) {
    (void)pthread_once(&load_once, load);
    // With a key identifier only the key counts: a private CA may carry a public CA's name.
    bool by_key = keyid && keyid[0];
    const entry *hit = NULL;
    for (size_t i = 0; i < num_entries && !hit; i++) {
        const entry *e = &entries[i];
        if (by_key ? strcmp(e->ski, keyid) == 0
                   : name_hash && strcmp(e->name_hash, name_hash) == 0) {
            hit = e;
        }
    }
    if (!hit) {
        return false;
    }
    an_copy(out->subject, sizeof out->subject, hit->subject);
    an_copy(out->issuer, sizeof out->issuer, hit->issuer);
    an_copy(out->not_after, sizeof out->not_after, hit->not_after);
    an_copy(out->issuer_hash, sizeof out->issuer_hash, hit->issuer_hash);
    an_copy(out->issuer_url, sizeof out->issuer_url, strcmp(hit->aia, "-") ? hit->aia : "");
    return true;
}

size_t an_public_ca_count(void) {
    (void)pthread_once(&load_once, load);
    return num_entries;
}
