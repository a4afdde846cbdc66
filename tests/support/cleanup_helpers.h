/*
 * Helpers shared by the cleanup tests (test_cleanup.c, test_signals.c,
 * test_sweep.c, test_thread_cleanup.c): children that create a known set of
 * temporaries, and checks of what they left behind.
 */
#ifndef CLEANUP_HELPERS_H
#define CLEANUP_HELPERS_H

#include "tftest.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CLEANUP_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLEANUP_LSAN 1
#endif
#endif
#ifdef CLEANUP_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/*
 * The children end with handles still open on purpose (that is the point:
 * exit or a signal must clean up after them), so their memory is not a leak.
 */
static inline void leaks_expected(void)
{
#ifdef CLEANUP_LSAN
    __lsan_disable();
#endif
}

/* ---- helpers ------------------------------------------------------------ */

/* Entries of dir whose name starts with prefix. */
static inline int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Forks; the child runs fn(arg) and _exits with its value unless fn ends the
 * process itself. Returns the raw wait status. */
static inline int fork_status(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc = fn(arg);
        coverage_flush();
        _exit(rc);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    return status;
}

#define assert_exited(status, code)                          \
    do {                                                     \
        int st_ = (status);                                  \
        assert_true(WIFEXITED(st_));                         \
        assert_int_equal(WEXITSTATUS(st_), (code));          \
    } while (0)

/*
 * What every scenario creates in dir: under prefix "reg", two named files
 * (one TF_NO_DELETE_ON_CLOSE, already closed) and a directory with a file and
 * a subdirectory inside; under "keep" a TF_KEEP file and one kept with
 * tf_file_keep(); under "low" a tf_mkstemp() file, which the caller owns.
 */
static inline int make_set(const char *dir)
{
    leaks_expected();
    tf_opts reg = { .dir = dir, .prefix = "reg" };
    tf_file *a = tf_named_temporary_file(&reg);
    tf_file *b = tf_named_temporary_file(&(tf_opts){ .dir = dir, .prefix = "reg",
                                                     .flags = TF_NO_DELETE_ON_CLOSE });
    tf_dir *d = tf_temporary_directory(&reg);
    CHECK(a && b && d);
    CHECK(tf_file_close(b) == 0);
    CHECK(mkdirat(tf_dir_fileno(d), "sub", 0700) == 0);
    CHECK(write_file(tf_dir_name(d), "inside", "x") == 0);
    tf_file *k1 = tf_named_temporary_file(&(tf_opts){ .dir = dir, .prefix = "keep", .flags = TF_KEEP });
    tf_file *k2 = tf_named_temporary_file(&(tf_opts){ .dir = dir, .prefix = "keep" });
    CHECK(k1 && k2 && tf_file_keep(k2) == 0);
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir, .prefix = "low" }, NULL);
    CHECK(fd >= 0);
    CHECK(tf_cleanup_registered() == 3);
    return 0;
}

/* The parent's view after a child ran make_set: registered ones removed or not. */
static inline void assert_set_left(const char *dir, bool registered_left)
{
    assert_int_equal(count_prefixed(dir, "reg"), registered_left ? 3 : 0);
    assert_int_equal(count_prefixed(dir, "keep"), 2);
    assert_int_equal(count_prefixed(dir, "low"), 1);
}

#endif
