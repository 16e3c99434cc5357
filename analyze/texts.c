// texts.c — fix steps and dead ends per cause: the one table of advice the verdicts carry.
//
// Placeholders ({sni}, {server}, {port}, {issuer}, {root}, {order}, {versions}) are filled per
// connection by an_text_expand. Dead ends come from seed/cloudfront-502-ssl-handshake.md and
// the AWS documents cited in shared/reference/cloudfront.md.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "analyze_internal.h"

enum { MAX_LINES = 4 };

typedef struct cause_text {
    const char *fix[MAX_LINES];
    const char *dead_end[MAX_LINES];
} cause_text;

static const cause_text text_ok = {{NULL}, {NULL}};

static const cause_text text_cert_expired = {
    {"renew the certificate for {sni} and install it on the origin {server} (certbot renew, "
     "or "
     "re-issue at your CA), then reload the web server",
     "check what the origin serves now: openssl s_client -connect {server}:{port} -servername "
     "{sni} -showcerts | openssl x509 -noout -dates"},
    {"renewing the certificate but not reloading nginx/Apache: the old certificate is still "
     "served from memory",
     "invalidating the CloudFront cache: the 502 comes from the origin handshake, not from "
     "cached content"}};

static const cause_text text_cert_not_yet_valid = {
    {"check the origin's clock and the certificate's notBefore; serve a certificate that is "
     "already valid, or wait until notBefore passes",
     "if the certificate was issued with a future date, re-issue it"},
    {"changing CloudFront settings: edges validate against their own (correct) clocks"}};

static const cause_text text_cert_intermediate_expired = {
    {"replace the intermediate in the served chain with the current one from your CA "
     "(download the CA's current bundle; the expired one is {issuer})",
     "rebuild fullchain.pem = leaf + current intermediate(s) and reload the web server"},
    {"renewing only the leaf certificate while keeping the old chain file"}};

static const cause_text text_cert_self_signed = {
    {"install a certificate for {sni} from a CA in Mozilla's list (e.g. Let's Encrypt, ACM "
     "via "
     "a load balancer, a commercial CA)",
     "serve it with its full chain: nginx ssl_certificate -> fullchain.pem"},
    {"switching the origin protocol policy to HTTP Only hides the problem and sends traffic "
     "in "
     "clear",
     "uploading the self-signed certificate to CloudFront/ACM: CloudFront trusts only "
     "Mozilla's "
     "CA list for origins"}};

static const cause_text text_cert_untrusted_ca = {
    {"the chain ends at '{root}', which is not in Mozilla's CA list: get the origin "
     "certificate "
     "for {sni} from a publicly trusted CA",
     "or put a load balancer with an ACM certificate in front of the origin"},
    {"adding your private root to the origin's own trust store: CloudFront's store is what "
     "matters",
     "switching to HTTP Only: hides the problem and sends traffic in clear",
     "testing with your own CA file (openssl s_client -CAfile, curl --cacert): the chain "
     "verifies there; CloudFront uses only its own store"}};

static const cause_text text_cert_missing_intermediate = {
    {"serve the full chain: nginx ssl_certificate must point to fullchain.pem (leaf first, "
     "then "
     "the intermediate {missing})",
     "Apache: SSLCertificateFile with the leaf followed by the intermediate (or "
     "SSLCertificateChainFile on 2.4.7 and older); HAProxy: one PEM with leaf + intermediates",
     "verify: openssl s_client -connect {server}:{port} -servername {sni} -showcerts must "
     "show 2+ certificates"},
    {"\"it works in my browser\": browsers fetch missing intermediates via AIA or their "
     "cache; "
     "CloudFront does not",
     "re-issuing the leaf certificate: the new one will lack the intermediate the same way"}};

static const cause_text text_cert_chain_misordered = {
    {"reorder the certificate file: leaf first, then each issuer in turn ({order})",
     "rebuild it as cat leaf.pem intermediate.pem > fullchain.pem and reload"},
    {"testing with openssl s_client or a browser: both re-order the chain silently; "
     "CloudFront (s2n) re-orders the intermediates but takes the first certificate as the "
     "leaf"}};

