// probe.c — one probe end to end: target → OpenSSL client (client.c) → its own packets (live
// capture, else the socket log as frames) → dissect → the client's view added → analyze.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "probe_internal.h"

enum {
    PROBE_DLT_RAW = 12,
    PROBE_DRAIN_MS = 250,   // capture poll while draining our own packets
    PROBE_DRAIN_EMPTY = 4,  // quiet polls before giving up when nothing was captured
};

static const struct {
    uint16_t code;
    const char *name;
} probe_versions[PROBE_V__COUNT] = {
#define PROBE_V_ROW(e, code, name) {code, name},
    PROBE_VERSION_TABLE(PROBE_V_ROW)
#undef PROBE_V_ROW
};

const char *probe_version_name(unsigned bit) {
    return bit < PROBE_V__COUNT ? probe_versions[bit].name : "?";
}

uint16_t probe_version_code(unsigned bit) {
    return bit < PROBE_V__COUNT ? probe_versions[bit].code : 0;
}

bool probe_parse_versions(const char *s, uint32_t *out) {
    uint32_t m = 0;
    char buf[256];
    if (!s || strlen(s) >= sizeof buf) {
        return false;
    }
    strcpy(buf, s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        unsigned b = 0;
        while (b < PROBE_V__COUNT && strcasecmp(tok, probe_versions[b].name) != 0) {
            b++;
        }
        if (b == PROBE_V__COUNT && strcasecmp(tok, "TLSv1.0") == 0) {
            b = PROBE_V_TLS1_BIT;
        }
        if (b == PROBE_V__COUNT) {
            return false;
        }
        m |= 1u << b;
    }
    if (!m) {
        return false;
    }
    *out = m;
    return true;
}

bool probe_parse_target(const char *s, char *host, size_t hostlen, uint16_t *port) {
    unsigned long p = PROBE_DEFAULT_PORT;
    const char *h = s, *colon = NULL;
    size_t hl;
    if (!s || !s[0]) {
        return false;
    }
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end) {
            return false;
        }
        h = s + 1;
        hl = (size_t)(end - h);
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] && !colon) {
            return false;
        }
    } else {
        colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) {
            colon = NULL;  // a bare IPv6 address
        }
        hl = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (colon) {
        char *e = NULL;
        p = strtoul(colon + 1, &e, 10);
        if (!colon[1] || *e || p == 0 || p > 65535) {
            return false;
        }
    }
    if (hl == 0 || hl >= hostlen) {
        return false;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Frames: from a live capture of the probe's own connection, or rebuilt from the socket log.
// ---------------------------------------------------------------------------------------------
typedef struct probe_frames {
    dissect_frame *f;
    size_t n, cap;
    int dlt;
    bool oom;
} probe_frames;

static void frames_add(void *user, const dissect_frame *f) {
    probe_frames *fs = user;
    if (fs->oom) {
        return;
    }
    if (fs->n == fs->cap) {
        size_t nc = fs->cap ? fs->cap * 2 : 64;
        dissect_frame *q = realloc(fs->f, nc * sizeof *q);
        if (!q) {
            fs->oom = true;
            return;
        }
        fs->f = q;
        fs->cap = nc;
    }
    uint8_t *copy = malloc(f->caplen ? f->caplen : 1);
    if (!copy) {
        fs->oom = true;
        return;
    }
    memcpy(copy, f->data, f->caplen);
    fs->f[fs->n] = *f;
    fs->f[fs->n].data = copy;
    fs->f[fs->n].frame_no = (uint32_t)fs->n + 1;
    fs->n++;
}

static void frames_free(probe_frames *fs) {
    for (size_t i = 0; i < fs->n; i++) {
        free((void *)fs->f[i].data);
    }
    free(fs->f);
    memset(fs, 0, sizeof *fs);
}

typedef struct probe_ctx {
    const probe_config *cfg;
    analyzer *an;
    pc_result pc;
    const struct sockaddr_storage *peer;
    char iface[64];
    cap_reader *live;
    char capture_why[256];
    verdict *v;
    bool chain_injected;
    bool oom;
} probe_ctx;

static bool is_loopback(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) {
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    }
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t outlen) {
    const void *a = ss->ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
    if (!inet_ntop(ss->ss_family, a, out, (socklen_t)outlen)) {
        snprintf(out, outlen, "?");
    }
}

