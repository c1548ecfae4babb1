/* Notifications: the rules from the configuration, the outbox, routing events
 * into deliveries (or hourly digests), and delivering them with backoff. */
#include "followup/followup_int.h"

#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const notify_events[] = {
    "call.missed",         "missed.unreturned", "recording.ready", "evaluation.submitted",
    "evaluation.disputed", "capture.health",    "ingest.failed",   NULL,
};

const char *const notify_config_keys[] = {
    "webhook_url",
    "webhook_secret",
    "webhook_events",
    "email_to",
    "email_events",
    "smtp_url",
    "smtp_user",
    "smtp_password",
    "smtp_from",
    "notify_timeout",
    "notify_give_up",
    "unreturned_after",
    "notify.*.channel",
    "notify.*.url",
    "notify.*.secret",
    "notify.*.to",
    "notify.*.events",
    "notify.*.queue",
    "notify.*.hours",
    "notify.*.min_wait",
    "notify.*.digest",
    "health_unparsed_per_minute",
    "health_no_sip_minutes",
    "health_disk_free_percent",
    "health_recorder_silent_minutes",
    "health_clear_after_minutes",
    NULL,
};

static int copy(char *dst, size_t n, const char *v, const char *key, struct es_err *err)
{
    if (strlen(v) >= n)
        return es_seterr(err, ES_ETOOBIG, "config %s: longer than %zu bytes", key, n - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static bool has_event(const char *list, const char *event)
{
    size_t n = strlen(event);
    for (const char *p = list; *p;) {
        p += strspn(p, " ,");
        size_t l = strcspn(p, " ,");
        if ((l == 1 && *p == '*') || (l == n && !memcmp(p, event, n)))
            return true;
        p += l;
    }
    return false;
}

static int check_events(const char *list, const char *key, struct es_err *err)
{
    for (const char *p = list; *p;) {
        p += strspn(p, " ,");
        size_t l = strcspn(p, " ,");
        if (!l)
            break;
        bool ok = l == 1 && *p == '*';
        for (const char *const *e = notify_events; *e && !ok; e++)
            ok = strlen(*e) == l && !memcmp(*e, p, l);
        if (!ok)
            return es_seterr(err, ES_EINVAL,
                             "config %s: unknown event '%.*s' (known: call.missed,"
                             " missed.unreturned, recording.ready, evaluation.submitted,"
                             " evaluation.disputed, capture.health, ingest.failed)",
                             key, (int)l, p);
        p += l;
    }
    return 0;
}

static int minutes(const char *v, const char *key, int64_t *ms, struct es_err *err)
{
    char *e;
    long long m = strtoll(v, &e, 10);
    if (e == v || *e || m < 0 || m > 7 * 24 * 60)
        return es_seterr(err, ES_EINVAL, "config %s '%s': minutes, 0 to 10080", key, v);
    *ms = m * 60000;
    return 0;
}

static struct notify_rule *rule_named(struct notify_config *nc, const char *name, size_t len,
                                      struct es_err *err)
{
    for (int i = 0; i < nc->nrules; i++)
        if (strlen(nc->rules[i].name) == len && !memcmp(nc->rules[i].name, name, len))
            return &nc->rules[i];
    if (nc->nrules == NOTIFY_MAX_RULES) {
        es_seterr(err, ES_ETOOBIG, "config: more than %d notification rules", NOTIFY_MAX_RULES);
        return NULL;
    }
    if (len >= sizeof nc->rules[0].name) {
        es_seterr(err, ES_ETOOBIG, "config: notification rule name '%.*s' too long", (int)len,
                  name);
        return NULL;
    }
    struct notify_rule *r = &nc->rules[nc->nrules++];
    memset(r, 0, sizeof *r);
    memcpy(r->name, name, len);
    r->channel = (enum notify_channel) - 1;
    return r;
}

/* notify.NAME.FIELD = value */
static int rule_field(struct notify_config *nc, const char *key, const char *v, struct es_err *err)
{
    const char *name = key + strlen("notify."), *dot = strchr(name, '.');
    struct notify_rule *r = rule_named(nc, name, (size_t)(dot - name), err);
    if (!r)
        return ES_ETOOBIG;
    const char *field = dot + 1;
    if (!strcmp(field, "channel")) {
        if (!strcmp(v, "webhook"))
            r->channel = NOTIFY_WEBHOOK;
        else if (!strcmp(v, "email"))
            r->channel = NOTIFY_EMAIL;
        else
            return es_seterr(err, ES_EINVAL, "config %s '%s': webhook or email", key, v);
        return 0;
    }
    if (!strcmp(field, "url") || !strcmp(field, "to"))
        return copy(r->target, sizeof r->target, v, key, err);
    if (!strcmp(field, "secret"))
        return copy(r->secret, sizeof r->secret, v, key, err);
    if (!strcmp(field, "events"))
        return check_events(v, key, err) ?: copy(r->events, sizeof r->events, v, key, err);
    if (!strcmp(field, "queue"))
        return copy(r->queue, sizeof r->queue, v, key, err);
    if (!strcmp(field, "hours")) {
        r->hours = !strcmp(v, "business") ? NOTIFY_BUSINESS_HOURS
                   : !strcmp(v, "after")  ? NOTIFY_AFTER_HOURS
                   : !strcmp(v, "any")    ? NOTIFY_ANY_HOURS
                                          : (enum notify_hours) - 1;
        if ((int)r->hours < 0)
            return es_seterr(err, ES_EINVAL, "config %s '%s': business, after or any", key, v);
        return 0;
    }
    if (!strcmp(field, "min_wait")) {
        int64_t ms;
        int rc = minutes(v, key, &ms, err);
        r->min_wait_s = ms / 1000;
        return rc;
    }
    if (!strcmp(field, "digest")) {
        if (strcmp(v, "hourly") && strcmp(v, "immediately"))
            return es_seterr(err, ES_EINVAL, "config %s '%s': immediately or hourly", key, v);
        r->hourly = !strcmp(v, "hourly");
        return 0;
    }
    return es_seterr(err, ES_EINVAL, "config %s: unknown field", key);
}

int notify_config_load(const struct es_config *cfg, struct notify_config *nc, struct es_err *err)
{
    memset(nc, 0, sizeof *nc);
    nc->timeout_s = 10;
    nc->give_up_ms = 24LL * 3600 * 1000;
    nc->unreturned_after_ms = 30LL * 60 * 1000;
    nc->max_age_ms = 3600LL * 1000;
    nc->unparsed_per_min = 100;
    nc->no_sip_min = 15;
    nc->disk_free_pct = 10;
    nc->silent_min = 5;
    nc->clear_min = 5;
    if (!cfg)
        return 0;
    const char *v;
    int rc = 0;
    /* the simplest configuration: one webhook, one mailbox */
    if ((v = es_config_get(cfg, "webhook_url"))) {
        struct notify_rule *r = rule_named(nc, "webhook", 7, err);
        r->channel = NOTIFY_WEBHOOK;
        rc = copy(r->target, sizeof r->target, v, "webhook_url", err);
        if (!rc && (v = es_config_get(cfg, "webhook_secret")))
            rc = copy(r->secret, sizeof r->secret, v, "webhook_secret", err);
        v = es_config_get(cfg, "webhook_events");
        if (!rc)
            rc = check_events(v ? v : "*", "webhook_events", err)
                     ?: copy(r->events, sizeof r->events, v ? v : "*", "webhook_events", err);
    }
    if (!rc && (v = es_config_get(cfg, "email_to"))) {
        struct notify_rule *r = rule_named(nc, "email", 5, err);
        r->channel = NOTIFY_EMAIL;
        rc = copy(r->target, sizeof r->target, v, "email_to", err);
        v = es_config_get(cfg, "email_events");
        if (!rc)
            rc = check_events(v ? v : "call.missed, missed.unreturned, capture.health",
                              "email_events", err)
                     ?: copy(r->events, sizeof r->events,
                             v ? v : "call.missed, missed.unreturned, capture.health",
                             "email_events", err);
    }
    static const struct {
        const char *key;
        size_t off, size;
    } smtp[] = {
        {"smtp_url", offsetof(struct notify_config, smtp_url), sizeof nc->smtp_url},
        {"smtp_user", offsetof(struct notify_config, smtp_user), sizeof nc->smtp_user},
        {"smtp_password", offsetof(struct notify_config, smtp_password), sizeof nc->smtp_password},
        {"smtp_from", offsetof(struct notify_config, smtp_from), sizeof nc->smtp_from},
    };
    for (size_t i = 0; !rc && i < ES_ARRAY_LEN(smtp); i++)
        if ((v = es_config_get(cfg, smtp[i].key)))
            rc = copy((char *)nc + smtp[i].off, smtp[i].size, v, smtp[i].key, err);
    if (!rc && (v = es_config_get(cfg, "notify_timeout"))) {
        char *e;
        long t = strtol(v, &e, 10);
        if (e == v || *e || t < 1 || t > 300)
            rc = es_seterr(err, ES_EINVAL, "config notify_timeout '%s': seconds, 1 to 300", v);
        nc->timeout_s = (int)t;
    }
    if (!rc && (v = es_config_get(cfg, "notify_give_up"))) {
        char *e;
        long long t = strtoll(v, &e, 10);
        if (e == v || *e || t < 1 || t > 30LL * 86400)
            rc = es_seterr(err, ES_EINVAL, "config notify_give_up '%s': seconds, 1 to 2592000", v);
        nc->give_up_ms = t * 1000;
    }
    static const struct {
        const char *key;
        size_t off;
        double hi;
    } health[] = {
        {"health_unparsed_per_minute", offsetof(struct notify_config, unparsed_per_min), 1e9},
        {"health_no_sip_minutes", offsetof(struct notify_config, no_sip_min), 10080},
        {"health_disk_free_percent", offsetof(struct notify_config, disk_free_pct), 100},
        {"health_recorder_silent_minutes", offsetof(struct notify_config, silent_min), 10080},
        {"health_clear_after_minutes", offsetof(struct notify_config, clear_min), 10080},
    };
    for (size_t i = 0; !rc && i < ES_ARRAY_LEN(health); i++)
        if ((v = es_config_get(cfg, health[i].key))) {
            char *e;
            double d = strtod(v, &e);
            if (e == v || *e || !(d >= 0 && d <= health[i].hi))
                rc = es_seterr(err, ES_EINVAL, "config %s '%s': a number, 0 to %g", health[i].key,
                               v, health[i].hi);
            else
                *(double *)((char *)nc + health[i].off) = d;
        }
    if (!rc && (v = es_config_get(cfg, "unreturned_after")))
        rc = minutes(v, "unreturned_after", &nc->unreturned_after_ms, err);
    for (size_t i = 0; !rc && i < es_config_count(cfg); i++) {
        const char *k = es_config_key(cfg, i);
        if (!strncmp(k, "notify.", 7))
            rc = rule_field(nc, k, es_config_get(cfg, k), err);
    }
    for (int i = 0; !rc && i < nc->nrules; i++) {
        struct notify_rule *r = &nc->rules[i];
        if ((int)r->channel < 0)
            rc = es_seterr(err, ES_EINVAL, "config notify.%s: no channel (webhook or email)",
                           r->name);
        else if (!r->target[0])
            rc = es_seterr(err, ES_EINVAL, "config notify.%s: no %s", r->name,
                           r->channel == NOTIFY_WEBHOOK ? "url" : "to");
        else if (r->channel == NOTIFY_WEBHOOK && strncmp(r->target, "https://", 8) &&
                 strncmp(r->target, "http://", 7))
            rc = es_seterr(err, ES_EINVAL, "config notify.%s: the url must be http:// or https://",
                           r->name);
        else if (r->channel == NOTIFY_EMAIL && !nc->smtp_url[0])
            rc = es_seterr(err, ES_EINVAL,
                           "config notify.%s: e-mail needs smtp_url (smtp://host:port, smtps://,"
                           " or smtp://localhost for the local mail server)",
                           r->name);
        else if (!r->events[0])
            snprintf(r->events, sizeof r->events, "*");
    }
    return rc;
}

/* ---- statements ------------------------------------------------------------------- */
enum nst {
    N_EMIT,
    N_UNROUTED,
    N_UNROUTED_DEL,
    N_DELIVERY_ADD,
    N_DIGEST_ADD,
    N_DIGEST_DUE,
    N_DIGEST_ITEMS,
    N_DIGEST_DEL,
    N_DUE,
    N_LEASE,
    N_DONE,
    N_FAIL,
    N_DEAD,
    N_LIST,
    N_RETRY,
    N_COUNTS,
    N_PRUNE,
    N_UNRETURNED_DUE,
    N_UNRETURNED_SENT,
    N_COUNT
};

static const char *const nsql[N_COUNT] = {
    [N_EMIT] = "INSERT INTO outbox(uuid, event, at, body, queue, after_hours, waiting_s)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [N_UNROUTED] = "SELECT id, uuid, event, at, body, queue, after_hours, waiting_s FROM outbox"
                   " ORDER BY id LIMIT 500",
    [N_UNROUTED_DEL] = "DELETE FROM outbox WHERE id = ?1",
    [N_DELIVERY_ADD] = "INSERT INTO deliveries(uuid, event, rule, channel, target, body,"
                       " created_at, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    [N_DIGEST_ADD] = "INSERT INTO digest_items(rule, hour, event, body) VALUES (?1, ?2, ?3, ?4)",
    [N_DIGEST_DUE] = "SELECT DISTINCT rule, hour FROM digest_items WHERE hour < ?1",
    [N_DIGEST_ITEMS] = "SELECT event, body FROM digest_items WHERE rule = ?1 AND hour = ?2"
                       " ORDER BY id",
    [N_DIGEST_DEL] = "DELETE FROM digest_items WHERE rule = ?1 AND hour = ?2",
    [N_DUE] = "SELECT id, uuid, event, rule, target, body, created_at, attempts FROM deliveries"
              " WHERE state = 'pending' AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
    /* while one sender works on it, nobody else takes it (a crash frees it later) */
    [N_LEASE] = "UPDATE deliveries SET next_at = ?2 WHERE id = ?1 AND state = 'pending'",
    [N_DONE] = "UPDATE deliveries SET state = 'delivered', delivered_at = ?2,"
               " attempts = attempts + 1, last_error = '', body = '' WHERE id = ?1",
    [N_FAIL] = "UPDATE deliveries SET attempts = attempts + 1, next_at = ?2, last_error = ?3"
               " WHERE id = ?1",
    [N_DEAD] = "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = ?2"
               " WHERE id = ?1",
    [N_LIST] = "SELECT id, uuid, event, rule, channel, target, state, attempts, created_at,"
               " next_at, coalesce(delivered_at, 0), last_error FROM deliveries"
               " WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2",
    [N_RETRY] = "UPDATE deliveries SET state = 'pending', next_at = ?2, created_at = ?2"
                " WHERE id = ?1 AND state IN ('dead', 'pending')",
    [N_COUNTS] = "SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending'),"
                 " (SELECT count(*) FROM deliveries WHERE state = 'dead'),"
                 " (SELECT count(*) FROM deliveries WHERE state = 'delivered'),"
                 " (SELECT count(*) FROM outbox)",
    [N_PRUNE] = "DELETE FROM deliveries WHERE state = 'delivered' AND delivered_at < ?1",
    [N_UNRETURNED_DUE] = "SELECT id, number, line, attempts, first_missed_at, last_missed_at,"
                         " reasons, after_hours FROM unreturned WHERE open = 1"
                         " AND unreturned_sent = 0 AND first_missed_at <= ?1"
                         " AND first_missed_at > ?2 AND claimed_until <= ?3 LIMIT 500",
    [N_UNRETURNED_SENT] = "UPDATE unreturned SET unreturned_sent = 1 WHERE id = ?1",
};

static struct db_stmt *nstmt(struct followup *f, enum nst which, struct es_err *err)
{
    if (!f->nst[which] && db_prepare(f->db, nsql[which], &f->nst[which]) != 0) {
        es_seterr(err, ES_EDB, "catalog: preparing notification statement %d: %s", which,
                  db_errmsg(f->db));
        return NULL;
    }
    db_reset(f->nst[which]);
    db_clear_bindings(f->nst[which]);
    return f->nst[which];
}

static int ndone(struct followup *f, struct db_stmt *s, struct es_err *err)
{
    int rc = db_step(s);
    db_reset(s);
    return rc == DB_DONE ? 0
                         : es_seterr(err, ES_EDB, "catalog: notifications: %s", db_errmsg(f->db));
}

static void iso(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int notify_emit(struct followup *f, const char *event, int64_t at, json_t *data, struct es_err *err)
{
    char uuid[ES_ID_LEN], when[32];
    es_uuid7(at, uuid);
    iso(at, when);
    json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "id", uuid, "event", event, "at", when, "data",
                             data ? data : json_object());
    if (!body)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    const char *queue = json_string_value(json_object_get(data, "queue"));
    json_t *w = json_object_get(data, "waiting_s");
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc;
    struct db_stmt *s = nstmt(f, N_EMIT, err);
    if (!text) {
        rc = es_seterr(err, ES_ENOMEM, "out of memory");
    } else if (!s) {
        rc = ES_EDB;
    } else {
        db_bind_text(s, 1, uuid, -1);
        db_bind_text(s, 2, event, -1);
        db_bind_int64(s, 3, at);
        db_bind_text(s, 4, text, -1);
        db_bind_text(s, 5, queue ? queue : "", -1);
        db_bind_int(s, 6, json_is_true(json_object_get(data, "after_hours")));
        db_bind_int64(s, 7, json_is_integer(w) ? json_integer_value(w) : 0);
        rc = ndone(f, s, err);
    }
    free(text);
    json_decref(body);
    return rc;
}

int fu_emit_call(struct followup *f, const char *event, const struct catalog_call_brief *b,
                 bool after_hours, int64_t attempts, struct es_err *err)
{
    char started[32];
    iso(b->started_at, started);
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "id", b->id, "started_at",
                  started, "direction", b->direction, "caller", b->caller, "callee", b->callee,
                  "queue", b->queue, "operator", b->operator_, "disposition", b->disposition,
                  "reason", b->reason, "after_hours", after_hours);
    if (!d)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    if (attempts > 0)
        json_object_set_new(d, "attempts", json_integer(attempts));
    return notify_emit(f, event, b->started_at, d, err);
}

int notify_unreturned(struct followup *f, const struct notify_config *nc, int64_t now,
                      int64_t *emitted, struct es_err *err)
{
    *emitted = 0;
    bool outer;
    if (catalog_tx_begin(f->db, &outer))
        return es_seterr(err, ES_EDB, "catalog: cannot begin");
    int rc = 0;
    struct db_stmt *s = nstmt(f, N_UNRETURNED_DUE, err);
    if (!s) {
        rc = ES_EDB;
        goto out;
    }
    db_bind_int64(s, 1, now - nc->unreturned_after_ms);
    /* entries that were already old when notifications started are history */
    db_bind_int64(s, 2, now - nc->unreturned_after_ms - nc->max_age_ms);
    db_bind_int64(s, 3, now);
    int64_t ids[500];
    json_t *datas[500];
    int n = 0;
    while (n < 500 && db_step(s) == DB_ROW) {
        char first[32], last[32];
        iso(db_column_int64(s, 4), first);
        iso(db_column_int64(s, 5), last);
        json_t *reasons = json_loads((const char *)db_column_text(s, 6), 0, NULL);
        ids[n] = db_column_int64(s, 0);
        datas[n] = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:o, s:b, s:I}", "entry",
                             (json_int_t)ids[n], "number", (const char *)db_column_text(s, 1),
                             "queue", (const char *)db_column_text(s, 2), "attempts",
                             (json_int_t)db_column_int64(s, 3), "first_missed_at", first,
                             "last_missed_at", last, "reasons", reasons ? reasons : json_object(),
                             "after_hours", db_column_int(s, 7) != 0, "waiting_s",
                             (json_int_t)((now - db_column_int64(s, 4)) / 1000));
        n++;
    }
    db_reset(s);
    for (int i = 0; i < n; i++) {
        if (!rc)
            rc = notify_emit(f, "missed.unreturned", now, datas[i], err);
        else
            json_decref(datas[i]);
        if (!rc && (s = nstmt(f, N_UNRETURNED_SENT, err))) {
            db_bind_int64(s, 1, ids[i]);
            rc = ndone(f, s, err);
        } else if (!rc) {
            rc = ES_EDB;
        }
    }
    *emitted = rc ? 0 : n;
