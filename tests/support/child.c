/* Running a test step in a forked child, with root's privileges dropped. */
#include "tftest.h"

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

bool running_as_root(void)
{
    return geteuid() == 0;
}

void give_to_nobody(const char *path)
{
    if (running_as_root() && lchown(path, NOBODY_ID, NOBODY_ID) != 0) {
        perror("give_to_nobody: lchown");
        abort();
    }
}

/*
 * A coverage build keeps root as the saved ids (real and effective are
 * nobody's, so every permission check is nobody's): coverage_flush() takes
 * root back to write the counters into the build tree, which nobody may not.
 */
#ifdef TF_COVERAGE
#define SAVED_ID 0
#else
#define SAVED_ID NOBODY_ID
#endif

static void drop_privileges(void)
{
    if (!running_as_root())
        return;
    if (setgroups(0, NULL) != 0 ||
        setresgid(NOBODY_ID, NOBODY_ID, SAVED_ID) != 0 ||
        setresuid(NOBODY_ID, NOBODY_ID, SAVED_ID) != 0) {
        perror("run_child: dropping privileges");
        _exit(99);
    }
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != NOBODY_ID || e != NOBODY_ID || s != SAVED_ID ||
        (SAVED_ID != 0 && setuid(0) == 0)) {
        fprintf(stderr, "run_child: privileges not dropped\n");
        _exit(99);
    }
}

int run_child(int (*fn)(void *arg), void *arg, bool drop)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (drop)
            drop_privileges();
        int rc = fn(arg);
        fflush(stdout);
        fflush(stderr);
        coverage_flush();
        _exit(rc == 0 ? 0 : (rc & 0xff) ? (rc & 0xff) : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

bool under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload");
}

/*
 * A coverage build (scripts/coverage: gcc --coverage -DTF_COVERAGE) links
 * libgcov: a child that _exits, or that the library's fatal-signal handler
 * ends, must write its counters first, as one that exits does. (A weak
 * reference would not pull __gcov_dump out of the static libgcov.)
 */
#ifdef TF_COVERAGE
void __gcov_dump(void);
#endif

void coverage_flush(void)
{
#ifdef TF_COVERAGE
    uid_t r, e, saved;
    if (getresuid(&r, &e, &saved) == 0 && e != 0 && saved == 0) {
        /* A child run as nobody (drop_privileges above). */
        if (seteuid(0) != 0 || setegid(0) != 0)
            perror("coverage_flush: taking root back");
    }
    __gcov_dump();
#endif
}

#ifdef TF_COVERAGE
/*
 * The fatal-signal handler's last call before it delivers the signal: the
 * counters so far are written and zeroed, so that a process that survives
 * the signal (the program's handler decided so, or the disposition changed
 * meanwhile) writes what it runs afterwards when it ends, which a second
 * dump alone would not (libgcov writes once, unless reset).
 */
void __gcov_reset(void);
static void dump_and_reset(void)
{
    __gcov_dump();
    __gcov_reset();
}

__attribute__((constructor)) static void coverage_flush_on_signal(void)
{
    tf__signal_death_hook = dump_and_reset;
}

/*
 * A coverage build links every program of tests/ and fuzz/ with
 * -Wl,--wrap=_exit (tests/CMakeLists.txt): a child that ends with _exit()
 * (most forked test steps, the library's exec failure) writes its counters
 * first, wherever it was forked.
 */
_Noreturn void __real__exit(int status);
_Noreturn void __wrap__exit(int status);
_Noreturn void __wrap__exit(int status)
{
    coverage_flush();
    __real__exit(status);
}
#endif
