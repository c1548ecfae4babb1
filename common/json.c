/* Writing JSON text straight into a buffer, for the few hot paths (the call
 * list) where building a jansson tree per row costs more than the query. */
#include "common/common.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < len; i++)
        cp = cp << 6 | (p[i] & 0x3f);
    /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int es_json_string(struct es_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = es_buf_append(b, "\"", 1);
    size_t i = 0;
    while (i < n && !rc) {
        size_t run = i; /* copy plain runs at once */
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\' &&
               p[run] != '<' && p[run] != '>' && p[run] != '&')
            run++;
        if (run > i) {
            rc = es_buf_append(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        size_t len = c >= 0x80 ? utf8_len(p + i, n - i) : 1;
        if (c >= 0x80) {
            /* valid UTF-8 goes as it is; a broken byte becomes U+FFFD */
            rc = len ? es_buf_append(b, s + i, len) : es_buf_append(b, "\xef\xbf\xbd", 3);
            i += len ? len : 1;
            continue;
        }
        if (c == '"' || c == '\\')
            rc = es_buf_appendf(b, "\\%c", c);
        else if (c == '\n')
            rc = es_buf_append(b, "\\n", 2);
        else if (c == '\r')
            rc = es_buf_append(b, "\\r", 2);
        else if (c == '\t')
            rc = es_buf_append(b, "\\t", 2);
        else /* other control bytes, and < > & so the text is inert even inside HTML */
            rc = es_buf_appendf(b, "\\u%04x", c);
        i++;
    }
    return rc ? rc : es_buf_append(b, "\"", 1);
}

int es_json_id_array(struct es_buf *b, const char *const *ids, size_t n)
{
    int rc = es_buf_append(b, "[", 1);
    for (size_t i = 0; i < n && !rc; i++) {
        if (i)
            rc = es_buf_append(b, ",", 1);
        if (!rc)
            rc = es_json_string(b, ids[i], strlen(ids[i]));
    }
    return rc ? rc : es_buf_append(b, "]", 1);
}
