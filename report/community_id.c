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
#include <openssl/evp.h>
#include <pthread.h>
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

// SHA-1 is fetched from the provider once: EVP_sha1() in EVP_Digest fetched it on every call,
// 4,400 instructions of the 4,800 a Community ID cost (one per verdict of `analyze --json`).
// Each thread keeps one digest context (freed when the thread ends): EVP_Digest allocated and
// freed one per call, a quarter of what remained.
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha1_md;
static pthread_key_t ctx_key;
static bool ctx_key_ok;

static void free_ctx(void *ctx) {
    EVP_MD_CTX_free(ctx);
}

static void sha1_init(void) {
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
    ctx_key_ok = pthread_key_create(&ctx_key, free_ctx) == 0;
}

// sha1: the 20-byte digest of p[0..n) into md; false when OpenSSL failed.
static bool sha1(const uint8_t *p, size_t n, unsigned char md[20]) {
    (void)pthread_once(&sha1_once, sha1_init);
    if (sha1_md == NULL || !ctx_key_ok) {
        return false;
    }
    EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
    if (ctx == NULL) {
        ctx = EVP_MD_CTX_new();
        if (ctx == NULL || pthread_setspecific(ctx_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            return false;
        }
    }
    unsigned int mdlen = 0;
    return EVP_DigestInit_ex2(ctx, sha1_md, NULL) == 1 && EVP_DigestUpdate(ctx, p, n) == 1 &&
           EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
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
