/*
 * The process-wide registry of live named temporary files and temporary
 * directories, walked at exit and by the fatal-signal handler (signals.c).
 *
 * A signal handler can neither take a lock nor allocate, so the registry is a
 * set of fixed chunks of entries that are allocated once and never freed,
 * published with atomic stores. Each entry moves through atomic states:
 *
 *   FREE --claim--> CLAIMED --fields written, release store--> LIVE
 *   LIVE --owner unregisters--> FREE
 *   LIVE --a cleaner claims it--> CLEANING --removed--> DONE --owner--> FREE
 *
 * A cleaner (the exit handler, the signal handler, tf_cleanup_now) reads an
 * entry's fields only after it won LIVE -> CLEANING, and an owner that finds
 * its entry CLEANING waits for DONE before it frees the path or closes the
 * descriptor the entry points to. So nothing a cleaner reads is ever freed
 * under it, and the fields are never torn: they are read only in a state in
 * which nobody writes them.
 *
 * A cleaner that fails to remove an entry puts it back LIVE, so that a later
 * cleaner (the exit handler after a failed tf_cleanup_now) tries again.
 *
 * Each entry records the pid of its creator, so that a forked child never
 * removes its parent's temporaries (git's tempfile.c does the same). fork()
 * from a threaded program copies only the forking thread: the child puts back
 * LIVE the entries that another thread was cleaning (it will never finish
 * them in the child), and frees the tree memory such a thread held.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/file.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { FREE, CLAIMED, LIVE, CLEANING, DONE };

struct tf__reg_entry {
    atomic_int state;
    int kind;           /* TF__REG_FILE or TF__REG_DIR */
    int fd;             /* directories: the handle's descriptor, or -1; files:
                           the directory path is relative to, or -1 */
    atomic_int owner;   /* atomic only so that tf_cleanup_registered may peek */
    const char *path;   /* the handle's path: valid while the entry is not FREE */
    bool checked;       /* a received file's: removed only as id allows */
    struct tf__file_id id;
};

/* Chunk k holds TF__REG_FIRST << k entries: room grows geometrically. */
#define TF__REG_FIRST 64
#define TF__REG_CHUNKS 24

static struct tf__reg_entry first_chunk[TF__REG_FIRST];
static struct tf__reg_entry *_Atomic chunks[TF__REG_CHUNKS] = { first_chunk };
static atomic_size_t nchunks = 1;
static atomic_size_t live_count;    /* entries not FREE, to decide when to grow */
static atomic_size_t hint;          /* where the next search for a FREE slot starts */
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;

/* The pid, cached because glibc no longer does; a forked child updates it. */
static atomic_int cached_pid;

/* Creations between tf__reg_begin and tf__reg_end while signal handlers are on. */
static atomic_int in_flight;
/* Set by a fatal-signal handler that is about to end the process. */
static atomic_bool dying;

TF__ASYNC_SAFE static size_t entries_in_chunk(size_t k)
{
    return (size_t)TF__REG_FIRST << k;
}

/* Blocks of static tree memory (below), each in use by a cleaner or not. */
#define TF__RMTREE_BLOCKS 2
static atomic_flag rmtree_mem_busy[TF__RMTREE_BLOCKS] = { ATOMIC_FLAG_INIT, ATOMIC_FLAG_INIT };

/* fork: no chunk is being added while the process is copied. */
static void before_fork(void)
{
    pthread_mutex_lock(&grow_lock);
}

static void parent_after_fork(void)
{
    pthread_mutex_unlock(&grow_lock);
}

