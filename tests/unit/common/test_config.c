#include "common/common.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const keys[] = {"data", "ingest.legs", NULL};

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/earshot-conf-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(config, reads_keys_comments_and_spaces)
{
    char *p = write_tmp("# earshot\n\n data = /var/lib/earshot  # the archive\n"
                        "ingest.legs=-r,-t\ningest.legs = -in,-out\n");
    struct es_config *c;
    struct es_err e;
    cr_assert_eq(es_config_load(p, keys, &c, &e), 0, "%s", e.msg);
    cr_assert_str_eq(es_config_get(c, "data"), "/var/lib/earshot");
    cr_assert_str_eq(es_config_get(c, "ingest.legs"), "-in,-out", "the last one wins");
    cr_assert_null(es_config_get(c, "nope"));
    es_config_free(c);
    unlink(p);
}

Test(config, errors_name_file_and_line)
{
    struct es_config *c;
    struct es_err e;
    char *p = write_tmp("data = x\ndta = y\n");
    cr_assert_eq(es_config_load(p, keys, &c, &e), ES_EINVAL);
    cr_assert_null(c);
    cr_assert(strstr(e.msg, ":2: unknown key 'dta'") != NULL, "%s", e.msg);
    unlink(p);
    p = write_tmp("data\n");
    cr_assert_eq(es_config_load(p, keys, &c, &e), ES_EINVAL);
    cr_assert(strstr(e.msg, ":1: expected key = value") != NULL, "%s", e.msg);
    unlink(p);
    cr_assert_neq(es_config_load("/nonexistent/earshot.conf", keys, &c, &e), 0);
    cr_assert(strstr(e.msg, "/nonexistent/earshot.conf") != NULL, "%s", e.msg);
}
