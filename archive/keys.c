/* Encryption at rest, the catalog's side: checking that the key file holds
 * every master key the data keys are wrapped with, rotating the master key,
 * and sealing an archive recorded before encryption was turned on. */
#include "archive/catalog_int.h"
#include "archive/ingest_int.h"
#include "archive/sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 512

/* A rotation that wrote key_file.new and then stopped: the catalog decides. */
static int finish_rotation(struct catalog *c, const char *key_file, struct es_err *err)
{
    char tmp[4200];
    if (es_fmt(tmp, sizeof tmp, "%s.new", key_file) || access(tmp, F_OK) != 0)
        return 0;
    struct archive_keyring *nkr = NULL;
    if (archive_keyring_load(tmp, &nkr, err))
        return 0; /* half-written: the rotation never reached the catalog */
    bool committed = false;
    struct db_stmt *s = catalog_stmt(c, ST_KEY_IDS);
    while (db_step(s) == DB_ROW)
        committed |= !strcmp((const char *)db_column_text(s, 0), archive_keyring_current_id(nkr));
    db_reset(s);
    if (!committed) {
        unlink(tmp);
        archive_keyring_free(nkr);
        ES_WARN("keys", "%s: an interrupted rotation was undone", key_file);
        return 0;
    }
    if (rename(tmp, key_file) != 0) {
        archive_keyring_free(nkr);
        return es_seterr(err, -errno, "%s: finishing the rotation: %s", key_file, strerror(errno));
    }
    char dir[4096];
    if (!es_dirname(key_file, dir, sizeof dir))
        es_fsync_dir(dir);
    struct archive_keyring *old = (struct archive_keyring *)archive_keyring_get();
    archive_keyring_set(nkr);
    archive_keyring_free(old);
    ES_WARN("keys", "%s: an interrupted rotation was finished (key %s)", key_file,
            archive_keyring_current_id(nkr));
    return 0;
}

int archive_keys_check(struct catalog *c, const char *key_file, struct es_err *err)
{
    int rc = key_file && key_file[0] ? finish_rotation(c, key_file, err) : 0;
    if (rc)
        return rc;
    const struct archive_keyring *kr = archive_keyring_get();
    struct db_stmt *s = catalog_stmt(c, ST_KEY_IDS);
    int step;
    while (!rc && (step = db_step(s)) == DB_ROW) {
        const char *id = (const char *)db_column_text(s, 0);
        long long n = db_column_int64(s, 1);
        if (!kr)
            rc = es_seterr(err, ES_ESTATE,
                           "%lld recordings are encrypted (key %s) and no encryption_key_file is"
                           " configured",
                           n, id);
        else if (!archive_keyring_has(kr, id))
            rc = es_seterr(err, ES_ESTATE,
                           "%s does not hold key %s, which %lld recordings are encrypted with:"
                           " the wrong key file?",
                           key_file && key_file[0] ? key_file : "the key file", id, n);
    }
    db_reset(s);
    return rc;
}