static const cause_text text_cert_name_mismatch = {
    {"serve a certificate whose SAN covers {sni} (the origin domain, or the viewer Host when "
     "Host is forwarded)",
     "or set the distribution's Origin domain to a name the certificate covers",
     "if the origin hosts several sites, make sure the vhost for {sni} exists (server_name in "
     "nginx) so the origin does not fall back to its default certificate"},
    {"changing the origin's DNS does not help: the name checked is the SNI CloudFront sends",
     "a wildcard *.example.com does not cover example.com nor a.b.example.com (RFC 6125)"}};

static const cause_text text_cert_wrong_purpose = {
    {"re-issue the certificate with extendedKeyUsage serverAuth (and keyUsage "
     "digitalSignature/keyEncipherment)"},
    {"reusing a client (clientAuth-only) or code-signing certificate on the server"}};

static const cause_text text_cert_weak_key = {
    {"re-issue the certificate with an RSA 2048-4096 or an ECDSA P-256/P-384 key"},
    {"raising the cipher strength: the key in the certificate is what is refused"}};

static const cause_text text_cert_weak_signature = {
    {"re-issue the certificate (and use current intermediates) signed with SHA-256 or better"},
    {"changing ssl_ciphers: the certificate's own signature is the problem"}};

static const cause_text text_sni_missing = {
    {"configure a default certificate that covers the names clients use without SNI, or make "
     "the client send SNI"},
    {"adding names to a vhost the client never selects"}};

static const cause_text text_sni_rejected = {
    {"configure a site/vhost for {sni} on the origin (nginx server_name {sni}; Apache "
     "ServerName/ServerAlias), or turn off strict SNI",
     "if Host is forwarded, every viewer domain needs a matching vhost"},
    {"replacing the certificate: the server refused the name before sending any certificate"}};

static const cause_text text_protocol_version_mismatch = {
    {"enable TLS 1.2 on the origin (nginx ssl_protocols TLSv1.2 TLSv1.3; Apache SSLProtocol "
     "-all +TLSv1.2 +TLSv1.3)",
     "or set Origin SSL Protocols to include TLSv1.2 in the distribution's origin settings "
     "(client offered {versions})"},
    {"{if_no_tls13}enabling only TLS 1.3 on the origin: CloudFront (profile {profile}) offers "
     "origins up to {profile_max}",
     "changing the viewer protocol policy: it governs viewer connections, not the origin"}};

static const cause_text text_no_shared_cipher = {
    {"enable at least one of CloudFront's origin cipher suites, e.g. "
     "ECDHE-RSA-AES128-GCM-SHA256"
     " (nginx ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:...)",
     "check: openssl s_client -connect {server}:{port} -servername {sni} -tls1_2 -cipher "
     "ECDHE-RSA-AES128-GCM-SHA256"},
    {"offering only CHACHA20, DHE or plain-RSA GCM suites: none is in CloudFront's origin "
     "list"}};

static const cause_text text_no_shared_group = {
    {"allow P-256, P-384 or X25519 for ECDHE on the origin (nginx ssl_ecdh_curve "
     "X25519:prime256v1:secp384r1)"},
    {"restricting the origin to P-521, X448, ffdhe or post-quantum groups only"}};

static const cause_text text_no_shared_signature_algorithm = {
    {"use an RSA or ECDSA (P-256/P-384) certificate the server can sign with using PKCS#1 or "
     "ECDSA with SHA-256/384",
     "do not restrict the origin's signature algorithms to RSA-PSS or EdDSA"},
    {"swapping to an Ed25519 certificate: CloudFront does not list EdDSA schemes"}};

static const cause_text text_dh_too_small = {
    {"use ECDHE suites, or DH parameters of at least 2048 bits (openssl dhparam 2048)"},
    {"lowering the client's requirements: they are not configurable on CloudFront"}};

static const cause_text text_client_cert_required = {
    {"enable origin mTLS on the distribution (a client certificate from ACM that the origin "
     "trusts), or stop requiring client certificates for CloudFront's requests (nginx "
     "ssl_verify_client off/optional, Apache SSLVerifyClient none/optional)"},
    {"restricting access by client certificate without origin mTLS configured: use a secret "
     "custom header or the origin-facing prefix list instead"}};

