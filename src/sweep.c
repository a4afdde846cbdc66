/*
 * Orphans: the sweep and the disk-use report.
 *
 * A live temporary holds a shared flock (registry.c, tf__lock_live), so an
 * entry on which an exclusive non-blocking flock succeeds belongs to no live
 * process: it was left by a crash, a SIGKILL or a kept temporary. The sweep
 * removes such entries once old enough, holding that exclusive lock while it
 * does, and only ever works fd-relative inside the directory it was given.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TF__SWEEP_DENTS 8192
/* Directory sizes are summed this deep, no deeper (disk use is a report). */
#define TF__SWEEP_DEPTH 64

struct match {
    const char *prefix, *suffix;
    size_t plen, slen;
};

static int match_init(struct match *m, const tf_sweep_opts *o)
{
    m->prefix = o && o->prefix ? o->prefix : tf_gettempprefix();
    m->suffix = o && o->suffix ? o->suffix : "";
    if (strchr(m->prefix, '/') || strchr(m->suffix, '/')) {
        errno = EINVAL;
        return -1;
    }
    m->plen = strlen(m->prefix);
    m->slen = strlen(m->suffix);
    return 0;
}

/* prefix + TF_RANDOM_CHARS characters of the alphabet + suffix, exactly. */
static bool matches(const struct match *m, const char *name)
{
    size_t len = strlen(name);
    if (len != m->plen + TF_RANDOM_CHARS + m->slen ||
        memcmp(name, m->prefix, m->plen) != 0 ||
        memcmp(name + len - m->slen, m->suffix, m->slen) != 0)
        return false;
    for (size_t i = m->plen; i < m->plen + TF_RANDOM_CHARS; i++)
        if (!name[i] || !strchr(TF__ALPHABET, name[i]))
            return false;
    return true;
}

/* ---- looking at one entry ---------------------------------------------- */

enum verdict { GONE, OTHER, LIVE_ENTRY, ORPHAN, UNKNOWN };

struct probe {
    enum verdict verdict;
    int fd;                     /* open (and exclusively locked if ORPHAN), or -1 */
    bool is_dir;
    unsigned long long bytes;
    unsigned long age;
};

static unsigned long long blocks_bytes(const struct stat *st)
{
    return (unsigned long long)st->st_blocks * 512;
}

static unsigned long long tree_bytes(int fd, dev_t dev, int depth);

