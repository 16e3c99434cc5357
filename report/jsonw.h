// jsonw.h — a streaming JSON writer: compact JSON straight onto a stdio stream, no allocation.
//
// json.c renders each JSON Lines object through this writer instead of building a jansson tree.
// The bytes are those jansson 2.14 prints with JSON_COMPACT (no spaces, keys in call order,
// integers as "%lld", '"' '\\' \b \f \n \r \t escaped, other C0 bytes as \u00XX with upper-case
// hex, '/' and DEL and UTF-8 passed through), for strings that report/ has first passed through
// report_escape(REPORT_ESC_JSON): a byte that does not start a well-formed UTF-8 sequence
// (RFC 3629 §4) is printed as the four characters "\xNN" (lower-case hex), i.e. "\\xNN" in JSON.
//
// The writer's place is one state byte (what may come next, and whether a comma goes before
// it) and a fixed stack of JSONW_MAX_DEPTH container kinds. Errors are sticky, like ferror():
// after the first failed write (or nesting deeper than the stack, or a key outside an object)
// nothing more of the line reaches the stream, and jsonw_end_line() reports the failure.
//
// Ownership: a jsonw lives on the caller's stack (about 4 KB); the FILE* is borrowed. Between
// jsonw_begin_line and jsonw_end_line the stream is locked (flockfile), and bytes are staged in
// the jsonw and handed to stdio in blocks; jsonw_end_line hands over the rest of the line.
#ifndef TLSDIAG_JSONW_H
#define TLSDIAG_JSONW_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

// JSONW_BUF: bytes staged before they go to the stream in one fwrite (a line is ~2.3 KB, so
// most lines take one call); a longer line goes out in several.
enum { JSONW_MAX_DEPTH = 16, JSONW_BUF = 4096 };

// jsonw_state: where the writer is. The two states where a key may come are 0 and 1, and the
// number is the commas a key needs there: a key is one compare and one add (as two bitmask
// tests on the container stack, keys were 2,200 instructions of a verdict's line).
typedef enum jsonw_state {
    JSONW_OBJ_EMPTY = 0,    // in an object, no member yet: a key may come
    JSONW_OBJ_MEMBERS = 1,  // in an object after a member: a key, after a comma
    JSONW_AFTER_KEY,        // after "key": the value must come
    JSONW_ARR_EMPTY,        // in an array, no element yet
    JSONW_ARR_ITEMS,        // in an array after an element: a value, after a comma
    JSONW_TOP,              // outside every container: a value (the line's object)
} jsonw_state;

typedef struct jsonw {
    FILE *out;           // borrowed
    bool failed;         // a write failed or the writer was misused; sticky
    uint8_t state;       // a jsonw_state
    uint32_t depth;      // open containers
    uint32_t is_object;  // bit d: the container at depth d is an object
    size_t len;          // bytes staged in buf
    uint32_t flushes;    // times buf was handed to the stream (a jsonw_mark is valid until then)
    char buf[JSONW_BUF];
} jsonw;

// jsonw_mark: a place in the staged bytes. Taken right after a key and right after its value,
// two marks span the value's finished bytes, which jsonw_repeat can write again without
// escaping them a second time (the evidence's "value" is its "text", its "key" its "kind").
typedef struct jsonw_mark {
    size_t at;
    uint32_t flushes;
} jsonw_mark;
static inline jsonw_mark jsonw_mark_here(const jsonw *w) {
    return (jsonw_mark){w->len, w->flushes};
}
// jsonw_repeat writes the bytes between from and to again as the next value, and returns true;
// false (nothing written) when they are no longer staged or do not fit: then the caller writes
// the value itself.
// Inline: it was ~50 instructions a call, two a piece of evidence.
static inline bool jsonw_repeat(jsonw *w, jsonw_mark from, jsonw_mark to);
// jsonw_value_bytes writes n finished bytes (a whole JSON value, e.g. one kept from an earlier
// line) as the next value, with its comma: no check of what they hold.
void jsonw_value_bytes(jsonw *w, const char *s, size_t n);

// jsonw_members_bytes writes n finished bytes holding whole members ("k":v,"k2":v2, no
// leading comma) into the open object, with the comma before them when it holds some already.
void jsonw_members_bytes(jsonw *w, const char *s, size_t n);

// jsonw_begin_line starts one JSON Lines object on out: locks the stream and opens "{".
void jsonw_begin_line(jsonw *w, FILE *out);
// jsonw_end_line closes the top-level object, writes '\n' and unlocks the stream. Returns false
// when any write of the line failed or the containers were not balanced.
bool jsonw_end_line(jsonw *w) __attribute__((warn_unused_result));

void jsonw_object_begin(jsonw *w);
void jsonw_object_end(jsonw *w);
void jsonw_array_begin(jsonw *w);
void jsonw_array_end(jsonw *w);

