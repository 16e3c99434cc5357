// optable.c — the option table's rows, and what is derived from them (see optable.h).
#include "analyze.h"
#include "optable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

typedef struct cli_opt_row {
    const char *name;
    int letter;  // the short option, 0: none
    int has_arg;
    unsigned cmds;  // CLI_CMD_* bits
    int val;        // getopt_long's value
} cli_opt_row;

static const cli_opt_row cli_opt_rows[CLI_OPT_ROWS] = {
#define CLI_OPT_X(id, name, sh, arg, cmds, same) {name, sh, arg, cmds, CLI_OPT_##id},
    CLI_OPTION_TABLE(CLI_OPT_X)
#undef CLI_OPT_X
};

static const char *const cli_cmd_names[] = {"analyze", "dissect", "capture",
                                            "probe",   "report",  "doctor"};
enum { CLI_CMDS = sizeof cli_cmd_names / sizeof cli_cmd_names[0] };

void cli_getopt_init(unsigned cmd, cli_getopt *g) {
    memset(g, 0, sizeof *g);
    size_t nl = 0, ns = 0;
    g->optstring[ns++] = ':';  // a missing argument is reported as ':' (not '?')
    for (size_t i = 0; i < CLI_OPT_ROWS; i++) {
        const cli_opt_row *r = &cli_opt_rows[i];
        if ((r->cmds & cmd) == 0) {
            continue;
        }
        g->longopts[nl++] = (struct option){r->name, r->has_arg, NULL, r->val};
        if (r->letter != 0) {
            g->optstring[ns++] = (char)r->letter;
            if (r->has_arg == required_argument) {
                g->optstring[ns++] = ':';
            }
        }
    }
}

// The row a typed option names: "--name[=value]" by its long name, else by its short letter.
static const cli_opt_row *find_row(const char *typed, int letter) {
    if (strncmp(typed, "--", 2) == 0) {
        size_t len = strcspn(typed + 2, "=");
        for (size_t i = 0; i < CLI_OPT_ROWS; i++) {
            if (strlen(cli_opt_rows[i].name) == len &&
                strncmp(cli_opt_rows[i].name, typed + 2, len) == 0) {
                return &cli_opt_rows[i];
            }
        }
        return NULL;
    }
    for (size_t i = 0; letter > 0 && i < CLI_OPT_ROWS; i++) {
        if (cli_opt_rows[i].letter == letter) {
            return &cli_opt_rows[i];
        }
    }
    return NULL;
}

const char *cli_cmd_name(unsigned cmd) {
    for (int i = 0; i < CLI_CMDS; i++) {
        if (cmd == 1u << i) {
            return cli_cmd_names[i];
        }
    }
    return "?";
}

// Options of the tools people come from (tshark, Wireshark) that tlsdiag answers otherwise.
static const struct {
    int letter;
    const char *name;  // long form, "--x"
    const char *hint;
} foreign[] = {
    {'Y', "--display-filter",
     "is a Wireshark display filter: tlsdiag filters with -f (BPF); use --wireshark to get a "
     "display filter"},
};

bool cli_opt_elsewhere(unsigned cmd, const char *typed, int letter, char *msg, size_t n) {
    for (size_t i = 0; n > 0 && i < sizeof foreign / sizeof foreign[0]; i++) {
        size_t len = strcspn(typed, "=");
        bool is_long = strncmp(typed, "--", 2) == 0;
        if (is_long ? strlen(foreign[i].name) == len && strncmp(typed, foreign[i].name, len) == 0
                    : letter == foreign[i].letter) {
            snprintf(msg, n, "option '%s%c' %s", is_long ? foreign[i].name : "-",
                     is_long ? '\0' : foreign[i].letter, foreign[i].hint);
            return true;
        }
    }
    const cli_opt_row *r = find_row(typed, letter);
    if (r == NULL || (r->cmds & cmd) != 0 || n == 0) {
        return false;
    }
    size_t len = strcspn(typed, "=");
    char shortopt[3] = {'-', (char)letter, '\0'};
    bool is_long = strncmp(typed, "--", 2) == 0;
    int w =
        snprintf(msg, n, "option '%.*s' is not valid for %s (it is for:", is_long ? (int)len : 2,
                 is_long ? typed : shortopt, cli_cmd_name(cmd));
    const char *sep = " ";
    for (int i = 0; i < CLI_CMDS && w >= 0 && (size_t)w < n; i++) {
        if (r->cmds & (1u << i)) {
            w += snprintf(msg + w, n - (size_t)w, "%s%s", sep, cli_cmd_names[i]);
            sep = ", ";
        }
    }
    if (w >= 0 && (size_t)w < n) {
        snprintf(msg + w, n - (size_t)w, ")");
    }
    return true;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcasecmp(s + n - k, tail) == 0;
}

