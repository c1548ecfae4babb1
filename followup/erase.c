/* A data subject (a phone number): what the follow-up holds about it, and its
 * erasure: the unreturned-call entries, the numbers kept to match callbacks,
 * and the notifications not yet delivered (delivered ones keep no body). */
#include "followup/followup_int.h"

#include <stdlib.h>
#include <string.h>

/* Does a notification's body name the number (as caller, callee or number,
 * in any spelling)? */
static bool names(const char *body, const char *e164, const char *cc)
{
    json_t *b = json_loads(body, 0, NULL);
    json_t *data = json_object_get(b, "data");
    bool hit = false;
    static const char *const keys[] = {"caller", "callee", "number"};
    for (size_t i = 0; i < ES_ARRAY_LEN(keys) && !hit; i++) {
        const char *v = json_string_value(json_object_get(data, keys[i]));
        char n[40];
        hit = v && !archive_e164(v, cc, n, sizeof n) && !strcmp(n, e164);
    }
    json_t *events = json_object_get(data, "events"); /* a digest */
    size_t k;
    json_t *ev;
    json_array_foreach(events, k, ev)
    {
        if (hit)
            break;
        char *t = json_dumps(ev, JSON_COMPACT);
        hit = t && names(t, e164, cc);
        free(t);
    }
    json_decref(b);
    return hit;
}

/* "%<the last nine digits>%" for LIKE */
static void key9(const char *e164, char like[16])
{
    char d[40];
    size_t n = 0;
    for (const char *p = e164; *p && n + 1 < sizeof d; p++)
        if (*p >= '0' && *p <= '9')
            d[n++] = *p;
    d[n] = '\0';
    const char *k = n > 9 ? d + n - 9 : d;
    like[0] = '%';
    size_t kl = strlen(k);
    memcpy(like + 1, k, kl);
    like[kl + 1] = '%';
    like[kl + 2] = '\0';
}

static const char *const scan_sql[] = {
    "SELECT id, body, 'delivery', event FROM deliveries WHERE state != 'delivered' AND body LIKE "
    "?1",
    "SELECT id, body, 'outbox', event FROM outbox WHERE body LIKE ?1",
    "SELECT id, body, 'digest', event FROM digest_items WHERE body LIKE ?1",
};
static const char *const delete_sql[] = {
    "DELETE FROM deliveries WHERE id = ?1",
    "DELETE FROM outbox WHERE id = ?1",
    "DELETE FROM digest_items WHERE id = ?1",
};

/* cb(ud, where, id, event) for each notification naming the number; with
 * erase, each is deleted. */
static int scan(struct followup *f, const char *e164, const char *cc, bool erase,
                int (*cb)(void *, const char *, int64_t, const char *), void *ud, int64_t *n,
                struct es_err *err)
{
    char like[16];
    key9(e164, like);
    *n = 0;
    for (size_t t = 0; t < ES_ARRAY_LEN(scan_sql); t++) {
        struct db_stmt *s;
        if (db_prepare(f->db, scan_sql[t], &s) != 0)
            return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
        db_bind_text(s, 1, like, -1);
        int64_t ids[1024];
        size_t nid = 0;
        int rc;
        while ((rc = db_step(s)) == DB_ROW) {
            if (!names((const char *)db_column_text(s, 1), e164, cc))
                continue;
            (*n)++;
            if (cb)
                cb(ud, (const char *)db_column_text(s, 2), db_column_int64(s, 0),
                   (const char *)db_column_text(s, 3));
            if (erase && nid < ES_ARRAY_LEN(ids))
                ids[nid++] = db_column_int64(s, 0);
        }
        db_finalize(s);
        if (rc != DB_DONE)
            return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
        for (size_t i = 0; i < nid; i++) {
            if (db_prepare(f->db, delete_sql[t], &s) != 0)
                return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
            db_bind_int64(s, 1, ids[i]);
            rc = db_step(s);
            db_finalize(s);
            if (rc != DB_DONE)
                return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
        }
    }
    return 0;
}

int followup_subject_notifications(struct followup *f, const char *e164, const char *cc,
                                   int (*cb)(void *ud, const char *where, int64_t id,
                                             const char *event),
                                   void *ud, int64_t *n, struct es_err *err)
{
    return scan(f, e164, cc, false, cb, ud, n, err);
}

int followup_subject_erase(struct followup *f, const char *e164, const char *cc,
                           struct followup_erased *out, struct es_err *err)
{
    memset(out, 0, sizeof *out);
    static const char *const del[] = {
        "DELETE FROM unreturned WHERE number = ?1",
        "DELETE FROM fu_calls WHERE number = ?1",
    };
    for (size_t i = 0; i < ES_ARRAY_LEN(del); i++) {
        struct db_stmt *s;
        if (db_prepare(f->db, del[i], &s) != 0)
            return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
        db_bind_text(s, 1, e164, -1);
        int rc = db_step(s);
        db_finalize(s);
        if (rc != DB_DONE)
            return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(f->db));
        if (i == 0)
            out->entries = db_changes(f->db);
    }
    return scan(f, e164, cc, true, NULL, NULL, &out->notifications, err);
}
