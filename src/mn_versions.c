#include "config.h"

#include "mn_versions.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn_atomic.h"
#include "mn_model.h"
#include "mn_sha256.h"

static const char MODEL_EXT[] = ".safetensors";
static const char REPORT_EXT[] = ".report.json";
#define VERSIONS_DIR "versions" /* beside the stable path; link targets are relative to it */
/* How many NAME.tmp.PID.N names to try for a new link (as mn_atomic does for files). */
#define LINK_TMP_ATTEMPTS 16

static mn_status fail_errno(mn_error *err, const char *step, const char *name, int e)
{
    return mn_fail(err, MN_ERR_IO, "%s %s: %s", step, name, strerror(e));
}

static bool fits(int n, size_t size)
{
    return n >= 0 && (size_t)n < size;
}

mn_status mn_versions_layout(const char *stable, mn_version_layout *l, mn_error *err)
{
    if (!stable || !*stable)
        return mn_fail(err, MN_ERR_ARG, "versions: empty model path");
    const char *slash = strrchr(stable, '/');
    const char *base = slash ? slash + 1 : stable;
    size_t n = strlen(base), e = sizeof MODEL_EXT - 1;
    if (!*base)
        return mn_fail(err, MN_ERR_ARG, "%s: names a directory, not a model file", stable);
    if (n > e && strcmp(base + n - e, MODEL_EXT) == 0)
        n -= e;
    /* DIR is what precedes the last slash: "/" for "/name", "." for a bare name */
    int dirlen = !slash ? 1 : slash == stable ? 1 : (int)(slash - stable);
    bool ok = n < sizeof l->stem &&
              fits(snprintf(l->stable, sizeof l->stable, "%s", stable), sizeof l->stable) &&
              fits(snprintf(l->dir, sizeof l->dir, "%.*s", dirlen, slash ? stable : "."),
                   sizeof l->dir) &&
              fits(snprintf(l->versions, sizeof l->versions, "%s/%s",
                            strcmp(l->dir, "/") ? l->dir : "", VERSIONS_DIR),
                   sizeof l->versions) &&
              fits(snprintf(l->stable_report, sizeof l->stable_report, "%.*s%.*s%s",
                            (int)(base - stable), stable, (int)n, base, REPORT_EXT),
                   sizeof l->stable_report);
    if (!ok)
        return mn_fail(err, MN_ERR_ARG, "%s: the path is too long for its versions", stable);
    memcpy(l->stem, base, n);
    l->stem[n] = '\0';
    return MN_OK;
}

mn_status mn_versions_file(const mn_version_layout *l, const char *version,
                           mn_version_kind kind, char *out, size_t size, mn_error *err)
{
    const char *ext = kind == MN_VERSION_MODEL ? MODEL_EXT : REPORT_EXT;
    if (!fits(snprintf(out, size, "%s/%s.%s%s", l->versions, l->stem, version, ext), size))
        return mn_fail(err, MN_ERR_ARG, "%s: the path is too long for its versions", l->stable);
    return MN_OK;
}

void mn_versions_of_buffer(const void *data, size_t len, char version[MN_VERSION_CHARS + 1])
{
    char hex[MN_SHA256_HEX_SIZE];
    mn_sha256_buffer_hex(data, len, hex);
    memcpy(version, hex, MN_VERSION_CHARS);
    version[MN_VERSION_CHARS] = '\0';
}

/* The version in NAME when NAME is STEM.<12 lowercase hex digits>EXT. */
static bool version_in_name(const char *stem, const char *name, const char *ext,
                            char version[MN_VERSION_CHARS + 1])
{
    size_t s = strlen(stem), e = strlen(ext), n = strlen(name);
    if (n != s + 1 + MN_VERSION_CHARS + e || strncmp(name, stem, s) != 0 || name[s] != '.' ||
        strcmp(name + n - e, ext) != 0)
        return false;
    const char *v = name + s + 1;
    if (strspn(v, "0123456789abcdef") < MN_VERSION_CHARS)
        return false;
    memcpy(version, v, MN_VERSION_CHARS);
    version[MN_VERSION_CHARS] = '\0';
    return true;
}

