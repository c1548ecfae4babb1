/* earshot record: calls from a pcap/pcapng file or a live interface into
 * the archive, through one code path. */
#include "recorder/record_int.h"

#include <errno.h>
#include <jansson.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: earshot record (-r FILE | -i IFACE) [--filter BPF] [--user NAME] [--buffer MB]\n"
    "                      [--operators SPEC] [--sip-port N]... [--rtp-timeout S]\n"
    "                      [--linger S] [--min-unknown S] [--max-calls N]\n"
    "                      [--rejected-codes LIST] [--rejected rows|counts[:N]]\n"
    "                      [--mask-dtmf] [--no-audio] [--workers N] [--queue MB|64K]\n"
    "                      [--overload spill|drop|wait] [--spool DIR] [--spool-floor MB]\n"
    "                      [--stats] [--json] [--metrics ADDRESS:PORT] [--status-every S]\n"
    "                      [--pci-pause-dtmf SEQ --pci-resume-dtmf SEQ] [--control PATH|none]\n"
    "Live capture (-i) stores its counters in the catalog every --status-every seconds\n"
    "(default 60) for the health alerts of `earshot notify run`, and with --metrics\n"
    "serves them for Prometheus at http://ADDRESS:PORT/metrics.\n"
    "PCI: the operator's DTMF sequences (config pci_pause_dtmf, pci_resume_dtmf) pause\n"
    "and resume a call's recording; a live capture also takes pause/resume requests\n"
    "from the review server (POST /api/v1/recording-control) on the control socket\n"
    "(config recorder_control; default DATA/recorder.sock).\n"
    "Overload: when a worker's queue (--queue, 16 MiB) is full, live capture spills it\n"
    "to a file under --spool (config spool_dir; default DATA/spool) and reads it back\n"
    "in order; audio is dropped only below --spool-floor MiB free (1024). Files wait.\n";

static volatile sig_atomic_t stop;
static struct pcapin *capture;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
    if (capture)
        pcapin_break(capture);
}

/* Gives up root right after the capture is open: the rest runs as `user`. */
static int drop_privileges(const char *user, struct es_err *err)
{
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return es_seterr(err, ES_EINVAL, "--user %s: no such user", user);
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        return es_seterr(err, -errno, "--user %s: %s", user, strerror(errno));
    if (setuid(0) == 0)
        return es_seterr(err, ES_EINVAL, "--user %s: root could be regained", user);
    return 0;
}

/* "10.0.0.9:41234,10.0.0.7:800" (address:attempts), or "-". */
static void top_text(const struct recorder *r, char *out, size_t n)
{
    struct rec_source_top top[3];
    uint64_t nsrc, overflow;
    size_t k = rec_sources_top(r, top, ES_ARRAY_LEN(top), &nsrc, &overflow);
    size_t len = 0;
    snprintf(out, n, "-");
    for (size_t i = 0; i < k && len + 80 < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s:%llu", i ? "," : "", top[i].address,
                                (unsigned long long)top[i].attempts);
}

static void live_report(struct pcapin *in, struct recorder *r, bool tty_line)
{
    uint64_t recv = 0, drop = 0, ifdrop = 0;
    pcapin_drops(in, &recv, &drop, &ifdrop);
    struct recorder_counters c;
    recorder_counters(r, &c);
    char top[200];
    top_text(r, top, sizeof top); /* where refused and untracked INVITEs come from */
    if (tty_line) {
        fprintf(stderr,
                "\r\033[Kpackets %llu  calls active %zu  archived %llu  missed %llu  "
                "rejected %llu  kernel drops %llu  audio dropped %llu  spool backlog %.1f s "
                "(%llu KiB)  stray rtp %llu  calls dropped %llu  top sources %s",
                (unsigned long long)c.packets, recorder_active_calls(r),
                (unsigned long long)c.calls_archived, (unsigned long long)c.calls_missed,
                (unsigned long long)c.calls_rejected, (unsigned long long)(drop + ifdrop),
                (unsigned long long)c.audio_dropped, c.spool_backlog_seconds,
                (unsigned long long)(c.spool_backlog_bytes >> 10),
                (unsigned long long)c.stray_rtp_packets, (unsigned long long)c.dropped_calls, top);
        return;
    }
    char caught[ES_ISO_LEN];
    es_time_iso(c.caught_up_us / 1000, caught);
    ES_INFO("record",
            "capture received=%llu dropped=%llu if_dropped=%llu calls_active=%zu "
            "audio_dropped=%llu spooled_bytes=%llu spool_backlog_bytes=%llu "
            "spool_backlog_seconds=%.1f caught_up_at=%s interrupted_calls_recovered=%llu "
            "stray_rtp=%llu calls_dropped=%llu "
            "table_full=%llu evicted=%llu rejected=%llu top_sources=%s",
            (unsigned long long)recv, (unsigned long long)drop, (unsigned long long)ifdrop,
            recorder_active_calls(r), (unsigned long long)c.audio_dropped,
            (unsigned long long)c.spooled_bytes, (unsigned long long)c.spool_backlog_bytes,
            c.spool_backlog_seconds, c.caught_up_us ? caught : "-",
            (unsigned long long)c.interrupted_calls_recovered,
            (unsigned long long)c.stray_rtp_packets, (unsigned long long)c.dropped_calls,
            (unsigned long long)c.calls_dropped_full, (unsigned long long)c.calls_evicted,
            (unsigned long long)c.calls_rejected, top);
}

