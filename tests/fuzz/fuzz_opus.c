/* Reading archived Ogg Opus files back (verify --repair): files on disk may
 * be damaged or planted. */
#include "archive/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct opus_probe o;
    struct es_err err;
    opus_probe(data, size, &o, &err);
    return 0;
}
