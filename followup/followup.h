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
/* Claims an open entry for `who` until now + FOLLOWUP_CLAIM_MS; ES_ESTATE if
 * someone else holds a live claim. */
int followup_claim(struct followup *f, int64_t id, const char *who, int64_t now,
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

int cmd_missed(struct es_cli *cli); /* earshot missed list|close|report */

#endif
