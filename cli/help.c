// help.c — each subcommand's --help: what it does, its options, exit status and examples.
//
// Each --help lists exactly the option table's rows of its subcommand (optable.h); the test
// tests/scripts/test_options.sh compares the two, and doc/tlsdiag.1 says the same at length.
#include <stdio.h>

#include "cli.h"

static void capture_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag capture [options]\n"
        "\n"
        "Capture CloudFront's TLS handshakes with this origin live and name the cause of each\n"
        "failure as it happens. Run as root (or with CAP_NET_RAW+CAP_NET_ADMIN, see README).\n"
        "\n"
        "What to capture:\n"
        "  -i, --interface IFACE  interface, or 'any' (default: any)\n"
        "  -D, --list-interfaces  list the interfaces that can be captured on (as tcpdump -D)\n"
        "  -p, --port PORT        origin TLS port; repeat or comma-separate (default: 443)\n"
        "      --ranges FILE      AWS ip-ranges.json instead of the embedded CloudFront list\n"
        "      --all-sources      no address filter (every client, not only CloudFront)\n"
        "  -f, --filter EXPR      extra BPF filter, and-ed with the generated one\n"
        "      --print-filter     print the generated BPF filter and exit\n"
        "  -B, --buffer-size KIB  kernel buffer size in KiB (default 32768)\n"
        "  -s, --snaplen SNAPLEN  bytes kept per packet (default 262144, at least 65791)\n"
        "When to stop (else Ctrl-C or SIGTERM):\n"
        "      --duration SECS    stop after this many seconds (suffix s, m or h allowed)\n"
        "  -c, --count N          stop after N handshakes\n"
        "Writing packets:\n"
        "  -w, --write FILE       write the captured packets to FILE (pcap)\n"
        "      --handshake-only   write only each connection's packets up to its verdict: TCP\n"
        "                         control and handshake records, no application data\n"
        "  -C, --file-size SIZE   rotate -w files at SIZE (MB = 1,000,000 bytes; k/m/g suffix\n"
        "                         = KiB/MiB/GiB)\n"
        "  -W, --file-count N     keep a ring of N files (FILE0 ... FILE<N-1>)\n"
        "  -G, --rotate-seconds N start a new -w file every N seconds; FILE is a strftime(3)\n"
        "                         name (e.g. edge-%Y%m%d-%H%M%S.pcap), as tcpdump -G\n"
        "  -Z, --user USER        drop to USER once capturing (default: nobody when root)\n"
        "Output and analysis (as analyze):\n"
        "      --json             JSON Lines: one object per handshake, a summary, capture stats\n"
        "      --ecs              Elastic Common Schema events (JSON Lines), one per handshake\n"
        "  -q, --quiet            summary only\n"
        "  -v, --verbose          also succeeded handshakes\n"
        "      --color[=WHEN]     auto, always or never\n"
        "      --ca-file FILE     trust store file instead of the system's\n"
        "      --ca-path DIR      trust store directory instead of the system's\n"
        "      --profile NAME     cloudfront (default), cloudfront-2025 or generic\n"
        "      --probe-origin[=IP:PORT]  probe the origin (default: the connection's server) for\n"
        "                         each failure whose certificate TLS 1.3 hid; findings added\n"
        "      --doctor FILE      an nginx, Apache or HAProxy configuration (repeat for each\n"
        "                         server): a failure's fix names its file:line\n"
        "      --max-flows N      connections tracked at once (default 65536)\n"
        "      --max-flow-bytes N bytes buffered per connection and direction (default 1M;\n"
        "                         K/M/G suffixes, as --max-total-bytes)\n"
        "      --max-total-bytes N  bytes buffered in total (default 256M)\n"
        "  -h, --help             this help\n"
        "\n"
        "Examples:\n"
        "  tlsdiag capture\n"
        "  tlsdiag capture -i eth0 -p 443,8443 --json | jq 'select(.outcome==\"failed\")'\n"
        "  tlsdiag capture -w /var/tmp/cf.pcap --handshake-only --duration 10m\n"
        "  tlsdiag capture -w /var/tmp/ring.pcap -C 100 -W 5\n"
        "\n"
        "Exit status: 0 no failed handshakes, 1 failed handshakes seen, 2 usage error,\n"
        "3 the capture could not start (no permission, no such interface, bad filter) or\n"
        "stopped on an error, 4 internal/output error.\n",
        f);
}

