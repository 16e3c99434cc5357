// client.c — one TLS connection with OpenSSL, configured like CloudFront's origin client, with
// every socket byte logged (wire.c) and OpenSSL's own view of the handshake kept.
//
// Non-blocking throughout: connect() and each handshake step wait in poll() against one
// deadline each (connect, handshake), so a silent server is a timeout, never a hang.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cursor.h"
#include "probe_internal.h"

enum {
    PC_SETTLE_MS = 1000,  // TLS 1.3: wait this long after the handshake for a post-handshake alert
};

bool pc_is_ip_literal(const char *host) {
    struct in6_addr a6;
    struct in_addr a4;
    return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

bool pc_resolve(const char *host, uint16_t port, struct sockaddr_storage *addr, socklen_t *len,
                char *err, size_t errlen) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, rc ? gai_strerror(rc) : "no address");
        return false;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

// ---------------------------------------------------------------------------------------------
// The profile's offer as OpenSSL configuration strings.
// ---------------------------------------------------------------------------------------------
static void append(char *out, size_t outlen, const char *s) {
    size_t n = strlen(out);
    if (n + strlen(s) + 2 > outlen) {
        return;  // does not fit: the list is shorter, never cut mid-name
    }
    if (n) {
        out[n++] = ':';
    }
    strcpy(out + n, s);
}

void pc_cipher_list(const analyzer_offer *o, char *out, size_t outlen) {
    out[0] = '\0';
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    for (uint32_t i = 0; ssl && i < o->num_ciphers; i++) {
        const unsigned char b[2] = {(unsigned char)(o->ciphers[i] >> 8),
                                    (unsigned char)o->ciphers[i]};
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, b);
        if (c) {
            append(out, outlen, SSL_CIPHER_get_name(c));
        }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

typedef struct pc_name {
    uint16_t code;
    const char *name;
} pc_name;

static const pc_name pc_groups[] = {
    {0x0017, "P-256"},     {0x0018, "P-384"},     {0x0019, "P-521"},     {0x001d, "X25519"},
    {0x001e, "X448"},      {0x0100, "ffdhe2048"}, {0x0101, "ffdhe3072"}, {0x0102, "ffdhe4096"},
    {0x0103, "ffdhe6144"}, {0x0104, "ffdhe8192"},
};

void pc_group_list(const analyzer_offer *o, bool tls13, char *out, size_t outlen) {
    out[0] = '\0';
    (void)tls13;
    for (uint32_t i = 0; i < o->num_groups; i++) {
        for (size_t k = 0; k < sizeof pc_groups / sizeof pc_groups[0]; k++) {
            if (pc_groups[k].code == o->groups[i]) {
                append(out, outlen, pc_groups[k].name);
            }
        }
    }
}

// TLS 1.2 SignatureAndHashAlgorithm (RFC 5246 §7.4.1.4.1): hash byte, signature byte.
void pc_sigalg_list(const analyzer_offer *o, bool tls13, char *out, size_t outlen) {
    static const char *const hashes[] = {NULL,     NULL,     "SHA1",  "SHA224",
                                         "SHA256", "SHA384", "SHA512"};
    static const pc_name schemes[] = {
        {0x0804, "rsa_pss_rsae_sha256"},
        {0x0805, "rsa_pss_rsae_sha384"},
        {0x0806, "rsa_pss_rsae_sha512"},
        {0x0807, "ed25519"},
        {0x0808, "ed448"},
        {0x0809, "rsa_pss_pss_sha256"},
        {0x080a, "rsa_pss_pss_sha384"},
        {0x080b, "rsa_pss_pss_sha512"},
    };
    out[0] = '\0';
    bool pss = false;
    for (uint32_t i = 0; i < o->num_sigalgs; i++) {
        unsigned h = o->sigalgs[i] >> 8, s = o->sigalgs[i] & 0xff;
        if (h < sizeof hashes / sizeof hashes[0] && hashes[h] && (s == 1 || s == 3)) {
            char name[32];
            snprintf(name, sizeof name, "%s+%s", s == 1 ? "RSA" : "ECDSA", hashes[h]);
            append(out, outlen, name);
            continue;
        }
        for (size_t k = 0; k < sizeof schemes / sizeof schemes[0]; k++) {
            if (schemes[k].code == o->sigalgs[i]) {
                append(out, outlen, schemes[k].name);
                pss |= k < 3;
            }
        }
    }
    // TLS 1.3 signs with RSA-PSS only (RFC 8446 §4.2.3): without it an RSA server cannot sign.
    if (tls13 && !pss && out[0]) {
        append(out, outlen, "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512");
    }
}

uint32_t pc_offer_versions(const analyzer_offer *o) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < o->num_versions; i++) {
        for (unsigned b = 0; b < PROBE_V__COUNT; b++) {
            if (probe_version_code(b) == o->versions[i]) {
                m |= 1u << b;
            }
        }
    }
    return m ? m
             : (1u << PROBE_V_TLS1_BIT) | (1u << PROBE_V_TLS1_1_BIT) | (1u << PROBE_V_TLS1_2_BIT);
}

