// dissect.c — the public dissect_* API: frames → flows → reassembly → TLS layer → transcripts.
//
// Lifecycle of a flow (flow.c): a small record from its first frame; the ~20 KB transcript and the
// TLS layer only from its first payload byte; reported exactly once (decided, closed, evicted or at
// finish), after which only the record stays so late packets cost one lookup.
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

void dissect_config_default(dissect_config *c) {
    memset(c, 0, sizeof *c);
    c->max_flows = 65536;
    c->max_flow_bytes = 1u << 20;
    c->max_total_bytes = 256ull << 20;
    c->max_message_len = 1u << 20;
    c->idle_timeout_s = 300;
    c->keep_decided_flows = true;
}

dissect *dissect_new(const dissect_config *c) {
    dissect *d = calloc(1, sizeof *d);
    if (!d) {
        return NULL;
    }
    d->cfg = *c;
    if (d->cfg.max_flows == 0) {
        d->cfg.max_flows = 1;
    }
    dissect_clock_init(&d->clk, d->cfg.idle_timeout_s);
    d->stats.first_unsupported_linktype = -1;
    d->scratch = malloc(sizeof *d->scratch);
    if (!d->scratch || !flow_table_init(&d->ft, d->cfg.max_flows)) {
        free(d->scratch);
        free(d);
        return NULL;
    }
    return d;
}

void dissect_prefault(dissect *d) {
    memset(d->ft.buckets, 0, ((size_t)d->ft.mask + 1) * sizeof *d->ft.buckets);
}

void dissect_free(dissect *d) {
    if (!d) {
        return;
    }
    for (uint32_t i = 0; d->ft.buckets && i <= d->ft.mask; i++) {
        for (flow *f = d->ft.buckets[i]; f; f = f->hnext) {
            tcp_side_free(d, &f->side[0]);
            tcp_side_free(d, &f->side[1]);
            flow_release(d, f);
        }
    }
    flow_table_destroy(&d->ft);
    flow_free_spares(d);
    free(d->scratch);
    free(d);
}

void dissect_bounds_add(dissect_bounds *sum, const dissect_bounds *b) {
    sum->flow_cap += b->flow_cap;
    sum->total_cap += b->total_cap;
    sum->message_cap += b->message_cap;
    sum->events_dropped += b->events_dropped;
}

const dissect_stats *dissect_get_stats(const dissect *d) {
    return &d->stats;
}

// report: the flow reported once (flow_report), its held data delivered first (holes as gaps)
// so the TLS layer sees all that was captured.
static void report(dissect *d, flow *f, tls_end_reason reason) {
    if (f->decided) {
        return;
    }
    flow_settle_roles(f);  // tcp_flush needs each side's direction
    if (f->side[0].held || f->side[1].held) {
        dissect_frame last;
        memset(&last, 0, sizeof last);
        last.frame_no = f->last_frame;
        last.ts_ns = f->last_ts_ns;
        tcp_ctx x = {d, f, &last};
        tcp_flush(&x, 0);
        tcp_flush(&x, 1);
    }
    flow_report(d, f, reason);
}

// Reports (if needed) and drops the record: the table needs the slot.
static void evict(dissect *d, flow *f) {
    if (!f->decided) {
        report(d, f, TLS_END_EVICTED);
    }
    flow_remove(&d->ft, f);
}

// new_flow: room in the table (decided records are cheapest to lose; otherwise the least
// recently used live flow), then the new record.
static flow *new_flow(dissect *d, const flow_key *k, uint32_t hash, const dissect_frame *fr) {
    if (d->ft.count >= d->cfg.max_flows) {
        evict(d, d->ft.done.head ? d->ft.done.head : d->ft.live.head);
    }
    return flow_new(d, k, hash, fr);
}

void dissect_clock_init(dissect_clock *c, uint32_t idle_timeout_s) {
    memset(c, 0, sizeof *c);
    c->idle_ns = (int64_t)idle_timeout_s * 1000000000;
}

dissect_clock_event dissect_clock_step_slow(dissect_clock *c, int64_t ts_ns) {
    if (!c->set) {
        c->set = true;
        c->now_ns = ts_ns;
        return DISSECT_CLOCK_STEADY;
    }
    if (ts_ns <= c->now_ns) {
        return DISSECT_CLOCK_STEADY;
    }
    if (ts_ns - c->now_ns <= c->idle_ns) {
        c->now_ns = ts_ns;
        c->jump_pending = false;
        return DISSECT_CLOCK_STEADY;
    }
    if (c->jump_pending && ts_ns >= c->jump_ns && ts_ns - c->jump_ns <= c->idle_ns) {
        c->now_ns = ts_ns;
        c->jump_pending = false;
        return DISSECT_CLOCK_CONFIRMED;
    }
    c->jump_pending = true;
    c->jump_ns = ts_ns;
    return DISSECT_CLOCK_JUMP;
}