static void probe_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag probe [options] HOST[:PORT]\n"
        "\n"
        "Make one TLS handshake with the origin the way CloudFront would (its protocol\n"
        "versions, cipher suites, groups, signature schemes, SNI and certificate checks),\n"
        "capture it, and name the cause when CloudFront would fail (method: probe).\n"
        "Without permission to capture, the bytes the client sent and received are analyzed\n"
        "instead, and the verdict says so.\n"
        "\n"
        "Target:\n"
        "  HOST[:PORT]              origin domain name (default port 443); [IPv6]:PORT\n"
        "      --sni NAME           SNI to send (the forwarded Host header), default HOST\n"
        "      --connect IP         connect to IP instead of resolving HOST\n"
        "      --origin-protocols L like the distribution's Origin SSL Protocols, e.g.\n"
        "                           TLSv1,TLSv1.1,TLSv1.2 (default: the profile's; SSLv3, "
        "TLSv1.3)\n"
        "      --connect-timeout S  seconds to wait for the TCP connection (default 10)\n"
        "      --timeout S          seconds to wait for the handshake (default 10)\n"
        "\n"
        "Checks:\n"
        "      --matrix             also one handshake per protocol version and per cipher\n"
        "                           suite (rate-limited): which settings would work\n"
        "      --cert-file FILE     compare the served certificate with the server's file\n"
        "      --key-file FILE      and check that this key belongs to the --cert-file\n"
        "      --save-chain FILE    write the chain as sent (PEM), also under TLS 1.3\n"
        "  -w, --write FILE         write the probe's packets as a pcap\n"
        "      --no-capture         do not capture; analyze the client's view\n"
        "      --ca-file FILE, --ca-path DIR   trust store (default: the system's)\n"
        "      --profile NAME       cloudfront (default), cloudfront-2025 or generic\n"
        "\n"
        "Limits (as analyze; the probe's own capture is one connection):\n"
        "      --max-flows N        connections tracked at once (default 65536)\n"
        "      --max-flow-bytes N   bytes buffered per direction (default 1M; K/M/G suffixes)\n"
        "      --max-total-bytes N  bytes buffered in total (default 256M)\n"
        "\n"
        "Output:\n"
        "      --json               JSON Lines: handshake, probe_matrix, summary objects\n"
        "  -q, --quiet              summary only\n"
        "  -v, --verbose            more\n"
        "      --color[=WHEN]       auto, always or never\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 CloudFront's handshake would succeed, 1 it would fail, 2 usage\n"
        "error, 3 a file or trust store could not be used, 4 internal error.\n"
        "\n"
        "Examples:\n"
        "  tlsdiag probe origin.example.com\n"
        "  tlsdiag probe --connect 203.0.113.10 --sni www.example.com origin.example.com\n"
        "  tlsdiag probe --matrix --json origin.example.com:8443\n"
        "  tlsdiag probe --cert-file /etc/nginx/cert.pem --key-file /etc/nginx/key.pem localhost\n",
        f);
}

static void report_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag report -o FILE.tar.gz [options] INPUT...\n"
        "\n"
        "Write one archive to attach to a support ticket: report.html (self-contained),\n"
        "report.md, findings.json (the JSON Lines of `analyze --json`), evidence.pcap (the\n"
        "failing connections' packets up to the verdict, application data removed, frames\n"
        "rebuilt with valid checksums), chain-<n>.pem per served chain, environment.txt.\n"
        "\n"
        "INPUT is a pcap/pcapng file or the output directory of a capture run (its captures).\n"
        "\n"
        "Options:\n"
        "  -o, --output FILE        the archive to write (gzip-compressed tar)\n"
        "  -r, --read FILE          read FILE (as in analyze)\n"
        "  -f, --filter EXPR        BPF filter (as in analyze)\n"
        "  --max-connections N      connections shown (default 5; every distinct cause first)\n"
        "  --anonymize              replace addresses by keyed prefix-preserving pseudonyms\n"
        "                           (Crypto-PAn) in every member, the pcap included\n"
        "  --anonymize-key K        the key (64 hex digits, or a passphrase); default random\n"
        "  --redact-names           also replace the SNI and the leaf certificate's names\n"
        "  --ca-file F, --ca-path D, --ranges F, --profile P, --now TIME   as in analyze\n"
        "  --max-flows N, --max-flow-bytes N, --max-total-bytes N   limits, as in analyze\n"
        "  --probe HOST[:PORT]      also make CloudFront's handshake with HOST now (tlsdiag\n"
        "                           probe) and bundle its packets\n"
        "  --probe-sni NAME         the SNI the probe sends (default: HOST when a name)\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 no failed handshake, 1 failures found (bundle written), 2 usage\n"
        "error, 3 input error (the bundle, when written, names the damage), 4 internal error.\n"
        "\n"
        "Examples:\n"
        "  tlsdiag report -o ticket.tar.gz --anonymize incident.pcapng\n"
        "  tlsdiag report -o ticket.tar.gz --ca-file private-ca.pem -r a.pcap -r b.pcap\n"
        "  tlsdiag report -o ticket.tar.gz /var/tmp/capture-run/\n",
        f);
}