static uint16_t addr_port(const struct sockaddr_storage *ss) {
    return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                           : ((const struct sockaddr_in *)ss)->sin_port);
}

// route_iface finds the interface the kernel's route to peer uses: the interface that holds
// the source address a connected UDP socket gets (no packet is sent).
static void route_iface(const struct sockaddr_storage *peer, socklen_t plen, char *out,
                        size_t outlen) {
    out[0] = '\0';
    if (is_loopback(peer)) {
        snprintf(out, outlen, "lo");
        return;
    }
    int fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    bool ok = fd >= 0 && connect(fd, (const struct sockaddr *)peer, plen) == 0 &&
              getsockname(fd, (struct sockaddr *)&local, &ll) == 0;
    if (fd >= 0) {
        close(fd);
    }
    struct ifaddrs *ifs = NULL;
    if (!ok || getifaddrs(&ifs) != 0) {
        return;
    }
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != local.ss_family) {
            continue;
        }
        bool same = local.ss_family == AF_INET
                        ? ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
                              ((struct sockaddr_in *)&local)->sin_addr.s_addr
                        : memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
                                 &((struct sockaddr_in6 *)&local)->sin6_addr, 16) == 0;
        if (same) {
            snprintf(out, outlen, "%s", i->ifa_name);
            break;
        }
    }
    freeifaddrs(ifs);
}

// on_bound opens the live capture, filtered to this connection, before the SYN leaves.
static void on_bound(void *user, const struct sockaddr_storage *local) {
    probe_ctx *p = user;
    if (p->cfg->no_capture) {
        snprintf(p->capture_why, sizeof p->capture_why, "packet capture turned off (--no-capture)");
        return;
    }
    if (!p->iface[0]) {
        snprintf(p->capture_why, sizeof p->capture_why, "no interface found for the route");
        return;
    }
    char peer[64], filter[256], err[256] = "";
    addr_text(p->peer, peer, sizeof peer);
    snprintf(filter, sizeof filter, "tcp and host %s and port %u and port %u", peer,
             addr_port(local), addr_port(p->peer));
    cap_live_options o;
    cap_live_options_default(&o);
    o.iface = p->iface;
    o.bpf = filter;
    o.timeout_ms = PROBE_DRAIN_MS;
    o.buffer_bytes = 4u << 20;
    cap_live_status st;
    p->live = cap_live_open(&o, &st, err, sizeof err);
    if (!p->live) {
        snprintf(p->capture_why, sizeof p->capture_why, "cannot capture on %s: %s", p->iface,
                 err[0] ? err : "unknown error");
    }
}