int archive_keys_rotate(struct catalog *c, const char *key_file, char new_id[ARCHIVE_KEY_ID_LEN],
                        int64_t *rewrapped, int (*in_tx)(void *ud), void *ud, struct es_err *err)
{
    *rewrapped = 0;
    const struct archive_keyring *kr = archive_keyring_get();
    if (!kr || !key_file || !key_file[0])
        return es_seterr(err, ES_ESTATE, "no encryption_key_file is configured");
    char tmp[4200], *text = NULL;
    if (es_fmt(tmp, sizeof tmp, "%s.new", key_file))
        return es_seterr(err, ES_ETOOBIG, "%s: path too long", key_file);
    int rc = archive_keyring_text(kr, true, &text, err);
    if (rc)
        return rc;
    struct archive_keyring *nkr = NULL;
    rc = archive_keyring_parse(text, strlen(text), &nkr, err);
    if (!rc)
        rc = archive_key_file_write(tmp, text, false,
                                    err); /* on disk before any data key needs it */
    sodium_free(text);
    if (rc) {
        archive_keyring_free(nkr);
        return rc;
    }
    bool outer;
    rc = catalog_tx_begin(catalog_db(c), &outer);
    char last[ES_ID_LEN] = "";
    for (bool more = !rc; more && !rc;) {
        struct {
            char id[ES_ID_LEN], key[ARCHIVE_KEY_ID_LEN];
            uint8_t w[ARCHIVE_WRAPPED_LEN];
            size_t wlen;
        } rows[BATCH];
        int n = 0;
        struct db_stmt *s = catalog_stmt(c, ST_ALL_KEYS);
        db_bind_text_copy(s, 1, last, -1);
        db_bind_int(s, 2, BATCH);
        while (db_step(s) == DB_ROW) {
            snprintf(rows[n].id, ES_ID_LEN, "%s", (const char *)db_column_text(s, 0));
            snprintf(rows[n].key, ARCHIVE_KEY_ID_LEN, "%s", (const char *)db_column_text(s, 1));
            rows[n].wlen = (size_t)db_column_bytes(s, 2);
            if (rows[n].wlen > ARCHIVE_WRAPPED_LEN)
                rows[n].wlen = 0;
            memcpy(rows[n].w, db_column_blob(s, 2), rows[n].wlen);
            n++;
        }
        db_reset(s);
        more = n == BATCH;
        for (int i = 0; i < n && !rc; i++) {
            uint8_t dk[32], w[ARCHIVE_WRAPPED_LEN];
            char id[ARCHIVE_KEY_ID_LEN];
            rc = archive_key_unwrap(kr, rows[i].key, rows[i].id, rows[i].w, rows[i].wlen, dk, err);
            if (!rc)
                rc = archive_key_wrap(nkr, rows[i].id, dk, w, id);
            sodium_memzero(dk, sizeof dk);
            if (rc)
                break;
            s = catalog_stmt(c, ST_UPDATE_KEY);
            db_bind_text(s, 1, rows[i].id, -1);
            db_bind_text(s, 2, id, -1);
            db_bind_blob(s, 3, w, sizeof w);
            if (db_step(s) != DB_DONE)
                rc = catalog_db_error(c, "rewrap a data key");
            db_reset(s);
            (*rewrapped)++;
        }
        if (n)
            snprintf(last, sizeof last, "%s", rows[n - 1].id);
    }
    snprintf(new_id, ARCHIVE_KEY_ID_LEN, "%s", archive_keyring_current_id(nkr));
    if (!rc && in_tx) /* its audit row, which may name the new key */
        rc = in_tx(ud);
    if (!outer && !rc)
        rc = ES_ESTATE; /* the file is replaced only after a commit of our own */
    rc = catalog_tx_end(catalog_db(c), outer, rc);
    if (rc) {
        unlink(tmp);
        archive_keyring_free(nkr);
        if (!err->msg[0])
            es_seterr(err, rc, "rotating: %s", es_strerror(rc));
        return rc;
    }
    if (rename(tmp, key_file) != 0) { /* the next start finishes it (finish_rotation) */
        rc = es_seterr(err, -errno, "%s: %s (the next earshot command finishes the rotation)",
                       key_file, strerror(errno));
        archive_keyring_free(nkr);
        return rc;
    }
    char dir[4096];
    if (!es_dirname(key_file, dir, sizeof dir))
        es_fsync_dir(dir);
    struct archive_keyring *old = (struct archive_keyring *)kr;
    archive_keyring_set(nkr);
    archive_keyring_free(old);
    return 0;
}

/* ---- sealing an archive recorded in the clear ------------------------------------ */

/* Seals the plaintext of one call into tmp; its stored form's hash and size. */
static int seal_to(struct archive_audio *a, const uint8_t dk[32], int fd, char sha[65],
                   int64_t *bytes, struct es_err *err)
{
    uint8_t h[ARCHIVE_SEAL_HEADER], pt[ARCHIVE_SEAL_CHUNK], ct[ARCHIVE_SEAL_CHUNK + 16];
    seal_header(h);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, h, sizeof h);
    int rc = write(fd, h, sizeof h) == (ssize_t)sizeof h ? 0 : -errno;
    uint64_t size = archive_audio_size(a), off = 0, index = 0;
    *bytes = (int64_t)sizeof h;
    for (bool final = false; !rc && !final; index++) {
        size_t n = size - off < sizeof pt ? (size_t)(size - off) : sizeof pt;
        final = n < sizeof pt;
        long got = n ? archive_audio_read(a, off, pt, n, err) : 0;
        if (got != (long)n) {
            rc = got < 0 ? (int)got : ES_ECORRUPT;
            break;
        }
        seal_chunk(dk, h, index, final, pt, n, ct);
        crypto_hash_sha256_update(&st, ct, n + 16);
        if (write(fd, ct, n + 16) != (ssize_t)(n + 16))
            rc = -errno;
        *bytes += (int64_t)(n + 16);
        off += n;
    }
    sodium_memzero(pt, sizeof pt);
    if (!rc && fsync(fd) != 0)
        rc = -errno;
    uint8_t d[32];
    crypto_hash_sha256_final(&st, d);
    es_hex(d, 32, sha);
    return rc && !err->msg[0] ? es_seterr(err, rc, "sealing: %s", es_strerror(rc)) : rc;
}

