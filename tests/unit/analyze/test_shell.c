// test_shell.c — analyze_shell_quote, the one quoting of every printed command, and
// analyze_host_name_problem, which keeps an SNI that is not a host name out of commands.
//
// Each quoted word is also run through /bin/sh (printf '%s\n' WORD) to prove that the shell
// reads it back as exactly the input and runs nothing else.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "an_fixtures.h"

static bool quote(const char *s, char *out, size_t outlen) {
    return analyze_shell_quote(s, strlen(s), out, outlen);
}

// round_trip: sh -c "printf '%s' WORD" prints s; no marker file appears.
static void round_trip(const char *s) {
    char q[1024], cmd[1200], marker[64];
    snprintf(marker, sizeof marker, "/tmp/tlsdiag-shell-%ld", (long)getpid());
    unlink(marker);
    assert_true(quote(s, q, sizeof q));
    snprintf(cmd, sizeof cmd, "cd /tmp && printf '%%s' %s", q);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char got[1024];
    size_t n = fread(got, 1, sizeof got - 1, p);
    got[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_string_equal(got, s);
    struct stat st;
    assert_int_not_equal(stat(marker, &st), 0);
}

// Plain words stay as they are; anything else is single-quoted, a quote written '\''.
static void test_words(void **state) {
    (void)state;
    static const char *const cases[][2] = {
        {"origin.example.com", "origin.example.com"},
        {"pcaps/ok.pcap", "pcaps/ok.pcap"},
        {"443", "443"},
        {"", "''"},
        {"o$(touch X).example.com", "'o$(touch X).example.com'"},
        {"x;touch X;#", "'x;touch X;#'"},
        {"a`id`b", "'a`id`b'"},
        {"it's", "'it'\\''s'"},
        {"\"dq\" & | > < * ? ~ ! { }", "'\"dq\" & | > < * ? ~ ! { }'"},
        {"[2001:db8::1]", "'[2001:db8::1]'"},        // a glob pattern unquoted
        {"caf\xc3\xa9.pcap", "'caf\xc3\xa9.pcap'"},  // UTF-8 is carried as is
    };
    char q[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(quote(cases[i][0], q, sizeof q));
        assert_string_equal(q, cases[i][1]);
    }
}

static void test_shell_reads_back_the_input(void **state) {
    (void)state;
    char marker[64];
    snprintf(marker, sizeof marker, "/tmp/tlsdiag-shell-%ld", (long)getpid());
    char s[256];
    // each: text before the marker path, text after it
    static const char *const forms[][2] = {
        {"o$(touch ", ").example.com"}, {"x;touch ", ";#"},    {"`touch ", "`"},
        {"'; touch ", "; '"},           {"\"$(touch ", ")\""}, {"a'\\''$(touch ", ")"},
        {"a\\'$(touch ", ")"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(s, sizeof s, "%s%s%s", forms[i][0], marker, forms[i][1]);
        round_trip(s);
    }
    round_trip("caf\xc3\xa9 \xe2\x80\xa6");
}

// NUL, newlines, other control bytes, DEL, C1 controls and invalid UTF-8 are refused: out is ""
// and no command may be built from it.
static void test_refused(void **state) {
    (void)state;
    char q[64];
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"a\0b.example.com", 15}, {"a\nb", 3},  {"a\rb", 3},
        {"a\x1b[2Jb", 7},         {"a\tb", 3},  {"a\x7f", 2},
        {"a\xc2\x9b", 3},         {"a\xff", 2}, {"a\xc0\x80", 3},
        {"\xed\xa0\x80", 3},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(q, "junk", 5);
        assert_false(analyze_shell_quote(bad[i].s, bad[i].n, q, sizeof q));
        assert_string_equal(q, "");
    }
}

// A word that does not fit is refused whole, never cut (a cut word can lose its closing quote).
static void test_never_cut(void **state) {
    (void)state;
    char q[8];
    assert_true(quote("a b c", q, sizeof q));  // 'a b c' + NUL = 8
    assert_string_equal(q, "'a b c'");
    assert_false(quote("a b c d", q, sizeof q));
    assert_string_equal(q, "");
    assert_false(quote("abcdefgh", q, sizeof q));
    assert_false(quote("a'b'c", q, sizeof q));
    assert_false(analyze_shell_quote("x", 1, q, 0));
}

