/* cdr_csv lines (Master.csv): quoting, short rows, odd times. */
#include "analytics/analytics.h"

#include <stdlib.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once++) {
        setenv("TZ", "UTC", 1);
        tzset();
    }
    struct pbx_event ev;
    const char *why = NULL;
    int rc = pbx_parse_cdr(data, size, &ev, &why);
    if (rc && !why)
        __builtin_trap();
    if (!rc && (ev.kind != PBX_CDR || !ev.call.len || ev.at <= 0 || ev.talk_s < 0))
        __builtin_trap();
    return 0;
}
