#include "common/common.h"

#include <stdlib.h>
#include <string.h>

void es_buf_init(struct es_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
}

static int reserve(struct es_buf *b, size_t need)
{
    if (need + 1 > b->cap + 1 || need == SIZE_MAX)
        return ES_ETOOBIG;
    if (need + 1 <= b->alloc)
        return 0;
    size_t a = b->alloc ? b->alloc : 64;
    while (a < need + 1)
        a = a > SIZE_MAX / 2 ? need + 1 : a * 2;
    if (a > b->cap + 1)
        a = b->cap + 1;
    char *p = realloc(b->data, a);
    if (!p)
        return ES_ENOMEM;
    b->data = p;
    b->alloc = a;
    return 0;
}

int es_buf_append(struct es_buf *b, const void *p, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return ES_ETOOBIG;
    int rc = reserve(b, b->len + n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int es_buf_appendf(struct es_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ES_EINVAL;
    int rc = reserve(b, b->len + (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void es_buf_reset(struct es_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void es_buf_free(struct es_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

int es_fmt(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ES_EINVAL;
    return (size_t)n >= outlen ? ES_ETOOBIG : 0;
}
