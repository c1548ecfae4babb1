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

#endif
