/* The unreturned-calls list: reading it, closing and claiming entries, and
 * the time-to-callback report. */
#include "followup/followup_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void text(struct db_stmt *s, int col, char *out, size_t n)
{
    const char *t = db_column_text(s, col);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

static void row(struct db_stmt *s, int64_t now, struct followup_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = db_column_int64(s, 0);
    text(s, 1, e->number, sizeof e->number);
    text(s, 2, e->line, sizeof e->line);
    e->attempts = db_column_int64(s, 3);
    e->our_attempts = db_column_int64(s, 4);
    e->first_missed_at = db_column_int64(s, 5);
    e->last_missed_at = db_column_int64(s, 6);
    text(s, 7, e->reasons, sizeof e->reasons);
    e->after_hours = db_column_int(s, 8) != 0;
    text(s, 9, e->claimed_by, sizeof e->claimed_by);
    e->claimed_until = db_column_int64(s, 10);
    text(s, 11, e->closed_by, sizeof e->closed_by);
    e->closed_at = db_column_int64(s, 12);
    text(s, 13, e->callback_call_id, sizeof e->callback_call_id);
    text(s, 14, e->callback_operator, sizeof e->callback_operator);
    text(s, 15, e->note, sizeof e->note);
    e->status = e->closed_by[0]                              ? FU_CLOSED
                : e->claimed_by[0] && e->claimed_until > now ? FU_CLAIMED
                                                             : FU_OPEN;
    if (e->status != FU_CLAIMED) {
        e->claimed_by[0] = '\0';
        e->claimed_until = 0;
    }
}

static void put_customer(void *ud, size_t i, const char *name, const char *segment)
{
    struct followup_entry *e = &((struct followup_entry *)ud)[i];
    snprintf(e->customer, sizeof e->customer, "%s", name ? name : "");
    snprintf(e->segment, sizeof e->segment, "%s", segment ? segment : "");
}

/* The customer directory's names for a batch of entries, in one statement. */
static void customers(struct followup *f, struct followup_entry *e, size_t n)
{
    const char *numbers[AN_CUSTOMERS_BATCH];
    for (size_t i = 0; i < n; i++)
        numbers[i] = e[i].number[0] == '+' ? e[i].number : NULL;
    analytics_customers_of(f->an, numbers, n, put_customer, e);
}

static int list_one(struct followup *f, enum st which, const struct followup_filter *flt, int limit,
                    int64_t now, int (*cb)(void *, const struct followup_entry *), void *ud,
                    int *stopped, struct es_err *err)
{
    struct db_stmt *s = stmt(f, which);
    db_bind_int64(s, 1, flt->since);
    if (flt->number)
        db_bind_text(s, 2, flt->number, -1);
    if (flt->line)
        db_bind_text(s, 3, flt->line, -1);
    db_bind_int64(s, 4, flt->after_key);
    db_bind_int64(s, 5, flt->after_id);
    db_bind_int(s, 6, limit);
    if (flt->lines)
        db_bind_text(s, 7, flt->lines, -1);
    /* rows read a batch at a time, so that their customers are looked up
     * together */
    struct followup_entry *e = calloc(AN_CUSTOMERS_BATCH, sizeof *e);
    if (!e) {
        db_reset(s);
        return es_seterr(err, ES_ENOMEM, "out of memory");
    }
    int rc = DB_ROW, n = 0;
    while (!*stopped && rc == DB_ROW) {
        size_t got = 0;
        while (got < AN_CUSTOMERS_BATCH && (rc = db_step(s)) == DB_ROW)
            row(s, now, &e[got++]);
        customers(f, e, got);
        for (size_t i = 0; i < got && !*stopped; i++) {
            n++;
            if (cb(ud, &e[i]))
                *stopped = 1;
        }
    }
    free(e);
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE)
        return es_seterr(err, ES_EDB, "catalog: listing unreturned calls: %s", db_errmsg(f->db));
    return n;
}

