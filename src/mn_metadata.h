/* A small ordered string -> string map for the safetensors "__metadata__" object
 * (architecture, epochs, accuracy, ...). Fixed capacity and no heap: an mn_metadata
 * is a plain value that can live on the stack or inside another struct and be copied
 * with `=` or memcpy. Entries keep the order in which keys were first set.
 *
 * Keys and values are NUL-terminated byte strings (UTF-8 when they go into a file).
 * Lengths below are in bytes, without the terminating NUL. */
#ifndef MN_METADATA_H
#define MN_METADATA_H

#include <stddef.h>

#include "mn_error.h"

#define MN_METADATA_MAX_ENTRIES 32
#define MN_METADATA_MAX_KEY 63
#define MN_METADATA_MAX_VALUE 1023

typedef struct mn_metadata_entry {
    char key[MN_METADATA_MAX_KEY + 1];
    char value[MN_METADATA_MAX_VALUE + 1];
} mn_metadata_entry;

typedef struct mn_metadata {
    size_t count;
    mn_metadata_entry entries[MN_METADATA_MAX_ENTRIES];
} mn_metadata;

/* Makes M empty. A zero-initialised mn_metadata is also empty. */
void mn_metadata_init(mn_metadata *m);

/* Sets KEY to VALUE, replacing the value in place if KEY exists (its position is
 * kept), appending otherwise. Both strings are copied. MN_ERR_LIMIT if the key or
 * value is too long or the map is full (M is then unchanged); MN_ERR_ARG for NULL. */
mn_status mn_metadata_set(mn_metadata *m, const char *key, const char *value, mn_error *err);

/* Same with a printf-style value, e.g. mn_metadata_setf(m, err, "epochs", "%d", 5).
 * A value that would be truncated is refused with MN_ERR_LIMIT. */
mn_status mn_metadata_setf(mn_metadata *m, mn_error *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The value of KEY (borrowed from M, valid until M changes), or NULL if absent. */
const char *mn_metadata_get(const mn_metadata *m, const char *key);

size_t mn_metadata_count(const mn_metadata *m);

/* Key and value of entry I (0 <= I < count), in insertion order; NULL when I is out
 * of range. Borrowed from M. */
const char *mn_metadata_key(const mn_metadata *m, size_t i);
const char *mn_metadata_value(const mn_metadata *m, size_t i);

#endif
