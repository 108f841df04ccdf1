/* mnist-fcgi: the FastCGI responder (see --help and ARCHITECTURE.md, "One /predict request").
 *
 * N worker threads each loop on FCGX_Accept_r (see serve() on accept). Signals are
 * blocked in every thread and taken by sigwait in main, which then asks libfcgi to
 * stop and shuts the listening socket down so that threads blocked in accept()
 * return; requests in flight finish first. A supervisor process (fcgi/supervise.c)
 * keeps the listening socket and replaces a responder that dies of a signal. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <fcgiapp.h>

#include "log.h"
#include "mn_clock.h"
#include "mn_gemm.h"
#include "routes.h"
#include "serve_limits.h"
#include "service.h"
#include "supervise.h"
#include "worker.h"

typedef struct server_options {
    char model_path[4096];    /* --model, env MODEL_PATH */
    char listen[4096];        /* --listen: ":PORT", "HOST:PORT" or a socket path; "" = fd 0 */
    char pid_file[4096];      /* --pid-file: where the process to send SIGUSR1 to writes its pid */
    int threads;              /* --threads, default: online CPUs */
    int reload_interval_ms;   /* --reload-interval (ms), 0 = never */
    size_t max_body;          /* --max-body (bytes) */
    size_t max_pixels;        /* --max-pixels: decoded image size cap */
    int max_batch;            /* --max-batch: images per v2 infer request */
    bool quiet;               /* --quiet: no per-request log lines */
    bool no_supervise;        /* --no-supervise: no supervisor process (fcgi/supervise.c) */
} server_options;

typedef struct server {
    server_options opts;
    service svc;
    atomic_bool draining;     /* told to stop (SIGUSR1): readiness 503, every answer closes */
    int listen_fd;
} server;

#define DEFAULT_MODEL "/mnt/model-storage/mnist_model.safetensors"

/* libfcgi's threaded example serialises accept() because "some platforms require
 * it". Linux does not: every thread blocked in accept() on the shared socket waits
 * exclusively, and each connection wakes one of them. There the lock only added a
 * futex hand-off per request (measured: about 8 % fewer /predict requests/s). */
#ifdef __linux__
#define ACCEPT_LOCK() ((void)0)
#define ACCEPT_UNLOCK() ((void)0)
#else
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
#define ACCEPT_LOCK() pthread_mutex_lock(&accept_lock)
#define ACCEPT_UNLOCK() pthread_mutex_unlock(&accept_lock)
#endif

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: mnist-fcgi [OPTION]...\n"
        "FastCGI responder for MNIST digit recognition: /predict, /health, /health/live,\n"
        "/metrics, /model/report and the Open Inference Protocol under /v2. Normally\n"
        "spawned by lighttpd through mnist-serve (listening socket on fd 0).\n"
        "\n"
        "  -m, --model FILE          model file (env MODEL_PATH;\n"
        "                            default " DEFAULT_MODEL ")\n"
        "  -l, --listen ADDR         listen on ADDR instead of fd 0: a unix socket path,\n"
        "                            or HOST:PORT (use 127.0.0.1:PORT; :PORT binds all)\n"
        "  -t, --threads N           worker threads (default: online CPUs)\n"
        "  -r, --reload-interval MS  how often to check the model file (default 500; 0 = never)\n"
        "  -b, --max-body BYTES      largest request body (default %u, lighttpd's limit)\n"
        "  -p, --max-pixels N        largest decoded image, in pixels (default 16777216)\n"
        "  -n, --max-batch N         most images in one v2 infer request (default 256)\n"
        "      --pid-file FILE       write the pid that takes SIGUSR1 (drain: /health answers\n"
        "                            503 \"draining\", every answer closes its connection)\n"
        "  -q, --quiet               no log line per request\n"
        "      --no-supervise        serve in this process only: no supervisor that\n"
        "                            replaces a responder killed by a signal at once\n"
        "  -h, --help                show this help\n"
        "  -V, --version             show the version\n", SERVE_MAX_BODY_BYTES);
}

