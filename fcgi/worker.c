#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "server.h"

bool worker_init(worker *w, server *srv)
{
    memset(w, 0, sizeof *w);
    w->srv = srv;
    if (FCGX_InitRequest(&w->req, srv->listen_fd, 0) != 0)
        return false;
    /* everything a request needs, allocated once: the hot path allocates nothing
     * but what stb_image and json-c allocate while decoding */
    w->body = malloc(srv->opts.max_body);
    w->decoded = malloc(srv->opts.max_body);
    w->scratch = malloc(sizeof *w->scratch);
    const size_t batch = (size_t)srv->opts.max_batch;
    w->batch_input = malloc(batch * MN_IMAGE_PIXELS * sizeof(float));
    w->batch_probs = malloc(batch * MN_NUM_CLASSES * sizeof(float));
    /* pages are only touched as they are used: a worker that never sees a big batch
     * never holds its memory */
    if (!w->body || !w->decoded || !w->scratch || !w->batch_input || !w->batch_probs ||
        !out_init(&w->out, 256 * 1024) ||
        mn_workspace_create(&w->ws, srv->opts.max_batch, 1, NULL) != MN_OK)
        return false;
    return true;
}

void worker_free(worker *w)
{
    free(w->body);
    free(w->decoded);
    free(w->scratch);
    free(w->batch_input);
    free(w->batch_probs);
    out_free(&w->out);
    mn_workspace_destroy(w->ws);
    FCGX_Free(&w->req, 0);
    memset(w, 0, sizeof *w);
}
