#include "common/common.h"

#include <string.h>

const char *es_strerror(int code)
{
    switch (code) {
    case ES_OK:
        return "ok";
    case ES_EINVAL:
        return "invalid argument";
    case ES_ENOMEM:
        return "out of memory";
    case ES_ETOOBIG:
        return "too big";
    case ES_EFORMAT:
        return "bad format";
    case ES_EEMPTY:
        return "no audio";
    case ES_ENOTFOUND:
        return "not found";
    case ES_EEXIST:
        return "already exists";
    case ES_ESCHEMA:
        return "catalog schema is newer than this program";
    case ES_EDB:
        return "database error";
    case ES_ECODEC:
        return "codec error";
    case ES_EUNSUPP:
        return "not supported";
    case ES_ECORRUPT:
        return "corrupt";
    case ES_EAGAIN:
        return "incomplete";
    case ES_ESTATE:
        return "not allowed in the current state";
    case ES_EBUSY:
        return "busy, try again";
    }
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

int es_seterr(struct es_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
