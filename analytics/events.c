/* The JSON-lines event format (docs/analytics.md): one object per line, for
 * any PBX that is not Asterisk, or for a CRM that knows the calls. */
#include "analytics/analytics_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pbx_json {
    json_t *last; /* the line the event's strings point into */
};

int pbx_json_new(struct pbx_json **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ES_ENOMEM;
}

void pbx_json_free(struct pbx_json *j)
{
    if (!j)
        return;
    json_decref(j->last);
    free(j);
}

static struct es_str str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return (struct es_str){"", 0};
    return (struct es_str){json_string_value(v), json_string_length(v)};
}

/* ISO 8601 text or seconds since 1970. */
static bool when(const json_t *v, int64_t *out)
{
    if (json_is_string(v)) /* from 1970 to 2999, like the numbers below */
        return es_time_parse(json_string_value(v), json_string_length(v), out) == 0 && *out >= 0 &&
               *out < 32503680000000LL;
    if (json_is_number(v)) {
        double s = json_number_value(v);
        if (!(s >= 0 && s < 32503680000.0))
            return false;
        *out = (int64_t)llround(s * 1000.0);
        return true;
    }
    return false;
}

/* A whole number of seconds, 0 when absent; false when present but wrong. */
static bool seconds(const json_t *o, const char *key, int *out)
{
    const json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v || json_is_null(v))
        return true;
    double s = json_is_integer(v) ? (double)json_integer_value(v)
               : json_is_real(v)  ? json_real_value(v)
                                  : -1;
    if (!(s >= 0 && s <= 1e8))
        return false;
    *out = (int)llround(s);
    return true;
}

static const struct {
    const char *name;
    enum pbx_kind kind;
} kinds[] = {
    {"enter", PBX_ENTER},
    {"connect", PBX_CONNECT},
    {"complete", PBX_COMPLETE},
    {"transfer", PBX_TRANSFER},
    {"abandon", PBX_ABANDON},
    {"timeout", PBX_TIMEOUT},
    {"exit-key", PBX_EXIT_KEY},
    {"exit-empty", PBX_EXIT_EMPTY},
    {"ring-noanswer", PBX_RING_NOANSWER},
    {"login", PBX_LOGIN},
    {"logoff", PBX_LOGOFF},
    {"pause", PBX_PAUSE},
    {"unpause", PBX_UNPAUSE},
    {"call", PBX_CDR},
};

int pbx_parse_event(struct pbx_json *j, const uint8_t *p, size_t len, struct pbx_event *ev,
                    const char **why)
{
    memset(ev, 0, sizeof *ev);
    json_decref(j->last);
    json_error_t je;
    j->last = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    const json_t *o = j->last;
    if (!json_is_object(o)) {
        *why = o ? "not a JSON object" : "not JSON";
        return ES_EFORMAT;
    }
    struct es_str name = str(o, "event");
    for (size_t i = 0; i < ES_ARRAY_LEN(kinds) && !ev->kind; i++)
        if (name.len == strlen(kinds[i].name) && !memcmp(name.p, kinds[i].name, name.len))
            ev->kind = kinds[i].kind;
    if (!ev->kind) {
        *why = name.len ? "an event not counted" : "no \"event\"";
        return name.len ? ES_EUNSUPP : ES_EFORMAT;
    }
    if (!when(json_object_get(o, "at"), &ev->at)) {
        *why = "\"at\" is not an ISO 8601 time or seconds since 1970";
        return ES_EFORMAT;
    }
    ev->call = str(o, "call");
    ev->queue = str(o, "queue");
    ev->agent = str(o, "agent");
    ev->caller = str(o, "caller");
    ev->callee = str(o, "callee");
    ev->reason = ev->kind == PBX_CDR ? str(o, "disposition") : str(o, "reason");
    ev->member = ev->queue.len && (ev->kind == PBX_LOGIN || ev->kind == PBX_LOGOFF);
    struct es_str by = str(o, "by");
    ev->by_agent = by.len == 5 && !memcmp(by.p, "agent", 5);
    if (!seconds(o, "hold_s", &ev->hold_s) || !seconds(o, "ring_s", &ev->ring_s) ||
        !seconds(o, "talk_s", &ev->talk_s) || !seconds(o, "wait_s", &ev->wait_s)) {
        *why = "a *_s field is not a number of seconds";
        return ES_EFORMAT;
    }
    const json_t *a = json_object_get(o, "answered_at"), *e = json_object_get(o, "ended_at");
    if ((a && !json_is_null(a) && !when(a, &ev->answered_at)) ||
        (e && !json_is_null(e) && !when(e, &ev->ended_at))) {
        *why = "answered_at or ended_at is not a time";
        return ES_EFORMAT;
    }
    bool call_event = ev->kind >= PBX_ENTER && ev->kind <= PBX_RING_NOANSWER;
    if (call_event && (!ev->call.len || !ev->queue.len)) {
        *why = "a queue event without \"call\" or \"queue\"";
        return ES_EFORMAT;
    }
    if ((ev->kind >= PBX_LOGIN && ev->kind <= PBX_UNPAUSE) || ev->kind == PBX_CONNECT ||
        ev->kind == PBX_RING_NOANSWER) {
        if (!ev->agent.len) {
            *why = "an agent event without \"agent\"";
            return ES_EFORMAT;
        }
    }
    if (ev->kind == PBX_CDR) {
        if (!ev->call.len || !ev->reason.len) {
            *why = "a call without \"call\" or \"disposition\"";
            return ES_EFORMAT;
        }
        if (pbx_disposition(ev->reason) < 0) {
            *why = "\"disposition\" is not answered, no-answer, busy, failed or congestion";
            return ES_EFORMAT;
        }
    }
    return 0;
}
