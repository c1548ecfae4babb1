#include "archive/archive.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void utc(void)
{
    setenv("TZ", "UTC", 1);
}

Test(meta, freepbx_outbound, .init = utc)
{
    struct call_meta m;
    cr_assert_eq(meta_parse_freepbx_name("out-5551234-101-20261120-143015-1700490615.123.wav", &m),
                 0);
    cr_assert_str_eq(m.direction, "outbound");
    cr_assert_str_eq(m.caller, "101");
    cr_assert_str_eq(m.callee, "5551234");
    cr_assert_str_eq(m.operator_, "101");
    cr_assert_str_eq(m.customer, "5551234");
    cr_assert_str_eq(m.external_id, "1700490615.123");
    char iso[ES_ISO_LEN];
    es_time_iso(m.started_at, iso);
    cr_assert_str_eq(iso, "2026-11-20T14:30:15.000Z");
    cr_assert_str_eq(m.from[META_CALLER], "filename");
}

Test(meta, freepbx_inbound_queue_and_extension, .init = utc)
{
    struct call_meta m;
    cr_assert_eq(meta_parse_freepbx_name("q-600-+4930111-20261120-090000-1700490615.9.wav", &m), 0);
    cr_assert_str_eq(m.direction, "inbound");
    cr_assert_str_eq(m.queue, "600");
    cr_assert_str_eq(m.customer, "+4930111");
    cr_assert_not(m.has[META_OPERATOR]);
    cr_assert_eq(meta_parse_freepbx_name("in-104-5550000-20261120-090000-1.2.wav", &m), 0);
    cr_assert_str_eq(m.operator_, "104");
    cr_assert_eq(meta_parse_freepbx_name("internal-102-101-20261120-090000-1.2.gsm", &m), 0);
    cr_assert_str_eq(m.direction, "internal");
}

Test(meta, freepbx_rejects_lookalikes, .init = utc)
{
    const char *bad[] = {"out-5551234-101-20261120-143015.wav",
                         "foo-1-2-20261120-143015-1.wav",
                         "out-1-2-20261320-143015-1.wav",
                         "out-1-2-2026112-143015-1.wav",
                         "recording.wav",
                         "out-1-2-20261120-146015-1.wav",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct call_meta m;
        cr_assert_eq(meta_parse_freepbx_name(bad[i], &m), ES_ENOTFOUND, "accepted %s", bad[i]);
    }
}

static int sidecar(const char *json, struct call_meta *m, struct es_err *e)
{
    return meta_parse_sidecar((const uint8_t *)json, strlen(json), m, e);
}

Test(meta, sidecar_fields)
{
    struct call_meta m;
    struct es_err e;
    cr_assert_eq(sidecar("{\"started_at\":\"2026-11-20T14:30:15+01:00\",\"caller\":5551234,"
                         "\"operator\":\"101\",\"tags\":[\"b2b\",\"repeat\"],\"extra\":1}",
                         &m, &e),
                 0, "%s", e.msg);
    char iso[ES_ISO_LEN];
    es_time_iso(m.started_at, iso);
    cr_assert_str_eq(iso, "2026-11-20T13:30:15.000Z");
    cr_assert_str_eq(m.caller, "5551234");
    cr_assert_str_eq(m.tags, "[\"b2b\",\"repeat\"]");
    cr_assert_not(m.has[META_CALLEE]);
}

Test(meta, sidecar_errors_name_the_field)
{
    struct call_meta m;
    struct es_err e;
    cr_assert_eq(sidecar("{\"direction\":\"up\"}", &m, &e), ES_EFORMAT);
    cr_assert(strstr(e.msg, "direction") != NULL, "%s", e.msg);
    cr_assert_eq(sidecar("{\"started_at\":\"soon\"}", &m, &e), ES_EFORMAT);
    cr_assert(strstr(e.msg, "started_at") != NULL, "%s", e.msg);
    cr_assert_eq(sidecar("{\"tags\":[1]}", &m, &e), ES_EFORMAT);
    cr_assert_eq(sidecar("{\"caller\":\"a\nb\"}", &m, &e), ES_EFORMAT);
    cr_assert_eq(sidecar("{\"caller\":", &m, &e), ES_EFORMAT);
    cr_assert(strstr(e.msg, "line 1") != NULL, "%s", e.msg);
    cr_assert_eq(sidecar("[]", &m, &e), ES_EFORMAT);
    char big[600];
    memset(big, 'x', sizeof big);
    memcpy(big, "{\"caller\":\"", 11);
    memcpy(big + sizeof big - 3, "\"}", 3);
    cr_assert_eq(sidecar(big, &m, &e), ES_ETOOBIG);
}

Test(meta, merge_keeps_the_more_trusted_source)
{
    struct call_meta a, b;
    struct es_err e;
    setenv("TZ", "UTC", 1);
    cr_assert_eq(sidecar("{\"caller\":\"sidecar-caller\"}", &a, &e), 0);
    cr_assert_eq(meta_parse_freepbx_name("out-5551234-101-20261120-143015-1.2.wav", &b), 0);
    meta_merge(&a, &b);
    cr_assert_str_eq(a.caller, "sidecar-caller");
    cr_assert_str_eq(a.from[META_CALLER], "sidecar");
    cr_assert_str_eq(a.callee, "5551234");
    cr_assert_str_eq(a.from[META_CALLEE], "filename");
    char js[512];
    cr_assert_eq(meta_sources_json(&a, js, sizeof js), 0);
    cr_assert(strstr(js, "\"caller\":\"sidecar\"") && strstr(js, "\"callee\":\"filename\""), "%s",
              js);
}

Test(meta, pattern_named_groups)
{
    struct meta_pattern *p;
    struct es_err e;
    cr_assert_eq(meta_pattern_new("^(?<operator>[0-9]+)_(?<caller>[+0-9]+)_"
                                  "(?<started_at>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z)(\\.[a-z]+)$",
                                  &p, &e),
                 0, "%s", e.msg);
    struct call_meta m;
    cr_assert_eq(meta_pattern_match(p, "101_+4930555_2026-11-20T14:30:15Z.wav", &m), 0);
    cr_assert_str_eq(m.operator_, "101");
    cr_assert_str_eq(m.caller, "+4930555");
    cr_assert(m.has[META_STARTED_AT]);
    cr_assert_str_eq(m.from[META_OPERATOR], "pattern");
    cr_assert_eq(meta_pattern_match(p, "nope.wav", &m), ES_ENOTFOUND);
    meta_pattern_free(p);
    cr_assert_eq(meta_pattern_new("(?<nosuch>x)", &p, &e), ES_EINVAL);
    cr_assert(strstr(e.msg, "unknown field") != NULL);
    cr_assert_eq(meta_pattern_new("(unclosed", &p, &e), ES_EINVAL);
}
