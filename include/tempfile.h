/*
 * libtempfile: secure temporary files and directories for C, on the model of
 * Python's tempfile module.
 *
 * Conventions (see README.md and docs/architecture.md):
 *  - Every call that can fail returns -1 or NULL and sets errno, like mkstemp(3).
 *    A failed call leaves nothing behind: no descriptor, no file or directory,
 *    no memory.
 *  - Options are one struct whose zero value means Python's defaults; NULL means
 *    defaults too:  tf_named_temporary_file(&(tf_opts){ .prefix = "log_" }).
 *  - Every descriptor the library opens has FD_CLOEXEC.
 *  - Names are prefix + 8 characters of [a-z0-9_] from getrandom(2) + suffix.
 *  - Distinct handles may be used from distinct threads at once; one handle must
 *    not be used by two threads at once without the caller's own lock.
 */
#ifndef TEMPFILE_H
#define TEMPFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TF_BUILDING_LIBRARY)
#define TF_API __attribute__((visibility("default")))
#else
#define TF_API
#endif

#define TF_VERSION_MAJOR 0
#define TF_VERSION_MINOR 1
#define TF_VERSION_PATCH 0

/* Names tried before creation gives up with EEXIST (glibc's and Python's TMP_MAX). */
#define TF_TMP_MAX 238328

/* Length of the random part of every name, as in Python. */
#define TF_RANDOM_CHARS 8

/* tf_opts.flags */
enum {
    /* Python's delete=False: never remove the file or directory. */
    TF_KEEP = 1u << 0,
    /* Python's delete_on_close=False: a named file outlives tf_file_close()
     * and is removed by tf_file_release() instead. */
    TF_NO_DELETE_ON_CLOSE = 1u << 1,
    /* Python's ignore_cleanup_errors=True: directory cleanup removes what it
     * can and reports success. */
    TF_IGNORE_CLEANUP_ERRORS = 1u << 2,
};

/*
 * Options shared by every creating call. The zero value is Python's defaults.
 *  dir       directory to create in; NULL: tf_gettempdir(). A relative dir is
 *            made absolute against the working directory, as Python's abspath.
 *  prefix    NULL: tf_gettempprefix() ("tmp"). May not contain '/'.
 *  suffix    NULL: "". May not contain '/'.
 *  mode      permission bits. 0: 0600 for files, 0700 for directories, from
 *            which the umask may remove bits, as with mkstemp(3) and Python
 *            (never more permissive). Non-zero: applied exactly, whatever the
 *            umask (one more fchmod). Bits outside 07777: EINVAL.
 *  flags     TF_KEEP, TF_NO_DELETE_ON_CLOSE, TF_IGNORE_CLEANUP_ERRORS.
 *  max_size  tf_spooled_temporary_file() only: roll over to disk once the
 *            position passes this many bytes; 0 never rolls over by size.
 */
typedef struct tf_opts {
    const char *dir;
    const char *prefix;
    const char *suffix;
    mode_t mode;
    unsigned flags;
    size_t max_size;
} tf_opts;

/* ---------------------------------------------------------------------------
 * The default directory and prefix (Python: gettempdir, tempdir, gettempprefix)
 * ------------------------------------------------------------------------- */

/*
 * The directory temporaries go to by default: the override set with
 * tf_settempdir() if any, else the first usable of $TMPDIR, $TEMP, $TMP (read
 * with secure_getenv), /tmp, /var/tmp, /usr/tmp and the working directory.
 * "Usable" is proven by creating, writing and removing a probe file. The result
 * is computed once and cached; the returned string stays valid for the life of
 * the process.
 * Errors: ENOENT no candidate is usable; ENOMEM.
 */
TF_API const char *tf_gettempdir(void);

/*
 * Python's `tempfile.tempdir = dir`: use dir (copied, not checked) as the
 * default directory from now on. NULL forgets both the override and the cached
 * default, so the next tf_gettempdir() searches again.
 * Errors: ENOMEM.
 */
TF_API int tf_settempdir(const char *dir);

/* The default prefix, "tmp". Never fails. */
TF_API const char *tf_gettempprefix(void);

/*
 * The candidate directories tf_gettempdir() tries, in order, as a
 * NULL-terminated array of absolute paths. Free it with tf_strv_free().
 * Errors: ENOMEM.
 */
TF_API char **tf_candidate_tempdir_list(void);

/* Frees an array from tf_candidate_tempdir_list(). Accepts NULL. */
TF_API void tf_strv_free(char **strv);

/*
 * Fills buf with n random characters of [a-z0-9_] (no terminator), from the
 * kernel's CSPRNG. Never repeats across fork.
 * Errors: EINVAL buf is NULL; what getrandom(2) fails with.
 */
TF_API int tf_random_chars(char *buf, size_t n);

/* ---------------------------------------------------------------------------
 * Low-level creation (Python: mkstemp, mkdtemp, mktemp)
 * ------------------------------------------------------------------------- */

