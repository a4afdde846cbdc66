/*
 * Many threads creating and releasing temporaries while a fatal signal
 * arrives: the process dies of that signal, and nothing is left behind (no
 * name made between creation and registration escapes the handler). Also run
 * under TSan.
 */
#include "cleanup_helpers.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <stdatomic.h>

#define NTHREADS 8

static atomic_long rounds;
static const char *work_dir;

static void *churn(void *arg)
{
    (void)arg;
    tf_opts o = { .dir = work_dir, .prefix = "thr" };
    for (;;) {
        tf_file *f = tf_named_temporary_file(&o);
        tf_dir *d = tf_temporary_directory(&o);
        if (!f || !d)
            _exit(20);
        if (tf_file_write(f, "data", 4) != 4 || write_file(tf_dir_name(d), "in", "x") != 0)
            _exit(21);
        tf_file_release(f);
        tf_dir_release(d);
        atomic_fetch_add(&rounds, 1);
    }
    return NULL;
}

/* The child: threads churn until the signal; says 'r' once they are busy. */
static int churner(void *arg)
{
    int fd = *(int *)arg;
    if (tf_cleanup_install_signals() != 0)
        return 10;
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, churn, NULL) != 0)
            return 11;
    while (atomic_load(&rounds) < 200)
        sched_yield();
    if (write(fd, "r", 1) != 1)
        return 12;
    for (;;)
        pause();
}

static void run_round(int sig)
{
    char *dir = scratch_new();
    int p[2];
    assert_int_equal(pipe(p), 0);
    work_dir = dir;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        prctl(PR_SET_DUMPABLE, 0);   /* SIGQUIT: no core file */
        _exit(churner(&p[1]));
    }
    close(p[1]);
    char b = 0;
    assert_int_equal(read(p[0], &b, 1), 1);
    close(p[0]);
    assert_int_equal(kill(pid, sig), 0);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFSIGNALED(st))
        fail_msg("child exited with %d, not killed by signal %d", WEXITSTATUS(st), sig);
    assert_int_equal(WTERMSIG(st), sig);
    if (dir_entries(dir) != 0) {
        char *l = dir_listing(dir);
        fail_msg("left behind after signal %d:\n%s", sig, l);
    }
    scratch_free(dir);
}

static void test_signal_during_churn(void **state)
{
    (void)state;
    const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            run_round(sigs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signal_during_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
