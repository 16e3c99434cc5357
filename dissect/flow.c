// flow.c — a flow's lifecycle, in order: the bounded table (a chained hash of canonical
// 5-tuples plus two LRU lists), creation, roles (SYN, first payload, ports), TCP events, the
// transcript and TLS layer from the first payload byte, the report (exactly once), release.
//
// tcp.c reassembles and calls in here for events (flow_event); this file calls the transcript and
// the TLS layer, never tcp.c: dissect.c drives both (it flushes held bytes before flow_report).
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flow.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// Spare and not yet used records are poisoned: a read of a removed flow still shows in ASan.
#define FLOW_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define FLOW_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FLOW_POISON(p, n) ((void)(p), (void)(n))
#define FLOW_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

// flow_map_huge: FLOW_HUGE bytes of zeroed memory aligned to their size and offered to
// transparent huge pages (a hint: without them these are 4 KiB pages); NULL when no mapping was
// made. munmap(p, FLOW_HUGE) frees it.
static void *flow_map_huge(void) {
    size_t bytes = FLOW_HUGE;
    uint8_t *p =
        mmap(NULL, bytes + FLOW_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    size_t head = (FLOW_HUGE - (uintptr_t)p % FLOW_HUGE) % FLOW_HUGE;
    if (head > 0) {
        munmap(p, head);
    }
    munmap(p + head + bytes, FLOW_HUGE - head);
#ifdef MADV_HUGEPAGE
    (void)madvise(p + head, bytes, MADV_HUGEPAGE);
#endif
    return p + head;
}

bool flow_table_init(flow_table *ft, uint32_t capacity) {
    memset(ft, 0, sizeof *ft);
    // Buckets: a power of two at least the capacity, so chains stay short when full.
    uint32_t n = 16;
    while (n < capacity && n < (1u << 30)) {
        n <<= 1;
    }
    ft->buckets = calloc(n, sizeof *ft->buckets);
    if (!ft->buckets) {
        return false;
    }
    ft->mask = n - 1;
    ft->capacity = capacity ? capacity : 1;
    return true;
}

void flow_table_destroy(flow_table *ft) {
    if (!ft->buckets) {
        return;
    }
    flow_slab *s = ft->slabs;
    while (s) {
        flow_slab *next = s->next;
        if (s->bytes > 0) {
            FLOW_UNPOISON(s, s->bytes);
            munmap(s, s->bytes);
        } else {
            free(s);
        }
        s = next;
    }
    free(ft->buckets);
    memset(ft, 0, sizeof *ft);
}

// flow_new_slab: the next slab, of up to FLOW_SLAB_LEN records until the table has made
// FLOW_HUGE_AFTER, then of a FLOW_HUGE page; never more records than the capacity has left.
static flow_slab *flow_new_slab(flow_table *ft) {
    enum { HUGE_LEN = (FLOW_HUGE - sizeof(flow_slab)) / sizeof(flow) };
    uint32_t room = ft->capacity > ft->made ? ft->capacity - ft->made : 1;
    flow_slab *s = NULL;
    uint32_t len;
    if (ft->made >= FLOW_HUGE_AFTER && room >= HUGE_LEN) {
        len = HUGE_LEN;
        s = flow_map_huge();
        if (s) {
            s->bytes = FLOW_HUGE;
        }
    }
    if (!s) {
        len = room < FLOW_SLAB_LEN ? room : FLOW_SLAB_LEN;
        s = malloc(sizeof *s + (size_t)len * sizeof(flow));
        if (!s) {
            return NULL;
        }
        s->bytes = 0;
    }
    s->next = ft->slabs;
    s->len = len;
    ft->slabs = s;
    ft->slab_len = len;
    ft->slab_used = 0;
    FLOW_POISON(s->recs, (size_t)len * sizeof(flow));
    return s;
}

// flow_alloc: a record from the spares, else the newest slab, else a new slab (NULL on OOM).
static flow *flow_alloc(flow_table *ft) {
    flow *f = ft->spare;
    if (f) {
        FLOW_UNPOISON(f, sizeof *f);
        ft->spare = f->hnext;
        return f;
    }
    if (ft->slab_used == ft->slab_len && !flow_new_slab(ft)) {
        return NULL;
    }
    f = &ft->slabs->recs[ft->slab_used++];
    ft->made++;
    FLOW_UNPOISON(f, sizeof *f);
    return f;
}

static flow_list *list_of(flow_table *ft, const flow *f) {
    return f->decided ? &ft->done : &ft->live;
}

flow *flow_insert(flow_table *ft, const flow_key *k, uint32_t hash) {
    flow *f = flow_alloc(ft);
    if (!f) {
        return NULL;
    }
    memset(f, 0, sizeof *f);
    f->key = *k;
    f->hash = hash;
    f->client = -1;
    f->hnext = ft->buckets[hash & ft->mask];
    ft->buckets[hash & ft->mask] = f;
    flow_list_append(&ft->live, f);
    ft->count++;
    return f;
}

void flow_remove(flow_table *ft, flow *f) {
    if (ft->jump == f) {
        ft->jump = NULL;
    }
    flow **pp = &ft->buckets[f->hash & ft->mask];
    while (*pp && *pp != f) {
        pp = &(*pp)->hnext;
    }
    if (*pp) {
        *pp = f->hnext;
    }
    flow_list_unlink(list_of(ft, f), f);
    ft->count--;
    f->hnext = ft->spare;
    ft->spare = f;
    FLOW_POISON(f, sizeof *f);
}

void flow_mark_decided(flow_table *ft, flow *f) {
    if (f->decided) {
        return;
    }
    flow_list_unlink(&ft->live, f);
    f->decided = true;
    flow_list_append(&ft->done, f);
}

// flow_transcript: an empty transcript, a spare one when there is one (NULL on OOM).
static tls_transcript *flow_transcript(dissect *d) {
    if (d->num_spare_t == 0) {
        return tr_new();
    }
    tls_transcript *t = d->spare_t[--d->num_spare_t];
    FLOW_UNPOISON(t, sizeof *t);
    tr_reset(t);
    return t;
}

// flow_free_spares frees the spare transcripts (dissect_free).
void flow_free_spares(dissect *d) {
    while (d->num_spare_t > 0) {
        tls_transcript *t = d->spare_t[--d->num_spare_t];
        FLOW_UNPOISON(t, sizeof *t);
        free(t);
    }
}

// flow_release frees what a flow owns beyond its record: the TLS layer and the transcript (the
// TCP sides' held bytes are tcp.c's: delivered by tcp_flush before a report, freed by
// tcp_side_free when the dissector goes).
void flow_release(dissect *d, flow *f) {
    tls_conn_free(f->tls);
    f->tls = NULL;
    d->buffered -= f->tls_buffered;
    f->tls_buffered = 0;
    if (f->t) {
        tls_certificate_clear(&f->t->cert);
        tls_certificate_clear(&f->t->client_cert);
        if (d->num_spare_t < FLOW_SPARE_TRANSCRIPTS) {
            FLOW_POISON(f->t, sizeof *f->t);
            d->spare_t[d->num_spare_t++] = f->t;
        } else {
            free(f->t);
        }
        f->t = NULL;
    }
}

// flow_new: the record of a new connection, numbered in creation order (the table has room:
// the caller evicted first).
flow *flow_new(dissect *d, const flow_key *k, uint32_t hash, const dissect_frame *fr) {
    flow *f = flow_insert(&d->ft, k, hash);
    if (!f) {
        return NULL;
    }
    f->conn_id = d->next_conn_id++;
    f->first_frame = fr->frame_no;
    f->first_ts_ns = fr->ts_ns;
    d->stats.flows_created++;
    if (d->ft.count > d->stats.peak_flows) {
        d->stats.peak_flows = d->ft.count;
    }
    return f;
}

// Well-known server ports (IANA), best first: the side using one is the server when no SYN
// and no recognisable TLS first bytes told us the roles.
static const uint16_t server_ports[] = {443, 8443, 465,  993,  995,  636,  5432, 3306, 25,
                                        587, 143,  110,  21,   5222, 389,  853,  989,  990,
                                        992, 994,  5061, 6697, 3389, 8080, 80};

static size_t port_rank(uint16_t port) {
    for (size_t i = 0; i < sizeof server_ports / sizeof server_ports[0]; i++) {
        if (server_ports[i] == port) {
            return i;
        }
    }
    return SIZE_MAX;
}

// flow_roles_by_port: roles from the ports, when neither a SYN nor the first payload told them.
static void flow_roles_by_port(flow *f) {
    size_t r0 = port_rank(f->key.port[0]), r1 = port_rank(f->key.port[1]);
    int server;
    if (r0 != r1) {
        server = r0 < r1 ? 0 : 1;
    } else {
        server = f->key.port[0] <= f->key.port[1] ? 0 : 1;
    }
    f->client = (int8_t)(1 - server);
}

// Wireshark's tcp.stream rule (packet-tcp.c, 4.0, which the oracle was made with): a SYN
// without ACK starts a new connection when its sender was seen before with another sequence
// number. The same ISN again — even after an RST — is a retry of the same connection.
bool flow_syn_starts_new(const flow *f, int side, const net_pkt *p) {
    const tcp_side *s = &f->side[side];
    return s->seen && p->seq != s->base_seq;
}

// flow_syn: a SYN or SYN-ACK from `side`: roles, handshake times, its event.
void flow_syn(dissect *d, flow *f, int side, const net_pkt *p, const dissect_frame *fr) {
    tcp_side *s = &f->side[side];
    if (!s->has_data) {
        s->have_next = false;  // (re)base the ISN on this SYN
    }
    if (!(p->flags & TCP_ACK)) {
        if (f->client < 0) {
            f->client = (int8_t)side;
            f->roles_from_syn = true;
        }
        if (f->syn_seen) {
            f->syn_retransmitted = true;
        } else {
            f->syn_seen = true;
            f->syn_ts_ns = fr->ts_ns;
        }
        f->syn_count++;
        s->syn = true;
        flow_event(d, f, side, TLS_EV_TCP_SYN, fr->frame_no, fr->ts_ns, 0);
        return;
    }
    if (f->client < 0) {
        f->client = (int8_t)(1 - side);
        f->roles_from_syn = true;
    }
    if (!f->synack_seen) {
        f->synack_seen = true;
        f->synack_ts_ns = fr->ts_ns;
    }
    s->syn = true;
    flow_event(d, f, side, TLS_EV_TCP_SYNACK, fr->frame_no, fr->ts_ns, 0);
}

// Roles of a flow that started mid-stream, from its first payload: what TLS says, else ports.
void flow_roles_from_payload(flow *f, int side, const net_pkt *p) {
    int kind = tls_sniff(p->payload, p->payload_len);
    if (kind == 1) {
        f->client = (int8_t)side;
    } else if (kind == 2) {
        f->client = (int8_t)(1 - side);
    } else {
        flow_roles_by_port(f);
    }
}

void flow_event(dissect *d, flow *f, int side, tls_event_kind kind, uint32_t frame, int64_t ts_ns,
                uint32_t length) {
    (void)d;
    tls_event e;
    memset(&e, 0, sizeof e);
    e.kind = (uint8_t)kind;
    e.frame = frame;
    e.ts_ns = ts_ns;
    e.length = length;
    e.count = kind == TLS_EV_TCP_RETRANSMIT ? 1 : 0;
    if (f->t && f->client >= 0) {
        e.dir = (uint8_t)flow_dir(f, side);
        tr_event(f->t, &e);
        return;
    }
    if (f->num_pending < FLOW_PENDING_EVENTS) {
        e.dir = (uint8_t)side;  // converted to a tls_dir when the transcript is made
        f->pending[f->num_pending++] = e;
        return;
    }
    // Chatty before any payload (many SYNs, FINs, gaps): keep the events, pay for a transcript.
    if (!f->t) {
        if (f->client < 0) {
            flow_roles_by_port(f);
        }
        f->t = flow_transcript(d);
        if (!f->t) {
            return;
        }
        for (uint8_t i = 0; i < f->num_pending; i++) {
            f->pending[i].dir = (uint8_t)flow_dir(f, f->pending[i].dir);
            tr_event(f->t, &f->pending[i]);
        }
        f->num_pending = 0;
    }
    e.dir = (uint8_t)flow_dir(f, side);
    tr_event(f->t, &e);
}

// Moves the pending TCP events into `t` (roles are known by now).
static void flow_flush_pending(flow *f, tls_transcript *t) {
    for (uint8_t i = 0; i < f->num_pending; i++) {
        tls_event e = f->pending[i];
        e.dir = (uint8_t)flow_dir(f, e.dir);
        tr_event(t, &e);
    }
    f->num_pending = 0;
}

// The transcript and TLS layer, made when the first payload byte arrives.
void flow_start_tls(dissect *d, flow *f) {
    if (!f->t) {
        f->t = flow_transcript(d);
        if (!f->t) {
            return;
        }
        f->t->conn_id = f->conn_id;  // known early for the on_record hook
    }
    flow_flush_pending(f, f->t);
    if (!f->tls) {
        f->tls = tls_conn_new(f->t, &d->cfg);
    }
}

// flow_update_buffered: the flow's TLS buffers in the dissector's total (and its peak).
void flow_update_buffered(dissect *d, flow *f) {
    size_t b = f->tls ? tls_conn_buffered(f->tls) : 0;
    d->buffered = d->buffered - f->tls_buffered + b;
    f->tls_buffered = b;
    if (d->buffered > d->stats.peak_buffered_bytes) {
        d->stats.peak_buffered_bytes = d->buffered;
    }
}

static void endpoint_of(const flow *f, int side, tls_endpoint *e) {
    e->family = f->key.family;
    memcpy(e->addr, f->key.addr[side], 16);
    e->port = f->key.port[side];
}

// Copies the flow's TCP and capture-quality facts into its transcript.
static void flow_fill(const flow *f, tls_transcript *t, tls_end_reason reason) {
    int c = f->client, s = 1 - f->client;
    t->conn_id = f->conn_id;
    endpoint_of(f, c, &t->client);
    endpoint_of(f, s, &t->server);
    t->roles_from_syn = f->roles_from_syn;
    t->first_frame = f->first_frame;
    t->last_frame = f->last_frame;
    t->first_ts_ns = f->first_ts_ns;
    t->last_ts_ns = f->last_ts_ns;
    t->end_reason = (uint8_t)reason;

    tls_tcp_facts *tf = &t->tcp;
    tf->syn = f->syn_seen;
    tf->synack = f->synack_seen;
    tf->syn_retransmitted = f->syn_retransmitted;
    tf->syn_count = f->syn_count;
    tf->syn_ts_ns = f->syn_ts_ns;
    tf->synack_ts_ns = f->synack_ts_ns;
    tls_quality *q = &t->quality;
    for (int side = 0; side < 2; side++) {
        const tcp_side *ts = &f->side[side];
        int dir = (int)flow_dir(f, side);
        tf->fin[dir] = ts->fin;
        tf->rst[dir] = ts->rst;
        tf->fin_frame[dir] = ts->fin_frame;
        tf->rst_frame[dir] = ts->rst_frame;
        tf->bytes[dir] = ts->bytes;
        tf->retransmits[dir] = ts->retransmits;
        q->gaps[dir] = ts->gaps;
        q->gap_bytes[dir] = ts->gap_bytes;
        q->first_gap_frame[dir] = ts->first_gap_frame;
    }
    tf->server_flight_retransmits = f->server_flight_retransmits;
    const tcp_side *cs = &f->side[c], *ss = &f->side[s];
    tf->last_ack_from_client = cs->acked ? cs->last_ack : 0;
    tf->server_flight_acked = cs->acked && ss->has_data && seq_gt(cs->last_ack, ss->data_start);
    q->midstream = !f->syn_seen;
    q->client_unseen = !cs->seen;
    q->server_unseen = !ss->seen;
    q->snaplen_truncated = f->snaplen_truncated;
    q->first_truncated_frame = f->first_truncated_frame;
    q->overlap_conflicts = f->overlap_conflicts;
    // The TLS layer may have set it already (its own buffers hit max_flow_bytes): keep that.
    q->buffer_cap_hit = q->buffer_cap_hit || f->flow_cap_hit;
    q->total_cap_hit = f->total_cap_hit;
    q->kernel_drops = f->kernel_drops;
    q->evicted = reason == TLS_END_EVICTED;
    q->idle = q->evicted && f->idle_expired;
    q->capture_ended = reason == TLS_END_CAPTURE_END;
}

void flow_settle_roles(flow *f) {
    if (f->client < 0) {
        flow_roles_by_port(f);
    }
}

void flow_report(dissect *d, flow *f, tls_end_reason reason) {
    if (f->decided) {
        return;
    }
    flow_settle_roles(f);
    tls_end_reason tr;
    if (f->tls && tls_conn_decided(f->tls, &tr)) {
        reason = tr;
    }
    tls_transcript *t = f->t;
    if (!t) {
        t = d->scratch;
        tr_reset(t);
    }
    flow_flush_pending(f, t);
    flow_fill(f, t, reason);
    // A record made only from ICMP-quoted headers carries no connection to report.
    bool real = f->side[0].seen || f->side[1].seen;
    if (real && reason == TLS_END_EVICTED) {
        d->stats.flows_evicted++;
        d->stats.flows_idle += f->idle_expired;
    } else if (real && reason != TLS_END_CAPTURE_END) {
        d->stats.flows_decided++;
    }
    d->reported_app_records = (uint64_t)t->app_records[0] + t->app_records[1];
    if (real) {
        d->stats.transcripts++;
        dissect_bounds *b = &d->stats.bounds;
        b->flow_cap += t->quality.buffer_cap_hit;
        b->total_cap += t->quality.total_cap_hit;
        b->message_cap += t->quality.message_cap_hit;
        b->events_dropped += t->events_dropped > 0;
        if (d->cfg.on_transcript) {
            d->cfg.on_transcript(d->cfg.user, t);
        }
    }
    flow_release(d, f);
    flow_mark_decided(&d->ft, f);
}
