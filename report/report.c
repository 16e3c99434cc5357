// report.c — the report object: options, the current file name, and dispatch to text or JSON.
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "report_internal.h"

report *report_new(const report_options *o) {
    if (o == NULL || o->out == NULL) {
        return NULL;
    }
    report *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return NULL;
    }
    r->o = *o;
    return r;
}

void report_free(report *r) {
    if (r == NULL) {
        return;
    }
    free(r->file);
    free(r);
}

void report_set_file(report *r, const char *file) {
    free(r->file);
    r->file = file ? strdup(file) : NULL;
    if (file != NULL && r->file == NULL) {
        r->failed = true;
    }
}

unsigned report_terminal_columns(FILE *f) {
    int fd = f ? fileno(f) : -1;
    if (fd < 0 || isatty(fd) != 1) {
        return 0;
    }
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) {
        return ws.ws_col;
    }
    const char *env = getenv("COLUMNS");
    char *end = NULL;
    long n = env ? strtol(env, &end, 10) : 0;
    if (env && end != env && *end == '\0' && n >= 20 && n <= 10000) {
        return (unsigned)n;
    }
    return 80;
}

bool report_write_failed(const report *r) {
    return r->failed;
}

int report_write_errno(const report *r) {
    return r->err;
}

report_out_status report_flush(report *r, int *err_out) {
    int err = r->err;
    bool ok = !r->failed;
    errno = 0;
    if (fflush(r->o.out) != 0) {
        err = err ? err : errno;
        ok = false;
    }
    if (ferror_unlocked(r->o.out)) {
        ok = false;
    }
    if (err_out != NULL) {
        *err_out = ok ? 0 : err;
    }
    if (ok) {
        return REPORT_OUT_OK;
    }
    return err == EPIPE ? REPORT_OUT_READER_GONE : REPORT_OUT_FAILED;
}

// finish records a failed render or a stream error; the failure is sticky so the CLI reports it
// once and stops. The stream is written by one thread at a time (--threads: the merge role moves
// under the pipeline's lock), with the _unlocked calls; ferror took the FILE's lock once a second
// thread existed (perf: 1 % of --threads 2).
static bool finish(report *r, bool ok) {
    if (!ok || ferror_unlocked(r->o.out)) {
        if (!r->failed) {
            r->err = errno;  // the failed fwrite's, when that is what failed
        }
        r->failed = true;
    }
    return !r->failed;
}

bool report_transcript(report *r, const tls_transcript *t) {
    if (r->failed) {
        return false;
    }
    // ECS describes handshakes, not transcripts: dissect's objects stay our own JSON.
    return finish(r, r->o.format != REPORT_TEXT ? json_transcript(r, t) : text_transcript(r, t));
}

bool report_verdict(report *r, const verdict *v) {
    if (r->failed) {
        return false;
    }
    switch (r->o.format) {
        case REPORT_JSON:
            return finish(r, json_verdict(r, v));
        case REPORT_ECS:
            return finish(r, ecs_verdict(r, v));
        default:
            return finish(r, text_verdict(r, v));
    }
}

report_run_info report_run_info_of(const analyzer *an) {
    return (report_run_info){
        .profile_name = analyzer_profile_name(an),
        .profile_version = analyzer_profile_version(an),
        .prefix_source = analyzer_prefix_source(an),
        .trust_store = analyzer_trust_store(an),
    };
}

bool report_damage(report *r, const report_input_error *e) {
    if (e->frame > 1) {
        fprintf(stderr,
                "tlsdiag: %s: frame %" PRIu64 " (offset %" PRIu64
                "): %s \xe2\x80\x94 "
                "results up to frame %" PRIu64 " are shown\n",
                e->file, e->frame, e->offset, e->message, e->frame - 1);
    } else {
        fprintf(stderr,
                "tlsdiag: %s: frame %" PRIu64 " (offset %" PRIu64
                "): %s \xe2\x80\x94 "
                "no frame of this file could be read\n",
                e->file, e->frame, e->offset, e->message);
    }
    return report_error(r, e);
}

bool report_summary(report *r, const summary *s, const report_run_info *info) {
    if (r->failed) {
        return false;
    }
    static const report_run_info none;
    if (info == NULL) {
        info = &none;
    }
    if (r->o.format == REPORT_ECS) {
        return true;  // an ECS stream is events only: the summary is the pipeline's to compute
    }
    return finish(r,
                  r->o.format == REPORT_JSON ? json_summary(r, s, info) : text_summary(r, s, info));
}

bool report_error(report *r, const report_input_error *e) {
    if (r->failed) {
        return false;
    }
    switch (r->o.format) {
        case REPORT_JSON:
            return finish(r, json_error(r, e));
        case REPORT_ECS:
            return finish(r, ecs_error(r, e));
        default:
            return true;
    }
}

bool report_finish(report *r, bool ok) {
    return finish(r, ok);
}
