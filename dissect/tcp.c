// tcp.c — per-side TCP reassembly: in-order bytes go to the TLS layer straight from the frame,
// out-of-order segments are copied and held, holes the capture never filled become gaps.
//
// RFC 9293 §3.4: sequence numbers are compared modulo 2^32 (seq_lt & co.), SYN and FIN each
// occupy one sequence number. "First copy wins" for overlapping data (what the receiver's
// stack kept, as far as a passive observer can tell); differing bytes are counted, not used.
#include <stdlib.h>
#include <string.h>

#include "flow.h"

static tls_meta tcp_meta(uint32_t frame, int64_t ts_ns) {
    tls_meta m = {frame, ts_ns};
    return m;
}

// In-order bytes of `side`: advance, count, hand to the TLS layer (borrowed for the call).
static void tcp_deliver(tcp_ctx *x, int side, cur data, uint32_t frame, int64_t ts_ns) {
    flow *f = x->f;
    tcp_side *s = &f->side[side];
    uint32_t n = (uint32_t)cur_len(&data);
    s->next += n;
    s->bytes += n;
    if (f->tls && n > 0) {
        tls_meta m = tcp_meta(frame, ts_ns);
        tls_conn_feed(f->tls, flow_dir(f, side), cur_data(&data), n, &m);
        x->d->tls_calls++;
    }
}

// `n` bytes at `next` were never captured: say so everywhere the analyzer will look.
static void tcp_gap(tcp_ctx *x, int side, uint32_t n) {
    flow *f = x->f;
    tcp_side *s = &f->side[side];
    if (n == 0) {
        return;
    }
    s->gaps++;
    s->gap_bytes += n;
    if (s->first_gap_frame == 0) {
        s->first_gap_frame = x->fr->frame_no;
    }
    flow_event(x->d, f, side, TLS_EV_TCP_GAP, x->fr->frame_no, x->fr->ts_ns, n);
    if (f->tls) {
        tls_meta m = tcp_meta(x->fr->frame_no, x->fr->ts_ns);
        tls_conn_gap(f->tls, flow_dir(f, side), n, &m);
        x->d->tls_calls++;
    }
    s->next += n;
}

// ---------------------------------------------------------------------------------------------
// Held ranges: a splay tree per side (Sleator & Tarjan, "Self-adjusting binary search trees",
// JACM 1985). Any sequence of m operations on n ranges costs O((m + n) log n) whatever the
// arrival order a sender picks, and in-order walks (draining, reversed or sorted arrival) cost
// O(1) amortized each: a sorted list took O(n) per insertion (62,500 reversed 8-byte segments:
// 2 billion steps). No recursion anywhere: a splay tree may be deep between two splays.
// ---------------------------------------------------------------------------------------------
typedef enum tcp_find { TCP_FIND_SEQ, TCP_FIND_FIRST, TCP_FIND_LAST } tcp_find;

// Which way `seq` (or the first/last range) lies from node t: <0 left, >0 right, 0 here.
static int tcp_dir(tcp_find how, uint32_t seq, const tcp_seg *t) {
    if (how != TCP_FIND_SEQ) {
        return how == TCP_FIND_FIRST ? -1 : 1;
    }
    return seq_lt(seq, t->seq) ? -1 : seq_gt(seq, t->seq) ? 1 : 0;
}