/* The counters now, for the metrics; with cat, also stored for the alerts. */
static void health_snapshot(struct pcapin *in, struct recorder *r, struct rec_health *h,
                            int64_t now, struct catalog *cat, const char *iface)
{
    struct rec_snapshot s = {.at = now};
    recorder_counters(r, &s.c);
    s.active = recorder_active_calls(r);
    pcapin_drops(in, &s.kernel_received, &s.kernel_dropped, &s.if_dropped);
    rec_health_update(h, &s);
    if (!cat)
        return;
    char *j = rec_snapshot_json(&s);
    int rc = j ? catalog_recorder_status_put(cat, iface, now, j) : ES_ENOMEM;
    if (rc)
        ES_WARN("record", "could not store the capture's counters for the health alerts: %s",
                catalog_strerror(cat, rc));
    free(j);
}

/* A whole-number option between lo and hi; otherwise one line naming it. */
static bool opt_num(const char *name, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < lo || n > hi) {
        fprintf(stderr, "earshot record: bad --%s %s (%ld to %ld)\n", name, v, lo, hi);
        return false;
    }
    *out = n;
    return true;
}

static double mono_s(void)
{
    return (double)es_mono_us() / 1e6;
}

/* input_s: time spent reading and tracking packets (input to its end);
 * finish_s: committing the calls still open at the end. */
static void sip_ports_text(const struct recorder_counters *c, bool json, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < c->nsip_ports_seen && len + 8 < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%u", i ? "," : "", c->sip_ports_seen[i]);
    if (!json && !len)
        snprintf(out, n, "-");
}

/* The busiest sources of refused or untracked INVITEs. */
static json_t *sources_json(const struct recorder *r)
{
    struct rec_source_top top[10];
    uint64_t nsrc, overflow;
    size_t k = rec_sources_top(r, top, ES_ARRAY_LEN(top), &nsrc, &overflow);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(
            list, json_pack("{s:s, s:I, s:I, s:I, s:I}", "address", top[i].address, "attempts",
                            (json_int_t)top[i].attempts, "rejected", (json_int_t)top[i].rejected,
                            "catalogued", (json_int_t)top[i].catalogued, "untracked",
                            (json_int_t)top[i].untracked));
    return json_pack("{s:I, s:I, s:o}", "sources", (json_int_t)nsrc, "uncounted_attempts",
                     (json_int_t)overflow, "top", list);
}