// clock_frame: d's clock after a frame stamped ts_ns, and what the jump rules do to d's lists.
static inline void clock_frame(dissect *d, int64_t ts_ns) {
    dissect_clock_event e = dissect_clock_step(&d->clk, ts_ns);
    if (__builtin_expect(e == DISSECT_CLOCK_STEADY, 1)) {
        return;
    }
    if (e == DISSECT_CLOCK_CONFIRMED) {
        // The connection the jump's first frame touched (ours: another worker's shard leaves
        // it NULL) goes idle from that frame's time, after every other connection of its list.
        flow *f = d->ft.jump;
        if (f) {
            d->ft.jump = NULL;
            f->idle_ts_ns = d->clk.jump_ns;
            flow_touch(&d->ft, f);
        }
        return;
    }
    d->ft.jump = NULL;  // a new jump: feed sets it once the frame's connection is known
}

// due_at: the head of either LRU list has been idle longer than the timeout by clock `now`
// (inline: asked for every frame by expire_due, d's own clock; the scan below runs only when it
// says so).
static inline bool due_at(const dissect *d, int64_t now) {
    int64_t idle = d->clk.idle_ns;
    const flow *l = d->ft.live.head, *o = d->ft.done.head;
    return idle != 0 && ((l && now - l->idle_ts_ns > idle) || (o && now - o->idle_ts_ns > idle));
}

static inline bool expire_due(const dissect *d) {
    return due_at(d, d->clk.now_ns);
}

// dissect_idle_deadline: due_at's rule as a clock (due_at(d, now) is now > it). Two forms of one
// rule on purpose: due_at runs for every frame, and written through the deadline (a minimum and a
// saturating add) it cost one thread 0.5 % more instructions; test_idle_deadline ties the two.
int64_t dissect_idle_deadline(const dissect *d) {
    // due_at: now - head->idle_ts_ns > idle for either head, i.e. now > min(idle_ts) + idle.
    int64_t idle = d->clk.idle_ns;
    const flow *l = d->ft.live.head, *o = d->ft.done.head;
    if (idle == 0 || (!l && !o)) {
        return INT64_MAX;
    }
    int64_t t = l ? l->idle_ts_ns : INT64_MAX;
    if (o && o->idle_ts_ns < t) {
        t = o->idle_ts_ns;
    }
    return t > INT64_MAX - idle ? INT64_MAX : t + idle;
}

dissect_clock *dissect_clock_of(dissect *d) {
    return &d->clk;
}

bool dissect_clock_pass(dissect *d, int64_t now_ns) {
    if (due_at(d, now_ns)) {
        return false;
    }
    assert(d->clk.set && !d->clk.jump_pending && now_ns >= d->clk.now_ns);
    d->clk.now_ns = now_ns;
    return true;
}

// Idle flows (capture clock) are evicted as we go: oldest first in each LRU list.
static void dissect_expire(dissect *d) {
    int64_t idle = d->clk.idle_ns;
    if (idle == 0) {
        return;
    }
    while (d->ft.live.head && d->clk.now_ns - d->ft.live.head->idle_ts_ns > idle) {
        flow *f = d->ft.live.head;
        f->idle_expired = true;
        report(d, f, TLS_END_EVICTED);  // now on the decided list
        if (!d->cfg.keep_decided_flows) {
            flow_remove(&d->ft, f);
        } else {
            // Its record is kept for late packets one timeout from now, in the decided list's
            // idle-time order: with its old time at the tail it stayed until the records ahead
            // of it went, which in a --threads worker's list are others than one thread's.
            f->idle_ts_ns = d->clk.now_ns;
        }
    }
    while (d->ft.done.head && d->clk.now_ns - d->ft.done.head->idle_ts_ns > idle) {
        flow_remove(&d->ft, d->ft.done.head);
    }
}

