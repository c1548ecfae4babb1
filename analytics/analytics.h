/* analytics: what the PBX's own logs say about the calls and the people who
 * take them. Asterisk's queue_log, its CDR (cdr_csv Master.csv) and a
 * documented JSON-lines event format (for any other PBX) are read into the
 * module's own tables in the catalog database; from them come the weekly
 * answers a store owner asks for (calls offered, answered, missed and why,
 * when they arrive), each operator's presence (logged in, paused, talking),
 * and Erlang C / Erlang A staffing. Definitions are in docs/analytics.md and
 * nowhere else; the tests use exactly them. */
#ifndef EARSHOT_ANALYTICS_H
#define EARSHOT_ANALYTICS_H

#include "archive/archive.h"

/* ---- events: what every source is turned into ------------------------------ */
enum pbx_kind {
    PBX_NONE,          /* a line understood but carrying nothing counted (QUEUESTART ...) */
    PBX_ENTER,         /* a caller enters a queue */
    PBX_CONNECT,       /* ... and is answered by an agent: hold_s, ring_s */
    PBX_COMPLETE,      /* the answered call ends: hold_s, talk_s (by caller or agent) */
    PBX_TRANSFER,      /* the answered call is transferred: hold_s, talk_s */
    PBX_ABANDON,       /* the caller hung up waiting: wait_s */
    PBX_TIMEOUT,       /* the queue's timeout sent the caller on: wait_s */
    PBX_EXIT_KEY,      /* the caller pressed a key to leave: wait_s */
    PBX_EXIT_EMPTY,    /* no agents: the caller left: wait_s */
    PBX_RING_NOANSWER, /* an agent rang and did not answer */
    PBX_LOGIN,         /* an agent logs in (AGENTLOGIN) or is added to a queue (ADDMEMBER) */
    PBX_LOGOFF,        /* ... logs off (AGENTLOGOFF) or is removed (REMOVEMEMBER) */
    PBX_PAUSE,         /* reason */
    PBX_UNPAUSE,
    PBX_CDR, /* one call of the CDR: disposition, started/answered/ended */
};

/* One event, its strings borrowed from the line it was parsed from (valid
 * until the next line). Times in ms since the epoch, UTC. */
struct pbx_event {
    enum pbx_kind kind;
    int64_t at;
    struct es_str call;   /* the PBX's uniqueid of the call */
    struct es_str queue;  /* "" for agent-wide events */
    struct es_str agent;  /* the queue member, as the PBX names it */
    struct es_str caller; /* ENTER, CDR: the calling number */
    struct es_str callee; /* CDR */
    struct es_str reason; /* PAUSE: the reason; CDR: the disposition */
    bool member;          /* LOGIN/LOGOFF from ADDMEMBER/REMOVEMEMBER (per queue) */
    bool by_agent;        /* COMPLETE: the agent hung up */
    int hold_s, ring_s, talk_s, wait_s;
    int64_t answered_at, ended_at; /* CDR; 0: none */
};

/* One line of each format into ev. 0; ES_EFORMAT with why (a short static
 * text) when the line is not one; ES_EUNSUPP for a well-formed line of an
 * event not counted (why names it). Never reads past len. */
int pbx_parse_queue_log(const uint8_t *p, size_t len, struct pbx_event *ev, const char **why);
int pbx_parse_cdr(const uint8_t *p, size_t len, struct pbx_event *ev, const char **why);
/* JSON lines: see docs/analytics.md. The strings point into a buffer owned by
 * the parser state: valid until the next call. */
struct pbx_json;
int pbx_json_new(struct pbx_json **out);
void pbx_json_free(struct pbx_json *j);
int pbx_parse_event(struct pbx_json *j, const uint8_t *p, size_t len, struct pbx_event *ev,
                    const char **why);

/* The operator an agent is: the mapping set with `earshot operator map`, else
 * the extension in its name (PJSIP/101, SIP/101, Local/101@from-queue/n,
 * Agent/101), else the name itself. */
