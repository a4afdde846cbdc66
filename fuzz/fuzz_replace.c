/*
 * Atomic replace, lock files and persist on a scratch directory: sequences
 * of tf_replace_begin(), writes, tf_file_commit(), aborts (release),
 * tf_replace_contents(), tf_lock_file(), tf_file_persist() and outside
 * changes (the destination removed, rewritten, made a directory or a FIFO),
 * with every level, the flags, the three symlink policies, modes and bad
 * options, on a destination, a symbolic link to it and a dangling one.
 * Oracle, after every step: each name holds exactly its old content or the
 * last one committed to it, with the mode the header promises; nothing is in
 * the directory but those names and the temporaries of the handles still
 * open; a failure's errno is one the header documents for that call (and
 * the one it names where the case is clear: bad options EINVAL, a refused
 * link ELOOP, a directory EISDIR, a held lock EEXIST); no descriptor left.
 *
 * Works on tmpfs (/dev/shm) where there is one: the durable levels' syncs
 * would otherwise bound the fuzzer to a few inputs a second.
 *
 * Input: a stream of operations, each a byte (what) and its arguments.
 */
#include "fuzz.h"
#include "tftest.h"

#include <fcntl.h>
#include <unistd.h>

enum { DEST, LINK, DANGLING, NEW, NNAMES };
static const char *const NAMES[NNAMES] = { "dest", "link", "dl", "new" };
enum kind { ABSENT, REG, SYMLINK, DIR_, FIFO };

#define DATA_MAX 512
#define SLOTS 3

struct name_model {
    enum kind kind;
    int target;                 /* SYMLINK: the name it points to */
    unsigned char data[DATA_MAX];
    size_t len;
    mode_t mode;
};

struct slot {
    tf_file *f;                 /* an uncommitted replace or lock handle */
    int final;                  /* the name a commit replaces */
    bool lock, noclobber, replace_link;
    mode_t mode;
    unsigned char data[DATA_MAX];
    size_t len;
};

static struct {
    char *dir;
    int dirfd;
    struct name_model m[NNAMES];
    struct slot s[SLOTS];
} W;

static char *at(const char *name)
{
    return path_join(W.dir, name);
}

/* What the header lists for bad destinations and the temporary's creation. */
static const int BEGIN_ERRS[] = { EINVAL, ENOENT, EISDIR, ELOOP, EEXIST, ENOTDIR,
                                  ENAMETOOLONG, EACCES, EROFS, 0 };
static const int COMMIT_ERRS[] = { EEXIST, EISDIR, EINVAL, ELOOP, EPERM, EACCES, ENOTSUP,
                                   E2BIG, ENOSPC, EDQUOT, 0 };
static const int PERSIST_ERRS[] = { EINVAL, EEXIST, EXDEV, ENOENT, EISDIR, ELOOP,
                                    ENOTDIR, ENAMETOOLONG, EACCES, EROFS, 0 };

/* ---- the directory, made to the model ----------------------------------- */

static void make_name(int n)
{
    char *p = at(NAMES[n]);
    struct name_model *m = &W.m[n];
    switch (m->kind) {
    case REG: {
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FUZZ_CHECK(fd >= 0 && write(fd, m->data, m->len) == (ssize_t)m->len,
                   "writing %s", p);
        fchmod(fd, m->mode);
        close(fd);
        break;
    }
    case SYMLINK:
        FUZZ_CHECK(symlink(NAMES[m->target], p) == 0, "symlink %s", p);
        break;
    case DIR_:
        FUZZ_CHECK(mkdir(p, 0700) == 0, "mkdir %s", p);
        break;
    case FIFO:
        FUZZ_CHECK(mkfifo(p, 0600) == 0, "mkfifo %s", p);
        break;
    case ABSENT:
        break;
    }
    free(p);
}

static void reset(void)
{
    remove_tree(W.dir);
    FUZZ_CHECK(mkdir(W.dir, 0700) == 0, "mkdir %s: %s", W.dir, errname(errno));
    memset(W.m, 0, sizeof W.m);
    W.m[DEST] = (struct name_model){ .kind = REG, .len = 3, .data = "old", .mode = 0640 };
    W.m[LINK] = (struct name_model){ .kind = SYMLINK, .target = DEST };
    W.m[DANGLING] = (struct name_model){ .kind = SYMLINK, .target = NEW };
    for (int n = 0; n < NNAMES; n++)
        make_name(n);
}

