#include "common/common.h"

#include <criterion/criterion.h>
#include <string.h>

Test(buf, grows_until_cap_then_refuses)
{
    struct es_buf b;
    es_buf_init(&b, 10);
    cr_assert_eq(es_buf_append(&b, "hello", 5), 0);
    cr_assert_eq(es_buf_appendf(&b, "%d", 12345), 0);
    cr_assert_str_eq(b.data, "hello12345");
    cr_assert_eq(es_buf_append(&b, "x", 1), ES_ETOOBIG);
    cr_assert_eq(b.len, 10, "a refused append must not change the buffer");
    cr_assert_str_eq(b.data, "hello12345");
    es_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    es_buf_free(&b);
}

Test(buf, fmt_reports_truncation)
{
    char out[8];
    cr_assert_eq(es_fmt(out, sizeof out, "%s", "1234567"), 0);
    cr_assert_eq(es_fmt(out, sizeof out, "%s", "12345678"), ES_ETOOBIG);
}

Test(redact, keeps_last_two_digits)
{
    char out[64];
    es_redact("+49 30 1234567", out, sizeof out);
    cr_assert_str_eq(out, "+** ** *****67");
    es_redact("sip:alice@example.com", out, sizeof out);
    cr_assert_eq(strchr(out, 'a'), NULL, "letters must not survive: %s", out);
}
