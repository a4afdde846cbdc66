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
 *
 * Contents, in this order:
 *   Flags and options ............ enum tf_flags, tf_opts, how options grow
 *   The default directory ........ tf_gettempdir, tf_settempdir, tf_gettempprefix,
 *                                  tf_candidate_tempdir_list, tf_random_chars
 *   Low-level creation ........... tf_mkstemp, tf_mkdtemp, tf_mktemp
 *   Temporary files .............. tf_temporary_file, tf_named_temporary_file,
 *                                  tf_spooled_temporary_file, tf_file_* (read,
 *                                  write, seek, truncate, stream, close, release...)
 *   Temporary directories ........ tf_temporary_directory, tf_dir_*, tf_rmtree
 *   Cleanup ...................... tf_cleanup_install_signals, tf_cleanup_now
 *                                  (the reasoning: docs/cleanup.md)
 *   Orphans ...................... tf_sweep, tf_disk_usage
 *   Durable data ................. tf_file_persist, tf_linkable_temporary_file,
 *                                  tf_replace_begin, tf_file_commit,
 *                                  tf_replace_contents, tf_lock_file
 *   One byte at a time ........... tf_file_putc, tf_file_getc (inline)
 *   Secure deletion .............. tf_file_shred, tf_shred, tf_shredat, tf_shred_fd,
 *                                  tf_shred_tree, tf_shred_treeat, tf_shred_probe,
 *                                  tf_shred_reason
 *   Hand-over .................... tf_file_send, tf_file_recv, tf_file_spawn,
 *                                  tf_handoff_decode
 *   Adoption ..................... tf_file_adopt
 */
#ifndef TEMPFILE_H
#define TEMPFILE_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TF_BUILDING_LIBRARY)
#define TF_API __attribute__((visibility("default")))
#else
#define TF_API
#endif

/*
 * TF_MALLOC(release): the function returns a new object that release frees,
 * so that GCC's -Wmismatched-dealloc and -fanalyzer catch a handle freed with
 * the wrong call, or leaked. TF_DEALLOC(release): the pairing alone, for an
 * object that holds pointers to others (GCC's plain malloc attribute would
 * promise it does not).
 */
#if defined(TF_BUILDING_LIBRARY)
/* The library implements these pairs; the analyzer checks their callers. */
#define TF_MALLOC(release)
#define TF_DEALLOC(release)
#elif defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define TF_MALLOC(release) __attribute__((__malloc__, __malloc__(release, 1)))
#define TF_DEALLOC(release) __attribute__((__malloc__(release, 1)))
#elif defined(__GNUC__)
#define TF_MALLOC(release) __attribute__((__malloc__))
#define TF_DEALLOC(release)
#else
#define TF_MALLOC(release)
#define TF_DEALLOC(release)
#endif

#define TF_VERSION_MAJOR 0
#define TF_VERSION_MINOR 2
#define TF_VERSION_PATCH 0

/* Names tried before creation gives up with EEXIST (glibc's and Python's TMP_MAX). */
#define TF_TMP_MAX 238328

/* Length of the random part of every name, as in Python. */
#define TF_RANDOM_CHARS 8

/*
 * Flags. Each call takes its own enum, and refuses with EINVAL every bit it
 * does not know (as renameat2(2) does). The enums use separate bits, so that
 * a flag passed to the wrong call is refused, not taken for another:
 * tf_opts.flags bits 0-7, tf_sweep_opts.flags 8-11 (later capabilities take
 * 12 and up). tf_rmtree()'s one flag shares TF_IGNORE_CLEANUP_ERRORS's bit,
 * as it means the same.
 *
 * Options structs grow without breaking programs built against an older
 * header. tf_opts never changes size: what creation may still need comes as
 * flag bits (the unused ones are refused today), and a new capability gets an
 * options struct of its own. Those, and tf_sweep_opts, end with `reserved`
 * members that must be zero (EINVAL otherwise; a compound literal or `= {0}`
 * zeroes them), which a later version may give a meaning whose zero is the
 * old behaviour. (tf_opts has none: checking them would cost every creation
 * about 8 of its ~340 instructions.)
 */

