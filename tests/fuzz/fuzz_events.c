/* The JSON-lines event format from any PBX or CRM. */
#include "analytics/analytics.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pbx_json *j;
    if (pbx_json_new(&j))
        return 0;
    struct pbx_event ev;
    const char *why = NULL;
    int rc = pbx_parse_event(j, data, size, &ev, &why);
    if (rc && !why)
        __builtin_trap();
    if (!rc && (ev.kind == PBX_NONE || ev.at < 0 || ev.hold_s < 0 || ev.talk_s < 0))
        __builtin_trap();
    pbx_json_free(j);
    return 0;
}
