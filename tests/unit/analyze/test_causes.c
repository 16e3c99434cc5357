// test_causes.c — the cause table (analyze/causes.h): what it generates agrees with itself, and
// doc/causes.md is the table rendered.
//
// doc/causes.md is written by this test: TLSDIAG_UPDATE_CAUSES=1 build/tests/test_causes
// rewrites it from the table (then commit it); without the variable the test fails when the
// committed file differs from the table.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_internal.h"

#define CAUSES_MD TLSDIAG_SOURCE_DIR "/doc/causes.md"

// The table's columns, by number (the test reads the rows itself, as the generators do; the
// rule and text columns name static objects of rules.c and texts.c, reached through an_rules
// and an_texts_fill).
typedef struct row {
    const char *id, *meaning, *refs;
    unsigned flags;
} row;

static row rows[CAUSE__COUNT];

static int setup(void **state) {
    (void)state;
#define X(e, num, id, meaning, fn, flags, refs, text) rows[num] = (row){id, meaning, refs, flags};
    CAUSE_TABLE(X)
#undef X
    return 0;
}

// reserved: a number without a row, kept for a row another branch adds (analyze.h). Only 30-32
// (issue 16's corpus ids) may be reserved, and only until that branch is merged.
static bool reserved(int c) {
    return rows[c].id == NULL;
}

// ---------------------------------------------------------------------------------------------
static void test_names_unique_and_round_trip(void **state) {
    (void)state;
    for (int c = 0; c < CAUSE__COUNT; c++) {
        if (reserved(c)) {
            assert_true(c >= 30 && c <= 32);
            assert_string_equal(cause_name((cause_id)c), "unknown");
            continue;
        }
        const char *n = cause_name((cause_id)c);
        assert_string_equal(n, rows[c].id);
        assert_string_equal(cause_meaning((cause_id)c), rows[c].meaning);
        assert_true(n[0] != '\0' && strspn(n, "abcdefghijklmnopqrstuvwxyz_") == strlen(n));
        cause_id back = CAUSE_UNKNOWN;
        assert_true(cause_from_name(n, &back));
        assert_int_equal(back, c);
        for (int d = 0; d < c; d++) {
            if (reserved(d)) {
                continue;
            }
            assert_string_not_equal(n, cause_name((cause_id)d));
        }
    }
    cause_id untouched = CAUSE_OK;
    assert_false(cause_from_name("cert_expire", &untouched));
    assert_int_equal(untouched, CAUSE_OK);
    // out of range: the unknown cause, never an out-of-bounds read
    assert_string_equal(cause_name((cause_id)CAUSE__COUNT), "unknown");
    assert_string_equal(cause_name((cause_id)-1), "unknown");
}

// The enum keeps the numbers reports are ordered by (JSON by_cause, the causes table).
static void test_numbers_are_stable(void **state) {
    (void)state;
    assert_int_equal(CAUSE_OK, 0);
    assert_int_equal(CAUSE_CERT_EXPIRED, 1);
    assert_int_equal(CAUSE_SNI_MISSING, 12);
    assert_int_equal(CAUSE_NOT_TLS, 21);
    assert_int_equal(CAUSE_CAPTURE_INCOMPLETE, 28);
    assert_int_equal(CAUSE_UNKNOWN, 29);
    assert_int_equal(CAUSE_CLIENT_HELLO_REJECTED, 30);
    assert_int_equal(CAUSE_HANDSHAKE_INTEGRITY_FAILURE, 31);
    assert_int_equal(CAUSE_CLIENT_CLOSED, 32);
    assert_int_equal(CAUSE_CLIENT_CERT_REJECTED, 33);
    assert_int_equal(CAUSE__COUNT, 34);
}

