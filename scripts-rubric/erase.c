/* A data subject's erasure, the evaluations' part: the free text written about
 * a call (the overall comment, comments pinned to the audio, dispute reasons of
 * the evaluation and of its items, resolutions, history notes) is blanked; answers, scores and
 * error tags stay, so the anonymous statistics stay true. */
#include "scripts-rubric/rubric_int.h"

static const char *const erase_sql[] = {
    "UPDATE evaluations SET comment = '', dispute_reason = CASE WHEN dispute_reason IS NULL"
    " THEN NULL ELSE '' END, resolution = CASE WHEN resolution IS NULL THEN NULL ELSE '' END"
    " WHERE call_id = ?1",
    "UPDATE evaluation_history SET comment = '', note = CASE WHEN note IS NULL THEN NULL"
    " ELSE '' END WHERE eval_n IN (SELECT n FROM evaluations WHERE call_id = ?1)",
    "UPDATE evaluation_comments SET body = '' WHERE eval_n IN"
    " (SELECT n FROM evaluations WHERE call_id = ?1)",
    "UPDATE evaluation_item_disputes SET reason = '', note = CASE WHEN note IS NULL THEN NULL"
    " ELSE '' END WHERE eval_n IN (SELECT n FROM evaluations WHERE call_id = ?1)",
};

int eval_erase_text(struct rubric_store *s, const char *call_id, int64_t *changed,
                    struct es_err *err)
{
    *changed = 0;
    for (size_t i = 0; i < ES_ARRAY_LEN(erase_sql); i++) {
        struct db_stmt *st;
        if (db_prepare(s->db, erase_sql[i], &st) != 0)
            return es_seterr(err, ES_EDB, "catalog: erasing evaluations' text: %s",
                             db_errmsg(s->db));
        db_bind_text(st, 1, call_id, -1);
        int rc = db_step(st);
        db_finalize(st);
        if (rc != DB_DONE)
            return es_seterr(err, ES_EDB, "catalog: erasing evaluations' text: %s",
                             db_errmsg(s->db));
        *changed += db_changes(s->db);
    }
    return 0;
}
