/*
 * Random names from the kernel's CSPRNG.
 *
 * getrandom(2) costs a syscall, so each thread keeps a small pool of random
 * words. A forked child inherits its parent's pool and would repeat the
 * parent's next names, so the pool of the forking thread (the only thread a
 * child has) is emptied in the child by a pthread_atfork handler.
 *
 * Each 64-bit word w gives up to k = 12 characters (37^12 < 2^64): the first k
 * base-37 digits of the fraction w / 2^64, one multiplication each. Those digits
 * form floor(w * 37^k / 2^64), which is exactly uniform once the few w whose
 * low product bits fall under 2^64 mod 37^k are rejected (Lemire's method);
 * that happens less than once in a million words.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#define TF__DIGITS_PER_WORD 12

struct pool {
    uint64_t words[32];
    unsigned used;
};

static __thread struct pool pool = { .used = 32 };
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void empty_pool_in_child(void)
{
    explicit_bzero(pool.words, sizeof pool.words);
    pool.used = 32;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, empty_pool_in_child);
}

static int refill(struct pool *p)
{
    size_t got = 0;
    char *bytes = (char *)p->words;
    while (got < sizeof p->words) {
        ssize_t n = tf__sys.getrandom(bytes + got, sizeof p->words - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    p->used = 0;
    return 0;
}

/* 37^k for k = 0..12. */
static const uint64_t pow37[TF__DIGITS_PER_WORD + 1] = {
    1ull, 37ull, 1369ull, 50653ull, 1874161ull, 69343957ull, 2565726409ull,
    94931877133ull, 3512479453921ull, 129961739795077ull, 4808584372417849ull,
    177917621779460413ull, 6582952005840035281ull,
};

int tf_random_chars(char *buf, size_t n)
{
    if (!buf) {
        errno = EINVAL;
        return -1;
    }
    pthread_once(&atfork_once, register_atfork);
    struct pool *p = &pool;
    while (n > 0) {
        if (p->used == 32 && refill(p) < 0)
            return -1;
        uint64_t f = p->words[p->used++];
        size_t k = n < TF__DIGITS_PER_WORD ? n : TF__DIGITS_PER_WORD;
        for (size_t i = 0; i < k; i++) {
            unsigned __int128 m = (unsigned __int128)f * TF__ALPHABET_LEN;
            buf[i] = TF__ALPHABET[(unsigned)(m >> 64)];
            f = (uint64_t)m;
        }
        /* f is now the low half of w * 37^k; a rejected word's characters are
         * overwritten by the next one. */
        if (f < pow37[k] && f < -pow37[k] % pow37[k])
            continue;
        buf += k;
        n -= k;
    }
    return 0;
}

int tf__random_name(char *out)
{
    return tf_random_chars(out, TF_RANDOM_CHARS);
}
