/* The live model: loaded at start, watched for replacement, swapped in atomically.
 *
 * Requests take a reference (model_store_acquire) and keep serving from that model
 * until they release it, even if a newer one was swapped in meanwhile; the last
 * reference frees it. A watcher thread polls the file every interval: a new inode,
 * size, mtime or ctime means a new file, which is loaded and checked completely
 * (mn_model_load) before it replaces the current model. A file that fails is refused
 * and remembered, the current model keeps serving, and /health reports why.
 *
 * The path may be a link into DIR/versions (mn_versions.h): open() follows it, so a
 * link switched to another version, older or newer, is a new inode and is loaded. The
 * versions directory is listed by the watcher (when a model is loaded and when the
 * directory changes), never by a request. */
#ifndef FCGI_MODEL_STORE_H
#define FCGI_MODEL_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "mn_metadata.h"
#include "mn_net.h"
#include "mn_versions.h"

typedef struct live_model {
    atomic_int refs;
    mn_params params;
    mn_packed_weights packed;      /* conv weights packed once, at load */
    mn_metadata meta;
    double temperature;            /* softmax temperature from the metadata (1: none) */
    double temperature_low_res;    /* the same for digits read at low resolution */
    bool deskew;                   /* the model reads deskewed input (mn_deskew.h) */
    char version[13];              /* first 12 hex digits of the file's SHA-256 */
    char sha256[65];
    size_t file_bytes;
    time_t loaded_at;
} live_model;

/* Probabilities for n images (n x 784 normalised pixels) into probs (n x 10): each
 * image deskewed in place when the model reads deskewed input (m->deskew), the
 * network's inference pass, then the model's temperature on each row (its low-res
 * one when low_res: the images were read at low resolution, mn_preprocess_info). */
void live_model_predict(const live_model *m, mn_workspace *ws, float *input, int n,
                        bool low_res, float *probs);

typedef struct model_store model_store;

/* Creates the store and loads PATH once (a missing or bad file is not an error: the
 * service starts and reports it). Then starts the watcher when interval_ms > 0. */
model_store *model_store_create(const char *path, int interval_ms);
/* Stops the watcher and drops the store's reference. Requests still holding a model
 * keep it valid until they release it. */
void model_store_destroy(model_store *store);

/* The current model with a reference taken, or NULL when none is loaded. */
live_model *model_store_acquire(model_store *store);
void model_release(live_model *m);

/* Checks the file now (what the watcher does every interval). Returns true when a new
 * model was swapped in. */
bool model_store_poll(model_store *store);

/* Status for /health: copies the last refusal or absence reason ("" if none) and
 * returns the number of successful loads and of refused files so far. */
void model_store_status(model_store *store, char *error, size_t error_size,
                        time_t *error_at, unsigned long *loads, unsigned long *refused);

const char *model_store_path(const model_store *store);

/* The versions kept beside the model, newest first, as last listed by the watcher:
 * copies up to MAX entries into OUT and returns how many it copied. */
size_t model_store_versions(model_store *store, mn_version_entry *out, size_t max);

/* DIR/versions/NAME.VERSION.report.json for the model path into OUT; false when the
 * path has no versions layout (a name too long). */
bool model_store_version_report(const model_store *store, const char *version, char *out,
                                size_t size);

#endif