static void summary(const struct recorder *r, const struct recorder_counters *c, int json,
                    double input_s, double finish_s)
{
    char ports[160];
    sip_ports_text(c, json, ports, sizeof ports);
    if (json) {
        json_t *reasons = json_pack("{s:I, s:I}", "table_full", (json_int_t)c->calls_dropped_full,
                                    "evicted", (json_int_t)c->calls_evicted);
        json_t *seen = json_array();
        for (int i = 0; i < c->nsip_ports_seen; i++)
            json_array_append_new(seen, json_integer(c->sip_ports_seen[i]));
        const struct {
            const char *key;
            uint64_t v;
        } counts[] = {
            {"packets", c->packets},
            {"sip_messages", c->sip_messages},
            {"rtp_packets", c->rtp_packets},
            {"calls_archived", c->calls_archived},
            {"calls_missed", c->calls_missed},
            {"calls_rejected", c->calls_rejected},
            {"rejected_rows", c->rejected_rows},
            {"calls_failed", c->calls_failed},
            {"calls_skipped", c->calls_skipped},
            {"calls_dropped", c->dropped_calls},
            {"bad_packets", c->bad_packets},
            {"not_ip", c->not_ip},
            {"fragments", c->fragments},
            {"sip_tcp_segments", c->tcp_segments},
            {"audio_dropped", c->audio_dropped},
            {"queue_waits", c->queue_waits},
            {"spooled_bytes", c->spooled_bytes},
            {"spills", c->spills},
            {"spool_floor_drops", c->spool_floor_drops},
            {"spool_errors", c->spool_errors},
            {"interrupted_calls_recovered", c->interrupted_calls_recovered},
            {"stray_rtp_packets", c->stray_rtp_packets},
            {"copy_rtp_packets", c->copy_rtp_packets},
            {"untracked_rtp_packets", c->untracked_rtp_packets},
        };
        json_t *o = json_object();
        for (size_t i = 0; i < ES_ARRAY_LEN(counts); i++) {
            json_object_set_new(o, counts[i].key, json_integer((json_int_t)counts[i].v));
            if (!strcmp(counts[i].key, "calls_dropped"))
                json_object_set_new(o, "calls_dropped_reasons", reasons);
        }
        json_object_set_new(o, "spool_backlog_seconds", json_real(c->spool_backlog_seconds));
        char caught[ES_ISO_LEN];
        es_time_iso(c->caught_up_us / 1000, caught);
        json_object_set_new(o, "caught_up_at", c->caught_up_us ? json_string(caught) : json_null());
        json_object_set_new(o, "sip_ports_seen", seen);
        json_object_set_new(o, "rejected_sources", sources_json(r));
        json_object_set_new(o, "input_seconds", json_real(input_s));
        json_object_set_new(o, "finish_seconds", json_real(finish_s));
        json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(o);
        return;
    }
    char top[200];
    top_text(r, top, sizeof top);
    ES_INFO("record",
            "done: packets=%llu sip=%llu rtp=%llu archived=%llu missed=%llu rejected=%llu "
            "(catalogued=%llu) failed=%llu "
            "skipped=%llu dropped=%llu (table_full=%llu evicted=%llu) audio_dropped=%llu "
            "spooled_bytes=%llu stray_rtp=%llu copy_rtp=%llu "
            "sip_ports=%s top_sources=%s",
            (unsigned long long)c->packets, (unsigned long long)c->sip_messages,
            (unsigned long long)c->rtp_packets, (unsigned long long)c->calls_archived,
            (unsigned long long)c->calls_missed, (unsigned long long)c->calls_rejected,
            (unsigned long long)c->rejected_rows, (unsigned long long)c->calls_failed,
            (unsigned long long)c->calls_skipped, (unsigned long long)c->dropped_calls,
            (unsigned long long)c->calls_dropped_full, (unsigned long long)c->calls_evicted,
            (unsigned long long)c->audio_dropped, (unsigned long long)c->spooled_bytes,
            (unsigned long long)c->stray_rtp_packets, (unsigned long long)c->copy_rtp_packets,
            ports, top);
}

/* 1-7 DTMF digits each, both or neither, and not the same. */
static bool pci_sequences(struct recorder_opts *ro)
{
    if (ro->pci_pause_dtmf && !ro->pci_pause_dtmf[0])
        ro->pci_pause_dtmf = NULL;
    if (ro->pci_resume_dtmf && !ro->pci_resume_dtmf[0])
        ro->pci_resume_dtmf = NULL;
    const char *v[2] = {ro->pci_pause_dtmf, ro->pci_resume_dtmf};
    if (!v[0] != !v[1]) {
        fprintf(stderr, "earshot record: pci_pause_dtmf and pci_resume_dtmf go together\n");
        return false;
    }
    for (int i = 0; i < 2 && v[0]; i++)
        if (strlen(v[i]) > 7 || strspn(v[i], "0123456789*#ABCD") != strlen(v[i])) {
            fprintf(stderr, "earshot record: bad %s %s (1 to 7 of 0-9 * # A-D)\n",
                    i ? "pci_resume_dtmf" : "pci_pause_dtmf", v[i]);
            return false;
        }
    if (v[0] && !strcmp(v[0], v[1])) {
        fprintf(stderr, "earshot record: pci_pause_dtmf and pci_resume_dtmf are the same\n");
        return false;
    }
    return true;
}

