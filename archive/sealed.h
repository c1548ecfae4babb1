/* Private to archive/: the sealed file format and data keys (sealed.c). */
#ifndef EARSHOT_SEALED_H
#define EARSHOT_SEALED_H

#include "archive/archive.h"

#include <stdbool.h>
#include <stdint.h>

#define ARCHIVE_SEAL_HEADER 32
#define ARCHIVE_SEAL_TAG    16

void seal_header(uint8_t h[ARCHIVE_SEAL_HEADER]);
int seal_check_header(const uint8_t h[ARCHIVE_SEAL_HEADER]);
/* ct holds n + ARCHIVE_SEAL_TAG bytes */
void seal_chunk(const uint8_t key[32], const uint8_t h[ARCHIVE_SEAL_HEADER], uint64_t index,
                bool final, const uint8_t *pt, size_t n, uint8_t *ct);
int open_chunk(const uint8_t key[32], const uint8_t h[ARCHIVE_SEAL_HEADER], uint64_t index,
               bool final, const uint8_t *ct, size_t n, uint8_t *pt);
/* The plaintext size and chunk count of a sealed file of file_size bytes. */
int seal_plain_size(uint64_t file_size, uint64_t *plain, uint64_t *nchunks);
/* A data key wrapped by the keyring's current master key, bound to call_id. */
int archive_key_wrap(const struct archive_keyring *kr, const char *call_id, const uint8_t dk[32],
                     uint8_t out[ARCHIVE_WRAPPED_LEN], char id[ARCHIVE_KEY_ID_LEN]);
int archive_key_unwrap(const struct archive_keyring *kr, const char *key_id, const char *call_id,
                       const uint8_t *wrapped, size_t len, uint8_t dk[32], struct es_err *err);
int archive_keyring_parse(const char *text, size_t len, struct archive_keyring **out,
                          struct es_err *err);
/* The key file's text (sodium_free it); new_first: a fresh key above the others. */
int archive_keyring_text(const struct archive_keyring *kr, bool new_first, char **out,
                         struct es_err *err);

/* Writes a key file durably (mode 0600; exclusive: never over an existing file). */
int archive_key_file_write(const char *path, const char *text, bool exclusive, struct es_err *err);

#endif