/* True when the stable link's TARGET is one we make: "versions/NAME.<version>.safetensors". */
static bool our_link(const mn_version_layout *l, const char *target,
                     char version[MN_VERSION_CHARS + 1])
{
    size_t d = sizeof VERSIONS_DIR - 1;
    return strncmp(target, VERSIONS_DIR, d) == 0 && target[d] == '/' &&
           version_in_name(l->stem, target + d + 1, MODEL_EXT, version);
}

/* Our link's version, or "" when the stable path is not one of our links. */
static mn_status link_version(const mn_version_layout *l, char version[MN_VERSION_CHARS + 1],
                              mn_error *err)
{
    char target[MN_VERSIONS_PATH_MAX];
    version[0] = '\0';
    ssize_t n = readlink(l->stable, target, sizeof target - 1);
    if (n < 0)
        return errno == EINVAL || errno == ENOENT ? MN_OK
                                                  : fail_errno(err, "readlink", l->stable, errno);
    target[n] = '\0';
    if (!our_link(l, target, version))
        version[0] = '\0';
    return MN_OK;
}

static mn_status hash_fd(int fd, const char *path, char version[MN_VERSION_CHARS + 1],
                         mn_error *err)
{
    mn_sha256 h;
    mn_sha256_init(&h);
    unsigned char buf[1 << 16];
    for (off_t at = 0;;) {
        ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(err, "read", path, errno);
        if (n == 0)
            break;
        mn_sha256_update(&h, buf, (size_t)n);
        at += n;
    }
    uint8_t digest[MN_SHA256_DIGEST_SIZE];
    char hex[MN_SHA256_HEX_SIZE];
    mn_sha256_final(&h, digest);
    mn_sha256_hex(digest, hex);
    memcpy(version, hex, MN_VERSION_CHARS);
    version[MN_VERSION_CHARS] = '\0';
    return MN_OK;
}

/* Reads the whole regular file FD (at most MN_MODEL_MAX_FILE_BYTES) into *OUT. */
static mn_status read_fd(int fd, const char *path, uint8_t **out, size_t *len, mn_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return fail_errno(err, "stat", path, errno);
    if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > MN_MODEL_MAX_FILE_BYTES)
        return mn_fail(err, MN_ERR_FORMAT, "%s: not a regular file of at most %zu bytes", path,
                       MN_MODEL_MAX_FILE_BYTES);
    size_t size = (size_t)sb.st_size, got = 0;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return mn_fail(err, MN_ERR_NOMEM, "%s: out of memory", path);
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            mn_status st = n ? fail_errno(err, "read", path, errno)
                             : mn_fail(err, MN_ERR_IO, "read %s: the file shrank", path);
            free(buf);
            return st;
        }
        got += (size_t)n;
    }
    *out = buf;
    *len = size;
    return MN_OK;
}

static mn_status sync_dir(const char *dir, mn_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail_errno(err, "open directory", dir, errno);
    int rc;
    do {
        rc = fsync(fd);
    } while (rc != 0 && errno == EINTR);
    int e = errno;
    close(fd);
    /* EINVAL: this file system cannot sync directories; the rename is all we can do */
    return rc != 0 && e != EINVAL ? fail_errno(err, "fsync directory", dir, e) : MN_OK;
}

static mn_status make_versions_dir(const mn_version_layout *l, mn_error *err)
{
    if (mkdir(l->versions, 0755) == 0)
        return sync_dir(l->dir, err); /* the new directory's entry must survive a crash */
    struct stat sb;
    if (errno == EEXIST && stat(l->versions, &sb) == 0 && S_ISDIR(sb.st_mode))
        return MN_OK;
    return fail_errno(err, "create directory", l->versions, errno == EEXIST ? ENOTDIR : errno);
}

