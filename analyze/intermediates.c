// intermediates.c — the index of publicly trusted intermediate CAs (issue 16 item 4).
//
// When the last certificate a server sent is issued by a CA that is neither sent nor in the
// trust store, the index tells a missing *public* intermediate (cert_missing_intermediate: name
// it, say where it is published) from a CA the public PKI does not know (a private CA). It never
// completes a chain: CloudFront does not fetch intermediates, so neither does the verdict.
//
// The table is data/public-intermediates-2026-05.tsv (made by scripts/make-intermediates-index.py
// from the PEM snapshot next to it), embedded at build time. Most runs never see such a chain,
// so it is indexed only on the first lookup, once per process (pthread_once: worker threads may
// ask at the same time): an array of field positions in the embedded bytes, kept until exit.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"

enum { F_SKI, F_NAME_HASH, F_ISSUER_HASH, F_SUBJECT, F_ISSUER, F_NOT_AFTER, F_AIA, F__COUNT };

// One row: where each field lies in the embedded table (no copy of the table is made).
typedef struct entry {
    uint32_t off[F__COUNT];
    uint32_t len[F__COUNT];
} entry;

static entry *entries;  // lives until exit
static size_t num_entries;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    const char *t = (const char *)an_embedded_intermediates;
    size_t len = an_embedded_intermediates_len, lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += t[i] == '\n';
    }
    entries = calloc(lines + 1, sizeof *entries);
    if (!entries) {
        return;  // out of memory: every lookup finds nothing, as for an unknown issuer
    }
    for (size_t p = 0; p < len;) {
        size_t eol = p;
        while (eol < len && t[eol] != '\n') {
            eol++;
        }
        entry e;
        int f = 0;
        for (size_t q = p; t[p] != '#' && f < F__COUNT && q <= eol; f++) {
            size_t end = q;
            while (end < eol && t[end] != '\t') {
                end++;
            }
            e.off[f] = (uint32_t)q;
            e.len[f] = (uint32_t)(end - q);
            q = end + 1;
        }
        if (f == F__COUNT && num_entries <= lines) {
            entries[num_entries++] = e;
        }
        p = eol + 1;
    }
}

static bool field_is(const entry *e, int f, const char *s) {
    return s && strlen(s) == e->len[f] &&
           memcmp(an_embedded_intermediates + e->off[f], s, e->len[f]) == 0;
}

static void field_copy(const entry *e, int f, char *out, size_t outlen) {
    size_t n = e->len[f] < outlen - 1 ? e->len[f] : outlen - 1;
    memcpy(out, an_embedded_intermediates + e->off[f], n);
    out[n] = '\0';
}

bool an_public_ca_find(const char *keyid, const char *name_hash, an_public_ca *out) {
    (void)pthread_once(&load_once, load);
    // With a key identifier only the key counts: a private CA may carry a public CA's name.
    bool by_key = keyid && keyid[0];
    const entry *hit = NULL;
    for (size_t i = 0; i < num_entries && !hit; i++) {
        if (by_key ? field_is(&entries[i], F_SKI, keyid)
                   : field_is(&entries[i], F_NAME_HASH, name_hash)) {
            hit = &entries[i];
        }
    }
    if (!hit) {
        return false;
    }
    field_copy(hit, F_SUBJECT, out->subject, sizeof out->subject);
    field_copy(hit, F_ISSUER, out->issuer, sizeof out->issuer);
    field_copy(hit, F_NOT_AFTER, out->not_after, sizeof out->not_after);
    field_copy(hit, F_ISSUER_HASH, out->issuer_hash, sizeof out->issuer_hash);
    field_copy(hit, F_AIA, out->issuer_url, sizeof out->issuer_url);
    if (strcmp(out->issuer_url, "-") == 0) {
        out->issuer_url[0] = '\0';
    }
    return true;
}

size_t an_public_ca_count(void) {
    (void)pthread_once(&load_once, load);
    return num_entries;
}
