// doctor.h — on the origin host: which configuration file and line breaks CloudFront's handshake
// (public API of doctor/).
//
// doctor reads nginx, Apache and HAProxy configurations (following their includes, with file
// and line for every directive), finds every TLS server block / virtual host / bind, loads the
// certificate and key files they name and judges each site the way CloudFront would: the
// certificate chain through the analyzer (analyzer_check_chain: same profile and trust store as
// `analyze`), the protocols, ciphers and curves against the analyzer's profile, client
// certificates and SNI refusals. One verdict per site, with a cause id from causes.md, the file
// and line of the directive to change, the change, and the commands that verify the fix.
//
// Safe: read-only (never writes a file, never signals or reloads a server); a file it cannot
// read is listed, not fatal; the private key is read only to check that it belongs to the
// certificate and nothing of it is kept or printed.
//
// Ownership: doctor_report is caller-owned (doctor_report_free; _free(NULL) is a no-op); the
// analyzer is borrowed for the call.
#ifndef TLSDIAG_DOCTOR_H
#define TLSDIAG_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze.h"

typedef enum doctor_server {
    DOCTOR_NGINX = 0,
    DOCTOR_APACHE,
    DOCTOR_HAPROXY,
} doctor_server;
const char *doctor_server_name(doctor_server s);  // "nginx", "apache", "haproxy"

enum {
    DOCTOR_PATH = 1024,
    DOCTOR_MAX_FINDINGS = 8,
    DOCTOR_MAX_UNREADABLE = 32,
};

// A place in a configuration: file and 1-based line (line 0: none, the server's default).
typedef struct doctor_where {
    char file[DOCTOR_PATH];
    uint32_t line;
} doctor_where;

typedef struct doctor_finding {
    cause_id cause;
    doctor_where at;
    char text[VERDICT_TEXT];
} doctor_finding;

typedef struct doctor_verdict {
    doctor_server server;
    doctor_where site;  // where the server block / <VirtualHost> / bind starts
    char name[256];     // the SNI judged (server_name / ServerName), "" none known
    char listen[96];    // "127.0.0.1:443", "*:443"
    uint16_t port;      // the port it listens on
    cause_id cause;     // CAUSE_OK: CloudFront's handshake would succeed
    // CAUSE_UNKNOWN with cause_note: a problem no cause id names (a key that does not belong
    // to the certificate: the server refuses to start with it)
    bool cause_note;
    bool warning;                // ok, but something needs attention soon (expiry within 30 days)
    doctor_where at;             // the directive to change (line 0: not written; add it in `site`)
    char directive[256];         // that directive as written (words joined by one space)
    char problem[VERDICT_TEXT];  // what is wrong, one sentence
    char change[VERDICT_TEXT];   // the change to make
    char check_openssl[VERDICT_TEXT];  // commands that verify the fix (shell-quoted words)
    char check_probe[VERDICT_TEXT];
    uint32_t num_findings;  // secondary findings (other problems of the same site)
    doctor_finding findings[DOCTOR_MAX_FINDINGS];
    verdict *chain;  // the analyzer's verdict on the certificate chain (NULL: none read)
} doctor_verdict;

typedef struct doctor_config {
    const char *nginx, *apache, *haproxy;  // main configuration files (NULL: not read)
    bool discover;  // look for each server's usual configuration when no file is given
} doctor_config;

typedef struct doctor_report {
    size_t num_verdicts;
    doctor_verdict *verdicts;
    uint32_t num_configs;  // main configuration files read
    // files that could not be read or parsed ("file:line: why"), in order; more are counted
    uint32_t num_problems, problems_dropped;
    char problems[DOCTOR_MAX_UNREADABLE][DOCTOR_PATH + 256];
} doctor_report;

// doctor_run reads the configurations c names (or finds them) and judges every TLS site.
// NULL (with err) when out of memory or when no main configuration file could be read.
doctor_report *doctor_run(analyzer *a, const doctor_config *c, char *err,
                          size_t errlen) TLSDIAG_WUR;
void doctor_report_free(doctor_report *r);
// doctor_failures: the verdicts whose cause is not CAUSE_OK.
size_t doctor_failures(const doctor_report *r);

// doctor_guess: which server a configuration file belongs to, by its name (nginx.conf,
// apache2.conf / httpd.conf, haproxy.cfg) else by its first lines. false: cannot tell.
bool doctor_guess(const char *path, doctor_server *out) TLSDIAG_WUR;

// doctor_attach ties a handshake verdict to the configuration (analyze --doctor): when v is a
// failure and r has a failing site for v's SNI (its name, case-insensitive; or the only site
// of that port when the site has no name) on v's server port — preferring one with v's cause —
// v's first fix step becomes "FILE:LINE  DIRECTIVE: CHANGE" and its evidence gets the site
// ("config"). Nothing otherwise (r NULL included).
void doctor_attach(const doctor_report *r, verdict *v);

// doctor_print writes r's verdicts, one per TLS site, then its summary line, to out: text, or
// with json JSON Lines (doctor_site and doctor_problem objects, then one doctor_summary; schema
// in doc/doctor-json.md); verbosity > 0 adds each site's certificates. The files that could not
// be read go to stderr as well. false: out could not be written.
bool doctor_print(const doctor_report *r, const analyzer *an, bool json, int verbosity,
                  FILE *out) TLSDIAG_WUR;

// doctor_load: analyze --doctor — the report on the configurations files names (each file's
// server guessed by doctor_guess), judged with the run's analyzer; NULL when num_files is 0.
// *status gets TLSDIAG_EXIT_INPUT (after a message on stderr) when a file cannot be used. Free
// with doctor_report_free.
doctor_report *doctor_load(const char *const *files, size_t num_files, analyzer *an, int *status);

#endif
