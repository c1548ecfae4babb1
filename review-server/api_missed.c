/* /api/v1/missed: the unreturned-calls list, claims and closes, the
 * time-to-callback report; /api/v1/notifications: deliveries and dead letters
 * (admins). Supervisors, compliance and admins see every entry; operators see
 * the entries of their queues (the PBX's logs of the last 30 days) and of their
 * own extension, and may claim and close those. Claims and closes are audited
 * in the transaction that makes them. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

#define OPERATOR_QUEUES_MS (30LL * 86400 * 1000)

static enum MHD_Result lib_error(struct req *r, int rc, const struct es_err *err)
{
    unsigned status = rc == ES_ENOTFOUND ? 404
                      : rc == ES_ESTATE  ? 409
                      : rc == ES_EINVAL  ? 400
                                         : 500;
    return http_error(r, status, "%s", err->msg[0] ? err->msg : es_strerror(rc));
}

/* The list follows the catalog: brought up to date at most every 2 s. */
static int sync_list(struct req *r, struct es_err *err)
{
    int64_t now = es_now_ms(), last = r->srv->missed_synced_at;
    if (now - last < 2000)
        return 0;
    r->srv->missed_synced_at = now;
    struct followup_opts o = {.country_code = r->srv->country_code[0] ? r->srv->country_code : NULL,
                              .has_hours = r->srv->has_hours,
                              .hours = r->srv->hours,
                              .emit_after = now - 3600 * 1000LL};
    int64_t n;
    return followup_sync(r->w->fu, &o, &n, err);
}

/* An operator's lines as a JSON array (their queues and extension); NULL for
 * the other roles. */
static char *operator_lines(struct req *r, struct es_err *err)
{
    if (r->user.role != ROLE_OPERATOR)
        return NULL;
    char names[64][64];
    size_t n = 0;
    json_t *a = json_array();
    if (analytics_operator_queues(r->w->an, r->user.operator_, es_now_ms() - OPERATOR_QUEUES_MS,
                                  names, 64, &n, err) == 0)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_string(names[i]));
    if (r->user.operator_[0])
        json_array_append_new(a, json_string(r->user.operator_));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s ? s : strdup("[]");
}

static bool visible(const char *lines, const struct followup_entry *e)
{
    if (!lines)
        return true;
    json_t *a = json_loads(lines, 0, NULL);
    size_t i;
    json_t *v;
    bool ok = false;
    json_array_foreach(a, i, v) ok = ok || !strcmp(json_string_value(v), e->line);
    json_decref(a);
    return ok;
}

