// dissect.c — the public dissect_* API: frames → flows → reassembly → TLS layer → transcripts.
//
// Lifecycle of a flow: a small record from its first frame; the ~20 KB transcript and the TLS
// layer only from its first payload byte; reported exactly once (decided, closed, evicted or at
// finish), after which only the record stays so late packets cost one lookup.
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
    d->stats.first_unsupported_linktype = -1;
    d->scratch = malloc(sizeof *d->scratch);
    if (!d->scratch || !flow_table_init(&d->ft, d->cfg.max_flows)) {
        free(d->scratch);
        free(d);
        return NULL;
    }
    return d;
}

static void flow_release(dissect *d, flow *f) {
    tcp_side_free(d, &f->side[0]);
    tcp_side_free(d, &f->side[1]);
    tls_conn_free(f->tls);
    f->tls = NULL;
    d->buffered -= f->tls_buffered;
    f->tls_buffered = 0;
    if (f->t) {
        tls_certificate_clear(&f->t->cert);
        tls_certificate_clear(&f->t->client_cert);
        free(f->t);
        f->t = NULL;
    }
}

void dissect_free(dissect *d) {
    if (!d) {
        return;
    }
    for (uint32_t i = 0; d->ft.buckets && i <= d->ft.mask; i++) {
        for (flow *f = d->ft.buckets[i]; f; f = f->hnext) {
            flow_release(d, f);
        }
    }
    flow_table_destroy(&d->ft);
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

tls_dir flow_dir(const flow *f, int side) {
    return side == f->client ? TLS_DIR_C2S : TLS_DIR_S2C;
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
        f->t = tr_new();
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
static void flow_start_tls(dissect *d, flow *f) {
    if (!f->t) {
        f->t = tr_new();
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

static void flow_update_buffered(dissect *d, flow *f) {
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

// Reports the flow once and frees everything but its record. Held data is delivered first
// (holes as gaps) so the TLS layer sees all that was captured.
static void flow_report(dissect *d, flow *f, tls_end_reason reason) {
    if (f->decided) {
        return;
    }
    if (f->client < 0) {
        flow_roles_by_port(f);
    }
    if (f->side[0].held || f->side[1].held) {
        dissect_frame last;
        memset(&last, 0, sizeof last);
        last.frame_no = f->last_frame;
        last.ts_ns = f->last_ts_ns;
        tcp_ctx x = {d, f, &last};
        tcp_flush(&x, 0);
        tcp_flush(&x, 1);
    }
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

// Reports (if needed) and drops the record: the table needs the slot.
static void flow_evict(dissect *d, flow *f) {
    if (!f->decided) {
        flow_report(d, f, TLS_END_EVICTED);
    }
    flow_remove(&d->ft, f);
}

// The capture clock for idle eviction. Real files carry bogus timestamps (a single frame decades
// off, clocks stepping back), and one such frame must not evict every flow: the clock never runs
// backwards, and a jump beyond the idle timeout counts only once a second frame confirms it.
static void dissect_clock(dissect *d, int64_t ts_ns) {
    int64_t idle = (int64_t)d->cfg.idle_timeout_s * 1000000000;
    if (!d->clock_set) {
        d->clock_set = true;
        d->clock_ns = ts_ns;
        return;
    }
    if (ts_ns <= d->clock_ns) {
        return;
    }
    if (ts_ns - d->clock_ns <= idle) {
        d->clock_ns = ts_ns;
        d->jump_pending = false;
        return;
    }
    if (d->jump_pending && ts_ns >= d->jump_ns && ts_ns - d->jump_ns <= idle) {
        d->clock_ns = ts_ns;
        d->jump_pending = false;
        return;
    }
    d->jump_pending = true;
    d->jump_ns = ts_ns;
}

// Idle flows (capture clock) are evicted as we go: oldest first in each LRU list.
static void dissect_expire(dissect *d) {
    int64_t idle = (int64_t)d->cfg.idle_timeout_s * 1000000000;
    if (d->cfg.idle_timeout_s == 0) {
        return;
    }
    while (d->ft.live.head && d->clock_ns - d->ft.live.head->idle_ts_ns > idle) {
        flow *f = d->ft.live.head;
        f->idle_expired = true;
        flow_report(d, f, TLS_END_EVICTED);  // now on the decided list
        if (!d->cfg.keep_decided_flows) {
            flow_remove(&d->ft, f);
        }
    }
    while (d->ft.done.head && d->clock_ns - d->ft.done.head->idle_ts_ns > idle) {
        flow_remove(&d->ft, d->ft.done.head);
    }
}

static flow *dissect_new_flow(dissect *d, const flow_key *k, uint32_t hash,
                              const dissect_frame *fr) {
    if (d->ft.count >= d->cfg.max_flows) {
        // Decided records are cheapest to lose; otherwise the least recently used live flow.
        flow_evict(d, d->ft.done.head ? d->ft.done.head : d->ft.live.head);
    }
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

// Wireshark's tcp.stream rule (packet-tcp.c, 4.0, which the oracle was made with): a SYN
// without ACK starts a new connection when its sender was seen before with another sequence
// number. The same ISN again — even after an RST — is a retry of the same connection.
static bool flow_syn_starts_new(const flow *f, int side, const net_pkt *p) {
    const tcp_side *s = &f->side[side];
    return s->seen && p->seq != s->base_seq;
}

static void flow_syn(dissect *d, flow *f, int side, const net_pkt *p, const dissect_frame *fr) {
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
static void flow_roles_from_payload(flow *f, int side, const net_pkt *p) {
    int kind = tls_sniff(p->payload, p->payload_len);
    if (kind == 1) {
        f->client = (int8_t)side;
    } else if (kind == 2) {
        f->client = (int8_t)(1 - side);
    } else {
        flow_roles_by_port(f);
    }
}

static void flow_fin(tcp_ctx *x, int side, const net_pkt *p) {
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
static void flow_segment(dissect *d, flow *f, int side, const net_pkt *p, const dissect_frame *fr) {
    tcp_side *s = &f->side[side];
    tcp_ctx x = {d, f, fr};
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
        flow_start_tls(d, f);
    }
    tcp_segment(&x, side, p);
    if (p->flags & TCP_ACK) {
        s->acked = true;
        s->last_ack = p->ack;
        tcp_ack(&x, side, p->ack);
    }
    if (p->flags & TCP_FIN) {
        flow_fin(&x, side, p);
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
    flow_update_buffered(d, f);
    tls_end_reason reason;
    if (f->tls && tls_conn_decided(f->tls, &reason)) {
        flow_report(d, f, reason);
    } else if (d->buffered > d->cfg.max_total_bytes) {
        // The TLS layer grows its message buffers only as bytes arrive, each flow under
        // max_flow_bytes; the total cap is enforced here by ending the flow that crossed it.
        f->total_cap_hit = true;
        flow_report(d, f, TLS_END_BUFFER_CAP);
    } else if (f->closed) {
        flow_report(d, f, TLS_END_CLOSED);
    }
}

// An ICMP error quoting a TCP segment of a 5-tuple not seen yet: Wireshark numbers it as a
// TCP stream, so it takes a conn_id. The record sees no packet of its own; unless real
// segments follow, it is never reported (see flow_report).
static void dissect_icmp_quote(dissect *d, const net_pkt *p, const dissect_frame *fr) {
    flow_key k;
    int side;
    flow_key_make(&k, p, &side);
    uint32_t hash = flow_hash(&k);
    if (!flow_lookup(&d->ft, &k, hash)) {
        flow *f = dissect_new_flow(d, &k, hash, fr);
        if (f) {
            f->last_frame = fr->frame_no;
            f->last_ts_ns = fr->ts_ns;
            f->idle_ts_ns = d->clock_ns;
        }
    }
}

// app_records_of: application-data records counted so far in the flow's transcript.
static uint64_t app_records_of(const flow *f) {
    return f->t ? (uint64_t)f->t->app_records[0] + f->t->app_records[1] : 0;
}

// feed is dissect_feed; `info` (NULL from dissect_feed) receives dissect_feed_ex's flags.
static inline void feed(dissect *d, const dissect_frame *fr, dissect_frame_info *info) {
    d->stats.frames++;
    d->stats.bytes += fr->len;
    dissect_clock(d, fr->ts_ns);
    // Every frame moves the capture clock and expires what went idle (not only TCP frames): a
    // --threads worker does the same for the frames of other shards (dissect_clock_only), so
    // idle connections are reported at the same frame whatever the thread count.
    dissect_expire(d);
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
    flow_key_make(&k, &p, &side);
    uint32_t hash = flow_hash(&k);
    flow *f = flow_lookup(&d->ft, &k, hash);
    if (f && (p.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && flow_syn_starts_new(f, side, &p)) {
        if (!f->decided) {
            flow_report(d, f, TLS_END_CLOSED);
        }
        flow_remove(&d->ft, f);
        f = NULL;
    }
    if (!f) {
        f = dissect_new_flow(d, &k, hash, fr);
        if (!f) {
            return;
        }
    }
    f->last_frame = fr->frame_no;
    f->last_ts_ns = fr->ts_ns;
    // A frame in an unconfirmed jump is stamped with its own time, so that confirming the jump
    // does not evict the flows that arrived with it (at worst eviction comes late, never early).
    f->idle_ts_ns = d->jump_pending && fr->ts_ns >= d->jump_ns ? fr->ts_ns : d->clock_ns;
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
        flow_segment(d, f, side, &p, fr);
        info->decided_now = f->decided;
        info->app_data = (f->decided ? d->reported_app_records : app_records_of(f)) > before;
    } else {
        flow_segment(d, f, side, &p, fr);
    }
    if (f->decided && !d->cfg.keep_decided_flows) {
        flow_remove(&d->ft, f);
    }
}

void dissect_feed(dissect *d, const dissect_frame *fr) {
    feed(d, fr, NULL);
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
    dissect_clock(d, ts_ns);
    dissect_expire(d);
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
            flow_report(d, d->ft.live.head, TLS_END_CAPTURE_END);
        }
        return;
    }
    uint32_t i = 0;
    for (flow *f = d->ft.live.head; f; f = f->lnext) {
        all[i++] = f;
    }
    qsort(all, n, sizeof *all, conn_id_cmp);
    for (i = 0; i < n; i++) {
        flow_report(d, all[i], TLS_END_CAPTURE_END);
    }
    free(all);
}

void dissect_mark_drops(dissect *d) {
    for (flow *f = d->ft.live.head; f; f = f->lnext) {
        f->kernel_drops = true;
    }
}