/*
 * Creates a new file with O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode
 * 0600 (or exactly opts->mode), and returns its descriptor. If path is not NULL, *path
 * receives the absolute path (free it with free()); it is written only on
 * success. The caller owns both and removes the file.
 * Retries a new name on EEXIST only, up to TF_TMP_MAX times.
 * Errors: EINVAL prefix or suffix contains '/', or a bad mode; ENOENT dir missing or no usable
 * default directory; ENOTDIR dir is not a directory; EACCES dir not writable;
 * ENAMETOOLONG the name or path would be too long; EEXIST TF_TMP_MAX names
 * taken; EMFILE, ENFILE, ENOSPC, EDQUOT, EROFS, ENOMEM and other open(2) errors.
 */
TF_API int tf_mkstemp(const tf_opts *opts, char **path);

/*
 * Creates a new directory, mode 0700 (or exactly opts->mode), and returns its absolute
 * path (free it with free()). The caller removes it (tf_rmtree()).
 * Errors: as tf_mkstemp(), with mkdir(2)'s.
 */
TF_API char *tf_mkdtemp(const tf_opts *opts);

/*
 * Returns an absolute path that did not exist when it was checked (free it with
 * free()). Racy by nature: another process may create the name before the
 * caller does. Present only because Python has it; use tf_mkstemp().
 * Errors: as tf_mkstemp().
 */
TF_API char *tf_mktemp(const tf_opts *opts)
    __attribute__((deprecated("racy: use tf_mkstemp() or tf_mkdtemp()")));

/* ---------------------------------------------------------------------------
 * Temporary files (Python: TemporaryFile, NamedTemporaryFile,
 * SpooledTemporaryFile). One handle type whatever backs it.
 * ------------------------------------------------------------------------- */

typedef struct tf_file tf_file;

/*
 * A file with no name: O_TMPFILE where the filesystem supports it (no name ever
 * appears in dir), else created with a random name and unlinked at once.
 * Removed by the kernel when its last descriptor closes.
 * Errors: as tf_mkstemp().
 */
TF_API tf_file *tf_temporary_file(const tf_opts *opts);

/*
 * A file with a visible name (tf_file_name()). When it is removed follows
 * Python's table:
 *   TF_KEEP                  never removed;
 *   (default)                removed by tf_file_close() (or release);
 *   TF_NO_DELETE_ON_CLOSE    removed by tf_file_release(); tf_file_close()
 *                            closes only the descriptor.
 * Errors: as tf_mkstemp().
 */
TF_API tf_file *tf_named_temporary_file(const tf_opts *opts);

/*
 * A file held in memory until it rolls over to a tf_temporary_file() made with
 * the same dir, prefix and suffix: after a write that leaves the position past
 * opts->max_size (if not 0), on tf_file_fileno(), on tf_file_truncate() to a
 * size above max_size, or on tf_file_rollover(). Memory is wiped before it is
 * freed. A rollover that fails loses nothing: the data stays in memory and the
 * call that triggered it fails with the rollover's errno.
 * Errors: EINVAL prefix or suffix contains '/'; ENOMEM.
 */
TF_API tf_file *tf_spooled_temporary_file(const tf_opts *opts);

/*
 * Reads up to n bytes at the current position; returns the count, 0 at the end.
 * Errors: EINVAL f or buf is NULL; EBADF f is closed; read(2)'s.
 */
TF_API ssize_t tf_file_read(tf_file *f, void *buf, size_t n);

/*
 * Writes all n bytes at the current position (a spooled file may roll over);
 * returns n. Writing past the end leaves a zero-filled gap.
 * Errors: EINVAL f or buf is NULL; EBADF f is closed; ENOMEM; write(2)'s and,
 * for a rollover, tf_temporary_file()'s.
 */
TF_API ssize_t tf_file_write(tf_file *f, const void *buf, size_t n);

/*
 * Moves the position as lseek(2) (SEEK_SET, SEEK_CUR, SEEK_END; past the end is
 * allowed) and returns the new one.
 * Errors: EINVAL f is NULL, bad whence or negative result; EBADF f is closed;
 * EOVERFLOW.
 */
TF_API off_t tf_file_seek(tf_file *f, off_t offset, int whence);

/* The current position. Errors: EINVAL f is NULL; EBADF f is closed. */
TF_API off_t tf_file_tell(tf_file *f);

/*
 * Sets the size to `size` (shrinks, or grows with zeros); the position does not
 * move, as in Python.
 * Errors: EINVAL f is NULL or size < 0; EBADF f is closed; ENOMEM;
 * ftruncate(2)'s and, for a rollover, tf_temporary_file()'s.
 */
TF_API int tf_file_truncate(tf_file *f, off_t size);

/*
 * The file's descriptor, owned by the handle (do not close it). Rolls a spooled
 * file over to disk first.
 * Errors: EINVAL f is NULL; EBADF f is closed; a rollover's errors.
 */
TF_API int tf_file_fileno(tf_file *f);

/*
 * The absolute path of a named file, owned by the handle; NULL with errno
 * ENOENT for a file that has no name (tf_temporary_file(), spooled), EINVAL
 * for a NULL f. Still answers after tf_file_close().
 */
