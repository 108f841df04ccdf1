#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "model_json.h"

void write_iso_time(time_t t, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A metadata value as a JSON number when it is one, else as a string. */
static void meta_number(out_buf *o, const mn_metadata *meta, const char *key)
{
    const char *v = mn_metadata_get(meta, key);
    char *end;
    double d = v && *v ? strtod(v, &end) : 0.0;
    if (v && *v && *end == '\0')
        out_json_float(o, d);
    else if (v)
        out_json_string(o, v);
    else
        out_puts(o, "null");
}

static void meta_string(out_buf *o, const mn_metadata *meta, const char *key)
{
    const char *v = mn_metadata_get(meta, key);
    if (v)
        out_json_string(o, v);
    else
        out_puts(o, "null");
}

static void write_training_figures(out_buf *o, const live_model *m)
{
    static const char *const numbers[] = {"test_loss", "epochs", "training_seconds",
                                          "train_images"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        out_printf(o, ",\"%s\":", numbers[i]);
        meta_number(o, &m->meta, numbers[i]);
    }
    static const char *const strings[] = {"architecture", "dataset_sha256", "trainer_version"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        out_printf(o, ",\"%s\":", strings[i]);
        meta_string(o, &m->meta, strings[i]);
    }
}

void write_model_json(out_buf *o, const live_model *m, bool full)
{
    out_puts(o, "{\"version\":");
    out_json_string(o, m->version);
    out_puts(o, ",\"created\":");
    meta_string(o, &m->meta, "created");
    out_puts(o, ",\"test_accuracy\":");
    meta_number(o, &m->meta, "test_accuracy");
    if (full) {
        write_training_figures(o, m);
        char loaded[32];
        write_iso_time(m->loaded_at, loaded, sizeof loaded);
        out_printf(o, ",\"sha256\":\"%s\",\"file_bytes\":%zu,\"loaded_at\":\"%s\"", m->sha256,
                   m->file_bytes, loaded);
    }
    out_puts(o, "}");
}

/* More than the trainer keeps by default; a directory with more lists the newest. */
#define MAX_LISTED_VERSIONS 64

void write_versions_json(out_buf *o, model_store *store)
{
    mn_version_entry v[MAX_LISTED_VERSIONS];
    size_t n = model_store_versions(store, v, MAX_LISTED_VERSIONS);
    out_puts(o, "[");
    for (size_t i = 0; i < n; i++)
        out_printf(o, "%s\"%s\"", i ? "," : "", v[i].version);
    out_puts(o, "]");
}
