/*
 * scripts-rubric — the store's call script as a scoring rubric, and what is
 * done with it: loading and validating rubric YAML, scoring a set of answers,
 * keeping rubric versions and evaluations in the catalog, and counting the
 * errors that keep coming back per operator and for the team.
 *
 * A rubric is sections of items; an item is a yes/no or a scale question with a
 * weight. The scoring rules are in docs/rubrics.md and score.c; they are a
 * contract with the people whose work is scored, so they change only with a
 * new rubric version, never silently.
 */
#ifndef EARSHOT_RUBRIC_H
#define EARSHOT_RUBRIC_H

#include "archive/archive.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>

#define RUBRIC_ID_LEN       65 /* slugs: [a-z0-9][a-z0-9_-]*, up to 64 bytes */
#define RUBRIC_MAX_SECTIONS 64
#define RUBRIC_MAX_ITEMS    512
#define RUBRIC_MAX_BYTES    (1 << 20) /* largest rubric file accepted */

enum rubric_type { RUBRIC_YES_NO, RUBRIC_SCALE };

struct rubric_label {
    int value;
    const char *text;
};

struct rubric_item {
    char id[RUBRIC_ID_LEN];
    const char *text, *guidance; /* guidance is "" when not given */
    enum rubric_type type;
    int min, max;      /* scale only */
    double fail_below; /* scale only: answers below this count as errors */
    struct rubric_label *labels;
    int nlabels;
    double weight;
    bool na_allowed, critical;
    char error_tag[RUBRIC_ID_LEN];
    const char **applies_to; /* call tags; none = every call */
    int napplies;
    const char **phrases; /* expect.phrases, kept for automatic checks */
    int nphrases;
    double within_s; /* expect.within_s, 0 = not given */
    int section;     /* index into rubric.sections */
    int line;        /* where the item starts in the YAML, for messages */
};

struct rubric_section {
    char id[RUBRIC_ID_LEN];
    const char *title;
    double weight;
    int first_item, nitems; /* items[first_item .. first_item + nitems) */
};

/* Strings and arrays live in the rubric's own arena; one rubric_free frees all. */
struct rubric {
    char id[RUBRIC_ID_LEN];
    const char *title, *description;
    double pass_score;
    struct rubric_section *sections;
    int nsections;
    struct rubric_item *items;
    int nitems;
    int version; /* 0 until stored in the catalog */
    struct rubric_arena *arena;
};

/* Everything wrong with a file, each with its place (1-based line and column). */
#define RUBRIC_MAX_DIAGS 64
struct rubric_diag {
    int line, col;
    char msg[256];
};
struct rubric_diags {
    struct rubric_diag d[RUBRIC_MAX_DIAGS];
    int n;
    int dropped; /* diagnostics beyond RUBRIC_MAX_DIAGS */
};

/* Parses and validates rubric YAML. On failure returns ES_EFORMAT (or
 * ES_ETOOBIG / ES_ENOMEM) with every problem found in diags (which may be NULL). */
int rubric_load(const uint8_t *p, size_t len, struct rubric **out, struct rubric_diags *diags);
void rubric_free(struct rubric *r);
/* Index of the item with this id, or -1. */
int rubric_find_item(const struct rubric *r, const char *id);
/* The rubric as JSON (for the review form and `rubric show --json`). New reference. */
json_t *rubric_json(const struct rubric *r);

/* ---- scoring ------------------------------------------------------------ */
enum rubric_answer_kind {
    RUBRIC_UNANSWERED = 0,
    RUBRIC_ANS_YES,
    RUBRIC_ANS_NO,
    RUBRIC_ANS_NA,
    RUBRIC_ANS_VALUE
};
struct rubric_answer {
    enum rubric_answer_kind kind;
    int value; /* RUBRIC_ANS_VALUE */
};
/* One answer per rubric item, in rubric order. */
struct rubric_answers {
    struct rubric_answer a[RUBRIC_MAX_ITEMS];
};