// One rule per row, in the row order; only ok and unknown are named without a rule.
static void test_one_rule_row_per_cause(void **state) {
    (void)state;
    size_t num_rows = 0;
    for (int c = 0; c < CAUSE__COUNT; c++) {
        num_rows += !reserved(c);
    }
    assert_int_equal(an_num_rules, num_rows);
    int seen[CAUSE__COUNT] = {0};
    for (size_t i = 0; i < an_num_rules; i++) {
        const rule *r = &an_rules[i];
        assert_true((unsigned)r->cause < CAUSE__COUNT);
        seen[r->cause]++;
        assert_int_equal(r->flags, rows[r->cause].flags);
        bool ruleless = r->cause == CAUSE_OK || r->cause == CAUSE_UNKNOWN;
        assert_int_equal(r->fn == NULL, ruleless);
        // a certificate cause is a prediction too (it runs on handshakes that succeeded)
        if (r->flags & CAUSE_F_CERT) {
            assert_true(r->flags & CAUSE_F_PREDICTS);
        }
    }
    for (int c = 0; c < CAUSE__COUNT; c++) {
        assert_int_equal(seen[c], reserved(c) ? 0 : 1);
    }
    // priority: capture before transport before the certificate
    size_t pos[CAUSE__COUNT];
    for (size_t i = 0; i < an_num_rules; i++) {
        pos[an_rules[i].cause] = i;
    }
    assert_true(pos[CAUSE_CAPTURE_INCOMPLETE] < pos[CAUSE_CONNECTION_REFUSED]);
    assert_true(pos[CAUSE_SERVER_TIMEOUT] < pos[CAUSE_PROTOCOL_VERSION_MISMATCH]);
    assert_true(pos[CAUSE_CERT_SELF_SIGNED] < pos[CAUSE_CERT_EXPIRED]);
}

// The certificate flag is read from the row, not from the enum's order: sni_missing is one,
// numbered after the certificate causes; sni_rejected, next to it, is not.
static void test_cert_flag_from_the_row(void **state) {
    (void)state;
    for (int c = CAUSE_CERT_EXPIRED; c <= CAUSE_CERT_WEAK_SIGNATURE; c++) {
        assert_true(rows[c].flags & CAUSE_F_CERT);
    }
    assert_true(rows[CAUSE_SNI_MISSING].flags & CAUSE_F_CERT);
    assert_false(rows[CAUSE_SNI_REJECTED].flags & CAUSE_F_CERT);
    assert_false(rows[CAUSE_NO_SHARED_CIPHER].flags & CAUSE_F_CERT);
    assert_true(rows[CAUSE_NO_SHARED_CIPHER].flags & CAUSE_F_PREDICTS);
    assert_false(rows[CAUSE_SERVER_RESET].flags & CAUSE_F_PREDICTS);
}

// ---------------------------------------------------------------------------------------------
// doc/causes.md, rendered from the table.
// ---------------------------------------------------------------------------------------------
static void cell(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|') {
            fputc('\\', f);
        }
        fputc(*s, f);
    }
}

// lines prints a cause's fix steps or dead ends with their {placeholders} as written.
static void lines(FILE *f, const char *title, char (*l)[VERDICT_TEXT], uint32_t n) {
    if (n == 0) {
        return;
    }
    fprintf(f, "\n%s\n\n", title);
    for (uint32_t i = 0; i < n; i++) {
        fprintf(f, "- %s\n", l[i]);
    }
}

