/*
 * The live mark of a named temporary file survives the program's own locks:
 * the seed's flock(LOCK_EX | LOCK_NB) then flock(LOCK_UN) on the descriptor
 * it was given drops the library's shared flock (same open file
 * description), yet tf_disk_usage() and tf_sweep() still see the file as live,
 * since the handle keeps it open for writing (registry.c, tf__probe_live).
 */
#include "tftest.h"

#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static time_t two_days_ahead(void)
{
    return time(NULL) + 2 * 86400;
}

static void test_own_flock_keeps_it_live(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    int fd = tf_file_fileno(f);
    /* The seed's advice works on the descriptor... */
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(flock(fd, LOCK_UN), 0);
    /* ...and the file is still live for the sweep, even when old. */
    tf__sweep_clock_hook = two_days_ahead;
    tf_usage_report u;
    assert_int_equal(tf_disk_usage(dir, NULL, &u), 0);
    assert_int_equal(u.count, 1);
    assert_int_equal(u.live, 1);
    assert_int_equal(u.orphans, 0);
    tf_sweep_result r;
    assert_int_equal(tf_sweep(dir, NULL, &r), 0);
    assert_int_equal(r.removed, 0);
    assert_int_equal(r.live, 1);
    assert_true(path_exists(tf_file_name(f)));
    /* Closed (TF_NO_DELETE_ON_CLOSE keeps the name): an orphan now. */
    tf_file_release(f);
    f = tf_named_temporary_file(&(tf_opts){ .dir = dir, .flags = TF_NO_DELETE_ON_CLOSE });
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(tf_sweep(dir, NULL, &r), 0);
    assert_int_equal(r.removed, 1);
    tf__sweep_clock_hook = NULL;
    tf_file_release(f);
    assert_int_equal(dir_entries(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_own_flock_keeps_it_live, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
