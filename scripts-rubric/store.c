/* The rubric and evaluation tables in the catalog database: their migrations,
 * prepared statements, and the stored rubric versions. */
#include "scripts-rubric/rubric_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* migrations[i] takes the scripts-rubric tables from version i to i + 1.
 * Append only; never edit a released step. */
static const char *const migrations[] = {
    /* 1: rubric versions, evaluations, their history, comments and errors */
    "CREATE TABLE rubric_versions ("
    "  rubric_id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  title TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  yaml TEXT NOT NULL,"
    "  imported_at INTEGER NOT NULL,"
    "  PRIMARY KEY (rubric_id, version)"
    ") STRICT;"
    "CREATE TABLE evaluations ("
    "  n INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  call_id TEXT NOT NULL REFERENCES calls(id),"
    "  operator TEXT NOT NULL,"
    "  call_started_at INTEGER NOT NULL,"
    "  call_tags TEXT,"
    "  reviewer TEXT NOT NULL,"
    "  rubric_id TEXT NOT NULL,"
    "  rubric_version INTEGER NOT NULL,"
    "  answers TEXT NOT NULL,"
    "  comment TEXT NOT NULL DEFAULT '',"
    /* one byte per rubric item: 0 not scored, 1 passed, 2 failed (for fail rates) */
    "  outcomes BLOB NOT NULL,"
    "  score REAL NOT NULL,"
    "  passed INTEGER NOT NULL,"
    "  critical_failed INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN"
    "    ('draft','submitted','acknowledged','disputed','resolved')),"
    "  revision INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  submitted_at INTEGER, submitted_by TEXT,"
    "  acknowledged_at INTEGER, acknowledged_by TEXT,"
    "  disputed_at INTEGER, disputed_by TEXT, dispute_reason TEXT,"
    "  resolved_at INTEGER, resolved_by TEXT, resolution TEXT,"
    "  FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubric_versions(rubric_id, version)"
    ") STRICT;"
    "CREATE INDEX evaluations_call ON evaluations(call_id);"
    /* both cover the reports (scores and item outcomes) without touching the rows */
    "CREATE INDEX evaluations_window ON evaluations(call_started_at, operator, status, score,"
    "  passed, rubric_id, rubric_version, outcomes);"
    "CREATE INDEX evaluations_operator ON evaluations(operator, call_started_at, status, score,"
    "  passed, rubric_id, rubric_version, outcomes);"
    "CREATE TABLE evaluation_history ("
    "  id INTEGER PRIMARY KEY,"
    "  eval_n INTEGER NOT NULL REFERENCES evaluations(n),"
    "  revision INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  answers TEXT NOT NULL,"
    "  comment TEXT NOT NULL,"
    "  score REAL NOT NULL,"
    "  passed INTEGER NOT NULL,"
    "  critical_failed INTEGER NOT NULL,"
    "  note TEXT"
    ") STRICT;"
    "CREATE INDEX evaluation_history_eval ON evaluation_history(eval_n, id);"
    "CREATE TABLE evaluation_comments ("
    "  id INTEGER PRIMARY KEY,"
    "  eval_n INTEGER NOT NULL REFERENCES evaluations(n),"
    "  item_id TEXT,"
    "  at_ms INTEGER,"
    "  author TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX evaluation_comments_eval ON evaluation_comments(eval_n, id);"
    /* one row per error tag of a submitted evaluation; ack_at is set when the
     * operator acknowledges it (or a dispute is resolved keeping it) */
    "CREATE TABLE evaluation_errors ("
    "  eval_n INTEGER NOT NULL REFERENCES evaluations(n),"
    "  error_tag TEXT NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  ack_at INTEGER,"
    "  PRIMARY KEY (eval_n, error_tag)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX evaluation_errors_window ON evaluation_errors(at, operator, error_tag);"
    "CREATE INDEX evaluation_errors_operator ON evaluation_errors(operator, error_tag, at);"
    "CREATE INDEX evaluation_errors_ack ON evaluation_errors(operator, error_tag, ack_at)"
    "  WHERE ack_at IS NOT NULL;",

    /* 2: disputes of single items, each resolved on its own (upheld, or the
     * answer changed) with a note */
    "CREATE TABLE evaluation_item_disputes ("
    "  eval_n INTEGER NOT NULL REFERENCES evaluations(n),"
    "  item_id TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  disputed_at INTEGER NOT NULL,"
    "  disputed_by TEXT NOT NULL,"
    "  decision TEXT CHECK (decision IN ('upheld','changed')),"
    "  answer_before TEXT,"
    "  answer_after TEXT,"
    "  note TEXT,"
    "  resolved_at INTEGER,"
    "  resolved_by TEXT,"
    "  PRIMARY KEY (eval_n, item_id)"
    ") STRICT, WITHOUT ROWID;",

    /* 3: coaching goals a supervisor sets for an operator, met or missed as
     * evaluations come in */
    "CREATE TABLE coaching_goals ("
    "  id INTEGER PRIMARY KEY,"
    "  operator TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('errors','average')),"
    "  error_tag TEXT,"
    "  max_errors INTEGER,"
    "  next_evaluations INTEGER,"
    "  min_average REAL,"
    "  weeks INTEGER,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  outcome TEXT CHECK (outcome IN ('met','missed')),"
    "  decided_at INTEGER"
    ") STRICT;"
    "CREATE INDEX coaching_goals_operator ON coaching_goals(operator, id);",

    /* 4: calibration: reviewers score the same call blind, apart from the
     * evaluations (so never in an operator's scores or errors); the lead sets
     * the reference answers */
    "CREATE TABLE calibration_sessions ("
    "  id TEXT PRIMARY KEY,"
    "  call_id TEXT NOT NULL REFERENCES calls(id),"
    "  rubric_id TEXT NOT NULL,"
    "  rubric_version INTEGER NOT NULL,"
    "  lead TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  reference TEXT,"
    "  reference_at INTEGER,"
    "  FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubric_versions(rubric_id, version)"
    ") STRICT;"
    "CREATE TABLE calibration_reviews ("
    "  session_id TEXT NOT NULL REFERENCES calibration_sessions(id),"
    "  reviewer TEXT NOT NULL,"
    "  answers TEXT,"
    "  submitted_at INTEGER,"
    "  PRIMARY KEY (session_id, reviewer)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX calibration_reviews_reviewer ON calibration_reviews(reviewer, session_id);",
};