void pbx_agent_operator(const char *agent, size_t len, char *out, size_t outlen);

/* ---- the store ------------------------------------------------------------------ */
struct analytics; /* opaque; on top of a catalog handle, one per thread */
int analytics_open(struct catalog *c, struct analytics **out, struct es_err *err);
void analytics_close(struct analytics *a);

enum pbx_format { PBX_QUEUE_LOG, PBX_CDR_CSV, PBX_EVENTS };
int pbx_format_parse(const char *name, enum pbx_format *out);
const char *pbx_format_name(enum pbx_format f);

/* Imports a file from where the last import of it stopped: a file is known by
 * its format and its first line, so the same file again (under any name)
 * counts nothing twice, one that grew adds only its new lines, and a
 * rotated or truncated one is a new file. A last line without its newline
 * waits for the next import. Bad lines are counted and the first `show` of
 * them passed to on_bad as "LINE: reason"; the rest imports. */
struct pbx_import_result {
    int64_t lines, events, bad, unknown; /* unknown: well-formed, event not counted */
    int64_t skipped_lines;               /* already imported before */
};
int pbx_import_file(struct analytics *a, enum pbx_format f, const char *path,
                    void (*on_bad)(void *ud, int64_t line, const char *why), void *ud,
                    struct pbx_import_result *res, struct es_err *err);
/* The same from an open file (--follow keeps the file open across a rotation,
 * to read what was written to it before). path only names it in messages. */
int pbx_import_fd(struct analytics *a, enum pbx_format f, int fd, const char *path,
                  void (*on_bad)(void *ud, int64_t line, const char *why), void *ud,
                  struct pbx_import_result *res, struct es_err *err);
/* One call, one row: queue calls whose last queue ended before `before` are
 * joined to the catalog's calls (archive's catalog_join_pbx_call): a recording
 * gets its empty operator, queue and wait filled; a missed call nothing
 * recorded becomes a missed call. An answered call whose recording is not
 * catalogued is tried again at the next join, for a day. */
struct pbx_join_result {
    int64_t joined, created, waiting, given_up;
};
int analytics_join(struct analytics *a, int64_t before, struct pbx_join_result *res,
                   struct es_err *err);
/* Applies one event (importers, tests). */
int pbx_apply(struct analytics *a, const struct pbx_event *ev, struct es_err *err);
int analytics_map_agent(struct analytics *a, const char *agent, const char *operator_,
                        struct es_err *err);

/* ---- reports ----------------------------------------------------------------------- */
#define MISSED_REASONS 9
extern const char *const analytics_missed_reasons[MISSED_REASONS];
struct an_counts {
    int64_t offered, answered, missed;
    int64_t missed_by[MISSED_REASONS]; /* by analytics_missed_reasons */
    int64_t answered_within;           /* answered with a hold time <= T */
    int64_t completed;                 /* answered calls whose end (talk time) is known */
    double talk_s;                     /* their talk time, summed */
};
/* Business hours per local weekday: "Mon-Fri 09:00-18:00, Sat 10:00-14:00". */
struct an_hours {
    int n[8]; /* [1..7]: intervals that day */
    struct {
        int from_min, to_min;
    } iv[8][4];
};
int an_hours_parse(const char *spec, struct an_hours *out, struct es_err *err);
bool an_hours_open(const struct an_hours *h, int64_t ms);
struct an_summary {
    struct an_counts all, after_hours;
    /* B2B customers with an account manager: their answered calls, and those
     * their own account manager answered */
    int64_t managed_answered, answered_by_manager;
    double service_level, service_level_abandons; /* -1: nothing to divide by */
    double asa_s, aht_s, abandon_wait_s, max_wait_s;
};
enum an_by { AN_BY_NONE, AN_BY_HOUR, AN_BY_DAY, AN_BY_WEEKDAY_HOUR };
struct an_bucket {
    int64_t start;     /* AN_BY_HOUR, AN_BY_DAY: local start, ms UTC */
    int weekday, hour; /* AN_BY_WEEKDAY_HOUR: 1 Mon .. 7 Sun, 0-23 */
    struct an_counts c;
};
struct an_query {
    int64_t from, to; /* [from, to), ms UTC */
    const char *queue;
    int sl_seconds; /* T of the service level (0: 20) */
    enum an_by by;
    const struct an_hours *hours; /* NULL: no after-hours split */
    const char *segment;          /* "b2b" or "b2c": that segment's callers only */
    const char *country_code;     /* for numbers without one ("49"); NULL: none */
};
/* Buckets in time order (weekday-hour: all 168); *buckets is the caller's to free(). */
int analytics_calls(struct analytics *a, const struct an_query *q, struct an_summary *sum,
                    struct an_bucket **buckets, size_t *nbuckets, struct es_err *err);

