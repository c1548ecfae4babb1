/* The sealed format (encryption at rest): chunks open only in their place and
 * under their key, a file cut short or with a chunk moved fails, the sizes
 * follow from the file's length; key files parse strictly; a data key opens
 * only for its own call and master key. */
#include "archive/sealed.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#define FULL (ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG)

/* A sealed file of n plaintext bytes (a pattern) into out; its length. */
static size_t make(const uint8_t key[32], uint8_t h[ARCHIVE_SEAL_HEADER], size_t n, uint8_t *out)
{
    static uint8_t pt[3 * ARCHIVE_SEAL_CHUNK];
    for (size_t i = 0; i < n; i++)
        pt[i] = (uint8_t)(i * 7 + 3);
    seal_header(h);
    memcpy(out, h, ARCHIVE_SEAL_HEADER);
    size_t len = ARCHIVE_SEAL_HEADER, off = 0;
    for (uint64_t i = 0;; i++) {
        size_t k = n - off < ARCHIVE_SEAL_CHUNK ? n - off : ARCHIVE_SEAL_CHUNK;
        bool final = k < ARCHIVE_SEAL_CHUNK;
        seal_chunk(key, h, i, final, pt + off, k, out + len);
        len += k + ARCHIVE_SEAL_TAG;
        off += k;
        if (final)
            return len;
    }
}

static uint8_t file[4 * FULL + ARCHIVE_SEAL_HEADER];

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
}
TestSuite(sealed, .init = setup);

Test(sealed, sizes_follow_from_the_length)
{
    uint8_t key[32], h[ARCHIVE_SEAL_HEADER];
    randombytes_buf(key, sizeof key);
    size_t sizes[] = {0,
                      1,
                      ARCHIVE_SEAL_CHUNK - 1,
                      ARCHIVE_SEAL_CHUNK,
                      ARCHIVE_SEAL_CHUNK + 5,
                      2 * ARCHIVE_SEAL_CHUNK};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = make(key, h, sizes[i], file);
        uint64_t plain, chunks;
        cr_assert_eq(seal_plain_size(len, &plain, &chunks), 0, "size %zu", sizes[i]);
        cr_assert_eq(plain, sizes[i]);
        cr_assert_eq(chunks, sizes[i] / ARCHIVE_SEAL_CHUNK + 1);
        /* the last chunk gone: no final chunk can end on a full one */
        if (len > ARCHIVE_SEAL_HEADER + FULL)
            cr_assert_neq(
                seal_plain_size(len - (len - ARCHIVE_SEAL_HEADER) % FULL, &plain, &chunks), 0);
    }
    uint64_t p, c;
    cr_assert_neq(seal_plain_size(ARCHIVE_SEAL_HEADER + 3, &p, &c), 0);
}

Test(sealed, chunks_open_only_in_place)
{
    uint8_t key[32], other[32], h[ARCHIVE_SEAL_HEADER], pt[ARCHIVE_SEAL_CHUNK];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    size_t len = make(key, h, 2 * ARCHIVE_SEAL_CHUNK + 100, file);
    uint8_t *c0 = file + ARCHIVE_SEAL_HEADER, *c1 = c0 + FULL, *c2 = c1 + FULL;
    cr_assert_eq(len, ARCHIVE_SEAL_HEADER + 2 * FULL + 100 + ARCHIVE_SEAL_TAG);
    cr_assert_eq(open_chunk(key, h, 0, false, c0, FULL, pt), 0);
    cr_assert_eq(pt[5], (uint8_t)(5 * 7 + 3));
    cr_assert_eq(open_chunk(key, h, 2, true, c2, 100 + ARCHIVE_SEAL_TAG, pt), 0);
    cr_assert_neq(open_chunk(key, h, 1, false, c0, FULL, pt), 0, "moved");
    cr_assert_neq(open_chunk(other, h, 0, false, c0, FULL, pt), 0, "another key");
    /* cut after chunk 1: read as the last, it claims to be final and is not */
    cr_assert_neq(open_chunk(key, h, 1, true, c1, FULL, pt), 0, "cut short");
    uint8_t h2[ARCHIVE_SEAL_HEADER];
    memcpy(h2, h, sizeof h2);
    h2[20] ^= 1; /* another file's header (nonce) */
    cr_assert_neq(open_chunk(key, h2, 0, false, c0, FULL, pt), 0, "another file");
    c1[100] ^= 0x10;
    cr_assert_neq(open_chunk(key, h, 1, false, c1, FULL, pt), 0, "a flipped bit");
    cr_assert_eq(seal_check_header(h), 0);
    h2[0] = 'X';
    cr_assert_neq(seal_check_header(h2), 0);
}

