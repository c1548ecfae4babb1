/* earshot ingest --watch DIR: archive recordings as the PBX finishes them.
 *
 * Only files that were closed after writing (IN_CLOSE_WRITE) or moved in
 * (IN_MOVED_TO) are considered, and each waits a settle delay during which it
 * must not change, so a sidecar or the second MixMonitor leg written just
 * after it is there in time. Watches are set before the initial scan, so a
 * file finished during start-up is not missed; the scan itself picks up
 * whatever arrived while earshot was down. */
#include "archive/ingest_int.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WATCHES 4096
#define MAX_PENDING 65536

struct pending {
    char *path;
    int64_t due;   /* ms */
    int64_t mtime; /* ns, as last seen */
    off_t size;
};

struct watcher {
    int fd;
    int nwd;
    int wd[MAX_WATCHES];
    char *dir[MAX_WATCHES];
    struct pending *p;
    size_t np, cap;
    int64_t settle_ms;
    const char *leg_suffix[2];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t mono_ms(void)
{
    return es_mono_us() / 1000;
}

static int add_watch(struct watcher *w, const char *dir)
{
    if (w->nwd == MAX_WATCHES) {
        ES_WARN("watch", "%s: more than %d directories, not watched", dir, MAX_WATCHES);
        return ES_ETOOBIG;
    }
    int wd = inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
    if (wd < 0) {
        ES_WARN("watch", "%s: cannot watch: %s", dir, strerror(errno));
        return -errno;
    }
    for (int i = 0; i < w->nwd; i++)
        if (w->wd[i] == wd)
            return 0;
    w->wd[w->nwd] = wd;
    w->dir[w->nwd++] = strdup(dir);
    return 0;
}

static const char *dir_of(struct watcher *w, int wd)
{
    for (int i = 0; i < w->nwd; i++)
        if (w->wd[i] == wd)
            return w->dir[i];
    return NULL;
}

static int ignored_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] == '.' || (dot && (!strcmp(dot, ".json") || !strcmp(dot, ".reason")));
}

/* (Re)arms a file: it becomes due once it has been still for the settle time. */
static void arm(struct watcher *w, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    int64_t due = mono_ms() + w->settle_ms;
    for (size_t i = 0; i < w->np; i++) {
        if (!strcmp(w->p[i].path, path)) {
            w->p[i].due = due;
            return;
        }
    }
    if (w->np == MAX_PENDING) {
        ES_WARN("watch", "%s: too many files waiting; picked up at the next restart", path);
        return;
    }
    if (w->np == w->cap) {
        size_t c = w->cap ? w->cap * 2 : 64;
        struct pending *p = realloc(w->p, c * sizeof *p);
        if (!p)
            return;
        w->p = p;
        w->cap = c;
    }
    struct pending *e = &w->p[w->np];
    e->path = strdup(path);
    if (!e->path)
        return;
    e->due = due;
    e->mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    e->size = st.st_size;
    w->np++;
}

/* Walks dir: watches every directory (empty ones too: files may appear in
 * them later), arms every file. */
static void scan(struct watcher *w, const char *dir, int depth)
{
    if (depth > 32 || add_watch(w, dir) == ES_ETOOBIG)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[4200];
        struct stat st;
        if (e->d_name[0] == '.' || es_fmt(p, sizeof p, "%s/%s", dir, e->d_name) ||
            stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            scan(w, p, depth + 1);
        else if (S_ISREG(st.st_mode) && !ignored_name(e->d_name))
            arm(w, p);
    }
    closedir(d);
}

static void read_events(struct watcher *w)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            const char *dir = dir_of(w, ev->wd);
            if (ev->mask & IN_Q_OVERFLOW)
                ES_WARN("watch", "event queue overflowed; rescan on restart picks up the rest");
            if (!dir || !ev->len || ev->name[0] == '.')
                continue;
            char path[4200];
            if (es_fmt(path, sizeof path, "%s/%s", dir, ev->name))
                continue;
            if (ev->mask & IN_ISDIR)
                scan(w, path, 1); /* new directory: watch it, take what is already inside */
            else if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) && !ignored_name(ev->name))
                arm(w, path);
            else if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) && strstr(ev->name, ".json")) {
                /* a late sidecar re-arms its recording */
                char audio[4200];
                if (es_fmt(audio, sizeof audio, "%.*s", (int)(strlen(path) - 5), path) == 0)
                    for (size_t i = 0; i < w->np; i++)
                        if (!strcmp(w->p[i].path, audio))
                            w->p[i].due = mono_ms() + w->settle_ms;
            }
        }
    }
}

