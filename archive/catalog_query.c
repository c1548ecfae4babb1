/* Catalog: the read side and the small updates (hold, purge). */
#include "archive/catalog_int.h"

#include <stdlib.h>
#include <string.h>

static void col_text(struct db_stmt *s, int i, char *out, size_t outlen)
{
    const char *t = db_column_text(s, i);
    snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

/* Column order is CALL_COLS in catalog.c. */
static void read_row(struct db_stmt *s, struct archive_call *k, struct archive_recording *r,
                     bool *has_rec)
{
    memset(k, 0, sizeof *k);
    col_text(s, 0, k->id, sizeof k->id);
    k->started_at = db_column_int64(s, 1);
    k->ended_at = db_column_int64(s, 2);
    k->duration_ms = db_column_int64(s, 3);
    col_text(s, 4, k->direction, sizeof k->direction);
    col_text(s, 5, k->caller, sizeof k->caller);
    col_text(s, 6, k->callee, sizeof k->callee);
    col_text(s, 7, k->operator_, sizeof k->operator_);
    col_text(s, 8, k->customer, sizeof k->customer);
    col_text(s, 9, k->queue, sizeof k->queue);
    col_text(s, 10, k->external_id, sizeof k->external_id);
    col_text(s, 11, k->source, sizeof k->source);
    col_text(s, 12, k->source_ref, sizeof k->source_ref);
    col_text(s, 13, k->source_sha256, sizeof k->source_sha256);
    col_text(s, 14, k->meta_sources, sizeof k->meta_sources);
    col_text(s, 15, k->disposition, sizeof k->disposition);
    col_text(s, 16, k->reason, sizeof k->reason);
    col_text(s, 17, k->tags, sizeof k->tags);
    k->legal_hold = db_column_int(s, 18) != 0;
    k->purged_at = db_column_int64(s, 19);
    col_text(s, 28, k->sip_call_id, sizeof k->sip_call_id);
    k->ring_ms = db_column_int64(s, 29);
    k->talk_ms = db_column_int64(s, 30);
    col_text(s, 31, k->details, sizeof k->details);
    memset(r, 0, sizeof *r);
    *has_rec = !db_column_null(s, 20);
    if (!*has_rec)
        return;
    col_text(s, 20, r->path, sizeof r->path);
    col_text(s, 21, r->sha256, sizeof r->sha256);
    r->bytes = db_column_int64(s, 22);
    r->channels = db_column_int(s, 23);
    r->sample_rate = db_column_int(s, 24);
    r->source_rate = db_column_int(s, 25);
    r->bitrate = db_column_int(s, 26);
    r->duration_ms = db_column_int64(s, 27);
}

int catalog_list(struct catalog *c, const struct catalog_filter *f,
                 int (*cb)(void *ud, const struct archive_call *, const struct archive_recording *),
                 void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_LIST);
    db_bind_int64(s, 1, f ? f->since : 0);
    db_bind_int64(s, 2, f ? f->until : 0);
    if (f && f->operator_)
        db_bind_text(s, 3, f->operator_, -1);
    db_bind_int(s, 4, f && f->limit > 0 ? f->limit : -1);
    if (f && f->disposition)
        db_bind_text(s, 5, f->disposition, -1);
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording r;
    if (!k)
        return ES_ENOMEM;
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        bool has;
        read_row(s, k, &r, &has);
        if (cb(ud, k, has ? &r : NULL))
            break;
    }
    free(k);
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list calls");
}

int catalog_get(struct catalog *c, const char *id, struct archive_call *call,
                struct archive_recording *rec, bool *has_rec)
{
    struct db_stmt *s = catalog_stmt(c, ST_GET);
    db_bind_text(s, 1, id, -1);
    int rc = db_step(s);
    if (rc == DB_ROW) {
        read_row(s, call, rec, has_rec);
        db_reset(s);
        return 0;
    }
    db_reset(s);
    return rc == DB_DONE ? ES_ENOTFOUND : catalog_db_error(c, "get call");
}

/* Parses the silences JSON written by catalog.c: [[[s,e],...],[[s,e],...]].
 * Our own output, but still read defensively. */
static void parse_silences(const char *p, struct archive_analysis *an)
{
    int depth = 0, ch = -1;
    while (p && *p) {
        if (*p == '[') {
            depth++;
            if (depth == 2)
                ch++;
            if (depth == 3 && ch >= 0 && ch < 2) {
                struct archive_channel_stats *cs = &an->ch[ch];
                long long s0, s1;
                if (cs->nsilences < ANALYSIS_MAX_SILENCES &&
                    sscanf(p, "[%lld,%lld]", &s0, &s1) == 2) {
                    cs->silences[cs->nsilences][0] = s0;
                    cs->silences[cs->nsilences][1] = s1;
                    cs->nsilences++;
                }
            }
        } else if (*p == ']') {
            depth--;
        }
        p++;
    }
}

