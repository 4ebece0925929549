/*
 * Whole-file reads and atomic replacement (acme-client's serialise()).
 *
 * file_write_atomic() never leaves a half-written file at path: it writes a
 * temporary file in the same directory, fsyncs it, renames it over path and
 * fsyncs the directory. A crash at any point leaves either the old or the
 * new contents.
 */
#ifndef CR_FILEIO_H
#define CR_FILEIO_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Mode argument of file_write_atomic(): keep the mode of the file replaced. */
#define FILE_MODE_KEEP (-1)

/*
 * Reads the whole of path into out (appending). Files larger than max bytes
 * are refused with CR_ERR_SYS and errno EFBIG. On failure errno is set and
 * out is left as it was.
 */
enum cr_err file_read(const char *path, size_t max,
    struct buf *out) CR_MUST_CHECK;

/*
 * Atomically replaces path with len bytes of data. mode is the permission
 * of the new file, or FILE_MODE_KEEP to keep the replaced file's mode (0600
 * when path does not exist yet). The owner of a replaced file is kept when
 * the caller may set it. Returns CR_ERR_SYS with errno set on failure; the
 * temporary file is removed.
 */
enum cr_err file_write_atomic(const char *path, const void *data, size_t len,
    int mode) CR_MUST_CHECK;

/* Atomically copies src to dst with the given mode (or src's mode if KEEP). */
enum cr_err file_copy(const char *src, const char *dst, int mode) CR_MUST_CHECK;

/* fsyncs the directory that contains path (so a rename is durable). */
enum cr_err file_fsync_parent(const char *path) CR_MUST_CHECK;

/* fsyncs directory dir itself. */
enum cr_err file_fsync_dir(const char *dir) CR_MUST_CHECK;

/*
 * Creates dir and any missing parents with the given mode (like mkdir -p).
 * Existing directories are left as they are.
 */
enum cr_err file_mkdirs(const char *dir, mode_t mode) CR_MUST_CHECK;

/* True if path exists (any type, symlinks followed). */
bool file_exists(const char *path);

/* Returns "a/b" as a new string to free(); b absolute gives a copy of b. */
char *file_path_join(const char *a, const char *b);

#endif /* CR_FILEIO_H */