/* Reads {"item-id": "yes" | "no" | "na" | number}. Unknown items, wrong kinds
 * and values that are not whole numbers are refused here, naming the item. */
int rubric_answers_from_json(const struct rubric *r, const json_t *obj, struct rubric_answers *out,
                             struct es_err *err);
int rubric_answers_parse(const struct rubric *r, const uint8_t *p, size_t len,
                         struct rubric_answers *out, struct es_err *err);
/* The canonical JSON form of answers (only answered items). New reference. */
json_t *rubric_answers_json(const struct rubric *r, const struct rubric_answers *a);

enum rubric_item_state {
    RUBRIC_ITEM_SCORED = 0,
    RUBRIC_ITEM_NA,           /* answered na, or not applicable to the call */
    RUBRIC_ITEM_NOT_ANSWERED, /* optional item left out */
};
struct rubric_result {
    double score; /* 0..100, one decimal */
    bool passed, critical_failed;
    int nsections_scored;
    double section_score[RUBRIC_MAX_SECTIONS]; /* 0..100, one decimal; < 0 = dropped out */
    double item_score[RUBRIC_MAX_ITEMS];       /* 0..1 */
    uint8_t item_state[RUBRIC_MAX_ITEMS];      /* enum rubric_item_state */
    bool item_failed[RUBRIC_MAX_ITEMS];        /* counts as an operator error */
};

/* Scores answers by the rules in docs/rubrics.md. call_tags (NULL-terminated)
 * decide which applies_to items apply; NULL means the tags are not known, and
 * then such items are optional. ES_EINVAL with a message naming the item when an
 * answer is missing, out of range or na where na is not allowed. */
int rubric_score(const struct rubric *r, const struct rubric_answers *a,
                 const char *const *call_tags, struct rubric_result *res, struct es_err *err);
/* A JSON array of call tags as a NULL-terminated list in tags[cap] (strings
 * borrowed from arr), for rubric_score; NULL when there are none. */
const char *const *rubric_tag_list(const json_t *arr, const char **tags, size_t cap);
/* Rounds half away from zero to one decimal, treating values within 1e-9 of
 * the halfway point as on it (so 87.45 computed as 87.4499999... rounds up). */
double rubric_round1(double x);
/* {"score", "passed", "critical_failed", "sections": [{"id", "score"}], "errors": [tags]}.
 * Each failed item's error tag appears once, in rubric order. New reference. */
json_t *rubric_result_json(const struct rubric *r, const struct rubric_result *res);

/* ---- stored rubrics and evaluations (tables in the catalog) ------------- */
struct rubric_store; /* opaque; one per thread, on top of a catalog handle */
int rubric_store_open(struct catalog *c, struct rubric_store **out, struct es_err *err);
void rubric_store_close(struct rubric_store *s);

enum rubric_import_outcome { RUBRIC_IMPORTED_NEW, RUBRIC_IMPORTED_VERSION, RUBRIC_UNCHANGED };
/* Stores a validated rubric's YAML: a new id becomes version 1, changed text
 * becomes version n + 1, identical text changes nothing. Every stored version
 * is immutable, so evaluations keep meaning what they meant. */
int rubric_import(struct rubric_store *s, const uint8_t *yaml, size_t len, int *version,
                  enum rubric_import_outcome *outcome, struct es_err *err);
struct rubric_info {
    char id[RUBRIC_ID_LEN];
    char title[256];
    int version; /* latest */
    int64_t imported_at;
    int64_t evaluations; /* over all versions */
};
int rubric_list(struct rubric_store *s, int (*cb)(void *ud, const struct rubric_info *), void *ud);
/* version 0 = latest. The YAML exactly as imported goes to *yaml (caller frees)
 * when yaml is not NULL; the loaded rubric to *out when out is not NULL. */
int rubric_get(struct rubric_store *s, const char *id, int version, struct rubric **out,
               char **yaml, struct es_err *err);

