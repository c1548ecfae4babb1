/* GET /api/v1/export.csv and /export.xlsx: the scored call list with the
 * same filters as /calls, streamed so that a million rows keep memory flat.
 * Each export has its own catalog connection and statement, stepped as the
 * client reads; XLSX goes through libxlsxwriter's constant-memory mode into a
 * temporary file that is unlinked as soon as it is open. */
#include "review-server/http_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define NCOLS 19

static const char *const headers[NCOLS] = {
    "call_id",        "started_at", "duration_s",  "direction",    "operator",
    "caller",         "callee",     "disposition", "reason",       "rubric",
    "rubric_version", "reviewer",   "score",       "passed",       "critical_failed",
    "error_tags",     "status",     "audio_path",  "audio_sha256",
};

struct export
{
    struct catalog *cat; /* its own: the response outlives the handler's turn */
    struct rubric_store *rs;
    struct calls_query q; /* its cursor moves as batches are sent */
    struct es_buf out;    /* CSV waiting to be sent */
    size_t sent;
    bool done;
    int64_t rows;
    /* the batch being written */
    int (*row)(struct export * x, const struct call_item *it);
    int batch_rows;
    void *sink; /* the XLSX writer's state */
};

#define EXPORT_BATCH 1000

static void export_free(void *p)
{
    struct export *x = p;
    if (!x)
        return;
    rubric_store_close(x->rs);
    catalog_close(x->cat);
    es_buf_free(&x->out);
    free(x);
}

static struct export *export_open(struct req *r, enum MHD_Result *res)
{
    struct export *x = calloc(1, sizeof *x);
    if (!x) {
        *res = http_error(r, 500, "the export cannot start");
        return NULL;
    }
    if (calls_query_read(r, &x->q, false, res)) {
        free(x);
        return NULL;
    }
    x->q.for_export = true;
    struct es_err err = {{0}};
    if (catalog_open(r->srv->data_dir, &x->cat, &err) || rubric_store_open(x->cat, &x->rs, &err)) {
        ES_ERROR("serve", "export: %s", err.msg);
        export_free(x);
        *res = http_error(r, 500, "the export cannot start");
        return NULL;
    }
    es_buf_init(&x->out, 1 << 20);
    return x;
}

static int batch_row(void *ud, const struct call_item *it)
{
    struct export *x = ud;
    x->batch_rows++;
    x->rows++;
    return x->row(x, it);
}

/* The next batch of rows, each to x->row; done once a batch comes back short. */
static int export_batch(struct export *x)
{
    struct es_err err = {{0}};
    x->batch_rows = 0;
    int rc = calls_walk(x->cat, x->rs, &x->q, EXPORT_BATCH, batch_row, x, &err);
    if (rc)
        ES_ERROR("serve", "export: %s", err.msg[0] ? err.msg : es_strerror(rc));
    if (rc || x->batch_rows < EXPORT_BATCH)
        x->done = true;
    return rc;
}

/* A row's cells as text (the CSV), with the typed values the XLSX writes. */
struct cells {
    const char *text[NCOLS];
    char started[ES_ISO_LEN], duration[32], version[16], score[32];
    bool scored;
};

static void item_cells(const struct call_item *it, struct cells *c)
{
    const struct catalog_call_row *k = it->call;
    const struct eval_brief *e = it->ev;
    c->scored = e != NULL;
    es_time_iso(k->started_at, c->started);
    snprintf(c->duration, sizeof c->duration, "%.3f", (double)k->duration_ms / 1000.0);
    snprintf(c->version, sizeof c->version, "%d", e ? e->rubric_version : 0);
    snprintf(c->score, sizeof c->score, "%.1f", e ? e->score : 0.0);
    const char *cells[NCOLS] = {
        k->id,
        c->started,
        c->duration,
        k->direction,
        k->operator_,
        k->caller,
        k->callee,
        k->disposition,
        k->reason,
        e ? e->rubric_id : "",
        e ? c->version : "",
        e ? e->reviewer : "",
        e ? c->score : "",
        !e          ? ""
        : e->passed ? "true"
                    : "false",
        !e                   ? ""
        : e->critical_failed ? "true"
                             : "false",
        e ? e->error_tags : "",
        e ? e->status : "",
        k->path,
        k->sha256,
    };
    memcpy(c->text, cells, sizeof cells);
}

