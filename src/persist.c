/*
 * Persist: a temporary file takes its final name. A named file is renamed
 * (renameat2; RENAME_NOREPLACE for no-clobber, link + unlink where the
 * filesystem refuses that flag), a linkable unnamed one is linked into place
 * (linkat AT_EMPTY_PATH or its /proc/self/fd path), a file on another
 * filesystem is copied into a sibling temporary that is renamed. The
 * destination is resolved once, descriptor-relative, under the symlink
 * policy; the directory descriptor it yields is the one fsync'ed for the
 * durable level. Also the helpers replace.c and lockfile.c share.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* Links followed at most, as the kernel's own limit (MAXSYMLINKS). */
#define TF__MAX_HOPS 40

#define TF__DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* ---- options ------------------------------------------------------------ */

int tf__persist_opts(const tf_persist_opts *opts, unsigned allowed, bool timeout_ok,
                     tf_persist_opts *out)
{
    *out = opts ? *opts : (tf_persist_opts){ 0 };
    bool ok = !(out->flags & ~allowed) && out->level >= 0 && out->level <= TF_LEVEL_DURABLE &&
              out->symlinks >= TF_SYMLINK_FOLLOW && out->symlinks <= TF_SYMLINK_REFUSE &&
              !(out->mode & ~(mode_t)07777) && (timeout_ok || out->timeout_ms == 0);
    for (size_t i = 0; i < sizeof out->reserved / sizeof out->reserved[0]; i++)
        ok = ok && out->reserved[i] == 0;
    if (!ok) {
        errno = EINVAL;
        return -1;
    }
    if (!out->level)
        out->level = TF_LEVEL_DURABLE;
    return 0;
}

/* ---- the destination ---------------------------------------------------- */

/* Absolute, with no "." or ".." component and no empty one: as the kernel
 * resolves it, whatever links it goes through. */
static bool plain_absolute(const char *dir)
{
    return dir[0] == '/' && !strstr(dir, "/.") && !strstr(dir, "//");
}

#define TF__DIR_PATH_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC)

/* The directory, read-only for the durable level's fsync; below that, or
 * one the process may write and search but not read (a drop box, 0733), by
 * O_PATH, which every *at call takes and fsync(2) refuses (EBADF: see
 * sync_dir()). O_PATH also costs less: no open of the directory itself (on
 * tmpfs, no readdir cursor made and freed). */
static int open_dir(int atfd, const char *dir, bool for_sync)
{
    int fd = for_sync ? tf__sys.openat(atfd, dir, TF__DIR_FLAGS, 0) : -1;
    if (for_sync && (fd >= 0 || errno != EACCES))
        return fd;
    return tf__sys.openat(atfd, dir, TF__DIR_PATH_FLAGS, 0);
}

/* Opens the directory part of path (relative to atfd) and copies its last
 * component, refusing what cannot name a regular file; keep_dir: keep that
 * part as the directory's path where it is one (see tf__dir_path()). */