int mn_versions_lock(const mn_version_layout *l, mn_error *err)
{
    if (make_versions_dir(l, err))
        return -1;
    int fd = open(l->versions, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        fail_errno(err, "open directory", l->versions, errno);
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        fail_errno(err, "lock", l->versions, errno);
        close(fd);
        return -1;
    }
    return fd;
}

void mn_versions_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

static int newest_first(const void *a, const void *b)
{
    const mn_version_entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
    return strcmp(x->version, y->version);
}

static mn_status append(mn_versions *v, size_t *cap, const mn_version_entry *e, mn_error *err)
{
    if (v->count == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        mn_version_entry *items = realloc(v->items, n * sizeof *items);
        if (!items)
            return mn_fail(err, MN_ERR_NOMEM, "out of memory listing versions");
        v->items = items;
        *cap = n;
    }
    v->items[v->count++] = *e;
    return MN_OK;
}

/* The version files in DIR/versions (temporary files and other names are skipped). */
static mn_status scan(const mn_version_layout *l, mn_versions *v, mn_error *err)
{
    DIR *d = opendir(l->versions);
    if (!d)
        return errno == ENOENT ? MN_OK : fail_errno(err, "open directory", l->versions, errno);
    size_t cap = 0;
    mn_status st = MN_OK;
    struct dirent *de;
    while (!st && (de = readdir(d)) != NULL) {
        mn_version_entry e;
        struct stat sb;
        if (!version_in_name(l->stem, de->d_name, MODEL_EXT, e.version))
            continue;
        /* removed since readdir, or not a file: not a version anyone can switch to */
        if (fstatat(dirfd(d), de->d_name, &sb, 0) != 0 || !S_ISREG(sb.st_mode))
            continue;
        e.mtime = sb.st_mtim;
        st = append(v, &cap, &e, err);
    }
    closedir(d);
    if (v->count > 1)
        qsort(v->items, v->count, sizeof *v->items, newest_first);
    return st;
}

/* When the stable path is our link: its version, and *FD -1. Otherwise *FD opens the
 * file it names (-1 and "" when there is none). */
static mn_status open_unless_linked(const mn_version_layout *l,
                                    char version[MN_VERSION_CHARS + 1], int *fd, mn_error *err)
{
    *fd = -1;
    mn_status st = link_version(l, version, err);
    if (st || version[0])
        return st;
    *fd = open(l->stable, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? MN_OK : fail_errno(err, "open", l->stable, errno);
    return MN_OK;
}

/* The stable path's version: our link's, else that of the file it opens ("" if none). */
static mn_status current_version(const mn_version_layout *l, char version[MN_VERSION_CHARS + 1],
                                 mn_error *err)
{
    int fd;
    mn_status st = open_unless_linked(l, version, &fd, err);
    if (st || fd < 0)
        return st;
    st = hash_fd(fd, l->stable, version, err);
    close(fd);
    return st;
}

mn_status mn_versions_list(const mn_version_layout *l, mn_versions *v, mn_error *err)
{
    memset(v, 0, sizeof *v);
    mn_status st = current_version(l, v->current_version, err);
    if (!st)
        st = scan(l, v, err);
    if (st) {
        mn_versions_free(v);
        return st;
    }
    v->current = v->count;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i].version, v->current_version) == 0)
            v->current = i;
    return MN_OK;
}

void mn_versions_free(mn_versions *v)
{
    free(v->items);
    v->items = NULL;
    v->count = v->current = 0;
}

