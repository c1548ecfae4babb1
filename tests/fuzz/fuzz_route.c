/* Request lines and Range headers as a client sends them. Input: method, NUL,
 * path, NUL, Range header value. */
#include "review-server/review.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul1 = memchr(p, 0, size);
    if (!nul1)
        return 0;
    const char *path = nul1 + 1;
    size_t rest = size - (size_t)(path - p);
    const char *nul2 = memchr(path, 0, rest);
    size_t plen = nul2 ? (size_t)(nul2 - path) : rest;
    struct route r;
    if (route_match(p, path, plen, &r) == 0 && (!r.def || strcmp(route_method(r.def), p)))
        __builtin_trap();
    if (nul2) {
        const char *range = nul2 + 1;
        size_t rlen = rest - plen - 1;
        uint64_t a, b, sizes[] = {0, 1, 1000, UINT64_MAX / 2};
        for (size_t i = 0; i < 4; i++)
            if (http_range_parse(range, rlen, sizes[i], &a, &b) == 0 && (a > b || b >= sizes[i]))
                __builtin_trap(); /* a range must lie inside the file */
    }
    return 0;
}
