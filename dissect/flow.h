// flow.h — private to dissect/: the flow record, the bounded flow table, TCP reassembly state.
//
//   dissect.c the public API: frames in, the clock, eviction; drives tcp.c and flow.c
//   tcp.c    per-side reassembly: in-order bytes straight from the frame, out-of-order copies;
//            its TCP events go to flow.c
//   flow.c   a flow's lifecycle: the table of canonical 5-tuples (both directions → one flow)
//            with two LRU lists (undecided flows, decided records), creation, roles, events,
//            report, release; it calls the transcript and the TLS layer, never tcp.c
#ifndef TLSDIAG_DISSECT_FLOW_H
#define TLSDIAG_DISSECT_FLOW_H

#include "internal.h"

// Out-of-order bytes held until the hole before them is filled (flow-owned copy). The held
// ranges of a side never overlap (first copy wins: a later segment adds only bytes not held
// yet) and form a splay tree ordered by seq (modulo 2^32; all lie within 2^31 after `next`).
typedef struct tcp_seg {
    struct tcp_seg *left, *right;
    uint32_t seq;
    uint32_t len;  // > 0
    uint8_t data[];
} tcp_seg;

// What one endpoint sent (side 0/1 = the key's endpoints, not yet client/server).
typedef struct tcp_side {
    bool seen;       // any packet from this side
    bool have_next;  // `next` is valid (ISN from SYN, or first segment mid-stream)
    bool syn, fin, rst;
    bool has_data;        // data_start valid
    bool acked;           // this side sent an ACK (last_ack valid)
    uint32_t base_seq;    // seq of the first packet seen from this side (tcp.stream rule)
    uint32_t next;        // next sequence number expected in order
    uint32_t data_start;  // first payload sequence number
    uint32_t last_ack;    // last acknowledgment number this side sent
    uint32_t fin_frame, rst_frame;
    uint64_t bytes;  // unique payload bytes delivered
    uint32_t retransmits;
    uint32_t gaps;
    uint64_t gap_bytes;
    uint32_t first_gap_frame;
    tcp_seg *held;        // root of the held ranges (tcp.c)
    uint32_t held_bytes;  // their memory, node and allocator overhead included
    uint32_t pad_seq;     // tcp.c: zero bytes on an ACK at `next`, not yet known to be data
    uint8_t pad_len;      // 0: none pending
} tcp_side;

// No padding anywhere (compared as five 8-byte words): 32 + 4 + 1 + 3 = 40 bytes.
typedef struct flow_key {
    uint8_t addr[2][16];  // canonical order: side 0 is the smaller (addr, port)
    uint16_t port[2];
    uint8_t family;
    uint8_t pad[3];  // always 0
} flow_key;
_Static_assert(sizeof(flow_key) == 40, "flow_key_eq compares five words");

enum { FLOW_PENDING_EVENTS = 6, FLOW_SPARE_TRANSCRIPTS = 8 };

typedef struct flow {
    flow_key key;
    uint32_t hash;
    struct flow *hnext;          // hash chain
    struct flow *lprev, *lnext;  // LRU list (undecided or decided)
    uint64_t conn_id;
    int8_t client;  // side index of the client, -1 while unknown
    bool roles_from_syn;
    bool decided;  // reported; only this record is left
    bool closed;   // FIN both ways or RST seen
    tcp_side side[2];
    bool syn_seen, synack_seen, syn_retransmitted;
    uint32_t syn_count;
    int64_t syn_ts_ns, synack_ts_ns;
    uint32_t first_frame, last_frame;
    int64_t first_ts_ns, last_ts_ns;
    int64_t idle_ts_ns;  // capture clock when last seen (LRU order = this order)
    uint32_t snaplen_truncated, first_truncated_frame;
    uint32_t overlap_conflicts;
    bool flow_cap_hit;   // held data refused: max_flow_bytes for this side
    bool total_cap_hit;  // held data refused or the flow ended: max_total_bytes
    bool kernel_drops;
    bool idle_expired;  // reported because it went idle (capture clock), not for a full table
    uint32_t server_flight_retransmits;
    // TCP events recorded before the transcript exists; `dir` holds the *side* until flushed.
    uint8_t num_pending;
    tls_event pending[FLOW_PENDING_EVENTS];
    tls_transcript *t;  // lazily allocated (first payload byte or report)
    tls_conn *tls;
    size_t tls_buffered;  // last tls_conn_buffered() value (for the global total)
} flow;

