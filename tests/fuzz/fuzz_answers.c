/* Answers JSON against a fixed rubric: what reviewers' forms and scripts send. */
#include "scripts-rubric/rubric.h"

#include <string.h>

static const char rubric_yaml[] =
    "id: f\ntitle: F\npass_score: 70\nsections:\n"
    "  - id: a\n    title: A\n    items:\n"
    "      - {id: greet, text: G, type: yes_no}\n"
    "      - {id: na, text: N, type: yes_no, na_allowed: true}\n"
    "      - {id: crit, text: C, type: yes_no, critical: true}\n"
    "  - id: b\n    title: B\n    weight: 2\n    items:\n"
    "      - id: q\n        text: Q\n        type: scale\n        scale: {min: 1, max: 5}\n"
    "      - {id: biz, text: B, type: yes_no, applies_to: [b2b]}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rubric *r;
    static struct rubric_answers a;
    static struct rubric_result res;
    static const char *const tags[] = {"b2b", NULL};
    if (!r && rubric_load((const uint8_t *)rubric_yaml, strlen(rubric_yaml), &r, NULL))
        return 0;
    struct es_err err;
    if (rubric_answers_parse(r, data, size, &a, &err))
        return 0;
    json_decref(rubric_answers_json(r, &a));
    if (rubric_score(r, &a, NULL, &res, &err) == 0)
        json_decref(rubric_result_json(r, &res));
    if (rubric_score(r, &a, tags, &res, &err) == 0)
        json_decref(rubric_result_json(r, &res));
    return 0;
}
