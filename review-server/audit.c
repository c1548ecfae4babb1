/* The audit log: one row per login, listening, download, export and change.
 *
 * Each row carries two links to the row before it:
 * - hash: SHA-256 of its fields and the previous row's hash. Anyone can
 *   recompute it, so it only finds accidents and edits by hand;
 * - mac: HMAC-SHA-256 of its fields and the previous row's MAC (or, for the
 *   first keyed row, the last unkeyed row's hash), with a key kept outside
 *   the database (<data>/audit.key, 32 random bytes, mode 0600, made on first
 *   use). Someone who can write the database but not read the key cannot
 *   change, insert or remove a row without breaking the MACs after it.
 * Removing rows from the end breaks no link, so the chain's end is anchored
 * outside the database too: <data>/audit.anchor holds the last row's id and
 * MAC, written durably after each append commits (and the anchor goes to the
 * log every ANCHOR_LOG_EVERY rows, for a copy off the machine). `earshot audit
 * verify` checks both chains and the anchor, and names what it finds. */
#include "review-server/review_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define GENESIS          "0000000000000000000000000000000000000000000000000000000000000000"
#define ANCHOR_MAGIC     "earshot-audit-anchor 1"
#define ANCHOR_LOG_EVERY 100
#define AUDIT_LOCK       0x6175646974 /* "audit": the advisory lock of appends */

struct fields {
    int64_t at;
    const char *actor, *action, *target, *detail;
};

/* Each field goes in as "<length>:<bytes>", so no choice of field contents can
 * make two different rows hash alike. */
static void sha_field(crypto_hash_sha256_state *h, const char *v)
{
    char len[24];
    size_t n = strlen(v);
    int k = snprintf(len, sizeof len, "%zu:", n);
    crypto_hash_sha256_update(h, (const unsigned char *)len, (unsigned long long)k);
    crypto_hash_sha256_update(h, (const unsigned char *)v, n);
}

static void mac_field(crypto_auth_hmacsha256_state *h, const char *v)
{
    char len[24];
    size_t n = strlen(v);
    int k = snprintf(len, sizeof len, "%zu:", n);
    crypto_auth_hmacsha256_update(h, (const unsigned char *)len, (unsigned long long)k);
    crypto_auth_hmacsha256_update(h, (const unsigned char *)v, n);
}

static void row_hash(const struct fields *f, const char *prev, char out[65])
{
    crypto_hash_sha256_state h;
    char t[24];
    unsigned char d[32];
    crypto_hash_sha256_init(&h);
    snprintf(t, sizeof t, "%lld", (long long)f->at);
    sha_field(&h, t);
    sha_field(&h, f->actor);
    sha_field(&h, f->action);
    sha_field(&h, f->target);
    sha_field(&h, f->detail);
    sha_field(&h, prev);
    crypto_hash_sha256_final(&h, d);
    es_hex(d, 32, out);
}

static void row_mac(const unsigned char key[32], const struct fields *f, const char *prev,
                    char out[65])
{
    crypto_auth_hmacsha256_state h;
    char t[24];
    unsigned char d[32];
    crypto_auth_hmacsha256_init(&h, key, 32);
    snprintf(t, sizeof t, "%lld", (long long)f->at);
    mac_field(&h, t);
    mac_field(&h, f->actor);
    mac_field(&h, f->action);
    mac_field(&h, f->target);
    mac_field(&h, f->detail);
    mac_field(&h, prev);
    crypto_auth_hmacsha256_final(&h, d);
    es_hex(d, 32, out);
    sodium_memzero(&h, sizeof h);
}

/* ---- the key -------------------------------------------------------------- */

static int read_key(struct review_store *s, struct es_err *err)
{
    int fd = open(s->key_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unsigned char buf[33];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n != 32) {
        sodium_memzero(buf, sizeof buf);
        return es_seterr(err, ES_ECORRUPT, "audit key %s: not 32 bytes", s->key_path);
    }
    memcpy(s->key, buf, 32);
    sodium_memzero(buf, sizeof buf);
    s->has_key = true;
    return 0;
}