/* ---- the oracle --------------------------------------------------------- */

static bool slot_owns(const char *entry)
{
    for (int i = 0; i < SLOTS; i++) {
        const char *p = W.s[i].f ? tf_file_name(W.s[i].f) : NULL;
        const char *b = p ? strrchr(p, '/') : NULL;
        if (b && strcmp(b + 1, entry) == 0)
            return true;
    }
    return false;
}

static void check_name(int n, const char *step)
{
    char *p = at(NAMES[n]);
    const struct name_model *m = &W.m[n];
    struct stat st;
    int rc = lstat(p, &st);
    if (m->kind == ABSENT) {
        FUZZ_CHECK(rc != 0 && errno == ENOENT, "after %s: %s exists", step, p);
    } else if (m->kind == REG) {
        FUZZ_CHECK(rc == 0 && S_ISREG(st.st_mode), "after %s: %s not a file", step, p);
        FUZZ_CHECK((st.st_mode & 07777) == m->mode, "after %s: %s mode %o, not %o", step, p,
                   st.st_mode & 07777, m->mode);
        unsigned char buf[DATA_MAX + 1];
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
        if (fd >= 0)
            close(fd);
        FUZZ_CHECK(got == (ssize_t)m->len && memcmp(buf, m->data, m->len) == 0,
                   "after %s: %s holds %zd bytes, neither old nor committed (%zu)", step, p,
                   got, m->len);
    } else {
        mode_t want = m->kind == SYMLINK ? S_IFLNK : m->kind == DIR_ ? S_IFDIR : S_IFIFO;
        FUZZ_CHECK(rc == 0 && (st.st_mode & S_IFMT) == want, "after %s: %s of the wrong kind",
                   step, p);
    }
    free(p);
}

static void check_all(const char *step)
{
    for (int n = 0; n < NNAMES; n++)
        check_name(n, step);
    DIR *d = opendir(W.dir);
    FUZZ_CHECK(d, "opendir");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool known = false;
        for (int n = 0; n < NNAMES; n++)
            known |= strcmp(e->d_name, NAMES[n]) == 0;
        FUZZ_CHECK(known || slot_owns(e->d_name), "after %s: %s left in the directory", step,
                   e->d_name);
    }
    closedir(d);
}

/* ---- operations ------------------------------------------------------------ */

struct target {
    int name;            /* -1: not one of NAMES */
    const char *path;    /* as passed */
    bool at;             /* the _at form, relative to W.dirfd */
};

static const char *const ODD[] = { "", ".", "..", "nodir/x", "dest/", "sub/..", NULL };

static struct target pick_target(struct fuzz_in *in, char *buf, size_t len)
{
    uint8_t b = fuzz_u8(in);
    struct target t = { .at = b & 0x80 };
    unsigned sel = b & 0x7f;
    if (sel % 8 < NNAMES) {
        t.name = (int)(sel % 8);
        snprintf(buf, len, "%s/%s", W.dir, NAMES[t.name]);
        t.path = t.at ? NAMES[t.name] : buf;
    } else {
        t.name = -1;
        t.path = ODD[sel % 6];
        if (!t.at && t.path[0]) {
            snprintf(buf, len, "%s/%s", W.dir, t.path);
            t.path = buf;
        }
    }
    return t;
}

struct choice {
    tf_persist_opts o;
    bool bad;            /* options the call must refuse (EINVAL) */
};

static struct choice pick_opts(struct fuzz_in *in)
{
    static const mode_t MODES[] = { 0, 0600, 0644, 0755, 0400, 07777, 010000 };
    uint8_t a = fuzz_u8(in), b = fuzz_u8(in);
    struct choice c = { { 0 }, false };
    c.o.level = a % 5;                 /* 4: unknown */
    c.o.symlinks = (a / 5) % 4;        /* 3: unknown */
    c.o.mode = MODES[b % 7];
    c.o.flags = (b & 0x10 ? TF_PERSIST_NOCLOBBER : 0) | (b & 0x20 ? TF_PERSIST_STRICT : 0) |
                (b & 0x40 ? TF_PERSIST_BEST_EFFORT : 0) | (b & 0x80 && a & 0x80 ? 1u : 0);
    if (a > 250)
        c.o.reserved[a % 4] = 1;
    c.bad = c.o.level > 3 || c.o.symlinks > 2 || c.o.mode > 07777 || (c.o.flags & 1u) ||
            a > 250;
    return c;
}

