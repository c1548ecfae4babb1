/* A bump allocator over a list of chunks: a rubric and its strings are freed at once. */
#include "scripts-rubric/rubric_int.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 16384

struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(8) unsigned char data[];
};

struct rubric_arena {
    struct chunk *head;
};

int arena_new(struct rubric_arena **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ES_ENOMEM;
}

void arena_free(struct rubric_arena *a)
{
    if (!a)
        return;
    for (struct chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *arena_alloc(struct rubric_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (!n)
        n = 8;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > CHUNK / 4 ? n : CHUNK;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->used = 0;
        c->size = size;
        /* a big block goes behind the current chunk so its free space stays usable */
        if (size != CHUNK && a->head) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct rubric_arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}
