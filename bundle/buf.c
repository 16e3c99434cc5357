// buf.c — the growable buffer every member is built in, with HTML and Markdown escaping.
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "report.h"

void bbuf_put(bbuf *b, const void *p, size_t n) {
    if (b->oom || n == 0) {
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) {
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void bbuf_puts(bbuf *b, const char *s) {
    bbuf_put(b, s, strlen(s));
}

void bbuf_printf(bbuf *b, const char *fmt, ...) {
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        bbuf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bbuf_put(b, big, (size_t)n);
    free(big);
}

// text_safe: control bytes and bytes that are not UTF-8 become \xNN (report/'s rule).
static char *text_safe(const char *s, size_t n, char *small, size_t smalln) {
    size_t need = 4 * n + 8;
    char *out = need <= smalln ? small : malloc(need);
    if (out == NULL) {
        return NULL;
    }
    report_escape((const uint8_t *)s, n, REPORT_ESC_TEXT, out, need);
    return out;
}

void bbuf_html(bbuf *b, const char *s) {
    bbuf_html_n(b, s, strlen(s));
}

void bbuf_html_n(bbuf *b, const char *s, size_t n) {
    char small[2048];
    char *t = text_safe(s, n, small, sizeof small);
    if (t == NULL) {
        b->oom = true;
        return;
    }
    for (const char *p = t; *p; p++) {
        switch (*p) {
            case '&':
                bbuf_puts(b, "&amp;");
                break;
            case '<':
                bbuf_puts(b, "&lt;");
                break;
            case '>':
                bbuf_puts(b, "&gt;");
                break;
            case '"':
                bbuf_puts(b, "&quot;");
                break;
            case '\'':
                bbuf_puts(b, "&#39;");
                break;
            default:
                bbuf_put(b, p, 1);
                break;
        }
    }
    if (t != small) {
        free(t);
    }
}

void bbuf_md(bbuf *b, const char *s) {
    bbuf_md_n(b, s, strlen(s));
}

void bbuf_md_n(bbuf *b, const char *s, size_t n) {
    char small[2048];
    char *t = text_safe(s, n, small, sizeof small);
    if (t == NULL) {
        b->oom = true;
        return;
    }
    for (const char *p = t; *p; p++) {
        // An underscore between two letters or digits never starts or ends emphasis
        // (CommonMark §6.2): left bare, `s_client` and `ssl_certificate` paste as written.
        bool intraword =
            *p == '_' && p > t && isalnum((unsigned char)p[-1]) && isalnum((unsigned char)p[1]);
        if (!intraword && strchr("\\`*_{}[]<>#|!", *p) != NULL) {
            bbuf_put(b, "\\", 1);
        }
        bbuf_put(b, p, 1);
    }
    if (t != small) {
        free(t);
    }
}

void bbuf_sni(bbuf *b, const verdict *v, void (*put)(bbuf *b, const char *s, size_t n)) {
    if (!v->has_sni) {
        put(b, "(none)", 6);
        return;
    }
    put(b, v->sni, verdict_sni_kept(v));
    if (v->sni_problem) {
        char why[128];
        int n = snprintf(why, sizeof why, " (not a valid host name: %s)", v->sni_problem);
        put(b, why, n > 0 && (size_t)n < sizeof why ? (size_t)n : strlen(why));
    }
}

void bbuf_free(bbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}
