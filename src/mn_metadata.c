#include "config.h"

#include "mn_metadata.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mn_metadata_init(mn_metadata *m)
{
    m->count = 0;
}

static mn_metadata_entry *find(const mn_metadata *m, const char *key)
{
    for (size_t i = 0; i < m->count && i < MN_METADATA_MAX_ENTRIES; i++)
        if (strcmp(m->entries[i].key, key) == 0)
            return (mn_metadata_entry *)&m->entries[i];
    return NULL;
}

mn_status mn_metadata_set(mn_metadata *m, const char *key, const char *value, mn_error *err)
{
    if (!m || !key || !value)
        return mn_fail(err, MN_ERR_ARG, "metadata: NULL argument");
    size_t klen = strlen(key), vlen = strlen(value);
    if (klen > MN_METADATA_MAX_KEY)
        return mn_fail(err, MN_ERR_LIMIT, "metadata key of %zu bytes is longer than %d: %.40s...",
                       klen, MN_METADATA_MAX_KEY, key);
    if (vlen > MN_METADATA_MAX_VALUE)
        return mn_fail(err, MN_ERR_LIMIT, "metadata %s: value of %zu bytes is longer than %d",
                       key, vlen, MN_METADATA_MAX_VALUE);
    mn_metadata_entry *e = find(m, key);
    if (!e) {
        if (m->count >= MN_METADATA_MAX_ENTRIES)
            return mn_fail(err, MN_ERR_LIMIT, "metadata %s: more than %d entries", key,
                           MN_METADATA_MAX_ENTRIES);
        e = &m->entries[m->count++];
        memcpy(e->key, key, klen + 1);
    }
    memcpy(e->value, value, vlen + 1);
    return MN_OK;
}

mn_status mn_metadata_setf(mn_metadata *m, mn_error *err, const char *key, const char *fmt, ...)
{
    if (!fmt)
        return mn_fail(err, MN_ERR_ARG, "metadata: NULL format");
    char buf[MN_METADATA_MAX_VALUE + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return mn_fail(err, MN_ERR_ARG, "metadata %s: bad format", key ? key : "");
    if ((size_t)n >= sizeof buf)
        return mn_fail(err, MN_ERR_LIMIT, "metadata %s: value of %d bytes is longer than %d",
                       key ? key : "", n, MN_METADATA_MAX_VALUE);
    return mn_metadata_set(m, key, buf, err);
}

const char *mn_metadata_get(const mn_metadata *m, const char *key)
{
    if (!m || !key)
        return NULL;
    const mn_metadata_entry *e = find(m, key);
    return e ? e->value : NULL;
}

size_t mn_metadata_count(const mn_metadata *m)
{
    return m ? m->count : 0;
}

const char *mn_metadata_key(const mn_metadata *m, size_t i)
{
    return m && i < m->count ? m->entries[i].key : NULL;
}

const char *mn_metadata_value(const mn_metadata *m, size_t i)
{
    return m && i < m->count ? m->entries[i].value : NULL;
}
