/* Private to archive/: the ingest session shared by a process's workers. */
#ifndef EARSHOT_INGEST_INT_H
#define EARSHOT_INGEST_INT_H

#include "archive/archive.h"

#include <pthread.h>

struct ingest_session {
    struct ingest_opts o;
    char owner[33];     /* random token naming this process's temp files */
    char tmp_dir[4200]; /* <data>/archive/.tmp, on the archive's file system */
    int lock_fd;        /* flock held for the life of the process */
    pthread_mutex_t mu;
    unsigned long seq; /* temp file counter */
};

/* Moves a finished writer's file to relpath in the archive with a pending
 * mark (owned by the session), without a catalog row: the caller's
 * transaction catalogs it and clears the mark, or the caller removes the file
 * and the mark. rec and an (whose peaks the caller then owns) describe it. */
int archive_writer_place(struct archive_writer *w, struct catalog *c, const char *relpath,
                         struct archive_recording *rec, struct archive_analysis *an,
                         struct es_err *err);

/* Runs one batch of paths (files; legs among them are paired). */
typedef void (*ingest_batch_fn)(void *ud, struct ingest_session *s, char **paths, size_t n,
                                int jobs, int json);
/* Watches dir until SIGTERM/SIGINT, handing finished files to run_batch. */
int ingest_watch(struct ingest_session *s, const char *dir, int jobs, int json, int64_t settle_ms,
                 ingest_batch_fn run_batch, void *ud);

/* Decodes src and writes it again into w at rate, with [lo, hi) silent
 * (frames; lo == hi: nothing). */
int archive_reencode(struct archive_writer *w, struct audio_src *src, int rate, int channels,
                     int64_t lo, int64_t hi, struct es_err *err);

#endif
