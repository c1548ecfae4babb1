/* A throw-away data directory with a catalog, a rubric store and calls. */
#ifndef EARSHOT_TEST_RUBRIC_FIXTURE_H
#define EARSHOT_TEST_RUBRIC_FIXTURE_H

#include "scripts-rubric/rubric.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fx_dir[256];
static struct catalog *fx_cat;
static struct rubric_store *fx_st;
static struct es_err fx_err;

static void fx_setup(void)
{
    snprintf(fx_dir, sizeof fx_dir, "/tmp/earshot-rubric-XXXXXX");
    cr_assert_not_null(mkdtemp(fx_dir));
    cr_assert_eq(catalog_open(fx_dir, &fx_cat, &fx_err), 0, "%s", fx_err.msg);
    cr_assert_eq(rubric_store_open(fx_cat, &fx_st, &fx_err), 0, "%s", fx_err.msg);
}

static int fx_rm(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void fx_teardown(void)
{
    rubric_store_close(fx_st);
    catalog_close(fx_cat);
    fx_st = NULL;
    fx_cat = NULL;
    nftw(fx_dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A catalogued call (no audio) by operator op at time t; its id into id. */
static void fx_call(int64_t t, const char *op, const char *tags, char *id)
{
    static int serial;
    struct archive_call *k = calloc(1, sizeof *k);
    es_uuid7(t, k->id);
    k->started_at = t;
    k->duration_ms = 120000;
    k->ended_at = t + k->duration_ms;
    snprintf(k->operator_, sizeof k->operator_, "%s", op);
    snprintf(k->source, sizeof k->source, "api");
    snprintf(k->source_sha256, sizeof k->source_sha256, "%064d", ++serial);
    snprintf(k->tags, sizeof k->tags, "%s", tags ? tags : "[]");
    cr_assert_eq(catalog_insert_call(fx_cat, k, NULL, NULL), 0);
    memcpy(id, k->id, ES_ID_LEN);
    free(k);
}

static int fx_import(const char *yaml, enum rubric_import_outcome *out)
{
    int version = 0;
    enum rubric_import_outcome o;
    cr_assert_eq(rubric_import(fx_st, (const uint8_t *)yaml, strlen(yaml), &version, out ? out : &o,
                               &fx_err),
                 0, "%s", fx_err.msg);
    return version;
}

/* Creates an evaluation from answers JSON text; returns the result code. */
static int fx_eval(const char *call_id, const char *rubric, int version, const char *answers,
                   bool submit, char *id)
{
    json_t *a = json_loads(answers, 0, NULL);
    cr_assert_not_null(a, "bad test JSON %s", answers);
    struct eval_new e = {.call_id = call_id,
                         .reviewer = "sue",
                         .rubric_id = rubric,
                         .rubric_version = version,
                         .answers = a,
                         .submit = submit};
    memset(&fx_err, 0, sizeof fx_err);
    int rc = eval_create(fx_st, &e, id, &fx_err);
    json_decref(a);
    return rc;
}

#endif