mn_status mn_versions_resolve(const mn_versions *v, const char *version, size_t *index,
                              mn_error *err)
{
    char want[MN_VERSION_CHARS + 1];
    size_t n = strlen(version);
    if (n < MN_VERSION_MIN_PREFIX || n > MN_VERSION_CHARS ||
        strspn(version, "0123456789abcdefABCDEF") != n)
        return mn_fail(err, MN_ERR_ARG, "'%s' is not a version: %d to %d hex digits", version,
                       MN_VERSION_MIN_PREFIX, MN_VERSION_CHARS);
    for (size_t i = 0; i <= n; i++)
        want[i] = (char)tolower((unsigned char)version[i]);
    size_t found = v->count;
    for (size_t i = 0; i < v->count; i++) {
        if (strncmp(v->items[i].version, want, n) != 0)
            continue;
        if (found != v->count)
            return mn_fail(err, MN_ERR_FORMAT, "version %s is ambiguous: %s and %s", want,
                           v->items[found].version, v->items[i].version);
        found = i;
    }
    if (found == v->count)
        return mn_fail(err, MN_ERR_FORMAT, "no version %s is kept", want);
    *index = found;
    return MN_OK;
}

mn_status mn_versions_previous(const mn_versions *v, size_t *index, mn_error *err)
{
    if (v->current == v->count)
        return mn_fail(err, MN_ERR_FORMAT, "the current model (%s) is not a kept version",
                       v->current_version[0] ? v->current_version : "none");
    if (v->current + 1 >= v->count)
        return mn_fail(err, MN_ERR_FORMAT, "%s is the oldest kept version: nothing to roll back to",
                       v->current_version);
    *index = v->current + 1; /* the list is newest first */
    return MN_OK;
}

mn_status mn_versions_check(const mn_version_layout *l, const char *version, mn_error *err)
{
    char path[MN_VERSIONS_PATH_MAX];
    mn_status st = mn_versions_file(l, version, MN_VERSION_MODEL, path, sizeof path, err);
    if (st)
        return st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_errno(err, "open", path, errno);
    uint8_t *buf = NULL;
    size_t len = 0;
    st = read_fd(fd, path, &buf, &len, err);
    close(fd);
    if (st)
        return st;
    char got[MN_VERSION_CHARS + 1];
    mn_versions_of_buffer(buf, len, got);
    mn_params p;
    mn_error inner;
    if (strcmp(got, version) != 0) {
        st = mn_fail(err, MN_ERR_FORMAT, "%s: damaged: its content is version %s, not %s", path,
                     got, version);
    } else if ((st = mn_params_alloc(&p, err)) == MN_OK) {
        /* the same load mnist-fcgi makes of the bytes it read: every check of the format */
        if (mn_model_load_memory(buf, len, &p, NULL, &inner))
            st = mn_fail(err, MN_ERR_FORMAT, "%s: %s", path, inner.msg);
        mn_params_free(&p);
    }
    free(buf);
    return st;
}

mn_status mn_versions_write(const mn_version_layout *l, const void *data, size_t len,
                            char version[MN_VERSION_CHARS + 1], mn_error *err)
{
    char path[MN_VERSIONS_PATH_MAX];
    mn_versions_of_buffer(data, len, version);
    mn_status st = mn_versions_file(l, version, MN_VERSION_MODEL, path, sizeof path, err);
    if (!st)
        st = make_versions_dir(l, err);
    return st ? st : mn_atomic_write(path, data, len, err);
}

/* Copies FD to PATH atomically with FD's times: retention and rollback order versions
 * by mtime, and a kept file is as old as it was. */
static mn_status copy_fd(int fd, const char *from, const char *path, mn_error *err)
{
    struct stat sb;
    uint8_t *buf = NULL;
    size_t len = 0;
    mn_status st = fstat(fd, &sb) != 0 ? fail_errno(err, "stat", from, errno)
                                       : read_fd(fd, from, &buf, &len, err);
    if (!st)
        st = mn_atomic_write(path, buf, len, err);
    free(buf);
    struct timespec times[2] = {sb.st_atim, sb.st_mtim};
    if (!st && utimensat(AT_FDCWD, path, times, 0) != 0)
        st = fail_errno(err, "set the times of", path, errno);
    return st;
}