static void doctor_usage(FILE *f) {
    fputs(
        "Usage: tlsdiag doctor [--nginx FILE] [--apache FILE] [--haproxy FILE] [options]\n"
        "\n"
        "On the origin host: read the web server's configuration (following includes), load\n"
        "the certificate and key files of every TLS server block / virtual host / bind, and\n"
        "judge each the way CloudFront would. Each verdict names the cause, the file:line of\n"
        "the directive to change, the change, and the commands that verify the fix.\n"
        "Read-only: never writes a file or reloads a server; prints no key material.\n"
        "\n"
        "Configuration (default: nginx -T when nginx is on PATH, and the usual files of\n"
        "nginx, Apache and HAProxy that exist):\n"
        "      --nginx FILE         nginx's main file (e.g. /etc/nginx/nginx.conf)\n"
        "      --apache FILE        Apache's main file (e.g. /etc/apache2/apache2.conf)\n"
        "      --haproxy FILE       HAProxy's configuration (e.g. /etc/haproxy/haproxy.cfg)\n"
        "\n"
        "Checks:\n"
        "      --ca-file FILE, --ca-path DIR   trust store (default: the system's)\n"
        "      --profile NAME       cloudfront (default), cloudfront-2025 or generic\n"
        "      --now TIME           judge expiry at TIME (RFC 3339) instead of now\n"
        "\n"
        "Output:\n"
        "      --json               JSON Lines: doctor_site objects, then a doctor_summary\n"
        "  -v, --verbose            also the certificates of each site\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit status: 0 every TLS site would work for CloudFront, 1 some site would fail,\n"
        "2 usage error, 3 no configuration could be read, 4 internal error.\n"
        "Files that could not be read are listed on stderr (and as doctor_problem objects).\n"
        "\n"
        "Examples:\n"
        "  tlsdiag doctor\n"
        "  tlsdiag doctor --nginx /etc/nginx/nginx.conf\n"
        "  tlsdiag doctor --apache /etc/apache2/apache2.conf --json\n",
        f);
}

