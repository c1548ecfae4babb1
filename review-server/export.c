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
    struct catalog *cat;
    struct db_stmt *st;
    struct es_buf out; /* CSV waiting to be sent */
    size_t sent;
    bool done;
    int64_t rows;
};

static void export_free(void *p)
{
    struct export *x = p;
    if (!x)
        return;
    db_finalize(x->st);
    catalog_close(x->cat);
    es_buf_free(&x->out);
    free(x);
}

/* Opens a connection and a statement with the request's filters bound. */
static struct export *export_open(struct req *r, enum MHD_Result *res)
{
    struct calls_query q;
    if (calls_query_read(r, &q, false, res))
        return NULL;
    struct export *x = calloc(1, sizeof *x);
    struct es_err err = {{0}};
    if (x && !catalog_open(r->srv->data_dir, &x->cat, &err))
        x->st = calls_query_stmt(NULL, catalog_db(x->cat), &q, CALLS_EXPORT);
    if (!x || !x->st) {
        ES_ERROR("serve", "export: %s", x && x->cat ? db_errmsg(catalog_db(x->cat)) : err.msg);
        export_free(x);
        *res = http_error(r, 500, "the export cannot start");
        return NULL;
    }
    es_buf_init(&x->out, 1 << 20);
    return x;
}

/* ---- CSV (RFC 4180, UTF-8, CRLF) ------------------------------------------------ */

/* Leading blanks a spreadsheet may skip before it looks for '=': ASCII
 * space, tab, CR, LF, and U+00A0 / U+3000 (no-break and ideographic space). */
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

static const char *col(struct db_stmt *st, int i)
{
    const char *t = db_column_text(st, i);
    return t ? (const char *)t : "";
}

/* One row's cells as text (times in UTC ISO 8601, booleans true/false). */
static void row_cells(struct db_stmt *st, char cells[NCOLS][64], const char *text[NCOLS])
{
    es_time_iso(db_column_int64(st, 1), cells[1]);
    snprintf(cells[2], 64, "%.3f", (double)db_column_int64(st, 2) / 1000.0);
    bool scored = !db_column_null(st, 12);
    snprintf(cells[10], 64, "%s", scored ? col(st, 10) : "");
    if (scored)
        snprintf(cells[12], 64, "%.1f", db_column_double(st, 12));
    else
        cells[12][0] = 0;
    snprintf(cells[13], 64, "%s", !scored ? "" : db_column_int(st, 13) ? "true" : "false");
    snprintf(cells[14], 64, "%s", !scored ? "" : db_column_int(st, 14) ? "true" : "false");
    for (int i = 0; i < NCOLS; i++)
        text[i] = col(st, i);
    static const int formatted[] = {1, 2, 10, 12, 13, 14};
    for (size_t k = 0; k < ES_ARRAY_LEN(formatted); k++)
        text[formatted[k]] = cells[formatted[k]];
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
        int step = db_step(x->st);
        if (step != DB_ROW) {
            if (step != DB_DONE)
                ES_ERROR("serve", "export: %s", db_errmsg(catalog_db(x->cat)));
            x->done = true;
            break;
        }
        char cells[NCOLS][64];
        const char *text[NCOLS];
        row_cells(x->st, cells, text);
        for (int i = 0; i < NCOLS; i++)
            if (csv_cell(&x->out, text[i], i == NCOLS - 1))
                return MHD_CONTENT_READER_END_WITH_ERROR;
        x->rows++;
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

static int xlsx_write(struct export *x, const char *path, const char *tmpdir)
{
    lxw_workbook_options wo = {.constant_memory = LXW_TRUE, .tmpdir = (char *)tmpdir};
    lxw_workbook *wb = workbook_new_opt(path, &wo);
    if (!wb)
        return ES_EINVAL;
    lxw_format *bold = workbook_add_format(wb), *when = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_num_format(when, "yyyy-mm-dd hh:mm:ss");
    lxw_worksheet *ws = NULL;
    uint32_t row = XLSX_MAX_ROWS;
    int sheet = 0;
    for (;;) {
        if (row == XLSX_MAX_ROWS) { /* a sheet holds 1,048,576 rows: go on in the next */
            char name[32];
            snprintf(name, sizeof name, sheet ? "calls %d" : "calls", sheet + 1);
            ws = workbook_add_worksheet(wb, name);
            for (int i = 0; i < NCOLS; i++)
                worksheet_write_string(ws, 0, (lxw_col_t)i, headers[i], bold);
            row = 1;
            sheet++;
        }
        int step = db_step(x->st);
        if (step != DB_ROW)
            break;
        struct db_stmt *st = x->st;
        for (int i = 0; i < NCOLS; i++) {
            lxw_col_t c = (lxw_col_t)i;
            bool null = db_column_null(st, i);
            if (i == 1)
                worksheet_write_unixtime(ws, row, c, db_column_int64(st, 1) / 1000, when);
            else if (i == 2)
                worksheet_write_number(ws, row, c, (double)db_column_int64(st, 2) / 1000.0, NULL);
            else if ((i == 10 || i == 12) && !null)
                worksheet_write_number(ws, row, c, db_column_double(st, i), NULL);
            else if ((i == 13 || i == 14) && !null)
                worksheet_write_boolean(ws, row, c, db_column_int(st, i), NULL);
            else if (!null && col(st, i)[0])
                worksheet_write_string(ws, row, c, col(st, i), NULL);
        }
        row++;
        x->rows++;
    }
    return workbook_close(wb) == LXW_NO_ERROR ? 0 : ES_EINVAL;
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

enum MHD_Result api_export(struct req *r)
{
    if (r->user.role == ROLE_OPERATOR)
        return http_error(r, 403, "exports are for supervisors, compliance staff and admins");
    /* the filters go into the audit log; they hold no secrets */
    json_t *f = json_object();
    static const char *const keys[] = {"from",        "to",     "operator",  "direction",
                                       "disposition", "scored", "min_score", "max_score",
                                       "error_tag",   "q"};
    for (size_t i = 0; i < ES_ARRAY_LEN(keys); i++)
        if (http_arg(r, keys[i]))
            json_object_set_new(f, keys[i], json_string(http_arg(r, keys[i])));
    char *detail = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    struct es_err err = {{0}};
    int rc =
        review_audit(r->w->rv, r->user.name,
                     r->route.id == R_EXPORT_CSV ? "export.csv" : "export.xlsx", "", detail, &err);
    free(detail);
    if (rc) /* no row, no export */
        return http_error(r, 503, "the audit log cannot be written; try again");
    return r->route.id == R_EXPORT_CSV ? export_csv(r) : export_xlsx(r);
}
