// render.c — verdicts rendered ahead of time, in memory (`analyze --threads N`: each worker
// renders its own verdicts; the merge writes the bytes in one thread's order).
//
// The one fact a worker does not know is conn_id (the merge numbers connections as one thread
// would). The worker renders with conn_id set to REPORT_RENDER_MARK, a 19-digit number no real
// connection reaches, and notes where its digits are: the merge writes the bytes between them and
// the real number in their place, so the line is byte for byte what report_verdict writes.
// Hostile bytes could spell the same digits (an SNI of "9223372036854775807"): the rendering is
// used only when the digits occur exactly as often as the format prints conn_id and each time
// right after what the format prints before it; otherwise the merge renders the verdict itself.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

// What a verdict that prints nothing renders to (text: a succeeded handshake, most of them): no
// buffer is handed out, the renderer keeps its own for the next verdict.
static report_rendered nothing_rendered;

#define REPORT_RENDER_MARK 9223372036854775807ULL  // INT64_MAX: JSON and ECS print it unclamped
static const char mark_digits[] = "9223372036854775807";
enum { MARK_LEN = sizeof mark_digits - 1 };

struct report_renderer {
    report *r;             // the caller's options and file name, writing into cur through f
    FILE *f;               // unbuffered: every write lands in cur at once
    report_rendered *cur;  // the verdict being rendered, handed out whole (no copy) when done
    size_t cap;            // bytes cur can hold
    size_t hint;           // the longest rendering yet: a new buffer starts with that room
    bool oom;
    uint32_t holes;  // conn_ids the format prints per verdict (text: per failure)
    char before;     // the byte the format prints right before conn_id
};

// room makes cur hold n more bytes (false when out of memory).
static bool room(struct report_renderer *m, size_t n) {
    size_t len = m->cur ? m->cur->len : 0;
    if (m->cur != NULL && m->cap - len >= n) {
        return true;
    }
    size_t cap = m->cap * 2 > len + n ? m->cap * 2 : len + n;
    report_rendered *b = realloc(m->cur, sizeof *b + cap);
    if (b == NULL) {
        m->oom = true;
        return false;
    }
    b->len = len;
    m->cur = b;
    m->cap = cap;
    return true;
}

static ssize_t mem_write(void *cookie, const char *p, size_t n) {
    struct report_renderer *m = cookie;
    if (!room(m, n)) {
        return -1;
    }
    memcpy(m->cur->bytes + m->cur->len, p, n);
    m->cur->len += n;
    return (ssize_t)n;
}

report_renderer *report_renderer_new(const report *r) {
    const report_options *o = &r->o;
    uint32_t holes;
    char before;
    switch (o->format) {
        case REPORT_JSON:  // "conn_id":N and, for one whole capture, "stream":N
            holes = o->stream_is_tcp_stream ? 2 : 1;
            before = ':';
            break;
        case REPORT_ECS:  // "conn_id":N
            holes = 1;
            before = ':';
            break;
        default:
            // Text: the one line per failure (" #N ..."). Verbose output, the wireshark
            // commands and lines cut to a terminal's width are written by the merge.
            if (o->verbosity != REPORT_NORMAL || o->wireshark_commands || o->columns != 0) {
                return NULL;
            }
            holes = 1;
            before = '#';
            break;
    }
    struct report_renderer *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return NULL;
    }
    m->holes = holes;
    m->before = before;
    m->f = fopencookie(m, "w", (cookie_io_functions_t){.write = mem_write});
    report_options mo = *o;
    mo.out = m->f;
    m->r = m->f ? report_new(&mo) : NULL;
    if (m->r == NULL || setvbuf(m->f, NULL, _IONBF, 0) != 0) {
        report_renderer_free(m);
        return NULL;
    }
    report_set_file(m->r, r->file);
    return m;
}

void report_renderer_free(report_renderer *m) {
    if (m == NULL) {
        return;
    }
    report_free(m->r);
    if (m->f) {
        fclose(m->f);
    }
    free(m->cur);
    free(m);
}

report_rendered *report_render(report_renderer *m, verdict *v) {
    if (m->cur == NULL) {  // a fresh buffer, as long as the longest rendering yet (within reason)
        m->cap = 0;
        if (!room(m, m->hint < 256 ? 256 : m->hint > 8192 ? 8192 : m->hint)) {
            return NULL;
        }
    }
    report_rendered *b = m->cur;
    b->len = 0;
    b->nholes = 0;
    uint64_t id = v->conn_id;
    v->conn_id = REPORT_RENDER_MARK;
    bool ok = report_verdict(m->r, v);
    v->conn_id = id;
    b = m->cur;  // (moved if it grew)
    if (!ok || m->oom) {
        return NULL;  // (sticky: this renderer is done; the merge renders the rest)
    }
    // Text prints nothing for a succeeded handshake: no conn_id either, and no buffer.
    if (b->len == 0) {
        return &nothing_rendered;
    }
    uint32_t want = m->holes;
    const char *p = b->bytes, *end = b->bytes + b->len;
    while ((p = memmem(p, (size_t)(end - p), mark_digits, MARK_LEN)) != NULL) {
        size_t at = (size_t)(p - b->bytes);
        if (b->nholes == want || at == 0 || b->bytes[at - 1] != m->before) {
            return NULL;  // the digits where the format does not put conn_id: hostile bytes
        }
        b->hole[b->nholes++] = at;
        p += MARK_LEN;
    }
    if (b->nholes != want) {
        return NULL;
    }
    if (b->len > m->hint) {
        m->hint = b->len;
    }
    m->cur = NULL;  // handed out: the caller frees it
    return b;
}

void report_rendered_free(report_rendered *b) {
    if (b != &nothing_rendered) {
        free(b);
    }
}

bool report_write_rendered(report *r, const report_rendered *b, uint64_t conn_id) {
    if (r->failed) {
        return false;
    }
    char id[21];
    size_t idlen = report_u64_dec(conn_id, id), from = 0;
    FILE *f = r->o.out;
    bool ok = true;
    for (uint32_t i = 0; i < b->nholes && ok; i++) {
        size_t n = b->hole[i] - from;
        ok = fwrite_unlocked(b->bytes + from, 1, n, f) == n &&
             fwrite_unlocked(id, 1, idlen, f) == idlen;
        from = b->hole[i] + MARK_LEN;
    }
    size_t n = b->len - from;
    ok = ok && fwrite_unlocked(b->bytes + from, 1, n, f) == n;
    return report_finish(r, ok);
}
