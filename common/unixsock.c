/* Local control sockets: a Unix stream socket, one request line in, one reply
 * line out. The recorder's PCI pause/resume control uses it; the socket file
 * lives in the data directory and its mode decides who may talk to it. */
#include "common/common.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_addr(const char *path, struct sockaddr_un *a, struct es_err *err)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path)
        return es_seterr(err, ES_EINVAL, "%s: a socket path must be shorter than %zu bytes", path,
                         sizeof a->sun_path);
    memcpy(a->sun_path, path, strlen(path) + 1);
    return 0;
}

int es_unix_listen(const char *path, unsigned mode, int *fd, struct es_err *err)
{
    struct sockaddr_un a;
    int rc = unix_addr(path, &a, err);
    if (rc)
        return rc;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return es_seterr(err, -errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            close(s);
            return es_seterr(err, ES_EEXIST, "%s: exists and is not a socket", path);
        }
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            close(s);
            return es_seterr(err, ES_EEXIST, "%s: another process is listening there", path);
        }
        close(s);
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            return es_seterr(err, -errno, "%s: %s", path, strerror(errno));
        unlink(path); /* left by a process that is gone */
    }
    /* the mode is the socket's from the start: no moment where anyone may connect */
    mode_t old = umask((mode_t)(~mode & 0777));
    int b = bind(s, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (b != 0 || listen(s, 16) != 0) {
        rc = es_seterr(err, -errno, "%s: %s", path, strerror(errno));
        close(s);
        return rc;
    }
    *fd = s;
    return 0;
}

int es_unix_call(const char *path, const char *line, char *reply, size_t n, int timeout_ms,
                 struct es_err *err)
{
    struct sockaddr_un a;
    int rc = unix_addr(path, &a, err);
    if (rc)
        return rc;
    if (n == 0)
        return es_seterr(err, ES_EINVAL, "no room for the reply");
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return es_seterr(err, -errno, "%s: %s", path, strerror(errno));
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        rc = es_seterr(err, errno == ENOENT || errno == ECONNREFUSED ? ES_ENOTFOUND : -errno,
                       "%s: %s", path, strerror(errno));
        close(s);
        return rc;
    }
    int64_t deadline = es_mono_us() + (int64_t)timeout_ms * 1000;
    size_t len = strlen(line), off = 0;
    while (off < len + 1) { /* the line, then its newline */
        const char *p = off < len ? line + off : "\n";
        size_t k = off < len ? len - off : 1;
        ssize_t w = send(s, p, k, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = es_seterr(err, -errno, "%s: %s", path, strerror(errno));
            close(s);
            return rc;
        }
        off += (size_t)w;
    }
    size_t got = 0;
    for (;;) {
        int64_t left = (deadline - es_mono_us()) / 1000;
        struct pollfd pf = {.fd = s, .events = POLLIN};
        int pr = left > 0 ? poll(&pf, 1, (int)left) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            close(s);
            return es_seterr(err, ES_EAGAIN, "%s: no answer within %d ms", path, timeout_ms);
        }
        ssize_t r = recv(s, reply + got, n - 1 - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = es_seterr(err, -errno, "%s: %s", path, strerror(errno));
            close(s);
            return rc;
        }
        got += (size_t)r;
        reply[got] = '\0';
        char *nl = memchr(reply, '\n', got);
        if (nl || r == 0 || got == n - 1) {
            if (nl)
                *nl = '\0';
            close(s);
            return nl || got ? 0 : es_seterr(err, ES_EFORMAT, "%s: closed without an answer", path);
        }
    }
}
