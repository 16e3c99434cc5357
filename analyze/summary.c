// summary.c — counting verdicts per cause, SNI, client network and served certificate (bounded).
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"
#include "summary_internal.h"

enum {
    DIM_SNI = 0,
    DIM_NETWORK,
    DIM_CERT,
    DIM_SERVER,  // SNI at one server address and port: is a name intermittent? (not exported)
    DIM__COUNT,
    INDEX_SLOTS = 2 * AN_SUMMARY_MAX_KEYS,  // open addressing, load ≤ 1/2
};

typedef struct key_entry {
    summary_count c;
    uint32_t fails[CAUSE__COUNT];
} key_entry;

// An index slot holds the entry's key hash and length beside its number, so that a probe
// compares them before it reads the entry: entries are ~600 bytes each, thousands of them per
// table, and each one read is a cache miss (perf: `count` 3 % of the CPU on the full file).
typedef struct index_slot {
    int32_t i;  // entry number, -1 empty
    uint32_t hash;
    uint16_t key_len;
    bool absent;
} index_slot;

// The hot/cold split: a succeeded handshake (most of them) only adds to its keys' ok counts,
// kept in a compact array of their own (ok[i] is e[i].c.ok, which holds 0 until exported), so
// counting one reads the entry's key bytes and nothing else of it.
typedef struct key_table {
    key_entry *e;  // AN_SUMMARY_MAX_KEYS + 1 ("other" is the last)
    uint64_t *ok;  // AN_SUMMARY_MAX_KEYS + 1
    size_t n;
    bool other_used;
    index_slot *index;      // INDEX_SLOTS
    summary_count *sorted;  // exported copy
} key_table;

// A DIM_SERVER key: the server endpoint's bytes, then the SNI (cut to what fits).
enum { SERVER_KEY_PREFIX = 1 + 16 + 2 };

struct an_summary {
    summary pub;
    uint64_t fails[CAUSE__COUNT];
    verdict *example[CAUSE__COUNT];
    key_table dim[DIM__COUNT];
};

static bool table_init(key_table *t) {
    t->e = calloc(AN_SUMMARY_MAX_KEYS + 1, sizeof *t->e);
    t->ok = calloc(AN_SUMMARY_MAX_KEYS + 1, sizeof *t->ok);
    t->index = malloc(INDEX_SLOTS * sizeof *t->index);
    t->sorted = calloc(AN_SUMMARY_MAX_KEYS + 1, sizeof *t->sorted);
    if (!t->e || !t->ok || !t->index || !t->sorted) {
        return false;
    }
    for (size_t i = 0; i < INDEX_SLOTS; i++) {
        t->index[i] = (index_slot){-1, 0, 0, false};
    }
    return true;
}

an_summary *an_summary_new(void) {
    an_summary *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    for (int d = 0; d < DIM__COUNT; d++) {
        if (!table_init(&s->dim[d])) {
            an_summary_free(s);
            return NULL;
        }
    }
    s->pub.dominant = CAUSE_OK;
    return s;
}

void an_summary_free(an_summary *s) {
    if (!s) {
        return;
    }
    for (int d = 0; d < DIM__COUNT; d++) {
        free(s->dim[d].e);
        free(s->dim[d].ok);
        free(s->dim[d].index);
        free(s->dim[d].sorted);
    }
    for (int c = 0; c < CAUSE__COUNT; c++) {
        free(s->example[c]);
    }
    free(s);
}

