/* The one JSON shape of a call (ls --json, show --json, the API): times in
 * ISO 8601, unknowns as null, the recorder's details merged without
 * overwriting a field, a purged call without a path, and the analysis by
 * channel role. */
#include "archive/archive.h"

#include <criterion/criterion.h>
#include <string.h>

static struct archive_call k;
static struct archive_recording r;

static void fill(void)
{
    memset(&k, 0, sizeof k);
    memset(&r, 0, sizeof r);
    snprintf(k.id, sizeof k.id, "01a00000-0000-7000-8000-000000000001");
    k.started_at = 1763650215000; /* 2025-11-20T14:50:15Z */
    k.ended_at = k.started_at + 61500;
    k.duration_ms = 61500;
    snprintf(k.direction, sizeof k.direction, "inbound");
    snprintf(k.caller, sizeof k.caller, "+4930555");
    snprintf(k.operator_, sizeof k.operator_, "101");
    snprintf(k.source, sizeof k.source, "recorder");
    snprintf(k.disposition, sizeof k.disposition, "answered");
    snprintf(k.meta_sources, sizeof k.meta_sources, "{\"operator\":\"sip\"}");
    snprintf(k.tags, sizeof k.tags, "[\"b2b\"]");
    k.ring_ms = -1;
    k.talk_ms = 61000;
    snprintf(k.details, sizeof k.details,
             "{\"dtmf\":[{\"digit\":\"5\"}],\"id\":\"not this one\",\"codecs\":[\"PCMA\"]}");
    snprintf(r.path, sizeof r.path, "archive/2025/11/20/%s.opus", k.id);
    snprintf(r.sha256, sizeof r.sha256, "%064d", 7);
    r.bytes = 123456;
    r.channels = 2;
    r.sample_rate = 8000;
    r.source_rate = 8000;
    r.bitrate = 24000;
}

Test(call_json, fields_times_and_nulls)
{
    fill();
    json_t *o = archive_call_json(&k, &r);
    cr_assert_str_eq(json_string_value(json_object_get(o, "started_at")),
                     "2025-11-20T14:50:15.000Z");
    cr_assert_str_eq(json_string_value(json_object_get(o, "ended_at")), "2025-11-20T14:51:16.500Z");
    cr_assert_eq(json_integer_value(json_object_get(o, "channels")), 2);
    cr_assert(json_is_null(json_object_get(o, "reason")), "no reason: null, not \"\"");
    cr_assert(json_is_null(json_object_get(o, "sip_call_id")));
    cr_assert(json_is_null(json_object_get(o, "ring_ms")), "-1 is unknown");
    cr_assert_eq(json_integer_value(json_object_get(o, "talk_ms")), 61000);
    cr_assert(json_is_null(json_object_get(o, "purged_at")));
    cr_assert_str_eq(json_string_value(json_object_get(o, "path")), r.path);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "tags"), 0)), "b2b");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(o, "meta_sources"), "operator")), "sip",
        "stored JSON comes back as JSON");
    cr_assert_eq(json_is_false(json_object_get(o, "legal_hold")), 1);
    json_decref(o);
}

Test(call_json, details_join_without_overwriting)
{
    fill();
    json_t *o = archive_call_json(&k, &r);
    cr_assert_str_eq(json_string_value(json_object_get(o, "id")), k.id,
                     "a detail never replaces a call field");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(o, "dtmf"), 0), "digit")),
        "5");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "codecs"), 0)), "PCMA");
    json_decref(o);
    snprintf(k.details, sizeof k.details, "not json");
    o = archive_call_json(&k, &r);
    cr_assert_not_null(o, "bad details are left out, the call still shown");
    cr_assert_null(json_object_get(o, "dtmf"));
    json_decref(o);
}

Test(call_json, purged_missed_and_without_recording)
{
    fill();
    k.purged_at = k.started_at + 86400000;
    snprintf(k.disposition, sizeof k.disposition, "missed");
    snprintf(k.reason, sizeof k.reason, "abandoned");
    snprintf(k.meta_sources, sizeof k.meta_sources, "{broken");
    json_t *o = archive_call_json(&k, &r);
    cr_assert(json_is_null(json_object_get(o, "path")), "purged audio has no path");
    cr_assert_str_eq(json_string_value(json_object_get(o, "purged_at")),
                     "2025-11-21T14:50:15.000Z");
    cr_assert_str_eq(json_string_value(json_object_get(o, "reason")), "abandoned");
    cr_assert_str_eq(json_string_value(json_object_get(o, "meta_sources")), "{broken",
                     "text that is not JSON stays text");
    json_decref(o);
    o = archive_call_json(&k, NULL);
    cr_assert_eq(json_integer_value(json_object_get(o, "channels")), 0);
    cr_assert(json_is_null(json_object_get(o, "sha256")));
    cr_assert_null(json_object_get(o, "sample_rate"), "no recording, no rates");
    json_decref(o);
}

Test(call_json, analysis_by_channel_role)
{
    struct archive_analysis a;
    memset(&a, 0, sizeof a);
    a.channels = 2;
    a.bucket_ms = 20;
    a.nbuckets = 3000;
    a.ch[0].talk_ms = 20000;
    a.ch[1].talk_ms = 30000;
    a.overtalk_ms = 1500;
    a.talk_ratio = 0.6;
    json_t *o = archive_analysis_json(&a);
    json_t *ch = json_object_get(o, "channels");
    cr_assert_eq(json_array_size(ch), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ch, 0), "role")), "customer");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ch, 1), "role")), "operator");
    cr_assert_float_eq(json_real_value(json_object_get(o, "talk_ratio")), 0.6, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(o, "overtalk_ms")), 1500);
    json_decref(o);
    a.channels = 1;
    a.talk_ratio = -1;
    o = archive_analysis_json(&a);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(o, "channels"), 0), "role")),
                     "mono");
    cr_assert_null(json_object_get(o, "talk_ratio"), "mono: no ratio between voices");
    json_decref(o);
}
