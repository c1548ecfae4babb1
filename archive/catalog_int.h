/* Private to archive/: the catalog handle and its prepared statements. */
#ifndef EARSHOT_CATALOG_INT_H
#define EARSHOT_CATALOG_INT_H

#include "archive/archive.h"

#include "common/db.h"

extern const char *const catalog_migrations[];
extern const int catalog_nmigrations;
/* PostgreSQL's own text for the steps it cannot take as written (NULL:
 * the SQLite step, translated). */
extern const char *const catalog_migrations_pg[];

/* The index key of a phone number column: its last nine digits once blanks,
 * dashes, brackets, dots, slashes and '+' are dropped (an index on an
 * expression: the query must spell it the same way). */
#define CATALOG_NUMBER_KEY(col)                                                                    \
    "substr(replace(replace(replace(replace(replace(replace(replace(" col                          \
    ",' ',''),'-',''),'(',''),')',''),'.',''),'/',''),'+',''),-9)"

enum catalog_stmt {
    ST_FIND_SOURCE,
    ST_PENDING_ADD,
    ST_PENDING_DEL,
    ST_PENDING_ALL,
    ST_INSERT_CALL,
    ST_INSERT_REC,
    ST_INSERT_ANALYSIS,
    ST_FAILURE,
    ST_LIST,
    ST_GET,
    ST_GET_ANALYSIS,
    ST_SET_HOLD,
    ST_MARK_PURGED,
    ST_ALL_RECORDINGS,
    ST_HAS_PATH,
    ST_REPLACE_REC,
    ST_DELETE_ANALYSIS,
    ST_ADD_REDACTION,
    ST_INSERT_KEY,
    ST_DELETE_KEY,
    ST_AUDIO_KEY,
    ST_KEY_IDS,
    ST_ALL_KEYS,
    ST_UPDATE_KEY,
    ST_NEXT_PLAIN,
    ST_COUNT_PLAIN,
    ST_RESEAL,
    ST_EXPIRED,
    ST_SOURCE_ADD,
    ST_SOURCE_TOP,
    ST_PBX_BY_ID,
    ST_PBX_BY_CALLER,
    ST_PBX_FILL,
    ST_BRIEFS,
    ST_ADD_TAG,
    ST_SINCE,
    ST_STATUS_PUT,
    ST_STATUS_LIST,
    ST_FAILURES_SINCE,
    ST_TOTALS,
    ST_AUDIO_CALLS,
    ST_BY_NUMBER,
    ST_ERASE,
    ST_ANSWERED,
    ST_ANSWERED_OP,
    ST_COUNT
};

struct catalog {
    struct db *db;
    char data_dir[4096];
    struct db_stmt *st[ST_COUNT];
    struct db_cache queries; /* call_query.c: by filters in use and page size */
    struct es_err err;       /* the last database failure (catalog_strerror) */
};

struct db_stmt *catalog_stmt(struct catalog *c, enum catalog_stmt which);
int catalog_db_error(struct catalog *c, const char *what);
/* A call's recording replaced (redact.c): the recording row and the analysis,
 * a redaction appended to the details, the new file's pending mark cleared.
 * ES_ESTATE when the call is held or its audio gone. */
/* The path of a call's recording (audio present) and its wrapped data key
 * (wlen 0 if the recording is plain). ES_ENOTFOUND: no audio. */
int catalog_audio_key(struct catalog *c, const char *id, char *path, size_t pathlen,
                      char key_id[ARCHIVE_KEY_ID_LEN], uint8_t wrapped[ARCHIVE_WRAPPED_LEN],
                      size_t *wlen);
int catalog_replace_audio(struct catalog *c, const char *id, const struct archive_recording *rec,
                          const struct archive_analysis *an, const char *redaction);

#endif
