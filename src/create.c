/*
 * Creation: Python's mkstemp, mkdtemp, mktemp and the nameless file behind
 * TemporaryFile. Every name is tried with O_EXCL (or mkdir's own exclusivity)
 * and a fresh random part, so a planted file or link is never opened.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Flags of every file we create by name: exclusive, never through a link. */
#define TF__CREATE_FLAGS (O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

TF__ASYNC_SAFE void tf__close_keep_errno(int fd)
{
    int err = errno;
    tf__sys.close(fd);
    errno = err;
}

void tf__undo_create(const char *path, int fd, int unlink_flags)
{
    int err = errno;
    tf__sys.unlinkat(AT_FDCWD, path, unlink_flags);
    if (fd >= 0)
        tf__sys.close(fd);
    errno = err;
}

int tf__try_names(struct tf__template *t, unsigned long tries,
                  int (*try_one)(const char *path, void *ctx), void *ctx)
{
    for (unsigned long i = 0; i < tries; i++) {
        if (tf__random_name(t->path + t->rand_off) < 0)
            return -1;
        int rc = try_one(t->path, ctx);
        if (rc >= 0 || errno != EEXIST)
            return rc;
    }
    errno = EEXIST;
    return -1;
}

/*
 * An explicit tf_opts.mode is applied exactly, whatever the umask. The default
 * (0600, 0700) is left to the umask as mkstemp(3) and Python do: it can only
 * make it stricter, and the fchmod would cost a syscall on every creation.
 */
static int fix_mode(int fd, const struct tf__mode *m)
{
    return m->exact ? tf__sys.fchmod(fd, m->bits) : 0;
}

static int open_new(const char *path, void *ctx)
{
    const struct tf__mode *m = ctx;
    int fd = tf__sys.openat(AT_FDCWD, path, TF__CREATE_FLAGS, m->bits);
    if (fd < 0)
        return -1;
    if (fix_mode(fd, m) < 0) {
        tf__undo_create(path, fd, 0);
        return -1;
    }
    return fd;
}

int tf_mkstemp(const tf_opts *opts, char **path)
{
    struct tf__template t;
    if (tf__template_init(&t, opts) < 0)
        return -1;
    struct tf__mode m = tf__mode(opts, TF__FILE_MODE);
    int fd = tf__try_names(&t, TF_TMP_MAX, open_new, &m);
    if (fd >= 0 && path)
        *path = t.path;
    else
        free(t.path);
    return fd;
}

struct new_dir {
    struct tf__mode mode;
    bool want_fd;
    int fd;   /* a descriptor of the new directory, or -1 */
};

/*
 * mkdir; then, if asked, a descriptor of the new directory, opened without
 * following links so that a swapped-in link cannot redirect a chmod through
 * it. A mode (or umask) without owner read cannot be opened: leave fd at -1,
 * and chmod by name where the mode must be exact, still refusing links.
 */
static int make_dir(const char *path, void *ctx)
{
    struct new_dir *nd = ctx;
    if (tf__sys.mkdirat(AT_FDCWD, path, nd->mode.bits) < 0)
        return -1;
    if (!nd->want_fd && !nd->mode.exact)
        return 0;
    int rc = 0;
    nd->fd = tf__sys.openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (nd->fd >= 0)
        rc = fix_mode(nd->fd, &nd->mode);
    else if (errno == EACCES)   /* the mode, or the umask, denies reading: no descriptor */
        rc = nd->mode.exact ? tf__sys.fchmodat(AT_FDCWD, path, nd->mode.bits, AT_SYMLINK_NOFOLLOW) : 0;
    else
        rc = -1;
    if (rc < 0)
        tf__undo_create(path, nd->fd, AT_REMOVEDIR);
    return rc;
}

int tf__create_dir(const tf_opts *opts, char **path, int *fd)
{
    struct tf__template t;
    if (tf__template_init(&t, opts) < 0)
        return -1;
    struct new_dir nd = { .mode = tf__mode(opts, TF__DIR_MODE), .want_fd = fd != NULL, .fd = -1 };
    if (tf__try_names(&t, TF_TMP_MAX, make_dir, &nd) < 0) {
        free(t.path);
        return -1;
    }
    *path = t.path;
    if (fd)
        *fd = nd.fd;
    else if (nd.fd >= 0)   /* opened for an exact mode only */
        tf__sys.close(nd.fd);
    return 0;
}

char *tf_mkdtemp(const tf_opts *opts)
{
    char *path;
    return tf__create_dir(opts, &path, NULL) < 0 ? NULL : path;
}

static int absent(const char *path, void *ctx)
{
    (void)ctx;
    struct stat st;
    if (tf__sys.fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return errno == ENOENT ? 0 : -1;
}

char *tf_mktemp(const tf_opts *opts)
{
    struct tf__template t;
    if (tf__template_init(&t, opts) < 0)
        return NULL;
    if (tf__try_names(&t, TF_TMP_MAX, absent, NULL) < 0) {
        free(t.path);
        return NULL;
    }
    return t.path;
}

/* Create-then-unlink, for filesystems without O_TMPFILE. */
static int create_unlinked(const tf_opts *opts)
{
    char *path;
    int fd = tf_mkstemp(opts, &path);
    if (fd < 0)
        return -1;
    /* The name must not outlive a failure: one more try before giving up. */
    if (tf__sys.unlinkat(AT_FDCWD, path, 0) < 0) {
        tf__undo_create(path, fd, 0);
        fd = -1;
    }
    free(path);
    return fd;
}

/* The errors by which open(2) says O_TMPFILE is not supported here. */
static int tmpfile_unsupported(int err)
{
    return err == EOPNOTSUPP || err == EISDIR || err == EINVAL;
}

int tf__create_unnamed(const tf_opts *opts)
{
    struct tf__parts n;
    if (tf__resolve(opts, &n) < 0)
        return -1;
    struct tf__mode m = tf__mode(opts, TF__FILE_MODE);
    /* O_EXCL: the file can never be linked into the filesystem. */
    int fd = tf__sys.openat(AT_FDCWD, n.dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, m.bits);
    int err = errno;
    free(n.owned);
    if (fd < 0) {
        errno = err;
        return tmpfile_unsupported(err) ? create_unlinked(opts) : -1;
    }
    if (fix_mode(fd, &m) < 0)
        fd = (tf__close_keep_errno(fd), -1);
    return fd;
}
