#include "config.h"

#include "mn_model.h"

#include "mn_calibrate.h"
#include "mn_deskew.h"
#include "mn_describe.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void spec_view(int id, const mn_params *p, mn_st_tensor_view *v)
{
    const mn_tensor_spec *s = &mn_net_tensors[id];
    memset(v, 0, sizeof *v);
    v->name = s->name;
    v->ndim = s->ndim;
    for (int d = 0; d < s->ndim; d++)
        v->shape[d] = (size_t)s->shape[d];
    v->data = p->t[id];
}

static mn_status check_params(const mn_params *p, mn_error *err)
{
    if (!p)
        return mn_fail(err, MN_ERR_ARG, "model: NULL parameters");
    for (int i = 0; i < MN_NUM_TENSORS; i++)
        if (!p->t[i])
            return mn_fail(err, MN_ERR_ARG, "model: tensor %s is not allocated",
                           mn_net_tensors[i].name);
    return MN_OK;
}

mn_status mn_model_save(const char *path, const mn_params *p, const mn_metadata *meta,
                        mn_error *err)
{
    mn_status st = check_params(p, err);
    if (st != MN_OK)
        return st;
    mn_st_tensor_view v[MN_NUM_TENSORS];
    for (int i = 0; i < MN_NUM_TENSORS; i++)
        spec_view(i, p, &v[i]);
    return mn_st_write(path, v, MN_NUM_TENSORS, meta, err);
}

mn_status mn_model_serialize(const mn_params *p, const mn_metadata *meta, uint8_t **out,
                             size_t *out_len, mn_error *err)
{
    mn_status st = check_params(p, err);
    if (st != MN_OK)
        return st;
    mn_st_tensor_view v[MN_NUM_TENSORS];
    for (int i = 0; i < MN_NUM_TENSORS; i++)
        spec_view(i, p, &v[i]);
    return mn_st_serialize(v, MN_NUM_TENSORS, meta, out, out_len, err);
}

/* "temperature" as a whole decimal number within the calibration's range */
static bool parse_temperature(const char *text, double *out)
{
    char *end;
    errno = 0;
    double t = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(t) || t < MN_CALIBRATE_T_MIN ||
        t > MN_CALIBRATE_T_MAX)
        return false;
    *out = t;
    return true;
}

static mn_status check_temperature(const mn_metadata *meta, const char *key, mn_error *err)
{
    const char *text = mn_metadata_get(meta, key);
    double t;
    if (text && !parse_temperature(text, &t)) {
        char q[MN_QUOTE_SIZE];
        return mn_fail(err, MN_ERR_FORMAT, "metadata %s %s is not a number from %g to %g",
                       key, mn_quote(text, q), MN_CALIBRATE_T_MIN, MN_CALIBRATE_T_MAX);
    }
    return MN_OK;
}

/* The temperature under KEY, or `absent` when the metadata has none (or a bad one). */
static double temperature_of(const mn_metadata *meta, const char *key, double absent)
{
    const char *text = meta ? mn_metadata_get(meta, key) : NULL;
    double t = absent;
    if (text && !parse_temperature(text, &t))
        t = absent;
    return t;
}

double mn_model_temperature(const mn_metadata *meta)
{
    return temperature_of(meta, "temperature", 1.0);
}

double mn_model_temperature_low_res(const mn_metadata *meta)
{
    return temperature_of(meta, "temperature_low_res", mn_model_temperature(meta));
}

/* "deskew" names a step the service knows, or is absent */
static mn_status check_deskew(const mn_metadata *meta, mn_error *err)
{
    const char *text = mn_metadata_get(meta, "deskew");
    if (text && strcmp(text, MN_DESKEW_METHOD) != 0) {
        char q[MN_QUOTE_SIZE];
        return mn_fail(err, MN_ERR_FORMAT, "metadata deskew %s is not \"%s\" (the only one known)",
                       mn_quote(text, q), MN_DESKEW_METHOD);
    }
    return MN_OK;
}

bool mn_model_deskews(const mn_metadata *meta)
{
    const char *text = meta ? mn_metadata_get(meta, "deskew") : NULL;
    return text && strcmp(text, MN_DESKEW_METHOD) == 0;
}