static const cause_text text_client_cert_rejected = {
    {"add the client certificate's issuer '{issuer}' to the origin's client-CA store (nginx "
     "ssl_client_certificate, Apache SSLCACertificateFile, haproxy ca-file), or import into ACM "
     "for the distribution's origin mTLS a certificate issued by a CA the origin trusts",
     "check that the client certificate allows TLS client authentication (extended key usage "
     "clientAuth) and is within its validity period; renew it in ACM before it expires"},
    {"turning off origin mTLS on the distribution: the origin then sees no certificate at all "
     "and refuses as before (client_cert_required)"}};

static const cause_text text_renegotiation_refused = {
    {"stop renegotiating on the origin (e.g. Apache per-directory SSLVerifyClient or cipher "
     "changes trigger renegotiation)"},
    {"enabling renegotiation on the client: CloudFront does not support renegotiation"}};

static const cause_text text_not_tls = {
    {"the port answers with a non-TLS protocol: point the distribution's HTTPS "
     "port at the TLS "
     "listener, or enable TLS on {server}:{port}",
     "or set the origin protocol policy to HTTP Only if this port is plain HTTP "
     "by design (and "
     "accept clear text to the origin)"},
    {"renewing the certificate: the server never spoke TLS"}};

// A TCP load balancer in front of the origin ends a connection this way too (the s2nnet field
// set: haproxy's SNI allow-list, its backend down).
#define LB_STEP                                                                                  \
    "a TCP load balancer or proxy in front of the origin does this when it refuses the SNI (an " \
    "allow-list) or cannot reach its backend: check its log at that time (haproxy: NOSRV, "      \
    "termination state PR or SC)"

static const cause_text text_server_reset = {
    {"look at the origin's TLS/web server error log at the time of the reset; a "
     "TLS-terminating "
     "proxy or firewall (IPS) may be resetting the connection",
     "reproduce: openssl s_client -connect {server}:{port} -servername {sni}", LB_STEP},
    {"assuming a certificate problem: the server reset before sending any certificate"}};

static const cause_text text_server_closed = {
    {"look at the origin's TLS error log: the server closed right after the ClientHello "
     "without an alert (often no certificate configured for {sni}, or no shared cipher in a "
     "server that does not send alerts)",
     "reproduce: openssl s_client -connect {server}:{port} -servername {sni}", LB_STEP},
    {"assuming a certificate problem: no certificate was sent"}};

static const cause_text text_server_timeout = {
    {"the TCP connection was accepted but nothing answered the ClientHello: check that the "
     "process on {server}:{port} speaks TLS and is not overloaded (accept queue, worker "
     "limits)"},
    {"opening the firewall: TCP already connected"}};

static const cause_text text_server_flight_lost = {
    {"path MTU black hole: allow ICMP 'fragmentation needed' / 'packet too big' to the "
     "origin, "
     "or lower the origin's MSS/MTU (e.g. iptables TCPMSS --clamp-mss-to-pmtu)",
     "shrinking the certificate chain (no root, no extra certificates) also helps"},
    {"changing certificates or ciphers: small handshakes succeed, only large flights are "
     "lost"}};

static const cause_text text_connection_refused = {
    {"nothing listens on {server}:{port}: start the web server or fix the origin port in the "
     "distribution (HTTPS port)"},
    {"editing TLS settings: TCP never connected"}};

static const cause_text text_connect_timeout = {
    {"allow CloudFront's origin-facing ranges in the firewall / security group (managed "
     "prefix "
     "list com.amazonaws.global.cloudfront.origin-facing) on port {port}",
     "note: CloudFront reports this as 504 Gateway Timeout, not 502"},
    {"looking for a TLS problem: the SYN was never answered"}};

static const cause_text text_capture_incomplete = {
    {"capture again with full packets (tcpdump -s 0) on the origin's interface, filtered to "
     "CloudFront's ranges, and check for kernel drops",
     "or run tlsdiag probe {sni} against the origin"},
    {"blaming either peer: the bytes that would decide are missing from the capture"}};

