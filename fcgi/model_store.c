#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mn_calibrate.h"
#include "mn_deskew.h"
#include "mn_model.h"
#include "mn_sha256.h"
#include "model_store.h"

/* What identifies a version of the file on disk. */
typedef struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} file_id;

struct model_store {
    char path[4096];
    pthread_mutex_t lock;          /* guards current, the ids and the status below */
    live_model *current;
    file_id loaded, refused;       /* the file behind current; the last refused file */
    bool have_loaded, have_refused;
    char error[512];
    time_t error_at;
    unsigned long loads, refusals;

    mn_version_layout layout;      /* DIR/versions and the names in it */
    bool have_layout;
    mn_version_entry *available;   /* guarded by lock: the kept versions, newest first */
    size_t navailable;
    file_id versions_dir;          /* the watcher's last look at DIR/versions */

    int interval_ms;
    pthread_t watcher;
    bool watching;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stop;
};

static bool same_file(const file_id *a, const file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static file_id id_of(const struct stat *st)
{
    return (file_id){st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim};
}

void model_release(live_model *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        mn_params_free(&m->params);
        free(m);
    }
}

live_model *model_store_acquire(model_store *store)
{
    pthread_mutex_lock(&store->lock);
    live_model *m = store->current;
    if (m)
        atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&store->lock);
    return m;
}

static void set_error(model_store *store, const char *msg)
{
    size_t n = strnlen(msg, sizeof store->error - 1); /* truncation is fine for a status */
    memcpy(store->error, msg, n);
    store->error[n] = '\0';
    store->error_at = time(NULL);
}

/* Reads the whole file through the descriptor we stat'ed, so the bytes checked are
 * the bytes of the file identified (a rename in between cannot mix two files). */
static live_model *load_file(int fd, const struct stat *st, const char *path, mn_error *err)
{
    if (!S_ISREG(st->st_mode) || (size_t)st->st_size > MN_MODEL_MAX_FILE_BYTES) {
        mn_fail(err, MN_ERR_FORMAT, "%s: not a regular file of at most %zu bytes", path,
                MN_MODEL_MAX_FILE_BYTES);
        return NULL;
    }
    size_t size = (size_t)st->st_size, got = 0;
    uint8_t *buf = malloc(size ? size : 1);
    live_model *m = calloc(1, sizeof *m);
    if (!buf || !m) {
        mn_fail(err, MN_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            mn_fail(err, MN_ERR_IO, "%s: read: %s", path, n ? strerror(errno) : "file shrank");
            goto fail;
        }
        got += (size_t)n;
    }
    if (mn_params_alloc(&m->params, err))
        goto fail;
    mn_error inner;
    if (mn_model_load_memory(buf, size, &m->params, &m->meta, &inner)) {
        mn_fail(err, MN_ERR_FORMAT, "%s: %s", path, inner.msg);
        goto fail;
    }
    m->temperature = mn_model_temperature(&m->meta);
    m->temperature_low_res = mn_model_temperature_low_res(&m->meta);
    m->deskew = mn_model_deskews(&m->meta);
    uint8_t digest[MN_SHA256_DIGEST_SIZE];
    mn_sha256 h;
    mn_sha256_init(&h);
    mn_sha256_update(&h, buf, size);
    mn_sha256_final(&h, digest);
    mn_sha256_hex(digest, m->sha256);
    memcpy(m->version, m->sha256, 12);
    m->version[12] = '\0';
    mn_net_pack(&m->params, &m->packed);
    m->file_bytes = size;
    m->loaded_at = time(NULL);
    atomic_init(&m->refs, 1);
    free(buf);
    return m;
fail:
    free(buf);
    if (m)
        mn_params_free(&m->params);
    free(m);
    return NULL;
}

void live_model_predict(const live_model *m, mn_workspace *ws, float *input, int n,
                        bool low_res, float *probs)
{
    if (m->deskew)
        for (int i = 0; i < n; i++)
            mn_deskew(input + (size_t)i * MN_IMAGE_PIXELS);
    mn_net_predict_packed(&m->params, &m->packed, ws, input, n, probs);
    const double t = low_res ? m->temperature_low_res : m->temperature;
    if (t != 1.0)
        for (int i = 0; i < n; i++)
            mn_calibrate_apply(probs + (size_t)i * MN_NUM_CLASSES, MN_NUM_CLASSES, t);
}

