/*
 * Fault injection through the syscall seam: every entry of tf__sys, in every
 * creating call and every cleanup, made to fail on its 1st, 2nd, 3rd ... call
 * until the operation runs with no fault hit. After each failure: errno is the
 * injected one, no descriptor leaked, nothing left in the directory (memory:
 * ASan/LSan). After a recovered fault the result is still right (mode bits).
 * Each loop runs as root and again with privileges dropped, where the
 * permission paths (chmod and retry) are taken.
 */
#include "scenario.h"

#include <fcntl.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* tf_mktemp */

#define SAY(...) fprintf(stderr, __VA_ARGS__)

/* The errno values injected per seam entry ("where meaningful"). */
static const struct {
    const char *entry;
    int errs[4];
} ERRS[] = {
    { "openat", { ENOSPC, EMFILE, EACCES, EINTR } },
    { "close", { EINTR, EIO } },
    { "read", { EINTR, EIO } },
    { "write", { ENOSPC, EINTR } },
    { "pread", { EIO } },
    { "lseek", { EIO } },
    { "ftruncate", { ENOSPC, EINTR } },
    { "fstat", { ENOMEM, EIO } },
    { "fstatat", { EACCES, ENOMEM } },
    { "statx", { EACCES, ENOMEM } },
    { "mkdirat", { ENOSPC, EACCES, EMLINK } },
    { "unlinkat", { EACCES, EBUSY, EINTR } },
    { "fchmod", { EPERM, EIO } },
    { "fchmodat", { EPERM, EIO } },
    { "getdents64", { ENOMEM, EIO } },
    { "getrandom", { EINTR, ENOSYS } },
    { "flock", { EINTR, ENOLCK } },
    { "getcwd", { ENOMEM, EACCES } },
    { "malloc", { ENOMEM } },
    { "realloc", { ENOMEM } },
};

static bool mode_is(const char *path, mode_t want)
{
    mode_t m = path_mode(path);
    if (m != want)
        SAY("  mode of %s is %04o, expected %04o\n", path, m, want);
    return m == want;
}

/* ---- creation ------------------------------------------------------------------- */

/*
 * run: the operation under fault; 0 or -1 with errno. check: verifies and
 * undoes a success (0 if right).
 */
struct create_op {
    const char *name;
    int (*run)(const char *dir, void **out);
    int (*check)(const char *dir, void *out);
};

static int run_mkstemp(const char *dir, void **out)
{
    char *path = NULL;
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir, .mode = 0640 }, &path);
    if (fd < 0)
        return -1;
    close(fd);
    *out = path;
    return 0;
}

static int check_path_file(const char *dir, void *out)
{
    (void)dir;
    char *path = out;
    bool ok = mode_is(path, 0640);
    unlink(path);
    free(path);
    return ok ? 0 : -1;
}

static int run_mkdtemp(const char *dir, void **out)
{
    char *path = tf_mkdtemp(&(tf_opts){ .dir = dir, .mode = 0750 });
    *out = path;
    return path ? 0 : -1;
}

static int run_mkdtemp_0300(const char *dir, void **out)
{
    char *path = tf_mkdtemp(&(tf_opts){ .dir = dir, .mode = 0300 });
    *out = path;
    return path ? 0 : -1;
}

static int check_path_dir(const char *dir, void *out)
{
    (void)dir;
    char *path = out;
    struct stat st;
    bool ok = lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
              ((st.st_mode & 07777) == 0750 || (st.st_mode & 07777) == 0300);
    if (!ok)
        SAY("  %s: not a directory of the asked mode\n", path);
    chmod(path, 0700);
    rmdir(path);
    free(path);
    return ok ? 0 : -1;
}

static int run_mktemp(const char *dir, void **out)
{
    char *path = tf_mktemp(&(tf_opts){ .dir = dir });
    *out = path;
    return path ? 0 : -1;
}