out:
    return catalog_tx_end(f->db, outer, rc);
}

static bool rule_wants(const struct notify_rule *r, const char *event, const char *queue,
                       bool after_hours, int64_t waiting_s)
{
    if (!has_event(r->events, event))
        return false;
    if (r->queue[0] && strcmp(r->queue, queue))
        return false;
    if (r->hours == NOTIFY_BUSINESS_HOURS && after_hours)
        return false;
    if (r->hours == NOTIFY_AFTER_HOURS && !after_hours)
        return false;
    return waiting_s >= r->min_wait_s || strcmp(event, "missed.unreturned");
}

static int add_delivery(struct followup *f, const struct notify_rule *r, const char *uuid,
                        const char *event, const char *body, int64_t now, struct es_err *err)
{
    struct db_stmt *s = nstmt(f, N_DELIVERY_ADD, err);
    if (!s)
        return ES_EDB;
    /* one event, several rules: the event's id on each (the rules' endpoints differ) */
    db_bind_text(s, 1, uuid, -1);
    db_bind_text(s, 2, event, -1);
    db_bind_text(s, 3, r->name, -1);
    db_bind_text(s, 4, r->channel == NOTIFY_WEBHOOK ? "webhook" : "email", -1);
    db_bind_text(s, 5, r->target, -1);
    db_bind_text(s, 6, body, -1);
    db_bind_int64(s, 7, now);
    int rc = db_step(s);
    db_reset(s);
    return rc == DB_DONE
               ? 0
               : es_seterr(err, ES_EDB, "catalog: adding a delivery: %s", db_errmsg(f->db));
}

