/* The supervisor: one small process that keeps a responder process serving. */
#ifndef FCGI_SUPERVISE_H
#define FCGI_SUPERVISE_H

#include <stdbool.h>

/* Forks the responder and returns in it. The calling process stays behind as the
 * supervisor and never returns: it holds the listening socket open, starts a new
 * responder at once when one dies of a signal (a crash, the OOM killer, kill -9),
 * passes SIGTERM, SIGINT, SIGHUP and SIGUSR1 (drain) on and exits with the responder.
 * A responder started after a SIGUSR1 returns with *draining set, so that a crash
 * while draining does not bring back a ready one. Returns -1 in the caller if it
 * cannot fork at all. */
int supervise(bool *draining);

#endif