enum eval_status {
    EVAL_DRAFT,
    EVAL_SUBMITTED,
    EVAL_ACKNOWLEDGED,
    EVAL_DISPUTED,
    EVAL_RESOLVED,
    EVAL_NSTATUS
};
const char *eval_status_name(enum eval_status s);
int eval_status_parse(const char *name, enum eval_status *out);

struct eval_comment {
    const char *item_id; /* NULL = about the whole call */
    int64_t at_ms;       /* moment of the call it is pinned to, -1 = none */
    const char *text;
};

struct eval_new {
    const char *call_id;
    const char *reviewer;
    const char *rubric_id;
    int rubric_version;    /* 0 = latest */
    const json_t *answers; /* {"item-id": answer}; borrowed */
    const char *comment;   /* overall comment, may be NULL */
    const struct eval_comment *comments;
    int ncomments;
    const json_t *tags; /* the call's tags as the reviewer found them (array of strings);
                           NULL = the call's own. Decides which applies_to items apply. */
    bool submit;        /* false: stays a draft */
};
/* Creates an evaluation; id_out holds ES_ID_LEN bytes. */
int eval_create(struct rubric_store *s, const struct eval_new *e, char *id_out, struct es_err *err);

/* Replaces the answers (and the overall comment when comment is not NULL) and
 * rescores. Allowed while draft, submitted or disputed; the previous state is
 * kept in the history; ES_ESTATE once acknowledged or resolved. */
int eval_edit(struct rubric_store *s, const char *id, const json_t *answers, const char *comment,
              const char *who, struct es_err *err);
/* Moves along draft → submitted → acknowledged | disputed → resolved. Any
 * other step is refused with ES_ESTATE and the reason. note: the dispute's
 * reason or the resolution (may be NULL). */
int eval_transition(struct rubric_store *s, const char *id, enum eval_status to, const char *who,
                    const char *note, struct es_err *err);
int eval_comment_add(struct rubric_store *s, const char *eval_id, const struct eval_comment *cm,
                     const char *author, struct es_err *err);
/* Disputes single items instead of the whole evaluation: items is
 * {"item-id": "reason", ...} (each item of the rubric once, each reason 1 to
 * 1,000 bytes). Submitted → disputed, in the history and per item. */
int eval_dispute_items(struct rubric_store *s, const char *id, const json_t *items, const char *who,
                       struct es_err *err);
/* Resolves disputed items: {"item-id": {"decision": "upheld" | "changed",
 * "answer": ..., "note": "..."}} (a note each; "changed" with the new answer,
 * which is applied and rescored, the old kept in the history). Once every
 * disputed item has a decision the evaluation is resolved. */
int eval_resolve_items(struct rubric_store *s, const char *id, const json_t *items, const char *who,
                       struct es_err *err);
/* Evaluations submitted more than days ago and neither acknowledged nor
 * disputed become acknowledged by "deadline"; each (if each is not NULL)
 * goes to each, inside the change's transaction (an audit row). How many, in *n. */
int eval_apply_deadline(struct rubric_store *s, int days, int64_t now,
                        int (*each)(void *ud, const char *id), void *ud, int *n,
                        struct es_err *err);

struct eval_filter {
    const char *call_id, *operator_, *reviewer, *rubric_id;
    int status;           /* enum eval_status, -1 = any */
    int64_t since, until; /* call start, 0 = open */
    int limit;            /* 0 = all */
};
/* The evaluation as JSON: identity, call, rubric version, answers, score,
 * status with who/when, comments and (with history) every earlier revision. */
int eval_get_json(struct rubric_store *s, const char *id, bool history, json_t **out,
                  struct es_err *err);
/* Blanks the free text written about a call's evaluations (comments, dispute
 * reasons, resolutions, history notes); answers, scores and error tags stay.
 * *changed: rows touched. For a data subject's erasure. */
