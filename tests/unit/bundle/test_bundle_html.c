// test_bundle_html.c — report.html and report.md escape every string from the wire.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle_internal.h"

static void test_escape_html(void **state) {
    (void)state;
    bbuf b = {0};
    bbuf_html(&b, "<b>&\"'\x01\xff");
    assert_string_equal(b.p, "&lt;b&gt;&amp;&quot;&#39;\\x01\\xff");
    bbuf_free(&b);
    bbuf_md(&b, "a_b*c<d>`e`|");
    assert_string_equal(b.p, "a_b\\*c\\<d\\>\\`e\\`\\|");  // a_b: intraword, stays bare
    bbuf_free(&b);
    bbuf_md(&b, "_x_ s_client y_ _z");  // emphasis-capable underscores are still escaped
    assert_string_equal(b.p, "\\_x\\_ s_client y\\_ \\_z");
    bbuf_free(&b);
}

// A hostile SNI and certificate subject reach the page only escaped.
static void test_hostile_strings(void **state) {
    (void)state;
    bundle_run r;
    memset(&r, 0, sizeof r);
    bundle_conn c;
    memset(&c, 0, sizeof c);
    c.v = calloc(1, sizeof *c.v);
    assert_non_null(c.v);
    verdict *v = c.v;
    v->client.family = v->server.family = 4;
    v->server.port = 443;
    v->cause = CAUSE_CERT_NAME_MISMATCH;
    v->outcome = OUTCOME_FAILED;
    v->has_sni = true;
    snprintf(v->sni, sizeof v->sni, "<script>alert(1)</script>.example");
    snprintf(v->summary, sizeof v->summary, "name \"<img src=x onerror=alert(2)>\"");
    v->num_certs = 1;
    snprintf(v->certs[0].subject, sizeof v->certs[0].subject, "CN=<iframe src=//evil>");
    v->num_fix = 1;
    snprintf(v->fix[0], sizeof v->fix[0], "use </pre><script>");
    tls_event ev[2];
    memset(ev, 0, sizeof ev);
    ev[0].kind = TLS_EV_HANDSHAKE;
    ev[0].hs_type = 1;
    ev[0].frame = 1;
    ev[1].kind = TLS_EV_ALERT;
    ev[1].dir = TLS_DIR_C2S;
    ev[1].alert_level = 2;
    ev[1].alert_desc = 42;
    ev[1].frame = 2;
    c.events = ev;
    c.num_events = 2;
    v->has_alert = true;
    v->alert_frame = 2;
    r.conns = &c;
    r.num_conns = 1;
    summary s;
    memset(&s, 0, sizeof s);
    bundle_doc d = {&r, &s, "cloudfront test", "store <x>", false, false, 0, NULL};
    bbuf b = {0};
    bundle_html(&d, &b);
    assert_false(b.oom);
    assert_null(strstr(b.p, "<script"));
    assert_null(strstr(b.p, "<img"));
    assert_null(strstr(b.p, "<iframe"));
    assert_null(strstr(b.p, "store <x>"));
    assert_non_null(strstr(b.p, "&lt;script&gt;alert(1)&lt;/script&gt;.example"));
    assert_non_null(strstr(b.p, "class=\"arrow alert break\" data-frame=\"2\""));
    bbuf_free(&b);
    bundle_markdown(&d, &b);
    // Markdown: every '<' of wire text is backslash-escaped (rendered as text, never as HTML)
    for (const char *p = b.p; (p = strchr(p, '<')) != NULL; p++) {
        if (strncmp(p, "<== broke here", 14) != 0) {
            assert_true(p > b.p && p[-1] == '\\');
        }
    }
    assert_non_null(strstr(b.p, "\\<script\\>alert(1)\\</script\\>.example"));
    assert_non_null(strstr(b.p, "<== broke here"));
    bbuf_free(&b);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_html),
        cmocka_unit_test(test_hostile_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