/* Loads the file the path opens when it is new; true when it was swapped in. */
static bool poll_model(model_store *store)
{
    struct stat st;
    int fd = open(store->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        char msg[sizeof store->path + 128];
        snprintf(msg, sizeof msg, "no model at %s: %s", store->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        pthread_mutex_lock(&store->lock);
        if (!store->current && strncmp(store->error, msg, sizeof store->error - 1) != 0) {
            set_error(store, msg);
            log_line("model: %s", msg);
        }
        pthread_mutex_unlock(&store->lock);
        return false;
    }
    file_id id = id_of(&st);
    pthread_mutex_lock(&store->lock);
    bool known = (store->have_loaded && same_file(&id, &store->loaded)) ||
                 (store->have_refused && same_file(&id, &store->refused));
    pthread_mutex_unlock(&store->lock);
    if (known) {
        close(fd);
        return false;
    }

    /* loading happens outside the lock: requests keep being served meanwhile */
    mn_error err;
    live_model *m = load_file(fd, &st, store->path, &err);
    close(fd);
    pthread_mutex_lock(&store->lock);
    live_model *old = NULL;
    if (m) {
        old = store->current;
        store->current = m;
        store->loaded = id;
        store->have_loaded = true;
        store->loads++;
        store->error[0] = '\0';
        const char *acc = mn_metadata_get(&m->meta, "test_accuracy");
        log_line("model: loaded %s version %s (%zu bytes, test accuracy %s%%)%s", store->path,
                 m->version, m->file_bytes, acc ? acc : "?", old ? ", replacing the previous" : "");
    } else {
        store->refused = id;
        store->have_refused = true;
        store->refusals++;
        char msg[sizeof err.msg + 16];
        snprintf(msg, sizeof msg, "refused %s", err.msg);
        set_error(store, msg);
        log_line("model: %s%s", msg, store->current ? "; the current model keeps serving" : "");
    }
    pthread_mutex_unlock(&store->lock);
    model_release(old); /* freed once the last request using it finishes */
    return m != NULL;
}

/* Lists DIR/versions again when a model was just loaded or the directory changed (a
 * publish, a prune: entries come and go), so that /health and /v2 answer from memory. */
static void refresh_versions(model_store *store, bool loaded)
{
    struct stat st;
    file_id id;
    memset(&id, 0, sizeof id);
    if (!store->have_layout)
        return;
    if (stat(store->layout.versions, &st) == 0)
        id = id_of(&st);
    if (!loaded && same_file(&id, &store->versions_dir))
        return;
    store->versions_dir = id;
    mn_versions v;
    if (mn_versions_list(&store->layout, &v, NULL) != MN_OK)
        memset(&v, 0, sizeof v); /* unreadable: nothing to offer */
    pthread_mutex_lock(&store->lock);
    mn_version_entry *old = store->available;
    store->available = v.items;
    store->navailable = v.count;
    pthread_mutex_unlock(&store->lock);
    free(old);
}

bool model_store_poll(model_store *store)
{
    bool loaded = poll_model(store);
    refresh_versions(store, loaded);
    return loaded;
}

static void *watch(void *arg)
{
    model_store *store = arg;
    pthread_mutex_lock(&store->stop_lock);
    while (!store->stop) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += store->interval_ms / 1000;
        deadline.tv_nsec += (long)(store->interval_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        while (!store->stop &&
               pthread_cond_timedwait(&store->stop_cond, &store->stop_lock, &deadline) != ETIMEDOUT)
            ;
        if (store->stop)
            break;
        pthread_mutex_unlock(&store->stop_lock);
        model_store_poll(store);
        pthread_mutex_lock(&store->stop_lock);
    }
    pthread_mutex_unlock(&store->stop_lock);
    return NULL;
}

model_store *model_store_create(const char *path, int interval_ms)
{
    model_store *store = calloc(1, sizeof *store);
    if (!store)
        return NULL;
    snprintf(store->path, sizeof store->path, "%s", path);
    pthread_mutex_init(&store->lock, NULL);
    pthread_mutex_init(&store->stop_lock, NULL);
    pthread_cond_init(&store->stop_cond, NULL);
    store->interval_ms = interval_ms;
    store->have_layout = mn_versions_layout(path, &store->layout, NULL) == MN_OK;
    model_store_poll(store);
    if (interval_ms > 0 && pthread_create(&store->watcher, NULL, watch, store) == 0)
        store->watching = true;
    return store;
}

void model_store_destroy(model_store *store)
{
    if (!store)
        return;
    if (store->watching) {
        pthread_mutex_lock(&store->stop_lock);
        store->stop = true;
        pthread_cond_signal(&store->stop_cond);
        pthread_mutex_unlock(&store->stop_lock);
        pthread_join(store->watcher, NULL);
    }
    model_release(store->current);
    free(store->available);
    pthread_mutex_destroy(&store->lock);
    pthread_mutex_destroy(&store->stop_lock);
    pthread_cond_destroy(&store->stop_cond);
    free(store);
}

void model_store_status(model_store *store, char *error, size_t error_size,
                        time_t *error_at, unsigned long *loads, unsigned long *refused)
{
    pthread_mutex_lock(&store->lock);
    snprintf(error, error_size, "%s", store->error);
    *error_at = store->error_at;
    *loads = store->loads;
    *refused = store->refusals;
    pthread_mutex_unlock(&store->lock);
}

const char *model_store_path(const model_store *store)
{
    return store->path;
}

size_t model_store_versions(model_store *store, mn_version_entry *out, size_t max)
{
    pthread_mutex_lock(&store->lock);
    size_t n = store->navailable < max ? store->navailable : max;
    if (n)
        memcpy(out, store->available, n * sizeof *out);
    pthread_mutex_unlock(&store->lock);
    return n;
}

bool model_store_version_report(const model_store *store, const char *version, char *out,
                                size_t size)
{
    return store->have_layout &&
           mn_versions_file(&store->layout, version, MN_VERSION_REPORT, out, size, NULL) == MN_OK;
}
