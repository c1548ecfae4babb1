/* The HTTP server: libmicrohttpd with a thread pool on epoll, request bodies
 * collected under a cap, sessions and CSRF checked before any handler runs,
 * and one place where every response gets its security headers. */
#include "review-server/http_int.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- replies ------------------------------------------------------------------ */

void http_common_headers(struct MHD_Response *resp, bool api)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self';"
                            " img-src 'self' data:; media-src 'self'; connect-src 'self';"
                            " object-src 'none'; base-uri 'none'; form-action 'self';"
                            " frame-ancestors 'none'");
    if (api)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
}

enum MHD_Result http_queue(struct req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    if (r->https) /* browsers keep to HTTPS for this site from now on */
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES)
        r->status = status;
    return ret;
}

enum MHD_Result http_reply(struct req *r, unsigned status, const char *ctype, const void *data,
                           size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype);
    http_common_headers(resp, !strncmp(ctype, "application/json", 16));
    return http_queue(r, status, resp);
}

enum MHD_Result http_json(struct req *r, unsigned status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (!s)
        return http_reply(r, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
    enum MHD_Result ret = http_reply(r, status, "application/json", s, strlen(s));
    free(s);
    return ret;
}

enum MHD_Result http_error(struct req *r, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_json(r, status, json_pack("{s:s}", "error", msg));
}

int http_tx_begin(struct req *r, bool *outer, struct es_err *err)
{
    struct db *db = catalog_db(r->w->cat);
    return catalog_tx_begin(db, outer) ? es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(db)) : 0;
}

int http_tx_audit_end(struct req *r, bool outer, int rc, const char *action, const char *target,
                      const char *detail, struct es_err *err)
{
    if (!rc)
        rc = review_audit(r->w->rv, r->authed ? r->user.name : "?", action, target, detail, err);
    int end = catalog_tx_end(catalog_db(r->w->cat), outer, rc);
    if (end && !rc)
        es_seterr(err, end, "the change and its audit row could not be committed");
    if (!end)
        review_audit_anchor(r->w->rv);
    return end;
}

const char *http_arg(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* application/json, with or without parameters (charset) */
static bool json_content_type(struct req *r)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    if (!ct)
        return false;
    size_t n = strlen("application/json");
    return !strncasecmp(ct, "application/json", n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

json_t *http_body_json(struct req *r, enum MHD_Result *res)
{
    /* a cross-site form can post text/plain without a preflight; JSON cannot */
    if (!json_content_type(r)) {
        *res = http_error(r, 415, "the body must be sent as Content-Type: application/json");
        return NULL;
    }
    json_error_t je;
    json_t *o =
        json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        *res = o ? http_error(r, 400, "the body must be a JSON object")
                 : http_error(r, 400, "the body is not JSON: line %d column %d: %s", je.line,
                              je.column, je.text);
        return NULL;
    }
    return o;
}

bool http_same_origin(struct req *r)
{
    const char *site = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
        return false;
    const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return true;
    const char *host =
        r->proxied ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-Host")
                   : NULL;
    if (!host)
        host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
    if (!host)
        return false;
    char want[300];
    snprintf(want, sizeof want, "%s://%s", r->https ? "https" : "http", host);
    return !strcasecmp(origin, want);
}

bool http_may_see_call(const struct req *r, const char *operator_)
{
    if (r->user.role != ROLE_OPERATOR)
        return true;
    return r->user.operator_[0] && !strcmp(r->user.operator_, operator_);
}

/* ---- per-thread stores ---------------------------------------------------------- */

static void worker_free(void *p)
{
    struct worker *w = p;
    if (!w)
        return;
    review_store_close(w->rv);
    followup_close(w->fu);
    analytics_close(w->an);
    rubric_store_close(w->rs);
    catalog_close(w->cat);
    free(w);
}

static struct worker *worker_get(struct server *srv)
{
    struct worker *w = pthread_getspecific(srv->worker_key);
    if (w)
        return w;
    w = calloc(1, sizeof *w);
    struct es_err err = {{0}};
    if (!w || catalog_open(srv->data_dir, &w->cat, &err) ||
        rubric_store_open(w->cat, &w->rs, &err) || review_store_open(w->cat, &w->rv, &err) ||
        analytics_open(w->cat, &w->an, &err) || followup_open(w->cat, &w->fu, &err)) {
        ES_ERROR("serve", "opening the catalog for a request thread: %s", err.msg);
        worker_free(w);
        return NULL;
    }
    pthread_setspecific(srv->worker_key, w);
    return w;
}

/* ---- authentication -------------------------------------------------------------- */

static void client_address(struct req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(r->ip, sizeof r->ip, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->ip,
                  sizeof r->ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->ip,
                  sizeof r->ip);
}

bool http_api_token(struct req *r, char name[REVIEW_NAME_LEN])
{
    const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    return auth && !strncmp(auth, "Bearer ", 7) && !review_token_check(r->w->rv, auth + 7, name);
}

static void authenticate(struct req *r)
{
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, HTTP_COOKIE);
    if (!cookie || strlen(cookie) != REVIEW_TOKEN_HEX - 1)
        return;
    if (review_session_get(r->w->rv, cookie, es_now_ms(), &r->user, r->csrf) == 0) {
        r->authed = true;
        memcpy(r->token, cookie, REVIEW_TOKEN_HEX);
    }
}

