/* The route table: every route the server answers, once. Each row gives the
 * method and path pattern, the handler, how the caller proves who they are,
 * the roles the route is for (dispatch answers 403 to the others, or sends a
 * page's visitor home) and whether a successful answer writes an audit row.
 * Handlers check only what depends on the data: whose call or evaluation it is.
 * docs/api.md's "Route table" is checked against this one (test_route.c).
 *
 * Ids in paths must be call or evaluation ids, so "..", encoded slashes and
 * anything else that is not an id simply does not match a route. */
#include "review-server/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL  (WHO(ROLE_ADMIN) | WHO(ROLE_SUPERVISOR) | WHO(ROLE_OPERATOR) | WHO(ROLE_COMPLIANCE))
#define ADM  WHO(ROLE_ADMIN)
#define SUP  (WHO(ROLE_SUPERVISOR) | WHO(ROLE_ADMIN))
#define READ (WHO(ROLE_SUPERVISOR) | WHO(ROLE_COMPLIANCE) | WHO(ROLE_ADMIN)) /* not operators */
#define COMP (WHO(ROLE_COMPLIANCE) | WHO(ROLE_ADMIN))
#define OPS  (WHO(ROLE_OPERATOR) | WHO(ROLE_SUPERVISOR) | WHO(ROLE_ADMIN)) /* not compliance */
#define OP   WHO(ROLE_OPERATOR)

#define API(m, p, h, who, aud)                                                                     \
    {                                                                                              \
        m, "/api/v1" p, h, AUTH_SESSION, who, aud, NULL                                            \
    }
#define TOKEN(m, p, h, aud)                                                                        \
    {                                                                                              \
        m, p, h, AUTH_TOKEN, 0, aud, NULL                                                          \
    }
#define PAGE(p, who, file)                                                                         \
    {                                                                                              \
        "GET", p, page_send, AUTH_SESSION, who, AUDIT_NO, file                                     \
    }

