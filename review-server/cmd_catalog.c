/* earshot catalog migrate-to|compare: moving a site's SQLite catalog into
 * PostgreSQL, every module's tables with it (the copy itself is archive's
 * catalog_copy; this command opens each module on both sides so that their
 * tables exist at the same version first). */
#include "review-server/review_int.h"

#include "analytics/analytics.h"
#include "followup/followup.h"
#include "scripts-rubric/rubric.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: earshot catalog migrate-to URL [--batch N]\n"
    "       earshot catalog compare URL\n"
    "migrate-to copies the SQLite catalog (DIR/catalog.db, or --catalog FILE) into\n"
    "the catalog at URL (postgresql://...), which must be empty or a copy this\n"
    "command left unfinished: it goes on where it stopped. Each table is then\n"
    "checked (rows and a digest of their values). compare does the check alone.\n"
    "Stop every earshot process writing the catalog first; afterwards point each\n"
    "one at URL (--catalog, $EARSHOT_CATALOG or 'catalog =' in the config file).\n";

/* Every module's tables, made or brought up to date on c. */
static int open_modules(struct catalog *c, struct es_err *err)
{
    struct review_store *rv = NULL;
    struct rubric_store *rs = NULL;
    struct analytics *an = NULL;
    struct followup *fu = NULL;
    int rc = review_store_open(c, &rv, err);
    if (!rc)
        rc = rubric_store_open(c, &rs, err);
    if (!rc)
        rc = analytics_open(c, &an, err);
    if (!rc)
        rc = followup_open(c, &fu, err);
    followup_close(fu);
    analytics_close(an);
    rubric_store_close(rs);
    review_store_close(rv);
    return rc;
}

static int open_both(struct es_cli *cli, const char *url, struct catalog **src,
                     struct catalog **dst, struct es_err *err)
{
    *src = *dst = NULL;
    const char *from = catalog_target();
    if (db_is_url(from))
        return es_seterr(err, ES_EINVAL, "the catalog to copy from is already PostgreSQL (%s)",
                         "--catalog names a server");
    if (!db_is_url(url))
        return es_seterr(err, ES_EINVAL, "%s: not a postgresql:// URL", url);
    int rc = catalog_open_at(cli->data_dir, from, src, err);
    if (!rc)
        rc = open_modules(*src, err);
    if (!rc)
        rc = catalog_open_at(cli->data_dir, url, dst, err);
    if (!rc)
        rc = open_modules(*dst, err);
    return rc;
}

static void progress(void *ud, const char *table, int64_t rows)
{
    int64_t *total = ud;
    *total += rows;
    ES_INFO("catalog", "copied table=%s rows=%lld total=%lld", table, (long long)rows,
            (long long)*total);
}

static void each(void *ud, const char *table, int64_t a, int64_t b, bool same)
{
    (void)ud;
    printf("%-28s %10lld %10lld  %s\n", table, (long long)a, (long long)b,
           same ? "same" : "DIFFERENT");
}

static int compare(struct catalog *src, struct catalog *dst, struct es_err *err)
{
    printf("%-28s %10s %10s\n", "TABLE", "SQLITE", "TARGET");
    int differing = 0;
    int rc = catalog_compare(src, dst, each, NULL, &differing, err);
    if (rc)
        return rc;
    if (differing)
        return es_seterr(err, ES_ECORRUPT, "%d table(s) differ", differing);
    return 0;
}

int cmd_catalog(struct es_cli *cli)
{
    const char *sub = cli->argc > 1 ? cli->argv[1] : "";
    bool migrate = !strcmp(sub, "migrate-to");
    if ((!migrate && strcmp(sub, "compare")) || cli->argc < 3) {
        fputs(usage_text, !strcmp(sub, "--help") ? stdout : stderr);
        return !strcmp(sub, "--help") ? 0 : 2;
    }
    const char *url = cli->argv[2];
    int batch = 5000;
    static const struct option opts[] = {
        {"batch", required_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'}, {0}};
    optind = 1;
    int o;
    while ((o = getopt_long(cli->argc - 2, cli->argv + 2, "", opts, NULL)) != -1) {
        if (o == 'b' && atoi(optarg) > 0) {
            batch = atoi(optarg);
        } else {
            fputs(usage_text, o == 'h' ? stdout : stderr);
            return o == 'h' ? 0 : 2;
        }
    }
    struct es_err err = {{0}};
    struct catalog *src = NULL, *dst = NULL;
    int rc = open_both(cli, url, &src, &dst, &err);
    int64_t total = 0;
    if (!rc && migrate) {
        rc = catalog_copy(src, dst, batch, progress, &total, &err);
        if (!rc)
            ES_INFO("catalog", "copy done rows=%lld; checking", (long long)total);
    }
    if (!rc)
        rc = compare(src, dst, &err);
    catalog_close(dst);
    catalog_close(src);
    if (rc) {
        fprintf(stderr, "earshot catalog %s: %s\n", sub, err.msg);
        return 1;
    }
    if (migrate)
        printf("the catalog is in %s: point every earshot process at it (--catalog,"
               " $EARSHOT_CATALOG or 'catalog =' in the config file)\n",
               "PostgreSQL");
    return 0;
}
