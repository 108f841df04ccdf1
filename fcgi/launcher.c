/* mnist-serve: runs the inference service in the foreground. lighttpd serves the web
 * UI and spawns mnist-fcgi for the API; this small parent sets both up from the
 * environment and turns the stop signal into a drain, so that a rolling update, a
 * scale-down or `docker stop` fails no request:
 *
 *   SIGTERM  drain: mnist-fcgi's readiness (/health, /v2/health/ready) answers 503
 *            "draining" at once and every API answer says "Connection: close", while
 *            lighttpd keeps accepting for DRAIN_SECONDS, the time load balancers take
 *            to stop sending; then lighttpd stops gracefully: it closes the listening
 *            socket, finishes the requests in flight (at most GRACE_SECONDS) and exits
 *            0. A second SIGTERM ends the window early.
 *   SIGINT   the same without the window (Ctrl-C: the terminal also signals lighttpd,
 *            whose second SIGINT stops it at once).
 *   SIGHUP   passed to lighttpd (it reopens its logs).
 *
 * Why a parent and not lighttpd as PID 1: lighttpd stops at once on SIGTERM, the
 * signal every container runtime and systemd send, and on SIGINT closes its listening
 * socket at once, before load balancers have stopped sending. As PID 1 this process
 * also reaps orphans (a responder whose supervisor died). It is also their subreaper
 * elsewhere: lighttpd stops mnist-fcgi but does not wait for it, so this process
 * waits for what lighttpd leaves (ORPHAN_SECONDS at most) and exits last, and systemd
 * (KillMode=mixed) finds nothing left to kill.
 *
 * Environment (defaults in brackets): PORT [8080], BIND [0.0.0.0], MODEL_PATH
 * [/mnt/model-storage/mnist_model.safetensors], STATE_DIR [$TMPDIR/mnist-serve]
 * (pid files, upload spool, FastCGI socket; mode 0700; at most 89 bytes so that the
 * socket's path fits in a Unix socket address), MNIST_FCGI_ARGS (extra mnist-fcgi
 * options), DRAIN_SECONDS [20], MAX_CONNECTIONS [4096]. MNIST_WWW, MNIST_ERRORS,
 * MNIST_FCGI, MNIST_LIGHTTPD_CONF and LIGHTTPD point a build tree at its files. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd_budget.h"
#include "mn_clock.h"
#include "serve_limits.h"

enum {
    EXIT_USAGE = 64,
    EXIT_OSERR = 71,
    /* lighttpd's server.graceful-shutdown-timeout (lighttpd.conf) bounds the requests
     * in flight; past it and this margin, lighttpd is stopped at once */
    GRACE_SECONDS = 10,
    ORPHAN_SECONDS = 5, /* mnist-fcgi's own stop, once lighttpd has gone */
    SOCKET_PATH_MAX = 105, /* sun_path less lighttpd's "-0" suffix and the NUL */
};

typedef struct settings {
    const char *port, *bind, *model, *state, *fcgi_args;
    const char *www, *errors, *fcgi, *conf, *lighttpd;
    long drain_seconds, max_connections;
} settings;

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mnist-serve: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

/* A whole decimal number in [lo, hi], or exit 64 naming the variable. */
static long number_env(const char *name, const char *fallback, long lo, long hi)
{
    const char *s = env_or(name, fallback);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || s[0] < '0' || s[0] > '9' || v < lo || v > hi) {
        fprintf(stderr, "mnist-serve: %s must be a number from %ld to %ld, not '%s'\n", name,
                lo, hi, s);
        exit(EXIT_USAGE);
    }
    return v;
}

static void read_settings(settings *s)
{
    const char *tmp = env_or("TMPDIR", "/tmp");
    static char state[4096];
    snprintf(state, sizeof state, "%s/mnist-serve", tmp);
    s->port = env_or("PORT", "8080");
    if (strspn(s->port, "0123456789") != strlen(s->port))
        die(EXIT_USAGE, "PORT must be a number, not '%s'", s->port);
    number_env("PORT", "8080", 1, 65535);
    s->bind = env_or("BIND", "0.0.0.0");
    s->model = env_or("MODEL_PATH", "/mnt/model-storage/mnist_model.safetensors");
    s->state = env_or("STATE_DIR", state);
    s->fcgi_args = env_or("MNIST_FCGI_ARGS", "");
    s->www = env_or("MNIST_WWW", PKGDATADIR "/www");
    s->errors = env_or("MNIST_ERRORS", PKGDATADIR "/errors");
    s->fcgi = env_or("MNIST_FCGI", BINDIR "/mnist-fcgi");
    s->conf = env_or("MNIST_LIGHTTPD_CONF", PKGDATADIR "/lighttpd.conf");
    s->lighttpd = env_or("LIGHTTPD", LIGHTTPD_PATH);
    s->drain_seconds = number_env("DRAIN_SECONDS", "20", 0, 3600);
    s->max_connections = number_env("MAX_CONNECTIONS", "4096", 16, 1000000);
}

