#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "fd_budget.h"

bool fd_budget_for(long wanted, long hard_limit, long backlog_limit, fd_budget *b)
{
    long fit = (hard_limit - FDS_RESERVED) / FDS_PER_CONNECTION;
    if (backlog_limit < fit)
        fit = backlog_limit;
    b->hard_limit = hard_limit;
    b->backlog_limit = backlog_limit;
    b->max_connections = wanted < fit ? wanted : fit;
    b->max_fds = b->max_connections * FDS_PER_CONNECTION + FDS_RESERVED;
    return b->max_connections >= MIN_CONNECTIONS;
}

/* The kernel's cap on a listening socket's accept queue (4096 since Linux 5.4, 128
 * before); unknown: no cap. */
static long somaxconn(void)
{
    long v = 0;
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v > 0 ? v : 1L << 30;
}

bool fd_budget_plan(long wanted, fd_budget *b, char *why, size_t size)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        snprintf(why, size, "cannot read the open-files limit: %s", strerror(errno));
        return false;
    }
    long hard = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > 1048576 ? 1048576
                                                                         : (long)lim.rlim_max;
    long backlog = somaxconn();
    if (!fd_budget_for(wanted, hard, backlog, b)) {
        snprintf(why, size,
                 "the open-files limit (%ld) or net.core.somaxconn (%ld) holds fewer than %d "
                 "connections of %d files each; raise it (ulimit -Hn, LimitNOFILE=, --ulimit "
                 "nofile=, sysctl net.core.somaxconn)",
                 hard, backlog, MIN_CONNECTIONS, FDS_PER_CONNECTION);
        return false;
    }
    if (b->max_connections < wanted)
        fprintf(stderr, "mnist-serve: the open-files limit (%ld) and net.core.somaxconn (%ld) "
                        "hold %ld connections, not MAX_CONNECTIONS=%ld\n",
                hard, backlog, b->max_connections, wanted);
    lim.rlim_cur = (rlim_t)b->max_fds;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
        snprintf(why, size, "cannot raise the open-files limit to %ld: %s", b->max_fds,
                 strerror(errno));
        return false;
    }
    return true;
}