/* Disk space of the entries of the directory open as fd (not following links). */
static unsigned long long entries_bytes(int fd, dev_t dev, int depth, char *buf)
{
    unsigned long long total = 0;
    ssize_t n;
    if (tf__sys.lseek(fd, 0, SEEK_SET) < 0)
        return 0;
    while ((n = tf__sys.getdents64(fd, buf, TF__SWEEP_DENTS)) > 0) {
        for (ssize_t off = 0; off < n;) {
            const struct dirent64 *d = (const struct dirent64 *)(buf + off);
            off += d->d_reclen;
            struct stat st;
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
                tf__sys.fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            int child = -1;
            if (S_ISDIR(st.st_mode) && st.st_dev == dev && depth < TF__SWEEP_DEPTH)
                child = tf__sys.openat(fd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
            if (child < 0) {
                total += blocks_bytes(&st);
                continue;
            }
            total += tree_bytes(child, dev, depth + 1);
            tf__sys.close(child);
        }
    }
    return total;
}

/* Disk space of a directory and everything below it on the same filesystem. */
static unsigned long long tree_bytes(int fd, dev_t dev, int depth)
{
    struct stat st;
    if (tf__sys.fstat(fd, &st) < 0)
        return 0;
    unsigned long long total = blocks_bytes(&st);
    char *buf = tf__sys.malloc(TF__SWEEP_DENTS);
    if (buf) {
        total += entries_bytes(fd, dev, depth, buf);
        free(buf);
    }
    return total;
}

static int open_entry(int dirfd, const char *name, bool is_dir)
{
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (is_dir ? O_DIRECTORY : 0);
    return tf__sys.openat(dirfd, name, flags, 0);
}

/* Opens the entry checked by lstat and decides whether a live process owns it. */
static void lock_probe(int dirfd, const char *name, const struct stat *st, struct probe *p)
{
    struct stat fst;
    p->fd = open_entry(dirfd, name, p->is_dir);
    if (p->fd < 0) {
        p->verdict = errno == ENOENT ? GONE : UNKNOWN;
        return;
    }
    if (tf__sys.fstat(p->fd, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
        p->verdict = UNKNOWN;   /* swapped between lstat and open */
        return;
    }
    if (tf__sys.flock(p->fd, LOCK_EX | LOCK_NB) == 0)
        p->verdict = ORPHAN;
    else
        p->verdict = errno == EWOULDBLOCK ? LIVE_ENTRY : UNKNOWN;
}

static void probe(int dirfd, dev_t dev, const char *name, time_t now, struct probe *p)
{
    struct stat st;
    *p = (struct probe){ .verdict = OTHER, .fd = -1 };
    if (tf__sys.fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        p->verdict = errno == ENOENT ? GONE : UNKNOWN;
        return;
    }
    /* Links, FIFOs, devices and mount points are never a temporary of ours. */
    if ((!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) || st.st_dev != dev)
        return;
    p->is_dir = S_ISDIR(st.st_mode);
    p->age = now > st.st_mtime ? (unsigned long)(now - st.st_mtime) : 0;
    lock_probe(dirfd, name, &st, p);
    if (p->verdict == GONE || p->verdict == UNKNOWN)
        return;
    p->bytes = p->is_dir ? tree_bytes(p->fd, dev, 1) : blocks_bytes(&st);
}

static void probe_done(struct probe *p)
{
    if (p->fd >= 0)
        tf__sys.close(p->fd);   /* drops the lock */
    p->fd = -1;
}

/* ---- walking the directory ---------------------------------------------- */

typedef void (*visit_fn)(int dirfd, const char *name, struct probe *p, void *ctx);

/* The matching names in dirfd, NUL-separated: read first, acted on after, so
 * removals cannot disturb the reading. */
static char *collect(int dirfd, const struct match *m, size_t *len)
{
    char *dents = tf__sys.malloc(TF__SWEEP_DENTS), *names = NULL;
    size_t cap = 0;
    ssize_t n;
    *len = 0;
    if (!dents)
        return NULL;
    while ((n = tf__sys.getdents64(dirfd, dents, TF__SWEEP_DENTS)) > 0) {
        for (ssize_t off = 0; off < n;) {
            const struct dirent64 *d = (const struct dirent64 *)(dents + off);
            off += d->d_reclen;
            size_t l = strlen(d->d_name) + 1;
            if (!matches(m, d->d_name))
                continue;
            if (*len + l > cap) {
                size_t ncap = cap ? cap * 2 : 4096;
                char *p = tf__sys.realloc(names, ncap);
                if (!p)
                    goto fail;
                names = p, cap = ncap;
            }
            memcpy(names + *len, d->d_name, l);
            *len += l;
        }
    }
    if (n < 0)
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
    char *p = tf__strdup(dir);
    if (!p)
        return -1;
    /* A trailing slash would make the kernel follow a final symbolic link. */
    for (size_t len = strlen(p); len > 1 && p[len - 1] == '/';)
        p[--len] = '\0';
    int fd = tf__sys.openat(AT_FDCWD, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0 && errno == ELOOP)
        errno = ENOTDIR;
    free(p);
    return fd;
}

static int each_match(const char *dir, const tf_sweep_opts *opts, visit_fn visit, void *ctx)
{
    struct match m;
    struct stat st;
    struct timespec now;
    size_t len;
    if (match_init(&m, opts) < 0)
        return -1;
    int dirfd = open_dir(dir);
    if (dirfd < 0)
        return -1;
    char *names = NULL;
    if (tf__sys.fstat(dirfd, &st) < 0 || !(names = collect(dirfd, &m, &len))) {
        tf__close_keep_errno(dirfd);
        return -1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    for (size_t off = 0; off < len; off += strlen(names + off) + 1) {
        struct probe p;
        probe(dirfd, st.st_dev, names + off, now.tv_sec, &p);
        visit(dirfd, names + off, &p, ctx);
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
};

static int remove_orphan(int dirfd, const char *name, const struct probe *p)
{
    if (p->is_dir)
        return tf_rmtreeat(dirfd, name, 0);
    if (tf__sys.unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        return -1;
    return 0;
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
    if (!(o && (o->flags & TF_SWEEP_DRY_RUN)) && remove_orphan(dirfd, name, p) < 0) {
        s->res.failed++;
        return;
    }
    s->res.removed++;
    s->res.bytes += p->bytes;
    if (o && o->report)
        o->report(&(tf_sweep_entry){ name, p->is_dir, p->bytes, p->age }, o->arg);
}

int tf_sweep(const char *dir, const tf_sweep_opts *opts, tf_sweep_result *result)
{
    struct sweep s = { .opts = opts };
    if (each_match(dir, opts, sweep_one, &s) < 0)
        return -1;
    if (result)
        *result = s.res;
    return 0;
}

/* ---- tf_usage ----------------------------------------------------------- */

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

int tf_usage(const char *dir, const tf_sweep_opts *opts, tf_usage_report *report)
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