static int check_mktemp(const char *dir, void *out)
{
    (void)dir;
    char *path = out;
    bool ok = path[0] == '/' && !path_exists(path);
    free(path);
    return ok ? 0 : -1;
}

static int run_tmpfile(const char *dir, void **out)
{
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir, .mode = 0640 });
    *out = f;
    return f ? 0 : -1;
}

static int no_tmpfile_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

static int run_tmpfile_fallback(const char *dir, void **out)
{
    fault_next.openat = no_tmpfile_openat;   /* under the fault layer */
    return run_tmpfile(dir, out);
}

static int check_tmpfile(const char *dir, void *out)
{
    tf_file *f = out;
    struct stat st;
    int fd = tf_file_fileno(f);
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0 &&
              (st.st_mode & 07777) == 0640 && dir_entries(dir) == 0;
    if (!ok)
        SAY("  unnamed file: bad link count, mode or directory listing\n");
    if (tf_file_release(f) != 0)
        ok = false;
    return ok ? 0 : -1;
}

static int run_named(const char *dir, void **out)
{
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir, .mode = 0640 });
    *out = f;
    return f ? 0 : -1;
}

static int check_named(const char *dir, void *out)
{
    (void)dir;
    tf_file *f = out;
    char *name = strdup(tf_file_name(f));
    bool ok = mode_is(name, 0640);
    if (tf_file_release(f) != 0 || path_exists(name))
        ok = false;
    free(name);
    return ok ? 0 : -1;
}

static int run_tempdir(const char *dir, void **out)
{
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir, .mode = 0750 });
    *out = d;
    return d ? 0 : -1;
}

static int check_tempdir(const char *dir, void *out)
{
    (void)dir;
    tf_dir *d = out;
    char *name = strdup(tf_dir_name(d));
    bool ok = mode_is(name, 0750);
    if (tf_dir_release(d) != 0 || path_exists(name))
        ok = false;
    free(name);
    return ok ? 0 : -1;
}

static const struct create_op CREATE_OPS[] = {
    { "tf_mkstemp", run_mkstemp, check_path_file },
    { "tf_mkdtemp", run_mkdtemp, check_path_dir },
    { "tf_mkdtemp(0300)", run_mkdtemp_0300, check_path_dir },
    { "tf_mktemp", run_mktemp, check_mktemp },
    { "tf_temporary_file", run_tmpfile, check_tmpfile },
    { "tf_temporary_file(fallback)", run_tmpfile_fallback, check_tmpfile },
    { "tf_named_temporary_file", run_named, check_named },
    { "tf_temporary_directory", run_tempdir, check_tempdir },
};

static int create_loop(void *arg)
{
    const char *dir = arg;
    int failures = 0;
    umask(077);
    for (size_t o = 0; o < sizeof CREATE_OPS / sizeof *CREATE_OPS; o++) {
        const struct create_op *op = &CREATE_OPS[o];
        for (size_t e = 0; e < sizeof ERRS / sizeof *ERRS; e++) {
            for (size_t k = 0; k < 4 && ERRS[e].errs[k]; k++) {
                int err = ERRS[e].errs[k];
                for (unsigned long n = 1;; n++) {
                    int fds = fd_count();
                    char *before = dir_listing(dir);
                    void *out = NULL;
                    fault_arm(ERRS[e].entry, n, err);
                    errno = 0;
                    int rc = op->run(dir, &out);
                    int got = errno;
                    unsigned long hits = fault_hits();
                    fault_reset();
                    bool bad = false;
                    if (rc == 0) {
                        if (op->check(dir, out) != 0) {
                            SAY("%s, %s #%lu fails %s: wrong result\n", op->name,
                                ERRS[e].entry, n, errname(err));
                            bad = true;
                        }
                    } else if (!hits) {
                        SAY("%s failed with no fault injected: %s\n", op->name, errname(got));
                        bad = true;
                    } else if (got != err) {
                        SAY("%s, %s #%lu fails %s: errno is %s\n", op->name, ERRS[e].entry, n,
                            errname(err), errname(got));
                        bad = true;
                    }
                    if (fd_count() != fds) {
                        SAY("%s, %s #%lu fails %s: descriptor leak (%d, was %d)\n", op->name,
                            ERRS[e].entry, n, errname(err), fd_count(), fds);
                        fd_dump();
                        bad = true;
                    }
                    char *after = dir_listing(dir);
                    if (strcmp(before, after) != 0) {
                        SAY("%s, %s #%lu fails %s (returned %d): left behind:\n%s", op->name,
                            ERRS[e].entry, n, errname(err), rc, after);
                        bad = true;
                        remove_tree(dir);
                        mkdir(dir, 0700);
                    }
                    free(before);
                    free(after);
                    if (bad)
                        failures++;
                    if (!hits || n > 5000 || failures > 20)
                        break;
                }
            }
        }
    }
    return failures ? 1 : 0;
}

