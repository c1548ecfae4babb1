/* Rubric versions (immutable once stored), evaluations, their status steps,
 * edits with history and pinned comments. */
#include "fixture.h"

#include "common/db.h"

TestSuite(store, .init = fx_setup, .fini = fx_teardown);

#define RUBRIC_V1                                                                                  \
    "id: order\ntitle: Order call\npass_score: 80\nsections:\n"                                    \
    "  - id: s\n    title: S\n    items:\n"                                                        \
    "      - {id: greet, text: Greets, type: yes_no}\n"                                            \
    "      - {id: price, text: Price right, type: yes_no, error_tag: wrong-price}\n"
#define RUBRIC_V2 RUBRIC_V1 "      - {id: close, text: Closes, type: yes_no}\n"

static int64_t t0(void)
{
    return es_now_ms() - 86400000;
}

Test(store, import_versions)
{
    enum rubric_import_outcome o;
    cr_assert_eq(fx_import(RUBRIC_V1, &o), 1);
    cr_assert_eq(o, RUBRIC_IMPORTED_NEW);
    cr_assert_eq(fx_import(RUBRIC_V1, &o), 1);
    cr_assert_eq(o, RUBRIC_UNCHANGED);
    char call[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"no\"}", true, ev), 0,
                 "%s", fx_err.msg);
    cr_assert_eq(fx_import(RUBRIC_V2, &o), 2);
    cr_assert_eq(o, RUBRIC_IMPORTED_VERSION);
    /* version 1 is still there, byte for byte */
    char *yaml;
    cr_assert_eq(rubric_get(fx_st, "order", 1, NULL, &yaml, &fx_err), 0);
    cr_assert_str_eq(yaml, RUBRIC_V1);
    free(yaml);
    struct rubric *r;
    cr_assert_eq(rubric_get(fx_st, "order", 0, &r, NULL, &fx_err), 0);
    cr_assert_eq(r->version, 2);
    cr_assert_eq(r->nitems, 3);
    rubric_free(r);
    /* the evaluation keeps the version it was made with */
    json_t *j;
    cr_assert_eq(eval_get_json(fx_st, ev, false, &j, &fx_err), 0);
    cr_assert_eq(json_integer_value(json_object_get(j, "rubric_version")), 1);
    json_decref(j);
    /* a new evaluation against the latest version needs the new item */
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"no\"}", true, ev),
                 ES_EINVAL);
    cr_assert(strstr(fx_err.msg, "'close'"), "%s", fx_err.msg);
    cr_assert_eq(fx_eval(call, "order", 1, "{\"greet\":\"yes\",\"price\":\"no\"}", true, ev), 0);
    /* going back to the old text makes a third version: history only moves forward */
    cr_assert_eq(fx_import(RUBRIC_V1, &o), 3);
    cr_assert_eq(rubric_get(fx_st, "order", 4, NULL, &yaml, &fx_err), ES_ENOTFOUND);
    cr_assert_eq(rubric_get(fx_st, "nope", 0, NULL, &yaml, &fx_err), ES_ENOTFOUND);
}

Test(store, invalid_rubric_is_not_stored)
{
    int version;
    enum rubric_import_outcome o;
    const char *bad = "id: x\ntitle: X\npass_score: 80\nsections: []\n";
    cr_assert_eq(rubric_import(fx_st, (const uint8_t *)bad, strlen(bad), &version, &o, &fx_err),
                 ES_EFORMAT);
    cr_assert(strstr(fx_err.msg, "line 4"), "%s", fx_err.msg);
    char *yaml;
    cr_assert_eq(rubric_get(fx_st, "x", 0, NULL, &yaml, &fx_err), ES_ENOTFOUND);
}

static const char *status_of(const char *ev)
{
    static char buf[32];
    json_t *j;
    cr_assert_eq(eval_get_json(fx_st, ev, false, &j, &fx_err), 0);
    snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(j, "status")));
    json_decref(j);
    return buf;
}

