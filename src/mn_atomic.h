/* Atomic file replacement: a reader of PATH sees either the old file or the complete
 * new one, never a mix, and the new content survives a crash once the call returns.
 *
 * How: write PATH.tmp.PID in the same directory (created exclusively, mode 0644 less
 * the umask), fsync it, close it, rename it over PATH, fsync the directory. If
 * PATH.tmp.PID already exists (a stale file from a crashed process that had the same
 * PID, common in containers where the writer is PID 1), PATH.tmp.PID.1, .2, ... are
 * tried instead; an existing temporary file is never removed, since another writer
 * may own it.
 *
 * On failure before the rename, the temporary file is removed and PATH is untouched.
 * If only the final directory fsync fails, PATH already holds the new content (which
 * may not survive a power loss) and MN_ERR_IO is returned. Messages name the step and
 * the file and end with strerror, e.g.
 * "write /x/model.safetensors.tmp.123: No space left on device". */
#ifndef MN_ATOMIC_H
#define MN_ATOMIC_H

#include <stddef.h>
#include <sys/uio.h>

#include "mn_error.h"

/* Replaces PATH with the LEN bytes at DATA (DATA may be NULL when LEN is 0). */
mn_status mn_atomic_write(const char *path, const void *data, size_t len, mn_error *err);

/* Same, with the content given as IOVCNT buffers written one after the other, so a
 * large file need not be assembled in memory. Any number of buffers is allowed
 * (there is no IOV_MAX limit); zero-length buffers are skipped. */
mn_status mn_atomic_writev(const char *path, const struct iovec *iov, size_t iovcnt,
                           mn_error *err);

#endif
