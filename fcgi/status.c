#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn_clock.h"
#include "model_json.h"
#include "status.h"

/* Why there is no model, or which replacement was refused; nothing when all is well. */
static void write_store_error(out_buf *o, model_store *store, bool have_model,
                              unsigned long *loads, unsigned long *refused)
{
    char error[600];
    time_t error_at;
    model_store_status(store, error, sizeof error, &error_at, loads, refused);
    if (!error[0])
        return;
    char at[32];
    write_iso_time(error_at, at, sizeof at);
    const char *key = have_model ? "last_reload_error" : "error";
    const char *code = have_model ? "model_refused" : "no_model";
    out_printf(o, ",\"%s\":{\"code\":\"%s\",\"message\":", key, code);
    out_json_string(o, error);
    out_printf(o, ",\"at\":\"%s\"}", at);
}

void handle_health(http_exchange *x, const handler_env *env)
{
    const service *svc = env->svc;
    live_model *m = model_store_acquire(svc->store);
    out_buf *o = x->out;
    out_reset(o);
    /* readiness: a draining service still answers, but asks to get no new traffic */
    bool draining = atomic_load(svc->draining);
    out_printf(o, "{\"status\":\"%s\"", draining ? "draining" : m ? "ok" : "unavailable");
    if (m) {
        out_puts(o, ",\"model\":");
        write_model_json(o, m, true);
    }
    out_puts(o, ",\"available_versions\":");
    write_versions_json(o, svc->store);
    unsigned long loads, refused;
    write_store_error(o, svc->store, m != NULL, &loads, &refused);
    out_printf(o, ",\"model_path\":");
    out_json_string(o, model_store_path(svc->store));
    out_printf(o, ",\"model_loads\":%lu,\"model_refusals\":%lu,\"uptime_seconds\":%.3f}", loads,
               refused, mn_clock_elapsed(svc->started));
    http_send_json(x, m && !draining ? 200 : 503, NULL);
    model_release(m);
}

void handle_live(http_exchange *x, const handler_env *env)
{
    out_reset(x->out);
    out_printf(x->out, "{\"status\":\"alive\",\"uptime_seconds\":%.3f}",
               mn_clock_elapsed(env->svc->started));
    http_send_json(x, 200, NULL);
}

void handle_metrics(http_exchange *x, const handler_env *env)
{
    const service *svc = env->svc;
    out_reset(x->out);
    metrics_write(x->out, &svc->metrics, svc->store, mn_clock_elapsed(svc->started));
    http_send(x, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
}

/* The trainer's JSON report of the served version (DIR/versions/NAME.VERSION.report.json)
 * when it is kept, else the one beside the model file (NAME.safetensors ->
 * NAME.report.json). */
static void report_path(model_store *store, char *path, size_t size)
{
    live_model *m = model_store_acquire(store);
    bool versioned = m && model_store_version_report(store, m->version, path, size) &&
                     access(path, F_OK) == 0;
    model_release(m);
    if (versioned)
        return;
    const char *model = model_store_path(store);
    size_t n = strlen(model);
    static const char ext[] = ".safetensors";
    if (n > sizeof ext - 1 && strcmp(model + n - (sizeof ext - 1), ext) == 0)
        n -= sizeof ext - 1;
    snprintf(path, size, "%.*s.report.json", (int)n, model);
}

/* GET /model/report: read fresh on each request. */
void handle_report(http_exchange *x, const handler_env *env)
{
    char path[4200];
    report_path(env->svc->store, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        http_fail(x, 404, "no_report", NULL, "no training report beside the model: %s",
                  fd < 0 ? strerror(e) : "not a regular file");
        return;
    }
    out_buf *o = x->out;
    out_reset(o);
    size_t room = o->cap - 1;
    ssize_t got = st.st_size < (off_t)room ? read(fd, o->data, room) : -1;
    close(fd);
    if (got < 0 || (off_t)got != st.st_size) {
        http_fail(x, 500, "report_unreadable", NULL, "the training report could not be read");
        return;
    }
    o->len = (size_t)got;
    o->data[got] = '\0';
    http_send_json(x, 200, NULL);
}