static const cause_text text_client_hello_rejected = {
    {"the origin's TLS stack or a device in front of it (load balancer, firewall, IPS) refuses "
     "the ClientHello itself: update it, or find which extension it chokes on with "
     "openssl s_client -connect {server}:{port} -servername {sni} (add or drop -groups, "
     "-sigalgs, -alpn until it passes)",
     "a ClientHello that spans several TCP segments (post-quantum ML-KEM key shares make "
     "CloudFront's about 1.6 KB): the origin and every device in front of it must read the "
     "hello until its record is complete, however many segments carry it; confirm that a "
     "small one succeeds (openssl s_client -connect {server}:{port} -servername {sni} "
     "-groups X25519) and update or reconfigure the device that reads only the first segment",
     "until it is fixed, a CloudFront policy without ML-KEM (the non-PQ CloudFront-Upstream "
     "policies) sends a hello that fits one segment"},
    {"changing the certificate: the server refused before it sent one",
     "raising timeouts: the refusal is immediate"}};

static const cause_text text_handshake_integrity_failure = {
    {"check that the origin's private key matches its certificate: openssl x509 -noout "
     "-pubkey -in cert.pem and openssl pkey -pubout -in key.pem must print the same key",
     "look for a device that terminates or rewrites TLS between CloudFront and {server} (TLS "
     "offload, IPS, WAN optimizer) and for load-balanced origins sharing session tickets or "
     "caches with different keys"},
    {"renewing the certificate alone: the certificate was accepted, the keys did not agree",
     "changing cipher suites: the suite was agreed on; the Finished check failed"}};

static const cause_text text_client_closed = {
    {"{if_other_client}nothing on the wire blames the origin: look at the client's own log or "
     "settings (its trust store, certificate pinning, timeouts, a scanner that stops after the "
     "ServerHello)",
     "{if_cloudfront_client}CloudFront's client refuses a certificate without an alert: check "
     "the one the origin serves for {sni} as CloudFront would (dates, the chain up to a root in "
     "Mozilla's list, a SAN for {sni}, EKU serverAuth): openssl s_client -connect "
     "{server}:{port} -servername {sni} -showcerts -verify_return_error",
     "for TLS 1.3, capture with SSLKEYLOGFILE on a test client or run tlsdiag probe to see the "
     "certificate it was given: openssl s_client -connect {server}:{port} -servername {sni} "
     "-showcerts"},
    {"changing the origin's TLS configuration before the client's reason is known"}};

static const cause_text text_unknown = {
    {"run an active check: openssl s_client -connect {server}:{port} -servername {sni} "
     "-showcerts, or tlsdiag probe",
     "for TLS 1.3, capture with SSLKEYLOGFILE set on a test client to see the encrypted "
     "handshake"},
    {NULL}};

// The text table, generated from the cause table in causes.h: each row names its texts above.
static const cause_text *const texts[CAUSE__COUNT] = {
#define X(e, num, id, meaning, fn, flags, refs, text) [CAUSE_##e] = &text,
    CAUSE_TABLE(X)
#undef X
};

// var finds placeholder name[0..len) in v; *shell says whether its value is quoted as a shell
// word: {sni}, {server} and {port} are the ones the templates put into command lines.
static const char *var(const an_text_vars *v, const char *name, size_t len, bool *shell) {
    static const struct {
        const char *name;
        size_t off;
        bool shell;
    } names[] = {
        {"sni", offsetof(an_text_vars, sni), true},
        {"server", offsetof(an_text_vars, server), true},
        {"port", offsetof(an_text_vars, port), true},
        {"issuer", offsetof(an_text_vars, issuer), false},
        {"root", offsetof(an_text_vars, root), false},
        {"order", offsetof(an_text_vars, order), false},
        {"versions", offsetof(an_text_vars, versions), false},
        {"missing", offsetof(an_text_vars, missing), false},
        {"profile", offsetof(an_text_vars, profile), false},
        {"profile_max", offsetof(an_text_vars, profile_max), false},
        {"profile_versions", offsetof(an_text_vars, profile_versions), false},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) {
            const char *s = *(const char *const *)((const char *)v + names[i].off);
            *shell = names[i].shell;
            return s ? s : "?";
        }
    }
    return NULL;
}