/* What the command line and the config file ask for. */
struct record_args {
    struct recorder_opts ro;
    struct sip_reject_rule reject;
    const char *file, *iface, *filter, *user, *metrics, *control;
    int json, buffer_mb, stats;
    bool overload_set;
    long status_every;
};

/* Reads the options into a: -1 to go on, else the exit status (0 after
 * --help, 2 for a usage error, said on stderr). */
static int parse_args(struct es_cli *cli, struct record_args *a)
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
        {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"user", required_argument, NULL, 'u'},
        {"buffer", required_argument, NULL, 'b'},
        {"stats", no_argument, NULL, 's'},
        {"workers", required_argument, NULL, 'w'},
        {"linger", required_argument, NULL, 'L'},
        {"min-unknown", required_argument, NULL, 'M'},
        {"max-calls", required_argument, NULL, 'C'},
        {"rejected-codes", required_argument, NULL, 'R'},
        {"rejected", required_argument, NULL, 'j'},
        {"metrics", required_argument, NULL, 'X'},
        {"status-every", required_argument, NULL, 'S'},
        {"pci-pause-dtmf", required_argument, NULL, 'P'},
        {"pci-resume-dtmf", required_argument, NULL, 'Q'},
        {"control", required_argument, NULL, 'K'},
        {"overload", required_argument, NULL, 'O'},
        {"spool", required_argument, NULL, 'D'},
        {"spool-floor", required_argument, NULL, 'F'},
        {"queue", required_argument, NULL, 'q'},
        {"worker-delay", required_argument, NULL, 'Y'},
        {NULL, 0, NULL, 0},
    };
    struct recorder_opts *ro = &a->ro;
    a->control = es_config_get(cli->config, "recorder_control");
    ro->pci_pause_dtmf = es_config_get(cli->config, "pci_pause_dtmf");
    ro->pci_resume_dtmf = es_config_get(cli->config, "pci_resume_dtmf");
    ro->spool_dir = es_config_get(cli->config, "spool_dir");
    a->buffer_mb = 64;
    a->status_every = 60;
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "r:i:", opts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case 'r':
            a->file = optarg;
            break;
        case 'o':
            ro->operators = optarg;
            break;
        case 'p':
            if (ro->nsip_ports == (int)ES_ARRAY_LEN(ro->sip_ports)) {
                fprintf(stderr, "earshot record: at most %zu --sip-port\n",
                        ES_ARRAY_LEN(ro->sip_ports));
                return 2;
            }
            if (!opt_num("sip-port", optarg, 1, 65535, &v))
                return 2;
            ro->sip_ports[ro->nsip_ports++] = (int)v;
            break;
        case 't':
            if (!opt_num("rtp-timeout", optarg, 1, 86400, &v))
                return 2;
            ro->rtp_timeout_s = (int)v;
            break;
        case 'L':
        case 'M': {
            double sec = strtod(optarg, &end);
            if (*end || end == optarg || !(sec >= 0 && sec <= 3600)) {
                fprintf(stderr, "earshot record: bad --%s %s (seconds, 0 to 3600)\n",
                        c == 'L' ? "linger" : "min-unknown", optarg);
                return 2;
            }
            int ms = (int)(sec * 1000 + 0.5);
            if (c == 'L')
                ro->linger_ms = ms ? ms : 1; /* 0: end at once (1 ms) */
            else
                ro->min_unknown_ms = ms ? ms : -1; /* 0: every RTP-only call is kept */
            break;
        }
        case 'C':
            if (!opt_num("max-calls", optarg, 1, 1000000, &v))
                return 2;
            ro->max_calls = (size_t)v;
            break;
        case 'R': {
            struct es_err e = {{0}};
            if (sip_reject_rule_parse(optarg, &a->reject, &e)) {
                fprintf(stderr, "earshot record: --rejected-codes: %s\n", e.msg);
                return 2;
            }
            ro->reject = &a->reject;
            break;
        }
        case 'j':
            if (!strcmp(optarg, "rows")) {
                ro->rejected_per_minute = REC_REJECTED_ROWS;
            } else if (!strcmp(optarg, "counts")) {
                ro->rejected_per_minute = 0; /* the default allowance */
            } else if (!strncmp(optarg, "counts:", 7)) {
                if (!opt_num("rejected counts:", optarg + 7, 0, 100000, &v))
                    return 2;
                ro->rejected_per_minute = v ? (int)v : REC_REJECTED_COUNTS;
            } else {
                fprintf(stderr, "earshot record: bad --rejected %s (rows, counts or counts:N)\n",
                        optarg);
                return 2;
            }
            break;
        case 'i':
            a->iface = optarg;
            break;
        case 'f':
            a->filter = optarg;
            break;
        case 'u':
            a->user = optarg;
            break;
        case 's':
            a->stats = 1;
            break;
        case 'b':
            if (!opt_num("buffer", optarg, 1, 4096, &v))
                return 2;
            a->buffer_mb = (int)v;
            break;
        case 'w':
            if (!opt_num("workers", optarg, 1, 64, &v))
                return 2;
            ro->workers = (int)v;
            break;
        case 'm':
            ro->mask_dtmf = true;
            break;
        case 'n':
            ro->no_audio = true;
            break;
        case 'J':
            a->json = 1;
            break;
        case 'X':
            a->metrics = optarg;
            break;
        case 'S':
            if (!opt_num("status-every", optarg, 1, 3600, &a->status_every))
                return 2;
            break;
        case 'P':
            ro->pci_pause_dtmf = optarg;
            break;
        case 'Q':
            ro->pci_resume_dtmf = optarg;
            break;
        case 'K':
            a->control = optarg;
            break;
        case 'O':
            if (!strcmp(optarg, "spill")) {
                ro->overload = REC_OVERLOAD_SPILL;
            } else if (!strcmp(optarg, "drop")) {
                ro->overload = REC_OVERLOAD_DROP;
            } else if (!strcmp(optarg, "wait")) {
                ro->overload = REC_OVERLOAD_WAIT;
            } else {
                fprintf(stderr, "earshot record: bad --overload %s (spill, drop or wait)\n",
                        optarg);
                return 2;
            }
            a->overload_set = true;
            break;
        case 'D':
            ro->spool_dir = optarg;
            break;
        case 'F':
            if (!opt_num("spool-floor", optarg, 1, 1 << 24, &v))
                return 2;
            ro->spool_floor = (uint64_t)v << 20;
            break;
        case 'q': { /* MiB, or KiB with a K: 64K to 2048 */
            unsigned long long q = strtoull(optarg, &end, 10);
            bool kib = *end == 'K' || *end == 'k';
            if (end == optarg || (kib ? end[1] : *end) ||
                (kib ? q < 64 || q > (2048u << 10) : q < 1 || q > 2048)) {
                fprintf(stderr, "earshot record: bad --queue %s (MiB 1 to 2048, or 64K and up)\n",
                        optarg);
                return 2;
            }
            ro->queue_bytes = (size_t)q << (kib ? 10 : 20);
            break;
        }
        case 'Y':
            if (!opt_num("worker-delay", optarg, 0, 1000000, &v))
                return 2;
            ro->worker_delay_us = (int)v;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!a->file == !a->iface || optind != cli->argc) {
        fprintf(stderr, "earshot record: %s\n%s",
                optind != cli->argc ? "unexpected argument" : "give one of -r FILE or -i IFACE",
                usage);
        return 2;
    }
    if (!pci_sequences(ro))
        return 2;
    ro->source_ref = a->file ? a->file : a->iface;
    if (a->file && !a->overload_set) /* a file loses nothing by being read more slowly */
        ro->overload = REC_OVERLOAD_WAIT;
    return -1;
}

