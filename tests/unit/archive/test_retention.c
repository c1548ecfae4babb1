/* The retention policy's language: selectors, periods, first match wins, and
 * the mistakes named. */
#include "archive/archive.h"

#include <criterion/criterion.h>
#include <string.h>

static struct retention_policy p;
static struct es_err err;

Test(retention, parses_the_issues_example)
{
    cr_assert_eq(archive_retention_parse("tag:b2b 1095d, queue:sales 730d, disposition:missed 90d,"
                                         " evaluated 730d, default 365d",
                                         &p, &err),
                 0, "%s", err.msg);
    cr_assert_eq(p.n, 5);
    cr_assert_eq(p.rules[0].kind, RET_TAG);
    cr_assert_str_eq(p.rules[0].value, "b2b");
    cr_assert_eq(p.rules[0].keep_ms, 1095 * 86400000LL);
    cr_assert_eq(p.rules[2].kind, RET_DISPOSITION);
    cr_assert_eq(p.rules[3].kind, RET_EVALUATED);
    cr_assert_eq(p.rules[4].kind, RET_DEFAULT);
    cr_assert_str_eq(p.rules[1].text, "queue:sales 730d");
}

Test(retention, periods)
{
    cr_assert_eq(archive_retention_parse("default 12w", &p, &err), 0);
    cr_assert_eq(p.rules[0].keep_ms, 84 * 86400000LL);
    cr_assert_eq(archive_retention_parse("default 3y", &p, &err), 0);
    cr_assert_eq(p.rules[0].keep_ms, 3 * 365 * 86400000LL);
    cr_assert_eq(archive_retention_parse("tag:legal forever, default 1d", &p, &err), 0);
    cr_assert_eq(p.rules[0].keep_ms, -1);
}

Test(retention, first_match_wins)
{
    cr_assert_eq(archive_retention_parse("tag:b2b 1095d, queue:sales 730d, disposition:missed 90d,"
                                         " evaluated 730d, operator:101 10d, source:recorder 20d,"
                                         " default 365d",
                                         &p, &err),
                 0);
    struct retention_call c = {
        .tags = "[\"vip\",\"b2b\"]", .queue = "sales", .disposition = "answered"};
    cr_assert_eq(archive_retention_match(&p, &c), 0, "b2b before sales");
    c.tags = "[\"b2bx\"]";
    cr_assert_eq(archive_retention_match(&p, &c), 1, "a tag matches whole");
    c.queue = "support";
    c.evaluated = true;
    cr_assert_eq(archive_retention_match(&p, &c), 3);
    c.evaluated = false;
    c.operator_ = "101";
    cr_assert_eq(archive_retention_match(&p, &c), 4);
    c.operator_ = "102";
    c.source = "recorder";
    cr_assert_eq(archive_retention_match(&p, &c), 5);
    c.source = "ingest";
    cr_assert_eq(archive_retention_match(&p, &c), 6, "default");
    cr_assert_eq(archive_retention_parse("tag:b2b 1095d", &p, &err), 0);
    cr_assert_eq(archive_retention_match(&p, &c), -1, "no default: kept");
}

Test(retention, mistakes_are_named)
{
    cr_assert_neq(archive_retention_parse("", &p, &err), 0);
    cr_assert(strstr(err.msg, "no rule"), "%s", err.msg);
    cr_assert_neq(archive_retention_parse("default", &p, &err), 0);
    cr_assert(strstr(err.msg, "expected a selector and a period"), "%s", err.msg);
    cr_assert_neq(archive_retention_parse("default 10 days", &p, &err), 0);
    cr_assert(strstr(err.msg, "'default 10 days'"), "%s", err.msg);
    cr_assert_neq(archive_retention_parse("default 0d", &p, &err), 0);
    cr_assert_neq(archive_retention_parse("default 9999999d", &p, &err), 0);
    cr_assert_neq(archive_retention_parse("colour:red 30d", &p, &err), 0);
    cr_assert(strstr(err.msg, "the selector is"), "%s", err.msg);
    cr_assert_neq(archive_retention_parse("disposition:lost 30d", &p, &err), 0);
    cr_assert(strstr(err.msg, "answered, missed or rejected"), "%s", err.msg);
    cr_assert_neq(archive_retention_parse("tag: 30d", &p, &err), 0, "an empty value");
}