// jsonw_key writes "key": inside an object (the key is escaped like a string).
void jsonw_key(jsonw *w, const char *key);

// jsonw_key_quoted writes a key given as its finished bytes — quotes, escapes and colon
// ("\"name\":", n bytes) — with no scan of them: the path for keys known when compiling.
// Inline, so that with a constant n the copy is a few moves (keys were 11 % of `analyze
// --json` when each was escaped byte by byte at run time).
static inline void jsonw_key_quoted(jsonw *w, const char *quoted, size_t n);
// JSONW_KEY(w, "name") is jsonw_key(w, "name") for a string literal that needs no escaping
// (letters, digits, '_'), its quoted form built by the compiler: every key of report/json.c.
#define JSONW_KEY(w, lit) jsonw_key_quoted((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)

// jsonw_bytes writes n bytes as a JSON string (NUL bytes included: \u0000), escaped as above.
void jsonw_bytes(jsonw *w, const void *p, size_t n);
// jsonw_field writes the string held in the fixed array s[0..cap): up to its first NUL, or all
// cap bytes when there is none — jsonw_bytes(w, s, strnlen(s, cap)) in one pass. All cap bytes
// must be readable.
void jsonw_field(jsonw *w, const char *s, size_t cap);
// jsonw_string writes a NUL-terminated string; NULL is written as null.
void jsonw_string(jsonw *w, const char *s);
void jsonw_int(jsonw *w, long long v);
void jsonw_bool(jsonw *w, bool b);
void jsonw_null(jsonw *w);

// jsonw_is_plain: every byte of s[0..n) is printed as itself inside a JSON string (0x20..0x7f
// but '"' and '\\'): what jsonw_plain may be given.
bool jsonw_is_plain(const char *s, size_t n);
// jsonw_plain writes s[0..n) as a string without looking at its bytes: for strings our own code
// makes from a fixed alphabet (names from our tables, times, base64, addresses as text), never
// for bytes from the wire or a file. Inline: a name cost ~100 instructions through the escaping
// path, ~20 here. Debug builds assert jsonw_is_plain; test_jsonw runs every name table and
// formatter that report/ hands to it through jsonw_is_plain.
static inline void jsonw_plain(jsonw *w, const char *s, size_t n);
// JSONW_LIT(w, "text"): jsonw_plain of a string literal, its length known when compiling.
#define JSONW_LIT(w, lit) jsonw_plain((w), "" lit, sizeof(lit) - 1)

// jsonw__put: the out-of-line copy (a line longer than the staging buffer); not for callers.
void jsonw__put(jsonw *w, const char *s, size_t n);
// jsonw__value_prefix_slow: the comma or misuse check before a value not after a key.
void jsonw__value_prefix_slow(jsonw *w);

static inline void jsonw_key_quoted(jsonw *w, const char *quoted, size_t n) {
    size_t comma = w->state;
    if (comma > JSONW_OBJ_MEMBERS) {
        w->failed = true;  // the checks of jsonw_key: not in an object, or a value is due
        return;
    }
    w->state = JSONW_AFTER_KEY;
    if (JSONW_BUF - w->len < n + 1) {
        jsonw__put(w, ",", comma);
        jsonw__put(w, quoted, n);
        return;
    }
    w->buf[w->len] = ',';
    w->len += comma;
    memcpy(w->buf + w->len, quoted, n);
    w->len += n;
}

static inline bool jsonw_repeat(jsonw *w, jsonw_mark from, jsonw_mark to) {
    size_t n = to.at - from.at;
    if (from.flushes != w->flushes || to.flushes != w->flushes || to.at < from.at ||
        JSONW_BUF - w->len < n + 1) {
        return false;
    }
    if (w->state == JSONW_AFTER_KEY) {
        w->state = JSONW_OBJ_MEMBERS;
    } else {
        jsonw__value_prefix_slow(w);
    }
    memcpy(w->buf + w->len, w->buf + from.at, n);  // from.at + n <= to.at <= w->len: no overlap
    w->len += n;
    return true;
}

static inline void jsonw_plain(jsonw *w, const char *s, size_t n) {
    assert(jsonw_is_plain(s, n));
    if (w->state == JSONW_AFTER_KEY) {
        w->state = JSONW_OBJ_MEMBERS;
    } else {
        jsonw__value_prefix_slow(w);
    }
    if (JSONW_BUF - w->len < 2 || n > JSONW_BUF - w->len - 2) {
        jsonw__put(w, "\"", 1);
        jsonw__put(w, s, n);
        jsonw__put(w, "\"", 1);
        return;
    }
    char *d = w->buf + w->len;
    d[0] = '"';
    memcpy(d + 1, s, n);
    d[n + 1] = '"';
    w->len += n + 2;
}

#endif
