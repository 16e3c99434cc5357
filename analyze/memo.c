// memo.c — what earlier connections showed about a server, applied to later verdicts.
//
// TLS 1.3 encrypts the server's Certificate, so a client's cleartext unknown_ca alone cannot
// tell a missing intermediate from a root the client does not trust. But the same server
// (address, port, SNI) usually also serves TLS 1.2 connections whose chain is visible: when the
// last such chain was complete and verified against the trust store, a later TLS 1.3 unknown_ca
// from the client means the client does not trust that root (cert_untrusted_ca, medium).
//
// The memo sees verdicts in output order (one thread: analyzer_run; --threads: the merge in
// analyzer_account), so the result does not depend on the number of threads. It is a fixed
// table of AN_MEMO_SERVERS servers, least recently used evicted, so memory does not grow with
// the input. Per connection it costs one hash of (address, port, SNI) and one probe, and only for
// verdicts with a chain or a TLS 1.3 unknown_ca.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"

enum {
    MEMO_BUCKETS = 2 * AN_MEMO_SERVERS,  // power of two
    MEMO_NONE = -1,
    ALERT_UNKNOWN_CA = 48,
    TLS13 = 0x0304,
};

typedef struct memo_entry {
    tls_endpoint server;
    uint32_t hash;
    int16_t prev, next;  // LRU list (head: most recent)
    int16_t hnext;       // bucket chain
    bool used;
    uint32_t num_certs;
    uint32_t cert_frame;
    uint64_t conn_id;
    char sni[TLS_MAX_SNI_LEN + 1];
    char chain_sha256[65];
    char root[512];
    char leaf[512];
} memo_entry;

struct an_memo {
    int16_t head, tail;
    int16_t free_head;  // unused slots, chained through hnext
    int16_t buckets[MEMO_BUCKETS];
    memo_entry e[AN_MEMO_SERVERS];
};

an_memo *an_memo_new(void) {
    an_memo *m = calloc(1, sizeof *m);
    if (!m) {
        return NULL;
    }
    m->head = m->tail = MEMO_NONE;
    for (size_t i = 0; i < MEMO_BUCKETS; i++) {
        m->buckets[i] = MEMO_NONE;
    }
    for (int16_t i = 0; i < AN_MEMO_SERVERS; i++) {
        m->e[i].hnext = i + 1 < AN_MEMO_SERVERS ? (int16_t)(i + 1) : MEMO_NONE;
    }
    m->free_head = 0;
    return m;
}

void an_memo_free(an_memo *m) {
    free(m);
}

void an_chain_root(const x509_info *certs, uint32_t n, char *out, size_t outlen) {
    out[0] = '\0';
    if (n == 0) {
        return;
    }
    // Walk issuer links from the leaf through the certificates that were sent (in any order);
    // the root is the self-signed certificate reached, else the issuer of the last one.
    const x509_info *cur = &certs[0];
    for (uint32_t step = 0; step < n && !cur->self_signed; step++) {
        const x509_info *up = NULL;
        for (uint32_t i = 0; i < n && !up; i++) {
            if (&certs[i] != cur && !certs[i].parse_error &&
                strcmp(certs[i].subject, cur->issuer) == 0) {
                up = &certs[i];
            }
        }
        if (!up) {
            break;
        }
        cur = up;
    }
    an_copy(out, outlen, cur->self_signed ? cur->subject : cur->issuer);
}

// key_hash: FNV-1a over the server's address, port and SNI.
static uint32_t key_hash(const tls_endpoint *ep, const char *sni) {
    uint32_t h = 2166136261u;
    size_t alen = ep->family == 6 ? 16 : 4;
    h = (h ^ ep->family) * 16777619u;
    for (size_t i = 0; i < alen; i++) {
        h = (h ^ ep->addr[i]) * 16777619u;
    }
    h = (h ^ (ep->port & 0xff)) * 16777619u;
    h = (h ^ (ep->port >> 8)) * 16777619u;
    for (const char *p = sni; *p; p++) {
        h = (h ^ (uint8_t)*p) * 16777619u;
    }
    return h;
}