/* tf_opts.flags, for the creating calls. */
enum tf_flags {
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
 *  flags     enum tf_flags: TF_KEEP, TF_NO_DELETE_ON_CLOSE,
 *            TF_IGNORE_CLEANUP_ERRORS (a call ignores those that do not
 *            apply to it); any other bit: EINVAL.
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

/* Frees an array from tf_candidate_tempdir_list(). Accepts NULL. */
TF_API void tf_strv_free(char **strv);

/*
 * The candidate directories tf_gettempdir() tries, in order, as a
 * NULL-terminated array: the environment's values as they are (as Python's
 * _candidate_tempdir_list; tf_gettempdir() makes the one it picks absolute),
 * then /tmp, /var/tmp, /usr/tmp and the working directory. Free it with
 * tf_strv_free().
 * Errors: ENOMEM.
 */
TF_API char **tf_candidate_tempdir_list(void) TF_DEALLOC(tf_strv_free);

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
 * Errors: EINVAL prefix or suffix contains '/', a bad mode or an unknown
 * flag bit; ENOENT dir missing or no usable
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
TF_API char *tf_mkdtemp(const tf_opts *opts) TF_MALLOC(free);

/*
 * Returns an absolute path that did not exist when it was checked (free it with
 * free()). Racy by nature: another process may create the name before the
 * caller does. Present only because Python has it; use tf_mkstemp().
 * Errors: as tf_mkstemp().
 */
TF_API char *tf_mktemp(const tf_opts *opts) TF_MALLOC(free)
    __attribute__((deprecated("racy: use tf_mkstemp() or tf_mkdtemp()")));

/* ---------------------------------------------------------------------------
 * Temporary files (Python: TemporaryFile, NamedTemporaryFile,
 * SpooledTemporaryFile). One handle type whatever backs it.
 * ------------------------------------------------------------------------- */

typedef struct tf_file tf_file;

/* Declared first so that the constructors can name it (see below). */
TF_API int tf_file_release(tf_file *f);

/*
 * A file with no name: O_TMPFILE where the filesystem supports it (no name ever
 * appears in dir), else created with a random name and unlinked at once.
 * Removed by the kernel when its last descriptor closes.
 * Errors: as tf_mkstemp(); unlink(2)'s in the fallback (a name whose unlink
 * fails stays in dir).
 */
TF_API tf_file *tf_temporary_file(const tf_opts *opts) TF_MALLOC(tf_file_release);

/*
 * A file with a visible name (tf_file_name()). When it is removed follows
 * Python's table:
 *   TF_KEEP                  never removed;
 *   (default)                removed by tf_file_close() (or release);
 *   TF_NO_DELETE_ON_CLOSE    removed by tf_file_release(); tf_file_close()
 *                            closes only the descriptor.
 * Errors: as tf_mkstemp().
 */
TF_API tf_file *tf_named_temporary_file(const tf_opts *opts) TF_MALLOC(tf_file_release);

/*
 * A file held in memory until it rolls over to a tf_temporary_file() made with
 * the same dir, prefix and suffix: after a write that leaves the position past
 * opts->max_size (if not 0), on tf_file_fileno(), on tf_file_truncate() to a
 * size above max_size, or on tf_file_rollover(). Also, whatever max_size, a
 * write far past the data goes to disk first, where the gap is a hole: one
 * that would zero more than 1 MiB of memory before its bytes, or that would
 * take the memory past twice the bytes written plus 1 MiB (a gap up to there
 * costs no memory: it reads as zeros). Memory is wiped before it is freed. A
 * call that rolls over is all or nothing: if the rollover or the call's own
 * work on the new file fails, that file is dropped, the data and position
 * stay in memory as they were, and the call fails with that errno. Every
 * option a rollover would refuse is refused here, at creation.
 * Errors: EINVAL as tf_mkstemp(); ENAMETOOLONG prefix and suffix make a name
 * longer than NAME_MAX; ENOMEM.
 */
TF_API tf_file *tf_spooled_temporary_file(const tf_opts *opts) TF_MALLOC(tf_file_release);

/*
 * Reads up to n bytes at the current position; returns the count, 0 at the end.
 * Errors: EINVAL f or buf is NULL; EBADF f is closed; read(2)'s.
 */
TF_API ssize_t tf_file_read(tf_file *f, void *buf, size_t n);

/*
 * Writes all n bytes at the current position (a spooled file may roll over);
 * returns n. Writing past the end leaves a zero-filled gap.
 * A failed write of a spooled file in memory changes nothing, even when it
 * rolled over first (the file is back in memory: see
 * tf_spooled_temporary_file()); on disk, as write(2), a failed write may have
 * written a part of the bytes and moved the position past them.
 * Speed: a write of a spooled file in memory that fits in the current chunk
 * (and stays within max_size) is one copy without a further call, so small
 * writes (a field of a record) need no buffering of their own; for byte loops
 * there is the inline tf_file_putc() (and tf_file_getc() for tf_file_read()),
 * and the tf_file_stream() view adds stdio's buffer on top for any file.
 * Errors: EINVAL f or buf is NULL; EBADF f is closed; ENOMEM; EFBIG past the
 * largest off_t; write(2)'s and, for a rollover, tf_temporary_file()'s.
 */
TF_API ssize_t tf_file_write(tf_file *f, const void *buf, size_t n);

/*
 * Moves the position as lseek(2) (SEEK_SET, SEEK_CUR, SEEK_END only, on every
 * backend; past the end is allowed) and returns the new one.
 * Errors: EINVAL f is NULL, bad whence or negative result; EBADF f is closed;
 * EOVERFLOW.
 */
TF_API off_t tf_file_seek(tf_file *f, off_t offset, int whence);

/* The current position. Errors: EINVAL f is NULL; EBADF f is closed. */
TF_API off_t tf_file_tell(tf_file *f);

/*
 * Sets the size to `size` (shrinks, or grows with zeros); the position does not
 * move, as in Python. A truncate that rolls a spooled file over is all or
 * nothing: if the rollover or the ftruncate(2) after it fails, the file is
 * still in memory, unchanged.
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
 * for a NULL f. Still answers after tf_file_close(). A handle received with
 * TF_HANDOFF_NO_ANSWER shows only a checked name: the first call makes the
 * checks of its first use (tf_file_recv()) and fails with their errno.
 */
TF_API const char *tf_file_name(const tf_file *f);

/*
 * Python's file.close(): closes the stream (if any) and the descriptor, frees
 * a spooled file's memory, and removes a named file unless TF_KEEP or
 * TF_NO_DELETE_ON_CLOSE. The handle stays valid for tf_file_name(),
 * tf_file_closed() and tf_file_release(). Closing twice is a no-op.
 * Errors: EINVAL f is NULL; close(2)'s or unlink(2)'s (the file is closed
 * all the same; a name that could not be removed stays registered, and
 * tf_file_release(), tf_cleanup_now() or the exit handler tries again);
 * for a handle from tf_file_recv(): ESTALE its name no longer names the file
 * (another took it since: nothing removed, the name dropped), and, received
 * with TF_HANDOFF_NO_ANSWER and not used yet, the errors of its first use
 * (tf_file_recv(): nothing removed). tf_file_release() fails the same way.
 */
TF_API int tf_file_close(tf_file *f);

/* 1 if tf_file_close() was called, 0 if not, -1 (EINVAL) for NULL. */
TF_API int tf_file_closed(const tf_file *f);

/*
 * Hands f's descriptor over: returns it, and from then on the caller owns it
 * (FD_CLOEXEC set, offset where f left it) and must close it. The handle is
 * closed as by tf_file_close(), all but the descriptor: the stream view is
 * flushed and closed, a spooled file first rolls over, and a named file is
 * removed unless TF_KEEP or TF_NO_DELETE_ON_CLOSE (then tf_file_release()
 * removes it, as usual). Spares a dup(2) and a close(2) to a caller that wraps
 * the descriptor in its own file object.
 * Errors: EINVAL f is NULL; EBADF f is closed; a rollover's errors; those of
 * tf_file_close() (the descriptor is closed then too).
 */
TF_API int tf_file_detach(tf_file *f);

/*
 * Closes f if still open, removes its name unless TF_KEEP or tf_file_keep(),
 * and frees the handle. Accepts NULL (returns 0). The handle is gone even when
 * it returns -1: a name whose unlink fails twice in a row stays, no longer
 * registered.
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
 * same stream until it is closed. The handle owns the file and the stream's
 * buffer (BUFSIZ bytes, allocated at the first call and kept for later views),
 * and wipes that buffer (explicit_bzero) whenever the view closes: what stdio
 * held of the file does not outlive the view (a setvbuf() of the caller's own
 * buffer replaces it, and that one is not wiped).
 * fclose(stream) flushes and detaches the view, leaving the handle
 * open; tf_file_close() and tf_file_release() fclose a view still open. Between
 * using the stream and calling tf_file_* directly, fflush(stream).
 * Speed: stdio's buffer reaches the file in one tf_file_write()
 * per flush, so a small putc, fwrite or fprintf costs what it costs on any
 * glibc stream (open_memstream's included): glibc's call path and the stream
 * lock it takes in every call (glibc 2.36, threads or not). A
 * program that uses the stream from one thread only can drop the lock with
 * putc_unlocked(), fwrite_unlocked() (inlined by glibc for a constant size up
 * to 8 bytes) and the other *_unlocked calls, or with
 * __fsetlocking(stream, FSETLOCKING_BYCALLER) (<stdio_ext.h>); a 1-byte putc
 * then costs about as much as a store into a plain buffer. For small writes of
 * run-time sizes, tf_file_write() on the handle is about twice as fast as
 * fwrite() on the view (bench/README.md).
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

/* Declared first so that the constructor can name it (see below). */
TF_API int tf_dir_release(tf_dir *d);

/*
 * Creates a directory as tf_mkdtemp() and holds a descriptor of it.
 * Errors: as tf_mkdtemp().
 */
TF_API tf_dir *tf_temporary_directory(const tf_opts *opts) TF_MALLOC(tf_dir_release);

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
 * The directory is emptied through the handle's descriptor, so a directory
 * renamed meanwhile (or whose parent was) is still the one emptied; its name
 * is removed only while it still names that directory (with nothing at the
 * path, it is left empty under its new name, without error; another one put
 * at the path is left alone, unless it is empty: an empty directory at the
 * path is taken by the first rmdir, which spares every cleanup of an empty
 * directory a look).
 * Errors: EINVAL d is NULL; ESTALE the directory was renamed and another took
 * its name (ours is left empty under its new name); tf_rmtree()'s. None,
 * with TF_IGNORE_CLEANUP_ERRORS.
 */
TF_API int tf_dir_cleanup(tf_dir *d);

/* From now on the directory is never removed by release. EINVAL for NULL. */
TF_API int tf_dir_keep(tf_dir *d);

/*
 * Cleans up unless TF_KEEP or tf_dir_keep(), then frees the handle. Accepts
 * NULL (returns 0). A cleanup that fails is tried once more; the handle is
 * gone even when it returns -1, and what could not be removed stays, no
 * longer registered.
 * Errors: as tf_dir_cleanup().
 */
TF_API int tf_dir_release(tf_dir *d);

/*
 * Removes path and everything below it. Never follows a symbolic link (a link
 * is removed, not its target), never crosses into another filesystem, works
 * fd-relative with no recursion and at most TF_RMTREE_FDS descriptors whatever
 * the depth, and makes unreadable or unwritable directories owner-accessible
 * (0700) to empty them. Each step back up is checked against the device and
 * inode recorded on the way down. A path whose last component is "." or
 * "..", or that is "/", is refused before anything is touched (as rm(1)
 * refuses them); a trailing slash is ignored, so a final symbolic link is
 * never followed. Earlier components are resolved as by open(2). A
 * directory found filled again when it is removed (another thread or process
 * writing into it) is emptied again, up to 8 passes while each removes
 * something; then ENOTEMPTY. What another remover at work in the same tree
 * (rm -rf, a second cleanup) removes first is no error: an entry, a
 * directory, or the tree itself once it was entered.
 * flags: TF_RMTREE_IGNORE_ERRORS removes what it can and returns 0.
 * Errors: EINVAL path is NULL or empty, ends in "." or "..", is "/", or an
 * unknown flag bit; ENOTDIR path is not a directory (it is
 * left alone); EXDEV a directory inside is another filesystem's; ESTALE a
 * directory was moved while cleanup ran (it stops there); ENOMEM; the errors of
 * openat(2), unlinkat(2), getdents64(2) and fchmod(2).
 */
TF_API int tf_rmtree(const char *path, unsigned flags);

/* tf_rmtree() and tf_rmtreeat() flags. */
enum tf_rmtree_flags {
    /* Remove what can be removed and return 0. */
    TF_RMTREE_IGNORE_ERRORS = TF_IGNORE_CLEANUP_ERRORS,
};

/* tf_rmtree() of `name` relative to the directory descriptor dirfd. */
TF_API int tf_rmtreeat(int dirfd, const char *name, unsigned flags);

/* Descriptors tf_rmtree() holds at once, at most, whatever the tree's depth. */
#define TF_RMTREE_FDS 3

/* ---------------------------------------------------------------------------
 * Cleanup: exit, signals, fork, orphans (the reasoning and every edge case:
 * docs/cleanup.md)
 *
 * Named temporary files and temporary directories are registered when they
 * are created and unregistered when their handle removes, keeps or releases
 * them (TF_NO_DELETE_ON_CLOSE files: at tf_file_release()). What is still
 * registered is removed by an atexit handler the library installs when it is
 * loaded (so the program's own atexit handlers run first), and on fatal
 * signals once tf_cleanup_install_signals() was called; _exit(), quick_exit()
 * and other signals remove nothing. The low-level calls register nothing.
 * Each entry records its creator's pid: a forked child never removes its
 * parent's temporaries (releasing an inherited handle still does).
 * Crashes: every named file and directory handle holds a shared flock(2)
 * ("live"); tf_sweep() never removes a live entry and judges every other
 * matching entry by age (the newest atime, mtime or ctime, over the whole
 * tree for a directory), whoever made it. A regular file some process holds
 * open for writing counts as live too (a read-lease probe, where the prober
 * owns the file or has CAP_LEASE), so a program's own flock(LOCK_EX) then
 * flock(LOCK_UN) on the handle's descriptor, which drops the handle's flock
 * with it, does not make a live temporary an orphan: no tf_file_lock() is
 * needed, flock(2) the descriptor tf_file_fileno() gives.
 * ------------------------------------------------------------------------- */

/*
 * Installs handlers for SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGPIPE, SIGTERM,
 * SIGXCPU and SIGXFSZ that remove every registered temporary of this process
 * with async-signal-safe calls only (no malloc, stdio or lock), then restore
 * the previous disposition and raise the signal again, so that the exit
 * status and any core dump are those the signal would have given. A signal
 * the program ignores stays ignored; a handler the program installed before
 * is called first (chained), and if it returns, nothing is removed; one
 * installed after replaces ours (docs/cleanup.md, "Chaining", has every
 * case: SA_RESETHAND, SA_NODEFER, abort(), calling this twice). While
 * installed, creating a named file or directory blocks these signals on the
 * creating thread from just before the name exists until it is registered.
 * Call it early, before creating threads that make temporaries.
 * Errors: what sigaction(2) fails with (then nothing stays installed).
 */
TF_API int tf_cleanup_install_signals(void);

/*
 * Puts back the dispositions tf_cleanup_install_signals() found, for each
 * signal whose handler is still ours. A handler the program installed over
 * ours stays; if it saved our action and still calls it, ours then does what
 * the disposition it had replaced would do (call the program's earlier
 * handler, or the signal's default action) and removes nothing. Returns 0;
 * never fails.
 */
TF_API int tf_cleanup_uninstall_signals(void);

/*
 * Removes now every registered temporary this process created (not its
 * parent's), as the exit handler does; the handles stay valid and their
 * release finds nothing left to remove. Async-signal-safe: a program's own
 * signal handler may call it before _exit(). A directory whose mode denies
 * its owner reading is made owner-accessible (mode 0700, never through a
 * link) to be emptied. Directory trees deeper than 256 levels may be left
 * partly in place by it. A temporary that could not be removed stays
 * registered: the exit handler (or a later call) tries it again. A directory
 * that another thread keeps filling is emptied again, up to 8 passes, until
 * its rmdir succeeds; an entry added after the last pass leaves it in place
 * (ENOTEMPTY; with a fatal signal, the process then ends with it there, and
 * tf_sweep() finds it once it is old).
 * Returns how many temporaries were removed.
 * Errors: the first error met (the others are still removed): unlinkat(2)'s,
 * openat(2)'s, fchmodat(2)'s or getdents64(2)'s; ENOTEMPTY part of a
 * directory's contents could not be removed; EBUSY a directory was skipped
 * because two other cleaners (threads, or a call interrupted by a signal
 * whose handler cleans) were removing directories at that moment.
 */
TF_API int tf_cleanup_now(void);

/* How many registered temporaries this process owns now. Never fails. */
TF_API size_t tf_cleanup_registered(void);

/* tf_sweep_opts.flags */
enum tf_sweep_flags {
    /* Report what would be removed, remove nothing. An entry the caller may
     * not remove counts as failed, as the removal would: no write and search
     * permission on dir, a sticky dir whose entry is neither the caller's nor
     * in a directory of the caller's (without CAP_FOWNER), or a directory the
     * caller may not empty (its own permissions; its tree's are not looked
     * at). */
    TF_SWEEP_DRY_RUN = 1u << 8,
    /* Also take stale lock files: regular files named NAME.lock (any NAME,
     * whatever prefix and suffix say), tf_lock_file()'s and git's naming.
     * Such a file is judged as any other entry: left while a process holds
     * its flock (tf_lock_file()'s live mark) or has it open for writing (as
     * git does with its locks), removed once unlocked and min_age old. Use it
     * only in a directory whose .lock files follow that convention: a program
     * whose locks are held by existence alone, closed, would lose its lock. */
    TF_SWEEP_LOCK_FILES = 1u << 9,
};

/* Age used when tf_sweep_opts.min_age is 0: one day. */
#define TF_SWEEP_DEFAULT_AGE 86400UL

/* One entry a sweep removed (or, in a dry run, would remove). */
typedef struct tf_sweep_entry {
    const char *name;          /* its name in the swept directory */
    int is_dir;                /* 1 for a directory tree, 0 for a file */
    unsigned long long bytes;  /* disk space, as du counts it: st_blocks * 512,
                                  the whole tree for a directory */
    unsigned long age;         /* seconds since its newest atime, mtime or
                                  ctime (a directory: over its whole tree) */
} tf_sweep_entry;

/*
 * What tf_sweep() and tf_disk_usage() look at; the zero value matches the
 * library's defaults: names "tmp" + TF_RANDOM_CHARS characters of [a-z0-9_],
 * no suffix, older than a day.
 *  prefix, suffix  the naming to match (NULL: "tmp" and ""); no '/'.
 *  min_age         age in seconds below which an unlocked entry is left
 *                  alone; 0: TF_SWEEP_DEFAULT_AGE. The age counts from the
 *                  newest of atime, mtime and ctime (a directory: the newest
 *                  over its whole tree). A small value can race with a
 *                  process that has just created a name and not yet locked it
 *                  (a few microseconds).
 *  flags           enum tf_sweep_flags: TF_SWEEP_DRY_RUN, TF_SWEEP_LOCK_FILES;
 *                  any other bit: EINVAL.
 *  report, arg     called for each entry removed (dry run: removable), with
 *                  arg; the entry is valid during the call only. May be NULL.
 *  reserved        must be zero.
 */
typedef struct tf_sweep_opts {
    const char *prefix;
    const char *suffix;
    unsigned long min_age;
    unsigned flags;
    void (*report)(const tf_sweep_entry *entry, void *arg);
    void *arg;
    size_t reserved[4];
} tf_sweep_opts;

/* What a sweep did. */
typedef struct tf_sweep_result {
    size_t removed;            /* entries removed (dry run: removable) */
    unsigned long long bytes;  /* their disk space */
    size_t live;               /* matching entries a process holds locked: left */
    size_t young;              /* unlocked but younger than min_age, or written
                                  to (anywhere in a directory's tree) between
                                  the sweep's look and its removal: left */
    size_t failed;             /* could not be checked or removed: left */
} tf_sweep_result;

/*
 * Removes the orphaned temporaries directly in dir (NULL: tf_gettempdir()):
 * regular files and directories whose name matches opts, that no process
 * holds an flock on and that are at least min_age old (see "Crashes" above:
 * unlocked entries are judged by age only). To date a directory it reads its
 * whole tree, read-only, without following links or crossing into another
 * filesystem and, where permitted (O_NOATIME), without changing access times;
 * a tree it cannot read whole (an unreadable subdirectory, deeper than 256
 * levels, more than 2^20 entries, entries vanishing meanwhile) is left and
 * counted as failed. A matching directory goes with everything in it, emptied
 * with the rules of tf_rmtreeat(). It never follows a symbolic link (links,
 * FIFOs, sockets and devices are left alone, whatever their name), never
 * leaves dir, never enters a mount point, of another filesystem or a bind
 * mount of the same one (told by the mount id of statx(2); a matching mount
 * point is neither counted nor removed, and one inside a tree is not read to
 * date it), and holds an exclusive
 * flock on each entry while removing it, so that no other sweeper works on it
 * at the same time; it empties a directory through the descriptor it locked,
 * and removes a name only right after checking that it still names the entry
 * it locked (a name swapped meanwhile is left and counted as failed). dir itself
 * must not be a symbolic link. A failure on one entry is counted in
 * result->failed and the sweep goes on. result (may be NULL) receives the
 * counts.
 * Errors: EINVAL prefix or suffix contains '/', an unknown flag bit or a
 * non-zero reserved member; ENAMETOOLONG prefix and suffix make a name longer
 * than NAME_MAX; ENOTDIR dir is not a
 * directory, or is a symbolic link; ENOENT; EACCES; ENOMEM; getdents64(2)'s.
 */
TF_API int tf_sweep(const char *dir, const tf_sweep_opts *opts, tf_sweep_result *result);

/* Disk use of the temporaries in a directory (tf_disk_usage()). */
typedef struct tf_usage_report {
    size_t count;                    /* matching files and directories */
    size_t live;                     /* of which locked by a live process */
    size_t orphans;                  /* of which unlocked (left by a crash, kept,
                                        or used without a lock) */
    size_t unknown;                  /* of which not checkable (e.g. no permission,
                                        or unlocked with a tree not readable whole) */
    size_t sweepable;                /* orphans at least min_age old */
    unsigned long long bytes;        /* disk space of all of them (st_blocks * 512) */
    unsigned long long live_bytes;
    unsigned long long orphan_bytes;
    unsigned long oldest_age;        /* seconds; 0 when count is 0 */
} tf_usage_report;

/*
 * Fills *report for the temporaries directly in dir (NULL: tf_gettempdir())
 * whose name matches opts (prefix, suffix; min_age only for `sweepable`;
 * flags and report are not used). Counts as tf_sweep() does and changes
 * nothing, except that probing a lock takes it for an instant (a temporary
 * being created meanwhile waits for it).
 * Errors: EINVAL report is NULL; otherwise as tf_sweep().
 */
TF_API int tf_disk_usage(const char *dir, const tf_sweep_opts *opts, tf_usage_report *report);

/* ---------------------------------------------------------------------------
 * Durable data: persist, atomic replace, lock files (persist.c, replace.c,
 * metadata.c, lockfile.c)
 *
 * Readers and crashes see the old content or the new one, never a mixture:
 * the new content is written into a temporary in the destination's directory
 * and renamed over the destination. Nothing ever writes into the destination
 * in place. A rename-based replace makes a new inode: hard links to the old
 * file keep the old content (they are not updated), as with every editor
 * and tool that saves this way.
 *
 * Levels (tf_persist_opts.level; what the call returns on success):
 *   TF_LEVEL_VISIBLE     the rename only. After a crash the destination may
 *                        be old, new, or (on ext4/XFS with delayed
 *                        allocation) empty or torn: readers of a running
 *                        system only ever see old or new.
 *   TF_LEVEL_CONSISTENT  fsync(2) of the data before the rename: after a
 *                        crash, old or new, never torn; the rename itself may
 *                        be lost (old content back).
 *   TF_LEVEL_DURABLE     also fsync(2) of the directory after the rename,
 *                        through a descriptor held from the start (never
 *                        reopened by path): once the call returns, the new
 *                        content survives a crash. The default (level 0).
 * A call reports the level it reached. A filesystem that refuses a directory
 * fsync (EINVAL, ENOTSUP, EROFS), or a directory the process may write and
 * search but not read (a drop box, 0733: no descriptor of it can be synced;
 * EACCES), lowers the level reached to TF_LEVEL_CONSISTENT, or, with
 * TF_PERSIST_STRICT, makes the call fail with that errno (the file is then
 * in place already: a rename cannot be taken back; tf_file_name() names the
 * destination). Any other error of that fsync
 * (EIO, ENOSPC...) fails the call the same way, whatever the flags: the new
 * content is visible but its durability is unknown.
 *
 * Symbolic links at the destination (tf_persist_opts.symlinks):
 *   TF_SYMLINK_FOLLOW (0)  follow the chain (at most 40 links, else ELOOP;
 *                          relative targets from the link's directory) and
 *                          replace its final target, so a symlinked dotfile
 *                          stays a symlink. A dangling link creates its
 *                          target (ENOENT if the target's directory is
 *                          missing); a target in a directory the process
 *                          cannot write fails with EACCES.
 *   TF_SYMLINK_REPLACE     replace the link itself with the regular file.
 *   TF_SYMLINK_REFUSE      fail with ELOOP if the destination is a link.
 * Symbolic links in the directory part of the path are followed.
 *
 * Bad destinations, refused before anything is written: NULL (EINVAL); ""
 * (ENOENT); a name ending in '/', ".", ".." or naming a directory (EISDIR);
 * a FIFO, socket or device (EINVAL: only regular files are replaced); a last
 * component longer than NAME_MAX (ENAMETOOLONG); a missing directory
 * (ENOENT) or not a directory (ENOTDIR); a read-only filesystem (EROFS) or
 * a directory the process cannot write (EACCES), found when the temporary is
 * created (or, for tf_file_persist(), at the rename).
 * ------------------------------------------------------------------------- */

/* tf_persist_opts.level */
enum {
    TF_LEVEL_VISIBLE = 1,
    TF_LEVEL_CONSISTENT = 2,
    TF_LEVEL_DURABLE = 3,
};

/* tf_persist_opts.symlinks */
enum {
    TF_SYMLINK_FOLLOW = 0,
    TF_SYMLINK_REPLACE = 1,
    TF_SYMLINK_REFUSE = 2,
};

/* tf_persist_opts.flags (bits 12-19; each call refuses bits it does not take) */
enum {
    /* Never replace: fail with EEXIST if the destination exists
     * (renameat2 RENAME_NOREPLACE; where the filesystem refuses it, link(2)
     * then unlink(2) of the temporary name). tf_file_persist(),
     * tf_replace_begin(), tf_replace_contents(). */
    TF_PERSIST_NOCLOBBER = 1u << 12,
    /* Fail rather than reach a lower level than asked (see Levels). */
    TF_PERSIST_STRICT = 1u << 13,
    /* Metadata of the replaced file: carry over what can be, report the rest
     * in tf_persist_report.not_copied, instead of failing. */
    TF_PERSIST_BEST_EFFORT = 1u << 14,
    /* tf_file_persist() across filesystems (EXDEV): copy the data into a new
     * temporary in the destination's directory (copy_file_range(2), which
     * reflinks where the filesystem can) and rename that. */
    TF_PERSIST_COPY = 1u << 15,
};

/* Bits of tf_persist_report.not_copied: metadata of the replaced file that
 * TF_PERSIST_BEST_EFFORT let go. */
enum {
    TF_META_OWNER = 1u << 0,   /* owner or group (fchown refused) */
    TF_META_XATTR = 1u << 1,   /* an extended attribute (user.*, security.*, trusted.*) */
    TF_META_ACL = 1u << 2,     /* a POSIX ACL (system.posix_acl_access) */
};

/*
 * Options of persist, atomic replace and lock files; the zero value (or NULL)
 * is: durable, follow symlinks, replace, metadata carried over or fail.
 *  level       TF_LEVEL_*; 0: TF_LEVEL_DURABLE.
 *  flags       TF_PERSIST_* (each call lists those it takes).
 *  symlinks    TF_SYMLINK_*.
 *  mode        non-zero: the permission bits of the result, exactly (07777
 *              at most). 0: those of the replaced file; a new destination
 *              of tf_replace_*() or tf_lock_file() gets what open(2) with
 *              0666 gives a new file there (0666 & ~umask, or under a
 *              default ACL of the directory what the ACL gives), its
 *              temporary being created so; one that was there at
 *              tf_replace_begin() or tf_lock_file() and is gone at the
 *              commit gets 0666 & ~umask (read from /proc/self/status,
 *              umask(2) being unsafe beside threads; where that cannot be
 *              read, 0600, the narrowest it could be); a persisted file
 *              keeps its own.
 *  timeout_ms  tf_lock_file() only: 0 fails at once with EEXIST while another
 *              holds the lock, > 0 waits up to that long, < 0 waits for ever.
 *  reserved    must be zero (EINVAL otherwise).
 */
typedef struct tf_persist_opts {
    int level;
    unsigned flags;
    int symlinks;
    mode_t mode;
    long timeout_ms;
    size_t reserved[4];
} tf_persist_opts;

/* What a commit or persist did: written on success, on a failure after the
 * rename, and on a commit that failed because metadata cannot be carried
 * over (level 0; not_copied names the kind that stopped it, as errno's
 * EPERM alone cannot tell an owner from an attribute). */
typedef struct tf_persist_report {
    int level;             /* TF_LEVEL_* reached; 0 if the rename did not happen */
    unsigned not_copied;   /* TF_META_* let go under TF_PERSIST_BEST_EFFORT, or the
                            * one that failed the commit without it */
    int not_copied_errno;  /* why the first of them was refused */
} tf_persist_report;

/*
 * Gives a temporary file its final name `dest` (Rust tempfile's persist):
 *  - a named file (tf_named_temporary_file(), with or without TF_KEEP) is
 *    renamed (where dest is already a hard link of the file itself, which
 *    rename(2) would leave as it is with both names, the temporary name is
 *    removed instead: dest names the file, no second name stays behind);
 *  - a file from tf_linkable_temporary_file() is linked into place
 *    (linkat(2) AT_EMPTY_PATH, or its /proc/self/fd path where that is
 *    refused), through a random sibling name and a rename unless
 *    TF_PERSIST_NOCLOBBER, so a half-written file never has the final name;
 *  - with TF_PERSIST_COPY, any file on another filesystem than dest (and a
 *    tf_temporary_file() or a rolled-over spooled one, which cannot be
 *    linked) is copied into a new temporary beside dest, which is renamed.
 * The file keeps its mode unless opts->mode is set. With TF_LEVEL_CONSISTENT
 * or more its data is fsync'ed first; TF_LEVEL_DURABLE (the default) also
 * syncs dest's directory.
 * Flags: TF_PERSIST_NOCLOBBER, TF_PERSIST_STRICT, TF_PERSIST_COPY.
 * On success the file is no temporary any more: it leaves the cleanup
 * registry, loses its live mark, and no close, release, exit, signal or
 * sweep removes it; the handle stays open (read, write, stream) and
 * tf_file_name() returns the new absolute path. Returns the level reached.
 * On failure before the rename the handle is handed back untouched: still
 * open, still temporary, still registered; except that a file from
 * tf_linkable_temporary_file() whose link to a sibling name worked and
 * whose rename failed keeps that name (`.tmpXXXXXXXX` beside dest): the
 * kernel links a nameless file once only, so it is a named temporary file
 * from then on (registered, removed on close), which a new persist renames.
 * report may be NULL.
 * Errors: EINVAL f, dest or opts bad, or f cannot be given a name (a
 * tf_temporary_file() or spooled file without TF_PERSIST_COPY); EBADF f is
 * closed; EEXIST (TF_PERSIST_NOCLOBBER) dest exists; EXDEV dest is on another
 * filesystem and no TF_PERSIST_COPY; EOPNOTSUPP no-clobber on a filesystem
 * without RENAME_NOREPLACE nor hard links; the bad destinations above; those
 * of fsync(2), renameat2(2), linkat(2), copy_file_range(2); ENOMEM.
 */
TF_API int tf_file_persist(tf_file *f, const char *dest, const tf_persist_opts *opts,
                           tf_persist_report *report);

/* tf_file_persist() of `name` relative to the directory descriptor dirfd
 * (or AT_FDCWD). dirfd is not closed and need only stay open during the call. */
TF_API int tf_file_persist_at(tf_file *f, int dirfd, const char *name,
                              const tf_persist_opts *opts, tf_persist_report *report);

/*
 * A file with no name, as tf_temporary_file(), that tf_file_persist() can
 * link into place: O_TMPFILE without O_EXCL (tf_temporary_file() keeps O_EXCL
 * and can never be linked). Where O_TMPFILE is unsupported it is a named
 * temporary file instead (tf_named_temporary_file(), removed on close), so
 * tf_file_persist() works the same on it.
 * Errors: as tf_temporary_file().
 */
TF_API tf_file *tf_linkable_temporary_file(const tf_opts *opts) TF_MALLOC(tf_file_release);

/*
 * Begins an atomic replace of dest (created if missing): returns a new empty
 * named temporary file `.tmpXXXXXXXX` in dest's directory (after the symlink
 * policy), which tf_file_commit() renames over dest. Its mode is 0600, but
 * for a new destination (no file there, or a link TF_SYMLINK_REPLACE
 * replaces) with no opts->mode: created at 0666, it has what open(2) gives
 * a new file there (0666 & ~umask, or under a default ACL of the directory
 * what the ACL gives; the group of a set-group-ID directory), which the
 * commit keeps with no fchmod. No old content is there to protect: whoever
 * may read or write the temporary is whoever may read or write the result
 * (git's lock files are made so). It is an
 * ordinary handle: every tf_file_* call and tf_file_stream() work on it. It
 * is registered for cleanup and live-marked as a named temporary file, so an
 * abort (tf_file_close() or tf_file_release() before commit), exit or fatal
 * signal leaves dest untouched and nothing behind; after a SIGKILL, tf_sweep()
 * with .prefix = ".tmp" removes it. The directory is held open until commit
 * (abort, exit and signal cleanup remove the temporary through it, though
 * its path moved).
 * Flags: TF_PERSIST_NOCLOBBER, TF_PERSIST_STRICT, TF_PERSIST_BEST_EFFORT.
 * Errors: EINVAL bad opts; the bad destinations above; as tf_mkstemp().
 */
TF_API tf_file *tf_replace_begin(const char *dest, const tf_persist_opts *opts)
    TF_MALLOC(tf_file_release);

/* tf_replace_begin() of `name` relative to dirfd (or AT_FDCWD). */
TF_API tf_file *tf_replace_begin_at(int dirfd, const char *name, const tf_persist_opts *opts)
    TF_MALLOC(tf_file_release);

/*
 * Commits a tf_replace_begin() or tf_lock_file() handle: flushes its stream
 * view if any, carries the replaced file's metadata over to the temporary
 * (owner and group where the process may set them, then every extended
 * attribute it can read, in every namespace: user.*, security.* (the SELinux
 * label), trusted.* (root: a process without CAP_SYS_ADMIN cannot even list
 * them, so they are lost without a report), and the POSIX ACL,
 * system.posix_acl_access, then the mode, last, since fchown clears set-ID
 * bits and an ACL sets mode bits; opts->mode, if given, replaces the old
 * file's); an old file
 * without an ACL gives one that the temporary inherited from a default ACL
 * of the directory no chance to widen access: it is removed. Syncs as the
 * level asks and renames it over dest. If any metadata cannot be carried
 * over, it fails with dest unchanged (TF_PERSIST_BEST_EFFORT: goes on and
 * reports it). Returns the level reached; the handle then names dest (see
 * tf_file_persist()) and is released as usual. On failure before the rename
 * the handle is unchanged: write more and commit again, or abort.
 * Errors: EINVAL f is not an uncommitted replace or lock handle; EBADF f is
 * closed; EEXIST (TF_PERSIST_NOCLOBBER) dest appeared; EISDIR, EINVAL dest
 * became a directory or a special file; ELOOP dest became a symbolic link
 * (TF_SYMLINK_FOLLOW, TF_SYMLINK_REFUSE: begin resolved the links once);
 * EPERM, EACCES, ENOTSUP, E2BIG,
 * ENOSPC, EDQUOT metadata that cannot be carried over (fchown(2),
 * fsetxattr(2)); EIO, ERANGE the replaced file's metadata could not be read
 * (fstatat(2), listxattr(2), getxattr(2); ERANGE: an attribute kept growing
 * while it was read); those of fchmod(2), fsync(2), renameat2(2); ENOMEM.
 */
TF_API int tf_file_commit(tf_file *f, tf_persist_report *report);

/*
 * One-shot atomic replace of dest with the n bytes at buf:
 * tf_replace_begin(), write, tf_file_commit(), release. Returns the level
 * reached; on failure dest is unchanged and nothing is left behind (a
 * failure after the rename: see Levels). The commit takes the replaced
 * file's owner, group, mode and list of extended attributes as begin found
 * them a moment before (one lookup fewer; the values are read at the
 * commit). Its temporary is created at the mode the result will have
 * wherever that lets nobody read the bytes who could not read the old file,
 * sparing the fchmod: a new destination (no mode given) at 0666, as
 * tf_replace_begin()'s, which the kernel makes a new file's mode (0666 &
 * ~umask, or what the directory's default ACL gives: as open(2), the umask
 * is then not applied); unlike tf_replace_begin()'s, an old file that
 * everyone may read, whose bits narrow from owner to group to other and
 * that has no extended attribute, at its mode without group and other
 * write bits nor set-ID and sticky bits; anything else at 0600 (a mode
 * given, 0640, an ACL). Readers allowed by that mode may see the bytes
 * being written, and after an abort what was written.
 * A buffer of 64 KiB or more has its blocks reserved before the write
 * (fallocate(2), FALLOC_FL_KEEP_SIZE) on a disk filesystem, not on tmpfs,
 * ramfs or a network one: a hint, whose refusal is ignored.
 * Errors: EINVAL buf is NULL with n > 0; those of the three calls.
 */
TF_API int tf_replace_contents(const char *dest, const void *buf, size_t n,
                               const tf_persist_opts *opts, tf_persist_report *report);

/* tf_replace_contents() of `name` relative to dirfd (or AT_FDCWD). */
TF_API int tf_replace_contents_at(int dirfd, const char *name, const void *buf, size_t n,
                                  const tf_persist_opts *opts, tf_persist_report *report);

/*
 * A lock file (git's lockfile model): `dest.lock`, in dest's directory (after
 * the symlink policy), is both the lock and the atomic replace's temporary.
 * It appears already live-marked (made with O_TMPFILE, marked, then linked
 * into place), so another writer's tf_lock_file() of the same dest fails
 * with EEXIST (opts->timeout_ms 0) or waits and retries (timeout_ms > 0: up
 * to that long, then EEXIST; < 0: for ever). A lock left by a process that
 * died (SIGKILL, power cut) is told apart by its live mark (nobody holds
 * its flock or has it open for writing) and removed by the next
 * tf_lock_file(), or by tf_sweep() with TF_SWEEP_LOCK_FILES; one the
 * process may not open (another user's, at 0600), or no regular file (a
 * FIFO, a socket, a device, a symbolic link, which is never followed),
 * counts as held. Write the
 * new content through the handle; tf_file_commit() renames it over dest,
 * which releases the lock; abort (close or release), exit and fatal
 * signals remove it. An abort removes the name only while it names the
 * handle's file: a forked child releasing its copy of a handle the parent
 * committed leaves the next holder's lock alone.
 * Its mode is that of tf_replace_begin()'s temporary: 0600, or for a new
 * destination with no opts->mode what open(2) with 0666 gives a new file
 * there (one that comes out 0666, as O_TMPFILE gave before Linux 6.0 on a
 * filesystem without ACLs whatever the umask, is 0600 until the commit).
 * Flags: TF_PERSIST_STRICT, TF_PERSIST_BEST_EFFORT.
 * Errors: EEXIST held by a live process (or one not to be opened);
 * ENAMETOOLONG dest's name plus ".lock" exceeds NAME_MAX; the bad
 * destinations above; as tf_replace_begin().
 */
TF_API tf_file *tf_lock_file(const char *dest, const tf_persist_opts *opts)
    TF_MALLOC(tf_file_release);

/* tf_lock_file() of `name` relative to dirfd (or AT_FDCWD). */
TF_API tf_file *tf_lock_file_at(int dirfd, const char *name, const tf_persist_opts *opts)
    TF_MALLOC(tf_file_release);

/* ---------------------------------------------------------------------------
 * One byte at a time without a call
 * ------------------------------------------------------------------------- */

/*
 * tf_file_putc() and tf_file_getc() are tf_file_write() and tf_file_read() of
 * one byte, inline, as putc_unlocked() and getc_unlocked() are to fwrite()
 * and fread(): where the byte lies inside a spooled file's memory (the chunk
 * at the position has room, or data, and max_size is not reached) it is
 * copied in place; everything else (a rollover, a new chunk, a file on disk,
 * an error) goes through the ordinary call, with its rules and errno. Meant
 * for byte loops (parsers, encoders, escapers); tf_file_write() and
 * tf_file_read() stay the calls for everything else and are nearly as fast
 * for a few bytes. Like the ordinary calls, not for use on one handle from
 * two threads at once. Between using the stream view and these, fflush().
 *
 * tf_file_putc: writes (unsigned char)c; returns it, or -1 with errno as
 * tf_file_write().
 * tf_file_getc: returns the next byte (0-255), or -1 at the end of the file
 * and on an error (errno as tf_file_read()); at the end errno is left as it
 * was, so set errno to 0 first to tell the two apart (as for strtol(3)).
 */

/* The head of every handle, for the inline calls only: the position inside
 * the memory at hand and its limits (they meet when there is none). Its
 * layout is part of the library's ABI; never touch it yourself. */
struct tf__window {
    unsigned char *at, *mark, *end;
};

/* The same as the inline calls, never inline (their way out). */
TF_API int tf_file_putc_full(tf_file *f, int c);
TF_API int tf_file_getc_full(tf_file *f);

static inline int tf_file_putc(tf_file *f, int c)
{
    struct tf__window *w = (struct tf__window *)(void *)f;
    if (f && w->at < w->end) {
        *w->at++ = (unsigned char)c;
        return (unsigned char)c;
    }
    return tf_file_putc_full(f, c);
}

static inline int tf_file_getc(tf_file *f)
{
    struct tf__window *w = (struct tf__window *)(void *)f;
    if (f && w->at < w->mark)
        return *w->at++;
    return tf_file_getc_full(f);
}

/* ---------------------------------------------------------------------------
 * Secure deletion that knows the filesystem (src/shred.c, src/fsinfo.c)
 *
 * Overwriting a file in place reaches its old blocks only where the
 * filesystem writes in place. Before writing anything, every shred call
 * looks at the file and its filesystem and fills a tf_shred_report; if
 * anything in TF_FS_INEFFECTIVE applies it refuses with EMEDIUMTYPE (nothing
 * written) unless TF_SHRED_FORCE is given.
 *
 * What no call can know, and so never reports: the device's own remapping
 * (SSD and flash wear levelling and over-provisioning, sectors a disk
 * remapped after errors, thin provisioning, a RAID controller's or drive's
 * cache), copies below the filesystem (LVM or storage snapshots, the host
 * of a virtual machine, a loop device's backing file), copies elsewhere
 * (backups, earlier copies the program wrote, rename-into-place leftovers,
 * core dumps, pages of the data in swap or hibernation images, another
 * process's memory), and a filesystem snapshot taken before the shred (btrfs
 * and zfs snapshots are reported only as copy-on-write). A filesystem
 * reported as writing in place may still keep old data in its journal when
 * mounted with options not visible in /proc/self/mountinfo.
 * ------------------------------------------------------------------------- */

/* tf_shred_opts.flags */
enum {
    /* A last pass of zeros, to hide the shredding (coreutils shred -z). */
    TF_SHRED_ZERO = 1u << 20,
    /* Then remove the file as coreutils shred --remove=wipesync: truncate to
     * 0 and fsync, rename to ever shorter names (renameat2 RENAME_NOREPLACE;
     * of each length the first free one in coreutils' order: 00, 01, ...)
     * with an fsync of the directory after each, unlink, fsync the directory. */
    TF_SHRED_REMOVE = 1u << 21,
    /* Overwrite exactly st_size bytes; by default the last block is
     * overwritten up to its end (its slack) and the size put back after. */
    TF_SHRED_EXACT = 1u << 22,
    /* Overwrite even where the report says it cannot reach the data. */
    TF_SHRED_FORCE = 1u << 23,
    /* Overwrite exactly tf_shred_opts.size bytes from the start, whatever
     * the file's size (coreutils shred -s): holes included, a smaller file
     * grows to that size and keeps it, a larger one keeps its tail. */
    TF_SHRED_SIZE = 1u << 24,
    /* With TF_SHRED_REMOVE: truncate, then one plain unlink, nothing synced
     * (coreutils shred --remove=unlink). */
    TF_SHRED_UNLINK = 1u << 25,
};

/* tf_shred_opts.passes: no random pass at all (coreutils shred -n 0); only
 * the zero pass is written, if asked. */
#define TF_SHRED_NO_PASSES (~0u)

/* tf_shred_event.kind */
enum {
    TF_SHRED_EV_PASS = 1,    /* a pass starts: pass, passes, zero, size */
    TF_SHRED_EV_WRITTEN,     /* a pass wrote up to offset done (after each
                                write of at most 1 MiB), and finally size */
    TF_SHRED_EV_REMOVING,    /* the removal of name starts (after truncation) */
    TF_SHRED_EV_RENAMED,     /* name was renamed to to */
    TF_SHRED_EV_REMOVED,     /* the file's last name was unlinked (name is
                                the name it had when the removal started) */
};

/* What a progress callback is told; valid only during the call. */
typedef struct tf_shred_event {
    unsigned kind;             /* TF_SHRED_EV_* */
    unsigned pass;             /* 1-based, of passes (the zero pass is last) */
    unsigned passes;           /* random passes + the zero pass, if any */
    int zero;                  /* 1: this pass writes zeros */
    unsigned long long done;   /* TF_SHRED_EV_WRITTEN: offset reached */
    unsigned long long size;   /* the end of the range the pass covers */
    const char *name;          /* the file's name in its directory; "" for a
                                  file without one (handle, descriptor) */
    const char *to;            /* TF_SHRED_EV_RENAMED: the new name */
} tf_shred_event;

/* Called by the shred calls at each event, in the calling thread. It must
 * not use the file being shredded. */
typedef void tf_shred_progress_fn(const tf_shred_event *ev, void *arg);

/* A caller's random source (coreutils shred --random-source): fills buf
 * with exactly n bytes (n <= 1 MiB) and returns 0, or returns -1 with errno
 * set, which fails the shred with that errno. */
typedef int tf_shred_random_fn(void *buf, size_t n, void *arg);

/* The caller's functions for a shred; any member may be NULL. */
typedef struct tf_shred_hooks {
    tf_shred_progress_fn *progress;
    tf_shred_random_fn *random;   /* NULL: the library's generator */
    void *arg;                    /* passed to both */
    size_t reserved[4];           /* must be zero (EINVAL) */
} tf_shred_hooks;

/*
 * Options of the shred calls; the zero value means the defaults (NULL too):
 *  passes    passes of random data (xoshiro256+ streams seeded from
 *            getrandom(2) for each call); 0: 3; TF_SHRED_NO_PASSES: none.
 *            At most 100 (EINVAL).
 *  flags     TF_SHRED_ZERO, TF_SHRED_REMOVE, TF_SHRED_EXACT, TF_SHRED_FORCE,
 *            TF_SHRED_SIZE, TF_SHRED_UNLINK (only with TF_SHRED_REMOVE).
 *  hooks     progress callback and random source (NULL: none).
 *  size      with TF_SHRED_SIZE: the bytes to overwrite; 0 otherwise.
 *  reserved  must be zero (EINVAL).
 * Every pass is made durable (fdatasync) before the next one starts.
 * hooks and size took two of the four reserved slots of earlier versions:
 * the struct keeps its size and layout.
 */
typedef struct tf_shred_opts {
    unsigned passes;
    unsigned flags;
    const tf_shred_hooks *hooks;
    size_t size;
    size_t reserved[2];
} tf_shred_opts;

/* tf_shred_report.why: what was found about the file and its filesystem. */
enum {
    /* Refusing (in TF_FS_INEFFECTIVE): overwriting cannot reach the data. */
    TF_FS_COPY_ON_WRITE = 1u << 0,   /* btrfs, bcachefs, zfs; overlayfs copies up */
    TF_FS_LOG_STRUCTURED = 1u << 1,  /* f2fs, nilfs2: writes go to new blocks */
    TF_FS_SHARED_EXTENTS = 1u << 2,  /* FIEMAP_EXTENT_SHARED: reflinked blocks */
    TF_FS_DATA_JOURNAL = 1u << 3,    /* ext3/ext4 data=journal, or chattr +j */
    TF_FS_HARD_LINKS = 1u << 4,      /* st_nlink > 1: other names keep the file */
    TF_FS_NETWORK = 1u << 5,         /* nfs, cifs/smb, ceph, 9p, afs, fuse:
                                        the server decides where data goes */
    TF_FS_UNKNOWN = 1u << 6,         /* a filesystem type not known to
                                        overwrite in place */
    /* Informational: the overwrite goes ahead. */
    TF_FS_MEMORY = 1u << 8,          /* tmpfs, ramfs: the pages are overwritten */
    TF_FS_SWAP = 1u << 9,            /* tmpfs while swap is active: pages may
                                        have copies in swap */
    TF_FS_METADATA_JOURNAL = 1u << 10, /* ext3/ext4 with a journal, xfs: old
                                        copies of metadata (the name, the size)
                                        may stay in the journal */
    TF_FS_EXTENTS_UNKNOWN = 1u << 11, /* FIEMAP unsupported: shared extents
                                        could not be looked for */
    TF_FS_PROCESS_MEMORY = 1u << 12, /* a spooled file still in this process's
                                        memory (wiped with explicit_bzero; pages
                                        may have been swapped out before) */
};

/* The findings that make a shred refuse unless TF_SHRED_FORCE. */
#define TF_FS_INEFFECTIVE 0x7fu

/* What a shred call found and did. Filled whenever the call got as far as
 * looking at the file, on failure too. */
typedef struct tf_shred_report {
    unsigned long fs_type;      /* statfs(2) f_type; 0 for process memory */
    unsigned why;               /* TF_FS_* bits (a tree: of every file) */
    int effective;              /* 1: nothing in TF_FS_INEFFECTIVE was found */
    unsigned passes;            /* passes completed, the zero pass included */
    unsigned long long bytes;   /* bytes written by one pass (a tree: all files) */
    size_t files;               /* regular files shredded */
    int grew;                   /* 1: the file grew past what the passes covered */
    char left[256];             /* removal stopped with the file under this name
                                   (in the file's directory); "" otherwise */
} tf_shred_report;

/*
 * The report for the file open as fd, without writing anything: what
 * tf_shred() would find. Errors: EINVAL report is NULL; EBADF; fstat(2)'s or
 * fstatfs(2)'s.
 */
TF_API int tf_shred_probe(int fd, tf_shred_report *report);

/* A short English phrase for one TF_FS_* bit ("copy-on-write filesystem"),
 * or NULL for a bit that is not one. */
TF_API const char *tf_shred_reason(unsigned bit);

/*
 * Overwrites a temporary file's data: a file on disk (named or not) with the
 * passes, a spooled file still in memory with explicit_bzero (it never
 * touches disk; report->why is TF_FS_PROCESS_MEMORY). The size is kept.
 * With TF_SHRED_REMOVE the file is also truncated and a named file's name
 * removed the wipesync way (it leaves the cleanup registry first); the handle
 * stays open on the empty file and tf_file_release() is still due. report
 * may be NULL.
 * Only the regions holding blocks of the file are overwritten: the extents
 * FIEMAP maps, unwritten ones too (preallocated, or zeroed in place with
 * FALLOC_FL_ZERO_RANGE: they read as zeros, yet on ext4 their blocks keep
 * the old data); without FIEMAP, SEEK_DATA's data regions; without either,
 * everything. A hole holds no blocks of the file and stays a hole. Memory stays bounded (one 1 MiB buffer) whatever the
 * size. Every pass covers the size found when it starts; a file that grew
 * past what the last pass covered fails with EBUSY (report->grew, nothing
 * removed). Other descriptors of the file (read-only ones too) see the new
 * bytes.
 * Errors: EINVAL f is NULL, bad options, flags or hooks, or its descriptor
 * is open with O_APPEND (adopted or received: pwrite(2) would append, the
 * data never overwritten; nothing written); EBADF f is closed;
 * EBADMSG, EPERM f was received without answer and is refused at this, its
 * first use (see "Checks" of the hand-over; nothing written);
 * EMEDIUMTYPE refused by the report (nothing written); EBUSY the file grew;
 * ESTALE the name no longer names the file (nothing removed, and the
 * handle no longer removes that name); ENOMEM;
 * pwrite(2)'s (ENOSPC, EIO, EDQUOT...), fdatasync(2)'s, fsync(2)'s,
 * renameat2(2)'s, unlinkat(2)'s; the errno of a failed random hook. A
 * failure during removal leaves the file under report->left. A failure
 * during the passes puts back the size that overwriting the last block's
 * slack may have grown; only if that ftruncate(2) fails too does the file
 * end at its last block's end.
 */
TF_API int tf_file_shred(tf_file *f, const tf_shred_opts *opts, tf_shred_report *report);

/*
 * Shreds the regular file at path (not following a final symbolic link),
 * opened O_WRONLY|O_NONBLOCK|O_NOFOLLOW: the file needs write permission, and
 * a FIFO never blocks the call. As tf_file_shred() otherwise.
 * Errors: as tf_file_shred(), and EACCES no write permission (nothing
 * changed); EINVAL a FIFO, socket or device (refused without being
 * opened); EISDIR a directory; ELOOP a symbolic
 * link; ENOENT; openat(2)'s.
 */
TF_API int tf_shred(const char *path, const tf_shred_opts *opts, tf_shred_report *report);

/*
 * Shreds the regular file open as fd (coreutils shred's "-", its standard
 * output): fd must be open for writing and not for appending. With
 * TF_SHRED_REMOVE the file is truncated and synced: a descriptor names no
 * file to remove. fd stays open. As tf_file_shred() otherwise.
 * Errors: as tf_file_shred(), and EBADF fd is not open, or not for writing;
 * EINVAL a FIFO, socket or device, or open with O_APPEND (pwrite(2) would
 * append); EISDIR a directory.
 */
TF_API int tf_shred_fd(int fd, const tf_shred_opts *opts, tf_shred_report *report);

/* tf_shred() of path relative to the directory descriptor dirfd. */
TF_API int tf_shredat(int dirfd, const char *path, const tf_shred_opts *opts,
                      tf_shred_report *report);

/*
 * Shreds every regular file in the tree at path, then, with TF_SHRED_REMOVE,
 * removes each such file the wipesync way and the tree with tf_rmtree()'s
 * rules. The walk never follows a symbolic link, never leaves the tree and
 * never enters another filesystem or mount (told by statx mount id; such a
 * directory is left and then makes the removal fail with EXDEV). All files
 * are probed first: if any one is refused, nothing is written. A file that
 * got a second hard link after the probe stops the writing walk there with
 * EMEDIUMTYPE (the files before it are shredded, and removed if asked; the
 * tree stays). Links, FIFOs,
 * sockets and devices are not opened (removal unlinks them). Directory names
 * are not overwritten. report (may be NULL) sums the files.
 * Errors: as tf_shred(); ENOTDIR path is not a directory; ELOOP deeper than
 * 256 levels; EMFILE; tf_rmtree()'s.
 */
TF_API int tf_shred_tree(const char *path, const tf_shred_opts *opts, tf_shred_report *report);

/* tf_shred_tree() of path relative to the directory descriptor dirfd. */
TF_API int tf_shred_treeat(int dirfd, const char *path, const tf_shred_opts *opts,
                           tf_shred_report *report);

/* ---------------------------------------------------------------------------
 * Handing a temporary file to another process (src/handoff.c)
 *
 * tf_file_send() passes a handle's descriptor over a UNIX socket (SCM_RIGHTS)
 * with what the receiver needs to own it: its name if it has one, its flags
 * and the mode of the hand-over. tf_file_recv() makes a full handle of it and
 * answers with one byte; only that answer completes the hand-over, so a
 * hand-over that fails anywhere leaves the file owned by the sender, whole.
 *
 * Move (the default): cleanup ownership moves. The receiver registers the
 * named file (its release, exit and fatal-signal handlers remove it), the
 * sender's registry entry goes and its handle is freed. The descriptor the
 * receiver gets is the sender's open file description, which carries the
 * live flock: the lock is held from creation to the receiver's close, so a
 * tf_sweep() never sees the file as an orphan while either process holds it.
 *
 * Share (TF_HANDOFF_SHARE): both keep a handle. The receiver reopens the
 * file (/proc/self/fd) for an open file description, offset and live lock of
 * its own. The last owner removes the name, decided by the locks: a shared
 * owner's release drops its lock and removes the name only if an exclusive
 * flock(LOCK_NB) on the file then succeeds (retried briefly, so that a
 * sweep's momentary probe is not taken for an owner), that is when no other
 * owner still holds its shared lock. A shared file leaves the cleanup
 * registry (exit and fatal signals of one owner must not take it from the
 * others): if every owner ends without releasing it, it is an unlocked
 * orphan for tf_sweep(). A shared handle always moves as a share (its
 * receiver becomes one more owner). A descriptor of the file that a forked child
 * inherited counts as an owner until that child closes it or execs.
 *
 * Both calls block until the peer has answered; use SOCK_SEQPACKET or
 * SOCK_STREAM sockets of AF_UNIX. Unnamed files move and share the same way
 * (the kernel removes them at the last close). A spooled file rolls over
 * first.
 *
 * No answer (TF_HANDOFF_NO_ANSWER, with move or share): the sender does not
 * wait for the receiver. Ownership moves (or is shared) as soon as sendmsg
 * has queued the message, and tf_file_send() returns then, so a hand-over
 * costs one message instead of two (1.4-2x faster a round trip,
 * bench/README.md). The trade-off: a hand-over that fails after that point
 * (the receiver refuses the file, runs out of descriptors, dies or closes
 * its socket before receiving) no longer leaves the file with the sender.
 * The receiver, or the kernel when the socket goes, closes the descriptor;
 * the live lock goes with the last one, and a named file is left as an
 * unlocked orphan that tf_sweep() removes (a moved file; a shared one is
 * still the sender's to remove as the last owner). Failures before the
 * message is queued (EPIPE, sendmsg(2)'s) leave it with the sender, as in
 * the default mode. tf_file_recv() needs no flag: it reads the mode from the
 * metadata and then answers nothing, not even on failure.
 *
 * Checks. A receiver checks what it is given so that a peer can neither make
 * it remove, rename or persist another file than the one handed over, nor
 * pass a read-only descriptor off as a writable one: a regular file, opened
 * for reading and writing, owned by the receiver or by the peer
 * (SO_PEERCRED), still named by its name (same device and inode). In the
 * default mode all of it comes before the answer, and a file that fails is
 * refused (NACK). A moved file received with TF_HANDOFF_NO_ANSWER is checked
 * on arrival for its type only (a FIFO, a device, a socket is refused there);
 * the rest waits for the handle's first use: the first read, write, seek,
 * truncate, tf_file_fileno() (and so persist, the FILE * view), tf_file_name(),
 * tf_file_shred(), or the release. A check that fails there fails that call
 * with the errno tf_file_recv() would have given (EBADMSG, EPERM), and every
 * later one: the handle is refused, its name dropped (nothing removes or
 * renames by it; tf_file_name() gives NULL) and its release closes the
 * descriptor only. Passing the handle on with tf_file_send() is no use: it
 * goes on unchecked, and its next receiver checks it. So a file that is only
 * relayed costs each hop recvmsg and one fstat. Ownership compares with the
 * effective uid seen at an earlier receive, confirmed by geteuid() at the
 * first use: after a change of credentials a receiver may refuse a file of
 * its former uid, never take one that is not its own or the peer's.
 * Whatever the mode, a received name is looked at again just before it is
 * removed (release, exit, fatal signal, tf_cleanup_now()): one that names
 * another file by then, or a file owned by neither the receiver nor the
 * peer, is left alone.
 * ------------------------------------------------------------------------- */

/* tf_file_send() flags */
enum {
    TF_HANDOFF_SHARE = 1u << 26,
    TF_HANDOFF_NO_ANSWER = 1u << 27,   /* see "No answer" above */
};

/* The largest metadata message: a 16-byte header and a name below PATH_MAX. */
#define TF_HANDOFF_META_MAX (16 + 4095)

/* The descriptor a child started by tf_file_spawn() receives on. */
#define TF_HANDOFF_CHILD_FD 3

/* Decoded metadata of a hand-over. */
typedef struct tf_handoff_meta {
    unsigned flags;        /* hand-over flags: TF_HANDOFF_SHARE,
                              TF_HANDOFF_NO_ANSWER, or 0 */
    unsigned file_flags;   /* the handle's TF_KEEP, TF_NO_DELETE_ON_CLOSE */
    const char *name;      /* absolute name inside the buffer decoded, not
                              NUL-terminated; NULL for an unnamed file */
    size_t name_len;
} tf_handoff_meta;

/*
 * Decodes a metadata message (pure: no syscall, no allocation; out is
 * written only on success). Format: "TFH" 0x01, then three little-endian
 * uint32: flags, file flags, name length, then the name (absolute, no NUL,
 * below PATH_MAX) and nothing after it.
 * Errors: EINVAL buf or out is NULL; EMSGSIZE len > TF_HANDOFF_META_MAX or a
 * name length past PATH_MAX - 1; EBADMSG anything else malformed (short,
 * magic, version, unknown flag bits, a length that disagrees with len, a
 * relative name, a NUL in it).
 */
TF_API int tf_handoff_decode(const void *buf, size_t len, tf_handoff_meta *out);

/*
 * Hands f to the peer of the UNIX socket sock (MSG_NOSIGNAL: a closed peer
 * is an error, not a SIGPIPE) and waits for its answer. Move (flags 0): on
 * success f is freed and the peer owns the file. Share: f stays the
 * caller's, as a shared owner. On failure f is as it was (a spooled file may
 * have rolled over). With TF_HANDOFF_NO_ANSWER it returns once the message
 * is queued, without waiting (see above). One failure of a call that waits
 * cannot be told from a refusal: the peer answered ACK and only reading
 * that answer failed (recvmsg(2)'s error); the peer then owns the file too,
 * and the first release of a moved file removes it for both.
 * Errors: EINVAL f is NULL or unknown flags; EBADF f is closed; EAFNOSUPPORT
 * sock is not an AF_UNIX socket (TCP and UDP take SCM_RIGHTS and drop the
 * descriptor: refused before anything is sent); ENOTSOCK; ECONNRESET the
 * peer closed before answering; ECONNREFUSED the peer refused the file (its
 * tf_file_recv() failed); EPIPE; sendmsg(2)'s and recvmsg(2)'s; a
 * rollover's errors. With TF_HANDOFF_NO_ANSWER: neither ECONNRESET nor
 * ECONNREFUSED nor recvmsg(2)'s (nothing is received).
 */
TF_API int tf_file_send(int sock, tf_file *f, unsigned flags);

/*
 * Receives a file sent by tf_file_send() on sock (MSG_CMSG_CLOEXEC) and
 * returns a handle that owns it as the sender's did (name, TF_KEEP,
 * TF_NO_DELETE_ON_CLOSE); the peer learns of the failure otherwise. A named
 * file must be a regular file opened for reading and writing, owned by the
 * peer (SO_PEERCRED) or by the caller, and still named by its name (same
 * device and inode), so a peer cannot make the receiver remove a file that
 * is not the one it hands over (see "Checks" above). Every descriptor
 * received is closed on failure.
 * Sent with TF_HANDOFF_NO_ANSWER, it answers nothing, on success or failure
 * (a failure then leaves the sender's file as an orphan for tf_sweep()), and
 * checks a moved file's type only on arrival: the other checks, and their
 * EBADMSG and EPERM, come at the handle's first use (see "Checks").
 * Errors: EINVAL unknown flags (none is defined: pass 0); EAFNOSUPPORT sock
 * is not an AF_UNIX socket, ENOTSOCK no socket (nothing read nor answered);
 * EBADMSG no
 * descriptor, more than one (also more than the 8 the control buffer holds:
 * MSG_CTRUNC), not a regular read-write file, the name not naming it, or
 * malformed metadata (tf_handoff_decode()); EMSGSIZE metadata too long (a
 * packet cut short: MSG_TRUNC, or a name length past PATH_MAX); EPERM a
 * named file owned by someone else; EMFILE the receiver is out of
 * descriptors (MSG_CTRUNC with fewer than 8 installed: RLIMIT_NOFILE);
 * ECONNRESET the peer closed before a whole message; ENOMEM; recvmsg(2)'s,
 * and fstat(2)'s, fstatat(2)'s, getsockopt(2)'s, openat(2)'s (share mode:
 * the reopen through /proc/self/fd).
 */
TF_API tf_file *tf_file_recv(int sock, unsigned flags) TF_MALLOC(tf_file_release);

/*
 * The seed's pattern in one call: a socket pair, fork, in the child its end
 * as TF_HANDOFF_CHILD_FD (without FD_CLOEXEC) and execv(path, argv), then
 * tf_file_send(..., f, flags) to it. Returns the child's pid. On failure
 * the file stays with the caller and a child that was started is waited for
 * (it sees its socket closed).
 * Errors: as tf_file_send(); socketpair(2)'s and fork(2)'s; ECONNRESET also
 * when the exec failed; EINVAL for TF_HANDOFF_NO_ANSWER (a child whose exec
 * failed would take the file along).
 */
TF_API pid_t tf_file_spawn(tf_file *f, const char *path, char *const argv[], unsigned flags);

/* ---------------------------------------------------------------------------
 * Adopting a descriptor the program holds (src/adopt.c)
 * ------------------------------------------------------------------------- */

/*
 * A handle around fd, an open descriptor of a regular file that the library
 * did not open itself (a language binding's file object, tf_mkstemp()'s
 * result), so that tf_file_persist(), tf_file_shred(), tf_file_send() and
 * every tf_file_* call work on it. fd must be open for reading and writing;
 * on success the handle owns it (tf_file_release() closes it), on failure
 * the caller still does. Pass a dup(2) to keep a descriptor of one's own.
 * path: NULL for a file with no name, else its absolute name, which must
 * name fd's file (same device and inode, a final symbolic link not
 * followed). flags: TF_KEEP (the library never removes the file: adopt a
 * file the caller removes itself) and TF_NO_DELETE_ON_CLOSE, with the
 * meaning they have for tf_named_temporary_file(); a named file adopted
 * without TF_KEEP is marked live and registered for removal at exit and on
 * fatal signals like one the library created.
 * Errors: EBADF fd is not open; EINVAL unknown flags, fd not a regular file
 * open for reading and writing, or a relative path; ESTALE path names
 * another file; ENOMEM; fcntl(2)'s, fstat(2)'s and fstatat(2)'s (ENOENT
 * path missing).
 */
TF_API tf_file *tf_file_adopt(int fd, const char *path, unsigned flags)
    TF_MALLOC(tf_file_release);

#ifdef __cplusplus
}
#endif

#endif /* TEMPFILE_H */
