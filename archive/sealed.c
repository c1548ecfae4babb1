/* Encryption at rest: master keys, data keys, and the sealed file format.
 *
 * Master key file (earshot keys init): text, mode 0600, one key per line
 * "key <id> <64 hex digits>", the first current, those below retired (still
 * unwrapping the data keys of older catalog backups). A key's id is the first
 * eight bytes of its BLAKE2b hash, in hex: a wrong file is told by its ids.
 *
 * Data key: 32 random bytes per recording, wrapped with the current master key
 * (XChaCha20-Poly1305, random nonce, the call id as associated data) and kept
 * in the catalog's audio_keys table; deleting the row shreds the recording.
 *
 * Sealed file: a 32-byte header ("ESAUDIO1", the chunk size, 4 bytes reserved,
 * a random 16-byte nonce prefix), then the plaintext in chunks of
 * ARCHIVE_SEAL_CHUNK bytes (the last one shorter, possibly empty), each sealed
 * with XChaCha20-Poly1305 under the data key: nonce = prefix || chunk index,
 * associated data = header || index || final flag. A chunk cannot be moved,
 * dropped from the end, or taken from another file without failing to open. */
#include "archive/catalog_int.h"
#include "archive/sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_KEYS 16
#define WRAP_AD  "earshot data key v1:"

struct archive_keyring {
    int n;
    uint8_t key[MAX_KEYS][32];
    char id[MAX_KEYS][ARCHIVE_KEY_ID_LEN];
};

static struct archive_keyring *process_keys;

void archive_keyring_set(struct archive_keyring *kr)
{
    process_keys = kr;
}

const struct archive_keyring *archive_keyring_get(void)
{
    return process_keys;
}

const char *archive_keyring_current_id(const struct archive_keyring *kr)
{
    return kr && kr->n ? kr->id[0] : "";
}

bool archive_keyring_has(const struct archive_keyring *kr, const char *id)
{
    for (int i = 0; kr && i < kr->n; i++)
        if (!strcmp(kr->id[i], id))
            return true;
    return false;
}

int archive_keyring_ids(const struct archive_keyring *kr, char ids[][ARCHIVE_KEY_ID_LEN], int max)
{
    int n = 0;
    for (int i = 0; kr && i < kr->n && n < max; i++)
        memcpy(ids[n++], kr->id[i], ARCHIVE_KEY_ID_LEN);
    return n;
}

