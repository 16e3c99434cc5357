// test_wireshark.c — report/'s Wireshark hand-off: display filters (IPv4, IPv6), shell quoting,
// the "wireshark" object in JSON, the -v filter line and the --wireshark command lines.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "report.h"

typedef struct capture {
    FILE *f;
    char *buf;
    size_t len;
} capture;

static report *open_report(capture *c, report_options o) {
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    o.out = c->f;
    report *r = report_new(&o);
    assert_non_null(r);
    return r;
}

static void close_capture(capture *c, report *r) {
    assert_false(report_write_failed(r));
    report_free(r);
    assert_int_equal(fclose(c->f), 0);
}

static verdict *failed_verdict(void) {
    verdict *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->conn_id = 7;
    v->client = (tls_endpoint){.family = 4, .addr = {15, 158, 1, 2}, .port = 40000};
    v->server = (tls_endpoint){.family = 4, .addr = {203, 0, 113, 9}, .port = 443};
    v->outcome = OUTCOME_FAILED;
    v->cause = CAUSE_CERT_EXPIRED;
    snprintf(v->summary, sizeof v->summary, "the leaf certificate expired");
    return v;
}

static void test_filter_ipv4(void **state) {
    (void)state;
    verdict *v = failed_verdict();
    char f[REPORT_WIRESHARK_FILTER_LEN];
    report_wireshark_filter(&v->client, &v->server, f);
    assert_string_equal(f,
                        "ip.addr==15.158.1.2 && ip.addr==203.0.113.9 && tcp.port==40000 && "
                        "tcp.port==443");
    free(v);
}

static void test_filter_ipv6_longest(void **state) {
    (void)state;
    // The longest textual IPv6 addresses and ports must fit without truncation.
    tls_endpoint a = {.family = 6, .port = 65535}, b = {.family = 6, .port = 65534};
    memset(a.addr, 0xff, 16);
    memset(b.addr, 0xfe, 16);
    a.addr[10] = 0x12;  // no :: compression anywhere
    char f[REPORT_WIRESHARK_FILTER_LEN];
    report_wireshark_filter(&a, &b, f);
    assert_string_equal(f,
                        "ipv6.addr==ffff:ffff:ffff:ffff:ffff:12ff:ffff:ffff && "
                        "ipv6.addr==fefe:fefe:fefe:fefe:fefe:fefe:fefe:fefe && tcp.port==65535 && "
                        "tcp.port==65534");
    tls_endpoint c = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8}, .port = 443};
    c.addr[15] = 1;
    report_wireshark_filter(&c, &c, f);
    assert_string_equal(f,
                        "ipv6.addr==2001:db8::1 && ipv6.addr==2001:db8::1 && tcp.port==443 && "
                        "tcp.port==443");
}

// A capture file name no pasted command can carry (a newline would end the command there and
// run the rest; an escape sequence rewrites the terminal): no command, and a line saying why.
static void test_commands_refuse_control_bytes(void **state) {
    (void)state;
    verdict *v = failed_verdict();
    const char *names[] = {"a\ntouch /tmp/x.pcap", "a\x1b[2Jb.pcap", "a\xff.pcap"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        capture c;
        const char *one[] = {names[i]};
        report *r = open_report(
            &c,
            (report_options){
                .format = REPORT_TEXT, .wireshark_commands = true, .files = one, .num_files = 1});
        assert_true(report_verdict(r, v));
        close_capture(&c, r);
        assert_null(strstr(c.buf, "wireshark -r"));
        assert_null(strstr(c.buf, "touch"));
        assert_null(strchr(c.buf, '\x1b'));
        assert_non_null(strstr(c.buf, "(no wireshark command: a capture file name holds control"));
        free(c.buf);
    }
    free(v);
}

