/*
 * Orphans: the sweep and the disk-use report.
 *
 * A live temporary holds a shared flock (registry.c, tf__lock_live), so an
 * entry on which an exclusive non-blocking flock succeeds is held by no
 * libtempfile handle: it was left by a crash, a SIGKILL or a kept temporary,
 * or it is in use without a lock (a tf_mkstemp() or tf_mkdtemp() result, a
 * closed TF_NO_DELETE_ON_CLOSE file, another program's file). Such entries are
 * judged by age only, the way systemd-tmpfiles does: the newest of atime,
 * mtime and ctime, over the whole tree for a directory (a directory's own
 * times do not change when a file inside is rewritten).
 *
 * The probe of a directory holds the exclusive lock for an instant only (a
 * creator's live lock waits it out); the sweep takes it again before
 * removing and holds it while it removes, through the probed descriptor,
 * checking before each removal by name that the name still is that entry. A
 * regular file's probe takes a write lease (granted only while nobody else
 * has the file open) and keeps it from before its times are read to its
 * unlink: open, two fcntl, one statx of the descriptor, one fstatat of the
 * name, unlinkat and close per orphan file. It only ever works fd-relative inside the
 * directory it was given.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define TF__SWEEP_DENTS 8192
/* A directory tree is looked at this deep, no deeper... */
#define TF__SWEEP_DEPTH 256
/* ...and this many entries at most: past either, its age is not known. */
#define TF__SWEEP_ENTRIES (1UL << 20)

time_t (*tf__sweep_clock_hook)(void);

struct match {
    const char *prefix, *suffix;
    size_t plen, slen;
    bool locks;                 /* TF_SWEEP_LOCK_FILES */
};

#define TF__SWEEP_FLAGS (TF_SWEEP_DRY_RUN | TF_SWEEP_LOCK_FILES)

/* The options, checked as the creating calls check theirs. */
static int match_init(struct match *m, const tf_sweep_opts *o)
{
    if (o && ((o->flags & ~(unsigned)TF__SWEEP_FLAGS) ||
              (o->reserved[0] | o->reserved[1] | o->reserved[2] | o->reserved[3]))) {
        errno = EINVAL;
        return -1;
    }
    m->prefix = o && o->prefix ? o->prefix : tf_gettempprefix();
    m->suffix = o && o->suffix ? o->suffix : "";
    m->locks = o && (o->flags & TF_SWEEP_LOCK_FILES);
    return tf__check_name_parts(m->prefix, m->suffix, &m->plen, &m->slen);
}

bool tf__name_matches(const char *prefix, size_t plen, const char *suffix, size_t slen,
                      const char *name)
{
    size_t len = strlen(name);
    if (len != plen + TF_RANDOM_CHARS + slen || memcmp(name, prefix, plen) != 0 ||
        memcmp(name + len - slen, suffix, slen) != 0)
        return false;
    for (size_t i = plen; i < plen + TF_RANDOM_CHARS; i++)
        if (!name[i] || !strchr(TF__ALPHABET, name[i]))
            return false;
    return true;
}

/* NAME.lock, tf_lock_file()'s (and git's) lock of NAME. */
static bool is_lock_name(const char *name)
{
    size_t len = strlen(name), slen = strlen(TF__LOCK_SUFFIX);
    return len > slen && strcmp(name + len - slen, TF__LOCK_SUFFIX) == 0;
}

static bool is_temp_name(const struct match *m, const char *name)
{
    return tf__name_matches(m->prefix, m->plen, m->suffix, m->slen, name);
}

static bool matches(const struct match *m, const char *name)
{
    return is_temp_name(m, name) || (m->locks && is_lock_name(name));
}

/* ---- looking at one entry ---------------------------------------------- */

/* Is the entry name in dirfd (of device dev, from its lstat) on the swept
 * directory's filesystem and mount (pl)? 1 yes, 0 no (a mount point: another
 * filesystem or a bind mount), -1 with errno if it could not be told. */
static int in_place(int dirfd, const char *name, dev_t dev, const struct tf__node *pl)
{
    struct tf__node id;
    if (dev != pl->dev)
        return 0;
    if (tf__identify(dirfd, name, &id) < 0)
        return -1;
    return tf__same_mount(&id, pl);
}

