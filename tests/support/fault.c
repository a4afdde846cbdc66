/* Fault injection over the syscall seam tf__sys (see tftest.h). */
#include "tftest.h"

#include <stdatomic.h>
#include <unistd.h>

enum {
    F_OPENAT, F_CLOSE, F_READ, F_WRITE, F_PREAD, F_LSEEK, F_FTRUNCATE, F_FSTAT,
    F_FSTATAT, F_STATX, F_MKDIRAT, F_UNLINKAT, F_FCHMOD, F_FCHMODAT, F_FCHMODAT2, F_GETDENTS64,
    F_GETRANDOM, F_FLOCK, F_GETCWD, F_MALLOC, F_REALLOC,
    F_PWRITE, F_FDATASYNC, F_FSYNC, F_RENAMEAT2, F_IOCTL, F_FSTATFS, F_SENDMSG, F_RECVMSG,
    F_COUNT
};

const char *const fault_names[] = {
    "openat", "close", "read", "write", "pread", "lseek", "ftruncate", "fstat",
    "fstatat", "statx", "mkdirat", "unlinkat", "fchmod", "fchmodat", "fchmodat2", "getdents64",
    "getrandom", "flock", "getcwd", "malloc", "realloc",
    "pwrite", "fdatasync", "fsync", "renameat2", "ioctl", "fstatfs", "sendmsg", "recvmsg", NULL
};

struct entry {
    atomic_ulong calls;
    atomic_bool armed;
    unsigned long first, count;   /* fail calls first .. first+count-1; count 0: all */
    int err;
};

static struct entry entries[F_COUNT];
static atomic_ulong hits;

struct tf__syscalls fault_next = {0};
static atomic_bool next_ready;

static void next_init(void)
{
    if (!atomic_load(&next_ready)) {
        fault_next = tf__sys_default;
        atomic_store(&next_ready, true);
    }
}

/* Counts the call; true (with *err) if this one must fail. */
static bool fail_now(int idx, int *err)
{
    struct entry *e = &entries[idx];
    unsigned long n = atomic_fetch_add(&e->calls, 1) + 1;
    if (!atomic_load(&e->armed))
        return false;
    if (n < e->first)
        return false;
    if (e->count != 0 && n >= e->first + e->count)
        return false;
    atomic_fetch_add(&hits, 1);
    *err = e->err;
    return true;
}

#define FAIL_INT(idx)                                                      \
    do {                                                                   \
        int err_;                                                          \
        if (fail_now((idx), &err_)) {                                      \
            errno = err_;                                                  \
            return -1;                                                     \
        }                                                                  \
    } while (0)

static int w_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    FAIL_INT(F_OPENAT);
    return fault_next.openat(dirfd, path, flags, mode);
}

static int w_close(int fd)
{
    int err;
    if (fail_now(F_CLOSE, &err)) {
        /* Linux releases the descriptor even when close() reports an error. */
        fault_next.close(fd);
        errno = err;
        return -1;
    }
    return fault_next.close(fd);
}

static ssize_t w_read(int fd, void *buf, size_t n)
{
    FAIL_INT(F_READ);
    return fault_next.read(fd, buf, n);
}

static ssize_t w_write(int fd, const void *buf, size_t n)
{
    FAIL_INT(F_WRITE);
    return fault_next.write(fd, buf, n);
}

static ssize_t w_pread(int fd, void *buf, size_t n, off_t off)
{
    FAIL_INT(F_PREAD);
    return fault_next.pread(fd, buf, n, off);
}

static off_t w_lseek(int fd, off_t off, int whence)
{
    FAIL_INT(F_LSEEK);
    return fault_next.lseek(fd, off, whence);
}

static int w_ftruncate(int fd, off_t size)
{
    FAIL_INT(F_FTRUNCATE);
    return fault_next.ftruncate(fd, size);
}

static int w_fstat(int fd, struct stat *st)
{
    FAIL_INT(F_FSTAT);
    return fault_next.fstat(fd, st);
}

static int w_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    FAIL_INT(F_FSTATAT);
    return fault_next.fstatat(dirfd, path, st, flags);
}

static int w_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx)
{
    FAIL_INT(F_STATX);
    return fault_next.statx(dirfd, path, flags, mask, stx);
}

static int w_fchmodat2(int dirfd, const char *path, mode_t mode, int flags)
{
    FAIL_INT(F_FCHMODAT2);
    return fault_next.fchmodat2(dirfd, path, mode, flags);
}

static int w_mkdirat(int dirfd, const char *path, mode_t mode)
{
    FAIL_INT(F_MKDIRAT);
    return fault_next.mkdirat(dirfd, path, mode);
}

static int w_unlinkat(int dirfd, const char *path, int flags)
{
    FAIL_INT(F_UNLINKAT);
    return fault_next.unlinkat(dirfd, path, flags);
}

static int w_fchmod(int fd, mode_t mode)
{
    FAIL_INT(F_FCHMOD);
    return fault_next.fchmod(fd, mode);
}

static int w_fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
    FAIL_INT(F_FCHMODAT);
    return fault_next.fchmodat(dirfd, path, mode, flags);
}

static ssize_t w_getdents64(int fd, void *buf, size_t n)
{
    FAIL_INT(F_GETDENTS64);
    return fault_next.getdents64(fd, buf, n);
}

static ssize_t w_getrandom(void *buf, size_t n, unsigned flags)
{
    FAIL_INT(F_GETRANDOM);
    return fault_next.getrandom(buf, n, flags);
}

static int w_flock(int fd, int op)
{
    FAIL_INT(F_FLOCK);
    return fault_next.flock(fd, op);
}

