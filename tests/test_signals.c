/*
 * Fatal-signal cleanup (signals.c): a child creates the set of cleanup_helpers.h
 * and receives a signal; the parent checks how the child died and what it
 * left. With the handlers off the files stay, which proves the checks can fail.
 */
#include "cleanup_helpers.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static const int listed[] = { SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGPIPE, SIGTERM, SIGXCPU, SIGXFSZ };
#define NLISTED (sizeof listed / sizeof listed[0])

struct child {
    pid_t pid;
    int from;   /* the parent's read end of the child's report pipe */
};

static int report_fd = -1;

/* Child side: one byte to the parent. */
static void say(char c)
{
    ssize_t n = write(report_fd, &c, 1);
    (void)n;
}

/* Parent side: the next byte from the child, or 0 at end of file. */
static char hear(const struct child *c)
{
    char b = 0;
    ssize_t n;
    while ((n = read(c->from, &b, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? b : 0;
}

/* Starts fn(dir) in a child that reports through report_fd; no core files. */
static struct child spawn(int (*fn)(const char *), const char *dir)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    struct child c = { .pid = fork(), .from = p[0] };
    assert_true(c.pid >= 0);
    if (c.pid == 0) {
        close(p[0]);
        report_fd = p[1];
        prctl(PR_SET_DUMPABLE, 0);
        _exit(fn(dir));
    }
    close(p[1]);
    return c;
}

static int reap(struct child *c)
{
    int status;
    while (waitpid(c->pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    close(c->from);
    return status;
}

#define assert_killed_by(status, sig)                        \
    do {                                                     \
        int st_ = (status);                                  \
        assert_true(WIFSIGNALED(st_));                       \
        assert_int_equal(WTERMSIG(st_), (sig));              \
    } while (0)

/* Makes the set, says 'r', waits for signals forever. */
static int wait_for_signal(const char *dir)
{
    CHECK(make_set(dir) == 0);
    say('r');
    for (;;)
        pause();
}

static int handlers_on(const char *dir)
{
    CHECK(tf_cleanup_install_signals() == 0);
    return wait_for_signal(dir);
}

static int handlers_off(const char *dir)
{
    return wait_for_signal(dir);
}

static int handlers_installed_then_removed(const char *dir)
{
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(tf_cleanup_uninstall_signals() == 0);
    struct sigaction sa;
    CHECK(sigaction(SIGTERM, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL);
    return wait_for_signal(dir);
}

static void run_signal(const char *dir, int (*fn)(const char *), int sig, bool removed)
{
    struct child c = spawn(fn, dir);
    assert_int_equal(hear(&c), 'r');
    assert_int_equal(kill(c.pid, sig), 0);
    assert_killed_by(reap(&c), sig);
    assert_set_left(dir, !removed);
}

static void test_each_signal_removes(void **state)
{
    (void)state;
    for (size_t i = 0; i < NLISTED; i++) {
        char *dir = scratch_new();
        run_signal(dir, handlers_on, listed[i], true);
        scratch_free(dir);
    }
}

static void test_each_signal_without_handlers_leaves(void **state)
{
    (void)state;
    for (size_t i = 0; i < NLISTED; i++) {
        char *dir = scratch_new();
        run_signal(dir, handlers_off, listed[i], false);
        scratch_free(dir);
    }
}

static void test_uninstall_restores(void **state)
{
    run_signal(TFT_DIR(state), handlers_installed_then_removed, SIGTERM, false);
}

/* Signals raised by the process itself, as they happen in real programs. */
static int real_abort(const char *dir)
{
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    abort();
}

static int real_sigpipe(const char *dir)
{
    int p[2];
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    CHECK(pipe(p) == 0);
    close(p[0]);
    ssize_t n = write(p[1], "x", 1);   /* no reader: SIGPIPE */
    (void)n;
    return 1;
}

static int real_sigxfsz(const char *dir)
{
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir, .prefix = "reg" });
    CHECK(f != NULL);
    struct rlimit lim = { 4096, 4096 };
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    char buf[8192] = { 0 };
    tf_file_write(f, buf, sizeof buf);   /* past the limit: SIGXFSZ */
    return 1;
}

static void run_self_signal(const char *dir, int (*fn)(const char *), int sig)
{
    struct child c = spawn(fn, dir);
    assert_killed_by(reap(&c), sig);
    assert_set_left(dir, false);
}

static void test_self_raised(void **state)
{
    (void)state;
    struct { int (*fn)(const char *); int sig; } cases[] = {
        { real_abort, SIGABRT }, { real_sigpipe, SIGPIPE }, { real_sigxfsz, SIGXFSZ },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = scratch_new();
        run_self_signal(dir, cases[i].fn, cases[i].sig);
        scratch_free(dir);
    }
}

/*
 * A fatal signal while tf_cleanup_now() empties a directory in its static
 * memory: the handler still empties and removes the other directories (the
 * one being emptied belongs to the interrupted call, and stays).
 */
static int getdents_calls;

static ssize_t getdents_raising(int fd, void *buf, size_t n)
{
    if (getdents_calls++ == 0)
        raise(SIGTERM);
    return tf__sys_default.getdents64(fd, buf, n);
}

static int signal_during_cleanup_now(const char *dir)
{
    CHECK(tf_cleanup_install_signals() == 0);
    tf_dir *first = tf_temporary_directory(&(tf_opts){ .dir = dir, .prefix = "first" });
    tf_dir *second = tf_temporary_directory(&(tf_opts){ .dir = dir, .prefix = "second" });
    CHECK(first && second);
    CHECK(write_file(tf_dir_name(first), "f", "x") == 0);
    CHECK(write_file(tf_dir_name(second), "f", "x") == 0);
    fault_count_start();
    fault_next.getdents64 = getdents_raising;
    tf_cleanup_now();
    return 1;   /* not reached: SIGTERM ends the process */
}

static void test_signal_during_cleanup_now(void **state)
{
    (void)state;
    char *dir = scratch_new();
    struct child c = spawn(signal_during_cleanup_now, dir);
    assert_killed_by(reap(&c), SIGTERM);
    assert_int_equal(count_prefixed(dir, "second"), 0);
    assert_int_equal(count_prefixed(dir, "first"), 1);
    scratch_free(dir);
}

/* ---- the program's own handlers ---------------------------------------- */

/* A program handler that ends the process the classic way. */
static void fatal_program_handler(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    say(info->si_signo == sig ? 'H' : '?');
    signal(sig, SIG_DFL);
    raise(sig);
}

static int chained_fatal(const char *dir)
{
    struct sigaction sa = { .sa_sigaction = fatal_program_handler, .sa_flags = SA_SIGINFO };
    CHECK(sigaction(SIGTERM, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    return wait_for_signal(dir);
}

static void test_program_handler_chained_fatal(void **state)
{
    struct child c = spawn(chained_fatal, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    kill(c.pid, SIGTERM);
    assert_int_equal(hear(&c), 'H');   /* the program's handler ran */
    assert_killed_by(reap(&c), SIGTERM);
    assert_set_left(TFT_DIR(state), false);
}

static volatile sig_atomic_t got_int;

static void surviving_program_handler(int sig)
{
    got_int = sig;
}

static int chained_survives(const char *dir)
{
    CHECK(signal(SIGINT, surviving_program_handler) != SIG_ERR);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    say('r');
    while (!got_int)
        pause();
    /* The program handled the signal: its temporaries are still there. */
    CHECK(count_prefixed(dir, "reg") == 3);
    say('s');
    exit(0);   /* and go at exit */
}

static void test_program_handler_chained_survives(void **state)
{
    struct child c = spawn(chained_survives, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    kill(c.pid, SIGINT);
    assert_int_equal(hear(&c), 's');
    int st = reap(&c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_set_left(TFT_DIR(state), false);
}

/*
 * SIGABRT sent by kill, raise or pthread_kill to a program whose handler
 * returns does not end the process: nothing may be removed, and creating
 * must go on (no handler left the registry "dying").
 */
static volatile sig_atomic_t got_abrt;

static void returning_abrt_handler(int sig)
{
    (void)sig;
    got_abrt++;
}

static int abrt_survives(const char *dir)
{
    leaks_expected();
    alarm(20);   /* a creation that hangs ends in SIGALRM, not a stuck test */
    CHECK(signal(SIGABRT, returning_abrt_handler) != SIG_ERR);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    CHECK(kill(getpid(), SIGABRT) == 0);
    CHECK(raise(SIGABRT) == 0);
    CHECK(pthread_kill(pthread_self(), SIGABRT) == 0);
    CHECK(got_abrt == 3);
    CHECK(count_prefixed(dir, "reg") == 3);
    CHECK(tf_cleanup_registered() == 3);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir, .prefix = "reg" });
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir, .prefix = "reg" });
    CHECK(f && d);
    CHECK(count_prefixed(dir, "reg") == 5);
    exit(0);   /* all go at exit */
}

static void test_program_abrt_handler_survives(void **state)
{
    struct child c = spawn(abrt_survives, TFT_DIR(state));
    int st = reap(&c);
    assert_exited(st, 0);
    assert_set_left(TFT_DIR(state), false);
}

/*
 * After uninstalling, our handler may still run: a handler the program
 * installed over ours saved our action and chains to it. The signal must then
 * do what it did before we were installed (and remove nothing).
 */
static struct sigaction saved_ours;

static void chaining_program_handler(int sig, siginfo_t *info, void *uc)
{
    say('H');
    saved_ours.sa_sigaction(sig, info, uc);
}

static int chains_to_uninstalled(const char *dir)
{
    leaks_expected();
    alarm(20);   /* a swallowed signal ends in SIGALRM */
    CHECK(tf_cleanup_install_signals() == 0);
    struct sigaction sa = { .sa_sigaction = chaining_program_handler, .sa_flags = SA_SIGINFO };
    CHECK(sigaction(SIGTERM, &sa, &saved_ours) == 0);
    CHECK(saved_ours.sa_flags & SA_SIGINFO);
    CHECK(tf_cleanup_uninstall_signals() == 0);
    return wait_for_signal(dir);
}

static void test_uninstalled_handler_passes_on_default(void **state)
{
    struct child c = spawn(chains_to_uninstalled, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    kill(c.pid, SIGTERM);
    assert_int_equal(hear(&c), 'H');
    assert_killed_by(reap(&c), SIGTERM);    /* the default action: death */
    assert_set_left(TFT_DIR(state), true);  /* uninstalled: nothing removed */
}

static volatile sig_atomic_t first_handler_ran;

static void first_program_handler(int sig)
{
    (void)sig;
    say('P');
    first_handler_ran = 1;
}

static int chains_to_uninstalled_over_program(const char *dir)
{
    leaks_expected();
    alarm(20);
    CHECK(signal(SIGTERM, first_program_handler) != SIG_ERR);
    CHECK(tf_cleanup_install_signals() == 0);
    struct sigaction sa = { .sa_sigaction = chaining_program_handler, .sa_flags = SA_SIGINFO };
    CHECK(sigaction(SIGTERM, &sa, &saved_ours) == 0);
    CHECK(tf_cleanup_uninstall_signals() == 0);
    CHECK(make_set(dir) == 0);
    say('r');
    while (!first_handler_ran)
        pause();
    CHECK(count_prefixed(dir, "reg") == 3);
    say('s');
    exit(0);
}

static void test_uninstalled_handler_passes_on_to_program(void **state)
{
    struct child c = spawn(chains_to_uninstalled_over_program, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    kill(c.pid, SIGTERM);
    assert_int_equal(hear(&c), 'H');
    assert_int_equal(hear(&c), 'P');   /* the handler we had replaced */
    assert_int_equal(hear(&c), 's');
    assert_exited(reap(&c), 0);
    assert_set_left(TFT_DIR(state), false);
}

static int ignored_stays_ignored(const char *dir)
{
    struct sigaction sa;
    CHECK(signal(SIGHUP, SIG_IGN) != SIG_ERR);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN);
    CHECK(make_set(dir) == 0);
    say('r');
    pause();   /* SIGHUP does not wake us (ignored); SIGTERM ends us */
    say('!');
    return 1;
}

static void test_ignored_signal_stays_ignored(void **state)
{
    struct child c = spawn(ignored_stays_ignored, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    kill(c.pid, SIGHUP);
    usleep(50 * 1000);
    assert_int_equal(waitpid(c.pid, NULL, WNOHANG), 0);   /* still alive */
    assert_set_left(TFT_DIR(state), true);                /* nothing removed */
    kill(c.pid, SIGTERM);
    assert_killed_by(reap(&c), SIGTERM);
    assert_set_left(TFT_DIR(state), false);
}

static int install_twice(const char *dir)
{
    (void)dir;
    CHECK(tf_cleanup_install_signals() == 0);
    struct sigaction first, again;
    CHECK(sigaction(SIGTERM, NULL, &first) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(sigaction(SIGTERM, NULL, &again) == 0);
    CHECK(first.sa_sigaction == again.sa_sigaction);
    return wait_for_signal(dir);
}

static void test_install_twice(void **state)
{
    /* Installing again must not chain our handler to itself (endless loop). */
    run_signal(TFT_DIR(state), install_twice, SIGQUIT, true);
}

/* ---- installing again over a handler that chains to ours --------------- */

/*
 * A program handler installed over ours that saved our action and calls it.
 * Installing again must not record it as the action ours chains to: ours
 * would call it and it ours, until the stack overflows (SIGSEGV, nothing
 * removed). The signal must end the process as SIGTERM, after cleanup.
 */
static int install_again_over_chaining(const char *dir, bool uninstall_first)
{
    leaks_expected();
    alarm(20);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    struct sigaction sa = { .sa_sigaction = chaining_program_handler, .sa_flags = SA_SIGINFO };
    CHECK(sigaction(SIGTERM, &sa, &saved_ours) == 0);
    if (uninstall_first)
        CHECK(tf_cleanup_uninstall_signals() == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    raise(SIGTERM);
    say('!');
    return 1;
}

static int install_again_installed(const char *dir)
{
    return install_again_over_chaining(dir, false);
}

static int install_again_uninstalled(const char *dir)
{
    return install_again_over_chaining(dir, true);
}

static void test_install_again_over_chaining_handler(void **state)
{
    int (*fns[])(const char *) = { install_again_installed, install_again_uninstalled };
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        char *dir = scratch_new();
        struct child c = spawn(fns[i], dir);
        assert_int_equal(hear(&c), 'H');   /* the program's handler ran, once */
        assert_int_equal(hear(&c), 0);
        assert_killed_by(reap(&c), SIGTERM);
        assert_set_left(dir, false);
        scratch_free(dir);
    }
}

/*
 * Installing again leaves the chain as the program made it: its handler, then
 * ours, then the handler ours had replaced (which handles the signal here).
 */
static int install_again_keeps_chain(const char *dir)
{
    leaks_expected();
    alarm(20);
    CHECK(signal(SIGTERM, first_program_handler) != SIG_ERR);
    CHECK(tf_cleanup_install_signals() == 0);
    struct sigaction sa = { .sa_sigaction = chaining_program_handler, .sa_flags = SA_SIGINFO };
    CHECK(sigaction(SIGTERM, &sa, &saved_ours) == 0);
    CHECK(tf_cleanup_uninstall_signals() == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    raise(SIGTERM);
    CHECK(first_handler_ran);
    CHECK(count_prefixed(dir, "reg") == 3);   /* handled: nothing removed */
    say('s');
    exit(0);
}

static void test_install_again_keeps_chain(void **state)
{
    struct child c = spawn(install_again_keeps_chain, TFT_DIR(state));
    assert_int_equal(hear(&c), 'H');
    assert_int_equal(hear(&c), 'P');
    assert_int_equal(hear(&c), 's');
    assert_exited(reap(&c), 0);
    assert_set_left(TFT_DIR(state), false);
}

/*
 * The same loop set up so that no bookkeeping can see it: the chaining handler
 * comes back after a clean uninstall, and ours goes over it. The guard against
 * re-entry on one thread ends the loop with cleanup and the default action.
 */
static int chaining_handler_comes_back(const char *dir)
{
    leaks_expected();
    alarm(20);
    CHECK(tf_cleanup_install_signals() == 0);
    struct sigaction sa = { .sa_sigaction = chaining_program_handler, .sa_flags = SA_SIGINFO };
    CHECK(sigaction(SIGTERM, &sa, &saved_ours) == 0);
    CHECK(sigaction(SIGTERM, &saved_ours, NULL) == 0);   /* ours back on top */
    CHECK(tf_cleanup_uninstall_signals() == 0);          /* restores SIG_DFL */
    CHECK(sigaction(SIGTERM, &sa, NULL) == 0);           /* calls ours, saved earlier */
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    raise(SIGTERM);
    say('!');
    return 1;
}

static void test_handler_calling_back_is_cut(void **state)
{
    struct child c = spawn(chaining_handler_comes_back, TFT_DIR(state));
    assert_int_equal(hear(&c), 'H');
    assert_int_equal(hear(&c), 0);
    assert_killed_by(reap(&c), SIGTERM);
    assert_set_left(TFT_DIR(state), false);
}

/*
 * Our handler called for a signal it was not installed for (a program's
 * handler that saved our action under one signal and calls it for another)
 * returns at once: nothing removed, the process goes on, errno kept.
 */
static int handler_called_for_another_signal(const char *dir)
{
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    struct sigaction ours;
    CHECK(sigaction(SIGTERM, NULL, &ours) == 0 && (ours.sa_flags & SA_SIGINFO));
    errno = EDOM;
    ours.sa_sigaction(SIGUSR1, NULL, NULL);
    CHECK(errno == EDOM);
    say('r');
    for (;;)
        pause();
}

static void test_handler_ignores_other_signals(void **state)
{
    struct child c = spawn(handler_called_for_another_signal, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    assert_set_left(TFT_DIR(state), true);   /* the call removed nothing */
    kill(c.pid, SIGTERM);
    assert_killed_by(reap(&c), SIGTERM);
    assert_set_left(TFT_DIR(state), false);  /* the real signal still cleans */
}

/* ---- the chained handler's mask and flags ------------------------------- */

/* SIGTERM handler that asked for SIGUSR1 blocked: reports the mask it runs
 * with ('B' SIGUSR1 blocked, 'U' not), then dies the classic way. */
static void masked_program_handler(int sig)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    say(sigismember(&cur, SIGUSR1) == 1 ? 'B' : 'U');
    signal(sig, SIG_DFL);
    raise(sig);
}

static int chained_with_mask(const char *dir)
{
    struct sigaction sa = { .sa_handler = masked_program_handler };
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    CHECK(sigaction(SIGTERM, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    return wait_for_signal(dir);
}

static void test_program_handler_mask_kept(void **state)
{
    struct child c = spawn(chained_with_mask, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    kill(c.pid, SIGTERM);
    assert_int_equal(hear(&c), 'B');
    assert_killed_by(reap(&c), SIGTERM);
    assert_set_left(TFT_DIR(state), false);
}

/*
 * SA_RESETHAND: the program's handler runs for the first signal only; the
 * next one does the default action, with cleanup.
 */
static volatile sig_atomic_t oneshot_calls;

static void oneshot_handler(int sig)
{
    (void)sig;
    oneshot_calls++;
    say('O');
}

static int chained_oneshot(const char *dir)
{
    leaks_expected();
    alarm(20);
    struct sigaction sa = { .sa_handler = oneshot_handler, .sa_flags = SA_RESETHAND };
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGINT, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    raise(SIGINT);
    CHECK(oneshot_calls == 1);
    CHECK(count_prefixed(dir, "reg") == 3);   /* handled: nothing removed */
    say('s');
    raise(SIGINT);
    say('!');
    return 1;
}

static void test_program_handler_resethand(void **state)
{
    struct child c = spawn(chained_oneshot, TFT_DIR(state));
    assert_int_equal(hear(&c), 'O');
    assert_int_equal(hear(&c), 's');
    assert_int_equal(hear(&c), 0);
    assert_killed_by(reap(&c), SIGINT);
    assert_set_left(TFT_DIR(state), false);
}

/*
 * The uninstall puts back the disposition ours had replaced as it stands: a
 * one-shot (SA_RESETHAND) handler already used is SIG_DFL by then, as the
 * kernel would have left it; one not yet used comes back.
 */
static int oneshot_uninstalled(const char *dir)
{
    (void)dir;
    struct sigaction sa = { .sa_handler = oneshot_handler, .sa_flags = SA_RESETHAND }, now;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGINT, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(tf_cleanup_uninstall_signals() == 0);
    CHECK(sigaction(SIGINT, NULL, &now) == 0 && now.sa_handler == oneshot_handler);
    CHECK(tf_cleanup_install_signals() == 0);
    raise(SIGINT);   /* the program's handler, once */
    CHECK(oneshot_calls == 1);
    CHECK(tf_cleanup_uninstall_signals() == 0);
    CHECK(sigaction(SIGINT, NULL, &now) == 0 && now.sa_handler == SIG_DFL);
    say('u');
    return 0;
}

static void test_used_oneshot_uninstalled_is_default(void **state)
{
    struct child c = spawn(oneshot_uninstalled, TFT_DIR(state));
    assert_int_equal(hear(&c), 'O');
    assert_int_equal(hear(&c), 'u');
    assert_exited(reap(&c), 0);
}

/*
 * Installing again over a program handler of the same kind (plain, not
 * SA_SIGINFO) as the one ours had replaced: another one is the program's
 * (it may call ours) and stays the disposition; the same one, put back by
 * the program, calls nothing of ours, and ours goes over it again.
 */
static void plain_one(int sig) { (void)sig; }
static void plain_two(int sig) { (void)sig; }

static int install_over_plain(const char *dir)
{
    (void)dir;
    struct sigaction sa = { .sa_handler = plain_one }, now;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGHUP, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    sa.sa_handler = plain_two;
    CHECK(sigaction(SIGHUP, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(sigaction(SIGHUP, NULL, &now) == 0 && now.sa_handler == plain_two);
    sa.sa_handler = plain_one;
    CHECK(sigaction(SIGHUP, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(sigaction(SIGHUP, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
          now.sa_handler != plain_one && now.sa_handler != plain_two);
    say('i');
    return 0;
}

static void test_install_again_over_plain_handlers(void **state)
{
    struct child c = spawn(install_over_plain, TFT_DIR(state));
    assert_int_equal(hear(&c), 'i');
    assert_exited(reap(&c), 0);
}

/* A handler without SA_RESTART interrupts a blocking call (EINTR). */
static volatile sig_atomic_t got_hup;

static void flag_handler(int sig)
{
    got_hup = sig;
}

static int chained_no_restart(const char *dir)
{
    leaks_expected();
    int p[2];
    char b;
    struct sigaction sa = { .sa_handler = flag_handler };   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGHUP, &sa, NULL) == 0);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK(make_set(dir) == 0);
    CHECK(pipe(p) == 0);
    alarm(5);   /* a restarted read would block until then */
    say('r');
    errno = 0;
    CHECK(read(p[0], &b, 1) == -1 && errno == EINTR && got_hup == SIGHUP);
    alarm(0);
    say('e');
    exit(0);
}

static void test_program_handler_restart_kept(void **state)
{
    struct child c = spawn(chained_no_restart, TFT_DIR(state));
    assert_int_equal(hear(&c), 'r');
    usleep(50 * 1000);
    kill(c.pid, SIGHUP);
    assert_int_equal(hear(&c), 'e');
    assert_exited(reap(&c), 0);
    assert_set_left(TFT_DIR(state), false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_signal_removes),
        cmocka_unit_test(test_each_signal_without_handlers_leaves),
        cmocka_unit_test_setup_teardown(test_uninstall_restores, tft_setup, tft_teardown),
        cmocka_unit_test(test_self_raised),
        cmocka_unit_test(test_signal_during_cleanup_now),
        cmocka_unit_test_setup_teardown(test_program_handler_chained_fatal, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_program_handler_chained_survives, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_program_abrt_handler_survives, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_uninstalled_handler_passes_on_default, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_uninstalled_handler_passes_on_to_program, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_ignored_signal_stays_ignored, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_install_twice, tft_setup, tft_teardown),
        cmocka_unit_test(test_install_again_over_chaining_handler),
        cmocka_unit_test_setup_teardown(test_install_again_keeps_chain, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_handler_calling_back_is_cut, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_handler_ignores_other_signals, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_program_handler_mask_kept, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_program_handler_resethand, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_used_oneshot_uninstalled_is_default, tft_setup,
                                        tft_teardown),
        cmocka_unit_test_setup_teardown(test_install_again_over_plain_handlers, tft_setup,
                                        tft_teardown),
        cmocka_unit_test_setup_teardown(test_program_handler_restart_kept, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