// Top-down splay: brings the range starting at `seq` (else the last node on its search path,
// i.e. its predecessor or successor), or the first or last range, to the root of tree t.
static tcp_seg *tcp_splay(dissect *d, tcp_seg *t, tcp_find how, uint32_t seq) {
    if (t == NULL) {
        return NULL;
    }
    tcp_seg *side[2] = {NULL, NULL};  // roots of the left and right trees being built
    tcp_seg **hook[2] = {&side[0], &side[1]};
    for (;;) {
        d->tcp_steps++;
        int dir = tcp_dir(how, seq, t);
        if (dir < 0 && t->left != NULL && tcp_dir(how, seq, t->left) < 0) {
            tcp_seg *y = t->left;  // zig-zig: rotate right
            t->left = y->right;
            y->right = t;
            t = y;
        } else if (dir > 0 && t->right != NULL && tcp_dir(how, seq, t->right) > 0) {
            tcp_seg *y = t->right;  // zig-zig: rotate left
            t->right = y->left;
            y->left = t;
            t = y;
        }
        if (dir < 0 && t->left != NULL) {
            *hook[1] = t;  // t and its right subtree are all greater: link right
            hook[1] = &t->left;
            t = t->left;
        } else if (dir > 0 && t->right != NULL) {
            *hook[0] = t;  // link left
            hook[0] = &t->right;
            t = t->right;
        } else {
            break;
        }
    }
    *hook[0] = t->left;
    *hook[1] = t->right;
    t->left = side[0];
    t->right = side[1];
    return t;
}

// The held range with the lowest seq (now the root, without a left child), or NULL. Inline,
// nothing held answered here: it is asked after every segment and ACK (~20 instructions a call).
static inline tcp_seg *tcp_first(dissect *d, tcp_side *s) {
    if (s->held == NULL) {
        return NULL;
    }
    s->held = tcp_splay(d, s->held, TCP_FIND_FIRST, 0);
    return s->held;
}

// The held range containing `pos`, else the first one after it, else NULL.
static tcp_seg *tcp_at(dissect *d, tcp_side *s, uint32_t pos) {
    tcp_seg *t = s->held = tcp_splay(d, s->held, TCP_FIND_SEQ, pos);
    if (t == NULL) {
        return NULL;
    }
    if (seq_gt(t->seq, pos)) {  // the successor: its predecessor may still contain pos
        tcp_seg *p = t->left = tcp_splay(d, t->left, TCP_FIND_LAST, 0);
        return p != NULL && seq_lt(pos, p->seq + p->len) ? p : t;
    }
    if (seq_lt(pos, t->seq + t->len)) {
        return t;
    }
    return t->right = tcp_splay(d, t->right, TCP_FIND_FIRST, 0);
}

// Memory one held range costs as the allocator sees it (glibc: a size word, 16-byte granules,
// 32 bytes at least), node included: this, not the payload alone, is what --max-flow-bytes and
// --max-total-bytes count, so a flood of tiny segments holds no more memory than they say.
static uint32_t tcp_seg_cost(uint32_t len) {
    size_t n = (sizeof(tcp_seg) + len + sizeof(size_t) + 15) & ~(size_t)15;
    return n < 32 ? 32 : (uint32_t)n;
}

static void tcp_account(dissect *d, tcp_side *s, const tcp_seg *g, bool add) {
    uint32_t c = tcp_seg_cost(g->len);
    s->held_bytes = add ? s->held_bytes + c : s->held_bytes - c;
    d->buffered = add ? d->buffered + c : d->buffered - c;
    if (d->buffered > d->stats.peak_buffered_bytes) {
        d->stats.peak_buffered_bytes = d->buffered;
    }
}

// Frees the first range (the root after tcp_first).
static void tcp_release_first(dissect *d, tcp_side *s) {
    tcp_seg *h = s->held;
    s->held = h->right;
    tcp_account(d, s, h, false);
    free(h);
}

// Deliver held ranges that the in-order point has reached (their front may overlap).
static void tcp_drain(tcp_ctx *x, int side) {
    tcp_side *s = &x->f->side[side];
    tcp_seg *h;
    while ((h = tcp_first(x->d, s)) != NULL && seq_leq(h->seq, s->next)) {
        cur c = cur_make(h->data, h->len);
        // Reported in the frame that completed the bytes, as Wireshark does.
        if (cur_skip(&c, s->next - h->seq) && cur_len(&c) > 0) {
            tcp_deliver(x, side, c, x->fr->frame_no, x->fr->ts_ns);
        }
        tcp_release_first(x->d, s);
    }
}

void tcp_flush(tcp_ctx *x, int side) {
    tcp_side *s = &x->f->side[side];
    const tcp_seg *h;
    while ((h = tcp_first(x->d, s)) != NULL) {
        if (seq_gt(h->seq, s->next)) {
            tcp_gap(x, side, h->seq - s->next);
        }
        tcp_drain(x, side);
    }
}