int followup_list(struct followup *f, const struct followup_filter *flt, int64_t now,
                  int (*cb)(void *ud, const struct followup_entry *), void *ud, struct es_err *err)
{
    int limit = flt->limit > 0 ? flt->limit : -1, stopped = 0;
    if (flt->which == 0 && flt->after_id)
        return es_seterr(err, ES_EINVAL, "a page of unreturned calls is of open or closed ones");
    if (flt->which != 2) {
        int n = list_one(f, S_LIST_OPEN, flt, limit, now, cb, ud, &stopped, err);
        if (n < 0)
            return n;
        if (stopped || flt->which == 1)
            return 0;
        if (limit > 0 && (limit -= n) <= 0)
            return 0;
    }
    int n = list_one(f, S_LIST_CLOSED, flt, limit, now, cb, ud, &stopped, err);
    return n < 0 ? n : 0;
}

int followup_close_number(struct followup *f, const char *number, const char *who, const char *note,
                          const char *country_code, int64_t now, int64_t *closed,
                          struct es_err *err)
{
    *closed = 0;
    char e164[40];
    if (!fu_party(number, country_code, e164))
        return es_seterr(err, ES_EINVAL, "%s: not a customer's phone number", number);
    struct db_stmt *s = stmt(f, S_CLOSE_MANUAL);
    db_bind_text(s, 1, e164, -1);
    db_bind_int64(s, 2, now);
    db_bind_text(s, 3, who ? who : "", -1);
    db_bind_text(s, 4, note ? note : "", -1);
    int rc = done(f, s, err);
    if (rc)
        return rc;
    *closed = db_changes(f->db);
    if (!*closed)
        return es_seterr(err, ES_ENOTFOUND, "%s: no open unreturned call", e164);
    return 0;
}

int followup_close_entry(struct followup *f, int64_t id, const char *who, const char *note,
                         int64_t now, struct es_err *err)
{
    struct db_stmt *s = stmt(f, S_CLOSE_ONE);
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, now);
    db_bind_text(s, 3, who ? who : "", -1);
    db_bind_text(s, 4, note ? note : "", -1);
    int rc = done(f, s, err);
    if (!rc && !db_changes(f->db))
        rc = es_seterr(err, ES_ENOTFOUND, "unreturned call %lld: not open", (long long)id);
    return rc;
}

int followup_get(struct followup *f, int64_t id, int64_t now, struct followup_entry *e,
                 struct es_err *err)
{
    struct db_stmt *s = stmt(f, S_GET);
    db_bind_int64(s, 1, id);
    int rc = db_step(s);
    if (rc == DB_ROW)
        row(s, now, e);
    db_reset(s);
    if (rc == DB_ROW) {
        customers(f, e, 1);
        return 0;
    }
    if (rc == DB_DONE)
        return es_seterr(err, ES_ENOTFOUND, "no unreturned call %lld", (long long)id);
    return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
}

int followup_claim(struct followup *f, int64_t id, const char *who, int64_t now, struct es_err *err)
{
    struct db_stmt *s = stmt(f, S_CLAIM);
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, who, -1);
    db_bind_int64(s, 3, now + FOLLOWUP_CLAIM_MS);
    db_bind_int64(s, 4, now);
    int rc = done(f, s, err);
    if (rc)
        return rc;
    if (db_changes(f->db))
        return 0;
    return es_seterr(err, ES_ESTATE,
                     "unreturned call %lld: closed, unknown, or claimed by someone else",
                     (long long)id);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double quantile(const int64_t *v, size_t n, double q)
{
    if (!n)
        return -1;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
    return ((double)v[lo] + (pos - (double)lo) * (double)(v[hi] - v[lo])) / 1000.0;
}

static bool same_local_day(int64_t a, int64_t b)
{
    time_t ta = (time_t)(a / 1000), tb = (time_t)(b / 1000);
    struct tm x, y;
    localtime_r(&ta, &x);
    localtime_r(&tb, &y);
    return x.tm_year == y.tm_year && x.tm_yday == y.tm_yday;
}

