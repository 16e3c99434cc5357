// cause.c — names and meanings of cause ids (from the table in causes.h) and verdict enums.
#include <string.h>

#include "analyze.h"

// Indexed by number: a number used twice is an overridden initializer (-Werror), one out of
// range exceeds the array's bounds, so the rows number 0 .. CAUSE__COUNT - 1 exactly.
static const char *const cause_names[CAUSE__COUNT] = {
#define X(e, num, id, meaning, fn, flags, refs, texts) [CAUSE_##e] = id,
    CAUSE_TABLE(X)
#undef X
};
static const char *const cause_meanings[CAUSE__COUNT] = {
#define X(e, num, id, meaning, fn, flags, refs, texts) [CAUSE_##e] = meaning,
    CAUSE_TABLE(X)
#undef X
};

const char *cause_name(cause_id c) {
    return cause_names[(unsigned)c < CAUSE__COUNT ? c : CAUSE_UNKNOWN];
}

const char *cause_meaning(cause_id c) {
    return (unsigned)c < CAUSE__COUNT ? cause_meanings[c] : "cause not determined";
}

bool cause_from_name(const char *s, cause_id *out) {
    for (unsigned i = 0; i < CAUSE__COUNT; i++) {
        if (strcmp(s, cause_names[i]) == 0) {
            *out = (cause_id)i;
            return true;
        }
    }
    return false;
}

const char *verdict_outcome_name(verdict_outcome o) {
    static const char *const n[] = {"succeeded", "failed", "incomplete", "not_tls"};
    return (unsigned)o < sizeof n / sizeof n[0] ? n[o] : "unknown";
}

const char *verdict_party_name(verdict_party p) {
    static const char *const n[] = {"none", "client", "server", "tcp", "capture"};
    return (unsigned)p < sizeof n / sizeof n[0] ? n[p] : "unknown";
}

const char *verdict_confidence_name(verdict_confidence c) {
    static const char *const n[] = {"low", "medium", "high"};
    return (unsigned)c < sizeof n / sizeof n[0] ? n[c] : "unknown";
}

const char *verdict_method_name(verdict_method m) {
    static const char *const n[] = {"passive", "probe", "keylog", "config"};
    return (unsigned)m < sizeof n / sizeof n[0] ? n[m] : "unknown";
}

bool verdict_is_failure(const verdict *v) {
    return v->outcome == OUTCOME_FAILED || (v->predicted && v->cause != CAUSE_OK);
}
