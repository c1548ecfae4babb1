/* The pages and their static files, embedded at build time (web/ →
 * web_assets.c). Pages are HTML shells: what they show comes from the JSON API
 * and is put in place with textContent, so nothing from a call or a comment is
 * ever parsed as HTML. */
#include "review-server/http_int.h"

#include <string.h>

struct web_asset {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct web_asset web_assets[];

static const struct web_asset *find(const char *name)
{
    for (const struct web_asset *a = web_assets; a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < ES_ARRAY_LEN(types); i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

static enum MHD_Result send_asset(struct req *r, const char *name)
{
    const struct web_asset *a = find(name);
    if (!a)
        return http_error(r, 404, "no such file");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", content_type(name));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    http_common_headers(resp, false);
    return http_queue(r, 200, resp);
}

enum MHD_Result pages(struct req *r)
{
    const char *home = r->user.role == ROLE_OPERATOR ? "/feedback" : "/calls";
    switch (r->route.id) {
    case R_ASSET:
        return send_asset(r, r->route.arg);
    case R_PAGE_ROOT:
        return http_redirect(r, r->authed ? home : "/login");
    case R_PAGE_LOGIN:
        return r->authed ? http_redirect(r, home) : send_asset(r, "login.html");
    case R_PAGE_CALLS:
        return send_asset(r, "calls.html");
    case R_PAGE_CALL:
        return send_asset(r, "call.html");
    case R_PAGE_FEEDBACK:
        return send_asset(r, "feedback.html");
    case R_PAGE_ERRORS:
        return send_asset(r, "errors.html");
    case R_PAGE_QUEUE:
        return send_asset(r, "queue.html");
    case R_PAGE_ANALYTICS:
        return send_asset(r, "analytics.html");
    case R_PAGE_PRESENCE:
        return send_asset(r, "presence.html");
    case R_PAGE_STAFFING:
        return send_asset(r, "staffing.html");
    case R_PAGE_MISSED:
        return send_asset(r, "missed.html");
    case R_PAGE_COMPLIANCE:
        if (r->user.role != ROLE_ADMIN && r->user.role != ROLE_COMPLIANCE)
            return http_redirect(r, home);
        return send_asset(r, "compliance.html");
    case R_PAGE_PROGRESS:
        if (r->user.role == ROLE_COMPLIANCE)
            return http_redirect(r, home);
        return send_asset(r, "progress.html");
    case R_PAGE_CALIBRATION:
        if (r->user.role != ROLE_SUPERVISOR && r->user.role != ROLE_ADMIN)
            return http_redirect(r, home);
        return send_asset(r, "calibration.html");
    case R_PAGE_ADMIN:
        if (r->user.role != ROLE_ADMIN && r->user.role != ROLE_COMPLIANCE)
            return http_redirect(r, home);
        return send_asset(r, "admin.html");
    default:
        return http_error(r, 404, "no such page");
    }
}