/* Everything a run holds, opened by open_run and closed by close_run. */
struct record_run {
    struct pcapin *in;
    struct ingest_session *s;
    struct catalog *cat;
    struct recorder *r;
    struct rec_health *health;
    struct rec_control *ctl;
};

static void close_run(struct record_run *x)
{
    capture = NULL;
    rec_control_close(x->ctl);
    rec_health_free(x->health);
    recorder_free(x->r);
    catalog_close(x->cat);
    ingest_session_close(x->s);
    pcapin_close(x->in);
}

/* The capture (privileges dropped once it is open), the archive, the
 * recorder, and for live capture its health and control socket. 0, or -1
 * with the reason logged. */
static int open_run(struct es_cli *cli, struct record_args *a, struct record_run *x)
{
    struct es_err err = {{0}};
    struct ingest_opts io = ingest_opts_default(cli->data_dir, "recorder");
    int orc = a->file ? pcapin_open_file(a->file, &x->in, &err)
                      : pcapin_open_live(a->iface, a->filter, a->buffer_mb, &x->in, &err);
    if (!orc && a->user)
        orc = drop_privileges(a->user, &err);
    if (orc || ingest_session_open(&io, &x->s, &err) ||
        catalog_open(cli->data_dir, &x->cat, &err) ||
        archive_keys_check(x->cat, es_config_get(cli->config, "encryption_key_file"), &err) ||
        recorder_new(&a->ro, x->s, x->cat, &x->r, &err)) {
        ES_ERROR("record", "%s", err.msg);
        return -1;
    }
    if (a->metrics && !a->iface) {
        ES_ERROR("record", "--metrics is for live capture (-i)");
        return -1;
    }
    if (a->iface && (rec_health_new(a->iface, &x->health) ||
                     (a->metrics && rec_health_serve(x->health, a->metrics, &err)))) {
        ES_ERROR("record", "%s", err.msg[0] ? err.msg : "out of memory");
        return -1;
    }
    if (a->iface && !(a->control && !strcmp(a->control, "none"))) {
        char def[4096];
        const char *control = a->control;
        if (!control) {
            snprintf(def, sizeof def, "%s/recorder.sock", cli->data_dir);
            control = def;
        }
        struct es_err e = {{0}};
        if (rec_control_open(control, &x->ctl, &e)) /* the capture goes on without it */
            ES_WARN("record", "no PCI pause/resume by API: %s", e.msg);
        else
            ES_INFO("record", "control socket %s", control);
    }
    capture = x->in;
    return 0;
}

