/* The call report and operator presence, with the definitions of
 * docs/analytics.md: offered = calls that entered a queue (and calls the CDR
 * has that no queue saw); answered = those connected to an agent; missed =
 * the rest, by reason. Times bucket in the local time zone. */
#include "analytics/analytics_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- business hours ------------------------------------------------------------- */

static int day_of(const char *s)
{
    static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int i = 0; i < 7; i++)
        if (!strncasecmp(s, names[i], 3))
            return i + 1;
    return 0;
}

int an_hours_parse(const char *spec, struct an_hours *out, struct es_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        int d1 = day_of(p), d2 = d1;
        if (!d1)
            return es_seterr(err, ES_EINVAL, "business_hours '%s': a day is Mon..Sun", spec);
        p += 3;
        if (*p == '-') {
            d2 = day_of(p + 1);
            if (!d2 || d2 < d1)
                return es_seterr(err, ES_EINVAL, "business_hours '%s': bad day range", spec);
            p += 4;
        }
        int h1, m1, h2, m2, used = 0;
        if (sscanf(p, " %2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &used) != 4 || h1 > 24 || h2 > 24 ||
            m1 > 59 || m2 > 59 || h1 * 60 + m1 >= h2 * 60 + m2)
            return es_seterr(err, ES_EINVAL, "business_hours '%s': expected HH:MM-HH:MM", spec);
        p += used;
        for (int d = d1; d <= d2; d++) {
            if (out->n[d] == 4)
                return es_seterr(err, ES_EINVAL, "business_hours '%s': over 4 spans a day", spec);
            out->iv[d][out->n[d]].from_min = h1 * 60 + m1;
            out->iv[d][out->n[d]].to_min = h2 * 60 + m2;
            out->n[d]++;
        }
    }
    return 0;
}

bool an_hours_open(const struct an_hours *h, int64_t ms)
{
    struct an_local l;
    an_local(ms, &l);
    int m = l.hour * 60 + l.min;
    for (int i = 0; i < h->n[l.weekday]; i++)
        if (m >= h->iv[l.weekday][i].from_min && m < h->iv[l.weekday][i].to_min)
            return true;
    return false;
}

/* ---- calls ------------------------------------------------------------------------- */

static int reason_index(const char *outcome)
{
    for (int i = 0; i < MISSED_REASONS; i++)
        if (!strcmp(outcome, analytics_missed_reasons[i]))
            return i;
    return -1;
}

/* One call into counts: reason < 0 answered (hold_s known), else missed. */
static void count(struct an_counts *c, int reason, int hold_s, int talk_s, bool completed, int sl)
{
    c->offered++;
    if (reason < 0) {
        c->answered++;
        c->answered_within += hold_s <= sl;
        if (completed) {
            c->completed++;
            c->talk_s += talk_s;
        }
    } else {
        c->missed++;
        c->missed_by[reason]++;
    }
}

static struct an_bucket *bucket_for(struct an_bucket **b, size_t *n, size_t *cap,
                                    const struct an_query *q, int64_t at)
{
    if (q->by == AN_BY_WEEKDAY_HOUR) {
        struct an_local l;
        an_local(at, &l);
        return &(*b)[(l.weekday - 1) * 24 + l.hour];
    }
    int64_t start = q->by == AN_BY_HOUR ? an_hour_start(at) : an_day_start(at);
    for (size_t i = *n; i-- > 0;) /* rows come in time order: the last ones match */
        if ((*b)[i].start == start)
            return &(*b)[i];
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct an_bucket *g = realloc(*b, nc * sizeof *g);
        if (!g)
            return NULL;
        *b = g;
        *cap = nc;
    }
    struct an_bucket *e = &(*b)[(*n)++];
    memset(e, 0, sizeof *e);
    e->start = start;
    return e;
}

