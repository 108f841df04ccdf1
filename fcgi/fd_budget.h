/* How many connections lighttpd may hold within the open-files limit.
 *
 * One proxied request holds three descriptors in lighttpd: the client's socket, the
 * socket to mnist-fcgi, and a temporary file when its body is spooled to
 * STATE_DIR/uploads (lighttpd keeps bodies above 64 KiB on disk until the backend
 * reads them). A fixed reserve covers the rest: listening sockets, logs, the event
 * poller, the pid file, the stat cache. lighttpd's own default (1024 connections,
 * 2048 descriptors) ran out of descriptors at 1,000 clients and reset connections.
 *
 * Each connection may also be waiting in mnist-fcgi's accept queue at once, which the
 * kernel caps at net.core.somaxconn: past it lighttpd's connect() fails, and lighttpd
 * answers 503 and sets the backend aside for seconds. So the connections are capped
 * there too; clients beyond them wait in lighttpd's own accept queue instead. */
#ifndef FCGI_FD_BUDGET_H
#define FCGI_FD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

enum { FDS_PER_CONNECTION = 3, FDS_RESERVED = 64, MIN_CONNECTIONS = 16 };

typedef struct fd_budget {
    long max_connections; /* lighttpd's server.max-connections */
    long max_fds;         /* lighttpd's server.max-fds: the connections' share and the reserve */
    long hard_limit;      /* RLIMIT_NOFILE's hard limit it was planned within */
    long backlog_limit;   /* net.core.somaxconn it was planned within */
} fd_budget;

/* The budget for WANTED connections under HARD_LIMIT descriptors and a kernel accept
 * queue of at most BACKLOG_LIMIT: WANTED, or fewer when the limits cannot hold them.
 * False when not even MIN_CONNECTIONS fit. */
bool fd_budget_for(long wanted, long hard_limit, long backlog_limit, fd_budget *b);

/* fd_budget_for under this process's hard limit and the kernel's somaxconn, then
 * raises the soft limit to max_fds (lighttpd inherits it). False with a message in WHY
 * when it cannot. */
bool fd_budget_plan(long wanted, fd_budget *b, char *why, size_t size);

#endif