/* The name a commit through t would replace, or -1 if the call must fail
 * with *err (0: cannot say which). */
static int final_of(const struct target *t, int symlinks, int *err)
{
    *err = 0;
    if (t->name < 0)
        return -1;
    const struct name_model *m = &W.m[t->name];
    if (m->kind == SYMLINK) {
        if (symlinks == TF_SYMLINK_REFUSE) {
            *err = ELOOP;
            return -1;
        }
        if (symlinks == TF_SYMLINK_FOLLOW)
            return final_of(&(struct target){ .name = m->target }, symlinks, err);
        return t->name;
    }
    if (m->kind == DIR_)
        *err = EISDIR;
    else if (m->kind == FIFO)
        *err = EINVAL;
    return *err ? -1 : t->name;
}

static mode_t new_mode(mode_t asked, int final)
{
    if (asked)
        return asked;
    const struct name_model *m = &W.m[final];
    return m->kind == REG ? m->mode : 0644;   /* 0666 & ~022 */
}

static int free_slot(void)
{
    for (int i = 0; i < SLOTS; i++)
        if (!W.s[i].f)
            return i;
    return -1;
}

/* A begin or lock that the model says must fail, did. */
static void expect_refusal(const char *what, tf_file *f, int err, bool bad, int want)
{
    if (bad) {
        FUZZ_CHECK(!f && err == EINVAL, "%s with bad options: %s", what,
                   f ? "succeeded" : errname(err));
    } else if (want) {
        FUZZ_CHECK(!f && err == want, "%s: %s, not %s", what, f ? "succeeded" : errname(err),
                   errname(want));
    } else if (!f) {
        FUZZ_CHECK(fuzz_in_set(err, BEGIN_ERRS), "%s: undocumented errno %s", what, errname(err));
    }
}

static void op_begin(struct fuzz_in *in, bool lock)
{
    char buf[PATH_MAX];
    struct target t = pick_target(in, buf, sizeof buf);
    struct choice c = pick_opts(in);
    int i = free_slot();
    if (i < 0)
        return;
    if (lock) {
        c.o.flags &= ~(unsigned)TF_PERSIST_NOCLOBBER;   /* lock files refuse it */
        c.o.timeout_ms = 0;
    }
    int err, final = final_of(&t, c.o.symlinks, &err);
    /* The lock of a destination another slot holds: EEXIST. */
    for (int k = 0; lock && final >= 0 && k < SLOTS; k++)
        if (W.s[k].f && W.s[k].lock && W.s[k].final == final)
            err = EEXIST;
    if (final >= 0 && !err && (c.o.flags & TF_PERSIST_NOCLOBBER) && W.m[final].kind != ABSENT)
        err = EEXIST;
    errno = 0;
    tf_file *f;
    if (lock)
        f = t.at ? tf_lock_file_at(W.dirfd, t.path, &c.o) : tf_lock_file(t.path, &c.o);
    else
        f = t.at ? tf_replace_begin_at(W.dirfd, t.path, &c.o) : tf_replace_begin(t.path, &c.o);
    int got = errno;
    expect_refusal(lock ? "tf_lock_file" : "tf_replace_begin", f, got, c.bad,
                   c.bad ? 0 : err);
    if (!f)
        return;
    FUZZ_CHECK(final >= 0, "%s of %s succeeded", lock ? "lock" : "begin", t.path);
    W.s[i] = (struct slot){ .f = f, .final = final, .lock = lock,
                            .noclobber = c.o.flags & TF_PERSIST_NOCLOBBER,
                            .mode = c.o.mode };
}

static void op_write(struct fuzz_in *in)
{
    struct slot *s = &W.s[fuzz_u8(in) % SLOTS];
    size_t n = fuzz_u8(in) % 64;
    uint8_t byte = fuzz_u8(in);
    if (!s->f || s->len + n > DATA_MAX)
        return;
    unsigned char buf[64];
    memset(buf, byte, n);
    FUZZ_CHECK(tf_file_write(s->f, buf, n) == (ssize_t)n, "write: %s", errname(errno));
    memcpy(s->data + s->len, buf, n);
    s->len += n;
}

