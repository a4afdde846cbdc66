/*
 * Creation from many threads at once: 8 threads x 2,000 creations (files,
 * directories, named and unnamed handles), all names distinct, every
 * descriptor accounted for. Run under TSan by the "threads" label.
 */
#include "tftest.h"

#include <pthread.h>
#include <unistd.h>

enum { THREADS = 8, PER_THREAD = 2000, PER_THREAD_SHORT = 250 };

struct worker {
    const char *dir;
    int count;
    char **names;    /* count kept names */
    int failures;
    int err;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->count; i++) {
        char *name = NULL;
        const tf_opts o = { .dir = w->dir, .prefix = "t" };
        switch (i % 4) {
        case 0: {
            int fd = tf_mkstemp(&o, &name);
            if (fd >= 0)
                close(fd);
            break;
        }
        case 1:
            name = tf_mkdtemp(&o);
            break;
        case 2: {
            tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = w->dir, .prefix = "t",
                                                             .flags = TF_KEEP });
            if (f) {
                name = strdup(tf_file_name(f));
                if (tf_file_write(f, "x", 1) != 1 || tf_file_release(f) != 0)
                    w->failures++;
            }
            break;
        }
        default: {
            /* A nameless file and a directory handle on the way. */
            tf_file *u = tf_temporary_file(&o);
            tf_dir *d = tf_temporary_directory(&o);
            if (!u || !d || tf_file_write(u, "y", 1) != 1)
                w->failures++;
            tf_file_release(u);
            tf_dir_release(d);
            tf_dir *k = tf_temporary_directory(&(tf_opts){ .dir = w->dir, .prefix = "t",
                                                           .flags = TF_KEEP });
            if (k)
                name = strdup(tf_dir_name(k));
            tf_dir_release(k);
            break;
        }
        }
        if (!name) {
            w->failures++;
            w->err = errno;
        }
        w->names[i] = name;
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return strcmp(x ? x : "", y ? y : "");
}

static void run_threads(const char *dir, bool via_default, int per)
{
    int fds = fd_count();
    struct worker w[THREADS];
    pthread_t t[THREADS];
    char **all = calloc(THREADS * per, sizeof *all);
    assert_non_null(all);
    if (via_default)
        assert_int_equal(tf_settempdir(dir), 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .dir = via_default ? NULL : dir,
                                .count = per, .names = all + i * per };
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < THREADS; i++)
        if (w[i].failures)
            fail_msg("thread %d: %d failures (last errno %s)", i, w[i].failures,
                     errname(w[i].err));
    qsort(all, THREADS * per, sizeof *all, cmp_str);
    for (int i = 0; i < THREADS * per; i++) {
        assert_non_null(all[i]);
        const char *b = base_name(all[i]);
        assert_int_equal(strlen(b), 1 + TF_RANDOM_CHARS);
        assert_true(is_random_part(b + 1, TF_RANDOM_CHARS));
        if (i > 0 && strcmp(all[i - 1], all[i]) == 0)
            fail_msg("name %s made twice", all[i]);
    }
    /* Everything kept is there, nothing else. */
    assert_int_equal(dir_entries(dir), THREADS * per);
    assert_no_fd_leak(fds);
    for (int i = 0; i < THREADS * per; i++)
        free(all[i]);
    free(all);
}

static void test_threads_explicit_dir(void **state)
{
    run_threads(TFT_DIR(state), false, PER_THREAD);
}

static void test_threads_default_dir(void **state)
{
    run_threads(TFT_DIR(state), true, PER_THREAD_SHORT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_threads_explicit_dir),
        T(test_threads_default_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
