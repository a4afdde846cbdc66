/*
 * The replaced file's metadata, carried over to the temporary that replaces
 * it, before the rename: owner and group, mode, every extended attribute the
 * process can read (user.*, security.*, trusted.*, the POSIX ACL in
 * system.posix_acl_access). Anything that cannot be carried over fails the
 * commit, unless the caller asked for best effort and a report.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A refusal: failure, or under best effort a line in the report. */
static int let_go(const tf_persist_opts *o, tf_persist_report *rep, unsigned what, int err)
{
    if (!(o->flags & TF_PERSIST_BEST_EFFORT)) {
        errno = err;
        return -1;
    }
    rep->not_copied |= what;
    if (!rep->not_copied_errno)
        rep->not_copied_errno = err;
    return 0;
}

/* The umask, read without changing it (umask(2) cannot be read from one
 * thread while others create files); 077 where /proc cannot tell. */
static mode_t current_umask(void)
{
    char buf[1024];
    int fd = tf__sys.openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
    ssize_t n = fd < 0 ? -1 : tf__sys.read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        tf__sys.close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *u = strstr(buf, "\nUmask:");
    return u ? (mode_t)strtoul(u + 7, NULL, 8) & 0777 : 077;
}

static int carry_owner(int fd, const struct stat *old, const tf_persist_opts *o,
                       tf_persist_report *rep)
{
    struct stat me;
    if (tf__sys.fstat(fd, &me) < 0)
        return -1;
    uid_t u = old->st_uid != me.st_uid ? old->st_uid : (uid_t)-1;
    gid_t g = old->st_gid != me.st_gid ? old->st_gid : (gid_t)-1;
    if ((u == (uid_t)-1 && g == (gid_t)-1) || tf__sys.fchown(fd, u, g) == 0)
        return 0;
    int err = errno;
    /* Best effort: the group alone may still be ours to give. */
    if ((o->flags & TF_PERSIST_BEST_EFFORT) && u != (uid_t)-1 && g != (gid_t)-1)
        tf__sys.fchown(fd, (uid_t)-1, g);
    return let_go(o, rep, TF_META_OWNER, err);
}

/* A list of names or a value, sized by a first call; ERANGE (it grew) retries. */
static ssize_t fetch(const char *path, const char *name, char **out)
{
    for (int tries = 0; tries < 8; tries++) {
        ssize_t n = name ? tf__sys.lgetxattr(path, name, NULL, 0) : tf__sys.llistxattr(path, NULL, 0);
        if (n <= 0)
            return n;
        char *buf = tf__sys.malloc((size_t)n);
        if (!buf)
            return -1;
        ssize_t m = name ? tf__sys.lgetxattr(path, name, buf, (size_t)n)
                         : tf__sys.llistxattr(path, buf, (size_t)n);
        if (m >= 0) {
            *out = buf;
            return m;
        }
        free(buf);
        if (errno != ERANGE)
            return -1;
    }
    errno = ERANGE;
    return -1;
}

static int copy_one(const char *path, const char *name, int fd, const tf_persist_opts *o,
                    tf_persist_report *rep)
{
    char *val = NULL;
    ssize_t n = fetch(path, name, &val);
    if (n < 0)
        return errno == ENODATA ? 0 : -1;   /* removed meanwhile: nothing to carry */
    int rc = tf__sys.fsetxattr(fd, name, val ? val : "", (size_t)n, 0);
    free(val);
    if (rc == 0)
        return 0;
    bool acl = strncmp(name, "system.posix_acl_", 17) == 0;
    return let_go(o, rep, acl ? TF_META_ACL : TF_META_XATTR, errno);
}

/* Every extended attribute of name in dirfd onto fd. Through the
 * directory's /proc path: no descriptor of the old file is needed, and the
 * l* calls do not follow a link swapped in at the last component. */
static int carry_xattrs(int dirfd, const char *name, int fd, const tf_persist_opts *o,
                        tf_persist_report *rep)
{
    char path[PATH_MAX], *names = NULL;
    if (snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    ssize_t n = fetch(path, NULL, &names);
    if (n < 0)
        return errno == ENOTSUP ? 0 : -1;   /* a filesystem without them has none */
    int rc = 0;
    for (ssize_t i = 0; i < n && rc == 0; i += (ssize_t)strlen(names + i) + 1)
        rc = copy_one(path, names + i, fd, o, rep);
    free(names);
    return rc;
}

/* A new destination, or a link replaced: nothing to carry over. */
static int fresh_mode(int fd, const tf_persist_opts *o)
{
    return tf__sys.fchmod(fd, o->mode ? o->mode : 0666 & ~current_umask());
}

int tf__meta_carry(int fd, int dirfd, const char *name, const tf_persist_opts *o,
                   tf_persist_report *rep)
{
    struct stat st;
    if (tf__sys.fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? fresh_mode(fd, o) : -1;
    if (S_ISLNK(st.st_mode)) {
        if (o->symlinks == TF_SYMLINK_REPLACE)
            return fresh_mode(fd, o);
        errno = ELOOP;   /* a link appeared where begin found none */
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    /* Owner first: fchown clears the set-user-ID and set-group-ID bits.
     * Mode last: an ACL sets the mode's bits, a mode given must win. */
    if (carry_owner(fd, &st, o, rep) < 0 || carry_xattrs(dirfd, name, fd, o, rep) < 0)
        return -1;
    return tf__sys.fchmod(fd, o->mode ? o->mode : st.st_mode & 07777);
}