static int route_digests(struct followup *f, const struct notify_config *nc, int64_t now,
                         int64_t *routed, struct es_err *err)
{
    int64_t hour_now = now / 3600000;
    struct db_stmt *s = nstmt(f, N_DIGEST_DUE, err);
    if (!s)
        return ES_EDB;
    db_bind_int64(s, 1, hour_now);
    struct {
        char rule[64];
        int64_t hour;
    } due[64];
    int n = 0;
    while (n < 64 && db_step(s) == DB_ROW) {
        snprintf(due[n].rule, sizeof due[n].rule, "%s", (const char *)db_column_text(s, 0));
        due[n++].hour = db_column_int64(s, 1);
    }
    db_reset(s);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const struct notify_rule *r = NULL;
        for (int k = 0; k < nc->nrules; k++)
            if (!strcmp(nc->rules[k].name, due[i].rule))
                r = &nc->rules[k];
        json_t *events = json_array();
        if (r && (s = nstmt(f, N_DIGEST_ITEMS, err))) {
            db_bind_text(s, 1, due[i].rule, -1);
            db_bind_int64(s, 2, due[i].hour);
            while (db_step(s) == DB_ROW) {
                json_t *b = json_loads((const char *)db_column_text(s, 1), 0, NULL);
                if (b)
                    json_array_append_new(events, b);
            }
            db_reset(s);
            char uuid[ES_ID_LEN], from[32], to[32];
            es_uuid7(now, uuid);
            iso(due[i].hour * 3600000, from);
            iso((due[i].hour + 1) * 3600000, to);
            char at[32];
            iso(now, at);
            json_t *body =
                json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:I, s:o}}", "id", uuid, "event",
                          "digest", "at", at, "data", "rule", r->name, "from", from, "to", to,
                          "count", (json_int_t)json_array_size(events), "events", events);
            char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            json_decref(body);
            rc = text ? add_delivery(f, r, uuid, "digest", text, now, err)
                      : es_seterr(err, ES_ENOMEM, "out of memory");
            free(text);
            if (!rc)
                ++*routed;
        } else {
            json_decref(events); /* a rule since removed: its items go */
        }
        if (!rc && (s = nstmt(f, N_DIGEST_DEL, err))) {
            db_bind_text(s, 1, due[i].rule, -1);
            db_bind_int64(s, 2, due[i].hour);
            rc = ndone(f, s, err);
        }
    }
    return rc;
}

