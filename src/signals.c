/*
 * Opt-in fatal-signal handlers: remove every registered temporary, then let
 * the signal do what it would have done (gnulib's fatal-signal.c and git's
 * sigchain are the models).
 *
 * Only async-signal-safe calls run in the handler: atomics, sigaction,
 * pthread_sigmask, sigpending, raise, nanosleep, getpid, gettid and the
 * syscalls of the registry walk (unlinkat, openat, getdents64, fstat...
 * through tf__sys). No malloc, no stdio, no lock: tree removal uses fixed
 * static memory.
 *
 * The program's handler we chain to runs with our mask, which is its own plus
 * the fatal signals. Of its flags, SA_RESTART and SA_ONSTACK are ours too,
 * SA_RESETHAND is emulated (called once, then it counts as SIG_DFL), and
 * SA_NODEFER is not reproduced (the signal stays blocked during the cleanup
 * and so during the handler).
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static const int fatal_signals[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGPIPE, SIGTERM, SIGXCPU, SIGXFSZ,
};
#define NSIG_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])

/* What each signal did before we installed our handler. */
static struct sigaction previous[NSIG_FATAL];
/* Our handler is installed for signal i (false again once uninstalled;
 * previous[i] stays valid from the first install on). It may be installed
 * without being the current disposition: a program handler installed over
 * ours that calls ours is then the way in. */
static atomic_bool installed[NSIG_FATAL];
/* Uninstalled while a program handler was installed over ours: that handler
 * may still call ours (under install_lock). */
static bool chained[NSIG_FATAL];
/* previous[i] asked for SA_RESETHAND and its handler has been called: from
 * then on it stands for SIG_DFL, as the kernel would have reset it. */
static atomic_bool reset_used[NSIG_FATAL];
/* The threads (ids) running our handler for each signal, to tell a handler we
 * chain to that calls us back on the same thread (which would never end). */
#define GUARD_SLOTS 16
static atomic_int running[NSIG_FATAL][GUARD_SLOTS];
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
    /* The other threads do not exist here; this one has another id. */
    for (size_t i = 0; i < NSIG_FATAL; i++)
        for (size_t s = 0; s < GUARD_SLOTS; s++)
            atomic_store(&running[i][s], 0);
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
TF__ASYNC_SAFE static void clean_before_death(void)
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

TF__ASYNC_SAFE static bool is_program_handler(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) ||
           (sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN);
}

TF__ASYNC_SAFE static bool is_ignored(const struct sigaction *sa)
{
    return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_IGN;
}

TF__ASYNC_SAFE static void on_fatal_signal(int sig, siginfo_t *info, void *uc);

TF__ASYNC_SAFE static bool is_ours(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_fatal_signal;
}

/* Both are the same program handler function. */
TF__ASYNC_SAFE static bool same_handler(const struct sigaction *a, const struct sigaction *b)
{
    if (!is_program_handler(a) || !is_program_handler(b) ||
        (a->sa_flags & SA_SIGINFO) != (b->sa_flags & SA_SIGINFO))
        return false;
    return (a->sa_flags & SA_SIGINFO) ? a->sa_sigaction == b->sa_sigaction
                                      : a->sa_handler == b->sa_handler;
}

/*
 * Whether previous[i] is a program handler to call now. One that asked for
 * SA_RESETHAND is called once: the kernel would have reset the disposition to
 * SIG_DFL on that delivery, so from then on it counts as SIG_DFL.
 */
TF__ASYNC_SAFE static bool chain_to_program(size_t i, const struct sigaction *prev)
{
    if (!is_program_handler(prev))
        return false;
    return !(prev->sa_flags & SA_RESETHAND) || !atomic_exchange(&reset_used[i], true);
}

/* previous[i] as it stands now: SIG_DFL once a one-shot handler was used. */
TF__ASYNC_SAFE static const struct sigaction *standing(size_t i, const struct sigaction *dfl)
{
    if ((previous[i].sa_flags & SA_RESETHAND) && is_program_handler(&previous[i]) &&
        atomic_load(&reset_used[i]))
        return dfl;
    return &previous[i];
}

TF__ASYNC_SAFE static void default_action(struct sigaction *dfl)
{
    memset(dfl, 0, sizeof *dfl);
    dfl->sa_handler = SIG_DFL;
}

/* Marks this thread as running our handler for signal i: the slot taken, -1
 * if none was free (no guard then), -2 if this thread already runs it. */
TF__ASYNC_SAFE static int guard_enter(size_t i, int me)
{
    for (size_t s = 0; s < GUARD_SLOTS; s++)
        if (atomic_load(&running[i][s]) == me)
            return -2;
    for (size_t s = 0; s < GUARD_SLOTS; s++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&running[i][s], &expect, me))
            return (int)s;
    }
    return -1;
}

TF__ASYNC_SAFE static void guard_leave(size_t i, int slot)
{
    if (slot >= 0)
        atomic_store(&running[i][slot], 0);
}