// hash: 8 bytes at a time, multiply-xor, folded to 32 bits (byte-wise FNV over every key of
// every verdict was ~600 instructions a handshake).
static uint32_t hash(const char *k, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    memcpy(&w, k + i, n - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

// set_key stores key[0..n) (n < sizeof c->key; NULs kept: an SNI "a\0b" is not "a").
static void set_key(summary_count *c, const char *key, size_t n) {
    memcpy(c->key, key, n);
    c->key[n] = '\0';
    c->key_len = (uint16_t)n;
}

// lookup finds or adds key[0..n) (absent: the "no such key" bucket, labelled key, which no
// key received equals) and returns its entry number; beyond the cap every new key lands in the
// "other" entry.
static size_t lookup(key_table *t, const char *key, size_t n, bool absent) {
    if (n >= sizeof t->e[0].c.key) {
        n = sizeof t->e[0].c.key - 1;
    }
    uint32_t h = hash(key, n);
    uint32_t slot = h % INDEX_SLOTS;
    for (;;) {
        int32_t i = t->index[slot].i;
        if (i < 0) {
            break;
        }
        const index_slot *x = &t->index[slot];
        if (x->hash == h && x->key_len == n && x->absent == absent &&
            memcmp(t->e[i].c.key, key, n) == 0) {
            return (size_t)i;
        }
        slot = (slot + 1) % INDEX_SLOTS;
    }
    if (t->n >= AN_SUMMARY_MAX_KEYS) {
        key_entry *o = &t->e[AN_SUMMARY_MAX_KEYS];
        if (!t->other_used) {
            t->other_used = true;
            set_key(&o->c, "other", 5);
        }
        return AN_SUMMARY_MAX_KEYS;
    }
    key_entry *e = &t->e[t->n];
    set_key(&e->c, key, n);
    e->c.absent = absent;
    t->index[slot] = (index_slot){(int32_t)t->n, h, (uint16_t)n, absent};
    return t->n++;
}

// count counts v under key[0..n); failure is verdict_is_failure(v).
static void count(key_table *t, const char *key, size_t n, bool absent, const verdict *v,
                  bool failure) {
    size_t i = lookup(t, key, n, absent);
    if (v->outcome == OUTCOME_SUCCEEDED && !failure) {
        t->ok[i]++;
    } else if (failure) {
        key_entry *e = &t->e[i];
        if (e->c.failed == 0 || v->first_ts_ns < e->c.first_fail_ns) {
            e->c.first_fail_ns = v->first_ts_ns;
        }
        if (v->first_ts_ns > e->c.last_fail_ns) {
            e->c.last_fail_ns = v->first_ts_ns;
        }
        e->c.failed++;
        e->c.predicted += v->predicted;
        e->fails[v->cause]++;
        if (e->fails[v->cause] > e->fails[e->c.top_cause] || e->c.top_cause == CAUSE_OK) {
            e->c.top_cause = v->cause;
        }
    }
}

// count_server counts v under its server address and port plus its SNI (or, absent, the label
// of the handshakes without one): the key that decides whether a name is intermittent.
static void count_server(an_summary *s, const verdict *v, const char *sni, size_t n, bool absent,
                         bool failure) {
    char key[TLS_MAX_SNI_LEN + 1];
    if (n > sizeof key - 1 - SERVER_KEY_PREFIX) {
        n = sizeof key - 1 - SERVER_KEY_PREFIX;
    }
    key[0] = (char)v->server.family;
    memcpy(key + 1, v->server.addr, 16);
    key[17] = (char)(v->server.port >> 8);
    key[18] = (char)(v->server.port & 0xff);
    memcpy(key + SERVER_KEY_PREFIX, sni, n);
    count(&s->dim[DIM_SERVER], key, SERVER_KEY_PREFIX + n, absent, v, failure);
}

// judged_find: the entry for profile (and why, unless NULL), or num_judged.
static size_t judged_find(const summary *p, const char *profile, const char *why) {
    size_t i = 0;
    while (i < p->num_judged && (strcmp(p->judged[i].profile, profile) != 0 ||
                                 (why && strcmp(p->judged[i].why, why) != 0))) {
        i++;
    }
    return i;
}

// count_judged counts v under the profile that judged it and its reason (the first eight seen;
// then under the first entry of the same profile): one profile can judge hellos of several
// policies (CloudFront-Upstream-2025 and its -PQ variant), and each reason is shown.
static void count_judged(summary *p, const verdict *v) {
    if (!v->profile[0]) {
        return;
    }
    size_t i = judged_find(p, v->profile, v->profile_why);
    if (i == p->num_judged) {
        if (i == sizeof p->judged / sizeof p->judged[0]) {
            i = judged_find(p, v->profile, NULL);
            if (i < p->num_judged) {
                p->judged[i].connections++;
            }
            return;
        }
        an_copy(p->judged[i].profile, sizeof p->judged[i].profile, v->profile);
        an_copy(p->judged[i].why, sizeof p->judged[i].why, v->profile_why);
        p->num_judged++;
    }
    p->judged[i].connections++;
}

void an_summary_add(an_summary *s, const verdict *v) {
    summary *p = &s->pub;
    bool failure = verdict_is_failure(v);
    p->connections++;
    count_judged(p, v);
    if ((unsigned)v->cause < CAUSE__COUNT) {
        p->by_cause[v->cause]++;
    }
    switch (v->outcome) {
        case OUTCOME_SUCCEEDED:
            p->succeeded++;
            break;
        case OUTCOME_FAILED:
            p->failed++;
            break;
        case OUTCOME_INCOMPLETE:
            p->incomplete++;
            break;
        case OUTCOME_NOT_TLS:
            p->not_tls++;
            break;
    }
    if (v->predicted) {
        p->predicted++;
    }
    if (failure && (unsigned)v->cause < CAUSE__COUNT) {
        if (p->failed + p->predicted == 1 || v->first_ts_ns < p->first_fail_ns) {
            p->first_fail_ns = v->first_ts_ns;
        }
        if (v->first_ts_ns > p->last_fail_ns) {
            p->last_fail_ns = v->first_ts_ns;
        }
        s->fails[v->cause]++;
        if (v->predicted) {
            p->by_cause_predicted[v->cause]++;
        } else {
            p->by_cause_failed[v->cause]++;
        }
        if (!s->example[v->cause]) {
            s->example[v->cause] = malloc(sizeof(verdict));
            if (s->example[v->cause]) {
                *s->example[v->cause] = *v;
            }
        }
    }
    if (v->has_sni) {
        size_t kept = verdict_sni_kept(v);
        count(&s->dim[DIM_SNI], v->sni, kept, false, v, failure);
        count_server(s, v, v->sni, kept, false, failure);
    } else {
        count(&s->dim[DIM_SNI], "(no SNI)", strlen("(no SNI)"), true, v, failure);
        count_server(s, v, "(no SNI)", strlen("(no SNI)"), true, failure);
    }
    char net[64];
    if (v->client_network[0]) {
        an_copy(net, sizeof net, v->client_network);
    } else {
        an_endpoint_network(&v->client, net, sizeof net);
    }
    count(&s->dim[DIM_NETWORK], net, strlen(net), false, v, failure);
    if (v->num_certs > 0 && v->certs[0].sha256[0]) {
        count(&s->dim[DIM_CERT], v->certs[0].sha256, strnlen(v->certs[0].sha256, 65), false, v,
              failure);
    }
}

void an_summary_refresh(an_summary *s, const verdict *v) {
    if ((unsigned)v->cause < CAUSE__COUNT && s->example[v->cause] != NULL &&
        s->example[v->cause]->conn_id == v->conn_id) {
        *s->example[v->cause] = *v;
    }
}

size_t summary_key_len(const summary_count *c) {
    return c->key_len ? c->key_len : strnlen(c->key, sizeof c->key);
}

static int by_failures(const void *a, const void *b) {
    const summary_count *x = a, *y = b;
    if (x->failed != y->failed) {
        return x->failed > y->failed ? -1 : 1;
    }
    if (x->ok != y->ok) {
        return x->ok > y->ok ? -1 : 1;
    }
    int c = memcmp(x->key, y->key, x->key_len < y->key_len ? x->key_len : y->key_len);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static size_t export_table(key_table *t) {
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        t->sorted[n] = t->e[i].c;
        t->sorted[n++].ok = t->ok[i];
    }
    if (t->other_used) {
        t->sorted[n] = t->e[AN_SUMMARY_MAX_KEYS].c;
        t->sorted[n++].ok = t->ok[AN_SUMMARY_MAX_KEYS];
    }
    qsort(t->sorted, n, sizeof t->sorted[0], by_failures);
    return n;
}

const summary *an_summary_get(an_summary *s) {
    summary *p = &s->pub;
    p->num_sni = export_table(&s->dim[DIM_SNI]);
    p->num_networks = export_table(&s->dim[DIM_NETWORK]);
    p->num_certs = export_table(&s->dim[DIM_CERT]);
    p->by_sni = s->dim[DIM_SNI].sorted;
    p->by_network = s->dim[DIM_NETWORK].sorted;
    p->by_cert = s->dim[DIM_CERT].sorted;
    p->dominant = CAUSE_OK;
    p->dominant_ties = 0;
    uint64_t best = 0;
    for (int c = 0; c < CAUSE__COUNT; c++) {
        p->example[c] = s->example[c];
        if (s->fails[c] > best) {
            best = s->fails[c];
            p->dominant = (cause_id)c;
            p->dominant_ties = 1;
        } else if (best > 0 && s->fails[c] == best) {
            p->dominant_ties++;
        }
    }
    p->dominant_example = best ? s->example[p->dominant] : NULL;
    p->intermittent = false;
    p->intermittent_sni[0] = '\0';
    p->intermittent_sni_len = 0;
    p->intermittent_no_sni = false;
    memset(&p->intermittent_server, 0, sizeof p->intermittent_server);
    // Intermittent: one name (or the handshakes without one) at one server address and port
    // both succeeded and failed. In insertion order, so the first such name seen is the one named.
    const key_table *t = &s->dim[DIM_SERVER];
    for (size_t i = 0; i < t->n; i++) {
        const summary_count *c = &t->e[i].c;
        if (t->ok[i] && c->failed && c->key_len >= SERVER_KEY_PREFIX) {
            const uint8_t *k = (const uint8_t *)c->key;
            p->intermittent = true;
            p->intermittent_no_sni = c->absent;
            p->intermittent_sni_len = (uint16_t)(c->key_len - SERVER_KEY_PREFIX);
            memcpy(p->intermittent_sni, c->key + SERVER_KEY_PREFIX, p->intermittent_sni_len);
            p->intermittent_sni[p->intermittent_sni_len] = '\0';
            p->intermittent_server.family = k[0];
            memcpy(p->intermittent_server.addr, k + 1, 16);
            p->intermittent_server.port = (uint16_t)(k[17] << 8 | k[18]);
            break;
        }
    }
    return p;
}

uint64_t summary_cause_failures(const summary *s, cause_id c) {
    return (unsigned)c < CAUSE__COUNT ? s->by_cause_failed[c] + s->by_cause_predicted[c] : 0;
}

size_t summary_causes_by_count(const summary *s, cause_id out[CAUSE__COUNT]) {
    size_t n = 0;
    bool done[CAUSE__COUNT] = {false};
    for (;;) {  // selection over a tiny table: stable, ties in table order
        int best = -1;
        for (int c = 0; c < CAUSE__COUNT; c++) {
            uint64_t k = summary_cause_failures(s, (cause_id)c);
            if (!done[c] && k > 0 && (best < 0 || k > summary_cause_failures(s, (cause_id)best))) {
                best = c;
            }
        }
        if (best < 0) {
            return n;
        }
        done[best] = true;
        out[n++] = (cause_id)best;
    }
}
