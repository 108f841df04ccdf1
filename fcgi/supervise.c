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

/* When the last CRASHES_ALLOWED deaths happened, a ring with the oldest at next. */
typedef struct crash_log {
    double at[CRASHES_ALLOWED];
    int next;
} crash_log;

/* Records a death now; false when it is one too many within CRASH_WINDOW_S. */
static bool note_crash(crash_log *c)
{
    double t = mn_clock_seconds();
    if (t - c->at[c->next] < CRASH_WINDOW_S)
        return false;
    c->at[c->next] = t;
    c->next = (c->next + 1) % CRASHES_ALLOWED;
    return true;
}

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

/* What the supervisor waits for: the stop signals it passes on, and its child's end. */
static void supervisor_signals(sigset_t *set)
{
    static const int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD};
    sigemptyset(set);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaddset(set, signals[i]);
}

int supervise(bool *draining)
{
    sigset_t wanted, old_mask;
    supervisor_signals(&wanted);
    sigprocmask(SIG_BLOCK, &wanted, &old_mask);
    const pid_t self = getpid();
    pid_t child = start_responder(self, &old_mask);
    if (child < 0) {
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return -1;
    }
    if (child == 0)
        return 0;

    crash_log crashes;
    for (int i = 0; i < CRASHES_ALLOWED; i++)
        crashes.at[i] = -1e9;
    crashes.next = 0;
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
        if (!note_crash(&crashes)) {
            log_line("supervisor: the responder died %d times in %d s; giving up",
                     CRASHES_ALLOWED + 1, CRASH_WINDOW_S);
            _exit(70);
        }
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