// copy_cut copies the bytes of src up to its NUL or n, at most room of them, into dst (no NUL
// written) and returns how many: a memcpy per run, not a store per byte.
static size_t copy_cut(char *dst, size_t room, const char *src, size_t n) {
    size_t len = strnlen(src, n < room ? n : room);
    memcpy(dst, src, len);
    return len;
}

void an_text_expand(const char *tmpl, const an_text_vars *vars, char *out, size_t outlen) {
    size_t w = 0;
    char word[VERDICT_TEXT];
    for (const char *p = tmpl; *p && w + 1 < outlen;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        bool shell = false;
        const char *val = close ? var(vars, p + 1, (size_t)(close - p - 1), &shell) : NULL;
        if (val) {
            // The quoting happens here, once, so no template can forget it. A value no shell
            // word can carry (callers pass only valid host names and addresses) prints as "?".
            if (shell && !analyze_shell_quote(val, strlen(val), word, sizeof word)) {
                an_copy(word, sizeof word, "?");
            }
            if (shell && w + strlen(word) + 1 > outlen) {
                break;  // a quoted word is never cut: the line ends before it
            }
            w += copy_cut(out + w, outlen - 1 - w, shell ? word : val, SIZE_MAX);
            p = close + 1;
        } else {
            // the literal text up to the next '{' (a '{' that opens no placeholder: itself)
            const char *brace = *p == '{' ? p + 1 : strchr(p, '{');
            size_t run = brace ? (size_t)(brace - p) : strlen(p);
            w += copy_cut(out + w, outlen - 1 - w, p, run);
            p += run;
        }
    }
    out[w] = '\0';
}

bool an_texts_any(cause_id c) {
    return (unsigned)c < CAUSE__COUNT && texts[c] != NULL &&
           (texts[c]->fix[0] != NULL || texts[c]->dead_end[0] != NULL);
}

// line_if: the line without its leading condition, or NULL when the condition does not hold:
// {if_no_tls13} (the profile offers no TLS 1.3: a TLS 1.3-only origin is then no dead end),
// {if_cloudfront_client} / {if_other_client} (whether the client is CloudFront's).
static const char *line_if(const char *line, const an_text_vars *vars) {
    static const struct {
        const char *cond;
        size_t off;  // the bool in an_text_vars the line needs
        bool want;
    } conds[] = {
        {"{if_no_tls13}", offsetof(an_text_vars, profile_tls13), false},
        {"{if_cloudfront_client}", offsetof(an_text_vars, client_cloudfront), true},
        {"{if_other_client}", offsetof(an_text_vars, client_cloudfront), false},
    };
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
        size_t n = strlen(conds[i].cond);
        if (strncmp(line, conds[i].cond, n) == 0) {
            bool have = *(const bool *)((const char *)vars + conds[i].off);
            return have == conds[i].want ? line + n : NULL;
        }
    }
    return line;
}

void an_texts_fill(cause_id c, const an_text_vars *vars, verdict *v) {
    v->num_fix = v->num_dead_ends = 0;
    if ((unsigned)c >= CAUSE__COUNT || texts[c] == NULL) {
        return;
    }
    for (size_t i = 0; i < MAX_LINES && texts[c]->fix[i] && v->num_fix < VERDICT_MAX_STEPS; i++) {
        const char *line = line_if(texts[c]->fix[i], vars);
        if (line) {
            an_text_expand(line, vars, v->fix[v->num_fix++], VERDICT_TEXT);
        }
    }
    for (size_t i = 0;
         i < MAX_LINES && texts[c]->dead_end[i] && v->num_dead_ends < VERDICT_MAX_STEPS; i++) {
        const char *line = line_if(texts[c]->dead_end[i], vars);
        if (line) {
            an_text_expand(line, vars, v->dead_ends[v->num_dead_ends++], VERDICT_TEXT);
        }
    }
}