static void key_id(const uint8_t key[32], char out[ARCHIVE_KEY_ID_LEN])
{
    uint8_t h[16];
    crypto_generichash(h, sizeof h, key, 32, (const uint8_t *)"earshot key id", 14);
    es_hex(h, 8, out);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int archive_keyring_parse(const char *text, size_t len, struct archive_keyring **out,
                          struct es_err *err)
{
    struct archive_keyring *kr = sodium_malloc(sizeof *kr);
    if (!kr)
        return es_seterr(err, ES_ENOMEM, "out of memory for the keys");
    memset(kr, 0, sizeof *kr);
    size_t pos = 0;
    int line = 0, rc = 0;
    while (pos < len && !rc) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        line++;
        const char *p = text + pos;
        size_t n = end - pos;
        pos = end + 1;
        if (!n || p[0] == '#')
            continue;
        char id[ARCHIVE_KEY_ID_LEN];
        if (n != 4 + 16 + 1 + 64 || memcmp(p, "key ", 4) || p[20] != ' ') {
            rc = es_seterr(err, ES_EFORMAT, "line %d: expected \"key ID HEX\"", line);
            break;
        }
        if (kr->n == MAX_KEYS) {
            rc = es_seterr(err, ES_ETOOBIG, "more than %d keys", MAX_KEYS);
            break;
        }
        memcpy(id, p + 4, 16);
        id[16] = '\0';
        for (int i = 0; i < 32 && !rc; i++) {
            int hi = hexval(p[21 + 2 * i]), lo = hexval(p[22 + 2 * i]);
            if (hi < 0 || lo < 0)
                rc = es_seterr(err, ES_EFORMAT, "line %d: the key is not 64 hex digits", line);
            kr->key[kr->n][i] = (uint8_t)(hi << 4 | lo);
        }
        if (rc)
            break;
        key_id(kr->key[kr->n], kr->id[kr->n]);
        if (strcmp(kr->id[kr->n], id)) {
            rc = es_seterr(err, ES_ECORRUPT, "line %d: key %s does not match its id (damaged?)",
                           line, id);
            break;
        }
        kr->n++;
    }
    if (!rc && !kr->n)
        rc = es_seterr(err, ES_EFORMAT, "no key in it");
    if (rc) {
        archive_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return 0;
}

int archive_keyring_load(const char *path, struct archive_keyring **out, struct es_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int rc = es_seterr(err, -errno, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    if (st.st_mode & 077) {
        close(fd);
        return es_seterr(err, ES_EINVAL, "%s: readable by others (mode %o): chmod 600 it", path,
                         (unsigned)(st.st_mode & 0777));
    }
    char *buf = sodium_malloc(8192);
    ssize_t n = buf ? read(fd, buf, 8191) : -1;
    close(fd);
    int rc;
    if (n < 0)
        rc = es_seterr(err, buf ? -errno : ES_ENOMEM, "%s: cannot read it", path);
    else
        rc = archive_keyring_parse(buf, (size_t)n, out, err);
    if (rc && err->msg[0] && strncmp(err->msg, path, strlen(path))) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        es_seterr(err, rc, "%s: %s", path, m);
    }
    sodium_free(buf);
    return rc;
}

void archive_keyring_free(struct archive_keyring *kr)
{
    if (kr)
        sodium_free(kr); /* zeroed by sodium_free */
}

int archive_keyring_text(const struct archive_keyring *kr, bool new_first, char **out,
                         struct es_err *err)
{
    size_t cap = 512 + (size_t)(kr->n + 1) * 96;
    char *t = sodium_malloc(cap);
    if (!t)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    size_t len = (size_t)snprintf(t, cap,
                                  "# earshot master keys: the first encrypts, those below only\n"
                                  "# unwrap older data keys. Keep this file secret (mode 0600)\n"
                                  "# and a copy offline: without it no recording can be played.\n");
    uint8_t fresh[32];
    char fid[ARCHIVE_KEY_ID_LEN];
    if (new_first) {
        randombytes_buf(fresh, sizeof fresh);
        key_id(fresh, fid);
    }
    for (int i = new_first ? -1 : 0; i < kr->n; i++) {
        const uint8_t *k = i < 0 ? fresh : kr->key[i];
        char hex[65];
        es_hex(k, 32, hex);
        len += (size_t)snprintf(t + len, cap - len, "key %s %s\n", i < 0 ? fid : kr->id[i], hex);
        sodium_memzero(hex, sizeof hex);
    }
    sodium_memzero(fresh, sizeof fresh);
    *out = t;
    return 0;
}

int archive_key_file_write(const char *path, const char *text, bool exclusive, struct es_err *err)
{
    int fd = open(
        path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : O_TRUNC), 0600);
    if (fd < 0)
        return es_seterr(err, errno == EEXIST ? ES_EEXIST : -errno, "%s: %s", path,
                         errno == EEXIST ? "exists: a key file is never overwritten"
                                         : strerror(errno));
    size_t len = strlen(text);
    int rc = 0;
    if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
        rc = es_seterr(err, -errno, "%s: %s", path, strerror(errno));
    close(fd);
    char dir[4096];
    if (!rc && !es_dirname(path, dir, sizeof dir))
        es_fsync_dir(dir);
    if (rc)
        unlink(path);
    return rc;
}

int archive_keys_init(const char *path, struct es_err *err)
{
    struct archive_keyring empty = {0};
    char *text;
    int rc = archive_keyring_text(&empty, true, &text, err);
    if (rc)
        return rc;
    rc = archive_key_file_write(path, text, true, err);
    sodium_free(text);
    return rc;
}

/* ---- data keys ---------------------------------------------------------------- */

static void wrap_ad(const char *call_id, uint8_t *ad, size_t *len)
{
    size_t a = strlen(WRAP_AD), b = strnlen(call_id, ES_ID_LEN);
    memcpy(ad, WRAP_AD, a);
    memcpy(ad + a, call_id, b);
    *len = a + b;
}

int archive_key_wrap(const struct archive_keyring *kr, const char *call_id, const uint8_t dk[32],
                     uint8_t out[ARCHIVE_WRAPPED_LEN], char id[ARCHIVE_KEY_ID_LEN])
{
    if (!kr || !kr->n)
        return ES_ESTATE;
    uint8_t ad[64];
    size_t adlen;
    wrap_ad(call_id, ad, &adlen);
    randombytes_buf(out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               NULL, dk, 32, ad, adlen, NULL, out, kr->key[0]);
    memcpy(id, kr->id[0], ARCHIVE_KEY_ID_LEN);
    return 0;
}

