// test_conf.c — the config tokenizers of doctor/ (nginx, Apache, HAProxy): words, quotes,
// comments, blocks, line numbers, includes (relative, globs, loops, missing files) and the
// bounds; then the TLS sites found in small configurations.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "doctor_internal.h"

static char dir[256];

static void put(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tlsdiag-conf.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[300];
    snprintf(sub, sizeof sub, "%s/conf.d", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/sites", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static dr_conf *parse_text(dr_text_fn *fn, const char *text) {
    dr_conf *c = malloc(sizeof *c);
    dr_conf_init(c, dir);
    dr_node **tail = &c->root;
    fn(c, "test.conf", text, strlen(text), &tail);
    return c;
}

static void done(dr_conf *c) {
    dr_conf_free(c);
    free(c);
}

static bool has_problem(const dr_conf *c, const char *part) {
    for (uint32_t i = 0; i < c->num_problems; i++) {
        if (strstr(c->problems[i], part)) {
            return true;
        }
    }
    return false;
}

static void nginx_words_quotes_comments_lines(void **state) {
    (void)state;
    dr_conf *c = parse_text(dr_nginx_text,
                            "# comment ; { }\n"
                            "user  www-data;\n"
                            "http {\n"
                            "    ssl_ciphers \"ECDHE-RSA-AES128-GCM-SHA256 # not a comment;\";\n"
                            "    add_header X 'a\\'b';  # trailing\n"
                            "    server\n"
                            "    {\n"
                            "        server_name a.example\n"
                            "                    b.example;\n"
                            "    }\n"
                            "}\n");
    assert_int_equal(c->num_problems, 0);
    const dr_node *user = c->root;
    assert_string_equal(user->name, "user");
    assert_int_equal(user->line, 2);
    assert_string_equal(dr_arg(user, 0), "www-data");
    const dr_node *http = user->next;
    assert_true(http->block);
    assert_int_equal(http->line, 3);
    const dr_node *ciphers = http->child;
    assert_string_equal(dr_arg(ciphers, 0), "ECDHE-RSA-AES128-GCM-SHA256 # not a comment;");
    assert_int_equal(ciphers->line, 4);
    assert_string_equal(dr_arg(ciphers->next, 1), "a'b");
    const dr_node *server = ciphers->next->next;
    assert_true(server->block);
    assert_int_equal(server->line, 6);
    const dr_node *names = server->child;
    assert_int_equal(names->line, 8);
    assert_int_equal(names->nargs, 2);
    assert_string_equal(dr_arg(names, 1), "b.example");
    done(c);
}

static void nginx_malformed(void **state) {
    (void)state;
    dr_conf *c = parse_text(dr_nginx_text, "http {\n  listen 443\n");
    assert_true(has_problem(c, "test.conf:2: directive \"listen\" is not terminated"));
    done(c);
    c = parse_text(dr_nginx_text, "a \"open\n\n");
    assert_true(has_problem(c, "test.conf:1: directive \"a\" has an unterminated quoted string"));
    done(c);
    c = parse_text(dr_nginx_text, "}\nb;\n");
    assert_true(has_problem(c, "test.conf:1: unexpected \"}\""));
    assert_string_equal(c->root->name, "b");
    done(c);
    // a NUL byte inside or as a word: consumed (it once made the tokenizer loop forever)
    static const char nul[] = "a \0b;\n\0";
    c = malloc(sizeof *c);
    dr_conf_init(c, dir);
    dr_node **tail = &c->root;
    dr_nginx_text(c, "test.conf", nul, sizeof nul - 1, &tail);
    assert_string_equal(c->root->name, "a");
    assert_int_equal(c->root->nargs, 1);
    done(c);
    // nesting beyond the bound: refused, not a stack overflow
    char deep[4096] = "";
    for (int i = 0; i < 1000; i++) {
        strcat(deep, "a{");
    }
    c = parse_text(dr_nginx_text, deep);
    assert_true(has_problem(c, "nested deeper than"));
    done(c);
    // more arguments than kept: the rest is dropped, said once
    char many[2048] = "x";
    for (int i = 0; i < DR_MAX_ARGS + 10; i++) {
        strcat(many, " y");
    }
    strcat(many, ";");
    c = parse_text(dr_nginx_text, many);
    assert_int_equal(c->root->nargs, DR_MAX_ARGS);
    assert_int_equal(c->num_problems, 1);
    done(c);
}

static void nginx_includes(void **state) {
    (void)state;
    put("conf.d/a.conf", "server {\n    listen 443 ssl;\n}\n");
    put("conf.d/b.conf", "\n\nserver_tokens off;\n");
    put("loop1.conf", "include loop2.conf;\n");
    put("loop2.conf", "x 1;\ninclude loop1.conf;\n");
    put("main.conf",
        "http {\n    include conf.d/*.conf;\n    include missing.conf;\n    include "
        "loop1.conf;\n}\n");
    char main[300];
    snprintf(main, sizeof main, "%s/main.conf", dir);
    dr_conf c;
    dr_conf_init(&c, dir);
    assert_true(dr_read_main(&c, dr_nginx_text, main));
    const dr_node *http = c.root;
    const dr_node *server = http->child;  // from conf.d/a.conf, in glob order
    assert_string_equal(server->name, "server");
    assert_non_null(strstr(server->file, "conf.d/a.conf"));
    assert_int_equal(server->child->line, 2);
    const dr_node *tokens = server->next;  // conf.d/b.conf line 3
    assert_string_equal(tokens->name, "server_tokens");
    assert_int_equal(tokens->line, 3);
    assert_non_null(strstr(tokens->file, "conf.d/b.conf"));
    assert_string_equal(tokens->next->name, "x");  // loop1 → loop2's x, then the loop stops
    assert_null(tokens->next->next);
    assert_true(has_problem(&c, "main.conf:3: included file"));
    assert_true(has_problem(&c, "missing.conf"));
    assert_true(has_problem(&c, "include loop"));
    dr_conf_free(&c);

    dr_conf_init(&c, dir);
    snprintf(main, sizeof main, "%s/nope.conf", dir);
    assert_false(dr_read_main(&c, dr_nginx_text, main));
    assert_true(has_problem(&c, "nope.conf: cannot read"));
    dr_conf_free(&c);
}

static void nginx_dump_split(void **state) {
    (void)state;
    char text[] =
        "nginx: syntax is ok\n"
        "# configuration file /etc/nginx/nginx.conf:\n"
        "http {\n  include conf.d/*.conf;\n}\n\n"
        "# configuration file /etc/nginx/conf.d/a.conf:\n"
        "server_tokens off;\n";
    dr_vfile vf[4];
    assert_int_equal(dr_nginx_dump(text, strlen(text), vf, 4), 2);
    assert_string_equal(vf[0].path, "/etc/nginx/nginx.conf");
    assert_int_equal(vf[0].len, strlen("http {\n  include conf.d/*.conf;\n}\n\n"));
    assert_string_equal(vf[1].path, "/etc/nginx/conf.d/a.conf");
    dr_conf c;
    dr_conf_init(&c, "/etc/nginx");
    c.vfiles = vf;
    c.num_vfiles = 2;
    assert_true(dr_read_main(&c, dr_nginx_text, "/etc/nginx/nginx.conf"));
    const dr_node *tokens = c.root->child;  // the include, expanded from the dump
    assert_string_equal(tokens->name, "server_tokens");
    assert_string_equal(tokens->file, "/etc/nginx/conf.d/a.conf");
    assert_int_equal(tokens->line, 1);
    assert_int_equal(c.num_problems, 0);
    dr_conf_free(&c);
}

static void apache_grammar(void **state) {
    (void)state;
    dr_conf *c = parse_text(dr_apache_text,
                            "# comment\n"
                            "ServerRoot \"/srv/apache\"\n"
                            "<IfModule mod_ssl.c>\n"
                            "  SSLProtocol all \\\n"
                            "      -TLSv1 -TLSv1.1\n"
                            "</IfModule>\n"
                            "<VirtualHost *:443>\n"
                            "  ServerName \"origin.example\"\n"
                            "  SSLEngine on\n"
                            "</VirtualHost>\n"
                            "</Stray>\n"
                            "<Directory /x>\n");
    assert_string_equal(c->prefix, "/srv/apache");
    const dr_node *ifm = c->root->next;
    assert_true(ifm->block);
    assert_string_equal(dr_arg(ifm, 0), "mod_ssl.c");
    const dr_node *proto = ifm->child;
    assert_int_equal(proto->line, 4);  // a continued line is named by its first line
    assert_int_equal(proto->nargs, 3);
    assert_int_equal(dr_versions_parse(proto, 0), DOCTOR_V_TLS1_2 | DOCTOR_V_TLS1_3);
    const dr_node *vh = ifm->next;
    assert_string_equal(vh->name, "VirtualHost");
    assert_string_equal(dr_arg(vh, 0), "*:443");
    assert_string_equal(dr_arg(vh->child, 0), "origin.example");
    assert_true(has_problem(c, "test.conf:11: </Stray> without matching section start"));
    assert_true(has_problem(c, "test.conf:12: <Directory> is not closed"));
    done(c);
}

static void apache_includes(void **state) {
    (void)state;
    put("sites/site.conf", "<VirtualHost 127.0.0.1:8443>\n  SSLEngine on\n</VirtualHost>\n");
    put("httpd.conf", "IncludeOptional nothing/*.conf\nInclude sites/\nInclude absent.conf\n");
    char main[300];
    snprintf(main, sizeof main, "%s/httpd.conf", dir);
    dr_conf c;
    dr_conf_init(&c, dir);
    assert_true(dr_read_main(&c, dr_apache_text, main));
    assert_string_equal(c.root->name, "VirtualHost");  // a directory: every file in it
    assert_int_equal(c.num_problems, 1);               // IncludeOptional: silent when empty
    assert_true(has_problem(&c, "httpd.conf:3: included file"));
    dr_sites *s = calloc(1, sizeof *s);
    dr_apache_sites(&c, s);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->v[0].port, 8443);
    assert_string_equal(s->v[0].addr, "127.0.0.1");
    free(s);
    dr_conf_free(&c);
}

