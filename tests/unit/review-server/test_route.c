/* Routing and Range parsing: what matches, what is 404 or 405, and that no
 * crafted path reaches a route with something other than an id. */
#include "review-server/review.h"

#include <criterion/criterion.h>
#include <string.h>

#define ID "01a20497-b970-763e-a5f8-83b1b6fbc83c"

/* r matched the table's row for method and pattern */
static void is(const struct route *r, const char *method, const char *pattern)
{
    cr_assert_not_null(r->def);
    cr_assert_str_eq(route_method(r->def), method);
    cr_assert_str_eq(route_path(r->def), pattern);
}

static int m(const char *method, const char *path, struct route *r)
{
    return route_match(method, path, strlen(path), r);
}

Test(route, api_routes)
{
    struct route r;
    cr_assert_eq(m("POST", "/api/v1/session", &r), 0);
    is(&r, "POST", "/api/v1/session");
    cr_assert_eq(m("DELETE", "/api/v1/session", &r), 0);
    is(&r, "DELETE", "/api/v1/session");
    cr_assert_eq(m("GET", "/api/v1/calls", &r), 0);
    is(&r, "GET", "/api/v1/calls");
    cr_assert_eq(m("GET", "/api/v1/calls/" ID, &r), 0);
    is(&r, "GET", "/api/v1/calls/{id}");
    cr_assert_str_eq(r.arg, ID);
    cr_assert_eq(m("GET", "/api/v1/calls/" ID "/audio", &r), 0);
    is(&r, "GET", "/api/v1/calls/{id}/audio");
    cr_assert_eq(m("POST", "/api/v1/calls/" ID "/evaluations", &r), 0);
    is(&r, "POST", "/api/v1/calls/{id}/evaluations");
    cr_assert_eq(m("POST", "/api/v1/evaluations/" ID "/dispute", &r), 0);
    is(&r, "POST", "/api/v1/evaluations/{id}/dispute");
    cr_assert_eq(m("GET", "/api/v1/export.csv", &r), 0);
    is(&r, "GET", "/api/v1/export.csv");
    cr_assert_eq(m("GET", "/calls/" ID, &r), 0);
    is(&r, "GET", "/calls/{id}");
}

Test(route, not_found_and_wrong_method)
{
    struct route r;
    cr_assert_eq(m("GET", "/api/v1/nope", &r), ES_ENOTFOUND);
    cr_assert_eq(m("GET", "/api/v1/calls/", &r), ES_ENOTFOUND);
    cr_assert_eq(m("GET", "/api/v1/calls/" ID "/", &r), ES_ENOTFOUND);
    cr_assert_eq(m("GET", "/api/v1/callsx", &r), ES_ENOTFOUND);
    cr_assert_eq(m("PUT", "/api/v1/calls", &r), ES_EUNSUPP);
    cr_assert_eq(m("GET", "/api/v1/evaluations/" ID "/acknowledge", &r), ES_EUNSUPP);
    cr_assert_eq(m("POST", "/static/app.js", &r), ES_EUNSUPP);
}

Test(route, traversal_never_matches)
{
    struct route r;
    const char *bad[] = {
        "/api/v1/calls/../../etc/passwd",
        "/api/v1/calls/..%2f..%2fetc%2fpasswd",
        "/api/v1/calls/01a20497-b970-763e-a5f8-83b1b6fbc83/..",
        "/api/v1/calls/01a20497-b970-763e-a5f8-83b1b6fbc83c%00",
        "/api/v1/calls/01A20497-B970-763E-A5F8-83B1B6FBC83C/audio",
        "/api/v1/calls/' OR 1=1 --",
        "/static/../catalog.db",
        "/static/..",
        "/static/a/b.js",
        "/static/",
        "/static/.hidden",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(m("GET", bad[i], &r), ES_ENOTFOUND, "%s", bad[i]);
    /* a NUL inside the path is not the end of it */
    const char nul[] = "/api/v1/calls\0/x";
    cr_assert_eq(route_match("GET", nul, sizeof nul - 1, &r), ES_ENOTFOUND);
    cr_assert_eq(m("GET", "/static/app.js", &r), 0);
    is(&r, "GET", "/static/{file}");
    cr_assert_str_eq(r.arg, "app.js");
}

static int rg(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
    return http_range_parse(h, strlen(h), size, a, b);
}

Test(route, ranges)
{
    uint64_t a, b;
    cr_assert_eq(rg("bytes=0-99", 1000, &a, &b), 0);
    cr_assert(a == 0 && b == 99);
    cr_assert_eq(rg("bytes=900-", 1000, &a, &b), 0);
    cr_assert(a == 900 && b == 999);
    cr_assert_eq(rg("bytes=-100", 1000, &a, &b), 0);
    cr_assert(a == 900 && b == 999);
    cr_assert_eq(rg("bytes=-5000", 1000, &a, &b), 0);
    cr_assert(a == 0 && b == 999);
    cr_assert_eq(rg("bytes=10-5000", 1000, &a, &b), 0);
    cr_assert(a == 10 && b == 999, "an end past the file is clipped");
    cr_assert_eq(rg("bytes=1000-", 1000, &a, &b), ES_EINVAL, "starts after the end: 416");
    cr_assert_eq(rg("bytes=5-4", 1000, &a, &b), ES_EINVAL);
    cr_assert_eq(rg("bytes=-0", 1000, &a, &b), ES_EINVAL);
    cr_assert_eq(rg("bytes=x-1", 1000, &a, &b), ES_EINVAL);
    cr_assert_eq(rg("bytes=1-y", 1000, &a, &b), ES_EINVAL);
    cr_assert_eq(rg("bytes=", 1000, &a, &b), ES_EINVAL);
    cr_assert_eq(rg("items=0-1", 1000, &a, &b), ES_EINVAL);
    cr_assert_eq(rg("bytes=99999999999999999999-", 1000, &a, &b), ES_EINVAL);
    cr_assert_eq(rg("bytes=0-1,5-6", 1000, &a, &b), ES_ENOTFOUND);
    cr_assert_eq(rg("bytes=0-0", 0, &a, &b), ES_EINVAL, "nothing to send from an empty file");
}
