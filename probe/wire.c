// wire.c — the probe's socket log, and synthetic TCP/IP frames built from it (client's view).
//
// Without permission to capture, the probe still feeds the dissector the exact bytes OpenSSL
// wrote and read, in order, wrapped in raw-IP frames whose TCP sequence and acknowledgement
// numbers follow the bytes (RFC 9293 §3.4), so dissect/'s reassembly and parsers run unchanged.
// What the client cannot see (the SYN-ACK's real timing, retransmissions) is not invented:
// one SYN-ACK when connect() succeeded, one SYN per retry the kernel is known to make.
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe_internal.h"

enum {
    PW_MSS = 1448,    // payload per synthetic segment
    PW_DLT_RAW = 12,  // Linux DLT_RAW (dissect reads 12, 14 and 101 as raw IP)
    PW_ISN_CLIENT = 0x1000,
    PW_ISN_SERVER = 0x8000,
    TCPF_FIN = 0x01,
    TCPF_SYN = 0x02,
    TCPF_RST = 0x04,
    TCPF_PSH = 0x08,
    TCPF_ACK = 0x10,
};

int64_t pw_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) {
        return true;
    }
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (!q) {
        return false;
    }
    *p = q;
    *cap = n;
    return true;
}

void pw_add(pw_log *l, pw_kind k, uint8_t dir, const uint8_t *data, size_t len) {
    if (l->oom || !grow((void **)&l->ev, &l->cap_ev, l->num_ev + 1, sizeof *l->ev) ||
        !grow((void **)&l->data, &l->cap_data, l->num_data + len, 1)) {
        l->oom = true;
        return;
    }
    pw_event *e = &l->ev[l->num_ev++];
    *e = (pw_event){(uint8_t)k, dir, pw_now_ns(), l->num_data, len};
    if (len) {
        memcpy(l->data + l->num_data, data, len);
        l->num_data += len;
    }
}

void pw_free(pw_log *l) {
    free(l->ev);
    free(l->data);
    memset(l, 0, sizeof *l);
}

static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}

// Internet checksum (RFC 1071) over a pseudo-header sum plus bytes.
static uint16_t csum(uint32_t sum, const uint8_t *p, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t)(p[n - 1] << 8);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

typedef struct pw_ep {
    int family;
    uint8_t addr[16];
    uint16_t port;
} pw_ep;

static void ep_of(const struct sockaddr_storage *ss, pw_ep *e) {
    memset(e, 0, sizeof *e);
    e->family = ss->ss_family;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        memcpy(e->addr, &s6->sin6_addr, 16);
        e->port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        memcpy(e->addr, &s4->sin_addr, 4);
        e->port = ntohs(s4->sin_port);
    }
}

typedef struct pw_builder {
    pw_ep ep[2];  // [TLS_DIR_C2S] = client (local), [TLS_DIR_S2C] = server (peer)
    uint32_t next_seq[2];
    uint32_t frame_no;
    uint8_t buf[60 + PW_MSS];
    pw_frame_fn fn;
    void *user;
} pw_builder;

static void emit(pw_builder *b, uint8_t dir, uint8_t flags, const uint8_t *payload, size_t n,
                 int64_t ts) {
    const pw_ep *src = &b->ep[dir], *dst = &b->ep[dir ^ 1];
    bool v6 = src->family == AF_INET6;
    size_t ip_len = v6 ? 40 : 20, tcp_len = 20;
    uint8_t *ip = b->buf, *tcp = b->buf + ip_len;
    memset(b->buf, 0, ip_len + tcp_len);
    uint32_t sum = 0;
    size_t alen = v6 ? 16 : 4;
    for (size_t i = 0; i < alen; i += 2) {
        sum += (uint32_t)(src->addr[i] << 8 | src->addr[i + 1]);
        sum += (uint32_t)(dst->addr[i] << 8 | dst->addr[i + 1]);
    }
    sum += 6 + (uint32_t)(tcp_len + n);
    if (v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint32_t)(tcp_len + n));
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, src->addr, 16);
        memcpy(ip + 24, dst->addr, 16);
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint32_t)(ip_len + tcp_len + n));
        put16(ip + 4, b->frame_no);
        ip[6] = 0x40;  // DF
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, src->addr, 4);
        memcpy(ip + 16, dst->addr, 4);
        put16(ip + 10, csum(0, ip, 20));
    }
    put16(tcp, src->port);
    put16(tcp + 2, dst->port);
    uint32_t seq = b->next_seq[dir];
    // The SYN occupies the sequence number just before the first data byte.
    put32(tcp + 4, (flags & TCPF_SYN) ? seq - 1 : seq);
    put32(tcp + 8, (flags & TCPF_ACK) ? b->next_seq[dir ^ 1] : 0);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (n) {
        memcpy(tcp + tcp_len, payload, n);
    }
    put16(tcp + 16, csum(sum, tcp, tcp_len + n));
    b->next_seq[dir] += (uint32_t)n + ((flags & TCPF_FIN) ? 1u : 0u);
    dissect_frame f = {
        .linktype = PW_DLT_RAW,
        .caplen = (uint32_t)(ip_len + tcp_len + n),
        .len = (uint32_t)(ip_len + tcp_len + n),
        .data = b->buf,
        .ts_ns = ts,
        .frame_no = ++b->frame_no,
    };
    b->fn(b->user, &f);
}

bool pw_frames(const pw_log *l, const struct sockaddr_storage *local,
               const struct sockaddr_storage *peer, pw_frame_fn fn, void *user) {
    if (l->oom) {
        return false;
    }
    pw_builder *b = calloc(1, sizeof *b);
    if (!b) {
        return false;
    }
    ep_of(local, &b->ep[TLS_DIR_C2S]);
    ep_of(peer, &b->ep[TLS_DIR_S2C]);
    b->next_seq[TLS_DIR_C2S] = PW_ISN_CLIENT + 1;
    b->next_seq[TLS_DIR_S2C] = PW_ISN_SERVER + 1;
    b->fn = fn;
    b->user = user;
    for (size_t i = 0; i < l->num_ev; i++) {
        const pw_event *e = &l->ev[i];
        switch ((pw_kind)e->kind) {
            case PW_SYN:
                emit(b, TLS_DIR_C2S, TCPF_SYN, NULL, 0, e->ts_ns);
                break;
            case PW_SYNACK:
                emit(b, TLS_DIR_S2C, TCPF_SYN | TCPF_ACK, NULL, 0, e->ts_ns);
                emit(b, TLS_DIR_C2S, TCPF_ACK, NULL, 0, e->ts_ns);
                break;
            case PW_DATA:
                for (size_t o = 0; o < e->len; o += PW_MSS) {
                    size_t n = e->len - o < PW_MSS ? e->len - o : PW_MSS;
                    emit(b, e->dir, TCPF_ACK | TCPF_PSH, l->data + e->off + o, n, e->ts_ns);
                }
                if (e->dir == TLS_DIR_S2C) {
                    emit(b, TLS_DIR_C2S, TCPF_ACK, NULL, 0, e->ts_ns);  // the kernel's ACK
                }
                break;
            case PW_FIN:
                emit(b, e->dir, TCPF_FIN | TCPF_ACK, NULL, 0, e->ts_ns);
                break;
            case PW_RST:
                emit(b, e->dir, TCPF_RST | TCPF_ACK, NULL, 0, e->ts_ns);
                break;
        }
    }
    free(b);
    return true;
}
