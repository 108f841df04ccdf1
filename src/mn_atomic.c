#include "config.h"

#include "mn_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How many PATH.tmp.PID.N names to try after PATH.tmp.PID is taken. */
#define MN_ATOMIC_TMP_ATTEMPTS 16
/* Largest single write(2): Linux caps one call at about 2 GiB anyway. */
#define MN_ATOMIC_CHUNK ((size_t)1 << 30)

static mn_status fail_errno(mn_error *err, const char *step, const char *name, int e)
{
    return mn_fail(err, MN_ERR_IO, "%s %s: %s", step, name, strerror(e));
}

/* Creates the temporary file; on success *tmp_out is a malloc'ed name owned by the
 * caller and the descriptor is returned. */
static int create_temp(const char *path, char **tmp_out, mn_error *err)
{
    size_t cap = strlen(path) + 64;
    char *tmp = malloc(cap);
    if (!tmp) {
        mn_fail(err, MN_ERR_NOMEM, "out of memory for the name of %s.tmp", path);
        return -1;
    }
    long pid = (long)getpid();
    for (int attempt = 0; attempt <= MN_ATOMIC_TMP_ATTEMPTS; attempt++) {
        if (attempt == 0)
            snprintf(tmp, cap, "%s.tmp.%ld", path, pid);
        else
            snprintf(tmp, cap, "%s.tmp.%ld.%d", path, pid, attempt);
        int fd;
        do {
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        } while (fd < 0 && errno == EINTR);
        if (fd >= 0) {
            *tmp_out = tmp;
            return fd;
        }
        if (errno != EEXIST || attempt == MN_ATOMIC_TMP_ATTEMPTS) {
            fail_errno(err, "create", tmp, errno);
            free(tmp);
            return -1;
        }
    }
    free(tmp); /* not reached */
    return -1;
}

/* Writes all LEN bytes, continuing after short writes and EINTR. Returns 0 or an errno. */
static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        size_t chunk = len < MN_ATOMIC_CHUNK ? len : MN_ATOMIC_CHUNK;
        ssize_t n = write(fd, p, chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return EIO; /* no progress and no reason: do not loop forever */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Directory part of PATH ("." when there is none, "/" for "/name"); malloc'ed. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1;
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

static mn_status sync_dir(const char *path, mn_error *err)
{
    char *dir = dir_of(path);
    if (!dir)
        return mn_fail(err, MN_ERR_NOMEM, "out of memory for the directory of %s", path);
    int fd;
    do {
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        mn_status st = fail_errno(err, "open directory", dir, errno);
        free(dir);
        return st;
    }
    mn_status st = MN_OK;
    int rc;
    do {
        rc = fsync(fd);
    } while (rc != 0 && errno == EINTR);
    /* EINVAL: this file system cannot sync directories; the rename is all we can do. */
    if (rc != 0 && errno != EINVAL)
        st = fail_errno(err, "fsync directory", dir, errno);
    close(fd);
    free(dir);
    return st;
}

mn_status mn_atomic_writev(const char *path, const struct iovec *iov, size_t iovcnt,
                           mn_error *err)
{
    if (!path || !*path)
        return mn_fail(err, MN_ERR_ARG, "atomic write: empty path");
    if (iovcnt > 0 && !iov)
        return mn_fail(err, MN_ERR_ARG, "atomic write %s: no buffers", path);
    for (size_t i = 0; i < iovcnt; i++)
        if (iov[i].iov_len > 0 && !iov[i].iov_base)
            return mn_fail(err, MN_ERR_ARG, "atomic write %s: buffer %zu is NULL", path, i);

    char *tmp = NULL;
    int fd = create_temp(path, &tmp, err);
    if (fd < 0)
        return MN_ERR_IO;

    const char *step = NULL;
    int e = 0;
    for (size_t i = 0; i < iovcnt && !e; i++) {
        e = write_all(fd, iov[i].iov_base, iov[i].iov_len);
        if (e)
            step = "write";
    }
    if (!e) {
        int rc;
        do {
            rc = fsync(fd);
        } while (rc != 0 && errno == EINTR);
        if (rc != 0) {
            e = errno;
            step = "fsync";
        }
    }
    /* close() reports delayed write errors on some file systems (NFS); on Linux the
     * descriptor is gone even when it fails with EINTR, which is harmless after fsync. */
    if (close(fd) != 0 && errno != EINTR && !e) {
        e = errno;
        step = "close";
    }
    if (e) {
        mn_status st = fail_errno(err, step, tmp, e);
        unlink(tmp);
        free(tmp);
        return st;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        mn_status st = mn_fail(err, MN_ERR_IO, "rename %s to %s: %s", tmp, path, strerror(e));
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return sync_dir(path, err);
}

mn_status mn_atomic_write(const char *path, const void *data, size_t len, mn_error *err)
{
    if (len > 0 && !data)
        return mn_fail(err, MN_ERR_ARG, "atomic write %s: data is NULL", path ? path : "");
    struct iovec iov = { .iov_base = (void *)(uintptr_t)data, .iov_len = len };
    return mn_atomic_writev(path, &iov, len > 0 ? 1 : 0, err);
}
