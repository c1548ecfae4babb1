/* Rubric YAML: written by people, imported from files and (later) uploads. */
#include "scripts-rubric/rubric.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rubric_diags d;
    static struct rubric_answers a;
    static struct rubric_result res;
    struct rubric *r;
    if (rubric_load(data, size, &r, &d))
        return 0;
    /* a loaded rubric must be usable: JSON, and scoring all-yes / all-max answers */
    json_decref(rubric_json(r));
    for (int i = 0; i < r->nitems; i++) {
        a.a[i].kind = r->items[i].type == RUBRIC_SCALE ? RUBRIC_ANS_VALUE : RUBRIC_ANS_YES;
        a.a[i].value = r->items[i].max;
    }
    struct es_err err;
    if (rubric_score(r, &a, NULL, &res, &err) == 0)
        json_decref(rubric_result_json(r, &res));
    rubric_free(r);
    return 0;
}
