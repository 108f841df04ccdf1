/* Every route of mnist-fcgi in one table: path pattern, methods, handler, metrics
 * label, error form. lighttpd.conf forwards exactly the table's first segments
 * (tests/unit/test_routes.c checks that). */
#ifndef FCGI_ROUTES_H
#define FCGI_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "service.h"

/* What /metrics counts a request as: an index into route_labels. */
typedef enum {
    ROUTE_PREDICT, ROUTE_HEALTH, ROUTE_LIVE, ROUTE_V2_META, ROUTE_V2_INFER, ROUTE_METRICS,
    ROUTE_REPORT, ROUTE_OTHER, ROUTE_COUNT
} route_id;

/* The metrics label of each route_id, ROUTE_COUNT of them. */
extern const char *const route_labels[ROUTE_COUNT];

typedef struct route {
    const char *pattern;      /* the path; "*" is one segment, a final "**" anything */
    const char *methods;      /* the Allow header's value */
    handler_fn *handler;
    route_id id;
    http_error_form errors;
} route;

/* The table, in match order (the first that matches wins), and its length. */
const route *route_table(size_t *count);

/* Whether path matches pattern (the table's syntax). */
bool route_path_matches(const char *pattern, const char *path);

/* Whether method is one of the comma-separated methods. */
bool route_method_allowed(const char *method, const char *methods);

/* Finds the route of x->path, checks the method (405 with Allow) or answers 404, else
 * calls the handler. Returns what metrics counts the request as. */
route_id route_dispatch(http_exchange *x, const handler_env *env);

#endif
