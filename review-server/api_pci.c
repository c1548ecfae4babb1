/* POST /api/v1/recording-control: an agent desktop or CRM pauses the
 * recording while a card number is taken, and resumes it after. API token
 * (Authorization: Bearer), no session. The request goes to the live
 * recorder's control socket; each call it paused or resumed is audited
 * (pci.pause, pci.resume) under the token's name. */
#include "review-server/http_int.h"

#include <stdlib.h>
#include <string.h>

#define CONTROL_TIMEOUT_MS 3000

static bool ext_ok(const char *s)
{
    size_t n = strlen(s);
    return n && n <= 64 &&
           strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+*#._-") == n;
}

enum MHD_Result api_recording_control(struct req *r)
{
    const char *who = r->token_name; /* the API token dispatch checked */
    enum MHD_Result res;
    json_t *b = http_body_json(r, &res);
    if (!b)
        return res;
    const char *action = json_string_value(json_object_get(b, "action"));
    const char *ext = json_string_value(json_object_get(b, "operator"));
    const char *cid = json_string_value(json_object_get(b, "sip_call_id"));
    const char *reason = json_string_value(json_object_get(b, "reason"));
    if (!action || (strcmp(action, "pause") && strcmp(action, "resume")) || !ext == !cid ||
        (ext && !ext_ok(ext)) || (cid && (!cid[0] || strlen(cid) > 255)) ||
        (reason && strlen(reason) > 500)) {
        json_decref(b);
        return http_error(r, 400,
                          "expected {\"action\": \"pause\" or \"resume\", \"operator\": EXTENSION"
                          " or \"sip_call_id\": ID, \"reason\" (optional)}");
    }
    json_t *req = json_pack("{s:s, s:s, s:s}", "action", action, ext ? "operator" : "sip_call_id",
                            ext ? ext : cid, "by", who);
    char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    char reply[2048];
    struct es_err err = {{0}};
    int rc = line ? es_unix_call(r->srv->recorder_control, line, reply, sizeof reply,
                                 CONTROL_TIMEOUT_MS, &err)
                  : ES_ENOMEM;
    free(line);
    if (rc) {
        json_decref(b);
        if (rc == ES_ENOTFOUND)
            return http_error(r, 503, "no live recorder is listening on %s",
                              r->srv->recorder_control);
        return http_error(r, 503, "the recorder: %s", err.msg[0] ? err.msg : es_strerror(rc));
    }
    json_t *ans = json_loads(reply, 0, NULL);
    const char *problem = json_string_value(json_object_get(ans, "error"));
    json_t *calls = json_object_get(ans, "calls");
    if (!json_is_array(calls)) {
        json_decref(b);
        enum MHD_Result out =
            problem && strstr(problem, "no answered call")
                ? http_error(r, 404, "%s", problem)
                : http_error(r, 502, "the recorder: %s", problem ? problem : "a garbled answer");
        json_decref(ans);
        return out;
    }
    size_t i;
    json_t *c;
    bool pause = !strcmp(action, "pause");
    json_array_foreach(calls, i, c)
    {
        json_t *d =
            json_pack("{s:s, s:O, s:O, s:O}", ext ? "operator" : "sip_call_id", ext ? ext : cid,
                      "at_ms", json_object_get(c, "at_ms"), "changed",
                      json_object_get(c, "changed"), "sip_call", json_object_get(c, "sip_call_id"));
        if (d && reason && reason[0])
            json_object_set_new(d, "reason", json_string(reason));
        char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(d);
        if (review_audit(r->w->rv, who, pause ? "pci.pause" : "pci.resume",
                         json_string_value(json_object_get(c, "id")), ds, &err))
            ES_ERROR("serve", "audit %s: %s", pause ? "pci.pause" : "pci.resume", err.msg);
        free(ds);
    }
    review_audit_anchor(r->w->rv);
    json_decref(b);
    return http_json(r, 200, ans);
}
