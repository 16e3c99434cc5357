// jsonw.c — the streaming JSON writer (see jsonw.h): compact JSON, jansson's bytes, no allocation.
#include "jsonw.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "report_internal.h"

// flush hands the staged bytes to stdio. It is the only place that writes, so the first failure
// is seen and nothing is written after it (jansson stopped a dump at its first failed write,
// too). The stream's error flag is checked as well: glibc's fwrite can report a full count for a
// write that failed.
static void flush(jsonw *w) {
    if (!w->failed && w->len > 0 &&
        (fwrite_unlocked(w->buf, 1, w->len, w->out) != w->len || ferror_unlocked(w->out))) {
        w->failed = true;
    }
    w->len = 0;
    w->flushes++;
}

static void put_raw_slow(jsonw *w, const char *s, size_t n) {
    while (n > JSONW_BUF - w->len) {
        size_t k = JSONW_BUF - w->len;
        memcpy(w->buf + w->len, s, k);
        w->len = JSONW_BUF;
        flush(w);
        s += k;
        n -= k;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

// put_raw and put_ch are inline so that a constant-size copy ("null", "true", '"') is a store:
// every value of a line goes through them (calls were ~1,500 instructions a verdict).
static inline void put_raw(jsonw *w, const char *s, size_t n) {
    if (n <= JSONW_BUF - w->len) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        return;
    }
    put_raw_slow(w, s, n);
}

static inline void put_ch(jsonw *w, char c) {
    if (w->len == JSONW_BUF) {
        flush(w);
    }
    w->buf[w->len++] = c;
}

// value_prefix: the comma before a value that is not the first in its container, or nothing
// after a key. A value where a key is due (inside an object) is a misuse: the line is failed.
void jsonw__value_prefix_slow(jsonw *w) {
    switch (w->state) {
        case JSONW_ARR_ITEMS:
            put_ch(w, ',');
            return;
        case JSONW_ARR_EMPTY:
            w->state = JSONW_ARR_ITEMS;
            return;
        case JSONW_TOP:
            return;  // the top-level value itself
        default:
            w->failed = true;  // in an object, where a key is due
            return;
    }
}

// value_prefix: after a key (most values) nothing is written: inline for that case.
static inline void value_prefix(jsonw *w) {
    if (w->state == JSONW_AFTER_KEY) {
        w->state = JSONW_OBJ_MEMBERS;
        return;
    }
    jsonw__value_prefix_slow(w);
}

// byte_class: ESC_PASS printed as is; ESC_CTL a JSON escape (C0, '"', '\\'); ESC_HIGH the start of
// a UTF-8 sequence to check.
enum { ESC_PASS = 0, ESC_CTL = 1, ESC_HIGH = 2 };
static const uint8_t byte_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  // 0x00
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  // 0x10
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 0x20: '"'
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 0x30
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 0x40
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,  // 0x50: '\\'
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 0x60
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 0x70: DEL passes, as in jansson
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0x80
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0x90
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0xa0
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0xb0
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0xc0
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0xd0
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0xe0
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // 0xf0
};

static void put_escape(jsonw *w, uint8_t b) {
    static const char hex[] = "0123456789ABCDEF";
    char seq[6];
    switch (b) {
        case '"':
            put_raw(w, "\\\"", 2);
            return;
        case '\\':
            put_raw(w, "\\\\", 2);
            return;
        case '\b':
            put_raw(w, "\\b", 2);
            return;
        case '\f':
            put_raw(w, "\\f", 2);
            return;
        case '\n':
            put_raw(w, "\\n", 2);
            return;
        case '\r':
            put_raw(w, "\\r", 2);
            return;
        case '\t':
            put_raw(w, "\\t", 2);
            return;
        default:  // other C0 controls: jansson prints "\\u%04X"
            memcpy(seq, "\\u00", 4);
            seq[4] = hex[b >> 4];
            seq[5] = hex[b & 0xf];
            put_raw(w, seq, sizeof seq);
            return;
    }
}

