// live.h — private to capture/: the live-interface half of a cap_reader (live.c).
#ifndef TLSDIAG_CAPTURE_LIVE_H
#define TLSDIAG_CAPTURE_LIVE_H

#include "capture.h"

typedef struct cap_live cap_live;

// capture.c wraps a cap_live in a cap_reader and forwards cap_next / cap_close to it.
cap_reader *cap__reader_live(cap_live *l) __attribute__((warn_unused_result));
cap_live *cap__live_of(const cap_reader *r);  // NULL for a file reader
int cap__live_next(cap_live *l, dissect_frame *out) __attribute__((warn_unused_result));
void cap__live_close(cap_live *l);  // NULL is a no-op

#endif