Test(store, status_steps)
{
    fx_import(RUBRIC_V1, NULL);
    char call[ES_ID_LEN], a[ES_ID_LEN], b[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"yes\"}", false, a), 0);
    cr_assert_str_eq(status_of(a), "draft");
    /* a draft can only be submitted */
    cr_assert_eq(eval_transition(fx_st, a, EVAL_ACKNOWLEDGED, "ann", NULL, &fx_err), ES_ESTATE);
    cr_assert(strstr(fx_err.msg, "is draft; it cannot become acknowledged"), "%s", fx_err.msg);
    cr_assert_eq(eval_transition(fx_st, a, EVAL_RESOLVED, "sue", NULL, &fx_err), ES_ESTATE);
    cr_assert_eq(eval_transition(fx_st, a, EVAL_SUBMITTED, "sue", NULL, &fx_err), 0);
    cr_assert_eq(eval_transition(fx_st, a, EVAL_SUBMITTED, "sue", NULL, &fx_err), ES_ESTATE);
    cr_assert_eq(eval_transition(fx_st, a, EVAL_RESOLVED, "sue", NULL, &fx_err), ES_ESTATE);
    cr_assert_eq(eval_transition(fx_st, a, EVAL_ACKNOWLEDGED, "ann", NULL, &fx_err), 0);
    /* acknowledged is final */
    for (int to = 0; to < EVAL_NSTATUS; to++)
        cr_assert_eq(eval_transition(fx_st, a, (enum eval_status)to, "ann", "x", &fx_err),
                     ES_ESTATE, "acknowledged -> %s", eval_status_name((enum eval_status)to));
    cr_assert_str_eq(status_of(a), "acknowledged");

    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"no\",\"price\":\"yes\"}", true, b), 0);
    cr_assert_eq(eval_transition(fx_st, b, EVAL_DISPUTED, "ann", "", &fx_err), ES_EINVAL);
    cr_assert(strstr(fx_err.msg, "reason"), "%s", fx_err.msg);
    cr_assert_eq(eval_transition(fx_st, b, EVAL_DISPUTED, "ann", "I did greet", &fx_err), 0);
    cr_assert_eq(eval_transition(fx_st, b, EVAL_ACKNOWLEDGED, "ann", NULL, &fx_err), ES_ESTATE);
    cr_assert_eq(eval_transition(fx_st, b, EVAL_RESOLVED, "", NULL, &fx_err), ES_EINVAL);
    cr_assert_eq(eval_transition(fx_st, b, EVAL_RESOLVED, "boss", "upheld", &fx_err), 0);
    for (int to = 0; to < EVAL_NSTATUS; to++)
        cr_assert_eq(eval_transition(fx_st, b, (enum eval_status)to, "boss", "x", &fx_err),
                     ES_ESTATE);
    /* who and when of every step */
    json_t *j;
    cr_assert_eq(eval_get_json(fx_st, b, true, &j, &fx_err), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "disputed"), "by")),
                     "ann");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "disputed"), "reason")),
                     "I did greet");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "resolved"), "by")),
                     "boss");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "submitted"), "by")),
                     "sue");
    cr_assert(json_is_null(json_object_get(j, "acknowledged")));
    cr_assert_eq(json_array_size(json_object_get(j, "history")), 3);
    json_decref(j);
    cr_assert_eq(eval_transition(fx_st, "0190ffff-0000-7000-8000-000000000000", EVAL_SUBMITTED,
                                 "sue", NULL, &fx_err),
                 ES_ENOTFOUND);
}