int archive_key_unwrap(const struct archive_keyring *kr, const char *key_id_, const char *call_id,
                       const uint8_t *wrapped, size_t len, uint8_t dk[32], struct es_err *err)
{
    if (!kr)
        return es_seterr(err, ES_ESTATE,
                         "call %s is encrypted and no encryption_key_file is configured", call_id);
    int k = -1;
    for (int i = 0; i < kr->n && k < 0; i++)
        if (!strcmp(kr->id[i], key_id_))
            k = i;
    if (k < 0)
        return es_seterr(err, ES_ESTATE, "call %s is encrypted with key %s, not in the key file",
                         call_id, key_id_);
    uint8_t ad[64];
    size_t adlen;
    wrap_ad(call_id, ad, &adlen);
    unsigned long long n;
    if (len != ARCHIVE_WRAPPED_LEN ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(
            dk, &n, NULL, wrapped + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, adlen, wrapped, kr->key[k]) ||
        n != 32)
        return es_seterr(err, ES_ECORRUPT, "call %s: its data key does not open (damaged)",
                         call_id);
    return 0;
}

/* ---- chunks -------------------------------------------------------------------- */

void seal_header(uint8_t h[ARCHIVE_SEAL_HEADER])
{
    memset(h, 0, ARCHIVE_SEAL_HEADER);
    memcpy(h, "ESAUDIO1", 8);
    uint32_t c = ARCHIVE_SEAL_CHUNK;
    for (int i = 0; i < 4; i++)
        h[8 + i] = (uint8_t)(c >> (8 * i));
    randombytes_buf(h + 16, 16);
}

static void chunk_nonce_ad(const uint8_t h[ARCHIVE_SEAL_HEADER], uint64_t index, bool final,
                           uint8_t nonce[24], uint8_t ad[ARCHIVE_SEAL_HEADER + 9])
{
    memcpy(nonce, h + 16, 16);
    for (int i = 0; i < 8; i++)
        nonce[16 + i] = (uint8_t)(index >> (8 * i));
    memcpy(ad, h, ARCHIVE_SEAL_HEADER);
    memcpy(ad + ARCHIVE_SEAL_HEADER, nonce + 16, 8);
    ad[ARCHIVE_SEAL_HEADER + 8] = final;
}

void seal_chunk(const uint8_t key[32], const uint8_t h[ARCHIVE_SEAL_HEADER], uint64_t index,
                bool final, const uint8_t *pt, size_t n, uint8_t *ct)
{
    uint8_t nonce[24], ad[ARCHIVE_SEAL_HEADER + 9];
    chunk_nonce_ad(h, index, final, nonce, ad);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, pt, n, ad, sizeof ad, NULL, nonce, key);
}

int open_chunk(const uint8_t key[32], const uint8_t h[ARCHIVE_SEAL_HEADER], uint64_t index,
               bool final, const uint8_t *ct, size_t n, uint8_t *pt)
{
    uint8_t nonce[24], ad[ARCHIVE_SEAL_HEADER + 9];
    chunk_nonce_ad(h, index, final, nonce, ad);
    if (n < ARCHIVE_SEAL_TAG || crypto_aead_xchacha20poly1305_ietf_decrypt(
                                    pt, NULL, NULL, ct, n, ad, sizeof ad, nonce, key))
        return ES_ECORRUPT;
    return 0;
}

int seal_check_header(const uint8_t h[ARCHIVE_SEAL_HEADER])
{
    uint32_t c = 0;
    for (int i = 0; i < 4; i++)
        c |= (uint32_t)h[8 + i] << (8 * i);
    return memcmp(h, "ESAUDIO1", 8) || c != ARCHIVE_SEAL_CHUNK ? ES_EFORMAT : 0;
}

int seal_plain_size(uint64_t file_size, uint64_t *plain, uint64_t *nchunks)
{
    /* every chunk but the last is full; the last (final) is shorter, maybe empty */
    if (file_size < ARCHIVE_SEAL_HEADER + ARCHIVE_SEAL_TAG)
        return ES_EFORMAT;
    uint64_t body = file_size - ARCHIVE_SEAL_HEADER, full = ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG;
    uint64_t n = body / full + 1;
    if (body % full < ARCHIVE_SEAL_TAG)
        return ES_EFORMAT; /* cut short: no final chunk can end here */
    *plain = body - n * ARCHIVE_SEAL_TAG;
    *nchunks = n;
    return 0;
}

/* ---- reading a recording, sealed or not --------------------------------------- */

