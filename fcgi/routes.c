#include "config.h"

#include <stdio.h>
#include <string.h>

#include "predict.h"
#include "routes.h"
#include "status.h"
#include "v2.h"

_Static_assert((int)ROUTE_COUNT <= (int)METRIC_ROUTES,
               "metrics.h counts at most METRIC_ROUTES routes");

const char *const route_labels[ROUTE_COUNT] = {
    [ROUTE_PREDICT] = "/predict", [ROUTE_HEALTH] = "/health", [ROUTE_LIVE] = "/health/live",
    [ROUTE_V2_META] = "/v2", [ROUTE_V2_INFER] = "/v2/models/mnist/infer",
    [ROUTE_METRICS] = "/metrics", [ROUTE_REPORT] = "/model/report", [ROUTE_OTHER] = "other",
};

#define GET "GET, HEAD"
#define CODED HTTP_ERRORS_CODED
#define PLAIN HTTP_ERRORS_PLAIN /* the Open Inference Protocol's error form */

static const route routes[] = {
    {"/predict", "POST", handle_predict, ROUTE_PREDICT, CODED},
    {"/health", GET, handle_health, ROUTE_HEALTH, CODED},
    {"/health/live", GET, handle_live, ROUTE_LIVE, CODED},
    {"/metrics", GET, handle_metrics, ROUTE_METRICS, CODED},
    {"/model/report", GET, handle_report, ROUTE_REPORT, CODED},
    {"/v2", GET, v2_server_metadata, ROUTE_V2_META, PLAIN},
    {"/v2/", GET, v2_server_metadata, ROUTE_V2_META, PLAIN},
    {"/v2/health/live", GET, v2_live, ROUTE_V2_META, PLAIN},
    {"/v2/health/ready", GET, v2_ready, ROUTE_V2_META, PLAIN},
    {"/v2/models/mnist", GET, v2_model_metadata, ROUTE_V2_META, PLAIN},
    {"/v2/models/mnist/ready", GET, v2_model_ready, ROUTE_V2_META, PLAIN},
    {"/v2/models/mnist/infer", "POST", v2_infer, ROUTE_V2_INFER, PLAIN},
    {"/v2/models/mnist/versions/*", GET, v2_model_metadata, ROUTE_V2_META, PLAIN},
    {"/v2/models/mnist/versions/*/ready", GET, v2_model_ready, ROUTE_V2_META, PLAIN},
    {"/v2/models/mnist/versions/*/infer", "POST", v2_infer, ROUTE_V2_INFER, PLAIN},
    /* unknown model, version or route: the protocol's 404, whatever the method */
    {"/v2/**", NULL, v2_not_found, ROUTE_V2_META, PLAIN},
};

const route *route_table(size_t *count)
{
    *count = sizeof routes / sizeof routes[0];
    return routes;
}

bool route_path_matches(const char *pattern, const char *path)
{
    while (*pattern) {
        if (pattern[0] == '*' && pattern[1] == '*')
            return true;
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0)
                return false;
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *path == '\0';
}

bool route_method_allowed(const char *method, const char *methods)
{
    size_t n = strlen(method);
    for (const char *p = methods; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, method, n) == 0)
            return true;
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

route_id route_dispatch(http_exchange *x, const handler_env *env)
{
    const route *found = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !found; i++)
        if (route_path_matches(routes[i].pattern, x->path))
            found = &routes[i];
    if (!found) {
        http_fail(x, 404, "not_found", NULL, "no route %s", x->path);
        return ROUTE_OTHER;
    }
    x->error_form = found->errors;
    if (found->methods && !route_method_allowed(x->method, found->methods)) {
        char allow[64];
        snprintf(allow, sizeof allow, "Allow: %s\r\n", found->methods);
        http_fail(x, 405, "method_not_allowed", allow, "%s takes %s, not %s", x->path,
                  found->methods, x->method);
    } else {
        found->handler(x, env);
    }
    return found->id;
}