enum verdict { GONE, OTHER, LIVE_ENTRY, ORPHAN, UNKNOWN };

struct probe {
    enum verdict verdict;
    int fd;                     /* open, or -1; a directory's is never left
                                   locked, an orphan file's stays locked */
    bool is_dir;
    dev_t dev;                  /* the entry probed, as opened */
    ino_t ino;
    struct tf__node place;         /* the swept directory's */
    time_t changed;             /* max(mtime, ctime) over its tree when probed */
    unsigned long long bytes;
    unsigned long age;
};

static unsigned long long blocks_bytes(const struct stat *st)
{
    return (unsigned long long)st->st_blocks * 512;
}

/* The last access, modification or status change, whichever is newest. */
static time_t newest_time(const struct stat *st)
{
    time_t t = st->st_mtime;
    if (st->st_atime > t)
        t = st->st_atime;
    if (st->st_ctime > t)
        t = st->st_ctime;
    return t;
}

static time_t changed_time(const struct stat *st)
{
    return st->st_ctime > st->st_mtime ? st->st_ctime : st->st_mtime;
}

/*
 * Opens without following a final link and, where the caller may (owner or
 * CAP_FOWNER), without updating the access time: looking must not make an
 * orphan look used.
 */
static int open_noatime(int dirfd, const char *name, int flags)
{
    int fd = tf__sys.openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOATIME, 0);
    if (fd < 0 && errno == EPERM)
        fd = tf__sys.openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0);
    return fd;
}

/* A read-only look at a directory tree: its disk space and newest time. */
struct tree {
    struct tf__node place;         /* the swept directory's */
    unsigned long budget;       /* entries it may still look at */
    bool partial;               /* some of it could not be seen: age unknown */
    unsigned long long bytes;
    time_t newest;
    time_t changed;             /* the newest max(mtime, ctime): what a writer moves */
};

static void tree_add(struct tree *t, const struct stat *st)
{
    t->bytes += blocks_bytes(st);
    if (newest_time(st) > t->newest)
        t->newest = newest_time(st);
    if (changed_time(st) > t->changed)
        t->changed = changed_time(st);
}

static void tree_walk(struct tree *t, int fd, int depth);

/* Adds the entry name of the directory open as fd, and below, to t. */
static void tree_entry(struct tree *t, int fd, const char *name, int depth)
{
    struct stat st, cst;
    /* Gone meanwhile: something is at work in there. */
    if (tf__sys.fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        t->partial = true;
        return;
    }
    tree_add(t, &st);
    if (!S_ISDIR(st.st_mode))
        return;
    /* A mount point is not entered (a removal would not either). */
    int here = in_place(fd, name, st.st_dev, &t->place);
    if (here == 0)
        return;
    int child = -1;
    if (here > 0 && depth < TF__SWEEP_DEPTH)
        child = open_noatime(fd, name, O_RDONLY | O_DIRECTORY);
    if (child < 0 || tf__sys.fstat(child, &cst) < 0 ||
        cst.st_dev != st.st_dev || cst.st_ino != st.st_ino)
        t->partial = true;   /* too deep, unreadable, unknown mount, or swapped */
    else
        tree_walk(t, child, depth + 1);
    if (child >= 0)
        tf__sys.close(child);
}

/* Adds the entries of the directory open as fd, and below, to t. Never
 * follows a link nor enters a mount point (another filesystem or a bind
 * mount); bounded. */
static void tree_walk(struct tree *t, int fd, int depth)
{
    char *buf = tf__sys.malloc(TF__SWEEP_DENTS);
    if (!buf || tf__sys.lseek(fd, 0, SEEK_SET) < 0) {
        free(buf);
        t->partial = true;
        return;
    }
    struct tf__dir_reader r;
    const struct dirent64 *d;
    tf__dir_reader_init(&r, fd, buf, TF__SWEEP_DENTS);
    while ((d = tf__dir_next(&r)) && t->budget > 0) {
        t->budget--;
        tree_entry(t, fd, d->d_name, depth);
    }
    if (d || errno)   /* over budget, or unreadable */
        t->partial = true;
    free(buf);
}

