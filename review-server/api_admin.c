/* Administration over HTTP (admins only): users, rubric uploads (with every
 * problem of a bad file listed by line and column) and API tokens. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

static int user_row(void *ud, const struct review_user *u)
{
    char at[ES_ISO_LEN];
    es_time_iso(u->created_at, at);
    json_array_append_new(ud, json_pack("{s:s, s:s, s:s, s:b, s:s}", "name", u->name, "role",
                                        review_role_name(u->role), "operator", u->operator_,
                                        "disabled", u->disabled, "created_at", at));
    return 0;
}

enum MHD_Result api_user_add(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const char *name = json_string_value(json_object_get(b, "name"));
    const char *role_name = json_string_value(json_object_get(b, "role"));
    const char *op = json_string_value(json_object_get(b, "operator"));
    const char *pw = json_string_value(json_object_get(b, "password"));
    enum review_role role;
    struct es_err err = {{0}};
    char generated[21] = "";
    if (!name || !role_name || review_role_parse(role_name, &role)) {
        json_decref(b);
        return http_error(r, 400,
                          "expected {\"name\", \"role\": admin|supervisor|operator|"
                          "compliance, \"operator\", \"password\"}");
    }
    if (!pw || !pw[0]) {
        review_password_generate(generated);
        pw = generated;
    }
    bool outer;
    char detail[128];
    snprintf(detail, sizeof detail, "{\"role\":\"%s\"}", review_role_name(role));
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        rc = review_user_add(r->w->rv, name, role, op, pw, &err);
        rc = http_tx_audit_end(r, outer, rc, "user.add", name, detail, &err);
    }
    json_t *out = rc ? NULL
                     : json_pack("{s:s, s:s, s:s}", "name", name, "role", review_role_name(role),
                                 "operator", op ? op : "");
    if (out && generated[0]) /* shown once, in this answer only */
        json_object_set_new(out, "password", json_string(generated));
    sodium_memzero(generated, sizeof generated);
    json_decref(b);
    if (rc)
        return http_error(r, rc == ES_EEXIST ? 409 : rc == ES_EDB ? 500 : 400, "%s", err.msg);
    return http_json(r, 201, out);
}

static enum MHD_Result user_state(struct req *r, bool disable)
{
    struct es_err err = {{0}};
    if (disable && !strcmp(r->route.arg, r->user.name))
        return http_error(r, 409, "you cannot disable your own account");
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        rc = review_user_disable(r->w->rv, r->route.arg, disable, &err);
        rc = http_tx_audit_end(r, outer, rc, disable ? "user.disable" : "user.enable", r->route.arg,
                               NULL, &err);
    }
    if (rc)
        return http_error(r, rc == ES_ENOTFOUND ? 404 : 500, "%s", err.msg);
    return http_json(r, 200, json_pack("{s:s, s:b}", "name", r->route.arg, "disabled", disable));
}

/* POST /users/{name}/password {"password"}: an admin's reset (a password is
 * made when none is given, and shown once); every session of the user ends. */
enum MHD_Result api_user_password(struct req *r)
{
    enum MHD_Result res;
    json_t *b = r->body.len ? http_body_json(r, &res) : json_object();
    if (!b)
        return res;
    const char *pw = json_string_value(json_object_get(b, "password"));
    char generated[21] = "";
    if (!pw || !pw[0]) {
        review_password_generate(generated);
        pw = generated;
    }
    struct es_err err = {{0}};
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        /* one's own reset keeps the session making it */
        const char *keep = !strcmp(r->route.arg, r->user.name) ? r->token : NULL;
        rc = review_user_passwd(r->w->rv, r->route.arg, pw, keep, &err);
        rc = http_tx_audit_end(r, outer, rc, "user.passwd", r->route.arg, NULL, &err);
    }
    json_t *out = rc ? NULL : json_pack("{s:s}", "name", r->route.arg);
    if (out && generated[0])
        json_object_set_new(out, "password", json_string(generated));
    sodium_memzero(generated, sizeof generated);
    json_decref(b);
    if (rc)
        return http_error(r, rc == ES_ENOTFOUND ? 404 : rc == ES_EINVAL ? 400 : 500, "%s", err.msg);
    return http_json(r, 200, out);
}

