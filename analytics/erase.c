/* A data subject in the PBX's logs as imported: the queue calls and CDR rows
 * whose caller (or CDR source or destination) is the number lose it, and its
 * customer-directory entry goes. The log files themselves are the PBX's. */
#include "analytics/analytics_int.h"

#include <stdlib.h>
#include <string.h>

struct col {
    const char *select, *update;
};

static const struct col cols[] = {
    {"SELECT callid, queue, caller FROM queue_calls WHERE caller LIKE ?1",
     "UPDATE queue_calls SET caller = '' WHERE callid = ?1 AND queue = ?2"},
    {"SELECT uniqueid, '', src FROM cdr_calls WHERE src LIKE ?1",
     "UPDATE cdr_calls SET src = '' WHERE uniqueid = ?1"},
    {"SELECT uniqueid, '', dst FROM cdr_calls WHERE dst LIKE ?1",
     "UPDATE cdr_calls SET dst = '' WHERE uniqueid = ?1"},
};

static int pass(struct analytics *a, const struct col *c, const char *like, const char *e164,
                const char *cc, bool erase, int64_t *n, struct es_err *err)
{
    sqlite3_stmt *s, *u = NULL;
    if (sqlite3_prepare_v2(a->db, c->select, -1, &s, NULL) != SQLITE_OK ||
        (erase && sqlite3_prepare_v2(a->db, c->update, -1, &u, NULL) != SQLITE_OK)) {
        sqlite3_finalize(s);
        return es_seterr(err, ES_EDB, "catalog: %s", sqlite3_errmsg(a->db));
    }
    sqlite3_bind_text(s, 1, like, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char num[40];
        const char *v = (const char *)sqlite3_column_text(s, 2);
        if (archive_e164(v ? v : "", cc, num, sizeof num) || strcmp(num, e164))
            continue;
        (*n)++;
        if (!erase)
            continue;
        sqlite3_reset(u);
        sqlite3_bind_text(u, 1, (const char *)sqlite3_column_text(s, 0), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(u, 2, (const char *)sqlite3_column_text(s, 1), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(u) != SQLITE_DONE) {
            rc = SQLITE_ERROR;
            break;
        }
    }
    sqlite3_finalize(s);
    sqlite3_finalize(u);
    return rc == SQLITE_DONE ? 0 : es_seterr(err, ES_EDB, "catalog: %s", sqlite3_errmsg(a->db));
}

int analytics_subject(struct analytics *a, const char *e164, const char *cc, bool erase,
                      struct an_subject *out, struct es_err *err)
{
    memset(out, 0, sizeof *out);
    /* candidates by the last seven digits, then each normalised and compared */
    size_t n = strlen(e164);
    char like[16];
    snprintf(like, sizeof like, "%%%s", n > 7 ? e164 + n - 7 : e164);
    int64_t counts[3] = {0};
    for (size_t i = 0; i < ES_ARRAY_LEN(cols); i++) {
        int rc = pass(a, &cols[i], like, e164, cc, erase, &counts[i], err);
        if (rc)
            return rc;
    }
    out->queue_calls = counts[0];
    out->cdr_rows = counts[1] + counts[2];
    char name[128], segment[8];
    out->customer = analytics_customer(a, e164, name, segment) == 1;
    if (erase && out->customer) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(a->db, "DELETE FROM customers WHERE number = ?1", -1, &s, NULL) !=
            SQLITE_OK)
            return es_seterr(err, ES_EDB, "catalog: %s", sqlite3_errmsg(a->db));
        sqlite3_bind_text(s, 1, e164, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return es_seterr(err, ES_EDB, "catalog: %s", sqlite3_errmsg(a->db));
    }
    return 0;
}