static const char *skip_blanks(const char *v)
{
    for (;;) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
            v++;
        else if ((unsigned char)v[0] == 0xC2 && (unsigned char)v[1] == 0xA0)
            v += 2;
        else if ((unsigned char)v[0] == 0xE3 && (unsigned char)v[1] == 0x80 &&
                 (unsigned char)v[2] == 0x80)
            v += 3;
        else
            return v;
    }
}

/* U+FF1D, U+FF0B, U+FF0D, U+FF20: full-width = + - @, which some spreadsheets
 * read as their ASCII forms. */
static bool fullwidth_trigger(const char *v)
{
    const unsigned char *u = (const unsigned char *)v;
    return u[0] == 0xEF && u[1] == 0xBC &&
           (u[2] == 0x9D || u[2] == 0x8B || u[2] == 0x8D || u[2] == 0xA0);
}

/* A cell a spreadsheet would run as a formula gets a leading apostrophe; a
 * phone number such as +4930... or a negative number stays as it is. */
bool export_formula_like(const char *v)
{
    if (v[0] == '\t' || v[0] == '\r' || v[0] == '\n')
        return true; /* a cell starting with a control character is never data we wrote */
    const char *p = skip_blanks(v);
    if (*p == '=' || *p == '@' || fullwidth_trigger(p))
        return true;
    if (*p != '+' && *p != '-')
        return false;
    for (p++; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == ' ' || *p == '.'))
            return true;
    return false;
}

static int csv_cell(struct es_buf *b, const char *v, bool last)
{
    int rc = 0;
    bool quote = strpbrk(v, ",\"\r\n") != NULL || export_formula_like(v);
    if (quote)
        rc = es_buf_append(b, "\"", 1);
    if (!rc && export_formula_like(v))
        rc = es_buf_append(b, "'", 1);
    for (const char *p = v; *p && !rc; p++)
        rc = *p == '"' ? es_buf_append(b, "\"\"", 2) : es_buf_append(b, p, 1);
    if (!rc && quote)
        rc = es_buf_append(b, "\"", 1);
    return rc ? rc : es_buf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static int csv_row(struct export *x, const struct call_item *it)
{
    struct cells c;
    item_cells(it, &c);
    for (int i = 0; i < NCOLS; i++)
        if (csv_cell(&x->out, c.text[i], i == NCOLS - 1))
            return ES_ENOMEM;
    return 0;
}

static ssize_t csv_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct export *x = cls;
    while (x->out.len - x->sent < max && !x->done) {
        if (x->sent) { /* keep the buffer small: drop what was sent */
            memmove(x->out.data, x->out.data + x->sent, x->out.len - x->sent);
            x->out.len -= x->sent;
            x->sent = 0;
        }
        if (export_batch(x) == ES_ENOMEM)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = ES_MIN(max, x->out.len - x->sent);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    memcpy(buf, x->out.data + x->sent, n);
    x->sent += n;
    return (ssize_t)n;
}

static enum MHD_Result export_csv(struct req *r)
{
    enum MHD_Result res;
    struct export *x = export_open(r, &res);
    if (!x)
        return res;
    x->row = csv_row;
    const char *bom = http_arg(r, "bom");
    if (bom && strcmp(bom, "0") && strcmp(bom, "false"))
        es_buf_append(&x->out, "\xEF\xBB\xBF", 3); /* for Excel, which guesses otherwise */
    for (int i = 0; i < NCOLS; i++)
        csv_cell(&x->out, headers[i], i == NCOLS - 1);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, csv_read, x, export_free);
    if (!resp) {
        export_free(x);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/csv; charset=utf-8");
    MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"calls.csv\"");
    http_common_headers(resp, true);
    return http_queue(r, 200, resp);
}

/* ---- XLSX ----------------------------------------------------------------------------- */

#define XLSX_MAX_ROWS 1048576

struct xlsx {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold, *when;
    uint32_t row;
    int sheet;
};

