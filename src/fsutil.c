/*
 * Descriptor-relative helpers shared by everything that walks or removes
 * directories: tree removal (rmtree.c), the orphan sweep (sweep.c), the
 * registry's cleanup at exit and in signal handlers (registry.c); and
 * whether a name still names an open file (adopt.c, handoff.c). They must
 * agree exactly on what "the same directory" and "the same filesystem" are,
 * so each of those answers has one definition, here.
 *
 * Every function here is TF__ASYNC_SAFE: async-signal-safe calls only, no
 * allocation, no lock, so the fatal-signal cleanup may call them.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

TF__ASYNC_SAFE int tf__identify(int dirfd, const char *name, struct tf__node *id)
{
    struct statx sx;
    int flags = AT_SYMLINK_NOFOLLOW | (name ? 0 : AT_EMPTY_PATH);
    if (tf__sys.statx(dirfd, name ? name : "", flags, STATX_INO | STATX_MNT_ID, &sx) == 0) {
        *id = (struct tf__node){ makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino,
                                 (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0 };
        return 0;
    }
    struct stat st;   /* a kernel without statx(2) */
    if (errno != ENOSYS || tf__sys.fstatat(dirfd, name ? name : "", &st, flags) < 0)
        return -1;
    *id = (struct tf__node){ st.st_dev, st.st_ino, 0 };
    return 0;
}

TF__ASYNC_SAFE bool tf__same_node(const struct tf__node *a, const struct tf__node *b)
{
    return a->dev == b->dev && a->ino == b->ino;
}

/* The mount id is what tells a bind mount of the same filesystem, which the
 * device number alone would let a walker enter. */
TF__ASYNC_SAFE bool tf__same_mount(const struct tf__node *a, const struct tf__node *b)
{
    return a->dev == b->dev && (!a->mnt || !b->mnt || a->mnt == b->mnt);
}

TF__ASYNC_SAFE int tf__names_file(int dirfd, const char *name, dev_t dev, ino_t ino)
{
    struct stat st;
    if (tf__sys.fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    return st.st_dev == dev && st.st_ino == ino;
}

TF__ASYNC_SAFE int tf__open_dir(int dirfd, const char *name)
{
    return tf__sys.openat(dirfd, name, TF__DIR_OPEN, 0);
}

TF__ASYNC_SAFE bool tf__dir_removed(int fd)
{
    struct stat st;
    if (tf__sys.fstat(fd, &st) < 0)   /* NFS, FUSE: gone at the server */
        return errno == ENOENT || errno == ESTALE;
    return st.st_nlink == 0;
}

TF__ASYNC_SAFE int tf__chmod_pinned(int pfd, mode_t mode)
{
    if (tf__sys.fchmodat2(pfd, "", mode, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return -1;
    /* "/proc/self/fd/N", built without stdio. */
    char path[32] = "/proc/self/fd/", digits[12];
    int n = 0;
    for (unsigned v = (unsigned)pfd; n == 0 || v; v /= 10)
        digits[n++] = (char)('0' + v % 10);
    size_t len = strlen(path);
    while (n)
        path[len++] = digits[--n];
    path[len] = '\0';
    if (tf__sys.fchmodat(AT_FDCWD, path, mode, 0) == 0)
        return 0;
    /* No /proc: the directory is there, only this way to it is not (glibc's
     * fchmodat says the same). ENOENT would read as "already removed". */
    if (errno == ENOENT)
        errno = EOPNOTSUPP;
    return -1;
}

/*
 * The directory is pinned with O_PATH (which needs no permission on it, never
 * opens a link and refuses a non-directory), checked, and made 0700 through
 * that descriptor, so that nothing swapped in under its name meanwhile (a hard
 * link to an outside file, say) can receive the chmod.
 */
TF__ASYNC_SAFE int tf__open_dir_owner(int dirfd, const char *name, const struct tf__node *within)
{
    int fd = tf__open_dir(dirfd, name);
    if (fd >= 0 || errno != EACCES)
        return fd;
    return tf__reopen_dir_owner(dirfd, name, within);
}

TF__ASYNC_SAFE int tf__reopen_dir_owner(int dirfd, const char *name, const struct tf__node *within)
{
    int pfd = tf__sys.openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (pfd < 0)
        return -1;
    struct tf__node id;
    int rc = 0;
    if (within && tf__identify(pfd, NULL, &id) < 0)
        rc = -1;
    else if (within && !tf__same_mount(&id, within))
        rc = -1, errno = EXDEV;
    if (rc == 0)
        rc = tf__chmod_pinned(pfd, 0700);
    tf__close_keep_errno(pfd);
    return rc < 0 ? -1 : tf__open_dir(dirfd, name);
}

TF__ASYNC_SAFE void tf__dir_reader_init(struct tf__dir_reader *r, int fd, void *buf, size_t cap)
{
    *r = (struct tf__dir_reader){ .fd = fd, .buf = buf, .cap = cap };
}

TF__ASYNC_SAFE const struct dirent64 *tf__dir_next(struct tf__dir_reader *r)
{
    for (;;) {
        if (r->off >= r->len) {
            ssize_t n = tf__sys.getdents64(r->fd, r->buf, r->cap);
            r->off = 0;
            r->len = n > 0 ? (size_t)n : 0;
            if (n <= 0) {
                if (n == 0)
                    errno = 0;
                return NULL;
            }
        }
        const struct dirent64 *d = (const struct dirent64 *)(r->buf + r->off);
        r->off += d->d_reclen;
        const char *s = d->d_name;
        if (!(s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'))))
            return d;
    }
}

TF__ASYNC_SAFE bool tf__dir_batch_last(const struct tf__dir_reader *r)
{
    return r->len + TF__DIRENT_MAX <= r->cap;
}
