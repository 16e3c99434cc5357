// live.c — live capture through libpcap: activation, kernel filter, polling, drops, privileges.
//
// The handle is non-blocking and polled with poll(2), so cap_next() can return 2 ("nothing
// within the timeout") for status lines, and a signal (EINTR) or cap_breakloop() ends the wait.
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "live.h"

enum {
    CAP_LIVE_MIN_SNAPLEN = 65535 + 256,  // a whole 64 KiB segment plus link/IP/TCP headers
};

struct cap_live {
    pcap_t *p;
    int fd;  // selectable descriptor (poll)
    int linktype;
    bool nano;  // timestamps in ns (else us)
    uint32_t snaplen;
    int timeout_ms;
    bool immediate;     // false: TPACKET_V3 blocks, handed over when full or after timeout_ms
    bool drain_waited;  // cap_live_next_queued waited once for the partly filled block
    uint32_t frame_no;
    volatile sig_atomic_t stop;
    char error[PCAP_ERRBUF_SIZE + 64];
};

void cap_live_options_default(cap_live_options *o) {
    memset(o, 0, sizeof *o);
    o->snaplen = CAP_LIVE_SNAPLEN;
    o->buffer_bytes = CAP_LIVE_BUFFER;
    o->immediate = true;
    o->timeout_ms = CAP_LIVE_TIMEOUT_MS;
}

// live_fail frees a half-made handle and reports the class; err was already written.
static void live_fail(cap_live *l, cap_live_status st, cap_live_status *out_status) {
    if (out_status) {
        *out_status = st;
    }
    if (l) {
        if (l->p) {
            pcap_close(l->p);
        }
        free(l);
    }
}

// The activation result as one sentence the admin can act on.
static cap_live_status live_activate_error(pcap_t *p, int rc, const char *iface, char *msg,
                                           size_t msglen) {
    switch (rc) {
        case PCAP_ERROR_PERM_DENIED:
            snprintf(msg, msglen,
                     "no permission to capture on %s: run tlsdiag capture as root, or give the "
                     "binary the capabilities with 'setcap cap_net_raw,cap_net_admin=eip "
                     "$(command -v tlsdiag)'",
                     iface);
            return CAP_LIVE_EPERM;
        case PCAP_ERROR_NO_SUCH_DEVICE:
            snprintf(msg, msglen, "no such interface \"%s\" (see 'ip link')", iface);
            return CAP_LIVE_NO_IFACE;
        case PCAP_ERROR_IFACE_NOT_UP:
            snprintf(msg, msglen, "interface \"%s\" is down", iface);
            return CAP_LIVE_NO_IFACE;
        default:
            snprintf(msg, msglen, "cannot capture on %s: %s", iface, pcap_geterr(p));
            return CAP_LIVE_ERROR;
    }
}

cap_reader *cap_live_open(const cap_live_options *o, cap_live_status *out_status, char *err,
                          size_t errlen) {
    const char *iface = o->iface && *o->iface ? o->iface : "any";
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    cap_live *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "%s", "out of memory");
        live_fail(NULL, CAP_LIVE_ERROR, out_status);
        return NULL;
    }
    l->fd = -1;
    l->snaplen = o->snaplen ? o->snaplen : CAP_LIVE_SNAPLEN;
    if (l->snaplen < CAP_LIVE_MIN_SNAPLEN) {
        l->snaplen = CAP_LIVE_MIN_SNAPLEN;
    }
    l->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CAP_LIVE_TIMEOUT_MS;
    l->immediate = o->immediate;
    l->p = pcap_create(iface, ebuf);
    if (!l->p) {
        snprintf(err, errlen, "cannot capture on %s: %s", iface, ebuf);
        live_fail(l, CAP_LIVE_ERROR, out_status);
        return NULL;
    }
    // These fail only on a handle already activated; their results are still checked.
    uint32_t buf = o->buffer_bytes ? o->buffer_bytes : CAP_LIVE_BUFFER;
    if (pcap_set_snaplen(l->p, (int)l->snaplen) != 0 || pcap_set_promisc(l->p, 0) != 0 ||
        pcap_set_timeout(l->p, l->timeout_ms) != 0 ||
        pcap_set_immediate_mode(l->p, o->immediate ? 1 : 0) != 0 ||
        pcap_set_buffer_size(l->p, (int)(buf > INT32_MAX ? INT32_MAX : buf)) != 0) {
        snprintf(err, errlen, "cannot configure %s", iface);
        live_fail(l, CAP_LIVE_ERROR, out_status);
        return NULL;
    }
    // Nanosecond stamps when the kernel offers them; microseconds otherwise (not an error).
    int precision_rc = pcap_set_tstamp_precision(l->p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(l->p);
    if (rc < 0) {
        char msg[PCAP_ERRBUF_SIZE + 256];
        cap_live_status st = live_activate_error(l->p, rc, iface, msg, sizeof msg);
        snprintf(err, errlen, "%s", msg);
        live_fail(l, st, out_status);
        return NULL;
    }
    l->linktype = pcap_datalink(l->p);
    l->nano = precision_rc == 0 && pcap_get_tstamp_precision(l->p) == PCAP_TSTAMP_PRECISION_NANO;
    if (o->bpf && *o->bpf) {
        struct bpf_program prog;
        if (pcap_compile(l->p, &prog, o->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "%s", pcap_geterr(l->p));  // the caller names the text
            live_fail(l, CAP_LIVE_BAD_FILTER, out_status);
            return NULL;
        }
        rc = pcap_setfilter(l->p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(err, errlen, "cannot install the filter in the kernel: %s", pcap_geterr(l->p));
            live_fail(l, CAP_LIVE_ERROR, out_status);
            return NULL;
        }
    }
    if (pcap_setnonblock(l->p, 1, ebuf) != 0 || (l->fd = pcap_get_selectable_fd(l->p)) < 0) {
        snprintf(err, errlen, "cannot poll %s: %s", iface, ebuf);
        live_fail(l, CAP_LIVE_ERROR, out_status);
        return NULL;
    }
    cap_reader *r = cap__reader_live(l);
    if (!r) {
        snprintf(err, errlen, "%s", "out of memory");
        live_fail(l, CAP_LIVE_ERROR, out_status);
        return NULL;
    }
    if (out_status) {
        *out_status = CAP_LIVE_OK;
    }
    return r;
}

