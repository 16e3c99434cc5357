// capture.c — saved captures as one stream: k-way merge by timestamp, BPF, damage per file.
//
// frame_no counts every record read (before the BPF filter), across the merged stream, so
// that for a single file it is the frame number Wireshark shows.
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "capfile.h"
#include "capture.h"
#include "live.h"

enum {
    CAP_MAX_ERRORS = 64,
    CAP_MAX_FILTERS = 16,  // distinct link types with a compiled filter
    CAP_BPF_SNAPLEN = 262144,
};

typedef struct cap_filter {
    int linktype;
    bool ok;  // compiled; false: this link type cannot match the filter
    struct bpf_program prog;
} cap_filter;

typedef struct cap_src {
    capfile file;
    bool have;  // `pending` holds this file's next frame
    capfile_frame pending;
} cap_src;

struct cap_reader {
    cap_live *live;  // a live interface (live.c); NULL for files
    cap_src *srcs;
    size_t num_srcs;
    size_t last;  // source of the frame handed out last (refilled on the next call)
    bool started;
    uint32_t frame_no;
    char *bpf;
    cap_filter filters[CAP_MAX_FILTERS];
    size_t num_filters;
    cap_error errors[CAP_MAX_ERRORS];
    size_t num_errors;
    uint64_t total;
};

// cap_compile: the filter for one link type. libpcap's optimiser needs a pcap_t of that type.
static bool cap_compile(const char *bpf, int linktype, struct bpf_program *prog, char *err,
                        size_t errlen) {
    pcap_t *p = pcap_open_dead(linktype, CAP_BPF_SNAPLEN);
    if (!p) {
        snprintf(err, errlen, "filter \"%s\": out of memory", bpf);
        return false;
    }
    bool ok = pcap_compile(p, prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!ok) {
        snprintf(err, errlen, "bad filter \"%s\": %s", bpf, pcap_geterr(p));
    }
    pcap_close(p);
    return ok;
}

static const cap_filter *cap_filter_for(cap_reader *r, int linktype) {
    for (size_t i = 0; i < r->num_filters; i++) {
        if (r->filters[i].linktype == linktype) {
            return &r->filters[i];
        }
    }
    if (r->num_filters == CAP_MAX_FILTERS) {
        return NULL;
    }
    cap_filter *f = &r->filters[r->num_filters++];
    char err[PCAP_ERRBUF_SIZE + 128];
    f->linktype = linktype;
    // A filter that cannot apply to this link type ("ether host" on raw IP) matches nothing.
    f->ok = cap_compile(r->bpf, linktype, &f->prog, err, sizeof err);
    return f;
}

static bool cap_match(cap_reader *r, const capfile_frame *fr) {
    if (!r->bpf) {
        return true;
    }
    const cap_filter *f = cap_filter_for(r, fr->linktype);
    if (!f || !f->ok) {
        return false;
    }
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.caplen = fr->caplen;
    h.len = fr->len;
    return pcap_offline_filter(&f->prog, &h, fr->data) != 0;
}

static void cap_record_error(cap_reader *r, const cap_error *e) {
    if (r->num_errors < CAP_MAX_ERRORS) {
        r->errors[r->num_errors++] = *e;
    }
}

// Reads the next record of source i into its pending slot (or marks it ended).
static void cap_fill(cap_reader *r, size_t i) {
    cap_src *s = &r->srcs[i];
    cap_error e;
    int rc = capfile_next(&s->file, &s->pending, &e);
    s->have = rc == 1;
    if (rc < 0) {
        cap_record_error(r, &e);
    }
}

cap_reader *cap_open(const char *const *paths, size_t num_paths, const char *bpf, char *err,
                     size_t errlen) {
    if (num_paths == 0) {
        snprintf(err, errlen, "no capture file given");
        return NULL;
    }
    size_t stdin_uses = 0;
    for (size_t i = 0; i < num_paths; i++) {
        stdin_uses += strcmp(paths[i], "-") == 0;
    }
    if (stdin_uses > 1) {
        snprintf(err, errlen, "\"-\" (stdin) can be read only once");
        return NULL;
    }
    cap_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->srcs = calloc(num_paths, sizeof *r->srcs))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (bpf && *bpf) {
        // Check the text once up front so a typo is reported before any file is read.
        struct bpf_program prog;
        if (!cap_compile(bpf, 1 /* EN10MB */, &prog, err, errlen)) {
            free(r->srcs);
            free(r);
            return NULL;
        }
        pcap_freecode(&prog);
        r->bpf = strdup(bpf);
    }
    for (size_t i = 0; i < num_paths; i++) {
        if (!capfile_open(&r->srcs[i].file, paths[i], err, errlen)) {
            r->num_srcs = i;
            cap_close(r);
            return NULL;
        }
        r->num_srcs = i + 1;
        r->total += r->srcs[i].file.size;
    }
    return r;
}

