// collect.c — the bundle's two passes: verdicts and the choice of connections, then their packets.
//
// Pass 1 is `analyze`: capture → dissect → analyze, keeping at most max_conns failing
// connections (a new cause evicts a connection whose cause is already shown twice). Pass 2
// re-reads the same inputs (same frame numbers, same conn ids): it copies the segments of the
// chosen connections up to their last frame and, through dissect's on_record hook, learns
// which stream bytes were application-data records.
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"

enum { REC_HANDSHAKE = 22 };  // RFC 5246 §6.2.1 ContentType handshake

static void conn_clear(bundle_conn *c) {
    verdict_free(c->v);
    free(c->events);
    for (uint32_t i = 0; i < c->num_der; i++) {
        free(c->der[i]);
    }
    for (int dir = 0; dir < 2; dir++) {
        free(c->app[dir]);
        free(c->hs[dir]);
        free(c->zero[dir]);
    }
    memset(c, 0, sizeof *c);
}

// conn_fill copies what the bundle shows of a transcript (it is valid only during the call).
static bool conn_fill(bundle_conn *c, verdict *v, const tls_transcript *t, uint64_t order) {
    memset(c, 0, sizeof *c);
    c->v = v;
    c->order = order;
    c->num_events = t->num_events;
    c->events_dropped = t->events_dropped;
    if (t->num_events > 0) {
        c->events = malloc(t->num_events * sizeof *c->events);
        if (c->events == NULL) {
            c->v = NULL;
            return false;
        }
        memcpy(c->events, t->events, t->num_events * sizeof *c->events);
    }
    for (uint32_t i = 0; i < t->cert.num_stored && i < TLS_MAX_CERTS; i++) {
        const tls_cert *k = &t->cert.certs[i];
        if (k->der == NULL || k->len == 0) {
            continue;
        }
        c->der[c->num_der] = malloc(k->len);
        if (c->der[c->num_der] == NULL) {
            c->v = NULL;
            conn_clear(c);
            return false;
        }
        memcpy(c->der[c->num_der], k->der, k->len);
        c->der_len[c->num_der++] = k->len;
    }
    return true;
}

static uint32_t cause_count(const bundle_run *r, cause_id cause) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->num_conns; i++) {
        n += r->conns[i].v->cause == cause;
    }
    return n;
}

// choose_slot: where a failing connection goes, or -1 to drop it. Every distinct cause first:
// a cause not yet shown replaces the latest connection of a cause shown more than once.
static int choose_slot(bundle_run *r, cause_id cause) {
    if (r->num_conns < r->max_conns) {
        return (int)r->num_conns;
    }
    if (cause_count(r, cause) > 0) {
        return -1;
    }
    int victim = -1;
    for (uint32_t i = 0; i < r->num_conns; i++) {
        if (cause_count(r, r->conns[i].v->cause) > 1 &&
            (victim < 0 || r->conns[i].order > r->conns[victim].order)) {
            victim = (int)i;
        }
    }
    return victim;
}

// on_verdict_pass1 (the pipeline's verdict sink): keeps the verdict when its connection is
// chosen (true); false: the pipeline frees it.
static bool on_verdict_pass1(void *user, verdict *v, const tls_transcript *t) {
    bundle_run *r = user;
    if (r->oom) {
        return false;
    }
    if (v->cause == CAUSE_OK) {
        return false;
    }
    r->failing++;
    int slot = choose_slot(r, v->cause);
    if (slot < 0) {
        return false;
    }
    bundle_conn fresh;
    if (!conn_fill(&fresh, v, t, r->order++)) {
        r->oom = true;
        return false;
    }
    if ((uint32_t)slot < r->num_conns) {
        conn_clear(&r->conns[slot]);
    } else {
        r->num_conns++;
    }
    r->conns[slot] = fresh;
    return true;
}

static int conn_cmp(const void *a, const void *b) {
    const bundle_conn *x = a, *y = b;
    return (x->v->conn_id > y->v->conn_id) - (x->v->conn_id < y->v->conn_id);
}

static int find_conn(const bundle_run *r, uint64_t conn_id) {
    for (uint32_t i = 0; i < r->num_conns; i++) {
        if (r->conns[i].v->conn_id == conn_id) {
            return (int)i;
        }
    }
    return -1;
}

bool bundle_range_add(bundle_range **v, size_t *n, size_t *cap, uint64_t off, uint64_t len) {
    // Records arrive in stream order: a range past the last one is new without a look back
    // (the scan, for the rest, kept a long connection from costing n² here).
    for (size_t i = 0; i < *n && (*v)[*n - 1].off >= off; i++) {
        if ((*v)[i].off == off) {
            return true;  // a retransmission of the same record or segment
        }
    }
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 8;
        bundle_range *p = realloc(*v, c * sizeof *p);
        if (p == NULL) {
            return false;
        }
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = (bundle_range){off, len};
    return true;
}