static void haproxy_grammar(void **state) {
    (void)state;
    dr_conf *c = parse_text(dr_haproxy_text,
                            "global\n"
                            "    ssl-default-bind-ciphers ECDHE-RSA-AES128-GCM-SHA256 # comment\n"
                            "\n"
                            "frontend fe\n"
                            "    bind :443 ssl crt \"/etc/my certs/a.pem\" crt-list 'b c'\n"
                            "    http-request set-header X a\\ b\n");
    const dr_node *g = c->root;
    assert_true(g->block);
    assert_int_equal(g->child->nargs, 1);
    const dr_node *fe = g->next;
    assert_string_equal(dr_arg(fe, 0), "fe");
    const dr_node *bind = fe->child;
    assert_int_equal(bind->line, 5);
    assert_string_equal(dr_arg(bind, 3), "/etc/my certs/a.pem");
    assert_string_equal(dr_arg(bind, 5), "b c");
    assert_string_equal(dr_arg(bind->next, 2), "a b");
    done(c);
}

static void nginx_sites_inherit(void **state) {
    (void)state;
    dr_conf *c = parse_text(dr_nginx_text,
                            "http {\n"
                            "  ssl_protocols TLSv1.3;\n"
                            "  ssl_certificate certs/site.pem;\n"
                            "  server { listen 80; server_name plain.example; }\n"
                            "  server {\n"
                            "    listen [::1]:8443 ssl;\n"
                            "    server_name _ *.wild.example www.example;\n"
                            "    ssl_verify_client on;\n"
                            "  }\n"
                            "}\n");
    dr_sites *s = calloc(1, sizeof *s);
    dr_nginx_sites(c, s);
    assert_int_equal(s->n, 1);  // the plain-HTTP server is not a TLS site
    const dr_site *site = &s->v[0];
    assert_int_equal(site->line, 5);
    assert_int_equal(site->port, 8443);
    assert_string_equal(site->addr, "[::1]");
    assert_string_equal(site->name, "www.example");
    assert_int_equal(site->versions, DOCTOR_V_TLS1_3);
    assert_int_equal(site->versions_d->line, 2);  // inherited from http { }
    char want[600];
    snprintf(want, sizeof want, "%s/certs/site.pem", dir);
    assert_string_equal(site->cert, want);  // relative: from the main file's folder
    assert_true(site->verify_required);
    free(s);
    done(c);
}

