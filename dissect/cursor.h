// cursor.h — the one bounded reader of untrusted bytes in tlsdiag (after BoringSSL's CBS).
//
// Every byte that came from the wire is read through a `cur`. Rules:
//  - a read checks `n > c->len` before touching memory; a failed read leaves the cursor unchanged;
//  - length-prefixed vectors become sub-cursors (`cur_get_u16_prefixed`), so nested parsers
//    cannot reach outside their vector;
//  - multi-byte integers are big-endian and are assembled byte by byte, never by casting.
// A cursor borrows its bytes; it owns nothing and needs no cleanup.
#ifndef TLSDIAG_CURSOR_H
#define TLSDIAG_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct cur {
    const uint8_t *p;  // next unread byte (may be NULL when len == 0)
    size_t len;        // bytes remaining
} cur;

// Every header field goes through these: always inlined (GCC otherwise left some of them as
// calls, e.g. four per frame in the --threads shard hash).
#define CUR_INLINE __attribute__((always_inline)) static inline

CUR_INLINE cur cur_make(const uint8_t *p, size_t len) {
    cur c = {p, len};
    return c;
}

CUR_INLINE size_t cur_len(const cur *c) {
    return c->len;
}

static inline const uint8_t *cur_data(const cur *c) {
    return c->p;
}

// cur_skip advances by n bytes; false (and no change) when fewer remain.
CUR_INLINE bool cur_skip(cur *c, size_t n) {
    if (n > c->len) {
        return false;
    }
    c->p += n;
    c->len -= n;
    return true;
}

// cur_get_uN reads an N-byte big-endian integer into *out.
static inline bool cur_get_be(cur *c, size_t n, uint64_t *out) {
    if (n > c->len || n > 8) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | c->p[i];
    }
    c->p += n;
    c->len -= n;
    *out = v;
    return true;
}

// The fixed widths are written out (not cur_get_be's loop): every packet header goes through
// them, and the compiler turns these into one load and a byte swap.
CUR_INLINE bool cur_get_u8(cur *c, uint8_t *out) {
    if (c->len < 1) {
        return false;
    }
    *out = c->p[0];
    c->p += 1;
    c->len -= 1;
    return true;
}

CUR_INLINE bool cur_get_u16(cur *c, uint16_t *out) {
    if (c->len < 2) {
        return false;
    }
    *out = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
    c->p += 2;
    c->len -= 2;
    return true;
}

CUR_INLINE bool cur_get_u24(cur *c, uint32_t *out) {
    if (c->len < 3) {
        return false;
    }
    *out = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
    c->p += 3;
    c->len -= 3;
    return true;
}

CUR_INLINE bool cur_get_u32(cur *c, uint32_t *out) {
    if (c->len < 4) {
        return false;
    }
    *out = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    c->len -= 4;
    return true;
}

// cur_get_bytes takes n bytes as a sub-cursor.
CUR_INLINE bool cur_get_bytes(cur *c, cur *out, size_t n) {
    if (n > c->len) {
        return false;
    }
    out->p = c->p;
    out->len = n;
    c->p += n;
    c->len -= n;
    return true;
}

// cur_copy copies n bytes into dst (dst must hold n bytes). Copying nothing touches nothing:
// an empty cursor may hold a NULL pointer, and even NULL + 0 is undefined in C.
CUR_INLINE bool cur_copy(cur *c, void *dst, size_t n) {
    if (n > c->len) {
        return false;
    }
    if (n > 0) {
        memcpy(dst, c->p, n);
        c->p += n;
        c->len -= n;
    }
    return true;
}

// cur_get_prefixed reads a length of `width` bytes then that many bytes as a sub-cursor.
// On failure nothing is consumed.
CUR_INLINE bool cur_get_prefixed(cur *c, size_t width, cur *out) {
    cur save = *c;
    uint64_t n;
    if (!cur_get_be(c, width, &n) || !cur_get_bytes(c, out, (size_t)n)) {
        *c = save;
        return false;
    }
    return true;
}

CUR_INLINE bool cur_get_u8_prefixed(cur *c, cur *out) {
    return cur_get_prefixed(c, 1, out);
}
CUR_INLINE bool cur_get_u16_prefixed(cur *c, cur *out) {
    return cur_get_prefixed(c, 2, out);
}
CUR_INLINE bool cur_get_u24_prefixed(cur *c, cur *out) {
    return cur_get_prefixed(c, 3, out);
}

// cur_peek_u8 reads byte i without consuming.
CUR_INLINE bool cur_peek_u8(const cur *c, size_t i, uint8_t *out) {
    if (i >= c->len) {
        return false;
    }
    *out = c->p[i];
    return true;
}

// cur_peek_be reads an n-byte big-endian integer at offset i without consuming.
static inline bool cur_peek_be(const cur *c, size_t i, size_t n, uint64_t *out) {
    if (i > c->len || n > c->len - i || n > 8) {
        return false;
    }
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        v = (v << 8) | c->p[i + k];
    }
    *out = v;
    return true;
}

// cur_peek_u16 / cur_peek_u32: big-endian integers at offset i without consuming.
CUR_INLINE bool cur_peek_u16(const cur *c, size_t i, uint16_t *out) {
    if (i > c->len || c->len - i < 2) {
        return false;
    }
    *out = (uint16_t)((unsigned)c->p[i] << 8 | c->p[i + 1]);
    return true;
}

CUR_INLINE bool cur_peek_u32(const cur *c, size_t i, uint32_t *out) {
    if (i > c->len || c->len - i < 4) {
        return false;
    }
    const uint8_t *p = c->p + i;
    *out = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return true;
}

#endif