/* A new key, written whole before it appears under its name (link() never
 * replaces one another process made meanwhile). */
static int make_key(struct review_store *s, const char *data_dir)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s/.audit.key.XXXXXX", data_dir);
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0)
        return -errno;
    unsigned char k[32];
    randombytes_buf(k, sizeof k);
    int rc = write(fd, k, sizeof k) == (ssize_t)sizeof k && fsync(fd) == 0 ? 0 : -errno;
    sodium_memzero(k, sizeof k);
    close(fd);
    if (!rc && link(tmp, s->key_path) != 0 && errno != EEXIST)
        rc = -errno;
    unlink(tmp);
    if (!rc)
        rc = es_fsync_dir(data_dir);
    return rc;
}

int rv_audit_key_load(struct review_store *s, const char *data_dir, struct es_err *err)
{
    snprintf(s->key_path, sizeof s->key_path, "%s/audit.key", data_dir);
    snprintf(s->anchor_path, sizeof s->anchor_path, "%s/audit.anchor", data_dir);
    int rc = read_key(s, err);
    if (rc != -ENOENT)
        return rc ? (rc < 0 ? es_seterr(err, rc, "audit key %s: %s", s->key_path, es_strerror(rc))
                            : rc)
                  : 0;
    /* no key: made now, unless keyed rows exist (their key is lost, and a new
     * one would only hide that) */
    struct db_stmt *st = rv_stmt(s, RV_AUDIT_KEYED);
    int64_t keyed = db_step(st) == DB_ROW ? db_column_int64(st, 0) : -1;
    db_reset(st);
    if (keyed != 0)
        return es_seterr(err, ES_ECORRUPT,
                         "audit key %s is missing but the audit log has %lld keyed rows:"
                         " restore the key from a backup",
                         s->key_path, (long long)keyed);
    rc = make_key(s, data_dir);
    if (rc)
        return es_seterr(err, rc, "audit key %s: cannot create: %s", s->key_path, es_strerror(rc));
    return read_key(s, err);
}

/* ---- the anchor ------------------------------------------------------------- */

static bool read_anchor(const char *path, int64_t *id, char mac[65])
{
    struct es_buf b;
    es_buf_init(&b, 4096);
    bool ok = false;
    if (es_read_file(path, 4096, &b) == 0 && b.len) {
        char text[256];
        snprintf(text, sizeof text, "%.*s", (int)ES_MIN(b.len, sizeof text - 1), b.data);
        long long n;
        char m[65];
        ok =
            sscanf(text, ANCHOR_MAGIC "\n%lld %64[0-9a-f]", &n, m) == 2 && n > 0 && strlen(m) == 64;
        if (ok) {
            *id = n;
            memcpy(mac, m, 65);
        }
    }
    es_buf_free(&b);
    return ok;
}