#define PAUSE_REASONS 8
struct an_presence {
    char operator_[64];
    int64_t logged_in_s, paused_s, talk_s;
    int64_t sessions, answered, ring_no_answer;
    int64_t unmatched_logoffs; /* a logoff with no login before it: reported, not guessed */
    double occupancy;          /* -1: never available */
    int npauses;
    struct {
        char reason[48];
        int64_t seconds;
    } pauses[PAUSE_REASONS]; /* the rest of the reasons add to "other" */
};
/* One row per operator with any event in the window (or only `operator_`). */
int analytics_presence(struct analytics *a, int64_t from, int64_t to, const char *operator_,
                       struct an_presence **rows, size_t *nrows, struct es_err *err);
/* Seconds each operator was available (logged in, not paused) in each local
 * weekday-hour of the window, summed: for staffing. avail[168], weekday-major. */
int analytics_available(struct analytics *a, int64_t from, int64_t to, double avail_s[168],
                        struct es_err *err);

/* ---- customers -------------------------------------------------------------------- */
/* Numbers are normalised with archive_e164(). */
/* number,name,segment,account_manager lines (a header line is skipped); each
 * number is stored in E.164. Bad lines go to on_bad as (line, why). */
struct customers_result {
    int64_t imported, bad;
};
int analytics_customers_import(struct analytics *a, const char *path, const char *country_code,
                               void (*on_bad)(void *ud, int64_t line, const char *why), void *ud,
                               struct customers_result *res, struct es_err *err);

/* The queues an operator was a member of, or answered in, since `since`
 * (the PBX's logs), by name. */
int analytics_operator_queues(struct analytics *a, const char *operator_, int64_t since,
                              char (*names)[64], size_t max, size_t *n, struct es_err *err);
/* A data subject in the imported PBX logs: queue calls and CDR rows with the
 * number as caller (source or destination), and its customer-directory entry;
 * with erase, the numbers are blanked and the entry removed (the counts are
 * then what was erased). Numbers compared in E.164 (cc for national ones). */
struct an_subject {
    int64_t queue_calls, cdr_rows;
    bool customer;
};
int analytics_subject(struct analytics *a, const char *e164, const char *cc, bool erase,
                      struct an_subject *out, struct es_err *err);
/* The directory's name and segment of one E.164 number: 1 found, 0 not. */
int analytics_customer(struct analytics *a, const char *e164, char name[128], char segment[8]);
/* The same for up to AN_CUSTOMERS_BATCH numbers in one statement (a page of a
 * list, one round trip on a server): cb hears of each number found, by its
 * index in numbers (NULL entries are skipped). */
#define AN_CUSTOMERS_BATCH 64
int analytics_customers_of(struct analytics *a, const char *const *numbers, size_t n,
                           void (*cb)(void *ud, size_t i, const char *name, const char *segment),
                           void *ud);

/* The catalog's calls since `since` whose caller (or customer) is in the
 * directory get their segment as a tag ("b2b" or "b2c"), which the rubrics'
 * rules can use. *tagged: calls that got one now. */
