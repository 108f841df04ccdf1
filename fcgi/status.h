/* The small GET routes: /health, /health/live, /metrics, /model/report. */
#ifndef FCGI_STATUS_H
#define FCGI_STATUS_H

#include "service.h"

handler_fn handle_health, handle_live, handle_metrics, handle_report;

#endif