typedef struct flow_list {
    flow *head, *tail;  // head = least recently used
} flow_list;

// Records come from slabs (one malloc, not one calloc a connection: ~440 instructions each,
// bench/NOTES.md): of up to 64 records while the table has made fewer than FLOW_HUGE_AFTER, then
// of one 2 MiB page each (FLOW_HUGE: mapped aligned and offered to transparent huge pages). A
// capture keeps tens of thousands of records (decided ones stay until
// they idle out), and with 4 KiB pages the lookup of every frame missed the TLB as well as the
// cache (bench/NOTES.md, round 7). A removed record goes to `spare` for the next insert.
// Records made never exceed the peak count (≤ capacity, the table's max_flows): memory is the
// peak's records, the rest of the newest slab and the small slabs' malloc headers.
enum { FLOW_SLAB_LEN = 64, FLOW_HUGE_AFTER = 1024 };
#define FLOW_HUGE ((size_t)2 << 20)

typedef struct flow_slab {
    struct flow_slab *next;
    size_t bytes;  // of the mapping (a FLOW_HUGE page), 0: from malloc
    uint32_t len;  // records it holds
    flow recs[];
} flow_slab;

typedef struct flow_table {
    flow **buckets;
    uint32_t mask;
    uint32_t count;
    flow_list live;  // undecided flows
    flow_list done;  // decided records
    flow_slab *slabs;
    uint32_t capacity;   // max_flows
    uint32_t made;       // records taken from slabs so far (≤ capacity)
    uint32_t slab_len;   // records the newest slab holds
    uint32_t slab_used;  // of the newest slab (slabs)
    flow *spare;         // removed records, chained by hnext
    // The record a frame in an unconfirmed clock jump touched (dissect.c): stamped with the
    // clock like any other until the jump is confirmed; NULL when none or once it was removed.
    flow *jump;
} flow_table;

bool flow_table_init(flow_table *ft, uint32_t capacity) TLSDIAG_WUR;
void flow_table_destroy(flow_table *ft);  // frees the records only (owners free their parts)

static inline uint64_t flow__word(const void *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

// flow__be: a word of an address in the byte order memcmp compares in.
static inline uint64_t flow__be(uint64_t w) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap64(w);
#else
    return w;
#endif
}