/* Packets into the recorder until the input ends or a signal stops it; live
 * capture also reports drops, statistics and health as it goes. *last: the
 * capture clock at the end. The return is pcapin_next's last. */
static int capture_loop(const struct record_args *a, struct record_run *x, int64_t *last,
                        struct es_err *err)
{
    struct pcapin_packet pk;
    int64_t next_report = es_now_ms() + 60000, next_line = 0, next_snap = 0;
    int64_t next_status = es_now_ms() + a->status_every * 1000;
    bool tty = a->stats && isatty(2);
    int got = 0;
    while (!stop && (got = pcapin_next(x->in, &pk, err)) == 1) {
        rec_control_poll(x->ctl, x->r); /* a pause takes effect before the next packet */
        if (pk.len) {
            recorder_packet(x->r, pk.linktype, pk.data, pk.len, pk.ts_us);
            *last = pk.ts_us;
        } else if (a->iface) { /* a quiet moment: calls still end on time */
            *last = es_now_ms() * 1000;
            recorder_idle(x->r, *last);
        }
        if (!a->iface)
            continue;
        int64_t now = es_now_ms();
        if (now >= next_report) { /* drops are never silent */
            live_report(x->in, x->r, false);
            next_report = now + 60000;
        }
        if (a->stats && now >= next_line) {
            live_report(x->in, x->r, tty);
            next_line = now + 1000;
        }
        if (now >= next_snap) { /* the metrics' view, once a second */
            health_snapshot(x->in, x->r, x->health, now, now >= next_status ? x->cat : NULL,
                            a->iface);
            if (now >= next_status)
                next_status = now + a->status_every * 1000;
            next_snap = now + 1000;
        }
    }
    if (tty)
        fputs("\n", stderr);
    return got;
}

int cmd_record(struct es_cli *cli)
{
    struct record_args a = {0};
    int rc = parse_args(cli, &a);
    if (rc >= 0)
        return rc;
    struct record_run x = {0};
    rc = 1;
    if (open_run(cli, &a, &x))
        goto out;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (a.iface)
        ES_INFO("record", "capturing on %s%s%s", a.iface, a.filter ? " filter=" : "",
                a.filter ? a.filter : "");
    struct es_err err = {{0}};
    double t_start = mono_s();
    int64_t last = 0;
    int got = capture_loop(&a, &x, &last, &err);
    if (got < 0 && !stop)
        ES_ERROR("record", "%s: %s (calls so far are kept)", a.ro.source_ref, err.msg);
    if (a.iface) {
        live_report(x.in, x.r, false);
        last = es_now_ms() * 1000;
    }
    double t_input = mono_s();
    recorder_finish(x.r, last); /* SIGTERM or end of input: calls in progress are archived */
    if (a.iface)                /* the last word: what the run ended with */
        health_snapshot(x.in, x.r, x.health, es_now_ms(), x.cat, a.iface);
    struct recorder_counters cnt;
    recorder_counters(x.r, &cnt);
    summary(x.r, &cnt, a.json, t_input - t_start, mono_s() - t_input);
    rc = got < 0 || cnt.calls_failed ? 1 : 0;
out:
    close_run(&x);
    return rc;
}
