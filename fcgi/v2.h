/* The Open Inference Protocol (KServe v2) handlers, one per route of fcgi/routes.c. */
#ifndef FCGI_V2_H
#define FCGI_V2_H

#include "service.h"

handler_fn v2_server_metadata, v2_live, v2_ready, v2_model_metadata, v2_model_ready, v2_infer,
    v2_not_found;

#endif
