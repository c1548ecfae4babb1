/* Rubric YAML → struct rubric, reporting every problem with its line and
 * column rather than stopping at the first: whoever writes a rubric should fix
 * all of it in one pass. */
#include "scripts-rubric/rubric_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct loader {
    struct rubric *r;
    struct rubric_arena *a;
    struct rubric_diags *d;
    int nerrors;
    int oom;
};

__attribute__((format(printf, 3, 4))) static void diag(struct loader *L, const struct ynode *n,
                                                       const char *fmt, ...)
{
    L->nerrors++;
    if (!L->d)
        return;
    if (L->d->n == RUBRIC_MAX_DIAGS) {
        L->d->dropped++;
        return;
    }
    struct rubric_diag *g = &L->d->d[L->d->n++];
    g->line = n ? n->line : 1;
    g->col = n ? n->col : 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->msg, sizeof g->msg, fmt, ap);
    va_end(ap);
}

/* A scalar shown in a message: at most 40 bytes, control bytes as '?'. */
static const char *shown(const struct ynode *n, char *buf, size_t buflen)
{
    size_t k = 0;
    for (size_t i = 0; i < n->len && k + 4 < buflen && i < 40; i++) {
        unsigned char ch = (unsigned char)n->str[i];
        buf[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    if (n->len > 40 && k + 4 < buflen) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
    return buf;
}

bool rubric_is_slug(const char *s, size_t len)
{
    if (len == 0 || len >= RUBRIC_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
        if (!ok)
            return false;
    }
    return true;
}

static bool is_null(const struct ynode *n)
{
    return n->kind == YN_SCALAR && n->plain &&
           (n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
            !strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

static const char *kind_name(const struct ynode *n)
{
    if (n->kind == YN_SEQ)
        return "a list";
    if (n->kind == YN_MAP)
        return "a mapping";
    return n->plain ? "plain text" : "quoted text";
}

/* ---- typed getters: each reports its own error and returns false ------- */

static bool get_text(struct loader *L, const char *key, const struct ynode *v, bool required,
                     const char **out)
{
    if (v->kind != YN_SCALAR) {
        diag(L, v, "%s must be text, not %s", key, kind_name(v));
        return false;
    }
    if (is_null(v) || memchr(v->str, 0, v->len)) {
        if (required || !is_null(v)) {
            diag(L, v, "%s must not be empty", key);
            return false;
        }
        *out = "";
        return true;
    }
    if (v->len > 4096) {
        diag(L, v, "%s is longer than 4096 bytes", key);
        return false;
    }
    *out = v->str; /* lives in the arena with the tree */
    return true;
}

static bool get_slug(struct loader *L, const char *key, const struct ynode *v, char *out)
{
    char b[64];
    if (v->kind != YN_SCALAR || is_null(v)) {
        diag(L, v, "%s must be a slug (lowercase letters, digits, '-', '_')", key);
        return false;
    }
    if (!rubric_is_slug(v->str, v->len)) {
        diag(L, v, "%s '%s' is not a slug (lowercase letters, digits, '-', '_'; at most 64)", key,
             shown(v, b, sizeof b));
        return false;
    }
    memcpy(out, v->str, v->len + 1);
    return true;
}

static bool numeric_chars(const struct ynode *v)
{
    if (!v->len)
        return false;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->str[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return false;
    }
    return true;
}

static bool get_number(struct loader *L, const char *key, const struct ynode *v, double *out)
{
    char b[64];
    if (v->kind != YN_SCALAR || !v->plain || !numeric_chars(v)) {
        diag(L, v, "%s must be a number, not %s%s%s%s", key, kind_name(v),
             v->kind == YN_SCALAR ? " '" : "", v->kind == YN_SCALAR ? shown(v, b, sizeof b) : "",
             v->kind == YN_SCALAR ? "'" : "");
        return false;
    }
    char *end;
    double d = strtod(v->str, &end);
    if (end != v->str + v->len || !isfinite(d)) {
        diag(L, v, "%s must be a number, not '%s'", key, shown(v, b, sizeof b));
        return false;
    }
    *out = d;
    return true;
}

static bool get_int(struct loader *L, const char *key, const struct ynode *v, int *out)
{
    double d;
    if (!get_number(L, key, v, &d))
        return false;
    if (d != floor(d) || fabs(d) > 1000000) {
        diag(L, v, "%s must be a whole number between -1000000 and 1000000", key);
        return false;
    }
    *out = (int)d;
    return true;
}

static bool get_bool(struct loader *L, const char *key, const struct ynode *v, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO"};
    if (v->kind == YN_SCALAR && v->plain) {
        for (size_t i = 0; i < ES_ARRAY_LEN(yes); i++) {
            if (!strcmp(v->str, yes[i]))
                return (*out = true);
            if (!strcmp(v->str, no[i])) {
                *out = false;
                return true;
            }
        }
    }
    diag(L, v, "%s must be true or false", key);
    return false;
}

static bool get_weight(struct loader *L, const char *key, const struct ynode *v, double *out)
{
    if (!get_number(L, key, v, out))
        return false;
    if (*out <= 0 || *out > 1000) {
        diag(L, v, "%s must be greater than 0 (and at most 1000)", key);
        return false;
    }
    return true;
}

/* ---- mappings with a fixed set of keys ------------------------------------ */

static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return 99;
    unsigned row[32];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag_prev = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned sub = diag_prev + (a[i - 1] != b[j - 1]);
            row[j] = ES_MIN(ES_MIN(row[j - 1] + 1, up + 1), sub);
            diag_prev = up;
        }
    }
    return row[lb];
}

/* Fills vals[i] with the value of keys[i] (NULL when absent); reports unknown
 * keys, suggesting the closest known one. */
static void fields(struct loader *L, const struct ynode *map, const char *where,
                   const char *const *keys, const struct ynode **vals)
{
    size_t nkeys = 0;
    while (keys[nkeys])
        vals[nkeys++] = NULL;
    for (size_t i = 0; i + 1 < map->nkids; i += 2) {
        const struct ynode *k = map->kids[i];
        size_t j = 0;
        while (j < nkeys && (strlen(keys[j]) != k->len || memcmp(keys[j], k->str, k->len)))
            j++;
        if (j < nkeys) {
            vals[j] = map->kids[i + 1];
            continue;
        }
        char b[64];
        const char *best = NULL;
        unsigned bestd = 3;
        for (size_t m = 0; m < nkeys && !memchr(k->str, 0, k->len); m++) {
            unsigned dd = edit_distance(k->str, keys[m]);
            if (dd < bestd) {
                bestd = dd;
                best = keys[m];
            }
        }
        if (best)
            diag(L, k, "unknown key '%s' in %s (did you mean '%s'?)", shown(k, b, sizeof b), where,
                 best);
        else
            diag(L, k, "unknown key '%s' in %s", shown(k, b, sizeof b), where);
    }
}

static bool need(struct loader *L, const struct ynode *map, const char *where, const char *key,
                 const struct ynode *v)
{
    if (!v)
        diag(L, map, "%s: missing key '%s'", where, key);
    return v != NULL;
}

static bool is_map(struct loader *L, const struct ynode *v, const char *what)
{
    if (v->kind != YN_MAP)
        diag(L, v, "%s must be a mapping of keys to values, not %s", what, kind_name(v));
    return v->kind == YN_MAP;
}

static bool is_seq(struct loader *L, const struct ynode *v, const char *what)
{
    if (v->kind != YN_SEQ)
        diag(L, v, "%s must be a list, not %s", what, kind_name(v));
    return v->kind == YN_SEQ;
}

/* A list of slugs (applies_to) or of texts (phrases) into the arena. */
static bool string_list(struct loader *L, const char *key, const struct ynode *v, bool slugs,
                        const char ***out, int *n)
{
    if (!is_seq(L, v, key))
        return false;
    if (v->nkids > 256) {
        diag(L, v, "%s has more than 256 entries", key);
        return false;
    }
    *out = arena_alloc(L->a, (v->nkids + 1) * sizeof **out);
    if (!*out) {
        L->oom = 1;
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < v->nkids; i++) {
        const struct ynode *e = v->kids[i];
        char slug[RUBRIC_ID_LEN];
        const char *t = NULL;
        if (slugs ? get_slug(L, key, e, slug) : get_text(L, key, e, true, &t))
            (*out)[(*n)++] = slugs ? e->str : t;
        else
            ok = false;
    }
    return ok;
}

/* ---- items ------------------------------------------------------------------ */

static const char *const scale_keys[] = {"min", "max", "labels", NULL};
enum { SC_MIN, SC_MAX, SC_LABELS };

static void load_scale(struct loader *L, const struct ynode *m, struct rubric_item *it)
{
    const struct ynode *v[4];
    if (!is_map(L, m, "scale"))
        return;
    fields(L, m, "scale", scale_keys, v);
    bool have_min = need(L, m, "scale", "min", v[SC_MIN]) && get_int(L, "min", v[SC_MIN], &it->min);
    bool have_max = need(L, m, "scale", "max", v[SC_MAX]) && get_int(L, "max", v[SC_MAX], &it->max);
    if (!have_min || !have_max)
        return;
    if (it->min >= it->max) {
        diag(L, v[SC_MIN], "scale min %d must be less than max %d", it->min, it->max);
        return;
    }
    it->fail_below = (it->min + it->max) / 2.0;
    const struct ynode *lab = v[SC_LABELS];
    if (!lab || !is_map(L, lab, "labels"))
        return;
    it->labels = arena_alloc(L->a, (lab->nkids / 2 + 1) * sizeof *it->labels);
    if (!it->labels) {
        L->oom = 1;
        return;
    }
    for (size_t i = 0; i + 1 < lab->nkids; i += 2) {
        struct rubric_label *l = &it->labels[it->nlabels];
        if (!get_int(L, "a label's value", lab->kids[i], &l->value) ||
            !get_text(L, "a label", lab->kids[i + 1], true, &l->text))
            continue;
        if (l->value < it->min || l->value > it->max) {
            diag(L, lab->kids[i], "label %d is outside the scale %d-%d", l->value, it->min,
                 it->max);
            continue;
        }
        it->nlabels++;
    }
}

static const char *const expect_keys[] = {"phrases", "within_s", NULL};

static void load_expect(struct loader *L, const struct ynode *m, struct rubric_item *it)
{
    const struct ynode *v[3];
    if (!is_map(L, m, "expect"))
        return;
    fields(L, m, "expect", expect_keys, v);
    if (need(L, m, "expect", "phrases", v[0]) &&
        string_list(L, "phrases", v[0], false, &it->phrases, &it->nphrases) && !it->nphrases)
        diag(L, v[0], "expect.phrases is empty");
    if (v[1] && get_number(L, "within_s", v[1], &it->within_s) && it->within_s <= 0)
        diag(L, v[1], "within_s must be greater than 0");
}

static const char *const item_keys[] = {
    "id",       "text",      "guidance",   "type",   "scale",      "weight", "na_allowed",
    "critical", "error_tag", "applies_to", "expect", "fail_below", NULL};
enum {
    I_ID,
    I_TEXT,
    I_GUIDANCE,
    I_TYPE,
    I_SCALE,
    I_WEIGHT,
    I_NA,
    I_CRITICAL,
    I_TAG,
    I_APPLIES,
    I_EXPECT,
    I_FAIL_BELOW,
    I_NKEYS
};

static void load_item_type(struct loader *L, const struct ynode *m, const struct ynode **v,
                           struct rubric_item *it)
{
    char b[64];
    if (!need(L, m, "item", "type", v[I_TYPE]))
        return;
    const struct ynode *t = v[I_TYPE];
    if (t->kind == YN_SCALAR && !strcmp(t->str, "yes_no")) {
        it->type = RUBRIC_YES_NO;
        if (v[I_SCALE])
            diag(L, v[I_SCALE], "scale is only for type: scale");
        if (v[I_FAIL_BELOW])
            diag(L, v[I_FAIL_BELOW], "fail_below is only for type: scale");
        return;
    }
    if (t->kind != YN_SCALAR || strcmp(t->str, "scale")) {
        diag(L, t, "type must be yes_no or scale, not '%s'",
             t->kind == YN_SCALAR ? shown(t, b, sizeof b) : kind_name(t));
        return;
    }
    it->type = RUBRIC_SCALE;
    if (!v[I_SCALE]) {
        diag(L, m, "item '%s': missing key 'scale' (type: scale needs {min, max})",
             it->id[0] ? it->id : "?");
        return;
    }
    load_scale(L, v[I_SCALE], it);
    double fb;
    if (v[I_FAIL_BELOW] && it->min < it->max && get_number(L, "fail_below", v[I_FAIL_BELOW], &fb)) {
        if (fb <= it->min || fb > it->max)
            diag(L, v[I_FAIL_BELOW], "fail_below %g must be above min %d and at most max %d", fb,
                 it->min, it->max);
        else
            it->fail_below = fb;
    }
}

static void load_item(struct loader *L, const struct ynode *m, struct rubric_item *it)
{
    const struct ynode *v[I_NKEYS + 1];
    struct rubric *r = L->r;
    it->weight = 1;
    it->text = it->guidance = "";
    it->line = m->line;
    if (!is_map(L, m, "an item"))
        return;
    fields(L, m, "item", item_keys, v);
    if (need(L, m, "item", "id", v[I_ID]) && get_slug(L, "item id", v[I_ID], it->id)) {
        for (struct rubric_item *o = r->items; o < it; o++)
            if (!strcmp(o->id, it->id))
                diag(L, v[I_ID], "duplicate item id '%s' (first at line %d)", it->id, o->line);
    }
    if (need(L, m, "item", "text", v[I_TEXT]))
        get_text(L, "text", v[I_TEXT], true, &it->text);
    if (v[I_GUIDANCE])
        get_text(L, "guidance", v[I_GUIDANCE], false, &it->guidance);
    load_item_type(L, m, v, it);
    if (v[I_WEIGHT])
        get_weight(L, "weight", v[I_WEIGHT], &it->weight);
    if (v[I_NA])
        get_bool(L, "na_allowed", v[I_NA], &it->na_allowed);
    if (v[I_CRITICAL])
        get_bool(L, "critical", v[I_CRITICAL], &it->critical);
    if (v[I_TAG])
        get_slug(L, "error_tag", v[I_TAG], it->error_tag);
    else
        memcpy(it->error_tag, it->id, sizeof it->id);
    if (v[I_APPLIES])
        string_list(L, "applies_to", v[I_APPLIES], true, &it->applies_to, &it->napplies);
    if (v[I_EXPECT])
        load_expect(L, v[I_EXPECT], it);
}

/* ---- sections and the top level ------------------------------------------ */

static const char *const section_keys[] = {"id", "title", "weight", "items", NULL};
enum { S_ID, S_TITLE, S_WEIGHT, S_ITEMS };

static void load_section(struct loader *L, const struct ynode *m, int si)
{
    struct rubric *r = L->r;
    struct rubric_section *s = &r->sections[si];
    const struct ynode *v[5];
    s->weight = 1;
    s->first_item = r->nitems;
    s->title = "";
    if (!is_map(L, m, "a section"))
        return;
    fields(L, m, "section", section_keys, v);
    if (need(L, m, "section", "id", v[S_ID]) && get_slug(L, "section id", v[S_ID], s->id)) {
        for (int j = 0; j < si; j++)
            if (!strcmp(r->sections[j].id, s->id))
                diag(L, v[S_ID], "duplicate section id '%s'", s->id);
    }
    if (need(L, m, "section", "title", v[S_TITLE]))
        get_text(L, "title", v[S_TITLE], true, &s->title);
    if (v[S_WEIGHT])
        get_weight(L, "section weight", v[S_WEIGHT], &s->weight);
    if (!need(L, m, "section", "items", v[S_ITEMS]) || !is_seq(L, v[S_ITEMS], "items"))
        return;
    if (v[S_ITEMS]->nkids == 0) {
        diag(L, v[S_ITEMS], "section '%s' has no items", s->id[0] ? s->id : "?");
        return;
    }
    for (size_t i = 0; i < v[S_ITEMS]->nkids && r->nitems < RUBRIC_MAX_ITEMS; i++) {
        struct rubric_item *it = &r->items[r->nitems++];
        it->section = si;
        load_item(L, v[S_ITEMS]->kids[i], it);
        s->nitems++;
    }
}

static const char *const top_keys[] = {"id",         "title",    "description",
                                       "pass_score", "sections", NULL};
enum { T_ID, T_TITLE, T_DESCRIPTION, T_PASS, T_SECTIONS };

static size_t count_items(const struct ynode *secs)
{
    size_t n = 0;
    for (size_t i = 0; i < secs->nkids; i++) {
        const struct ynode *s = secs->kids[i];
        for (size_t k = 0; s->kind == YN_MAP && k + 1 < s->nkids; k += 2)
            if (s->kids[k]->len == 5 && !memcmp(s->kids[k]->str, "items", 5) &&
                s->kids[k + 1]->kind == YN_SEQ)
                n += s->kids[k + 1]->nkids;
    }
    return n;
}

static void load_top(struct loader *L, const struct ynode *root)
{
    struct rubric *r = L->r;
    const struct ynode *v[6];
    r->title = r->description = "";
    if (!root) {
        diag(L, NULL, "the file is empty; a rubric needs id, title, pass_score and sections");
        return;
    }
    if (!is_map(L, root, "a rubric"))
        return;
    fields(L, root, "rubric", top_keys, v);
    if (need(L, root, "rubric", "id", v[T_ID]))
        get_slug(L, "id", v[T_ID], r->id);
    if (need(L, root, "rubric", "title", v[T_TITLE]))
        get_text(L, "title", v[T_TITLE], true, &r->title);
    if (v[T_DESCRIPTION])
        get_text(L, "description", v[T_DESCRIPTION], false, &r->description);
    if (need(L, root, "rubric", "pass_score", v[T_PASS]) &&
        get_number(L, "pass_score", v[T_PASS], &r->pass_score) &&
        (r->pass_score < 0 || r->pass_score > 100))
        diag(L, v[T_PASS], "pass_score %g is out of range 0-100", r->pass_score);
    if (!need(L, root, "rubric", "sections", v[T_SECTIONS]) ||
        !is_seq(L, v[T_SECTIONS], "sections"))
        return;
    const struct ynode *secs = v[T_SECTIONS];
    if (secs->nkids == 0) {
        diag(L, secs, "the rubric has no sections");
        return;
    }
    if (secs->nkids > RUBRIC_MAX_SECTIONS) {
        diag(L, secs, "too many sections (%zu; at most %d)", secs->nkids, RUBRIC_MAX_SECTIONS);
        return;
    }
    size_t nitems = count_items(secs);
    if (nitems > RUBRIC_MAX_ITEMS) {
        diag(L, secs, "too many items (%zu; at most %d)", nitems, RUBRIC_MAX_ITEMS);
        return;
    }
    r->sections = arena_alloc(L->a, secs->nkids * sizeof *r->sections);
    r->items = arena_alloc(L->a, (nitems ? nitems : 1) * sizeof *r->items);
    if (!r->sections || !r->items) {
        L->oom = 1;
        return;
    }
    r->nsections = (int)secs->nkids;
    for (int i = 0; i < r->nsections; i++)
        load_section(L, secs->kids[i], i);
}

/* Problems in file order (the walk checks some things after their neighbours);
 * insertion sort keeps the order of problems found at one place. */
static void sort_diags(struct rubric_diags *d)
{
    for (int i = 1; i < d->n; i++) {
        struct rubric_diag x = d->d[i];
        int j = i;
        while (j > 0 && (d->d[j - 1].line > x.line ||
                         (d->d[j - 1].line == x.line && d->d[j - 1].col > x.col))) {
            d->d[j] = d->d[j - 1];
            j--;
        }
        d->d[j] = x;
    }
}

int rubric_load(const uint8_t *p, size_t len, struct rubric **out, struct rubric_diags *diags)
{
    *out = NULL;
    if (diags)
        memset(diags, 0, sizeof *diags);
    struct loader L = {.d = diags};
    if (len > RUBRIC_MAX_BYTES) {
        diag(&L, NULL, "the file is larger than %d bytes", RUBRIC_MAX_BYTES);
        return ES_ETOOBIG;
    }
    struct rubric *r = calloc(1, sizeof *r);
    if (!r || arena_new(&r->arena)) {
        free(r);
        return ES_ENOMEM;
    }
    L.r = r;
    L.a = r->arena;
    struct ynode *root;
    struct es_err err = {{0}};
    int line, col;
    int rc = ytree_parse(p, len, r->arena, &root, &line, &col, &err);
    if (rc) {
        if (diags && diags->n < RUBRIC_MAX_DIAGS) {
            struct rubric_diag *g = &diags->d[diags->n++];
            g->line = line;
            g->col = col;
            snprintf(g->msg, sizeof g->msg, "%.255s", err.msg);
        }
        rubric_free(r);
        return rc == ES_ENOMEM || rc == ES_ETOOBIG ? rc : ES_EFORMAT;
    }
    load_top(&L, root);
    if (diags)
        sort_diags(diags);
    if (L.oom) {
        rubric_free(r);
        return ES_ENOMEM;
    }
    if (L.nerrors) {
        rubric_free(r);
        return ES_EFORMAT;
    }
    *out = r;
    return 0;
}

void rubric_free(struct rubric *r)
{
    if (!r)
        return;
    arena_free(r->arena);
    free(r);
}

int rubric_find_item(const struct rubric *r, const char *id)
{
    for (int i = 0; i < r->nitems; i++)
        if (!strcmp(r->items[i].id, id))
            return i;
    return -1;
}
