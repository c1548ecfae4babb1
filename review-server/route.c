/* Request line → route, and the Range header: the parsers of outside bytes
 * the HTTP layer owns (query strings, cookies and the URL escape are libmicrohttpd's).
 * Ids in paths must be call or evaluation ids, so "..", encoded slashes and
 * anything else that is not an id simply does not match a route. */
#include "review-server/review_int.h"

#include <stdlib.h>
#include <string.h>

struct pattern {
    const char *method;
    const char *path; /* "{id}" matches one id segment */
    enum route_id id;
};

static const struct pattern patterns[] = {
    {"POST", "/api/v1/session", R_SESSION_CREATE},
    {"DELETE", "/api/v1/session", R_SESSION_DELETE},
    {"GET", "/api/v1/session", R_SESSION_GET},
    {"POST", "/api/v1/session/password", R_SESSION_PASSWORD},
    {"GET", "/api/v1/calls", R_CALLS},
    {"GET", "/api/v1/calls/{id}", R_CALL},
    {"GET", "/api/v1/calls/{id}/audio", R_CALL_AUDIO},
    {"HEAD", "/api/v1/calls/{id}/audio", R_CALL_AUDIO},
    {"GET", "/api/v1/calls/{id}/peaks", R_CALL_PEAKS},
    {"POST", "/api/v1/calls/{id}/redact", R_CALL_REDACT},
    {"GET", "/api/v1/calls/{id}/evaluations", R_CALL_EVALS},
    {"POST", "/api/v1/calls/{id}/evaluations", R_EVAL_CREATE},
    {"GET", "/api/v1/evaluations", R_EVALS},
    {"GET", "/api/v1/evaluations/{id}", R_EVAL},
    {"POST", "/api/v1/evaluations/{id}/acknowledge", R_EVAL_ACK},
    {"POST", "/api/v1/evaluations/{id}/dispute", R_EVAL_DISPUTE},
    {"POST", "/api/v1/evaluations/{id}/resolve", R_EVAL_RESOLVE},
    {"POST", "/api/v1/evaluations/{id}/submit", R_EVAL_SUBMIT},
    {"PUT", "/api/v1/evaluations/{id}", R_EVAL_EDIT},
    {"POST", "/api/v1/evaluations/{id}/comments", R_EVAL_COMMENT},
    {"GET", "/api/v1/rubrics", R_RUBRICS},
    {"POST", "/api/v1/score", R_SCORE_PREVIEW},
    {"GET", "/api/v1/queue", R_QUEUE},
    {"GET", "/api/v1/reports/errors", R_REPORT_ERRORS},
    {"GET", "/api/v1/reports/scores", R_REPORT_SCORES},
    {"GET", "/api/v1/export.csv", R_EXPORT_CSV},
    {"GET", "/api/v1/export.xlsx", R_EXPORT_XLSX},
    {"GET", "/api/v1/audit", R_AUDIT},
    {"POST", "/api/v1/recordings", R_RECORDINGS},
    {"GET", "/api/v1/users", R_USERS},
    {"POST", "/api/v1/users", R_USER_ADD},
    {"POST", "/api/v1/users/{name}/disable", R_USER_DISABLE},
    {"POST", "/api/v1/users/{name}/enable", R_USER_ENABLE},
    {"POST", "/api/v1/users/{name}/password", R_USER_PASSWORD},
    {"POST", "/api/v1/rubrics", R_RUBRIC_IMPORT},
    {"GET", "/api/v1/tokens", R_TOKENS},
    {"POST", "/api/v1/tokens", R_TOKEN_ADD},
    {"DELETE", "/api/v1/tokens/{name}", R_TOKEN_REVOKE},
    {"GET", "/api/v1/analytics/calls", R_AN_CALLS},
    {"GET", "/api/v1/analytics/presence", R_AN_PRESENCE},
    {"GET", "/api/v1/analytics/timeline", R_AN_TIMELINE},
    {"GET", "/api/v1/analytics/staffing", R_AN_STAFFING},
    {"GET", "/api/v1/analytics/erlang", R_AN_ERLANG},
    {"GET", "/api/v1/missed", R_MISSED},
    {"POST", "/api/v1/missed/{n}/claim", R_MISSED_CLAIM},
    {"POST", "/api/v1/missed/{n}/close", R_MISSED_CLOSE},
    {"GET", "/api/v1/missed/report", R_MISSED_REPORT},
    {"GET", "/api/v1/notifications", R_NOTIFICATIONS},
    {"POST", "/api/v1/notifications/{n}/retry", R_NOTIFICATION_RETRY},
    {"GET", "/metrics", R_METRICS},
    {"GET", "/api/v1/subject", R_SUBJECT},
    {"GET", "/api/v1/subject/export", R_SUBJECT_EXPORT},
    {"POST", "/api/v1/subject/erase", R_SUBJECT_ERASE},
    {"POST", "/api/v1/recording-control", R_RECORDING_CONTROL},
    {"GET", "/api/v1/operators/{name}/progress", R_OP_PROGRESS},
    {"POST", "/api/v1/operators/{name}/goals", R_OP_GOAL_ADD},
    {"GET", "/api/v1/calibrations", R_CAL_LIST},
    {"POST", "/api/v1/calibrations", R_CAL_CREATE},
    {"GET", "/api/v1/calibrations/report", R_CAL_REPORT},
    {"GET", "/api/v1/calibrations/{id}", R_CAL},
    {"POST", "/api/v1/calibrations/{id}/answers", R_CAL_ANSWERS},
    {"POST", "/api/v1/calibrations/{id}/reference", R_CAL_REFERENCE},
    {"GET", "/", R_PAGE_ROOT},
    {"GET", "/login", R_PAGE_LOGIN},
    {"GET", "/calls", R_PAGE_CALLS},
    {"GET", "/calls/{id}", R_PAGE_CALL},
    {"GET", "/feedback", R_PAGE_FEEDBACK},
    {"GET", "/errors", R_PAGE_ERRORS},
    {"GET", "/queue", R_PAGE_QUEUE},
    {"GET", "/analytics", R_PAGE_ANALYTICS},
    {"GET", "/presence", R_PAGE_PRESENCE},
    {"GET", "/staffing", R_PAGE_STAFFING},
    {"GET", "/admin", R_PAGE_ADMIN},
    {"GET", "/missed", R_PAGE_MISSED},
    {"GET", "/compliance", R_PAGE_COMPLIANCE},
    {"GET", "/progress", R_PAGE_PROGRESS},
    {"GET", "/calibration", R_PAGE_CALIBRATION},
};

