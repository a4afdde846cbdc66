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

/* A refusal: a line in the report, and unless best effort was asked the
 * failure it names (so a caller can say what stopped the commit). */
static int let_go(const tf_persist_opts *o, tf_persist_report *rep, unsigned what, int err)
{
    rep->not_copied |= what;
    if (!rep->not_copied_errno)
        rep->not_copied_errno = err;
    if (o->flags & TF_PERSIST_BEST_EFFORT)
        return 0;
    errno = err;
    return -1;
}

/* The umask, read without changing it (umask(2) cannot be read from one
 * thread while others create files); 077 where /proc cannot tell. Only a
 * destination that was there when its handle was made and is gone at the
 * commit needs it: any other new destination's temporary was created as a
 * new file (see tf__handle_mode()). */
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

/* *changed: the temporary's mode may no longer be the one *me says. */
static int carry_owner(int fd, const struct stat *old, struct stat *me, bool *changed,
                       const tf_persist_opts *o, tf_persist_report *rep)
{
    if (tf__sys.fstat(fd, me) < 0)
        return -1;
    uid_t u = old->st_uid != me->st_uid ? old->st_uid : (uid_t)-1;
    gid_t g = old->st_gid != me->st_gid ? old->st_gid : (gid_t)-1;
    if (u == (uid_t)-1 && g == (gid_t)-1)
        return 0;
    *changed = true;   /* fchown clears the set-user-ID and set-group-ID bits */
    if (tf__sys.fchown(fd, u, g) == 0)
        return 0;
    int err = errno;
    /* Best effort: the group alone may still be ours to give. */
    if ((o->flags & TF_PERSIST_BEST_EFFORT) && u != (uid_t)-1 && g != (gid_t)-1)
        tf__sys.fchown(fd, (uid_t)-1, g);
    return let_go(o, rep, TF_META_OWNER, err);
}

/*
 * The old file, as its extended attributes are read: name in dirfd, never
 * following a link swapped in at the last component, and no descriptor of
 * the old file needed. listxattrat/getxattrat (Linux 6.13) take the pair as
 * it is; an older kernel (ENOSYS, or EPERM from a seccomp filter that does
 * not know them) is asked the l* calls on the directory's /proc path, which
 * costs a walk through /proc on every call (about three times the lookup).
 */
struct old_file {
    int dirfd;
    const char *name;
    char path[PATH_MAX];   /* the /proc path, made at its first use */
};

/* Not an initialiser: that would clear the 4 KiB of path on every replace. */
static void old_file_at(struct old_file *of, int dirfd, const char *name)
{
    of->dirfd = dirfd;
    of->name = name;
    of->path[0] = '\0';
}

static bool at_refused(int err)
{
    return err == ENOSYS || err == EPERM;
}

