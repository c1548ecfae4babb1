/* Private to review-server/: the HTTP layer shared by the route handlers. */
#ifndef EARSHOT_HTTP_INT_H
#define EARSHOT_HTTP_INT_H

#include "analytics/analytics.h"
#include "followup/followup.h"
#include "review-server/review_int.h"

#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>

#define HTTP_MAX_BODY   (1 << 20)     /* JSON bodies */
#define HTTP_MAX_UPLOAD (512LL << 20) /* POST /recordings, unless --max-upload says */
#define HTTP_COOKIE     "earshot_session"

/* Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto count (proxy.c). */
#define PROXIES_MAX 32
struct proxy_net {
    int family, prefix;
    uint8_t addr[16];
};
struct proxies {
    struct proxy_net net[PROXIES_MAX];
    int n;
};
/* "127.0.0.1, 10.0.0.0/8, ::1": addresses and CIDR blocks. */
int proxies_parse(const char *spec, struct proxies *out, struct es_err *err);
/* For a connection from a trusted proxy: ip becomes the client's address (the
 * right-most X-Forwarded-For hop that is not a trusted proxy) and https the
 * scheme X-Forwarded-Proto gives. False (nothing changed) for anyone else. */
bool proxies_apply(const struct proxies *px, struct MHD_Connection *conn, char *ip, size_t iplen,
                   bool *https);
/* The client in an X-Forwarded-For value (len bytes, not NUL-terminated): the
 * right-most hop that is not a trusted proxy, into ip; false (ip untouched)
 * when there is none or a hop is not an address. */
bool proxies_client(const struct proxies *px, const char *xff, size_t len, char *ip, size_t iplen);

struct server {
    struct MHD_Daemon *d;
    struct ingest_session *ingest; /* POST /recordings; shared by the pool threads */
    struct ingest_opts ingest_opts;
    char data_dir[4096];
    bool tls;
    uint64_t max_upload; /* bytes of a pushed recording */
    struct proxies proxies;
    bool has_hours;              /* business_hours from the configuration */
    char country_code[8];        /* for customers' numbers without one */
    char recorder_control[4096]; /* the live recorder's control socket (PCI pause/resume) */
    int dispute_days;            /* dispute_days: submitted evaluations count as acknowledged */
    _Atomic int64_t deadline_at; /* when the deadline was last applied */
    struct an_hours hours;
    pthread_key_t worker_key;
    struct throttle *throttle;
    struct listens *listens;
    _Atomic int64_t missed_synced_at; /* the unreturned-calls list was brought up to date */
    struct http_metrics *metrics;     /* requests by route and status, latencies */
};

/* One per pool thread: its own catalog connection and stores. */
struct worker {
    struct catalog *cat;
    struct rubric_store *rs;
    struct review_store *rv;
    struct analytics *an;
    struct followup *fu;
};

struct req {
    struct server *srv;
    struct worker *w;
    struct MHD_Connection *conn;
    const char *method;
    struct route route;
    struct es_buf body;
    bool too_big, started;
    bool https;   /* TLS here, or at a trusted proxy in front */
    bool proxied; /* from a trusted proxy: its X-Forwarded-* headers count */
    bool authed;
    struct review_user user;
    char token[REVIEW_TOKEN_HEX], csrf[REVIEW_TOKEN_HEX];
    char ip[64];
    struct upload *upload;            /* POST /recordings */
    char token_name[REVIEW_NAME_LEN]; /* the API token it came with */
    int64_t t0_us;                    /* when its headers came in */
    unsigned status;                  /* what was answered */
    bool routed;                      /* its path matched a route */
    bool unchanged; /* an audited route answered without changing anything (no row due) */
};

struct http_opts {
    const char *listen;             /* ADDR:PORT */
    const char *tls_cert, *tls_key; /* PEM text, both or neither */
    unsigned threads;
    unsigned max_connections, per_ip;
    unsigned timeout_s;
    unsigned max_upload_mb; /* 0: HTTP_MAX_UPLOAD */
    struct proxies proxies; /* trusted reverse proxies */
};
int http_start(struct server *srv, const struct http_opts *o, struct es_err *err);
void http_stop(struct server *srv);
int http_parse_listen(const char *s, struct sockaddr_storage *ss);

/* ---- replies (every one carries the security headers) -------------------- */
enum MHD_Result http_reply(struct req *r, unsigned status, const char *ctype, const void *data,
                           size_t len);