#define EVAL_COLS                                                                                  \
    "e.n, e.id, e.call_id, e.operator, e.call_started_at, e.call_tags, e.reviewer, e.rubric_id,"   \
    " e.rubric_version, e.answers, e.comment, e.score, e.passed, e.critical_failed, e.status,"     \
    " e.revision, e.created_at, e.updated_at, e.submitted_at, e.submitted_by,"                     \
    " e.acknowledged_at, e.acknowledged_by, e.disputed_at, e.disputed_by, e.dispute_reason,"       \
    " e.resolved_at, e.resolved_by, e.resolution"

#define REPORT_COUNTS(filter, order)                                                               \
    "SELECT operator, error_tag, cur, prev, first_ack,"                                            \
    " CASE WHEN first_ack IS NULL THEN 0 ELSE (SELECT count(*) FROM evaluation_errors y"           \
    "  WHERE y.operator = b.operator AND y.error_tag = b.error_tag AND y.at > b.first_ack"         \
    "  AND y.at >= ?1 AND y.at < ?2) END"                                                          \
    " FROM (SELECT operator, error_tag, sum(at >= ?1) AS cur, sum(at < ?1) AS prev,"               \
    "  CASE WHEN sum(at >= ?1) > 0 THEN (SELECT min(x.ack_at) FROM evaluation_errors x"            \
    "   WHERE x.operator = g.operator AND x.error_tag = g.error_tag"                               \
    "   AND x.ack_at IS NOT NULL AND x.ack_at < ?2) END AS first_ack"                              \
    "  FROM evaluation_errors g WHERE at >= ?3 AND at < ?2" filter                                 \
    "  GROUP BY operator, error_tag) b " order