// ---------------------------------------------------------------------------------------------
// Callbacks: the socket bytes (BIO), the handshake as OpenSSL sees it (message callback) and
// the chain as sent (certificate verification).
// ---------------------------------------------------------------------------------------------
typedef struct pc_state {
    pc_result *r;
    bool peer_closed;  // the server's FIN or RST was seen
    bool peer_reset;
} pc_state;

static long bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                   size_t *processed) {
    (void)len;
    (void)argi;
    (void)argl;
    int saved = errno;
    pc_state *st = (pc_state *)BIO_get_callback_arg(b);
    if (oper == (BIO_CB_READ | BIO_CB_RETURN) || oper == (BIO_CB_WRITE | BIO_CB_RETURN)) {
        uint8_t dir = oper == (BIO_CB_READ | BIO_CB_RETURN) ? TLS_DIR_S2C : TLS_DIR_C2S;
        if (ret > 0 && processed && *processed) {
            pw_add(&st->r->log, PW_DATA, dir, (const uint8_t *)argp, *processed);
        } else if (!BIO_should_retry(b) && !st->peer_closed) {
            if (dir == TLS_DIR_S2C && ret == 0) {
                pw_add(&st->r->log, PW_FIN, TLS_DIR_S2C, NULL, 0);
                st->peer_closed = true;
            } else if (saved == ECONNRESET || saved == EPIPE) {
                pw_add(&st->r->log, PW_RST, TLS_DIR_S2C, NULL, 0);
                st->peer_closed = st->peer_reset = true;
            }
        }
    }
    errno = saved;
    return ret;
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg) {
    (void)version;
    (void)ssl;
    pc_result *r = arg;
    cur c = cur_make(buf, len);
    uint8_t a, b;
    if (content_type == SSL3_RT_ALERT && cur_get_u8(&c, &a) && cur_get_u8(&c, &b)) {
        int dir = write_p ? TLS_DIR_C2S : TLS_DIR_S2C;
        if (r->num_alerts[dir] < PC_MAX_ALERTS) {
            r->alerts[dir][r->num_alerts[dir]++] = (pc_alert){a, b};
        }
    } else if (content_type == SSL3_RT_HANDSHAKE && !write_p && cur_get_u8(&c, &a) &&
               a == SSL3_MT_CERTIFICATE_REQUEST) {
        r->cert_request = true;
    }
}

static void keep_chain(pc_result *r, STACK_OF(X509) * sk, X509 *leaf) {
    if (r->num_chain) {
        return;
    }
    int n = sk ? sk_X509_num(sk) : 0;
    for (int i = 0; i < (n ? n : 1) && r->num_chain < TLS_MAX_CERTS; i++) {
        X509 *x = n ? sk_X509_value(sk, i) : leaf;
        unsigned char *der = NULL;
        int len = x ? i2d_X509(x, &der) : -1;
        if (len > 0) {
            r->chain_der[r->num_chain] = der;
            r->chain_len[r->num_chain++] = (uint32_t)len;
        }
    }
}