void tcp_side_free(dissect *d, tcp_side *s) {
    // Rotate left children up until the root has none, then free it: O(n), no recursion.
    tcp_seg *t = s->held;
    while (t != NULL) {
        tcp_seg *l = t->left;
        if (l != NULL) {
            t->left = l->right;
            l->right = t;
            t = l;
            continue;
        }
        tcp_seg *r = t->right;
        tcp_account(d, s, t, false);
        free(t);
        t = r;
    }
    s->held = NULL;
}

uint64_t tcp__steps(const dissect *d) {
    return d->tcp_steps;
}

// What holding [seq, seq + len) would add. Held ranges never overlap, so each byte of the
// segment is compared with the one held copy of it, if any (differing bytes are counted).
typedef struct tcp_overlay {
    bool overlaps;  // some of it is held already
    bool covered;   // all of it is
    uint64_t cost;  // memory the ranges not held yet would take (tcp_seg_cost each)
} tcp_overlay;

static tcp_overlay tcp_compare_held(tcp_ctx *x, tcp_side *s, uint32_t seq, cur data) {
    tcp_overlay o = {false, true, 0};
    uint32_t end = seq + (uint32_t)cur_len(&data), pos = seq;
    while (seq_lt(pos, end)) {
        const tcp_seg *h = tcp_at(x->d, s, pos);
        if (h == NULL || !seq_lt(h->seq, end)) {
            o.cost += tcp_seg_cost(end - pos);
            o.covered = false;
            break;
        }
        if (seq_gt(h->seq, pos)) {
            o.cost += tcp_seg_cost(h->seq - pos);
            o.covered = false;
            pos = h->seq;
        }
        uint32_t hend = h->seq + h->len, hi = seq_lt(hend, end) ? hend : end;
        cur a = data, b = cur_make(h->data, h->len);
        if (!cur_skip(&a, pos - seq) || !cur_skip(&b, pos - h->seq)) {
            break;
        }
        o.overlaps = true;
        uint32_t diff = 0;
        for (uint32_t i = hi - pos; i > 0; i--) {
            uint8_t ca = 0, cb = 0;
            if (cur_get_u8(&a, &ca) && cur_get_u8(&b, &cb) && ca != cb) {
                diff++;
            }
        }
        x->f->overlap_conflicts += diff;
        pos = hi;
    }
    return o;
}

// Copies `n` bytes of `data` into a new range at `seq` (not held yet); false when out of memory.
static bool tcp_hold_range(tcp_ctx *x, tcp_side *s, uint32_t seq, cur data, uint32_t n) {
    tcp_seg *g = malloc(sizeof *g + n);
    if (g == NULL || !cur_copy(&data, g->data, n)) {
        free(g);
        return false;
    }
    g->seq = seq;
    g->len = n;
    tcp_seg *t = tcp_splay(x->d, s->held, TCP_FIND_SEQ, seq);
    g->left = g->right = NULL;
    if (t != NULL && seq_lt(seq, t->seq)) {
        g->left = t->left;
        g->right = t;
        t->left = NULL;
    } else if (t != NULL) {
        g->right = t->right;
        g->left = t;
        t->right = NULL;
    }
    s->held = g;
    tcp_account(x->d, s, g, true);
    return true;
}

// Hold a copy of the bytes of an out-of-order segment that are not held yet: first copy wins.
static void tcp_hold(tcp_ctx *x, int side, uint32_t seq, cur data) {
    tcp_side *s = &x->f->side[side];
    uint32_t end = seq + (uint32_t)cur_len(&data), pos = seq;
    while (seq_lt(pos, end)) {
        const tcp_seg *h = tcp_at(x->d, s, pos);
        if (h != NULL && seq_leq(h->seq, pos)) {
            uint32_t hend = h->seq + h->len;
            pos = seq_lt(hend, end) ? hend : end;
            continue;
        }
        uint32_t stop = h != NULL && seq_lt(h->seq, end) ? h->seq : end;
        cur part = data;
        if (!cur_skip(&part, pos - seq) || !tcp_hold_range(x, s, pos, part, stop - pos)) {
            return;  // out of memory: the hole will be declared a gap later
        }
        pos = stop;
    }
}

