// certfile.c — on-host check: is the certificate the server serves the one its configuration
// points at? (renewed on disk but not reloaded; the wrong file; a key that does not match).
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "probe_internal.h"

static void finding(verdict *v, const char *text) {
    if (v->num_findings >= VERDICT_MAX_FINDINGS) {
        return;
    }
    verdict_finding *f = &v->findings[v->num_findings++];
    f->cause = v->cause != CAUSE_OK ? v->cause : CAUSE_UNKNOWN;
    snprintf(f->text, sizeof f->text, "%s", text);
}

static void evidence(verdict *v, const char *key, const char *text) {
    if (v->num_evidence >= VERDICT_MAX_EVIDENCE) {
        return;
    }
    verdict_evidence *e = &v->evidence[v->num_evidence++];
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->value, sizeof e->value, "%s", text);
    e->value_len = 0;
    e->frame = 0;
}

static void describe_cert(X509 *x, char *out, size_t outlen) {
    char subj[256] = "?", nb[64] = "?", na[64] = "?";
    X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof subj);
    BIO *b = BIO_new(BIO_s_mem());
    if (b) {
        if (ASN1_TIME_print(b, X509_get0_notBefore(x)) == 1) {
            int n = BIO_read(b, nb, (int)sizeof nb - 1);
            nb[n > 0 ? n : 0] = '\0';
        }
        (void)BIO_reset(b);
        if (ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1) {
            int n = BIO_read(b, na, (int)sizeof na - 1);
            na[n > 0 ? n : 0] = '\0';
        }
        BIO_free(b);
    }
    snprintf(out, outlen, "%.200s, valid %s to %s", subj, nb, na);
}

bool probe_check_cert_file(probe_result *r, const char *cert_file, const char *key_file, char *err,
                           size_t errlen) {
    verdict *v = r->v;
    FILE *f = fopen(cert_file, "r");
    X509 *file_cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f) {
        fclose(f);
    }
    if (!file_cert) {
        snprintf(err, errlen, "%s: cannot read a PEM certificate", cert_file);
        return false;
    }
    EVP_PKEY *key = NULL;
    if (key_file) {
        f = fopen(key_file, "r");
        key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
        if (f) {
            fclose(f);
        }
        if (!key) {
            X509_free(file_cert);
            snprintf(err, errlen, "%s: cannot read a PEM private key (encrypted keys are not read)",
                     key_file);
            return false;
        }
    }
    char text[VERDICT_TEXT], fdesc[400], sdesc[400];
    describe_cert(file_cert, fdesc, sizeof fdesc);
    X509 *served = NULL;
    if (r->num_chain) {
        const unsigned char *p = r->chain_der[0];
        served = d2i_X509(NULL, &p, r->chain_len[0]);
    }
    if (!served) {
        snprintf(text, sizeof text, "%s was not compared: the server sent no certificate",
                 cert_file);
        evidence(v, "cert_file", text);
    } else if (X509_cmp(served, file_cert) == 0) {
        snprintf(text, sizeof text, "the server serves the certificate in %.200s", cert_file);
        evidence(v, "cert_file", text);
    } else {
        describe_cert(served, sdesc, sizeof sdesc);
        bool renewed =
            ASN1_TIME_compare(X509_get0_notBefore(file_cert), X509_get0_notBefore(served)) > 0 &&
            X509_NAME_cmp(X509_get_subject_name(file_cert), X509_get_subject_name(served)) == 0;
        if (renewed) {
            snprintf(text, sizeof text,
                     "%.150s holds a newer certificate than the one served: renewed on disk but "
                     "not reloaded; reload or restart the web server",
                     cert_file);
        } else {
            snprintf(text, sizeof text,
                     "the server serves a different certificate than %.150s: the web server is "
                     "configured with another file (or another virtual host answered this SNI)",
                     cert_file);
        }
        finding(v, text);
        snprintf(text, sizeof text, "file: %.240s; served: %.240s", fdesc, sdesc);
        evidence(v, renewed ? "cert_file_renewed" : "cert_file_differs", text);
    }
    if (key) {
        if (X509_check_private_key(file_cert, key) != 1) {
            snprintf(text, sizeof text,
                     "the key in %.150s does not belong to the certificate in %.150s: the server "
                     "cannot load this pair",
                     key_file, cert_file);
            finding(v, text);
            evidence(v, "key_file", text);
        } else {
            snprintf(text, sizeof text, "the key in %.200s matches the certificate file", key_file);
            evidence(v, "key_file", text);
        }
    }
    X509_free(served);
    X509_free(file_cert);
    EVP_PKEY_free(key);
    ERR_clear_error();  // X509_check_private_key queues its reason; nothing else reads it
    return true;
}
