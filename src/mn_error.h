/* Error reporting for the core library.
 *
 * Library functions never print and never exit: they return an mn_status and, on
 * failure, leave a one-line human-readable message in an mn_error supplied by the
 * caller (which may be NULL when the caller does not care). */
#ifndef MN_ERROR_H
#define MN_ERROR_H

typedef enum mn_status {
    MN_OK = 0,
    MN_ERR_IO = -1,      /* the operating system refused: open, read, write, rename, fsync */
    MN_ERR_FORMAT = -2,  /* the bytes are not what they claim to be: bad magic, shape, offsets */
    MN_ERR_NOMEM = -3,   /* an allocation failed */
    MN_ERR_ARG = -4,     /* the caller passed something out of range */
    MN_ERR_LIMIT = -5    /* the input is well-formed but exceeds a configured limit */
} mn_status;

typedef struct mn_error {
    char msg[512];
} mn_error;

/* Formats a message into err (if not NULL) and returns status, so that callers can
 * write `return mn_fail(err, MN_ERR_FORMAT, "%s: bad magic 0x%08x", path, magic);`. */
mn_status mn_fail(mn_error *err, mn_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
