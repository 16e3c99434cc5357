// jsonw.h — a streaming JSON writer: compact JSON straight onto a stdio stream, no allocation.
//
// json.c renders each JSON Lines object through this writer instead of building a jansson tree.
// The bytes are those jansson 2.14 prints with JSON_COMPACT (no spaces, keys in call order,
// integers as "%lld", '"' '\\' \b \f \n \r \t escaped, other C0 bytes as \u00XX with upper-case
// hex, '/' and DEL and UTF-8 passed through), for strings that report/ has first passed through
// report_escape(REPORT_ESC_JSON): a byte that does not start a well-formed UTF-8 sequence
// (RFC 3629 §4) is printed as the four characters "\xNN" (lower-case hex), i.e. "\\xNN" in JSON.
//
// Commas are kept on a fixed stack of JSONW_MAX_DEPTH levels. Errors are sticky, like ferror():
// after the first failed write (or nesting deeper than the stack, or a key outside an object)
// nothing more of the line reaches the stream, and jsonw_end_line() reports the failure.
//
// Ownership: a jsonw lives on the caller's stack (about 4 KB); the FILE* is borrowed. Between
// jsonw_begin_line and jsonw_end_line the stream is locked (flockfile), and bytes are staged in
// the jsonw and handed to stdio in blocks; jsonw_end_line hands over the rest of the line.
#ifndef TLSDIAG_JSONW_H
#define TLSDIAG_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// JSONW_BUF: bytes staged before they go to the stream in one fwrite (a line is ~2.3 KB, so
// most lines take one call); a longer line goes out in several.
enum { JSONW_MAX_DEPTH = 16, JSONW_BUF = 4096 };

typedef struct jsonw {
    FILE *out;           // borrowed
    bool failed;         // a write failed or the writer was misused; sticky
    bool after_key;      // the next value completes a "key": pair
    uint32_t depth;      // open containers
    uint32_t nonempty;   // bit d: the container at depth d already holds a member
    uint32_t is_object;  // bit d: the container at depth d is an object
    size_t len;          // bytes staged in buf
    char buf[JSONW_BUF];
} jsonw;

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

// jsonw_bytes writes n bytes as a JSON string (NUL bytes included: \u0000), escaped as above.
void jsonw_bytes(jsonw *w, const void *p, size_t n);
// jsonw_string writes a NUL-terminated string; NULL is written as null.
void jsonw_string(jsonw *w, const char *s);
void jsonw_int(jsonw *w, long long v);
void jsonw_bool(jsonw *w, bool b);
void jsonw_null(jsonw *w);

#endif
