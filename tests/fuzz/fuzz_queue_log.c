/* queue_log lines as a PBX (or anyone who can write to its log) leaves them.
 * Every slice handed back lies inside the line. */
#include "analytics/analytics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void inside(struct es_str s, const uint8_t *p, size_t n)
{
    if (s.len && ((const uint8_t *)s.p < p || (const uint8_t *)s.p + s.len > p + n))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pbx_event ev;
    const char *why = NULL;
    int rc = pbx_parse_queue_log(data, size, &ev, &why);
    if (rc && !why)
        __builtin_trap(); /* every refusal says why */
    if (!rc) {
        inside(ev.call, data, size);
        inside(ev.queue, data, size);
        inside(ev.agent, data, size);
        inside(ev.caller, data, size);
        inside(ev.reason, data, size);
        if (ev.hold_s < 0 || ev.talk_s < 0 || ev.wait_s < 0 || ev.at < 0)
            __builtin_trap();
        char op[64];
        pbx_agent_operator(ev.agent.p ? ev.agent.p : "", ev.agent.len, op, sizeof op);
    }
    return 0;
}
