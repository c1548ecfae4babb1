#include "common/common.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

Test(id, uuid7_shape_and_order)
{
    cr_assert_geq(sodium_init(), 0);
    char a[ES_ID_LEN], b[ES_ID_LEN];
    es_uuid7(1763649015000LL, a);
    es_uuid7(1763649015001LL, b);
    cr_assert(es_id_valid(a), "%s", a);
    cr_assert_eq(a[14], '7', "version nibble: %s", a);
    cr_assert(strchr("89ab", a[19]) != NULL, "variant: %s", a);
    cr_assert_lt(strcmp(a, b), 0, "ids must sort by time: %s %s", a, b);
    cr_assert_eq(strncmp(a, "019aa1ac-4cd8", 13), 0, "timestamp prefix: %s", a);
}

Test(id, validation)
{
    cr_assert_not(es_id_valid("not-an-id"));
    cr_assert_not(es_id_valid("019AA1B0-B798-7000-8000-000000000000"));
    cr_assert_not(es_id_valid("../../etc/passwd-aaaa-aaaa-aaaaaaaaaaaa"));
    cr_assert(es_id_valid("019aa1b0-b798-7000-8000-000000000000"));
}