/* Keeps the file open as FD as version file PATH unless one exists: a hard link to
 * that very file (the bytes hashed, whatever happened to its name since), else a copy. */
static mn_status keep_fd(const mn_version_layout *l, int fd, const char *from, const char *path,
                         mn_error *err)
{
    if (access(path, F_OK) == 0)
        return MN_OK; /* the same content is kept already (the name is its hash) */
    mn_status st = make_versions_dir(l, err);
    if (st)
        return st;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
        return sync_dir(l->versions, err);
    return copy_fd(fd, from, path, err); /* no /proc, no hard links, another file system */
}

/* Keeps the stable report, when it is not our link, as the report of VERSION. */
static mn_status keep_report(const mn_version_layout *l, const char *version, mn_error *err)
{
    char target[MN_VERSIONS_PATH_MAX], path[MN_VERSIONS_PATH_MAX];
    ssize_t n = readlink(l->stable_report, target, sizeof target - 1);
    if (n >= 0 && (size_t)n > sizeof VERSIONS_DIR && !strncmp(target, VERSIONS_DIR "/",
                                                              sizeof VERSIONS_DIR))
        return MN_OK;
    int fd = open(l->stable_report, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? MN_OK : fail_errno(err, "open", l->stable_report, errno);
    mn_status st = mn_versions_file(l, version, MN_VERSION_REPORT, path, sizeof path, err);
    if (!st)
        st = keep_fd(l, fd, l->stable_report, path, err);
    close(fd);
    return st;
}

/* A stable file that is not our link (an older trainer's regular file, a copy made by
 * hand, a link elsewhere) becomes a version first, with its report, so that switching
 * away from it loses nothing. Returns the version the stable path serves ("" if none). */
static mn_status keep_stable(const mn_version_layout *l, char version[MN_VERSION_CHARS + 1],
                             mn_error *err)
{
    int fd;
    mn_status st = open_unless_linked(l, version, &fd, err);
    if (st || fd < 0)
        return st;
    char path[MN_VERSIONS_PATH_MAX];
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        st = fail_errno(err, "stat", l->stable, errno);
    else if (!S_ISREG(sb.st_mode))
        st = mn_fail(err, MN_ERR_FORMAT, "%s: not a regular file", l->stable);
    if (!st)
        st = hash_fd(fd, l->stable, version, err);
    if (!st)
        st = mn_versions_file(l, version, MN_VERSION_MODEL, path, sizeof path, err);
    if (!st)
        st = keep_fd(l, fd, l->stable, path, err);
    close(fd);
    return st ? st : keep_report(l, version, err);
}

/* Points the link NAME at TARGET (relative to NAME's directory DIR): a new link under a
 * temporary name, renamed over NAME, so a reader opens the old target or the new one. */
static mn_status replace_link(const char *name, const char *target, const char *dir,
                              mn_error *err)
{
    char tmp[MN_VERSIONS_PATH_MAX + 64];
    long pid = (long)getpid();
    for (int attempt = 0;; attempt++) {
        if (attempt == 0)
            snprintf(tmp, sizeof tmp, "%s.tmp.%ld", name, pid);
        else
            snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%d", name, pid, attempt);
        if (symlink(target, tmp) == 0)
            break;
        /* an existing name may be another writer's: never removed, another is tried */
        if (errno != EEXIST || attempt == LINK_TMP_ATTEMPTS)
            return fail_errno(err, "create link", tmp, errno);
    }
    if (rename(tmp, name) != 0) {
        int e = errno;
        unlink(tmp);
        return mn_fail(err, MN_ERR_IO, "rename %s to %s: %s", tmp, name, strerror(e));
    }
    return sync_dir(dir, err);
}

/* Points the stable report at VERSION's report; without one, removes our stable report
 * link rather than leave it naming another version's report. */
static mn_status point_report(const mn_version_layout *l, const char *version, mn_error *err)
{
    char path[MN_VERSIONS_PATH_MAX], rel[MN_VERSIONS_PATH_MAX];
    mn_status st = mn_versions_file(l, version, MN_VERSION_REPORT, path, sizeof path, err);
    if (st)
        return st;
    if (access(path, F_OK) == 0) {
        snprintf(rel, sizeof rel, "%s/%s.%s%s", VERSIONS_DIR, l->stem, version, REPORT_EXT);
        return replace_link(l->stable_report, rel, l->dir, err);
    }
    struct stat sb;
    if (lstat(l->stable_report, &sb) != 0 || !S_ISLNK(sb.st_mode))
        return MN_OK;
    if (unlink(l->stable_report) != 0 && errno != ENOENT)
        return fail_errno(err, "remove", l->stable_report, errno);
    return sync_dir(l->dir, err);
}

/* The order: the stable file is kept first (nothing is lost), then the report link,
 * then the model link, the switch that matters: everything that can fail happens
 * before it, so a failure leaves the old model served (its report link put back), and
 * once the model link is switched the new version is published in full. */
mn_status mn_versions_switch(const mn_version_layout *l, const char *version, mn_error *err)
{
    char path[MN_VERSIONS_PATH_MAX], rel[MN_VERSIONS_PATH_MAX], old[MN_VERSION_CHARS + 1];
    struct stat sb;
    mn_status st = mn_versions_file(l, version, MN_VERSION_MODEL, path, sizeof path, err);
    if (st)
        return st;
    if (stat(path, &sb) != 0)
        return fail_errno(err, "stat", path, errno);
    if (!fits(snprintf(rel, sizeof rel, "%s/%s.%s%s", VERSIONS_DIR, l->stem, version, MODEL_EXT),
              sizeof rel))
        return mn_fail(err, MN_ERR_ARG, "%s: the path is too long for its versions", l->stable);
    st = keep_stable(l, old, err);
    if (!st)
        st = point_report(l, version, err);
    if (!st) {
        st = replace_link(l->stable, rel, l->dir, err);
        if (st && old[0])
            point_report(l, old, NULL); /* best effort: the old model keeps its report */
    }
    return st;
}

/* Removes one version's files unless the stable path points to it now. */
static mn_status remove_version(const mn_version_layout *l, const char *version, bool *removed,
                                mn_error *err)
{
    char current[MN_VERSION_CHARS + 1], path[MN_VERSIONS_PATH_MAX];
    *removed = false;
    mn_status st = current_version(l, current, err);
    if (st || strcmp(current, version) == 0)
        return st;
    st = mn_versions_file(l, version, MN_VERSION_MODEL, path, sizeof path, err);
    if (!st && unlink(path) != 0 && errno != ENOENT)
        st = fail_errno(err, "remove", path, errno);
    if (st)
        return st;
    *removed = true;
    st = mn_versions_file(l, version, MN_VERSION_REPORT, path, sizeof path, err);
    if (!st && unlink(path) != 0 && errno != ENOENT)
        st = fail_errno(err, "remove", path, errno);
    return st;
}

mn_status mn_versions_prune(const mn_version_layout *l, size_t keep, size_t *removed,
                            mn_error *err)
{
    mn_versions v;
    size_t gone = 0, kept = 0;
    mn_status first = mn_versions_list(l, &v, err);
    if (removed)
        *removed = 0;
    if (first)
        return first;
    for (size_t i = 0; i < v.count; i++) {
        if (i == v.current || kept++ < keep)
            continue;
        mn_error e;
        bool done;
        mn_status st = remove_version(l, v.items[i].version, &done, &e);
        gone += done;
        if (st && !first) {
            first = st;
            if (err)
                *err = e;
        }
    }
    mn_versions_free(&v);
    if (!first && gone)
        first = sync_dir(l->versions, err);
    if (removed)
        *removed = gone;
    return first;
}
