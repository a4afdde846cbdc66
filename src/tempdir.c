/*
 * The default directory: Python's gettempdir() and its settable tempdir.
 *
 * Readers take no lock: the current answer is an atomic pointer to a string
 * that is never freed. Strings are interned, so setting the same directory
 * again and again does not grow memory; the search itself runs under a mutex,
 * once, or again after tf_settempdir(NULL).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct interned {
    struct interned *next;
    char s[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct interned *interned;            /* guarded by lock */
static _Atomic(const char *) override;       /* Python's tempfile.tempdir */
static _Atomic(const char *) found;          /* the searched default */

/*
 * A fork while another thread searches would leave the child a lock that no
 * thread of it will ever release: hold the lock across fork instead.
 */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
    pthread_mutex_lock(&lock);
}

static void after_fork(void)
{
    pthread_mutex_unlock(&lock);
}

static void register_atfork(void)
{
    pthread_atfork(before_fork, after_fork, after_fork);
}

static void lock_state(void)
{
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&lock);
}

/* Tries per candidate before moving on, as Python. */
#define TF__PROBE_TRIES 100

static const char *intern(const char *s)
{
    for (struct interned *i = interned; i; i = i->next)
        if (strcmp(i->s, s) == 0)
            return i->s;
    size_t n = strlen(s) + 1;
    struct interned *i = tf__sys.malloc(sizeof *i + n);
    if (!i)
        return NULL;
    memcpy(i->s, s, n);
    i->next = interned;
    interned = i;
    return i->s;
}

const char *tf_gettempprefix(void)
{
    return TF__PREFIX;
}

static int probe_one(const char *path, void *ctx)
{
    (void)ctx;
    int fd = tf__sys.openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600);
    if (fd < 0)
        return -1;
    ssize_t n = tf__sys.write(fd, "blat", 4);
    int err = n == 4 ? 0 : (n < 0 ? errno : EIO);
    tf__sys.close(fd);
    tf__sys.unlinkat(AT_FDCWD, path, 0);
    errno = err;
    return err ? -1 : 0;
}

/* Proves dir usable as Python does: create, write and remove a probe file.
 * 1 usable, 0 not; -1 (ENOMEM) the probe's own path could not be made: a
 * want of memory says nothing of dir, and must not make the search settle,
 * for the process's life, on the next candidate. */
static int proven_usable(const char *dir)
{
    struct tf__template t;
    if (tf__template_init(&t, &(tf_opts){ .dir = dir }) < 0)
        return errno == ENOMEM ? -1 : 0;
    int ok = tf__try_names(&t, TF__PROBE_TRIES, probe_one, NULL) == 0;
    free(t.path);
    return ok;
}

static const char *search(void)
{
    char **list = tf_candidate_tempdir_list();
    if (!list)
        return NULL;
    const char *result = NULL;
    int err = ENOENT;
    for (char **c = list; *c; c++) {
        int usable = proven_usable(*c);
        if (usable < 0) {
            err = ENOMEM;
            break;
        }
        if (!usable)
            continue;
        char *abs = tf__abspath(*c);
        result = abs ? intern(abs) : NULL;
        if (!result)
            err = ENOMEM;
        free(abs);
        break;
    }
    tf_strv_free(list);
    if (!result)
        errno = err;
    return result;
}

const char *tf_gettempdir(void)
{
    const char *d = atomic_load_explicit(&override, memory_order_acquire);
    if (!d)
        d = atomic_load_explicit(&found, memory_order_acquire);
    if (d)
        return d;
    lock_state();
    d = atomic_load_explicit(&found, memory_order_relaxed);
    if (!d) {
        d = search();
        atomic_store_explicit(&found, d, memory_order_release);
    }
    int err = errno;
    pthread_mutex_unlock(&lock);
    errno = err;
    return d;
}

int tf_settempdir(const char *dir)
{
    lock_state();
    const char *s = dir ? intern(dir) : NULL;
    int ok = !dir || s;
    if (ok) {
        atomic_store_explicit(&override, s, memory_order_release);
        if (!dir)
            atomic_store_explicit(&found, NULL, memory_order_release);
    }
    pthread_mutex_unlock(&lock);
    if (!ok)
        errno = ENOMEM;
    return ok ? 0 : -1;
}

static int push(char **list, size_t *n, const char *s)
{
    if (!s || !*s)
        return 0;
    char *d = tf__strdup(s);
    if (!d)
        return -1;
    list[(*n)++] = d;
    return 0;
}

char **tf_candidate_tempdir_list(void)
{
    static const char *const env[] = { "TMPDIR", "TEMP", "TMP" };
    static const char *const fixed[] = { "/tmp", "/var/tmp", "/usr/tmp" };
    char **list = tf__sys.malloc(8 * sizeof *list);
    if (!list)
        return NULL;
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++)
        rc = push(list, &n, secure_getenv(env[i]));
    for (size_t i = 0; i < 3 && rc == 0; i++)
        rc = push(list, &n, fixed[i]);
    if (rc == 0) {
        char *cwd = tf__sys.getcwd(NULL, 0);
        rc = push(list, &n, cwd ? cwd : ".");
        free(cwd);
    }
    list[n] = NULL;
    if (rc < 0) {
        tf_strv_free(list);
        errno = ENOMEM;
        return NULL;
    }
    return list;
}

void tf_strv_free(char **strv)
{
    if (!strv)
        return;
    for (char **s = strv; *s; s++)
        free(*s);
    free(strv);
}