/* STATE_DIR and its upload spool, mode 0700: only this user reaches the socket. */
static void make_state_dir(const settings *s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/mnist-fcgi.sock", s->state);
    if (strlen(path) > SOCKET_PATH_MAX) {
        fprintf(stderr,
                "mnist-serve: STATE_DIR is too long: the FastCGI socket %s is %zu bytes, at "
                "most %d fit in a Unix socket address; set STATE_DIR to a shorter directory "
                "(e.g. STATE_DIR=/tmp/mnist-serve)\n",
                path, strlen(path), SOCKET_PATH_MAX);
        exit(EXIT_USAGE);
    }
    umask(077);
    snprintf(path, sizeof path, "%s", s->state);
    for (char *p = path + 1; *p; p++) { /* mkdir -p */
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            die(EXIT_OSERR, "cannot create %s", path);
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        die(EXIT_OSERR, "cannot create STATE_DIR %s", path);
    if (chmod(path, 0700) != 0)
        die(EXIT_OSERR, "cannot chmod STATE_DIR %s", path);
    snprintf(path, sizeof path, "%s/uploads", s->state);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        die(EXIT_OSERR, "cannot create %s", path);
}

/* lighttpd splits bin-path at every single space: MNIST_FCGI_ARGS is rejoined with
 * single spaces, so that stray ones do not become empty arguments. */
static void fcgi_command(const settings *s, char *cmd, size_t size)
{
    int n = snprintf(cmd, size, "%s --pid-file %s/mnist-fcgi.pid", s->fcgi, s->state);
    char args[4096];
    snprintf(args, sizeof args, "%s", s->fcgi_args);
    for (char *word = strtok(args, " \t\n"); word && n > 0 && (size_t)n < size;
         word = strtok(NULL, " \t\n"))
        n += snprintf(cmd + n, size - (size_t)n, " %s", word);
    if (n < 0 || (size_t)n >= size)
        die(EXIT_USAGE, "MNIST_FCGI_ARGS is too long: %s", s->fcgi_args);
}

/* The environment lighttpd.conf reads (see its header). */
static void export_settings(const settings *s, const fd_budget *b)
{
    char cmd[8192], conns[32], fds[32], body_kib[32];
    fcgi_command(s, cmd, sizeof cmd);
    /* lighttpd's request limit is mnist-fcgi's default --max-body, in lighttpd's KiB */
    snprintf(body_kib, sizeof body_kib, "%u", SERVE_MAX_BODY_BYTES / 1024);
    snprintf(conns, sizeof conns, "%ld", b->max_connections);
    snprintf(fds, sizeof fds, "%ld", b->max_fds);
    setenv("MNIST_PORT", s->port, 1);
    setenv("MNIST_BIND", s->bind, 1);
    setenv("MNIST_STATE", s->state, 1);
    setenv("MNIST_WWW", s->www, 1);
    setenv("MNIST_ERRORS", s->errors, 1);
    setenv("MNIST_FCGI_CMD", cmd, 1);
    setenv("MNIST_MAX_CONNECTIONS", conns, 1);
    setenv("MNIST_MAX_FDS", fds, 1);
    setenv("MNIST_MAX_REQUEST_KIB", body_kib, 1);
    setenv("MODEL_PATH", s->model, 1);
}

/* The pid mnist-fcgi wrote (its supervisor), if that process is lighttpd's child:
 * a stale file from a supervisor that died must not aim a signal elsewhere. */
static pid_t responder_pid(const settings *s, pid_t lighttpd)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/mnist-fcgi.pid", s->state);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
#ifdef __linux__
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    long ppid = 0;
    if (pid > 0 && (f = fopen(path, "r"))) {
        if (fscanf(f, "%*d (%*[^)]) %*c %ld", &ppid) != 1)
            ppid = 0;
        fclose(f);
    }
    if (ppid != lighttpd)
        return 0;
#else
    (void)lighttpd;
#endif
    return pid > 0 ? (pid_t)pid : 0;
}

/* Where the stop is: serving, draining (accepting, readiness 503), stopping (lighttpd
 * finishing what is in flight), killed (lighttpd told to stop at once). */
typedef enum { SERVING, DRAINING, STOPPING, KILLED } phase;

typedef struct stop_state {
    phase phase;
    double deadline; /* when the current phase ends (DRAINING, STOPPING) */
} stop_state;

static void log_event(const char *what, long seconds)
{
    fprintf(stderr, "mnist-serve: %s", what);
    if (seconds >= 0)
        fprintf(stderr, " (%ld s)", seconds);
    fputc('\n', stderr);
}

