/* fcgi/supervise.c: the supervisor replaces a responder killed by a signal, gives up
 * after six deaths in ten seconds, stops with its responder on SIGTERM and exits with
 * the status of a responder that exits. Each test forks a supervisor whose responders
 * report their pid through a pipe. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervise.h"

static int responder_exit_status = -1; /* -1: a responder waits until killed */

typedef struct supervisor {
    pid_t pid;
    int pids;                 /* read end: each responder's pid */
} supervisor;

static void start_supervisor(supervisor *s)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        close(fds[0]);
        bool draining = false;
        if (supervise(&draining) < 0)
            _exit(99);
        pid_t me = getpid(); /* in a responder */
        if (write(fds[1], &me, sizeof me) != sizeof me)
            _exit(98);
        if (responder_exit_status >= 0)
            _exit(responder_exit_status);
        for (;;)
            pause();
    }
    close(fds[1]);
    s->pids = fds[0];
}

/* The next responder's pid, waiting at most 5 s. */
static pid_t next_responder(const supervisor *s)
{
    struct pollfd p = {s->pids, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
    pid_t pid = 0;
    assert_int_equal(read(s->pids, &pid, sizeof pid), sizeof pid);
    assert_true(pid > 0);
    return pid;
}

/* The supervisor's wait status, waiting at most 5 s. */
static int supervisor_status(supervisor *s)
{
    for (int i = 0; i < 500; i++) {
        int status;
        pid_t done = waitpid(s->pid, &status, WNOHANG);
        if (done == s->pid) {
            close(s->pids);
            return status;
        }
        usleep(10000);
    }
    kill(s->pid, SIGKILL);
    fail_msg("the supervisor did not exit");
    return -1;
}

static void test_restarts_a_killed_responder(void **state)
{
    (void)state;
    supervisor s;
    start_supervisor(&s);
    pid_t first = next_responder(&s);
    assert_int_equal(kill(first, SIGKILL), 0);
    pid_t second = next_responder(&s);
    assert_int_not_equal(second, first);
    assert_int_equal(kill(second, 0), 0); /* serving */
    /* SIGTERM to the supervisor stops the responder, then the supervisor */
    assert_int_equal(kill(s.pid, SIGTERM), 0);
    int status = supervisor_status(&s);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(kill(second, 0), -1);
    assert_int_equal(errno, ESRCH);
}

static void test_gives_up_after_six_deaths(void **state)
{
    (void)state;
    supervisor s;
    start_supervisor(&s);
    for (int i = 0; i < 6; i++)
        assert_int_equal(kill(next_responder(&s), SIGKILL), 0);
    int status = supervisor_status(&s);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 70);
}

static void test_exits_with_the_responder(void **state)
{
    (void)state;
    responder_exit_status = 3;
    supervisor s;
    start_supervisor(&s);
    next_responder(&s);
    int status = supervisor_status(&s);
    responder_exit_status = -1;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3); /* not replaced: it was not a crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restarts_a_killed_responder),
        cmocka_unit_test(test_gives_up_after_six_deaths),
        cmocka_unit_test(test_exits_with_the_responder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