cap_reader *cap__reader_live(cap_live *l) {
    cap_reader *r = calloc(1, sizeof *r);
    if (r) {
        r->live = l;
    }
    return r;
}

cap_live *cap__live_of(const cap_reader *r) {
    return r ? r->live : NULL;
}

int cap_next(cap_reader *r, dissect_frame *out) {
    if (r->live) {
        return cap__live_next(r->live, out);
    }
    // One file, no filter (the common case, and every --threads worker reads all frames): no
    // merge, straight from the file.
    if (r->num_srcs == 1 && !r->bpf) {
        cap_error e;
        int rc = capfile_next(&r->srcs[0].file, out, &e);  // straight into *out: no copy
        if (rc != 1) {
            if (rc < 0) {
                cap_record_error(r, &e);
            }
            return 0;
        }
        out->frame_no = ++r->frame_no;
        return 1;
    }
    if (!r->started) {
        for (size_t i = 0; i < r->num_srcs; i++) {
            cap_fill(r, i);
        }
        r->started = true;
    } else {
        cap_fill(r, r->last);  // the previous frame's bytes are no longer borrowed
    }
    for (;;) {
        // k-way merge: smallest timestamp first, ties in file order.
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < r->num_srcs; i++) {
            if (r->srcs[i].have &&
                (best == SIZE_MAX || r->srcs[i].pending.ts_ns < r->srcs[best].pending.ts_ns)) {
                best = i;
            }
        }
        if (best == SIZE_MAX) {
            return 0;
        }
        const capfile_frame *fr = &r->srcs[best].pending;
        r->frame_no++;
        if (!cap_match(r, fr)) {
            cap_fill(r, best);
            continue;
        }
        r->last = best;
        out->linktype = fr->linktype;
        out->caplen = fr->caplen;
        out->len = fr->len;
        out->data = fr->data;
        out->ts_ns = fr->ts_ns;
        out->frame_no = r->frame_no;
        return 1;
    }
}

size_t cap_next_batch(cap_reader *r, dissect_frame *out, size_t max) {
    if (!r->live && r->num_srcs == 1 && !r->bpf) {
        size_t n = capfile_next_buffered(&r->srcs[0].file, out, max);
        for (size_t i = 0; i < n; i++) {
            out[i].frame_no = ++r->frame_no;
        }
        if (n > 0) {
            return n;
        }
    }
    return cap_next(r, out) == 1 ? 1 : 0;
}

size_t cap_num_errors(const cap_reader *r) {
    return r->num_errors;
}

const cap_error *cap_get_error(const cap_reader *r, size_t i) {
    return i < r->num_errors ? &r->errors[i] : NULL;
}

bool cap_single_input(const cap_reader *r) {
    return !r->live && r->num_srcs == 1;
}

uint64_t cap_bytes_read(const cap_reader *r) {
    uint64_t n = 0;
    for (size_t i = 0; i < r->num_srcs; i++) {
        n += r->srcs[i].file.offset;
    }
    return n;
}

uint64_t cap_bytes_total(const cap_reader *r) {
    return r->total;
}

const char *cap_lib_version(void) {
    return pcap_lib_version();
}

const char *cap_linktype_name(int linktype) {
    // Frames carry the file's LINKTYPE_ value; libpcap names DLT_ values, which differ for raw
    // IP (LINKTYPE_RAW 101 is DLT_RAW 12 or 14, depending on the platform).
    if (linktype == 101) {
        return "RAW";
    }
    const char *n = pcap_datalink_val_to_name(linktype);
    return n ? n : "unknown";
}

void cap_close(cap_reader *r) {
    if (!r) {
        return;
    }
    cap__live_close(r->live);
    for (size_t i = 0; i < r->num_srcs; i++) {
        capfile_close(&r->srcs[i].file);
    }
    for (size_t i = 0; i < r->num_filters; i++) {
        if (r->filters[i].ok) {
            pcap_freecode(&r->filters[i].prog);
        }
    }
    free(r->srcs);
    free(r->bpf);
    free(r);
}