static int open_parent(int atfd, const char *path, bool keep_dir, bool for_sync,
                       struct tf__target *t)
{
    if (!path) {
        errno = EINVAL;
        return -1;
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dlen = slash ? (size_t)(slash - path) : 0, blen = strlen(base);
    if (!*path) {
        errno = ENOENT;
        return -1;
    }
    if (!blen || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        errno = EISDIR;
        return -1;
    }
    char dir[PATH_MAX];
    if (blen > NAME_MAX || dlen >= sizeof dir) {   /* what the kernel would refuse */
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    memcpy(t->name, base, blen + 1);
    t->dirfd = open_dir(atfd, dlen ? dir : slash ? "/" : ".", for_sync);
    if (t->dirfd < 0)
        return -1;
    /* An absolute, plain directory part is the path: no /proc lookup later. */
    if (keep_dir && dlen && plain_absolute(dir) && !(t->dirpath = tf__strdup(dir))) {
        tf__close_keep_errno(t->dirfd);
        t->dirfd = -1;
        return -1;
    }
    return 0;
}

void tf__target_close(struct tf__target *t)
{
    if (t->dirfd >= 0)
        tf__close_keep_errno(t->dirfd);
    free(t->dirpath);
    tf__target_empty(t);
}

/* t names a symbolic link: make it name the link's target. */
static int hop(struct tf__target *t, bool keep_dir, bool for_sync)
{
    char buf[PATH_MAX];
    ssize_t n = tf__sys.readlinkat(t->dirfd, t->name, buf, sizeof buf);
    if (n < 0)
        return -1;
    if ((size_t)n == sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    buf[n] = '\0';
    struct tf__target next;
    tf__target_empty(&next);
    /* relative to the link's directory */
    if (open_parent(t->dirfd, buf, keep_dir, for_sync, &next) < 0)
        return -1;
    tf__target_close(t);
    *t = next;
    return 0;
}

/* Applies the symlink policy and checks what is there. */
static int resolve(struct tf__target *t, int policy, bool keep_dir, bool for_sync)
{
    struct stat st;
    for (int hops = 0;; hops++) {
        if (tf__sys.fstatat(t->dirfd, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                return -1;
            t->exists = false;
            return 0;
        }
        if (S_ISLNK(st.st_mode)) {
            if (policy == TF_SYMLINK_REPLACE)
                break;
            if (policy == TF_SYMLINK_REFUSE || hops == TF__MAX_HOPS) {
                errno = ELOOP;
                return -1;
            }
            if (hop(t, keep_dir, for_sync) < 0)
                return -1;
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
            return -1;
        }
        break;
    }
    t->exists = true;
    t->st = st;
    return 0;
}

int tf__target_open(int atfd, const char *path, const tf_persist_opts *o, struct tf__target *t)
{
    bool for_sync = o->level == TF_LEVEL_DURABLE, keep_dir = !(o->flags & TF__PERSIST_NAMELESS);
    tf__target_empty(t);
    if (open_parent(atfd, path, keep_dir, for_sync, t) < 0)
        return -1;
    if (resolve(t, o->symlinks, keep_dir, for_sync) < 0) {
        tf__target_close(t);
        return -1;
    }
    return 0;
}

/* The directory's absolute path by /proc (it may have been reached through
 * links or relative paths); malloc'd. */
static char *proc_dir_path(int dirfd)
{
    char proc[32], dir[PATH_MAX];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
    ssize_t n = tf__sys.readlinkat(AT_FDCWD, proc, dir, sizeof dir);
    if (n <= 0 || (size_t)n == sizeof dir) {
        errno = n < 0 ? errno : ENAMETOOLONG;
        return NULL;
    }
    dir[n] = '\0';
    return tf__strdup(dir);
}

char *tf__dir_path(struct tf__target *t, const char *leaf)
{
    if (!t->dirpath && !(t->dirpath = proc_dir_path(t->dirfd)))
        return NULL;
    size_t dlen = strcmp(t->dirpath, "/") == 0 ? 0 : strlen(t->dirpath), llen = strlen(leaf);
    char *p = tf__sys.malloc(dlen + llen + 2);
    if (!p)
        return NULL;
    memcpy(p, t->dirpath, dlen);
    p[dlen] = '/';
    memcpy(p + dlen + 1, leaf, llen + 1);
    return p;
}

/* ---- naming ------------------------------------------------------------- */

/* Writes a fresh sibling name (TF__SIBLING_LEN characters) into name. */
static int sibling_name(char *name)
{
    memcpy(name, TF__SIBLING_PREFIX, sizeof TF__SIBLING_PREFIX - 1);
    name[TF__SIBLING_LEN] = '\0';
    return tf__random_name(name + sizeof TF__SIBLING_PREFIX - 1);
}

int tf__sibling_create(int dirfd, char *name, mode_t mode)
{
    for (unsigned long i = 0; i < TF_TMP_MAX; i++) {
        if (sibling_name(name) < 0)
            return -1;
        int fd = tf__sys.openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Links the open file fd as name in dirfd (fails with EEXIST if taken). */
int tf__link_fd(int fd, int dirfd, const char *name)
{
    if (tf__sys.linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
        return 0;
    /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (ENOENT without it). */
    if (errno != ENOENT && errno != EPERM)
        return -1;
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return tf__sys.linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW);
}

/* Whether renameat2 refused the flag itself (the filesystem lacks it). */
static bool flag_refused(int err)
{
    return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP;
}

/* Renames sname over (or, no-clobber, beside nothing at) t. */
static int rename_to(int sdir, const char *sname, const struct tf__target *t, bool noclobber)
{
    if (!noclobber)
        return tf__sys.renameat2(sdir, sname, t->dirfd, t->name, 0);
    if (tf__sys.renameat2(sdir, sname, t->dirfd, t->name, RENAME_NOREPLACE) == 0)
        return 0;
    if (!flag_refused(errno))
        return -1;
    if (tf__sys.linkat(sdir, sname, t->dirfd, t->name, 0) < 0) {
        if (errno == EPERM)   /* no hard links here either */
            errno = EOPNOTSUPP;
        return -1;
    }
    if (tf__sys.unlinkat(sdir, sname, 0) == 0)
        return 0;
    /* Never two names: take back the one just made. */
    int err = errno;
    tf__sys.unlinkat(t->dirfd, t->name, 0);
    errno = err;
    return -1;
}

/*
 * The kernel links a nameless file once only (the first link ends
 * O_TMPFILE's I_LINKABLE): a sibling name whose rename failed is kept as
 * the file's name, a named temporary from then on (registered, marked live,
 * removed on close), so that the file handed back can still be persisted.
 */
static void keep_sibling(tf_file *f, char *path, const struct tf__target *t, const char *sib)
{
    if (tf__reg_add(&f->reg, TF__REG_FILE, path, -1) < 0) {
        tf__sys.unlinkat(t->dirfd, sib, 0);   /* nothing unregistered left behind */
        free(path);
        return;
    }
    tf__lock_live(f->fd);
    f->path = path;
    f->linked = true;
    f->linkable = false;
}

/* A linkable unnamed file: linked at once (no-clobber), or through a sibling
 * name renamed over t, so that t never names a half-placed file. */
static int link_to(tf_file *f, struct tf__target *t, bool noclobber)
{
    if (noclobber)
        return tf__link_fd(f->fd, t->dirfd, t->name);
    char sib[TF__SIBLING_LEN + 1];
    if (sibling_name(sib) < 0)
        return -1;
    char *path = tf__dir_path(t, sib);   /* ready before the link: it must not fail after */
    if (!path)
        return -1;
    size_t at = strlen(path) - TF__SIBLING_LEN;
    for (unsigned long i = 0;; i++) {
        if (tf__link_fd(f->fd, t->dirfd, sib) == 0)
            break;
        if (errno != EEXIST || i == TF_TMP_MAX || sibling_name(sib) < 0) {
            int err = errno;
            free(path);
            errno = err;
            return -1;
        }
        memcpy(path + at, sib, TF__SIBLING_LEN);
    }
    if (tf__sys.renameat2(t->dirfd, sib, t->dirfd, t->name, 0) == 0) {
        free(path);
        return 0;
    }
    int err = errno;
    keep_sibling(f, path, t, sib);
    errno = err;
    return -1;
}

static int sync_fd(int fd)
{
    int rc;
    do
        rc = tf__sys.fsync(fd);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* ---- copying across filesystems ----------------------------------------- */

/* Whether copy_file_range refused this pair of files as such. */
static bool copy_refused(int err)
{
    return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP ||
           err == EBADF;
}

/* The bytes read and written by hand, where copy_file_range is refused. */
static int copy_by_hand(int in, int out, off_t from, off_t size)
{
    char buf[65536];
    while (from < size) {
        ssize_t n = tf__sys.pread(in, buf, sizeof buf, from);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -1 : 0;   /* shrank meanwhile: what is there is the file */
        for (ssize_t done = 0; done < n;) {
            ssize_t w = tf__sys.write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                errno = w < 0 ? errno : ENOSPC;
                return -1;
            }
            done += w;
        }
        from += n;
    }
    return 0;
}

/* Copies the size bytes of in to the empty file out, leaving in's offset. */
static int copy_data(int in, int out, off_t size)
{
    off_t ioff = 0, ooff = 0;
    while (ioff < size) {
        ssize_t n = tf__sys.copy_file_range(in, &ioff, out, &ooff, (size_t)(size - ioff), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && ioff == 0 && copy_refused(errno))
            return copy_by_hand(in, out, 0, size);
        if (n <= 0)
            return n < 0 ? -1 : 0;
    }
    return 0;
}

/* The data of fd copied into a new sibling of t and renamed over t; *out
 * receives the copy's descriptor. */
static int copy_to(int fd, const struct tf__target *t, const tf_persist_opts *o, int *out)
{
    struct stat st;
    char sib[TF__SIBLING_LEN + 1];
    if (tf__sys.fstat(fd, &st) < 0)
        return -1;
    int nfd = tf__sibling_create(t->dirfd, sib, 0600);
    if (nfd < 0)
        return -1;
    off_t pos = tf__sys.lseek(fd, 0, SEEK_CUR);
    if (pos < 0 || copy_data(fd, nfd, st.st_size) < 0 || tf__sys.lseek(nfd, pos, SEEK_SET) < 0 ||
        tf__sys.fchmod(nfd, o->mode ? o->mode : st.st_mode & 07777) < 0 ||
        (o->level >= TF_LEVEL_CONSISTENT && sync_fd(nfd) < 0) ||
        rename_to(t->dirfd, sib, t, o->flags & TF_PERSIST_NOCLOBBER) < 0) {
        int err = errno;
        tf__sys.unlinkat(t->dirfd, sib, 0);
        tf__sys.close(nfd);
        errno = err;
        return -1;
    }
    *out = nfd;
    return 0;
}

/* ---- placing ------------------------------------------------------------ */

/*
 * The file now has its final name: no temporary any more. stale: after a
 * copy, the temporary's old name could not be removed; its registry entry
 * and the path it points to are left to the exit or signal cleanup.
 */
static void adopt(tf_file *f, char *path, int newfd, bool stale)
{
    if (stale)
        f->reg = NULL;   /* the old path string stays, for the entry */
    else
        tf__reg_remove(&f->reg), free(f->path);
    f->path = path;
    f->linked = false;
    f->linkable = false;
    f->flags |= TF_KEEP;
    if (newfd >= 0) {
        tf__sys.close(f->fd);
        f->fd = newfd;
    }
}

/* Puts the file in place: 0, or -1 with nothing changed (but a linkable
 * file's kept sibling name, link_to). */
static int put(tf_file *f, int sdir, const char *sname, struct tf__target *t,
               const tf_persist_opts *o, int *newfd, bool *stale)
{
    bool noclobber = o->flags & TF_PERSIST_NOCLOBBER;
    int rc;
    if (f->linkable)
        rc = link_to(f, t, noclobber);
    else if (sname && t->same_file && !noclobber)
        /* rename(2) between two links of one file does nothing and succeeds:
         * the destination names the file already, the old name must go. */
        rc = tf__sys.unlinkat(sdir, sname, 0);
    else if (sname)
        rc = rename_to(sdir, sname, t, noclobber);
    else
        rc = (errno = EXDEV, -1);   /* no name to move: only a copy will do */
    if (rc < 0 && errno == EXDEV && (o->flags & TF_PERSIST_COPY)) {
        rc = copy_to(f->fd, t, o, newfd);
        /* The old name goes with the copy in place (tried twice: it is ours). */
        *stale = rc == 0 && sname && tf__sys.unlinkat(sdir, sname, 0) < 0 &&
                 errno != ENOENT && tf__sys.unlinkat(sdir, sname, 0) < 0 && errno != ENOENT;
    }
    return rc;
}

/* The directory fsync after the rename: the level reached, or -1. */
static int sync_dir(int dirfd, const tf_persist_opts *o)
{
    if (sync_fd(dirfd) == 0)
        return TF_LEVEL_DURABLE;
    bool unreadable = errno == EBADF;   /* open by O_PATH: the process may not read it */
    if (unreadable)
        errno = EACCES;
    bool unsupported = unreadable || errno == EINVAL || errno == EOPNOTSUPP || errno == EROFS;
    return unsupported && !(o->flags & TF_PERSIST_STRICT) ? TF_LEVEL_CONSISTENT : -1;
}

int tf__place(tf_file *f, int sdir, const char *sname, struct tf__target *t,
              const tf_persist_opts *o, tf_persist_report *rep)
{
    tf_persist_report local;
    if (!rep)
        rep = &local;
    rep->level = 0;
    /* The copy syncs its own descriptor; a copy with a mode sets it itself. */
    bool copying = !f->linkable && !sname;
    if (o->level >= TF_LEVEL_CONSISTENT && !copying && sync_fd(f->fd) < 0)
        return -1;
    char *path = NULL;   /* the handle's new name */
    if (!(o->flags & TF__PERSIST_NAMELESS) && !(path = tf__dir_path(t, t->name)))
        return -1;
    int newfd = -1;
    bool stale = false;
    if (put(f, sdir, sname, t, o, &newfd, &stale) < 0) {
        int err = errno;
        free(path);
        errno = err;
        return -1;
    }
    adopt(f, path, newfd, stale);
    rep->level = o->level < TF_LEVEL_DURABLE ? o->level : TF_LEVEL_CONSISTENT;
    if (o->level < TF_LEVEL_DURABLE)
        return rep->level;
    int reached = sync_dir(t->dirfd, o);
    if (reached > 0)
        rep->level = reached;
    return reached;
}

/* ---- public ------------------------------------------------------------- */

#define TF__PERSIST_FLAGS (TF_PERSIST_NOCLOBBER | TF_PERSIST_STRICT | TF_PERSIST_COPY)

/* An explicit mode for the persisted file, put back if the persist fails
 * (*old: the mode it had; untouched, (mode_t)-1, without one). */
static int set_mode(int fd, mode_t mode, mode_t *old)
{
    struct stat st;
    if (!mode)
        return 0;
    if (tf__sys.fstat(fd, &st) < 0)
        return -1;
    *old = st.st_mode & 07777;
    return tf__sys.fchmod(fd, mode);
}

static int persist(tf_file *f, struct tf__target *t, const tf_persist_opts *o,
                   tf_persist_report *rep)
{
    mode_t old = (mode_t)-1;   /* 0 is a mode (umask 0777) */
    bool copying = !f->linkable && !(f->path && f->linked);
    if (!copying && set_mode(f->fd, o->mode, &old) < 0)
        return -1;
    bool marked = f->linked;   /* a named temporary holds the live flock */
    struct stat me;
    t->same_file = marked && t->exists && tf__sys.fstat(f->fd, &me) == 0 &&
                   me.st_dev == t->st.st_dev && me.st_ino == t->st.st_ino;
    int rc = tf__place(f, AT_FDCWD, f->linked ? f->path : NULL, t, o, rep);
    int err = errno;
    if (rc < 0 && old != (mode_t)-1 && rep->level == 0)   /* handed back as it was */
        tf__sys.fchmod(f->fd, old);
    /* No temporary any more: its flock would only hold off others' flocks
     * of the file while the handle stays open. */
    if (rep->level > 0 && marked)
        tf__sys.flock(f->fd, LOCK_UN);
    errno = err;
    return rc;
}

int tf_file_persist_at(tf_file *f, int dirfd, const char *name, const tf_persist_opts *opts,
                       tf_persist_report *report)
{
    tf_persist_opts o;
    tf_persist_report local;
    if (!report)
        report = &local;
    *report = (tf_persist_report){ 0 };
    if (!f || f->dur || tf__persist_opts(opts, TF__PERSIST_FLAGS, false, &o) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (f->closed) {
        errno = EBADF;
        return -1;
    }
    bool named = f->linkable || (f->path && f->linked);
    if (!named && !(o.flags & TF_PERSIST_COPY)) {
        errno = EINVAL;
        return -1;
    }
    /* A spooled file rolls over; the stream view's buffer goes in first. */
    if (tf_file_fileno(f) < 0 || (f->stream && fflush(f->stream) != 0))
        return -1;
    struct tf__target t;
    if (tf__target_open(dirfd, name, &o, &t) < 0)
        return -1;
    int rc = persist(f, &t, &o, report);
    tf__target_close(&t);
    return rc;
}

int tf_file_persist(tf_file *f, const char *dest, const tf_persist_opts *opts,
                    tf_persist_report *report)
{
    return tf_file_persist_at(f, AT_FDCWD, dest, opts, report);
}

tf_file *tf_linkable_temporary_file(const tf_opts *opts)
{
    struct tf__parts n;
    if (tf__resolve(opts, &n) < 0)
        return NULL;
    struct tf__mode m = tf__mode(opts, TF__FILE_MODE);
    /* No O_EXCL: this one may be linked into the filesystem. */
    int fd = tf__sys.openat(AT_FDCWD, n.dir, O_TMPFILE | O_RDWR | O_CLOEXEC, m.bits);
    int err = errno;
    free(n.owned);
    if (fd < 0) {
        errno = err;
        return err == EOPNOTSUPP || err == EISDIR || err == EINVAL
                   ? tf_named_temporary_file(opts) : NULL;
    }
    tf_file *f = NULL;
    if (!m.exact || tf__sys.fchmod(fd, m.bits) == 0)
        f = tf__file_new(fd, NULL, opts ? opts->flags : 0);
    if (!f) {
        tf__close_keep_errno(fd);
        return NULL;
    }
    f->linkable = true;
    return f;
}
