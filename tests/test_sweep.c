/*
 * Orphans (sweep.c): a child killed with SIGKILL leaves its temporaries; the
 * sweep removes them, leaves the live temporaries of a running process, the
 * young ones and anything that does not match, and never follows a link.
 */
#include "cleanup_helpers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define DAY 86400

/* Sets the modification time of path (not following links) days ago. */
static void age(const char *dir, const char *name, int days)
{
    struct timespec t[2] = { { .tv_nsec = UTIME_OMIT }, { time(NULL) - (time_t)days * DAY, 0 } };
    char *path = dir ? path_join(dir, name) : strdup(name);
    assert_int_equal(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0);
    free(path);
}

/* Ages every entry of dir, links included, by `days`. */
static void age_all(const char *dir, int days)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            age(dir, e->d_name, days);
    closedir(d);
}

/* Child: makes orphans ("orph" prefix: two files, a tree), then is killed. */
static int orphan_maker(void *arg)
{
    const char *dir = arg;
    tf_opts o = { .dir = dir, .prefix = "orph" };
    tf_file *a = tf_named_temporary_file(&o), *b = tf_named_temporary_file(&o);
    tf_dir *d = tf_temporary_directory(&o);
    CHECK(a && b && d);
    char big[10000];
    memset(big, 'x', sizeof big);
    CHECK(tf_file_write(a, big, sizeof big) == sizeof big);
    CHECK(mkdirat(tf_dir_fileno(d), "deep", 0700) == 0);
    CHECK(write_file(tf_dir_name(d), "data", "orphan data") == 0);
    raise(SIGKILL);
    return 1;
}

struct fixture {
    char *dir;       /* the swept directory */
    char *outside;   /* a directory the sweep must never reach */
    tf_file *live_file;
    tf_dir *live_dir;
};

static void make_orphans(struct fixture *fx)
{
    int st = fork_status(orphan_maker, fx->dir);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(count_prefixed(fx->dir, "orph"), 3);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->dir = scratch_new();
    fx->outside = scratch_new();
    make_orphans(fx);
    /* This process's live temporaries, same naming, same directory. */
    fx->live_file = tf_named_temporary_file(&(tf_opts){ .dir = fx->dir, .prefix = "orph" });
    fx->live_dir = tf_temporary_directory(&(tf_opts){ .dir = fx->dir, .prefix = "orph" });
    assert_non_null(fx->live_file);
    assert_non_null(fx->live_dir);
    /* A planted link named like a temporary, to a tree outside. */
    assert_int_equal(write_file(fx->outside, "precious", "keep me"), 0);
    char *link = path_join(fx->dir, "orphlinklink");
    assert_int_equal(symlink(fx->outside, link), 0);
    free(link);
    /* Names that do not match, and a link inside an orphan's tree. */
    assert_int_equal(write_file(fx->dir, "unrelated.txt", "x"), 0);
    assert_int_equal(write_file(fx->dir, "orphTOOLONGNAME", "x"), 0);
    assert_int_equal(write_file(fx->dir, "orph_BAD_CHR", "x"), 0);   /* not the alphabet */
    age_all(fx->dir, 2);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    tf_file_release(fx->live_file);
    tf_dir_release(fx->live_dir);
    scratch_free(fx->dir);
    scratch_free(fx->outside);
    free(fx);
    return 0;
}

/* Finds the orphan directory and plants a link to the outside inside it. */
static void plant_inner_link(struct fixture *fx)
{
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *p = path_join(fx->dir, e->d_name);
        struct stat st;
        if (strncmp(e->d_name, "orph", 4) == 0 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
            strcmp(p, tf_dir_name(fx->live_dir)) != 0) {
            char *l = path_join(p, "escape");
            assert_int_equal(symlink(fx->outside, l), 0);
            free(l);
        }
        free(p);
    }
    closedir(d);
}

struct seen {
    int files, dirs;
    unsigned long long bytes;
};

static void on_removed(const tf_sweep_entry *e, void *arg)
{
    struct seen *s = arg;
    assert_true(strncmp(e->name, "orph", 4) == 0);
    assert_true(e->age >= 2 * DAY - 60);
    if (e->is_dir)
        s->dirs++;
    else
        s->files++;
    s->bytes += e->bytes;
}

static void assert_outside_intact(const struct fixture *fx)
{
    char *p = path_join(fx->outside, "precious");
    char *content = read_file_str(p);
    assert_string_equal(content, "keep me");
    free(content);
    free(p);
}