static void test_json_stream_known_and_unknown(void **state) {
    (void)state;
    verdict *v = failed_verdict();
    for (int known = 0; known < 2; known++) {
        capture c;
        report *r =
            open_report(&c, (report_options){.format = REPORT_JSON, .stream_is_tcp_stream = known});
        assert_true(report_verdict(r, v));
        close_capture(&c, r);
        json_error_t err;
        json_t *j = json_loads(c.buf, 0, &err);
        assert_non_null(j);
        json_t *ws = json_object_get(j, "wireshark");
        assert_true(json_is_object(ws));
        assert_string_equal(json_string_value(json_object_get(ws, "filter")),
                            "ip.addr==15.158.1.2 && ip.addr==203.0.113.9 && tcp.port==40000 && "
                            "tcp.port==443");
        json_t *s = json_object_get(ws, "stream");
        if (known) {
            assert_true(json_is_integer(s));
            assert_int_equal(json_integer_value(s), 7);
        } else {
            assert_true(json_is_null(s));
        }
        json_decref(j);
        free(c.buf);
    }
    free(v);
}

static void test_text_verbose_filter_line(void **state) {
    (void)state;
    verdict *v = failed_verdict();
    capture c;
    report *r = open_report(
        &c, (report_options){
                .format = REPORT_TEXT, .verbosity = REPORT_VERBOSE, .stream_is_tcp_stream = true});
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf,
                           "\n      wireshark: tcp.stream eq 7  (ip.addr==15.158.1.2 && "
                           "ip.addr==203.0.113.9 && tcp.port==40000 && tcp.port==443)\n"));
    free(c.buf);
    // Not verbose, no --wireshark: the one line only.
    r = open_report(&c, (report_options){.format = REPORT_TEXT, .stream_is_tcp_stream = true});
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_null(strstr(c.buf, "wireshark"));
    free(c.buf);
    free(v);
}

static void test_text_commands(void **state) {
    (void)state;
    verdict *v = failed_verdict();
    capture c;
    const char *one[] = {"incident 1.pcap"};
    report *r = open_report(&c, (report_options){.format = REPORT_TEXT,
                                                 .stream_is_tcp_stream = true,
                                                 .wireshark_commands = true,
                                                 .files = one,
                                                 .num_files = 1});
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf,
                           "\n      wireshark -r 'incident 1.pcap' -Y 'tcp.stream eq 7'\n"
                           "      tshark -r 'incident 1.pcap' -Y 'tcp.stream eq 7'\n"));
    free(c.buf);

    // A filtered read: the stream index is not the file's, so the address filter is used.
    r = open_report(
        &c, (report_options){
                .format = REPORT_TEXT, .wireshark_commands = true, .files = one, .num_files = 1});
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf,
                           "      tshark -r 'incident 1.pcap' -Y 'ip.addr==15.158.1.2 && "
                           "ip.addr==203.0.113.9 && tcp.port==40000 && tcp.port==443'\n"));
    free(c.buf);

    // Several files: merged like tlsdiag merges them.
    const char *two[] = {"a.pcap", "b c.pcapng"};
    r = open_report(
        &c, (report_options){
                .format = REPORT_TEXT, .wireshark_commands = true, .files = two, .num_files = 2});
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_non_null(strstr(c.buf,
                           "      mergecap -w - a.pcap 'b c.pcapng' | tshark -r - -Y "
                           "'ip.addr==15.158.1.2 && ip.addr==203.0.113.9 && "
                           "tcp.port==40000 && tcp.port==443'\n"));
    free(c.buf);

    // A succeeded handshake gets no command, even verbose.
    v->outcome = OUTCOME_SUCCEEDED;
    v->cause = CAUSE_OK;
    r = open_report(&c, (report_options){.format = REPORT_TEXT,
                                         .verbosity = REPORT_VERBOSE,
                                         .wireshark_commands = true,
                                         .files = one,
                                         .num_files = 1});
    assert_true(report_verdict(r, v));
    close_capture(&c, r);
    assert_null(strstr(c.buf, "tshark -r"));
    free(c.buf);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_ipv4),
        cmocka_unit_test(test_filter_ipv6_longest),
        cmocka_unit_test(test_commands_refuse_control_bytes),
        cmocka_unit_test(test_json_stream_known_and_unknown),
        cmocka_unit_test(test_text_verbose_filter_line),
        cmocka_unit_test(test_text_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