static bool changes_state(const char *method)
{
    return strcmp(method, "GET") && strcmp(method, "HEAD");
}

enum MHD_Result http_redirect(struct req *r, const char *to)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Location", to);
    http_common_headers(resp, false);
    return http_queue(r, 303, resp);
}

/* ---- dispatch ----------------------------------------------------------------------- */

/* The handler, and the route table's audit promise kept: a route marked as
 * audited that answers 2xx without an audit row is logged as a bug. */
static enum MHD_Result run(struct req *r, const struct route_def *d)
{
    uint64_t before = review_audit_appended(r->w->rv);
    enum MHD_Result res = d->handler(r);
    if (d->audited == AUDIT_EACH && r->status >= 200 && r->status < 300 && !r->unchanged &&
        review_audit_appended(r->w->rv) == before)
        ES_ERROR("serve", "%s %s answered %u without an audit row", d->method, d->path, r->status);
    return res;
}

/* Who the caller is, and whether the route is for them: the route table's
 * auth and roles, checked here for every route. */
static enum MHD_Result dispatch(struct req *r)
{
    const struct route_def *d = r->route.def;
    if (d->auth == AUTH_TOKEN) {
        if (!http_api_token(r, r->token_name))
            return http_error(r, 401, "an API token is required (Authorization: Bearer TOKEN)");
        return run(r, d);
    }
    if (d->auth != AUTH_NONE)
        authenticate(r);
    if (d->auth == AUTH_SESSION) {
        if (!r->authed)
            return d->page ? http_redirect(r, "/login") : http_error(r, 401, "not logged in");
        if (!(d->roles & WHO(r->user.role))) {
            if (d->page) /* a page that is not for this user: their own home instead */
                return http_redirect(r, http_home(r));
            char who[128];
            route_who(d, who, sizeof who);
            return http_error(r, 403, "%s %s is for %s", d->method, d->path, who);
        }
        /* a state change must carry the session's CSRF token in X-CSRF-Token */
        if (changes_state(r->method)) {
            const char *t = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
            if (!t || !review_token_equal(t, r->csrf))
                return http_error(r, 403, "missing or wrong X-CSRF-Token header");
        }
    }
    return run(r, d);
}

/* POST /recordings authenticates with an API token before any byte of the
 * file is read, and streams the body to the spool instead of memory. */