/* The fields of struct stat that the age and size use, from a statx. */
static void stat_of(const struct statx *sx, struct stat *st)
{
    *st = (struct stat){ .st_mode = sx->stx_mode, .st_ino = sx->stx_ino,
                         .st_dev = makedev(sx->stx_dev_major, sx->stx_dev_minor),
                         .st_blocks = (blkcnt_t)sx->stx_blocks };
    st->st_atim = (struct timespec){ sx->stx_atime.tv_sec, sx->stx_atime.tv_nsec };
    st->st_mtim = (struct timespec){ sx->stx_mtime.tv_sec, sx->stx_mtime.tv_nsec };
    st->st_ctim = (struct timespec){ sx->stx_ctime.tv_sec, sx->stx_ctime.tv_nsec };
}

/*
 * Opens the entry looked at (p->dev, p->ino; st its look) and decides
 * whether a live process owns it. A directory's exclusive lock is dropped
 * at once (its tree is walked next, and locked again for a removal). A
 * regular file's lock and lease stay held when it is an orphan, and its times
 * are read under them: the removal can follow at once.
 */
static void lock_probe(int dirfd, const char *name, struct stat *st, struct probe *p)
{
    p->fd = open_noatime(dirfd, name, O_RDONLY | O_NONBLOCK | (p->is_dir ? O_DIRECTORY : 0));
    if (p->fd < 0) {
        p->verdict = errno == ENOENT ? GONE : UNKNOWN;
        return;
    }
    struct stat fst;
    int live = p->is_dir ? 0 : tf__probe_live_hold(p->fd);
    if (tf__sys.fstat(p->fd, &fst) < 0 || fst.st_dev != p->dev || fst.st_ino != p->ino) {
        p->verdict = UNKNOWN;   /* swapped between the look and the open */
        return;
    }
    if (p->is_dir)
        live = tf__probe_live(p->fd, true);
    else
        *st = fst;   /* a file's times, read under its lease or lock */
    p->verdict = live == 0 ? ORPHAN : live > 0 ? LIVE_ENTRY : UNKNOWN;
}

/*
 * What the entry name in dirfd is, by one statx: its type, identity, and
 * whether it is on the swept directory's filesystem and mount (pl). 1 a
 * regular file or (unless files_only) directory in place, 0 anything else (a
 * link, FIFO, device, mount point), -1 with errno if it could not be told.
 */
