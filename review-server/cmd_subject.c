/* earshot subject find|export|erase NUMBER: a data subject's calls,
 * evaluations, unreturned-call entries and notifications, found through
 * every module's own door, exported, or erased (GDPR). Every step is audited
 * under a keyed pseudonym of the number, never the number itself. */
#include "review-server/review_int.h"
#include "followup/followup.h"
#include "scripts-rubric/rubric.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: earshot subject find NUMBER [--json]\n"
    "       earshot subject export NUMBER --out DIR\n"
    "       earshot subject erase NUMBER --reason TEXT [--dry-run] [--json]\n"
    "NUMBER in any spelling (national numbers take the configuration's country_code).\n"
    "erase deletes the audio of every call with the number as caller or callee, blanks\n"
    "the numbers, the customer and the free text written about them, keeps scores and\n"
    "error tags, removes its unreturned-call entries and undelivered notifications;\n"
    "calls under legal hold are listed and left untouched (exit status 1).\n";

struct ctx {
    struct catalog *cat;
    struct rubric_store *rs;
    struct review_store *rv;
    struct followup *fu;
    const char *cc;
    char e164[40], ref[33];
};

static int open_all(struct es_cli *cli, const char *number, struct ctx *x)
{
    struct es_err err = {{0}};
    memset(x, 0, sizeof *x);
    x->cc = cli->config ? es_config_get(cli->config, "country_code") : NULL;
    if (archive_e164(number, x->cc, x->e164, sizeof x->e164) || x->e164[0] != '+') {
        fprintf(stderr, "earshot subject: %s: not a phone number (an extension, or withheld)\n",
                number);
        return 2;
    }
    if (catalog_open(cli->data_dir, &x->cat, &err) || rubric_store_open(x->cat, &x->rs, &err) ||
        review_store_open(x->cat, &x->rv, &err) || followup_open(x->cat, &x->fu, &err) ||
        review_subject_ref(x->rv, x->e164, x->ref)) {
        fprintf(stderr, "earshot subject: %s\n", err.msg[0] ? err.msg : "the audit key");
        followup_close(x->fu);
        review_store_close(x->rv);
        rubric_store_close(x->rs);
        catalog_close(x->cat);
        return 1;
    }
    return 0;
}

static void close_all(struct ctx *x)
{
    followup_close(x->fu);
    review_store_close(x->rv);
    rubric_store_close(x->rs);
    catalog_close(x->cat);
}

/* ---- what there is ------------------------------------------------------------------ */
struct found {
    struct ctx *x;
    json_t *calls; /* one object per call */
    int64_t evaluations, comments, held;
};

static int add_eval(void *ud, json_t *summary)
{
    json_t *arr = ud;
    json_array_append(arr, summary);
    return 0;
}

static int one_call(void *ud, const struct catalog_party_call *c)
{
    struct found *f = ud;
    char when[ES_ISO_LEN];
    es_time_iso(c->started_at, when);
    json_t *sums = json_array();
    struct eval_filter ef = {.call_id = c->id, .status = -1};
    eval_list(f->x->rs, &ef, add_eval, sums);
    json_t *evals = json_array();
    size_t i;
    json_t *sm;
    json_array_foreach(sums, i, sm)
    {
        const char *eid = json_string_value(json_object_get(sm, "id"));
        json_t *full = NULL;
        struct es_err err = {{0}};
        int64_t comments = 0;
        if (eid && !eval_get_json(f->x->rs, eid, false, &full, &err)) {
            comments = (int64_t)json_array_size(json_object_get(full, "comments"));
            const char *oc = json_string_value(json_object_get(full, "comment"));
            comments += oc && oc[0];
        }
        json_decref(full);
        f->evaluations++;
        f->comments += comments;
        json_array_append_new(evals, json_pack("{s:s?, s:O?, s:O?, s:I}", "id", eid, "status",
                                               json_object_get(sm, "status"), "score",
                                               json_object_get(sm, "score"), "comments",
                                               (json_int_t)comments));
    }
    json_decref(sums);
    f->held += c->legal_hold;
    json_array_append_new(f->calls,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:o}", "id",
                                    c->id, "started_at", when, "caller", c->caller, "callee",
                                    c->callee, "direction", c->direction, "disposition",
                                    c->disposition, "customer", c->customer, "audio", c->has_audio,
                                    "legal_hold", c->legal_hold, "evaluations", evals));
    return 0;
}

static int entry(void *ud, const struct followup_entry *e)
{
    json_array_append_new(ud, followup_entry_json(e, es_now_ms()));
    return 0;
}

static int note(void *ud, const char *where, int64_t id, const char *event)
{
    json_array_append_new(
        ud, json_pack("{s:s, s:I, s:s}", "where", where, "id", (json_int_t)id, "event", event));
    return 0;
}

