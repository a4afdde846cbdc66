/*
 * Secure deletion: overwrite a file's data in place, pass after pass, each
 * made durable before the next, then optionally remove it the way coreutils
 * shred --remove=wipesync does. Whether the overwrite can reach the old
 * blocks at all is decided first, by the report of fsinfo.c: by default a
 * file it cannot reach is refused before anything is written.
 *
 * Memory is one buffer of SHRED_BUF bytes whatever the file's size; random
 * passes come from xoshiro256+ streams seeded from getrandom(2) for each call (the
 * data only has to be unpredictable enough not to be mistaken for the old
 * contents; the kernel's CSPRNG would cost more than the disk).
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHRED_BUF (1u << 20)   /* a multiple of 8 * LANES */
#define LANES 8
#define SHRED_PASSES 3
#define SHRED_MAX_PASSES 100
#define SHRED_FLAGS (TF_SHRED_ZERO | TF_SHRED_REMOVE | TF_SHRED_EXACT | TF_SHRED_FORCE | \
                     TF_SHRED_SIZE | TF_SHRED_UNLINK)
#define SHRED_DEPTH 256
#define FILE_OPEN (O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* hooks and size sit where reserved slots were: programs built before them
 * pass zeros there, which mean no hooks and no size. */
_Static_assert(sizeof(tf_shred_opts) == 2 * sizeof(unsigned) + 4 * sizeof(size_t),
               "tf_shred_opts keeps its size");

struct shred {
    unsigned passes;        /* random passes */
    unsigned flags;
    off_t size;             /* TF_SHRED_SIZE */
    const tf_shred_hooks *hooks;   /* never NULL */
    const char *name;       /* the file's name in its directory, for events */
    tf_shred_event ev;      /* the pass being written */
    unsigned char *buf;     /* SHRED_BUF bytes */
    uint64_t s[4][LANES];   /* xoshiro256+ states, word by word */
    tf_shred_report *r;
    bool no_fiemap;         /* FIEMAP refused once: SEEK_DATA from then on */
};

/* ---- options and the generator ----------------------------------------- */

static bool all_zero(const size_t *slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (slots[i])
            return false;
    return true;
}