static int verify_cb(X509_STORE_CTX *x, void *arg) {
    // The untrusted stack is the chain exactly as the server sent it, leaf first.
    keep_chain(arg, X509_STORE_CTX_get0_untrusted(x), X509_STORE_CTX_get0_cert(x));
    return X509_verify_cert(x);
}

// ---------------------------------------------------------------------------------------------
// The connection.
// ---------------------------------------------------------------------------------------------
static int remaining_ms(int64_t deadline) {
    int64_t left = (deadline - pw_now_ns()) / 1000000;
    return left < 0 ? 0 : (int)left;
}

static void set_error_from_ssl(pc_result *r, const char *fallback) {
    unsigned long e = ERR_peek_last_error();
    if (e) {
        ERR_error_string_n(e, r->error, sizeof r->error);
    } else if (errno) {
        snprintf(r->error, sizeof r->error, "%s: %s", fallback, strerror(errno));
    } else {
        snprintf(r->error, sizeof r->error, "%s", fallback);
    }
    ERR_clear_error();
}

static bool tcp_connect(const pc_params *p, pc_result *r, int *out_fd) {
    int fd = socket(p->peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r->stage = PC_CONNECT_ERROR;
        r->sys_errno = errno;
        snprintf(r->error, sizeof r->error, "socket: %s", strerror(errno));
        return false;
    }
    // Bind first, so the capture can be filtered to this port before the SYN leaves.
    struct sockaddr_storage any;
    memset(&any, 0, sizeof any);
    any.ss_family = p->peer.ss_family;
    socklen_t len = sizeof r->local;
    if (bind(fd, (struct sockaddr *)&any, p->peer_len) == 0 &&
        getsockname(fd, (struct sockaddr *)&r->local, &len) == 0) {
        r->bound = true;
        if (p->on_bound) {
            p->on_bound(p->user, &r->local);
        }
    }
    int64_t t0 = pw_now_ns();
    int64_t deadline = t0 + (int64_t)p->connect_timeout_ms * 1000000;
    pw_add(&r->log, PW_SYN, TLS_DIR_C2S, NULL, 0);
    int rc = connect(fd, (const struct sockaddr *)&p->peer, p->peer_len);
    int e = rc == 0 ? 0 : errno;
    len = sizeof r->local;
    (void)getsockname(fd, (struct sockaddr *)&r->local, &len);  // the address the route chose
    if (rc != 0 && e == EINPROGRESS) {
        struct pollfd pf = {fd, POLLOUT, 0};
        int n;
        do {
            n = poll(&pf, 1, remaining_ms(deadline));
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            // The kernel retried the SYN at 1, 3, 7, … s (RFC 6298 backoff); the log says so.
            for (int64_t at = 1; t0 + at * 1000000000LL < pw_now_ns(); at = at * 2 + 1) {
                pw_add(&r->log, PW_SYN, TLS_DIR_C2S, NULL, 0);
                r->log.ev[r->log.num_ev - 1].ts_ns = t0 + at * 1000000000LL;
            }
            r->stage = PC_CONNECT_TIMEOUT;
            snprintf(r->error, sizeof r->error, "no answer to the SYN within %u ms",
                     p->connect_timeout_ms);
            close(fd);
            return false;
        }
        socklen_t el = sizeof e;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) {
            e = errno;
        }
    }
    if (e != 0) {
        r->sys_errno = e;
        snprintf(r->error, sizeof r->error, "connect: %s", strerror(e));
        if (e == ECONNREFUSED) {
            r->stage = PC_CONNECT_REFUSED;
            pw_add(&r->log, PW_RST, TLS_DIR_S2C, NULL, 0);
        } else if (e == ETIMEDOUT) {
            r->stage = PC_CONNECT_TIMEOUT;
        } else {
            r->stage = PC_CONNECT_ERROR;
        }
        close(fd);
        return false;
    }
    len = sizeof r->local;
    (void)getsockname(fd, (struct sockaddr *)&r->local, &len);
    pw_add(&r->log, PW_SYNACK, TLS_DIR_S2C, NULL, 0);
    *out_fd = fd;
    return true;
}