Test(store, edits_keep_history)
{
    fx_import(RUBRIC_V1, NULL);
    char call[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"no\",\"price\":\"no\"}", true, ev), 0);
    json_t *fixed = json_pack("{s:s, s:s}", "greet", "yes", "price", "no");
    cr_assert_eq(eval_edit(fx_st, ev, fixed, "greeting was there after all", "sue", &fx_err), 0,
                 "%s", fx_err.msg);
    json_t *j;
    cr_assert_eq(eval_get_json(fx_st, ev, true, &j, &fx_err), 0);
    cr_assert_float_eq(json_real_value(json_object_get(j, "score")), 50.0, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(j, "revision")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(j, "comment")),
                     "greeting was there after all");
    json_t *h = json_object_get(j, "history");
    cr_assert_eq(json_array_size(h), 2);
    json_t *first = json_array_get(h, 0);
    cr_assert_float_eq(json_real_value(json_object_get(first, "score")), 0.0, 1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(first, "answers"), "greet")),
                     "no");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1), "action")), "edited");
    json_decref(j);
    /* a bad edit changes nothing */
    json_t *bad = json_pack("{s:s}", "greet", "yes");
    cr_assert_eq(eval_edit(fx_st, ev, bad, NULL, "sue", &fx_err), ES_EINVAL);
    cr_assert_eq(eval_get_json(fx_st, ev, true, &j, &fx_err), 0);
    cr_assert_eq(json_integer_value(json_object_get(j, "revision")), 2);
    json_decref(j);
    /* once acknowledged, no more edits */
    cr_assert_eq(eval_transition(fx_st, ev, EVAL_ACKNOWLEDGED, "ann", NULL, &fx_err), 0);
    cr_assert_eq(eval_edit(fx_st, ev, fixed, NULL, "sue", &fx_err), ES_ESTATE);
    cr_assert(strstr(fx_err.msg, "no longer be edited"), "%s", fx_err.msg);
    json_decref(fixed);
    json_decref(bad);
}

static int count_cb(void *ud, json_t *s)
{
    (void)s;
    ++*(int *)ud;
    return 0;
}

Test(store, refused_evaluations_store_nothing)
{
    fx_import(RUBRIC_V1, NULL);
    char call[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval("0190ffff-0000-7000-8000-000000000000", "order", 0,
                         "{\"greet\":\"yes\",\"price\":\"yes\"}", true, ev),
                 ES_ENOTFOUND);
    cr_assert_eq(fx_eval(call, "nope", 0, "{\"greet\":\"yes\"}", true, ev), ES_ENOTFOUND);
    cr_assert_eq(fx_eval(call, "order", 7, "{\"greet\":\"yes\"}", true, ev), ES_ENOTFOUND);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\"}", true, ev), ES_EINVAL);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"na\"}", true, ev),
                 ES_EINVAL);
    int n = 0;
    struct eval_filter f = {.status = -1};
    cr_assert_eq(eval_list(fx_st, &f, count_cb, &n), 0);
    cr_assert_eq(n, 0);
}

Test(store, list_filters)
{
    fx_import(RUBRIC_V1, NULL);
    char c1[ES_ID_LEN], c2[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, c1);
    fx_call(t0() + 1000, "bob", NULL, c2);
    cr_assert_eq(fx_eval(c1, "order", 0, "{\"greet\":\"yes\",\"price\":\"yes\"}", true, ev), 0);
    cr_assert_eq(fx_eval(c2, "order", 0, "{\"greet\":\"yes\",\"price\":\"no\"}", false, ev), 0);
    int n = 0;
    struct eval_filter all = {.status = -1};
    eval_list(fx_st, &all, count_cb, &n);
    cr_assert_eq(n, 2);
    n = 0;
    struct eval_filter bob = {.status = -1, .operator_ = "bob"};
    eval_list(fx_st, &bob, count_cb, &n);
    cr_assert_eq(n, 1);
    n = 0;
    struct eval_filter drafts = {.status = EVAL_DRAFT};
    eval_list(fx_st, &drafts, count_cb, &n);
    cr_assert_eq(n, 1);
    n = 0;
    struct eval_filter call = {.status = -1, .call_id = c1};
    eval_list(fx_st, &call, count_cb, &n);
    cr_assert_eq(n, 1);
}