static void render(FILE *f) {
    size_t order[CAUSE__COUNT] = {0};
    for (size_t i = 0, k = 0; i < an_num_rules; i++) {
        order[an_rules[i].cause] = an_rules[i].fn ? ++k : 0;
    }
    fputs(
        "# Cause ids\n"
        "\n"
        "<!-- Generated from analyze/causes.h by tests/unit/analyze/test_causes.c; do not edit.\n"
        "     Regenerate: TLSDIAG_UPDATE_CAUSES=1 build/tests/test_causes -->\n"
        "\n"
        "Every handshake verdict carries exactly one primary cause id from this list (more may be\n"
        "added; none may be renamed: scripts, dashboards and support tickets key on them). A\n"
        "verdict may also list secondary findings under other ids.\n"
        "\n"
        "*Rule* is the order the rules are tried in: the first that matches a failed handshake\n"
        "names its cause. *On success* says what a rule does with a handshake that succeeded: a\n"
        "*finding* (\"CloudFront would refuse\" only when the wire proves that no choice the\n"
        "profile's client offers could succeed with the server as seen — a key none of its\n"
        "schemes or suites can use, a renegotiation the server asks for; otherwise \"CloudFront\n"
        "might refuse\": one handshake shows the server's choice, not all it accepts), or, for a\n"
        "cause that depends only on the certificate the server sent, the *primary* cause marked\n"
        "predicted (a 502 waiting to happen). *fallback* rules run only when no earlier rule\n"
        "matched.\n"
        "\n"
        "| id | the handshake failed (or would fail for CloudFront) because | rule | on success "
        "| references |\n"
        "|---|---|---|---|---|\n",
        f);
    for (int c = 0; c < CAUSE__COUNT; c++) {
        const row *r = &rows[c];
        if (reserved(c)) {
            continue;
        }
        fprintf(f, "| `%s` | ", r->id);
        cell(f, r->meaning);
        if (order[c]) {
            fprintf(f, " | %zu | ", order[c]);
        } else {
            fputs(" | — | ", f);
        }
        fputs(r->flags & CAUSE_F_CERT       ? "primary"
              : r->flags & CAUSE_F_PREDICTS ? "finding"
              : r->flags & CAUSE_F_FALLBACK ? "— (fallback)"
                                            : "—",
              f);
        fputs(" | ", f);
        cell(f, r->refs[0] ? r->refs : "—");
        fputs(" |\n", f);
    }
    fputs(
        "\n## What to do\n\nThe fix steps and dead ends each verdict carries; the words in "
        "capitals "
        "(SNI,\nSERVER, PORT, ISSUER, ROOT, ORDER, VERSIONS, PROFILE, PROFILE_MAX, MISSING,\n"
        "PROFILE_VERSIONS) are filled per connection; PROFILE_MAX is the highest version the\n"
        "profile in use offers origins, PROFILE_VERSIONS all of them, MISSING the intermediate\n"
        "the server did not send.\n",
        f);
    // Shell-safe stand-ins: {sni}, {server} and {port} are quoted as shell words when they are
    // not, and the document shows the commands as they print for ordinary values.
    static const an_text_vars vars = {.sni = "SNI",
                                      .server = "SERVER",
                                      .port = "PORT",
                                      .issuer = "ISSUER",
                                      .root = "ROOT",
                                      .order = "ORDER",
                                      .versions = "VERSIONS",
                                      .profile = "PROFILE",
                                      .profile_max = "PROFILE_MAX",
                                      .profile_tls13 = false,
                                      .missing = "MISSING",
                                      .profile_versions = "PROFILE_VERSIONS"};
    an_text_vars edge = vars;  // the same texts when the client is CloudFront's
    edge.client_cloudfront = true;
    verdict *v = calloc(1, sizeof *v), *e = calloc(1, sizeof *e);
    assert_non_null(v);
    assert_non_null(e);
    for (int c = 0; c < CAUSE__COUNT; c++) {
        an_texts_fill((cause_id)c, &vars, v);
        an_texts_fill((cause_id)c, &edge, e);
        if (reserved(c) || (v->num_fix == 0 && v->num_dead_ends == 0)) {
            continue;
        }
        fprintf(f, "\n### `%s`\n", rows[c].id);
        lines(f, "Fix:", v->fix, v->num_fix);
        bool same = e->num_fix == v->num_fix;
        for (uint32_t i = 0; same && i < v->num_fix; i++) {
            same = strcmp(e->fix[i], v->fix[i]) == 0;
        }
        if (!same) {
            lines(f, "Fix when the client is CloudFront's:", e->fix, e->num_fix);
        }
        lines(f, "Dead ends:", v->dead_ends, v->num_dead_ends);
    }
    free(v);
    free(e);
}

static char *slurp(FILE *f, size_t *len) {
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    assert_non_null(m);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        fwrite(chunk, 1, n, m);
    }
    fclose(m);
    *len = cap;
    return buf;
}

static void test_causes_md_is_the_table(void **state) {
    (void)state;
    char *want = NULL;
    size_t want_len = 0;
    FILE *m = open_memstream(&want, &want_len);
    assert_non_null(m);
    render(m);
    fclose(m);
    const char *update = getenv("TLSDIAG_UPDATE_CAUSES");
    if (update && strcmp(update, "1") == 0) {
        FILE *out = fopen(CAUSES_MD, "w");
        assert_non_null(out);
        assert_int_equal(fwrite(want, 1, want_len, out), want_len);
        assert_int_equal(fclose(out), 0);
    }
    FILE *in = fopen(CAUSES_MD, "r");
    if (in == NULL) {
        fail_msg("%s is missing: run TLSDIAG_UPDATE_CAUSES=1 build/tests/test_causes", CAUSES_MD);
    }
    size_t have_len = 0;
    char *have = slurp(in, &have_len);
    fclose(in);
    if (have_len != want_len || memcmp(have, want, want_len) != 0) {
        fail_msg(
            "%s differs from analyze/causes.h: run TLSDIAG_UPDATE_CAUSES=1 "
            "build/tests/test_causes and commit it",
            CAUSES_MD);
    }
    free(have);
    free(want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_unique_and_round_trip),
        cmocka_unit_test(test_numbers_are_stable),
        cmocka_unit_test(test_one_rule_row_per_cause),
        cmocka_unit_test(test_cert_flag_from_the_row),
        cmocka_unit_test(test_causes_md_is_the_table),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
