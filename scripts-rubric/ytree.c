/* YAML text → a tree of nodes that remember their line and column, built from
 * libyaml's event stream. Building the tree ourselves (rather than with
 * yaml_parser_load) lets us refuse aliases — which could make a small file
 * expand into a huge rubric — and cap depth and size as we go. */
#include "scripts-rubric/rubric_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct open_node {
    struct ynode *n;
    struct ynode **kids; /* malloc'd while open, moved to the arena on close */
    size_t nkids, alloc;
};

struct builder {
    struct rubric_arena *a;
    struct open_node stack[YTREE_MAX_DEPTH];
    int depth;
    size_t nodes;
    struct ynode *root;
    int line, col;
    struct es_err *err;
};

static int fail_at(struct builder *b, const yaml_mark_t *m, int code, const char *msg)
{
    b->line = (int)m->line + 1;
    b->col = (int)m->column + 1;
    return es_seterr(b->err, code, "%s", msg);
}

static int key_cmp(const void *x, const void *y)
{
    const struct ynode *const *a = x, *const *b = y;
    size_t n = ES_MIN((*a)->len, (*b)->len);
    int c = memcmp((*a)->str, (*b)->str, n);
    if (c)
        return c;
    if ((*a)->len != (*b)->len)
        return (*a)->len < (*b)->len ? -1 : 1;
    /* equal keys: the earlier one first, so the later is the one reported */
    if ((*a)->line != (*b)->line)
        return (*a)->line < (*b)->line ? -1 : 1;
    return (*a)->col < (*b)->col ? -1 : (*a)->col > (*b)->col;
}

static int check_duplicate_keys(struct builder *b, struct ynode *map)
{
    size_t nkeys = map->nkids / 2;
    if (nkeys < 2)
        return 0;
    struct ynode **keys = malloc(nkeys * sizeof *keys);
    if (!keys)
        return ES_ENOMEM;
    for (size_t i = 0; i < nkeys; i++)
        keys[i] = map->kids[2 * i];
    qsort(keys, nkeys, sizeof *keys, key_cmp);
    int rc = 0;
    for (size_t i = 1; i < nkeys && !rc; i++) {
        if (keys[i]->len == keys[i - 1]->len &&
            !memcmp(keys[i]->str, keys[i - 1]->str, keys[i]->len)) {
            b->line = keys[i]->line;
            b->col = keys[i]->col;
            rc = es_seterr(b->err, ES_EFORMAT, "duplicate key '%.*s' (first at line %d)",
                           (int)ES_MIN(keys[i]->len, 64), keys[i]->str, keys[i - 1]->line);
        }
    }
    free(keys);
    return rc;
}

/* Hangs n under the innermost open container (or makes it the root). */
static int attach(struct builder *b, struct ynode *n, const yaml_mark_t *m)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    struct open_node *o = &b->stack[b->depth - 1];
    if (o->n->kind == YN_MAP && o->nkids % 2 == 0 && n->kind != YN_SCALAR)
        return fail_at(b, m, ES_EFORMAT, "a key must be plain text, not a list or mapping");
    if (o->nkids == o->alloc) {
        size_t na = o->alloc ? o->alloc * 2 : 8;
        struct ynode **k = realloc(o->kids, na * sizeof *k);
        if (!k)
            return ES_ENOMEM;
        o->kids = k;
        o->alloc = na;
    }
    o->kids[o->nkids++] = n;
    return 0;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind kind, const yaml_mark_t *m)
{
    if (++b->nodes > YTREE_MAX_NODES)
        return NULL;
    struct ynode *n = arena_alloc(b->a, sizeof *n);
    if (n) {
        n->kind = kind;
        n->line = (int)m->line + 1;
        n->col = (int)m->column + 1;
    }
    return n;
}

static int open_container(struct builder *b, enum ynode_kind kind, const yaml_mark_t *m)
{
    if (b->depth == YTREE_MAX_DEPTH)
        return fail_at(b, m, ES_ETOOBIG, "nested too deeply");
    struct ynode *n = new_node(b, kind, m);
    if (!n)
        return b->nodes > YTREE_MAX_NODES ? fail_at(b, m, ES_ETOOBIG, "too many nodes") : ES_ENOMEM;
    int rc = attach(b, n, m);
    if (rc)
        return rc;
    b->stack[b->depth++] = (struct open_node){.n = n};
    return 0;
}

static int close_container(struct builder *b)
{
    struct open_node *o = &b->stack[--b->depth];
    int rc = 0;
    if (o->nkids) {
        o->n->kids = arena_alloc(b->a, o->nkids * sizeof *o->n->kids);
        if (!o->n->kids)
            rc = ES_ENOMEM;
        else
            memcpy(o->n->kids, o->kids, o->nkids * sizeof *o->kids);
        o->n->nkids = o->nkids;
    }
    free(o->kids);
    o->kids = NULL;
    if (!rc && o->n->kind == YN_MAP)
        rc = check_duplicate_keys(b, o->n);
    return rc;
}

static int scalar(struct builder *b, const yaml_event_t *ev)
{
    struct ynode *n = new_node(b, YN_SCALAR, &ev->start_mark);
    if (!n)
        return b->nodes > YTREE_MAX_NODES
                   ? fail_at(b, &ev->start_mark, ES_ETOOBIG, "too many nodes")
                   : ES_ENOMEM;
    n->len = ev->data.scalar.length;
    n->str = arena_strndup(b->a, (const char *)ev->data.scalar.value, n->len);
    if (!n->str)
        return ES_ENOMEM;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return attach(b, n, &ev->start_mark);
}

static int on_event(struct builder *b, const yaml_event_t *ev, int *documents)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*documents > 1)
            return fail_at(b, &ev->start_mark, ES_EFORMAT,
                           "only one YAML document per rubric file");
        return 0;
    case YAML_ALIAS_EVENT:
        return fail_at(b, &ev->start_mark, ES_EFORMAT,
                       "aliases (*name) are not supported in rubrics; write the value out");
    case YAML_SCALAR_EVENT:
        return scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return open_container(b, YN_SEQ, &ev->start_mark);
    case YAML_MAPPING_START_EVENT:
        return open_container(b, YN_MAP, &ev->start_mark);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return b->depth ? close_container(b) : 0;
    default:
        return 0;
    }
}

int ytree_parse(const uint8_t *p, size_t len, struct rubric_arena *a, struct ynode **root,
                int *line, int *col, struct es_err *err)
{
    struct builder b = {.a = a, .err = err, .line = 1, .col = 1};
    yaml_parser_t parser;
    *root = NULL;
    if (!yaml_parser_initialize(&parser))
        return ES_ENOMEM;
    yaml_parser_set_input_string(&parser, p, len);
    int rc = 0, documents = 0, done = 0;
    while (!rc && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            b.line = (int)parser.problem_mark.line + 1;
            b.col = (int)parser.problem_mark.column + 1;
            rc = es_seterr(err, ES_EFORMAT, "YAML syntax: %s%s%s",
                           parser.problem ? parser.problem : "error", parser.context ? " " : "",
                           parser.context ? parser.context : "");
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&b, &ev, &documents);
        yaml_event_delete(&ev);
    }
    while (b.depth) /* after an error: release what is still open */
        free(b.stack[--b.depth].kids);
    yaml_parser_delete(&parser);
    *line = b.line;
    *col = b.col;
    if (rc == ES_ENOMEM)
        es_seterr(err, rc, "out of memory");
    if (!rc)
        *root = b.root;
    return rc;
}