// live_frame fills *out from libpcap's header and bytes and numbers the frame.
static void live_frame(cap_live *l, const struct pcap_pkthdr *h, const u_char *data,
                       dissect_frame *out) {
    out->linktype = l->linktype;
    out->caplen = h->caplen;
    out->len = h->len;
    out->data = data;
    out->ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec * (l->nano ? 1 : 1000);
    out->frame_no = ++l->frame_no;
}

// live_read: one non-blocking read. 1 = a packet in *out, 0 = none queued, -1 = error (l->error).
static int live_read(cap_live *l, dissect_frame *out) {
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(l->p, &h, &data);
    if (rc == 1) {
        live_frame(l, h, data, out);
        return 1;
    }
    if (rc < 0) {
        snprintf(l->error, sizeof l->error, "capture stopped: %s", pcap_geterr(l->p));
        return -1;
    }
    return 0;
}

int cap__live_next(cap_live *l, dissect_frame *out) {
    for (int polled = 0;; polled++) {
        if (l->stop) {
            return 0;
        }
        int rc = live_read(l, out);
        if (rc != 0) {
            return rc > 0 ? 1 : 0;
        }
        if (polled > 0) {
            return 2;  // woke up (timeout, signal or a packet the filter then dropped)
        }
        struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
        int n = poll(&pfd, 1, l->timeout_ms);
        if (n == 0 || (n < 0 && errno == EINTR)) {
            return l->stop ? 0 : 2;
        }
        if (n < 0) {
            snprintf(l->error, sizeof l->error, "capture stopped: poll: %s", strerror(errno));
            return 0;
        }
        if (pfd.revents & (POLLERR | POLLNVAL)) {
            snprintf(l->error, sizeof l->error, "capture stopped: the interface went away");
            return 0;
        }
    }
}

typedef struct live_batch {
    cap_live *l;
    cap_live_frame_fn fn;
    void *user;
} live_batch;

static void live_on_packet(u_char *u, const struct pcap_pkthdr *h, const u_char *data) {
    live_batch *b = (live_batch *)(void *)u;
    dissect_frame f;
    live_frame(b->l, h, data, &f);
    b->fn(b->user, &f);
}

