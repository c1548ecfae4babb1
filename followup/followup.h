/* followup: missed calls that get called back. Every call the catalog gets
 * is read once (in the order it was catalogued) into the module's own
 * tables: a missed inbound call opens, or adds an attempt to, the one open
 * entry of its caller's number and line; an answered call with that number
 * after the last miss closes it (a callback by us, or the customer calling
 * again); a callback nobody answered is counted as our attempt. Users claim
 * an entry ("I'm calling back", for 30 minutes) or close it with a note. */
#ifndef EARSHOT_FOLLOWUP_H
#define EARSHOT_FOLLOWUP_H

#include "analytics/analytics.h"
#include "archive/archive.h"

#include <jansson.h>

struct followup; /* opaque; on top of a catalog handle, one per thread */
int followup_open(struct catalog *c, struct followup **out, struct es_err *err);
void followup_close(struct followup *f);

struct followup_opts {
    const char *country_code; /* for national numbers ("49") */
    bool has_hours;           /* business hours known: misses outside them are after hours */
    struct an_hours hours;
    int64_t emit_after; /* events (call.missed, recording.ready) for calls started at or
                         * after this; the configuration's: an hour ago (older is history) */
};
/* country_code and business_hours from the configuration (cfg may be NULL). */
int followup_opts_from_config(const struct es_config *cfg, struct followup_opts *o,
                              struct es_err *err);
/* Reads the calls catalogued since the last sync. *calls: how many. */
int followup_sync(struct followup *f, const struct followup_opts *o, int64_t *calls,
                  struct es_err *err);

#define FOLLOWUP_CLAIM_MS (30LL * 60 * 1000)
enum followup_status { FU_OPEN, FU_CLAIMED, FU_CLOSED };
struct followup_entry {
    int64_t id;
    char number[40], line[64];
    int64_t attempts, our_attempts;
    int64_t first_missed_at, last_missed_at;
    char reasons[256]; /* JSON object: reason -> attempts */
    bool after_hours;
    enum followup_status status;
    char claimed_by[64];
    int64_t claimed_until;
    char closed_by[32]; /* callback, customer_called_again, manual */
    int64_t closed_at;
    char callback_call_id[40], callback_operator[64], note[256];
    char customer[128], segment[8]; /* from the customer directory, when known */
};
struct followup_filter {
    int which;                 /* 0 all (open ones first), 1 open (and claimed), 2 closed */
    int64_t since;             /* last miss at or after; 0: any */
    const char *number, *line; /* NULL: any */
    const char *lines;         /* a JSON array of lines (an operator's queues); NULL: any */
    int limit;                 /* 0: all */
    /* keyset: the entries after this one in the list's order (after_id 0: from the start);
     * after_key is the entry's first_missed_at when open, closed_at when closed */
    int64_t after_key, after_id;
};
/* Open entries longest waiting first (by first miss), then closed ones most
 * recently closed first. */
int followup_list(struct followup *f, const struct followup_filter *flt, int64_t now,
                  int (*cb)(void *ud, const struct followup_entry *), void *ud, struct es_err *err);
/* Closes the open entries of a number (its E.164 form, or "anonymous"). */
int followup_close_number(struct followup *f, const char *number, const char *who, const char *note,
                          const char *country_code, int64_t now, int64_t *closed,
                          struct es_err *err);
/* Closes one open entry by hand (the page's close button). ES_ENOTFOUND when
 * it is not open. */
int followup_close_entry(struct followup *f, int64_t id, const char *who, const char *note,
                         int64_t now, struct es_err *err);
/* One entry, whatever its state; 0, or ES_ENOTFOUND. */
int followup_get(struct followup *f, int64_t id, int64_t now, struct followup_entry *e,
                 struct es_err *err);
/* Claims an open entry for `who` until now + FOLLOWUP_CLAIM_MS; ES_ESTATE if
 * someone else holds a live claim. */
int followup_claim(struct followup *f, int64_t id, const char *who, int64_t now,
                   struct es_err *err);

/* Open entries now (claimed ones among them), for the metrics. */
int followup_open_count(struct followup *f, int64_t now, int64_t *open, int64_t *claimed,
                        struct es_err *err);

/* Time to callback for the entries closed by a callback or a new call in
 * [from, to) of their first miss. */
struct followup_report {
    int64_t missed, closed, open, callbacks, called_again, manual;
    double median_s, p90_s;     /* time from the first miss to the close; -1: none */
    double within_1h, same_day; /* shares of all entries; -1: none */
};
int followup_report(struct followup *f, int64_t from, int64_t to, struct followup_report *r,
                    struct es_err *err);

/* One entry as the API and `missed list --json` give it. */
json_t *followup_entry_json(const struct followup_entry *e, int64_t now);
json_t *followup_report_json(const struct followup_report *r);
/* The same object as followup_entry_json, written straight into b. */
int followup_entry_append(struct es_buf *b, const struct followup_entry *e, int64_t now);

/* ---- notifications ------------------------------------------------------------------
 * Events go into a durable outbox in the same transaction as what caused them
 * (the sync writes call.missed with the entry it opens). A sender routes each
 * event through the rules into deliveries (one per rule, or an hourly digest)
 * and delivers them at least once, with the same X-Earshot-Id on every attempt,
 * retrying with exponential backoff (1 s doubling to 1 h) for 24 h, then
 * keeping them as dead letters until someone retries them. */
