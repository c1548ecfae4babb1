#include "common/common.h"

#include <ctype.h>
#include <string.h>

static enum es_log_level g_level = ES_LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void es_log_set_level(enum es_log_level lvl)
{
    g_level = lvl;
}

enum es_log_level es_log_get_level(void)
{
    return g_level;
}

void es_log(enum es_log_level lvl, const char *component, const char *fmt, ...)
{
    if (lvl < g_level || lvl >= ES_LOG_QUIET)
        return;
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %s: ", names[lvl], component);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per line so lines from worker threads never interleave */
    size_t len = strlen(line);
    if (len < sizeof line - 1)
        line[len++] = '\n';
    else
        line[sizeof line - 2] = '\n', len = sizeof line - 1;
    fwrite(line, 1, len, stderr);
}

void es_redact(const char *in, char *out, size_t outlen)
{
    if (!outlen)
        return;
    size_t n = in ? strlen(in) : 0;
    size_t digits = 0;
    for (size_t i = 0; i < n; i++)
        digits += isdigit((unsigned char)in[i]) != 0;
    size_t keep = digits, o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        char c = in[i];
        if (isdigit((unsigned char)c)) {
            out[o++] = keep <= 2 ? c : '*';
            keep--;
        } else if (isalpha((unsigned char)c)) {
            out[o++] = '*';
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
}