int notify_route(struct followup *f, const struct notify_config *nc, int64_t now, int64_t *routed,
                 struct es_err *err)
{
    *routed = 0;
    for (;;) {
        bool outer;
        if (catalog_tx_begin(f->db, &outer))
            return es_seterr(err, ES_EDB, "catalog: cannot begin");
        int rc = 0, n = 0;
        struct db_stmt *s = nstmt(f, N_UNROUTED, err);
        if (!s)
            rc = ES_EDB;
        struct ev {
            int64_t id, at, waiting_s;
            char uuid[ES_ID_LEN], event[40], queue[64];
            bool after_hours;
            char *body;
        } *evs = rc ? NULL : calloc(500, sizeof *evs);
        if (!rc && !evs)
            rc = es_seterr(err, ES_ENOMEM, "out of memory");
        while (!rc && n < 500 && db_step(s) == DB_ROW) {
            struct ev *e = &evs[n++];
            e->id = db_column_int64(s, 0);
            snprintf(e->uuid, sizeof e->uuid, "%s", (const char *)db_column_text(s, 1));
            snprintf(e->event, sizeof e->event, "%s", (const char *)db_column_text(s, 2));
            e->at = db_column_int64(s, 3);
            e->body = strdup((const char *)db_column_text(s, 4));
            snprintf(e->queue, sizeof e->queue, "%s", (const char *)db_column_text(s, 5));
            e->after_hours = db_column_int(s, 6) != 0;
            e->waiting_s = db_column_int64(s, 7);
            if (!e->body)
                rc = es_seterr(err, ES_ENOMEM, "out of memory");
        }
        if (s)
            db_reset(s);
        for (int i = 0; i < n && !rc; i++) {
            struct ev *e = &evs[i];
            for (int k = 0; k < nc->nrules && !rc; k++) {
                const struct notify_rule *r = &nc->rules[k];
                if (!rule_wants(r, e->event, e->queue, e->after_hours, e->waiting_s))
                    continue;
                if (r->hourly) {
                    struct db_stmt *d = nstmt(f, N_DIGEST_ADD, err);
                    if (!d) {
                        rc = ES_EDB;
                        break;
                    }
                    db_bind_text(d, 1, r->name, -1);
                    db_bind_int64(d, 2, now / 3600000);
                    db_bind_text(d, 3, e->event, -1);
                    db_bind_text(d, 4, e->body, -1);
                    rc = ndone(f, d, err);
                } else {
                    rc = add_delivery(f, r, e->uuid, e->event, e->body, now, err);
                }
            }
            if (!rc && (s = nstmt(f, N_UNROUTED_DEL, err))) {
                db_bind_int64(s, 1, e->id);
                rc = ndone(f, s, err);
            }
        }
        for (int i = 0; evs && i < n; i++)
            free(evs[i].body);
        free(evs);
        if (!rc)
            rc = route_digests(f, nc, now, routed, err);
        if (!rc && (s = nstmt(f, N_PRUNE, err))) { /* delivered ones are kept a week */
            db_bind_int64(s, 1, now - 7 * 86400000LL);
            rc = ndone(f, s, err);
        }
        rc = catalog_tx_end(f->db, outer, rc);
        if (rc)
            return err->msg[0] ? rc : es_seterr(err, rc, "catalog: routing notifications");
        *routed += n;
        if (n < 500)
            return 0;
    }
}