static void child_after_fork(void)
{
    pthread_mutex_unlock(&grow_lock);
    atomic_store(&cached_pid, (int)getpid());
    /* Only the forking thread lives on in the child, and it was not creating. */
    atomic_store(&in_flight, 0);
    atomic_store(&dying, false);
    /* A cleaner on another thread of the parent does not exist here: its
     * entries are live again (the owner pid still keeps the parent's from
     * being removed by the child), and the tree memory it held is free. */
    for (int i = 0; i < TF__RMTREE_BLOCKS; i++)
        atomic_flag_clear(&rmtree_mem_busy[i]);
    size_t n = atomic_load(&nchunks);
    for (size_t k = 0; k < n; k++) {
        struct tf__reg_entry *c = atomic_load_explicit(&chunks[k], memory_order_acquire);
        for (size_t i = 0; i < entries_in_chunk(k); i++) {
            int expect = CLEANING;
            atomic_compare_exchange_strong(&c[i].state, &expect, LIVE);
        }
    }
}

static void exit_cleanup(void)
{
    tf__registry_clean(false);
}

/*
 * Set up when the library is loaded, so that the exit handler is registered
 * before anything main() registers and therefore runs after it: the program's
 * own atexit handlers can still use their temporaries.
 */
__attribute__((constructor)) static void registry_init(void)
{
    atomic_store(&cached_pid, (int)getpid());
    pthread_atfork(before_fork, parent_after_fork, child_after_fork);
    atexit(exit_cleanup);
}

/* Claims a FREE slot of chunk k, starting at `from`; NULL if none. */
static struct tf__reg_entry *claim_in(size_t k, size_t from)
{
    struct tf__reg_entry *c = atomic_load_explicit(&chunks[k], memory_order_acquire);
    size_t n = entries_in_chunk(k);
    for (size_t i = 0; i < n; i++) {
        struct tf__reg_entry *e = &c[(from + i) & (n - 1)];
        int expect = FREE;
        if (atomic_load_explicit(&e->state, memory_order_relaxed) == FREE &&
            atomic_compare_exchange_strong_explicit(&e->state, &expect, CLAIMED,
                                                    memory_order_acquire,
                                                    memory_order_relaxed))
            return e;
    }
    return NULL;
}

/* Adds a chunk once three quarters of the room is taken (or none is left). */
static int grow(size_t seen_chunks)
{
    pthread_mutex_lock(&grow_lock);
    size_t k = atomic_load(&nchunks);
    int rc = 0;
    if (k == seen_chunks) {
        struct tf__reg_entry *c = k < TF__REG_CHUNKS ? tf__sys.malloc(entries_in_chunk(k) * sizeof *c) : NULL;
        if (!c) {
            errno = ENOMEM;
            rc = -1;
        } else {
            for (size_t i = 0; i < entries_in_chunk(k); i++)
                atomic_init(&c[i].state, FREE);
            atomic_store_explicit(&chunks[k], c, memory_order_release);
            atomic_store(&nchunks, k + 1);
        }
    }
    pthread_mutex_unlock(&grow_lock);
    return rc;
}

static size_t capacity(size_t n)
{
    return (size_t)TF__REG_FIRST * (((size_t)1 << n) - 1);
}

/* A FREE slot, now CLAIMED by the caller. Newest (largest) chunk first. */
static struct tf__reg_entry *claim(void)
{
    for (;;) {
        size_t n = atomic_load(&nchunks);
        if (atomic_load_explicit(&live_count, memory_order_relaxed) < capacity(n) / 4 * 3 ||
            n == TF__REG_CHUNKS) {
            size_t from = atomic_fetch_add_explicit(&hint, 1, memory_order_relaxed);
            for (size_t k = n; k-- > 0;) {
                struct tf__reg_entry *e = claim_in(k, from);
                if (e)
                    return e;
            }
        }
        if (grow(n) < 0)
            return NULL;
    }
}