/* The body is the YAML itself. */
enum MHD_Result api_rubric_import(struct req *r)
{
    struct rubric_diags *d = malloc(sizeof *d);
    struct rubric *rb = NULL;
    if (!d)
        return http_error(r, 500, "out of memory");
    int rc = rubric_load((const uint8_t *)(r->body.data ? r->body.data : ""), r->body.len, &rb, d);
    if (rc) {
        json_t *probs = json_array();
        for (int i = 0; i < d->n; i++)
            json_array_append_new(probs, json_pack("{s:i, s:i, s:s}", "line", d->d[i].line, "col",
                                                   d->d[i].col, "message", d->d[i].msg));
        int n = d->n + d->dropped;
        free(d);
        return http_json(r, 400,
                         json_pack("{s:s, s:o}", "error",
                                   n == 1 ? "the rubric has a problem" : "the rubric has problems",
                                   "problems", probs));
    }
    free(d);
    int version;
    enum rubric_import_outcome out;
    struct es_err err = {{0}};
    bool outer;
    rc = http_tx_begin(r, &outer, &err);
    if (!rc)
        rc = rubric_import(r->w->rs, (const uint8_t *)r->body.data, r->body.len, &version, &out,
                           &err);
    char detail[64];
    snprintf(detail, sizeof detail, "{\"version\":%d}", version);
    if (!rc && out == RUBRIC_UNCHANGED) {
        rc = catalog_tx_end(catalog_db(r->w->cat), outer, 0); /* nothing to audit */
        r->unchanged = true;
    } else
        rc = http_tx_audit_end(r, outer, rc, "rubric.import", rb->id, detail, &err);
    json_t *o = rc ? NULL
                   : json_pack("{s:s, s:i, s:s}", "id", rb->id, "version", version, "outcome",
                               out == RUBRIC_UNCHANGED      ? "unchanged"
                               : out == RUBRIC_IMPORTED_NEW ? "new"
                                                            : "version");
    rubric_free(rb);
    if (rc)
        return http_error(r, 500, "%s", err.msg);
    return http_json(r, out == RUBRIC_UNCHANGED ? 200 : 201, o);
}

static int token_row(void *ud, const struct review_token_info *t)
{
    char at[ES_ISO_LEN], rev[ES_ISO_LEN];
    es_time_iso(t->created_at, at);
    es_time_iso(t->revoked_at, rev);
    json_array_append_new(ud, json_pack("{s:s, s:s, s:s, s:o}", "name", t->name, "created_by",
                                        t->created_by, "created_at", at, "revoked_at",
                                        t->revoked_at ? json_string(rev) : json_null()));
    return 0;
}

enum MHD_Result api_token_add(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    char token[REVIEW_TOKEN_HEX];
    struct es_err err = {{0}};
    const char *name = json_string_value(json_object_get(b, "name"));
    bool outer;
    int rc =
        name ? http_tx_begin(r, &outer, &err) : es_seterr(&err, ES_EINVAL, "expected {\"name\"}");
    if (!rc) {
        rc = review_token_create(r->w->rv, name, r->user.name, token, &err);
        rc = http_tx_audit_end(r, outer, rc, "token.add", name, NULL, &err);
    }
    json_t *o = rc ? NULL : json_pack("{s:s, s:s}", "name", name, "token", token);
    sodium_memzero(token, sizeof token);
    json_decref(b);
    if (rc)
        return http_error(r, rc == ES_EEXIST ? 409 : 400, "%s", err.msg);
    return http_json(r, 201, o); /* the only time the token is shown */
}

enum MHD_Result api_token_revoke(struct req *r)
{
    struct es_err err = {{0}};
    bool outer;
    int rc = http_tx_begin(r, &outer, &err);
    if (!rc) {
        rc = review_token_revoke(r->w->rv, r->route.arg, &err);
        rc = http_tx_audit_end(r, outer, rc, "token.revoke", r->route.arg, NULL, &err);
    }
    if (rc)
        return http_error(r, rc == ES_ENOTFOUND ? 404 : 500, "%s", err.msg);
    return http_json(r, 200, json_pack("{s:s, s:b}", "name", r->route.arg, "revoked", 1));
}

enum MHD_Result api_user_disable(struct req *r)
{
    return user_state(r, true);
}

enum MHD_Result api_user_enable(struct req *r)
{
    return user_state(r, false);
}

enum MHD_Result api_users(struct req *r)
{
    json_t *arr = json_array();
    review_user_list(r->w->rv, user_row, arr);
    return http_json(r, 200, json_pack("{s:o}", "users", arr));
}

enum MHD_Result api_tokens(struct req *r)
{
    json_t *arr = json_array();
    review_token_list(r->w->rv, token_row, arr);
    return http_json(r, 200, json_pack("{s:o}", "tokens", arr));
}