int followup_report(struct followup *f, int64_t from, int64_t to, struct followup_report *r,
                    struct es_err *err)
{
    memset(r, 0, sizeof *r);
    size_t cap = 0, n = 0;
    int64_t *waits = NULL, within_1h = 0, same_day = 0;
    struct db_stmt *s = stmt(f, S_REPORT);
    db_bind_int64(s, 1, from);
    db_bind_int64(s, 2, to);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        r->missed++;
        int64_t first = db_column_int64(s, 0);
        if (db_column_int(s, 1)) {
            r->open++;
            continue;
        }
        r->closed++;
        const char *by = (const char *)db_column_text(s, 2);
        int64_t at = db_column_int64(s, 3);
        if (by && !strcmp(by, "manual")) {
            r->manual++;
            continue;
        }
        if (by && !strcmp(by, "callback"))
            r->callbacks++;
        else
            r->called_again++;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            int64_t *g = realloc(waits, nc * sizeof *g);
            if (!g) {
                db_reset(s);
                free(waits);
                return es_seterr(err, ES_ENOMEM, "out of memory");
            }
            waits = g;
            cap = nc;
        }
        int64_t w = at > first ? at - first : 0;
        waits[n++] = w;
        within_1h += w <= 3600000;
        same_day += same_local_day(first, at);
    }
    db_reset(s);
    if (rc != DB_DONE) {
        free(waits);
        return es_seterr(err, ES_EDB, "catalog: the callback report: %s", db_errmsg(f->db));
    }
    if (n)
        qsort(waits, n, sizeof *waits, cmp_i64);
    r->median_s = quantile(waits, n, 0.5);
    r->p90_s = quantile(waits, n, 0.9);
    r->within_1h = r->missed ? (double)within_1h / (double)r->missed : -1;
    r->same_day = r->missed ? (double)same_day / (double)r->missed : -1;
    free(waits);
    return 0;
}

static json_t *iso(int64_t ms)
{
    if (!ms)
        return json_null();
    char b[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(b);
}

static const char *const status_names[] = {"open", "claimed", "closed"};

json_t *followup_entry_json(const struct followup_entry *e, int64_t now)
{
    json_t *reasons = json_loads(e->reasons, 0, NULL);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "number", json_string(e->number));
    json_object_set_new(o, "queue", json_string(e->line));
    json_object_set_new(o, "attempts", json_integer(e->attempts));
    json_object_set_new(o, "our_attempts", json_integer(e->our_attempts));
    json_object_set_new(o, "first_missed_at", iso(e->first_missed_at));
    json_object_set_new(o, "last_missed_at", iso(e->last_missed_at));
    json_object_set_new(o, "reasons", reasons ? reasons : json_object());
    json_object_set_new(o, "after_hours", json_boolean(e->after_hours));
    json_object_set_new(o, "status", json_string(status_names[e->status]));
    json_object_set_new(o, "waiting_s",
                        e->status == FU_CLOSED ? json_null()
                                               : json_integer((now - e->first_missed_at) / 1000));
    json_object_set_new(o, "claimed_by",
                        e->claimed_by[0] ? json_string(e->claimed_by) : json_null());
    json_object_set_new(o, "claimed_until", iso(e->claimed_until));
    json_object_set_new(o, "closed_by", e->closed_by[0] ? json_string(e->closed_by) : json_null());
    json_object_set_new(o, "closed_at", iso(e->closed_at));
    json_object_set_new(o, "callback_call_id",
                        e->callback_call_id[0] ? json_string(e->callback_call_id) : json_null());
    json_object_set_new(o, "callback_operator",
                        e->callback_operator[0] ? json_string(e->callback_operator) : json_null());
    json_object_set_new(o, "time_to_callback_s",
                        e->status == FU_CLOSED && strcmp(e->closed_by, "manual")
                            ? json_integer((e->closed_at - e->first_missed_at) / 1000)
                            : json_null());
    json_object_set_new(o, "note", json_string(e->note));
    json_object_set_new(o, "customer", e->customer[0] ? json_string(e->customer) : json_null());
    json_object_set_new(o, "segment", e->segment[0] ? json_string(e->segment) : json_null());
    return o;
}