int eval_erase_text(struct rubric_store *s, const char *call_id, int64_t *changed,
                    struct es_err *err);
/* Newest call first; cb gets a summary object (borrowed) and returns non-zero to stop. */
int eval_list(struct rubric_store *s, const struct eval_filter *f,
              int (*cb)(void *ud, json_t *summary), void *ud);

/* ---- a call's evaluation in lists of calls (eval_query.c) ---------------- */
#define EVAL_QUERY_IDS 1000 /* calls eval_newest_of takes at once */
struct eval_brief {         /* a call's newest submitted evaluation; borrowed */
    const char *call_id, *id, *status, *rubric_id, *reviewer;
    int rubric_version;
    double score;
    bool passed, critical_failed;
    int64_t call_started_at;
    const char *error_tags; /* with_tags: space-separated, "" for none */
};
/* The newest submitted evaluation of each of the n calls that has one (in no
 * particular order). cb returns non-zero to stop; that value is returned. */
int eval_newest_of(struct rubric_store *s, const char *const *ids, size_t n, bool with_tags,
                   int (*cb)(void *ud, const struct eval_brief *), void *ud, struct es_err *err);
struct eval_call_query {
    int64_t from, to;      /* the call's start, [from, to); 0 = open */
    const char *operator_; /* NULL: any */
    bool has_min, has_max;
    double min_score, max_score;
    const char *error_tag; /* NULL: any */
    int64_t after_at;      /* keyset: calls after (after_at, after_id), newest first */
    const char *after_id;  /* NULL: from the newest */
};
/* The calls whose newest submitted evaluation passes q, newest call first
 * (call start, then call id, descending), from a page of at most limit (1 to
 * 10000) submitted evaluations that pass q: page says how many were looked at
 * and where the next page starts (a call's earlier evaluations are passed
 * over, so fewer than page->rows may reach cb). */
struct eval_page {
    int rows;
    int64_t last_at;
    char last_id[ES_ID_LEN];
};
int eval_calls_query(struct rubric_store *s, const struct eval_call_query *q, int limit,
                     bool with_tags, struct eval_page *page,
                     int (*cb)(void *ud, const struct eval_brief *), void *ud, struct es_err *err);

/* ---- reports ------------------------------------------------------------ */
struct report_window {
    int64_t since, until;  /* [since, until) over call start times, UTC ms */
    const char *operator_; /* NULL = the whole team */
    int repeat_threshold;  /* default 3 */
};
struct report_error_row {
    const char *operator_;
    const char *error_tag;
    int64_t count, previous_count;
    bool repeat;
    int64_t repeats_after_ack; /* errors after the first acknowledged flag */
    int64_t first_ack_at;      /* 0 = never acknowledged */
};
struct report_item_row {
    const char *rubric_id;
    const char *item_id;
    int64_t answered, failed; /* non-na answers in the window */
};
struct report_errors {
    struct report_error_row *rows;
    size_t nrows;
    struct report_item_row *items;
    size_t nitems;
    int64_t evaluations; /* submitted evaluations in the window */
    int64_t errors, previous_errors;
    struct rubric_arena *arena;
};
/* Error counts per operator × tag in the window and the one before it, item
 * fail rates, repeat errors and team totals. Draft evaluations do not count. */
int report_errors(struct rubric_store *s, const struct report_window *w, struct report_errors *out,
                  struct es_err *err);
void report_errors_release(struct report_errors *r);

struct report_score_row {
    char operator_[ARCHIVE_FIELD_LEN];
    int64_t evaluations, passed;
    double average;
};
int report_scores(struct rubric_store *s, const struct report_window *w,
                  int (*cb)(void *ud, const struct report_score_row *), void *ud,
                  struct es_err *err);

/* Picks up to n answered calls per operator in [since, until) that have no
 * evaluation yet, at random but reproducibly: the same seed over the same
 * catalog gives the same calls. */
