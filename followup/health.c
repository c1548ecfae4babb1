/* capture.health and ingest.failed: each live recorder's counters (stored by
 * `earshot record -i` every --status-every seconds) compared with the last
 * ones seen, the data directory's free space, and the ingest failures. A
 * condition fires once when it starts and clears once when it has not been
 * seen for health_clear_after_minutes: one alert per episode. */
#include "followup/followup_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

enum hst {
    H_GET,
    H_FIRE,
    H_SEEN,
    H_STALE,
    H_CLEAR,
    H_PREV_GET,
    H_PREV_PUT,
    H_FAIL_POS_GET,
    H_FAIL_POS_PUT,
    H_FIRING,
    H_COUNT
};

static const char *const hsql[H_COUNT] = {
    [H_GET] = "SELECT firing FROM fu_health WHERE condition = ?1",
    [H_FIRE] = "INSERT INTO fu_health(condition, firing, since, last_seen, detail)"
               " VALUES (?1, 1, ?2, ?2, ?3) ON CONFLICT (condition) DO UPDATE SET firing = 1,"
               " since = excluded.since, last_seen = excluded.last_seen, detail = excluded.detail",
    [H_SEEN] = "UPDATE fu_health SET last_seen = max(last_seen, ?2), detail = ?3"
               " WHERE condition = ?1",
    [H_STALE] =
        "SELECT condition, since, detail FROM fu_health WHERE firing = 1 AND last_seen < ?1",
    [H_CLEAR] = "UPDATE fu_health SET firing = 0 WHERE condition = ?1",
    [H_PREV_GET] = "SELECT at, counters, last_sip_at FROM fu_recorders WHERE source = ?1",
    [H_PREV_PUT] = "INSERT INTO fu_recorders(source, at, counters, last_sip_at)"
                   " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (source) DO UPDATE SET at = excluded.at,"
                   " counters = excluded.counters, last_sip_at = excluded.last_sip_at",
    [H_FAIL_POS_GET] = "SELECT last_at, id FROM fu_failures WHERE one = 1",
    [H_FAIL_POS_PUT] = "INSERT INTO fu_failures(one, last_at, id) VALUES (1, ?1, ?2)"
                       " ON CONFLICT (one) DO UPDATE SET last_at = excluded.last_at,"
                       " id = excluded.id",
    [H_FIRING] = "SELECT condition, since FROM fu_health WHERE firing = 1 ORDER BY condition",
};

static struct db_stmt *hstmt(struct followup *f, enum hst which, struct es_err *err)
{
    if (!f->hst[which] && db_prepare(f->db, hsql[which], &f->hst[which]) != 0) {
        es_seterr(err, ES_EDB, "catalog: preparing health statement %d: %s", which,
                  db_errmsg(f->db));
        return NULL;
    }
    db_reset(f->hst[which]);
    db_clear_bindings(f->hst[which]);
    return f->hst[which];
}

static int hdone(struct followup *f, struct db_stmt *s, struct es_err *err)
{
    int rc = db_step(s);
    db_reset(s);
    return rc == DB_DONE ? 0 : es_seterr(err, ES_EDB, "catalog: health: %s", db_errmsg(f->db));
}

