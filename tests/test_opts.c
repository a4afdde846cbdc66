/*
 * The one options check (path.c tf__check_opts, tf__check_name_parts): every
 * creating call, the spooled file at creation rather than at its rollover, and
 * the sweep's matcher refuse the same bad options with the same errno, and
 * leave nothing behind. Every flags argument refuses bits it does not know.
 */
#include "tftest.h"

#include <limits.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* tf_mktemp */

static char long_prefix[300];

/* Runs every creating call with opts; each must fail with errno `want`. */
static void all_creators_refuse(const char *dir, const tf_opts *opts, int want)
{
    int fds = fd_count();
    char *before = dir_listing(dir);
    char *path = (char *)"untouched";
    errno = 0;
    assert_int_equal(tf_mkstemp(opts, &path), -1);
    assert_errno(want);
    assert_string_equal(path, "untouched");
    errno = 0;
    assert_null(tf_mkdtemp(opts));
    assert_errno(want);
    errno = 0;
    assert_null(tf_mktemp(opts));
    assert_errno(want);
    errno = 0;
    assert_null(tf_temporary_file(opts));
    assert_errno(want);
    errno = 0;
    assert_null(tf_named_temporary_file(opts));
    assert_errno(want);
    errno = 0;
    assert_null(tf_spooled_temporary_file(opts));
    assert_errno(want);
    errno = 0;
    assert_null(tf_temporary_directory(opts));
    assert_errno(want);
    assert_listing_equal(before, dir_listing(dir));
    assert_no_fd_leak(fds);
    assert_int_equal(tf_cleanup_registered(), 0);
}

static void test_bad_options_refused_by_every_creator(void **state)
{
    const char *dir = TFT_DIR(state);
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .prefix = "a/b" }, EINVAL);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .suffix = "/x" }, EINVAL);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .mode = 0170000 }, EINVAL);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .mode = 010000 }, EINVAL);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .prefix = long_prefix }, ENAMETOOLONG);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .suffix = long_prefix + 50 }, ENAMETOOLONG);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .flags = 1u << 3 }, EINVAL);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .flags = TF_SWEEP_DRY_RUN }, EINVAL);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .flags = TF_SWEEP_LOCK_FILES }, EINVAL);
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .flags = TF_KEEP | 1u << 31 }, EINVAL);
    for (unsigned bit = 3; bit < 32; bit++)
        all_creators_refuse(dir, &(tf_opts){ .dir = dir, .flags = 1u << bit }, EINVAL);
}

/* The longest name that fits is accepted by every creator, one more byte is not. */
static void test_name_length_limit(void **state)
{
    const char *dir = TFT_DIR(state);
    char prefix[NAME_MAX + 1];
    memset(prefix, 'q', sizeof prefix);
    prefix[NAME_MAX - TF_RANDOM_CHARS] = '\0';
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .prefix = prefix, .max_size = 1 });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "xy", 2), 2);   /* rolls over with that name */
    assert_int_equal(tf_file_rolled(f), 1);
    tf_file_release(f);
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir, .prefix = prefix });
    assert_non_null(d);
    tf_dir_release(d);
    prefix[NAME_MAX - TF_RANDOM_CHARS] = 'q';
    prefix[NAME_MAX - TF_RANDOM_CHARS + 1] = '\0';
    all_creators_refuse(dir, &(tf_opts){ .dir = dir, .prefix = prefix }, ENAMETOOLONG);
}

/*
 * Issue 10's deferred failure: a spooled file accepted options its rollover
 * then refused, so the first write past max_size failed. Now creation fails.
 */
static void test_spooled_refuses_at_creation(void **state)
{
    const char *dir = TFT_DIR(state);
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    errno = 0;
    assert_null(tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .prefix = long_prefix,
                                                      .max_size = 4 }));
    assert_errno(ENAMETOOLONG);
    errno = 0;
    assert_null(tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .mode = 0170000, .max_size = 4 }));
    assert_errno(EINVAL);
}

static void sweep_and_usage_refuse(const char *dir, const tf_sweep_opts *o, int want)
{
    tf_sweep_result res = { .removed = 77 };
    tf_usage_report rep = { .count = 77 };
    errno = 0;
    assert_int_equal(tf_sweep(dir, o, &res), -1);
    assert_errno(want);
    assert_int_equal(res.removed, 77);
    errno = 0;
    assert_int_equal(tf_disk_usage(dir, o, &rep), -1);
    assert_errno(want);
    assert_int_equal(rep.count, 77);
}

static void test_sweep_options_checked_alike(void **state)
{
    const char *dir = TFT_DIR(state);
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    /* An orphan that a wrongly accepted option would have removed. */
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, NULL);
    assert_true(fd >= 0);
    close(fd);
    char *before = dir_listing(dir);
    sweep_and_usage_refuse(dir, &(tf_sweep_opts){ .prefix = "a/" }, EINVAL);
    sweep_and_usage_refuse(dir, &(tf_sweep_opts){ .suffix = "/" }, EINVAL);
    sweep_and_usage_refuse(dir, &(tf_sweep_opts){ .prefix = long_prefix }, ENAMETOOLONG);
    sweep_and_usage_refuse(dir, &(tf_sweep_opts){ .flags = TF_KEEP, .min_age = 1 }, EINVAL);
    sweep_and_usage_refuse(dir, &(tf_sweep_opts){ .flags = TF_SWEEP_LOCK_FILES << 1 }, EINVAL);
    for (int i = 0; i < 4; i++) {
        tf_sweep_opts o = { .min_age = 1 };
        o.reserved[i] = 1;
        sweep_and_usage_refuse(dir, &o, EINVAL);
    }
    assert_listing_equal(before, dir_listing(dir));
    tf_usage_report rep;
    assert_int_equal(tf_disk_usage(dir, &(tf_sweep_opts){ .flags = TF_SWEEP_DRY_RUN }, &rep), 0);
    assert_int_equal(rep.count, 1);
}

/* The flag enums use separate bits: none of one family is valid for another. */
static void test_flag_families_do_not_overlap(void **state)
{
    (void)state;
    const unsigned opts = TF_KEEP | TF_NO_DELETE_ON_CLOSE | TF_IGNORE_CLEANUP_ERRORS;
    assert_int_equal(opts & TF_SWEEP_DRY_RUN, 0);
    assert_true(opts <= 0xff);
    const unsigned sweep = TF_SWEEP_DRY_RUN | TF_SWEEP_LOCK_FILES;
    assert_true(sweep >= 1u << 8 && sweep < 1u << 12);
    assert_int_equal(TF_RMTREE_IGNORE_ERRORS, TF_IGNORE_CLEANUP_ERRORS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_bad_options_refused_by_every_creator),
        T(test_name_length_limit),
        T(test_spooled_refuses_at_creation),
        T(test_sweep_options_checked_alike),
        T(test_flag_families_do_not_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
