/*
 * tfbench: the C side of libtempfile's benchmark suite.
 *
 * One process runs one batch of one contender of one workload and prints one
 * JSON line; bench/runner.py starts the processes in interleaved rounds
 * (A B A B ...), gives each batch a fresh directory and does the statistics.
 *
 *   tfbench list
 *       the workloads and contenders compiled in, as JSON
 *   tfbench time WORKLOAD CONTENDER DIR N
 *       warm up, then time N operations in DIR (a fresh, empty directory);
 *       WORKLOAD: mkstemp tmpfile named tempdir rmtree-wide rmtree-deep
 *       (for the rmtree ones N is the number of files, or the depth)
 *   tfbench threads IMPL NTHREADS shared|separate DIR N
 *       NTHREADS threads each create + close + remove N files
 *   tfbench mktree wide|deep PATH N
 *       builds a tree for another program to remove (CPython's shutil)
 *   tfbench cg IMPL DIR N
 *       N creations for callgrind: run under
 *       valgrind --tool=callgrind --toggle-collect=cg_cycle_IMPL
 *   tfbench smoke DIR
 *       every workload and contender with tiny sizes (CTest "bench-smoke")
 *
 * Only the public API of libtempfile is used (include/tempfile.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tempfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef TF_BENCH_HAVE_GLIB
#include <glib.h>
#include <glib/gstdio.h>
#endif

#define NOINLINE __attribute__((noinline))

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

static const char *g_what = "tfbench";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    int e = errno;
    va_list ap;
    fprintf(stderr, "%s: ", g_what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(e));
    exit(2);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU time (user + system) of this process, and of its waited-for children. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double children_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

/* CPU time of the last timed batch, or < 0 when not measured. */
static double g_cpu = -1;

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        die("vasprintf");
    return s;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("malloc");
    return p;
}

static long parse_long(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v <= 0) {
        errno = EINVAL;
        die("bad number '%s'", s);
    }
    return v;
}

/* Warm-up operations before a timed batch: a tenth, at least 10. */
static long warmup_count(long n)
{
    long w = n / 10;
    return w < 10 ? 10 : w;
}

/*
 * Unique names for the syscall floor, made before the clock starts: the
 * default prefix and 8 characters of Python's alphabet, from a bijection of a
 * counter (so no two collide) keyed by the pid (so no two batches agree).
 */
static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";

static void floor_name(char *out, uint64_t key, uint64_t i)
{
    uint64_t mask = (UINT64_C(1) << 40) - 1;
    uint64_t v = ((i * UINT64_C(0x9E3779B97F4A7C15)) ^ key) & mask;
    for (int k = 0; k < TF_RANDOM_CHARS; k++) {
        out[k] = alphabet[v % 37];
        v /= 37;
    }
}

static char **floor_names(const char *dir, long n, unsigned salt)
{
    char **names = xmalloc((size_t)n * sizeof *names);
    uint64_t key = ((uint64_t)getpid() << 20) ^ ((uint64_t)salt << 36) ^ (uint64_t)time(NULL);
    for (long i = 0; i < n; i++) {
        char rnd[TF_RANDOM_CHARS + 1] = {0};
        floor_name(rnd, key, (uint64_t)i);
        names[i] = xasprintf("%s/tmp%s", dir, rnd);
    }
    return names;
}

