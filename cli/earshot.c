/* earshot: the subcommand table. Each command's code lives in its module. */
#include "analytics/analytics.h"
#include "archive/archive.h"
#include "followup/followup.h"
#include "recorder/recorder.h"
#include "review-server/review.h"
#include "scripts-rubric/rubric.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* `report calls|presence` come from the PBX's logs (analytics), the other
 * reports from the evaluations (scripts-rubric). */
static int cmd_report_any(struct es_cli *cli)
{
    bool pbx =
        cli->argc >= 2 && (!strcmp(cli->argv[1], "calls") || !strcmp(cli->argv[1], "presence"));
    return pbx ? cmd_analytics_report(cli) : cmd_report(cli);
}

/* retention --policy is the review server's (rules on evaluations, audited) */
static int cmd_retention_any(struct es_cli *cli)
{
    for (int i = 1; i < cli->argc; i++)
        if (!strcmp(cli->argv[i], "--policy"))
            return cmd_retention_policy(cli);
    return cmd_retention(cli);
}

static const struct command {
    const char *name;
    int (*run)(struct es_cli *cli);
    const char *help;
} commands[] = {
    {"ingest", cmd_ingest, "archive PBX recordings (files or directories)"},
    {"record", cmd_record, "record calls from a pcap/pcapng capture"},
    {"ls", cmd_ls, "list calls"},
    {"show", cmd_show, "show one call with its analysis"},
    {"sources", cmd_sources, "where refused and untracked INVITEs came from (SIP scanners)"},
    {"verify", cmd_verify, "re-hash every recording against the catalog"},
    {"retention", cmd_retention_any, "delete audio older than a period (legal holds kept)"},
    {"audio", cmd_audio, "a recording as Ogg Opus (decrypted if encrypted at rest)"},
    {"keys", cmd_keys, "encryption at rest: init a master key file, rotate, status"},
    {"encrypt-existing", cmd_encrypt_existing, "encrypt the recordings stored in the clear"},
    {"calibrate", cmd_calibrate, "score a call blind with several reviewers; agreement"},
    {"redact", cmd_redact, "silence a range of a recording for good (PCI, privacy)"},
    {"subject", cmd_subject, "a data subject's calls by phone number: find, export, erase"},
    {"hold", cmd_hold, "put a call under legal hold"},
    {"unhold", cmd_unhold, "lift a legal hold"},
    {"rubric", cmd_rubric, "check, score, import and show call-script rubrics"},
    {"eval", cmd_eval, "add, edit, acknowledge, dispute and list evaluations"},
    {"report", cmd_report_any, "calls, presence (PBX logs); recurring errors, scores"},
    {"pbx", cmd_pbx, "import the PBX's queue_log, CDR or JSON events"},
    {"operator", cmd_operator, "map a queue member's name to an operator extension"},
    {"customers", cmd_customers, "import the customer directory (segments, account managers)"},
    {"missed", cmd_missed, "missed calls nobody has called back yet: list, close, claim, report"},
    {"notify", cmd_notify, "send notifications (webhook, e-mail); list and retry dead letters"},
    {"erlang", cmd_erlang, "Erlang C / Erlang A: agents for a service level"},
    {"staffing", cmd_staffing, "agents needed per weekday and hour, against who was there"},
    {"serve", cmd_serve, "run the review server (web UI and JSON API)"},
    {"user", cmd_user, "add, disable and list review-server users"},
    {"audit", cmd_audit, "verify the audit log's hash chain"},
    {"catalog", cmd_catalog, "move an SQLite catalog into PostgreSQL; compare two catalogs"},
};

/* Every key the configuration file may hold (see packaging/earshot.conf). */
static const char *const config_keys[] = {
    "data",
    "catalog",
    "timezone",
    "ingest.jobs",
    "ingest.pattern",
    "ingest.legs",
    "ingest.bitrate",
    "ingest.stereo_bitrate",
    "ingest.max_rate",
    "ingest.settle",
    "ingest.move_to",
    "ingest.delete",
    "serve.trusted_proxies",
    "business_hours",
    "country_code",
    "retention",
    "pci_pause_dtmf",
    "pci_resume_dtmf",
    "recorder_control",
    "encryption_key_file",
    "dispute_days",
    NULL,
};

/* The recorder audits the pauses DTMF made in the review server's log. */
static void record_audit(struct catalog *cat, const char *actor, const char *action,
                         const char *target, const char *detail)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    struct review_store *rv = NULL;
    struct es_err err = {{0}};
    if (review_store_open(cat, &rv, &err) || review_audit(rv, actor, action, target, detail, &err))
        ES_ERROR("record", "audit %s %s: %s", action, target, err.msg);
    else
        review_audit_anchor(rv);
    review_store_close(rv);
    pthread_mutex_unlock(&mu);
}

/* Commands that read or write audio: a key file that cannot open what the
 * catalog holds stops them at start-up, not at the first recording. (record
 * checks once it has dropped root: the catalog's files are the service's.) */
static const char *const audio_commands[] = {
    "serve", "ingest",    "verify",           "redact", "subject",
    "audio", "retention", "encrypt-existing", "keys",   NULL,
};