static void feed_fin(tcp_ctx *x, int side, const net_pkt *p) {
    flow *f = x->f;
    tcp_side *s = &f->side[side];
    // Data still held waits for nothing now: holes before the FIN are gaps.
    tcp_flush(x, side);
    uint32_t fin_seq = p->seq + ((p->flags & TCP_SYN) ? 1u : 0u) +
                       (tcp_is_pad(p) ? 0u : p->wire_payload_len);  // padding is not data
    if (s->have_next && seq_gt(fin_seq, s->next) && !s->fin) {
        tcp_segment(x, side, &(net_pkt){.seq = fin_seq, .flags = TCP_ACK});
    }
    if (!s->fin) {
        s->fin = true;
        s->fin_frame = x->fr->frame_no;
        flow_event(x->d, f, side, TLS_EV_TCP_FIN, x->fr->frame_no, x->fr->ts_ns, 0);
    }
    if (s->have_next && s->next == fin_seq) {
        s->next++;  // FIN occupies one sequence number
    }
}

#define UNDEC_ROW(id, name, limit, text) {name, limit, text},
static const struct {
    const char *name;
    unsigned limit;
    const char *text;
} undecoded_rows[DISSECT_UNDECODED_COUNT] = {DISSECT_UNDECODED_TABLE(UNDEC_ROW)};
#undef UNDEC_ROW

const char *dissect_undecoded_name(dissect_undecoded_reason r) {
    return r < DISSECT_UNDECODED_COUNT ? undecoded_rows[r].name : "unknown";
}

const char *dissect_undecoded_text(dissect_undecoded_reason r) {
    return r < DISSECT_UNDECODED_COUNT ? undecoded_rows[r].text : "unknown";
}

unsigned dissect_undecoded_limit(dissect_undecoded_reason r) {
    return r < DISSECT_UNDECODED_COUNT ? undecoded_rows[r].limit : 0;
}

void dissect_undecoded_describe(dissect_undecoded_reason r, const dissect_undecoded *u, char *out,
                                size_t outlen) {
    char limit[24] = "";
    if (dissect_undecoded_limit(r) > 0) {
        snprintf(limit, sizeof limit, " (%u)", dissect_undecoded_limit(r));
    }
    snprintf(out, outlen, "%" PRIu64 " frame(s): %s%s; first frame %" PRIu64, u->frames,
             dissect_undecoded_text(r), limit, u->first_frame);
}

void dissect_undecoded_merge(dissect_undecoded *into, const dissect_undecoded *from) {
    for (size_t i = 0; i < DISSECT_UNDECODED_COUNT; i++) {
        if (from[i].frames == 0) {
            continue;
        }
        if (into[i].frames == 0 || from[i].first_frame < into[i].first_frame) {
            into[i].first_frame = from[i].first_frame;
            into[i].linktype = from[i].linktype;
        }
        into[i].frames += from[i].frames;
    }
}

static void dissect_undecoded_note(dissect *d, dissect_undecoded_reason r,
                                   const dissect_frame *fr) {
    dissect_undecoded *u = &d->stats.undecoded[r];
    if (u->frames++ == 0) {
        u->first_frame = fr->frame_no;
        u->linktype = fr->linktype;
    }
}

static void dissect_count_status(dissect *d, net_status st, const dissect_frame *fr) {
    int linktype = fr->linktype;
    switch (st) {
        case NET_OK:
            break;
        case NET_NOT_IP:
            d->stats.frames_not_ip++;
            break;
        case NET_NOT_TCP:
        case NET_FRAGMENT:
        case NET_ICMP_QUOTE:
            d->stats.frames_not_tcp++;
            break;
        case NET_MALFORMED:
            d->stats.frames_malformed++;
            break;
        case NET_TRUNCATED:
            d->stats.frames_truncated++;
            break;
        case NET_UNSUPPORTED_LINK:
            if (d->stats.frames_unsupported_link++ == 0) {
                d->stats.first_unsupported_linktype = linktype;
            }
            dissect_undecoded_note(d, DISSECT_UNDECODED_UNSUPPORTED_LINK, fr);
            break;
        case NET_WRONG_LINK:
            dissect_undecoded_note(d, DISSECT_UNDECODED_WRONG_LINK, fr);
            break;
        case NET_DEEP_VLAN:
            dissect_undecoded_note(d, DISSECT_UNDECODED_VLAN_DEPTH, fr);
            break;
        case NET_DEEP_MPLS:
            dissect_undecoded_note(d, DISSECT_UNDECODED_MPLS_DEPTH, fr);
            break;
        case NET_DEEP_IPV6_EXT:
            dissect_undecoded_note(d, DISSECT_UNDECODED_IPV6_EXT_DEPTH, fr);
            break;
        case NET_DEEP_TUNNEL:
            dissect_undecoded_note(d, DISSECT_UNDECODED_TUNNEL_DEPTH, fr);
            break;
    }
}