// A retransmission of data this side already sent. Server data resent before the client
// acknowledged it is the signature of a lost flight (path-MTU black hole), so it is listed.
static void tcp_retransmit(tcp_ctx *x, int side, uint32_t seq, uint32_t len) {
    flow *f = x->f;
    f->side[side].retransmits++;
    if (f->client < 0 || side == f->client || f->decided) {
        return;
    }
    const tcp_side *c = &f->side[f->client];
    if (!c->acked || seq_geq(seq, c->last_ack)) {
        f->server_flight_retransmits++;
    }
    tls_transcript *t = f->t;
    if (t && t->num_events > 0) {
        tls_event *last = &t->events[t->num_events - 1];
        if (last->kind == TLS_EV_TCP_RETRANSMIT && last->dir == TLS_DIR_S2C) {
            last->count++;
            last->length += len;
            return;
        }
    }
    flow_event(x->d, f, side, TLS_EV_TCP_RETRANSMIT, x->fr->frame_no, x->fr->ts_ns, len);
}

// A pure ACK (or SYN-ACK, or FIN) without PSH/RST carrying 1..6 bytes, all zero: some devices
// count the Ethernet padding of a minimum-size frame (60 - 14 - 20 - 20 = 6 bytes) in the IP
// length (nDPI issue #1946, corpus ndpi__heuristic_tcp_ack_payload.pcap). Such bytes are held
// back, not delivered: if the sender's next data starts at the same sequence number, they were
// padding (a sender never sends different bytes for the same sequence numbers) and are dropped;
// if it continues right after them, or the peer acknowledges them, they were data.
enum { TCP_PAD_MAX = 6 };

bool tcp_is_pad(const net_pkt *p) {
    if (p->payload_len == 0 || p->payload_len > TCP_PAD_MAX || p->truncated ||
        !(p->flags & TCP_ACK) || (p->flags & (TCP_PSH | TCP_RST))) {
        return false;
    }
    cur c = cur_make(p->payload, p->payload_len);
    uint8_t b = 0;
    while (cur_get_u8(&c, &b)) {
        if (b != 0) {
            return false;
        }
    }
    return true;
}

// The pending pad turned out to be data: deliver its zeros at `next`.
static void tcp_pad_deliver(tcp_ctx *x, int side) {
    static const uint8_t zeros[TCP_PAD_MAX];
    tcp_side *s = &x->f->side[side];
    uint8_t n = s->pad_len;
    s->pad_len = 0;
    if (n > 0 && s->pad_seq == s->next) {
        tcp_deliver(x, side, cur_make(zeros, n), x->fr->frame_no, x->fr->ts_ns);
        tcp_drain(x, side);
    }
}