static const char *const sql[RS_COUNT] = {
    [RS_LATEST_VERSION] = "SELECT version, sha256 FROM rubric_versions WHERE rubric_id = ?1"
                          " ORDER BY version DESC LIMIT 1",
    [RS_INSERT_VERSION] = "INSERT INTO rubric_versions(rubric_id, version, title, sha256, yaml,"
                          " imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [RS_GET_VERSION] = "SELECT version, yaml FROM rubric_versions WHERE rubric_id = ?1"
                       " AND (?2 = 0 OR version = ?2) ORDER BY version DESC LIMIT 1",
    [RS_LIST] = "SELECT v.rubric_id, v.title, v.version, v.imported_at,"
                " (SELECT count(*) FROM evaluations e WHERE e.rubric_id = v.rubric_id)"
                " FROM rubric_versions v WHERE v.version ="
                " (SELECT max(version) FROM rubric_versions w WHERE w.rubric_id = v.rubric_id)"
                " ORDER BY v.rubric_id",
    [RS_INSERT_EVAL] =
        "INSERT INTO evaluations(id, call_id, operator, call_started_at, call_tags, reviewer,"
        " rubric_id, rubric_version, answers, comment, outcomes, score, passed, critical_failed,"
        " status, created_at, updated_at, submitted_at, submitted_by)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16,"
        " ?17, ?18) RETURNING n",
    [RS_GET_EVAL] = "SELECT " EVAL_COLS " FROM evaluations e WHERE e.id = ?1",
    [RS_UPDATE_EVAL] = "UPDATE evaluations SET answers = ?2, comment = ?3, outcomes = ?4,"
                       " score = ?5, passed = ?6, critical_failed = ?7,"
                       " revision = revision + 1, updated_at = ?8 WHERE n = ?1",
    [RS_SET_STATUS] =
        "UPDATE evaluations SET status = ?2, updated_at = ?3,"
        " submitted_at = CASE WHEN ?2 = 'submitted' THEN ?3 ELSE submitted_at END,"
        " submitted_by = CASE WHEN ?2 = 'submitted' THEN ?4 ELSE submitted_by END,"
        " acknowledged_at = CASE WHEN ?2 = 'acknowledged' THEN ?3 ELSE acknowledged_at END,"
        " acknowledged_by = CASE WHEN ?2 = 'acknowledged' THEN ?4 ELSE acknowledged_by END,"
        " disputed_at = CASE WHEN ?2 = 'disputed' THEN ?3 ELSE disputed_at END,"
        " disputed_by = CASE WHEN ?2 = 'disputed' THEN ?4 ELSE disputed_by END,"
        " dispute_reason = CASE WHEN ?2 = 'disputed' THEN ?5 ELSE dispute_reason END,"
        " resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 ELSE resolved_at END,"
        " resolved_by = CASE WHEN ?2 = 'resolved' THEN ?4 ELSE resolved_by END,"
        " resolution = CASE WHEN ?2 = 'resolved' THEN ?5 ELSE resolution END"
        " WHERE n = ?1",
    [RS_INSERT_HISTORY] =
        "INSERT INTO evaluation_history(eval_n, revision, at, who, action, status, answers,"
        " comment, score, passed, critical_failed, note)"
        " SELECT n, revision, ?2, ?3, ?4, status, answers, comment, score, passed,"
        " critical_failed, ?5 FROM evaluations WHERE n = ?1",
    [RS_INSERT_COMMENT] = "INSERT INTO evaluation_comments(eval_n, item_id, at_ms, author, body,"
                          " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [RS_DELETE_ERRORS] = "DELETE FROM evaluation_errors WHERE eval_n = ?1",
    [RS_INSERT_ERROR] = "INSERT INTO evaluation_errors(eval_n, error_tag, operator, at, ack_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [RS_ACK_ERRORS] = "UPDATE evaluation_errors SET ack_at = ?2 WHERE eval_n = ?1",
    [RS_LIST_EVALS] = "SELECT " EVAL_COLS " FROM evaluations e"
                      " WHERE (?1 IS NULL OR e.call_id = ?1) AND (?2 IS NULL OR e.operator = ?2)"
                      " AND (?3 IS NULL OR e.reviewer = ?3) AND (?4 IS NULL OR e.rubric_id = ?4)"
                      " AND (?5 IS NULL OR e.status = ?5) AND (?6 = 0 OR e.call_started_at >= ?6)"
                      " AND (?7 = 0 OR e.call_started_at < ?7)"
                      " ORDER BY e.call_started_at DESC, e.n DESC LIMIT ?8",
    /* one call's evaluations: the call id picks them through its index */
    [RS_LIST_EVALS_CALL] =
        "SELECT " EVAL_COLS " FROM evaluations e"
        " WHERE e.call_id = ?1 AND (?2 IS NULL OR e.operator = ?2)"
        " AND (?3 IS NULL OR e.reviewer = ?3) AND (?4 IS NULL OR e.rubric_id = ?4)"
        " AND (?5 IS NULL OR e.status = ?5) AND (?6 = 0 OR e.call_started_at >= ?6)"
        " AND (?7 = 0 OR e.call_started_at < ?7)"
        " ORDER BY e.call_started_at DESC, e.n DESC LIMIT ?8",
    /* one operator's evaluations (an operator's feedback page), through their index */
    [RS_LIST_EVALS_OP] =
        "SELECT " EVAL_COLS " FROM evaluations e"
        " WHERE e.operator = ?2 AND (?1 IS NULL OR e.call_id = ?1)"
        " AND (?3 IS NULL OR e.reviewer = ?3) AND (?4 IS NULL OR e.rubric_id = ?4)"
        " AND (?5 IS NULL OR e.status = ?5) AND (?6 = 0 OR e.call_started_at >= ?6)"
        " AND (?7 = 0 OR e.call_started_at < ?7)"
        " ORDER BY e.call_started_at DESC, e.n DESC LIMIT ?8",
    [RS_COMMENTS] = "SELECT id, item_id, at_ms, author, body, created_at"
                    " FROM evaluation_comments WHERE eval_n = ?1 ORDER BY id",
    /* each report has a team form and a one-operator form, so that both use an index */
    /* per operator and tag: errors in the window and the one before, the first
     * acknowledgement before the window's end, and the errors in the window
     * after it; one statement, not one per row (a round trip each on a
     * server) */
    [RS_REPORT_COUNTS] = REPORT_COUNTS("", "ORDER BY operator, error_tag"),
    [RS_REPORT_COUNTS_OP] = REPORT_COUNTS(" AND operator = ?4", "ORDER BY error_tag"),
    [RS_REPORT_OUTCOMES] =
        "SELECT rubric_id, rubric_version, outcomes FROM evaluations"
        " WHERE call_started_at >= ?1 AND call_started_at < ?2 AND status != 'draft'"
        " ORDER BY rubric_id, rubric_version",
    [RS_REPORT_OUTCOMES_OP] =
        "SELECT rubric_id, rubric_version, outcomes FROM evaluations"
        " WHERE operator = ?3 AND call_started_at >= ?1 AND call_started_at < ?2"
        " AND status != 'draft' ORDER BY rubric_id, rubric_version",
    [RS_REPORT_SCORES] =
        "SELECT operator, count(*), sum(passed), avg(score) FROM evaluations"
        " INDEXED BY evaluations_window"
        " WHERE call_started_at >= ?1 AND call_started_at < ?2 AND status != 'draft'"
        " GROUP BY operator ORDER BY operator",
    [RS_REPORT_SCORES_OP] =
        "SELECT operator, count(*), sum(passed), avg(score) FROM evaluations"
        " WHERE operator = ?3 AND call_started_at >= ?1 AND call_started_at < ?2"
        " AND status != 'draft' GROUP BY operator",
    /* calls with an evaluation (a draft too) in a window: left out of a sample */
    [RS_EVALUATED_IN] = "SELECT DISTINCT call_id FROM evaluations"
                        " WHERE call_started_at >= ?1 AND call_started_at < ?2 ORDER BY call_id",
    [RS_EVAL_EXTRA] = "SELECT e.call_tags, e.comment, e.outcomes, e.call_id"
                      " FROM evaluations e WHERE e.n = ?1",
    [RS_ITEM_DISPUTE_ADD] =
        "INSERT INTO evaluation_item_disputes(eval_n, item_id, reason, disputed_at, disputed_by)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [RS_ITEM_DISPUTES] = "SELECT item_id, reason, disputed_at, disputed_by, decision,"
                         " answer_before, answer_after, note, resolved_at, resolved_by"
                         " FROM evaluation_item_disputes WHERE eval_n = ?1 ORDER BY item_id",
    [RS_ITEM_DISPUTE_DECIDE] =
        "UPDATE evaluation_item_disputes SET decision = ?3, answer_before = ?4,"
        " answer_after = ?5, note = ?6, resolved_at = ?7, resolved_by = ?8"
        " WHERE eval_n = ?1 AND item_id = ?2 AND decision IS NULL",
    [RS_ITEM_DISPUTES_OPEN] = "SELECT count(*), sum(decision IS NULL) FROM evaluation_item_disputes"
                              " WHERE eval_n = ?1",
    [RS_DEADLINE] = "SELECT id FROM evaluations WHERE status = 'submitted' AND submitted_at < ?1"
                    " ORDER BY submitted_at LIMIT 500",
    /* an operator's progress: evaluations per week (Monday 00:00 UTC), through the
     * operator's covering index */
    [RS_PROGRESS_WEEKS] =
        "SELECT (call_started_at / 1000 - 345600) / 604800, count(*), avg(score), avg(passed)"
        " FROM evaluations INDEXED BY evaluations_operator WHERE operator = ?1"
        " AND call_started_at >= ?2 AND call_started_at < ?3 AND status != 'draft'"
        " GROUP BY 1 ORDER BY 1",
    [RS_PROGRESS_ERRORS] = "SELECT error_tag, count(*), max(at) FROM evaluation_errors"
                           " WHERE operator = ?1 AND at >= ?2 AND at < ?3"
                           " GROUP BY error_tag ORDER BY count(*) DESC, error_tag",
    [RS_PROGRESS_ERROR_CALLS] =
        "SELECT e.call_id, e.id, x.at, e.rubric_id, e.rubric_version FROM evaluation_errors x"
        " JOIN evaluations e ON e.n = x.eval_n WHERE x.operator = ?1 AND x.error_tag = ?2"
        " AND x.at >= ?3 AND x.at < ?4 ORDER BY x.at DESC LIMIT 5",
    [RS_PROGRESS_LAST_ACK] = "SELECT max(acknowledged_at) FROM evaluations WHERE operator = ?1",
    [RS_PROGRESS_SINCE] =
        "SELECT count(*), coalesce(sum((SELECT count(*) FROM evaluation_errors x"
        " WHERE x.eval_n = e.n)), 0) FROM evaluations e WHERE e.operator = ?1"
        " AND e.status != 'draft' AND coalesce(e.submitted_at, e.created_at) > ?2",
    [RS_GOAL_ADD] = "INSERT INTO coaching_goals(operator, kind, error_tag, max_errors,"
                    " next_evaluations, min_average, weeks, note, created_at, created_by)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    [RS_GOALS] = "SELECT id, operator, kind, error_tag, max_errors, next_evaluations, min_average,"
                 " weeks, note, created_at, created_by, outcome, decided_at FROM coaching_goals"
                 " WHERE operator = ?1 ORDER BY id DESC",
    [RS_GOAL_ERRORS] = "SELECT count(*), coalesce(sum((SELECT count(*) FROM evaluation_errors x"
                       " WHERE x.eval_n = e.n AND x.error_tag = ?3)), 0)"
                       " FROM (SELECT n FROM evaluations WHERE operator = ?1 AND created_at >= ?2"
                       " AND status != 'draft' ORDER BY n LIMIT ?4) e",
    [RS_GOAL_AVERAGE] = "SELECT count(*), avg(score) FROM evaluations WHERE operator = ?1"
                        " AND created_at >= ?2 AND created_at < ?3 AND status != 'draft'",
    [RS_GOAL_DECIDE] = "UPDATE coaching_goals SET outcome = ?2, decided_at = ?3"
                       " WHERE id = ?1 AND outcome IS NULL",
    [RS_CAL_CREATE] = "INSERT INTO calibration_sessions(id, call_id, rubric_id, rubric_version,"
                      " lead, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [RS_CAL_ADD_REVIEWER] = "INSERT INTO calibration_reviews(session_id, reviewer) VALUES (?1, ?2)"
                            " ON CONFLICT DO NOTHING",
    [RS_CAL_GET] = "SELECT id, call_id, rubric_id, rubric_version, lead, created_at, reference,"
                   " reference_at FROM calibration_sessions WHERE id = ?1",
    [RS_CAL_REVIEWS] = "SELECT reviewer, answers, submitted_at FROM calibration_reviews"
                       " WHERE session_id = ?1 ORDER BY reviewer",
    [RS_CAL_SUBMIT] = "UPDATE calibration_reviews SET answers = ?3, submitted_at = ?4"
                      " WHERE session_id = ?1 AND reviewer = ?2 AND submitted_at IS NULL",
    [RS_CAL_REFERENCE] = "UPDATE calibration_sessions SET reference = ?2, reference_at = ?3"
                         " WHERE id = ?1",
    [RS_CAL_LIST] = "SELECT s.id FROM calibration_sessions s WHERE ?1 IS NULL OR s.lead = ?1"
                    " OR EXISTS (SELECT 1 FROM calibration_reviews r WHERE r.session_id = s.id"
                    " AND r.reviewer = ?1) ORDER BY s.created_at DESC, s.id DESC LIMIT 200",
    [RS_CAL_DEVIATION] =
        "SELECT s.id, s.created_at, s.rubric_id, s.rubric_version, s.reference, r.reviewer,"
        " r.answers FROM calibration_sessions s JOIN calibration_reviews r ON r.session_id = s.id"
        " WHERE s.reference IS NOT NULL AND r.answers IS NOT NULL"
        " AND (?1 IS NULL OR r.reviewer = ?1) ORDER BY r.reviewer, s.created_at",
    [RS_HISTORY] = "SELECT revision, at, who, action, status, answers, comment, score, passed,"
                   " critical_failed, note FROM evaluation_history WHERE eval_n = ?1 ORDER BY id",
};