static int seal_one(struct ingest_session *s, struct catalog *c, const char *id,
                    const struct archive_keyring *kr, struct es_err *err)
{
    char path[512], kid[ARCHIVE_KEY_ID_LEN], tmp[4400], rel[600];
    uint8_t w[ARCHIVE_WRAPPED_LEN], dk[32];
    size_t wlen;
    int rc = catalog_audio_key(c, id, path, sizeof path, kid, w, &wlen);
    if (rc || wlen)
        return rc == ES_ENOTFOUND || wlen ? 0 : rc; /* gone, or sealed since */
    struct archive_audio *a = NULL;
    if ((rc = archive_audio_open(c, id, &a, err)))
        return rc;
    pthread_mutex_lock(&s->mu);
    unsigned long seq = ++s->seq;
    pthread_mutex_unlock(&s->mu);
    es_fmt(tmp, sizeof tmp, "%s/%s-%lu.tmp", s->tmp_dir, s->owner, seq);
    es_fmt(rel, sizeof rel, "%s.enc", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    char sha[65];
    int64_t bytes = 0;
    randombytes_buf(dk, sizeof dk);
    rc = fd < 0 ? es_seterr(err, -errno, "%s: %s", tmp, strerror(errno))
                : seal_to(a, dk, fd, sha, &bytes, err);
    archive_audio_close(a);
    if (fd >= 0)
        close(fd);
    struct archive_recording rec = {.sealed = true};
    if (!rc)
        rc = archive_key_wrap(kr, id, dk, rec.wrapped, rec.key_id);
    sodium_memzero(dk, sizeof dk);
    if (!rc && !(rc = catalog_pending_add(c, rel, s->owner))) {
        if ((rc = archive_file_place(c, tmp, rel, err)))
            catalog_pending_remove(c, rel);
        else
            tmp[0] = '\0';
    }
    bool outer = false;
    if (!rc && !(rc = catalog_tx_begin(catalog_db(c), &outer))) {
        struct db_stmt *st = catalog_stmt(c, ST_RESEAL);
        db_bind_text(st, 1, id, -1);
        db_bind_text(st, 2, rel, -1);
        db_bind_text(st, 3, sha, -1);
        db_bind_int64(st, 4, bytes);
        rc = db_step(st) == DB_DONE ? 0 : catalog_db_error(c, "reseal");
        db_reset(st);
        st = catalog_stmt(c, ST_INSERT_KEY);
        db_bind_text(st, 1, id, -1);
        db_bind_text(st, 2, rec.key_id, -1);
        db_bind_blob(st, 3, rec.wrapped, ARCHIVE_WRAPPED_LEN);
        if (!rc)
            rc = db_step(st) == DB_DONE ? 0 : catalog_db_error(c, "store a data key");
        db_reset(st);
        if (!rc)
            rc = catalog_pending_remove(c, rel);
        if (!rc)
            rc = catalog_pending_add(c, path, s->owner); /* the plain file: to go */
        rc = catalog_tx_end(catalog_db(c), outer, rc);
        struct es_err gone = {{0}};
        if (rc && archive_file_remove(c, rel, &gone) == 0)
            catalog_pending_remove(c, rel);
    }
    if (tmp[0])
        unlink(tmp);
    if (rc)
        return err->msg[0] ? rc : es_seterr(err, rc, "call %s: %s", id, catalog_strerror(c, rc));
    /* the plain copy: should it resist, its pending mark stays and the next
     * session's sweep removes it */
    struct es_err gone = {{0}};
    if (!archive_file_destroy(c, path, &gone))
        catalog_pending_remove(c, path);
    return 0;
}

int archive_encrypt_existing(struct ingest_session *s, struct catalog *c, int64_t *done,
                             int64_t *left, struct es_err *err)
{
    *done = 0;
    const struct archive_keyring *kr = archive_keyring_get();
    if (!kr)
        return es_seterr(err, ES_ESTATE, "no encryption_key_file is configured");
    struct db_stmt *st = catalog_stmt(c, ST_COUNT_PLAIN);
    *left = db_step(st) == DB_ROW ? db_column_int64(st, 0) : 0;
    db_reset(st);
    char last[ES_ID_LEN] = "";
    int failed = 0;
    for (;;) {
        char id[ES_ID_LEN] = "";
        st = catalog_stmt(c, ST_NEXT_PLAIN);
        db_bind_text_copy(st, 1, last, -1);
        db_bind_int(st, 2, 1);
        if (db_step(st) == DB_ROW)
            snprintf(id, sizeof id, "%s", (const char *)db_column_text(st, 0));
        db_reset(st);
        if (!id[0])
            break;
        snprintf(last, sizeof last, "%s", id);
        struct es_err e = {{0}};
        if (seal_one(s, c, id, kr, &e)) { /* one line, and the others go on */
            ES_ERROR("keys", "call %s left in the clear: %s", id, e.msg);
            failed++;
            continue;
        }
        (*done)++;
        (*left)--;
    }
    return failed ? es_seterr(err, ES_ECORRUPT, "%d recordings could not be sealed", failed) : 0;
}

int archive_keys_usage(struct catalog *c, int (*cb)(void *ud, const char *key_id, int64_t n),
                       void *ud)
{
    struct db_stmt *s = catalog_stmt(c, ST_KEY_IDS);
    int rc = 0;
    while (!rc && db_step(s) == DB_ROW)
        rc = cb(ud, (const char *)db_column_text(s, 0), db_column_int64(s, 1));
    db_reset(s);
    s = catalog_stmt(c, ST_COUNT_PLAIN);
    int64_t plain = db_step(s) == DB_ROW ? db_column_int64(s, 0) : 0;
    db_reset(s);
    return rc ? rc : cb(ud, "", plain);
}
