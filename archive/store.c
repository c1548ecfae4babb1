/* The audio store: the recordings' bytes, named by their path relative to the
 * data directory ("archive/2026/11/30/<id>.opus"). This is the one file that
 * turns those names into local paths; every module opens, places, moves, lists
 * and removes recordings through it, so another store (a second disk, object
 * storage) replaces this file, not its callers.
 *
 * Durability: a file is placed by renaming a finished, fsynced temp file into
 * its directory, then fsyncing that directory and the temp file's; a removal
 * fsyncs the directory, so a power cut after the call returns cannot bring the
 * name back. */
#include "archive/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* rel as a local path. Names come from the catalog, which a hostile or broken
 * row could fill: absolute paths and ".." components are refused. */
static int local(struct catalog *c, const char *rel, char *out, size_t n, struct es_err *err)
{
    if (!rel[0] || rel[0] == '/')
        return es_seterr(err, ES_EINVAL, "%s: not a path inside the data directory", rel);
    for (const char *p = rel; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if ((len == 2 && !memcmp(p, "..", 2)) || len == 0)
            return es_seterr(err, ES_EINVAL, "%s: not a path inside the data directory", rel);
        p += len + (slash != NULL);
    }
    if (es_fmt(out, n, "%s/%s", catalog_data_dir(c), rel))
        return es_seterr(err, ES_ETOOBIG, "%s: path too long", rel);
    return 0;
}

static int sync_parent(const char *path)
{
    char dir[4700];
    return es_dirname(path, dir, sizeof dir) ? ES_EINVAL : es_fsync_dir(dir);
}

int archive_file_open(struct catalog *c, const char *rel, int *fd, struct es_err *err)
{
    char full[4700];
    int rc = local(c, rel, full, sizeof full, err);
    if (rc)
        return rc;
    *fd = open(full, O_RDONLY | O_CLOEXEC);
    return *fd < 0 ? es_seterr(err, -errno, "%s: %s", rel, strerror(errno)) : 0;
}

bool archive_file_exists(struct catalog *c, const char *rel)
{
    char full[4700];
    struct es_err err;
    return local(c, rel, full, sizeof full, &err) == 0 && access(full, F_OK) == 0;
}

int archive_file_hash(struct catalog *c, const char *rel, uint8_t sha256[32], uint64_t *bytes)
{
    char full[4700];
    struct es_err err;
    int rc = local(c, rel, full, sizeof full, &err);
    return rc ? rc : es_sha256_file(full, sha256, bytes);
}

int archive_file_read(struct catalog *c, const char *rel, size_t max, struct es_buf *out,
                      struct es_err *err)
{
    char full[4700];
    int rc = local(c, rel, full, sizeof full, err);
    if (!rc && (rc = es_read_file(full, max, out)))
        es_seterr(err, rc, "%s: %s", rel, es_strerror(rc));
    return rc;
}

int archive_file_place(struct catalog *c, const char *tmp_path, const char *rel, struct es_err *err)
{
    char full[4700], dir[4700];
    int rc = local(c, rel, full, sizeof full, err);
    if (rc)
        return rc;
    es_dirname(full, dir, sizeof dir);
    if ((rc = es_mkdir_p(dir, 0750)))
        return es_seterr(err, rc, "cannot create %s: %s", dir, es_strerror(rc));
    if (rename(tmp_path, full) != 0)
        return es_seterr(err, -errno, "cannot move into the archive: %s", strerror(errno));
    rc = es_fsync_dir(dir);
    if (!rc)
        rc = sync_parent(tmp_path);
    if (rc) { /* not durable: take it back out rather than claim it */
        unlink(full);
        return es_seterr(err, rc, "cannot move into the archive: %s", es_strerror(rc));
    }
    return 0;
}

int archive_file_move(struct catalog *c, const char *from, const char *to, struct es_err *err)
{
    char a[4700], b[4700], dir[4700];
    int rc = local(c, from, a, sizeof a, err);
    if (!rc)
        rc = local(c, to, b, sizeof b, err);
    if (rc)
        return rc;
    es_dirname(b, dir, sizeof dir);
    if ((rc = es_mkdir_p(dir, 0750)))
        return es_seterr(err, rc, "cannot create %s: %s", dir, es_strerror(rc));
    if (rename(a, b) != 0)
        return es_seterr(err, -errno, "%s → %s: %s", from, to, strerror(errno));
    rc = es_fsync_dir(dir);
    if (!rc)
        rc = sync_parent(a);
    return rc ? es_seterr(err, rc, "%s → %s: %s", from, to, es_strerror(rc)) : 0;
}

int archive_file_write(struct catalog *c, const char *rel, const void *data, size_t len,
                       struct es_err *err)
{
    char full[4700], dir[4700];
    int rc = local(c, rel, full, sizeof full, err);
    if (rc)
        return rc;
    es_dirname(full, dir, sizeof dir);
    if ((rc = es_mkdir_p(dir, 0750)) || (rc = es_write_file_durable(full, data, len)))
        return es_seterr(err, rc, "%s: %s", rel, es_strerror(rc));
    return 0;
}

int archive_file_remove(struct catalog *c, const char *rel, struct es_err *err)
{
    char full[4700];
    int rc = local(c, rel, full, sizeof full, err);
    if (rc)
        return rc;
    if (unlink(full) != 0) {
        if (errno == ENOENT)
            return 0; /* gone already: what was asked */
        return es_seterr(err, -errno, "%s: %s", rel, strerror(errno));
    }
    sync_parent(full);
    return 0;
}

int archive_file_destroy(struct catalog *c, const char *rel, struct es_err *err)
{
    char full[4700];
    int rc = local(c, rel, full, sizeof full, err);
    if (rc)
        return rc;
    int fd = open(full, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        static const char zeros[65536];
        off_t left = st.st_size;
        while (left > 0) {
            ssize_t w = write(fd, zeros, left < (off_t)sizeof zeros ? (size_t)left : sizeof zeros);
            if (w <= 0)
                break;
            left -= w;
        }
        if (fsync(fd) != 0)
            rc = es_seterr(err, -errno, "%s: the overwrite could not be flushed: %s", rel,
                           strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    int gone = archive_file_remove(c, rel, err);
    return gone ? gone : rc;
}

static int walk(struct catalog *c, const char *rel, int depth, int (*cb)(void *ud, const char *rel),
                void *ud)
{
    char full[4700];
    struct es_err err;
    if (local(c, rel, full, sizeof full, &err))
        return 0;
    DIR *d = opendir(full);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", and .tmp, which belongs to running writers */
        char sub[4700];
        if (es_fmt(sub, sizeof sub, "%s/%s", rel, e->d_name))
            continue;
        rc = depth > 1 ? walk(c, sub, depth - 1, cb, ud) : cb(ud, sub);
    }
    closedir(d);
    return rc;
}

int archive_file_list(struct catalog *c, const char *under, int depth,
                      int (*cb)(void *ud, const char *rel), void *ud)
{
    return walk(c, under, depth, cb, ud);
}
