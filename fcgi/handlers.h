/* Route handlers shared between files. */
#ifndef FCGI_HANDLERS_H
#define FCGI_HANDLERS_H

#include <stdbool.h>

#include "http.h"

void handle_predict(worker *w, http_request *r);
/* Every /v2 route; returns which metrics route it was. */
route_id handle_v2(worker *w, http_request *r);

/* The model's description for answers: version, created, accuracy (and with full,
 * everything /health shows). */
void write_model_json(out_buf *o, const live_model *m, bool full);

/* The versions kept beside the model for rollback, newest first, as a JSON array of
 * version strings (the served one is the model's version). */
void write_versions_json(out_buf *o, model_store *store);

#endif