int cap_live_dispatch(cap_reader *r, int max, cap_live_frame_fn fn, void *user) {
    cap_live *l = cap__live_of(r);
    if (!l) {
        return -1;
    }
    live_batch b = {.l = l, .fn = fn, .user = user};
    for (int polled = 0;; polled++) {
        if (l->stop) {
            return -1;
        }
        // The callback sees each packet where the kernel put it (pcap_next_ex would copy it
        // into libpcap's one-shot buffer first: 18 % of a busy live capture's CPU).
        int n = pcap_dispatch(l->p, max > 0 ? max : 1, live_on_packet, (u_char *)&b);
        if (n > 0) {
            return n;
        }
        if (n < 0 && n != PCAP_ERROR_BREAK) {
            snprintf(l->error, sizeof l->error, "capture stopped: %s", pcap_geterr(l->p));
            return -1;
        }
        if (polled > 0) {
            return 0;  // woke up (timeout, signal or a packet the filter then dropped)
        }
        struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
        int k = poll(&pfd, 1, l->timeout_ms);
        if (k == 0 || (k < 0 && errno == EINTR)) {
            return l->stop ? -1 : 0;
        }
        if (k < 0) {
            snprintf(l->error, sizeof l->error, "capture stopped: poll: %s", strerror(errno));
            return -1;
        }
        if (pfd.revents & (POLLERR | POLLNVAL)) {
            snprintf(l->error, sizeof l->error, "capture stopped: the interface went away");
            return -1;
        }
    }
}

int cap_live_next_queued(cap_reader *r, dissect_frame *out) {
    cap_live *l = cap__live_of(r);
    if (!l) {
        return 0;
    }
    int rc = live_read(l, out);
    if (rc == 0) {
        // A memory-mapped ring may need a poll before the next block is looked at. Without
        // immediate mode the kernel hands over a partly filled block only after timeout_ms:
        // wait for it once, so what was captured before the stop is still read.
        int wait_ms = 0;
        if (!l->immediate && !l->drain_waited) {
            l->drain_waited = true;
            wait_ms = l->timeout_ms;
        }
        struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
        if (poll(&pfd, 1, wait_ms) > 0 && (pfd.revents & POLLIN)) {
            rc = live_read(l, out);
        }
    }
    return rc == 1 ? 1 : 0;
}

void cap__live_close(cap_live *l) {
    if (!l) {
        return;
    }
    pcap_close(l->p);
    free(l);
}

bool cap_live_stats(cap_reader *r, uint64_t *received, uint64_t *dropped) {
    cap_live *l = cap__live_of(r);
    struct pcap_stat st;
    if (!l || pcap_stats(l->p, &st) != 0) {
        return false;
    }
    *received = st.ps_recv;
    // ps_drop: packets our socket's ring had no room for. Not ps_ifdrop: on Linux that is the
    // interface's rx_dropped, which counts packets nobody wanted (unknown protocols, VLANs).
    *dropped = st.ps_drop;
    return true;
}

int cap_live_linktype(const cap_reader *r) {
    const cap_live *l = cap__live_of(r);
    return l ? l->linktype : -1;
}

uint32_t cap_live_snaplen(const cap_reader *r) {
    const cap_live *l = cap__live_of(r);
    return l ? l->snaplen : 0;
}

const char *cap_live_error(const cap_reader *r) {
    const cap_live *l = cap__live_of(r);
    return l ? l->error : "";
}

void cap_breakloop(cap_reader *r) {
    cap_live *l = cap__live_of(r);
    if (l) {
        l->stop = 1;
    }
}

// drop_all_caps clears the effective, permitted and inheritable sets (capset(2) with zeros) and
// the ambient set: nothing the process held (root's or setcap's) survives.
static bool drop_all_caps(char *err, size_t errlen) {
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) != 0) {
        snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
        return false;
    }
    // Not fatal on old kernels without ambient capabilities (EINVAL).
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        snprintf(err, errlen, "cannot clear ambient capabilities: %s", strerror(errno));
        return false;
    }
    return true;
}

bool cap_drop_privileges(const char *user, char *err, size_t errlen) {
    if (geteuid() != 0) {
        return drop_all_caps(err, errlen);  // setcap'd binary: keep the uid, lose the powers
    }
    const char *name = user && *user ? user : "nobody";
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        snprintf(err, errlen, "cannot drop privileges: no user \"%s\" (use -Z USER)", name);
        return false;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (initgroups(name, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to \"%s\": %s", name, strerror(errno));
        return false;
    }
    // setuid(2) from root clears the capability sets, unless the target is root itself.
    if (uid == 0 || setuid(0) == 0) {
        if (uid != 0) {
            snprintf(err, errlen, "cannot drop privileges: uid 0 could be regained");
            return false;
        }
    }
    return drop_all_caps(err, errlen);
}

// A growing string for cap_live_filter; `failed` is sticky (out of memory).
typedef struct live_str {
    char *s;
    size_t len, cap;
    bool failed;
} live_str;

static void ls_add(live_str *b, const char *text) {
    size_t n = strlen(text);
    if (b->failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap : 256);
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n + 1);
    b->len += n;
}