void cli_usage(cli_mode mode, FILE *f) {
    static void (*const own[])(FILE *) = {
        [CLI_CAPTURE] = capture_usage,
        [CLI_PROBE] = probe_usage,
        [CLI_REPORT] = report_usage,
        [CLI_DOCTOR] = doctor_usage,
    };
    if (mode < sizeof own / sizeof own[0] && own[mode] != NULL) {
        own[mode](f);
        return;
    }
    if (mode == CLI_DISSECT) {
        fputs(
            "Usage: tlsdiag dissect [options] FILE...\n"
            "\n"
            "Print every TCP connection's TLS handshake transcript: a ladder of SYN, each\n"
            "handshake message and alert (who sent it, frame, time), gaps and encrypted records.\n",
            f);
    } else {
        fputs(
            "Usage: tlsdiag analyze [options] FILE...\n"
            "\n"
            "Name why each failed TLS handshake failed: one line per failure as it is found,\n"
            "then a summary with the dominant cause, its evidence, the fix, the openssl command\n"
            "to check it, the dead ends, and tables per SNI, client network and certificate.\n",
            f);
    }
    fputs(
        "\n"
        "Input:\n"
        "  FILE, -r, --read FILE\n"
        "                       pcap or pcapng file(s), merged in time order; - is stdin\n"
        "  -f, --filter EXPR    BPF filter applied to every file (tcpdump syntax)\n"
        "  -c, --count N        stop after N handshakes (connections), as tcpdump -c\n"
        "  -n, --no-resolve     accepted as in tcpdump; tlsdiag never resolves names\n"
        "\n"
        "Output:\n"
        "      --json           JSON Lines (schema_version 1) instead of text\n"
        "  -q, --quiet          summary only\n"
        "  -v, --verbose        also succeeded handshakes, and each failure's evidence\n"
        "      --color[=WHEN]   auto (default: on a terminal, unless NO_COLOR is set),\n"
        "                       always or never\n"
        "      --wireshark      a ready wireshark/tshark command that shows the connection\n"
        "                       (analyze: under each failure; -v shows the display filter)\n",
        f);
    if (mode == CLI_ANALYZE) {
        fputs(
            "      --ecs            JSON Lines in the Elastic Common Schema: one event per\n"
            "                       handshake, for Filebeat / Fluent Bit / Vector\n"
            "\n"
            "Analysis:\n"
            "      --profile NAME   client profile: cloudfront, cloudfront-2025 or generic\n"
            "                       (default: cloudfront, or cloudfront-2025 for the\n"
            "                       handshakes whose ClientHello from a CloudFront\n"
            "                       address shows s2n's 2025 policies)\n"
            "      --ca-file FILE   trust store as a PEM bundle (default: the system store)\n"
            "      --ca-path DIR    trust store as a hashed directory\n"
            "      --ranges FILE    AWS ip-ranges.json for CloudFront's origin-facing prefixes\n"
            "      --now TIME       RFC 3339 time used as \"now\" (for tests and tickets:\n"
            "                       makes the output reproducible), e.g. 2026-11-26T20:00:00Z\n"
            "      --probe-origin [IP:PORT]  for each failure whose certificate was hidden\n"
            "                       (TLS 1.3), probe the origin (default: the connection's\n"
            "                       server) with its SNI and add what the probe found\n"
            "      --doctor FILE    an nginx, Apache or HAProxy configuration (repeat for\n"
            "                       each server): a failure's fix names its file:line\n",
            f);
    } else {
        fputs(
            "\n"
            "Accepted as in analyze, without effect on a transcript:\n"
            "      --profile NAME, --ca-file FILE, --ca-path DIR, --ranges FILE, --now TIME,\n"
            "      --probe-origin[=IP:PORT]\n",
            f);
    }
    fputs(
        "\n"
        "Limits (memory is bounded by these, not by the input):\n"
        "      --max-flows N        connections tracked at once (default 65536)\n"
        "      --max-flow-bytes N   bytes buffered per direction (default 1M; K/M/G suffixes)\n"
        "      --max-total-bytes N  bytes buffered in total (default 256M)\n",
        f);
    if (mode == CLI_ANALYZE) {
        fputs(
            "      --threads N          N worker threads, connections spread by address hash\n"
            "                           (same output as 1; 1-64)\n",
            f);
    }
    fputs(
        "  -h, --help               this help\n"
        "\n"
        "Exit status:\n"
        "  0  ran fine, no failed handshakes\n"
        "  1  failed handshakes found (analyze)\n"
        "  2  usage error\n"
        "  3  input error: a file could not be opened or is damaged, or the filter did not\n"
        "     compile (results before the damage are still printed)\n"
        "  4  internal error: out of memory, or output could not be written\n"
        "\n"
        "Examples:\n",
        f);
    if (mode == CLI_DISSECT) {
        fputs(
            "  tlsdiag dissect origin.pcap\n"
            "  tlsdiag dissect --json -f 'tcp port 443' a.pcapng b.pcap | jq .sni\n"
            "  tcpdump -i eth0 -w - 'tcp port 443' | tlsdiag dissect -\n",
            f);
    } else {
        fputs(
            "  tlsdiag analyze origin.pcap\n"
            "  tlsdiag analyze -q --ca-file private-ca.pem -r capture.pcapng\n"
            "  tlsdiag analyze --json --now 2026-11-26T20:00:00Z origin.pcap > verdicts.jsonl\n",
            f);
    }
}