Test(store, pinned_comments)
{
    fx_import(RUBRIC_V1, NULL);
    char call[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"no\"}", true, ev), 0);
    struct eval_comment ok = {.item_id = "price", .at_ms = 61500, .text = "said 19.90, list 21.90"};
    cr_assert_eq(eval_comment_add(fx_st, ev, &ok, "sue", &fx_err), 0, "%s", fx_err.msg);
    struct eval_comment overall = {.at_ms = -1, .text = "good energy"};
    cr_assert_eq(eval_comment_add(fx_st, ev, &overall, "sue", &fx_err), 0);
    struct eval_comment late = {.at_ms = 120001, .text = "after the end"};
    cr_assert_eq(eval_comment_add(fx_st, ev, &late, "sue", &fx_err), ES_EINVAL);
    struct eval_comment unknown = {.item_id = "nope", .at_ms = -1, .text = "x"};
    cr_assert_eq(eval_comment_add(fx_st, ev, &unknown, "sue", &fx_err), ES_EINVAL);
    struct eval_comment empty = {.at_ms = -1, .text = ""};
    cr_assert_eq(eval_comment_add(fx_st, ev, &empty, "sue", &fx_err), ES_EINVAL);
    json_t *j;
    cr_assert_eq(eval_get_json(fx_st, ev, false, &j, &fx_err), 0);
    json_t *cs = json_object_get(j, "comments");
    cr_assert_eq(json_array_size(cs), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(cs, 0), "at_ms")), 61500);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(cs, 0), "item_id")), "price");
    cr_assert(json_is_null(json_object_get(json_array_get(cs, 1), "at_ms")));
    json_decref(j);
}

Test(store, applies_to_uses_call_tags)
{
    fx_import("id: c\ntitle: C\npass_score: 50\nsections:\n"
              "  - id: s\n    title: S\n    items:\n"
              "      - {id: a, text: A, type: yes_no}\n"
              "      - {id: vol, text: Volumes, type: yes_no, applies_to: [b2b]}\n",
              NULL);
    char biz[ES_ID_LEN], priv[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t0(), "ann", "[\"b2b\"]", biz);
    fx_call(t0(), "ann", "[\"b2c\"]", priv);
    cr_assert_eq(fx_eval(biz, "c", 0, "{\"a\":\"yes\"}", true, ev), ES_EINVAL);
    cr_assert_eq(fx_eval(biz, "c", 0, "{\"a\":\"yes\",\"vol\":\"no\"}", true, ev), 0);
    cr_assert_eq(fx_eval(priv, "c", 0, "{\"a\":\"yes\"}", true, ev), 0, "%s", fx_err.msg);
    /* answered anyway on a private buyer's call: shown as scored, with the call's tags */
    cr_assert_eq(fx_eval(priv, "c", 0, "{\"a\":\"yes\",\"vol\":\"no\"}", true, ev), 0);
    json_t *j;
    cr_assert_eq(eval_get_json(fx_st, ev, false, &j, &fx_err), 0);
    cr_assert_float_eq(json_real_value(json_object_get(j, "score")), 100.0, 1e-9);
    cr_assert_eq(json_array_size(json_object_get(j, "errors")), 0, "vol does not apply");
    cr_assert_float_eq(json_real_value(json_object_get(
                           json_array_get(json_object_get(j, "sections"), 0), "score")),
                       100.0, 1e-9);
    json_decref(j);
}

Test(store, newer_tables_are_refused)
{
    db_exec(catalog_db(fx_cat),
            "UPDATE module_versions SET version = 99 WHERE module = 'scripts-rubric'");
    struct rubric_store *s2;
    cr_assert_eq(rubric_store_open(fx_cat, &s2, &fx_err), ES_ESCHEMA);
    cr_assert(strstr(fx_err.msg, "newer than this earshot"), "%s", fx_err.msg);
}

