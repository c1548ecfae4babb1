#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int es_mkdir_p(const char *path, unsigned mode)
{
    char tmp[4096];
    if (es_fmt(tmp, sizeof tmp, "%s", path))
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int es_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) != 0 ? -errno : 0;
    close(fd);
    return rc;
}

int es_dirname(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return es_fmt(out, outlen, ".");
    if (slash == path)
        return es_fmt(out, outlen, "/");
    return es_fmt(out, outlen, "%.*s", (int)(slash - path), path);
}

const char *es_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int es_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Shared tail of the durable writers: fsync and close tmp, rename over dst,
 * fsync the directory. Removes tmp on failure. */
static int commit_tmp(int fd, const char *tmp, const char *dst, int rc)
{
    if (!rc && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, dst) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    char dir[4096];
    if (es_dirname(dst, dir, sizeof dir))
        return -ENAMETOOLONG;
    return es_fsync_dir(dir);
}

static int open_tmp(const char *dst, char *tmp, size_t tmplen)
{
    char dir[4096];
    if (es_dirname(dst, dir, sizeof dir) ||
        es_fmt(tmp, tmplen, "%s/.%s.XXXXXX", dir, es_basename(dst)))
        return -ENAMETOOLONG;
    int fd = mkostemp(tmp, O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int es_write_file_durable(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    int fd = open_tmp(path, tmp, sizeof tmp);
    if (fd < 0)
        return fd;
    return commit_tmp(fd, tmp, path, es_write_all(fd, data, len));
}

int es_copy_file_durable(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    char tmp[4200];
    int fd = open_tmp(dst, tmp, sizeof tmp);
    if (fd < 0) {
        close(in);
        return fd;
    }
    int rc = 0;
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        rc = es_write_all(fd, buf, (size_t)n);
        if (rc)
            break;
    }
    close(in);
    return commit_tmp(fd, tmp, dst, rc);
}

int es_sha256_file(const char *path, uint8_t out[32], uint64_t *bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    uint64_t total = 0;
    int rc = 0;
    unsigned char *buf = malloc(1 << 17);
    if (!buf) {
        close(fd);
        return ES_ENOMEM;
    }
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 17);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
        total += (uint64_t)n;
    }
    free(buf);
    close(fd);
    if (rc)
        return rc;
    crypto_hash_sha256_final(&st, out);
    if (bytes)
        *bytes = total;
    return 0;
}

void es_hex(const uint8_t *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int es_read_file(const char *path, size_t cap, struct es_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    es_buf_init(out, cap);
    int rc = 0;
    char buf[16384];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        rc = es_buf_append(out, buf, (size_t)n);
        if (rc)
            break;
    }
    close(fd);
    if (rc)
        es_buf_free(out);
    else if (!out->data)
        rc = es_buf_append(out, "", 0);
    return rc;
}