static int proc_path(struct old_file *of)
{
    if (of->path[0])
        return 0;
    if (snprintf(of->path, sizeof of->path, "/proc/self/fd/%d/%s", of->dirfd, of->name) >=
        (int)sizeof of->path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* llistxattr (attr NULL) or lgetxattr of the old file. */
static ssize_t xattr_call(struct old_file *of, const char *attr, char *buf, size_t n)
{
    ssize_t r = attr ? tf__sys.getxattrat(of->dirfd, of->name, AT_SYMLINK_NOFOLLOW, attr, buf, n)
                     : tf__sys.listxattrat(of->dirfd, of->name, AT_SYMLINK_NOFOLLOW, buf, n);
    if (r >= 0 || !at_refused(errno))
        return r;
    if (proc_path(of) < 0)
        return -1;
    return attr ? tf__sys.lgetxattr(of->path, attr, buf, n) : tf__sys.llistxattr(of->path, buf, n);
}

/* A list of names (attr NULL) or a value: into small when it fits (one call,
 * the usual case), else into *heap, sized by a call first; ERANGE (it grew
 * meanwhile) retries. Returns the length; the bytes are in *heap or small. */
static ssize_t fetch(struct old_file *of, const char *attr, char *small, size_t cap, char **heap)
{
    *heap = NULL;
    ssize_t n = xattr_call(of, attr, small, cap);
    for (int tries = 0; n < 0 && errno == ERANGE && tries < 8; tries++) {
        free(*heap);
        *heap = NULL;
        if ((n = xattr_call(of, attr, NULL, 0)) < 0)
            break;
        if (!(*heap = tf__sys.malloc((size_t)n + 1)))
            return -1;
        n = xattr_call(of, attr, *heap, (size_t)n + 1);
    }
    if (n < 0) {
        int err = errno;
        free(*heap);
        *heap = NULL;
        errno = err;
    }
    return n;
}

/* Room for the values and lists most files have (a label, an ACL). */
#define SMALL_XATTR 512

static int copy_one(struct old_file *of, const char *name, int fd, const tf_persist_opts *o,
                    tf_persist_report *rep)
{
    char small[SMALL_XATTR], *heap;
    ssize_t n = fetch(of, name, small, sizeof small, &heap);
    if (n < 0)
        return errno == ENODATA ? 0 : -1;   /* removed meanwhile: nothing to carry */
    int rc = tf__sys.fsetxattr(fd, name, heap ? heap : small, (size_t)n, 0);
    free(heap);
    if (rc == 0)
        return 0;
    bool acl = strncmp(name, "system.posix_acl_", 17) == 0;
    return let_go(o, rep, acl ? TF_META_ACL : TF_META_XATTR, errno);
}

/* The old file's list of xattr names (n bytes into small, or *heap); a
 * filesystem without xattrs has none. */
static ssize_t list_names(struct old_file *of, char *small, char **heap)
{
    ssize_t n = fetch(of, NULL, small, SMALL_XATTR, heap);
    return n < 0 && errno == ENOTSUP ? 0 : n;
}

#define ACL_ACCESS "system.posix_acl_access"

/* A temporary made in a directory with a default ACL inherits it. The old
 * file had no ACL: neither may the result, whose named entries the mode's
 * group bits (the ACL's mask) would let read or write what the old file's
 * mode kept from them. One look (ENODATA: nothing came), since removing an
 * ACL that is not there succeeds all the same. */
static int drop_inherited_acl(int fd, bool *changed, const tf_persist_opts *o,
                              tf_persist_report *rep)
{
    if (tf__sys.fgetxattr(fd, ACL_ACCESS, NULL, 0) < 0)
        return errno == ENODATA || errno == ENOTSUP ? 0 : let_go(o, rep, TF_META_ACL, errno);
    if (tf__sys.fremovexattr(fd, ACL_ACCESS) < 0)
        return let_go(o, rep, TF_META_ACL, errno);
    *changed = true;   /* the mode's group bits were the ACL's mask */
    return 0;
}

/* Every extended attribute of name in dirfd onto fd, by the names listed
 * now or (look->listed) at begin; *copied: some were. */
static int carry_xattrs(int dirfd, const char *name, int fd, const struct tf__meta_look *look,
                        bool *copied, const tf_persist_opts *o, tf_persist_report *rep)
{
    struct old_file of;
    old_file_at(&of, dirfd, name);
    char small[SMALL_XATTR], *heap = NULL;
    ssize_t n = look->listed ? look->n : list_names(&of, small, &heap);
    if (n < 0)
        return -1;
    const char *names = look->listed ? look->names : heap ? heap : small;
    if (n > 0)
        *copied = true;
    int rc = 0;
    bool acl = false;
    for (ssize_t i = 0; i < n && rc == 0; i += (ssize_t)strlen(names + i) + 1) {
        acl |= strcmp(names + i, ACL_ACCESS) == 0;
        rc = copy_one(&of, names + i, fd, o, rep);
    }
    free(heap);
    return rc == 0 && !acl ? drop_inherited_acl(fd, copied, o, rep) : rc;
}

/* No old file there (none, or a link that the result replaces): nothing
 * of an old file's to keep from anyone. */
static bool new_destination(const struct tf__target *t)
{
    return !t->exists || S_ISLNK(t->st.st_mode);
}

/*
 * A new destination with no mode given has no old content to protect:
 * whoever may read or write the temporary is exactly whoever may read or
 * write the result (git creates its lock files the same way). So its
 * temporary is created at 0666, which the kernel makes a new file's mode
 * exactly as open(2) does (0666 & ~umask, or what the directory's default
 * ACL gives, and a set-group-ID directory's group): no look at the umask,
 * no fchmod at the commit. Anything else at 0600: an existing destination's
 * handle may be written for long while that file's readers are not the
 * temporary's, and a mode given may be narrower (set exactly at commit).
 */
mode_t tf__handle_mode(const struct tf__target *t, const tf_persist_opts *o)
{
    return !o->mode && new_destination(t) ? TF__NEW_FILE_MODE : 0600;
}

/*
 * The mode the one-shot creates its temporary with. Made at 0600 and
 * fchmod'ed at commit, it would cost one fchmod per replace; made at the
 * mode the result will have, it costs nothing more whenever the umask (or a
 * default ACL of the directory) leaves that mode whole, which the owner
 * fstat made anyway tells. But the temporary is readable at that mode while
 * it is written, and whoever opens it then keeps the descriptor: so only
 * where that shows the bytes to nobody who could not read the old file:
 *  - a mode given, or a new destination: as tf_replace_begin()'s
 *    (tf__handle_mode(): 0600, or 0666 for the kernel to make a new
 *    file's mode; an abort shows what was written so far to whoever the
 *    result would have let read it: GLib's g_file_set_contents_full does
 *    the same);
 *  - an old file that everyone may read (other r), whose bits only narrow
 *    from owner to group to other, with no extended attribute (no ACL
 *    that singles someone out, no security label): its mode without
 *    write bits for group and other (nobody else can write the temporary)
 *    nor set-user-ID, set-group-ID, sticky (fchmod'ed at commit). Whatever
 *    the temporary's owner and group (the directory's if set-group-ID),
 *    its readers could read the old file already;
 *  - any other old file (0640 say, whose group may not be the
 *    temporary's): 0600.
 */
static mode_t create_mode(const struct tf__target *t, ssize_t nxattrs, const tf_persist_opts *o)
{
    if (o->mode || new_destination(t))
        return tf__handle_mode(t, o);
    mode_t m = t->st.st_mode & 0777, u = m >> 6 & 7, g = m >> 3 & 7, w = m & 7;
    bool narrowing = !(g & ~u) && !(w & ~g);
    return nxattrs == 0 && (w & 4) && narrowing ? m & 0755 : 0600;
}

int tf__meta_look(const struct tf__target *t, const tf_persist_opts *o,
                  struct tf__meta_look *look)
{
    *look = (struct tf__meta_look){ .listed = true };
    if (t->exists && S_ISREG(t->st.st_mode)) {
        struct old_file of;
        old_file_at(&of, t->dirfd, t->name);
        char small[SMALL_XATTR], *heap = NULL;
        ssize_t n = list_names(&of, small, &heap);
        if (n > 0 && !heap && (heap = tf__sys.malloc((size_t)n)))
            memcpy(heap, small, (size_t)n);
        if (n < 0 || (n > 0 && !heap))
            return -1;
        look->n = n;
        look->names = heap;
    }
    look->created = create_mode(t, look->n, o);
    return 0;
}

void tf__meta_look_free(struct tf__meta_look *look)
{
    free(look->names);
    *look = (struct tf__meta_look){ 0 };
}

/* A new destination, or a link replaced: nothing to carry over. A
 * temporary created as a new file already has a new file's mode; one
 * created 0600 (the destination was there at begin, gone now) gets it. */
static int fresh_mode(int fd, const struct tf__meta_look *look, const tf_persist_opts *o)
{
    if (o->mode)
        return tf__sys.fchmod(fd, o->mode);
    return look->created == TF__NEW_FILE_MODE ? 0 : tf__sys.fchmod(fd, 0666 & ~current_umask());
}

int tf__meta_carry(int fd, int dirfd, const char *name, const struct tf__target *seen,
                   const struct tf__meta_look *look, const tf_persist_opts *o,
                   tf_persist_report *rep)
{
    struct stat st;
    if (seen && !seen->exists)
        return fresh_mode(fd, look, o);
    if (seen)
        st = seen->st;
    else if (tf__sys.fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? fresh_mode(fd, look, o) : -1;
    if (S_ISLNK(st.st_mode)) {
        if (o->symlinks == TF_SYMLINK_REPLACE)
            return fresh_mode(fd, look, o);
        errno = ELOOP;   /* a link appeared where begin found none */
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    /* Owner first: fchown clears the set-user-ID and set-group-ID bits.
     * Mode last: an ACL sets the mode's bits, a mode given must win. A
     * temporary that already has the mode (as fstat saw it, nothing changed
     * since) needs no fchmod. */
    struct stat me;
    bool changed = false;
    if (carry_owner(fd, &st, &me, &changed, o, rep) < 0 ||
        carry_xattrs(dirfd, name, fd, look, &changed, o, rep) < 0)
        return -1;
    mode_t want = o->mode ? o->mode : st.st_mode & 07777;
    if (!changed && (me.st_mode & 07777) == want)
        return 0;
    return tf__sys.fchmod(fd, want);
}
