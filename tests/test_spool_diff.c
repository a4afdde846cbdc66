/*
 * Differential test of spooled files: the same random sequence of operations
 * (write, read, seek with every whence and past the end, truncate that
 * shrinks and grows, rollover, fileno, tell) is applied to a spooled file and
 * to a plain tf_temporary_file(); after every step both must have returned
 * the same, and hold the same bytes at the same position.
 *
 * Reproduce a failure with TF_SPOOL_DIFF_SEED=<seed> (printed on failure);
 * TF_SPOOL_DIFF_SCALE=<n> runs n times more sequences.
 */
#include "tftest.h"

#include <fcntl.h>
#include <unistd.h>

/* Operations per max_size value (9 values: over 200,000 in all), and the
 * longest sequence. */
#define OPS_PER_MAX_SIZE 23000
#define STEPS 400
/* Files are kept below this size so that comparing everything stays cheap. */
#define SIZE_CAP 12000

static const size_t max_sizes[] = { 0, 1, 100, 511, 512, 1000, 4096, 10000, 1 << 30 };

struct rng {
    uint64_t s;
};

static uint64_t next(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

/* Uniform in [0, n). */
static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? next(r) % n : 0;
}

struct pair {
    tf_file *spool, *plain;
    uint64_t seed;
    unsigned long step;
    const char *op;
};

/* Where the files go: tmpfs when there is one, so that the plain file's
 * truncates do not measure the disk (see shared/benchmarking.md). */
static const char *files_dir(void **state)
{
    static const char shm[] = "/dev/shm";
    return access(shm, W_OK | X_OK) == 0 ? shm : TFT_DIR(state);
}

#define CHECK_EQ(p, a, b)                                                      \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_)                                                          \
            fail_msg("seed %llu step %lu (%s): %s = %lld, plain %lld",         \
                     (unsigned long long)(p)->seed, (p)->step, (p)->op, #a,    \
                     a_, b_);                                                  \
    } while (0)

/* Runs one call on both files; the results and errno must agree. */
#define BOTH(p, call_spool, call_plain)                                        \
    do {                                                                       \
        errno = 0;                                                             \
        long long rs_ = (long long)(call_spool);                               \
        int es_ = errno;                                                       \
        errno = 0;                                                             \
        long long rp_ = (long long)(call_plain);                               \
        int ep_ = errno;                                                       \
        CHECK_EQ(p, rs_, rp_);                                                 \
        if (rs_ < 0)                                                           \
            CHECK_EQ(p, es_, ep_);                                             \
    } while (0)

static unsigned char spool_buf[SIZE_CAP + 8192], plain_buf[SIZE_CAP + 8192];

/* All of fd's bytes into buf, by pread: the position stays untouched. */
static size_t pread_all(int fd, unsigned char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t r;
    while ((r = pread(fd, buf + got, cap - got, (off_t)got)) > 0)
        got += (size_t)r;
    assert_int_equal(r, 0);
    return got;
}

/* The spooled file's bytes: through the API while in memory (fileno would
 * roll it over), by pread once on disk. */
static size_t spool_contents(struct pair *p)
{
    if (tf_file_rolled(p->spool))
        return pread_all(tf_file_fileno(p->spool), spool_buf, sizeof spool_buf);
    off_t pos = tf_file_tell(p->spool);
    assert_int_equal(tf_file_seek(p->spool, 0, SEEK_SET), 0);
    size_t got = 0;
    ssize_t r;
    while ((r = tf_file_read(p->spool, spool_buf + got, sizeof spool_buf - got)) > 0)
        got += (size_t)r;
    assert_int_equal(r, 0);
    assert_int_equal(tf_file_seek(p->spool, pos, SEEK_SET), pos);
    return got;
}

static size_t plain_contents(struct pair *p)
{
    return pread_all(tf_file_fileno(p->plain), plain_buf, sizeof plain_buf);
}