/* encryption_key_file: the process's keyring, checked against the catalog. */
static int load_keys(struct es_cli *cli, struct archive_keyring **out)
{
    *out = NULL;
    const char *kf = es_config_get(cli->config, "encryption_key_file");
    bool keys_cmd = !strcmp(cli->argv[0], "keys");
    struct es_err err = {{0}};
    if (kf && kf[0]) {
        int rc = archive_keyring_load(kf, out, &err);
        if (rc && !(keys_cmd && rc == -ENOENT)) { /* `keys init` makes it */
            fprintf(stderr, "earshot: encryption_key_file %s\n", err.msg);
            return rc;
        }
        archive_keyring_set(*out);
    }
    bool audio = false;
    for (size_t i = 0; audio_commands[i]; i++)
        audio |= !strcmp(cli->argv[0], audio_commands[i]);
    if (!audio || (keys_cmd && cli->argc > 1 && !strcmp(cli->argv[1], "init")) ||
        (cli->argc > 1 && !strcmp(cli->argv[1], "--help")))
        return 0;
    struct catalog *c = NULL;
    int rc = catalog_open(cli->data_dir, &c, &err);
    if (!rc)
        rc = archive_keys_check(c, kf, &err);
    catalog_close(c);
    if (rc)
        fprintf(stderr, "earshot: %s\n", err.msg);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: earshot [--data DIR] [--catalog DB] [--config FILE] [-q|-v] COMMAND"
               " [ARGS]\n\n"
               "The data directory is --data, else $EARSHOT_DATA, else the config file's\n"
               "'data', else ./earshot-data. The catalog is --catalog (an SQLite file or a\n"
               "postgresql:// URL), else $EARSHOT_CATALOG, else the config file's 'catalog',\n"
               "else DIR/catalog.db. The config file is --config or $EARSHOT_CONFIG.\n\n"
               "commands:\n");
    for (size_t i = 0; i < ES_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'earshot COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C");
    if (sodium_init() < 0) {
        fprintf(stderr, "earshot: libsodium failed to initialise\n");
        return 1;
    }
    struct es_cli cli = {0};
    recorder_set_audit_hook(record_audit);
    const char *config_path = getenv("EARSHOT_CONFIG");
    const char *catalog = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--data") && i + 1 < argc) {
            cli.data_dir = argv[++i];
        } else if (!strncmp(a, "--data=", 7)) {
            cli.data_dir = a + 7;
        } else if (!strcmp(a, "--catalog") && i + 1 < argc) {
            catalog = argv[++i];
        } else if (!strncmp(a, "--catalog=", 10)) {
            catalog = a + 10;
        } else if (!strcmp(a, "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            es_log_set_level(ES_LOG_WARN);
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            es_log_set_level(ES_LOG_DEBUG);
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("earshot %s\n", EARSHOT_VERSION);
            return 0;
        } else {
            fprintf(stderr, "earshot: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    struct es_config *cfg = NULL;
    if (config_path && config_path[0]) {
        struct es_err err = {{0}};
        /* the core's keys and the notification rules' */
        const char *keys[ES_ARRAY_LEN(config_keys) + 64];
        size_t n = 0;
        for (size_t k = 0; config_keys[k]; k++)
            keys[n++] = config_keys[k];
        for (size_t k = 0; notify_config_keys[k] && n + 1 < ES_ARRAY_LEN(keys); k++)
            keys[n++] = notify_config_keys[k];
        keys[n] = NULL;
        if (es_config_load(config_path, keys, &cfg, &err)) {
            fprintf(stderr, "earshot: %s\n", err.msg);
            return 2;
        }
        cli.config = cfg;
        /* PBX file names carry local time: the PBX's zone decides */
        const char *tz = es_config_get(cfg, "timezone");
        if (tz && tz[0]) {
            setenv("TZ", tz, 1);
            tzset();
        }
    }
    /* --data, then $EARSHOT_DATA, then the config file, then ./earshot-data */
    if (!cli.data_dir || !cli.data_dir[0])
        cli.data_dir = getenv("EARSHOT_DATA");
    if ((!cli.data_dir || !cli.data_dir[0]) && es_config_get(cfg, "data"))
        cli.data_dir = es_config_get(cfg, "data");
    if (!cli.data_dir || !cli.data_dir[0])
        cli.data_dir = "earshot-data";
    /* the catalog: --catalog, then $EARSHOT_CATALOG, then the config file,
     * then <data>/catalog.db */
    if (!catalog || !catalog[0])
        catalog = getenv("EARSHOT_CATALOG");
    if (!catalog || !catalog[0])
        catalog = es_config_get(cfg, "catalog");
    catalog_set_target(catalog);
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t k = 0; k < ES_ARRAY_LEN(commands); k++) {
        if (!strcmp(argv[i], commands[k].name)) {
            cli.argc = argc - i;
            cli.argv = argv + i;
            struct archive_keyring *kr = NULL;
            int rc = load_keys(&cli, &kr) ? 2 : commands[k].run(&cli);
            es_config_free(cfg);
            /* a rotation may have put a new keyring in place of kr (and freed kr) */
            struct archive_keyring *cur = (struct archive_keyring *)archive_keyring_get();
            archive_keyring_set(NULL);
            archive_keyring_free(cur);
            return rc;
        }
    }
    fprintf(stderr, "earshot: unknown command '%s'\n", argv[i]);
    usage(stderr);
    es_config_free(cfg);
    return 2;
}