/* 1 s, 2 s, 4 s ... 1 h, with up to 10 % added so that many retries spread out. */
static int64_t backoff_ms(int64_t attempts)
{
    int64_t d = attempts >= 12 ? 3600000 : ES_MIN(1000LL << attempts, 3600000LL);
    return d + (int64_t)(randombytes_uniform((uint32_t)(d / 10 + 1)));
}

int notify_deliver(struct followup *f, const struct notify_config *nc, int64_t now, int max,
                   struct notify_pass *p, struct es_err *err)
{
    memset(p, 0, sizeof *p);
    struct item {
        int64_t id, created_at, attempts;
        char uuid[ES_ID_LEN], event[40], rule[64], target[512];
        char *body;
        int result;
        char why[256];
    } *items = calloc((size_t)max, sizeof *items);
    if (!items)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    int n = 0, rc = 0;
    bool outer;
    /* 1. lease the due ones for longer than one pass can take */
    if (catalog_tx_begin(f->db, &outer)) {
        free(items);
        return es_seterr(err, ES_EDB, "catalog: cannot begin");
    }
    struct db_stmt *s = nstmt(f, N_DUE, err);
    if (!s)
        rc = ES_EDB;
    else {
        db_bind_int64(s, 1, now);
        db_bind_int(s, 2, max);
        while (n < max && db_step(s) == DB_ROW) {
            struct item *it = &items[n++];
            it->id = db_column_int64(s, 0);
            snprintf(it->uuid, sizeof it->uuid, "%s", (const char *)db_column_text(s, 1));
            snprintf(it->event, sizeof it->event, "%s", (const char *)db_column_text(s, 2));
            snprintf(it->rule, sizeof it->rule, "%s", (const char *)db_column_text(s, 3));
            snprintf(it->target, sizeof it->target, "%s", (const char *)db_column_text(s, 4));
            it->body = strdup((const char *)db_column_text(s, 5));
            it->created_at = db_column_int64(s, 6);
            it->attempts = db_column_int64(s, 7);
        }
        db_reset(s);
    }
    int64_t lease = now + (int64_t)n * (nc->timeout_s + 1) * 1000 + 5000;
    for (int i = 0; i < n && !rc; i++)
        if ((s = nstmt(f, N_LEASE, err))) {
            db_bind_int64(s, 1, items[i].id);
            db_bind_int64(s, 2, lease);
            rc = ndone(f, s, err);
        } else {
            rc = ES_EDB;
        }
    rc = catalog_tx_end(f->db, outer, rc);
    if (rc) {
        for (int i = 0; i < n; i++)
            free(items[i].body);
        free(items);
        return err->msg[0] ? rc : es_seterr(err, rc, "catalog: leasing deliveries");
    }
    /* 2. send, outside any transaction */
    for (int i = 0; i < n; i++) {
        struct item *it = &items[i];
        const struct notify_rule *r = NULL;
        for (int k = 0; k < nc->nrules; k++)
            if (!strcmp(nc->rules[k].name, it->rule))
                r = &nc->rules[k];
        if (!r) {
            it->result = 1;
            snprintf(it->why, sizeof it->why, "no rule '%s' in the configuration any more",
                     it->rule);
            continue;
        }
        struct notify_message m = {.rule = r,
                                   .uuid = it->uuid,
                                   .event = it->event,
                                   .body = it->body ? it->body : "",
                                   .target = it->target,
                                   .created_at = it->created_at};
        it->result = notify_send(f, nc, &m, es_now_ms(), it->why);
    }
    /* 3. the results, in one transaction */
    int64_t t = es_now_ms();
    if (catalog_tx_begin(f->db, &outer))
        rc = es_seterr(err, ES_EDB, "catalog: cannot begin");
    else {
        for (int i = 0; i < n && !rc; i++) {
            struct item *it = &items[i];
            if (!it->result) {
                if ((s = nstmt(f, N_DONE, err))) {
                    db_bind_int64(s, 1, it->id);
                    db_bind_int64(s, 2, t);
                    rc = ndone(f, s, err);
                }
                p->sent++;
                continue;
            }
            int64_t next = t + backoff_ms(it->attempts);
            bool dead = next - it->created_at > nc->give_up_ms;
            if ((s = nstmt(f, dead ? N_DEAD : N_FAIL, err))) {
                db_bind_int64(s, 1, it->id);
                if (dead) {
                    db_bind_text(s, 2, it->why, -1);
                } else {
                    db_bind_int64(s, 2, next);
                    db_bind_text(s, 3, it->why, -1);
                }
                rc = ndone(f, s, err);
            }
            if (dead)
                p->dead++;
            else
                p->failed++;
        }
        rc = catalog_tx_end(f->db, outer, rc);
    }
    for (int i = 0; i < n; i++)
        free(items[i].body);
    free(items);
    return rc && !err->msg[0] ? es_seterr(err, rc, "catalog: recording deliveries") : rc;
}

