/*
 * Atomic replace of one file, per level, side by side in one run:
 *   ours    tf_replace_contents()
 *   glib    g_file_set_contents_full() with the same level (NONE, CONSISTENT,
 *           CONSISTENT|DURABLE), mode 0666
 *   python  CPython: NamedTemporaryFile(dir=, delete=False), write, flush,
 *           os.fsync, os.replace, and for durable os.fsync of the directory
 *   minimal the fewest syscalls that replace atomically at the level: open
 *           O_CREAT|O_EXCL, write, fsync, close, rename, fsync(dir held open),
 *           names computed in advance
 *   floor   the syscalls ours makes, by hand, names computed in advance:
 *           open the directory (O_PATH below the durable level, whose
 *           fsync needs it readable), lstat dest, listxattrat (metadata;
 *           llistxattr of the /proc path before Linux 6.13), create at the
 *           destination's mode (0644 here), flock (live mark), write, fstat
 *           (owner, and what the umask left of the mode), fgetxattr of
 *           system.posix_acl_access (one inherited from a default ACL is
 *           removed), from 64 KiB and off tmpfs fstatfs + fallocate before
 *           the write (the preallocation), fsync, rename,
 *           fsync the directory, two closes (the one-shot reuses begin's
 *           lstat for the metadata)
 * Batches are interleaved (the order rotated each round); each batch reports
 * CPU time (CLOCK_PROCESS_CPUTIME_ID) and wall time per replace. The figures
 * are the median over rounds of the per-round ratio to the floor.
 *
 *   replace_bench DIR SIZE ROUNDS OPS [PYTHON]
 *   replace_bench --costs DIR SIZE ROUNDS OPS
 *
 * --costs: what each syscall of a guarantee GLib does not give costs, per
 * level: the floor, and the floor without one of them (the directory
 * descriptor: paths instead; the symlink-policy lstat; the live flock; the
 * owner fstat; the xattr list), interleaved with ours and GLib; the cost is
 * the median of the per-round differences to the whole floor. Then the ways
 * tried to do without one, as a floor that does it that way (a negative
 * cost: that way is dearer): the temporary made 0600 and fchmod'ed (as
 * before); nameless, O_TMPFILE and linkat(AT_EMPTY_PATH) at commit, which
 * needs no flock (a nameless file is never an orphan); geteuid + getegid
 * instead of the owner fstat (which still misses what the umask did).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <tempfile.h>
#ifdef TF_BENCH_HAVE_GLIB
#include <glib.h>
#endif

#ifndef SYS_listxattrat
#define SYS_LISTXATTRAT 465   /* Linux 6.13, the same number everywhere */
#else
#define SYS_LISTXATTRAT SYS_listxattrat
#endif

enum { OURS, GLIB, PYTHON, MINIMAL, FLOOR, NCONT };
static const char *const NAMES[NCONT] = { "ours", "glib", "python", "minimal", "floor" };

static const char *dir, *python;
static char dest[4096];
static char *data;
static size_t size;
static int ops;

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void run_ours(int level)
{
    for (int i = 0; i < ops; i++)
        if (tf_replace_contents(dest, data, size, &(tf_persist_opts){ .level = level }, NULL) < 0)
            die("tf_replace_contents");
}

#ifdef TF_BENCH_HAVE_GLIB
static void run_glib(int level)
{
    GFileSetContentsFlags fl = level == TF_LEVEL_VISIBLE ? G_FILE_SET_CONTENTS_NONE
                             : level == TF_LEVEL_CONSISTENT ? G_FILE_SET_CONTENTS_CONSISTENT
                             : G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE;
    for (int i = 0; i < ops; i++) {
        GError *err = NULL;
        if (!g_file_set_contents_full(dest, data, (gssize)size, fl, 0666, &err)) {
            fprintf(stderr, "glib: %s\n", err->message);
            exit(1);
        }
    }
}
#endif

static void run_minimal(int level)
{
    char (*names)[4200] = malloc((size_t)ops * sizeof *names);
    for (int i = 0; i < ops; i++)
        snprintf(names[i], sizeof names[i], "%s/.floor%08d", dir, i);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; i < ops; i++) {
        int fd = open(names[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size)
            die("floor write");
        if (level >= TF_LEVEL_CONSISTENT && fsync(fd) < 0)
            die("floor fsync");
        close(fd);
        if (rename(names[i], dest) < 0)
            die("floor rename");
        if (level == TF_LEVEL_DURABLE && fsync(dfd) < 0)
            die("floor dir fsync");
    }
    close(dfd);
    free(names);
}

/* Steps of the floor that --costs leaves out, one at a time, and the other
 * ways it tries. */