static void iso(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct check {
    struct followup *f;
    const struct notify_config *nc;
    const struct followup_opts *o;
    int64_t now;
    struct followup_health *h;
    struct es_err *err;
    int rc;
};

/* The condition is true now: fires it if it was not firing. */
static void seen(struct check *x, const char *condition, const char *detail)
{
    if (x->rc)
        return;
    struct followup *f = x->f;
    struct db_stmt *s = hstmt(f, H_GET, x->err);
    if (!s) {
        x->rc = ES_EDB;
        return;
    }
    db_bind_text(s, 1, condition, -1);
    bool firing = db_step(s) == DB_ROW && db_column_int(s, 0);
    db_reset(s);
    x->h->firing++;
    s = hstmt(f, firing ? H_SEEN : H_FIRE, x->err);
    if (!s) {
        x->rc = ES_EDB;
        return;
    }
    db_bind_text(s, 1, condition, -1);
    db_bind_int64(s, 2, x->now);
    db_bind_text(s, 3, detail, -1);
    x->rc = hdone(f, s, x->err);
    if (x->rc || firing)
        return;
    char since[32];
    iso(x->now, since);
    x->h->raised++;
    x->rc = notify_emit(f, "capture.health", x->now,
                        json_pack("{s:s, s:s, s:s, s:s}", "condition", condition, "state", "firing",
                                  "since", since, "detail", detail),
                        x->err);
}

static uint64_t delta(json_t *now, json_t *prev, const char *key)
{
    json_int_t a = json_integer_value(json_object_get(now, key));
    json_int_t b = json_integer_value(json_object_get(prev, key));
    return a >= b ? (uint64_t)(a - b) : (uint64_t)a; /* a restart starts from 0 */
}

static int one_recorder(void *ud, const struct catalog_recorder_status *st)
{
    struct check *x = ud;
    struct followup *f = x->f;
    char cond[128], detail[256];
    json_t *cur = json_loads(st->counters, 0, NULL), *prev = NULL;
    int64_t prev_at = 0, last_sip = st->at;
    struct db_stmt *s = hstmt(f, H_PREV_GET, x->err);
    if (!s) {
        json_decref(cur);
        x->rc = ES_EDB;
        return 1;
    }
    db_bind_text(s, 1, st->source, -1);
    if (db_step(s) == DB_ROW) {
        prev_at = db_column_int64(s, 0);
        prev = json_loads((const char *)db_column_text(s, 1), 0, NULL);
        last_sip = db_column_int64(s, 2);
    }
    db_reset(s);
    if (prev && st->at > prev_at && json_is_object(cur)) {
        double min = (double)(st->at - prev_at) / 60000.0;
        uint64_t k = delta(cur, prev, "kernel_dropped") + delta(cur, prev, "if_dropped");
        if (k) {
            snprintf(cond, sizeof cond, "kernel-drops:%s", st->source);
            snprintf(detail, sizeof detail,
                     "%llu packets lost before the recorder saw them in %.0f s",
                     (unsigned long long)k, min * 60);
            seen(x, cond, detail);
        }
        static const struct {
            const char *key, *cond, *what;
        } counted[] = {
            {"audio_dropped", "audio-dropped", "audio packets were dropped"},
            {"spool_floor_drops", "spool-floor",
             "audio packets were dropped: the spool's disk is at its floor"},
            {"spool_errors", "spool-errors", "spool writes or reads failed"},
        };
        for (size_t i = 0; i < ES_ARRAY_LEN(counted); i++) {
            uint64_t n = delta(cur, prev, counted[i].key);
            if (!n)
                continue;
            snprintf(cond, sizeof cond, "%s:%s", counted[i].cond, st->source);
            snprintf(detail, sizeof detail, "%llu %s in %.0f s", (unsigned long long)n,
                     counted[i].what, min * 60);
            seen(x, cond, detail);
        }
        uint64_t bad = delta(cur, prev, "bad_packets") + delta(cur, prev, "bad_sip");
        if ((double)bad / min > x->nc->unparsed_per_min) {
            snprintf(cond, sizeof cond, "unparsed:%s", st->source);
            snprintf(detail, sizeof detail, "%.0f packets a minute could not be parsed",
                     (double)bad / min);
            seen(x, cond, detail);
        }
        if (delta(cur, prev, "sip_messages"))
            last_sip = st->at;
    }
    if (prev)
        json_decref(prev);
    if (x->nc->no_sip_min > 0 && x->o && x->o->has_hours && an_hours_open(&x->o->hours, x->now) &&
        x->now - last_sip > (int64_t)(x->nc->no_sip_min * 60000)) {
        snprintf(cond, sizeof cond, "no-sip:%s", st->source);
        snprintf(detail, sizeof detail, "no SIP seen for %.0f minutes in business hours",
                 (double)(x->now - last_sip) / 60000.0);
        seen(x, cond, detail);
    }
    if (x->nc->silent_min > 0 && x->now - st->at > (int64_t)(x->nc->silent_min * 60000)) {
        snprintf(cond, sizeof cond, "recorder-silent:%s", st->source);
        snprintf(detail, sizeof detail, "the recorder on %s has not reported for %.0f minutes",
                 st->source, (double)(x->now - st->at) / 60000.0);
        seen(x, cond, detail);
    }
    if (!x->rc && (st->at > prev_at || !prev_at) && (s = hstmt(f, H_PREV_PUT, x->err))) {
        db_bind_text(s, 1, st->source, -1);
        db_bind_int64(s, 2, st->at);
        db_bind_text(s, 3, st->counters, -1);
        db_bind_int64(s, 4, last_sip);
        x->rc = hdone(f, s, x->err);
    }
    json_decref(cur);
    return x->rc ? 1 : 0;
}

struct fail_ctx {
    struct check *x;
    int64_t last_at, id, n;
};

static int one_failure(void *ud, const struct catalog_failure *fl)
{
    struct fail_ctx *c = ud;
    struct check *x = c->x;
    char at[32];
    iso(fl->last_at, at);
    c->last_at = fl->last_at;
    c->id = fl->id;
    c->n++;
    if (fl->last_at < x->now - x->nc->max_age_ms)
        return 0; /* history: failures from before notifications were set up */
    x->h->failures++;
    x->rc = notify_emit(x->f, "ingest.failed", fl->last_at,
                        json_pack("{s:s, s:s, s:s, s:I, s:s}", "path", fl->source_path, "reason",
                                  fl->reason, "kept_at", fl->failed_path, "attempts",
                                  (json_int_t)fl->attempts, "failed_at", at),
                        x->err);
    /* an ingest failure is a health condition for as long as new ones come */
    if (!x->rc && x->now - fl->last_at < (int64_t)(x->nc->clear_min * 60000)) {
        char detail[256];
        snprintf(detail, sizeof detail, "%.200s: %s", fl->source_path, fl->reason);
        seen(x, "ingest-failures", detail);
    }
    return x->rc ? 1 : 0;
}

int notify_health(struct followup *f, const struct notify_config *nc, const struct followup_opts *o,
                  const char *data_dir, int64_t now, struct followup_health *h, struct es_err *err)
{
    memset(h, 0, sizeof *h);
    bool outer;
    if (catalog_tx_begin(f->db, &outer))
        return es_seterr(err, ES_EDB, "catalog: cannot begin");
    struct check x = {.f = f, .nc = nc, .o = o, .now = now, .h = h, .err = err};
    int rc = catalog_recorder_status_list(f->cat, one_recorder, &x);
    if (rc)
        es_seterr(err, rc, "%s", catalog_strerror(f->cat, rc));
    else
        rc = x.rc;
    /* the data directory's file system */
    struct statvfs vfs;
    if (!rc && data_dir && statvfs(data_dir, &vfs) == 0 && vfs.f_blocks) {
        double pct = 100.0 * (double)vfs.f_bavail / (double)vfs.f_blocks;
        if (pct < nc->disk_free_pct) {
            char detail[256];
            snprintf(detail, sizeof detail, "%.1f %% free (%.1f GB) where the recordings are kept",
                     pct, (double)vfs.f_bavail * (double)vfs.f_frsize / 1e9);
            seen(&x, "disk-low", detail);
            rc = x.rc;
        }
    }
    /* ingest failures since the last look */
    struct fail_ctx fc = {.x = &x};
    struct db_stmt *s = rc ? NULL : hstmt(f, H_FAIL_POS_GET, err);
    if (!rc && !s)
        rc = ES_EDB;
    if (s) {
        if (db_step(s) == DB_ROW) {
            fc.last_at = db_column_int64(s, 0);
            fc.id = db_column_int64(s, 1);
        }
        db_reset(s);
        rc = catalog_failures_since(f->cat, fc.last_at, fc.id, 1000, one_failure, &fc);
        if (rc)
            es_seterr(err, rc, "%s", catalog_strerror(f->cat, rc));
        else
            rc = x.rc;
        if (!rc && fc.n && (s = hstmt(f, H_FAIL_POS_PUT, err))) {
            db_bind_int64(s, 1, fc.last_at);
            db_bind_int64(s, 2, fc.id);
            rc = hdone(f, s, err);
        }
    }
    /* conditions not seen for clear_after: the episode is over */
    if (!rc && (s = hstmt(f, H_STALE, err))) {
        db_bind_int64(s, 1, now - (int64_t)(nc->clear_min * 60000));
        struct {
            char condition[128], detail[256];
            int64_t since;
        } ended[64];
        int n = 0;
        while (n < 64 && db_step(s) == DB_ROW) {
            snprintf(ended[n].condition, 128, "%s", (const char *)db_column_text(s, 0));
            ended[n].since = db_column_int64(s, 1);
            snprintf(ended[n++].detail, 256, "%s", (const char *)db_column_text(s, 2));
        }
        db_reset(s);
        for (int i = 0; i < n && !rc; i++) {
            char since[32], until[32];
            iso(ended[i].since, since);
            iso(now, until);
            rc = notify_emit(
                f, "capture.health", now,
                json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "condition", ended[i].condition,
                          "state", "cleared", "since", since, "cleared_at", until, "duration_s",
                          (json_int_t)((now - ended[i].since) / 1000), "detail", ended[i].detail),
                err);
            if (!rc && (s = hstmt(f, H_CLEAR, err))) {
                db_bind_text(s, 1, ended[i].condition, -1);
                rc = hdone(f, s, err);
            }
            h->cleared++;
        }
    }
    rc = catalog_tx_end(f->db, outer, rc);
    return rc && !err->msg[0] ? es_seterr(err, rc, "catalog: the health check") : rc;
}

int notify_health_firing(struct followup *f,
                         int (*cb)(void *ud, const char *condition, int64_t since), void *ud,
                         struct es_err *err)
{
    struct db_stmt *s = hstmt(f, H_FIRING, err);
    if (!s)
        return ES_EDB;
    int rc;
    while ((rc = db_step(s)) == DB_ROW)
        if (cb(ud, (const char *)db_column_text(s, 0), db_column_int64(s, 1)))
            break;
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0
                                         : es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
}