static const char *const state_names[] = {"pending", "delivered", "dead"};

int notify_list(struct followup *f, int state, int limit,
                int (*cb)(void *ud, const struct notify_delivery *), void *ud, struct es_err *err)
{
    struct db_stmt *s = nstmt(f, N_LIST, err);
    if (!s)
        return ES_EDB;
    if (state >= 0 && state <= NOTIFY_DEAD)
        db_bind_text(s, 1, state_names[state], -1);
    db_bind_int(s, 2, limit > 0 ? limit : -1);
    int rc;
    struct notify_delivery d;
    while ((rc = db_step(s)) == DB_ROW) {
        memset(&d, 0, sizeof d);
        d.id = db_column_int64(s, 0);
#define TXT(col, dst) snprintf(dst, sizeof dst, "%s", (const char *)db_column_text(s, col))
        TXT(1, d.uuid);
        TXT(2, d.event);
        TXT(3, d.rule);
        TXT(4, d.channel);
        TXT(5, d.target);
        const char *st = (const char *)db_column_text(s, 6);
        d.state = !strcmp(st, "pending") ? NOTIFY_PENDING
                  : !strcmp(st, "dead")  ? NOTIFY_DEAD
                                         : NOTIFY_DELIVERED;
        d.attempts = db_column_int64(s, 7);
        d.created_at = db_column_int64(s, 8);
        d.next_at = db_column_int64(s, 9);
        d.delivered_at = db_column_int64(s, 10);
        TXT(11, d.last_error);
#undef TXT
        if (cb(ud, &d))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE
               ? 0
               : es_seterr(err, ES_EDB, "catalog: listing deliveries: %s", db_errmsg(f->db));
}

int notify_retry(struct followup *f, int64_t id, int64_t now, struct es_err *err)
{
    struct db_stmt *s = nstmt(f, N_RETRY, err);
    if (!s)
        return ES_EDB;
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, now);
    int rc = ndone(f, s, err);
    if (!rc && !db_changes(f->db))
        rc =
            es_seterr(err, ES_ENOTFOUND, "delivery %lld: none such waiting or dead", (long long)id);
    return rc;
}