enum {
    NO_DIRFD = 1, NO_LSTAT = 2, NO_FLOCK = 4, NO_FSTAT = 8, NO_LIST = 16,
    WITH_FCHMOD = 32, NAMELESS = 64, CREDS = 128, NO_ACL = 256, OTHER_PREALLOC = 1024,
};
/* The steps that are another way of doing one, not one left out. */
#define ANOTHER_WAY (WITH_FCHMOD | NAMELESS | CREDS | OTHER_PREALLOC)
/* Subsets of the floor, compared with GLib rather than the floor: GLib's own
 * work done the floor's way (held directory, names relative to it), then with
 * the two looks that the symlink policy and the xattr carry-over cannot do
 * without. */
#define SUBSET 512
#define GLIB_WORK (SUBSET | NO_LSTAT | NO_LIST | NO_FLOCK | NO_FSTAT | NO_ACL)
#define WITH_LOOKS (SUBSET | NO_FLOCK | NO_FSTAT | NO_ACL)
static unsigned skip;
/* Whether ours preallocates here: 64 KiB or more, not in memory (the kinds
 * of filesystem src/fsinfo.c tells apart; this one is a disk or tmpfs). */
static bool prealloc;

static void run_floor(int level)
{
    char (*names)[4200] = malloc((size_t)ops * sizeof *names);
    for (int i = 0; i < ops; i++)
        snprintf(names[i], sizeof names[i], "%s.floor%08d", skip & NO_DIRFD ? dest : "", i);
    for (int i = 0; i < ops; i++) {
        struct stat st;
        /* Without the descriptor held: paths, and the directory opened for
         * its fsync only (as GLib does). */
        int dflags = (level == TF_LEVEL_DURABLE ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC;
        int dfd = skip & NO_DIRFD ? AT_FDCWD : open(dir, dflags);
        const char *d = skip & NO_DIRFD ? dest : "dest";
        if (!(skip & NO_LSTAT))
            fstatat(dfd, d, &st, AT_SYMLINK_NOFOLLOW);
        char list[512];
        if (!(skip & NO_LIST) &&
            syscall(SYS_LISTXATTRAT, dfd, d, AT_SYMLINK_NOFOLLOW, list, sizeof list) < 0) {
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d/dest", dfd);
            llistxattr(proc, list, sizeof list);
        }
        mode_t mode = skip & WITH_FCHMOD ? 0600 : 0644;
        int fd = skip & NAMELESS ? openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode)
                                 : openat(dfd, names[i], O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
                                          O_CLOEXEC, mode);
        if (!(skip & (NO_FLOCK | NAMELESS)))
            flock(fd, LOCK_SH | LOCK_NB);
        if (prealloc != !!(skip & OTHER_PREALLOC)) {   /* as ours: fstatfs, fallocate */
            struct statfs sf;
            fstatfs(fd, &sf);
            fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size);
        }
        if (fd < 0 || write(fd, data, size) != (ssize_t)size)
            die("floor write");
        if (skip & CREDS)
            (void)(geteuid() + getegid());
        else if (!(skip & NO_FSTAT))
            fstat(fd, &st);
        if (!(skip & NO_ACL))
            fgetxattr(fd, "system.posix_acl_access", NULL, 0);
        if (skip & WITH_FCHMOD)
            fchmod(fd, 0644);
        if (level >= TF_LEVEL_CONSISTENT && fsync(fd) < 0)
            die("floor fsync");
        if (skip & NAMELESS && linkat(fd, "", dfd, names[i], AT_EMPTY_PATH) < 0)
            die("floor linkat (AT_EMPTY_PATH: Linux 6.10, or CAP_DAC_READ_SEARCH)");
        if (renameat(dfd, names[i], dfd, d) < 0)
            die("floor rename");
        if (level == TF_LEVEL_DURABLE && skip & NO_DIRFD)
            dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (level == TF_LEVEL_DURABLE && fsync(dfd) < 0)
            die("floor dir fsync");
        if (dfd >= 0)
            close(dfd);
        close(fd);
    }
    free(names);
}

static const char PY[] =
    "import os, sys, tempfile, time\n"
    "d, dest, size, ops, level = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])\n"
    "data = b'x' * size\n"
    "def one():\n"
    "    with tempfile.NamedTemporaryFile(dir=d, delete=False) as f:\n"
    "        f.write(data)\n"
    "        f.flush()\n"
    "        if level >= 2: os.fsync(f.fileno())\n"
    "    os.replace(f.name, dest)\n"
    "    if level == 3:\n"
    "        fd = os.open(d, os.O_RDONLY)\n"
    "        os.fsync(fd)\n"
    "        os.close(fd)\n"
    "for _ in range(max(1, ops // 10)): one()\n"
    "c, w = time.process_time(), time.perf_counter()\n"
    "for _ in range(ops): one()\n"
    "print(time.process_time() - c, time.perf_counter() - w)\n";