struct archive_audio {
    int fd;
    bool sealed;
    uint64_t file_size, plain_size, nchunks;
    uint8_t header[ARCHIVE_SEAL_HEADER];
    uint8_t dk[32];
    int64_t have;   /* the chunk in pt, -1 none */
    bool use_cache; /* off for verify: every chunk is read and checked */
    size_t have_len;
    char id[ES_ID_LEN];
    uint8_t ct[ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG], pt[ARCHIVE_SEAL_CHUNK];
};

int archive_audio_open(struct catalog *c, const char *id, struct archive_audio **out,
                       struct es_err *err)
{
    *out = NULL;
    char path[512], key_id_[ARCHIVE_KEY_ID_LEN];
    uint8_t wrapped[ARCHIVE_WRAPPED_LEN];
    size_t wlen = 0;
    int rc = catalog_audio_key(c, id, path, sizeof path, key_id_, wrapped, &wlen);
    if (rc == ES_ENOTFOUND)
        return es_seterr(err, rc, "call %s has no audio", id);
    if (rc)
        return es_seterr(err, rc, "reading the catalog: %s", catalog_strerror(c, rc));
    /* malloc, not sodium_malloc: guard pages and mlock cost more than a whole
     * Range request; the key and the plaintext are wiped at close instead */
    struct archive_audio *a = malloc(sizeof *a);
    if (!a)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    memset(a, 0, sizeof *a);
    a->have = -1;
    a->use_cache = true;
    snprintf(a->id, sizeof a->id, "%s", id);
    a->fd = -1;
    if ((rc = archive_file_open(c, path, &a->fd, err)))
        goto fail;
    struct stat st;
    if (fstat(a->fd, &st) != 0) {
        rc = es_seterr(err, -errno, "%s: %s", path, strerror(errno));
        goto fail;
    }
    a->file_size = a->plain_size = (uint64_t)st.st_size;
    if (wlen) {
        a->sealed = true;
        if (pread(a->fd, a->header, sizeof a->header, 0) != (ssize_t)sizeof a->header ||
            seal_check_header(a->header) ||
            seal_plain_size(a->file_size, &a->plain_size, &a->nchunks)) {
            rc = es_seterr(err, ES_ECORRUPT, "%s: not a sealed recording, or cut short", path);
            goto fail;
        }
        if ((rc = archive_key_unwrap(process_keys, key_id_, id, wrapped, wlen, a->dk, err)))
            goto fail;
    }
    *out = a;
    return 0;
fail:
    archive_audio_close(a);
    return rc;
}

int archive_audio_take_fd(struct archive_audio *a)
{
    if (a->sealed)
        return -1;
    int fd = a->fd;
    a->fd = -1;
    return fd;
}

uint64_t archive_audio_size(const struct archive_audio *a)
{
    return a->plain_size;
}

bool archive_audio_sealed(const struct archive_audio *a)
{
    return a->sealed;
}

/* ---- decrypted chunks kept for the next request (the review server) ----------
 * Direct-mapped: a slot per (file, chunk), the file named by its header's
 * random nonce prefix; a newer chunk takes an older one's slot. Locks striped
 * over the slots. Only `serve` turns it on; it is wiped when turned off. */
