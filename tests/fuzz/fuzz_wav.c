/* The strict RIFF/WAVE header check: the first bytes of any input file. */
#include "archive/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wav_facts w;
    struct es_err err;
    /* claim both the exact size and a longer file, to reach both branches */
    wav_check(data, size, size, &w, &err);
    wav_check(data, size, (uint64_t)size * 3 + 100, &w, &err);
    return 0;
}
