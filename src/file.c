/*
 * The one handle for every temporary file. Each call checks the handle and
 * dispatches to its backend (f->ops): the descriptor backend lives here, the
 * memory backend of spooled files in spool.c.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the descriptor backend ------------------------------------------- */

static ssize_t fd_read(tf_file *f, void *buf, size_t n)
{
    ssize_t r;
    do
        r = tf__sys.read(f->fd, buf, n);
    while (r < 0 && errno == EINTR);
    return r;
}

static ssize_t fd_write(tf_file *f, const void *buf, size_t n)
{
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t w = tf__sys.write(f->fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {   /* no progress and no error: the device is full */
            errno = ENOSPC;
            return -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)n;
}

static off_t fd_seek(tf_file *f, off_t off, int whence)
{
    return tf__sys.lseek(f->fd, off, whence);
}

static int fd_truncate(tf_file *f, off_t size)
{
    int rc;
    do
        rc = tf__sys.ftruncate(f->fd, size);
    while (rc < 0 && errno == EINTR);
    return rc;
}

static int fd_fileno(tf_file *f)
{
    return f->fd;
}

static int fd_close(tf_file *f)
{
    int fd = f->fd;
    f->fd = -1;
    /* Detached (tf_file_detach): the descriptor is the caller's to close.
     * Linux releases a descriptor even when close fails: never retry. */
    return fd < 0 ? 0 : tf__sys.close(fd);
}

const struct tf__file_ops tf__fd_ops = {
    .read = fd_read,
    .write = fd_write,
    .seek = fd_seek,
    .truncate = fd_truncate,
    .fileno = fd_fileno,
    .close = fd_close,
};

/* ---- creation --------------------------------------------------------- */

tf_file *tf__file_new(int fd, char *path, unsigned flags)
{
    tf_file *f = tf__sys.malloc(sizeof *f);
    if (!f)
        return NULL;
    *f = (tf_file){ .ops = &tf__fd_ops, .fd = fd, .flags = flags, .path = path,
                    .linked = path != NULL };
    tf__window_close(&f->win);
    return f;
}

tf_file *tf__file_new_registered(int fd, char *path, unsigned flags)
{
    tf_file *f = tf__file_new(fd, path, flags);
    if (f && !(flags & TF_KEEP) && tf__reg_add(&f->reg, TF__REG_FILE, path, -1) < 0) {
        free(f);
        return NULL;
    }
    return f;
}

/* Frees the handle's memory only. */
static void file_free(tf_file *f)
{
    tf__reg_remove(&f->reg);   /* before the path it points to goes */
    tf__durable_free(f->dur);
    free(f->stream_buf);   /* wiped when the view closed */
    free(f->path);
    free(f);
}

static unsigned flags_of(const tf_opts *opts)
{
    return opts ? opts->flags : 0;
}

tf_file *tf_temporary_file(const tf_opts *opts)
{
    int fd = tf__create_unnamed(opts);
    if (fd < 0)
        return NULL;
    tf_file *f = tf__file_new(fd, NULL, flags_of(opts));
    if (!f)
        tf__close_keep_errno(fd);
    return f;
}

/* Creates, marks live (flock) and registers for removal at exit or on a signal. */
static tf_file *new_named(const tf_opts *opts)
{
    char *path;
    int fd = tf_mkstemp(opts, &path);
    if (fd < 0)
        return NULL;
    tf__lock_live(fd);
    tf_file *f = tf__file_new_registered(fd, path, flags_of(opts));
    if (!f) {
        tf__undo_create(path, fd, 0);
        free(path);
    }
    return f;
}

tf_file *tf_named_temporary_file(const tf_opts *opts)
{
    /* One step as far as fatal signals are concerned: no unregistered name. */
    struct tf__reg_guard g;
    tf__reg_begin(&g);
    tf_file *f = new_named(opts);
    tf__reg_end(&g);
    return f;
}

/* ---- the calls -------------------------------------------------------- */

/* EINVAL for no handle, EBADF for a closed one. */
static int open_handle(const tf_file *f)
{
    if (!f) {
        errno = EINVAL;
        return 0;
    }
    if (f->closed) {
        errno = EBADF;
        return 0;
    }
    return 1;
}

/* EINVAL for a bad argument, once the handle itself passed open_handle(). */
static int valid(int ok)
{
    if (!ok)
        errno = EINVAL;
    return ok;
}

unsigned char tf__no_window[1];

/*
 * Reads and writes of a spooled file in memory are served from its window
 * (internal.h) when it holds them: `n - 1 < room` is 1 <= n <= room, so an
 * empty access and every other case take the backend's full path. A closed
 * or disk-backed handle has no window. The accesses of up to 16 bytes are
 * served inline by tf_file_read and tf_file_write, which then need no stack
 * frame; larger ones here, out of line.
 */
__attribute__((noinline)) static ssize_t read_any(tf_file *f, void *buf, size_t n)
{
    if (f && buf && n && f->win.mark - f->win.at >= (ptrdiff_t)n) {
        memcpy(buf, f->win.at, n);
        f->win.at += n;
        return (ssize_t)n;
    }
    return open_handle(f) && valid(buf != NULL) ? f->ops->read(f, buf, n) : -1;
}

__attribute__((noinline)) static ssize_t write_any(tf_file *f, const void *buf, size_t n)
{
    if (f && buf && n - 1 < (size_t)(f->win.end - f->win.at)) {
        memcpy(f->win.at, buf, n);
        f->win.at += n;
        return (ssize_t)n;
    }
    return open_handle(f) && valid(buf != NULL) ? f->ops->write(f, buf, n) : -1;
}

ssize_t tf_file_read(tf_file *f, void *buf, size_t n)
{
    if (n - 1 < 16 && f && buf && (ptrdiff_t)n <= f->win.mark - f->win.at) {
        tf__copy_small(buf, f->win.at, n);
        f->win.at += n;
        return (ssize_t)n;
    }
    return read_any(f, buf, n);
}

ssize_t tf_file_write(tf_file *f, const void *buf, size_t n)
{
    if (n - 1 < 16 && f && buf && n <= (size_t)(f->win.end - f->win.at)) {
        tf__copy_small(f->win.at, buf, n);
        f->win.at += n;
        return (ssize_t)n;
    }
    return write_any(f, buf, n);
}

int tf_file_putc_full(tf_file *f, int c)
{
    unsigned char b = (unsigned char)c;
    return tf_file_write(f, &b, 1) < 0 ? -1 : b;
}

int tf_file_getc_full(tf_file *f)
{
    unsigned char b;
    return tf_file_read(f, &b, 1) == 1 ? b : -1;
}

off_t tf_file_seek(tf_file *f, off_t offset, int whence)
{
    /* lseek(2) would take SEEK_DATA and SEEK_HOLE, memory would not: one
     * answer for every backend. */
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) {
        errno = EINVAL;
        return -1;
    }
    return open_handle(f) ? f->ops->seek(f, offset, whence) : -1;
}

