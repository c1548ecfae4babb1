/* POST/GET/DELETE /api/v1/session: logging in and out. */
#include "review-server/http_int.h"

#include <sodium.h>
#include <string.h>

static json_t *user_json(const struct review_user *u, const char *csrf)
{
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "csrf", csrf, "user", "name", u->name, "role",
                     review_role_name(u->role), "operator", u->operator_);
}

enum MHD_Result api_login(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const char *name = json_string_value(json_object_get(b, "username"));
    const char *pw = json_string_value(json_object_get(b, "password"));
    if (!name || !pw) {
        json_decref(b);
        return http_error(r, 400, "username and password are required");
    }
    /* a login from another site's page (login CSRF: the victim would work in
     * the attacker's account) is refused */
    if (!http_same_origin(r)) {
        json_decref(b);
        return http_error(r, 403, "a login must come from this site's own page");
    }
    int64_t now = es_now_ms();
    int wait = throttle_begin(r->srv->throttle, name, r->ip, now);
    struct es_err err = {{0}};
    /* the name's count across every server on the catalog */
    if (!wait && review_login_attempt(r->w->rv, name, now, &wait, &err)) {
        json_decref(b);
        return http_error(r, 503, "%s", err.msg);
    }
    if (wait) {
        json_decref(b);
        return http_error(r, 429, "too many failed logins; try again in %d seconds", wait);
    }
    struct review_user u;
    char detail[128];
    snprintf(detail, sizeof detail, "{\"address\":\"%s\"}", r->ip);
    if (review_user_check(r->w->rv, name, pw, &u, &err)) {
        /* the name tried is kept (it may be a typo of a real one); the password never */
        if (review_audit(r->w->rv, review_name_valid(name) ? name : "?", "login.failed", "", detail,
                         &err))
            ES_ERROR("serve", "a failed login from %s is not in the audit log: %s", r->ip, err.msg);
        json_decref(b);
        return http_error(r, 401, "wrong user name or password");
    }
    throttle_succeeded(r->srv->throttle, name, r->ip, now); /* name lives in b */
    review_login_succeeded(r->w->rv, name);
    json_decref(b);
    char token[REVIEW_TOKEN_HEX], csrf[REVIEW_TOKEN_HEX], cookie[256];
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        rc = review_session_create(r->w->rv, &u, token, csrf, &err);
        if (!rc)
            rc = review_audit(r->w->rv, u.name, "login", "", detail, &err);
        rc = catalog_tx_end(catalog_db(r->w->cat), outer, rc);
        if (!rc)
            review_audit_anchor(r->w->rv);
    }
    if (rc)
        return http_error(r, 500, "cannot start a session");
    snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s",
             HTTP_COOKIE, token, REVIEW_SESSION_ABSOLUTE_MS / 1000, r->https ? "; Secure" : "");
    sodium_memzero(token, sizeof token);
    json_t *j = user_json(&u, csrf);
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!body)
        return http_error(r, 500, "out of memory");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Set-Cookie", cookie);
    http_common_headers(resp, true);
    return http_queue(r, 200, resp);
}

enum MHD_Result api_logout(struct req *r)
{
    struct es_err err = {{0}};
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        rc = review_session_delete(r->w->rv, r->token);
        rc = http_tx_audit_end(r, outer, rc, "logout", "", NULL, &err);
    }
    if (rc)
        return http_error(r, 500, "cannot end the session: %s", err.msg);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Set-Cookie",
                            HTTP_COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    http_common_headers(resp, true);
    return http_queue(r, 204, resp);
}

/* POST /session/password {"current", "new"}: one's own password; every other
 * session of the user ends (whoever knew the old one is logged out). */
enum MHD_Result api_session_password(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const char *cur = json_string_value(json_object_get(b, "current"));
    const char *pw = json_string_value(json_object_get(b, "new"));
    if (!cur || !pw) {
        json_decref(b);
        return http_error(r, 400, "expected {\"current\", \"new\"}");
    }
    int64_t now = es_now_ms();
    int wait = throttle_begin(r->srv->throttle, r->user.name, r->ip, now);
    struct es_err err = {{0}};
    if (!wait && review_login_attempt(r->w->rv, r->user.name, now, &wait, &err)) {
        json_decref(b);
        return http_error(r, 503, "%s", err.msg);
    }
    if (wait) {
        json_decref(b);
        return http_error(r, 429, "too many failed tries; try again in %d seconds", wait);
    }
    struct review_user u;
    if (review_user_check(r->w->rv, r->user.name, cur, &u, &err)) {
        json_decref(b);
        return http_error(r, 403, "the current password is wrong");
    }
    throttle_succeeded(r->srv->throttle, r->user.name, r->ip, now);
    review_login_succeeded(r->w->rv, r->user.name);
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        rc = review_user_passwd(r->w->rv, r->user.name, pw, r->token, &err);
        rc = http_tx_audit_end(r, outer, rc, "user.passwd", r->user.name, NULL, &err);
    }
    json_decref(b);
    if (rc)
        return http_error(r, rc == ES_EINVAL ? 400 : 500, "%s", err.msg);
    return http_json(r, 200, json_pack("{s:s}", "name", r->user.name));
}

enum MHD_Result api_session_get(struct req *r)
{
    return http_json(r, 200, user_json(&r->user, r->csrf));
}