void cli_unknown_command(const char *word, FILE *f) {
    bool file = access(word, F_OK) == 0 || ends_with(word, ".pcap") || ends_with(word, ".pcapng") ||
                ends_with(word, ".cap");
    char q[1100];
    if (!file || !analyze_shell_quote(word, strlen(word), q, sizeof q)) {
        fprintf(f,
                "tlsdiag: unknown command '%s' (expected analyze, dissect, capture, probe or "
                "report)\nTry 'tlsdiag --help'.\n",
                word);
        return;
    }
    fprintf(f,
            "tlsdiag: '%s' is not a command; to read a capture, name what to do first:\n"
            "  why the handshakes failed:          tlsdiag analyze %s\n"
            "  each handshake, message by message: tlsdiag dissect %s\n"
            "  one archive for a support ticket:   tlsdiag report -o ticket.tar.gz %s\n",
            word, q, q, q);
}

bool cli_opt_list(const char *command, FILE *f) {
    unsigned cmd = 0;
    for (int i = 0; i < CLI_CMDS; i++) {
        if (strcmp(command, cli_cmd_names[i]) == 0) {
            cmd = 1u << i;
        }
    }
    if (strcmp(command, "analyse") == 0) {
        cmd = CLI_CMD_ANALYZE;
    }
    if (cmd == 0) {
        return false;
    }
    for (size_t i = 0; i < CLI_OPT_ROWS; i++) {
        const cli_opt_row *r = &cli_opt_rows[i];
        bool alias = false;  // --colour, --anonymise: accepted, listed under their first row
        for (size_t j = 0; j < i; j++) {
            alias = alias || cli_opt_rows[j].val == r->val;
        }
        if ((r->cmds & cmd) && !alias) {
            if (r->letter != 0) {
                fprintf(f, "-%c\n", r->letter);
            }
            fprintf(f, "--%s\n", r->name);
        }
    }
    return true;
}

bool cli_parse_count(const char *s, bool allow_suffix, uint64_t max, uint64_t *out) {
    if (s[0] < '0' || s[0] > '9') {
        return false;  // also rejects "-1", "+1", " 1" and ""
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s) {
        return false;
    }
    uint64_t mul = 1;
    if (allow_suffix && *end != '\0' && end[1] == '\0') {
        const char *units = "kKmMgG";
        const char *u = strchr(units, *end);
        if (u != NULL) {
            mul = (uint64_t)1 << (10 * (1 + (u - units) / 2));
            end++;
        }
    }
    if (*end != '\0' || v == 0 || v > max / mul) {
        return false;
    }
    *out = (uint64_t)v * mul;
    return true;
}

bool cli_parse_limit(int val, const char *arg, pipeline_limits *l, char *msg, size_t n) {
    uint64_t v = 0;
    switch (val) {
        case CLI_OPT_MAX_FLOWS:
            if (!cli_parse_count(arg, false, UINT32_MAX, &v)) {
                snprintf(msg, n, "--max-flows: expected a positive integer, got '%s'", arg);
                return false;
            }
            l->max_flows = (uint32_t)v;
            return true;
        case CLI_OPT_MAX_FLOW_BYTES:
            // The dissector counts a direction's bytes in 32 bits.
            if (!cli_parse_count(arg, true, UINT32_MAX, &v)) {
                snprintf(msg, n,
                         "--max-flow-bytes: expected a positive integer (K/M/G suffix allowed, "
                         "below 4G), got '%s'",
                         arg);
                return false;
            }
            l->max_flow_bytes = v;
            return true;
        case CLI_OPT_MAX_TOTAL_BYTES:
            if (!cli_parse_count(arg, true, UINT64_MAX, &v)) {
                snprintf(msg, n,
                         "--max-total-bytes: expected a positive integer (K/M/G suffix "
                         "allowed), got '%s'",
                         arg);
                return false;
            }
            l->max_total_bytes = v;
            return true;
        default:
            snprintf(msg, n, "not a limit option");
            return false;
    }
}