TF_API const char *tf_file_name(const tf_file *f);

/*
 * Python's file.close(): closes the stream (if any) and the descriptor, frees
 * a spooled file's memory, and removes a named file unless TF_KEEP or
 * TF_NO_DELETE_ON_CLOSE. The handle stays valid for tf_file_name(),
 * tf_file_closed() and tf_file_release(). Closing twice is a no-op.
 * Errors: EINVAL f is NULL; close(2)'s or unlink(2)'s (the file is closed
 * all the same).
 */
TF_API int tf_file_close(tf_file *f);

/* 1 if tf_file_close() was called, 0 if not, -1 (EINVAL) for NULL. */
TF_API int tf_file_closed(const tf_file *f);

/*
 * Closes f if still open, removes its name unless TF_KEEP or tf_file_keep(),
 * and frees the handle. Accepts NULL (returns 0). The handle is gone even when
 * it returns -1.
 * Errors: close(2)'s or unlink(2)'s.
 */
TF_API int tf_file_release(tf_file *f);

/*
 * From now on the file is never removed by the library (Rust's keep()). Returns
 * 0. Errors: EINVAL f is NULL.
 */
TF_API int tf_file_keep(tf_file *f);

/*
 * A FILE * view of f (fopencookie), buffered by stdio; every call returns the
 * same stream until it is closed. The handle owns the file; the stream owns only
 * its buffer. fclose(stream) flushes and detaches the view, leaving the handle
 * open; tf_file_close() and tf_file_release() fclose a view still open. Between
 * using the stream and calling tf_file_* directly, fflush(stream).
 * Errors: EINVAL f is NULL; EBADF f is closed; ENOMEM.
 */
TF_API FILE *tf_file_stream(tf_file *f);

/*
 * Moves a spooled file to disk now (no-op if already there, or not spooled).
 * Errors: EINVAL f is NULL; EBADF f is closed; tf_temporary_file()'s.
 */
TF_API int tf_file_rollover(tf_file *f);

/*
 * 1 if f's data is on disk (always, for a file that is not spooled), 0 if in
 * memory, -1 (EINVAL) for NULL.
 */
TF_API int tf_file_rolled(const tf_file *f);

/* ---------------------------------------------------------------------------
 * Temporary directories (Python: TemporaryDirectory) and tree removal
 * ------------------------------------------------------------------------- */

typedef struct tf_dir tf_dir;

/*
 * Creates a directory as tf_mkdtemp() and holds a descriptor of it.
 * Errors: as tf_mkdtemp().
 */
TF_API tf_dir *tf_temporary_directory(const tf_opts *opts);

/* The absolute path, owned by the handle; NULL (EINVAL) for NULL d. */
TF_API const char *tf_dir_name(const tf_dir *d);

/*
 * A descriptor of the directory (O_DIRECTORY, owned by the handle) for openat()
 * and friends; -1 after cleanup. Errors: EINVAL d is NULL; EBADF cleaned up.
 */
TF_API int tf_dir_fileno(const tf_dir *d);

/*
 * Python's cleanup(): removes the directory and everything in it now, even with
 * TF_KEEP, as tf_rmtree() does. Cleaning up twice is a no-op.
 * Errors: EINVAL d is NULL; tf_rmtree()'s, unless TF_IGNORE_CLEANUP_ERRORS.
 */
TF_API int tf_dir_cleanup(tf_dir *d);

/* From now on the directory is never removed by release. EINVAL for NULL. */
TF_API int tf_dir_keep(tf_dir *d);

/*
 * Cleans up unless TF_KEEP or tf_dir_keep(), then frees the handle. Accepts
 * NULL (returns 0). The handle is gone even when it returns -1.
 * Errors: as tf_dir_cleanup().
 */
TF_API int tf_dir_release(tf_dir *d);

/*
 * Removes path and everything below it. Never follows a symbolic link (a link
 * is removed, not its target), never crosses into another filesystem, works
 * fd-relative with no recursion and at most TF_RMTREE_FDS descriptors whatever
 * the depth, and makes unreadable or unwritable directories owner-accessible
 * (0700) to empty them. Each step back up is checked against the device and
 * inode recorded on the way down.
 * flags: TF_IGNORE_CLEANUP_ERRORS removes what it can and returns 0.
 * Errors: EINVAL path is NULL or empty; ENOTDIR path is not a directory (it is
 * left alone); EXDEV a directory inside is another filesystem's; ESTALE a
 * directory was moved while cleanup ran (it stops there); ENOMEM; the errors of
 * openat(2), unlinkat(2), getdents64(2) and fchmod(2).
 */
TF_API int tf_rmtree(const char *path, unsigned flags);

/* tf_rmtree() of `name` relative to the directory descriptor dirfd. */
TF_API int tf_rmtreeat(int dirfd, const char *name, unsigned flags);

/* Descriptors tf_rmtree() holds at once, at most, whatever the tree's depth. */
#define TF_RMTREE_FDS 3

#ifdef __cplusplus
}
#endif

#endif /* TEMPFILE_H */