/* The evaluation as the operator reads it: every item with its question,
 * guidance, answer, outcome and what it cost (worked by hand from
 * docs/rubrics.md: s1 = mean(1, 0) = 50, s2 = (2-1)/(5-1) = 25 with close n/a,
 * overall 37.5; price at yes makes s1 100 and the score 62.5: 25 lost; tone at
 * 5 makes s2 100 and the score 75: 37.5 lost). */
Test(store, evaluation_detail_items)
{
    const char *yaml =
        "id: detail\ntitle: Detail\npass_score: 80\nsections:\n"
        "  - id: s1\n    title: Opening\n    items:\n"
        "      - {id: greet, text: Greets by name, guidance: Say the shop's name, type: yes_no, "
        "critical: true}\n"
        "      - {id: price, text: Price right, type: yes_no, error_tag: wrong-price}\n"
        "  - id: s2\n    title: Closing\n    items:\n"
        "      - {id: tone, text: Tone, type: scale, scale: {min: 1, max: 5}, fail_below: 3}\n"
        "      - {id: close, text: Closes politely, type: yes_no, na_allowed: true}\n";
    int v;
    enum rubric_import_outcome o;
    cr_assert_eq(rubric_import(fx_st, (const uint8_t *)yaml, strlen(yaml), &v, &o, &fx_err), 0,
                 "%s", fx_err.msg);
    char call[ES_ID_LEN], ev[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval(call, "detail", 0,
                         "{\"greet\":\"yes\",\"price\":\"no\",\"tone\":2,\"close\":\"na\"}", true,
                         ev),
                 0, "%s", fx_err.msg);
    struct eval_comment cm = {.item_id = "price", .at_ms = 4000, .text = "quoted 19.90"};
    cr_assert_eq(eval_comment_add(fx_st, ev, &cm, "sue", &fx_err), 0, "%s", fx_err.msg);
    json_t *j;
    cr_assert_eq(eval_get_json(fx_st, ev, false, &j, &fx_err), 0);
    cr_assert_float_eq(json_real_value(json_object_get(j, "score")), 37.5, 1e-9);
    json_t *items = json_object_get(j, "items");
    cr_assert_eq(json_array_size(items), 4);
    struct {
        const char *id, *outcome;
        double lost;
        bool critical;
    } want[] = {{"greet", "passed", 0, true},
                {"price", "failed", 25.0, false},
                {"tone", "failed", 37.5, false},
                {"close", "na", 0, false}};
    for (size_t i = 0; i < 4; i++) {
        json_t *it = json_array_get(items, i);
        cr_assert_str_eq(json_string_value(json_object_get(it, "id")), want[i].id);
        cr_assert_str_eq(json_string_value(json_object_get(it, "outcome")), want[i].outcome, "%s",
                         want[i].id);
        cr_assert_float_eq(json_real_value(json_object_get(it, "points_lost")), want[i].lost, 1e-9,
                           "%s", want[i].id);
        cr_assert_eq(json_is_true(json_object_get(it, "critical")), want[i].critical);
    }
    json_t *greet = json_array_get(items, 0), *price = json_array_get(items, 1);
    cr_assert_str_eq(json_string_value(json_object_get(greet, "question")), "Greets by name");
    cr_assert_str_eq(json_string_value(json_object_get(greet, "guidance")), "Say the shop's name");
    cr_assert_str_eq(json_string_value(json_object_get(greet, "section")), "s1");
    cr_assert_str_eq(json_string_value(json_object_get(price, "answer")), "no");
    cr_assert_str_eq(json_string_value(json_object_get(price, "comment")), "quoted 19.90");
    cr_assert(json_is_null(json_object_get(greet, "comment")));
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(items, 2), "answer")), 2);
    json_t *secs = json_object_get(j, "sections");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(secs, 1), "title")),
                     "Closing");
    cr_assert_float_eq(json_real_value(json_object_get(json_array_get(secs, 1), "score")), 25.0,
                       1e-9);
    json_t *c0 = json_array_get(json_object_get(j, "comments"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(c0, "by")), "sue");
    json_decref(j);
    /* a critical item failed: the score is 0, and passing it alone gives back 37.5 */
    cr_assert_eq(fx_eval(call, "detail", 0,
                         "{\"greet\":\"no\",\"price\":\"no\",\"tone\":2,\"close\":\"na\"}", true,
                         ev),
                 0, "%s", fx_err.msg);
    cr_assert_eq(eval_get_json(fx_st, ev, false, &j, &fx_err), 0);
    cr_assert_float_eq(json_real_value(json_object_get(j, "score")), 0.0, 1e-9);
    items = json_object_get(j, "items");
    cr_assert_float_eq(json_real_value(json_object_get(json_array_get(items, 0), "points_lost")),
                       37.5, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(json_array_get(items, 1), "points_lost")),
                       0.0, 1e-9, "price alone cannot lift a critical failure");
    json_decref(j);
}

