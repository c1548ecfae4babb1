/* Phone numbers in one form (E.164), so that the same customer is the same
 * customer in a PBX log, a file name, a sidecar and the directory. */
#include "archive/archive.h"

#include <stdio.h>
#include <string.h>

int archive_e164(const char *in, const char *country_code, char *out, size_t outlen)
{
    char digits[40];
    size_t n = 0;
    bool plus = false;
    for (const char *p = in; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n + 1 >= sizeof digits)
                return ES_EINVAL;
            digits[n++] = *p;
        } else if (*p == '+' && n == 0 && !plus) {
            plus = true;
        } else if (!strchr(" -./()\t", *p)) {
            return ES_EINVAL;
        }
    }
    digits[n] = '\0';
    if (n == 0)
        return ES_EINVAL;
    int w;
    if (plus)
        w = snprintf(out, outlen, "+%s", digits);
    else if (n > 2 && digits[0] == '0' && digits[1] == '0')
        w = snprintf(out, outlen, "+%s", digits + 2);
    else if (n >= 7 && digits[0] == '0' && country_code && country_code[0])
        w = snprintf(out, outlen, "+%s%s", country_code, digits + 1);
    else
        w = snprintf(out, outlen, "%s", digits); /* an extension, or no country known */
    return w < 0 || (size_t)w >= outlen ? ES_ETOOBIG : 0;
}
