#include "common/common.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static int64_t parse(const char *s)
{
    int64_t v = -1;
    cr_assert_eq(es_time_parse(s, strlen(s), &v), 0, "should parse: %s", s);
    return v;
}

Test(time, civil_round_trip_over_centuries)
{
    for (int64_t d = -800000; d < 800000; d += 37) {
        struct es_tm tm;
        es_tm_from_ms(d * 86400000 + 12345, &tm);
        cr_assert_eq(es_days_from_civil(tm.year, tm.mon, tm.day), d);
        cr_assert_eq(es_ms_from_tm(&tm), d * 86400000 + 12345);
    }
}

Test(time, known_dates)
{
    cr_assert_eq(es_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(es_days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(es_days_from_civil(2024, 2, 29), 19782);
    cr_assert_eq(es_days_from_civil(1969, 12, 31), -1);
}

Test(time, iso_format)
{
    char buf[ES_ISO_LEN];
    es_time_iso(1763649015123LL, buf);
    cr_assert_str_eq(buf, "2025-11-20T14:30:15.123Z");
    es_time_iso(-1, buf);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
}

Test(time, parse_forms)
{
    int64_t base = 1763649015000LL; /* 2025-11-20T14:30:15Z */
    cr_assert_eq(parse("2025-11-20T14:30:15Z"), base);
    cr_assert_eq(parse("2025-11-20 14:30:15"), base);
    cr_assert_eq(parse("2025-11-20T14:30:15.5Z"), base + 500);
    cr_assert_eq(parse("2025-11-20T16:30:15+02:00"), base);
    cr_assert_eq(parse("2025-11-20T09:30:15-0500"), base);
    cr_assert_eq(parse("2025-11-20T14:30Z"), base - 15000);
    cr_assert_eq(parse("2025-11-20"), base - (14 * 3600 + 30 * 60 + 15) * 1000LL);
    cr_assert_eq(parse("1763649015"), base);
    cr_assert_eq(parse("1763649015000"), base);
}

Test(time, parse_rejects)
{
    const char *bad[] = {"",
                         "2025-13-01",
                         "2025-02-30",
                         "2025-11-20T25:00",
                         "2025-11-20T14:30:15Q",
                         "2025-11-20T14:30:15+99:00",
                         "yesterday",
                         "2025-11-20T",
                         "12a4",
                         "2025-11-20T14:30:15."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        cr_assert_neq(es_time_parse(bad[i], strlen(bad[i]), &v), 0, "accepted: '%s'", bad[i]);
    }
}

Test(time, short_inputs_stay_in_bounds)
{
    /* regression: a 4-byte input was read at index 4 */
    char *p = malloc(4);
    memcpy(p,
           "\xa9"
           "20n",
           4);
    int64_t v;
    cr_assert_neq(es_time_parse(p, 4, &v), 0);
    memcpy(p, "2026", 4);
    cr_assert_eq(es_time_parse(p, 4, &v), 0, "four digits are epoch seconds");
    free(p);
}