static bool same_key(const memo_entry *e, uint32_t h, const tls_endpoint *ep, const char *sni) {
    size_t alen = ep->family == 6 ? 16 : 4;
    return e->hash == h && e->server.family == ep->family && e->server.port == ep->port &&
           memcmp(e->server.addr, ep->addr, alen) == 0 && strcmp(e->sni, sni) == 0;
}

static int16_t lookup(const an_memo *m, uint32_t h, const tls_endpoint *ep, const char *sni) {
    for (int16_t i = m->buckets[h & (MEMO_BUCKETS - 1)]; i != MEMO_NONE; i = m->e[i].hnext) {
        if (same_key(&m->e[i], h, ep, sni)) {
            return i;
        }
    }
    return MEMO_NONE;
}

static void lru_unlink(an_memo *m, int16_t i) {
    memo_entry *e = &m->e[i];
    if (e->prev != MEMO_NONE) {
        m->e[e->prev].next = e->next;
    } else {
        m->head = e->next;
    }
    if (e->next != MEMO_NONE) {
        m->e[e->next].prev = e->prev;
    } else {
        m->tail = e->prev;
    }
    e->prev = e->next = MEMO_NONE;
}

static void lru_push_front(an_memo *m, int16_t i) {
    memo_entry *e = &m->e[i];
    e->prev = MEMO_NONE;
    e->next = m->head;
    if (m->head != MEMO_NONE) {
        m->e[m->head].prev = i;
    }
    m->head = i;
    if (m->tail == MEMO_NONE) {
        m->tail = i;
    }
}

static void touch(an_memo *m, int16_t i) {
    if (m->head != i) {
        lru_unlink(m, i);
        lru_push_front(m, i);
    }
}

// forget removes entry i from its bucket and the LRU list; the slot becomes free.
static void forget(an_memo *m, int16_t i) {
    int16_t *pp = &m->buckets[m->e[i].hash & (MEMO_BUCKETS - 1)];
    while (*pp != i) {
        pp = &m->e[*pp].hnext;
    }
    *pp = m->e[i].hnext;
    lru_unlink(m, i);
    m->e[i].used = false;
    m->e[i].hnext = m->free_head;
    m->free_head = i;
}

// insert takes a free slot (or the least recently used one) for the key.
static int16_t insert(an_memo *m, uint32_t h, const tls_endpoint *ep, const char *sni) {
    if (m->free_head == MEMO_NONE) {
        forget(m, m->tail);
    }
    int16_t i = m->free_head;
    m->free_head = m->e[i].hnext;
    memo_entry *e = &m->e[i];
    e->used = true;
    e->hash = h;
    e->server = *ep;
    an_copy(e->sni, sizeof e->sni, sni);
    e->chain_sha256[0] = '\0';
    e->hnext = m->buckets[h & (MEMO_BUCKETS - 1)];
    m->buckets[h & (MEMO_BUCKETS - 1)] = i;
    lru_push_front(m, i);
    return i;
}

static void remember(memo_entry *e, const verdict *v) {
    if (strcmp(e->chain_sha256, v->chain_sha256) != 0) {
        an_copy(e->chain_sha256, sizeof e->chain_sha256, v->chain_sha256);
        an_chain_root(v->certs, v->num_certs, e->root, sizeof e->root);
        an_copy(e->leaf, sizeof e->leaf, v->certs[0].subject);
        e->num_certs = v->num_certs;
    }
    e->conn_id = v->conn_id;
    e->cert_frame = v->cert_frame;
}

// prepend_evidence puts the memo's evidence before what the verdict already lists.
static void prepend_evidence(verdict *v, const verdict_evidence *add, uint32_t n) {
    uint32_t keep =
        v->num_evidence + n > VERDICT_MAX_EVIDENCE ? VERDICT_MAX_EVIDENCE - n : v->num_evidence;
    memmove(&v->evidence[n], &v->evidence[0], keep * sizeof v->evidence[0]);
    memcpy(&v->evidence[0], add, n * sizeof add[0]);
    v->num_evidence = keep + n;
}