int catalog_get_analysis(struct catalog *c, const char *id, struct archive_analysis *an)
{
    memset(an, 0, sizeof *an);
    struct db_stmt *s = catalog_stmt(c, ST_GET_ANALYSIS);
    db_bind_text(s, 1, id, -1);
    int rc = db_step(s);
    if (rc != DB_ROW) {
        db_reset(s);
        return rc == DB_DONE ? ES_ENOTFOUND : catalog_db_error(c, "get analysis");
    }
    an->bucket_ms = db_column_int(s, 0);
    an->channels = db_column_null(s, 3) ? 1 : 2;
    int n = db_column_bytes(s, 1);
    an->nbuckets = n / (2 * an->channels);
    if (n > 0) {
        an->peaks = malloc((size_t)n);
        if (!an->peaks) {
            db_reset(s);
            return ES_ENOMEM;
        }
        memcpy(an->peaks, db_column_blob(s, 1), (size_t)n);
    }
    an->ch[0].talk_ms = db_column_int64(s, 2);
    an->ch[1].talk_ms = db_column_int64(s, 3);
    an->ch[0].longest_silence_ms = db_column_int64(s, 4);
    an->ch[1].longest_silence_ms = db_column_int64(s, 5);
    an->overtalk_ms = db_column_int64(s, 6);
    an->talk_ratio = db_column_null(s, 7) ? -1 : db_column_double(s, 7);
    parse_silences((const char *)db_column_text(s, 8), an);
    db_reset(s);
    return 0;
}

void archive_analysis_release(struct archive_analysis *a)
{
    if (!a)
        return;
    free(a->peaks);
    a->peaks = NULL;
}

static int update_one(struct catalog *c, enum catalog_stmt which, const char *id, int64_t v)
{
    struct db_stmt *s = catalog_stmt(c, which);
    db_bind_text(s, 1, id, -1);
    db_bind_int64(s, 2, v);
    if (db_step(s) != DB_DONE)
        return catalog_db_error(c, "update call");
    return db_changes(c->db) == 1 ? 0 : ES_ENOTFOUND;
}

int catalog_set_hold(struct catalog *c, const char *id, bool hold)
{
    return update_one(c, ST_SET_HOLD, id, hold);
}

int catalog_mark_purged(struct catalog *c, const char *id, int64_t at)
{
    return update_one(c, ST_MARK_PURGED, id, at);
}

int catalog_top_sources(struct catalog *c, const char *from_day, const char *to_day, int limit,
                        int (*cb)(void *ud, const struct catalog_source_count *), void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_SOURCE_TOP);
    db_bind_text(s, 1, from_day, -1);
    db_bind_text(s, 2, to_day, -1);
    db_bind_int(s, 3, limit > 0 ? limit : -1);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct catalog_source_count v = {0};
        snprintf(v.address, sizeof v.address, "%s", (const char *)db_column_text(s, 0));
        v.attempts = (uint64_t)db_column_int64(s, 1);
        v.catalogued = (uint64_t)db_column_int64(s, 2);
        v.untracked = (uint64_t)db_column_int64(s, 3);
        v.first_at = db_column_int64(s, 4);
        v.last_at = db_column_int64(s, 5);
        if (cb(ud, &v))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list sources");
}

int catalog_list_expired(struct catalog *c, int64_t before,
                         int (*cb)(void *ud, const char *id, const char *path), void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_EXPIRED);
    db_bind_int64(s, 1, before);
    int rc;
    while ((rc = db_step(s)) == DB_ROW)
        if (cb(ud, (const char *)db_column_text(s, 0), (const char *)db_column_text(s, 1)))
            break;
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list expired");
}

int catalog_list_recordings(struct catalog *c,
                            int (*cb)(void *ud, const char *id, const char *path,
                                      const char *sha256, int64_t bytes),
                            void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_ALL_RECORDINGS);
    int rc;
    while ((rc = db_step(s)) == DB_ROW)
        if (cb(ud, (const char *)db_column_text(s, 0), (const char *)db_column_text(s, 1),
               (const char *)db_column_text(s, 2), db_column_int64(s, 3)))
            break;
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list recordings");
}