static void test_usage_report(void **state)
{
    struct fixture *fx = *state;
    tf_usage_report r;
    assert_int_equal(tf_usage(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &r), 0);
    assert_int_equal(r.count, 5);     /* 3 orphans + 2 live; not the link nor the misfits */
    assert_int_equal(r.live, 2);
    assert_int_equal(r.orphans, 3);
    assert_int_equal(r.sweepable, 3);
    assert_int_equal(r.unknown, 0);
    assert_true(r.orphan_bytes >= 10000);
    assert_int_equal(r.bytes, r.live_bytes + r.orphan_bytes);
    assert_true(r.oldest_age >= 2 * DAY - 60 && r.oldest_age <= 2 * DAY + 60);
    /* Younger than a week: nothing is sweepable. */
    assert_int_equal(tf_usage(fx->dir, &(tf_sweep_opts){ .prefix = "orph", .min_age = 7 * DAY }, &r), 0);
    assert_int_equal(r.sweepable, 0);
    /* The default naming ("tmp") matches none of these. */
    assert_int_equal(tf_usage(fx->dir, NULL, &r), 0);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.oldest_age, 0);
}

static void test_dry_run_removes_nothing(void **state)
{
    struct fixture *fx = *state;
    char *before = dir_listing(fx->dir);
    struct seen seen = { 0 };
    tf_sweep_result res;
    tf_sweep_opts o = { .prefix = "orph", .flags = TF_SWEEP_DRY_RUN, .report = on_removed, .arg = &seen };
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 3);
    assert_int_equal(res.live, 2);
    assert_int_equal(seen.files, 2);
    assert_int_equal(seen.dirs, 1);
    assert_int_equal(seen.bytes, res.bytes);
    assert_listing_equal(before, dir_listing(fx->dir));
}

static void test_sweep_removes_orphans_only(void **state)
{
    struct fixture *fx = *state;
    plant_inner_link(fx);
    age_all(fx->dir, 2);   /* the new link made the orphan directory young */
    tf_usage_report r;
    assert_int_equal(tf_usage(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &r), 0);
    struct seen seen = { 0 };
    tf_sweep_result res;
    tf_sweep_opts o = { .prefix = "orph", .report = on_removed, .arg = &seen };
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 3);
    assert_int_equal(res.live, 2);
    assert_int_equal(res.failed, 0);
    assert_int_equal(res.bytes, r.orphan_bytes);
    assert_int_equal(seen.files + seen.dirs, 3);
    /* Live temporaries survive though old; so do the link and the misfits. */
    assert_true(path_exists(tf_file_name(fx->live_file)));
    assert_true(path_exists(tf_dir_name(fx->live_dir)));
    assert_int_equal(count_prefixed(fx->dir, "orph"), 2 + 3);   /* live 2, link, 2 misfits */
    assert_int_equal(dir_entries(fx->dir), 6);
    assert_outside_intact(fx);
    /* A second sweep finds nothing more. */
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 0);
}

static void test_young_orphans_stay(void **state)
{
    struct fixture *fx = *state;
    age_all(fx->dir, 0);
    tf_sweep_result res;
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph", .min_age = 3600 }, &res), 0);
    assert_int_equal(res.removed, 0);
    assert_int_equal(res.young, 3);
    /* The zero value's age (a day) keeps them too. */
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &res), 0);
    assert_int_equal(res.young, 3);
    assert_int_equal(count_prefixed(fx->dir, "orph"), 8);
}

static void test_kept_file_is_an_orphan(void **state)
{
    struct fixture *fx = *state;
    tf_file *k = tf_named_temporary_file(&(tf_opts){ .dir = fx->dir, .prefix = "kept", .suffix = ".log",
                                                     .flags = TF_KEEP });
    char *name = strdup(tf_file_name(k));
    tf_sweep_result res;
    tf_sweep_opts o = { .prefix = "kept", .suffix = ".log", .min_age = 1 };
    age(NULL, name, 1);
    /* Open (and so locked) it is live; once closed it is an orphan. */
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.live, 1);
    tf_file_release(k);
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 1);
    assert_false(path_exists(name));
    free(name);
}

static void test_errors(void **state)
{
    struct fixture *fx = *state;
    tf_usage_report r;
    tf_sweep_result res;
    errno = 0;
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "a/b" }, &res), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_usage(fx->dir, &(tf_sweep_opts){ .suffix = "/" }, &r), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_usage(fx->dir, NULL, NULL), -1);
    assert_errno(EINVAL);
    char *missing = path_join(fx->dir, "missing");
    assert_int_equal(tf_sweep(missing, NULL, NULL), -1);
    assert_errno(ENOENT);
    free(missing);
    /* The directory given may not be a link, even with a trailing slash. */
    char *link = path_join(fx->dir, "orphlinklink");
    char *slash = malloc(strlen(link) + 2);
    sprintf(slash, "%s/", link);
    assert_int_equal(tf_sweep(link, NULL, NULL), -1);
    assert_errno(ENOTDIR);
    assert_int_equal(tf_sweep(slash, NULL, NULL), -1);
    assert_errno(ENOTDIR);
    free(slash);
    free(link);
    fault_arm("malloc", 1, ENOMEM);
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &res), -1);
    assert_errno(ENOMEM);
    fault_reset();
    assert_int_equal(count_prefixed(fx->dir, "orph"), 8);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_usage_report),
        T(test_dry_run_removes_nothing),
        T(test_sweep_removes_orphans_only),
        T(test_young_orphans_stay),
        T(test_kept_file_is_an_orphan),
        T(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