// word_has_special: does any of the eight bytes in x need more than a copy (a C0 control, '"',
// '\\', or a byte >= 0x80)? The has-zero-byte test of "Bit Twiddling Hacks" (Anderson): it is
// exact for "is there any such byte", which is all the caller asks; the byte loop finds which.
static bool word_has_special(uint64_t x) {
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t below_space = (x - 0x20 * ones) & ~x;  // a byte < 0x20 (with bit 7 clear)
    uint64_t quote = x ^ ('"' * ones), backslash = x ^ ('\\' * ones);
    uint64_t zero = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
    return ((x | below_space | zero) & highs) != 0;
}

#if defined(__SSE2__)
// special16: bit i set when byte i of p[0..16) needs more than a copy. A signed compare with
// 0x20 finds C0 controls and every byte >= 0x80 at once; two equality compares '"' and '\\'.
static inline unsigned special16(const uint8_t *p, __m128i space, __m128i quote, __m128i bslash) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i special =
        _mm_or_si128(_mm_cmplt_epi8(x, space),
                     _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));
    return (unsigned)_mm_movemask_epi8(special);
}
#endif

// plain_prefix copies the plain bytes at the start of s[0..n) (printed as they are) to d and
// returns how many it copied: n when all are, else at most the place of the first special byte
// (a C0 control, '"', '\\', a byte >= 0x80, or a NUL that ends a fixed array's string). d must
// have room for n bytes; nothing past d[n) is written. 16 bytes or more: 16 at a time, the last
// 1..16 as the 16 ending at n (overlapping plain bytes already copied, rewritten with the same
// values; only the new ones are tested). 4..15 bytes: two overlapping words, the first and last
// 8 (or 4), all or none (0 when either holds a special byte: the caller's loop finds which).
static inline size_t plain_prefix(char *d, const uint8_t *s, size_t n) {
#if defined(__SSE2__)
    if (n >= 16) {
        const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                      bslash = _mm_set1_epi8('\\');
        size_t k = 0;
        while (n - k > 16) {
            _mm_storeu_si128((__m128i *)(void *)(d + k),
                             _mm_loadu_si128((const __m128i *)(const void *)(s + k)));
            unsigned mask = special16(s + k, space, quote, bslash);
            if (mask != 0) {
                return k + (size_t)__builtin_ctz(mask);
            }
            k += 16;
        }
        size_t at = n - 16;
        _mm_storeu_si128((__m128i *)(void *)(d + at),
                         _mm_loadu_si128((const __m128i *)(const void *)(s + at)));
        unsigned mask = special16(s + at, space, quote, bslash) >> (16 - (n - k));
        return mask != 0 ? k + (size_t)__builtin_ctz(mask) : n;
    }
#endif
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (word_has_special(a) || word_has_special(b)) {
            return 0;
        }
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
        return n;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        if (word_has_special((uint64_t)a | (uint64_t)b << 32)) {
            return 0;
        }
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
        return n;
    }
    size_t k = 0;
    while (k < n && byte_class[s[k]] == ESC_PASS) {
        d[k] = (char)s[k];
        k++;
    }
    return k;
}

// put_string_body writes the bytes between the quotes: plain runs copied by plain_prefix, each
// special byte escaped. With to_nul, s is a fixed array of n bytes holding a NUL-terminated
// string: the string ends at the first NUL (a C0 byte, so the scan stops on it anyway) and
// strnlen's separate pass is saved. Bytes past that NUL may be loaded with it (never past n)
// but are not written: a UTF-8 sequence cut by the NUL is invalid either way, since a NUL is no
// continuation byte. Out of line: the common case is put_string's, this is the rest.
static __attribute__((noinline)) void put_string_body(jsonw *w, const uint8_t *s, size_t n,
                                                      bool to_nul) {
    static const char lhex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        size_t room = JSONW_BUF - w->len;
        size_t lim = n - i < room ? n - i : room;
        char *d = w->buf + w->len;
        size_t k = plain_prefix(d, s + i, lim);
        while (k < lim && byte_class[s[i + k]] == ESC_PASS) {
            d[k] = (char)s[i + k];
            k++;
        }
        w->len += k;
        i += k;
        if (i == n || (to_nul && k < lim && s[i] == 0)) {
            break;
        }
        if (k == lim) {
            flush(w);  // the buffer is full, not the run
            continue;
        }
        size_t len = byte_class[s[i]] == ESC_HIGH ? analyze_utf8_seq(s + i, n - i) : 0;
        if (len > 0) {
            put_raw(w, (const char *)s + i, len);  // well-formed UTF-8 is passed through
            i += len;
        } else if (byte_class[s[i]] == ESC_CTL) {
            put_escape(w, s[i]);
            i++;
        } else {
            // report_escape writes "\xNN"; jansson then escapes its backslash.
            char seq[5] = {'\\', '\\', 'x', lhex[s[i] >> 4], lhex[s[i] & 0xf]};
            put_raw(w, seq, sizeof seq);
            i++;
        }
    }
}