static bool configure(SSL_CTX *ctx, const pc_params *p, pc_result *r, char *err, size_t errlen) {
    int lo = -1, hi = -1;
    for (unsigned b = 0; b < PROBE_V__COUNT; b++) {
        if (p->versions & (1u << b)) {
            hi = (int)b;
            lo = lo < 0 ? (int)b : lo;
        }
    }
    static const long no_opt[PROBE_V__COUNT] = {SSL_OP_NO_SSLv3, SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1,
                                                SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3};
    // CloudFront talks to old origins too: TLS 1.0 and SHA-1 need security level 0 in OpenSSL 3;
    // key sizes and signature hashes are judged by the analyzer against the profile instead.
    SSL_CTX_set_security_level(ctx, 0);
    if (lo < 0 || !SSL_CTX_set_min_proto_version(ctx, probe_version_code((unsigned)lo)) ||
        !SSL_CTX_set_max_proto_version(ctx, probe_version_code((unsigned)hi))) {
        snprintf(err, errlen, "this OpenSSL cannot offer the requested protocol versions");
        return false;
    }
    for (int b = lo; b <= hi; b++) {
        if (!(p->versions & (1u << b))) {
            SSL_CTX_set_options(ctx, (uint64_t)no_opt[b]);
        }
    }
    SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
    if (p->cipher_list && p->cipher_list[0] && !SSL_CTX_set_cipher_list(ctx, p->cipher_list)) {
        snprintf(err, errlen, "no cipher suite of '%s' is available in this OpenSSL",
                 p->cipher_list);
        ERR_clear_error();
        return false;
    }
    if (p->groups && p->groups[0] && !SSL_CTX_set1_groups_list(ctx, p->groups)) {
        snprintf(err, errlen, "OpenSSL refused the group list '%s'", p->groups);
        ERR_clear_error();
        return false;
    }
    if (p->sigalgs && p->sigalgs[0] && !SSL_CTX_set1_sigalgs_list(ctx, p->sigalgs)) {
        snprintf(err, errlen, "OpenSSL refused the signature list '%s'", p->sigalgs);
        ERR_clear_error();
        return false;
    }
    if (p->verify && p->store) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set1_cert_store(ctx, p->store);
    } else if (p->verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        bool ok = p->ca_file || p->ca_path
                      ? SSL_CTX_load_verify_locations(ctx, p->ca_file, p->ca_path) == 1
                      : SSL_CTX_set_default_verify_paths(ctx) == 1;
        if (!ok) {
            snprintf(err, errlen, "cannot load the trust store %s",
                     p->ca_file   ? p->ca_file
                     : p->ca_path ? p->ca_path
                                  : "(system default)");
            ERR_clear_error();
            return false;
        }
    }
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, r);
    SSL_CTX_set_msg_callback(ctx, msg_cb);
    SSL_CTX_set_msg_callback_arg(ctx, r);
    return true;
}

