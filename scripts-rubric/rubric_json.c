/* A rubric as JSON: what the review form is drawn from and `rubric show --json` prints. */
#include "scripts-rubric/rubric_int.h"

static json_t *strings(const char *const *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *item_json(const struct rubric_item *it)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "text", json_string(it->text));
    json_object_set_new(o, "guidance", json_string(it->guidance));
    json_object_set_new(o, "type", json_string(it->type == RUBRIC_SCALE ? "scale" : "yes_no"));
    if (it->type == RUBRIC_SCALE) {
        json_t *sc = json_object(), *labels = json_object();
        json_object_set_new(sc, "min", json_integer(it->min));
        json_object_set_new(sc, "max", json_integer(it->max));
        for (int k = 0; k < it->nlabels; k++) {
            char key[16];
            snprintf(key, sizeof key, "%d", it->labels[k].value);
            json_object_set_new(labels, key, json_string(it->labels[k].text));
        }
        json_object_set_new(sc, "labels", labels);
        json_object_set_new(o, "scale", sc);
        json_object_set_new(o, "fail_below", json_real(it->fail_below));
    }
    json_object_set_new(o, "weight", json_real(it->weight));
    json_object_set_new(o, "na_allowed", json_boolean(it->na_allowed));
    json_object_set_new(o, "critical", json_boolean(it->critical));
    json_object_set_new(o, "error_tag", json_string(it->error_tag));
    json_object_set_new(o, "applies_to", strings(it->applies_to, it->napplies));
    if (it->nphrases) {
        json_t *ex = json_object();
        json_object_set_new(ex, "phrases", strings(it->phrases, it->nphrases));
        if (it->within_s > 0)
            json_object_set_new(ex, "within_s", json_real(it->within_s));
        json_object_set_new(o, "expect", ex);
    }
    return o;
}

json_t *rubric_json(const struct rubric *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    if (r->version)
        json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "title", json_string(r->title));
    json_object_set_new(o, "description", json_string(r->description));
    json_object_set_new(o, "pass_score", json_real(r->pass_score));
    json_t *secs = json_array();
    for (int si = 0; si < r->nsections; si++) {
        const struct rubric_section *s = &r->sections[si];
        json_t *so = json_object(), *items = json_array();
        json_object_set_new(so, "id", json_string(s->id));
        json_object_set_new(so, "title", json_string(s->title));
        json_object_set_new(so, "weight", json_real(s->weight));
        for (int i = s->first_item; i < s->first_item + s->nitems; i++)
            json_array_append_new(items, item_json(&r->items[i]));
        json_object_set_new(so, "items", items);
        json_array_append_new(secs, so);
    }
    json_object_set_new(o, "sections", secs);
    return o;
}