static void test_create_faults(void **state)
{
    char *dir = path_join(TFT_DIR(state), "w");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(create_loop(dir), 0);
    free(dir);
}

static void test_create_faults_unprivileged(void **state)
{
    char *dir = path_join(TFT_DIR(state), "w");
    assert_int_equal(mkdir(dir, 0700), 0);
    give_to_nobody(TFT_DIR(state));
    give_to_nobody(dir);
    assert_int_equal(run_child(create_loop, dir, true), 0);
    free(dir);
}

/* ---- cleanup ---------------------------------------------------------------------- */

enum cleanup_kind { CL_RMTREE, CL_RMTREE_IGNORE, CL_DIR_CLEANUP, CL_DIR_RELEASE,
                    CL_FILE_CLOSE, CL_FILE_RELEASE, CL_COUNT };
static const char *const CL_NAMES[] = { "tf_rmtree", "tf_rmtree(ignore)", "tf_dir_cleanup",
                                        "tf_dir_release", "tf_file_close",
                                        "tf_file_release" };

static int cleanup_loop(void *arg)
{
    const char *dir = arg;
    int failures = 0;
    char *root = path_join(dir, "root");
    for (int kind = 0; kind < CL_COUNT; kind++) {
        for (size_t e = 0; e < sizeof ERRS / sizeof *ERRS; e++) {
            for (size_t k = 0; k < 4 && ERRS[e].errs[k]; k++) {
                int err = ERRS[e].errs[k];
                for (unsigned long n = 1;; n++) {
                    /* Prepare, with no fault. */
                    tf_dir *d = NULL;
                    tf_file *f = NULL;
                    char *target = NULL;
                    if (kind == CL_RMTREE || kind == CL_RMTREE_IGNORE) {
                        if (mkdir(root, 0700) || scenario_populate(root))
                            return 2;
                        target = strdup(root);
                    } else if (kind == CL_DIR_CLEANUP || kind == CL_DIR_RELEASE) {
                        d = tf_temporary_directory(&(tf_opts){ .dir = dir });
                        if (!d || scenario_populate(tf_dir_name(d)))
                            return 2;
                        target = strdup(tf_dir_name(d));
                    } else {
                        f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
                        if (!f || tf_file_write(f, "data", 4) != 4)
                            return 2;
                        target = strdup(tf_file_name(f));
                    }
                    int fds = fd_count();
                    if (d)
                        fds--;   /* the handle's own descriptor goes with the cleanup */
                    if (f)
                        fds--;
                    fault_arm(ERRS[e].entry, n, err);
                    errno = 0;
                    int rc;
                    switch (kind) {
                    case CL_RMTREE: rc = tf_rmtree(root, 0); break;
                    case CL_RMTREE_IGNORE: rc = tf_rmtree(root, TF_IGNORE_CLEANUP_ERRORS); break;
                    case CL_DIR_CLEANUP: rc = tf_dir_cleanup(d); break;
                    case CL_DIR_RELEASE: rc = tf_dir_release(d); d = NULL; break;
                    case CL_FILE_CLOSE: rc = tf_file_close(f); break;
                    default: rc = tf_file_release(f); f = NULL; break;
                    }
                    int got = errno;
                    unsigned long hits = fault_hits();
                    fault_reset();
                    bool bad = false;
                    bool gone = !path_exists(target);
                    if (rc == 0 && !gone && kind != CL_RMTREE_IGNORE) {
                        SAY("%s, %s #%lu fails %s: returned 0 but %s is still there\n",
                            CL_NAMES[kind], ERRS[e].entry, n, errname(err), target);
                        bad = true;
                    }
                    if (rc != 0 && !hits) {
                        SAY("%s failed with no fault injected: %s\n", CL_NAMES[kind],
                            errname(got));
                        bad = true;
                    }
                    if (rc != 0 && hits && got != err) {
                        SAY("%s, %s #%lu fails %s: errno is %s\n", CL_NAMES[kind],
                            ERRS[e].entry, n, errname(err), errname(got));
                        bad = true;
                    }
                    if (kind == CL_RMTREE_IGNORE && rc != 0) {
                        SAY("%s returned -1 (%s)\n", CL_NAMES[kind], errname(got));
                        bad = true;
                    }
                    /* Finish the job with no fault: it must now succeed. */
                    if (d) {
                        if (tf_dir_release(d) != 0) {
                            SAY("%s, %s #%lu: release after the fault failed: %s\n",
                                CL_NAMES[kind], ERRS[e].entry, n, errname(errno));
                            bad = true;
                        }
                    }
                    if (f)
                        tf_file_release(f);
                    if (path_exists(target)) {
                        struct stat st;
                        lstat(target, &st);
                        int r2 = S_ISDIR(st.st_mode) ? tf_rmtree(target, 0) : unlink(target);
                        if (r2 != 0) {
                            SAY("%s, %s #%lu: tree not removable after the fault: %s\n",
                                CL_NAMES[kind], ERRS[e].entry, n, errname(errno));
                            bad = true;
                        }
                    }
                    if (fd_count() != fds) {
                        SAY("%s, %s #%lu fails %s: descriptor leak (%d, expected %d)\n",
                            CL_NAMES[kind], ERRS[e].entry, n, errname(err), fd_count(), fds);
                        fd_dump();
                        bad = true;
                    }
                    if (dir_entries(dir) != 0) {
                        char *l = dir_listing(dir);
                        SAY("%s, %s #%lu: left behind:\n%s", CL_NAMES[kind], ERRS[e].entry,
                            n, l);
                        free(l);
                        remove_tree(root);
                        bad = true;
                    }
                    free(target);
                    if (bad)
                        failures++;
                    if (!hits || n > 5000 || failures > 20)
                        break;
                }
            }
        }
    }
    free(root);
    return failures ? 1 : 0;
}

