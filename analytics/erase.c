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
    struct db_stmt *s, *u = NULL;
    if (db_prepare(a->db, c->select, &s) != 0 || (erase && db_prepare(a->db, c->update, &u) != 0)) {
        db_finalize(s);
        return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(a->db));
    }
    db_bind_text(s, 1, like, -1);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        char num[40];
        const char *v = (const char *)db_column_text(s, 2);
        if (archive_e164(v ? v : "", cc, num, sizeof num) || strcmp(num, e164))
            continue;
        (*n)++;
        if (!erase)
            continue;
        db_reset(u);
        db_bind_text_copy(u, 1, (const char *)db_column_text(s, 0), -1);
        db_bind_text_copy(u, 2, (const char *)db_column_text(s, 1), -1);
        if (db_step(u) != DB_DONE) {
            rc = ES_EDB;
            break;
        }
    }
    db_finalize(s);
    db_finalize(u);
    return rc == DB_DONE ? 0 : es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(a->db));
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
        struct db_stmt *s;
        if (db_prepare(a->db, "DELETE FROM customers WHERE number = ?1", &s) != 0)
            return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(a->db));
        db_bind_text(s, 1, e164, -1);
        int rc = db_step(s);
        db_finalize(s);
        if (rc != DB_DONE)
            return es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(a->db));
    }
    return 0;
}
