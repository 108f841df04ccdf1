/* Why: lighttpd 1.4 restarts a dead FastCGI backend only at its once-a-second check
 * when requests failed to connect in the second it died, and answers 503 until then
 * (up to 2 s under load). Here the listening socket outlives the responder: requests
 * that arrive while a new one starts wait in the socket's backlog, and the new one
 * is serving within milliseconds. Same idea as nginx's master and workers. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mn_clock.h"
#include "supervise.h"

enum { CRASH_WINDOW_S = 10, CRASHES_ALLOWED = 5 };

/* Forks a responder; in the child, returns 0 with the caller's signal mask restored. */
static pid_t start_responder(pid_t self, const sigset_t *old_mask)
{
    pid_t pid = fork();
    if (pid == 0) {
        /* a supervisor gone (even by SIGKILL) stops its responder too */
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (getppid() != self)
            _exit(0);
        sigprocmask(SIG_SETMASK, old_mask, NULL);
    }
    return pid;
}

int supervise(bool *draining)
{
    sigset_t wanted, old_mask;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGHUP);
    sigaddset(&wanted, SIGUSR1);
    sigaddset(&wanted, SIGCHLD);
    sigprocmask(SIG_BLOCK, &wanted, &old_mask);
    const pid_t self = getpid();
    pid_t child = start_responder(self, &old_mask);
    if (child < 0) {
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return -1;
    }
    if (child == 0)
        return 0;

    /* when the last CRASHES_ALLOWED deaths happened, a ring with the oldest at next */
    double crashes[CRASHES_ALLOWED];
    for (int i = 0; i < CRASHES_ALLOWED; i++)
        crashes[i] = -1e9;
    int next = 0;
    bool stopping = false;
    for (;;) {
        int sig = 0;
        if (sigwait(&wanted, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            *draining = true; /* a responder forked from now on starts draining */
            kill(child, sig);
            continue;
        }
        if (sig != SIGCHLD) {
            stopping = true;
            kill(child, sig);
            continue;
        }
        int status;
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done != child)
            continue;
        if (stopping || !WIFSIGNALED(status) || WTERMSIG(status) == SIGTERM ||
            WTERMSIG(status) == SIGINT)
            _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
        /* died of a signal nobody asked for: start a new one, unless it keeps dying */
        double t = mn_clock_seconds();
        if (t - crashes[next] < CRASH_WINDOW_S) {
            log_line("supervisor: the responder died %d times in %d s; giving up",
                     CRASHES_ALLOWED + 1, CRASH_WINDOW_S);
            _exit(70);
        }
        crashes[next] = t;
        next = (next + 1) % CRASHES_ALLOWED;
        log_line("supervisor: responder %ld died of signal %d; starting a new one",
                 (long)child, WTERMSIG(status));
        child = start_responder(self, &old_mask);
        if (child < 0) {
            log_line("supervisor: cannot fork a new responder: %s", strerror(errno));
            _exit(71);
        }
        if (child == 0)
            return 0;
    }
}