/* The name now holds data with mode: the model follows a success. */
static void committed(int final, const unsigned char *data, size_t len, mode_t mode)
{
    struct name_model *m = &W.m[final];
    m->kind = REG;
    memcpy(m->data, data, len);
    m->len = len;
    m->mode = mode;
}

static void op_commit(struct fuzz_in *in)
{
    struct slot *s = &W.s[fuzz_u8(in) % SLOTS];
    if (!s->f)
        return;
    int err, final = final_of(&(struct target){ .name = s->final }, TF_SYMLINK_REPLACE, &err);
    bool exists = final >= 0 && W.m[final].kind != ABSENT;
    mode_t mode = final >= 0 ? new_mode(s->mode, final) : 0;
    tf_persist_report r;
    errno = 0;
    int rc = tf_file_commit(s->f, &r);
    int got = errno;
    if (rc >= 0) {
        FUZZ_CHECK(final >= 0 && !(s->noclobber && exists), "commit over %s succeeded",
                   NAMES[s->final]);
        FUZZ_CHECK(rc >= TF_LEVEL_VISIBLE && rc <= TF_LEVEL_DURABLE && r.level == rc,
                   "commit: level %d, report %d", rc, r.level);
        committed(final, s->data, s->len, mode);
        tf_file_release(s->f);
        s->f = NULL;
        s->len = 0;
        return;
    }
    FUZZ_CHECK(fuzz_in_set(got, COMMIT_ERRS), "commit: undocumented errno %s", errname(got));
    FUZZ_CHECK(err || (s->noclobber && exists), "commit failed with %s where it can work",
               errname(got));
    if (err)
        FUZZ_CHECK(got == err, "commit: %s, not %s", errname(got), errname(err));
}

static void op_abort(struct fuzz_in *in)
{
    struct slot *s = &W.s[fuzz_u8(in) % SLOTS];
    if (!s->f)
        return;
    /* close then release, or release alone: both abort. */
    if (fuzz_u8(in) & 1)
        FUZZ_CHECK(tf_file_close(s->f) == 0, "close: %s", errname(errno));
    FUZZ_CHECK(tf_file_release(s->f) == 0, "abort: %s", errname(errno));
    s->f = NULL;
    s->len = 0;
}

/* Bytes for a one-shot call: n copies of one byte. */
static size_t some_data(struct fuzz_in *in, unsigned char *buf)
{
    size_t n = fuzz_u8(in) % 128;
    memset(buf, fuzz_u8(in), n);
    return n;
}

/* A lock held on final: a one-shot replace does not take it. */
static void op_contents(struct fuzz_in *in)
{
    char pbuf[PATH_MAX];
    struct target t = pick_target(in, pbuf, sizeof pbuf);
    struct choice c = pick_opts(in);
    unsigned char data[128];
    size_t n = some_data(in, data);
    int err, final = final_of(&t, c.o.symlinks, &err);
    if (final >= 0 && !err && (c.o.flags & TF_PERSIST_NOCLOBBER) && W.m[final].kind != ABSENT)
        err = EEXIST;
    mode_t mode = final >= 0 ? new_mode(c.o.mode, final) : 0;
    errno = 0;
    int rc = t.at ? tf_replace_contents_at(W.dirfd, t.path, data, n, &c.o, NULL)
                  : tf_replace_contents(t.path, data, n, &c.o, NULL);
    int got = errno;
    if (rc >= 0) {
        FUZZ_CHECK(!c.bad && final >= 0 && !err, "tf_replace_contents(%s) succeeded", t.path);
        committed(final, data, n, mode);
        return;
    }
    if (c.bad)
        FUZZ_CHECK(got == EINVAL, "tf_replace_contents, bad options: %s", errname(got));
    else if (err)
        FUZZ_CHECK(got == err, "tf_replace_contents: %s, not %s", errname(got), errname(err));
    else
        FUZZ_CHECK(fuzz_in_set(got, BEGIN_ERRS) || fuzz_in_set(got, COMMIT_ERRS),
                   "tf_replace_contents: undocumented errno %s", errname(got));
}