/* Does one pattern match path? On a match with an {id}, the id goes to arg. */
static bool match(const char *pat, const char *path, size_t len, char *arg /* REVIEW_NAME_LEN */)
{
    size_t i = 0;
    while (*pat) {
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

const char *route_pattern(enum route_id id)
{
    if (id == R_ASSET)
        return "/static/{file}";
    for (size_t i = 0; i < ES_ARRAY_LEN(patterns); i++)
        if (patterns[i].id == id)
            return patterns[i].path;
    return "?";
}

int route_match(const char *method, const char *path, size_t len, struct route *r)
{
    memset(r, 0, sizeof *r);
    bool path_known = false;
    /* static assets: /static/<name> with a plain file name */
    if (len > 8 && !memcmp(path, "/static/", 8)) {
        size_t n = len - 8;
        if (n >= sizeof r->arg)
            return ES_ENOTFOUND;
        for (size_t i = 0; i < n; i++) {
            char c = path[8 + i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      (c == '.' && i > 0 && path[8 + i - 1] != '.');
            if (!ok)
                return ES_ENOTFOUND;
        }
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
            return ES_EUNSUPP;
        memcpy(r->arg, path + 8, n);
        r->arg[n] = 0;
        r->id = R_ASSET;
        return 0;
    }
    for (size_t k = 0; k < ES_ARRAY_LEN(patterns); k++) {
        char arg[REVIEW_NAME_LEN];
        if (!match(patterns[k].path, path, len, arg))
            continue;
        path_known = true;
        if (strcmp(method, patterns[k].method))
            continue;
        r->id = patterns[k].id;
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