void tcp__segment(tcp_ctx *x, int side, const net_pkt *p) {
    flow *f = x->f;
    tcp_side *s = &f->side[side];
    const dissect_config *cfg = &x->d->cfg;
    uint32_t seq = p->seq + ((p->flags & TCP_SYN) ? 1u : 0u);  // SYN occupies one number
    cur data = cur_make(p->payload, p->payload_len);
    uint32_t n = p->payload_len;
    if (!s->have_next) {
        s->have_next = true;
        s->next = seq;
    }
    if (n == 0) {
        // A bare segment past the in-order point, with nothing held: bytes went by unseen.
        if (!p->truncated && !(p->flags & (TCP_RST | TCP_SYN)) && !s->held &&
            seq_gt(seq, s->next)) {
            tcp_gap(x, side, seq - s->next);
        }
        if (!p->truncated) {
            return;
        }
    }
    if (tcp_is_pad(p)) {
        // Pending only at the in-order point with nothing held; elsewhere it is never data.
        if (seq == s->next && !s->held) {
            s->pad_seq = seq;
            s->pad_len = s->pad_len > n ? s->pad_len : (uint8_t)n;
        }
        return;
    }
    if (s->pad_len > 0) {
        if (s->pad_seq != s->next || seq == s->pad_seq) {
            s->pad_len = 0;  // restarted at the same number: the zeros were padding
        } else if (seq == s->pad_seq + s->pad_len) {
            tcp_pad_deliver(x, side);  // continues after them: they were data
        }
    }
    if (!s->has_data) {
        s->has_data = true;
        s->data_start = seq;
    }
    uint32_t end = seq + n;
    tcp_overlay o = {false, false, tcp_seg_cost(n)};
    if (s->held) {
        o = tcp_compare_held(x, s, seq, data);
    }
    // Already seen: delivered (below `next`) or held. Not merely "below the highest seq seen":
    // a segment filling a hole is new data, not a retransmission.
    if (n > 0 && (seq_lt(seq, s->next) || o.overlaps)) {
        tcp_retransmit(x, side, seq, n);
    }
    if (seq_gt(seq, s->next)) {
        // Nothing new to keep. A segment the snaplen cut to 0 bytes has no byte to hold: its
        // hole is declared a gap when data, an ACK or the end passes it, like any other.
        if (o.covered || n == 0) {
            return;
        }
        bool flow_full = (uint64_t)s->held_bytes + o.cost > cfg->max_flow_bytes;
        if (flow_full || x->d->buffered + o.cost > cfg->max_total_bytes) {
            // No room to wait for the hole: it becomes a gap, and so does anything before us.
            if (flow_full) {
                f->flow_cap_hit = true;
            } else {
                f->total_cap_hit = true;
            }
            tcp_flush(x, side);
            if (seq_gt(seq, s->next)) {
                tcp_gap(x, side, seq - s->next);
            }
        } else {
            tcp_hold(x, side, seq, data);
            return;
        }
    }
    // In order, possibly overlapping what was delivered or what is held: held copies win.
    while (seq_lt(seq, end)) {
        if (seq_lt(seq, s->next)) {
            uint32_t skip = s->next - seq;
            if (skip >= end - seq) {
                break;
            }
            if (!cur_skip(&data, skip)) {
                break;
            }
            seq += skip;
            continue;
        }
        const tcp_seg *h = tcp_first(x->d, s);
        if (h != NULL && seq_leq(h->seq, s->next)) {
            tcp_drain(x, side);
            continue;
        }
        uint32_t lim = end - seq;
        if (h != NULL && seq_lt(h->seq, end)) {
            lim = h->seq - seq;
        }
        cur part;
        if (!cur_get_bytes(&data, &part, lim)) {
            break;
        }
        tcp_deliver(x, side, part, x->fr->frame_no, x->fr->ts_ns);
        seq += lim;
    }
    tcp_drain(x, side);
    // Snaplen cut the segment: the captured part went in, the rest is a gap (never a peer fault).
    if (p->truncated && s->next == end) {
        tcp_gap(x, side, p->wire_payload_len - p->payload_len);
        tcp_drain(x, side);
    }
}

void tcp__ack(tcp_ctx *x, int side, uint32_t ack) {
    flow *f = x->f;
    int other = 1 - side;
    tcp_side *o = &f->side[other];
    if (!o->have_next) {
        return;
    }
    if (o->pad_len > 0 && ack == o->pad_seq + o->pad_len) {
        tcp_pad_deliver(x, other);  // the receiver acknowledged exactly the zeros: data
    }
    // The peer acknowledged bytes past a hole: they were sent and received, just not captured.
    const tcp_seg *h;
    while ((h = tcp_first(x->d, o)) != NULL && seq_geq(ack, h->seq)) {
        if (seq_gt(h->seq, o->next)) {
            tcp_gap(x, other, h->seq - o->next);
        }
        tcp_drain(x, other);
    }
    // Acknowledged beyond everything seen (FIN excepted: it is counted in `next` when seen).
    if (!o->held && seq_gt(ack, o->next) && ack - o->next < (1u << 30) &&
        !(o->fin && ack - o->next == 1)) {
        tcp_gap(x, other, ack - o->next);
    }
}
