/* Random names: alphabet, length, distribution, uniqueness across fork. */
#include "tftest.h"

#include <sys/wait.h>
#include <unistd.h>

static void test_alphabet_and_length(void **state)
{
    (void)state;
    size_t lens[] = { 0, 1, 8, 37, 1000, 4096 };
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        size_t n = lens[k];
        char *buf = malloc(n + 1);
        assert_non_null(buf);
        memset(buf, '#', n + 1);
        assert_int_equal(tf_random_chars(buf, n), 0);
        assert_true(is_random_part(buf, n));
        assert_int_equal(buf[n], '#');   /* no terminator written, no overrun */
        free(buf);
    }
}

static void test_null_buffer(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(tf_random_chars(NULL, 8), -1);
    assert_errno(EINVAL);
}

static void test_internal_name(void **state)
{
    (void)state;
    char buf[TF_RANDOM_CHARS + 2];
    memset(buf, '#', sizeof buf);
    assert_int_equal(tf__random_name(buf), 0);
    assert_true(is_random_part(buf, TF_RANDOM_CHARS));
    assert_int_equal(buf[TF_RANDOM_CHARS + 1], '#');
}

/*
 * Names come two characters per multiplication from a table of pairs: every
 * character is equally likely at each of the TF_RANDOM_CHARS positions
 * (37 x 3,000 names, each count within 15% of 3,000: 8 standard deviations).
 */
static void test_name_positions_uniform(void **state)
{
    (void)state;
    enum { PER = 3000, N = TF__ALPHABET_LEN * PER };
    static unsigned count[TF_RANDOM_CHARS][256];
    memset(count, 0, sizeof count);
    char buf[TF_RANDOM_CHARS];
    for (int i = 0; i < N; i++) {
        assert_int_equal(tf__random_name(buf), 0);
        for (int p = 0; p < TF_RANDOM_CHARS; p++)
            count[p][(unsigned char)buf[p]]++;
    }
    for (int p = 0; p < TF_RANDOM_CHARS; p++) {
        unsigned total = 0;
        for (const char *c = TF__ALPHABET; *c; c++) {
            unsigned got = count[p][(unsigned char)*c];
            total += got;
            if (got < PER * 85 / 100 || got > PER * 115 / 100)
                fail_msg("position %d: '%c' drawn %u times, expected %u +- 15%%", p, *c, got,
                         (unsigned)PER);
        }
        assert_int_equal(total, N);
    }
}

static void test_getrandom_failure(void **state)
{
    (void)state;
    /* More characters than any sane pool holds, so getrandom must be called. */
    static char buf[100000];
    assert_int_equal(fault_arm_range("getrandom", 1, 0, ENOSYS), 0);
    errno = 0;
    assert_int_equal(tf_random_chars(buf, sizeof buf), -1);
    assert_errno(ENOSYS);
    assert_true(fault_hits() >= 1);
    fault_reset();
    assert_int_equal(tf_random_chars(buf, sizeof buf), 0);
    assert_true(is_random_part(buf, sizeof buf));
}

/* getrandom interrupted while the pool fills: retried, the name is made. */
static void test_getrandom_interrupted(void **state)
{
    (void)state;
    static char buf[100000];
    assert_int_equal(fault_arm("getrandom", 1, EINTR), 0);
    assert_int_equal(tf_random_chars(buf, sizeof buf), 0);
    assert_int_equal(fault_hits(), 1);
    fault_reset();
    assert_true(is_random_part(buf, sizeof buf));
}

/* A creating call whose name cannot be drawn fails with getrandom's errno
 * and makes nothing. */
static void test_getrandom_failure_in_creation(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(fault_arm_range("getrandom", 1, 0, EIO), 0);
    int made = 0, fd = 0;
    char *path = NULL;
    while (made < 100000 && (fd = tf_mkstemp(&(tf_opts){ .dir = dir }, &path)) >= 0) {
        close(fd);
        free(path);
        made++;
    }
    int err = errno;
    fault_reset();
    assert_int_equal(fd, -1);
    assert_int_equal(err, EIO);
    assert_int_equal(dir_entries(dir), made);   /* the pool's names, nothing more */
}

/*
 * Every character of the alphabet is equally likely: 37 x 20,000 characters,
 * each count within 5% of 20,000 (7 standard deviations; a modulo bias of
 * 256 % 37 would put three characters 13% low).
 */