static void compare(struct pair *p)
{
    CHECK_EQ(p, tf_file_tell(p->spool), tf_file_tell(p->plain));
    size_t ns = spool_contents(p), np = plain_contents(p);
    CHECK_EQ(p, ns, np);
    if (memcmp(spool_buf, plain_buf, ns) != 0) {
        size_t i = 0;
        while (spool_buf[i] == plain_buf[i])
            i++;
        fail_msg("seed %llu step %lu (%s): byte %zu is %u, plain %u",
                 (unsigned long long)p->seed, p->step, p->op, i, spool_buf[i], plain_buf[i]);
    }
}

static off_t size_of(struct pair *p)
{
    struct stat st;
    assert_int_equal(fstat(tf_file_fileno(p->plain), &st), 0);
    return st.st_size;
}

/* A length that often lands near max_size and the chunk boundaries. */
static size_t some_length(struct rng *r, size_t max_size)
{
    switch (below(r, 4)) {
    case 0: return below(r, 17);
    case 1: return below(r, 2 * max_size + 2);
    case 2: return below(r, 3000);
    default: return (size_t)1 << below(r, 13);
    }
}

static void op_write(struct pair *p, struct rng *r, size_t max_size)
{
    static unsigned char data[8192];
    size_t n = some_length(r, max_size);
    if (n > sizeof data)
        n = sizeof data;
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(next(r) | 1);   /* never zero: gaps show */
    if (tf_file_tell(p->plain) + (off_t)n > SIZE_CAP)
        return;
    p->op = "write";
    BOTH(p, tf_file_write(p->spool, data, n), tf_file_write(p->plain, data, n));
    /* A write that leaves the position past max_size rolls over. */
    if (max_size && tf_file_tell(p->plain) > (off_t)max_size)
        CHECK_EQ(p, tf_file_rolled(p->spool), 1);
}

static void op_read(struct pair *p, struct rng *r, size_t max_size)
{
    static unsigned char a[8192], b[8192];
    size_t n = some_length(r, max_size);
    if (n > sizeof a)
        n = sizeof a;
    p->op = "read";
    ssize_t ra = tf_file_read(p->spool, a, n), rb = tf_file_read(p->plain, b, n);
    CHECK_EQ(p, ra, rb);
    if (ra > 0 && memcmp(a, b, (size_t)ra) != 0)
        fail_msg("seed %llu step %lu: read bytes differ", (unsigned long long)p->seed, p->step);
}