static json_t *real_or_null(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

json_t *followup_report_json(const struct followup_report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "missed", json_integer(r->missed));
    json_object_set_new(o, "open", json_integer(r->open));
    json_object_set_new(o, "closed", json_integer(r->closed));
    json_object_set_new(o, "callback", json_integer(r->callbacks));
    json_object_set_new(o, "customer_called_again", json_integer(r->called_again));
    json_object_set_new(o, "manual", json_integer(r->manual));
    json_object_set_new(o, "median_s", real_or_null(r->median_s));
    json_object_set_new(o, "p90_s", real_or_null(r->p90_s));
    json_object_set_new(o, "within_1h", real_or_null(r->within_1h));
    json_object_set_new(o, "same_day", real_or_null(r->same_day));
    return o;
}

int followup_open_count(struct followup *f, int64_t now, int64_t *open, int64_t *claimed,
                        struct es_err *err)
{
    struct db_stmt *s = stmt(f, S_OPEN_COUNT);
    db_bind_int64(s, 1, now);
    int rc = db_step(s);
    *open = rc == DB_ROW ? db_column_int64(s, 0) : 0;
    *claimed = rc == DB_ROW ? db_column_int64(s, 1) : 0;
    db_reset(s);
    return rc == DB_ROW ? 0 : es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
}

/* ---- the same as text, without building a jansson tree (the list's hot path) ---- */
#define LIT(b, s) es_buf_append((b), (s), sizeof(s) - 1)

static void jstr(struct es_buf *b, const char *key, const char *v)
{
    es_buf_appendf(b, ",\"%s\":", key);
    if (v && v[0])
        es_json_string(b, v, strlen(v));
    else
        LIT(b, "null");
}

static void jtime(struct es_buf *b, const char *key, int64_t ms)
{
    if (!ms) {
        es_buf_appendf(b, ",\"%s\":null", key);
        return;
    }
    char t[32];
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    es_buf_appendf(b, ",\"%s\":\"%s\"", key, t);
}

int followup_entry_append(struct es_buf *b, const struct followup_entry *e, int64_t now)
{
    size_t before = b->len;
    es_buf_appendf(b, "{\"id\":%lld,\"number\":", (long long)e->id);
    es_json_string(b, e->number, strlen(e->number));
    LIT(b, ",\"queue\":");
    es_json_string(b, e->line, strlen(e->line));
    es_buf_appendf(b, ",\"attempts\":%lld,\"our_attempts\":%lld", (long long)e->attempts,
                   (long long)e->our_attempts);
    jtime(b, "first_missed_at", e->first_missed_at);
    jtime(b, "last_missed_at", e->last_missed_at);
    /* our own compact JSON object (written by the sync with jansson) */
    es_buf_appendf(b, ",\"reasons\":%s,\"after_hours\":%s,\"status\":\"%s\"",
                   e->reasons[0] == '{' ? e->reasons : "{}", e->after_hours ? "true" : "false",
                   status_names[e->status]);
    if (e->status == FU_CLOSED)
        LIT(b, ",\"waiting_s\":null");
    else
        es_buf_appendf(b, ",\"waiting_s\":%lld", (long long)((now - e->first_missed_at) / 1000));
    jstr(b, "claimed_by", e->claimed_by);
    jtime(b, "claimed_until", e->claimed_until);
    jstr(b, "closed_by", e->closed_by);
    jtime(b, "closed_at", e->closed_at);
    jstr(b, "callback_call_id", e->callback_call_id);
    jstr(b, "callback_operator", e->callback_operator);
    if (e->status == FU_CLOSED && strcmp(e->closed_by, "manual"))
        es_buf_appendf(b, ",\"time_to_callback_s\":%lld",
                       (long long)((e->closed_at - e->first_missed_at) / 1000));
    else
        LIT(b, ",\"time_to_callback_s\":null");
    LIT(b, ",\"note\":");
    es_json_string(b, e->note, strlen(e->note));
    jstr(b, "customer", e->customer);
    jstr(b, "segment", e->segment);
    return es_buf_append(b, "}", 1) || b->len == before ? ES_ENOMEM : 0;
}