// Segment-level work of a live (undecided) flow.
static void feed_segment(dissect *d, flow *f, int side, const net_pkt *p, const dissect_frame *fr) {
    tcp_side *s = &f->side[side];
    tcp_ctx x = {d, f, fr};
    uint64_t tls_calls = d->tls_calls;
    if (p->flags & TCP_SYN) {
        flow_syn(d, f, side, p, fr);
    }
    if (p->truncated) {
        if (f->snaplen_truncated++ == 0) {
            f->first_truncated_frame = fr->frame_no;
        }
    }
    if (p->payload_len > 0 || p->truncated) {
        if (f->client < 0) {
            flow_roles_from_payload(f, side, p);
        }
        if (f->tls == NULL) {  // (with a TLS layer, the transcript exists and nothing is pending)
            flow_start_tls(d, f);
        }
    }
    tcp_segment(&x, side, p);
    if (p->flags & TCP_ACK) {
        s->acked = true;
        s->last_ack = p->ack;
        tcp_ack(&x, side, p->ack);
    }
    if (p->flags & TCP_FIN) {
        feed_fin(&x, side, p);
    }
    if (p->flags & TCP_RST) {
        if (!s->rst) {
            s->rst = true;
            s->rst_frame = fr->frame_no;
        }
        flow_event(d, f, side, TLS_EV_TCP_RST, fr->frame_no, fr->ts_ns, 0);
        f->closed = true;
    }
    if (f->side[0].fin && f->side[1].fin) {
        f->closed = true;
    }
    // Only bytes or a gap handed to the TLS layer change its buffers or decide it (a new layer
    // holds nothing): a pure ACK, padding or held data skips asking (~35 instructions).
    bool tls_moved = d->tls_calls != tls_calls;
    if (tls_moved) {
        flow_update_buffered(d, f);
    }
    tls_end_reason reason;
    if (tls_moved && f->tls && tls_conn_decided(f->tls, &reason)) {
        report(d, f, reason);
    } else if (d->buffered > d->cfg.max_total_bytes) {
        // The TLS layer grows its message buffers only as bytes arrive, each flow under
        // max_flow_bytes; the total cap is enforced here by ending the flow that crossed it.
        f->total_cap_hit = true;
        report(d, f, TLS_END_BUFFER_CAP);
    } else if (f->closed) {
        report(d, f, TLS_END_CLOSED);
    }
}

// An ICMP error quoting a TCP segment of a 5-tuple not seen yet: Wireshark numbers it as a
// TCP stream, so it takes a conn_id. The record sees no packet of its own; unless real
// segments follow, it is never reported (see flow_report).
static void dissect_icmp_quote(dissect *d, const net_pkt *p, const dissect_frame *fr) {
    flow_key k;
    int side;
    uint32_t hash = flow_key_make(&k, p, &side);
    if (!flow_lookup(&d->ft, &k, hash)) {
        flow *f = new_flow(d, &k, hash, fr);
        if (f) {
            f->last_frame = fr->frame_no;
            f->last_ts_ns = fr->ts_ns;
            f->idle_ts_ns = d->clk.now_ns;
        }
    }
}

// app_records_of: application-data records counted so far in the flow's transcript.
static uint64_t app_records_of(const flow *f) {
    return f->t ? (uint64_t)f->t->app_records[0] + f->t->app_records[1] : 0;
}