static void op_persist(struct fuzz_in *in)
{
    char pbuf[PATH_MAX];
    struct target t = pick_target(in, pbuf, sizeof pbuf);
    struct choice c = pick_opts(in);
    c.o.flags &= ~(unsigned)TF_PERSIST_BEST_EFFORT;   /* not a persist flag */
    unsigned char data[128];
    size_t n = some_data(in, data);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = W.dir, .prefix = "p" });
    FUZZ_CHECK(f && tf_file_write(f, data, n) == (ssize_t)n, "a named file: %s",
               errname(errno));
    int err, final = final_of(&t, c.o.symlinks, &err);
    if (final >= 0 && !err && (c.o.flags & TF_PERSIST_NOCLOBBER) && W.m[final].kind != ABSENT)
        err = EEXIST;
    errno = 0;
    int rc = t.at ? tf_file_persist_at(f, W.dirfd, t.path, &c.o, NULL)
                  : tf_file_persist(f, t.path, &c.o, NULL);
    int got = errno;
    if (rc >= 0) {
        FUZZ_CHECK(!c.bad && final >= 0 && !err, "persist to %s succeeded", t.path);
        committed(final, data, n, c.o.mode ? c.o.mode : 0600);
    } else if (c.bad) {
        FUZZ_CHECK(got == EINVAL, "persist, bad options: %s", errname(got));
    } else if (err) {
        FUZZ_CHECK(got == err, "persist: %s, not %s", errname(got), errname(err));
    } else {
        FUZZ_CHECK(fuzz_in_set(got, PERSIST_ERRS), "persist: undocumented errno %s", errname(got));
    }
    /* Handed back on failure: still temporary, removed by the release. */
    FUZZ_CHECK(tf_file_release(f) == 0 || rc >= 0, "release after persist: %s",
               errname(errno));
}

/* Someone else changes a name: removed, rewritten, a directory, a FIFO. */
static void op_outside(struct fuzz_in *in)
{
    uint8_t b = fuzz_u8(in);
    int n = b % NNAMES;
    struct name_model *m = &W.m[n];
    char *p = at(NAMES[n]);
    if (m->kind == DIR_)
        rmdir(p);
    else
        unlink(p);
    free(p);
    switch ((b / NNAMES) % 4) {
    case 0: m->kind = ABSENT; break;
    case 1:
        m->kind = REG;
        m->len = fuzz_u8(in) % 32;
        memset(m->data, 'o', m->len);
        m->mode = 0600;
        break;
    case 2: m->kind = DIR_; break;
    default: m->kind = FIFO; break;
    }
    make_name(n);
}

static char shm[] = "/dev/shm/tffuzz-XXXXXX";

static void remove_shm(void)
{
    remove_tree(shm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    if (!W.dir) {
        umask(022);
        const char *base = mkdtemp(shm) ? shm : fuzz_scratch();
        W.dir = path_join(base, "r");
        if (base == shm)
            atexit(remove_shm);
    }
    reset();
    W.dirfd = open(W.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    FUZZ_CHECK(W.dirfd >= 0, "open %s", W.dir);
    int fds = fd_count();
    static const char *const STEP[] = { "begin", "lock", "write", "commit", "abort",
                                        "contents", "persist", "outside" };
    for (int steps = 0; fuzz_more(&in) && steps < 64; steps++) {
        uint8_t op = fuzz_u8(&in) % 8;
        switch (op) {
        case 0: op_begin(&in, false); break;
        case 1: op_begin(&in, true); break;
        case 2: op_write(&in); break;
        case 3: op_commit(&in); break;
        case 4: op_abort(&in); break;
        case 5: op_contents(&in); break;
        case 6: op_persist(&in); break;
        default: op_outside(&in); break;
        }
        check_all(STEP[op]);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (W.s[i].f)
            FUZZ_CHECK(tf_file_release(W.s[i].f) == 0, "final abort: %s", errname(errno));
        W.s[i] = (struct slot){ 0 };
    }
    check_all("the final aborts");
    FUZZ_CHECK(fd_count() == fds, "%d descriptors open, %d before", fd_count(), fds);
    close(W.dirfd);
    return 0;
}
