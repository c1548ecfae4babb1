/* The one JSON shape of a call, shared by the CLI and (later) the API. */
#include "archive/archive.h"

static json_t *iso(int64_t ms)
{
    char buf[ES_ISO_LEN];
    es_time_iso(ms, buf);
    return json_string(buf);
}

static json_t *parsed_or_string(const char *text, const char *fallback)
{
    json_t *v = json_loads(text && text[0] ? text : fallback, 0, NULL);
    return v ? v : json_string(text);
}

json_t *archive_call_json(const struct archive_call *k, const struct archive_recording *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(k->id));
    json_object_set_new(o, "started_at", iso(k->started_at));
    json_object_set_new(o, "ended_at", iso(k->ended_at));
    json_object_set_new(o, "duration_ms", json_integer(k->duration_ms));
    json_object_set_new(o, "channels", r ? json_integer(r->channels) : json_integer(0));
    json_object_set_new(o, "direction", json_string(k->direction));
    json_object_set_new(o, "caller", json_string(k->caller));
    json_object_set_new(o, "callee", json_string(k->callee));
    json_object_set_new(o, "operator", json_string(k->operator_));
    json_object_set_new(o, "customer", json_string(k->customer));
    json_object_set_new(o, "queue", json_string(k->queue));
    json_object_set_new(o, "external_id", json_string(k->external_id));
    json_object_set_new(o, "source", json_string(k->source));
    json_object_set_new(o, "source_ref", json_string(k->source_ref));
    json_object_set_new(o, "source_sha256", json_string(k->source_sha256));
    json_object_set_new(o, "meta_sources", parsed_or_string(k->meta_sources, "{}"));
    json_object_set_new(o, "path", r && !k->purged_at ? json_string(r->path) : json_null());
    json_object_set_new(o, "sha256", r ? json_string(r->sha256) : json_null());
    json_object_set_new(o, "bytes", r ? json_integer(r->bytes) : json_integer(0));
    if (r) {
        json_object_set_new(o, "sample_rate", json_integer(r->sample_rate));
        json_object_set_new(o, "source_rate", json_integer(r->source_rate));
        json_object_set_new(o, "bitrate", json_integer(r->bitrate));
    }
    json_object_set_new(o, "disposition", json_string(k->disposition));
    json_object_set_new(o, "reason", k->reason[0] ? json_string(k->reason) : json_null());
    json_object_set_new(o, "tags", parsed_or_string(k->tags, "[]"));
    json_object_set_new(o, "legal_hold", json_boolean(k->legal_hold));
    json_object_set_new(o, "purged_at", k->purged_at ? iso(k->purged_at) : json_null());
    json_object_set_new(o, "sip_call_id",
                        k->sip_call_id[0] ? json_string(k->sip_call_id) : json_null());
    json_object_set_new(o, "ring_ms", k->ring_ms >= 0 ? json_integer(k->ring_ms) : json_null());
    json_object_set_new(o, "talk_ms", k->talk_ms >= 0 ? json_integer(k->talk_ms) : json_null());
    /* the recorder's details (user_agents, codecs, rtp, dtmf) sit at the top level */
    json_t *d = json_loads(k->details[0] ? k->details : "{}", 0, NULL);
    if (json_is_object(d))
        json_object_update_missing(o, d);
    json_decref(d);
    return o;
}

json_t *archive_analysis_json(const struct archive_analysis *a)
{
    json_t *o = json_object();
    json_t *chans = json_array();
    static const char *const roles[2][2] = {{"mono", ""}, {"customer", "operator"}};
    for (int c = 0; c < a->channels; c++) {
        json_t *sil = json_array();
        for (int i = 0; i < a->ch[c].nsilences; i++)
            json_array_append_new(sil, json_pack("[I,I]", (json_int_t)a->ch[c].silences[i][0],
                                                 (json_int_t)a->ch[c].silences[i][1]));
        json_array_append_new(
            chans, json_pack("{s:s, s:I, s:I, s:o}", "role", roles[a->channels - 1][c], "talk_ms",
                             (json_int_t)a->ch[c].talk_ms, "longest_silence_ms",
                             (json_int_t)a->ch[c].longest_silence_ms, "silences", sil));
    }
    json_object_set_new(o, "channels", chans);
    json_object_set_new(o, "peaks_bucket_ms", json_integer(a->bucket_ms));
    json_object_set_new(o, "peaks_buckets", json_integer(a->nbuckets));
    if (a->channels == 2) {
        json_object_set_new(o, "overtalk_ms", json_integer(a->overtalk_ms));
        json_object_set_new(o, "talk_ratio",
                            a->talk_ratio >= 0 ? json_real(a->talk_ratio) : json_null());
    }
    return o;
}
