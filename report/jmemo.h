// jmemo.h — finished JSON bytes of parts of a handshake line, kept per thread by their inputs.
//
// A capture of CloudFront and one origin repeats a few client configurations, outcomes and
// chains: most lines share their `tls` object, diagnosis and closing members with an earlier
// line. json.c writes each such part's inputs into a key (every input the part's rendering
// reads, strings with their lengths), and copies the bytes kept for an equal key instead of
// rendering them. The key is compared whole (its hash only picks the slot), so a kept part is
// only ever used for the exact inputs it was rendered from.
//
// Ownership: the slots are per thread (`__thread`, so the `--threads` workers share nothing) and
// fixed in size: a key or a part that does not fit is rendered each time, never kept.
#ifndef TLSDIAG_JMEMO_H
#define TLSDIAG_JMEMO_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jsonw.h"

typedef enum jmemo_part {
    JMEMO_HEAD,      // "tls" … "summary" of a handshake line (json.c)
    JMEMO_TAIL,      // "fix" … "capture_note" of a handshake line (json.c)
    JMEMO_ECS_TLS,   // the "tls" object of a handshake event (ecs.c)
    JMEMO_ECS_TAIL,  // "fix" … "capture_note" of an event's "tlsdiag" (ecs.c)
    JMEMO__PARTS
} jmemo_part;

enum { JMEMO_KEY_MAX = 1536 };

// jmemo_key: the inputs of one part as bytes. over: something did not fit (the part is then
// rendered and not kept). hash: of the fixed-size members, and of each string's length and its
// first and last eight bytes (hashing every byte cost more than the copy it saved); it only picks
// the slot, the whole key is compared.
typedef struct jmemo_key {
    uint32_t len;
    bool over;
    uint64_t hash;
    unsigned char b[JMEMO_KEY_MAX];
} jmemo_key;

static inline void jmemo_key_init(jmemo_key *k) {
    k->len = 0;
    k->over = false;
    k->hash = 0x9e3779b97f4a7c15u;
}

static inline void jmemo__mix(jmemo_key *k, uint64_t x) {
    k->hash = (k->hash ^ x) * 0xff51afd7ed558ccdu;
    k->hash ^= k->hash >> 32;
}

// jmemo_key_raw appends n bytes of fixed meaning (a fixed-size value: the reader knows where it
// ends).
static inline void jmemo_key_raw(jmemo_key *k, const void *p, size_t n) {
    if (n > JMEMO_KEY_MAX - k->len) {
        k->over = true;
        return;
    }
    memcpy(k->b + k->len, p, n);
    k->len += (uint32_t)n;
}

static inline void jmemo_key_u32(jmemo_key *k, uint32_t v) {
    jmemo__mix(k, v);
    jmemo_key_raw(k, &v, sizeof v);
}

// jmemo_key_u32s appends n 32-bit values (fixed-size members), each hashed.
static inline void jmemo_key_u32s(jmemo_key *k, const uint32_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        jmemo__mix(k, v[i]);
    }
    jmemo_key_raw(k, v, n * sizeof *v);
}

// jmemo__copy copies the n bytes of s to d given first and last, s's first and last eight
// (first masked to n bytes when n < 8): up to 64 bytes as overlapping moves that read only s[0..n)
// (a short string was ~25 instructions through memcpy). Writes up to 8 bytes past d[n).
static inline void jmemo__copy(unsigned char *d, const char *s, size_t n, uint64_t first,
                               uint64_t last) {
    if (n <= 16) {
        memcpy(d, &first, 8);  // n < 8: its n bytes, then zeros
        if (n > 8) {
            memcpy(d + n - 8, &last, 8);
        }
    } else if (n <= 64) {
        memcpy(d, s, 16);  // 17..32: [0, 16) and [n - 16, n)
        memcpy(d + n - 16, s + n - 16, 16);
        if (n > 32) {  // 33..64: and [16, 32), [n - 32, n - 16)
            memcpy(d + 16, s + 16, 16);
            memcpy(d + n - 32, s + n - 32, 16);
        }
    } else {
        memcpy(d, s, n);
    }
}

// jmemo_key_field appends the string held in the fixed array s[0..cap) as jsonw_field reads
// it (up to its first NUL, or all cap bytes), its length first. cap is at least 8.
static inline void jmemo_key_field(jmemo_key *k, const char *s, size_t cap) {
    assert(cap >= 8);
    uint32_t n = (uint32_t)strnlen(s, cap);
    uint64_t first, last = 0;
    memcpy(&first, s, 8);  // within the array; the bytes past its string are masked off
    if (n < 8) {
        first &= n == 0 ? 0 : ~UINT64_C(0) >> (64 - 8 * n);
    } else {
        memcpy(&last, s + n - 8, 8);
    }
    jmemo__mix(k, n ^ first ^ (last << 1));
    if (n + sizeof n + 8 > JMEMO_KEY_MAX - k->len) {
        k->over = true;
        return;
    }
    memcpy(k->b + k->len, &n, sizeof n);
    jmemo__copy(k->b + k->len + sizeof n, s, n, first, last);
    k->len += (uint32_t)(sizeof n + n);
}

// jmemo_key_bytes appends n bytes of any value (wire bytes: NULs too), their length first.
static inline void jmemo_key_bytes(jmemo_key *k, const void *p, uint32_t n) {
    uint64_t first = 0, last = 0;
    memcpy(&first, p, n < 8 ? n : 8);
    if (n > 8) {
        memcpy(&last, (const unsigned char *)p + n - 8, 8);
    }
    jmemo__mix(k, n ^ first ^ (last << 1));
    jmemo_key_raw(k, &n, sizeof n);
    jmemo_key_raw(k, p, n);
}

// jmemo_get returns the bytes kept for part under k (their length in *n), or NULL. k must not be
// over.
const char *jmemo_get(jmemo_part part, const jmemo_key *k, size_t *n);

// jmemo_keep keeps the bytes that w staged between from and to (the part as rendered for k,
// after jmemo_get missed), without a leading comma; nothing when they were not staged whole
// (a flush between the marks), the line failed, or they do not fit a slot.
void jmemo_keep(jmemo_part part, const jmemo_key *k, const jsonw *w, jsonw_mark from,
                jsonw_mark to);

// jmemo_write writes a part whose inputs are k: the bytes kept for k when an earlier line had
// the same inputs, else render(w, arg) (and keeps its bytes). as_value: the part is one value
// (after its key), else whole members of the open object.
void jmemo_write(jsonw *w, jmemo_part part, jmemo_key *k, bool as_value,
                 void (*render)(jsonw *w, const void *arg), const void *arg);

// jmemo_hits: how many times this thread wrote part from kept bytes (tests).
uint64_t jmemo_hits(jmemo_part part);

// jmemo_clear forgets every part kept by this thread (tests: a fresh rendering to compare with).
void jmemo_clear(void);

#endif