/* Steals o. */
enum MHD_Result http_json(struct req *r, unsigned status, json_t *o);
enum MHD_Result http_error(struct req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds the headers every response carries (CSP, nosniff, no framing, caching). */
void http_common_headers(struct MHD_Response *resp, bool api);
enum MHD_Result http_queue(struct req *r, unsigned status, struct MHD_Response *resp);
/* 303 See Other to a path of this server. */
enum MHD_Result http_redirect(struct req *r, const char *to);

/* A change and its audit row commit together or not at all: the change runs
 * between http_tx_begin and http_tx_audit_end, which writes the row (by the
 * request's user) when rc is 0 and commits; any failure rolls both back. */
int http_tx_begin(struct req *r, bool *outer, struct es_err *err);
int http_tx_audit_end(struct req *r, bool outer, int rc, const char *action, const char *target,
                      const char *detail, struct es_err *err);

/* Does a browser say this request comes from this site's own page? True when
 * neither Sec-Fetch-Site nor Origin says otherwise (non-browser clients). */
bool http_same_origin(struct req *r);

/* A query argument, or NULL. */
const char *http_arg(struct req *r, const char *name);
/* The JSON body as an object; NULL with a 400 already queued when it is not one. */
json_t *http_body_json(struct req *r, enum MHD_Result *res);

/* ---- throttle --------------------------------------------------------------- */
/* Failed logins per user name and per address (throttle.c). */
#define THROTTLE_CAPACITY 16384 /* counters kept at once */
#define THROTTLE_CEILING  60 /* failures a minute, in all, of attempts the table has no room for */
struct throttle;
int throttle_new(size_t capacity, int global_ceiling, struct throttle **out);
void throttle_free(struct throttle *t);
/* Checks and counts a login attempt in one step: 0, the attempt counted as a
 * failure until throttle_succeeded gives it back; or the seconds to wait. */
int throttle_begin(struct throttle *t, const char *user, const char *addr, int64_t now);
void throttle_succeeded(struct throttle *t, const char *user, const char *addr, int64_t now);

/* ---- listening sessions (listens.c) ------------------------------------------- */
#define LISTEN_WINDOW_MS (30 * 60 * 1000LL) /* ranges this close belong to one listening */
struct listens;
int listens_new(size_t capacity, struct listens **out);
void listens_free(struct listens *l);
/* Is this request part of a listening already audited (and so extended)? */
bool listens_known(struct listens *l, const char *session, const char *call_id, int64_t now);
/* A listening was audited: its later ranges are not. */
void listens_note(struct listens *l, const char *session, const char *call_id, int64_t now);

/* ---- the call filters shared by the list and the exports (calls_query.c) ---- */
struct calls_query {
    int64_t from, to;
    const char *operator_, *direction, *disposition, *error_tag, *q;
    int scored; /* -1 any, 0 unscored, 1 scored */
    double min_score, max_score;
    bool has_min, has_max;
    int64_t cursor_at; /* keyset: after (cursor_at, cursor_id); the walk moves it */
    char cursor_id[ES_ID_LEN];
    int limit;
    bool for_export; /* the recording's path and hash, the evaluation's error tags */
};
/* Reads the filters (and, when paged, cursor and limit); operators are held
 * to their own calls. A 400 naming the bad filter is queued on failure. */
int calls_query_read(struct req *r, struct calls_query *q, bool paged, enum MHD_Result *res);
/* One call of a list or an export, with its newest submitted evaluation
 * (NULL: none); borrowed for the callback. */
struct call_item {
    const struct catalog_call_row *call;
    const struct eval_brief *ev;
};
/* The calls matching q, newest first, at most max (0: all), each given to fn
 * (non-zero stops the walk). Runs archive's call query and scripts-rubric's
 * evaluation query and joins them by call id, a bounded batch at a time. */
int calls_walk(struct catalog *cat, struct rubric_store *rs, struct calls_query *q, int max,
               int (*fn)(void *ud, const struct call_item *it), void *ud, struct es_err *err);

/* ---- the route table (route.c) ---------------------------------------------- */
typedef enum MHD_Result (*route_handler)(struct req *r);
enum route_auth {
    AUTH_SESSION,  /* a session cookie; state changes also carry X-CSRF-Token */
    AUTH_TOKEN,    /* an API token (Authorization: Bearer), no session, no CSRF */
    AUTH_OPTIONAL, /* anyone; a session is read when there is one */
    AUTH_NONE,     /* anyone; no session is read (the login itself) */
};
enum route_audit {
    AUDIT_NO,
    AUDIT_EACH,      /* every successful answer writes an audit row */
    AUDIT_LISTENING, /* a session's first request for a call's audio in LISTEN_WINDOW_MS */
};
#define WHO(role) (1u << (role))
#define ROUTE_MAX 128 /* rows the table may have (the metrics count per row) */
struct route_def {
    const char *method, *path;
    route_handler handler;
    enum route_auth auth;
    unsigned roles; /* AUTH_SESSION: WHO() bits of the roles it is for */
    enum route_audit audited;
    const char *page; /* an HTML page's file (web/), or NULL */
};
/* "admins, supervisors and operators", "anyone", "an API token": for messages
 * and the documentation's route table. */
void route_who(const struct route_def *d, char *out, size_t size);
const char *route_audited(const struct route_def *d); /* "yes", "no", "each listening" */

/* ---- route handlers (one per row of the table) ------------------------------- */
enum MHD_Result api_login(struct req *r);
enum MHD_Result api_logout(struct req *r);
enum MHD_Result api_session_get(struct req *r);
enum MHD_Result api_session_password(struct req *r);
enum MHD_Result api_calls(struct req *r);
enum MHD_Result api_call(struct req *r);
enum MHD_Result api_call_audio(struct req *r);
enum MHD_Result api_call_peaks(struct req *r);
enum MHD_Result api_call_redact(struct req *r);
enum MHD_Result api_call_evals(struct req *r);
enum MHD_Result api_eval_create(struct req *r);
enum MHD_Result api_evals(struct req *r);
enum MHD_Result api_eval_get(struct req *r);
enum MHD_Result api_eval_ack(struct req *r);
enum MHD_Result api_eval_dispute(struct req *r);
enum MHD_Result api_eval_resolve(struct req *r);
enum MHD_Result api_eval_submit(struct req *r);
enum MHD_Result api_eval_edit(struct req *r);
enum MHD_Result api_eval_comment(struct req *r);
enum MHD_Result api_rubrics(struct req *r);
enum MHD_Result api_score_preview(struct req *r);
enum MHD_Result api_queue(struct req *r);
enum MHD_Result api_report_errors(struct req *r);
enum MHD_Result api_report_scores(struct req *r);
enum MHD_Result api_export_csv(struct req *r);
enum MHD_Result api_export_xlsx(struct req *r);
enum MHD_Result api_audit(struct req *r);
enum MHD_Result api_recordings(struct req *r);
enum MHD_Result api_users(struct req *r);
enum MHD_Result api_user_add(struct req *r);
enum MHD_Result api_user_disable(struct req *r);
enum MHD_Result api_user_enable(struct req *r);
enum MHD_Result api_user_password(struct req *r);
enum MHD_Result api_rubric_import(struct req *r);
enum MHD_Result api_tokens(struct req *r);
enum MHD_Result api_token_add(struct req *r);
enum MHD_Result api_token_revoke(struct req *r);
enum MHD_Result api_an_calls(struct req *r);
enum MHD_Result api_an_presence(struct req *r);
enum MHD_Result api_an_timeline(struct req *r);
enum MHD_Result api_an_staffing(struct req *r);
enum MHD_Result api_an_erlang(struct req *r);
enum MHD_Result api_missed_list(struct req *r);
enum MHD_Result api_missed_claim(struct req *r);
enum MHD_Result api_missed_close(struct req *r);
enum MHD_Result api_missed_report(struct req *r);
enum MHD_Result api_notifications(struct req *r);
enum MHD_Result api_notification_retry(struct req *r);
enum MHD_Result api_metrics(struct req *r);
enum MHD_Result api_subject_find(struct req *r); /* cmd_subject.c: the compliance page's */
enum MHD_Result api_subject_export(struct req *r);
enum MHD_Result api_subject_erase(struct req *r);
enum MHD_Result api_recording_control(struct req *r);
enum MHD_Result api_op_progress(struct req *r);
enum MHD_Result api_op_goal_add(struct req *r);
enum MHD_Result api_cal_list(struct req *r);
enum MHD_Result api_cal_create(struct req *r);
enum MHD_Result api_cal_report(struct req *r);
enum MHD_Result api_cal_get(struct req *r);
enum MHD_Result api_cal_answers(struct req *r);
enum MHD_Result api_cal_reference(struct req *r);
enum MHD_Result page_root(struct req *r);
enum MHD_Result page_login(struct req *r);
enum MHD_Result page_asset(struct req *r);
enum MHD_Result page_send(struct req *r); /* the row's page */
/* Where a user lands: operators their feedback, everyone else the call list. */
const char *http_home(const struct req *r);

/* metrics.c: GET /metrics (an API token), and the per-request counts */
struct http_metrics;
struct http_metrics *http_metrics_new(void);
void http_metrics_free(struct http_metrics *m);
void http_metrics_request(struct http_metrics *m, const struct req *r);
/* The name of the live API token in Authorization: Bearer, if there is one. */
bool http_api_token(struct req *r, char name[REVIEW_NAME_LEN]);

struct upload;
int upload_begin(struct req *r);
/* ES_ETOOBIG once the body passes the upload cap (the partial file is gone,
 * and what follows is dropped). */
int upload_feed(struct req *r, const char *data, size_t size);
uint64_t upload_received(const struct req *r); /* bytes of the body so far */
#define UPLOAD_DRAIN (16ULL << 20)             /* read and dropped past the cap before cutting */
void upload_free(struct upload *u);

/* Would a spreadsheet run this CSV cell as a formula (so it gets an apostrophe)? */
bool export_formula_like(const char *v);

/* Evaluation summaries matching f, without drafts for operators; NULL on a
 * database failure. New reference. */
json_t *http_visible_evals(struct req *r, const struct eval_filter *f);

/* May this user see this call? Operators only their own; a call they may not
 * see answers 404 exactly like one that does not exist. */
bool http_may_see_call(const struct req *r, const char *operator_);

#endif