Test(sealed, key_files_and_data_keys)
{
    struct archive_keyring *kr = NULL, *kr2 = NULL, *bad = NULL;
    struct es_err e = {{0}};
    struct archive_keyring *empty = NULL;
    cr_assert_neq(archive_keyring_parse("# nothing\n", 10, &empty, &e), 0);
    char *text;
    /* a keyring of one fresh key, then one more above it (a rotation) */
    cr_assert_eq(archive_keyring_parse("key 0000000000000000 00", 23, &bad, &e), ES_EFORMAT);
    static const char one[] = "key 0000000000000000 "
                              "0000000000000000000000000000000000000000000000000000000000000000\n";
    cr_assert_eq(archive_keyring_parse(one, strlen(one), &bad, &e), ES_ECORRUPT, "%s", e.msg);
    cr_assert(strstr(e.msg, "does not match its id"));
    struct archive_keyring *seed = NULL;
    /* make a real one through archive_keyring_text on a parsed file */
    es_mkdir_p(EARSHOT_TEST_TMP, 0700);
    char path[] = EARSHOT_TEST_TMP "/sealed-keys-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    unlink(path);
    cr_assert_eq(archive_keys_init(path, &e), 0, "%s", e.msg);
    cr_assert_eq(archive_keys_init(path, &e), ES_EEXIST);
    cr_assert_eq(archive_keyring_load(path, &seed, &e), 0, "%s", e.msg);
    cr_assert_eq(archive_keyring_text(seed, true, &text, &e), 0);
    cr_assert_eq(archive_keyring_parse(text, strlen(text), &kr2, &e), 0, "%s", e.msg);
    sodium_free(text);
    kr = seed;
    char ids[4][ARCHIVE_KEY_ID_LEN];
    cr_assert_eq(archive_keyring_ids(kr2, ids, 4), 2);
    cr_assert_str_eq(ids[1], archive_keyring_current_id(kr), "the old key stays below the new");
    uint8_t dk[32], back[32], w[ARCHIVE_WRAPPED_LEN];
    char id[ARCHIVE_KEY_ID_LEN];
    randombytes_buf(dk, sizeof dk);
    const char *call = "01900000-0000-7000-8000-000000000001";
    cr_assert_eq(archive_key_wrap(kr, call, dk, w, id), 0);
    cr_assert_str_eq(id, archive_keyring_current_id(kr));
    cr_assert_eq(archive_key_unwrap(kr2, id, call, w, sizeof w, back, &e), 0, "%s", e.msg);
    cr_assert_eq(memcmp(dk, back, 32), 0, "a retired key still unwraps");
    cr_assert_neq(
        archive_key_unwrap(kr, id, "01900000-0000-7000-8000-000000000002", w, sizeof w, back, &e),
        0, "another call's row");
    cr_assert_eq(archive_key_unwrap(NULL, id, call, w, sizeof w, back, &e), ES_ESTATE);
    cr_assert_eq(archive_key_unwrap(kr, "ffffffffffffffff", call, w, sizeof w, back, &e),
                 ES_ESTATE);
    w[40] ^= 1;
    cr_assert_eq(archive_key_unwrap(kr, id, call, w, sizeof w, back, &e), ES_ECORRUPT);
    unlink(path);
    archive_keyring_free(kr);
    archive_keyring_free(kr2);
}
