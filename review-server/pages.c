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

const char *http_home(const struct req *r)
{
    return r->user.role == ROLE_OPERATOR ? "/feedback" : "/calls";
}

enum MHD_Result page_root(struct req *r)
{
    return http_redirect(r, r->authed ? http_home(r) : "/login");
}

enum MHD_Result page_login(struct req *r)
{
    return r->authed ? http_redirect(r, http_home(r)) : send_asset(r, "login.html");
}

enum MHD_Result page_asset(struct req *r)
{
    return send_asset(r, r->route.arg);
}

enum MHD_Result page_send(struct req *r)
{
    return send_asset(r, r->route.def->page);
}
