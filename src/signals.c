/*
 * Opt-in fatal-signal handlers: remove every registered temporary, then let
 * the signal do what it would have done (gnulib's fatal-signal.c and git's
 * sigchain are the models).
 *
 * Only async-signal-safe calls run in the handler: atomics, sigaction,
 * pthread_sigmask, sigpending, raise, nanosleep, getpid and the syscalls of
 * the registry walk (unlinkat, openat, getdents64, fstat... through tf__sys).
 * No malloc, no stdio, no lock: tree removal uses fixed static memory.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

static const int fatal_signals[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGPIPE, SIGTERM, SIGXCPU, SIGXFSZ,
};
#define NSIG_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])

/* What each signal did before we installed our handler. */
static struct sigaction previous[NSIG_FATAL];
/* Our handler is installed for signal i (false again once uninstalled;
 * previous[i] stays valid from the first install on). */
static atomic_bool installed[NSIG_FATAL];
/* Some handler is installed: creations block fatal signals until registered. */
static atomic_bool active;
static sigset_t fatal_set;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t set_once = PTHREAD_ONCE_INIT;

/* One handler cleans; a second fatal signal on another thread waits for it. */
static atomic_int cleaning;   /* 0 idle, 1 running, 2 done */

/* fork: no install or uninstall is half done in the child; a handler running
 * on another thread of the parent does not exist there. */
static void before_fork(void)
{
    pthread_mutex_lock(&install_lock);
}

static void parent_after_fork(void)
{
    pthread_mutex_unlock(&install_lock);
}

static void child_after_fork(void)
{
    pthread_mutex_unlock(&install_lock);
    atomic_store(&cleaning, 0);
}

__attribute__((constructor)) static void signals_init(void)
{
    pthread_atfork(before_fork, parent_after_fork, child_after_fork);
}

static int index_of(int sig)
{
    for (size_t i = 0; i < NSIG_FATAL; i++)
        if (fatal_signals[i] == sig)
            return (int)i;
    return -1;
}

bool tf__signals_block(sigset_t *old)
{
    if (!atomic_load_explicit(&active, memory_order_acquire))
        return false;
    pthread_sigmask(SIG_BLOCK, &fatal_set, old);
    return true;
}

