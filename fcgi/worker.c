#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mn_clock.h"
#include "routes.h"
#include "worker.h"

bool worker_init(worker *w, const service *svc, int listen_fd, bool quiet)
{
    memset(w, 0, sizeof *w);
    w->svc = svc;
    w->quiet = quiet;
    if (FCGX_InitRequest(&w->req, listen_fd, 0) != 0)
        return false;
    /* everything a request needs, allocated once: the hot path allocates nothing
     * but what stb_image and json-c allocate while decoding */
    infer_buffers *b = &w->buf;
    w->body = malloc(svc->max_body);
    b->decoded = malloc(svc->max_body);
    b->scratch = malloc(sizeof *b->scratch);
    const size_t batch = (size_t)svc->max_batch;
    b->batch_input = malloc(batch * MN_IMAGE_PIXELS * sizeof(float));
    b->batch_probs = malloc(batch * MN_NUM_CLASSES * sizeof(float));
    /* pages are only touched as they are used: a worker that never sees a big batch
     * never holds its memory */
    return w->body && b->decoded && b->scratch && b->batch_input && b->batch_probs &&
           out_init(&w->out, 256 * 1024) &&
           mn_workspace_create(&b->ws, svc->max_batch, 1, NULL) == MN_OK;
}

void worker_free(worker *w)
{
    free(w->body);
    free(w->buf.decoded);
    free(w->buf.scratch);
    free(w->buf.batch_input);
    free(w->buf.batch_probs);
    out_free(&w->out);
    mn_workspace_destroy(w->buf.ws);
    FCGX_Free(&w->req, 0);
    memset(w, 0, sizeof *w);
}

/* http_io on libfcgi's request */
static const char *fcgi_param(void *ctx, const char *name)
{
    return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static int fcgi_read(void *ctx, char *buf, int len)
{
    return FCGX_GetStr(buf, len, ((FCGX_Request *)ctx)->in);
}

static void fcgi_write(void *ctx, const char *buf, int len)
{
    FCGX_PutStr(buf, len, ((FCGX_Request *)ctx)->out);
}

void worker_handle(worker *w)
{
    const double started = mn_clock_seconds();
    const http_io io = {fcgi_param, fcgi_read, fcgi_write, &w->req};
    http_exchange x;
    http_begin(&x, io, w->body, w->svc->max_body, &w->out, w->svc->draining);
    const handler_env env = {w->svc, &w->buf, &w->stats};
    route_id id = route_dispatch(&x, &env);
    double seconds = mn_clock_elapsed(started);
    metrics_record(&w->stats, (int)id, x.status, seconds);
    if (!w->quiet)
        log_line("%s %s %d %.0fus", x.method, x.path, x.status, seconds * 1e6);
}
