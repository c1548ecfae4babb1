/* Redaction after the fact: `earshot redact CALL --from S --to S --reason TEXT`
 * and POST /api/v1/calls/{id}/redact (supervisors, compliance staff, admins).
 * The range becomes silence on both channels for good (archive_redact) and the
 * change commits with its audit row (recording.redact). */
#include "review-server/http_int.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: earshot redact CALL_ID --from SECONDS --to SECONDS --reason TEXT\n"
    "Silences that range of the recording on both channels for good: the audio is\n"
    "encoded again without it, the waveform and talk figures follow, the catalog's hash\n"
    "is replaced and the old file overwritten and removed. Refused under legal hold.\n"
    "`show --json` lists it under redactions; audited as recording.redact.\n";

struct audit_ctx {
    struct review_store *rv;
    const char *actor, *id, *reason;
    int64_t from_ms, to_ms;
    struct es_err *err;
};

static int audit_in_tx(void *ud)
{
    struct audit_ctx *a = ud;
    json_t *d = json_pack("{s:I, s:I, s:s}", "from_ms", (json_int_t)a->from_ms, "to_ms",
                          (json_int_t)a->to_ms, "reason", a->reason);
    char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(d);
    int rc = ds ? review_audit(a->rv, a->actor, "recording.redact", a->id, ds, a->err) : ES_ENOMEM;
    free(ds);
    return rc;
}

static int redact(struct ingest_session *s, struct catalog *cat, struct review_store *rv,
                  const char *actor, const char *id, int64_t from_ms, int64_t to_ms,
                  const char *reason, struct es_err *err)
{
    struct audit_ctx a = {rv, actor, id, reason, from_ms, to_ms, err};
    struct archive_redaction red = {
        .from_ms = from_ms, .to_ms = to_ms, .by = actor, .reason = reason, .at = es_now_ms()};
    int rc = archive_redact(s, cat, id, &red, audit_in_tx, &a, err);
    if (!rc)
        review_audit_anchor(rv);
    return rc;
}

static bool seconds(const char *v, int64_t *ms)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !(d >= 0 && d < 1e7))
        return false;
    *ms = (int64_t)(d * 1000 + 0.5);
    return true;
}

int cmd_redact(struct es_cli *cli)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"reason", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t from = -1, to = -1;
    const char *reason = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(cli->argc, cli->argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
        case 't':
            if (!seconds(optarg, c == 'f' ? &from : &to)) {
                fprintf(stderr, "earshot redact: bad --%s %s (seconds into the recording)\n",
                        c == 'f' ? "from" : "to", optarg);
                return 2;
            }
            break;
        case 'r':
            reason = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != cli->argc - 1 || from < 0 || to < 0 || !reason || !reason[0] ||
        strlen(reason) > 500) {
        fprintf(stderr, "earshot redact: %s\n%s",
                optind != cli->argc - 1 ? "give one call id"
                : from < 0 || to < 0    ? "--from and --to are required"
                                        : "--reason is required (up to 500 characters)",
                usage);
        return 2;
    }
    const char *id = cli->argv[optind];
    if (to <= from) {
        fprintf(stderr, "earshot redact: --to must be after --from\n");
        return 2;
    }
    struct ingest_opts io = ingest_opts_default(cli->data_dir, "redact");
    struct es_err err = {{0}};
    struct ingest_session *s = NULL;
    struct catalog *cat = NULL;
    struct review_store *rv = NULL;
    int rc = ingest_session_open(&io, &s, &err);
    if (!rc)
        rc = catalog_open(cli->data_dir, &cat, &err);
    if (!rc)
        rc = review_store_open(cat, &rv, &err);
    if (!rc)
        rc = redact(s, cat, rv, "cli", id, from, to, reason, &err);
    if (rc)
        fprintf(stderr, "earshot redact: %s\n", err.msg[0] ? err.msg : es_strerror(rc));
    else
        printf("%s: %.3f s to %.3f s silenced\n", id, (double)from / 1000, (double)to / 1000);
    review_store_close(rv);
    catalog_close(cat);
    ingest_session_close(s);
    return rc ? 1 : 0;
}

enum MHD_Result api_call_redact(struct req *r)
{
    if (!r->srv->ingest)
        return http_error(r, 503, "recordings cannot be written: the ingest session is closed");
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording rec;
    bool has;
    int got = k ? catalog_get(r->w->cat, r->route.arg, k, &rec, &has) : ES_ENOMEM;
    free(k);
    if (got)
        return http_error(r, got == ES_ENOMEM ? 500 : 404, "no such call");
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    json_t *jf = json_object_get(b, "from_ms"), *jt = json_object_get(b, "to_ms");
    const char *reason = json_string_value(json_object_get(b, "reason"));
    if (!json_is_integer(jf) || !json_is_integer(jt) || json_integer_value(jf) < 0 ||
        json_integer_value(jt) <= json_integer_value(jf) || !reason || !reason[0] ||
        strlen(reason) > 500) {
        json_decref(b);
        return http_error(r, 400,
                          "expected {\"from_ms\", \"to_ms\" (after from_ms), \"reason\" (1 to 500"
                          " characters)}");
    }
    int64_t from = json_integer_value(jf), to = json_integer_value(jt);
    struct es_err err = {{0}};
    int rc = redact(r->srv->ingest, r->w->cat, r->w->rv, r->user.name, r->route.arg, from, to,
                    reason, &err);
    json_decref(b);
    if (rc == ES_ESTATE)
        return http_error(r, 409, "%s", err.msg);
    if (rc == ES_EINVAL)
        return http_error(r, 400, "%s", err.msg);
    if (rc)
        return http_error(r, 500, "%s", err.msg[0] ? err.msg : es_strerror(rc));
    return http_json(r, 200,
                     json_pack("{s:s, s:I, s:I}", "id", r->route.arg, "from_ms", (json_int_t)from,
                               "to_ms", (json_int_t)to));
}
