/* Private to review-server/: the HTTP layer shared by the route handlers. */
#ifndef EARSHOT_HTTP_INT_H
#define EARSHOT_HTTP_INT_H

#include "review-server/review_int.h"

#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>

#define HTTP_MAX_BODY   (1 << 20)     /* JSON bodies */
#define HTTP_MAX_UPLOAD (512LL << 20) /* POST /recordings */
#define HTTP_COOKIE     "earshot_session"

/* Failed logins per user and per address: a small table, guarded by a mutex. */
#define THROTTLE_SLOTS 4096
struct throttle_slot {
    uint64_t key; /* hash of "u:<name>" or "a:<address>" */
    int failures;
    int64_t first_at, locked_until;
};
struct throttle {
    pthread_mutex_t lock;
    struct throttle_slot slot[THROTTLE_SLOTS];
};

struct server {
    struct MHD_Daemon *d;
    char data_dir[4096];
    bool tls;
    pthread_key_t worker_key;
    struct throttle throttle;
};

/* One per pool thread: its own catalog connection, stores and the statements
 * of the HTTP layer's own queries (which read calls and evaluations together). */
enum worker_stmt { WS_CALLS, WS_COUNT };
struct worker {
    struct catalog *cat;
    struct rubric_store *rs;
    struct review_store *rv;
    sqlite3_stmt *st[WS_COUNT];
};
extern const char *const worker_sql[WS_COUNT];

struct req {
    struct server *srv;
    struct worker *w;
    struct MHD_Connection *conn;
    const char *method;
    struct route route;
    struct es_buf body;
    bool too_big, started;
    bool authed;
    struct review_user user;
    char token[REVIEW_TOKEN_HEX], csrf[REVIEW_TOKEN_HEX];
    char ip[64];
};

struct http_opts {
    const char *listen;             /* ADDR:PORT */
    const char *tls_cert, *tls_key; /* PEM text, both or neither */
    unsigned threads;
    unsigned max_connections, per_ip;
    unsigned timeout_s;
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

/* A query argument, or NULL. */
const char *http_arg(struct req *r, const char *name);
/* The JSON body as an object; NULL with a 400 already queued when it is not one. */
json_t *http_body_json(struct req *r, enum MHD_Result *res);

/* ---- throttle --------------------------------------------------------------- */
/* Seconds until a login for this user from this address may be tried again; 0 = now. */
int throttle_wait(struct throttle *t, const char *user, const char *addr, int64_t now);
void throttle_failed(struct throttle *t, const char *user, const char *addr, int64_t now);
void throttle_succeeded(struct throttle *t, const char *user, int64_t now);

/* ---- route handlers ----------------------------------------------------------- */
enum MHD_Result api_session(struct req *r);
enum MHD_Result api_calls(struct req *r);
enum MHD_Result api_call(struct req *r);
enum MHD_Result api_call_audio(struct req *r);
enum MHD_Result api_call_peaks(struct req *r);
enum MHD_Result api_eval(struct req *r);
enum MHD_Result api_reports(struct req *r);

/* May this user see this call? Operators only their own; a call they may not
 * see answers 404 exactly like one that does not exist. */
bool http_may_see_call(const struct req *r, const char *operator_);

#endif