int report_sample(struct rubric_store *s, const struct report_window *w, int n, uint64_t seed,
                  int (*cb)(void *ud, const char *operator_, const char *call_id,
                            int64_t started_at),
                  void *ud, struct es_err *err);

/* ---- an operator's progress and coaching goals (progress.c) ---------------
 * {weeks: [{week (Monday, YYYY-MM-DD), evaluations, average, pass_rate}],
 *  average, team_median_average, errors: [{tag, count, question, calls:
 *  [{call_id, evaluation_id, at}]}], since_last_acknowledgement: {at,
 *  evaluations, errors}, goals: [...]} over calls started in [from, to).
 * The team figure is the median of the operators' averages: no other
 * operator's name or score is in it. Drafts never count. */
int report_progress(struct rubric_store *s, const char *operator_, int64_t from, int64_t to,
                    int64_t now, json_t **out, struct es_err *err);
/* A coaching goal: kind "errors" (at most max_errors of error_tag in the
 * operator's next next_evaluations evaluations) or "average" (an average
 * score of at least min_average over the next weeks). */
struct goal_new {
    const char *operator_, *kind, *error_tag, *note, *by;
    int max_errors, next_evaluations, weeks;
    double min_average;
};
int goal_add(struct rubric_store *s, const struct goal_new *g, int64_t now, int64_t *id,
             struct es_err *err);
/* The operator's goals, newest first, each with its progress and state
 * ("open", "met", "missed"); a goal decided now is recorded as such. */
int goal_list(struct rubric_store *s, const char *operator_, int64_t now, json_t **out,
              struct es_err *err);

/* ---- calibration (calibrate.c) ------------------------------------------------
 * Reviewers score the same call blind; their answers are kept apart from the
 * evaluations, so they never count in an operator's scores or errors.
 * Agreement is Krippendorff's alpha for nominal data over items x reviewers
 * (docs/rubrics.md has a worked example), per item the share agreeing with the
 * most common answer; the lead sets the reference answers, and each
 * reviewer's agreement with the references over time is a report. */
/* Krippendorff's alpha (nominal) over a units x coders table of category
 * numbers, -1 = missing. NaN when no unit has two values; 1 when every value
 * is the same. */
double calib_alpha(const int *values, int units, int coders);
int calib_create(struct rubric_store *s, const char *call_id, const char *rubric_id,
                 int rubric_version, const char *const *reviewers, int nreviewers, const char *lead,
                 char id_out[ES_ID_LEN], struct es_err *err);
/* A reviewer's answers (once; each reviewer of the session only). */
int calib_submit(struct rubric_store *s, const char *id, const char *reviewer,
                 const json_t *answers, struct es_err *err);
/* The lead's reference answers (may be set again). */
int calib_reference(struct rubric_store *s, const char *id, const char *who, const json_t *answers,
                    struct es_err *err);
/* The session as viewer may see it: a reviewer who has not submitted sees
 * nobody's answers and no agreement (blind); the lead, an admin (all) and a
 * reviewer who has submitted see everything: {id, call_id, rubric, lead,
 * reviewers: [{name, submitted, answers?}], agreement: {alpha, per_item},
 * reference}. ES_ENOTFOUND for an unknown session or a viewer who is neither
 * lead nor reviewer (unless all). */
int calib_get(struct rubric_store *s, const char *id, const char *viewer, bool all, json_t **out,
              struct es_err *err);
/* Session ids a user leads or reviews (NULL: every one), newest first. */
int calib_list(struct rubric_store *s, const char *user, json_t **out, struct es_err *err);
/* Per reviewer, per session with a reference: the share of items answered as
 * the reference was, oldest first. */
int calib_report(struct rubric_store *s, const char *reviewer, json_t **out, struct es_err *err);

/* ---- commands ------------------------------------------------------------ */
int cmd_rubric(struct es_cli *cli);
int cmd_eval(struct es_cli *cli);
int cmd_report(struct es_cli *cli);
int cmd_calibrate(struct es_cli *cli);

#endif