static char *w_getcwd(char *buf, size_t n)
{
    int err;
    if (fail_now(F_GETCWD, &err)) {
        errno = err;
        return NULL;
    }
    return fault_next.getcwd(buf, n);
}

static void *w_malloc(size_t n)
{
    int err;
    if (fail_now(F_MALLOC, &err)) {
        errno = err;
        return NULL;
    }
    return fault_next.malloc(n);
}

static void *w_realloc(void *p, size_t n)
{
    int err;
    if (fail_now(F_REALLOC, &err)) {
        errno = err;
        return NULL;
    }
    return fault_next.realloc(p, n);
}

static ssize_t w_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    FAIL_INT(F_PWRITE);
    return fault_next.pwrite(fd, buf, n, off);
}

static int w_fdatasync(int fd)
{
    FAIL_INT(F_FDATASYNC);
    return fault_next.fdatasync(fd);
}

static int w_fsync(int fd)
{
    FAIL_INT(F_FSYNC);
    return fault_next.fsync(fd);
}

static int w_renameat2(int od, const char *op, int nd, const char *np, unsigned flags)
{
    FAIL_INT(F_RENAMEAT2);
    return fault_next.renameat2(od, op, nd, np, flags);
}

static int w_ioctl(int fd, unsigned long req, void *arg)
{
    FAIL_INT(F_IOCTL);
    return fault_next.ioctl(fd, req, arg);
}

static int w_fstatfs(int fd, struct statfs *st)
{
    FAIL_INT(F_FSTATFS);
    return fault_next.fstatfs(fd, st);
}

static ssize_t w_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    FAIL_INT(F_SENDMSG);
    return fault_next.sendmsg(fd, msg, flags);
}

static ssize_t w_recvmsg(int fd, struct msghdr *msg, int flags)
{
    FAIL_INT(F_RECVMSG);
    return fault_next.recvmsg(fd, msg, flags);
}

static const struct tf__syscalls wrappers = {
    .openat = w_openat,
    .close = w_close,
    .read = w_read,
    .write = w_write,
    .pread = w_pread,
    .lseek = w_lseek,
    .ftruncate = w_ftruncate,
    .fstat = w_fstat,
    .fstatat = w_fstatat,
    .statx = w_statx,
    .mkdirat = w_mkdirat,
    .unlinkat = w_unlinkat,
    .fchmod = w_fchmod,
    .fchmodat = w_fchmodat,
    .fchmodat2 = w_fchmodat2,
    .getdents64 = w_getdents64,
    .getrandom = w_getrandom,
    .flock = w_flock,
    .getcwd = w_getcwd,
    .malloc = w_malloc,
    .realloc = w_realloc,
    .pwrite = w_pwrite,
    .fdatasync = w_fdatasync,
    .fsync = w_fsync,
    .renameat2 = w_renameat2,
    .ioctl = w_ioctl,
    .fstatfs = w_fstatfs,
    .sendmsg = w_sendmsg,
    .recvmsg = w_recvmsg,
};

static int index_of(const char *name)
{
    for (int i = 0; fault_names[i]; i++)
        if (strcmp(fault_names[i], name) == 0)
            return i;
    return -1;
}

static void counts_restart(void)
{
    next_init();
    for (int i = 0; i < F_COUNT; i++)
        atomic_store(&entries[i].calls, 0);
    atomic_store(&hits, 0);
    tf__sys = wrappers;
}

void fault_count_start(void)
{
    for (int i = 0; i < F_COUNT; i++)
        atomic_store(&entries[i].armed, false);
    counts_restart();
}

int fault_arm_range(const char *name, unsigned long nth, unsigned long count, int err)
{
    int i = index_of(name);
    if (i < 0) {
        fprintf(stderr, "fault_arm: unknown seam entry %s\n", name);
        return -1;
    }
    atomic_store(&entries[i].armed, false);
    counts_restart();
    entries[i].first = nth;
    entries[i].count = count;
    entries[i].err = err;
    atomic_store(&entries[i].armed, true);
    return 0;
}

int fault_arm(const char *name, unsigned long nth, int err)
{
    return fault_arm_range(name, nth, 1, err);
}

unsigned long fault_calls(const char *name)
{
    int i = index_of(name);
    return i < 0 ? 0 : atomic_load(&entries[i].calls);
}

unsigned long fault_hits(void)
{
    return atomic_load(&hits);
}

void fault_reset(void)
{
    for (int i = 0; i < F_COUNT; i++)
        atomic_store(&entries[i].armed, false);
    fault_next = tf__sys_default;
    atomic_store(&next_ready, true);
    tf__sys = tf__sys_default;
}

/* ---- deterministic getrandom ------------------------------------------- */

static uint64_t fake_seed, fake_state;
static size_t fake_given;

static uint8_t fake_byte(void)
{
    /* xorshift64* */
    fake_state ^= fake_state >> 12;
    fake_state ^= fake_state << 25;
    fake_state ^= fake_state >> 27;
    return (uint8_t)((fake_state * 2685821657736338717ULL) >> 56);
}

static ssize_t fake_getrandom(void *buf, size_t n, unsigned flags)
{
    (void)flags;
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = fake_byte();
    fake_given += n;
    return (ssize_t)n;
}

void fake_random_rewind(void)
{
    fake_state = fake_seed ? fake_seed : 0x9e3779b97f4a7c15ULL;
    fake_given = 0;
}

void fake_random_install(uint64_t seed)
{
    next_init();
    fake_seed = seed;
    fake_random_rewind();
    fault_next.getrandom = fake_getrandom;
    tf__sys.getrandom = fake_getrandom;
}

size_t fake_random_bytes(void)
{
    return fake_given;
}
