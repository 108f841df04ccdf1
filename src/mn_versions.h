/* Model versions beside a stable path, for rollback.
 *
 * A model published to DIR/NAME.safetensors (the stable path, what mnist-fcgi serves)
 * lives in DIR/versions/NAME.<version>.safetensors, with its training report in
 * DIR/versions/NAME.<version>.report.json; <version> is the first 12 hex digits of the
 * model file's SHA-256, the version mnist-fcgi reports. The stable path is a relative
 * symbolic link "versions/NAME.<version>.safetensors", and DIR/NAME.report.json one to
 * the version's report, so readers of the stable names always open a complete file.
 *
 * Switching versions (publishing, rolling back) replaces each link by rename(), never
 * by unlink + symlink: a reader sees the old target or the new one, never no file.
 * A stable path that is not one of our links (a regular file from an older trainer, a
 * copy made by hand, a link elsewhere) is first kept as a version of its own, so that
 * nothing served before can be lost by a switch.
 *
 * Writers (the trainer, mnist-model) hold mn_versions_lock while they write, switch
 * and prune, so that a prune never deletes a version another writer is switching to.
 * Library rules: no printing; messages name the file and end with strerror. */
#ifndef MN_VERSIONS_H
#define MN_VERSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "mn_error.h"

#define MN_VERSION_CHARS 12       /* hex digits of a version */
#define MN_VERSION_MIN_PREFIX 4   /* the shortest prefix mn_versions_resolve accepts */
#define MN_VERSIONS_PATH_MAX 4096

/* The names that belong to one stable path. */
typedef struct mn_version_layout {
    char stable[MN_VERSIONS_PATH_MAX];         /* DIR/NAME.safetensors as given */
    char stable_report[MN_VERSIONS_PATH_MAX];  /* DIR/NAME.report.json */
    char dir[MN_VERSIONS_PATH_MAX];            /* DIR ("." for a bare name) */
    char versions[MN_VERSIONS_PATH_MAX];       /* DIR/versions */
    char stem[256];                            /* NAME: the base name less .safetensors */
} mn_version_layout;

typedef enum { MN_VERSION_MODEL, MN_VERSION_REPORT } mn_version_kind;

typedef struct mn_version_entry {
    char version[MN_VERSION_CHARS + 1];
    struct timespec mtime;                     /* when the version file was written */
} mn_version_entry;

/* The versions on disk, newest first (by the version file's mtime, then by name). */
typedef struct mn_versions {
    mn_version_entry *items;
    size_t count;
    size_t current;       /* index of the stable path's version; count when not listed */
    char current_version[MN_VERSION_CHARS + 1];   /* "" when there is no stable file */
} mn_versions;

/* Fills L for STABLE. Fails (MN_ERR_ARG) when a name does not fit. */
mn_status mn_versions_layout(const char *stable, mn_version_layout *l, mn_error *err);

/* DIR/versions/NAME.<VERSION>.safetensors or .report.json into OUT. */
mn_status mn_versions_file(const mn_version_layout *l, const char *version,
                           mn_version_kind kind, char *out, size_t size, mn_error *err);

/* The version of LEN bytes: the first 12 hex digits of their SHA-256. */
void mn_versions_of_buffer(const void *data, size_t len, char version[MN_VERSION_CHARS + 1]);

/* Creates DIR/versions if needed and takes an exclusive flock on it (waits for another
 * writer). Returns a descriptor to pass to mn_versions_unlock, or -1 and ERR. */
int mn_versions_lock(const mn_version_layout *l, mn_error *err);
void mn_versions_unlock(int fd);

/* Lists the versions and finds the current one: the target of our link, else the
 * version of the file the stable path opens. No versions directory: an empty list. */
mn_status mn_versions_list(const mn_version_layout *l, mn_versions *out, mn_error *err);
void mn_versions_free(mn_versions *v);

/* The entry VERSION names: all 12 digits or a unique prefix of at least 4.
 * MN_ERR_ARG: not hex or too short; MN_ERR_FORMAT: no such version, or ambiguous. */
mn_status mn_versions_resolve(const mn_versions *v, const char *version, size_t *index,
                              mn_error *err);

/* The rollback target by default: the newest version older than the current one.
 * MN_ERR_FORMAT when there is none (no current version in the list, or it is the
 * oldest). */
mn_status mn_versions_previous(const mn_versions *v, size_t *index, mn_error *err);

/* Checks that VERSION's file is a model mnist-fcgi would serve: a regular file whose
 * SHA-256 starts with VERSION and that mn_model_load accepts. MN_ERR_FORMAT (or
 * MN_ERR_IO for an unreadable file) with the reason otherwise. */
mn_status mn_versions_check(const mn_version_layout *l, const char *version, mn_error *err);

/* Writes LEN bytes of a model to its version file atomically (creating DIR/versions)
 * and returns its version. An existing file of that version is replaced (same bytes),
 * which also makes it the newest. The stable path is not touched. */
mn_status mn_versions_write(const mn_version_layout *l, const void *data, size_t len,
                            char version[MN_VERSION_CHARS + 1], mn_error *err);

/* Points the stable path at VERSION (its file must exist): keeps a stable file that is
 * not ours as a version first, then points the report link at VERSION's report (or
 * removes it when VERSION has none), then the model link. A failure before the model
 * link leaves the old model served with its report. */
mn_status mn_versions_switch(const mn_version_layout *l, const char *version, mn_error *err);

/* Keeps the current version and the KEEP newest others, removes the other version
 * files and their reports. Never removes what the stable path points to at the time
 * of each removal. Goes on past a failed removal; returns the first failure (callers
 * warn) and the number of versions removed in *REMOVED (may be NULL). */
mn_status mn_versions_prune(const mn_version_layout *l, size_t keep, size_t *removed,
                            mn_error *err);

#endif