// feed is dissect_feed; `info` (NULL from dissect_feed) receives dissect_feed_ex's flags.
__attribute__((always_inline)) static inline void feed(dissect *d, const dissect_frame *fr,
                                                       dissect_frame_info *info) {
    d->stats.frames++;
    d->stats.bytes += fr->len;
    clock_frame(d, fr->ts_ns);
    // Every frame moves the capture clock and expires what went idle (not only TCP frames): a
    // --threads worker does the same for the frames of other shards (dissect_clock_only), so
    // idle connections are reported at the same frame whatever the thread count.
    if (expire_due(d)) {
        dissect_expire(d);
    }
    net_pkt p;
    net_status st = net_decode(fr->linktype, fr->data, fr->caplen, fr->len, &p);
    if (st == NET_ICMP_QUOTE) {
        dissect_icmp_quote(d, &p, fr);
    }
    if (st != NET_OK) {
        dissect_count_status(d, st, fr);
        return;
    }
    flow_key k;
    int side;
    uint32_t hash = flow_key_make(&k, &p, &side);
    flow *f = flow_lookup(&d->ft, &k, hash);
    if (f && (p.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && flow_syn_starts_new(f, side, &p)) {
        if (!f->decided) {
            report(d, f, TLS_END_CLOSED);
        }
        flow_remove(&d->ft, f);
        f = NULL;
    }
    if (!f) {
        f = new_flow(d, &k, hash, fr);
        if (!f) {
            return;
        }
    }
    f->last_frame = fr->frame_no;
    f->last_ts_ns = fr->ts_ns;
    // Every LRU list stays in the order of idle_ts_ns, so that expiry, which looks at the heads
    // only, finds each connection when it is due, and a worker's shorter lists (--threads) find
    // it at the same frame as one thread's. A frame that starts a clock jump is stamped with the
    // clock as well; the connection is remembered (ft.jump) and, if a second frame confirms the
    // jump, goes idle from the jump's time then (clock_frame), so that confirming it does
    // not evict the connection that arrived with it. Stamped with its own time here, a jump
    // never confirmed (one bogus frame 10 years ahead) kept its connection at the head of its
    // list for good, holding back the expiry of every connection behind it.
    f->idle_ts_ns = d->clk.now_ns;
    if (d->clk.jump_pending && fr->ts_ns >= d->clk.jump_ns) {
        d->ft.jump = f;
    }
    flow_touch(&d->ft, f);
    if (!f->side[side].seen) {
        f->side[side].seen = true;
        f->side[side].base_seq = p.seq;
    }
    if (f->decided) {
        return;  // a late packet of a reported connection costs this lookup and nothing more
    }
    if (info) {
        info->tcp = true;
        info->undecided = true;
        uint64_t before = app_records_of(f);
        feed_segment(d, f, side, &p, fr);
        info->decided_now = f->decided;
        info->app_data = (f->decided ? d->reported_app_records : app_records_of(f)) > before;
    } else {
        feed_segment(d, f, side, &p, fr);
    }
    if (f->decided && !d->cfg.keep_decided_flows) {
        flow_remove(&d->ft, f);
    }
}

void dissect_feed(dissect *d, const dissect_frame *fr) {
    feed(d, fr, NULL);
}

size_t dissect_feed_frames(dissect *d, const dissect_frame *frames, size_t n) {
    uint64_t before = d->stats.transcripts;  // counts exactly the on_transcript calls
    for (size_t i = 0; i < n; i++) {
        feed(d, &frames[i], NULL);
        if (d->stats.transcripts != before) {
            return i + 1;
        }
    }
    return n;
}

uint32_t dissect_oldest_live_frame(const dissect *d) {
    uint32_t oldest = UINT32_MAX;
    for (const flow *f = d->ft.live.head; f; f = f->lnext) {
        if (f->first_frame < oldest) {
            oldest = f->first_frame;
        }
    }
    return oldest;
}

void dissect_clock_only(dissect *d, int64_t ts_ns) {
    clock_frame(d, ts_ns);
    // feed's gate: dissect_expire removes nothing unless a list head is overdue (its loops test
    // the same condition), so the frame at which anything expires is unchanged.
    if (expire_due(d)) {
        dissect_expire(d);
    }
}

void dissect_feed_ex(dissect *d, const dissect_frame *fr, dissect_frame_info *out) {
    memset(out, 0, sizeof *out);
    feed(d, fr, out);
}

static int conn_id_cmp(const void *a, const void *b) {
    const flow *fa = *(const flow *const *)a, *fb = *(const flow *const *)b;
    return (fa->conn_id > fb->conn_id) - (fa->conn_id < fb->conn_id);
}

void dissect_finish(dissect *d) {
    uint32_t n = 0;
    for (flow *f = d->ft.live.head; f; f = f->lnext) {
        n++;
    }
    if (n == 0) {
        return;
    }
    flow **all = malloc(n * sizeof *all);
    if (!all) {
        // No memory to sort: report in LRU order rather than not at all.
        while (d->ft.live.head) {
            report(d, d->ft.live.head, TLS_END_CAPTURE_END);
        }
        return;
    }
    uint32_t i = 0;
    for (flow *f = d->ft.live.head; f; f = f->lnext) {
        all[i++] = f;
    }
    qsort(all, n, sizeof *all, conn_id_cmp);
    for (i = 0; i < n; i++) {
        report(d, all[i], TLS_END_CAPTURE_END);
    }
    free(all);
}

void dissect_mark_drops(dissect *d) {
    for (flow *f = d->ft.live.head; f; f = f->lnext) {
        f->kernel_drops = true;
    }
}