mn_status mn_model_from_st(const mn_st_file *f, mn_params *p, mn_metadata *meta, mn_error *err)
{
    mn_status st = check_params(p, err);
    if (st != MN_OK)
        return st;
    if (!f)
        return mn_fail(err, MN_ERR_ARG, "model: NULL file");

    const mn_st_tensor *found[MN_NUM_TENSORS];
    for (int i = 0; i < MN_NUM_TENSORS; i++) {
        const mn_tensor_spec *s = &mn_net_tensors[i];
        const mn_st_tensor *t = mn_st_find(f, s->name);
        if (!t)
            return mn_fail(err, MN_ERR_FORMAT, "tensor %s is missing", s->name);
        bool same = t->ndim == s->ndim;
        for (int d = 0; same && d < s->ndim; d++)
            same = t->shape[d] == (size_t)s->shape[d];
        if (!same || t->count != s->count) {
            char got[128], want[128];
            size_t want_shape[4];
            for (int d = 0; d < s->ndim; d++)
                want_shape[d] = (size_t)s->shape[d];
            mn_format_shape(t->shape, t->ndim, got, sizeof got);
            mn_format_shape(want_shape, s->ndim, want, sizeof want);
            return mn_fail(err, MN_ERR_FORMAT, "tensor %s: shape %s, MNISTNet needs %s",
                           s->name, got, want);
        }
        found[i] = t;
    }
    mn_status meta_st = check_temperature(mn_st_metadata(f), "temperature", err);
    if (meta_st == MN_OK)
        meta_st = check_temperature(mn_st_metadata(f), "temperature_low_res", err);
    if (meta_st == MN_OK)
        meta_st = check_deskew(mn_st_metadata(f), err);
    if (meta_st != MN_OK)
        return meta_st;
    /* Every expected tensor is present and names are unique, so any further one is extra. */
    if (mn_st_count(f) != MN_NUM_TENSORS) {
        for (size_t j = 0; j < mn_st_count(f); j++) {
            const mn_st_tensor *t = mn_st_tensor_at(f, j);
            bool known = false;
            for (int i = 0; i < MN_NUM_TENSORS && !known; i++)
                known = strcmp(t->name, mn_net_tensors[i].name) == 0;
            if (!known) {
                char q[MN_QUOTE_SIZE];
                return mn_fail(err, MN_ERR_FORMAT, "unexpected tensor %s (not in MNISTNet)",
                               mn_quote(t->name, q));
            }
        }
    }

    for (int i = 0; i < MN_NUM_TENSORS; i++)
        if (mn_net_tensors[i].count > 0)
            memcpy(p->t[i], found[i]->data, mn_net_tensors[i].count * sizeof(float));
    if (meta)
        *meta = *mn_st_metadata(f);
    return MN_OK;
}

mn_status mn_model_load_memory(const void *buf, size_t len, mn_params *p, mn_metadata *meta,
                               mn_error *err)
{
    mn_status st = check_params(p, err);
    if (st != MN_OK)
        return st;
    if (len > MN_MODEL_MAX_FILE_BYTES)
        return mn_fail(err, MN_ERR_LIMIT, "model is %zu bytes, more than the limit of %zu",
                       len, MN_MODEL_MAX_FILE_BYTES);
    mn_st_file *f = NULL;
    st = mn_st_parse(buf, len, &f, err);
    if (st == MN_OK)
        st = mn_model_from_st(f, p, meta, err);
    mn_st_free(f);
    return st;
}

mn_status mn_model_load(const char *path, mn_params *p, mn_metadata *meta, mn_error *err)
{
    mn_status st = check_params(p, err);
    if (st != MN_OK)
        return st;
    if (!path)
        return mn_fail(err, MN_ERR_ARG, "model: NULL path");
    mn_st_file *f = NULL;
    st = mn_st_read(path, MN_MODEL_MAX_FILE_BYTES, &f, err); /* messages carry the path */
    if (st == MN_OK) {
        mn_error inner;
        st = mn_model_from_st(f, p, meta, &inner);
        if (st != MN_OK)
            mn_fail(err, st, "%s: %s", path, inner.msg);
    }
    mn_st_free(f);
    return st;
}
