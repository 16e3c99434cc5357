// bundle.c — bundle_write: the members of the ticket bundle and the archive that holds them.
//
// Every member is built in memory (sizes are bounded by --max-connections), rewritten by the
// anonymizer when asked, then written with libarchive (ustar + gzip) into a temporary file
// beside the target, which is renamed only when everything succeeded.
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libnet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle_internal.h"
#include "larchive.h"
#include "report.h"

bool bundle_parse_key(const char *s, uint8_t key[BUNDLE_KEY_LEN]) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0) {
        return false;
    }
    bool hex = n == 2 * BUNDLE_KEY_LEN;
    for (size_t i = 0; hex && i < n; i++) {
        hex = strchr("0123456789abcdefABCDEF", s[i]) != NULL;
    }
    if (hex) {
        for (size_t i = 0; i < BUNDLE_KEY_LEN; i++) {
            unsigned v = 0;
            if (sscanf(s + 2 * i, "%2x", &v) != 1) {
                return false;
            }
            key[i] = (uint8_t)v;
        }
        return true;
    }
    unsigned int len = 0;
    return EVP_Digest(s, n, key, &len, EVP_sha256(), NULL) == 1 && len == BUNDLE_KEY_LEN;
}

// ---------------------------------------------------------------------------------------------
// Inputs: files as given; a directory (a capture run's output) stands for its captures.
// ---------------------------------------------------------------------------------------------
typedef struct file_list {
    char **v;
    size_t n, cap;
} file_list;

static bool fl_add(file_list *f, const char *s) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 8;
        char **p = realloc(f->v, cap * sizeof *p);
        if (p == NULL) {
            return false;
        }
        f->v = p;
        f->cap = cap;
    }
    f->v[f->n] = strdup(s);
    return f->v[f->n++] != NULL;
}

static void fl_free(file_list *f) {
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i]);
    }
    free(f->v);
}

// is_capture_name: *.pcap, *.pcapng, *.cap, and the numbered files of a capture ring or
// rotation (tcpdump -C/-W style: "edge.pcap0", "edge.pcap17").
static bool is_capture_name(const char *n) {
    const char *ext[] = {".pcapng", ".pcap", ".cap"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        const char *p = strstr(n, ext[i]);
        while (p != NULL) {
            const char *q = p + strlen(ext[i]);
            while (*q >= '0' && *q <= '9') {
                q++;
            }
            if (*q == '\0' && p > n) {
                return true;
            }
            p = strstr(p + 1, ext[i]);
        }
    }
    return false;
}