static bool int_arg(struct req *r, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = http_arg(r, name);
    if (!v)
        return true;
    char *e;
    long long x = strtoll(v, &e, 10);
    if (!v[0] || *e || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

struct page {
    struct es_buf out;
    int64_t now, n;
    int64_t last_key, last_id;
    int rc;
};

static int add(void *ud, const struct followup_entry *e)
{
    struct page *p = ud;
    if (p->n++)
        es_buf_append(&p->out, ",", 1);
    p->rc = followup_entry_append(&p->out, e, p->now);
    p->last_key = e->status == FU_CLOSED ? e->closed_at : e->first_missed_at;
    p->last_id = e->id;
    return p->rc;
}

enum MHD_Result api_missed_list(struct req *r)
{
    struct followup_filter f = {.which = 1, .limit = 100};
    const char *status = http_arg(r, "status");
    if (status && !strcmp(status, "closed"))
        f.which = 2;
    else if (status && strcmp(status, "open"))
        return http_error(r, 400, "bad value for the 'status' filter (open or closed)");
    int64_t limit = 100;
    if (!int_arg(r, "limit", 1, 500, &limit) ||
        !int_arg(r, "after_key", 0, INT64_MAX, &f.after_key) ||
        !int_arg(r, "after_id", 0, INT64_MAX, &f.after_id))
        return http_error(r, 400, "bad value for 'limit' (1 to 500), 'after_key' or 'after_id'");
    f.limit = (int)limit;
    if (http_arg(r, "since") &&
        analytics_window(http_arg(r, "since"), http_arg(r, "since"), &f.since, &(int64_t){0}))
        return http_error(r, 400, "bad value for the 'since' filter (YYYY-MM-DD)");
    f.line = http_arg(r, "queue");
    struct es_err err = {{0}};
    if (sync_list(r, &err))
        return http_error(r, 500, "%s", err.msg);
    char *lines = operator_lines(r, &err);
    f.lines = lines;
    struct page p = {.now = es_now_ms()};
    es_buf_init(&p.out, 16 << 20);
    static const char head[] = "{\"entries\":[";
    es_buf_append(&p.out, head, sizeof head - 1);
    int rc = followup_list(r->w->fu, &f, p.now, add, &p, &err);
    free(lines);
    if (rc || p.rc) {
        es_buf_free(&p.out);
        return rc ? lib_error(r, rc, &err) : http_error(r, 500, "out of memory");
    }
    es_buf_append(&p.out, "]", 1);
    if (p.n == limit)
        es_buf_appendf(&p.out, ",\"next\":{\"after_key\":%lld,\"after_id\":%lld}",
                       (long long)p.last_key, (long long)p.last_id);
    if (es_buf_append(&p.out, "}", 1)) {
        es_buf_free(&p.out);
        return http_error(r, 500, "out of memory");
    }
    enum MHD_Result res = http_reply(r, 200, "application/json", p.out.data, p.out.len);
    es_buf_free(&p.out);
    return res;
}

/* The entry of the path, if this user may act on it (else an error is queued). */
static bool entry_of(struct req *r, struct followup_entry *e, enum MHD_Result *res)
{
    struct es_err err = {{0}};
    int64_t id = strtoll(r->route.arg, NULL, 10);
    if (followup_get(r->w->fu, id, es_now_ms(), e, &err)) {
        *res = http_error(r, 404, "no such unreturned call");
        return false;
    }
    char *lines = operator_lines(r, &err);
    bool ok = visible(lines, e);
    free(lines);
    if (!ok) /* as if it did not exist: no probing other queues' entries */
        *res = http_error(r, 404, "no such unreturned call");
    return ok;
}

static enum MHD_Result act(struct req *r, bool close)
{
    enum MHD_Result res;
    struct followup_entry e;
    if (!entry_of(r, &e, &res))
        return res;
    json_t *b = NULL;
    const char *note = NULL;
    if (close) {
        b = http_body_json(r, &res);
        if (!b)
            return res;
        note = json_string_value(json_object_get(b, "note"));
        if (!note || !note[0] || strlen(note) > 250) {
            json_decref(b);
            return http_error(r, 400,
                              "expected {\"note\": why no callback is needed} (1 to 250"
                              " bytes)");
        }
    }
    struct es_err err = {{0}};
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    int64_t now = es_now_ms();
    if (!rc)
        rc = close ? followup_close_entry(r->w->fu, e.id, r->user.name, note, now, &err)
                   : followup_claim(r->w->fu, e.id, r->user.name, now, &err);
    json_t *d = json_pack("{s:s, s:s}", "number", e.number, "queue", e.line);
    char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    rc = http_tx_audit_end(r, outer, rc, close ? "missed.close" : "missed.claim", r->route.arg,
                           detail ? detail : "{}", &err);
    free(detail);
    json_decref(b);
    if (rc)
        return lib_error(r, rc, &err);
    if (followup_get(r->w->fu, e.id, es_now_ms(), &e, &err))
        return lib_error(r, ES_EDB, &err);
    return http_json(r, 200, followup_entry_json(&e, es_now_ms()));
}

enum MHD_Result api_missed_report(struct req *r)
{
    int64_t f, t;
    if (analytics_window(http_arg(r, "from"), http_arg(r, "to"), &f, &t) ||
        t - f > 400LL * 86400 * 1000)
        return http_error(r, 400,
                          "bad value for the 'from' or 'to' filter (YYYY-MM-DD, at most"
                          " 400 days)");
    struct es_err err = {{0}};
    struct followup_report rep;
    if (sync_list(r, &err) || followup_report(r->w->fu, f, t, &rep, &err))
        return http_error(r, 500, "%s", err.msg);
    return http_json(r, 200, followup_report_json(&rep));
}

static int add_delivery(void *ud, const struct notify_delivery *d)
{
    json_array_append_new(ud, notify_delivery_json(d));
    return 0;
}

enum MHD_Result api_notifications(struct req *r)
{
    const char *st = http_arg(r, "state");
    int state = !st                        ? -1
                : !strcmp(st, "pending")   ? NOTIFY_PENDING
                : !strcmp(st, "dead")      ? NOTIFY_DEAD
                : !strcmp(st, "delivered") ? NOTIFY_DELIVERED
                                           : -2;
    if (state == -2)
        return http_error(r, 400, "bad value for the 'state' filter (pending, dead, delivered)");
    struct es_err err = {{0}};
    json_t *arr = json_array();
    struct notify_counts c;
    if (notify_list(r->w->fu, state, 200, add_delivery, arr, &err) ||
        notify_counts(r->w->fu, &c, &err)) {
        json_decref(arr);
        return http_error(r, 500, "%s", err.msg);
    }
    /* what an admin sees of a webhook URL: no user name or password in it */
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d)
    {
        const char *t = json_string_value(json_object_get(d, "target"));
        const char *sch = t ? strstr(t, "://") : NULL, *at = sch ? strchr(sch + 3, '@') : NULL;
        const char *slash = sch ? strchr(sch + 3, '/') : NULL;
        if (at && (!slash || at < slash)) {
            char *shown = NULL;
            if (asprintf(&shown, "%.*s://%s", (int)(sch - t), t, at + 1) > 0) {
                json_object_set_new(d, "target", json_string(shown));
                free(shown);
            }
        }
    }
    return http_json(r, 200,
                     json_pack("{s:o, s:{s:I, s:I, s:I, s:I}}", "deliveries", arr, "counts",
                               "pending", (json_int_t)c.pending, "dead", (json_int_t)c.dead,
                               "delivered", (json_int_t)c.delivered, "outbox",
                               (json_int_t)c.outbox));
}

enum MHD_Result api_notification_retry(struct req *r)
{
    struct es_err err = {{0}};
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc)
        rc = notify_retry(r->w->fu, strtoll(r->route.arg, NULL, 10), es_now_ms(), &err);
    rc = http_tx_audit_end(r, outer, rc, "notification.retry", r->route.arg, NULL, &err);
    if (rc)
        return lib_error(r, rc, &err);
    return http_json(r, 200, json_pack("{s:b}", "queued", 1));
}

enum MHD_Result api_missed_claim(struct req *r)
{
    return act(r, false);
}

enum MHD_Result api_missed_close(struct req *r)
{
    return act(r, true);
}
