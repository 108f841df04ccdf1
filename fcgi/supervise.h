/* The supervisor: one small process that keeps a responder process serving. */
#ifndef FCGI_SUPERVISE_H
#define FCGI_SUPERVISE_H

/* Forks the responder and returns in it. The calling process stays behind as the
 * supervisor and never returns: it holds the listening socket open, starts a new
 * responder at once when one dies of a signal (a crash, the OOM killer, kill -9),
 * passes SIGTERM, SIGINT and SIGHUP on and exits with the responder. Returns -1 in
 * the caller if it cannot fork at all. */
int supervise(void);

#endif