void tf__signals_unblock(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Removes everything once for the whole process, which is about to end. */
static void clean_before_death(void)
{
    int expect = 0;
    if (atomic_compare_exchange_strong(&cleaning, &expect, 1)) {
        tf__reg_dying();
        tf__registry_clean(true);
        atomic_store(&cleaning, 2);
        return;
    }
    for (int i = 0; i < 2000 && atomic_load(&cleaning) == 1; i++) {
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

static bool is_program_handler(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) ||
           (sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN);
}

static void call_program_handler(const struct sigaction *sa, int sig, siginfo_t *info, void *uc)
{
    if (sa->sa_flags & SA_SIGINFO)
        sa->sa_sigaction(sig, info, uc);
    else
        sa->sa_handler(sig);
}

/*
 * After the program's handler returned: will the signal end the process the
 * moment we return? That is the case when the handler reset the disposition
 * to SIG_DFL and raised the signal again (it stays pending while we run).
 */
static bool about_to_die(int sig)
{
    struct sigaction now;
    sigset_t pending;
    return sigaction(sig, NULL, &now) == 0 && !(now.sa_flags & SA_SIGINFO) &&
           now.sa_handler == SIG_DFL && sigpending(&pending) == 0 &&
           sigismember(&pending, sig) == 1;
}

/* Lets the pending signal (default disposition) in: the process ends here. */
static void deliver(int sig)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

/* Restores the previous (default) disposition and delivers the signal again. */
static void reraise(int sig, const struct sigaction *prev)
{
    sigaction(sig, prev, NULL);
    raise(sig);   /* pending until unblocked, just below */
    deliver(sig);
}

/*
 * Still alive after delivering a signal with the default disposition (another
 * thread changed the disposition meanwhile): the process goes on, so must
 * creations, and a later fatal signal must clean again.
 */
static void survived(void)
{
    tf__reg_survived();
    atomic_store(&cleaning, 0);
}

/*
 * Our handler was uninstalled, yet runs: a handler the program installed over
 * ours saved our action and chains to it. Do what the disposition we replaced
 * would have done, without cleaning.
 */
static void pass_on(int sig, const struct sigaction *prev, siginfo_t *info, void *uc)
{
    if (is_program_handler(prev)) {
        call_program_handler(prev, sig, info, uc);
    } else if (prev->sa_handler != SIG_IGN) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        reraise(sig, &dfl);
    }
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uc)
{
    int saved_errno = errno;
    int i = index_of(sig);
    if (i < 0)
        return;
    const struct sigaction *prev = &previous[i];
    if (!atomic_load_explicit(&installed[i], memory_order_acquire)) {
        pass_on(sig, prev, info, uc);
    } else if (is_program_handler(prev)) {
        /* The program decides whether this signal is fatal: chain to it, and
         * clean up only if it arranged for the process to die, SIGABRT too
         * (kill, raise or pthread_kill of it need not end the process). */
        call_program_handler(prev, sig, info, uc);
        if (about_to_die(sig)) {
            clean_before_death();
            deliver(sig);
            survived();
        }
    } else {
        clean_before_death();
        reraise(sig, prev);
        survived();
    }
    errno = saved_errno;
}

static int install_one(size_t i)
{
    struct sigaction ours, prev;
    if (sigaction(fatal_signals[i], NULL, &prev) < 0)
        return -1;
    if (!(prev.sa_flags & SA_SIGINFO) && prev.sa_handler == SIG_IGN)
        return 0;   /* ignored signals stay ignored */
    if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction == on_fatal_signal)
        return 0;   /* already ours */
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = on_fatal_signal;
    ours.sa_flags = SA_SIGINFO | SA_RESTART | (prev.sa_flags & SA_ONSTACK);
    /* No other fatal signal may interrupt the cleanup on this thread. */
    ours.sa_mask = fatal_set;
    previous[i] = prev;
    atomic_store_explicit(&installed[i], true, memory_order_release);
    return sigaction(fatal_signals[i], &ours, NULL);
}

static void init_fatal_set(void)
{
    sigemptyset(&fatal_set);
    for (size_t i = 0; i < NSIG_FATAL; i++)
        sigaddset(&fatal_set, fatal_signals[i]);
}

int tf_cleanup_install_signals(void)
{
    pthread_once(&set_once, init_fatal_set);
    pthread_mutex_lock(&install_lock);
    /* Before the first handler goes in, so that no creation can be caught
     * between making a name and registering it. */
    atomic_store_explicit(&active, true, memory_order_release);
    int rc = 0;
    for (size_t i = 0; i < NSIG_FATAL && rc == 0; i++)
        rc = install_one(i);
    int err = errno;
    pthread_mutex_unlock(&install_lock);
    if (rc < 0) {
        tf_cleanup_uninstall_signals();
        errno = err;
    }
    return rc;
}

static void uninstall_one(size_t i)
{
    struct sigaction now;
    if (!atomic_load(&installed[i]) || sigaction(fatal_signals[i], NULL, &now) < 0)
        return;
    /* A handler the program installed over ours is the program's: leave it. */
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_fatal_signal)
        sigaction(fatal_signals[i], &previous[i], NULL);
    atomic_store(&installed[i], false);
}

int tf_cleanup_uninstall_signals(void)
{
    pthread_mutex_lock(&install_lock);
    for (size_t i = 0; i < NSIG_FATAL; i++)
        uninstall_one(i);
    atomic_store(&active, false);
    pthread_mutex_unlock(&install_lock);
    return 0;
}