void review_audit_anchor(struct review_store *s)
{
    if (!s->pending_id)
        return;
    int64_t id = s->pending_id;
    char mac[65];
    memcpy(mac, s->pending_mac, sizeof mac);
    s->pending_id = 0;
    /* only a committed row is anchored (its transaction may have rolled back) */
    struct db_stmt *st = rv_stmt(s, RV_AUDIT_MAC_OF);
    db_bind_int64(st, 1, id);
    bool there = db_step(st) == DB_ROW && db_column_text(st, 0) &&
                 !strcmp((const char *)db_column_text(st, 0), mac);
    db_reset(st);
    if (!there || db_in_tx(s->db))
        return;
    /* one writer at a time, and never backwards (threads and processes commit
     * in one order and may get here in another) */
    char lock[4300];
    snprintf(lock, sizeof lock, "%s.lock", s->anchor_path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        ES_ERROR("audit", "%s: cannot lock: %s", lock, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    int64_t have = 0;
    char old[65];
    if (!read_anchor(s->anchor_path, &have, old) || have < id) {
        char text[160];
        int n = snprintf(text, sizeof text, ANCHOR_MAGIC "\n%lld %s\n", (long long)id, mac);
        int rc = es_write_file_durable(s->anchor_path, text, (size_t)n);
        if (rc)
            ES_ERROR("audit", "%s: cannot write: %s", s->anchor_path, es_strerror(rc));
        else if (id % ANCHOR_LOG_EVERY == 0) /* a copy where the database is not */
            ES_INFO("audit", "anchor row=%lld mac=%s", (long long)id, mac);
    }
    flock(fd, LOCK_UN);
    close(fd);
}

/* ---- appending ---------------------------------------------------------------- */

int review_audit(struct review_store *s, const char *actor, const char *action, const char *target,
                 const char *detail, struct es_err *err)
{
    if (!s->has_key)
        return es_seterr(err, ES_ESTATE, "the audit key is not loaded");
    bool outer; /* a transaction of its own, or a savepoint in the change's */
    if (catalog_tx_begin(s->db, &outer))
        return es_seterr(err, ES_EDB, "audit: %s", db_errmsg(s->db));
    /* one appender at a time across every server on the catalog: the row
     * read as the last is still the last when this one is added */
    if (db_lock(s->db, AUDIT_LOCK)) {
        es_seterr(err, ES_EDB, "audit: %s", db_errmsg(s->db));
        return catalog_tx_end(s->db, outer, ES_EDB);
    }
    char prev_hash[65] = GENESIS, prev_link[65] = GENESIS, hash[65], mac[65];
    struct db_stmt *st = rv_stmt(s, RV_AUDIT_LAST);
    if (db_step(st) == DB_ROW) {
        snprintf(prev_hash, sizeof prev_hash, "%s", (const char *)db_column_text(st, 0));
        const char *m = db_column_text(st, 1);
        snprintf(prev_link, sizeof prev_link, "%s", m ? (const char *)m : prev_hash);
    }
    db_reset(st);
    struct fields f = {.at = es_now_ms(),
                       .actor = actor,
                       .action = action,
                       .target = target ? target : "",
                       .detail = detail ? detail : "{}"};
    row_hash(&f, prev_hash, hash);
    row_mac(s->key, &f, prev_link, mac);
    st = rv_stmt(s, RV_AUDIT_ADD);
    db_bind_int64(st, 1, f.at);
    db_bind_text(st, 2, f.actor, -1);
    db_bind_text(st, 3, f.action, -1);
    db_bind_text(st, 4, f.target, -1);
    db_bind_text(st, 5, f.detail, -1);
    db_bind_text(st, 6, prev_hash, -1);
    db_bind_text(st, 7, hash, -1);
    db_bind_text(st, 8, mac, -1);
    int64_t row = 0;
    int rc = db_step_id(st, &row);
    if (rc)
        es_seterr(err, rc == ES_EEXIST ? rc : ES_EDB, "catalog: audit: %s", db_errmsg(s->db));
    if (!rc) {
        s->pending_id = row;
        memcpy(s->pending_mac, mac, sizeof mac);
    }
    int end = catalog_tx_end(s->db, outer, rc);
    if (end && !rc)
        es_seterr(err, end, "audit: commit failed: %s", db_errmsg(s->db));
    if (!end)
        s->appended++;
    if (end) {
        s->pending_id = 0;
        ES_ERROR("serve", "audit row %s by %s not written: %s", action, actor, err->msg);
    } else if (outer) {
        review_audit_anchor(s);
    }
    return end;
}

uint64_t review_audit_appended(const struct review_store *s)
{
    return s->appended;
}

/* ---- verifying ---------------------------------------------------------------- */

static const char *col(struct db_stmt *st, int i)
{
    const char *t = db_column_text(st, i);
    return t ? (const char *)t : "";
}

int review_audit_verify(struct review_store *s, struct review_audit_check *out, struct es_err *err)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = rv_stmt(s, RV_AUDIT_ALL);
    char prev[65] = GENESIS, link[65] = GENESIS, hash[65], mac[65];
    int64_t last_id = 0;
    bool keyed_seen = false;
    int rc = 0, step = DB_DONE;
    while (!rc && (step = db_step(st)) == DB_ROW) {
        int64_t id = db_column_int64(st, 0);
        struct fields f = {.at = db_column_int64(st, 1),
                           .actor = col(st, 2),
                           .action = col(st, 3),
                           .target = col(st, 4),
                           .detail = col(st, 5)};
        bool has_mac = !db_column_null(st, 8);
        bool gap = last_id && id != last_id + 1;
        if (has_mac) {
            row_mac(s->key, &f, link, mac);
            if (strcmp(mac, col(st, 8))) {
                rc = gap ? es_seterr(err, ES_ECORRUPT,
                                     "audit rows %lld to %lld were removed (row %lld does not"
                                     " follow row %lld)",
                                     (long long)last_id + 1, (long long)id - 1, (long long)id,
                                     (long long)last_id)
                         : es_seterr(err, ES_ECORRUPT,
                                     "audit row %lld was changed, or a row before it removed"
                                     " (its MAC does not match)",
                                     (long long)id);
                break;
            }
            keyed_seen = true;
            out->keyed++;
            memcpy(link, mac, sizeof link);
        } else if (keyed_seen) {
            rc = es_seterr(err, ES_ECORRUPT,
                           "audit row %lld has no MAC after keyed rows: it was inserted or"
                           " rewritten",
                           (long long)id);
            break;
        }
        /* the unkeyed chain: every row, as before keys */
        if (strcmp(col(st, 6), prev)) {
            rc = es_seterr(err, ES_ECORRUPT,
                           "audit row %lld does not follow the row before it (a row was removed,"
                           " reordered or changed)",
                           (long long)id);
            break;
        }
        row_hash(&f, prev, hash);
        if (strcmp(hash, col(st, 7))) {
            rc = es_seterr(err, ES_ECORRUPT, "audit row %lld was changed after it was written",
                           (long long)id);
            break;
        }
        memcpy(prev, hash, sizeof prev);
        if (!has_mac)
            memcpy(link, hash, sizeof link);
        last_id = id;
        out->rows++;
    }
    if (!rc && step != DB_DONE)
        rc = es_seterr(err, ES_EDB, "catalog: %s", db_errmsg(s->db));
    db_reset(st);
    if (rc)
        return rc;
    /* the end of the chain against the anchor */
    int64_t aid;
    char amac[65];
    if (!read_anchor(s->anchor_path, &aid, amac))
        return out->keyed ? es_seterr(err, ES_ECORRUPT,
                                      "the audit anchor %s is missing or unreadable: rows cut"
                                      " from the end could not be told",
                                      s->anchor_path)
                          : 0;
    out->anchor_id = aid;
    if (aid > last_id)
        return es_seterr(err, ES_ECORRUPT,
                         "audit rows from %lld on were removed: the log ends at row %lld, the"
                         " anchor names row %lld",
                         (long long)(last_id + 1), (long long)last_id, (long long)aid);
    st = rv_stmt(s, RV_AUDIT_MAC_OF);
    db_bind_int64(st, 1, aid);
    bool same = db_step(st) == DB_ROW && !strcmp(col(st, 0), amac);
    db_reset(st);
    if (!same)
        return es_seterr(err, ES_ECORRUPT,
                         "audit row %lld is not the row the anchor names: the log was cut and"
                         " written again from there",
                         (long long)aid);
    return 0;
}

int review_subject_ref(struct review_store *s, const char *e164, char out[33])
{
    if (!s->has_key)
        return ES_ESTATE;
    unsigned char d[32];
    crypto_auth_hmacsha256_state h;
    crypto_auth_hmacsha256_init(&h, s->key, 32);
    crypto_auth_hmacsha256_update(&h, (const unsigned char *)"subject:", 8);
    crypto_auth_hmacsha256_update(&h, (const unsigned char *)e164, strlen(e164));
    crypto_auth_hmacsha256_final(&h, d);
    es_hex(d, 16, out);
    sodium_memzero(&h, sizeof h);
    return 0;
}