// put_string writes a string value with its quotes. The common case — it fits in the staging
// buffer and is plain, or a fixed array's string that is plain up to its NUL — is one
// plain_prefix and two stores; at the first special byte put_string_body goes on from it (it
// looks at nothing before the byte it is on, so where the split falls changes no output).
// Through one inlined loop for every string, a call cost ~170 instructions, a third of it
// register spills, for the ~25 strings of a verdict's line.
static inline void put_string(jsonw *w, const uint8_t *s, size_t n, bool to_nul) {
    value_prefix(w);
    if (JSONW_BUF - w->len >= 2 && n <= JSONW_BUF - w->len - 2) {
        char *d = w->buf + w->len;
        d[0] = '"';
        size_t k = plain_prefix(d + 1, s, n);
        if (k == n || (to_nul && s[k] == 0)) {
            d[k + 1] = '"';
            w->len += k + 2;
            return;
        }
        w->len += k + 1;
        put_string_body(w, s + k, n - k, to_nul);
    } else {
        put_ch(w, '"');
        put_string_body(w, s, n, to_nul);
    }
    put_ch(w, '"');
}

static void open_container(jsonw *w, char c, bool object) {
    value_prefix(w);
    if (w->depth >= JSONW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    put_ch(w, c);
    uint32_t bit = 1u << w->depth;
    w->is_object = object ? (w->is_object | bit) : (w->is_object & ~bit);
    w->depth++;
    w->state = object ? JSONW_OBJ_EMPTY : JSONW_ARR_EMPTY;
}

// close_container: the container must be open and of its kind, and no value due; the state
// goes back to its parent's, which holds a member now (the container itself).
static void close_container(jsonw *w, char c, bool object) {
    bool in_object = w->state <= JSONW_OBJ_MEMBERS;
    bool in_array = w->state == JSONW_ARR_EMPTY || w->state == JSONW_ARR_ITEMS;
    if (w->depth == 0 || !(object ? in_object : in_array)) {
        w->failed = true;
        return;
    }
    put_ch(w, c);
    w->depth--;
    w->state = w->depth == 0                           ? JSONW_TOP
               : w->is_object & (1u << (w->depth - 1)) ? JSONW_OBJ_MEMBERS
                                                       : JSONW_ARR_ITEMS;
}

void jsonw_begin_line(jsonw *w, FILE *out) {
    w->out = out;
    w->failed = false;
    w->state = JSONW_TOP;
    w->depth = 0;
    w->is_object = 0;
    w->len = 0;  // buf is not cleared: 4 KB of stores per line for nothing
    w->flushes = 0;
    flockfile(out);
    jsonw_object_begin(w);
}

bool jsonw_end_line(jsonw *w) {
    jsonw_object_end(w);
    if (w->depth != 0) {
        w->failed = true;
    }
    put_ch(w, '\n');
    flush(w);
    funlockfile(w->out);
    return !w->failed;
}

void jsonw_object_begin(jsonw *w) {
    open_container(w, '{', true);
}

void jsonw_object_end(jsonw *w) {
    close_container(w, '}', true);
}

void jsonw_array_begin(jsonw *w) {
    open_container(w, '[', false);
}

void jsonw_array_end(jsonw *w) {
    close_container(w, ']', false);
}

// key_prefix: the checks and the comma before a key; false (the line failed) on a misuse.
static bool key_prefix(jsonw *w) {
    if (w->state > JSONW_OBJ_MEMBERS) {
        w->failed = true;
        return false;
    }
    if (w->state == JSONW_OBJ_MEMBERS) {
        put_ch(w, ',');
    }
    w->state = JSONW_AFTER_KEY;
    return true;
}

void jsonw_key(jsonw *w, const char *key) {
    if (key_prefix(w)) {
        // put_string's value prefix takes the key's state back (no comma): the key is a string
        put_string(w, (const uint8_t *)key, strlen(key), false);
        put_ch(w, ':');
        w->state = JSONW_AFTER_KEY;
    }
}

void jsonw_value_bytes(jsonw *w, const char *s, size_t n) {
    value_prefix(w);
    put_raw(w, s, n);
}

void jsonw_members_bytes(jsonw *w, const char *s, size_t n) {
    if (n == 0) {
        return;
    }
    if (key_prefix(w)) {  // the checks and the comma of a key; the bytes hold whole members
        w->state = JSONW_OBJ_MEMBERS;
        put_raw(w, s, n);
    }
}

void jsonw__put(jsonw *w, const char *s, size_t n) {
    put_raw(w, s, n);
}

void jsonw_bytes(jsonw *w, const void *p, size_t n) {
    put_string(w, p, n, false);
}

void jsonw_field(jsonw *w, const char *s, size_t cap) {
    put_string(w, (const uint8_t *)s, cap, true);
}

void jsonw_string(jsonw *w, const char *s) {
    if (s == NULL) {
        jsonw_null(w);
        return;
    }
    jsonw_bytes(w, s, strlen(s));
}

// digits2: "00".."99", two digits a step (halves the divisions of a number).
static const char digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

void jsonw_int(jsonw *w, long long v) {
    value_prefix(w);
    if (v >= 0 && v < 100000 && JSONW_BUF - w->len >= 5) {
        // Ports, frame numbers, codes, lengths: the digits counted by compares and written in
        // place from the last, in 32-bit arithmetic (no scratch buffer to clear and copy).
        unsigned x = (unsigned)v;
        size_t n = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : 5;
        char *d = w->buf + w->len + n;
        while (x >= 100) {
            d -= 2;
            memcpy(d, digits2 + 2 * (x % 100), 2);
            x /= 100;
        }
        if (x >= 10) {
            memcpy(d - 2, digits2 + 2 * x, 2);
        } else {
            d[-1] = (char)('0' + x);
        }
        w->len += n;
        return;
    }
    // The digits end at buf[24]; the bytes after them are there so that a fixed 24-byte copy
    // from the first digit stays inside buf (pos >= 4: at most 20 characters).
    char buf[48] = {0};
    size_t pos = 24;
    // Negate in unsigned arithmetic: -LLONG_MIN does not fit a long long.
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100);
        u /= 100;
        pos -= 2;
        memcpy(buf + pos, digits2 + 2 * d, 2);
    }
    if (u >= 10) {
        pos -= 2;
        memcpy(buf + pos, digits2 + 2 * u, 2);
    } else {
        buf[--pos] = (char)('0' + u);
    }
    if (v < 0) {
        buf[--pos] = '-';
    }
    size_t n = 24 - pos;
    if (JSONW_BUF - w->len >= 24) {
        memcpy(w->buf + w->len, buf + pos, 24);  // fixed size: stores, not a call; n count
        w->len += n;
        return;
    }
    put_raw(w, buf + pos, n);
}

void jsonw_bool(jsonw *w, bool b) {
    value_prefix(w);
    put_raw(w, b ? "true" : "false", b ? 4 : 5);
}

bool jsonw_is_plain(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (byte_class[(uint8_t)s[i]] != ESC_PASS) {
            return false;
        }
    }
    return true;
}

void jsonw_null(jsonw *w) {
    value_prefix(w);
    put_raw(w, "null", 4);
}
