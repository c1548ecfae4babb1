/* Rubric validation: one bad file per kind of error, each with its exact
 * line and column; the shipped examples load. */
#include "scripts-rubric/rubric.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct rubric_diags D;

/* Loads yaml expecting failure; returns the diagnostics. */
static void bad(const char *yaml)
{
    struct rubric *r = NULL;
    int rc = rubric_load((const uint8_t *)yaml, strlen(yaml), &r, &D);
    cr_assert_neq(rc, 0, "expected the rubric to be refused");
    cr_assert_null(r);
    cr_assert_gt(D.n, 0);
}

/* Asserts that one diagnostic sits at line:col and mentions what. */
static void expect(int line, int col, const char *what)
{
    for (int i = 0; i < D.n; i++)
        if (D.d[i].line == line && D.d[i].col == col && strstr(D.d[i].msg, what))
            return;
    for (int i = 0; i < D.n; i++)
        fprintf(stderr, "  got %d:%d: %s\n", D.d[i].line, D.d[i].col, D.d[i].msg);
    cr_assert_fail("no diagnostic at %d:%d mentioning \"%s\"", line, col, what);
}

#define OK_SECTION "  - id: s\n    title: S\n    items:\n      - {id: a, text: A, type: yes_no}\n"
#define HEAD       "id: t\ntitle: T\npass_score: 80\nsections:\n"

Test(load, minimal_rubric_and_defaults)
{
    const char *y = HEAD OK_SECTION;
    struct rubric *r;
    cr_assert_eq(rubric_load((const uint8_t *)y, strlen(y), &r, &D), 0);
    cr_assert_str_eq(r->id, "t");
    cr_assert_eq(r->nsections, 1);
    cr_assert_eq(r->nitems, 1);
    cr_assert_float_eq(r->items[0].weight, 1.0, 1e-12);
    cr_assert_float_eq(r->sections[0].weight, 1.0, 1e-12);
    cr_assert_not(r->items[0].na_allowed);
    cr_assert_not(r->items[0].critical);
    cr_assert_str_eq(r->items[0].error_tag, "a");
    cr_assert_str_eq(r->items[0].guidance, "");
    rubric_free(r);
}

Test(load, unknown_key_with_suggestion)
{
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - id: a\n        text: A\n        type: yes_no\n        wieght: 2\n");
    expect(11, 9, "unknown key 'wieght' in item (did you mean 'weight'?)");
}

Test(load, missing_key)
{
    bad("id: t\ntitle: T\nsections:\n" OK_SECTION);
    expect(1, 1, "missing key 'pass_score'");
    bad(HEAD "  - id: s\n    title: S\n    items:\n      - {id: a, type: yes_no}\n");
    expect(8, 9, "missing key 'text'");
}

Test(load, wrong_type)
{
    bad("id: t\ntitle: T\npass_score: \"80\"\nsections:\n" OK_SECTION);
    expect(3, 13, "pass_score must be a number");
    bad(HEAD "  - id: s\n    title: S\n    items: {id: a}\n");
    expect(7, 12, "items must be a list");
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - {id: a, text: A, type: yes_no, critical: maybe}\n");
    expect(8, 50, "critical must be true or false");
    bad(HEAD "  - id: s\n    title: S\n    items:\n      - {id: a, text: A, type: choice}\n");
    expect(8, 32, "type must be yes_no or scale");
    bad("- just\n- a list\n");
    expect(1, 1, "a rubric must be a mapping");
}

Test(load, duplicate_ids)
{
    bad(HEAD OK_SECTION "  - id: s2\n    title: S\n    items:\n"
                        "      - {id: a, text: again, type: yes_no}\n");
    expect(12, 14, "duplicate item id 'a' (first at line 8)");
    bad(HEAD OK_SECTION "  - id: s\n    title: S2\n    items:\n"
                        "      - {id: b, text: B, type: yes_no}\n");
    expect(9, 9, "duplicate section id 's'");
    bad("id: t\nid: u\ntitle: T\npass_score: 80\nsections:\n" OK_SECTION);
    expect(2, 1, "duplicate key 'id'");
}

Test(load, weights_must_be_positive)
{
    bad(HEAD "  - id: s\n    title: S\n    weight: 0\n    items:\n"
             "      - {id: a, text: A, type: yes_no}\n");
    expect(7, 13, "weight must be greater than 0");
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - {id: a, text: A, type: yes_no, weight: -1}\n");
    expect(8, 48, "weight must be greater than 0");
}

