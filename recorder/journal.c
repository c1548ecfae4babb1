/* The journal of calls in progress: what a recorder killed mid-call (kill -9,
 * a crash, a power cut) leaves for the next one to archive them with.
 *
 * Each worker keeps one journal (a spool file, spool.c) in its process's
 * spill directory, where its writers also keep their temp files. BEGIN says a
 * call's writer opened (the call's identity, the temp file and how to read it:
 * rate, channels, the wrapped data key of a sealed file); END says the call
 * was committed or dropped. The worker checkpoints its writers every
 * half second (the Ogg pages encoded so far reach the file) and the pool makes
 * the file system durable once a second (syncfs), so a killed process loses at
 * most the mixer's latency plus half a second of each call's audio, and a
 * power cut at most a second more.
 *
 * The next recorder finds the directory unlocked (its owner is gone), reads the
 * journals, and archives every call that has a BEGIN and no END from its temp
 * file (archive_recover), marked "interrupted": true in its details. A call the
 * dead process had committed but not yet marked END is found archived already
 * (its identity is the dialog's, so never twice). */
#include "recorder/record_int.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { J_BEGIN = 1, J_END = 2 };

struct rec_journal {
    struct spool_writer *sw;
    char path[4200];
    struct spool_writer *old; /* while a rewrite is under way */
    bool failed_said;
};

int rec_journal_open(const char *dir, int index, struct rec_journal **out, struct es_err *err)
{
    *out = NULL;
    struct rec_journal *j = calloc(1, sizeof *j);
    if (!j)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    if (es_fmt(j->path, sizeof j->path, "%s/calls-%d.journal", dir, index)) {
        free(j);
        return es_seterr(err, ES_ETOOBIG, "%s: path too long", dir);
    }
    int rc = spool_open(j->path, 0, &j->sw, err);
    if (rc) {
        free(j);
        return rc;
    }
    *out = j;
    return 0;
}

void rec_journal_close(struct rec_journal *j)
{
    if (!j)
        return;
    spool_close(j->old);
    spool_close(j->sw);
    free(j);
}

uint64_t rec_journal_bytes(const struct rec_journal *j)
{
    return j ? spool_bytes(j->sw) : 0;
}

/* A journal only grows; a long capture rewrites it now and then with the
 * calls still in progress: BEGINs go to PATH.new, which replaces the journal
 * in one rename (a crash before it leaves the old one, whole). */
int rec_journal_rewrite_begin(struct rec_journal *j, struct es_err *err)
{
    char tmp[4300];
    if (es_fmt(tmp, sizeof tmp, "%s.new", j->path))
        return es_seterr(err, ES_ETOOBIG, "%s: path too long", j->path);
    unlink(tmp);
    struct spool_writer *sw;
    int rc = spool_open(tmp, 0, &sw, err);
    if (rc)
        return rc;
    j->old = j->sw;
    j->sw = sw;
    return 0;
}

int rec_journal_rewrite_end(struct rec_journal *j, struct es_err *err)
{
    char tmp[4300];
    es_fmt(tmp, sizeof tmp, "%s.new", j->path);
    int rc = spool_flush(j->sw);
    if (!rc && rename(tmp, j->path) != 0)
        rc = -errno;
    if (rc) { /* the old journal stays the one: back to it */
        spool_close(j->sw);
        unlink(tmp);
        j->sw = j->old;
        j->old = NULL;
        return es_seterr(err, rc, "%s: cannot rewrite: %s", j->path, es_strerror(rc));
    }
    spool_close(j->old);
    j->old = NULL;
    return 0;
}

static void put(struct rec_journal *j, uint16_t type, json_t *o)
{
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    int rc = t ? spool_append(j->sw, type, t, strlen(t)) : ES_ENOMEM;
    if (!rc)
        rc = spool_flush(j->sw); /* in the kernel now: a kill -9 cannot take it */
    if (rc && !j->failed_said) {
        ES_ERROR("record",
                 "the journal of calls in progress cannot be written (%s): calls in "
                 "progress would not be recovered after a crash",
                 es_strerror(rc));
        j->failed_said = true;
    }
    free(t);
    json_decref(o);
}

void rec_journal_begin(struct rec_journal *j, const struct archive_call *k,
                       const struct archive_writer *aw)
{
    if (!j)
        return;
    struct archive_partial p;
    archive_writer_partial(aw, &p);
    const char *base = strrchr(p.tmp, '/');
    char wrapped[2 * ARCHIVE_WRAPPED_LEN + 1];
    es_hex(p.wrapped, sizeof p.wrapped, wrapped);
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, "
        "s:b, s:s, s:s}",
        "tmp", base ? base + 1 : p.tmp, "id", k->id, "started_at", (json_int_t)k->started_at,
        "direction", k->direction, "caller", k->caller, "callee", k->callee, "operator",
        k->operator_, "customer", k->customer, "queue", k->queue, "source", k->source, "source_ref",
        k->source_ref, "source_sha256", k->source_sha256, "sip_call_id", k->sip_call_id, "rate",
        p.rate, "channels", p.channels, "source_rate", p.source_rate, "bitrate", p.bitrate,
        "sealed", p.sealed, "key_id", p.key_id, "wrapped", p.sealed ? wrapped : "");
    put(j, J_BEGIN, o);
}

void rec_journal_end(struct rec_journal *j, const char *call_id)
{
    if (j)
        put(j, J_END, json_pack("{s:s}", "id", call_id));
}

static void text(json_t *o, const char *key, char *out, size_t n)
{
    const char *v = json_string_value(json_object_get(o, key));
    snprintf(out, n, "%s", v ? v : "");
}