int notify_counts(struct followup *f, struct notify_counts *c, struct es_err *err)
{
    memset(c, 0, sizeof *c);
    struct db_stmt *s = nstmt(f, N_COUNTS, err);
    if (!s)
        return ES_EDB;
    int rc = db_step(s);
    if (rc == DB_ROW) {
        c->pending = db_column_int64(s, 0);
        c->dead = db_column_int64(s, 1);
        c->delivered = db_column_int64(s, 2);
        c->outbox = db_column_int64(s, 3);
    }
    db_reset(s);
    return rc == DB_ROW ? 0 : es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
}

json_t *notify_delivery_json(const struct notify_delivery *d)
{
    char created[32], next[32], delivered[32];
    iso(d->created_at, created);
    iso(d->next_at, next);
    iso(d->delivered_at, delivered);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:s}", "id",
                     (json_int_t)d->id, "uuid", d->uuid, "event", d->event, "rule", d->rule,
                     "channel", d->channel, "target", d->target, "state", state_names[d->state],
                     "attempts", (json_int_t)d->attempts, "created_at", created, "next_at",
                     d->state == NOTIFY_PENDING ? json_string(next) : json_null(), "delivered_at",
                     d->delivered_at ? json_string(delivered) : json_null(), "last_error",
                     d->last_error);
}

void notify_free(struct followup *f)
{
    for (size_t i = 0; i < ES_ARRAY_LEN(f->nst); i++)
        db_finalize(f->nst[i]);
    for (size_t i = 0; i < ES_ARRAY_LEN(f->hst); i++)
        db_finalize(f->hst[i]);
    notify_send_free(f);
}