static int publish(struct tf__reg_entry **out, int kind, const char *path, int fd,
                   const struct tf__file_id *id)
{
    struct tf__reg_entry *e = claim();
    if (!e)
        return -1;
    atomic_fetch_add_explicit(&live_count, 1, memory_order_relaxed);
    e->kind = kind;
    e->fd = fd;
    e->path = path;
    e->checked = id != NULL;
    if (id)
        e->id = *id;
    atomic_store_explicit(&e->owner, atomic_load_explicit(&cached_pid, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&e->state, LIVE, memory_order_release);
    *out = e;
    return 0;
}

int tf__reg_add(struct tf__reg_entry **out, int kind, const char *path, int fd)
{
    return publish(out, kind, path, fd, NULL);
}

int tf__reg_add_checked(struct tf__reg_entry **out, const char *path,
                        const struct tf__file_id *id)
{
    return publish(out, TF__REG_FILE, path, -1, id);
}

/*
 * A peer that handed a file over may have named another one (or renamed
 * things since): the name is looked at just before the unlink, which leaves
 * only the instant between the two, against the whole life of the handle
 * had the name been checked when it arrived.
 */
TF__ASYNC_SAFE int tf__unlink_checked(const char *path, const struct tf__file_id *id)
{
    struct stat st;
    if (tf__sys.fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT || errno == ENOTDIR ? 1 : -1;
    if (st.st_dev != id->dev || st.st_ino != id->ino ||
        (st.st_uid != geteuid() && st.st_uid != id->peer_uid))
        return 0;
    if (tf__sys.unlinkat(AT_FDCWD, path, 0) < 0 && errno != ENOENT)
        return -1;
    return 1;
}

/* Normal context only: waits for a cleaner on another thread to finish. */
static void wait_done(struct tf__reg_entry *e)
{
    while (atomic_load_explicit(&e->state, memory_order_acquire) == CLEANING)
        sched_yield();
}

void tf__reg_remove(struct tf__reg_entry **slot)
{
    struct tf__reg_entry *e = *slot;
    if (!e)
        return;
    int err = errno;
    *slot = NULL;
    int expect = LIVE;
    if (!atomic_compare_exchange_strong_explicit(&e->state, &expect, FREE,
                                                 memory_order_release, memory_order_acquire)) {
        /* A cleaner has it: once it is done the owner frees the slot. */
        wait_done(e);
        atomic_store_explicit(&e->state, FREE, memory_order_release);
    }
    atomic_fetch_sub_explicit(&live_count, 1, memory_order_relaxed);
    errno = err;
}

/* ---- creation windows --------------------------------------------------- */

/* Async-signal-safe sleep of about one millisecond. */
TF__ASYNC_SAFE static void nap(void)
{
    struct timespec ts = { 0, 1000 * 1000 };
    nanosleep(&ts, NULL);
}

/* How long (naps) a creation waits for a dying process to end: longer than a
 * handler waits for creations (tf__reg_dying) and for another handler. */
#define TF__DYING_WAIT 5000

void tf__reg_begin(struct tf__reg_guard *g)
{
    g->blocked = tf__signals_block(&g->old);
    if (!g->blocked)
        return;
    for (int i = 0;; i++) {
        atomic_fetch_add(&in_flight, 1);
        /* Bounded: a handler that finds the process survives clears `dying`,
         * and one stuck on a slow filesystem must not stop creations for ever. */
        if (!atomic_load(&dying) || i == TF__DYING_WAIT)
            return;
        /* A handler is removing everything and will end the process: a name
         * made now could outlive it, so make none yet. */
        atomic_fetch_sub(&in_flight, 1);
        nap();
    }
}

void tf__reg_end(struct tf__reg_guard *g)
{
    if (!g->blocked)
        return;
    atomic_fetch_sub(&in_flight, 1);
    tf__signals_unblock(&g->old);
}

TF__ASYNC_SAFE void tf__reg_dying(void)
{
    atomic_store(&dying, true);
    /* Creations under way publish their entry before they leave; wait for them
     * (bounded: one stuck in a slow filesystem must not keep us alive). */
    for (int i = 0; i < 500 && atomic_load(&in_flight) > 0; i++)
        nap();
}

TF__ASYNC_SAFE void tf__reg_survived(void)
{
    atomic_store(&dying, false);
}

/* ---- cleaning ----------------------------------------------------------- */

/*
 * Memory for removing directory trees in a signal handler, where nothing may
 * be allocated: one block per cleaner at a time. Two, so that a fatal signal
 * arriving while tf_cleanup_now() walks a tree still has one for the other
 * directories (untouched blocks cost no memory: they are zero pages).
 */
static char rmtree_mem[TF__RMTREE_BLOCKS][TF__RMTREE_MEM_MIN] __attribute__((aligned(16)));

/* Empties and removes the directory open as fd (named path) in a block of
 * static memory: 0, or -1 with errno (ENOTEMPTY: some of it could not be
 * removed; EBUSY: every block was in use). */
TF__ASYNC_SAFE static int remove_fixed(int fd, const char *path)
{
    for (int i = 0; i < TF__RMTREE_BLOCKS; i++) {
        if (atomic_flag_test_and_set(&rmtree_mem_busy[i]))
            continue;
        int rc = tf__rmtree_remove(fd, AT_FDCWD, path, TF_RMTREE_IGNORE_ERRORS, rmtree_mem[i],
                                   sizeof rmtree_mem[i]);
        atomic_flag_clear(&rmtree_mem_busy[i]);
        return rc;
    }
    errno = EBUSY;
    return -1;
}

/* Empties and removes a directory: 0, or -1 with errno. Async-signal-safe
 * with signal_safe; otherwise the walk allocates. */
TF__ASYNC_SAFE static int remove_dir(const struct tf__reg_entry *e, bool signal_safe)
{
    int fd = e->fd, own = -1, rc;
    /* A directory whose handle holds no descriptor (its mode denied the owner
     * reading) is made owner-accessible first, as tf_rmtree() would. ENOENT
     * here is the name's lookup: gone already. */
    if (fd < 0) {
        if ((own = fd = tf__open_dir_owner(AT_FDCWD, e->path, NULL)) < 0)
            return errno == ENOENT ? 0 : -1;
    }
    if (signal_safe)
        rc = remove_fixed(fd, e->path);
    else
        rc = tf__rmtree_remove(fd, AT_FDCWD, e->path, TF_RMTREE_IGNORE_ERRORS, NULL, 0);
    if (own >= 0)
        tf__close_keep_errno(own);
    return rc;
}

/* Removes one claimed entry's file or tree; 0, 1 if it left a received
 * name alone (another file's now), or -1. */
TF__ASYNC_SAFE static int remove_registered(const struct tf__reg_entry *e, bool signal_safe)
{
    if (e->kind == TF__REG_DIR)
        return remove_dir(e, signal_safe);
    if (e->checked)   /* another file's name is not ours: nothing to remove */
        switch (tf__unlink_checked(e->path, &e->id)) {
        case -1: return -1;
        case 0: return 1;
        default: return 0;
        }
    if (tf__sys.unlinkat(e->fd >= 0 ? e->fd : AT_FDCWD, e->path, 0) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

/* Claims e if it is live and this process's; true if claimed. */
TF__ASYNC_SAFE static bool claim_live(struct tf__reg_entry *e, pid_t self)
{
    int expect = LIVE;
    if (atomic_load_explicit(&e->state, memory_order_relaxed) != LIVE ||
        !atomic_compare_exchange_strong_explicit(&e->state, &expect, CLEANING,
                                                 memory_order_acquire, memory_order_relaxed))
        return false;
    if (atomic_load_explicit(&e->owner, memory_order_relaxed) == self)
        return true;
    /* A parent's entry, inherited through fork: not ours to remove. */
    atomic_store_explicit(&e->state, LIVE, memory_order_release);
    return false;
}

TF__ASYNC_SAFE int tf__registry_clean(bool signal_safe)
{
    int saved = errno, removed = 0, err = 0;
    pid_t self = getpid();
    size_t n = atomic_load(&nchunks);
    for (size_t k = 0; k < n; k++) {
        struct tf__reg_entry *c = atomic_load_explicit(&chunks[k], memory_order_acquire);
        for (size_t i = 0; i < entries_in_chunk(k); i++) {
            if (!claim_live(&c[i], self))
                continue;
            errno = 0;
            int rc = remove_registered(&c[i], signal_safe);
            if (rc >= 0) {
                removed += rc == 0;
                atomic_store_explicit(&c[i].state, DONE, memory_order_release);
                continue;
            }
            if (!err)
                err = errno ? errno : EIO;
            /* Still there: a later cleaner (the exit handler) tries again. */
            atomic_store_explicit(&c[i].state, LIVE, memory_order_release);
        }
    }
    errno = err ? err : saved;
    return err ? -1 : removed;
}

/* ---- public ------------------------------------------------------------- */

TF__ASYNC_SAFE int tf_cleanup_now(void)
{
    return tf__registry_clean(true);
}

size_t tf_cleanup_registered(void)
{
    size_t count = 0, n = atomic_load(&nchunks);
    pid_t self = atomic_load(&cached_pid);
    for (size_t k = 0; k < n; k++) {
        struct tf__reg_entry *c = atomic_load_explicit(&chunks[k], memory_order_acquire);
        for (size_t i = 0; i < entries_in_chunk(k); i++) {
            if (atomic_load_explicit(&c[i].state, memory_order_acquire) == LIVE &&
                atomic_load_explicit(&c[i].owner, memory_order_relaxed) == self)
                count++;
        }
    }
    return count;
}

/* Tries of the live lock while a probe holds it exclusively (about 1 s). */
#define TF__LOCK_TRIES 1000

void tf__lock_live(int fd)
{
    /* Advisory only: a filesystem without flock still gets its temporaries.
     * A sweep or usage probe takes an exclusive lock for an instant to see
     * whether anyone holds the entry: wait it out (bounded: whoever holds it
     * for long is not a probe, and creation must not hang on it). */
    int err = errno;
    for (int i = 0; i < TF__LOCK_TRIES; i++) {
        if (tf__sys.flock(fd, LOCK_SH | LOCK_NB) == 0 ||
            (errno != EWOULDBLOCK && errno != EINTR))
            break;
        if (i < 10)
            sched_yield();
        else
            nap();
    }
    errno = err;
}

/*
 * Open for writing by some process? A read lease can be had only on a file
 * nobody has open for writing, and every live temporary file is open
 * read-write by its handle: this tells a live file from an orphan even after
 * the program's own flock(LOCK_UN) on the handle's descriptor dropped the
 * shared flock (flock locks belong to the open file description the program
 * was given). The lease is dropped at once; should another process open the
 * file for writing in between, the kernel signals the lease break with
 * SIGURG (ignored by default) instead of SIGIO (fatal by default).
 * 1 open for writing, 0 not, -1 if leases cannot tell (not the owner, a
 * filesystem without leases).
 */
static int open_for_writing(int fd)
{
    if (tf__sys.fcntl(fd, F_SETSIG, SIGURG) < 0)
        return -1;
    if (tf__sys.fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
        tf__sys.fcntl(fd, F_SETLEASE, F_UNLCK);
        return 0;
    }
    return errno == EAGAIN ? 1 : -1;
}

/*
 * A write lease is granted only while no other open file description of the
 * file exists: then nobody has it open, so nobody holds a flock on it nor
 * writes it, and while the lease is held anyone who opens it waits (a lease
 * break, signalled with SIGURG) until fd is closed. One fcntl thus answers
 * for the flock and the read lease of tf__probe_live(); those are asked only
 * when the file is open elsewhere, or leases cannot tell.
 */
int tf__probe_live_hold(int fd)
{
    bool signal_set = tf__sys.fcntl(fd, F_SETSIG, SIGURG) == 0;
    if (signal_set && tf__sys.fcntl(fd, F_SETLEASE, F_WRLCK) == 0)
        return 0;
    if (tf__sys.flock(fd, LOCK_EX | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? 1 : -1;
    /* Where leases cannot tell, the flock's answer stands. */
    if (!signal_set || tf__sys.fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
        return 0;
    return errno == EAGAIN;
}

int tf__probe_live(int fd, bool is_dir)
{
    if (tf__sys.flock(fd, LOCK_EX | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? 1 : -1;
    tf__sys.flock(fd, LOCK_UN);
    /* Where leases cannot tell, the flock's answer stands. */
    return !is_dir && open_for_writing(fd) == 1;
}