TF__ASYNC_SAFE static void call_program_handler(const struct sigaction *sa, int sig, siginfo_t *info, void *uc)
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
TF__ASYNC_SAFE static bool about_to_die(int sig)
{
    struct sigaction now;
    sigset_t pending;
    return sigaction(sig, NULL, &now) == 0 && !(now.sa_flags & SA_SIGINFO) &&
           now.sa_handler == SIG_DFL && sigpending(&pending) == 0 &&
           sigismember(&pending, sig) == 1;
}

void (*tf__signal_death_hook)(void);

/* Lets the pending signal (default disposition) in: the process ends here. */
TF__ASYNC_SAFE static void deliver(int sig)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    if (tf__signal_death_hook)
        tf__signal_death_hook();
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

/* Restores the previous (default) disposition and delivers the signal again. */
TF__ASYNC_SAFE static void reraise(int sig, const struct sigaction *prev)
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
TF__ASYNC_SAFE static void survived(void)
{
    tf__reg_survived();
    atomic_store(&cleaning, 0);
}

/*
 * Our handler was uninstalled, yet runs: a handler the program installed over
 * ours saved our action and chains to it. Do what the disposition we replaced
 * would have done, without cleaning.
 */
TF__ASYNC_SAFE static void pass_on(size_t i, int sig, const struct sigaction *prev, siginfo_t *info, void *uc)
{
    if (chain_to_program(i, prev)) {
        call_program_handler(prev, sig, info, uc);
    } else if (!is_ignored(prev)) {
        struct sigaction dfl;
        default_action(&dfl);
        reraise(sig, &dfl);
    }
}

TF__ASYNC_SAFE static void on_fatal_signal(int sig, siginfo_t *info, void *uc)
{
    int saved_errno = errno;
    int i = index_of(sig);
    if (i < 0)
        return;
    bool ours = atomic_load_explicit(&installed[i], memory_order_acquire);
    int slot = guard_enter((size_t)i, (int)gettid());
    struct sigaction dfl;
    default_action(&dfl);
    const struct sigaction *prev = &previous[i];
    if (slot == -2) {
        /* Called again for this signal on this thread while running: a
         * handler we chained to calls us back (or let the signal in again).
         * Chaining once more would never end: the default action, now. */
        if (ours)
            clean_before_death();
        reraise(sig, &dfl);
        if (ours)
            survived();
        errno = saved_errno;
        return;
    }
    if (!ours) {
        pass_on((size_t)i, sig, prev, info, uc);
    } else if (chain_to_program((size_t)i, prev)) {
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
        reraise(sig, is_program_handler(prev) ? &dfl : prev);   /* a used one-shot: SIG_DFL */
        survived();
    }
    guard_leave((size_t)i, slot);
    errno = saved_errno;
}

static int install_one(size_t i)
{
    struct sigaction ours, prev;
    if (sigaction(fatal_signals[i], NULL, &prev) < 0)
        return -1;
    if (is_ignored(&prev))
        return 0;   /* ignored signals stay ignored */
    if (is_ours(&prev)) {
        atomic_store_explicit(&installed[i], true, memory_order_release);
        return 0;   /* already ours */
    }
    /*
     * A program handler installed over ours since we first were (still
     * installed, or left in place by the uninstall) may have saved our action
     * and call it: recorded as previous[i], ours would call it and it ours,
     * forever. It stays the disposition; ours, still chained behind it, works
     * again when it is called. (The handler previous[i] already holds, put
     * back by the program, calls nothing of ours: ours goes over it again.)
     */
    if (is_program_handler(&prev) && (atomic_load(&installed[i]) || chained[i]) &&
        !same_handler(&prev, &previous[i])) {
        atomic_store_explicit(&installed[i], true, memory_order_release);
        return 0;
    }
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = on_fatal_signal;
    /* A program handler gets its own SA_RESTART choice (a flag it sets must
     * be able to interrupt a blocking call); the others restart. */
    ours.sa_flags = SA_SIGINFO | (prev.sa_flags & SA_ONSTACK) |
                    (is_program_handler(&prev) ? prev.sa_flags & SA_RESTART : SA_RESTART);
    /* The program's handler runs with the mask it asked for, and no other
     * fatal signal may interrupt the cleanup on this thread. */
    sigorset(&ours.sa_mask, &prev.sa_mask, &fatal_set);
    previous[i] = prev;
    atomic_store(&reset_used[i], false);
    chained[i] = false;
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
    struct sigaction now, dfl;
    if (!atomic_load(&installed[i]) || sigaction(fatal_signals[i], NULL, &now) < 0)
        return;
    /* A handler the program installed over ours is the program's: leave it
     * (it may still call ours). */
    default_action(&dfl);
    if (is_ours(&now))
        sigaction(fatal_signals[i], standing(i, &dfl), NULL);
    else
        chained[i] = chained[i] || is_program_handler(&now);
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