// wait_io waits for what OpenSSL asked for; false on timeout.
static bool wait_io(int fd, int ssl_err, int64_t deadline) {
    struct pollfd pf = {fd, ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
    int n;
    do {
        n = poll(&pf, 1, remaining_ms(deadline));
    } while (n < 0 && errno == EINTR);
    return n > 0;
}

static void handshake(SSL *ssl, int fd, const pc_params *p, pc_result *r) {
    int64_t deadline = pw_now_ns() + (int64_t)p->handshake_timeout_ms * 1000000;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int rc = SSL_connect(ssl);
        if (rc == 1) {
            break;
        }
        int e = SSL_get_error(ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (!wait_io(fd, e, deadline)) {
                r->stage = PC_HANDSHAKE_TIMEOUT;
                snprintf(r->error, sizeof r->error, "no handshake within %u ms",
                         p->handshake_timeout_ms);
                return;
            }
            continue;
        }
        r->stage = PC_HANDSHAKE_FAILED;
        set_error_from_ssl(r, e == SSL_ERROR_SYSCALL ? "connection closed" : "handshake failed");
        r->verify_result = SSL_get_verify_result(ssl);
        return;
    }
    r->stage = PC_HANDSHAKE_OK;
    r->version = (uint16_t)SSL_version(ssl);
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    r->cipher = c ? (uint16_t)(SSL_CIPHER_get_id(c) & 0xffff) : 0;
    r->verify_result = SSL_get_verify_result(ssl);
    if (r->version != TLS1_3_VERSION) {
        return;
    }
    // TLS 1.3: the client finishes first; a server that refuses the client's (empty)
    // Certificate says so after our Finished (RFC 8446 §4.4.2.4). Read briefly for that alert.
    int64_t settle = pw_now_ns() + (int64_t)PC_SETTLE_MS * 1000000;
    if (settle > deadline) {
        settle = deadline;
    }
    char buf[512];
    for (;;) {
        ERR_clear_error();
        int rc = SSL_read(ssl, buf, sizeof buf);
        if (rc > 0) {
            continue;
        }
        int e = SSL_get_error(ssl, rc);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && wait_io(fd, e, settle)) {
            continue;
        }
        if (e == SSL_ERROR_SSL) {
            r->stage = PC_HANDSHAKE_FAILED;
            set_error_from_ssl(r, "the server refused the handshake after it completed");
        }
        return;
    }
}

bool pc_connect(const pc_params *p, pc_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->verify_result = X509_V_OK;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (!configure(ctx, p, r, err, errlen)) {
        SSL_CTX_free(ctx);
        return false;
    }
    int fd = -1;
    if (!tcp_connect(p, r, &fd)) {
        SSL_CTX_free(ctx);
        return !r->log.oom;
    }
    SSL *ssl = SSL_new(ctx);
    BIO *bio = ssl ? BIO_new_socket(fd, BIO_NOCLOSE) : NULL;
    if (!bio) {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        close(fd);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    pc_state st = {r, false, false};
    BIO_set_callback_ex(bio, bio_cb);
    BIO_set_callback_arg(bio, (char *)&st);
    SSL_set_bio(ssl, bio, bio);
    if (p->sni && p->sni[0]) {
        if (!SSL_set_tlsext_host_name(ssl, p->sni) || (p->verify && !SSL_set1_host(ssl, p->sni))) {
            snprintf(err, errlen, "OpenSSL refused the SNI '%s'", p->sni);
            SSL_free(ssl);
            SSL_CTX_free(ctx);
            close(fd);
            return false;
        }
    }
    handshake(ssl, fd, p, r);
    if (!r->num_chain) {
        keep_chain(r, SSL_get_peer_cert_chain(ssl), NULL);
    }
    if (r->stage == PC_HANDSHAKE_OK && !st.peer_closed) {
        (void)SSL_shutdown(ssl);  // close_notify, as a client that is done
    }
    if (!st.peer_reset) {
        pw_add(&r->log, PW_FIN, TLS_DIR_C2S, NULL, 0);
    }
    SSL_free(ssl);  // frees the BIO (not the socket: BIO_NOCLOSE)
    SSL_CTX_free(ctx);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    ERR_clear_error();
    if (r->log.oom) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    return true;
}

void pc_result_free(pc_result *r) {
    if (!r) {
        return;
    }
    for (uint32_t i = 0; i < r->num_chain; i++) {
        OPENSSL_free(r->chain_der[i]);
    }
    r->num_chain = 0;
    pw_free(&r->log);
}
