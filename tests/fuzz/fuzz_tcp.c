// fuzz_tcp.c — libFuzzer target: the flow table and TCP reassembly through the public API,
// with segments whose flags, sequence numbers, lengths and directions come from the input
// (overlaps, retransmissions with other bytes, gaps, wraparound, RST/FIN at any point).
//
// Input: per segment [dir+flags u8][seq delta u16][ack delta u16][len u8][payload len bytes].
// A small config (16 flows, 4 KB per flow) makes the caps and evictions reachable.
#include <string.h>

#include "dissect.h"
#include "fuzz_util.h"

static void on_transcript(void *user, const tls_transcript *t) {
    (void)user;
    (void)t;
}

static size_t build_ipv4_tcp(uint8_t *f, int dir, uint16_t port, uint32_t seq, uint32_t ack,
                             uint8_t flags, const uint8_t *payload, size_t len) {
    static const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    size_t tot = 20 + 20 + len;
    memset(f, 0, 40);
    f[0] = 0x45;
    f[2] = (uint8_t)(tot >> 8);
    f[3] = (uint8_t)tot;
    f[8] = 64;
    f[9] = 6;
    memcpy(f + 12, dir ? b : a, 4);
    memcpy(f + 16, dir ? a : b, 4);
    uint16_t sport = dir ? 443 : port, dport = dir ? port : 443;
    f[20] = (uint8_t)(sport >> 8);
    f[21] = (uint8_t)sport;
    f[22] = (uint8_t)(dport >> 8);
    f[23] = (uint8_t)dport;
    for (int i = 0; i < 4; i++) {
        f[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
        f[28 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    f[32] = 0x50;
    f[33] = flags;
    f[34] = 0xff;
    f[35] = 0xff;
    memcpy(f + 40, payload, len);
    return tot;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dissect_config cfg;
    dissect_config_default(&cfg);
    cfg.max_flows = 16;
    cfg.max_flow_bytes = 4096;
    cfg.max_total_bytes = 32768;
    cfg.on_transcript = on_transcript;
    dissect *d = dissect_new(&cfg);
    if (d == NULL) {
        return 0;
    }
    fz f = {data, size};
    uint32_t seq[2] = {1000, 0xfffff000u};  // the server side wraps around 2^32 soon
    uint8_t frame[40 + 256];
    uint32_t no = 1;
    while (f.n > 0) {
        uint8_t ctl = fz_u8(&f);
        int dir = ctl & 1;
        uint8_t flags = (uint8_t)(ctl >> 1) & 0x3f;
        uint16_t port = (uint16_t)(40000 + ((ctl >> 7) & 1) * (fz_u8(&f) & 7));
        int16_t dseq = (int16_t)fz_u16(&f);
        int16_t dack = (int16_t)fz_u16(&f);
        size_t len;
        const uint8_t *p = fz_take(&f, fz_u8(&f), &len);
        uint32_t s = seq[dir] + (uint32_t)(int32_t)dseq;
        uint32_t a = seq[!dir] + (uint32_t)(int32_t)dack;
        size_t n = build_ipv4_tcp(frame, dir, port, s, a, flags, p, len);
        seq[dir] = s + (uint32_t)len;
        dissect_frame fr = {101, (uint32_t)n, (uint32_t)n, frame, (int64_t)no * 1000000, no};
        no++;
        dissect_feed(d, &fr);
    }
    dissect_finish(d);
    dissect_free(d);
    return 0;
}
