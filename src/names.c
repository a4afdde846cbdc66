/*
 * Random names from the kernel's CSPRNG.
 *
 * getrandom(2) costs a syscall, so each thread keeps a small pool of random
 * words. A forked child inherits its parent's pool and would repeat the
 * parent's next names, so the pool of the forking thread (the only thread a
 * child has) is emptied in the child by a pthread_atfork handler.
 *
 * Each 64-bit word w gives up to k = 12 characters (37^12 < 2^64): the first k
 * base-37 digits of the fraction w / 2^64, two per multiplication by 37^2
 * (a table holds every pair of characters). Those digits form
 * floor(w * 37^k / 2^64), which is exactly uniform once the few w whose low
 * product bits fall under 2^64 mod 37^k are rejected (Lemire's method); that
 * happens less than once in a million words.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#define TF__DIGITS_PER_WORD 12
#define TF__POOL_WORDS 32

_Static_assert(TF_RANDOM_CHARS <= TF__DIGITS_PER_WORD, "a name is drawn from one word");

struct pool {
    uint64_t words[TF__POOL_WORDS];
    unsigned used;
};

static __thread struct pool pool = { .used = TF__POOL_WORDS };
static pthread_once_t init_once_flag = PTHREAD_ONCE_INIT;

static void empty_pool_in_child(void)
{
    explicit_bzero(pool.words, sizeof pool.words);
    pool.used = TF__POOL_WORDS;
}

/* Every two-character string of the alphabet, in base-37 order: one
 * multiplication by 37^2 gives two characters of a name. */
static char pairs[TF__ALPHABET_LEN * TF__ALPHABET_LEN][2];

static void init_once(void)
{
    for (unsigned i = 0; i < TF__ALPHABET_LEN * TF__ALPHABET_LEN; i++) {
        pairs[i][0] = TF__ALPHABET[i / TF__ALPHABET_LEN];
        pairs[i][1] = TF__ALPHABET[i % TF__ALPHABET_LEN];
    }
    pthread_atfork(NULL, NULL, empty_pool_in_child);
}

/* Out of line: it runs once per TF__POOL_WORDS names. The table and the fork
 * handler are in place before the pool first holds anything. */
static __attribute__((noinline)) int refill(struct pool *p)
{
    pthread_once(&init_once_flag, init_once);
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

/* The next unused word of the pool into *w. */
static inline int next_word(struct pool *p, uint64_t *w)
{
    if (__builtin_expect(p->used == TF__POOL_WORDS, 0) && refill(p) < 0)
        return -1;
    *w = p->words[p->used++];
    return 0;
}

/* 37^k for k = 0..12. */
static const uint64_t pow37[TF__DIGITS_PER_WORD + 1] = {
    1ull, 37ull, 1369ull, 50653ull, 1874161ull, 69343957ull, 2565726409ull,
    94931877133ull, 3512479453921ull, 129961739795077ull, 4808584372417849ull,
    177917621779460413ull, 6582952005840035281ull,
};

/*
 * Writes k <= 12 characters from word w: the first k base-37 digits of the
 * fraction w / 2^64, two at a time. False if w must be rejected; its
 * characters are then overwritten by the next word's.
 */
static inline bool put_chars(uint64_t w, char *buf, size_t k)
{
    unsigned __int128 m;
    size_t i = 0;
#pragma GCC unroll 6
    for (; i + 2 <= k; i += 2) {
        m = (unsigned __int128)w * (TF__ALPHABET_LEN * TF__ALPHABET_LEN);
        memcpy(buf + i, pairs[(unsigned)(m >> 64)], 2);
        w = (uint64_t)m;
    }
    if (i < k) {
        m = (unsigned __int128)w * TF__ALPHABET_LEN;
        buf[i] = TF__ALPHABET[(unsigned)(m >> 64)];
        w = (uint64_t)m;
    }
    /* w is now the low half of the original w * 37^k. */
    return !(w < pow37[k] && w < -pow37[k] % pow37[k]);
}

int tf_random_chars(char *buf, size_t n)
{
    if (!buf) {
        errno = EINVAL;
        return -1;
    }
    struct pool *p = &pool;
    while (n > 0) {
        uint64_t w;
        if (next_word(p, &w) < 0)
            return -1;
        size_t k = n < TF__DIGITS_PER_WORD ? n : TF__DIGITS_PER_WORD;
        if (put_chars(w, buf, k)) {
            buf += k;
            n -= k;
        }
    }
    return 0;
}

/* tf_random_chars() for the one length every name uses, unrolled. */
int tf__random_name(char *out)
{
    struct pool *p = &pool;
    uint64_t w;
    do {
        if (next_word(p, &w) < 0)
            return -1;
    } while (!put_chars(w, out, TF_RANDOM_CHARS));
    return 0;
}
