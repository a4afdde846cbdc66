/*
 * Random names from the kernel's CSPRNG.
 *
 * getrandom(2) costs a syscall, so each thread keeps a small pool of random
 * bytes. A forked child inherits its parent's pool and would repeat the
 * parent's next names, so the pool of the forking thread (the only thread a
 * child has) is emptied in the child by a pthread_atfork handler.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

/* Bytes at or above this are rejected, so that every character is equally likely. */
#define TF__ACCEPT_LIMIT (256 / TF__ALPHABET_LEN * TF__ALPHABET_LEN)

struct pool {
    unsigned char bytes[256];
    unsigned used;
};

static __thread struct pool pool = { .used = sizeof pool.bytes };
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void empty_pool_in_child(void)
{
    explicit_bzero(pool.bytes, sizeof pool.bytes);
    pool.used = sizeof pool.bytes;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, empty_pool_in_child);
}

static int refill(void)
{
    size_t got = 0;
    while (got < sizeof pool.bytes) {
        ssize_t n = tf__sys.getrandom(pool.bytes + got, sizeof pool.bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    pool.used = 0;
    return 0;
}

int tf_random_chars(char *buf, size_t n)
{
    if (!buf) {
        errno = EINVAL;
        return -1;
    }
    pthread_once(&atfork_once, register_atfork);
    for (size_t i = 0; i < n;) {
        if (pool.used == sizeof pool.bytes && refill() < 0)
            return -1;
        unsigned char b = pool.bytes[pool.used++];
        if (b < TF__ACCEPT_LIMIT)
            buf[i++] = TF__ALPHABET[b % TF__ALPHABET_LEN];
    }
    return 0;
}

int tf__random_name(char *out)
{
    return tf_random_chars(out, TF_RANDOM_CHARS);
}
