/* The route table and the small handlers: health, liveness, metrics, the training
 * report, not found. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handlers.h"
#include "http.h"
#include "log.h"

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void iso_time(time_t t, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A metadata value as a JSON number when it is one, else as a string. */
static void meta_number(out_buf *o, const mn_metadata *meta, const char *key)
{
    const char *v = mn_metadata_get(meta, key);
    char *end;
    double d = v && *v ? strtod(v, &end) : 0.0;
    if (v && *v && *end == '\0')
        out_json_float(o, d);
    else if (v)
        out_json_string(o, v);
    else
        out_puts(o, "null");
}

void write_model_json(out_buf *o, const live_model *m, bool full)
{
    const char *created = mn_metadata_get(&m->meta, "created");
    out_puts(o, "{\"version\":");
    out_json_string(o, m->version);
    out_puts(o, ",\"created\":");
    if (created)
        out_json_string(o, created);
    else
        out_puts(o, "null");
    out_puts(o, ",\"test_accuracy\":");
    meta_number(o, &m->meta, "test_accuracy");
    if (full) {
        static const char *const numbers[] = {"test_loss", "epochs", "training_seconds",
                                              "train_images"};
        for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
            out_printf(o, ",\"%s\":", numbers[i]);
            meta_number(o, &m->meta, numbers[i]);
        }
        static const char *const strings[] = {"architecture", "dataset_sha256", "trainer_version"};
        for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
            const char *v = mn_metadata_get(&m->meta, strings[i]);
            out_printf(o, ",\"%s\":", strings[i]);
            if (v)
                out_json_string(o, v);
            else
                out_puts(o, "null");
        }
        char loaded[32];
        iso_time(m->loaded_at, loaded, sizeof loaded);
        out_printf(o, ",\"sha256\":\"%s\",\"file_bytes\":%zu,\"loaded_at\":\"%s\"", m->sha256,
                   m->file_bytes, loaded);
    }
    out_puts(o, "}");
}

/* More than the trainer keeps by default; a directory with more lists the newest. */
#define MAX_LISTED_VERSIONS 64

void write_versions_json(out_buf *o, model_store *store)
{
    mn_version_entry v[MAX_LISTED_VERSIONS];
    size_t n = model_store_versions(store, v, MAX_LISTED_VERSIONS);
    out_puts(o, "[");
    for (size_t i = 0; i < n; i++)
        out_printf(o, "%s\"%s\"", i ? "," : "", v[i].version);
    out_puts(o, "]");
}

static void handle_health(worker *w, http_request *r)
{
    live_model *m = model_store_acquire(w->srv->store);
    char error[600];
    time_t error_at;
    unsigned long loads, refused;
    model_store_status(w->srv->store, error, sizeof error, &error_at, &loads, &refused);
    out_buf *o = &w->out;
    out_reset(o);
    /* readiness: a draining service still answers, but asks to get no new traffic */
    bool draining = atomic_load(&w->srv->draining);
    int status = m && !draining ? 200 : 503;
    out_printf(o, "{\"status\":\"%s\"", draining ? "draining" : m ? "ok" : "unavailable");
    if (m) {
        out_puts(o, ",\"model\":");
        write_model_json(o, m, true);
    }
    out_puts(o, ",\"available_versions\":");
    write_versions_json(o, w->srv->store);
    if (error[0]) {
        /* without a model: why; with one: the last replacement that was refused */
        char at[32];
        iso_time(error_at, at, sizeof at);
        out_printf(o, ",\"%s\":{\"code\":\"%s\",\"message\":", m ? "last_reload_error" : "error",
                   m ? "model_refused" : "no_model");
        out_json_string(o, error);
        out_printf(o, ",\"at\":\"%s\"}", at);
    }
    out_printf(o, ",\"model_path\":");
    out_json_string(o, model_store_path(w->srv->store));
    out_printf(o, ",\"model_loads\":%lu,\"model_refusals\":%lu,\"uptime_seconds\":%.3f}", loads,
               refused, seconds_since(&w->srv->started));
    http_send_json(w, r, status, NULL);
    model_release(m);
}