struct db_stmt *rstore_stmt(struct rubric_store *s, enum rubric_stmt which)
{
    struct db_stmt *st = s->st[which];
    db_reset(st);
    db_clear_bindings(st);
    return st;
}

int rstore_db_error(struct rubric_store *s, const char *what, struct es_err *err)
{
    return es_seterr(err, ES_EDB, "catalog: %s: %s", what, db_errmsg(s->db));
}

int rstore_step_done(struct rubric_store *s, struct db_stmt *st, const char *what,
                     struct es_err *err)
{
    int rc = db_step(st);
    db_reset(st);
    if (rc == DB_DONE)
        return 0;
    if (rc == ES_EEXIST)
        return es_seterr(err, ES_EEXIST, "catalog: %s: %s", what, db_errmsg(s->db));
    return rstore_db_error(s, what, err);
}

int rubric_store_open(struct catalog *c, struct rubric_store **out, struct es_err *err)
{
    *out = NULL;
    int rc = catalog_migrate_module(c, "scripts-rubric", migrations, NULL,
                                    (int)ES_ARRAY_LEN(migrations), err);
    if (rc)
        return rc;
    struct rubric_store *s = calloc(1, sizeof *s);
    if (!s)
        return ES_ENOMEM;
    s->db = catalog_db(c);
    s->cat = c;
    for (int i = 0; i < RS_COUNT; i++) {
        if (db_prepare(s->db, sql[i], &s->st[i]) != 0) {
            rc = es_seterr(err, ES_EDB, "catalog: preparing rubric statement %d: %s", i,
                           db_errmsg(s->db));
            rubric_store_close(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

void rubric_store_close(struct rubric_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < RS_COUNT; i++)
        db_finalize(s->st[i]);
    db_cache_clear(&s->queries);
    for (int i = 0; i < RUBRIC_CACHE; i++)
        rubric_free(s->cache[i]);
    free(s);
}

/* ---- rubric versions ------------------------------------------------------ */

int rubric_import(struct rubric_store *s, const uint8_t *yaml, size_t len, int *version,
                  enum rubric_import_outcome *outcome, struct es_err *err)
{
    struct rubric_diags *d = malloc(sizeof *d);
    struct rubric *r = NULL;
    if (!d)
        return ES_ENOMEM;
    int rc = rubric_load(yaml, len, &r, d);
    if (rc) {
        if (d->n)
            es_seterr(err, rc, "line %d column %d: %s%s", d->d[0].line, d->d[0].col, d->d[0].msg,
                      d->n > 1 ? " (and more: run 'earshot rubric check')" : "");
        else
            es_seterr(err, rc, "cannot load the rubric: %s", es_strerror(rc));
        free(d);
        return rc;
    }
    free(d);
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, yaml, len);
    es_hex(h, 32, hex);
    bool outer;
    if (catalog_tx_begin(s->db, &outer)) {
        rc = es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(s->db));
        goto out;
    }
    struct db_stmt *st = rstore_stmt(s, RS_LATEST_VERSION);
    db_bind_text(st, 1, r->id, -1);
    int latest = 0;
    int step = db_step(st);
    if (step == DB_ROW) {
        latest = db_column_int(st, 0);
        if (!strcmp((const char *)db_column_text(st, 1), hex)) {
            db_reset(st);
            *version = latest;
            *outcome = RUBRIC_UNCHANGED;
            rc = catalog_tx_end(s->db, outer, 0);
            if (rc)
                es_seterr(err, rc, "catalog: commit failed: %s", db_errmsg(s->db));
            goto out;
        }
    } else if (step != DB_DONE) {
        rc = rstore_db_error(s, "latest rubric version", err);
    }
    db_reset(st);
    if (!rc) {
        st = rstore_stmt(s, RS_INSERT_VERSION);
        db_bind_text(st, 1, r->id, -1);
        db_bind_int(st, 2, latest + 1);
        db_bind_text(st, 3, r->title, -1);
        db_bind_text(st, 4, hex, -1);
        db_bind_text(st, 5, (const char *)yaml, (int)len);
        db_bind_int64(st, 6, es_now_ms());
        rc = rstore_step_done(s, st, "insert rubric version", err);
    }
    int end = catalog_tx_end(s->db, outer, rc);
    if (end && !rc)
        es_seterr(err, end, "catalog: commit failed: %s", db_errmsg(s->db));
    rc = end;
    if (rc)
        goto out;
    *version = latest + 1;
    *outcome = latest ? RUBRIC_IMPORTED_VERSION : RUBRIC_IMPORTED_NEW;
out:
    rubric_free(r);
    return rc;
}

int rubric_list(struct rubric_store *s, int (*cb)(void *ud, const struct rubric_info *), void *ud)
{
    struct db_stmt *st = rstore_stmt(s, RS_LIST);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct rubric_info in = {0};
        snprintf(in.id, sizeof in.id, "%s", (const char *)db_column_text(st, 0));
        snprintf(in.title, sizeof in.title, "%s", (const char *)db_column_text(st, 1));
        in.version = db_column_int(st, 2);
        in.imported_at = db_column_int64(st, 3);
        in.evaluations = db_column_int64(st, 4);
        if (cb(ud, &in))
            break;
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : ES_EDB;
}

int rubric_get(struct rubric_store *s, const char *id, int version, struct rubric **out,
               char **yaml, struct es_err *err)
{
    struct db_stmt *st = rstore_stmt(s, RS_GET_VERSION);
    db_bind_text(st, 1, id, -1);
    db_bind_int(st, 2, version);
    int step = db_step(st);
    if (step != DB_ROW) {
        db_reset(st);
        if (step != DB_DONE)
            return rstore_db_error(s, "get rubric", err);
        if (version)
            return es_seterr(err, ES_ENOTFOUND, "rubric '%s' has no version %d", id, version);
        return es_seterr(err, ES_ENOTFOUND, "no rubric '%s' (import it first)", id);
    }
    int v = db_column_int(st, 0);
    const uint8_t *text = (const uint8_t *)db_column_text(st, 1);
    size_t len = (size_t)db_column_bytes(st, 1);
    int rc = 0;
    if (yaml) {
        *yaml = malloc(len + 1);
        if (!*yaml) {
            rc = ES_ENOMEM;
            goto out;
        }
        memcpy(*yaml, text, len);
        (*yaml)[len] = 0;
    }
    if (out) {
        rc = rubric_load(text, len, out, NULL);
        if (rc) {
            es_seterr(err, ES_ECORRUPT, "stored rubric '%s' version %d no longer loads", id, v);
            goto out;
        }
        (*out)->version = v;
    }
out:
    db_reset(st);
    return rc;
}

int rstore_rubric(struct rubric_store *s, const char *id, int version, const struct rubric **out,
                  struct es_err *err)
{
    if (!version) { /* the latest: one indexed lookup, then the cache */
        struct db_stmt *st = rstore_stmt(s, RS_LATEST_VERSION);
        db_bind_text(st, 1, id, -1);
        if (db_step(st) == DB_ROW)
            version = db_column_int(st, 0);
        db_reset(st);
    }
    for (int i = 0; i < RUBRIC_CACHE; i++) {
        struct rubric *r = s->cache[i];
        if (r && version && r->version == version && !strcmp(r->id, id)) {
            *out = r;
            return 0;
        }
    }
    struct rubric *r;
    int rc = rubric_get(s, id, version, &r, NULL, err);
    if (rc)
        return rc;
    unsigned slot = s->cache_next++ % RUBRIC_CACHE;
    rubric_free(s->cache[slot]);
    s->cache[slot] = r;
    *out = r;
    return 0;
}

int rstore_call(struct rubric_store *s, const char *call_id, struct rstore_call *out,
                struct es_err *err)
{
    struct archive_call *k = malloc(sizeof *k);
    struct archive_recording rec;
    bool has;
    int rc = k ? catalog_get(s->cat, call_id, k, &rec, &has) : ES_ENOMEM;
    if (rc == ES_ENOTFOUND)
        rc = es_seterr(err, rc, "no call %.40s", call_id);
    else if (rc)
        rc = es_seterr(err, rc, "get call %.40s: %s", call_id, db_errmsg(s->db));
    if (!rc) {
        snprintf(out->operator_, sizeof out->operator_, "%s", k->operator_);
        out->started_at = k->started_at;
        out->duration_ms = k->duration_ms;
        out->tags = json_loads(k->tags, 0, NULL);
    }
    free(k);
    return rc;
}
