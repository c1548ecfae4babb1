/* Ingest sessions and crash recovery.
 *
 * Each writing process holds an exclusive flock on <data>/archive/.tmp/<owner>.lock
 * and names its temp files "<owner>-N.tmp". Before a file is renamed into the
 * dated tree its final path is committed to pending_files; the catalog row
 * commit clears it. So after a kill -9, whatever a dead owner left is either a
 * temp file or a pending path without a recording row: both are removed here,
 * and the input, which is only touched after the commit, is archived again. */
#include "archive/catalog_int.h"
#include "archive/ingest_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int lock_path(const char *tmp_dir, const char *owner, char *out, size_t outlen)
{
    return es_fmt(out, outlen, "%s/%s.lock", tmp_dir, owner);
}

/* An owner is alive while some process holds its lock. */
static int owner_alive(const char *tmp_dir, const char *owner)
{
    char p[4400];
    if (lock_path(tmp_dir, owner, p, sizeof p))
        return 0;
    int fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int alive = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return alive;
}

static void remove_dead_temps(struct ingest_session *s)
{
    DIR *d = opendir(s->tmp_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (n[0] == '.' || len < 33 || (n[32] != '-' && n[32] != '.'))
            continue;
        char owner[33];
        memcpy(owner, n, 32);
        owner[32] = '\0';
        if (!strcmp(owner, s->owner) || owner_alive(s->tmp_dir, owner))
            continue;
        char p[4500];
        if (es_fmt(p, sizeof p, "%s/%s", s->tmp_dir, n) == 0 && unlink(p) == 0)
            ES_INFO("ingest", "removed leftover of an interrupted run: %s", p);
    }
    closedir(d);
}

static void remove_dead_pending(struct ingest_session *s, struct catalog *c)
{
    struct {
        char path[512];
        char owner[64];
    } dead[64];
    for (;;) {
        int n = 0;
        struct db_stmt *st = catalog_stmt(c, ST_PENDING_ALL);
        while (n < (int)ES_ARRAY_LEN(dead) && db_step(st) == DB_ROW) {
            const char *path = (const char *)db_column_text(st, 0);
            const char *owner = (const char *)db_column_text(st, 1);
            if (!path || !owner || owner_alive(s->tmp_dir, owner))
                continue;
            snprintf(dead[n].path, sizeof dead[n].path, "%s", path);
            snprintf(dead[n].owner, sizeof dead[n].owner, "%s", owner);
            n++;
        }
        db_reset(st);
        for (int i = 0; i < n; i++) {
            /* not catalogued, so its input was never touched: drop the copy */
            struct es_err gone = {{0}};
            if (archive_file_exists(c, dead[i].path) &&
                archive_file_remove(c, dead[i].path, &gone) == 0)
                ES_INFO("ingest", "removed uncatalogued file of an interrupted run: %s",
                        dead[i].path);
            catalog_pending_remove(c, dead[i].path);
        }
        if (n < (int)ES_ARRAY_LEN(dead))
            break;
    }
}

int ingest_session_open(const struct ingest_opts *o, struct ingest_session **out,
                        struct es_err *err)
{
    *out = NULL;
    struct ingest_session *s = calloc(1, sizeof *s);
    if (!s)
        return ES_ENOMEM;
    s->o = *o;
    s->lock_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    uint8_t rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    es_hex(rnd, sizeof rnd, s->owner);
    char p[4400], failed[4200];
    int rc;
    if (es_fmt(s->tmp_dir, sizeof s->tmp_dir, "%s/archive/.tmp", o->data_dir) ||
        es_fmt(failed, sizeof failed, "%s/failed", o->data_dir)) {
        rc = es_seterr(err, ES_EINVAL, "data directory path too long");
        goto fail;
    }
    rc = es_mkdir_p(s->tmp_dir, 0750);
    if (!rc)
        rc = es_mkdir_p(failed, 0750);
    if (rc) {
        es_seterr(err, rc, "%s: %s", o->data_dir, es_strerror(rc));
        goto fail;
    }
    lock_path(s->tmp_dir, s->owner, p, sizeof p);
    s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX) != 0) {
        rc = es_seterr(err, -errno, "%s: %s", p, strerror(errno));
        goto fail;
    }
    struct catalog *c;
    rc = catalog_open(o->data_dir, &c, err);
    if (rc)
        goto fail;
    remove_dead_pending(s, c);
    catalog_close(c);
    remove_dead_temps(s);
    *out = s;
    return 0;
fail:
    ingest_session_close(s);
    return rc;
}

void ingest_session_close(struct ingest_session *s)
{
    if (!s)
        return;
    if (s->lock_fd >= 0) {
        char p[4400];
        if (lock_path(s->tmp_dir, s->owner, p, sizeof p) == 0)
            unlink(p);
        close(s->lock_fd);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const char *ingest_session_data_dir(const struct ingest_session *s)
{
    return s->o.data_dir;
}

struct ingest_opts ingest_opts_default(const char *data_dir, const char *source)
{
    return (struct ingest_opts){.data_dir = data_dir,
                                .disposition = INGEST_KEEP,
                                .bitrate_mono = 16000,
                                .bitrate_stereo = 24000,
                                .max_rate = INGEST_MAX_RATE,
                                .complexity = -1,
                                .leg_suffix = {"-in", "-out"},
                                .source = source};
}