static void handle_live(worker *w, http_request *r)
{
    out_reset(&w->out);
    out_printf(&w->out, "{\"status\":\"alive\",\"uptime_seconds\":%.3f}",
               seconds_since(&w->srv->started));
    http_send_json(w, r, 200, NULL);
}

static void handle_metrics(worker *w, http_request *r)
{
    out_reset(&w->out);
    metrics_write(&w->out, w->srv->stats, w->srv->nstats, w->srv->store,
                  seconds_since(&w->srv->started));
    http_send(w, r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
}

/* GET /model/report: the trainer's JSON report of the served version
 * (DIR/versions/NAME.VERSION.report.json) when it is kept, else the one beside the
 * model file (NAME.safetensors -> NAME.report.json); read fresh on each request. */
static void handle_report(worker *w, http_request *r)
{
    char path[4200];
    live_model *m = model_store_acquire(w->srv->store);
    bool versioned = m && model_store_version_report(w->srv->store, m->version, path, sizeof path) &&
                     access(path, F_OK) == 0;
    model_release(m);
    if (!versioned) {
        const char *model = model_store_path(w->srv->store);
        size_t n = strlen(model);
        static const char ext[] = ".safetensors";
        if (n > sizeof ext - 1 && strcmp(model + n - (sizeof ext - 1), ext) == 0)
            n -= sizeof ext - 1;
        snprintf(path, sizeof path, "%.*s.report.json", (int)n, model);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        http_send_error(w, r, 404, "no_report", NULL, "no training report beside the model: %s",
                        fd < 0 ? strerror(e) : "not a regular file");
        return;
    }
    out_reset(&w->out);
    size_t room = w->out.cap - 1;
    ssize_t got = st.st_size < (off_t)room ? read(fd, w->out.data, room) : -1;
    close(fd);
    if (got < 0 || (off_t)got != st.st_size) {
        http_send_error(w, r, 500, "report_unreadable", NULL, "the training report could not be read");
        return;
    }
    w->out.len = (size_t)got;
    w->out.data[got] = '\0';
    http_send_json(w, r, 200, NULL);
}

typedef struct route {
    const char *path;
    const char *methods;      /* the Allow header value */
    void (*handler)(worker *, http_request *);
    route_id id;
} route;

static const route routes[] = {
    {"/predict", "POST", handle_predict, ROUTE_PREDICT},
    {"/health", "GET, HEAD", handle_health, ROUTE_HEALTH},
    {"/health/live", "GET, HEAD", handle_live, ROUTE_LIVE},
    {"/metrics", "GET, HEAD", handle_metrics, ROUTE_METRICS},
    {"/model/report", "GET, HEAD", handle_report, ROUTE_REPORT},
};

static bool method_allowed(const char *method, const char *allowed)
{
    size_t n = strlen(method);
    for (const char *p = allowed; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, method, n) == 0)
            return true;
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

void handle_request(worker *w)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_request r;
    http_parse_request(w, &r);

    const route *found = NULL;
    route_id id = ROUTE_OTHER;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(r.path, routes[i].path) == 0)
            found = &routes[i];
    if (!strcmp(r.path, "/v2") || !strncmp(r.path, "/v2/", 4)) {
        id = handle_v2(w, &r);
    } else if (!found) {
        http_send_error(w, &r, 404, "not_found", NULL, "no route %s", r.path);
    } else if (!method_allowed(r.method, found->methods)) {
        char allow[64];
        snprintf(allow, sizeof allow, "Allow: %s\r\n", found->methods);
        http_send_error(w, &r, 405, "method_not_allowed", allow, "%s takes %s, not %s",
                        found->path, found->methods, r.method);
    } else {
        id = found->id;
        found->handler(w, &r);
    }
    double seconds = seconds_since(&t0);
    metrics_record(&w->stats, found ? found->id : id, r.status, seconds);
    if (!w->srv->opts.quiet)
        log_line("%s %s %d %.0fus", r.method, r.path, r.status, seconds * 1e6);
}