static void free_names(char **names, long n)
{
    if (!names)
        return;
    for (long i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ------------------------------------------------------------------------
 * Workloads 1-3: one operation = create + close + remove
 * ---------------------------------------------------------------------- */

struct ctx {
    const char *dir;
    tf_opts opts;
    char tmpl[PATH_MAX];      /* DIR/tmpXXXXXX, glibc's and GLib's template */
    size_t tmpl_len;
    char buf[PATH_MAX];
    char **names;             /* precomputed names (syscall floor) */
    long nnames;
};

typedef int (*op_fn)(struct ctx *c, long i);

static void ctx_init(struct ctx *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    c->dir = dir;
    c->opts.dir = dir;
    int r = snprintf(c->tmpl, sizeof c->tmpl, "%s/tmpXXXXXX", dir);
    if (r < 0 || (size_t)r >= sizeof c->tmpl) {
        errno = ENAMETOOLONG;
        die("%s", dir);
    }
    c->tmpl_len = (size_t)r;
}

static char *fresh_template(struct ctx *c)
{
    memcpy(c->buf, c->tmpl, c->tmpl_len + 1);
    return c->buf;
}

/* -- 1. mkstemp family -- */

static int op_mkstemp_tf(struct ctx *c, long i)
{
    (void)i;
    char *path;
    int fd = tf_mkstemp(&c->opts, &path);
    if (fd < 0)
        return -1;
    close(fd);
    int r = unlink(path);
    free(path);
    return r;
}

static int op_mkstemp_glibc(struct ctx *c, long i)
{
    (void)i;
    char *p = fresh_template(c);
    int fd = mkstemp(p);
    if (fd < 0)
        return -1;
    close(fd);
    return unlink(p);
}

static int op_mkostemp_glibc(struct ctx *c, long i)
{
    (void)i;
    char *p = fresh_template(c);
    int fd = mkostemp(p, O_CLOEXEC);
    if (fd < 0)
        return -1;
    close(fd);
    return unlink(p);
}

#ifdef TF_BENCH_HAVE_GLIB
static int op_mkstemp_glib(struct ctx *c, long i)
{
    (void)i;
    char *p = fresh_template(c);
    int fd = g_mkstemp(p);
    if (fd < 0)
        return -1;
    close(fd);
    return unlink(p);
}
#endif

static int op_mkstemp_floor(struct ctx *c, long i)
{
    const char *p = c->names[i];
    int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    return unlink(p);
}

/* -- 2. TemporaryFile -- */

static int op_tmpfile_tf(struct ctx *c, long i)
{
    (void)i;
    tf_file *f = tf_temporary_file(&c->opts);
    if (!f)
        return -1;
    return tf_file_release(f);
}

static int op_tmpfile_glibc(struct ctx *c, long i)
{
    (void)c;
    (void)i;
    FILE *f = tmpfile();
    if (!f)
        return -1;
    return fclose(f);
}

static int op_tmpfile_floor(struct ctx *c, long i)
{
    (void)i;
    int fd = open(c->dir, O_RDWR | O_TMPFILE | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    return close(fd);
}

/* -- 3a. NamedTemporaryFile -- */

static int op_named_tf(struct ctx *c, long i)
{
    (void)i;
    tf_file *f = tf_named_temporary_file(&c->opts);
    if (!f)
        return -1;
    return tf_file_release(f);
}

static int op_named_glibc_stdio(struct ctx *c, long i)
{
    (void)i;
    char *p = fresh_template(c);
    int fd = mkostemp(p, O_CLOEXEC);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        close(fd);
        unlink(p);
        return -1;
    }
    fclose(f);
    return unlink(p);
}

/* -- 3b. TemporaryDirectory (empty) -- */

static int op_tempdir_tf(struct ctx *c, long i)
{
    (void)i;
    tf_dir *d = tf_temporary_directory(&c->opts);
    if (!d)
        return -1;
    return tf_dir_release(d);
}

static int op_tempdir_glibc(struct ctx *c, long i)
{
    (void)i;
    char *p = fresh_template(c);
    if (!mkdtemp(p))
        return -1;
    return rmdir(p);
}

static int nftw_remove(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int op_tempdir_glibc_nftw(struct ctx *c, long i)
{
    (void)i;
    char *p = fresh_template(c);
    if (!mkdtemp(p))
        return -1;
    return nftw(p, nftw_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------------
 * Workload 4: tree removal (trees are built before the clock starts)
 * ---------------------------------------------------------------------- */

/* n files in n/100 directories (at least one) under the directory rootfd. */
static void build_wide(int rootfd, long n)
{
    long ndirs = n / 100 ? n / 100 : 1;
    long per = n / ndirs;
    char name[32];
    for (long d = 0; d < ndirs; d++) {
        snprintf(name, sizeof name, "d%04ld", d);
        if (mkdirat(rootfd, name, 0700) < 0)
            die("mkdirat %s", name);
        int dfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            die("openat %s", name);
        for (long f = 0; f < per; f++) {
            snprintf(name, sizeof name, "file%04ld", f);
            int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0)
                die("openat %s", name);
            close(fd);
        }
        close(dfd);
    }
}

/* A chain of n directories below rootfd. */
static void build_deep(int rootfd, long n)
{
    int fd = dup(rootfd);
    if (fd < 0)
        die("dup");
    for (long k = 0; k < n; k++) {
        if (mkdirat(fd, "d", 0700) < 0)
            die("mkdirat depth %ld", k);
        int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0)
            die("openat depth %ld", k);
        close(fd);
        fd = sub;
    }
    close(fd);
}

static void build_tree(const char *kind, const char *path, long n)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        die("open %s", path);
    if (strcmp(kind, "wide") == 0)
        build_wide(fd, n);
    else if (strcmp(kind, "deep") == 0)
        build_deep(fd, n);
    else {
        errno = EINVAL;
        die("tree kind '%s'", kind);
    }
    close(fd);
}

static int run_rm_rf(const char *path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/*
 * The syscall floor of removal: the tree's names are known, so no directory
 * is read and nothing is checked; one unlinkat per entry, one openat and
 * close per directory.
 */
static int floor_remove(const char *kind, const char *root, long n)
{
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -1;
    char name[32];
    if (strcmp(kind, "wide") == 0) {
        long ndirs = n / 100 ? n / 100 : 1;
        long per = n / ndirs;
        for (long d = 0; d < ndirs; d++) {
            snprintf(name, sizeof name, "d%04ld", d);
            int dfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd < 0)
                return -1;
            for (long f = 0; f < per; f++) {
                snprintf(name, sizeof name, "file%04ld", f);
                if (unlinkat(dfd, name, 0) < 0)
                    return -1;
            }
            close(dfd);
            snprintf(name, sizeof name, "d%04ld", d);
            if (unlinkat(rootfd, name, AT_REMOVEDIR) < 0)
                return -1;
        }
    } else {
        int *fds = xmalloc((size_t)(n + 1) * sizeof *fds);
        fds[0] = rootfd;
        for (long k = 1; k <= n; k++) {
            fds[k] = openat(fds[k - 1], "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fds[k] < 0)
                return -1;
        }
        for (long k = n; k >= 1; k--) {
            close(fds[k]);
            if (unlinkat(fds[k - 1], "d", AT_REMOVEDIR) < 0)
                return -1;
        }
        free(fds);
    }
    close(rootfd);
    return rmdir(root);
}

/* Times one removal of a tree of n (files or depth) in dir; returns ns. */
static double time_rmtree(const char *kind, const char *contender, const char *dir, long n)
{
    double t0, t1;
    if (strcmp(contender, "tf") == 0) {
        /* Python's TemporaryDirectory: make it, fill it, clean it up. */
        tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
        if (!d)
            die("tf_temporary_directory");
        build_tree(kind, tf_dir_name(d), n);
        double c0 = cpu_ns();
        t0 = now_ns();
        if (tf_dir_cleanup(d) < 0)
            die("tf_dir_cleanup");
        t1 = now_ns();
        g_cpu = cpu_ns() - c0;
        tf_dir_release(d);
    } else if (strcmp(contender, "rm") == 0 || strcmp(contender, "floor") == 0) {
        char *root = xasprintf("%s/tree", dir);
        if (mkdir(root, 0700) < 0)
            die("mkdir %s", root);
        build_tree(kind, root, n);
        double c0 = cpu_ns() + children_cpu_ns();
        t0 = now_ns();
        if (contender[0] == 'r' ? run_rm_rf(root) < 0 : floor_remove(kind, root, n) < 0)
            die("%s %s", contender[0] == 'r' ? "rm -rf" : "floor removal of", root);
        t1 = now_ns();
        g_cpu = cpu_ns() + children_cpu_ns() - c0;
        free(root);
    } else {
        errno = EINVAL;
        die("rmtree contender '%s'", contender);
    }
    struct stat st;
    char *root = xasprintf("%s/tree", dir);
    if (lstat(root, &st) == 0) {
        errno = EEXIST;
        die("%s still exists", root);
    }
    free(root);
    return t1 - t0;
}

/* ------------------------------------------------------------------------
 * glibc tmpfile() writes to P_tmpdir (/tmp) whatever it is told. To measure it
 * on the filesystem under test, a private mount namespace binds DIR over /tmp
 * (needs root; otherwise it runs in /tmp and says so).
 * ---------------------------------------------------------------------- */

static const char *redirect_tmp(const char *dir)
{
    if (unshare(CLONE_NEWNS) < 0)
        return "/tmp";
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return "/tmp";
    if (mount(dir, "/tmp", NULL, MS_BIND, NULL) < 0)
        return "/tmp";
    return dir;
}

/* ------------------------------------------------------------------------
 * The table of workloads and contenders
 * ---------------------------------------------------------------------- */

struct contender {
    const char *workload;
    const char *name;
    const char *label;
    op_fn op;
    int needs_names;
};

static const struct contender contenders[] = {
    { "mkstemp", "tf", "libtempfile tf_mkstemp", op_mkstemp_tf, 0 },
    { "mkstemp", "glibc_mkstemp", "glibc mkstemp", op_mkstemp_glibc, 0 },
    { "mkstemp", "glibc_mkostemp", "glibc mkostemp(O_CLOEXEC)", op_mkostemp_glibc, 0 },
#ifdef TF_BENCH_HAVE_GLIB
    { "mkstemp", "glib", "GLib g_mkstemp", op_mkstemp_glib, 0 },
#endif
    { "mkstemp", "floor", "open(O_CREAT|O_EXCL) on precomputed names", op_mkstemp_floor, 1 },
    { "tmpfile", "tf", "libtempfile tf_temporary_file", op_tmpfile_tf, 0 },
    { "tmpfile", "glibc", "glibc tmpfile()", op_tmpfile_glibc, 0 },
    { "tmpfile", "floor", "open(dir, O_TMPFILE) + close", op_tmpfile_floor, 0 },
    { "named", "tf", "libtempfile tf_named_temporary_file", op_named_tf, 0 },
    { "named", "glibc_fd", "glibc mkostemp + close + unlink", op_mkostemp_glibc, 0 },
    { "named", "glibc_stdio", "glibc mkostemp + fdopen + fclose + unlink", op_named_glibc_stdio, 0 },
    { "tempdir", "tf", "libtempfile tf_temporary_directory", op_tempdir_tf, 0 },
    { "tempdir", "glibc", "glibc mkdtemp + rmdir", op_tempdir_glibc, 0 },
    { "tempdir", "glibc_nftw", "glibc mkdtemp + nftw removal", op_tempdir_glibc_nftw, 0 },
};
#define NCONTENDERS (sizeof contenders / sizeof contenders[0])

static const struct contender *find_contender(const char *workload, const char *name)
{
    for (size_t k = 0; k < NCONTENDERS; k++)
        if (strcmp(contenders[k].workload, workload) == 0 && strcmp(contenders[k].name, name) == 0)
            return &contenders[k];
    return NULL;
}

static void emit(const char *workload, const char *contender, long ops, double ns, const char *extra)
{
    printf("{\"workload\": \"%s\", \"contender\": \"%s\", \"ops\": %ld, \"ns\": %.0f, "
           "\"ns_per_op\": %.1f",
           workload, contender, ops, ns, ns / (double)ops);
    if (g_cpu >= 0)
        printf(", \"cpu_ns_per_op\": %.1f", g_cpu / (double)ops);
    printf("%s%s}\n", extra ? ", " : "", extra ? extra : "");
    g_cpu = -1;
    fflush(stdout);
}

/* Runs warm-up + n timed operations; returns the timed ns. */
static double time_ops(const struct contender *ct, const char *dir, long n)
{
    struct ctx c;
    ctx_init(&c, dir);
    long w = warmup_count(n);
    if (ct->needs_names) {
        c.nnames = w + n;
        c.names = floor_names(dir, c.nnames, 1);
    }
    g_what = ct->label;
    for (long i = 0; i < w; i++)
        if (ct->op(&c, i) < 0)
            die("warm-up operation %ld in %s", i, dir);
    double c0 = cpu_ns();
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (ct->op(&c, w + i) < 0)
            die("operation %ld in %s", i, dir);
    double t1 = now_ns();
    g_cpu = cpu_ns() - c0;
    free_names(c.names, c.nnames);
    g_what = "tfbench";
    return t1 - t0;
}

static int cmd_time(const char *workload, const char *contender, const char *dir, long n)
{
    if (strncmp(workload, "rmtree-", 7) == 0) {
        double ns = time_rmtree(workload + 7, contender, dir, n);
        emit(workload, contender, 1, ns, NULL);
        return 0;
    }
    const struct contender *ct = find_contender(workload, contender);
    if (!ct) {
        errno = EINVAL;
        die("no contender '%s' in workload '%s'", contender, workload);
    }
    char extra[PATH_MAX + 32] = "";
    if (ct->op == op_tmpfile_glibc) {
        const char *where = redirect_tmp(dir);
        snprintf(extra, sizeof extra, "\"tmpfile_dir\": \"%s\"", where);
    }
    double ns = time_ops(ct, dir, n);
    emit(workload, contender, n, ns, extra[0] ? extra : NULL);
    return 0;
}

/* ------------------------------------------------------------------------
 * Workload 5: threads
 * ---------------------------------------------------------------------- */

struct thread_arg {
    const char *impl;
    char *dir;
    long n;
    long warm;
    char **names;
    pthread_barrier_t *start;
    int err;
    double t0, t1;            /* this thread's timed span */
};

/*
 * The control: pure user-space work (no syscall, no shared memory) of about
 * the same duration as one creation. It shows how much two threads can gain
 * on this machine at all, whatever the kernel does.
 */
static volatile uint64_t cpu_sink;

static int op_cpu(void)
{
    uint64_t x = 88172645463325252u;
    for (int k = 0; k < 6000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    cpu_sink = x;
    return 0;
}

static int thread_op(const char *impl, struct ctx *c, long i)
{
    if (impl[0] == 'c')
        return op_cpu();
    if (strcmp(impl, "tf") == 0)
        return op_mkstemp_tf(c, i);
    if (strcmp(impl, "glibc") == 0)
        return op_mkostemp_glibc(c, i);
    return op_mkstemp_floor(c, i);
}

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    struct ctx c;
    ctx_init(&c, a->dir);
    c.names = a->names;
    for (long i = 0; i < a->warm; i++)
        if (thread_op(a->impl, &c, i) < 0) {
            a->err = errno;
            break;
        }
    pthread_barrier_wait(a->start);
    if (a->err)
        return NULL;
    a->t0 = now_ns();
    for (long i = 0; i < a->n; i++)
        if (thread_op(a->impl, &c, a->warm + i) < 0) {
            a->err = errno;
            return NULL;
        }
    a->t1 = now_ns();
    return NULL;
}

static int cmd_threads(const char *impl, long nthreads, const char *layout, const char *dir, long n)
{
    if (strcmp(impl, "tf") && strcmp(impl, "glibc") && strcmp(impl, "floor") && strcmp(impl, "cpu")) {
        errno = EINVAL;
        die("thread impl '%s'", impl);
    }
    int separate = strcmp(layout, "separate") == 0;
    if (!separate && strcmp(layout, "shared")) {
        errno = EINVAL;
        die("layout '%s'", layout);
    }
    if (nthreads > 64) {
        errno = EINVAL;
        die("too many threads");
    }
    struct thread_arg args[64];
    pthread_t tids[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
    long warm = warmup_count(n);
    for (long t = 0; t < nthreads; t++) {
        struct thread_arg *a = &args[t];
        memset(a, 0, sizeof *a);
        a->impl = impl;
        a->n = n;
        a->warm = warm;
        a->start = &start;
        if (separate) {
            a->dir = xasprintf("%s/t%ld", dir, t);
            if (mkdir(a->dir, 0700) < 0)
                die("mkdir %s", a->dir);
        } else {
            a->dir = xasprintf("%s", dir);
        }
        if (strcmp(impl, "floor") == 0)
            a->names = floor_names(a->dir, warm + n, (unsigned)t + 1);
    }
    for (long t = 0; t < nthreads; t++) {
        int e = pthread_create(&tids[t], NULL, thread_main, &args[t]);
        if (e) {
            errno = e;
            die("pthread_create");
        }
    }
    pthread_barrier_wait(&start);
    for (long t = 0; t < nthreads; t++)
        pthread_join(tids[t], NULL);
    pthread_barrier_destroy(&start);
    /* Wall time from the first thread's start to the last one's end. */
    double t0 = args[0].t0, t1 = args[0].t1;
    for (long t = 1; t < nthreads; t++) {
        if (args[t].t0 < t0)
            t0 = args[t].t0;
        if (args[t].t1 > t1)
            t1 = args[t].t1;
    }
    int err = 0;
    for (long t = 0; t < nthreads; t++) {
        if (args[t].err)
            err = args[t].err;
        free_names(args[t].names, warm + n);
        if (separate)
            rmdir(args[t].dir);
        free(args[t].dir);
    }
    if (err) {
        errno = err;
        die("threads %s", impl);
    }
    char name[64], extra[64];
    snprintf(name, sizeof name, "%s_%ld_%s", impl, nthreads, layout);
    snprintf(extra, sizeof extra, "\"threads\": %ld", nthreads);
    emit("threads", name, n * nthreads, t1 - t0, extra);
    return 0;
}

/* ------------------------------------------------------------------------
 * Workload 6: code for callgrind. cg_cycle_X is what --toggle-collect
 * names; cg_call_X wraps exactly the library call, so callgrind_annotate
 * --inclusive=yes gives both the call alone and the caller's whole share
 * (template copy or free of the returned path).
 * ---------------------------------------------------------------------- */

static NOINLINE int cg_call_tf(struct ctx *c, char **path)
{
    return tf_mkstemp(&c->opts, path);
}

static NOINLINE int cg_cycle_tf(struct ctx *c)
{
    char *path;
    int fd = cg_call_tf(c, &path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    free(path);
    return 0;
}

static NOINLINE int cg_call_glibc_mkstemp(char *p)
{
    return mkstemp(p);
}

static NOINLINE int cg_cycle_glibc_mkstemp(struct ctx *c)
{
    char *p = fresh_template(c);
    int fd = cg_call_glibc_mkstemp(p);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(p);
    return 0;
}

static NOINLINE int cg_call_glibc_mkostemp(char *p)
{
    return mkostemp(p, O_CLOEXEC);
}

static NOINLINE int cg_cycle_glibc_mkostemp(struct ctx *c)
{
    char *p = fresh_template(c);
    int fd = cg_call_glibc_mkostemp(p);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(p);
    return 0;
}

#ifdef TF_BENCH_HAVE_GLIB
static NOINLINE int cg_call_glib(char *p)
{
    return g_mkstemp(p);
}

static NOINLINE int cg_cycle_glib(struct ctx *c)
{
    char *p = fresh_template(c);
    int fd = cg_call_glib(p);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(p);
    return 0;
}
#endif

static long cg_next;

static NOINLINE int cg_call_floor(const char *p)
{
    return open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

static NOINLINE int cg_cycle_floor(struct ctx *c)
{
    const char *p = c->names[cg_next++];
    int fd = cg_call_floor(p);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(p);
    return 0;
}

static int cmd_cg(const char *impl, const char *dir, long n)
{
    struct ctx c;
    ctx_init(&c, dir);
    int (*cycle)(struct ctx *) = NULL;
    op_fn warm_op = NULL;
    cg_next = 0;
    if (strcmp(impl, "tf") == 0) {
        cycle = cg_cycle_tf;
        warm_op = op_mkstemp_tf;
    } else if (strcmp(impl, "glibc_mkstemp") == 0) {
        cycle = cg_cycle_glibc_mkstemp;
        warm_op = op_mkstemp_glibc;
    } else if (strcmp(impl, "glibc_mkostemp") == 0) {
        cycle = cg_cycle_glibc_mkostemp;
        warm_op = op_mkostemp_glibc;
    }
#ifdef TF_BENCH_HAVE_GLIB
    else if (strcmp(impl, "glib") == 0) {
        cycle = cg_cycle_glib;
        warm_op = op_mkstemp_glib;
    }
#endif
    else if (strcmp(impl, "floor") == 0) {
        cycle = cg_cycle_floor;
        warm_op = op_mkstemp_floor;
    }
    if (!cycle) {
        errno = EINVAL;
        die("cg impl '%s'", impl);
    }
    /* The warm-up goes through the op_* functions, which callgrind does not
     * collect, and resolves PLT entries and one-time initialisation. */
    long warm = 64;
    c.nnames = warm + n;
    c.names = floor_names(dir, c.nnames, 7);
    for (long i = 0; i < warm; i++)
        if (warm_op(&c, cg_next++) < 0)
            die("warm-up %s", impl);
    for (long i = 0; i < n; i++)
        if (cycle(&c) < 0)
            die("cg %s", impl);
    free_names(c.names, c.nnames);
    printf("{\"cg\": \"%s\", \"calls\": %ld}\n", impl, n);
    return 0;
}

/* ------------------------------------------------------------------------
 * list, mktree, smoke
 * ---------------------------------------------------------------------- */

static int cmd_list(void)
{
    printf("{\"contenders\": [");
    for (size_t k = 0; k < NCONTENDERS; k++)
        printf("%s{\"workload\": \"%s\", \"name\": \"%s\", \"label\": \"%s\"}", k ? ", " : "",
               contenders[k].workload, contenders[k].name, contenders[k].label);
    printf("], \"glib\": %s", 
#ifdef TF_BENCH_HAVE_GLIB
           "true"
#else
           "false"
#endif
    );
    printf(", \"cg\": [\"tf\", \"glibc_mkstemp\", \"glibc_mkostemp\", %s\"floor\"]}\n",
#ifdef TF_BENCH_HAVE_GLIB
           "\"glib\", "
#else
           ""
#endif
    );
    return 0;
}

static char *smoke_subdir(const char *base, const char *name)
{
    char *d = xasprintf("%s/%s", base, name);
    if (mkdir(d, 0700) < 0)
        die("mkdir %s", d);
    return d;
}

static int cmd_smoke(const char *base)
{
    if (mkdir(base, 0700) < 0 && errno != EEXIST)
        die("mkdir %s", base);
    char *root = xasprintf("%s/smoke-XXXXXX", base);
    if (!mkdtemp(root))
        die("mkdtemp %s", root);
    int k = 0;
    char name[64];
    for (size_t i = 0; i < NCONTENDERS; i++) {
        snprintf(name, sizeof name, "%d", k++);
        char *d = smoke_subdir(root, name);
        double ns = time_ops(&contenders[i], d, 20);
        printf("smoke %-8s %-15s %8.1f us/op\n", contenders[i].workload, contenders[i].name,
               ns / 20 / 1000);
        if (rmdir(d) < 0)
            die("%s: rmdir %s (something was left behind)", contenders[i].label, d);
        free(d);
    }
    static const char *const kinds[] = { "wide", "deep" };
    static const char *const rm[] = { "tf", "rm", "floor" };
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++) {
            snprintf(name, sizeof name, "%d", k++);
            char *d = smoke_subdir(root, name);
            double ns = time_rmtree(kinds[a], rm[b], d, a == 0 ? 300 : 50);
            printf("smoke rmtree-%-4s %-10s %8.1f ms\n", kinds[a], rm[b], ns / 1e6);
            if (rmdir(d) < 0)
                die("rmtree %s %s: rmdir %s", kinds[a], rm[b], d);
            free(d);
        }
    static const char *const impls[] = { "tf", "glibc", "floor", "cpu" };
    for (int a = 0; a < 4; a++) {
        snprintf(name, sizeof name, "%d", k++);
        char *d = smoke_subdir(root, name);
        cmd_threads(impls[a], 1, "shared", d, 20);
        cmd_threads(impls[a], 2, "shared", d, 20);
        cmd_threads(impls[a], 2, "separate", d, 20);
        if (rmdir(d) < 0)
            die("threads %s: rmdir %s", impls[a], d);
        free(d);
    }
    snprintf(name, sizeof name, "%d", k++);
    char *d = smoke_subdir(root, name);
    cmd_cg("tf", d, 5);
    cmd_cg("glibc_mkstemp", d, 5);
#ifdef TF_BENCH_HAVE_GLIB
    cmd_cg("glib", d, 5);
#endif
    cmd_cg("floor", d, 5);
    if (rmdir(d) < 0)
        die("cg: rmdir %s", d);
    free(d);
    snprintf(name, sizeof name, "%d", k++);
    d = smoke_subdir(root, name);
    char *tree = xasprintf("%s/tree", d);
    if (mkdir(tree, 0700) < 0)
        die("mkdir %s", tree);
    build_tree("wide", tree, 150);
    if (tf_rmtree(d, 0) < 0)
        die("tf_rmtree %s", d);
    free(tree);
    free(d);
    if (rmdir(root) < 0)
        die("rmdir %s", root);
    free(root);
    printf("bench smoke: all workloads ran\n");
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tfbench list\n"
            "       tfbench time WORKLOAD CONTENDER DIR N\n"
            "       tfbench threads tf|glibc|floor|cpu NTHREADS shared|separate DIR N\n"
            "       tfbench mktree wide|deep PATH N\n"
            "       tfbench cg IMPL DIR N\n"
            "       tfbench smoke DIR\n");
    exit(64);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "list") == 0 && argc == 2)
        return cmd_list();
    if (strcmp(cmd, "time") == 0 && argc == 6)
        return cmd_time(argv[2], argv[3], argv[4], parse_long(argv[5]));
    if (strcmp(cmd, "threads") == 0 && argc == 7)
        return cmd_threads(argv[2], parse_long(argv[3]), argv[4], argv[5], parse_long(argv[6]));
    if (strcmp(cmd, "mktree") == 0 && argc == 5) {
        build_tree(argv[2], argv[3], parse_long(argv[4]));
        return 0;
    }
    if (strcmp(cmd, "cg") == 0 && argc == 5)
        return cmd_cg(argv[2], argv[3], parse_long(argv[4]));
    if (strcmp(cmd, "smoke") == 0 && argc == 3)
        return cmd_smoke(argv[2]);
    usage();
}
