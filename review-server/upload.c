/* POST /api/v1/recordings: a PBX or a remote recorder pushes one recording
 * (multipart/form-data: "file", and optionally "meta", a JSON sidecar) with an
 * API token. The file streams to <data>/spool/ and goes through the same
 * ingest as `earshot ingest`: archived and catalogued, or kept in failed/ with
 * its reason — never lost, never half-written. */
#include "review-server/http_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct upload {
    struct MHD_PostProcessor *pp;
    int fd;
    char path[4300];
    struct es_buf meta;
    uint64_t bytes, raw; /* the file's, and the whole body's */
    bool got_file, failed, too_big;
    char why[256];
};

static bool safe_ext(const char *filename, char *ext, size_t extlen)
{
    const char *dot = filename ? strrchr(filename, '.') : NULL;
    if (!dot || strlen(dot + 1) < 1 || strlen(dot + 1) >= extlen)
        return false;
    for (const char *p = dot + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
            return false;
    snprintf(ext, extlen, "%s", dot + 1);
    return true;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    struct req *r = cls;
    struct upload *u = r->upload;
    if (!strcmp(key, "meta")) {
        if (es_buf_append(&u->meta, data, size)) {
            snprintf(u->why, sizeof u->why, "the meta part is larger than 64 KiB");
            u->failed = true;
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (strcmp(key, "file"))
        return MHD_YES; /* other fields are ignored */
    if (off == 0 && u->fd < 0) {
        char dir[4200], ext[12] = "", rnd[17];
        uint8_t b[8];
        snprintf(dir, sizeof dir, "%s/spool", r->srv->data_dir);
        es_mkdir_p(dir, 0750);
        randombytes_buf(b, sizeof b);
        es_hex(b, sizeof b, rnd);
        bool has_ext = safe_ext(filename, ext, sizeof ext);
        snprintf(u->path, sizeof u->path, "%s/upload-%s%s%s", dir, rnd, has_ext ? "." : "", ext);
        u->fd = open(u->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (u->fd < 0) {
            snprintf(u->why, sizeof u->why, "cannot write to the spool directory");
            u->failed = true;
            return MHD_NO;
        }
        u->got_file = true;
    }
    if (u->bytes + size > r->srv->max_upload) {
        u->too_big = true;
        return MHD_NO;
    }
    while (size) {
        ssize_t n = write(u->fd, data, size);
        if (n < 0) {
            snprintf(u->why, sizeof u->why, "writing the upload failed (disk full?)");
            u->failed = true;
            return MHD_NO;
        }
        data += n;
        size -= (size_t)n;
        u->bytes += (uint64_t)n;
    }
    return MHD_YES;
}

int upload_begin(struct req *r)
{
    struct upload *u = calloc(1, sizeof *u);
    if (!u)
        return ES_ENOMEM;
    u->fd = -1;
    es_buf_init(&u->meta, 64 * 1024);
    r->upload = u;
    u->pp = MHD_create_post_processor(r->conn, 64 * 1024, on_part, r);
    return u->pp ? 0 : ES_EINVAL; /* not multipart/form-data (or url-encoded) */
}

/* The partial file goes at once, not when the connection ends. */
static void drop_partial(struct upload *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    if (u->path[0])
        unlink(u->path);
    u->path[0] = '\0';
}

uint64_t upload_received(const struct req *r)
{
    return r->upload->raw;
}

int upload_feed(struct req *r, const char *data, size_t size)
{
    struct upload *u = r->upload;
    u->raw += size;
    /* the file, its multipart framing and the 64 KiB meta part at most */
    if (u->raw > r->srv->max_upload + 128 * 1024)
        u->too_big = true;
    if (!u->too_big && !u->failed && MHD_post_process(u->pp, data, size) != MHD_YES && !u->failed &&
        !u->too_big) {
        snprintf(u->why, sizeof u->why, "the multipart body is malformed");
        u->failed = true;
    }
    if (u->too_big) {
        drop_partial(u);
        return ES_ETOOBIG;
    }
    return 0;
}

void upload_free(struct upload *u)
{
    if (!u)
        return;
    if (u->pp)
        MHD_destroy_post_processor(u->pp);
    if (u->fd >= 0)
        close(u->fd);
    if (u->path[0]) { /* whatever ingest did not take is not left behind */
        char side[4400];
        unlink(u->path);
        snprintf(side, sizeof side, "%s.json", u->path);
        unlink(side);
    }
    es_buf_free(&u->meta);
    free(u);
}

enum MHD_Result api_recordings(struct req *r)
{
    struct upload *u = r->upload;
    if (u->too_big)
        return http_error(r, 413, "the recording is larger than %llu bytes",
                          (unsigned long long)r->srv->max_upload);
    if (u->failed)
        return http_error(r, 400, "%s", u->why);
    if (!u->got_file || u->bytes == 0)
        return http_error(r, 400, "expected a multipart body with a non-empty \"file\" part");
    if (fsync(u->fd) || close(u->fd)) {
        u->fd = -1;
        return http_error(r, 500, "the upload could not be saved");
    }
    u->fd = -1;
    if (u->meta.len) { /* the JSON sidecar next to the file, where ingest looks */
        char side[4400];
        snprintf(side, sizeof side, "%s.json", u->path);
        if (es_write_file_durable(side, u->meta.data, u->meta.len))
            return http_error(r, 500, "the metadata could not be saved");
    }
    struct ingest_job job = {.path = {u->path}, .nlegs = 1};
    struct ingest_result res;
    memset(&res, 0, sizeof res);
    ingest_run(r->srv->ingest, r->w->cat, &job, &res);
    char detail[600];
    snprintf(detail, sizeof detail, "{\"bytes\":%llu,\"status\":\"%s\"}",
             (unsigned long long)u->bytes,
             res.status == INGEST_ARCHIVED  ? "archived"
             : res.status == INGEST_SKIPPED ? "skipped"
                                            : "failed");
    /* the recording is committed by now and is never given up for its audit
     * row; a row that cannot be written is logged as an error */
    struct es_err err = {{0}};
    if (review_audit(r->w->rv, r->token_name, "recording.push", res.id, detail, &err))
        ES_ERROR("serve", "recording %s pushed by token %s: no audit row: %s", res.id,
                 r->token_name, err.msg);
    if (res.status == INGEST_FAILED)
        return http_json(r, 422, json_pack("{s:s, s:s}", "status", "failed", "error", res.msg));
    return http_json(r, res.status == INGEST_ARCHIVED ? 201 : 200,
                     json_pack("{s:s, s:s, s:I, s:s}", "status",
                               res.status == INGEST_ARCHIVED ? "archived" : "skipped", "id", res.id,
                               "duration_ms", (json_int_t)res.duration_ms, "message", res.msg));
}