static int by_start(const void *x, const void *y)
{
    const struct an_bucket *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* One report being counted. */
struct tally {
    const struct an_query *q;
    struct an_summary *sum;
    struct an_bucket **buckets;
    size_t *nbuckets, cap;
    const struct an_directory *dir;
    int sl;
    double hold_sum, abandon_wait_sum;
    int64_t abandoned, abandoned_within;
    int64_t q_answered, q_within; /* queue calls: the service level is theirs */
    int64_t others;               /* CDR calls counted */
};

/* One call: reason < 0 answered. queue: a queue call (hold and wait known). */
static int tally_call(struct tally *t, int64_t at, const char *caller, const char *operator_,
                      int reason, int hold, int talk, int wait, bool completed, bool queue)
{
    const struct an_query *q = t->q;
    const struct an_customer *cu = an_directory_find(t->dir, caller, q->country_code);
    if (q->segment && (!cu || strcmp(q->segment, cu->b2b ? "b2b" : "b2c")))
        return 0;
    if (!queue)
        hold = 1 << 30; /* not known: never "within" the service level */
    struct an_summary *sum = t->sum;
    count(&sum->all, reason, hold, talk, completed, t->sl);
    if (q->hours && !an_hours_open(q->hours, at))
        count(&sum->after_hours, reason, hold, talk, completed, t->sl);
    if (reason < 0 && queue && cu && cu->b2b && cu->manager[0]) {
        sum->managed_answered++;
        sum->answered_by_manager += !strcmp(operator_, cu->manager);
    }
    if (reason < 0 && queue) {
        t->q_answered++;
        t->q_within += hold <= t->sl;
        t->hold_sum += hold;
        sum->max_wait_s = ES_MAX(sum->max_wait_s, (double)hold);
    } else if (queue) {
        sum->max_wait_s = ES_MAX(sum->max_wait_s, (double)wait);
    }
    if (reason == 0 && queue) {
        t->abandoned++;
        t->abandoned_within += wait <= t->sl;
        t->abandon_wait_sum += wait;
    }
    if (q->by != AN_BY_NONE) {
        struct an_bucket *b = bucket_for(t->buckets, t->nbuckets, &t->cap, q, at);
        if (!b)
            return ES_ENOMEM;
        count(&b->c, reason, hold, talk, completed, t->sl);
    }
    return 0;
}

/* The recorder's missed-call reasons in the report's words. */
static int recorder_reason(const char *disposition, const char *reason)
{
    if (!strcmp(disposition, "answered"))
        return -1;
    if (strcmp(disposition, "missed"))
        return -2; /* rejected: not a customer's call */
    if (!strncmp(reason, "failed", 6))
        return reason_index("failed");
    int r = reason_index(reason);
    return r >= 0 ? r : reason_index("failed");
}

static int recorder_call(void *ud, const struct catalog_call_brief *b)
{
    struct tally *t = ud;
    if (b->queue[0])
        return 0; /* joined to a queue call: counted as that */
    int reason = recorder_reason(b->disposition, b->reason);
    if (reason == -2)
        return 0;
    return tally_call(t, b->started_at, b->caller, b->operator_, reason, 0, 0, 0, false, false);
}

int analytics_calls(struct analytics *a, const struct an_query *q, struct an_summary *sum,
                    struct an_bucket **buckets, size_t *nbuckets, struct es_err *err)
{
    memset(sum, 0, sizeof *sum);
    *buckets = NULL;
    *nbuckets = 0;
    struct tally t = {.q = q,
                      .sum = sum,
                      .buckets = buckets,
                      .nbuckets = nbuckets,
                      .sl = q->sl_seconds > 0 ? q->sl_seconds : 20};
    if (q->by == AN_BY_WEEKDAY_HOUR) {
        *buckets = calloc(168, sizeof **buckets);
        if (!*buckets)
            return es_seterr(err, ES_ENOMEM, "out of memory");
        for (int i = 0; i < 168; i++) {
            (*buckets)[i].weekday = i / 24 + 1;
            (*buckets)[i].hour = i % 24;
        }
        *nbuckets = t.cap = 168;
    }
    struct an_directory *dir = NULL;
    if (an_directory_load(a, &dir, err)) {
        free(*buckets);
        *buckets = NULL;
        return ES_EDB;
    }
    t.dir = dir;
    int rc = 0;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        /* the queues' calls, then (without a queue filter) the CDR's other calls */
        if (pass == 1 && q->queue)
            break;
        struct db_stmt *st = an_stmt(a, pass ? AN_CDR_CALLS : AN_CALLS);
        db_bind_int64(st, 1, q->from);
        db_bind_int64(st, 2, q->to);
        if (!pass && q->queue)
            db_bind_text(st, 3, q->queue, -1);
        int step;
        while (!rc && (step = db_step(st)) == DB_ROW) {
            int64_t at = db_column_int64(st, 0);
            const char *outcome = (const char *)db_column_text(st, 1);
            if (pass == 0) {
                if (!strcmp(outcome, "waiting"))
                    continue; /* still in the queue (or its end is not in the log yet) */
                rc = tally_call(&t, at, (const char *)db_column_text(st, 6),
                                (const char *)db_column_text(st, 7),
                                strcmp(outcome, "answered") ? reason_index(outcome) : -1,
                                db_column_int(st, 2), db_column_int(st, 3), db_column_int(st, 4),
                                db_column_int(st, 5) != 0, true);
            } else {
                int r = pbx_disposition((struct es_str){outcome, (size_t)db_column_bytes(st, 1)});
                if (r == -2)
                    continue;
                t.others++;
                rc = tally_call(&t, at, (const char *)db_column_text(st, 3), "",
                                r == DISPOSITION_ANSWERED ? -1 : r, 0, db_column_int(st, 2), 0,
                                r == DISPOSITION_ANSWERED, false);
            }
        }
        db_reset(st);
        if (rc)
            rc = es_seterr(err, rc, "out of memory");
        else if (step != DB_DONE)
            rc = es_seterr(err, ES_EDB, "catalog: calls: %s", db_errmsg(a->db));
    }
    /* without a CDR for the window, the calls the network recorder saw that no
     * queue did are the other calls (both would count the same calls twice) */
    if (!rc && !q->queue && !t.others &&
        catalog_briefs(a->cat, q->from, q->to, "recorder", recorder_call, &t))
        rc = es_seterr(err, ES_EDB, "the recorder's calls: %s", catalog_strerror(a->cat, ES_EDB));
    an_directory_free(dir);
    if (rc) {
        free(*buckets);
        *buckets = NULL;
        *nbuckets = 0;
        return rc;
    }
    if (q->by == AN_BY_HOUR || q->by == AN_BY_DAY) /* other calls came after the queues' */
        if (*nbuckets)
            qsort(*buckets, *nbuckets, sizeof **buckets, by_start);
    const struct an_counts *c = &sum->all;
    sum->service_level = t.q_answered ? (double)t.q_within / (double)t.q_answered : -1;
    sum->service_level_abandons =
        t.q_answered + t.abandoned
            ? (double)(t.q_within + t.abandoned_within) / (double)(t.q_answered + t.abandoned)
            : -1;
    sum->asa_s = t.q_answered ? t.hold_sum / (double)t.q_answered : 0;
    sum->aht_s = c->completed ? c->talk_s / (double)c->completed : 0;
    sum->abandon_wait_s = t.abandoned ? t.abandon_wait_sum / (double)t.abandoned : 0;
    return 0;
}
