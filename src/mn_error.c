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