static void test_distribution(void **state)
{
    (void)state;
    enum { PER = 20000, N = TF__ALPHABET_LEN * PER };
    char *buf = malloc(N);
    assert_non_null(buf);
    assert_int_equal(tf_random_chars(buf, N), 0);
    unsigned count[256] = {0};
    for (size_t i = 0; i < N; i++)
        count[(unsigned char)buf[i]]++;
    free(buf);
    unsigned total = 0;
    for (const char *c = TF__ALPHABET; *c; c++) {
        unsigned got = count[(unsigned char)*c];
        total += got;
        if (got < PER * 95 / 100 || got > PER * 105 / 100)
            fail_msg("character '%c' drawn %u times, expected %u +- 5%%", *c, got, (unsigned)PER);
    }
    assert_int_equal(total, N);
}

/* Consecutive names differ (16 x 8 characters: a repeat means a broken source). */
static void test_successive_names_differ(void **state)
{
    (void)state;
    enum { K = 2000 };
    char (*names)[TF_RANDOM_CHARS + 1] = calloc(K, sizeof *names);
    assert_non_null(names);
    for (int i = 0; i < K; i++)
        assert_int_equal(tf_random_chars(names[i], TF_RANDOM_CHARS), 0);
    qsort(names, K, sizeof *names, (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < K; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            fail_msg("name %s drawn twice", names[i]);
    free(names);
}

/* ---- across fork ------------------------------------------------------- */

enum { FORK_NAMES = 2000 };

static int cmp_name(const void *a, const void *b)
{
    return memcmp(a, b, TF_RANDOM_CHARS);
}

static void draw(char (*out)[TF_RANDOM_CHARS], int n, bool internal)
{
    for (int i = 0; i < n; i++) {
        int rc = internal ? tf__random_name(out[i]) : tf_random_chars(out[i], TF_RANDOM_CHARS);
        if (rc != 0)
            memset(out[i], '!', TF_RANDOM_CHARS);
    }
}

static void fork_unique(bool internal)
{
    char (*mine)[TF_RANDOM_CHARS] = calloc(FORK_NAMES, TF_RANDOM_CHARS);
    char (*theirs)[TF_RANDOM_CHARS] = calloc(FORK_NAMES, TF_RANDOM_CHARS);
    assert_non_null(mine);
    assert_non_null(theirs);

    /* Warm up whatever state the generator keeps before forking. */
    draw(mine, 10, internal);

    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        draw(theirs, FORK_NAMES, internal);
        size_t want = (size_t)FORK_NAMES * TF_RANDOM_CHARS, done = 0;
        while (done < want) {
            ssize_t w = write(pfd[1], (char *)theirs + done, want - done);
            if (w <= 0)
                _exit(1);
            done += (size_t)w;
        }
        _exit(0);
    }
    close(pfd[1]);
    draw(mine, FORK_NAMES, internal);
    size_t want = (size_t)FORK_NAMES * TF_RANDOM_CHARS, done = 0;
    while (done < want) {
        ssize_t r = read(pfd[0], (char *)theirs + done, want - done);
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    close(pfd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(done, want);

    for (int i = 0; i < FORK_NAMES; i++) {
        assert_true(is_random_part(mine[i], TF_RANDOM_CHARS));
        assert_true(is_random_part(theirs[i], TF_RANDOM_CHARS));
    }
    qsort(theirs, FORK_NAMES, TF_RANDOM_CHARS, cmp_name);
    for (int i = 0; i < FORK_NAMES; i++)
        if (bsearch(mine[i], theirs, FORK_NAMES, TF_RANDOM_CHARS, cmp_name))
            fail_msg("parent and child both drew %.8s", mine[i]);
    free(mine);
    free(theirs);
}

static void test_unique_across_fork(void **state)
{
    (void)state;
    fork_unique(false);
}

static void test_internal_unique_across_fork(void **state)
{
    (void)state;
    fork_unique(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alphabet_and_length, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_null_buffer, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_internal_name, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_getrandom_failure, tft_setup, tft_teardown),
        cmocka_unit_test(test_getrandom_interrupted),
        cmocka_unit_test_setup_teardown(test_getrandom_failure_in_creation, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_distribution, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_name_positions_uniform, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_successive_names_differ, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_unique_across_fork, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_internal_unique_across_fork, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
