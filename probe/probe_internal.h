// probe_internal.h — pieces shared inside probe/: the socket log, the OpenSSL client, frames.
#ifndef TLSDIAG_PROBE_INTERNAL_H
#define TLSDIAG_PROBE_INTERNAL_H

#include <netinet/in.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include "probe.h"

// ---------------------------------------------------------------------------------------------
// The socket log (wire.c): what crossed the socket, in order, as the client saw it.
// ---------------------------------------------------------------------------------------------
typedef enum pw_kind {
    PW_SYN = 0,  // client SYN (and retries while connecting)
    PW_SYNACK,   // connection established (SYN-ACK + ACK)
    PW_DATA,     // payload in direction dir
    PW_FIN,      // dir closed its side
    PW_RST,      // dir reset the connection
} pw_kind;

typedef struct pw_event {
    uint8_t kind, dir;
    int64_t ts_ns;
    size_t off, len;  // PW_DATA: bytes in the log's buffer
} pw_event;

typedef struct pw_log {
    pw_event *ev;
    size_t num_ev, cap_ev;
    uint8_t *data;
    size_t num_data, cap_data;
    bool oom;
} pw_log;

void pw_add(pw_log *l, pw_kind k, uint8_t dir, const uint8_t *data, size_t len);
void pw_free(pw_log *l);
int64_t pw_now_ns(void);

// pw_frames turns the log into raw-IP frames (DLT_RAW) with consistent sequence numbers and
// checksums, and calls fn for each. The endpoints are the socket's.
typedef void (*pw_frame_fn)(void *user, const dissect_frame *f);
bool pw_frames(const pw_log *l, const struct sockaddr_storage *local,
               const struct sockaddr_storage *peer, pw_frame_fn fn, void *user)
    __attribute__((warn_unused_result));

// ---------------------------------------------------------------------------------------------
// The client (client.c): one connection with OpenSSL.
// ---------------------------------------------------------------------------------------------
typedef enum pc_stage {
    PC_RESOLVE_FAILED = 0,  // DNS
    PC_CONNECT_REFUSED,
    PC_CONNECT_TIMEOUT,
    PC_CONNECT_ERROR,  // unreachable, ...
    PC_HANDSHAKE_OK,
    PC_HANDSHAKE_FAILED,  // OpenSSL error, alert, close, reset, not TLS
    PC_HANDSHAKE_TIMEOUT,
} pc_stage;

typedef struct pc_params {
    struct sockaddr_storage peer;
    socklen_t peer_len;
    const char *sni;          // NULL: none
    uint32_t versions;        // bit set (never 0)
    const char *cipher_list;  // OpenSSL TLS ≤ 1.2 list (NULL: the library's default)
    const char *groups;       // NULL: default
    const char *sigalgs;      // NULL: default
    bool verify;              // verify the chain and the name like CloudFront
    const char *ca_file, *ca_path;
    X509_STORE *store;  // when set: this store instead of loading ca_file/ca_path
    uint32_t connect_timeout_ms, handshake_timeout_ms;
    // live capture of this connection (probe.c): called once the local port is bound
    void (*on_bound)(void *user, const struct sockaddr_storage *local);
    void *user;
} pc_params;

typedef struct pc_alert {
    uint8_t level, desc;
} pc_alert;

enum { PC_MAX_ALERTS = 8 };

typedef struct pc_result {
    pc_stage stage;
    int sys_errno;
    char error[256];           // OpenSSL's or the system's reason
    uint16_t version, cipher;  // negotiated (0: none)
    long verify_result;        // X509_V_OK when fine or not checked
    struct sockaddr_storage local;
    bool bound;
    pw_log log;
    // the client's view of the handshake (message callback)
    uint32_t num_alerts[2];
    pc_alert alerts[2][PC_MAX_ALERTS];  // per direction (dissect's tls_dir), in order
    bool cert_request;                  // the server sent a CertificateRequest
    uint32_t num_chain;
    uint8_t *chain_der[TLS_MAX_CERTS];
    uint32_t chain_len[TLS_MAX_CERTS];
} pc_result;

// probe_run_store: probe_run with a trust store loaded beforehand (NULL: load ca_file/ca_path
// at each connection), for callers that drop privileges after starting (capture).
probe_result *probe_run_store(analyzer *a, const probe_config *c, X509_STORE *store, char *err,
                              size_t errlen) __attribute__((warn_unused_result));

// pc_connect runs one connection. false only for a configuration error (err) or no memory.
bool pc_connect(const pc_params *p, pc_result *r, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void pc_result_free(pc_result *r);

// pc_resolve fills addr from host (an IP literal or a name). false + gai message on failure.
bool pc_resolve(const char *host, uint16_t port, struct sockaddr_storage *addr, socklen_t *len,
                char *err, size_t errlen) __attribute__((warn_unused_result));
bool pc_is_ip_literal(const char *host);

// The profile's offer as OpenSSL strings (client.c). Each returns false when out of space.
void pc_cipher_list(const analyzer_offer *o, char *out, size_t outlen);
void pc_group_list(const analyzer_offer *o, bool tls13, char *out, size_t outlen);
void pc_sigalg_list(const analyzer_offer *o, bool tls13, char *out, size_t outlen);
uint32_t pc_offer_versions(const analyzer_offer *o);

#endif