/* One call the dead recorder had in progress, archived from its temp file. */
static int recover_one(const char *dir, json_t *b, struct ingest_session *s, struct catalog *c,
                       struct es_err *err)
{
    struct archive_partial p = {0};
    struct archive_call *k = calloc(1, sizeof *k);
    if (!k)
        return es_seterr(err, ES_ENOMEM, "out of memory");
    char tmp[256];
    text(b, "tmp", tmp, sizeof tmp);
    int rc = 0;
    if (!tmp[0] || strchr(tmp, '/') || es_fmt(p.tmp, sizeof p.tmp, "%s/%s", dir, tmp))
        rc = es_seterr(err, ES_ECORRUPT, "a journal entry without its temp file");
    text(b, "id", k->id, sizeof k->id);
    k->started_at = json_integer_value(json_object_get(b, "started_at"));
    text(b, "direction", k->direction, sizeof k->direction);
    text(b, "caller", k->caller, sizeof k->caller);
    text(b, "callee", k->callee, sizeof k->callee);
    text(b, "operator", k->operator_, sizeof k->operator_);
    text(b, "customer", k->customer, sizeof k->customer);
    text(b, "queue", k->queue, sizeof k->queue);
    text(b, "source", k->source, sizeof k->source);
    text(b, "source_ref", k->source_ref, sizeof k->source_ref);
    text(b, "source_sha256", k->source_sha256, sizeof k->source_sha256);
    text(b, "sip_call_id", k->sip_call_id, sizeof k->sip_call_id);
    snprintf(k->disposition, sizeof k->disposition, "answered");
    snprintf(k->meta_sources, sizeof k->meta_sources, "{}");
    snprintf(k->tags, sizeof k->tags, "[]");
    k->ring_ms = k->talk_ms = -1;
    /* what is known: it was cut short; the statistics went with the process */
    snprintf(k->details, sizeof k->details, "{\"interrupted\":true}");
    p.rate = (int)json_integer_value(json_object_get(b, "rate"));
    p.channels = (int)json_integer_value(json_object_get(b, "channels"));
    p.source_rate = (int)json_integer_value(json_object_get(b, "source_rate"));
    p.bitrate = (int)json_integer_value(json_object_get(b, "bitrate"));
    p.sealed = json_is_true(json_object_get(b, "sealed"));
    text(b, "key_id", p.key_id, sizeof p.key_id);
    char wrapped[2 * ARCHIVE_WRAPPED_LEN + 8];
    text(b, "wrapped", wrapped, sizeof wrapped);
    if (!rc && (!k->id[0] || !k->source_sha256[0] || !p.rate || !p.channels))
        rc = es_seterr(err, ES_ECORRUPT, "%s: its journal entry is incomplete", tmp);
    if (!rc && p.sealed &&
        (strlen(wrapped) != 2 * ARCHIVE_WRAPPED_LEN ||
         sodium_hex2bin(p.wrapped, sizeof p.wrapped, wrapped, strlen(wrapped), NULL, NULL, NULL)))
        rc = es_seterr(err, ES_ECORRUPT, "%s: its journal entry has no data key", tmp);
    if (!rc)
        rc = archive_recover(s, c, &p, k, err);
    free(k);
    return rc;
}

/* One worker's journal: its calls with a BEGIN and no END. */
static void recover_journal(const char *dir, const char *path, struct ingest_session *s,
                            struct catalog *c, struct rec_recovery *out)
{
    struct spool_reader *r;
    struct es_err err = {{0}};
    if (spool_reader_open(path, 0, &r, &err)) {
        ES_ERROR("record", "%s", err.msg);
        return;
    }
    json_t *open = json_object(); /* id -> BEGIN */
    uint16_t type;
    const void *p;
    size_t n;
    int rc;
    while ((rc = spool_next(r, &type, &p, &n)) == 0) {
        json_t *o = json_loadb(p, n, 0, NULL);
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id && type == J_BEGIN)
            json_object_set(open, id, o);
        else if (id && type == J_END)
            json_object_del(open, id);
        json_decref(o);
    }
    if (rc == ES_ECORRUPT) /* a torn tail is the normal end of a killed writer's journal */
        ES_WARN("record", "%s: unreadable after byte %llu; the entries before it are used", path,
                (unsigned long long)spool_reader_offset(r));
    spool_reader_close(r);
    const char *id;
    json_t *b;
    json_object_foreach(open, id, b)
    {
        struct es_err e = {{0}};
        rc = recover_one(dir, b, s, c, &e);
        if (!rc) {
            out->recovered++;
            ES_WARN("record",
                    "call %s was in progress when its recorder stopped: archived up to "
                    "its last durable audio, marked interrupted",
                    id);
        } else if (rc == ES_EEXIST) {
            out->already++;
        } else if (rc == ES_EEMPTY) {
            out->empty++;
            ES_WARN("record", "call %s was in progress when its recorder stopped: %s", id, e.msg);
        } else {
            out->failed++;
            ES_ERROR("record",
                     "call %s was in progress when its recorder stopped and cannot be "
                     "recovered: %s (its temp file is kept)",
                     id, e.msg);
        }
    }
    json_decref(open);
}

int rec_journal_recover(const char *dir, struct ingest_session *s, struct catalog *c,
                        struct rec_recovery *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "calls-", 6) || len < 8 || strcmp(e->d_name + len - 8, ".journal"))
            continue;
        char path[4400];
        if (!es_fmt(path, sizeof path, "%s/%s", dir, e->d_name))
            recover_journal(dir, path, s, c, out);
    }
    closedir(d);
    return out->failed ? ES_ECORRUPT : 0;
}