static int check_opts(const tf_shred_opts *o, struct shred *sh, tf_shred_report *r)
{
    static const tf_shred_opts defaults;
    static const tf_shred_hooks no_hooks;
    if (!o)
        o = &defaults;
    const tf_shred_hooks *h = o->hooks ? o->hooks : &no_hooks;
    unsigned f = o->flags;
    if (!all_zero(o->reserved, sizeof o->reserved / sizeof o->reserved[0]) ||
        !all_zero(h->reserved, sizeof h->reserved / sizeof h->reserved[0]) ||
        (f & ~SHRED_FLAGS) || (o->passes > SHRED_MAX_PASSES && o->passes != TF_SHRED_NO_PASSES) ||
        ((f & TF_SHRED_UNLINK) && !(f & TF_SHRED_REMOVE)) ||
        (!(f & TF_SHRED_SIZE) && o->size) || o->size > (size_t)INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
    unsigned passes = o->passes == TF_SHRED_NO_PASSES ? 0 : o->passes ? o->passes : SHRED_PASSES;
    *sh = (struct shred){ .passes = passes, .flags = f, .size = (off_t)o->size,
                          .hooks = h, .name = "", .r = r };
    *r = (tf_shred_report){0};
    return 0;
}

/* Tells the caller's progress callback, if any. */
static void emit(const struct shred *sh, unsigned kind, const char *name, const char *to)
{
    if (!sh->hooks->progress)
        return;
    tf_shred_event ev = sh->ev;
    ev.kind = kind;
    ev.name = name;
    ev.to = to;
    sh->hooks->progress(&ev, sh->hooks->arg);
}

/*
 * xoshiro256+ in LANES independent streams laid out word by word, so that
 * the compiler runs the lanes side by side (SIMD): about twice one stream's
 * speed, which matters on tmpfs, where the passes cost little more than
 * making their data.
 */
static void fill_random(struct shred *sh, size_t n)
{
    uint64_t *p = (uint64_t *)(void *)sh->buf, (*s)[LANES] = sh->s;
    for (size_t i = 0; i < (n + 7) / 8; i += LANES) {
        for (unsigned l = 0; l < LANES; l++) {
            uint64_t out = s[0][l] + s[3][l], t = s[1][l] << 17;
            s[2][l] ^= s[0][l];
            s[3][l] ^= s[1][l];
            s[1][l] ^= s[2][l];
            s[0][l] ^= s[3][l];
            s[2][l] ^= t;
            s[3][l] = (s[3][l] << 45) | (s[3][l] >> 19);
            p[i + l] = out;
        }
    }
}

/* One buffer of random data: the caller's source or the generator. */
static int fill(struct shred *sh, size_t n)
{
    if (!sh->hooks->random) {
        fill_random(sh, n);
        return 0;
    }
    errno = 0;
    if (sh->hooks->random(sh->buf, n, sh->hooks->arg) == 0)
        return 0;
    if (!errno)   /* a source that did not say why */
        errno = EIO;
    return -1;
}

/* The buffer and the seed; -1 (ENOMEM, getrandom's errno). */
static int shred_begin(struct shred *sh)
{
    sh->buf = tf__sys.malloc(SHRED_BUF);
    if (!sh->buf)
        return -1;
    size_t got = sh->hooks->random ? sizeof sh->s : 0;
    while (got < sizeof sh->s) {
        ssize_t r = tf__sys.getrandom((char *)sh->s + got, sizeof sh->s - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(sh->buf);
            sh->buf = NULL;
            errno = err;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static void shred_end(struct shred *sh)
{
    free(sh->buf);
    sh->buf = NULL;
}

/* ---- the passes ------------------------------------------------------- */

static int retry_sync(int (*sync)(int), int fd)
{
    int rc;
    do
        rc = sync(fd);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* Writes [from, to) with one pass's data. */
static int write_range(struct shred *sh, int fd, off_t from, off_t to, bool zero)
{
    while (from < to) {
        size_t n = (uint64_t)(to - from) < SHRED_BUF ? (size_t)(to - from) : SHRED_BUF;
        if (!zero && fill(sh, n) < 0)
            return -1;
        for (size_t done = 0; done < n; ) {
            ssize_t w = tf__sys.pwrite(fd, sh->buf + done, n - done, from + (off_t)done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                if (w == 0)
                    errno = ENOSPC;
                return -1;
            }
            done += (size_t)w;
        }
        from += (off_t)n;
        sh->ev.done = (unsigned long long)from;
        emit(sh, TF_SHRED_EV_WRITTEN, sh->name, NULL);
    }
    return 0;
}

/*
 * The first extent of fd's file that ends past off, as FIEMAP maps it:
 * [*from, *to), from possibly below off. 1 found, 0 none, -1 (errno;
 * EOPNOTSUPP or ENOTTY: no FIEMAP here). sync writes dirty pages back first,
 * so that data not yet allocated is mapped too.
 */
static int next_extent(int fd, off_t off, bool sync, off_t *from, off_t *to)
{
    union {
        struct fiemap fm;
        char room[sizeof(struct fiemap) + sizeof(struct fiemap_extent)];
    } u;
    int rc;
    do {
        memset(&u, 0, sizeof u);
        u.fm.fm_start = (uint64_t)off;
        u.fm.fm_length = FIEMAP_MAX_OFFSET - (uint64_t)off;
        u.fm.fm_flags = sync ? FIEMAP_FLAG_SYNC : 0;
        u.fm.fm_extent_count = 1;
        rc = tf__sys.ioctl(fd, FS_IOC_FIEMAP, &u.fm);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return -1;
    if (u.fm.fm_mapped_extents == 0)
        return 0;
    const struct fiemap_extent *e = &u.fm.fm_extents[0];
    *from = (off_t)e->fe_logical;
    *to = (off_t)(e->fe_logical + e->fe_length);
    return 1;
}

/*
 * The next region at or after off, below size, that holds blocks of the
 * file: [*from, *to). Extents first: an unwritten one (preallocated, or
 * zeroed by FALLOC_FL_ZERO_RANGE, which on ext4 keeps the old data in its
 * blocks) reads as a hole to SEEK_DATA but holds blocks all the same.
 * Where FIEMAP is not, SEEK_DATA/SEEK_HOLE, and where that is not either,
 * everything is data. 1 found, 0 none, -1 error.
 */
static int next_region(struct shred *sh, int fd, off_t off, off_t size, off_t *from, off_t *to)
{
    if (!sh->no_fiemap) {
        int rc = next_extent(fd, off, off == 0, from, to);
        if (rc > 0 && *to <= off) {   /* a map that does not move on: not to be trusted */
            rc = -1;
            errno = EOPNOTSUPP;
        }
        if (rc == 0 || (rc > 0 && *from >= size))
            return 0;
        if (rc > 0) {
            if (*from < off)
                *from = off;
            return 1;
        }
        if (errno != EOPNOTSUPP && errno != ENOTTY)
            return -1;
        sh->no_fiemap = true;
    }
    *from = tf__sys.lseek(fd, off, SEEK_DATA);
    if (*from < 0 && errno == ENXIO)
        return 0;
    if (*from < 0) {   /* no SEEK_DATA here: everything is data */
        if (errno != EINVAL && errno != EOPNOTSUPP)
            return -1;
        *from = off;
        *to = size;
        return 1;
    }
    *to = tf__sys.lseek(fd, *from, SEEK_HOLE);
    return *to < 0 ? -1 : 1;
}

/*
 * One pass over the regions of [0, size) that hold blocks, the last one
 * extended to end (the block's slack). A hole holds no block of the file:
 * nothing to reach. Returns the bytes written, or -1.
 */
static off_t one_pass(struct shred *sh, int fd, off_t size, off_t end, bool zero)
{
    if (zero)
        memset(sh->buf, 0, SHRED_BUF);
    off_t off = 0, written = 0;
    while (off < size) {
        off_t data, hole;
        int rc = next_region(sh, fd, off, size, &data, &hole);
        if (rc <= 0) {
            if (rc < 0)
                return -1;
            break;
        }
        if (hole >= size)
            hole = end;
        if (write_range(sh, fd, data, hole, zero) < 0)
            return -1;
        written += hole - data;
        off = hole;
    }
    return written;
}

static off_t round_up(off_t size, blksize_t blk)
{
    if (blk <= 0)
        blk = 4096;
    off_t r = size % blk;
    return r && size <= (off_t)(((uint64_t)1 << 62) - blk) ? size + (blk - r) : size;
}

/* One pass of TF_SHRED_SIZE: [0, size) whole, holes and all. */
static off_t sized_pass(struct shred *sh, int fd, bool zero)
{
    if (zero)
        memset(sh->buf, 0, SHRED_BUF);
    return write_range(sh, fd, 0, sh->size, zero) < 0 ? -1 : sh->size;
}

/* Starts pass p (0-based) of total over [0, end). */
static void begin_pass(struct shred *sh, unsigned p, unsigned total, off_t end)
{
    sh->ev = (tf_shred_event){ .pass = p + 1, .passes = total, .zero = p == sh->passes,
                               .size = (unsigned long long)end };
    emit(sh, TF_SHRED_EV_PASS, sh->name, NULL);
}

/*
 * Every pass (the zero pass last) over the size found when it starts (or
 * the size asked for), then the size put back where the slack made it grow.
 * EBUSY if the file grew past what the last pass covered (with
 * TF_SHRED_SIZE: past its first size and the size asked for).
 */
static int passes(struct shred *sh, int fd, off_t *size, off_t *end)
{
    unsigned total = sh->passes + ((sh->flags & TF_SHRED_ZERO) ? 1 : 0);
    bool sized = sh->flags & TF_SHRED_SIZE;
    struct stat st;
    off_t keep = 0;
    for (unsigned p = 0; p < total; p++) {
        if (tf__sys.fstat(fd, &st) < 0)
            return -1;
        if (sized) {
            *size = *end = sh->size;
            if (p == 0)   /* a larger file keeps its tail; a smaller one grows */
                keep = st.st_size > *end ? st.st_size : *end;
        } else {
            if (p == 0 || st.st_size > *end)   /* the slack we wrote is not growth */
                *size = st.st_size;
            keep = *end = (sh->flags & TF_SHRED_EXACT) ? *size : round_up(*size, st.st_blksize);
        }
        begin_pass(sh, p, total, *end);
        off_t n = sized ? sized_pass(sh, fd, p == sh->passes)
                        : one_pass(sh, fd, *size, *end, p == sh->passes);
        if (n < 0 || retry_sync(tf__sys.fdatasync, fd) < 0)
            return -1;
        sh->r->passes = p + 1;
        sh->r->bytes = (unsigned long long)n;
        sh->ev.done = (unsigned long long)*end;
        emit(sh, TF_SHRED_EV_WRITTEN, sh->name, NULL);
    }
    if (total == 0)
        return 0;
    if (tf__sys.fstat(fd, &st) < 0)
        return -1;
    if (st.st_size > keep) {
        sh->r->grew = 1;
        errno = EBUSY;
        return -1;
    }
    return !sized && st.st_size > *size ? tf__sys.ftruncate(fd, *size) : 0;
}

/* The passes; a failure puts back the size the slack may have grown (best
 * effort: if that fails too, the file may end at its last block's end). */
static int overwrite(struct shred *sh, int fd)
{
    off_t size = -1, end = -1;
    if (passes(sh, fd, &size, &end) == 0)
        return 0;
    int err = errno;
    if (!sh->r->grew && end > size && size >= 0)
        tf__sys.ftruncate(fd, size);
    errno = err;
    return -1;
}

/* The report, the refusal, then the passes over fd (st: its fstat). */
static int shred_fd(struct shred *sh, int fd, const struct stat *st)
{
    if (tf__fs_report(fd, st, sh->r) < 0)
        return -1;
    if (!sh->r->effective && !(sh->flags & TF_SHRED_FORCE)) {
        errno = EMEDIUMTYPE;
        return -1;
    }
    if (shred_begin(sh) < 0)
        return -1;
    int rc = overwrite(sh, fd);
    int err = errno;
    sh->r->files = rc == 0;
    shred_end(sh);
    errno = err;
    return rc;
}

/* ---- removal (wipesync) --------------------------------------------------- */

/* 0 if name in dirfd still names fd's file; -1 with ESTALE if not. */
static int same_file(int dirfd, const char *name, int fd)
{
    struct stat a, b;
    if (tf__sys.fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            errno = ESTALE;
        return -1;
    }
    if (tf__sys.fstat(fd, &b) < 0)
        return -1;
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
        errno = ESTALE;
        return -1;
    }
    return 0;
}

/* The names removal tries, in coreutils' order, so that `shred -u -v`
 * says what coreutils says. */
static const char name_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.";

/* The next name of the same length, as an odometer; false after the last. */
static bool next_name(char *name, size_t len)
{
    for (size_t i = len; i-- > 0; ) {
        const char *c = strchr(name_chars, name[i]);
        if (c[1]) {
            name[i] = c[1];
            return true;
        }
        name[i] = name_chars[0];
    }
    return false;
}

/* Renames cur (r->left) to the first free name of len characters; 1
 * renamed, 0 all taken, -1 error. */
static int rename_shorter(const struct shred *sh, int dirfd, char *cur, size_t len)
{
    char name[NAME_MAX + 1];
    memset(name, name_chars[0], len);
    name[len] = '\0';
    do {
        if (strcmp(name, cur) == 0)
            continue;
        if (tf__sys.renameat2(dirfd, cur, dirfd, name, RENAME_NOREPLACE) == 0) {
            char old[NAME_MAX + 1];
            memcpy(old, cur, strlen(cur) + 1);
            memcpy(cur, name, len + 1);
            int rc = retry_sync(tf__sys.fsync, dirfd) < 0 ? -1 : 1;
            emit(sh, TF_SHRED_EV_RENAMED, old, cur);
            return rc;
        }
        if (errno != EEXIST)
            return -1;
    } while (next_name(name, len));
    return 0;
}

/* Empties fd's file, synced unless TF_SHRED_UNLINK. */
static int empty_file(const struct shred *sh, int fd)
{
    if (tf__sys.ftruncate(fd, 0) < 0)
        return -1;
    return (sh->flags & TF_SHRED_UNLINK) ? 0 : retry_sync(tf__sys.fsync, fd);
}

/*
 * Empties fd's file, then renames its name (in dirfd) to ever shorter names
 * and unlinks it, each step synced (wipesync); with TF_SHRED_UNLINK only the
 * unlink. r->left follows the name, and is cleared once it is gone (or found
 * not to be the file's).
 */
static int remove_name(const struct shred *sh, int dirfd, const char *name, int fd)
{
    tf_shred_report *r = sh->r;
    bool wipe = !(sh->flags & TF_SHRED_UNLINK);
    if (strlen(name) >= sizeof r->left) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* Reported from the first step on: a failure anywhere leaves it there. */
    strcpy(r->left, name);
    if (same_file(dirfd, name, fd) < 0) {
        if (errno == ESTALE)
            r->left[0] = '\0';   /* that name is not the file's any more */
        return -1;
    }
    if (empty_file(sh, fd) < 0)
        return -1;
    emit(sh, TF_SHRED_EV_REMOVING, name, NULL);
    for (size_t len = strlen(name); wipe && len > 0; len--) {
        int rc = rename_shorter(sh, dirfd, r->left, len);
        if (rc < 0) {
            if (errno != EINVAL)   /* no RENAME_NOREPLACE here: unlink only */
                return -1;
            break;
        }
    }
    if (tf__sys.unlinkat(dirfd, r->left, 0) < 0)
        return -1;
    r->left[0] = '\0';
    emit(sh, TF_SHRED_EV_REMOVED, name, NULL);
    return wipe ? retry_sync(tf__sys.fsync, dirfd) : 0;
}

/* ---- a path ---------------------------------------------------------- */

/*
 * Splits path into the directory it is in (*pdir: opened, or dirfd itself
 * for a bare name relative to a real descriptor) and its last component.
 */
static int open_parent(int dirfd, const char *path, int *pdir, const char **base)
{
    const char *slash = strrchr(path, '/');
    *pdir = dirfd;
    *base = slash ? slash + 1 : path;
    if (!slash && dirfd != AT_FDCWD)
        return 0;
    /* The working directory is opened too: it is fsync'ed after renames. */
    size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = tf__sys.malloc(n + 1);
    if (!dir)
        return -1;
    memcpy(dir, slash ? path : ".", n);
    dir[n] = '\0';
    *pdir = tf__sys.openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    free(dir);
    return *pdir < 0 ? -1 : 0;
}

/* The kind of file refused, by its mode. */
static int refuse_kind(mode_t m)
{
    errno = S_ISLNK(m) ? ELOOP : S_ISDIR(m) ? EISDIR : EINVAL;
    return -1;
}

/* Opens name in dirfd for shredding: a regular file, for writing, without
 * blocking or following a link. */
static int open_regular(int dirfd, const char *name, struct stat *st)
{
    if (tf__sys.fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (!S_ISREG(st->st_mode))
        return refuse_kind(st->st_mode);
    int fd = tf__sys.openat(dirfd, name, FILE_OPEN, 0);
    if (fd < 0)
        return -1;
    if (tf__sys.fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        /* Swapped for something else since the look. */
        int err = S_ISREG(st->st_mode) ? errno : EINVAL;
        tf__close_keep_errno(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Shreds name in dirfd (and removes it if asked); the caller checked sh. */
static int shred_name(struct shred *sh, int dirfd, const char *name)
{
    struct stat st;
    int fd = open_regular(dirfd, name, &st);
    if (fd < 0)
        return -1;
    sh->name = name;
    int rc = shred_fd(sh, fd, &st);
    if (rc == 0 && (sh->flags & TF_SHRED_REMOVE))
        rc = remove_name(sh, dirfd, name, fd);
    tf__close_keep_errno(fd);
    return rc;
}

/* Copies the report out whatever happened, keeping errno. */
static int finish(int rc, const tf_shred_report *r, tf_shred_report *out)
{
    if (out)
        *out = *r;
    return rc;
}

/* What the calls by path check first: the options, then the path (EINVAL
 * for none, ENOENT for an empty one). 0, or -1 with the report copied out
 * once the options were good. */
static int begin_path(const char *path, const tf_shred_opts *opts, struct shred *sh,
                      tf_shred_report *r, tf_shred_report *report)
{
    if (check_opts(opts, sh, r) < 0)
        return -1;
    if (path && *path)
        return 0;
    errno = path ? ENOENT : EINVAL;
    return finish(-1, r, report);
}

int tf_shredat(int dirfd, const char *path, const tf_shred_opts *opts,
               tf_shred_report *report)
{
    struct shred sh;
    tf_shred_report r;
    if (begin_path(path, opts, &sh, &r, report) < 0)
        return -1;
    int pdir;
    const char *base;
    if (open_parent(dirfd, path, &pdir, &base) < 0)
        return finish(-1, &r, report);
    int rc;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        errno = EISDIR;
        rc = -1;
    } else {
        rc = shred_name(&sh, pdir, base);
    }
    if (pdir != dirfd)
        tf__close_keep_errno(pdir);
    return finish(rc, &r, report);
}

int tf_shred(const char *path, const tf_shred_opts *opts, tf_shred_report *report)
{
    return tf_shredat(AT_FDCWD, path, opts, report);
}

/* Refuses what pwrite(2) cannot overwrite in place: a descriptor not open
 * for writing, or open for appending. */
static int check_writable(int fd)
{
    int fl = tf__sys.fcntl(fd, F_GETFL, 0);
    if (fl < 0)
        return -1;
    if ((fl & O_ACCMODE) == O_RDONLY || (fl & O_PATH)) {
        errno = EBADF;
        return -1;
    }
    if (fl & O_APPEND) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* ---- a handle ---------------------------------------------------------- */

static int shred_in_memory(struct shred *sh, tf_file *f)
{
    sh->r->why = TF_FS_PROCESS_MEMORY;
    sh->r->effective = 1;
    sh->r->bytes = tf__spool_shred(f, sh->flags & TF_SHRED_REMOVE);
    sh->r->passes = 1;
    sh->r->files = 1;
    return 0;
}

/* A named file's name goes the wipesync way; it leaves the registry first,
 * so that no cleanup removes a name that no longer is ours. */
static int remove_named(struct shred *sh, tf_file *f)
{
    int pdir;
    const char *base;
    if (open_parent(AT_FDCWD, f->path, &pdir, &base) < 0)
        return -1;
    tf__reg_remove(&f->reg);
    int rc = remove_name(sh, pdir, base, f->fd);
    /* Removed, left under report->left, or (ESTALE) not the file's name:
     * in no case may the release remove that name. */
    f->linked = 0;
    tf__close_keep_errno(pdir);
    return rc;
}

int tf_file_shred(tf_file *f, const tf_shred_opts *opts, tf_shred_report *report)
{
    struct shred sh;
    tf_shred_report r;
    if (check_opts(opts, &sh, &r) < 0)
        return -1;
    if (!f || f->closed) {
        errno = f ? EBADF : EINVAL;
        return finish(-1, &r, report);
    }
    /* A file received without answer is checked at its first use: a lie
     * (a read-only descriptor, another file's name) is refused here too. */
    if (tf__recv_vet(f) < 0)
        return finish(-1, &r, report);
    if (tf_file_rolled(f) == 0)
        return finish(shred_in_memory(&sh, f), &r, report);
    /* Buffered bytes not yet written would land after the passes. */
    if (tf__stream_close(f) < 0)
        return finish(-1, &r, report);
    struct stat st;
    if (f->path && f->linked) {
        const char *slash = strrchr(f->path, '/');
        sh.name = slash ? slash + 1 : f->path;
    }
    /* An adopted or received descriptor may be open for appending. */
    if (check_writable(f->fd) < 0 || tf__sys.fstat(f->fd, &st) < 0 ||
        shred_fd(&sh, f->fd, &st) < 0)
        return finish(-1, &r, report);
    int rc = 0;
    if (sh.flags & TF_SHRED_REMOVE)
        rc = f->path && f->linked ? remove_named(&sh, f) : empty_file(&sh, f->fd);
    return finish(rc, &r, report);
}

/* ---- a descriptor -------------------------------------------------------- */

int tf_shred_fd(int fd, const tf_shred_opts *opts, tf_shred_report *report)
{
    struct shred sh;
    tf_shred_report r;
    if (check_opts(opts, &sh, &r) < 0)
        return -1;
    struct stat st;
    if (tf__sys.fstat(fd, &st) < 0)
        return finish(-1, &r, report);
    if (!S_ISREG(st.st_mode))
        return finish(refuse_kind(st.st_mode), &r, report);
    if (check_writable(fd) < 0 || shred_fd(&sh, fd, &st) < 0)
        return finish(-1, &r, report);
    return finish((sh.flags & TF_SHRED_REMOVE) ? empty_file(&sh, fd) : 0, &r, report);
}

/* ---- a tree --------------------------------------------------------- */

struct tree {
    struct shred *sh;
    bool writing;            /* false: the probing walk */
    struct tf__node root;    /* its filesystem and mount bound the walk */
    unsigned depth;
    unsigned long long bytes;
};

/* Probes (first walk) or shreds (second walk) one regular file. */
static int tree_file(struct tree *t, int dirfd, const char *name)
{
    struct stat st;
    int fd = open_regular(dirfd, name, &st);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;   /* gone meanwhile: nothing to shred */
    tf_shred_report *r = t->sh->r;
    int rc;
    if (!t->writing) {
        rc = tf__fs_report(fd, &st, r);
    } else if (st.st_nlink > 1 && !(t->sh->flags & TF_SHRED_FORCE)) {
        /* Linked since the probe (the walk may take long): its other names
         * would keep seeing the passes' bytes instead of their data. */
        r->why |= TF_FS_HARD_LINKS;
        r->effective = 0;
        errno = EMEDIUMTYPE;
        rc = -1;
    } else {
        t->sh->name = name;
        rc = overwrite(t->sh, fd);
        t->bytes += r->bytes;
        r->files += rc == 0;
        if (rc == 0 && (t->sh->flags & TF_SHRED_REMOVE))
            rc = remove_name(t->sh, dirfd, name, fd);
    }
    tf__close_keep_errno(fd);
    return rc;
}

static int tree_dir(struct tree *t, int fd);

/* Enters a subdirectory of the same filesystem and mount; others are left. */
static int tree_subdir(struct tree *t, int dirfd, const char *name)
{
    int fd = tf__open_dir(dirfd, name);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct tf__node id;
    int rc = tf__identify(fd, NULL, &id);
    if (rc == 0 && tf__same_mount(&id, &t->root)) {
        if (t->depth >= SHRED_DEPTH) {
            errno = ELOOP;
            rc = -1;
        } else {
            t->depth++;
            rc = tree_dir(t, fd);
            t->depth--;
        }
    }
    tf__close_keep_errno(fd);
    return rc;
}

static int tree_entry(struct tree *t, int fd, const struct dirent64 *d)
{
    const char *n = d->d_name;
    unsigned char type = d->d_type;
    if (type == DT_UNKNOWN) {
        struct stat st;
        if (tf__sys.fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? 0 : -1;
        type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
    }
    if (type == DT_REG)
        return tree_file(t, fd, n);
    if (type == DT_DIR)
        return tree_subdir(t, fd, n);
    return 0;
}

/* Reads the directory open as fd to its end, handling each entry. */
static int tree_dir(struct tree *t, int fd)
{
    enum { BUF = 32 * 1024 };
    char *buf = tf__sys.malloc(BUF);
    if (!buf)
        return -1;
    struct tf__dir_reader rd;
    tf__dir_reader_init(&rd, fd, buf, BUF);
    const struct dirent64 *d;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (d = tf__dir_next(&rd)))
        rc = tree_entry(t, fd, d);
    if (rc == 0 && errno)
        rc = -1;
    int err = errno;
    free(buf);
    errno = err;
    return rc;
}

/* Both walks over the tree open as fd: nothing is written if any file is
 * refused. */
static int shred_tree_fd(struct shred *sh, int fd)
{
    struct tree t = { .sh = sh };
    struct statfs sf;
    if (tf__identify(fd, NULL, &t.root) < 0 || tree_dir(&t, fd) < 0)
        return -1;
    if (!sh->r->effective && !(sh->flags & TF_SHRED_FORCE)) {
        errno = EMEDIUMTYPE;
        return -1;
    }
    if (tf__sys.fstatfs(fd, &sf) < 0 || tf__sys.lseek(fd, 0, SEEK_SET) < 0)
        return -1;
    sh->r->fs_type = (unsigned long)sf.f_type;
    if (shred_begin(sh) < 0)
        return -1;
    t.writing = true;
    int rc = tree_dir(&t, fd);
    int err = errno;
    shred_end(sh);
    sh->r->bytes = t.bytes;
    errno = err;
    return rc;
}

int tf_shred_treeat(int dirfd, const char *path, const tf_shred_opts *opts,
                    tf_shred_report *report)
{
    struct shred sh;
    tf_shred_report r;
    if (begin_path(path, opts, &sh, &r, report) < 0)
        return -1;
    r.effective = 1;
    int fd = tf__open_dir(dirfd, path);
    if (fd < 0)
        return finish(-1, &r, report);
    int rc = shred_tree_fd(&sh, fd);
    tf__close_keep_errno(fd);
    if (rc == 0 && (sh.flags & TF_SHRED_REMOVE))
        rc = tf_rmtreeat(dirfd, path, 0);
    return finish(rc, &r, report);
}

int tf_shred_tree(const char *path, const tf_shred_opts *opts, tf_shred_report *report)
{
    return tf_shred_treeat(AT_FDCWD, path, opts, report);
}