static int gather(struct ctx *x, struct found *f, json_t **entries, json_t **notes,
                  struct es_err *err)
{
    f->x = x;
    f->calls = json_array();
    *entries = json_array();
    *notes = json_array();
    int rc = catalog_calls_by_number(x->cat, x->e164, x->cc, one_call, f);
    struct followup_filter flt = {.which = 0, .number = x->e164};
    int64_t n;
    if (!rc)
        rc = followup_list(x->fu, &flt, es_now_ms(), entry, *entries, err);
    if (!rc)
        rc = followup_subject_notifications(x->fu, x->e164, x->cc, note, *notes, &n, err);
    if (rc && !err->msg[0])
        es_seterr(err, rc, "reading the catalog");
    return rc;
}

static int audit_one(struct ctx *x, const char *action, json_t *detail, struct es_err *err)
{
    json_object_set_new(detail, "subject", json_string(x->ref));
    char *d = json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(detail);
    bool outer;
    int rc = d ? catalog_tx_begin(catalog_sqlite(x->cat), &outer) : ES_ENOMEM;
    if (!rc) {
        rc = review_audit(x->rv, "cli", action, x->ref, d, err);
        rc = catalog_tx_end(catalog_sqlite(x->cat), outer, rc);
        if (!rc)
            review_audit_anchor(x->rv);
    }
    free(d);
    return rc;
}

static void print_line(json_t *o)
{
    char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (t)
        puts(t);
    free(t);
}

static int subject_find(struct es_cli *cli, const char *number, int json)
{
    struct ctx x;
    int rc = open_all(cli, number, &x);
    if (rc)
        return rc;
    struct es_err err = {{0}};
    struct found f = {0};
    json_t *entries, *notes;
    rc = gather(&x, &f, &entries, &notes, &err);
    if (!rc)
        rc = audit_one(&x, "subject.find",
                       json_pack("{s:I, s:I}", "calls", (json_int_t)json_array_size(f.calls),
                                 "evaluations", (json_int_t)f.evaluations),
                       &err);
    if (rc) {
        fprintf(stderr, "earshot subject find: %s\n", err.msg);
    } else if (json) {
        size_t i;
        json_t *c;
        json_array_foreach(f.calls, i, c) print_line(c);
        json_t *sum =
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:O, s:O}", "subject", x.e164, "calls",
                      (json_int_t)json_array_size(f.calls), "evaluations",
                      (json_int_t)f.evaluations, "comments", (json_int_t)f.comments, "legal_hold",
                      (json_int_t)f.held, "unreturned", entries, "notifications", notes);
        print_line(sum);
        json_decref(sum);
    } else {
        size_t i;
        json_t *c;
        printf("%s: %zu calls, %lld evaluations (%lld comments), %zu unreturned-call entries,"
               " %zu notifications not yet delivered\n",
               x.e164, json_array_size(f.calls), (long long)f.evaluations, (long long)f.comments,
               json_array_size(entries), json_array_size(notes));
        json_array_foreach(f.calls, i, c)
        {
            printf("  %s  %s  %s -> %s  %s%s%s  %zu evaluations\n",
                   json_string_value(json_object_get(c, "id")),
                   json_string_value(json_object_get(c, "started_at")),
                   json_string_value(json_object_get(c, "caller")),
                   json_string_value(json_object_get(c, "callee")),
                   json_string_value(json_object_get(c, "disposition")),
                   json_is_true(json_object_get(c, "audio")) ? ", audio" : "",
                   json_is_true(json_object_get(c, "legal_hold")) ? ", LEGAL HOLD" : "",
                   json_array_size(json_object_get(c, "evaluations")));
        }
    }
    json_decref(f.calls);
    json_decref(entries);
    json_decref(notes);
    close_all(&x);
    return rc ? 1 : 0;
}

/* ---- export -------------------------------------------------------------------------- */
static int write_json(const char *dir, const char *name, json_t *o, struct es_err *err)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = json_dump_file(o, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    return rc ? es_seterr(err, ES_EINVAL, "%s: cannot write", path) : 0;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = -errno;
        close(in);
        return e;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            rc = -EIO;
            break;
        }
    if (n < 0)
        rc = -errno;
    if (!rc && fsync(out))
        rc = -errno;
    close(in);
    close(out);
    return rc;
}