// flow_key_make fills the canonical key and returns its hash; *side_out is the sending side of
// (src, sport). One pass over the addresses, held in registers: the endpoints are ordered as
// memcmp orders the address bytes, then by port (side 0 the smaller, ties on side 0), and the
// hash is a multiply-xor of the five key words with a final mix. Inline: one per TCP frame
// (a separate key, then a hash over the padded key in memory, cost ~100 instructions a frame).
// The table has no secret seed (it never had): a capture crafted to collide fills chains, but
// each chain holds at most max_flows records and eviction stays O(1).
static inline uint32_t flow_key_make(flow_key *k, const net_pkt *p, int *side_out) {
    uint64_t s0 = flow__word(p->src), s1 = flow__word(p->src + 8);
    uint64_t d0 = flow__word(p->dst), d1 = flow__word(p->dst + 8);
    uint64_t bs0 = flow__be(s0), bd0 = flow__be(d0);
    bool src_first;
    if (bs0 != bd0) {
        src_first = bs0 < bd0;
    } else if (s1 != d1) {
        src_first = flow__be(s1) < flow__be(d1);
    } else {
        src_first = p->sport <= p->dport;
    }
    uint64_t a0 = src_first ? s0 : d0, a1 = src_first ? s1 : d1;
    uint64_t b0 = src_first ? d0 : s0, b1 = src_first ? d1 : s1;
    uint16_t pa = src_first ? p->sport : p->dport, pb = src_first ? p->dport : p->sport;
    memcpy(k->addr[0], &a0, 8);
    memcpy(k->addr[0] + 8, &a1, 8);
    memcpy(k->addr[1], &b0, 8);
    memcpy(k->addr[1] + 8, &b1, 8);
    k->port[0] = pa;
    k->port[1] = pb;
    k->family = p->family;
    memset(k->pad, 0, sizeof k->pad);
    *side_out = src_first ? 0 : 1;
    uint64_t tail = (uint64_t)pa | (uint64_t)pb << 16 | (uint64_t)p->family << 32;
    uint64_t h = (a0 * 0x9e3779b97f4a7c15ull) ^ (a1 * 0xff51afd7ed558ccdull) ^
                 (b0 * 0xc4ceb9fe1a85ec53ull) ^ (b1 * 0xd6e8feb86659fd93ull) ^
                 (tail * 0xa0761d6478bd642full);
    h ^= h >> 32;
    h *= 0xe7037ed1a0b428dbull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static inline bool flow_key_eq(const flow_key *a, const flow_key *b) {
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    return ((flow__word(x) ^ flow__word(y)) | (flow__word(x + 8) ^ flow__word(y + 8)) |
            (flow__word(x + 16) ^ flow__word(y + 16)) | (flow__word(x + 24) ^ flow__word(y + 24)) |
            (flow__word(x + 32) ^ flow__word(y + 32))) == 0;
}

// flow_lookup: the record of key k (hash from flow_key_make), NULL when there is none.
static inline flow *flow_lookup(const flow_table *ft, const flow_key *k, uint32_t hash) {
    for (flow *f = ft->buckets[hash & ft->mask]; f; f = f->hnext) {
        if (f->hash == hash && flow_key_eq(&f->key, k)) {
            return f;
        }
    }
    return NULL;
}
// flow_insert adds a zeroed record (NULL on OOM); it is the most recently used live flow.
flow *flow_insert(flow_table *ft, const flow_key *k, uint32_t hash) TLSDIAG_WUR;
void flow_remove(flow_table *ft, flow *f);        // unlinks the record, kept for the next insert
void flow_mark_decided(flow_table *ft, flow *f);  // moves the record to the decided list

// The LRU lists, inline: every TCP frame touches its flow.
static inline void flow_list_unlink(flow_list *l, flow *f) {
    if (f->lprev) {
        f->lprev->lnext = f->lnext;
    } else {
        l->head = f->lnext;
    }
    if (f->lnext) {
        f->lnext->lprev = f->lprev;
    } else {
        l->tail = f->lprev;
    }
    f->lprev = f->lnext = NULL;
}

static inline void flow_list_append(flow_list *l, flow *f) {
    f->lnext = NULL;
    f->lprev = l->tail;
    if (l->tail) {
        l->tail->lnext = f;
    } else {
        l->head = f;
    }
    l->tail = f;
}

// flow_touch: f becomes the most recently used record of its list.
static inline void flow_touch(flow_table *ft, flow *f) {
    flow_list *l = f->decided ? &ft->done : &ft->live;
    if (l->tail != f) {
        flow_list_unlink(l, f);
        flow_list_append(l, f);
    }
}

// ---------------------------------------------------------------------------------------------
// The dissector (shared by dissect.c and tcp.c).
// ---------------------------------------------------------------------------------------------
struct dissect {
    dissect_config cfg;
    dissect_stats stats;
    flow_table ft;
    uint64_t next_conn_id;
    uint64_t buffered;        // held segments + TLS layer buffers, all flows
    tls_transcript *scratch;  // for reporting flows that never needed a transcript
    // Transcripts of reported flows, for the next flows (a 15 KB malloc and free a connection
    // saved; flow.c). At most FLOW_SPARE_TRANSCRIPTS, freed by dissect_free.
    tls_transcript *spare_t[FLOW_SPARE_TRANSCRIPTS];
    uint32_t num_spare_t;
    dissect_clock clk;              // the capture clock for idle eviction (dissect.h)
    uint64_t reported_app_records;  // app_records (both directions) of the last reported flow
    uint64_t tcp_steps;             // tree nodes visited by tcp.c (tcp__steps, for the tests)
    uint64_t tls_calls;             // tls_conn_feed/tls_conn_gap calls by tcp.c (see feed_segment)
};

// tcp.c — the frame being processed, for events, gaps and TLS metadata.
typedef struct tcp_ctx {
    dissect *d;
    flow *f;
    const dissect_frame *fr;
} tcp_ctx;

// tcp_segment: reassembly of one segment's payload from `side`. The transcript and TLS layer
// must exist when the segment carries payload (dissect.c makes them at the first byte).
void tcp__segment(tcp_ctx *x, int side, const net_pkt *p);
// A bare segment (no payload, nothing cut by the snaplen) at or before the in-order point of a
// side whose `next` is known leaves tcp__segment nothing to do: answered inline (~30
// instructions a pure ACK).
static inline void tcp_segment(tcp_ctx *x, int side, const net_pkt *p) {
    const tcp_side *s = &x->f->side[side];
    uint32_t seq = p->seq + ((p->flags & TCP_SYN) ? 1u : 0u);
    if (p->payload_len == 0 && !p->truncated && s->have_next && !seq_gt(seq, s->next)) {
        return;
    }
    tcp__segment(x, side, p);
}
// tcp_is_pad: 1..6 zero bytes on an ACK without PSH/RST, likely Ethernet padding that the IP
// length counted; tcp_segment holds them back until the sender shows whether they were data.
bool tcp_is_pad(const net_pkt *p);
// tcp_ack: `side` acknowledged `ack`: holes of the other side the peer got are gaps.
void tcp__ack(tcp_ctx *x, int side, uint32_t ack);
// An ACK of no more than the other side's in-order point, with nothing of that side held or
// pending as padding, leaves tcp__ack nothing to do: answered inline (~35 instructions an ACK).
static inline void tcp_ack(tcp_ctx *x, int side, uint32_t ack) {
    const tcp_side *o = &x->f->side[1 - side];
    if (o->held == NULL && o->pad_len == 0 && !seq_gt(ack, o->next)) {
        return;
    }
    tcp__ack(x, side, ack);
}
// tcp_flush: every hole before held data of `side` becomes a gap, all held data is delivered.
void tcp_flush(tcp_ctx *x, int side);
void tcp_side_free(dissect *d, tcp_side *s);  // drops held segments (flow report / free)

// flow.c — the lifecycle (dissect.c calls these in this order; tcp.c only flow_dir, flow_event).
// flow_new: the record of a new connection, numbered in creation order (NULL on OOM); the
// caller makes room first (max_flows).
flow *flow_new(dissect *d, const flow_key *k, uint32_t hash, const dissect_frame *fr) TLSDIAG_WUR;
// flow_syn_starts_new: a SYN without ACK from `side` starts a new connection (tcp.stream rule).
bool flow_syn_starts_new(const flow *f, int side, const net_pkt *p);
// flow_syn: a SYN or SYN-ACK from `side`: roles, handshake times, its event.
void flow_syn(dissect *d, flow *f, int side, const net_pkt *p, const dissect_frame *fr);
// flow_roles_from_payload: roles of a flow that started mid-stream, from its first payload.
void flow_roles_from_payload(flow *f, int side, const net_pkt *p);
// flow_settle_roles: roles from the ports when nothing else told them (before a report).
void flow_settle_roles(flow *f);
// flow_dir: the TLS direction of packets sent by `side` (roles must be known).
static inline tls_dir flow_dir(const flow *f, int side) {
    return side == f->client ? TLS_DIR_C2S : TLS_DIR_S2C;
}
// flow_event appends a TCP event from `side`; before the transcript exists it is kept in the
// flow's small pending array. TCP_RETRANSMIT events start with count 1.
void flow_event(dissect *d, flow *f, int side, tls_event_kind kind, uint32_t frame, int64_t ts_ns,
                uint32_t length);
// flow_start_tls: the transcript and TLS layer, made when the first payload byte arrives.
void flow_start_tls(dissect *d, flow *f);
// flow_update_buffered: the flow's TLS buffers in the dissector's total (and its peak).
void flow_update_buffered(dissect *d, flow *f);
// flow_report reports the flow once (on_transcript, stats) and frees everything but its record,
// which moves to the decided list. Held TCP data must have been delivered (tcp_flush) before.
void flow_report(dissect *d, flow *f, tls_end_reason reason);
// flow_release frees the TLS layer and keeps the transcript as a spare (or frees it; not the
// TCP sides: tcp_side_free). flow_free_spares frees the spare transcripts.
void flow_release(dissect *d, flow *f);
void flow_free_spares(dissect *d);

#endif
