// jmemo.c — the per-thread slots of jmemo.h: direct-mapped by a hash of the key, compared whole.
#include "jmemo.h"

// Each slot holds its key's hash and length, the part's length, then the key's bytes and the
// part's bytes. Two slots a hash (the older one is replaced). HEAD (and ECS_TLS): 64 slots of
// 1.5 KiB (the key is ~300 bytes, the part ~550; ECS's up to ~1,000); TAIL (and ECS_TAIL): 64 of
// 3 KiB (key ~800, part up to ~2,250 with three certificates). 288 KiB a thread.
typedef struct jmemo_slot_hdr {
    uint64_t hash;
    uint32_t key_len;  // 0: empty (a key has at least its fixed-size members)
    uint32_t len;
    uint64_t used;  // the thread's count of lookups when it was last hit or kept
    uint32_t part;  // the jmemo_part it holds (the JSON and ECS parts share the space)
    uint32_t unused;
} jmemo_slot_hdr;

enum {
    HEAD_SLOTS = 64,
    HEAD_SIZE = 1536,
    TAIL_SLOTS = 64,
    TAIL_SIZE = 3072,
    SPACE = HEAD_SLOTS * HEAD_SIZE + TAIL_SLOTS * TAIL_SIZE,
};

static const struct {
    uint32_t slots, size, offset;
} parts[JMEMO__PARTS] = {
    [JMEMO_HEAD] = {HEAD_SLOTS, HEAD_SIZE, 0},
    [JMEMO_TAIL] = {TAIL_SLOTS, TAIL_SIZE, HEAD_SLOTS *HEAD_SIZE},
    [JMEMO_ECS_TLS] = {HEAD_SLOTS, HEAD_SIZE, 0},
    [JMEMO_ECS_TAIL] = {TAIL_SLOTS, TAIL_SIZE, HEAD_SLOTS *HEAD_SIZE},
};

static __thread uint64_t space[SPACE / sizeof(uint64_t)];
static __thread uint64_t lookups;
static __thread uint64_t hits[JMEMO__PARTS];

// slot_pair: the first of the two slots for hash (slots: a power of two).
static jmemo_slot_hdr *slot_pair(jmemo_part part, uint64_t hash) {
    uint32_t i = (uint32_t)(hash >> 32) & (parts[part].slots - 2);
    return (jmemo_slot_hdr *)(void *)((unsigned char *)space + parts[part].offset +
                                      (size_t)i * parts[part].size);
}

static jmemo_slot_hdr *second(jmemo_part part, jmemo_slot_hdr *s) {
    return (jmemo_slot_hdr *)(void *)((unsigned char *)s + parts[part].size);
}

static bool same(const jmemo_slot_hdr *s, jmemo_part part, const jmemo_key *k) {
    return s->key_len == k->len && s->hash == k->hash && s->part == (uint32_t)part && k->len > 0 &&
           memcmp(s + 1, k->b, k->len) == 0;
}

const char *jmemo_get(jmemo_part part, const jmemo_key *k, size_t *n) {
    jmemo_slot_hdr *s = slot_pair(part, k->hash);
    if (!same(s, part, k)) {
        s = second(part, s);
        if (!same(s, part, k)) {
            return NULL;
        }
    }
    s->used = ++lookups;
    *n = s->len;
    return (const char *)(s + 1) + s->key_len;
}

void jmemo_keep(jmemo_part part, const jmemo_key *k, const jsonw *w, jsonw_mark from,
                jsonw_mark to) {
    // Nothing is read from the buffer unless the part was staged whole between the marks: after
    // a flush, from.at may be the old end of the buffer (JSONW_BUF), not an index into it.
    if (k->over || k->len == 0 || from.flushes != to.flushes || to.flushes != w->flushes ||
        to.at < from.at || to.at > w->len || w->failed) {
        return;
    }
    size_t at = from.at, len = to.at - from.at;
    if (len > 0 && w->buf[at] == ',') {  // the comma before the part is not part of it
        at++;
        len--;
    }
    jmemo_slot_hdr *s = slot_pair(part, k->hash), *s2 = second(part, s);
    if (s2->used < s->used) {
        s = s2;  // the one used longer ago (or empty)
    }
    size_t room = parts[part].size - sizeof *s;
    if (k->len > room || len > room - k->len) {
        return;  // does not fit: rendered each time
    }
    unsigned char *data = (unsigned char *)(s + 1);
    s->hash = k->hash;
    s->part = (uint32_t)part;
    s->key_len = k->len;
    s->len = (uint32_t)len;
    s->used = ++lookups;
    memcpy(data, k->b, k->len);
    memcpy(data + k->len, w->buf + at, len);
}

void jmemo_write(jsonw *w, jmemo_part part, jmemo_key *k, bool as_value,
                 void (*render)(jsonw *w, const void *arg), const void *arg) {
    if (parts[part].slots < 2) {
        render(w, arg);  // a part without slots in the table: never kept
        return;
    }
    size_t n = 0;
    const char *kept = k->over ? NULL : jmemo_get(part, k, &n);
    if (kept != NULL) {
        hits[part]++;
        as_value ? jsonw_value_bytes(w, kept, n) : jsonw_members_bytes(w, kept, n);
        return;
    }
    jsonw_mark from = jsonw_mark_here(w);
    render(w, arg);
    jmemo_keep(part, k, w, from, jsonw_mark_here(w));
}

uint64_t jmemo_hits(jmemo_part part) {
    return hits[part];
}

void jmemo_clear(void) {
    memset(space, 0, sizeof space);
    lookups = 0;
}