#define CACHE_STRIPES 64
struct chunk_slot {
    uint8_t nonce[16];
    uint64_t index;
    uint32_t len;
    bool used;
    uint8_t pt[ARCHIVE_SEAL_CHUNK];
};
static struct {
    struct chunk_slot *slots;
    size_t n;
    pthread_mutex_t mu[CACHE_STRIPES];
    _Atomic uint64_t hits, misses;
} cache = {.mu = {[0 ... CACHE_STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER}};

int archive_chunk_cache(size_t bytes)
{
    if (cache.slots) {
        sodium_memzero(cache.slots, cache.n * sizeof *cache.slots);
        free(cache.slots);
        cache.slots = NULL;
        cache.n = 0;
    }
    size_t n = bytes / sizeof(struct chunk_slot);
    if (!n)
        return 0;
    cache.slots = calloc(n, sizeof *cache.slots);
    if (!cache.slots)
        return ES_ENOMEM;
    cache.n = n;
    return 0;
}

void archive_chunk_cache_stats(uint64_t *hits, uint64_t *misses)
{
    *hits = atomic_load(&cache.hits);
    *misses = atomic_load(&cache.misses);
}

static size_t slot_of(const uint8_t nonce[16], uint64_t index)
{
    uint64_t h;
    memcpy(&h, nonce, sizeof h);
    h ^= index * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return (size_t)(h % cache.n);
}

static bool cache_get(struct archive_audio *a, uint64_t index)
{
    if (!cache.n)
        return false;
    size_t i = slot_of(a->header + 16, index);
    pthread_mutex_t *mu = &cache.mu[i % CACHE_STRIPES];
    struct chunk_slot *s = &cache.slots[i];
    pthread_mutex_lock(mu);
    bool hit = s->used && s->index == index && !memcmp(s->nonce, a->header + 16, 16);
    if (hit) {
        memcpy(a->pt, s->pt, s->len);
        a->have_len = s->len;
    }
    pthread_mutex_unlock(mu);
    atomic_fetch_add_explicit(hit ? &cache.hits : &cache.misses, 1, memory_order_relaxed);
    return hit;
}

static void cache_put(const struct archive_audio *a, uint64_t index)
{
    if (!cache.n)
        return;
    size_t i = slot_of(a->header + 16, index);
    pthread_mutex_t *mu = &cache.mu[i % CACHE_STRIPES];
    struct chunk_slot *s = &cache.slots[i];
    pthread_mutex_lock(mu);
    memcpy(s->nonce, a->header + 16, 16);
    s->index = index;
    s->len = (uint32_t)a->have_len;
    memcpy(s->pt, a->pt, a->have_len);
    s->used = true;
    pthread_mutex_unlock(mu);
}

static int load_chunk(struct archive_audio *a, uint64_t index, struct es_err *err)
{
    if ((int64_t)index == a->have)
        return 0;
    if (a->use_cache && cache_get(a, index)) {
        a->have = (int64_t)index;
        return 0;
    }
    bool final = index == a->nchunks - 1;
    uint64_t full = ARCHIVE_SEAL_CHUNK + ARCHIVE_SEAL_TAG, at = ARCHIVE_SEAL_HEADER + index * full;
    size_t len = final ? (size_t)(a->file_size - at) : (size_t)full;
    ssize_t got = pread(a->fd, a->ct, len, (off_t)at);
    if (got != (ssize_t)len)
        return es_seterr(err, got < 0 ? -errno : ES_ECORRUPT, "call %s: cannot read chunk %llu",
                         a->id, (unsigned long long)index);
    if (open_chunk(a->dk, a->header, index, final, a->ct, len, a->pt)) {
        a->have = -1;
        return es_seterr(err, ES_ECORRUPT,
                         "call %s: chunk %llu fails authentication (changed on disk)", a->id,
                         (unsigned long long)index);
    }
    a->have = (int64_t)index;
    a->have_len = len - ARCHIVE_SEAL_TAG;
    if (a->use_cache)
        cache_put(a, index);
    return 0;
}

long archive_audio_read(struct archive_audio *a, uint64_t off, void *buf, size_t n,
                        struct es_err *err)
{
    if (off >= a->plain_size || !n)
        return 0;
    if (n > a->plain_size - off)
        n = (size_t)(a->plain_size - off);
    if (!a->sealed) {
        ssize_t got = pread(a->fd, buf, n, (off_t)off);
        return got < 0 ? es_seterr(err, -errno, "call %s: %s", a->id, strerror(errno)) : got;
    }
    size_t done = 0;
    while (done < n) {
        uint64_t pos = off + done, index = pos / ARCHIVE_SEAL_CHUNK;
        int rc = load_chunk(a, index, err);
        if (rc)
            return rc;
        size_t in = (size_t)(pos % ARCHIVE_SEAL_CHUNK), k = a->have_len - in;
        if (k > n - done)
            k = n - done;
        memcpy((uint8_t *)buf + done, a->pt + in, k);
        done += k;
    }
    return (long)done;
}

int archive_audio_check(struct archive_audio *a, struct es_err *err)
{
    a->use_cache = false;
    for (uint64_t i = 0; a->sealed && i < a->nchunks; i++) {
        int rc = load_chunk(a, i, err);
        if (rc)
            return rc;
    }
    return 0;
}

int archive_audio_copy(struct archive_audio *a, int fd, struct es_err *err)
{
    uint8_t buf[ARCHIVE_SEAL_CHUNK];
    for (uint64_t off = 0; off < a->plain_size;) {
        long n = archive_audio_read(a, off, buf, sizeof buf, err);
        if (n <= 0)
            return n ? (int)n : es_seterr(err, ES_ECORRUPT, "call %s: short read", a->id);
        for (long w = 0; w < n;) {
            ssize_t k = write(fd, buf + w, (size_t)(n - w));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                return es_seterr(err, -errno, "writing: %s", strerror(errno));
            w += k;
        }
        off += (uint64_t)n;
    }
    return 0;
}

void archive_audio_close(struct archive_audio *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    if (a->sealed)
        sodium_memzero(a, sizeof *a); /* the data key and the plaintext */
    free(a);
}