static json_t *jget(const char *id)
{
    json_t *j = NULL;
    cr_assert_eq(eval_get_json(fx_st, id, true, &j, &fx_err), 0, "%s", fx_err.msg);
    return j;
}

static const char *jstatus(json_t *j)
{
    return json_string_value(json_object_get(j, "status"));
}

/* An operator disputes one item, a supervisor changes its answer: the score
 * follows, every step is in the history; an upheld item changes nothing. */
Test(store, item_disputes)
{
    fx_import(RUBRIC_V1, NULL);
    char call[ES_ID_LEN], ev[ES_ID_LEN], ev2[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"no\",\"price\":\"no\"}", true, ev), 0);
    json_t *bad = json_pack("{s:s, s:s}", "price", "I quoted 21.90", "nope", "x");
    cr_assert_eq(eval_dispute_items(fx_st, ev, bad, "ann", &fx_err), ES_EINVAL);
    cr_assert(strstr(fx_err.msg, "'nope'"), "%s", fx_err.msg);
    json_decref(bad);
    json_t *j = jget(ev);
    cr_assert_str_eq(jstatus(j), "submitted", "a refused dispute changes nothing");
    json_decref(j);
    json_t *empty_reason = json_pack("{s:s}", "price", "");
    cr_assert_eq(eval_dispute_items(fx_st, ev, empty_reason, "ann", &fx_err), ES_EINVAL);
    json_decref(empty_reason);

    json_t *items = json_pack("{s:s}", "price", "I quoted 21.90, the list price");
    cr_assert_eq(eval_dispute_items(fx_st, ev, items, "ann", &fx_err), 0, "%s", fx_err.msg);
    cr_assert_eq(eval_dispute_items(fx_st, ev, items, "ann", &fx_err), ES_ESTATE, "only once");
    json_decref(items);
    j = jget(ev);
    cr_assert_str_eq(jstatus(j), "disputed");
    json_t *price = json_array_get(json_object_get(j, "items"), 1);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(price, "dispute"), "reason")),
        "I quoted 21.90, the list price");
    cr_assert_null(json_object_get(json_array_get(json_object_get(j, "items"), 0), "dispute"));
    json_decref(j);
    /* not as a whole, while items wait for a decision */
    cr_assert_eq(eval_transition(fx_st, ev, EVAL_RESOLVED, "sue", "ok", &fx_err), ES_ESTATE);
    json_t *no_answer = json_pack("{s:{s:s, s:s}}", "price", "decision", "changed", "note", "n");
    cr_assert_eq(eval_resolve_items(fx_st, ev, no_answer, "sue", &fx_err), ES_EINVAL);
    json_decref(no_answer);
    json_t *greet = json_pack("{s:{s:s, s:s}}", "greet", "decision", "upheld", "note", "n");
    cr_assert_eq(eval_resolve_items(fx_st, ev, greet, "sue", &fx_err), ES_EINVAL, "not disputed");
    json_decref(greet);
    json_t *res = json_pack("{s:{s:s, s:s, s:s}}", "price", "decision", "changed", "answer", "yes",
                            "note", "listened again: 21.90 is right");
    cr_assert_eq(eval_resolve_items(fx_st, ev, res, "sue", &fx_err), 0, "%s", fx_err.msg);
    json_decref(res);
    j = jget(ev);
    cr_assert_str_eq(jstatus(j), "resolved");
    cr_assert_float_eq(json_real_value(json_object_get(j, "score")), 50.0, 1e-9, "rescored");
    json_t *d = json_array_get(json_object_get(j, "item_disputes"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "decision")), "changed");
    cr_assert_str_eq(json_string_value(json_object_get(d, "answer_before")), "no");
    cr_assert_str_eq(json_string_value(json_object_get(d, "answer_after")), "yes");
    cr_assert_str_eq(json_string_value(json_object_get(d, "resolved_by")), "sue");
    const char *want[] = {"item disputed", "edited", "item resolved", "resolved"};
    json_t *h = json_object_get(j, "history");
    size_t nh = json_array_size(h);
    cr_assert(nh >= 4);
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(
            json_string_value(json_object_get(json_array_get(h, nh - 4 + i), "action")), want[i]);
    json_decref(j);

    /* two items: one upheld leaves it disputed, the second closes it */
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"no\",\"price\":\"no\"}", true, ev2), 0);
    items = json_pack("{s:s, s:s}", "greet", "I did greet", "price", "right price");
    cr_assert_eq(eval_dispute_items(fx_st, ev2, items, "ann", &fx_err), 0, "%s", fx_err.msg);
    json_decref(items);
    res = json_pack("{s:{s:s, s:s}}", "greet", "decision", "upheld", "note", "no greeting heard");
    cr_assert_eq(eval_resolve_items(fx_st, ev2, res, "sue", &fx_err), 0, "%s", fx_err.msg);
    cr_assert_eq(eval_resolve_items(fx_st, ev2, res, "sue", &fx_err), ES_ESTATE, "decided");
    json_decref(res);
    j = jget(ev2);
    cr_assert_str_eq(jstatus(j), "disputed");
    cr_assert_float_eq(json_real_value(json_object_get(j, "score")), 0.0, 1e-9);
    json_decref(j);
    res = json_pack("{s:{s:s, s:s}}", "price", "decision", "upheld", "note", "19.90 said");
    cr_assert_eq(eval_resolve_items(fx_st, ev2, res, "sue", &fx_err), 0, "%s", fx_err.msg);
    json_decref(res);
    j = jget(ev2);
    cr_assert_str_eq(jstatus(j), "resolved");
    json_decref(j);
}