static int xlsx_row(struct export *x, const struct call_item *it)
{
    struct xlsx *w = x->sink;
    if (w->row == XLSX_MAX_ROWS) { /* a sheet holds 1,048,576 rows: go on in the next */
        char name[32];
        snprintf(name, sizeof name, w->sheet ? "calls %d" : "calls", w->sheet + 1);
        w->ws = workbook_add_worksheet(w->wb, name);
        for (int i = 0; i < NCOLS; i++)
            worksheet_write_string(w->ws, 0, (lxw_col_t)i, headers[i], w->bold);
        w->row = 1;
        w->sheet++;
    }
    struct cells c;
    item_cells(it, &c);
    const struct eval_brief *e = it->ev;
    for (int i = 0; i < NCOLS; i++) {
        lxw_col_t col = (lxw_col_t)i;
        if (i == 1)
            worksheet_write_unixtime(w->ws, w->row, col, it->call->started_at / 1000, w->when);
        else if (i == 2)
            worksheet_write_number(w->ws, w->row, col, (double)it->call->duration_ms / 1000.0,
                                   NULL);
        else if (i == 10 && e)
            worksheet_write_number(w->ws, w->row, col, e->rubric_version, NULL);
        else if (i == 12 && e)
            worksheet_write_number(w->ws, w->row, col, e->score, NULL);
        else if (i == 13 && e)
            worksheet_write_boolean(w->ws, w->row, col, e->passed, NULL);
        else if (i == 14 && e)
            worksheet_write_boolean(w->ws, w->row, col, e->critical_failed, NULL);
        else if (c.text[i][0])
            worksheet_write_string(w->ws, w->row, col, c.text[i], NULL);
    }
    w->row++;
    return 0;
}

static int xlsx_write(struct export *x, const char *path, const char *tmpdir)
{
    lxw_workbook_options wo = {.constant_memory = LXW_TRUE, .tmpdir = (char *)tmpdir};
    struct xlsx w = {.wb = workbook_new_opt(path, &wo), .row = XLSX_MAX_ROWS};
    if (!w.wb)
        return ES_EINVAL;
    w.bold = workbook_add_format(w.wb);
    w.when = workbook_add_format(w.wb);
    format_set_bold(w.bold);
    format_set_num_format(w.when, "yyyy-mm-dd hh:mm:ss");
    x->row = xlsx_row;
    x->sink = &w;
    int rc = 0;
    while (!x->done && !rc)
        rc = export_batch(x);
    if (w.row == XLSX_MAX_ROWS) { /* no rows: the sheet with its header still */
        w.ws = workbook_add_worksheet(w.wb, "calls");
        for (int i = 0; i < NCOLS; i++)
            worksheet_write_string(w.ws, 0, (lxw_col_t)i, headers[i], w.bold);
    }
    int closed = workbook_close(w.wb) == LXW_NO_ERROR ? 0 : ES_EINVAL;
    return rc ? rc : closed;
}

static enum MHD_Result export_xlsx(struct req *r)
{
    enum MHD_Result res;
    struct export *x = export_open(r, &res);
    if (!x)
        return res;
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/spool", r->srv->data_dir);
    es_mkdir_p(dir, 0750);
    char rnd[17];
    uint8_t b[8];
    randombytes_buf(b, sizeof b);
    es_hex(b, sizeof b, rnd);
    snprintf(path, sizeof path, "%s/export-%s.xlsx", dir, rnd);
    int rc = xlsx_write(x, path, dir);
    int64_t rows = x->rows;
    export_free(x);
    int fd = rc ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    unlink(path); /* gone from the directory; readable until closed */
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        if (fd >= 0)
            close(fd);
        return http_error(r, 500, "the XLSX export failed");
    }
    ES_DEBUG("serve", "xlsx export rows=%lld bytes=%lld", (long long)rows, (long long)sb.st_size);
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"calls.xlsx\"");
    http_common_headers(resp, true);
    return http_queue(r, 200, resp);
}

/* The filters go into the audit row before a byte is sent: no row, no export. */
static bool audited(struct req *r, const char *action)
{
    json_t *f = json_object();
    static const char *const keys[] = {"from",        "to",     "operator",  "direction",
                                       "disposition", "scored", "min_score", "max_score",
                                       "error_tag",   "q"};
    for (size_t i = 0; i < ES_ARRAY_LEN(keys); i++)
        if (http_arg(r, keys[i]))
            json_object_set_new(f, keys[i], json_string(http_arg(r, keys[i])));
    char *detail = json_dumps(f, JSON_COMPACT); /* filters hold no secrets */
    json_decref(f);
    struct es_err err = {{0}};
    int rc = review_audit(r->w->rv, r->user.name, action, "", detail, &err);
    free(detail);
    return rc == 0;
}

enum MHD_Result api_export_csv(struct req *r)
{
    if (!audited(r, "export.csv"))
        return http_error(r, 503, "the audit log cannot be written; try again");
    return export_csv(r);
}

enum MHD_Result api_export_xlsx(struct req *r)
{
    if (!audited(r, "export.xlsx"))
        return http_error(r, 503, "the audit log cannot be written; try again");
    return export_xlsx(r);
}