off_t tf_file_tell(tf_file *f)
{
    return tf_file_seek(f, 0, SEEK_CUR);
}

int tf_file_truncate(tf_file *f, off_t size)
{
    return open_handle(f) && valid(size >= 0) ? f->ops->truncate(f, size) : -1;
}

int tf_file_fileno(tf_file *f)
{
    return open_handle(f) ? f->ops->fileno(f) : -1;
}

const char *tf_file_name(const tf_file *f)
{
    /* A received name is shown once checked: the handle is not const, only
     * this view of it (the check may drop a name that was a lie). */
    if (f && !f->closed && tf__recv_vet((tf_file *)f) < 0)
        return NULL;
    if (!f || !f->path)
        errno = f ? ENOENT : EINVAL;
    return f ? f->path : NULL;
}

int tf_file_keep(tf_file *f)
{
    if (!f) {
        errno = EINVAL;
        return -1;
    }
    f->flags |= TF_KEEP;
    tf__reg_remove(&f->reg);
    return 0;
}

int tf_file_closed(const tf_file *f)
{
    if (!f) {
        errno = EINVAL;
        return -1;
    }
    return f->closed;
}

/*
 * A replace's temporary goes by the directory held since begin: its path
 * may have moved, or name another directory through a link, since. And
 * only if the name still names the handle's file, as close found it: a
 * lock file's name is fixed, and another taker may hold it by now (this
 * handle inherited by a forked child after the parent's commit, or the
 * lock removed under it). The name is removed if that cannot be told.
 */