static int look(int dirfd, const char *name, const struct tf__node *pl, bool files_only,
                struct probe *p, struct stat *st)
{
    struct statx sx;
    if (tf__sys.statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_MNT_ID,
                      &sx) < 0) {
        /* a kernel without statx(2) */
        if (errno != ENOSYS || tf__sys.fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
            return -1;
        p->is_dir = S_ISDIR(st->st_mode);
        p->dev = st->st_dev;
        p->ino = st->st_ino;
        if (!S_ISREG(st->st_mode) && !(p->is_dir && !files_only))
            return 0;
        return in_place(dirfd, name, st->st_dev, pl);
    }
    stat_of(&sx, st);
    struct tf__node id = { makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino,
                           (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0 };
    p->is_dir = S_ISDIR(sx.stx_mode);
    p->dev = id.dev;
    p->ino = id.ino;
    return (S_ISREG(sx.stx_mode) || (p->is_dir && !files_only)) && tf__same_mount(&id, pl);
}

/* What the probed entry (stat st) holds: itself and, for a directory open as
 * p->fd that may be read (walk), its tree. */
static void look_at(const struct probe *p, const struct stat *st, bool walk, struct tree *t)
{
    *t = (struct tree){ .place = p->place, .budget = TF__SWEEP_ENTRIES };
    tree_add(t, st);
    if (p->is_dir && walk)
        tree_walk(t, p->fd, 1);
}

/*
 * An entry the directory listed as a regular file (d_type), opened at once:
 * O_RDONLY | O_NONBLOCK | O_NOFOLLOW of a name swapped meanwhile for a link
 * fails, for a FIFO does not block, for a socket fails; a device node needs
 * a privilege to make, and a hard link to one a filesystem that holds one.
 * Its lease (or lock) is taken (tf__probe_live_hold), then one statx of the
 * descriptor tells its type, mount, identity, size and times, read under
 * them. 0, or -1 if it is not to be looked at further (p->verdict says why).
 */
static int probe_file(int dirfd, const char *name, const struct tf__node *pl, struct probe *p,
                      struct stat *st)
{
    struct statx sx;
    p->fd = open_noatime(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (p->fd < 0) {
        p->verdict = errno == ENOENT ? GONE : errno == ELOOP || errno == ENXIO ? OTHER : UNKNOWN;
        return -1;
    }
    int live = tf__probe_live_hold(p->fd);
    if (tf__sys.statx(p->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0) {
        p->verdict = UNKNOWN;
        return -1;
    }
    struct tf__node id = { makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino,
                           (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0 };
    if (!S_ISREG(sx.stx_mode) || !tf__same_mount(&id, pl))
        return -1;   /* swapped for something else, or a mount point: OTHER */
    stat_of(&sx, st);
    p->dev = id.dev;
    p->ino = id.ino;
    p->verdict = live == 0 ? ORPHAN : live > 0 ? LIVE_ENTRY : UNKNOWN;
    return 0;
}

/*
 * The entry's mount is told by name, before it is opened: a mount point is
 * never opened, locked nor walked. The descriptor opened next is checked to
 * be the entry looked at (device and inode); a name swapped meanwhile for a
 * bind mount of that very directory would show the same tree, and
 * tf__rmtree_contents() itself never leaves the mount of the descriptor it is
 * given, so nothing outside can be reached that way either.
 */
static void probe(int dirfd, const struct tf__node *pl, const char *name, unsigned char type,
                  bool files_only, time_t now, struct probe *p)
{
    struct stat st;
    *p = (struct probe){ .verdict = OTHER, .fd = -1, .place = *pl };
    if (type == DT_REG) {
        /* One that could not be probed still counts with its size and age. */
        if (probe_file(dirfd, name, pl, p, &st) < 0 &&
            (p->verdict != UNKNOWN || tf__sys.fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0))
            return;
    } else {
        /* Links, FIFOs, devices and mount points (of another filesystem, or
         * bind mounts of this one) are never a temporary of ours. */
        int here = look(dirfd, name, pl, files_only, p, &st);
        if (here <= 0) {
            if (here < 0)
                p->verdict = errno == ENOENT ? GONE : UNKNOWN;
            return;
        }
        lock_probe(dirfd, name, &st, p);
    }
    if (p->verdict == GONE)
        return;
    struct tree t;
    look_at(p, &st, p->verdict != UNKNOWN, &t);
    p->age = now > t.newest ? (unsigned long)(now - t.newest) : 0;
    p->bytes = t.bytes;
    p->changed = t.changed;
    /* An orphan whose tree could not be seen whole may hide a recent change. */
    if (t.partial && p->verdict == ORPHAN)
        p->verdict = UNKNOWN;
}

static void probe_done(struct probe *p)
{
    if (p->fd >= 0)
        tf__sys.close(p->fd);   /* drops the lock */
    p->fd = -1;
}

/* ---- walking the directory ---------------------------------------------- */

typedef void (*visit_fn)(int dirfd, const char *name, struct probe *p, void *ctx);

/* The matching names in dirfd, each as its d_type byte, the name and a NUL:
 * read first, acted on after, so removals cannot disturb the reading. */
static char *collect(int dirfd, const struct match *m, size_t *len)
{
    char *dents = tf__sys.malloc(TF__SWEEP_DENTS), *names = NULL;
    size_t cap = 0;
    *len = 0;
    if (!dents)
        return NULL;
    struct tf__dir_reader r;
    const struct dirent64 *d;
    tf__dir_reader_init(&r, dirfd, dents, TF__SWEEP_DENTS);
    while ((d = tf__dir_next(&r))) {
        size_t l = strlen(d->d_name) + 2;
        if (!matches(m, d->d_name))
            continue;
        if (*len + l > cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *p = tf__sys.realloc(names, ncap);
            if (!p)
                goto fail;
            names = p, cap = ncap;
        }
        names[*len] = (char)d->d_type;
        memcpy(names + *len + 1, d->d_name, l - 1);
        *len += l;
    }
    if (errno)
        goto fail;
    free(dents);
    return names ? names : tf__strdup("");
fail:;
    int err = errno;
    free(dents);
    free(names);
    errno = err;
    return NULL;
}

/* A directory given by the caller, opened without following a final link. */
static int open_dir(const char *dir)
{
    if (!dir && !(dir = tf_gettempdir()))
        return -1;
    char *p = tf__strdup_trimmed(dir);
    if (!p)
        return -1;
    int fd = tf__open_dir(AT_FDCWD, p);
    if (fd < 0 && errno == ELOOP)
        errno = ENOTDIR;
    free(p);
    return fd;
}

static int each_match(const char *dir, const tf_sweep_opts *opts, visit_fn visit, void *ctx)
{
    struct match m;
    struct tf__node pl;
    struct timespec now;
    size_t len;
    if (match_init(&m, opts) < 0)
        return -1;
    int dirfd = open_dir(dir);
    if (dirfd < 0)
        return -1;
    char *names = NULL;
    if (tf__identify(dirfd, NULL, &pl) < 0 || !(names = collect(dirfd, &m, &len))) {
        tf__close_keep_errno(dirfd);
        return -1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    if (tf__sweep_clock_hook)
        now.tv_sec = tf__sweep_clock_hook();
    for (size_t off = 0; off < len; off += strlen(names + off + 1) + 2) {
        struct probe p;
        const char *name = names + off + 1;
        /* A lock file is a file: a directory named so is not ours. */
        probe(dirfd, &pl, name, (unsigned char)names[off], !is_temp_name(&m, name),
              now.tv_sec, &p);
        visit(dirfd, name, &p, ctx);
        probe_done(&p);
    }
    free(names);
    tf__sys.close(dirfd);
    return 0;
}

static unsigned long min_age(const tf_sweep_opts *o)
{
    return o && o->min_age ? o->min_age : TF_SWEEP_DEFAULT_AGE;
}

/* ---- tf_sweep ----------------------------------------------------------- */

struct sweep {
    const tf_sweep_opts *opts;
    tf_sweep_result res;
    int may_unlink;             /* dry run: -1 not known yet, 0 no, 1 any
                                   name, 2 only the caller's (sticky) */
};

/* Does name in dirfd still name the entry probed (open as p->fd)? */
static int still_probed(int dirfd, const char *name, const struct probe *p)
{
    struct stat st;
    if (tf__sys.fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (st.st_dev != p->dev || st.st_ino != p->ino) {
        errno = ESTALE;
        return -1;
    }
    return 0;
}

enum outcome { REMOVED, NOW_LIVE, CHANGED, FAILED };

/*
 * A directory's exclusive lock is taken again, held until probe_done(), for
 * the removal. A directory written to since the probe, anywhere in its tree,
 * is young again: the tree is looked at once more under the lock (a writer
 * that takes no lock can still come after that; one that does cannot).
 */
static enum outcome relock(struct probe *p)
{
    struct stat st;
    if (tf__sys.flock(p->fd, LOCK_EX | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? NOW_LIVE : FAILED;
    if (tf__sys.fstat(p->fd, &st) < 0)
        return FAILED;
    struct tree t;
    look_at(p, &st, true, &t);
    return !t.partial && t.changed == p->changed ? REMOVED : CHANGED;
}

/* Removes the probed directory through its descriptor, then its name if
 * that still names it. */
static enum outcome remove_orphan_dir(int dirfd, const char *name, struct probe *p)
{
    enum outcome r = relock(p);
    if (r != REMOVED)
        return r;
    if (still_probed(dirfd, name, p) < 0 || tf__rmtree_contents(p->fd, 0) < 0 ||
        still_probed(dirfd, name, p) < 0)
        return FAILED;
    if (tf__sys.unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return FAILED;
    return REMOVED;
}

/*
 * An orphan file's lease (or lock) has been held since before its times were
 * read (probe_file): it is unlinked once its name is seen to still name it,
 * with no second lock nor look.
 */
static enum outcome remove_orphan(int dirfd, const char *name, struct probe *p)
{
    if (p->is_dir)
        return remove_orphan_dir(dirfd, name, p);
    if (still_probed(dirfd, name, p) < 0 ||
        (tf__sys.unlinkat(dirfd, name, 0) < 0 && errno != ENOENT))
        return FAILED;
    return REMOVED;
}

/* CAP_FOWNER in the effective set: the sticky bit does not bind us. */
static bool has_fowner(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    if (syscall(SYS_capget, &h, d) != 0)
        return geteuid() == 0;
    return (d[CAP_FOWNER / 32].effective >> (CAP_FOWNER % 32)) & 1;
}

/* Which names of dirfd the caller may unlink (struct sweep's may_unlink). */
static int may_unlink(int dirfd)
{
    struct stat st;
    if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0 || tf__sys.fstat(dirfd, &st) < 0)
        return 0;
    return (st.st_mode & S_ISVTX) && st.st_uid != geteuid() && !has_fowner() ? 2 : 1;
}

/*
 * A dry run's guess at what the removal would meet: the permissions of the
 * swept directory (write and search; a sticky one lets only the owner of
 * the entry or of the directory unlink it) and, for a directory, its own
 * (it is emptied first). Its tree's are not looked at.
 */
static bool removable(struct sweep *s, int dirfd, const struct probe *p)
{
    struct stat st;
    if (s->may_unlink < 0)
        s->may_unlink = may_unlink(dirfd);
    if (s->may_unlink == 0 || tf__sys.fstat(p->fd, &st) < 0)
        return false;
    if (s->may_unlink == 2 && st.st_uid != geteuid())
        return false;
    return !p->is_dir || st.st_uid == geteuid() ||
           faccessat(p->fd, ".", W_OK | X_OK, AT_EACCESS) == 0;
}

static void sweep_one(int dirfd, const char *name, struct probe *p, void *ctx)
{
    struct sweep *s = ctx;
    const tf_sweep_opts *o = s->opts;
    if (p->verdict == LIVE_ENTRY)
        s->res.live++;
    else if (p->verdict == UNKNOWN)
        s->res.failed++;
    if (p->verdict != ORPHAN)
        return;
    if (p->age < min_age(o)) {
        s->res.young++;
        return;
    }
    if (!(o && (o->flags & TF_SWEEP_DRY_RUN))) {
        enum outcome r = remove_orphan(dirfd, name, p);
        if (r != REMOVED) {
            *(r == NOW_LIVE ? &s->res.live : r == CHANGED ? &s->res.young : &s->res.failed) += 1;
            return;
        }
    } else if (!removable(s, dirfd, p)) {
        s->res.failed++;   /* as the removal would fail */
        return;
    }
    s->res.removed++;
    s->res.bytes += p->bytes;
    probe_done(p);   /* an open of the file in the report would wait for it */
    if (o && o->report)
        o->report(&(tf_sweep_entry){ name, p->is_dir, p->bytes, p->age }, o->arg);
}

int tf_sweep(const char *dir, const tf_sweep_opts *opts, tf_sweep_result *result)
{
    struct sweep s = { .opts = opts, .may_unlink = -1 };
    if (each_match(dir, opts, sweep_one, &s) < 0)
        return -1;
    if (result)
        *result = s.res;
    return 0;
}

/* ---- tf_disk_usage ----------------------------------------------------------- */

struct usage {
    unsigned long min_age;
    tf_usage_report rep;
};

static void usage_one(int dirfd, const char *name, struct probe *p, void *ctx)
{
    (void)dirfd, (void)name;
    struct usage *u = ctx;
    tf_usage_report *r = &u->rep;
    if (p->verdict == GONE || p->verdict == OTHER)
        return;
    r->count++;
    if (p->age > r->oldest_age)
        r->oldest_age = p->age;
    r->bytes += p->bytes;
    if (p->verdict == UNKNOWN) {
        r->unknown++;
    } else if (p->verdict == LIVE_ENTRY) {
        r->live++;
        r->live_bytes += p->bytes;
    } else {
        r->orphans++;
        r->orphan_bytes += p->bytes;
        r->sweepable += p->age >= u->min_age;
    }
}

int tf_disk_usage(const char *dir, const tf_sweep_opts *opts, tf_usage_report *report)
{
    struct usage u = { .min_age = min_age(opts) };
    if (!report) {
        errno = EINVAL;
        return -1;
    }
    if (each_match(dir, opts, usage_one, &u) < 0)
        return -1;
    *report = u.rep;
    return 0;
}