static int str_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool expand_inputs(const bundle_options *o, file_list *out, char *err, size_t errlen) {
    for (size_t i = 0; i < o->num_inputs; i++) {
        struct stat st;
        if (stat(o->inputs[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (!fl_add(out, o->inputs[i])) {
                return false;
            }
            continue;
        }
        DIR *d = opendir(o->inputs[i]);
        if (d == NULL) {
            snprintf(err, errlen, "%s: %s", o->inputs[i], strerror(errno));
            return false;
        }
        size_t first = out->n;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' || !is_capture_name(e->d_name)) {
                continue;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", o->inputs[i], e->d_name);
            if (!fl_add(out, path)) {
                closedir(d);
                return false;
            }
        }
        closedir(d);
        if (out->n == first) {
            snprintf(err, errlen, "%s: a directory without captures (*.pcap, *.pcapng)",
                     o->inputs[i]);
            return false;
        }
        qsort(out->v + first, out->n - first, sizeof *out->v, str_cmp);
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------------
typedef struct member {
    char name[32];
    bbuf b;
} member;

enum { MAX_MEMBERS = 6 + BUNDLE_DEFAULT_MAX_CONNECTIONS * 0 + 64 };

// remember_names: the SNI and the leaf certificate's names (CN, DNS SANs), for --redact-names.
// remember_names: the SNI, and every identifier of every certificate of the chain (the CAs'
// too: a chain's intermediates narrow the search as much as the leaf's own names).
static void remember_names(anon *an, const verdict *v) {
    if (v->has_sni) {
        anon_name(an, v->sni);
    }
    for (uint32_t i = 0; i < v->num_certs && i < VERDICT_MAX_CERTS; i++) {
        anon_cert(an, &v->certs[i]);
    }
    anon_chain_id(an, v->chain_sha256);
}

static void remember_verdict(anon *an, const verdict *v) {
    uint8_t tmp[16];
    anon_addr(an, v->client.family, v->client.addr, tmp);
    anon_addr(an, v->server.family, v->server.addr, tmp);
    anon_network(an, v->client_network);
    remember_names(an, v);
}

static bool findings_json(const bundle_run *r, const char *file, const report_run_info *info,
                          bbuf *out) {
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    if (f == NULL) {
        return false;
    }
    report_options ro;
    memset(&ro, 0, sizeof ro);
    ro.format = REPORT_JSON;
    ro.out = f;
    report *rep = report_new(&ro);
    bool ok = rep != NULL;
    if (ok) {
        report_set_file(rep, file);
        for (uint32_t i = 0; i < r->num_conns; i++) {
            (void)report_verdict(rep, r->conns[i].v);
        }
        for (size_t i = 0; i < r->num_errors; i++) {
            report_input_error e = {r->errors[i].file, r->errors[i].frame, r->errors[i].offset,
                                    r->errors[i].msg};
            (void)report_error(rep, &e);
        }
        (void)report_summary(rep, analyzer_summary(r->an), info);
        ok = !report_write_failed(rep);
        report_free(rep);
    }
    ok = fclose(f) == 0 && ok;
    if (ok) {
        bbuf_put(out, p, n);
    }
    free(p);
    return ok && !out->oom;
}

static void chain_pem(const bundle_conn *c, anon *an, bbuf *out) {
    for (uint32_t i = 0; i < c->num_der; i++) {
        uint8_t *der = malloc(c->der_len[i]);
        char *b64 = malloc(4 * (c->der_len[i] / 3 + 2) + 1);
        if (der == NULL || b64 == NULL) {
            free(der);
            free(b64);
            out->oom = true;
            return;
        }
        memcpy(der, c->der[i], c->der_len[i]);
        anon_bytes(an, der, c->der_len[i]);
        int n = EVP_EncodeBlock((unsigned char *)b64, der, (int)c->der_len[i]);
        bbuf_puts(out, "-----BEGIN CERTIFICATE-----\n");
        for (int k = 0; k < n; k += 64) {
            bbuf_put(out, b64 + k, (size_t)(n - k < 64 ? n - k : 64));
            bbuf_puts(out, "\n");
        }
        bbuf_puts(out, "-----END CERTIFICATE-----\n");
        free(der);
        free(b64);
    }
}

static void environment(const bundle_options *o, const bundle_run *r, const file_list *files,
                        uint32_t packets, const larchive *la, bbuf *b) {
    char t0[32], t1[32];
    report_time(r->first_ts_ns, t0);
    report_time(r->last_ts_ns, t1);
    bbuf_printf(b, "tool: tlsdiag %s\n", TLSDIAG_VERSION);
    bbuf_printf(b, "openssl: %s\nlibarchive: %s\nlibnet: %s\n", OpenSSL_version(OPENSSL_VERSION),
                la->archive_version_string(), libnet_version());
    bbuf_printf(b, "profile: %s %s\n", analyzer_profile_name(r->an),
                analyzer_profile_version(r->an));
    bbuf_printf(b, "prefix list: %s\n", analyzer_prefix_source(r->an));
    bbuf_printf(b, "trust store: %s\n", analyzer_trust_store(r->an));
    bbuf_puts(b, "command line: ");
    bbuf_puts(b, o->command_line ? o->command_line : "(not recorded)");
    bbuf_puts(b, "\ninputs:");
    for (size_t i = 0; i < files->n; i++) {
        bbuf_printf(b, " %s", files->v[i]);
    }
    if (o->filter) {
        bbuf_printf(b, "\nfilter: %s", o->filter);
    }
    bbuf_printf(b, "\ncapture time range: %s .. %s (%" PRIu64 " frames)\n", r->frames ? t0 : "-",
                r->frames ? t1 : "-", r->frames);
    bbuf_puts(b, "host clock offset: unknown (passive capture; no reference clock)\n");
    if (o->extra_env != NULL) {
        bbuf_puts(b, o->extra_env);
    }
    bbuf_printf(b,
                "connections: %" PRIu64 ", failed: %" PRIu64
                ", failing or refused by the "
                "profile: %" PRIu64
                ", in this bundle: %u (at most %u, every distinct cause "
                "first)\n",
                r->connections, r->failed, r->failing, r->num_conns, r->max_conns);
    bbuf_printf(b,
                "evidence.pcap: %u packets, application data removed, frames rebuilt "
                "(Ethernet, stand-in MAC addresses, no TCP options)\n",
                packets);
    bbuf_printf(b, "anonymized addresses: %s\nredacted names: %s\n",
                o->anonymize ? "yes (Crypto-PAn, AES-128, key not included)" : "no",
                o->redact_names
                    ? "yes (SNI and every certificate's names, serial, SHA-256 and key "
                      "identifiers: same-shape keyed pseudonyms; certificates in evidence.pcap "
                      "zeroed, no chain-*.pem)"
                    : "no");
    for (uint32_t i = 0; i < r->num_conns; i++) {
        if (r->conns[i].capped) {
            bbuf_printf(b,
                        "evidence.pcap: connection %" PRIu64 " cut after %u packets / %" PRIu64
                        " bytes (the bundle's bound per connection)\n",
                        r->conns[i].v->conn_id, r->conns[i].kept_segs, r->conns[i].kept_bytes);
        }
    }
    for (int i = 0; i < DISSECT_UNDECODED_COUNT; i++) {
        const dissect_undecoded *u = &r->undecoded[i];
        if (u->frames > 0) {
            char line[400];
            dissect_undecoded_describe((dissect_undecoded_reason)i, u, line, sizeof line);
            bbuf_printf(b, "not decoded: %s, link type %d\n", line, u->linktype);
        }
    }
    if (r->num_errors == 0) {
        bbuf_puts(b, "damaged input: none\n");
    }
    for (size_t i = 0; i < r->num_errors; i++) {
        const cap_error *e = &r->errors[i];
        bbuf_printf(b,
                    "damaged input: %s: frame %" PRIu64 " (offset %" PRIu64
                    "): %s; results "
                    "up to frame %" PRIu64 " are included\n",
                    e->file, e->frame, e->offset, e->msg, e->frame ? e->frame - 1 : 0);
    }
}

// write_archive writes the members into a temporary file and renames it over path.
// rename(2) replaces a link planted at path instead of writing through it, and mkstemp creates the
// temporary file 0600 with O_EXCL (bundle_write has already refused, as every other writer does,
// a link or someone else's file at path; one planted since is replaced, never written through).
static bool write_archive(const larchive *la, const char *path, member *m, size_t n, char *err,
                          size_t errlen) {
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    snprintf(tmp, pl + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file beside it: %s", path,
                 strerror(errno));
        free(tmp);
        return false;
    }
    struct archive *a = la->archive_write_new();
    bool ok = a != NULL && la->archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
              la->archive_write_set_format_ustar(a) == ARCHIVE_OK &&
              la->archive_write_open_fd(a, fd) == ARCHIVE_OK;
    time_t now = time(NULL);
    for (size_t i = 0; ok && i < n; i++) {
        struct archive_entry *e = la->archive_entry_new();
        if (e == NULL) {
            ok = false;
            break;
        }
        la->archive_entry_set_pathname(e, m[i].name);
        la->archive_entry_set_size(e, (la_int64_t)m[i].b.n);
        la->archive_entry_set_filetype(e, AE_IFREG);
        la->archive_entry_set_perm(e, 0644);
        la->archive_entry_set_mtime(e, now, 0);
        ok = la->archive_write_header(a, e) == ARCHIVE_OK &&
             (m[i].b.n == 0 ||
              la->archive_write_data(a, m[i].b.p, m[i].b.n) == (la_ssize_t)m[i].b.n);
        la->archive_entry_free(e);
    }
    if (a != NULL) {
        if (la->archive_write_close(a) != ARCHIVE_OK) {
            ok = false;
        }
        if (!ok) {
            const char *why = la->archive_error_string(a);
            snprintf(err, errlen, "%s: %s", path, why ? why : "cannot write");
        }
        la->archive_write_free(a);
    } else {
        snprintf(err, errlen, "out of memory");
    }
    if (ok && fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        ok = false;
    }
    if (close(fd) != 0 && ok) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        ok = false;
    }
    if (ok && rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

void bundle_pipeline_config(const bundle_options *o, pipeline_config *c) {
    pipeline_config_default(c);
    c->limits = o->limits;
    c->profile = o->profile;
    c->ca_file = o->ca_file;
    c->ca_path = o->ca_path;
    c->ranges_file = o->ranges_file;
    c->now = o->now;
}

// bundle_archive_name_ok refuses a name that promises another format than the gzip-compressed
// tar archive tlsdiag writes (x.zip, x.tar.xz, ...): writing tar.gz under it would be a lie.
static bool bundle_archive_name_ok(const char *path, char *err, size_t errlen) {
    static const char *const other[] = {".zip",     ".tar.xz", ".txz", ".tar.bz2", ".tbz2",
                                        ".tar.zst", ".7z",     ".rar", ".tar"};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        size_t k = strlen(other[i]);
        if (n >= k && strcasecmp(path + n - k, other[i]) == 0) {
            snprintf(err, errlen,
                     "-o %s: the bundle is a gzip-compressed tar archive, not %s; name it "
                     "%.*s.tar.gz",
                     path, other[i] + 1, (int)(n - k > 200 ? 200 : n - k), path);
            return false;
        }
    }
    return true;
}

// bundle_command_line (bundle.h).
char *bundle_command_line(int argc, char *const *argv) {
    size_t n = 16;
    for (int i = 0; i < argc; i++) {
        n += strlen(argv[i]) + 1;
    }
    char *s = malloc(n);
    if (s == NULL) {
        return NULL;
    }
    strcpy(s, "tlsdiag");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

int bundle_write(const bundle_options *o, bundle_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    err[0] = '\0';
    file_list files = {0};
    bundle_run r;
    memset(&r, 0, sizeof r);
    anon *an = NULL;
    member *m = calloc(MAX_MEMBERS, sizeof *m);
    uint32_t *pkt_of_seg = NULL;
    size_t nm = 0;
    int status = TLSDIAG_EXIT_INTERNAL;
    if (!bundle_archive_name_ok(o->out_path, err, errlen)) {
        status = TLSDIAG_EXIT_USAGE;
        goto out;
    }
    const larchive *la = larchive_get(err, errlen);  // before any work
    if (la == NULL) {
        goto out;  // (TLSDIAG_EXIT_INTERNAL: the installation lacks a library it needs)
    }
    if (!cap_output_check(o->out_path, err, errlen)) {
        status = TLSDIAG_EXIT_INPUT;  // before the work: the output path is refused
        goto out;
    }
    if (m == NULL || !expand_inputs(o, &files, err, errlen)) {
        status = err[0] ? TLSDIAG_EXIT_INPUT : TLSDIAG_EXIT_INTERNAL;
        goto out;
    }
    bundle_pipeline_config(o, &r.cfg);
    r.an = pipeline_analyzer_new(&r.cfg, err, errlen);
    if (r.an == NULL) {
        status = TLSDIAG_EXIT_INPUT;
        goto out;
    }
    r.max_conns = o->max_connections;
    if (!bundle_collect(&r, (const char *const *)files.v, files.n, o->filter)) {
        if (!r.oom) {
            snprintf(err, errlen, "%s", r.open_error);
            status = TLSDIAG_EXIT_INPUT;
        } else {
            snprintf(err, errlen, "out of memory");
        }
        goto out;
    }
    uint8_t key[BUNDLE_KEY_LEN];
    if (o->have_key) {
        memcpy(key, o->key, sizeof key);
    } else if (RAND_bytes(key, sizeof key) != 1) {
        snprintf(err, errlen, "no random bytes for the anonymization key");
        goto out;
    }
    an = anon_new(o->anonymize, o->redact_names, key);
    OPENSSL_cleanse(key, sizeof key);
    if (an == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    const summary *sum = analyzer_summary(r.an);
    for (uint32_t i = 0; i < r.num_conns; i++) {
        remember_verdict(an, r.conns[i].v);
    }
    if (sum->dominant_example != NULL) {
        remember_verdict(an, sum->dominant_example);
    }
    for (size_t i = 0; i < sum->num_networks; i++) {
        anon_network(an, sum->by_network[i].key);
    }
    if (!anon_complete(an)) {
        snprintf(err, errlen, "--redact-names: too many certificate identifiers to replace");
        goto out;
    }
    if (o->redact_names) {
        // The certificate fields themselves, whatever escaping the documents apply later;
        // evidence.pcap gets its certificates zeroed; no chain-*.pem (see anon.c).
        for (uint32_t i = 0; i < r.num_conns; i++) {
            verdict *v = r.conns[i].v;
            for (uint32_t k = 0; k < v->num_certs && k < VERDICT_MAX_CERTS; k++) {
                anon_cert_rewrite(an, &v->certs[k]);
            }
            anon_chain_rewrite(an, v->chain_sha256, sizeof v->chain_sha256);
            r.conns[i].chain_no = 0;
        }
        if (!bundle_redact_certs(&r)) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }

    // evidence.pcap first: it names the packet count the documents cite.
    uint32_t packets = 0;
    member *ev = &m[nm++];
    snprintf(ev->name, sizeof ev->name, "evidence.pcap");
    pkt_of_seg = calloc(r.num_segs + 1, sizeof *pkt_of_seg);
    if (pkt_of_seg == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (!bundle_evidence(&r, an, &ev->b, &packets, pkt_of_seg, err, errlen)) {
        goto out;
    }
    char profile[160];
    snprintf(profile, sizeof profile, "%s %s (prefixes: %s)", analyzer_profile_name(r.an),
             analyzer_profile_version(r.an), analyzer_prefix_source(r.an));
    bundle_doc doc = {
        &r,      sum,       profile, analyzer_trust_store(r.an), o->anonymize, o->redact_names,
        packets, pkt_of_seg};
    member *html = &m[nm++];
    snprintf(html->name, sizeof html->name, "report.html");
    bundle_html(&doc, &html->b);
    member *md = &m[nm++];
    snprintf(md->name, sizeof md->name, "report.md");
    bundle_markdown(&doc, &md->b);

    report_input_error *errs = calloc(r.num_errors + 1, sizeof *errs);
    if (errs == NULL) {
        goto out;
    }
    for (size_t i = 0; i < r.num_errors; i++) {
        errs[i] = (report_input_error){r.errors[i].file, r.errors[i].frame, r.errors[i].offset,
                                       r.errors[i].msg};
    }
    report_run_info info = report_run_info_of(r.an);
    info.files = (const char *const *)files.v;
    info.num_files = files.n;
    info.num_input_errors = r.num_errors;
    info.input_errors = errs;
    info.undecoded = r.undecoded;
    member *js = &m[nm++];
    snprintf(js->name, sizeof js->name, "findings.json");
    bool json_ok = findings_json(&r, files.n == 1 ? files.v[0] : NULL, &info, &js->b);
    free(errs);
    if (!json_ok) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < r.num_conns && nm < MAX_MEMBERS - 1; i++) {
        const bundle_conn *c = &r.conns[i];
        bool first = c->chain_no > 0;
        for (uint32_t j = 0; first && j < i; j++) {
            first = r.conns[j].chain_no != c->chain_no;
        }
        if (first) {
            member *pm = &m[nm++];
            snprintf(pm->name, sizeof pm->name, "chain-%d.pem", c->chain_no);
            chain_pem(c, an, &pm->b);
        }
    }
    member *env = &m[nm++];
    snprintf(env->name, sizeof env->name, "environment.txt");
    environment(o, &r, &files, packets, la, &env->b);

    for (size_t i = 0; i < nm; i++) {
        if (strcmp(m[i].name, "evidence.pcap") != 0 && strncmp(m[i].name, "chain-", 6) != 0) {
            anon_text(an, &m[i].b);
        }
        if (m[i].b.oom) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (!write_archive(la, o->out_path, m, nm, err, errlen)) {
        goto out;
    }
    res->connections = r.connections;
    res->failed = r.failed;
    res->chosen = r.num_conns;
    res->evidence_packets = packets;
    res->input_errors = (uint32_t)r.num_errors;
    if (r.num_errors > 0) {
        snprintf(err, errlen, "%s: frame %" PRIu64 ": %s (the bundle says so)", r.errors[0].file,
                 r.errors[0].frame, r.errors[0].msg);
        status = TLSDIAG_EXIT_INPUT;
    } else {
        status = r.failed > 0 || r.failing > 0 ? TLSDIAG_EXIT_FAILURES : TLSDIAG_EXIT_OK;
    }

out:
    for (size_t i = 0; m != NULL && i < nm; i++) {
        bbuf_free(&m[i].b);
    }
    free(m);
    free(pkt_of_seg);
    anon_free(an);
    analyzer_free(r.an);
    bundle_run_free(&r);
    fl_free(&files);
    if (status == TLSDIAG_EXIT_INTERNAL && err[0] == '\0') {
        snprintf(err, errlen, "out of memory");
    }
    return status;
}
