/* earshot subject find|export|erase NUMBER: a data subject's calls,
 * evaluations, unreturned-call entries and notifications, found through
 * every module's own door, exported, or erased (GDPR). Every step is audited
 * under a keyed pseudonym of the number, never the number itself. */
#include "review-server/http_int.h"
#include "followup/followup.h"
#include "scripts-rubric/rubric.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/mman.h>
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
    struct analytics *an;
    const char *cc;
    char e164[40], ref[33];
};

/* The number in E.164; false for an extension or a withheld number. */
static bool normalise(struct ctx *x, const char *number)
{
    return !archive_e164(number, x->cc, x->e164, sizeof x->e164) && x->e164[0] == '+';
}

static int open_all(struct es_cli *cli, const char *number, struct ctx *x)
{
    struct es_err err = {{0}};
    memset(x, 0, sizeof *x);
    x->cc = cli->config ? es_config_get(cli->config, "country_code") : NULL;
    if (!normalise(x, number)) {
        fprintf(stderr, "earshot subject: %s: not a phone number (an extension, or withheld)\n",
                number);
        return 2;
    }
    if (catalog_open(cli->data_dir, &x->cat, &err) || rubric_store_open(x->cat, &x->rs, &err) ||
        review_store_open(x->cat, &x->rv, &err) || followup_open(x->cat, &x->fu, &err) ||
        analytics_open(x->cat, &x->an, &err) || review_subject_ref(x->rv, x->e164, x->ref)) {
        fprintf(stderr, "earshot subject: %s\n", err.msg[0] ? err.msg : "the audit key");
        analytics_close(x->an);
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
    analytics_close(x->an);
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
    struct an_subject pbx; /* the imported PBX logs and the customer directory */
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
    if (rc)
        es_seterr(err, rc, "%s", catalog_strerror(x->cat, rc));
    struct followup_filter flt = {.which = 0, .number = x->e164};
    int64_t n;
    if (!rc)
        rc = followup_list(x->fu, &flt, es_now_ms(), entry, *entries, err);
    if (!rc)
        rc = followup_subject_notifications(x->fu, x->e164, x->cc, note, *notes, &n, err);
    if (!rc)
        rc = analytics_subject(x->an, x->e164, x->cc, false, &f->pbx, err);
    if (rc && !err->msg[0])
        es_seterr(err, rc, "reading the catalog");
    return rc;
}

static int audit_one(struct ctx *x, const char *actor, const char *action, json_t *detail,
                     struct es_err *err)
{
    json_object_set_new(detail, "subject", json_string(x->ref));
    char *d = json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(detail);
    bool outer;
    int rc = d ? catalog_tx_begin(catalog_db(x->cat), &outer) : ES_ENOMEM;
    if (!rc) {
        rc = review_audit(x->rv, actor, action, x->ref, d, err);
        rc = catalog_tx_end(catalog_db(x->cat), outer, rc);
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
        rc = audit_one(&x, "cli", "subject.find",
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
        json_object_set_new(sum, "pbx_queue_calls", json_integer(f.pbx.queue_calls));
        json_object_set_new(sum, "pbx_cdr_rows", json_integer(f.pbx.cdr_rows));
        json_object_set_new(sum, "customer_directory", json_boolean(f.pbx.customer));
        print_line(sum);
        json_decref(sum);
    } else {
        size_t i;
        json_t *c;
        printf("%s: %zu calls, %lld evaluations (%lld comments), %zu unreturned-call entries,"
               " %zu notifications not yet delivered, %lld queue calls and %lld CDR rows of the"
               " PBX's logs%s\n",
               x.e164, json_array_size(f.calls), (long long)f.evaluations, (long long)f.comments,
               json_array_size(entries), json_array_size(notes), (long long)f.pbx.queue_calls,
               (long long)f.pbx.cdr_rows, f.pbx.customer ? ", in the customer directory" : "");
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

/* What an export holds, for its README.txt. */
static char *readme(const char *e164, size_t calls, long long audio, size_t evals, size_t entries)
{
    char *t = NULL;
    if (asprintf(&t,
                 "What earshot holds about %s, exported on request.\n\n"
                 "calls.json        %zu calls where the number was the caller or the callee\n"
                 "                  (times in UTC, ISO 8601)\n"
                 "<call id>.opus    the %lld recordings still kept (Ogg Opus: customer left,\n"
                 "                  operator right; any player that plays Opus)\n"
                 "evaluations.json  %zu quality evaluations of those calls, with comments and\n"
                 "                  their history\n"
                 "unreturned.json   %zu entries of the list of missed calls to return\n",
                 e164, calls, audio, evals, entries) < 0)
        return NULL;
    return t;
}

/* The recording as plain Ogg Opus (decrypted if sealed). */
static int copy_audio(struct catalog *c, const char *id, const char *to, struct es_err *err)
{
    struct archive_audio *a = NULL;
    int rc = archive_audio_open(c, id, &a, err);
    if (rc)
        return rc;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        rc = errno == EEXIST ? ES_EEXIST : es_seterr(err, -errno, "%s: %s", to, strerror(errno));
    else
        rc = archive_audio_copy(a, out, err);
    if (!rc && fsync(out))
        rc = es_seterr(err, -errno, "%s: %s", to, strerror(errno));
    if (out >= 0)
        close(out);
    archive_audio_close(a);
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
            char dst[4700];
            snprintf(dst, sizeof dst, "%s/%s.opus", out, id);
            int e = copy_audio(x.cat, id, dst, &err);
            if (e && e != ES_EEXIST) {
                rc = e;
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
        char *t = readme(x.e164, json_array_size(calls), audio, json_array_size(evals),
                         json_array_size(entries));
        if (r && t) {
            fputs(t, r);
            rc = fclose(r) ? ES_EINVAL : 0;
        } else {
            if (r)
                fclose(r);
            rc = es_seterr(&err, -errno, "%s: %s", path, strerror(errno));
        }
        free(t);
    }
    if (!rc)
        rc = audit_one(&x, "cli", "subject.export",
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
struct erased {
    int64_t calls, blanked;
    struct followup_erased fe;
    struct an_subject pbx;
};

/* Erases every call of the subject not on hold, its evaluations' free text, its
 * follow-up data, with one audit row, in one transaction; then the files. */
static int erase_core(struct ctx *x, struct found *f, const char *actor, const char *reason,
                      struct erased *out, struct es_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = json_array_size(f->calls);
    char **paths = calloc(n ? n : 1, sizeof *paths);
    struct archive_call *k = calloc(1, sizeof *k);
    int rc = paths && k ? 0 : es_seterr(err, ES_ENOMEM, "out of memory");
    bool outer;
    if (!rc)
        rc = catalog_tx_begin(catalog_db(x->cat), &outer)
                 ? es_seterr(err, ES_EDB, "catalog: cannot begin")
                 : 0;
    if (!rc) {
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *c = json_array_get(f->calls, i);
            if (json_is_true(json_object_get(c, "legal_hold")))
                continue;
            const char *id = json_string_value(json_object_get(c, "id"));
            struct archive_recording rec;
            bool has = false;
            rc = catalog_get(x->cat, id, k, &rec, &has);
            if (!rc && has && !k->purged_at)
                paths[i] = strdup(rec.path);
            if (!rc)
                rc = catalog_erase_call(x->cat, id, es_now_ms());
            int64_t ch = 0;
            if (!rc)
                rc = eval_erase_text(x->rs, id, &ch, err);
            out->blanked += ch;
            out->calls += !rc;
        }
        if (!rc)
            rc = followup_subject_erase(x->fu, x->e164, x->cc, &out->fe, err);
        if (!rc)
            rc = analytics_subject(x->an, x->e164, x->cc, true, &out->pbx, err);
        json_t *d = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:s}", "reason", reason, "calls",
                              (json_int_t)out->calls, "held", (json_int_t)f->held, "entries",
                              (json_int_t)out->fe.entries, "notifications",
                              (json_int_t)out->fe.notifications, "pbx_rows",
                              (json_int_t)(out->pbx.queue_calls + out->pbx.cdr_rows),
                              "customer_directory", out->pbx.customer, "subject", x->ref);
        char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(d);
        if (!rc)
            rc = ds ? review_audit(x->rv, actor, "subject.erase", x->ref, ds, err) : ES_ENOMEM;
        free(ds);
        rc = catalog_tx_end(catalog_db(x->cat), outer, rc);
        if (!rc) {
            review_audit_anchor(x->rv);
            for (size_t i = 0; i < n; i++) {
                if (!paths[i])
                    continue;
                struct es_err gone = {{0}};
                if (archive_file_remove(x->cat, paths[i], &gone))
                    ES_ERROR("subject", "%s (the call is erased; remove the file by hand)",
                             gone.msg);
            }
        }
    }
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    free(k);
    return rc && !err->msg[0] ? es_seterr(err, rc, "%s", es_strerror(rc)) : rc;
}

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
    struct erased er = {0};
    if (!rc && !dry)
        rc = erase_core(&x, &f, "cli", reason, &er, &err);
    if (!rc && dry) /* a preview shows what is held on the subject: a look, audited as one */
        rc = audit_one(&x, "cli", "subject.find",
                       json_pack("{s:b, s:s, s:I}", "dry_run", 1, "reason", reason ? reason : "",
                                 "calls", (json_int_t)n),
                       &err);
    int64_t erased = er.calls, blanked = er.blanked;
    struct followup_erased fe = er.fe;
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
            const struct an_subject *p = dry ? &f.pbx : &er.pbx;
            json_object_set_new(o, "pbx_rows", json_integer(p->queue_calls + p->cdr_rows));
            json_object_set_new(o, "customer_directory", json_boolean(p->customer));
            print_line(o);
            json_decref(o);
        } else {
            const struct an_subject *p = dry ? &f.pbx : &er.pbx;
            printf("%s: %s %lld calls, %lld held; %lld unreturned-call entries, %lld"
                   " notifications, %lld rows of the PBX's logs%s\n",
                   x.e164, dry ? "would erase" : "erased",
                   (long long)(dry ? (int64_t)n - f.held : erased), (long long)f.held,
                   (long long)(dry ? (int64_t)json_array_size(entries) : fe.entries),
                   (long long)(dry ? (int64_t)json_array_size(notes) : fe.notifications),
                   (long long)(p->queue_calls + p->cdr_rows),
                   p->customer ? ", the customer directory entry" : "");
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

/* ---- the compliance page's API: GET /api/v1/subject?number=, GET
 * /api/v1/subject/export?number=, POST /api/v1/subject/erase
 * {"number", "reason", "dry_run"}; compliance staff and admins ---- */
static bool api_begin(struct req *r, const char *number, struct ctx *x, enum MHD_Result *res)
{
    memset(x, 0, sizeof *x);
    x->cat = r->w->cat;
    x->rs = r->w->rs;
    x->rv = r->w->rv;
    x->fu = r->w->fu;
    x->an = r->w->an;
    x->cc = r->srv->country_code[0] ? r->srv->country_code : NULL;
    if (!number || !normalise(x, number)) {
        *res = http_error(r, 400, "expected a phone number (not an extension or a withheld one)");
        return false;
    }
    if (review_subject_ref(x->rv, x->e164, x->ref)) {
        *res = http_error(r, 503, "the audit key is not loaded");
        return false;
    }
    return true;
}

static int zip_json(struct es_zip *z, const char *name, json_t *v)
{
    char *t = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = t ? es_zip_add(z, name, t, strlen(t)) : ES_ENOMEM;
    free(t);
    return rc;
}

/* The export as one ZIP (the same files as `subject export --out DIR`), made
 * in memory (a memfd: the decrypted audio never touches the disk) and sent. */
static enum MHD_Result export_zip(struct req *r, struct ctx *x, json_t *o)
{
    json_t *calls = json_object_get(o, "calls");
    int fd = memfd_create("earshot-export", MFD_CLOEXEC);
    struct es_zip *z = NULL;
    struct es_err err = {{0}};
    int rc = fd < 0 ? -errno : es_zip_open(fd, &z);
    long long audio = 0;
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (rc || !json_is_string(json_object_get(c, "path")) || !id)
            continue;
        struct archive_audio *a = NULL;
        if (archive_audio_open(x->cat, id, &a, &err))
            continue; /* purged since, or unreadable: the JSON still lists the call */
        uint64_t n = archive_audio_size(a);
        char *buf = n < ((uint64_t)1 << 31) ? malloc(n ? n : 1) : NULL;
        char name[ES_ID_LEN + 8];
        snprintf(name, sizeof name, "%s.opus", id);
        if (!buf || archive_audio_read(a, 0, buf, n, &err) != (long)n)
            rc = buf ? ES_ECORRUPT : ES_ENOMEM;
        else
            rc = es_zip_add(z, name, buf, n);
        free(buf);
        archive_audio_close(a);
        audio++;
    }
    char *t = readme(x->e164, json_array_size(calls), audio,
                     json_array_size(json_object_get(o, "evaluation_details")),
                     json_array_size(json_object_get(o, "unreturned")));
    if (!rc)
        rc = zip_json(z, "calls.json", calls);
    if (!rc)
        rc = zip_json(z, "evaluations.json", json_object_get(o, "evaluation_details"));
    if (!rc)
        rc = zip_json(z, "unreturned.json", json_object_get(o, "unreturned"));
    if (!rc)
        rc = t ? es_zip_add(z, "README.txt", t, strlen(t)) : ES_ENOMEM;
    free(t);
    int zc = z ? es_zip_close(z) : 0;
    rc = rc ? rc : zc;
    json_decref(o);
    off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (rc || size < 0) {
        if (fd >= 0)
            close(fd);
        ES_ERROR("serve", "subject export: %s", err.msg[0] ? err.msg : es_strerror(rc));
        return http_error(r, 500, "the export could not be made: %s",
                          err.msg[0] ? err.msg : es_strerror(rc));
    }
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64((uint64_t)size, fd, 0);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/zip");
    char cd[96];
    snprintf(cd, sizeof cd, "attachment; filename=\"subject-%.12s.zip\"", x->ref);
    MHD_add_response_header(resp, "Content-Disposition", cd);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    http_common_headers(resp, false);
    return http_queue(r, 200, resp);
}

static enum MHD_Result api_find(struct req *r, bool export)
{
    struct ctx x;
    enum MHD_Result res;
    if (!api_begin(r, http_arg(r, "number"), &x, &res))
        return res;
    struct es_err err = {{0}};
    struct found f = {0};
    json_t *entries, *notes;
    int rc = gather(&x, &f, &entries, &notes, &err);
    json_t *calls = f.calls;
    if (!rc && export) { /* every field of each call, every evaluation with its history */
        json_t *full = json_array(), *evals = json_array();
        struct archive_call *k = malloc(sizeof *k);
        size_t i;
        json_t *c;
        json_array_foreach(f.calls, i, c)
        {
            struct archive_recording rec;
            bool has = false;
            if (!k ||
                catalog_get(x.cat, json_string_value(json_object_get(c, "id")), k, &rec, &has))
                continue;
            json_array_append_new(full, archive_call_json(k, has ? &rec : NULL));
            size_t j;
            json_t *ev, *e;
            json_array_foreach(
                json_object_get(c, "evaluations"), j,
                ev) if (!eval_get_json(x.rs, json_string_value(json_object_get(ev, "id")), true, &e,
                                       &err)) json_array_append_new(evals, e);
        }
        free(k);
        calls = json_pack("{s:o, s:o}", "calls", full, "evaluations", evals);
        json_decref(f.calls);
    }
    bool outer;
    if (!rc)
        rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        json_t *d = json_pack("{s:s, s:I, s:I}", "subject", x.ref, "calls",
                              (json_int_t)(export ? json_array_size(json_object_get(calls, "calls"))
                                                  : json_array_size(calls)),
                              "evaluations", (json_int_t)f.evaluations);
        char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(d);
        rc = http_tx_audit_end(r, outer, 0, export ? "subject.export" : "subject.find", x.ref, ds,
                               &err);
        free(ds);
    }
    if (rc) {
        json_decref(calls);
        json_decref(entries);
        json_decref(notes);
        return http_error(r, 500, "%s", err.msg[0] ? err.msg : es_strerror(rc));
    }
    json_t *o =
        json_pack("{s:s, s:o, s:I, s:I, s:I, s:o, s:o}", "subject", x.e164, "calls",
                  export ? json_incref(json_object_get(calls, "calls")) : calls, "evaluations",
                  (json_int_t)f.evaluations, "comments", (json_int_t)f.comments, "legal_hold",
                  (json_int_t)f.held, "unreturned", entries, "notifications", notes);
    json_object_set_new(o, "pbx_queue_calls", json_integer(f.pbx.queue_calls));
    json_object_set_new(o, "pbx_cdr_rows", json_integer(f.pbx.cdr_rows));
    json_object_set_new(o, "customer_directory", json_boolean(f.pbx.customer));
    if (!export)
        return http_json(r, 200, o);
    json_object_set(o, "evaluation_details", json_object_get(calls, "evaluations"));
    json_decref(calls);
    const char *format = http_arg(r, "format");
    if (format && !strcmp(format, "zip"))
        return export_zip(r, &x, o);
    char *t = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!t)
        return http_error(r, 500, "out of memory");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(t), t, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(t);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    char cd[96];
    snprintf(cd, sizeof cd, "attachment; filename=\"subject-%.12s.json\"", x.ref);
    MHD_add_response_header(resp, "Content-Disposition", cd);
    http_common_headers(resp, true);
    return http_queue(r, 200, resp);
}

