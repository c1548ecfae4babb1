/* JSON sidecar metadata: outside bytes from the PBX or an API client. */
#include "archive/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct call_meta m;
    struct es_err err;
    char src[1024];
    if (meta_parse_sidecar(data, size, &m, &err) == 0)
        meta_sources_json(&m, src, sizeof src);
    return 0;
}