static enum MHD_Result recordings_start(struct req *r, const char *content_length)
{
    if (!r->srv->ingest)
        return http_error(r, 503, "recordings cannot be received: the ingest session is closed");
    r->w = worker_get(r->srv);
    if (!r->w)
        return http_error(r, 503, "the catalog cannot be opened");
    if (!http_api_token(r, r->token_name)) /* before a byte of the body */
        return http_error(r, 401, "an API token is required (Authorization: Bearer TOKEN)");
    /* announced too big: refused before a byte is read; a chunked body that
     * announces nothing is counted as it comes (upload_feed) */
    if (content_length && strtoull(content_length, NULL, 10) > r->srv->max_upload)
        return http_error(r, 413, "the recording is larger than %llu bytes",
                          (unsigned long long)r->srv->max_upload);
    if (upload_begin(r))
        return http_error(r, 415, "expected multipart/form-data with a \"file\" part");
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct server *srv = cls;
    struct req *r = *con_cls;
    if (!r) { /* headers are in: decide what can be decided before the body */
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->srv = srv;
        r->conn = conn;
        r->method = method;
        r->t0_us = es_mono_us();
        es_buf_init(&r->body, HTTP_MAX_BODY);
        r->https = srv->tls;
        client_address(r);
        r->proxied = proxies_apply(&srv->proxies, conn, r->ip, sizeof r->ip, &r->https);
        int rc = route_match(method, url, strlen(url), &r->route);
        r->routed = rc == 0;
        if (rc == ES_ENOTFOUND)
            return http_error(r, 404, "no such page or API route");
        if (rc)
            return http_error(r, 405, "%s is not allowed here", method);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (r->route.def->handler == api_recordings) /* the one route that streams its body */
            return recordings_start(r, cl);
        if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
            return http_error(r, 413, "the body is larger than %d bytes", HTTP_MAX_BODY);
        return MHD_YES;
    }
    if (*upload_size && r->upload) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->started) /* refused already: the rest is discarded */
            return MHD_YES;
        /* past the cap nothing more is stored; the rest of the body is read
         * and dropped so the client gets its 413, up to a limit past which the
         * connection is cut */
        if (upload_feed(r, upload_data, n) == ES_ETOOBIG &&
            upload_received(r) > srv->max_upload + UPLOAD_DRAIN) {
            r->started = true;
            return http_error(r, 413, "the recording is larger than %llu bytes",
                              (unsigned long long)srv->max_upload);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big && es_buf_append(&r->body, upload_data, *upload_size))
            r->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->started)
        return MHD_YES;
    r->started = true;
    if (r->too_big)
        return http_error(r, 413, "the body is larger than %d bytes", HTTP_MAX_BODY);
    if (r->upload)
        return run(r, r->route.def);
    r->w = worker_get(srv);
    if (!r->w)
        return http_error(r, 503, "the catalog cannot be opened");
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct req *r = *con_cls;
    if (!r)
        return;
    struct server *srv = cls;
    if (srv->metrics && r->status)
        http_metrics_request(srv->metrics, r);
    es_buf_free(&r->body);
    upload_free(r->upload);
    sodium_memzero(r->token, sizeof r->token);
    free(r);
    *con_cls = NULL;
}

/* ---- the daemon ---------------------------------------------------------------------- */

int http_start(struct server *srv, const struct http_opts *o, struct es_err *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (http_parse_listen(o->listen, &ss))
        return es_seterr(err, ES_EINVAL, "--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:8080",
                         o->listen);
    if (pthread_key_create(&srv->worker_key, worker_free))
        return es_seterr(err, ES_ENOMEM, "cannot create the per-thread key");
    if (throttle_new(THROTTLE_CAPACITY, THROTTLE_CEILING, &srv->throttle) ||
        listens_new(16384, &srv->listens) || !(srv->metrics = http_metrics_new()))
        return es_seterr(err, ES_ENOMEM, "out of memory for the login throttle");
    srv->tls = o->tls_cert != NULL;
    srv->proxies = o->proxies;
    srv->max_upload = o->max_upload_mb ? (uint64_t)o->max_upload_mb << 20 : HTTP_MAX_UPLOAD;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (srv->tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip, NULL},
        /* idle connections (slowloris) are closed after this many seconds */
        {MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, NULL},
        /* request line + headers must fit in this much memory per connection */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
        {srv->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)o->tls_key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    if (!srv->d)
        return es_seterr(err, ES_EINVAL,
                         "cannot listen on %s (in use, not permitted, or a bad TLS key/cert)",
                         o->listen);
    return 0;
}

void http_stop(struct server *srv)
{
    if (srv->d)
        MHD_stop_daemon(srv->d);
    srv->d = NULL;
    throttle_free(srv->throttle);
    srv->throttle = NULL;
    listens_free(srv->listens);
    http_metrics_free(srv->metrics);
    srv->metrics = NULL;
    srv->listens = NULL;
}

int http_parse_listen(const char *s, struct sockaddr_storage *ss)
{
    const char *colon = strrchr(s, ':');
    if (!colon || !colon[1])
        return ES_EINVAL;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return ES_EINVAL;
    char host[64];
    size_t n = (size_t)(colon - s);
    if (n >= sizeof host)
        return ES_EINVAL;
    memcpy(host, s, n);
    host[n] = 0;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        host[n - 1] = 0;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : ES_EINVAL;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (n == 0) {
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : ES_EINVAL;
}