static void haproxy_sites_defaults(void **state) {
    (void)state;
    dr_conf *c = parse_text(dr_haproxy_text,
                            "global\n"
                            "  crt-base /etc/ssl/private\n"
                            "  ssl-default-bind-options ssl-min-ver TLSv1.3\n"
                            "frontend fe\n"
                            "  bind 127.0.0.1:8443 ssl crt site.pem verify required strict-sni\n"
                            "  bind :80\n");
    dr_sites *s = calloc(1, sizeof *s);
    dr_haproxy_sites(c, s);
    assert_int_equal(s->n, 1);
    assert_string_equal(s->v[0].cert, "/etc/ssl/private/site.pem");
    assert_int_equal(s->v[0].versions, DOCTOR_V_TLS1_3);
    assert_int_equal(s->v[0].versions_d->line, 3);
    assert_true(s->v[0].verify_required);
    assert_true(s->v[0].rejects_sni);
    free(s);
    done(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nginx_words_quotes_comments_lines),
        cmocka_unit_test(nginx_malformed),
        cmocka_unit_test(nginx_includes),
        cmocka_unit_test(nginx_dump_split),
        cmocka_unit_test(apache_grammar),
        cmocka_unit_test(apache_includes),
        cmocka_unit_test(haproxy_grammar),
        cmocka_unit_test(nginx_sites_inherit),
        cmocka_unit_test(haproxy_sites_defaults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