int catalog_has_path(struct catalog *c, const char *relpath)
{
    struct db_stmt *s = catalog_stmt(c, ST_HAS_PATH);
    db_bind_text(s, 1, relpath, -1);
    int rc = db_step(s);
    db_reset(s);
    return rc == DB_ROW;
}

static const char *text_or_empty(struct db_stmt *s, int i)
{
    const char *t = db_column_text(s, i);
    return t ? (const char *)t : "";
}

int catalog_audio_key(struct catalog *c, const char *id, char *path, size_t pathlen,
                      char key_id[ARCHIVE_KEY_ID_LEN], uint8_t wrapped[ARCHIVE_WRAPPED_LEN],
                      size_t *wlen)
{
    struct db_stmt *s = catalog_stmt(c, ST_AUDIO_KEY);
    db_bind_text(s, 1, id, -1);
    int rc = db_step(s);
    *wlen = 0;
    if (rc == DB_ROW) {
        snprintf(path, pathlen, "%s", text_or_empty(s, 0));
        snprintf(key_id, ARCHIVE_KEY_ID_LEN, "%s", text_or_empty(s, 1));
        int n = db_column_bytes(s, 2);
        if (n > 0 && n <= ARCHIVE_WRAPPED_LEN) {
            memcpy(wrapped, db_column_blob(s, 2), (size_t)n);
            *wlen = (size_t)n;
        }
    }
    db_reset(s);
    return rc == DB_ROW ? 0 : rc == DB_DONE ? ES_ENOTFOUND : catalog_db_error(c, "a key");
}

int catalog_briefs(struct catalog *c, int64_t from, int64_t to, const char *source,
                   int (*cb)(void *ud, const struct catalog_call_brief *), void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_BRIEFS);
    db_bind_int64(s, 1, from);
    db_bind_int64(s, 2, to);
    if (source)
        db_bind_text(s, 3, source, -1);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct catalog_call_brief b = {.started_at = db_column_int64(s, 0),
                                       .disposition = text_or_empty(s, 1),
                                       .reason = text_or_empty(s, 2),
                                       .queue = text_or_empty(s, 3),
                                       .caller = text_or_empty(s, 4),
                                       .operator_ = text_or_empty(s, 5),
                                       .id = text_or_empty(s, 6),
                                       .customer = text_or_empty(s, 7),
                                       .tags = text_or_empty(s, 8),
                                       .direction = "",
                                       .callee = ""};
        if (cb(ud, &b))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list calls");
}

int catalog_add_tag(struct catalog *c, const char *id, const char *tag)
{
    struct db_stmt *s = catalog_stmt(c, ST_ADD_TAG);
    db_bind_text(s, 1, id, -1);
    db_bind_text(s, 2, tag, -1);
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return catalog_db_error(c, "tag a call");
    return db_changes(catalog_db(c)) > 0;
}

int catalog_calls_since(struct catalog *c, int64_t created_at, const char *id, int limit,
                        int (*cb)(void *ud, const struct catalog_call_brief *), void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_SINCE);
    db_bind_int64(s, 1, created_at);
    db_bind_text(s, 2, id ? id : "", -1);
    db_bind_int(s, 3, limit);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct catalog_call_brief b = {.started_at = db_column_int64(s, 0),
                                       .disposition = text_or_empty(s, 1),
                                       .reason = text_or_empty(s, 2),
                                       .queue = text_or_empty(s, 3),
                                       .caller = text_or_empty(s, 4),
                                       .operator_ = text_or_empty(s, 5),
                                       .id = text_or_empty(s, 6),
                                       .customer = text_or_empty(s, 7),
                                       .tags = text_or_empty(s, 8),
                                       .direction = text_or_empty(s, 9),
                                       .callee = text_or_empty(s, 10),
                                       .created_at = db_column_int64(s, 11)};
        if (cb(ud, &b))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list new calls");
}

int catalog_recorder_status_put(struct catalog *c, const char *source, int64_t at,
                                const char *counters)
{
    struct db_stmt *s = catalog_stmt(c, ST_STATUS_PUT);
    db_bind_text(s, 1, source, -1);
    db_bind_int64(s, 2, at);
    db_bind_text(s, 3, counters, -1);
    int rc = db_step(s);
    db_reset(s);
    return rc == DB_DONE ? 0 : catalog_db_error(c, "store the recorder's status");
}

int catalog_recorder_status_list(struct catalog *c,
                                 int (*cb)(void *ud, const struct catalog_recorder_status *),
                                 void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_STATUS_LIST);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct catalog_recorder_status st = {.source = text_or_empty(s, 0),
                                             .at = db_column_int64(s, 1),
                                             .counters = text_or_empty(s, 2)};
        if (cb(ud, &st))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list recorders");
}

