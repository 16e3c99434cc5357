// community_id.c — Community ID v1 flow hashes, so a verdict joins with Zeek, Suricata and
// Wireshark records of the same connection.
//
// Specification: https://github.com/corelight/community-id-spec (README, "Pseudo code" and
// "Technical details"). The hashed bytes, all in network byte order:
//
//     seed (2) . saddr (4|16) . daddr (4|16) . proto (1) . 0 (1) . sport (2) . dport (2)
//
// after ordering the endpoints so that the numerically smaller (address, port) comes first
// (addresses compared as bytes; equal addresses: the ports decide). The ports are left out for
// protocols that have none. The ID is "1:" followed by the base64 of the 20-byte SHA-1.
// ICMP's type/code-to-port mapping is the caller's (tlsdiag only hashes TCP).
// SHA-1 through OpenSSL's low-level API (deprecated in 3.0, still exported): it calls the
// same assembly as EVP (SHA-NI where the CPU has it), without EVP's provider dispatch. Through
// EVP with a pre-fetched EVP_MD and one EVP_MD_CTX per thread, a Community ID cost 2,240
// instructions, 560 of them EVP_DigestInit_ex2 re-initialising the provider's context; a
// SHA-1 written out in C was slower on SHA-NI hardware (bench/NOTES.md, round 5).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "report_internal.h"

// endpoint_less: (a, ap) sorts before (b, bp), addresses as big-endian bytes, then ports.
static bool endpoint_less(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp,
                          size_t alen) {
    int c = memcmp(a, b, alen);
    return c < 0 || (c == 0 && ap < bp);
}

static size_t put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

// sha1: the 20-byte digest of p[0..n) into md; false when OpenSSL failed. The context is on
// the stack: nothing to fetch, allocate or keep per thread.
static bool sha1(const uint8_t *p, size_t n, unsigned char md[20]) {
    SHA_CTX ctx;
    return SHA1_Init(&ctx) == 1 && SHA1_Update(&ctx, p, n) == 1 && SHA1_Final(md, &ctx) == 1;
}

bool report_community_id(const tls_endpoint *src, const tls_endpoint *dst, uint8_t proto,
                         bool with_ports, uint16_t seed, char out[REPORT_COMMUNITY_ID_LEN]) {
    out[0] = '\0';
    if (src->family != dst->family || (src->family != 4 && src->family != 6)) {
        return false;
    }
    size_t alen = src->family == 4 ? 4 : 16;
    const tls_endpoint *lo = src, *hi = dst;
    if (!endpoint_less(src->addr, src->port, dst->addr, dst->port, alen)) {
        lo = dst;
        hi = src;
    }
    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = put16(buf, seed);
    memcpy(buf + n, lo->addr, alen);
    n += alen;
    memcpy(buf + n, hi->addr, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;  // padding to the 32-bit boundary
    if (with_ports) {
        n += put16(buf + n, lo->port);
        n += put16(buf + n, hi->port);
    }
    unsigned char md[20];
    if (!sha1(buf, n, md)) {
        return false;
    }
    memcpy(out, "1:", 2);
    // 20 bytes → 28 base64 characters and a NUL (EVP_EncodeBlock adds no newline).
    return EVP_EncodeBlock((unsigned char *)out + 2, md, (int)sizeof md) == 28;
}

bool report_community_id_tcp(const tls_endpoint *client, const tls_endpoint *server,
                             char out[REPORT_COMMUNITY_ID_LEN]) {
    return report_community_id(client, server, 6, true, 0, out);
}
