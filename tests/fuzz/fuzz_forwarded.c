/* X-Forwarded-For values and trusted_proxies lists. Input: the list, a NUL,
 * the header value. The client found must be an address, and not a proxy. */
#include "review-server/http_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, 0, size);
    if (!nul || (size_t)(nul - (const char *)data) > 512)
        return 0;
    struct proxies px;
    struct es_err err;
    if (proxies_parse((const char *)data, &px, &err))
        proxies_parse("127.0.0.1, 10.0.0.0/8, ::1", &px, &err);
    const char *xff = nul + 1;
    size_t len = size - (size_t)(xff - (const char *)data);
    char ip[64] = "127.0.0.1";
    if (proxies_client(&px, xff, len, ip, sizeof ip)) {
        uint8_t a[16];
        if (inet_pton(AF_INET, ip, a) != 1 && inet_pton(AF_INET6, ip, a) != 1)
            __builtin_trap(); /* whatever was picked is an address */
        char again[64] = "";
        struct proxies one;
        if (!proxies_parse(ip, &one, &err) &&
            proxies_client(&px, ip, strlen(ip), again, sizeof again) == false)
            __builtin_trap(); /* and not one of the trusted proxies */
    }
    return 0;
}
