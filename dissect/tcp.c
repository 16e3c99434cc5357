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
    }
    s->next += n;
}

static void tcp_release(dissect *d, tcp_side *s, tcp_seg *h) {
    s->held = h->next;
    s->held_bytes -= h->len;
    d->buffered -= h->len;
    free(h);
}

// Deliver held segments that the in-order point has reached (their front may overlap).
static void tcp_drain(tcp_ctx *x, int side) {
    tcp_side *s = &x->f->side[side];
    tcp_seg *h;
    while ((h = s->held) != NULL && seq_leq(h->seq, s->next)) {
        cur c = cur_make(h->data, h->len);
        // Reported in the frame that completed the bytes, as Wireshark does.
        if (cur_skip(&c, s->next - h->seq) && cur_len(&c) > 0) {
            tcp_deliver(x, side, c, x->fr->frame_no, x->fr->ts_ns);
        }
        tcp_release(x->d, s, h);
    }
}

void tcp_flush(tcp_ctx *x, int side) {
    tcp_side *s = &x->f->side[side];
    while (s->held) {
        if (seq_gt(s->held->seq, s->next)) {
            tcp_gap(x, side, s->held->seq - s->next);
        }
        tcp_drain(x, side);
    }
}

void tcp_side_free(dissect *d, tcp_side *s) {
    while (s->held) {
        tcp_release(d, s, s->held);
    }
}

// Compare [seq, seq+len) with every held copy it overlaps; count differing bytes.
// *covered: one held segment already holds all of it; *overlaps: it holds some of it.
static void tcp_compare_held(tcp_ctx *x, const tcp_side *s, uint32_t seq, cur data, bool *covered,
                             bool *overlaps) {
    uint32_t len = (uint32_t)cur_len(&data);
    uint32_t end = seq + len;
    *covered = *overlaps = false;
    for (const tcp_seg *h = s->held; h; h = h->next) {
        uint32_t hend = h->seq + h->len;
        uint32_t lo = seq_gt(h->seq, seq) ? h->seq : seq;
        uint32_t hi = seq_lt(hend, end) ? hend : end;
        if (!seq_lt(lo, hi)) {
            continue;
        }
        *overlaps = true;
        cur a = data, b = cur_make(h->data, h->len);
        if (!cur_skip(&a, lo - seq) || !cur_skip(&b, lo - h->seq)) {
            continue;
        }
        uint32_t n = hi - lo, diff = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t ca = 0, cb = 0;
            if (cur_get_u8(&a, &ca) && cur_get_u8(&b, &cb) && ca != cb) {
                diff++;
            }
        }
        x->f->overlap_conflicts += diff;
        if (lo == seq && hi == end) {
            *covered = true;
        }
    }
}

// Hold a copy of an out-of-order segment, sorted by seq (after equal ones: first copy wins).
static void tcp_hold(tcp_ctx *x, int side, uint32_t seq, cur data) {
    tcp_side *s = &x->f->side[side];
    uint32_t len = (uint32_t)cur_len(&data);
    tcp_seg *g = malloc(sizeof *g + len);
    if (!g) {
        return;  // out of memory: the hole will be declared a gap later
    }
    g->seq = seq;
    g->len = len;
    if (!cur_copy(&data, g->data, len)) {
        free(g);
        return;
    }
    tcp_seg **pp = &s->held;
    while (*pp && seq_leq((*pp)->seq, seq)) {
        pp = &(*pp)->next;
    }
    g->next = *pp;
    *pp = g;
    s->held_bytes += len;
    x->d->buffered += len;
    if (x->d->buffered > x->d->stats.peak_buffered_bytes) {
        x->d->stats.peak_buffered_bytes = x->d->buffered;
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

void tcp_segment(tcp_ctx *x, int side, const net_pkt *p) {
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
    bool covered = false, overlaps = false;
    if (s->held) {
        tcp_compare_held(x, s, seq, data, &covered, &overlaps);
    }
    // Already seen: delivered (below `next`) or held. Not merely "below the highest seq seen":
    // a segment filling a hole is new data, not a retransmission.
    if (n > 0 && (seq_lt(seq, s->next) || overlaps)) {
        tcp_retransmit(x, side, seq, n);
    }
    if (seq_gt(seq, s->next)) {
        if (covered) {
            return;
        }
        if ((uint64_t)s->held_bytes + n > cfg->max_flow_bytes ||
            x->d->buffered + n > cfg->max_total_bytes) {
            // No room to wait for the hole: it becomes a gap, and so does anything before us.
            f->buffer_cap_hit = true;
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
        if (s->held && seq_leq(s->held->seq, s->next)) {
            tcp_drain(x, side);
            continue;
        }
        uint32_t lim = end - seq;
        if (s->held && seq_lt(s->held->seq, end)) {
            lim = s->held->seq - seq;
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

void tcp_ack(tcp_ctx *x, int side, uint32_t ack) {
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
    while (o->held && seq_geq(ack, o->held->seq)) {
        if (seq_gt(o->held->seq, o->next)) {
            tcp_gap(x, other, o->held->seq - o->next);
        }
        tcp_drain(x, other);
    }
    // Acknowledged beyond everything seen (FIN excepted: it is counted in `next` when seen).
    if (!o->held && seq_gt(ack, o->next) && ack - o->next < (1u << 30) &&
        !(o->fin && ack - o->next == 1)) {
        tcp_gap(x, other, ack - o->next);
    }
}