/* The other MixMonitor leg of path, if path is a leg. */
static int partner_of(struct watcher *w, const char *path, char *out, size_t outlen)
{
    const char *base = es_basename(path);
    const char *dot = strrchr(base, '.');
    size_t end = dot ? (size_t)(dot - path) : strlen(path);
    for (int k = 0; k < 2; k++) {
        size_t sl = strlen(w->leg_suffix[k]);
        if (sl && end > sl && !strncmp(path + end - sl, w->leg_suffix[k], sl))
            return es_fmt(out, outlen, "%.*s%s%s", (int)(end - sl), path, w->leg_suffix[1 - k],
                          dot ? dot : "");
    }
    return ES_ENOTFOUND;
}

/* A leg whose partner still waits waits with it, so the pair stays one call. */
static int partner_waiting(struct watcher *w, const char *path, int64_t now, int64_t *due)
{
    char other[4200];
    if (partner_of(w, path, other, sizeof other))
        return 0;
    for (size_t i = 0; i < w->np; i++) {
        if (w->p[i].due > now && !strcmp(w->p[i].path, other)) {
            *due = w->p[i].due;
            return 1;
        }
    }
    return 0;
}

/* Takes the due files that have not changed; changed ones wait again. */
static size_t take_due(struct watcher *w, char ***out)
{
    int64_t now = mono_ms();
    char **due = calloc(w->np + 1, sizeof *due);
    *out = due;
    size_t n = 0;
    if (!due)
        return 0;
    for (size_t i = 0; i < w->np;) {
        struct pending *e = &w->p[i];
        if (e->due > now) {
            i++;
            continue;
        }
        struct stat st;
        int gone = stat(e->path, &st) != 0;
        int64_t mt = gone ? 0 : (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        if (!gone && (mt != e->mtime || st.st_size != e->size)) {
            e->mtime = mt;
            e->size = st.st_size;
            e->due = now + w->settle_ms;
            i++;
            continue;
        }
        if (!gone && partner_waiting(w, e->path, now, &e->due)) {
            i++;
            continue;
        }
        if (gone)
            free(e->path);
        else
            due[n++] = e->path;
        w->p[i] = w->p[--w->np];
    }
    *out = due;
    return n;
}

static int64_t next_due(struct watcher *w)
{
    int64_t next = -1;
    for (size_t i = 0; i < w->np; i++)
        if (next < 0 || w->p[i].due < next)
            next = w->p[i].due;
    return next;
}

int ingest_watch(struct ingest_session *s, const char *dir, int jobs, int json, int64_t settle_ms,
                 ingest_batch_fn run_batch, void *ud)
{
    struct watcher w = {.settle_ms = settle_ms,
                        .leg_suffix = {s->o.leg_suffix[0], s->o.leg_suffix[1]}};
    w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w.fd < 0) {
        ES_ERROR("watch", "inotify: %s", strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    scan(&w, dir, 0);
    ES_INFO("watch", "watching %s (%d directories, %zu files to check, settle %lld ms)", dir, w.nwd,
            w.np, (long long)settle_ms);
    int rc = 0;
    while (!stop_requested) {
        int64_t nd = next_due(&w), now = mono_ms();
        int timeout = nd < 0 ? 1000 : (int)ES_MAX(0, ES_MIN(1000, nd - now));
        struct pollfd pfd = {.fd = w.fd, .events = POLLIN};
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno != EINTR) {
            ES_ERROR("watch", "poll: %s", strerror(errno));
            rc = 1;
            break;
        }
        if (pr > 0)
            read_events(&w);
        char **due = NULL;
        size_t n = take_due(&w, &due);
        if (n)
            run_batch(ud, s, due, n, jobs, json);
        for (size_t i = 0; i < n; i++)
            free(due[i]);
        free(due);
    }
    ES_INFO("watch", "stopping");
    for (size_t i = 0; i < w.np; i++)
        free(w.p[i].path);
    free(w.p);
    for (int i = 0; i < w.nwd; i++)
        free(w.dir[i]);
    close(w.fd);
    return rc;
}