static int subject_export(struct es_cli *cli, const char *number, const char *out)
{
    if (mkdir(out, 0700) && errno != EEXIST) {
        fprintf(stderr, "earshot subject export: %s: %s\n", out, strerror(errno));
        return 1;
    }
    struct ctx x;
    int rc = open_all(cli, number, &x);
    if (rc)
        return rc;
    struct es_err err = {{0}};
    struct found f = {0};
    json_t *entries, *notes;
    rc = gather(&x, &f, &entries, &notes, &err);
    json_t *calls = json_array(), *evals = json_array();
    int64_t audio = 0;
    size_t i;
    json_t *c;
    struct archive_call *k = calloc(1, sizeof *k);
    json_array_foreach(f.calls, i, c)
    {
        if (rc || !k)
            break;
        const char *id = json_string_value(json_object_get(c, "id"));
        struct archive_recording rec;
        bool has = false;
        if (catalog_get(x.cat, id, k, &rec, &has))
            continue;
        json_array_append_new(calls, archive_call_json(k, has ? &rec : NULL));
        if (has && !k->purged_at) {
            char src[4700], dst[4700];
            snprintf(src, sizeof src, "%s/%s", catalog_data_dir(x.cat), rec.path);
            snprintf(dst, sizeof dst, "%s/%s.opus", out, id);
            int e = copy_file(src, dst);
            if (e && e != -EEXIST) {
                rc = es_seterr(&err, e, "%s: %s", src, es_strerror(e));
                break;
            }
            audio++;
        }
        size_t j;
        json_t *ev;
        json_array_foreach(json_object_get(c, "evaluations"), j, ev)
        {
            json_t *full;
            if (!eval_get_json(x.rs, json_string_value(json_object_get(ev, "id")), true, &full,
                               &err))
                json_array_append_new(evals, full);
        }
    }
    free(k);
    if (!rc)
        rc = write_json(out, "calls.json", calls, &err) ||
                     write_json(out, "evaluations.json", evals, &err) ||
                     write_json(out, "unreturned.json", entries, &err)
                 ? ES_EINVAL
                 : 0;
    if (!rc) {
        char path[4300];
        snprintf(path, sizeof path, "%s/README.txt", out);
        FILE *r = fopen(path, "w");
        if (r) {
            fprintf(r,
                    "What earshot holds about %s, exported on request.\n\n"
                    "calls.json        %zu calls where the number was the caller or the callee\n"
                    "                  (times in UTC, ISO 8601)\n"
                    "<call id>.opus    the %lld recordings still kept (Ogg Opus: customer left,\n"
                    "                  operator right; any player that plays Opus)\n"
                    "evaluations.json  %zu quality evaluations of those calls, with comments and\n"
                    "                  their history\n"
                    "unreturned.json   %zu entries of the list of missed calls to return\n",
                    x.e164, json_array_size(calls), (long long)audio, json_array_size(evals),
                    json_array_size(entries));
            rc = fclose(r) ? ES_EINVAL : 0;
        } else {
            rc = es_seterr(&err, -errno, "%s: %s", path, strerror(errno));
        }
    }
    if (!rc)
        rc = audit_one(&x, "subject.export",
                       json_pack("{s:I, s:I}", "calls", (json_int_t)json_array_size(calls),
                                 "recordings", (json_int_t)audio),
                       &err);
    if (rc)
        fprintf(stderr, "earshot subject export: %s\n", err.msg[0] ? err.msg : "cannot write");
    else
        printf("exported %zu calls, %lld recordings, %zu evaluations to %s\n",
               json_array_size(calls), (long long)audio, json_array_size(evals), out);
    json_decref(calls);
    json_decref(evals);
    json_decref(f.calls);
    json_decref(entries);
    json_decref(notes);
    close_all(&x);
    return rc ? 1 : 0;
}