int catalog_failures_since(struct catalog *c, int64_t last_at, int64_t id, int limit,
                           int (*cb)(void *ud, const struct catalog_failure *), void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_FAILURES_SINCE);
    db_bind_int64(s, 1, last_at);
    db_bind_int64(s, 2, id);
    db_bind_int(s, 3, limit);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct catalog_failure f = {.id = db_column_int64(s, 0),
                                    .last_at = db_column_int64(s, 1),
                                    .attempts = db_column_int64(s, 2),
                                    .source_path = text_or_empty(s, 3),
                                    .reason = text_or_empty(s, 4),
                                    .failed_path = text_or_empty(s, 5)};
        if (cb(ud, &f))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "list failures");
}

int catalog_totals(struct catalog *c, struct catalog_totals *t)
{
    memset(t, 0, sizeof *t);
    struct db_stmt *s = catalog_stmt(c, ST_TOTALS);
    int rc = db_step(s);
    if (rc == DB_ROW) {
        t->answered = db_column_int64(s, 0);
        t->missed = db_column_int64(s, 1);
        t->rejected = db_column_int64(s, 2);
        t->failures = db_column_int64(s, 3);
        t->audio_bytes = db_column_int64(s, 4);
    }
    db_reset(s);
    return rc == DB_ROW ? 0 : catalog_db_error(c, "count calls");
}

int catalog_calls_by_number(struct catalog *c, const char *e164, const char *country_code,
                            int (*cb)(void *ud, const struct catalog_party_call *), void *ud)
{
    /* the key: the number's last nine digits; then each candidate normalised and compared */
    char digits[64];
    size_t n = 0;
    for (const char *p = e164; *p && n + 1 < sizeof digits; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    digits[n] = '\0';
    const char *key = n > 9 ? digits + n - 9 : digits;
    struct db_stmt *s = catalog_stmt(c, ST_BY_NUMBER);
    db_bind_text_copy(s, 1, key, -1);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        struct catalog_party_call pc = {.id = text_or_empty(s, 0),
                                        .started_at = db_column_int64(s, 1),
                                        .caller = text_or_empty(s, 2),
                                        .callee = text_or_empty(s, 3),
                                        .customer = text_or_empty(s, 4),
                                        .direction = text_or_empty(s, 5),
                                        .disposition = text_or_empty(s, 6),
                                        .has_audio = db_column_int(s, 7) != 0,
                                        .legal_hold = db_column_int(s, 8) != 0,
                                        .operator_ = text_or_empty(s, 9),
                                        .queue = text_or_empty(s, 10)};
        char a[40] = "", b[40] = "";
        bool caller = !archive_e164(pc.caller, country_code, a, sizeof a) && !strcmp(a, e164);
        bool callee = !archive_e164(pc.callee, country_code, b, sizeof b) && !strcmp(b, e164);
        if (!caller && !callee)
            continue; /* the same last digits, another number */
        pc.as_caller = caller;
        pc.as_callee = callee;
        if (cb(ud, &pc))
            break;
    }
    db_reset(s);
    return rc == DB_ROW || rc == DB_DONE ? 0 : catalog_db_error(c, "find calls by number");
}

int catalog_erase_call(struct catalog *c, const char *id, int64_t at)
{
    struct db_stmt *s = catalog_stmt(c, ST_ERASE);
    db_bind_text(s, 1, id, -1);
    db_bind_int64(s, 2, at);
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE)
        return catalog_db_error(c, "erase a call");
    return db_changes(catalog_db(c)) ? 0 : ES_ESTATE; /* held, or unknown */
}

int catalog_answered_by_operator(struct catalog *c, int64_t from, int64_t to, const char *operator_,
                                 int (*cb)(void *ud, const char *operator_, const char *id,
                                           int64_t started_at),
                                 void *ud)
{
    struct db_stmt *s = catalog_stmt(c, operator_ ? ST_ANSWERED_OP : ST_ANSWERED);
    db_bind_int64(s, 1, from);
    db_bind_int64(s, 2, to);
    if (operator_)
        db_bind_text(s, 3, operator_, -1);
    int rc, stop = 0;
    while (!stop && (rc = db_step(s)) == DB_ROW)
        stop = cb(ud, (const char *)db_column_text(s, 0), (const char *)db_column_text(s, 1),
                  db_column_int64(s, 2));
    db_reset(s);
    return stop ? stop : rc == DB_DONE ? 0 : catalog_db_error(c, "list answered calls");
}