static void test_host_names(void **state) {
    (void)state;
    assert_null(analyze_host_name_problem("origin.example.com", 18));
    assert_null(analyze_host_name_problem("a-b.x_y.example", 15));  // '_' accepted
    assert_null(analyze_host_name_problem("localhost", 9));
    static const struct {
        const char *s;
        size_t n;
        const char *why;
    } bad[] = {
        {"a\0b.example.com", 15, "contains a NUL byte"},
        {"o$(touch X).example.com", 23, "has a byte other than letters, digits, '-', '_' and '.'"},
        {"x;touch X;#", 11, "has a byte other than letters, digits, '-', '_' and '.'"},
        {"it's.example", 12, "has a byte other than letters, digits, '-', '_' and '.'"},
        {"a\nb", 3, "contains control bytes"},
        {"caf\xc3\xa9.example", 13, "is not ASCII"},
        {"example.com.", 12, "ends with a dot"},
        {"a..b", 4, "has an empty label"},
        {".a", 2, "has an empty label"},
        {"-a.example", 10, "has a label that starts or ends with '-'"},
        {"a-.example", 10, "has a label that starts or ends with '-'"},
        {"192.0.2.1", 9, "is an IPv4 address literal"},
        {"2001:db8::1", 11, "has a byte other than letters, digits, '-', '_' and '.'"},
        {"", 0, "is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = analyze_host_name_problem(bad[i].s, bad[i].n);
        assert_non_null(why);
        assert_string_equal(why, bad[i].why);
    }
    char label[70], name[300];
    memset(label, 'a', 64);
    label[64] = '\0';
    assert_string_equal(analyze_host_name_problem(label, 64), "has a label longer than 63 bytes");
    assert_null(analyze_host_name_problem(label, 63));
    // 4 labels of 63 + 3 dots = 255 > 253
    snprintf(name, sizeof name, "%.63s.%.63s.%.63s.%.63s", label, label, label, label);
    assert_string_equal(analyze_host_name_problem(name, strlen(name)), "is longer than 253 bytes");
    // The length is checked before the labels, even when a label is faulty too.
    snprintf(name, sizeof name, "%.63s..%.63s.%.63s.%.63s", label, label, label, label);
    assert_string_equal(analyze_host_name_problem(name, strlen(name)), "is longer than 253 bytes");
}

// A name with several problems is reported for the first in the order of the checks: bytes
// (NUL, control, non-ASCII), length, a trailing dot, then the labels and any other byte from
// the left.
// Letters, digits, '-', '_' and dots take a one-walk path; these pin that it keeps the order.
static void test_host_name_problem_order(void **state) {
    (void)state;
    static const struct {
        const char *s;
        const char *why;  // NULL: a host name
    } cases[] = {
        {"A-Z.Example_1.COM", NULL},
        {"1.2.3", NULL},  // digits and dots, but not an address inet_pton reads
        {"10.0.0.1", "is an IPv4 address literal"},
        {"1a.2.3.4", NULL},
        {"a..b.", "ends with a dot"},
        {"a..-b", "has an empty label"},
        {"-a..b", "has a label that starts or ends with '-'"},
        {"a.b-", "has a label that starts or ends with '-'"},
        {"a..b\x01", "contains control bytes"},
        {"a..b\x7f", "contains control bytes"},
        {"-a.b\xc3\xa9", "is not ASCII"},
        {"a..b@", "has an empty label"},  // labels and other bytes: from the left
        {"a@b..c", "has a byte other than letters, digits, '-', '_' and '.'"},
        {"@b.c", "has a byte other than letters, digits, '-', '_' and '.'"},
        {"[b.c", "has a byte other than letters, digits, '-', '_' and '.'"},
        {"`b.c", "has a byte other than letters, digits, '-', '_' and '.'"},
        {"{b.c", "has a byte other than letters, digits, '-', '_' and '.'"},
        {"b/c", "has a byte other than letters, digits, '-', '_' and '.'"},
        {"b:c", "has a byte other than letters, digits, '-', '_' and '.'"},
        {".", "ends with a dot"},
        {"-", "has a label that starts or ends with '-'"},
        {"_", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = analyze_host_name_problem(cases[i].s, strlen(cases[i].s));
        if (cases[i].why == NULL) {
            assert_null(why);
        } else {
            assert_non_null(why);
            assert_string_equal(why, cases[i].why);
        }
    }
    char label[64];
    memset(label, 'b', 63);
    label[63] = '\0';
    char name[200];
    // a label of 64 bytes after an empty one: the empty label, the first, is reported
    snprintf(name, sizeof name, "a..%sb", label);
    assert_string_equal(analyze_host_name_problem(name, strlen(name)), "has an empty label");
    snprintf(name, sizeof name, "a.%sb..c", label);
    assert_string_equal(analyze_host_name_problem(name, strlen(name)),
                        "has a label longer than 63 bytes");
}

// reset_verdict: a ClientHello with sni (len bytes; wire length wire_len), answered by a RST.
static verdict *reset_verdict(analyzer *a, const char *sni, size_t len, uint16_t wire_len) {
    fx x = fx_new();
    fx_synack(&x);
    fx_client_hello(&x, "placeholder");
    memcpy(x.t->ch.sni, sni, len);
    x.t->ch.sni[len] = '\0';
    x.t->ch.sni_len = wire_len;
    fx_close(&x, TLS_DIR_S2C, true, 1);
    verdict *v = analyzer_run(a, x.t);
    fx_free(&x);
    assert_non_null(v);
    return v;
}

// The check command and the fix steps built by the analyzer: a valid SNI is sent as is, one that
// is not a host name (injections, NUL, too long) never appears in them and is flagged.
// server_verdict: reset_verdict's handshake to 192.0.2.last:port with sni (a C string).
static verdict *server_verdict(analyzer *a, uint8_t last, uint16_t port, const char *sni) {
    fx x = fx_new();
    x.t->server.addr[3] = last;
    x.t->server.port = port;
    fx_synack(&x);
    fx_client_hello(&x, sni);
    fx_close(&x, TLS_DIR_S2C, true, 1);
    verdict *v = analyzer_run(a, x.t);
    fx_free(&x);
    assert_non_null(v);
    return v;
}

// The analyzer keeps the last check commands it made: each verdict still gets its own server's
// and SNI's command when servers, ports, names and invalid names interleave, and more of them
// than it keeps.
static void test_check_command_kept(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    static const char *const names[] = {"a.example.com", "b.example.com", "a.example.co"};
    for (int round = 0; round < 3; round++) {
        for (uint8_t i = 1; i <= 11; i++) {
            for (size_t n = 0; n < 4; n++) {  // the 4th: the first name on the next port
                uint16_t port = (uint16_t)((round == 2 ? 8443 : 443) + (n == 3));
                verdict *v = server_verdict(a, i, port, names[n % 3]);
                char want[200];
                snprintf(want, sizeof want,
                         "openssl s_client -connect 192.0.2.%u:%u -servername %s -showcerts", i,
                         port, names[n % 3]);
                assert_string_equal(v->check_command, want);
                verdict_free(v);
            }
            verdict *v = reset_verdict(a, "a\0b.example.com", 15, 15);  // "a" before the NUL
            assert_non_null(strstr(v->check_command, "-noservername"));
            verdict_free(v);
            v = reset_verdict(a, "a", 1, 1);
            assert_non_null(strstr(v->check_command, "-servername a -showcerts"));
            verdict_free(v);
        }
    }
    analyzer_free(a);
}

static void test_check_command(void **state) {
    (void)state;
    analyzer *a = fx_analyzer("cloudfront");
    verdict *v = reset_verdict(a, "origin.example.com", 18, 18);
    assert_null(v->sni_problem);
    assert_non_null(strstr(v->check_command, "-servername origin.example.com -showcerts"));
    verdict_free(v);
    static const struct {
        const char *sni;
        size_t len;
        uint16_t wire_len;
        const char *why;
    } bad[] = {
        {"o$(touch X).example.com", 23, 23,
         "has a byte other than letters, digits, '-', '_' and '.'"},
        {"a\0b.example.com", 15, 15, "contains a NUL byte"},
        {"long.example.com", 16, 300, "is longer than 253 bytes"},  // cut by the dissector
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = reset_verdict(a, bad[i].sni, bad[i].len, bad[i].wire_len);
        assert_int_equal(v->cause, CAUSE_SERVER_RESET);
        assert_string_equal(v->sni_problem, bad[i].why);
        assert_int_equal(verdict_sni_kept(v),
                         bad[i].len < 255 && bad[i].wire_len < 255 ? bad[i].len : 255);
        assert_non_null(strstr(
            v->check_command, "-noservername -showcerts  # the SNI sent is not a valid host name"));
        assert_null(strstr(v->check_command, "touch"));
        for (uint32_t k = 0; k < v->num_fix; k++) {
            assert_null(strstr(v->fix[k], "touch"));
            assert_null(strstr(v->fix[k], "-servername a "));
        }
        const char *flag = fx_evidence(v, "sni_invalid");
        assert_non_null(flag);
        assert_non_null(strstr(flag, bad[i].why));
        verdict_free(v);
    }
    analyzer_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),         cmocka_unit_test(test_shell_reads_back_the_input),
        cmocka_unit_test(test_refused),       cmocka_unit_test(test_never_cut),
        cmocka_unit_test(test_host_names),    cmocka_unit_test(test_host_name_problem_order),
        cmocka_unit_test(test_check_command), cmocka_unit_test(test_check_command_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