static const struct route_def table[] = {
    {"POST", "/api/v1/session", api_login, AUTH_NONE, 0, AUDIT_EACH, NULL},
    API("DELETE", "/session", api_logout, ALL, AUDIT_EACH),
    API("GET", "/session", api_session_get, ALL, AUDIT_NO),
    API("POST", "/session/password", api_session_password, ALL, AUDIT_EACH),
    API("GET", "/calls", api_calls, ALL, AUDIT_NO),
    API("GET", "/calls/{id}", api_call, ALL, AUDIT_NO),
    API("GET", "/calls/{id}/audio", api_call_audio, ALL, AUDIT_LISTENING),
    API("HEAD", "/calls/{id}/audio", api_call_audio, ALL, AUDIT_LISTENING),
    API("GET", "/calls/{id}/peaks", api_call_peaks, ALL, AUDIT_NO),
    API("POST", "/calls/{id}/redact", api_call_redact, READ, AUDIT_EACH),
    API("GET", "/calls/{id}/evaluations", api_call_evals, ALL, AUDIT_NO),
    API("POST", "/calls/{id}/evaluations", api_eval_create, SUP, AUDIT_EACH),
    API("GET", "/evaluations", api_evals, ALL, AUDIT_NO),
    API("GET", "/evaluations/{id}", api_eval_get, ALL, AUDIT_NO),
    API("POST", "/evaluations/{id}/acknowledge", api_eval_ack, OP, AUDIT_EACH),
    API("POST", "/evaluations/{id}/dispute", api_eval_dispute, OP, AUDIT_EACH),
    API("POST", "/evaluations/{id}/resolve", api_eval_resolve, SUP, AUDIT_EACH),
    API("POST", "/evaluations/{id}/submit", api_eval_submit, SUP, AUDIT_EACH),
    API("PUT", "/evaluations/{id}", api_eval_edit, SUP, AUDIT_EACH),
    API("POST", "/evaluations/{id}/comments", api_eval_comment, SUP, AUDIT_EACH),
    API("GET", "/rubrics", api_rubrics, ALL, AUDIT_NO),
    API("POST", "/score", api_score_preview, ALL, AUDIT_NO),
    API("GET", "/queue", api_queue, SUP, AUDIT_NO),
    API("GET", "/reports/errors", api_report_errors, ALL, AUDIT_NO),
    API("GET", "/reports/scores", api_report_scores, ALL, AUDIT_NO),
    API("GET", "/export.csv", api_export_csv, READ, AUDIT_EACH),
    API("GET", "/export.xlsx", api_export_xlsx, READ, AUDIT_EACH),
    API("GET", "/audit", api_audit, COMP, AUDIT_NO),
    {"POST", "/api/v1/recordings", api_recordings, AUTH_TOKEN, 0, AUDIT_EACH, NULL},
    API("GET", "/users", api_users, ADM, AUDIT_NO),
    API("POST", "/users", api_user_add, ADM, AUDIT_EACH),
    API("POST", "/users/{name}/disable", api_user_disable, ADM, AUDIT_EACH),
    API("POST", "/users/{name}/enable", api_user_enable, ADM, AUDIT_EACH),
    API("POST", "/users/{name}/password", api_user_password, ADM, AUDIT_EACH),
    API("POST", "/rubrics", api_rubric_import, ADM, AUDIT_EACH),
    API("GET", "/tokens", api_tokens, ADM, AUDIT_NO),
    API("POST", "/tokens", api_token_add, ADM, AUDIT_EACH),
    API("DELETE", "/tokens/{name}", api_token_revoke, ADM, AUDIT_EACH),
    API("GET", "/analytics/calls", api_an_calls, READ, AUDIT_NO),
    API("GET", "/analytics/presence", api_an_presence, ALL, AUDIT_NO),
    API("GET", "/analytics/timeline", api_an_timeline, ALL, AUDIT_NO),
    API("GET", "/analytics/staffing", api_an_staffing, READ, AUDIT_NO),
    API("GET", "/analytics/erlang", api_an_erlang, READ, AUDIT_NO),
    API("GET", "/missed", api_missed_list, ALL, AUDIT_NO),
    API("POST", "/missed/{n}/claim", api_missed_claim, OPS, AUDIT_EACH),
    API("POST", "/missed/{n}/close", api_missed_close, OPS, AUDIT_EACH),
    API("GET", "/missed/report", api_missed_report, READ, AUDIT_NO),
    API("GET", "/notifications", api_notifications, ADM, AUDIT_NO),
    API("POST", "/notifications/{n}/retry", api_notification_retry, ADM, AUDIT_EACH),
    TOKEN("GET", "/metrics", api_metrics, AUDIT_NO),
    API("GET", "/subject", api_subject_find, COMP, AUDIT_EACH),
    API("GET", "/subject/export", api_subject_export, COMP, AUDIT_EACH),
    API("POST", "/subject/erase", api_subject_erase, COMP, AUDIT_EACH),
    TOKEN("POST", "/api/v1/recording-control", api_recording_control, AUDIT_EACH),
    API("GET", "/operators/{name}/progress", api_op_progress, OPS, AUDIT_NO),
    API("POST", "/operators/{name}/goals", api_op_goal_add, SUP, AUDIT_EACH),
    API("GET", "/calibrations", api_cal_list, SUP, AUDIT_NO),
    API("POST", "/calibrations", api_cal_create, SUP, AUDIT_EACH),
    API("GET", "/calibrations/report", api_cal_report, SUP, AUDIT_NO),
    API("GET", "/calibrations/{id}", api_cal_get, SUP, AUDIT_NO),
    API("POST", "/calibrations/{id}/answers", api_cal_answers, SUP, AUDIT_EACH),
    API("POST", "/calibrations/{id}/reference", api_cal_reference, SUP, AUDIT_EACH),
    {"GET", "/", page_root, AUTH_OPTIONAL, 0, AUDIT_NO, NULL},
    {"GET", "/login", page_login, AUTH_OPTIONAL, 0, AUDIT_NO, NULL},
    {"GET", "/static/{file}", page_asset, AUTH_OPTIONAL, 0, AUDIT_NO, NULL},
    {"HEAD", "/static/{file}", page_asset, AUTH_OPTIONAL, 0, AUDIT_NO, NULL},
    PAGE("/calls", ALL, "calls.html"),
    PAGE("/calls/{id}", ALL, "call.html"),
    PAGE("/feedback", ALL, "feedback.html"),
    PAGE("/errors", ALL, "errors.html"),
    PAGE("/queue", ALL, "queue.html"),
    PAGE("/analytics", ALL, "analytics.html"),
    PAGE("/presence", ALL, "presence.html"),
    PAGE("/staffing", ALL, "staffing.html"),
    PAGE("/admin", COMP, "admin.html"),
    PAGE("/missed", ALL, "missed.html"),
    PAGE("/compliance", COMP, "compliance.html"),
    PAGE("/progress", OPS, "progress.html"),
    PAGE("/calibration", SUP, "calibration.html"),
};

_Static_assert(ES_ARRAY_LEN(table) <= ROUTE_MAX, "ROUTE_MAX is too small for the route table");

size_t route_count(void)
{
    return ES_ARRAY_LEN(table);
}

const struct route_def *route_at(size_t i)
{
    return i < ES_ARRAY_LEN(table) ? &table[i] : NULL;
}

size_t route_index(const struct route_def *d)
{
    return (size_t)(d - table);
}

const char *route_method(const struct route_def *d)
{
    return d->method;
}

const char *route_path(const struct route_def *d)
{
    return d->path;
}