enum MHD_Result api_subject_erase(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const char *number = json_string_value(json_object_get(b, "number"));
    const char *reason = json_string_value(json_object_get(b, "reason"));
    bool dry = json_is_true(json_object_get(b, "dry_run"));
    struct ctx x;
    if (!api_begin(r, number, &x, &res)) {
        json_decref(b);
        return res;
    }
    if (!reason || !reason[0] || strlen(reason) > 500) {
        json_decref(b);
        return http_error(r, 400,
                          "expected {\"number\", \"reason\": the request and its"
                          " reference, \"dry_run\"}");
    }
    struct es_err err = {{0}};
    struct found f = {0};
    json_t *entries, *notes;
    int rc = gather(&x, &f, &entries, &notes, &err);
    struct erased er = {0};
    if (!rc && !dry)
        rc = erase_core(&x, &f, r->user.name, reason, &er, &err);
    if (!rc && dry) /* a preview shows what is held on the subject: a look, audited as one */
        rc = audit_one(&x, r->user.name, "subject.find",
                       json_pack("{s:b, s:s, s:I}", "dry_run", 1, "reason", reason, "calls",
                                 (json_int_t)json_array_size(f.calls)),
                       &err);
    json_decref(b);
    json_t *held = json_array(), *gone = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(f.calls, i, c) json_array_append(
        json_is_true(json_object_get(c, "legal_hold")) ? held : gone, json_object_get(c, "id"));
    size_t ne = json_array_size(entries), nn = json_array_size(notes);
    json_decref(f.calls);
    json_decref(entries);
    json_decref(notes);
    if (rc) {
        json_decref(held);
        json_decref(gone);
        return http_error(r, 500, "%s", err.msg);
    }
    const struct an_subject *p = dry ? &f.pbx : &er.pbx;
    return http_json(
        r, 200,
        json_pack("{s:s, s:b, s:o, s:o, s:I, s:I, s:I, s:b}", "subject", x.e164, "dry_run", dry,
                  dry ? "would_erase" : "erased", gone, "held", held, "unreturned",
                  (json_int_t)(dry ? (int64_t)ne : er.fe.entries), "notifications",
                  (json_int_t)(dry ? (int64_t)nn : er.fe.notifications), "pbx_rows",
                  (json_int_t)(p->queue_calls + p->cdr_rows), "customer_directory", p->customer));
}

enum MHD_Result api_subject_find(struct req *r)
{
    return api_find(r, false);
}

enum MHD_Result api_subject_export(struct req *r)
{
    return api_find(r, true);
}
