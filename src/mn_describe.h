/* Untrusted names and tensor shapes, written into error messages safely and alike
 * everywhere (mn_safetensors, mn_model). */
#ifndef MN_DESCRIBE_H
#define MN_DESCRIBE_H

#include <stddef.h>

/* Longest name quoted, in bytes; a longer one is cut and marked "...". */
#define MN_QUOTE_MAX 64
#define MN_QUOTE_SIZE (MN_QUOTE_MAX + 4)

/* s (NUL-terminated) copied into buf for a message: control characters become '?'
 * (a file must not be able to forge log lines), a long string is cut at a UTF-8
 * character boundary. Returns buf. */
const char *mn_quote(const char *s, char buf[static MN_QUOTE_SIZE]);

/* "[d0, d1, ...]" into buf[0..cap), cut to fit. */
void mn_format_shape(const size_t *shape, int ndim, char *buf, size_t cap);

#endif