static bool durable_name_taken(const tf_file *f)
{
    struct stat st;
    return f->ino && tf__sys.fstatat(f->dur->t.dirfd, f->dur->tmpname, &st,
                                     AT_SYMLINK_NOFOLLOW) == 0 &&
           (st.st_dev != f->dev || st.st_ino != f->ino);
}

/* Removes the name if it is still ours; a name already gone is no error. */
static int unlink_name(tf_file *f)
{
    if (!f->linked || (f->flags & TF_KEEP))
        return 0;
    if (f->shared)
        return tf__share_unlink(f);
    /* A name that could not be removed stays ours and registered: release,
     * tf_cleanup_now() or the exit handler tries again. */
    int dirfd = f->dur ? f->dur->t.dirfd : AT_FDCWD;
    const char *name = f->dur ? f->dur->tmpname : f->path;
    int rc = 1;
    if (f->verify)
        rc = tf__unlink_checked(f->path, &(struct tf__file_id){ f->dev, f->ino, f->peer_uid });
    else if (f->dur && durable_name_taken(f))
        rc = 1;   /* not ours any more: left to its holder */
    else if (tf__sys.unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        rc = -1;
    if (rc < 0)
        return -1;
    f->linked = 0;
    /* Only now: a fatal signal arriving before the unlink still removes it. */
    tf__reg_remove(&f->reg);
    if (rc == 0) {   /* a received name that no longer names the file: dropped */
        free(f->path);
        f->path = NULL;
        errno = ESTALE;
        return -1;
    }
    return 0;
}

/* Runs every step even when one fails, and reports the first failure. */
static void first_error(int *err, int rc)
{
    if (rc < 0 && !*err)
        *err = errno;
}

int tf_file_close(tf_file *f)
{
    if (!f) {
        errno = EINVAL;
        return -1;
    }
    if (f->closed)
        return 0;
    int err = 0;
    /* A received file not used yet: its name is checked while the
     * descriptor is still there (a refused name is not removed). */
    if (f->linked)
        first_error(&err, tf__recv_vet(f));
    struct stat st;
    if (f->dur && f->linked && tf__sys.fstat(f->fd, &st) == 0)   /* see durable_name_taken() */
        f->dev = st.st_dev, f->ino = st.st_ino;
    first_error(&err, tf__stream_close(f));
    first_error(&err, f->ops->close(f));
    f->closed = 1;
    if (!(f->flags & TF_NO_DELETE_ON_CLOSE))
        first_error(&err, unlink_name(f));
    errno = err ? err : errno;
    return err ? -1 : 0;
}

int tf_file_detach(tf_file *f)
{
    /* The view's buffer goes in while the handle still has the descriptor;
     * then a spooled file rolls over with all its data. */
    if (f && !f->closed && tf__stream_close(f) < 0)
        return -1;
    int fd = tf_file_fileno(f);
    if (fd < 0)
        return -1;
    f->fd = -1;
    if (tf_file_close(f) < 0) {
        tf__close_keep_errno(fd);
        return -1;
    }
    return fd;
}

int tf_file_release(tf_file *f)
{
    if (!f)
        return 0;
    int err = 0;
    first_error(&err, tf_file_close(f));
    /* The handle goes whatever happens: a failure that may pass (EINTR,
     * EBUSY) gets a second try while the name is still known. */
    if (unlink_name(f) < 0)
        first_error(&err, unlink_name(f));
    file_free(f);
    errno = err ? err : errno;
    return err ? -1 : 0;
}
