// fuzz_util.h — small helpers shared by the libFuzzer targets (byte-slicing of the input).
#ifndef TLSDIAG_FUZZ_UTIL_H
#define TLSDIAG_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

// fz: the fuzzer's input consumed front to back; reads past the end yield zeros.
typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz;

static inline uint8_t fz_u8(fz *f) {
    if (f->n == 0) {
        return 0;
    }
    uint8_t v = f->p[0];
    f->p++;
    f->n--;
    return v;
}

static inline uint16_t fz_u16(fz *f) {
    uint16_t hi = fz_u8(f);
    return (uint16_t)((hi << 8) | fz_u8(f));
}

// fz_take returns up to n bytes (fewer at the end of input) and advances.
static inline const uint8_t *fz_take(fz *f, size_t n, size_t *out_n) {
    if (n > f->n) {
        n = f->n;
    }
    const uint8_t *p = f->p;
    f->p += n;
    f->n -= n;
    *out_n = n;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