// on_record_pass2 (dissect's hook): remember where application data and handshake records were
// in each stream.
static void on_record_pass2(void *user, uint64_t conn_id, uint8_t dir, uint64_t stream_off,
                            uint32_t len, uint8_t content_type, bool app_data) {
    bundle_run *r = user;
    int i = find_conn(r, conn_id);
    if (i < 0 || dir > 1) {
        return;
    }
    bundle_conn *c = &r->conns[i];
    if (stream_off + len > c->records_end[dir]) {
        c->records_end[dir] = stream_off + len;
    }
    if (app_data &&
        !bundle_range_add(&c->app[dir], &c->num_app[dir], &c->cap_app[dir], stream_off, len)) {
        r->oom = true;
    }
    if (content_type == REC_HANDSHAKE &&
        !bundle_range_add(&c->hs[dir], &c->num_hs[dir], &c->cap_hs[dir], stream_off, len)) {
        r->oom = true;
    }
}

static bool same_addr(const tls_endpoint *e, const uint8_t a[16], uint16_t port, uint8_t fam) {
    size_t n = fam == 4 ? 4 : 16;
    return e->family == fam && e->port == port && memcmp(e->addr, a, n) == 0;
}

// keep_segment copies one frame's segment when it belongs to a chosen connection.
static void keep_segment(bundle_run *r, const dissect_frame *fr) {
    dissect_segment s;
    if (!dissect_decode_segment(fr, &s)) {
        return;
    }
    for (uint32_t i = 0; i < r->num_conns; i++) {
        const verdict *v = r->conns[i].v;
        if (fr->frame_no < v->first_frame || fr->frame_no > v->last_frame) {
            continue;
        }
        int dir;
        if (same_addr(&v->client, s.src, s.sport, s.family) &&
            same_addr(&v->server, s.dst, s.dport, s.family)) {
            dir = TLS_DIR_C2S;
        } else if (same_addr(&v->server, s.src, s.sport, s.family) &&
                   same_addr(&v->client, s.dst, s.dport, s.family)) {
            dir = TLS_DIR_S2C;
        } else {
            continue;
        }
        bundle_conn *c = &r->conns[i];
        if (c->capped || c->kept_segs >= BUNDLE_MAX_CONN_SEGS ||
            c->kept_bytes + s.payload_len > BUNDLE_MAX_CONN_BYTES) {
            c->capped = true;  // the stream simply ends here in evidence.pcap
            return;
        }
        c->kept_segs++;
        c->kept_bytes += s.payload_len;
        if (r->num_segs == r->cap_segs) {
            size_t cap = r->cap_segs ? 2 * r->cap_segs : 64;
            bundle_seg *p = realloc(r->segs, cap * sizeof *p);
            if (p == NULL) {
                r->oom = true;
                return;
            }
            r->segs = p;
            r->cap_segs = cap;
        }
        bundle_seg *g = &r->segs[r->num_segs];
        memset(g, 0, sizeof *g);
        g->conn = i;
        g->frame_no = fr->frame_no;
        g->ts_ns = fr->ts_ns;
        g->dir = (uint8_t)dir;
        g->flags = s.flags;
        g->window = s.window;
        g->seq = s.seq;
        g->ack = s.ack;
        g->payload_len = s.payload_len;
        g->wire_payload_len = s.wire_payload_len;
        if (s.payload_len > 0) {
            g->payload = malloc(s.payload_len);
            if (g->payload == NULL) {
                r->oom = true;
                return;
            }
            memcpy(g->payload, fr->data + s.payload_off, s.payload_len);
        }
        r->num_segs++;
        // Stream offset 0 is the byte after the SYN, or the first payload byte mid-stream
        // (the rule dissect's reassembly uses for its record offsets).
        if (s.flags & 0x02) {
            c->base[dir] = s.seq + 1;
            c->have_base[dir] = true;
        } else if (!c->have_base[dir] && s.payload_len > 0) {
            c->base[dir] = s.seq;
            c->have_base[dir] = true;
        }
        return;
    }
}

static void copy_errors(bundle_run *r, const cap_reader *cr) {
    size_t n = cap_num_errors(cr);
    if (n == 0) {
        return;
    }
    r->errors = calloc(n, sizeof *r->errors);
    if (r->errors == NULL) {
        r->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        r->errors[i] = *cap_get_error(cr, i);
    }
    r->num_errors = n;
}

// on_frame_pass1: the frame count and the capture's time range.
static void on_frame_pass1(void *user, const dissect_frame *fr) {
    bundle_run *r = user;
    r->frames++;
    if (r->first_ts_ns == 0 || fr->ts_ns < r->first_ts_ns) {
        r->first_ts_ns = fr->ts_ns;
    }
    if (fr->ts_ns > r->last_ts_ns) {
        r->last_ts_ns = fr->ts_ns;
    }
}

