/* The master key file: a file on disk an admin edits or restores. */
#include "archive/sealed.h"

#include <sodium.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct archive_keyring *kr = NULL;
    struct es_err err;
    if (sodium_init() < 0) /* the keys live in sodium's guarded memory */
        __builtin_trap();
    if (archive_keyring_parse((const char *)data, size, &kr, &err) == 0) {
        char ids[16][ARCHIVE_KEY_ID_LEN];
        int n = archive_keyring_ids(kr, ids, 16);
        if (n < 1 || !archive_keyring_has(kr, ids[0]))
            __builtin_trap();
        archive_keyring_free(kr);
    }
    return 0;
}
