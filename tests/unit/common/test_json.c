/* es_json_string: every output parses as JSON and holds the input's text. */
#include "common/common.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

static char *enc(const char *s, size_t n)
{
    static struct es_buf b;
    es_buf_free(&b);
    es_buf_init(&b, 1 << 16);
    cr_assert_eq(es_json_string(&b, s, n), 0);
    return b.data;
}

static void roundtrip(const char *s)
{
    char *j = enc(s, strlen(s));
    json_error_t e;
    json_t *v = json_loads(j, JSON_DECODE_ANY, &e);
    cr_assert_not_null(v, "%s does not parse: %s", j, e.text);
    cr_assert_str_eq(json_string_value(v), s);
    json_decref(v);
}

Test(json, escapes)
{
    cr_assert_str_eq(enc("plain", 5), "\"plain\"");
    cr_assert_str_eq(enc("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    cr_assert_str_eq(enc("<script>&", 9), "\"\\u003cscript\\u003e\\u0026\"");
    cr_assert_str_eq(enc("\n\t\x01", 3), "\"\\n\\t\\u0001\"");
    roundtrip("Müller — 東京 😀 <img src=x onerror=alert(1)>");
    roundtrip("line\nbreak\r\ttab \"quoted\" back\\slash");
}

Test(json, broken_utf8_becomes_replacement)
{
    const char bad[] = "a\xff" "b\xc3" "c\xe0\x80\x80" "d\xed\xa0\x80";
    char *j = enc(bad, sizeof bad - 1);
    json_t *v = json_loads(j, JSON_DECODE_ANY, NULL);
    cr_assert_not_null(v, "%s", j);
    cr_assert(strstr(json_string_value(v), "a\xef\xbf\xbd" "b"));
    json_decref(v);
    /* a NUL inside the slice is escaped, not an end */
    cr_assert_str_eq(enc("a\0b", 3), "\"a\\u0000b\"");
}