static void op_seek(struct pair *p, struct rng *r)
{
    static const int whences[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    int whence = whences[below(r, 3)];
    off_t base = whence == SEEK_SET ? 0
               : whence == SEEK_CUR ? tf_file_tell(p->plain) : size_of(p);
    /* From before the start (an error) to past the end. */
    off_t off = (off_t)below(r, (uint64_t)base + 4000) - base - 10;
    if (base + off > SIZE_CAP)
        off = SIZE_CAP - base;
    p->op = whence == SEEK_SET ? "seek set" : whence == SEEK_CUR ? "seek cur" : "seek end";
    BOTH(p, tf_file_seek(p->spool, off, whence), tf_file_seek(p->plain, off, whence));
}

static void op_truncate(struct pair *p, struct rng *r, size_t max_size)
{
    off_t size = size_of(p);
    off_t to;
    uint64_t room = max_size > (size_t)size ? max_size - (size_t)size : 0;
    switch (below(r, 10)) {
    case 0: case 1: case 2: case 3:                                           /* shrink */
        to = (off_t)below(r, (uint64_t)size + 1);
        break;
    case 4: case 5: case 6:                                   /* grow, within max_size */
        to = size + (off_t)below(r, (room < 3000 ? room : 3000) + 1);
        break;
    case 7: case 8:                                              /* around max_size */
        to = (off_t)max_size + (off_t)below(r, 3) - 1;
        break;
    default:                                                   /* grow, maybe past it */
        to = size + (off_t)below(r, 3000);
        break;
    }
    if (to < 0 || to > SIZE_CAP)
        to = 0;
    p->op = "truncate";
    int was = tf_file_rolled(p->spool);
    BOTH(p, tf_file_truncate(p->spool, to), tf_file_truncate(p->plain, to));
    /* Past max_size (even 0) it rolls over; within, it stays where it was. */
    CHECK_EQ(p, tf_file_rolled(p->spool), was || (uint64_t)to > max_size);
}

static void op_fileno(struct pair *p)
{
    p->op = "fileno";
    int fd = tf_file_fileno(p->spool);
    if (fd < 0)
        fail_msg("seed %llu step %lu: fileno failed", (unsigned long long)p->seed, p->step);
    assert_int_equal(tf_file_rolled(p->spool), 1);
    CHECK_EQ(p, lseek(fd, 0, SEEK_CUR), tf_file_tell(p->plain));
}

/* One step: mostly I/O, now and then a rollover or a fileno. */
static void step(struct pair *p, struct rng *r, size_t max_size)
{
    uint64_t k = below(r, 1000);
    if (k < 330)
        op_write(p, r, max_size);
    else if (k < 560)
        op_read(p, r, max_size);
    else if (k < 820)
        op_seek(p, r);
    else if (k < 995)
        op_truncate(p, r, max_size);
    else if (k < 998) {
        p->op = "rollover";
        assert_int_equal(tf_file_rollover(p->spool), 0);
        assert_int_equal(tf_file_rolled(p->spool), 1);
    } else
        op_fileno(p);
    /* CPython's rule: in memory, the size never passes a non-zero max_size. */
    if (max_size && !tf_file_rolled(p->spool))
        CHECK_EQ(p, size_of(p) <= (off_t)max_size, 1);
}

static unsigned long in_memory_ops;

/* Steps a sequence goes on once the spooled file is on disk: past that it
 * only compares two plain files, so a new sequence teaches more. */
#define STEPS_ON_DISK 10

static unsigned long run_sequence(void **state, uint64_t seed, size_t max_size)
{
    const char *dir = files_dir(state);
    struct pair p = {
        .spool = tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .max_size = max_size }),
        .plain = tf_temporary_file(&(tf_opts){ .dir = dir }),
        .seed = seed,
    };
    assert_non_null(p.spool);
    assert_non_null(p.plain);
    struct rng r = { seed * 0x9E3779B97F4A7C15ULL | 1 };
    unsigned long on_disk = 0;
    for (p.step = 0; p.step < STEPS && on_disk < STEPS_ON_DISK; p.step++) {
        step(&p, &r, max_size);
        compare(&p);
        on_disk += (unsigned long)tf_file_rolled(p.spool);
        in_memory_ops += !on_disk;
    }
    assert_int_equal(tf_file_release(p.spool), 0);
    assert_int_equal(tf_file_release(p.plain), 0);
    return p.step;
}

static unsigned long scale(void)
{
    const char *s = getenv("TF_SPOOL_DIFF_SCALE");
    unsigned long n = s ? strtoul(s, NULL, 10) : 1;
    return n ? n : 1;
}

static unsigned long total_ops;

/* Seeds encode the max_size index, so one seed replays one sequence. */
static void test_differential(void **state)
{
    const char *only = getenv("TF_SPOOL_DIFF_SEED");
    if (only) {
        uint64_t seed = strtoull(only, NULL, 10);
        run_sequence(state, seed, max_sizes[seed % (sizeof max_sizes / sizeof *max_sizes)]);
        return;
    }
    size_t nmax = sizeof max_sizes / sizeof *max_sizes;
    unsigned long per_max = OPS_PER_MAX_SIZE * scale();
    for (size_t m = 0; m < nmax; m++) {
        unsigned long done = 0, mem_before = in_memory_ops;
        /* At least per_max operations, and enough of them in memory where the
         * max_size allows it (a tiny one rolls over within a few steps). */
        for (uint64_t i = 0; done < per_max || (in_memory_ops - mem_before < per_max / 2
                                                 && done < per_max * 3 / 2); i++)
            done += run_sequence(state, i * nmax + m, max_sizes[m]);
        total_ops += done;
        if (getenv("TF_SPOOL_DIFF_VERBOSE"))
            printf("max_size %zu: %lu ops, %lu in memory so far\n", max_sizes[m], done, in_memory_ops);
    }
    assert_true(total_ops >= 200000);
    printf("spool differential: %lu operations (%lu with the spooled file in memory) over %zu max_size values\n",
           total_ops, in_memory_ops, nmax);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_differential, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
