/* earshot serve: the review server in the foreground until SIGTERM or SIGINT. */
#include "review-server/http_int.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: earshot serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
    "                     [--threads N] [--max-connections N] [--per-ip N] [--timeout S]\n"
    "                     [--max-upload MB] [--trusted-proxies ADDR[/BITS],...]\n"
    "                     [--chunk-cache MB]\n"
    "Defaults: 127.0.0.1:8080, one thread per CPU (at least 2), 1024 connections,\n"
    "64 per address, idle connections closed after 30 s, pushed recordings up to 512 MB,\n"
    "32 MB of decrypted audio chunks kept for the requests that follow (recordings\n"
    "encrypted at rest; 0: none).\n";

static int read_pem(const char *opt, const char *path, struct es_buf *b)
{
    int rc = es_read_file(path, 1 << 20, b);
    if (rc)
        fprintf(stderr, "earshot serve: %s %s: %s\n", opt, path, es_strerror(rc));
    return rc;
}

static int number(const char *opt, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!v[0] || *end || n < (long)lo || n > (long)hi) {
        fprintf(stderr, "earshot serve: %s %s: expected %u-%u\n", opt, v, lo, hi);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

/* What the command line asks for. */
struct serve_args {
    struct http_opts o;
    const char *cert, *key, *proxies;
    unsigned cache_mb;
};

/* -1 to go on, else the exit status (a usage error, said on stderr). */
static int parse_args(struct es_cli *cli, struct serve_args *a)
{
    static const struct option lo[] = {
        {"listen", required_argument, NULL, 'l'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'k'},
        {"threads", required_argument, NULL, 't'},
        {"max-connections", required_argument, NULL, 'm'},
        {"per-ip", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 'T'},
        {"max-upload", required_argument, NULL, 'U'},
        {"trusted-proxies", required_argument, NULL, 'P'},
        {"chunk-cache", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct http_opts *o = &a->o;
    *o = (struct http_opts){.listen = "127.0.0.1:8080",
                            .threads = cpus > 2 ? (unsigned)cpus : 2,
                            .max_connections = 1024,
                            .per_ip = 64,
                            .timeout_s = 30};
    a->cache_mb = 32;
    a->proxies = es_config_get(cli->config, "serve.trusted_proxies");
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'l':
            o->listen = optarg;
            break;
        case 'c':
            a->cert = optarg;
            break;
        case 'k':
            a->key = optarg;
            break;
        case 't':
            bad = number("--threads", optarg, 1, 256, &o->threads);
            break;
        case 'm':
            bad = number("--max-connections", optarg, 1, 100000, &o->max_connections);
            break;
        case 'p':
            bad = number("--per-ip", optarg, 1, 100000, &o->per_ip);
            break;
        case 'T':
            bad = number("--timeout", optarg, 1, 3600, &o->timeout_s);
            break;
        case 'U':
            bad = number("--max-upload", optarg, 1, 1 << 20, &o->max_upload_mb);
            break;
        case 'P':
            a->proxies = optarg;
            break;
        case 'C':
            bad = number("--chunk-cache", optarg, 0, 65536, &a->cache_mb);
            break;
        default:
            bad = 1;
        }
        if (bad) {
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind != cli->argc || (!a->cert != !a->key)) {
        fputs(usage_text, stderr);
        return 2;
    }
    return -1;
}

/* The config file's settings of the server: business hours, country code,
 * the dispute deadline, the recorder's control socket. 0, or -1 said on
 * stderr. */
static int server_settings(struct es_cli *cli, struct server *srv)
{
    struct es_err err = {{0}};
    const char *bh = es_config_get(cli->config, "business_hours");
    if (bh && an_hours_parse(bh, &srv->hours, &err)) {
        fprintf(stderr, "earshot serve: %s\n", err.msg);
        return -1;
    }
    srv->has_hours = bh != NULL;
    const char *cc = es_config_get(cli->config, "country_code");
    snprintf(srv->country_code, sizeof srv->country_code, "%s", cc ? cc : "");
    const char *dd = es_config_get(cli->config, "dispute_days");
    if (dd && dd[0]) {
        char *end;
        long v = strtol(dd, &end, 10);
        if (*end || v < 1 || v > 365) {
            fprintf(stderr, "earshot serve: dispute_days %s: expected 1-365 days\n", dd);
            return -1;
        }
        srv->dispute_days = (int)v;
    }
    const char *ctl = es_config_get(cli->config, "recorder_control");
    if (ctl && ctl[0])
        snprintf(srv->recorder_control, sizeof srv->recorder_control, "%s", ctl);
    else
        snprintf(srv->recorder_control, sizeof srv->recorder_control, "%s/recorder.sock",
                 cli->data_dir);
    return 0;
}

/* The catalog opened once before listening, so that migrations run and
 * problems show at start; then the ingest session for pushed recordings and
 * the decrypted-chunk cache. 0, or -1 said on stderr. */
static int open_stores(struct es_cli *cli, struct server *srv, unsigned cache_mb,
                       struct catalog **cat)
{
    struct es_err err = {{0}};
    struct rubric_store *rs = NULL;
    struct review_store *rv = NULL;
    if (catalog_open(cli->data_dir, cat, &err) || rubric_store_open(*cat, &rs, &err) ||
        review_store_open(*cat, &rv, &err)) {
        fprintf(stderr, "earshot serve: %s\n", err.msg);
        rubric_store_close(rs);
        return -1;
    }
    review_store_close(rv);
    rubric_store_close(rs);
    /* pushed recordings go through the same ingest as `earshot ingest` */
    srv->ingest_opts = ingest_opts_default(srv->data_dir, "api");
    srv->ingest_opts.disposition = INGEST_DELETE; /* the spooled upload, once archived */
    if (ingest_session_open(&srv->ingest_opts, &srv->ingest, &err)) {
        fprintf(stderr, "earshot serve: %s\n", err.msg);
        return -1;
    }
    if (archive_keyring_get() && archive_chunk_cache((size_t)cache_mb << 20)) {
        fprintf(stderr, "earshot serve: no memory for a %u MB chunk cache\n", cache_mb);
        return -1;
    }
    return 0;
}

int cmd_serve(struct es_cli *cli)
{
    struct serve_args a = {0};
    int rc = parse_args(cli, &a);
    if (rc >= 0)
        return rc;
    struct es_err err = {{0}};
    if (a.proxies && proxies_parse(a.proxies, &a.o.proxies, &err)) {
        fprintf(stderr, "earshot serve: %s\n", err.msg);
        return 2;
    }
    struct es_buf cert_pem = {0}, key_pem = {0};
    if (a.cert &&
        (read_pem("--tls-cert", a.cert, &cert_pem) || read_pem("--tls-key", a.key, &key_pem))) {
        es_buf_free(&cert_pem);
        es_buf_free(&key_pem);
        return 1;
    }
    a.o.tls_cert = cert_pem.data;
    a.o.tls_key = key_pem.data;

    /* the pool threads inherit this mask: signals come to sigwait below */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct server *srv = calloc(1, sizeof *srv);
    struct catalog *cat = NULL;
    rc = 1;
    if (!srv || es_fmt(srv->data_dir, sizeof srv->data_dir, "%s", cli->data_dir))
        goto out;
    if (server_settings(cli, srv)) {
        rc = 2;
        goto out;
    }
    if (open_stores(cli, srv, a.cache_mb, &cat))
        goto out;
    if (http_start(srv, &a.o, &err)) {
        fprintf(stderr, "earshot serve: %s\n", err.msg);
        goto out;
    }
    ES_INFO("serve", "listening on %s://%s data=%s threads=%u", a.o.tls_cert ? "https" : "http",
            a.o.listen, cli->data_dir, a.o.threads);
    int sig = 0;
    sigwait(&set, &sig);
    ES_INFO("serve", "signal %d: finishing requests in progress", sig);
    http_stop(srv);
    rc = 0;
out:
    archive_chunk_cache(0); /* wiped */
    if (srv)
        ingest_session_close(srv->ingest);
    catalog_close(cat);
    free(srv);
    es_buf_free(&cert_pem);
    if (key_pem.data)
        sodium_memzero(key_pem.data, key_pem.len);
    es_buf_free(&key_pem);
    return rc;
}