/* ---- erase --------------------------------------------------------------------------- */
static int subject_erase(struct es_cli *cli, const char *number, const char *reason, int dry,
                         int json)
{
    struct ctx x;
    int rc = open_all(cli, number, &x);
    if (rc)
        return rc;
    struct es_err err = {{0}};
    struct found f = {0};
    json_t *entries, *notes;
    rc = gather(&x, &f, &entries, &notes, &err);
    size_t n = json_array_size(f.calls);
    char **paths = calloc(n ? n : 1, sizeof *paths);
    int64_t erased = 0, blanked = 0;
    struct followup_erased fe = {0};
    struct archive_call *k = calloc(1, sizeof *k);
    if (!rc && !dry && paths && k) {
        /* everything in one transaction with its audit row; the files after */
        bool outer;
        rc = catalog_tx_begin(catalog_sqlite(x.cat), &outer);
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *c = json_array_get(f.calls, i);
            if (json_is_true(json_object_get(c, "legal_hold")))
                continue;
            const char *id = json_string_value(json_object_get(c, "id"));
            struct archive_recording rec;
            bool has = false;
            rc = catalog_get(x.cat, id, k, &rec, &has);
            if (!rc && has && !k->purged_at)
                paths[i] = strdup(rec.path);
            if (!rc)
                rc = catalog_erase_call(x.cat, id, es_now_ms());
            int64_t ch = 0;
            if (!rc)
                rc = eval_erase_text(x.rs, id, &ch, &err);
            blanked += ch;
            erased += !rc;
        }
        if (!rc)
            rc = followup_subject_erase(x.fu, x.e164, x.cc, &fe, &err);
        json_t *d =
            json_pack("{s:s, s:I, s:I, s:I, s:I}", "reason", reason, "calls", (json_int_t)erased,
                      "held", (json_int_t)f.held, "entries", (json_int_t)fe.entries,
                      "notifications", (json_int_t)fe.notifications);
        json_object_set_new(d, "subject", json_string(x.ref));
        char *ds = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(d);
        if (!rc)
            rc = review_audit(x.rv, "cli", "subject.erase", x.ref, ds, &err);
        free(ds);
        rc = catalog_tx_end(catalog_sqlite(x.cat), outer, rc);
        if (!rc) {
            review_audit_anchor(x.rv);
            for (size_t i = 0; i < n; i++) {
                if (!paths[i])
                    continue;
                char full[4700];
                snprintf(full, sizeof full, "%s/%s", catalog_data_dir(x.cat), paths[i]);
                if (unlink(full) && errno != ENOENT)
                    ES_ERROR("subject", "%s: %s (the call is erased; remove the file by hand)",
                             full, strerror(errno));
            }
        }
    }
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    free(k);
    if (rc) {
        fprintf(stderr, "earshot subject erase: %s\n", err.msg[0] ? err.msg : es_strerror(rc));
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(f.calls, i, c)
        {
            bool held = json_is_true(json_object_get(c, "legal_hold"));
            const char *id = json_string_value(json_object_get(c, "id"));
            const char *what = held ? "held, left untouched" : dry ? "would erase" : "erased";
            if (json) {
                json_t *o = json_pack("{s:s, s:s}", "id", id, "action", what);
                print_line(o);
                json_decref(o);
            } else {
                printf("%-22s %s\n", what, id);
            }
        }
        if (json) {
            json_t *o = json_pack(
                "{s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "subject", x.e164, "calls",
                (json_int_t)(dry ? (int64_t)n - f.held : erased), "held", (json_int_t)f.held,
                "evaluation_rows_blanked", (json_int_t)blanked, "unreturned",
                (json_int_t)(dry ? (int64_t)json_array_size(entries) : fe.entries), "notifications",
                (json_int_t)(dry ? (int64_t)json_array_size(notes) : fe.notifications), "dry_run",
                dry);
            print_line(o);
            json_decref(o);
        } else {
            printf("%s: %s %lld calls, %lld held; %lld unreturned-call entries, %lld"
                   " notifications\n",
                   x.e164, dry ? "would erase" : "erased",
                   (long long)(dry ? (int64_t)n - f.held : erased), (long long)f.held,
                   (long long)(dry ? (int64_t)json_array_size(entries) : fe.entries),
                   (long long)(dry ? (int64_t)json_array_size(notes) : fe.notifications));
        }
        if (f.held)
            fprintf(stderr,
                    "earshot subject erase: %lld calls are under legal hold and were left"
                    " untouched\n",
                    (long long)f.held);
    }
    json_decref(f.calls);
    json_decref(entries);
    json_decref(notes);
    close_all(&x);
    return rc ? 1 : f.held ? 1 : 0;
}

int cmd_subject(struct es_cli *cli)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, 'J'},         {"out", required_argument, NULL, 'o'},
        {"reason", required_argument, NULL, 'r'}, {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int json = 0, dry = 0, c;
    const char *out = NULL, *reason = NULL;
    if (cli->argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    struct es_cli sub = *cli;
    sub.argc--;
    sub.argv++;
    optind = 1;
    while ((c = getopt_long(sub.argc, sub.argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'J':
            json = 1;
            break;
        case 'o':
            out = optarg;
            break;
        case 'r':
            reason = optarg;
            break;
        case 'n':
            dry = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    const char *what = cli->argv[1];
    if (optind != sub.argc - 1) {
        fputs(usage, stderr);
        return 2;
    }
    const char *number = sub.argv[optind];
    if (!strcmp(what, "find"))
        return subject_find(cli, number, json);
    if (!strcmp(what, "export")) {
        if (!out) {
            fputs("earshot subject export: --out DIR\n", stderr);
            return 2;
        }
        return subject_export(cli, number, out);
    }
    if (!strcmp(what, "erase")) {
        if (!reason || !reason[0]) {
            fputs("earshot subject erase: --reason TEXT (why: the request, its reference)\n",
                  stderr);
            return 2;
        }
        return subject_erase(cli, number, reason, dry, json);
    }
    fprintf(stderr, "earshot subject: unknown command %s\n%s", what, usage);
    return 2;
}
