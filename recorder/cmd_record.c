/* earshot record: calls from a pcap/pcapng file (live interfaces come next)
 * into the archive. */
#include "recorder/record_int.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: earshot record -r FILE [--operators SPEC] [--sip-port N]... [--rtp-timeout S]\n"
    "                      [--mask-dtmf] [--no-audio] [--json]\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void summary(const struct recorder_counters *c, int json)
{
    if (json) {
        printf("{\"packets\":%llu,\"sip_messages\":%llu,\"rtp_packets\":%llu,"
               "\"calls_archived\":%llu,\"calls_missed\":%llu,\"calls_failed\":%llu,"
               "\"calls_skipped\":%llu,\"calls_dropped\":%llu,\"bad_packets\":%llu,"
               "\"fragments\":%llu,\"sip_tcp_segments\":%llu}\n",
               (unsigned long long)c->packets, (unsigned long long)c->sip_messages,
               (unsigned long long)c->rtp_packets, (unsigned long long)c->calls_archived,
               (unsigned long long)c->calls_missed, (unsigned long long)c->calls_failed,
               (unsigned long long)c->calls_skipped, (unsigned long long)c->dropped_calls,
               (unsigned long long)c->bad_packets, (unsigned long long)c->fragments,
               (unsigned long long)c->tcp_segments);
        return;
    }
    ES_INFO("record",
            "done: packets=%llu sip=%llu rtp=%llu archived=%llu missed=%llu failed=%llu "
            "skipped=%llu dropped=%llu",
            (unsigned long long)c->packets, (unsigned long long)c->sip_messages,
            (unsigned long long)c->rtp_packets, (unsigned long long)c->calls_archived,
            (unsigned long long)c->calls_missed, (unsigned long long)c->calls_failed,
            (unsigned long long)c->calls_skipped, (unsigned long long)c->dropped_calls);
}

int cmd_record(struct es_cli *cli)
{
    static const struct option opts[] = {
        {"read", required_argument, NULL, 'r'},
        {"operators", required_argument, NULL, 'o'},
        {"sip-port", required_argument, NULL, 'p'},
        {"rtp-timeout", required_argument, NULL, 't'},
        {"mask-dtmf", no_argument, NULL, 'm'},
        {"no-audio", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct recorder_opts ro = {0};
    const char *file = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "r:", opts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case 'r':
            file = optarg;
            break;
        case 'o':
            ro.operators = optarg;
            break;
        case 'p':
            v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 65535 || ro.nsip_ports == (int)ES_ARRAY_LEN(ro.sip_ports)) {
                fprintf(stderr, "earshot record: bad --sip-port %s\n", optarg);
                return 2;
            }
            ro.sip_ports[ro.nsip_ports++] = (int)v;
            break;
        case 't':
            v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 86400) {
                fprintf(stderr, "earshot record: bad --rtp-timeout %s\n", optarg);
                return 2;
            }
            ro.rtp_timeout_s = (int)v;
            break;
        case 'm':
            ro.mask_dtmf = true;
            break;
        case 'n':
            ro.no_audio = true;
            break;
        case 'J':
            json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!file || optind != cli->argc) {
        fprintf(stderr, "earshot record: %s\n%s",
                file ? "unexpected argument" : "-r FILE is required", usage);
        return 2;
    }
    ro.source_ref = file;
    struct es_err err = {{0}};
    struct pcapin *in = NULL;
    struct ingest_session *s = NULL;
    struct catalog *cat = NULL;
    struct recorder *r = NULL;
    int rc = 1;
    struct ingest_opts io = {.data_dir = cli->data_dir,
                             .bitrate_mono = 16000,
                             .bitrate_stereo = 24000,
                             .complexity = -1,
                             .leg_suffix = {"-in", "-out"},
                             .source = "recorder"};
    if (pcapin_open_file(file, &in, &err) || ingest_session_open(&io, &s, &err) ||
        catalog_open(cli->data_dir, &cat, &err) || recorder_new(&ro, s, cat, &r, &err)) {
        ES_ERROR("record", "%s", err.msg);
        goto out;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct pcapin_packet pk;
    int64_t last = 0;
    int got;
    while (!stop && (got = pcapin_next(in, &pk, &err)) == 1) {
        if (!pk.len)
            continue;
        recorder_packet(r, pk.linktype, pk.data, pk.len, pk.ts_us);
        last = pk.ts_us;
    }
    if (got < 0 && !stop)
        ES_ERROR("record", "%s: %s (calls so far are kept)", file, err.msg);
    recorder_finish(r, last);
    const struct recorder_counters *cnt = recorder_counters(r);
    summary(cnt, json);
    rc = got < 0 || cnt->calls_failed ? 1 : 0;
out:
    recorder_free(r);
    catalog_close(cat);
    ingest_session_close(s);
    pcapin_close(in);
    return rc;
}
