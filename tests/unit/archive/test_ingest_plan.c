#include "archive/archive.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void touch(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char d[256];
    es_dirname(p, d, sizeof d);
    es_mkdir_p(d, 0700);
    int fd = open(p, O_WRONLY | O_CREAT, 0600);
    cr_assert_geq(fd, 0, "%s", p);
    close(fd);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/earshot-plan-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

TestSuite(ingest_plan, .init = setup);

Test(ingest_plan, pairs_legs_skips_sidecars_and_hidden)
{
    /* "-out" sorts before "-r" style suffixes: pairing must not depend on order */
    touch("a-in.wav");
    touch("a-out.wav");
    touch("a-in.wav.json");
    touch("b-in.wav"); /* a leg without its partner stays a mono job */
    touch("c.wav");
    touch(".hidden.wav");
    touch("sub/d-in.gsm");
    touch("sub/d-out.gsm");
    touch("sub/e.reason");
    struct ingest_opts o = {.leg_suffix = {"-in", "-out"}};
    char *in[] = {dir};
    struct ingest_plan plan;
    struct es_err e;
    cr_assert_eq(ingest_plan_build(&o, in, 1, &plan, &e), 0, "%s", e.msg);
    cr_assert_eq(plan.njobs, 4, "jobs: %zu", plan.njobs);
    int pairs = 0;
    for (size_t i = 0; i < plan.njobs; i++) {
        const struct ingest_job *j = &plan.jobs[i];
        if (j->nlegs == 2) {
            pairs++;
            cr_assert(strstr(j->path[0], "-in.") && strstr(j->path[1], "-out."), "%s + %s",
                      j->path[0], j->path[1]);
        }
        cr_assert_null(strstr(j->path[0], ".json"));
        cr_assert_null(strstr(j->path[0], ".hidden"));
    }
    cr_assert_eq(pairs, 2);
    ingest_plan_free(&plan);
}

Test(ingest_plan, custom_suffixes_either_order)
{
    touch("x-t.wav");
    touch("x-r.wav");
    struct ingest_opts o = {.leg_suffix = {"-r", "-t"}};
    char *in[] = {dir};
    struct ingest_plan plan;
    struct es_err e;
    cr_assert_eq(ingest_plan_build(&o, in, 1, &plan, &e), 0);
    cr_assert_eq(plan.njobs, 1);
    cr_assert_eq(plan.jobs[0].nlegs, 2);
    cr_assert(strstr(plan.jobs[0].path[0], "x-r.wav") != NULL, "customer-side leg first");
    ingest_plan_free(&plan);
}

Test(ingest_plan, missing_input_becomes_a_job_that_will_fail)
{
    struct ingest_opts o = {.leg_suffix = {"-in", "-out"}};
    char *in[] = {"/nonexistent/x.wav", "/nonexistent/x.wav"};
    struct ingest_plan plan;
    struct es_err e;
    cr_assert_eq(ingest_plan_build(&o, in, 2, &plan, &e), 0);
    cr_assert_eq(plan.njobs, 1, "named twice, planned once");
    ingest_plan_free(&plan);
}