/* Moves the stop one phase on (a signal, or the end of the current phase). */
static void advance(stop_state *st, const settings *s, pid_t lighttpd)
{
    switch (st->phase) {
    case SERVING: {
        pid_t fcgi = responder_pid(s, lighttpd);
        if (fcgi > 0)
            kill(fcgi, SIGUSR1);
        else
            log_event("no mnist-fcgi to tell: draining without it", -1);
        st->phase = DRAINING;
        st->deadline = mn_clock_seconds() + (double)s->drain_seconds;
        log_event("draining: readiness answers 503, still serving", s->drain_seconds);
        if (s->drain_seconds == 0)
            advance(st, s, lighttpd); /* no window */
        break;
    }
    case DRAINING:
        kill(lighttpd, SIGINT);
        st->phase = STOPPING;
        st->deadline = mn_clock_seconds() + GRACE_SECONDS + 2;
        log_event("stopping: no new connections, finishing the requests in flight", -1);
        break;
    case STOPPING:
        kill(lighttpd, SIGTERM);
        st->phase = KILLED;
        log_event("requests still in flight after the grace period: stopping lighttpd now", -1);
        break;
    case KILLED:
        break;
    }
}

static pid_t start_lighttpd(const settings *s, const sigset_t *old_mask)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    execl(s->lighttpd, s->lighttpd, "-D", "-f", s->conf, (char *)NULL);
    fprintf(stderr, "mnist-serve: cannot run %s: %s\n", s->lighttpd, strerror(errno));
    _exit(EXIT_OSERR);
}

/* Reaps every exited child (orphans included, as PID 1); true once lighttpd is gone,
 * with its wait status in *status. */
static bool reap(pid_t lighttpd, int *status)
{
    bool gone = false;
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid == lighttpd) {
            gone = true;
            *status = st;
        }
    }
    return gone;
}

/* Waits, ORPHAN_SECONDS at most, for the children lighttpd left to this subreaper
 * (mnist-fcgi, which lighttpd told to stop); other signals wait meanwhile. */
static void wait_orphans(const sigset_t *wanted)
{
    double deadline = mn_clock_seconds() + ORPHAN_SECONDS;
    for (;;) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
            ;
        if (pid < 0) /* ECHILD: none left */
            return;
        double left = deadline - mn_clock_seconds();
        if (left <= 0) {
            log_event("children of lighttpd still running: leaving them", ORPHAN_SECONDS);
            return;
        }
        struct timespec wait = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        siginfo_t info;
        sigtimedwait(wanted, &info, &wait);
    }
}

/* The exit status: 0 for a stop we asked for, else lighttpd's own. */
static int exit_status(const stop_state *st, int status)
{
    if (st->phase != SERVING && (WIFSIGNALED(status) || WEXITSTATUS(status) == 0))
        return 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(const settings *s)
{
    sigset_t wanted, old_mask;
    sigemptyset(&wanted);
    int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaddset(&wanted, signals[i]);
    sigprocmask(SIG_BLOCK, &wanted, &old_mask);
    pid_t lighttpd = start_lighttpd(s, &old_mask);
    if (lighttpd < 0)
        die(EXIT_OSERR, "cannot fork: %s", strerror(errno));
    stop_state st = {SERVING, 0};
    for (;;) {
        siginfo_t info;
        int sig;
        if (st.phase == DRAINING || st.phase == STOPPING) {
            double left = st.deadline - mn_clock_seconds();
            struct timespec wait = {0, 0};
            if (left > 0)
                wait = (struct timespec){(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
            sig = sigtimedwait(&wanted, &info, &wait);
        } else {
            sig = sigwaitinfo(&wanted, &info);
        }
        int status;
        if (sig == SIGCHLD && reap(lighttpd, &status)) {
            wait_orphans(&wanted);
            return exit_status(&st, status);
        }
        if (sig < 0 && errno == EAGAIN) /* the phase's time is up */
            advance(&st, s, lighttpd);
        else if (sig == SIGHUP)
            kill(lighttpd, SIGHUP);
        else if (sig == SIGINT && st.phase == SERVING) {
            st.phase = DRAINING; /* no window */
            advance(&st, s, lighttpd);
        } else if (sig == SIGTERM || sig == SIGQUIT || sig == SIGINT)
            advance(&st, s, lighttpd);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
                "Usage: mnist-serve\nRuns the MNIST inference service (lighttpd + mnist-fcgi) in "
                "the foreground; settings come from the environment (see the README, \"The "
                "service\"): PORT, BIND, MODEL_PATH, STATE_DIR, MNIST_FCGI_ARGS, DRAIN_SECONDS, "
                "MAX_CONNECTIONS.\nSIGTERM drains for DRAIN_SECONDS, then stops gracefully; "
                "SIGINT stops gracefully at once.\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : EXIT_USAGE;
    }
#ifdef __linux__
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* see the header: lighttpd's orphans come here */
#endif
    settings s;
    read_settings(&s);
    make_state_dir(&s);
    fd_budget budget;
    char why[256];
    if (!fd_budget_plan(s.max_connections, &budget, why, sizeof why))
        die(EXIT_OSERR, "%s", why);
    export_settings(&s, &budget);
    fprintf(stderr, "mnist-serve: http://%s:%s/ (model %s; %ld connections, %ld files)\n",
            s.bind, s.port, s.model, budget.max_connections, budget.max_fds);
    return run(&s);
}