// ls_list appends "(KW V1 or KW V2 …)" (no parentheses around a single item).
static void ls_list(live_str *b, const char *kw, const char *const *items, size_t n) {
    if (n > 1) {
        ls_add(b, "(");
    }
    for (size_t i = 0; i < n; i++) {
        ls_add(b, i ? " or " : "");
        ls_add(b, kw);
        ls_add(b, items[i]);
    }
    if (n > 1) {
        ls_add(b, ")");
    }
}

char *cap_live_filter(const char *const *nets, size_t num_nets, const uint16_t *ports,
                      size_t num_ports, const char *extra) {
    static const uint16_t https = 443;
    if (num_ports == 0) {
        ports = &https;
        num_ports = 1;
    }
    char(*pt)[8] = calloc(num_ports, sizeof *pt);
    const char **pv = calloc(num_ports, sizeof *pv);
    live_str b = {0};
    if (!pt || !pv) {
        b.failed = true;
    }
    for (size_t i = 0; !b.failed && i < num_ports; i++) {
        snprintf(pt[i], sizeof pt[i], "%u", (unsigned)ports[i]);
        pv[i] = pt[i];
    }
    bool extra_given = extra && *extra;
    if (extra_given) {
        ls_add(&b, "(");
    }
    ls_add(&b, "tcp and ");
    if (!b.failed && num_nets == 0) {
        ls_list(&b, "port ", pv, num_ports);
    } else if (!b.failed) {
        // client → server: to the ports, from the prefixes; server → client: the replies.
        ls_add(&b, "((");
        ls_list(&b, "dst port ", pv, num_ports);
        ls_add(&b, " and ");
        ls_list(&b, "src net ", nets, num_nets);
        ls_add(&b, ") or (");
        ls_list(&b, "src port ", pv, num_ports);
        ls_add(&b, " and ");
        ls_list(&b, "dst net ", nets, num_nets);
        ls_add(&b, "))");
    }
    if (extra_given) {
        ls_add(&b, ") and (");
        ls_add(&b, extra);
        ls_add(&b, ")");
    }
    free(pt);
    free(pv);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

// live_flag_words: the status words of one interface, in tcpdump -D's order and spelling
// (tcpdump.c, show_devices_and_exit): the set bits, "none" when there is none, then the
// connection status unless it does not apply.
static void live_flag_words(bpf_u_int32 flags, char *out, size_t outlen) {
    static const struct {
        bpf_u_int32 bit;
        const char *word;
    } bits[] = {{PCAP_IF_UP, "Up"},
                {PCAP_IF_RUNNING, "Running"},
                {PCAP_IF_LOOPBACK, "Loopback"},
                {PCAP_IF_WIRELESS, "Wireless"}};
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        if (flags & bits[i].bit) {
            n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", n ? ", " : "",
                                  bits[i].word);
        }
    }
    if (n == 0) {
        n = (size_t)snprintf(out, outlen, "none");
    }
    bool wireless = flags & PCAP_IF_WIRELESS;
    const char *status = NULL;
    switch (flags & PCAP_IF_CONNECTION_STATUS) {
        case PCAP_IF_CONNECTION_STATUS_UNKNOWN:
            status = wireless ? "Association status unknown" : "Connection status unknown";
            break;
        case PCAP_IF_CONNECTION_STATUS_CONNECTED:
            status = wireless ? "Associated" : "Connected";
            break;
        case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
            status = wireless ? "Not associated" : "Disconnected";
            break;
        default:  // not applicable (loopback, pseudo-devices)
            break;
    }
    if (status != NULL && n < outlen) {
        snprintf(out + n, outlen - n, ", %s", status);
    }
}

// live_put_name: an interface name or description, control bytes as '?' (they come from the
// system, but a terminal is no place for them either way).
static void live_put_name(FILE *out, const char *s) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, out);
    }
}

bool cap_live_list(FILE *out, char *err, size_t errlen) {
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, ebuf) != 0) {
        snprintf(err, errlen, "cannot list the interfaces: %s", ebuf);
        return false;
    }
    unsigned i = 0;
    for (const pcap_if_t *d = all; d != NULL; d = d->next) {
        fprintf(out, "%u.", ++i);
        live_put_name(out, d->name);
        if (d->description != NULL) {
            fputs(" (", out);
            live_put_name(out, d->description);
            fputc(')', out);
        }
        if (d->flags != 0) {
            char words[160];
            live_flag_words(d->flags, words, sizeof words);
            fprintf(out, " [%s]", words);
        }
        fputc('\n', out);
    }
    pcap_freealldevs(all);
    if (i == 0) {
        snprintf(err, errlen,
                 "no interface to capture on (tlsdiag capture -D needs the rights to open them: "
                 "root or CAP_NET_RAW)");
        return false;
    }
    return true;
}
