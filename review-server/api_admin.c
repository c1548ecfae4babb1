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

static enum MHD_Result user_add(struct req *r)
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
    int rc = review_user_add(r->w->rv, name, role, op, pw, &err);
    json_t *out = rc ? NULL
                     : json_pack("{s:s, s:s, s:s}", "name", name, "role", review_role_name(role),
                                 "operator", op ? op : "");
    if (out && generated[0]) /* shown once, in this answer only */
        json_object_set_new(out, "password", json_string(generated));
    if (!rc) {
        char detail[128];
        snprintf(detail, sizeof detail, "{\"role\":\"%s\"}", review_role_name(role));
        review_audit(r->w->rv, r->user.name, "user.add", name, detail, &err);
    }
    sodium_memzero(generated, sizeof generated);
    json_decref(b);
    if (rc)
        return http_error(r, rc == ES_EEXIST ? 409 : 400, "%s", err.msg);
    return http_json(r, 201, out);
}

static enum MHD_Result user_state(struct req *r, bool disable)
{
    struct es_err err = {{0}};
    if (disable && !strcmp(r->route.arg, r->user.name))
        return http_error(r, 409, "you cannot disable your own account");
    int rc = review_user_disable(r->w->rv, r->route.arg, disable, &err);
    if (rc)
        return http_error(r, rc == ES_ENOTFOUND ? 404 : 500, "%s", err.msg);
    review_audit(r->w->rv, r->user.name, disable ? "user.disable" : "user.enable", r->route.arg,
                 NULL, &err);
    return http_json(r, 200, json_pack("{s:s, s:b}", "name", r->route.arg, "disabled", disable));
}

/* The body is the YAML itself. */
static enum MHD_Result rubric_upload(struct req *r)
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
    rc = rubric_import(r->w->rs, (const uint8_t *)r->body.data, r->body.len, &version, &out, &err);
    json_t *o = rc ? NULL
                   : json_pack("{s:s, s:i, s:s}", "id", rb->id, "version", version, "outcome",
                               out == RUBRIC_UNCHANGED      ? "unchanged"
                               : out == RUBRIC_IMPORTED_NEW ? "new"
                                                            : "version");
    if (!rc && out != RUBRIC_UNCHANGED) {
        char detail[64];
        snprintf(detail, sizeof detail, "{\"version\":%d}", version);
        review_audit(r->w->rv, r->user.name, "rubric.import", rb->id, detail, &err);
    }
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

static enum MHD_Result token_add(struct req *r)
{
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    char token[REVIEW_TOKEN_HEX];
    struct es_err err = {{0}};
    const char *name = json_string_value(json_object_get(b, "name"));
    int rc = name ? review_token_create(r->w->rv, name, r->user.name, token, &err)
                  : es_seterr(&err, ES_EINVAL, "expected {\"name\"}");
    json_t *o = rc ? NULL : json_pack("{s:s, s:s}", "name", name, "token", token);
    if (!rc)
        review_audit(r->w->rv, r->user.name, "token.add", name, NULL, &err);
    sodium_memzero(token, sizeof token);
    json_decref(b);
    if (rc)
        return http_error(r, rc == ES_EEXIST ? 409 : 400, "%s", err.msg);
    return http_json(r, 201, o); /* the only time the token is shown */
}

enum MHD_Result api_admin(struct req *r)
{
    if (r->user.role != ROLE_ADMIN)
        return http_error(r, 403, "this is for admins");
    struct es_err err = {{0}};
    json_t *arr;
    switch (r->route.id) {
    case R_USERS:
        arr = json_array();
        review_user_list(r->w->rv, user_row, arr);
        return http_json(r, 200, json_pack("{s:o}", "users", arr));
    case R_USER_ADD:
        return user_add(r);
    case R_USER_DISABLE:
        return user_state(r, true);
    case R_USER_ENABLE:
        return user_state(r, false);
    case R_RUBRIC_IMPORT:
        return rubric_upload(r);
    case R_TOKENS:
        arr = json_array();
        review_token_list(r->w->rv, token_row, arr);
        return http_json(r, 200, json_pack("{s:o}", "tokens", arr));
    case R_TOKEN_ADD:
        return token_add(r);
    case R_TOKEN_REVOKE:
        if (review_token_revoke(r->w->rv, r->route.arg, &err))
            return http_error(r, 404, "%s", err.msg);
        review_audit(r->w->rv, r->user.name, "token.revoke", r->route.arg, NULL, &err);
        return http_json(r, 200, json_pack("{s:s, s:b}", "name", r->route.arg, "revoked", 1));
    default:
        return http_error(r, 404, "no such route");
    }
}