void route_who(const struct route_def *d, char *out, size_t size)
{
    if (d->auth == AUTH_TOKEN) {
        snprintf(out, size, "an API token");
        return;
    }
    if (d->auth != AUTH_SESSION) {
        snprintf(out, size, "anyone");
        return;
    }
    if (d->roles == ALL) {
        snprintf(out, size, "every user");
        return;
    }
    static const struct {
        enum review_role role;
        const char *plural;
    } order[] = {{ROLE_OPERATOR, "operators"},
                 {ROLE_SUPERVISOR, "supervisors"},
                 {ROLE_COMPLIANCE, "compliance staff"},
                 {ROLE_ADMIN, "admins"}};
    size_t n = 0, total = 0, len = 0;
    for (size_t i = 0; i < ES_ARRAY_LEN(order); i++)
        total += (d->roles & WHO(order[i].role)) != 0;
    out[0] = 0;
    for (size_t i = 0; i < ES_ARRAY_LEN(order) && len < size; i++) {
        if (!(d->roles & WHO(order[i].role)))
            continue;
        n++;
        const char *sep = n == 1 ? "" : n == total ? " and " : ", ";
        int w = snprintf(out + len, size - len, "%s%s", sep, order[i].plural);
        len += w > 0 ? (size_t)w : 0;
    }
}

const char *route_audited(const struct route_def *d)
{
    return d->audited == AUDIT_EACH        ? "yes"
           : d->audited == AUDIT_LISTENING ? "each listening"
                                           : "no";
}

/* A static asset's name: [a-z0-9-.], no leading dot, no "..". */
static bool asset_name(const char *p, size_t n)
{
    if (n == 0 || n >= REVIEW_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                  (c == '.' && i > 0 && p[i - 1] != '.');
        if (!ok)
            return false;
    }
    return true;
}

/* Does one pattern match path? On a match with an {id}, {n}, {name} or {file},
 * its text goes to arg. */
static bool match(const char *pat, const char *path, size_t len, char *arg /* REVIEW_NAME_LEN */)
{
    size_t i = 0;
    while (*pat) {
        if (!strncmp(pat, "{file}", 6)) { /* the rest of the path: one file name */
            size_t n = len - i;
            if (!asset_name(path + i, n))
                return false;
            memcpy(arg, path + i, n);
            arg[n] = 0;
            return true;
        }
        if (!strncmp(pat, "{name}", 6)) { /* a user or token name */
            size_t n = 0;
            while (i + n < len && path[i + n] != '/')
                n++;
            if (n == 0 || n >= REVIEW_NAME_LEN)
                return false;
            memcpy(arg, path + i, n);
            arg[n] = 0;
            if (!review_name_valid(arg) || !strcmp(arg, ".") || !strcmp(arg, ".."))
                return false;
            i += n;
            pat += 6;
            continue;
        }
        if (!strncmp(pat, "{n}", 3)) { /* a row number: 1 to 18 digits, no leading 0 */
            size_t n = 0;
            while (i + n < len && path[i + n] >= '0' && path[i + n] <= '9')
                n++;
            if (n == 0 || n > 18 || path[i] == '0')
                return false;
            memcpy(arg, path + i, n);
            arg[n] = 0;
            i += n;
            pat += 3;
            continue;
        }
        if (!strncmp(pat, "{id}", 4)) {
            size_t n = 0;
            while (i + n < len && path[i + n] != '/')
                n++;
            if (n != ES_ID_LEN - 1)
                return false;
            memcpy(arg, path + i, n);
            arg[n] = 0;
            if (!es_id_valid(arg))
                return false;
            i += n;
            pat += 4;
            continue;
        }
        if (i >= len || path[i] != *pat)
            return false;
        i++;
        pat++;
    }
    return i == len;
}

int route_match(const char *method, const char *path, size_t len, struct route *r)
{
    memset(r, 0, sizeof *r);
    bool path_known = false;
    for (size_t k = 0; k < ES_ARRAY_LEN(table); k++) {
        char arg[REVIEW_NAME_LEN];
        if (!match(table[k].path, path, len, arg))
            continue;
        path_known = true;
        if (strcmp(method, table[k].method))
            continue;
        r->def = &table[k];
        memcpy(r->arg, arg, sizeof arg);
        return 0;
    }
    return path_known ? ES_EUNSUPP : ES_ENOTFOUND;
}

/* ---- Range: bytes=a-b | bytes=a- | bytes=-n (one range; several are served whole) */

static bool digits(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

int http_range_parse(const char *h, size_t len, uint64_t size, uint64_t *start, uint64_t *end)
{
    if (len < 6 || memcmp(h, "bytes=", 6))
        return ES_EINVAL;
    const char *p = h + 6;
    size_t n = len - 6;
    if (memchr(p, ',', n))
        return ES_ENOTFOUND; /* several ranges: answer with the whole file */
    const char *dash = memchr(p, '-', n);
    if (!dash)
        return ES_EINVAL;
    size_t a = (size_t)(dash - p), b = n - a - 1;
    uint64_t x, y;
    if (a == 0) { /* the last y bytes */
        if (!digits(dash + 1, b, &y) || y == 0 || size == 0)
            return ES_EINVAL;
        *start = y >= size ? 0 : size - y;
        *end = size - 1;
        return 0;
    }
    if (!digits(p, a, &x) || x >= size)
        return ES_EINVAL;
    if (b == 0) {
        y = size - 1;
    } else if (!digits(dash + 1, b, &y) || y < x) {
        return ES_EINVAL;
    }
    *start = x;
    *end = y >= size ? size - 1 : y;
    return 0;
}
