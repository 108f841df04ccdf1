/* The served model described in JSON, for /predict, /health and v2 metadata. */
#ifndef FCGI_MODEL_JSON_H
#define FCGI_MODEL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "json_out.h"
#include "model_store.h"

/* The model's description: version, created, test_accuracy; with full, also the other
 * training figures, sha256, file_bytes and loaded_at. */
void write_model_json(out_buf *o, const live_model *m, bool full);

/* The versions kept beside the model for rollback, newest first, as a JSON array of
 * version strings (the served one is the model's version). */
void write_versions_json(out_buf *o, model_store *store);

/* t as "YYYY-MM-DDTHH:MM:SSZ" into buf. */
void write_iso_time(time_t t, char *buf, size_t size);

#endif