static void on_frame_pass2(void *user, const dissect_frame *fr) {
    keep_segment(user, fr);
}

static bool stop(void *user) {
    const bundle_run *r = user;
    return r->oom;
}

// run_pass feeds every frame of the inputs through a fresh pipeline: pass 1 judges and chooses
// connections, pass 2 keeps the chosen connections' segments and record positions.
static bool run_pass(bundle_run *r, const char *const *files, size_t num_files, const char *bpf,
                     bool second) {
    cap_reader *cr = cap_open(files, num_files, bpf, r->open_error, sizeof r->open_error);
    if (cr == NULL) {
        return false;
    }
    pipeline_sinks sinks = {.user = r, .stop = stop};
    if (!second) {
        sinks.on_frame = on_frame_pass1;
        sinks.on_verdict = on_verdict_pass1;
    } else {
        sinks.on_frame = on_frame_pass2;
        sinks.on_record = on_record_pass2;
    }
    pipeline_source src = {.reader = cr};
    pipeline_result res;
    if (!pipeline_run(&r->cfg, second ? NULL : r->an, &src, &sinks, &res)) {
        cap_close(cr);
        r->oom = true;
        return false;
    }
    r->oom |= res.oom;
    if (!second) {
        r->connections = res.transcripts;
        r->failed = res.failed;
        copy_errors(r, cr);
        memcpy(r->undecoded, res.stats.undecoded, sizeof r->undecoded);
    }
    cap_close(cr);
    return !r->oom;
}

static void add_app_range(bundle_run *r, bundle_conn *c, int dir, uint64_t off, uint64_t len) {
    if (!bundle_range_add(&c->app[dir], &c->num_app[dir], &c->cap_app[dir], off, len)) {
        r->oom = true;
    }
}

// mark_truncated_app: a segment the snapshot length cut short was never parsed (the dissector
// stops at the loss); when its captured bytes start with what the dissector takes for an
// application_data record header the whole segment counts as application data.
static void mark_truncated_app(bundle_run *r) {
    for (size_t i = 0; i < r->num_segs; i++) {
        const bundle_seg *g = &r->segs[i];
        bundle_conn *c = &r->conns[g->conn];
        if (g->payload_len >= g->wire_payload_len || !c->have_base[g->dir]) {
            continue;
        }
        tls_record_header h;
        int32_t rel = (int32_t)(g->seq - c->base[g->dir]);
        if (rel >= 0 && tls_record_header_parse(g->payload, g->payload_len, &h) &&
            h.type == TLS_CONTENT_APPLICATION_DATA) {
            add_app_range(r, c, g->dir, (uint64_t)rel, g->wire_payload_len);
        }
    }
}

bool bundle_collect(bundle_run *r, const char *const *files, size_t num_files, const char *bpf) {
    if (r->max_conns == 0) {
        r->max_conns = BUNDLE_DEFAULT_MAX_CONNECTIONS;
    }
    r->conns = calloc(r->max_conns, sizeof *r->conns);
    if (r->conns == NULL) {
        r->oom = true;
        return false;
    }
    if (!run_pass(r, files, num_files, bpf, false)) {
        return false;
    }
    qsort(r->conns, r->num_conns, sizeof *r->conns, conn_cmp);
    // Number the distinct chains (chain-<n>.pem), in connection order.
    int chains = 0;
    for (uint32_t i = 0; i < r->num_conns; i++) {
        bundle_conn *c = &r->conns[i];
        if (c->num_der == 0 || c->v->chain_sha256[0] == '\0') {
            continue;
        }
        for (uint32_t j = 0; j < i && c->chain_no == 0; j++) {
            if (r->conns[j].chain_no &&
                strcmp(r->conns[j].v->chain_sha256, c->v->chain_sha256) == 0) {
                c->chain_no = r->conns[j].chain_no;
            }
        }
        if (c->chain_no == 0) {
            c->chain_no = ++chains;
        }
    }
    if (r->num_conns == 0) {
        return true;
    }
    if (!run_pass(r, files, num_files, bpf, true)) {
        return false;
    }
    mark_truncated_app(r);
    return !r->oom;
}

void bundle_run_free(bundle_run *r) {
    if (r == NULL) {
        return;
    }
    for (uint32_t i = 0; i < r->num_conns; i++) {
        conn_clear(&r->conns[i]);
    }
    free(r->conns);
    for (size_t i = 0; i < r->num_segs; i++) {
        free(r->segs[i].payload);
    }
    free(r->segs);
    free(r->errors);
    memset(r, 0, sizeof *r);
}
