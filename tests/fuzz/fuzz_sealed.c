/* Sealed recordings (encryption at rest): bytes on disk anyone with access to
 * the archive could change. The input is read as a sealed file under a fixed
 * key (sizes, header, every chunk); then sealed as plaintext and opened again,
 * which must give it back, and fail once any byte is flipped. */
#include "archive/sealed.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1, 2, 3};
    static uint8_t pt[ARCHIVE_SEAL_CHUNK];
    uint64_t plain, chunks;
    if (size >= ARCHIVE_SEAL_HEADER && !seal_check_header(data) &&
        !seal_plain_size(size, &plain, &chunks)) {
        const uint64_t full = ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG;
        for (uint64_t i = 0; i < chunks; i++) {
            uint64_t at = ARCHIVE_SEAL_HEADER + i * full;
            size_t len = i == chunks - 1 ? (size_t)(size - at) : (size_t)full;
            if (at + len > size || len > full)
                __builtin_trap();
            open_chunk(key, data, i, i == chunks - 1, data + at, len, pt);
        }
    }
    /* round trip: the input as the plaintext of one file */
    size_t n = size > 3 * ARCHIVE_SEAL_CHUNK ? 3 * ARCHIVE_SEAL_CHUNK : size;
    size_t nchunks = n / ARCHIVE_SEAL_CHUNK + 1;
    uint8_t h[ARCHIVE_SEAL_HEADER];
    uint8_t *f = malloc(ARCHIVE_SEAL_HEADER + n + nchunks * ARCHIVE_SEAL_TAG);
    if (!f)
        return 0;
    seal_header(h);
    memcpy(f, h, sizeof h);
    size_t len = sizeof h;
    for (size_t i = 0; i < nchunks; i++) {
        size_t k = i == nchunks - 1 ? n - i * ARCHIVE_SEAL_CHUNK : ARCHIVE_SEAL_CHUNK;
        seal_chunk(key, h, i, i == nchunks - 1, data + i * ARCHIVE_SEAL_CHUNK, k, f + len);
        len += k + ARCHIVE_SEAL_TAG;
    }
    if (seal_plain_size(len, &plain, &chunks) || plain != n || chunks != nchunks)
        __builtin_trap();
    size_t flip = size ? data[0] % len : 0;
    for (int pass = 0; pass < 2; pass++) {
        bool ok = true;
        for (size_t i = 0, at = sizeof h; i < nchunks; i++) {
            size_t k = i == nchunks - 1 ? n - i * ARCHIVE_SEAL_CHUNK : ARCHIVE_SEAL_CHUNK;
            if (open_chunk(key, f, i, i == nchunks - 1, f + at, k + ARCHIVE_SEAL_TAG, pt) ||
                memcmp(pt, data + i * ARCHIVE_SEAL_CHUNK, k))
                ok = false;
            at += k + ARCHIVE_SEAL_TAG;
        }
        if (ok != (pass == 0)) /* intact: opens; one bit flipped: does not */
            __builtin_trap();
        f[flip] ^= 0x20;
    }
    free(f);
    return 0;
}