Test(load, pass_score_range)
{
    bad("id: t\ntitle: T\npass_score: 100.5\nsections:\n" OK_SECTION);
    expect(3, 13, "pass_score 100.5 is out of range 0-100");
    bad("id: t\ntitle: T\npass_score: -1\nsections:\n" OK_SECTION);
    expect(3, 13, "out of range");
}

Test(load, scale_bounds_and_labels)
{
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - id: q\n        text: Q\n        type: scale\n"
             "        scale: {min: 5, max: 5}\n");
    expect(11, 22, "scale min 5 must be less than max 5");
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - id: q\n        text: Q\n        type: scale\n"
             "        scale:\n          min: 1\n          max: 5\n"
             "          labels:\n            1: poor\n            6: too far\n");
    expect(16, 13, "label 6 is outside the scale 1-5");
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - {id: q, text: Q, type: scale}\n");
    expect(8, 9, "type: scale needs {min, max}");
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - {id: q, text: Q, type: yes_no, scale: {min: 1, max: 2}}\n");
    expect(8, 47, "scale is only for type: scale");
}

Test(load, empty_section_and_no_sections)
{
    bad(HEAD "  - id: s\n    title: S\n    items: []\n");
    expect(7, 12, "section 's' has no items");
    bad("id: t\ntitle: T\npass_score: 80\nsections: []\n");
    expect(4, 11, "the rubric has no sections");
    bad("");
    expect(1, 1, "the file is empty");
}

Test(load, slugs)
{
    bad("id: Order Call\ntitle: T\npass_score: 80\nsections:\n" OK_SECTION);
    expect(1, 5, "id 'Order Call' is not a slug");
    bad(HEAD "  - id: s\n    title: S\n    items:\n"
             "      - {id: a, text: A, type: yes_no, error_tag: Wrong Price}\n");
    expect(8, 51, "error_tag 'Wrong Price' is not a slug");
}

Test(load, yaml_syntax_aliases_and_documents)
{
    bad("id: t\n  title: [\n");
    cr_assert(strstr(D.d[0].msg, "YAML syntax"), "%s", D.d[0].msg);
    cr_assert_eq(D.d[0].line, 2);
    bad("id: &x t\ntitle: *x\n");
    expect(2, 8, "aliases");
    bad(HEAD OK_SECTION "---\nid: u\n");
    expect(9, 1, "only one YAML document");
}

Test(load, every_problem_is_reported_in_file_order)
{
    bad("id: X\ntitle: T\npass_score: 200\nsections:\n"
        "  - id: s\n    title: S\n    weight: 0\n    items:\n"
        "      - {id: a, text: A, type: yes_no, na_allowed: perhaps}\n");
    cr_assert_eq(D.n, 4);
    for (int i = 1; i < D.n; i++)
        cr_assert(D.d[i].line > D.d[i - 1].line);
}

Test(load, caps)
{
    size_t n = RUBRIC_MAX_BYTES + 10;
    char *big = malloc(n + 1);
    memset(big, '#', n);
    big[n] = 0;
    struct rubric *r;
    cr_assert_eq(rubric_load((const uint8_t *)big, n, &r, &D), ES_ETOOBIG);
    free(big);
    /* deep nesting stops at the depth cap, not the stack */
    char deep[300];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    cr_assert_neq(rubric_load((const uint8_t *)deep, strlen(deep), &r, &D), 0);
}

static void load_example(const char *name, int min_items)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scripts-rubric/examples/%s", EARSHOT_SRC, name);
    struct es_buf b;
    cr_assert_eq(es_read_file(path, RUBRIC_MAX_BYTES, &b), 0, "%s", path);
    struct rubric *r;
    int rc = rubric_load((const uint8_t *)b.data, b.len, &r, &D);
    cr_assert_eq(rc, 0, "%s:%d:%d: %s", name, D.n ? D.d[0].line : 0, D.n ? D.d[0].col : 0,
                 D.n ? D.d[0].msg : "");
    cr_assert_geq(r->nitems, min_items);
    int critical = 0;
    for (int i = 0; i < r->nitems; i++)
        critical += r->items[i].critical;
    cr_assert_geq(critical, 1, "%s: every example has a critical item", name);
    rubric_free(r);
    es_buf_free(&b);
}

Test(load, examples)
{
    load_example("inbound-order.yaml", 8);
    load_example("missed-call-callback.yaml", 4);
    load_example("complaint.yaml", 5);
}