/* CPython times itself (its start-up is not a replace). */
static void run_python(int level, double *cpu, double *wall)
{
    char sz[32], n[32], lv[8];
    snprintf(sz, sizeof sz, "%zu", size);
    snprintf(n, sizeof n, "%d", ops);
    snprintf(lv, sizeof lv, "%d", level);
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        execl(python, python, "-c", PY, dir, dest, sz, n, lv, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[128] = "";
    ssize_t r = 0, k;
    while ((k = read(p[0], buf + r, sizeof buf - 1 - (size_t)r)) > 0)
        r += k;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (r <= 0 || sscanf(buf, "%lf %lf", cpu, wall) != 2) {
        fprintf(stderr, "python failed (status %d): %s\n", st, buf);
        exit(1);
    }
}

static void batch(int c, int level, double *cpu, double *wall)
{
    if (c == PYTHON) {
        run_python(level, cpu, wall);
    } else {
        int saved = ops;
        ops = ops / 10 ? ops / 10 : 1;   /* warm-up */
        c == OURS ? run_ours(level) : c == FLOOR ? run_floor(level) : c == MINIMAL ? run_minimal(level) :
#ifdef TF_BENCH_HAVE_GLIB
                                      run_glib(level);
#else
                                      (void)0;
#endif
        ops = saved;
        double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
        c == OURS ? run_ours(level) : c == FLOOR ? run_floor(level) : c == MINIMAL ? run_minimal(level) :
#ifdef TF_BENCH_HAVE_GLIB
                                      run_glib(level);
#else
                                      (void)0;
#endif
        *cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        *wall = now(CLOCK_MONOTONIC) - w0;
    }
    *cpu /= ops;
    *wall /= ops;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The first and third quartiles of v (n values; sorts v). */
static void quartiles(double *v, int n, double *q1, double *q3)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    *q1 = v[(n - 1) / 4];
    *q3 = v[(3 * (n - 1) + 3) / 4];
}

/* --costs: the floor without each step in turn, with ours and GLib. */
static int costs(int rounds)
{
    static const unsigned steps[] = {
        0, NO_DIRFD, NO_LSTAT, NO_FLOCK, NO_FSTAT, NO_LIST, NO_ACL, WITH_FCHMOD, NAMELESS, CREDS,
        OTHER_PREALLOC, GLIB_WORK, WITH_LOOKS,
    };
    static const char *const what[] = {
        "floor (all of them)", "directory descriptor held (open + close)",
        "symlink-policy lstat", "live flock", "owner fstat", "xattr list (listxattrat)",
        "inherited-ACL look (fgetxattr)",
        "instead: made 0600, then fchmod (as before)",
        "instead: nameless (O_TMPFILE, linkat AT_EMPTY_PATH; no flock)",
        "instead: geteuid + getegid for the owner fstat",
        "instead: the other choice of preallocation (fstatfs + fallocate before the write)",
        "subset: GLib's syscalls, through the held directory (no lstat, list, flock, fstat, look)",
        "subset: that + the lstat and the xattr list (the two the policy and carry-over need)",
    };
    enum { NSTEP = sizeof steps / sizeof steps[0], NC = NSTEP + 2 };
    static const char *const LEVELS[] = { "", "visible", "consistent", "durable" };
    printf("| size | level | step | cost, CPU us/op (median of per-round differences; \"instead\": "
           "that way minus the floor) | share of the floor |\n");
    printf("|---|---|---|---|---|\n");
    for (int level = TF_LEVEL_VISIBLE; level <= TF_LEVEL_DURABLE; level++) {
        double cpu[NC][64], wall, diff[NC][64], ratio[NC][64];
        for (int r = 0; r < rounds && r < 64; r++) {
            for (int k = 0; k < NC; k++) {
                int c = (k + r) % NC;
                if (c < NSTEP) {
                    skip = steps[c];
                    batch(FLOOR, level, &cpu[c][r], &wall);
                    skip = 0;
                } else {
#ifndef TF_BENCH_HAVE_GLIB
                    if (c == NSTEP + 1) {
                        cpu[c][r] = cpu[0][r];
                        continue;
                    }
#endif
                    batch(c == NSTEP ? OURS : GLIB, level, &cpu[c][r], &wall);
                }
            }
            for (int c = 0; c < NC; c++) {
                diff[c][r] = cpu[0][r] - cpu[c][r];
                ratio[c][r] = cpu[c][r] / cpu[0][r];
            }
        }
        for (int c = 1; c < NSTEP; c++) {
            if (steps[c] & SUBSET) {
                double og[64], q1, q3;
                for (int r = 0; r < rounds && r < 64; r++)
                    og[r] = cpu[c][r] / cpu[NSTEP + 1][r];
                double m = median(og, rounds);
                quartiles(og, rounds, &q1, &q3);
                printf("| %zu | %s | %s | %.1f us | / GLib %.3f (%.3f-%.3f) |\n", size, LEVELS[level],
                       what[c], median(cpu[c], rounds) * 1e6, m, q1, q3);
                continue;
            }
            double d = median(diff[c], rounds);
            if (steps[c] & ANOTHER_WAY)   /* another way: what it costs more */
                d = -d;
            printf("| %zu | %s | %s | %.2f | %.1f%% |\n", size, LEVELS[level], what[c], d * 1e6,
                   d / median(cpu[0], rounds) * 100);
        }
        printf("| %zu | %s | floor itself | %.1f us | ours / floor %.3f, GLib / floor %.3f |\n", size,
               LEVELS[level], median(cpu[0], rounds) * 1e6, median(ratio[NSTEP], rounds),
               median(ratio[NSTEP + 1], rounds));
        fflush(stdout);
    }
    unlink(dest);
    return 0;
}

int main(int argc, char **argv)
{
    bool cost_mode = argc > 1 && strcmp(argv[1], "--costs") == 0;
    if (cost_mode) {
        argv++;
        argc--;
    }
    if (argc < 5) {
        fprintf(stderr, "usage: replace_bench DIR SIZE ROUNDS OPS [PYTHON]\n");
        return 2;
    }
    dir = argv[1];
    size = strtoul(argv[2], NULL, 0);
    int rounds = atoi(argv[3]);
    ops = atoi(argv[4]);
    python = argc > 5 ? argv[5] : NULL;
    snprintf(dest, sizeof dest, "%s/dest", dir);
    data = malloc(size);
    memset(data, 'x', size);
    struct statfs sf;
    prealloc = size >= 64 * 1024 && statfs(dir, &sf) == 0 && sf.f_type != 0x01021994 &&
               sf.f_type != (typeof(sf.f_type))0x858458f6;
    if (cost_mode)
        return costs(rounds);
    bool have[NCONT] = { true, false, python != NULL, true, true };
#ifdef TF_BENCH_HAVE_GLIB
    have[GLIB] = true;
#endif
    static const char *const LEVELS[] = { "", "visible", "consistent", "durable" };
    printf("| size | level | contender | CPU us/op | wall us/op | CPU ratio to floor | wall ratio to floor |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int level = TF_LEVEL_VISIBLE; level <= TF_LEVEL_DURABLE; level++) {
        double cpu[NCONT][64], wall[NCONT][64], rc[NCONT][64], rw[NCONT][64];
        for (int r = 0; r < rounds && r < 64; r++) {
            for (int k = 0; k < NCONT; k++) {
                int c = (k + r) % NCONT;
                if (have[c])
                    batch(c, level, &cpu[c][r], &wall[c][r]);
            }
            for (int c = 0; c < NCONT; c++) {
                rc[c][r] = cpu[c][r] / cpu[FLOOR][r];
                rw[c][r] = wall[c][r] / wall[FLOOR][r];
            }
        }
        double og[64], ogw[64];   /* ours / GLib, per round */
        for (int r = 0; r < rounds && r < 64; r++) {
            og[r] = cpu[OURS][r] / cpu[GLIB][r];
            ogw[r] = wall[OURS][r] / wall[GLIB][r];
        }
        for (int c = 0; c < NCONT; c++) {
            if (!have[c])
                continue;
            printf("| %zu | %s | %s | %.1f | %.1f | %.3f | %.3f |\n", size, LEVELS[level], NAMES[c],
                   median(cpu[c], rounds) * 1e6, median(wall[c], rounds) * 1e6,
                   median(rc[c], rounds), median(rw[c], rounds));
        }
        if (have[GLIB]) {
            double q1, q3, w1, w3, m = median(og, rounds), mw = median(ogw, rounds);
            quartiles(og, rounds, &q1, &q3);
            quartiles(ogw, rounds, &w1, &w3);
            printf("| %zu | %s | ours / glib (quartiles) | | | %.3f (%.3f-%.3f) | %.3f (%.3f-%.3f) |\n",
                   size, LEVELS[level], m, q1, q3, mw, w1, w3);
        }
        fflush(stdout);
    }
    unlink(dest);
    return 0;
}
