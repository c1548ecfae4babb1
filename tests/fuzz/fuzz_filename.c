/* PBX file names and time strings: any bytes a directory entry may hold. */
#include "archive/archive.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *name = malloc(size + 1);
    if (!name)
        return 0;
    memcpy(name, data, size);
    name[size] = '\0';
    struct call_meta m;
    meta_parse_freepbx_name(name, &m);
    int64_t t;
    es_time_parse((const char *)data, size, &t);
    free(name);
    return 0;
}