// refine rewrites a TLS 1.3 unknown_ca verdict as cert_untrusted_ca from entry e.
static void refine(verdict *v, const memo_entry *e) {
    // What this connection shows on its own stays, as a finding (the ticket bundle's
    // evidence.pcap, for one, holds the failing connections only).
    char own[VERDICT_TEXT];
    snprintf(own, sizeof own, "on its own: %.480s", v->summary);
    verdict_add_finding(v, v->cause, own);
    v->cause = CAUSE_CERT_UNTRUSTED_CA;
    v->confidence = CONF_MEDIUM;
    snprintf(v->summary, sizeof v->summary,
             "TLS 1.3 hid the certificate, but conn %llu to the same server and SNI showed a "
             "complete chain that verifies up to '%.150s'; this client's unknown_ca means it does "
             "not trust that root (CloudFront trusts only publicly trusted CAs)",
             (unsigned long long)e->conn_id, e->root);
    verdict_evidence add[2];
    memset(add, 0, sizeof add);
    an_copy(add[0].key, sizeof add[0].key, "same_server_chain");
    add[0].frame = e->cert_frame;
    snprintf(add[0].value, sizeof add[0].value,
             "conn %llu (same server, port and SNI, earlier): %u certificate(s), leaf '%.150s', "
             "chain sha256 %s, verified against the trust store",
             (unsigned long long)e->conn_id, e->num_certs, e->leaf, e->chain_sha256);
    an_copy(add[1].key, sizeof add[1].key, "trusted_root");
    add[1].frame = e->cert_frame;
    snprintf(add[1].value, sizeof add[1].value,
             "%.200s: in the trust store tlsdiag used (%.200s), not in this client's", e->root,
             v->trust_store);
    prepend_evidence(v, add, 2);
    char hostport[80], port[8];
    an_endpoint_word(&v->server, hostport, sizeof hostport, port);
    an_text_vars vars = {.sni = an_sni_word(v),
                         .server = hostport,
                         .port = port,
                         .issuer = "",
                         .root = e->root,
                         .order = "",
                         .versions = "",
                         .profile = v->profile,
                         .profile_versions = ""};
    an_texts_fill(CAUSE_CERT_UNTRUSTED_CA, &vars, v);
}

bool an_memo_may_refine(const verdict *v) {
    return v->num_certs == 0 && v->outcome == OUTCOME_FAILED && v->version == TLS13 &&
           v->has_alert && !v->alert_encrypted && v->alert_sender == PARTY_CLIENT &&
           v->alert_desc == ALERT_UNKNOWN_CA &&
           (v->cause == CAUSE_CERT_MISSING_INTERMEDIATE || v->cause == CAUSE_UNKNOWN);
}

void an_memo_apply(an_memo *m, verdict *v) {
    bool chain = v->num_certs > 0;
    bool tls13_unknown_ca = an_memo_may_refine(v);
    if (!chain && !tls13_unknown_ca) {
        return;
    }
    const char *sni = v->has_sni ? v->sni : "";
    size_t kept = verdict_sni_kept(v);
    if (v->has_sni && (memchr(v->sni, '\0', kept) != NULL || v->sni_len > kept)) {
        // The key is a C string: "a\0b" would be "a". Such an SNI is not a host name any
        // server has a site for; nothing is remembered or looked up for it.
        return;
    }
    uint32_t h = key_hash(&v->server, sni);
    int16_t i = lookup(m, h, &v->server, sni);
    if (chain) {
        bool verified = strcmp(v->verify_error, "ok") == 0 && !v->certs[0].parse_error;
        if (!verified) {
            if (i != MEMO_NONE) {
                forget(m, i);  // the server now sends a chain that does not verify
            }
            return;
        }
        if (i == MEMO_NONE) {
            i = insert(m, h, &v->server, sni);
        } else {
            touch(m, i);
        }
        remember(&m->e[i], v);
        return;
    }
    if (i != MEMO_NONE) {
        touch(m, i);
        refine(v, &m->e[i]);
    }
}
