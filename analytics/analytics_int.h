/* Private to analytics/: the store and its prepared statements. */
#ifndef EARSHOT_ANALYTICS_INT_H
#define EARSHOT_ANALYTICS_INT_H

#include "analytics/analytics.h"

#include "common/db.h"

enum an_stmt {
    AN_FILE_GET,
    AN_FILE_PUT,
    AN_QC_ENTER,
    AN_QC_CONNECT,
    AN_QC_END,
    AN_QC_MISS,
    AN_QC_ADD,
    AN_AGENT_EVENT,
    AN_CDR,
    AN_MAP_GET,
    AN_MAP_PUT,
    AN_CALLS,
    AN_CDR_CALLS,
    AN_AGENT_EVENTS,
    AN_TALK,
    AN_JOIN_PENDING,
    AN_JOIN_MARK,
    AN_JOIN_ROWS,
    AN_CALL_SEGMENTS,
    AN_QUEUES,
    AN_QC_PUT,
    AN_CUSTOMER_PUT,
    AN_CUSTOMERS,
    AN_CUSTOMER_GET,
    AN_CUSTOMERS_OF,
    AN_OPERATOR_QUEUES,
    AN_COUNT
};

#define AN_MEMO 512
struct an_agent_memo { /* an agent's operator, as last looked up */
    bool used;
    size_t len;
    char agent[96], op[64];
};

struct analytics {
    struct db *db;       /* the catalog's connection */
    struct catalog *cat; /* borrowed: archive's calls are joined through it */
    struct db_stmt *st[AN_COUNT];
    struct an_agent_memo memo[AN_MEMO];
    int64_t seq;          /* the next agent event's order */
    struct an_open *open; /* during an import: calls in progress (opencalls.c) */
    bool importing;       /* ... and whether one is under way */
};

/* Calls in progress during an import (opencalls.c). */
struct an_open;
int an_open_new(struct an_open **out);
void an_open_free(struct an_open *o);
/* Takes a queue event of a call begun in this import (*done); writes the
 * call once it ends. op: the agent's operator (CONNECT). */
int an_open_apply(struct analytics *a, const struct pbx_event *ev, const char *op, bool *done,
                  struct es_err *err);
/* Writes every call still in progress (at each commit of the import). */
int an_open_flush(struct analytics *a, struct es_err *err);
void an_open_clear(struct analytics *a);

/* Forgets the agents' operators (a mapping changed, or an import starts). */
void an_memo_clear(struct analytics *a);

struct db_stmt *an_stmt(struct analytics *a, enum an_stmt which);
int an_step_done(struct analytics *a, struct db_stmt *st, const char *what, struct es_err *err);

/* The customer directory in memory (customers.c), for a report. */
struct an_customer {
    char number[40];
    bool b2b;
    char manager[64];
};
struct an_directory;
int an_directory_load(struct analytics *a, struct an_directory **out, struct es_err *err);
void an_directory_free(struct an_directory *d);
const struct an_customer *an_directory_find(const struct an_directory *d, const char *caller,
                                            const char *country_code);

/* The missed reason (index into analytics_missed_reasons) of a CDR
 * disposition, -1 for ANSWERED, -2 for none known. */
int pbx_disposition(struct es_str d);
#define DISPOSITION_ANSWERED (-1)

/* The extension in an agent's name (no mapping). */
void pbx_agent_operator_digits(const char *agent, size_t len, char *out, size_t outlen);

/* Local calendar (the process's time zone, TZ): weekday 1 Mon .. 7 Sun. */
struct an_local {
    int year, mon, day, hour, min, weekday;
};
void an_local(int64_t ms, struct an_local *out);
/* The start (ms UTC) of the local hour / day holding ms, and of the next one. */
int64_t an_hour_start(int64_t ms);
int64_t an_day_start(int64_t ms);
int64_t an_next_hour(int64_t ms);
int64_t an_next_day(int64_t ms);

#endif
