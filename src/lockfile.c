/*
 * Lock files, git's model: dest.lock, created exclusively in dest's
 * directory, is the lock and the atomic replace's temporary at once. It is
 * made nameless (O_TMPFILE), live-marked, then linked into place, so that no
 * other process ever sees it unmarked: a lock file nobody marks is stale
 * (its holder died) and is removed by the next taker.
 */
#include "internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Removes name if it is a lock file nobody marks live: 1 if it is gone now,
 * 0 if it is held (or no regular file: nobody's lock, somebody's FIFO or
 * device), -1 on error. */
static int remove_stale(int dirfd, const char *name)
{
    int fd = tf__sys.openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
    /* One we may not open (another user's, at 0600; a socket, ENXIO; a
     * symbolic link, ELOOP, dangling or not) cannot be told stale: held, as
     * a taker of it waits or fails with EEXIST. */
    if (fd < 0)
        return errno == ENOENT ? 1 : errno == EACCES || errno == ENXIO || errno == ELOOP ? 0 : -1;
    struct stat a, b;
    int live = tf__probe_live(fd, false), rc = 0;
    if (live == 0 && tf__sys.fstat(fd, &a) == 0 && S_ISREG(a.st_mode)) {
        /* Only the file probed: another taker may have replaced it since. */
        if (tf__sys.fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0)
            rc = errno == ENOENT ? 1 : -1;
        else if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            rc = tf__sys.unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 1 : -1;
    } else if (live < 0) {
        rc = -1;
    }
    tf__close_keep_errno(fd);
    return rc;
}

/*
 * The lock file's descriptor before it has a name: nameless and marked.
 * Before Linux 6.0 an O_TMPFILE file missed the umask on a filesystem
 * without POSIX ACLs: a new destination's, asked at 0666, would be writable
 * by all until the commit. One that comes out at 0666 (that, or a umask of
 * 0: the mode cannot tell) is narrowed to 0600 at once, and *mode says so,
 * for the commit to give it a new file's mode from the umask.
 */
static int marked_file(int dirfd, mode_t *mode)
{
    int fd = tf__sys.openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, *mode);
    if (fd < 0)
        return fd;
    struct stat st;
    if (*mode == TF__NEW_FILE_MODE &&
        (tf__sys.fstat(fd, &st) < 0 || (st.st_mode & 0777) == TF__NEW_FILE_MODE)) {
        if (tf__sys.fchmod(fd, 0600) < 0) {
            tf__close_keep_errno(fd);
            return -1;
        }
        *mode = 0600;
    }
    tf__lock_live(fd);
    return fd;
}

/* One try at taking the lock: the handle, or NULL (EEXIST: held). */
static tf_file *try_take(int *fd, struct tf__target *t, const char *lock,
                         const tf_persist_opts *o, mode_t mode)
{
    char *name = tf__strdup(lock);
    if (!name)
        return NULL;
    struct tf__reg_guard g;
    tf__reg_begin(&g);
    int rc;
    if (*fd >= 0) {
        rc = tf__link_fd(*fd, t->dirfd, name);
    } else {   /* no O_TMPFILE here: created by name, marked at once */
        rc = *fd = tf__sys.openat(t->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
                                  O_CLOEXEC, mode);
    }
    tf_file *f = NULL;
    if (rc >= 0) {
        f = tf__durable_new(*fd, name, t, o, &(struct tf__meta_look){ .created = mode });
        *fd = -1;   /* taken over (closed on failure) */
    }
    tf__reg_end(&g);
    if (!f)
        free(name);
    return f;
}

/* Created as tf_replace_begin()'s temporary is (tf__handle_mode()). */
static tf_file *take(struct tf__target *t, const char *lock, const tf_persist_opts *o)
{
    mode_t mode = tf__handle_mode(t, o);
    int fd = marked_file(t->dirfd, &mode);
    if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return NULL;
    long long start = now_ms();   /* elapsed, not a deadline: LONG_MAX must not overflow */
    long wait = 1;
    tf_file *f;
    for (;;) {
        if ((f = try_take(&fd, t, lock, o, mode)) || errno != EEXIST)
            break;
        int stale = remove_stale(t->dirfd, lock);
        if (stale > 0)
            continue;
        bool late = o->timeout_ms > 0 && now_ms() - start >= o->timeout_ms;
        if (stale < 0 || o->timeout_ms == 0 || late) {
            errno = stale < 0 ? errno : EEXIST;
            break;
        }
        nap_ms(wait);
        wait = wait < 16 ? wait * 2 : wait;
    }
    if (fd >= 0)
        tf__close_keep_errno(fd);
    return f;
}

#define TF__LOCK_FLAGS (TF_PERSIST_STRICT | TF_PERSIST_BEST_EFFORT)

tf_file *tf_lock_file_at(int dirfd, const char *name, const tf_persist_opts *opts)
{
    tf_persist_opts o;
    struct tf__target t;
    if (tf__persist_opts(opts, TF__LOCK_FLAGS, true, &o) < 0 ||
        tf__target_open(dirfd, name, &o, &t) < 0)
        return NULL;
    char lock[NAME_MAX + 2];
    size_t n = strlen(t.name);
    tf_file *f = NULL;
    if (n + sizeof TF__LOCK_SUFFIX - 1 > NAME_MAX) {
        errno = ENAMETOOLONG;
    } else {
        memcpy(lock, t.name, n);
        memcpy(lock + n, TF__LOCK_SUFFIX, sizeof TF__LOCK_SUFFIX);
        f = take(&t, lock, &o);
    }
    tf__target_close(&t);   /* a no-op once taken over */
    return f;
}

tf_file *tf_lock_file(const char *dest, const tf_persist_opts *opts)
{
    return tf_lock_file_at(AT_FDCWD, dest, opts);
}
