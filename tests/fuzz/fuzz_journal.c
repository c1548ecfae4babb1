/* A journal of calls in progress as a dead recorder may leave it, taken over
 * by the next: the entry's JSON and the temp file it names are what the
 * input says. Recovery archives the call, or says why not, and never crashes
 * on a wrong field, a name with a slash, a missing or corrupt temp file.
 * Input: the BEGIN entry's JSON, a NUL byte, the temp file's bytes. The
 * seeds' temp file is earshot's own recording of the real capture
 * tests/data/pcap/sip-rtp-g722.pcap (its source in that directory's SOURCES.md). */
#include "recorder/record_int.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static struct ingest_session *sess;
static struct catalog *cat;

static void setup(void)
{
    es_log_set_level(ES_LOG_QUIET);
    snprintf(root, sizeof root, "/tmp/earshot-fuzz-journal-XXXXXX");
    if (!mkdtemp(root))
        abort();
    struct ingest_opts o = ingest_opts_default(root, "recorder");
    o.complexity = 0; /* the fastest encoder: the harness is about the journal */
    struct es_err e;
    if (ingest_session_open(&o, &sess, &e) || catalog_open(root, &cat, &e))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sess)
        setup();
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    char dir[128], path[256];
    snprintf(dir, sizeof dir, "%s/spill-x", root);
    if (mkdir(dir, 0700) != 0)
        return 0;
    struct spool_writer *w;
    struct es_err e;
    snprintf(path, sizeof path, "%s/calls-0.journal", dir);
    if (spool_open(path, 0, &w, &e) == 0) {
        spool_append(w, 1, data, jlen);
        spool_close(w);
    }
    /* the temp file the entry names, if its name is one */
    json_t *o = json_loadb((const char *)data, jlen, 0, NULL);
    const char *tmp = json_string_value(json_object_get(o, "tmp"));
    if (nul && tmp && tmp[0] && !strchr(tmp, '/') && strlen(tmp) < 64 && strcmp(tmp, ".") &&
        strcmp(tmp, "..")) {
        snprintf(path, sizeof path, "%s/%s", dir, tmp);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(nul + 1, 1, size - jlen - 1, f);
            fclose(f);
        }
    }
    json_decref(o);
    struct rec_recovery rr = {0};
    rec_journal_recover(dir, sess, cat, &rr);
    if (rr.recovered + rr.already + rr.empty + rr.failed > 1)
        __builtin_trap();  /* one entry, one outcome at most */
    DIR *d = opendir(dir); /* what recovery left (a temp file it could not read) */
    struct dirent *ent;
    while (d && (ent = readdir(d)))
        if (ent->d_name[0] != '.' || (ent->d_name[1] && strcmp(ent->d_name, "..")))
            if (snprintf(path, sizeof path, "%s/%s", dir, ent->d_name) < (int)sizeof path)
                unlink(path);
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}