// drain reads the probe's packets from the capture once the connection is over.
static void drain(probe_ctx *p, probe_frames *fs) {
    fs->dlt = cap_live_linktype(p->live);
    int quiet = 0;
    for (;;) {
        dissect_frame f;
        int rc = cap_next(p->live, &f);
        if (rc == 1) {
            frames_add(fs, &f);
            quiet = 0;
            continue;
        }
        if (rc == 0 || (rc == 2 && (fs->n > 0 || ++quiet >= PROBE_DRAIN_EMPTY))) {
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The transcript, completed with what only the client knows, then judged.
// ---------------------------------------------------------------------------------------------
static uint32_t first_server_encrypted_frame(const tls_transcript *t) {
    for (uint32_t i = 0; i < t->num_events; i++) {
        const tls_event *e = &t->events[i];
        if (e->dir == TLS_DIR_S2C &&
            (e->kind == TLS_EV_ENCRYPTED_HANDSHAKE || e->kind == TLS_EV_APPLICATION_DATA)) {
            return e->frame;
        }
    }
    return t->sh.frame;
}

static void add_client_view(probe_ctx *p, tls_transcript *t) {
    const pc_result *r = &p->pc;
    // The chain: TLS 1.3 encrypts it; OpenSSL decrypted it (RFC 8446 §4.4.2).
    if (r->num_chain && !(t->cert.present && t->cert.num_stored)) {
        memset(&t->cert, 0, sizeof t->cert);
        t->cert.present = true;
        t->cert.tls13 = t->sh.selected_version == 0x0304;
        t->cert.frame = first_server_encrypted_frame(t);
        t->cert.num_certs = t->cert.num_stored = r->num_chain;
        for (uint32_t i = 0; i < r->num_chain; i++) {
            t->cert.certs[i] = (tls_cert){r->chain_der[i], r->chain_len[i]};
            t->cert.message_len += r->chain_len[i] + 3;
        }
        p->chain_injected = true;
    }
    if (r->cert_request && !t->cert_req.present) {
        t->cert_req.present = true;
        t->cert_req.frame = first_server_encrypted_frame(t);
    }
    // Encrypted alerts: the k-th alert record of a direction is the k-th alert OpenSSL saw.
    uint32_t k[2] = {0, 0};
    for (uint32_t i = 0; i < t->num_events; i++) {
        tls_event *e = &t->events[i];
        if ((e->kind != TLS_EV_ALERT && e->kind != TLS_EV_ENCRYPTED_ALERT) || e->dir > 1) {
            continue;
        }
        uint32_t j = k[e->dir]++;
        if (e->kind == TLS_EV_ENCRYPTED_ALERT && j < r->num_alerts[e->dir]) {
            e->kind = TLS_EV_ALERT;
            e->alert_level = r->alerts[e->dir][j].level;
            e->alert_desc = r->alerts[e->dir][j].desc;
        }
    }
    // OpenSSL completed the handshake (both Finished verified): the wire cannot show that in
    // TLS 1.3 without application data.
    if (r->stage == PC_HANDSHAKE_OK && t->end_reason != TLS_END_ALERT) {
        t->end_reason = TLS_END_HANDSHAKE_DONE;
    }
}

static void on_transcript(void *user, const tls_transcript *t) {
    probe_ctx *p = user;
    if (p->v || p->oom) {
        return;  // the filter admits one connection; anything else is not ours
    }
    tls_transcript *copy = malloc(sizeof *copy);
    if (!copy) {
        p->oom = true;
        return;
    }
    memcpy(copy, t, sizeof *copy);
    add_client_view(p, copy);
    p->v = analyzer_run_ex(p->an, copy, METHOD_PROBE);
    p->oom = p->v == NULL;
    free(copy);
}

// dns_verdict: nothing to capture when the name does not resolve; still a verdict.
static verdict *dns_verdict(const probe_config *c, const char *sni, const char *why) {
    verdict *v = calloc(1, sizeof *v);
    if (!v) {
        return NULL;
    }
    v->outcome = OUTCOME_FAILED;
    v->aborted_by = PARTY_TCP;
    v->cause = CAUSE_UNKNOWN;
    v->confidence = CONF_HIGH;
    v->method = METHOD_PROBE;
    snprintf(v->failed_step, sizeof v->failed_step, "DNS lookup");
    if (sni) {
        v->has_sni = true;
        snprintf(v->sni, sizeof v->sni, "%s", sni);
        v->sni_len = (uint16_t)strnlen(v->sni, sizeof v->sni);
    }
    v->server.port = c->port ? c->port : PROBE_DEFAULT_PORT;
    v->first_ts_ns = v->last_ts_ns = pw_now_ns();
    snprintf(v->summary, sizeof v->summary,
             "the origin name does not resolve (%.400s): CloudFront cannot connect either", why);
    verdict_add_evidence(v, "dns", 0, why);
    v->num_fix = 2;
    snprintf(v->fix[0], VERDICT_TEXT,
             "check the origin domain name in the distribution's origin settings: %.300s", c->host);
    char q[640];
    if (!analyze_shell_quote(c->host, strlen(c->host), q, sizeof q)) {
        snprintf(q, sizeof q, "NAME");  // a name that cannot be quoted gets no command
    }
    snprintf(v->fix[1], VERDICT_TEXT, "check its public DNS records: dig +short %.300s", q);
    snprintf(v->check_command, sizeof v->check_command, "dig +short %.400s", q);
    return v;
}

void probe_unresolved_text(const probe_result *r, const probe_config *c, char *out, size_t n) {
    char q[640];
    if (!analyze_shell_quote(c->host, strlen(c->host), q, sizeof q)) {
        snprintf(q, sizeof q, "NAME");
    }
    // the resolver's own words ("Name or service not known"), without pc_resolve's prefix
    const char *why = r->resolve_error[0] ? r->resolve_error : "no address";
    char prefix[320];
    snprintf(prefix, sizeof prefix, "cannot resolve %s: ", c->host);
    if (strncmp(why, prefix, strlen(prefix)) == 0) {
        why += strlen(prefix);
    }
    snprintf(out, n,
             "%s does not resolve (%s): CloudFront cannot connect either. Check the origin "
             "domain name in the distribution's origin settings and its public DNS records: "
             "dig +short %s",
             q, why, q);
}

static bool write_pcap(FILE *f, const probe_frames *fs, char *err, size_t errlen) {
    pcap_t *dead = pcap_open_dead(fs->dlt, 262144);
    pcap_dumper_t *d = dead ? pcap_dump_fopen(dead, f) : NULL;
    if (!d) {
        snprintf(err, errlen, "cannot write the pcap");
        if (dead) {
            pcap_close(dead);
        }
        fclose(f);
        return false;
    }
    for (size_t i = 0; i < fs->n; i++) {
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(fs->f[i].ts_ns / 1000000000LL);
        h.ts.tv_usec = (suseconds_t)(fs->f[i].ts_ns % 1000000000LL / 1000);
        h.caplen = fs->f[i].caplen;
        h.len = fs->f[i].len;
        pcap_dump((u_char *)d, &h, fs->f[i].data);
    }
    bool ok = pcap_dump_flush(d) == 0;
    pcap_dump_close(d);  // closes f
    pcap_close(dead);
    if (!ok) {
        snprintf(err, errlen, "cannot write the pcap");
    }
    return ok;
}

static void describe(probe_ctx *p, probe_result *res, size_t nframes) {
    verdict *v = res->v;
    char text[VERDICT_TEXT];
    if (res->from_packets) {
        snprintf(text, sizeof text, "%zu frames of the probe's own connection captured on %s",
                 nframes, p->iface);
        verdict_add_evidence(v, "probe_capture", 0, text);
    } else {
        snprintf(text, sizeof text,
                 "client's view, not packets: the frames were rebuilt from the bytes OpenSSL "
                 "sent and received (%.300s)",
                 p->capture_why);
        verdict_add_evidence(v, "probe_capture", 0, text);
        if (!v->capture_note[0]) {
            snprintf(v->capture_note, sizeof v->capture_note, "%s", text);
        }
    }
    if (p->chain_injected) {
        snprintf(text, sizeof text,
                 "the %u certificate(s) analyzed were decrypted by the probe's TLS client "
                 "(TLS 1.3 encrypts them on the wire)",
                 p->pc.num_chain);
        verdict_add_evidence(v, "probe_chain", 0, text);
    }
    if (p->pc.error[0]) {
        verdict_add_evidence(v, "probe_openssl", 0, p->pc.error);
    }
    if (p->pc.verify_result != X509_V_OK) {
        verdict_add_evidence(v, "probe_verify", 0,
                             X509_verify_cert_error_string(p->pc.verify_result));
    }
}

probe_result *probe_run(analyzer *a, const probe_config *c, char *err, size_t errlen) {
    return probe_run_store(a, c, NULL, err, errlen);
}

probe_result *probe_run_store(analyzer *a, const probe_config *c, X509_STORE *store, char *err,
                              size_t errlen) {
    probe_result *res = calloc(1, sizeof *res);
    probe_ctx *p = calloc(1, sizeof *p);
    if (!res || !p) {
        free(res);
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg = c;
    p->an = a;
    uint16_t port = c->port ? c->port : PROBE_DEFAULT_PORT;
    const char *sni =
        c->sni ? (c->sni[0] ? c->sni : NULL) : (pc_is_ip_literal(c->host) ? NULL : c->host);
    FILE *pcap_out = NULL;
    if (c->pcap_out && !(pcap_out = cap_output_fopen(c->pcap_out, err, errlen))) {
        goto fail;
    }
    analyzer_offer offer;
    analyzer_profile_offer(a, &offer);
    uint32_t versions = c->versions ? c->versions : pc_offer_versions(&offer);
    bool tls13 = versions & (1u << PROBE_V_TLS1_3_BIT);
    char ciphers[2048], groups[256], sigalgs[512];
    pc_cipher_list(&offer, ciphers, sizeof ciphers);
    pc_group_list(&offer, tls13, groups, sizeof groups);
    pc_sigalg_list(&offer, tls13, sigalgs, sizeof sigalgs);

    pc_params pp;
    memset(&pp, 0, sizeof pp);
    char rerr[256];
    if (!pc_resolve(c->connect_ip ? c->connect_ip : c->host, port, &pp.peer, &pp.peer_len, rerr,
                    sizeof rerr)) {
        res->v = dns_verdict(c, sni, rerr);
        res->unresolved = true;
        snprintf(res->resolve_error, sizeof res->resolve_error, "%s", rerr);
        if (!res->v) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (pcap_out) {
            fclose(pcap_out);
        }
        free(p);
        return res;
    }
    p->peer = &pp.peer;
    route_iface(&pp.peer, pp.peer_len, p->iface, sizeof p->iface);
    pp.sni = sni;
    pp.versions = versions;
    pp.cipher_list = ciphers;
    pp.groups = groups;
    pp.sigalgs = sigalgs;
    pp.verify = true;
    pp.ca_file = c->ca_file;
    pp.ca_path = c->ca_path;
    pp.store = store;
    pp.connect_timeout_ms =
        c->connect_timeout_ms ? c->connect_timeout_ms : PROBE_CONNECT_TIMEOUT_MS;
    pp.handshake_timeout_ms =
        c->handshake_timeout_ms ? c->handshake_timeout_ms : PROBE_HANDSHAKE_TIMEOUT_MS;
    pp.on_bound = on_bound;
    pp.user = p;
    if (!pc_connect(&pp, &p->pc, err, errlen)) {
        cap_close(p->live);
        pc_result_free(&p->pc);
        goto fail;
    }

    probe_frames fs;
    memset(&fs, 0, sizeof fs);
    if (p->live) {
        drain(p, &fs);
        cap_close(p->live);
        p->live = NULL;
        if (fs.n == 0 && !fs.oom) {
            snprintf(p->capture_why, sizeof p->capture_why,
                     "the capture on %s saw none of the probe's packets", p->iface);
        }
    }
    res->from_packets = fs.n > 0;
    if (!res->from_packets) {
        frames_free(&fs);
        fs.dlt = PROBE_DLT_RAW;
        if (!pw_frames(&p->pc.log, &p->pc.local, &pp.peer, frames_add, &fs)) {
            fs.oom = true;
        }
    }
    // The probe's own frames go through the pipeline like a capture's; the transcript is judged
    // here (on_transcript) because the probe adds the client's view and its method first.
    pipeline_config plc;
    pipeline_config_default(&plc);
    plc.limits = c->limits;
    pipeline_sinks sinks = {.user = p, .on_transcript = on_transcript};
    pipeline_source src = {.frames = fs.f, .num_frames = fs.n};
    pipeline_result pres;
    bool ran = !fs.oom && pipeline_run(&plc, NULL, &src, &sinks, &pres);
    if (!ran || p->oom || !p->v) {
        snprintf(err, errlen,
                 p->v || fs.oom || p->oom || !ran ? "out of memory"
                                                  : "the probe's connection left no transcript");
        verdict_free(p->v);
        frames_free(&fs);
        pc_result_free(&p->pc);
        goto fail;
    }
    res->v = p->v;
    snprintf(res->capture_why, sizeof res->capture_why, "%s", p->capture_why);
    snprintf(res->iface, sizeof res->iface, "%s", p->iface);
    describe(p, res, fs.n);
    if (p->pc.stage == PC_CONNECT_ERROR && res->v->outcome != OUTCOME_FAILED) {
        // unreachable network or host: CloudFront cannot connect either (504)
        res->v->outcome = OUTCOME_FAILED;
        res->v->aborted_by = PARTY_TCP;
        res->v->cause = CAUSE_CONNECT_TIMEOUT;
        res->v->confidence = CONF_MEDIUM;
        snprintf(res->v->summary, sizeof res->v->summary,
                 "the connection to the origin failed: %.400s", p->pc.error);
    }
    // The chain moves to the result (--save-chain, --cert-file).
    res->num_chain = p->pc.num_chain;
    memcpy(res->chain_der, p->pc.chain_der, sizeof res->chain_der);
    memcpy(res->chain_len, p->pc.chain_len, sizeof res->chain_len);
    p->pc.num_chain = 0;
    pc_result_free(&p->pc);
    if (pcap_out) {
        bool ok = write_pcap(pcap_out, &fs, err, errlen);
        pcap_out = NULL;
        if (!ok) {
            frames_free(&fs);
            probe_result_free(res);
            free(p);
            return NULL;
        }
    }
    frames_free(&fs);
    free(p);
    return res;

fail:
    if (pcap_out) {
        fclose(pcap_out);
    }
    free(p);
    free(res);
    return NULL;
}

void probe_result_free(probe_result *r) {
    if (!r) {
        return;
    }
    for (uint32_t i = 0; i < r->num_chain; i++) {
        OPENSSL_free(r->chain_der[i]);
    }
    verdict_free(r->v);
    free(r);
}

bool probe_save_chain(const probe_result *r, const char *path, char *err, size_t errlen) {
    FILE *f = cap_output_fopen(path, err, errlen);
    if (!f) {
        return false;
    }
    bool ok = true;
    for (uint32_t i = 0; i < r->num_chain && ok; i++) {
        const unsigned char *p = r->chain_der[i];
        X509 *x = d2i_X509(NULL, &p, r->chain_len[i]);
        ok = x && PEM_write_X509(f, x) == 1;
        X509_free(x);
    }
    if (fclose(f) != 0 || !ok) {
        snprintf(err, errlen, "%s: cannot write the chain", path);
        return false;
    }
    return true;
}

bool probe_run_described(analyzer *a, const probe_config *c, char *env, size_t envlen, char *err,
                         size_t errlen) {
    err[0] = '\0';
    probe_result *pr = probe_run(a, c, err, errlen);
    if (pr == NULL) {
        return false;
    }
    const verdict *v = pr->v;
    int n = snprintf(
        env, envlen,
        "probe: %s:%u (SNI %s): cause %s, method probe; packets from %s%s%s\n"
        "probe summary: %s\n",
        c->host, c->port ? c->port : 443, v->has_sni ? v->sni : "none", cause_name(v->cause),
        pr->from_packets ? "a live capture on " : "the client's view (",
        pr->from_packets ? pr->iface : pr->capture_why, pr->from_packets ? "" : ")", v->summary);
    if (n < 0 || (size_t)n >= envlen) {
        snprintf(env, envlen, "probe: %s:%u: cause %s (details cut)\n", c->host,
                 c->port ? c->port : 443, cause_name(v->cause));
    }
    probe_result_free(pr);
    return true;
}
