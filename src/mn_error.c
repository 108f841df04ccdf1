#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "mn_error.h"

mn_status mn_fail(mn_error *err, mn_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *mn_status_name(mn_status status)
{
    switch (status) {
    case MN_OK: return "ok";
    case MN_ERR_IO: return "I/O error";
    case MN_ERR_FORMAT: return "bad format";
    case MN_ERR_NOMEM: return "out of memory";
    case MN_ERR_ARG: return "invalid argument";
    case MN_ERR_LIMIT: return "limit exceeded";
    }
    return "unknown error";
}