#define NOTIFY_MAX_RULES 32
enum notify_channel { NOTIFY_WEBHOOK, NOTIFY_EMAIL };
enum notify_hours { NOTIFY_ANY_HOURS, NOTIFY_BUSINESS_HOURS, NOTIFY_AFTER_HOURS };
struct notify_rule {
    char name[64];
    enum notify_channel channel;
    char target[512]; /* the webhook's URL, or e-mail addresses (comma-separated) */
    char secret[256]; /* webhook: the HMAC-SHA256 key */
    char events[512]; /* comma-separated event names; "*": all */
    char queue[64];   /* "": any */
    enum notify_hours hours;
    int64_t min_wait_s; /* events with a waiting time: at least this long */
    bool hourly;        /* one digest an hour instead of one message an event */
};
struct notify_config {
    struct notify_rule rules[NOTIFY_MAX_RULES];
    int nrules;
    char smtp_url[512], smtp_user[128], smtp_password[256], smtp_from[256];
    int timeout_s;               /* one attempt's limit (notify_timeout, default 10 s) */
    int64_t give_up_ms;          /* dead-lettered after (24 h) */
    int64_t unreturned_after_ms; /* missed.unreturned after (unreturned_after, 30 min) */
    int64_t max_age_ms;          /* events about calls older than this are history (1 h) */
    /* capture.health thresholds (health_* keys) */
    double unparsed_per_min; /* packets or SIP messages the recorder could not parse (100) */
    double no_sip_min;       /* no SIP for this long in business hours (15; 0: never) */
    double disk_free_pct;    /* the data directory's file system below this (10 %) */
    double silent_min;       /* a live recorder's counters older than this (5) */
    double clear_min;        /* a condition unseen this long has ended (5) */
};
extern const char *const notify_events[];      /* NULL-terminated */
extern const char *const notify_config_keys[]; /* NULL-terminated, for the config loader */
int notify_config_load(const struct es_config *cfg, struct notify_config *nc, struct es_err *err);

/* Writes one event to the outbox, inside the caller's transaction if there is
 * one. data is taken (decref'd). queue, after_hours and waiting_s in data are
 * what the rules filter on. */
int notify_emit(struct followup *f, const char *event, int64_t at, json_t *data,
                struct es_err *err);
/* Open entries waiting longer than unreturned_after get missed.unreturned, once. */
int notify_unreturned(struct followup *f, const struct notify_config *nc, int64_t now,
                      int64_t *emitted, struct es_err *err);
/* The health of the recording system: the live recorders' counters, the data
 * directory's free space and ingest failures, turned into capture.health
 * (firing once when a condition starts, cleared once when it ends) and
 * ingest.failed events. data_dir: the file system checked for space. */
struct followup_health {
    int64_t firing, raised, cleared, failures;
};
int notify_health(struct followup *f, const struct notify_config *nc, const struct followup_opts *o,
                  const char *data_dir, int64_t now, struct followup_health *h, struct es_err *err);
/* The conditions firing now, for the metrics: cb(condition, since). */
int notify_health_firing(struct followup *f,
                         int (*cb)(void *ud, const char *condition, int64_t since), void *ud,
                         struct es_err *err);
/* Events into deliveries by the rules; hourly digests whose hour is over. */
int notify_route(struct followup *f, const struct notify_config *nc, int64_t now, int64_t *routed,
                 struct es_err *err);
/* Sends up to max due deliveries. */
struct notify_pass {
    int64_t sent, failed, dead;
};
int notify_deliver(struct followup *f, const struct notify_config *nc, int64_t now, int max,
                   struct notify_pass *p, struct es_err *err);

enum notify_state { NOTIFY_PENDING, NOTIFY_DELIVERED, NOTIFY_DEAD };
struct notify_delivery {
    int64_t id, created_at, next_at, delivered_at;
    char uuid[ES_ID_LEN], event[40], rule[64], channel[16], target[512];
    enum notify_state state;
    int64_t attempts;
    char last_error[256];
};
/* Newest first; state -1: any. */
int notify_list(struct followup *f, int state, int limit,
                int (*cb)(void *ud, const struct notify_delivery *), void *ud, struct es_err *err);
/* A dead (or pending) delivery due again now, its 24 h counted afresh. */
int notify_retry(struct followup *f, int64_t id, int64_t now, struct es_err *err);
struct notify_counts {
    int64_t pending, dead, delivered, outbox;
};
int notify_counts(struct followup *f, struct notify_counts *c, struct es_err *err);
json_t *notify_delivery_json(const struct notify_delivery *d);

/* ---- a data subject (GDPR) --------------------------------------------------------- */
/* The notifications not yet delivered that name an E.164 number (caller,
 * callee or number, in any spelling; digests looked into): cb(where, id,
 * event) with where "delivery", "outbox" or "digest". */
int followup_subject_notifications(struct followup *f, const char *e164, const char *cc,
                                   int (*cb)(void *ud, const char *where, int64_t id,
                                             const char *event),
                                   void *ud, int64_t *n, struct es_err *err);
/* Removes the number's unreturned entries, the numbers kept to match its
 * callbacks, and the notifications not yet delivered that name it. */
struct followup_erased {
    int64_t entries, notifications;
};
int followup_subject_erase(struct followup *f, const char *e164, const char *cc,
                           struct followup_erased *out, struct es_err *err);

int cmd_missed(struct es_cli *cli);
int cmd_notify(struct es_cli *cli);
/* earshot notify run|list|retry|test */ /* earshot missed list|close|report */

#endif