/* Past dispute_days, a submitted evaluation counts as acknowledged; a
 * disputed one waits for its resolution. */
Test(store, dispute_deadline)
{
    fx_import(RUBRIC_V1, NULL);
    char call[ES_ID_LEN], a[ES_ID_LEN], b[ES_ID_LEN];
    fx_call(t0(), "ann", NULL, call);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"no\"}", true, a), 0);
    cr_assert_eq(fx_eval(call, "order", 0, "{\"greet\":\"yes\",\"price\":\"no\"}", true, b), 0);
    cr_assert_eq(eval_transition(fx_st, b, EVAL_DISPUTED, "ann", "no", &fx_err), 0);
    int n;
    cr_assert_eq(
        eval_apply_deadline(fx_st, 7, es_now_ms() + 6 * 86400000LL, NULL, NULL, &n, &fx_err), 0);
    cr_assert_eq(n, 0, "not yet");
    cr_assert_eq(
        eval_apply_deadline(fx_st, 7, es_now_ms() + 8 * 86400000LL, NULL, NULL, &n, &fx_err), 0);
    cr_assert_eq(n, 1);
    json_t *j = jget(a);
    cr_assert_str_eq(jstatus(j), "acknowledged");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "acknowledged"), "by")),
                     "deadline");
    json_decref(j);
    j = jget(b);
    cr_assert_str_eq(jstatus(j), "disputed");
    json_decref(j);
}