static void test_cleanup_faults(void **state)
{
    char *dir = path_join(TFT_DIR(state), "w");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(cleanup_loop(dir), 0);
    free(dir);
}

static void test_cleanup_faults_unprivileged(void **state)
{
    char *dir = path_join(TFT_DIR(state), "w");
    assert_int_equal(mkdir(dir, 0700), 0);
    give_to_nobody(TFT_DIR(state));
    give_to_nobody(dir);
    assert_int_equal(run_child(cleanup_loop, dir, true), 0);
    free(dir);
}

/* ---- I/O on a file ---------------------------------------------------------------- */

static void test_io_faults(void **state)
{
    const char *dir = TFT_DIR(state);
    const struct { const char *entry; int err; } cases[] = {
        { "write", ENOSPC }, { "write", EIO }, { "read", EIO }, { "lseek", EIO },
        { "ftruncate", ENOSPC }, { "ftruncate", EIO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir });
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, "0123456789", 10), 10);
        fault_arm(cases[i].entry, 1, cases[i].err);
        char buf[16];
        long rc;
        errno = 0;
        if (!strcmp(cases[i].entry, "write"))
            rc = (long)tf_file_write(f, "abc", 3);
        else if (!strcmp(cases[i].entry, "read"))
            rc = (long)tf_file_read(f, buf, sizeof buf);
        else if (!strcmp(cases[i].entry, "lseek"))
            rc = (long)tf_file_seek(f, 0, SEEK_SET);
        else
            rc = tf_file_truncate(f, 2);
        int err = errno;
        fault_reset();
        assert_int_equal(rc, -1);
        errno = err;
        assert_errno(cases[i].err);
        /* The handle still works. */
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        assert_int_equal(tf_file_read(f, buf, 10), 10);
        assert_memory_equal(buf, "0123456789", 10);
        assert_int_equal(tf_file_release(f), 0);
    }
    /* EINTR is retried: the call succeeds. */
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    fault_arm("write", 1, EINTR);
    assert_int_equal(tf_file_write(f, "abc", 3), 3);
    fault_reset();
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    fault_arm("read", 1, EINTR);
    char buf[4] = {0};
    assert_int_equal(tf_file_read(f, buf, 3), 3);
    fault_reset();
    assert_string_equal(buf, "abc");
    tf_file_release(f);
}

