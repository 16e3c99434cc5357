// summary_internal.h — the run summary's accumulator (summary.c), used by analyzer.c and tests.
#ifndef TLSDIAG_SUMMARY_INTERNAL_H
#define TLSDIAG_SUMMARY_INTERNAL_H

#include "analyze.h"

enum {
    AN_SUMMARY_MAX_KEYS = 4096,  // per dimension; later keys are counted under "other"
};

typedef struct an_summary an_summary;

an_summary *an_summary_new(void);
void an_summary_free(an_summary *s);
// an_summary_add counts one verdict (keeps a copy of the first verdict of each failure cause).
void an_summary_add(an_summary *s, const verdict *v);
// an_summary_refresh copies v again when it is the example kept for its cause (same conn_id).
void an_summary_refresh(an_summary *s, const verdict *v);
// an_summary_get sorts the per-key tables and returns the summary (owned by s, valid until the
// next an_summary_add / an_summary_get).
const summary *an_summary_get(an_summary *s);

#endif