int analytics_tag_calls(struct analytics *a, int64_t since, const char *country_code,
                        int64_t *tagged, struct es_err *err);

/* ---- Erlang ------------------------------------------------------------------------- */
enum erlang_model { ERLANG_C, ERLANG_A };
struct erlang_in {
    double calls, period_s, aht_s; /* arrivals in the period, mean handling time */
    double target_s;               /* T of the service level */
    double patience_s;             /* ERLANG_A: callers' mean patience */
    enum erlang_model model;
};
struct erlang_out {
    int agents;
    double load;          /* offered load in Erlangs */
    double service_level; /* share of all callers answered within T */
    double p_wait;        /* share who wait at all */
    double asa_s;         /* mean wait over all callers */
    double occupancy;     /* busy agents / agents */
    double abandon;       /* ERLANG_A: share who hang up waiting (C: 0) */
};
/* With `agents` given: how they do. ES_EINVAL for a load they cannot carry
 * (Erlang C with agents <= load) or nonsense input. */
int erlang_eval(const struct erlang_in *in, int agents, struct erlang_out *out);
/* The fewest agents (up to 2,000) reaching service level `target`. */
int erlang_agents(const struct erlang_in *in, double target, struct erlang_out *out);

/* ---- staffing ----------------------------------------------------------------------- */
struct an_staffing_query {
    int64_t from, to;
    double level;           /* the service level to reach (0.8) */
    double shrinkage;       /* share of paid time not on the phones (0.3) */
    struct erlang_in model; /* target_s, model, patience_s; calls and AHT come from the log */
};
struct an_staffing_row {
    int weekday, hour;
    double calls_per_hour, aht_s;
    int agents, agents_with_shrinkage; /* -1: not reachable */
    double observed_agents;            /* logged in and not paused, on average */
    double service_level_observed;     /* -1: no call answered */
};
/* One row per local weekday-hour with calls in the window, in order. */
int analytics_staffing(struct analytics *a, const struct an_staffing_query *q,
                       struct an_staffing_row rows[168], size_t *n, struct es_err *err);

/* ---- presence timeline ------------------------------------------------------------- */
struct an_segment {
    const char *operator_; /* borrowed, valid during the callback */
    int64_t from, to;
    const char *state;  /* "in", "paused", "call" */
    const char *reason; /* paused: the reason ("" none) */
};
int analytics_timeline(struct analytics *a, int64_t from, int64_t to, const char *operator_,
                       int (*cb)(void *ud, const struct an_segment *), void *ud,
                       struct es_err *err);
/* The queues with calls in the window (at most max names). */
int analytics_queues(struct analytics *a, int64_t from, int64_t to, char (*names)[64], size_t max,
                     size_t *n, struct es_err *err);

/* ---- the JSON the CLI prints and the API answers (new references) ------------- */
json_t *analytics_summary_json(const struct an_summary *s);
json_t *analytics_bucket_json(const struct an_bucket *b, enum an_by by);
json_t *analytics_presence_json(const struct an_presence *p);
json_t *analytics_erlang_json(const struct erlang_out *o, enum erlang_model m);
json_t *analytics_staffing_json(const struct an_staffing_row *r);
/* --from/--to as the commands and the API take them: local days (to: its end) or
 * ISO 8601 times. */
int analytics_window(const char *from, const char *to, int64_t *f, int64_t *t);

/* ---- commands ----------------------------------------------------------------------- */
int cmd_pbx(struct es_cli *cli);              /* earshot pbx import ... */
int cmd_operator(struct es_cli *cli);         /* earshot operator map AGENT EXT */
int cmd_analytics_report(struct es_cli *cli); /* earshot report calls|presence */
int cmd_erlang(struct es_cli *cli);
int cmd_staffing(struct es_cli *cli);
int cmd_customers(struct es_cli *cli); /* earshot customers import FILE.csv */

#endif