/* ---- the registry growing ------------------------------------------------------ */

static void *make_named(const char *dir)
{
    return tf_named_temporary_file(&(tf_opts){ .dir = dir });
}

static void *make_dir(const char *dir)
{
    return tf_temporary_directory(&(tf_opts){ .dir = dir });
}

/*
 * The creation at which the cleanup registry needs a new chunk gets no memory
 * for it: that creation fails with ENOMEM and leaves nothing (no name, no
 * descriptor), the ones before stay registered. Each creation is run with
 * the malloc after its usual ones failing: only a growing one makes it.
 */
static void registry_growth_fails(const char *dir, void *(*make)(const char *),
                                  int (*release)(void *))
{
    enum { MAX = 2000 };
    void **held = calloc(MAX, sizeof *held);
    assert_non_null(held);
    fault_count_start();
    held[0] = make(dir);
    unsigned long usual = fault_calls("malloc");
    fault_reset();
    assert_non_null(held[0]);
    size_t n = 1;
    bool failed = false;
    for (; n < MAX && !failed; n++) {
        int entries = dir_entries(dir), fds = fd_count();
        fault_arm("malloc", usual + 1, ENOMEM);
        errno = 0;
        held[n] = make(dir);
        int err = errno;
        unsigned long hits = fault_hits();
        fault_reset();
        if (held[n])
            continue;
        errno = err;
        assert_errno(ENOMEM);
        assert_int_equal(hits, 1);
        assert_int_equal(dir_entries(dir), entries);
        assert_no_fd_leak(fds);
        assert_int_equal(tf_cleanup_registered(), n);   /* the ones before, still registered */
        failed = true;
    }
    assert_true(failed);
    for (size_t i = 0; i < n; i++)
        if (held[i])
            assert_int_equal(release(held[i]), 0);
    assert_int_equal(dir_entries(dir), 0);
    free(held);
}

static int release_file(void *f)
{
    return tf_file_release(f);
}

static int release_dir(void *d)
{
    return tf_dir_release(d);
}

static void test_registry_growth_fails(void **state)
{
    registry_growth_fails(TFT_DIR(state), make_named, release_file);
    registry_growth_fails(TFT_DIR(state), make_dir, release_dir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_faults),
        T(test_create_faults_unprivileged),
        T(test_cleanup_faults),
        T(test_cleanup_faults_unprivileged),
        T(test_io_faults),
        T(test_registry_growth_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