static bool parse_size(const char *s, unsigned long long lo, unsigned long long hi,
                       unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* 0: run, 1: exit 0, 2: usage error. */
static int parse_options(server_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    const char *env = getenv("MODEL_PATH");
    snprintf(o->model_path, sizeof o->model_path, "%s", env && *env ? env : DEFAULT_MODEL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus > SERVE_MAX_DEFAULT_THREADS)
        cpus = SERVE_MAX_DEFAULT_THREADS;
    o->threads = cpus > 0 ? (int)cpus : 1;
    o->reload_interval_ms = 500;
    o->max_body = SERVE_MAX_BODY_BYTES;
    o->max_pixels = 16u << 20;
    o->max_batch = 256;
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"reload-interval", required_argument, NULL, 'r'},
        {"max-body", required_argument, NULL, 'b'},
        {"max-pixels", required_argument, NULL, 'p'},
        {"max-batch", required_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-supervise", no_argument, NULL, 'S'},
        {"pid-file", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    unsigned long long v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:l:t:r:b:p:n:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': snprintf(o->model_path, sizeof o->model_path, "%s", optarg); break;
        case 'l': snprintf(o->listen, sizeof o->listen, "%s", optarg); break;
        case 't': if (!parse_size(optarg, 1, 256, &v)) goto bad; o->threads = (int)v; break;
        case 'r': if (!parse_size(optarg, 0, 3600000, &v)) goto bad; o->reload_interval_ms = (int)v; break;
        case 'b': if (!parse_size(optarg, 1024, 1u << 30, &v)) goto bad; o->max_body = (size_t)v; break;
        case 'p': if (!parse_size(optarg, 784, 1u << 28, &v)) goto bad; o->max_pixels = (size_t)v; break;
        case 'n': if (!parse_size(optarg, 1, 4096, &v)) goto bad; o->max_batch = (int)v; break;
        case 'q': o->quiet = true; break;
        case 'S': o->no_supervise = true; break;
        case 'P': snprintf(o->pid_file, sizeof o->pid_file, "%s", optarg); break;
        case 'h': usage(stdout); return 1;
        case 'V': printf("mnist-fcgi (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 1;
        case ':': fprintf(stderr, "mnist-fcgi: %s needs a value (see --help)\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "mnist-fcgi: unknown option %s (see --help)\n", argv[optind - 1]); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "mnist-fcgi: invalid value '%s' for -%c (see --help)\n", optarg, c);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "mnist-fcgi: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

/* libfcgi ends each connection with a "lingering close": shutdown(), then wait until
 * lighttpd closes its end, so that request bytes still arriving cannot turn into a
 * reset that loses the answer. The wait holds the thread for a round trip through
 * lighttpd's event loop on every request. When the request's stdin has been read to
 * its end, nothing more can arrive: a detached request is closed at once. A refused
 * body left unread (413) keeps the lingering close. */
static void finish_request(FCGX_Request *req)
{
    if (FCGX_GetChar(req->in) == EOF && !FCGX_GetError(req->in))
        FCGX_Detach(req);
    FCGX_Finish_r(req);
}

static void *serve(void *arg)
{
    worker *w = arg;
    for (;;) {
        ACCEPT_LOCK();
        int rc = FCGX_Accept_r(&w->req);
        ACCEPT_UNLOCK();
        if (rc < 0)
            break; /* shutting down, or the listening socket is gone */
        worker_handle(w);
        finish_request(&w->req);
    }
    return NULL;
}

/* Writes this process's pid to PATH through a temporary file and a rename, so that a
 * reader (mnist-serve, at its stop signal) never sees a partial number. */
static bool write_pid_file(const char *path)
{
    char tmp[4200], text[32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return false;
    bool ok = fwrite(text, 1, (size_t)n, f) == (size_t)n;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return false;
    }
    return true;
}

/* Waits for the stop signal; SIGUSR1 on the way starts the drain. */
static int wait_for_stop(server *srv, const sigset_t *signals)
{
    for (;;) {
        int sig = 0;
        if (sigwait(signals, &sig) != 0)
            continue;
        if (sig != SIGUSR1)
            return sig;
        if (!atomic_exchange(&srv->draining, true))
            log_line("draining: /health answers 503, every answer closes its connection");
    }
}

/* The listening socket: --listen's, or fd 0 as lighttpd hands it over. 0 or an exit
 * status. */
static int open_listener(server *srv)
{
    if (srv->opts.listen[0]) {
        srv->listen_fd = FCGX_OpenSocket(srv->opts.listen, 128);
        if (srv->listen_fd < 0) {
            fprintf(stderr, "mnist-fcgi: cannot listen on %s\n", srv->opts.listen);
            return 71;
        }
    } else if (FCGX_IsCGI()) {
        fprintf(stderr, "mnist-fcgi: fd 0 is not a listening socket: run me from lighttpd "
                        "(bin-path) or spawn-fcgi, or give --listen\n");
        return 64;
    } else {
        srv->listen_fd = 0;
    }
    return 0;
}

/* Blocks the signals that sigwait takes (in the responder and every thread it starts;
 * blocked before the fork, so that no early SIGUSR1 kills the responder), writes the
 * pid file, and forks the responder: this process stays behind as the supervisor and
 * the call returns in the responder. 0 or an exit status. */
static int become_responder(server *srv, sigset_t *stop)
{
    sigemptyset(stop);
    sigaddset(stop, SIGTERM);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGHUP);
    sigaddset(stop, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
    if (srv->opts.pid_file[0] && !write_pid_file(srv->opts.pid_file)) {
        fprintf(stderr, "mnist-fcgi: cannot write %s: %s\n", srv->opts.pid_file,
                strerror(errno));
        return 73;
    }
    bool draining = false;
    if (!srv->opts.no_supervise && supervise(&draining) < 0) {
        fprintf(stderr, "mnist-fcgi: cannot fork the responder\n");
        return 71;
    }
    atomic_init(&srv->draining, draining);
    srv->svc.draining = &srv->draining;
    return 0;
}

/* The responder's threads: every worker is ready before any thread runs, so that
 * /metrics sees a fixed set. */
typedef struct workers {
    worker *w;
    pthread_t *tids;
    worker_stats **stats;
    int ready, started;
} workers;

static void workers_start(workers *ws, server *srv)
{
    const int n = srv->opts.threads;
    memset(ws, 0, sizeof *ws);
    ws->w = calloc((size_t)n, sizeof *ws->w);
    ws->tids = calloc((size_t)n, sizeof *ws->tids);
    ws->stats = calloc((size_t)n, sizeof *ws->stats);
    for (; ws->w && ws->tids && ws->stats && ws->ready < n; ws->ready++) {
        worker *w = &ws->w[ws->ready];
        if (!worker_init(w, &srv->svc, srv->listen_fd, srv->opts.quiet)) {
            worker_free(w);
            break;
        }
        ws->stats[ws->ready] = &w->stats;
    }
    srv->svc.metrics = (metrics_source){ws->stats, ws->ready, route_labels, ROUTE_COUNT};
    while (ws->started < ws->ready &&
           pthread_create(&ws->tids[ws->started], NULL, serve, &ws->w[ws->started]) == 0)
        ws->started++;
}

static void workers_stop(workers *ws)
{
    for (int i = 0; i < ws->started; i++)
        pthread_join(ws->tids[i], NULL);
    for (int i = 0; i < ws->ready; i++)
        worker_free(&ws->w[i]);
    free(ws->w);
    free(ws->tids);
    free(ws->stats);
}

static void service_init(service *svc, const server_options *o)
{
    svc->started = mn_clock_seconds();
    svc->max_body = o->max_body;
    svc->max_pixels = o->max_pixels;
    svc->max_batch = o->max_batch;
    svc->store = model_store_create(o->model_path, o->reload_interval_ms);
}

int main(int argc, char **argv)
{
    server srv;
    memset(&srv, 0, sizeof srv);
    switch (parse_options(&srv.opts, argc, argv)) {
    case 1: return 0;
    case 2: return 64;
    }
#ifdef _OPENMP
    omp_set_num_threads(1); /* parallelism comes from the worker threads */
#endif
    mn_gemm_single_threaded(); /* and so for OpenBLAS */
    if (FCGX_Init() != 0) {
        fprintf(stderr, "mnist-fcgi: FCGX_Init failed\n");
        return 70;
    }
    sigset_t stop;
    int rc = open_listener(&srv);
    if (!rc)
        rc = become_responder(&srv, &stop);
    if (rc)
        return rc;

    signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is not fatal */
    service_init(&srv.svc, &srv.opts);
    if (!srv.svc.store) {
        fprintf(stderr, "mnist-fcgi: out of memory\n");
        return 70;
    }
    workers ws;
    workers_start(&ws, &srv);
    if (ws.started == 0) {
        fprintf(stderr, "mnist-fcgi: cannot start worker threads\n");
        return 70;
    }
    log_line("ready: %d threads, model %s, max body %zu bytes", ws.started, srv.opts.model_path,
             srv.opts.max_body);

    int sig = wait_for_stop(&srv, &stop);
    log_line("signal %d: finishing requests in flight and exiting", sig);
    FCGX_ShutdownPending();
    shutdown(srv.listen_fd, SHUT_RDWR); /* wakes the threads blocked in accept() */
    workers_stop(&ws);
    model_store_destroy(srv.svc.store);
    return 0;
}
