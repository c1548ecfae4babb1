/* Private to scripts-rubric/: the arena, the YAML tree and the store handle. */
#ifndef EARSHOT_RUBRIC_INT_H
#define EARSHOT_RUBRIC_INT_H

#include "scripts-rubric/rubric.h"

#include "common/db.h"

/* ---- arena: many small allocations freed at once ------------------------ */
struct rubric_arena;
int arena_new(struct rubric_arena **out);
void arena_free(struct rubric_arena *a);
/* Zeroed, 8-byte aligned; NULL when out of memory. */
void *arena_alloc(struct rubric_arena *a, size_t n);
char *arena_strndup(struct rubric_arena *a, const char *s, size_t n);

/* ---- YAML as a tree of nodes with their places -------------------------- */
enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };
struct ynode {
    enum ynode_kind kind;
    int line, col; /* 1-based */
    /* scalar: the text (NUL-terminated, may hold NULs: use len) */
    const char *str;
    size_t len;
    bool plain; /* unquoted, so it may be a number, boolean or null */
    /* seq: kids are the elements; map: kids are key, value, key, value, ... */
    struct ynode **kids;
    size_t nkids;
};
#define YTREE_MAX_NODES 100000
#define YTREE_MAX_DEPTH 32
/* Builds the tree of the single document in p (NULL root for an empty file).
 * Refuses aliases, several documents, non-scalar and duplicate keys, and trees
 * past the caps, with the place in *line / *col and the reason in err. */
int ytree_parse(const uint8_t *p, size_t len, struct rubric_arena *a, struct ynode **root,
                int *line, int *col, struct es_err *err);

/* ---- store ---------------------------------------------------------------- */
enum rubric_stmt {
    RS_LATEST_VERSION,
    RS_INSERT_VERSION,
    RS_GET_VERSION,
    RS_LIST,
    RS_INSERT_EVAL,
    RS_GET_EVAL,
    RS_UPDATE_EVAL,
    RS_SET_STATUS,
    RS_INSERT_HISTORY,
    RS_INSERT_COMMENT,
    RS_DELETE_ERRORS,
    RS_INSERT_ERROR,
    RS_ACK_ERRORS,
    RS_LIST_EVALS,
    RS_LIST_EVALS_CALL,
    RS_LIST_EVALS_OP,
    RS_COMMENTS,
    RS_HISTORY,
    RS_ITEM_DISPUTE_ADD,
    RS_ITEM_DISPUTES,
    RS_ITEM_DISPUTE_DECIDE,
    RS_ITEM_DISPUTES_OPEN,
    RS_DEADLINE,
    RS_PROGRESS_WEEKS,
    RS_PROGRESS_ERRORS,
    RS_PROGRESS_ERROR_CALLS,
    RS_PROGRESS_LAST_ACK,
    RS_PROGRESS_SINCE,
    RS_GOAL_ADD,
    RS_GOALS,
    RS_GOAL_ERRORS,
    RS_GOAL_AVERAGE,
    RS_GOAL_DECIDE,
    RS_CAL_CREATE,
    RS_CAL_ADD_REVIEWER,
    RS_CAL_GET,
    RS_CAL_REVIEWS,
    RS_CAL_SUBMIT,
    RS_CAL_REFERENCE,
    RS_CAL_LIST,
    RS_CAL_DEVIATION,
    RS_EVAL_EXTRA,
    RS_REPORT_COUNTS,
    RS_REPORT_COUNTS_OP,
    RS_REPORT_OUTCOMES,
    RS_REPORT_OUTCOMES_OP,
    RS_REPORT_SCORES,
    RS_REPORT_SCORES_OP,
    RS_EVALUATED_IN,
    RS_COUNT
};

#define RUBRIC_CACHE 8
struct rubric_store {
    struct db *db; /* the catalog's connection */
    struct catalog *cat;
    struct db_stmt *st[RS_COUNT];
    struct db_cache queries; /* eval_query.c: by filters in use and page size */
    /* recently used rubric versions, loaded once */
    struct rubric *cache[RUBRIC_CACHE];
    unsigned cache_next;
};
/* An evaluation row (the parts the library reasons about). */
struct eval_row {
    int64_t n;
    char id[ES_ID_LEN], call_id[ES_ID_LEN];
    char operator_[ARCHIVE_FIELD_LEN];
    int64_t call_started_at;
    char rubric_id[RUBRIC_ID_LEN];
    int rubric_version;
    enum eval_status status;
};
/* The evaluation's row stepped on (columns: EVAL_COLS in store.c; reset it when
 * done), or NULL with *rc and err set. */
struct db_stmt *rstore_get_eval(struct rubric_store *s, const char *id, int *rc,
                                struct es_err *err);
int rstore_eval_row(struct rubric_store *s, const char *id, struct eval_row *row,
                    struct es_err *err);

struct db_stmt *rstore_stmt(struct rubric_store *s, enum rubric_stmt which);
int rstore_db_error(struct rubric_store *s, const char *what, struct es_err *err);
/* What an evaluation needs of its call, from the archive. */
struct rstore_call {
    char operator_[ARCHIVE_FIELD_LEN];
    int64_t started_at, duration_ms;
    json_t *tags; /* new reference, or NULL */
};
int rstore_call(struct rubric_store *s, const char *call_id, struct rstore_call *out,
                struct es_err *err);
int rstore_step_done(struct rubric_store *s, struct db_stmt *st, const char *what,
                     struct es_err *err);
/* A stored version (0 = latest), loaded once and cached. Borrowed: valid until
 * the next rstore_rubric call, which may evict it. */
int rstore_rubric(struct rubric_store *s, const char *id, int version, const struct rubric **out,
                  struct es_err *err);

bool rubric_is_slug(const char *s, size_t len);
bool rubric_tags_contain(const char *const *tags, const char *tag);

#endif
