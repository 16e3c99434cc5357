// lex.h — the cursor the three config tokenizers read a file's text with: bounded words,
// line numbers, quotes and backslash escapes (each server's rules are in its reader).
#ifndef TLSDIAG_DOCTOR_LEX_H
#define TLSDIAG_DOCTOR_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doctor_internal.h"

typedef struct dr_lex {
    const char *s;
    size_t n, pos;
    uint32_t line;   // line of the byte at pos (1-based)
    uint32_t tline;  // line where the last token started
    char word[DR_MAX_TOKEN];
    size_t wlen;
    bool too_long;  // the last word was longer than DR_MAX_TOKEN (kept cut)
} dr_lex;

static inline void dr_lex_init(dr_lex *l, const char *s, size_t n) {
    l->s = s;
    l->n = n;
    l->pos = 0;
    l->line = 1;
    l->tline = 1;
    l->wlen = 0;
    l->too_long = false;
}

static inline int dr_lex_peek(const dr_lex *l) {
    return l->pos < l->n ? (unsigned char)l->s[l->pos] : -1;
}

static inline int dr_lex_next(dr_lex *l) {
    if (l->pos >= l->n) {
        return -1;
    }
    int ch = (unsigned char)l->s[l->pos++];
    if (ch == '\n') {
        l->line++;
    }
    return ch;
}

static inline void dr_lex_put(dr_lex *l, int ch) {
    if (l->wlen + 1 < sizeof l->word) {
        l->word[l->wlen++] = (char)ch;
    } else {
        l->too_long = true;
    }
}

// dr_lex_quoted reads a quoted string after its opening quote q into word; a backslash
// escapes the next byte. false: the file ended first.
static inline bool dr_lex_quoted(dr_lex *l, int q) {
    for (;;) {
        int ch = dr_lex_next(l);
        if (ch < 0) {
            return false;
        }
        if (ch == q) {
            return true;
        }
        if (ch == '\\' && (dr_lex_peek(l) == q || dr_lex_peek(l) == '\\')) {
            ch = dr_lex_next(l);
        }
        dr_lex_put(l, ch);
    }
}

#endif
