/*
 * Temporary directory handles (Python's TemporaryDirectory): creation,
 * cleanup, cleanup twice, release, TF_KEEP, tf_dir_keep and
 * TF_IGNORE_CLEANUP_ERRORS.
 */
#include "tftest.h"

#include <fcntl.h>
#include <unistd.h>

static bool cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

/* Fills dir with files, a subdirectory tree, a read-only file and a link. */
static void populate(const char *dir)
{
    assert_int_equal(write_file(dir, "a.txt", "a"), 0);
    char *sub = path_join(dir, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(write_file(sub, "b.txt", "b"), 0);
    char *deep = path_join(sub, "deep");
    assert_int_equal(mkdir(deep, 0755), 0);
    assert_int_equal(write_file(deep, "ro.txt", "r"), 0);
    char *ro = path_join(deep, "ro.txt");
    assert_int_equal(chmod(ro, 0400), 0);
    char *link = path_join(dir, "link");
    assert_int_equal(symlink("sub", link), 0);
    free(ro);
    free(link);
    free(deep);
    free(sub);
}

/* A new temporary directory in dir, populated; *name: a copy of its name. */
static tf_dir *populated_dir(const char *dir, char **name)
{
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    *name = strdup(tf_dir_name(d));
    populate(*name);
    return d;
}

static void test_create(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir, .prefix = "td_", .suffix = ".d" });
    assert_non_null(d);
    const char *name = tf_dir_name(d);
    assert_non_null(name);
    size_t dl = strlen(dir);
    assert_memory_equal(name, dir, dl);
    assert_int_equal(name[dl], '/');
    const char *b = name + dl + 1;
    assert_int_equal(strlen(b), 3 + TF_RANDOM_CHARS + 2);
    assert_memory_equal(b, "td_", 3);
    assert_true(is_random_part(b + 3, TF_RANDOM_CHARS));
    assert_string_equal(b + 3 + TF_RANDOM_CHARS, ".d");

    struct stat st, fst;
    assert_int_equal(lstat(name, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(dir_entries(name), 0);

    int fd = tf_dir_fileno(d);
    assert_true(fd >= 0);
    assert_true(cloexec(fd));
    assert_int_equal(fstat(fd, &fst), 0);
    assert_int_equal(fst.st_ino, st.st_ino);
    assert_int_equal(fst.st_dev, st.st_dev);
    /* Usable for *at() calls. */
    int f = openat(fd, "x", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(f >= 0);
    close(f);
    assert_int_equal(dir_entries(name), 1);

    assert_int_equal(tf_dir_release(d), 0);
    assert_int_equal(dir_entries(dir), 0);
    assert_no_fd_leak(fds);
}

static void test_mode(void **state)
{
    const char *dir = TFT_DIR(state);
    const mode_t umasks[] = { 0, 022, 077 };
    const mode_t modes[] = { 0750, 0700, 0300, 0500 };
    for (size_t u = 0; u < 3; u++) {
        umask(umasks[u]);
        for (size_t m = 0; m < 4; m++) {
            tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir, .mode = modes[m] });
            assert_non_null(d);
            mode_t got = path_mode(tf_dir_name(d));
            /* Cleanup copes with whatever mode it was made with. */
            assert_int_equal(tf_dir_release(d), 0);
            if (got != modes[m])
                fail_msg("umask %03o: mode %03o, expected %03o", umasks[u], got, modes[m]);
            assert_int_equal(dir_entries(dir), 0);
        }
    }
}

static void test_cleanup_removes_everything(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    char *name;
    tf_dir *d = populated_dir(dir, &name);
    assert_int_equal(tf_dir_cleanup(d), 0);
    assert_false(path_exists(name));
    assert_int_equal(dir_entries(dir), 0);
    /* The name is still answered; the descriptor is gone. */
    assert_string_equal(tf_dir_name(d), name);
    errno = 0;
    assert_int_equal(tf_dir_fileno(d), -1);
    assert_errno(EBADF);
    /* Twice: a no-op. */
    assert_int_equal(tf_dir_cleanup(d), 0);
    /* A new directory at the same name afterwards is not the handle's to remove. */
    assert_int_equal(mkdir(name, 0700), 0);
    assert_int_equal(tf_dir_cleanup(d), 0);
    assert_int_equal(tf_dir_release(d), 0);
    assert_true(path_exists(name));
    assert_int_equal(rmdir(name), 0);
    free(name);
    assert_no_fd_leak(fds);
}

static void test_release_cleans_up(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    populate(tf_dir_name(d));
    assert_int_equal(tf_dir_release(d), 0);
    assert_int_equal(dir_entries(dir), 0);
    assert_no_fd_leak(fds);
    assert_int_equal(tf_dir_release(NULL), 0);
}

static void test_keep_flag(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir, .flags = TF_KEEP });
    assert_non_null(d);
    char *name = strdup(tf_dir_name(d));
    populate(name);
    char *before = dir_listing(name);
    assert_int_equal(tf_dir_release(d), 0);
    assert_listing_equal(before, dir_listing(name));
    assert_no_fd_leak(fds);

    /* An explicit cleanup removes it even with TF_KEEP (Python's cleanup()). */
    d = tf_temporary_directory(&(tf_opts){ .dir = dir, .flags = TF_KEEP });
    assert_non_null(d);
    char *name2 = strdup(tf_dir_name(d));
    populate(name2);
    assert_int_equal(tf_dir_cleanup(d), 0);
    assert_false(path_exists(name2));
    assert_int_equal(tf_dir_release(d), 0);
    assert_no_fd_leak(fds);
    assert_int_equal(remove_tree(name), 0);
    free(name);
    free(name2);
}

static void test_keep_call(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    char *name;
    tf_dir *d = populated_dir(dir, &name);
    assert_int_equal(tf_dir_keep(d), 0);
    assert_int_equal(tf_dir_release(d), 0);
    assert_true(path_exists(name));
    assert_int_equal(dir_entries(name), 2 + 1);   /* a.txt, sub, link */
    assert_no_fd_leak(fds);
    assert_int_equal(remove_tree(name), 0);
    free(name);
    errno = 0;
    assert_int_equal(tf_dir_keep(NULL), -1);
    assert_errno(EINVAL);
}

static void test_null_handle(void **state)
{
    (void)state;
    errno = 0;
    assert_null(tf_dir_name(NULL));
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_dir_fileno(NULL), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_dir_cleanup(NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_dir_release(NULL), 0);
}

/* Python: a directory already removed by someone else cleans up without error. */
static void test_already_removed(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    assert_int_equal(rmdir(tf_dir_name(d)), 0);
    errno = 0;
    int rc = tf_dir_cleanup(d);
    int err = errno;
    int rc2 = tf_dir_release(d);
    if (rc != 0 || rc2 != 0)
        fail_msg("cleanup of a directory already removed: cleanup %d, release %d (errno %s)",
                 rc, rc2, errname(err));

    d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    populate(tf_dir_name(d));
    assert_int_equal(remove_tree(tf_dir_name(d)), 0);
    assert_int_equal(tf_dir_release(d), 0);
    assert_int_equal(dir_entries(dir), 0);

    /* Where fstat of the held descriptor then fails (NFS, FUSE: ESTALE,
     * ENOENT), gone too: not taken for a directory renamed away. */
    for (int i = 0; i < 2; i++) {
        d = tf_temporary_directory(&(tf_opts){ .dir = dir });
        assert_non_null(d);
        assert_int_equal(rmdir(tf_dir_name(d)), 0);
        fault_arm_range("fstat", 1, 0, i ? ENOENT : ESTALE);
        fault_arm_range("statx", 1, 0, i ? ENOENT : ESTALE);
        errno = 0;
        rc = tf_dir_cleanup(d);
        err = errno;
        fault_reset();
        if (rc != 0)
            fail_msg("fstat %s: cleanup %d (%s)", i ? "ENOENT" : "ESTALE", rc, errname(err));
        assert_int_equal(tf_dir_release(d), 0);
    }
}

/*
 * The directory renamed by the user, or its parent renamed, its path left
 * free: cleanup still empties the directory the handle made (through its
 * descriptor, as the header says and as the exit cleanup does), without
 * error, and leaves it under its new name; nothing outside it goes.
 */
static void test_renamed_directory(void **state)
{
    const char *dir = TFT_DIR(state);
    char *parent = path_join(dir, "parent"), *parent2 = path_join(dir, "parent2");
    char *moved = path_join(dir, "moved");
    assert_int_equal(mkdir(parent, 0700), 0);
    assert_int_equal(write_file(dir, "outside.txt", "o"), 0);
    for (int how = 0; how < 2; how++) {
        tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = parent });
        assert_non_null(d);
        populate(tf_dir_name(d));
        char *now = how == 0 ? strdup(moved) : path_join(parent2, strrchr(tf_dir_name(d), '/') + 1);
        if (how == 0)
            assert_int_equal(rename(tf_dir_name(d), moved), 0);
        else
            assert_int_equal(rename(parent, parent2), 0);
        errno = 0;
        assert_int_equal(tf_dir_cleanup(d), 0);
        assert_int_equal(dir_entries(now), 0);   /* emptied, still there */
        assert_int_equal(tf_dir_release(d), 0);
        assert_int_equal(rmdir(now), 0);
        if (how == 1)
            assert_int_equal(rename(parent2, parent), 0);
        free(now);
    }
    char *outside = path_join(dir, "outside.txt");
    char *content = read_file_str(outside);
    assert_non_null(content);
    assert_string_equal(content, "o");
    assert_int_equal(dir_entries(parent), 0);
    assert_int_equal(rmdir(parent), 0);
    free(content);
    free(outside);
    free(moved);
    free(parent);
    free(parent2);
}

/* ---- ignore_cleanup_errors ---------------------------------------------------- */

static void test_cleanup_error_reported(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    char *name;
    tf_dir *d = populated_dir(dir, &name);
    /* Every unlink refused. */
    assert_int_equal(fault_arm_range("unlinkat", 1, 0, EBUSY), 0);
    errno = 0;
    int rc = tf_dir_cleanup(d);
    int err = errno;
    fault_reset();
    assert_int_equal(rc, -1);
    errno = err;
    assert_errno(EBUSY);
    assert_true(path_exists(name));
    /* Once the cause is gone, a new cleanup finishes the job. */
    assert_int_equal(tf_dir_cleanup(d), 0);
    assert_false(path_exists(name));
    assert_int_equal(tf_dir_release(d), 0);
    assert_no_fd_leak(fds);
    free(name);

    /* Through release: -1, and the handle is gone all the same (LSan checks). */
    d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    name = strdup(tf_dir_name(d));
    populate(name);
    assert_int_equal(fault_arm_range("unlinkat", 1, 0, EBUSY), 0);
    errno = 0;
    rc = tf_dir_release(d);
    err = errno;
    fault_reset();
    assert_int_equal(rc, -1);
    errno = err;
    assert_errno(EBUSY);
    assert_no_fd_leak(fds);
    assert_int_equal(tf_rmtree(name, 0), 0);
    free(name);
}

static int stuck_unlinkat(int dirfd, const char *path, int flags)
{
    if (strcmp(base_name(path), "stuck") == 0) {
        errno = EBUSY;
        return -1;
    }
    return tf__sys_default.unlinkat(dirfd, path, flags);
}

static void test_ignore_cleanup_errors(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    tf_dir *d = tf_temporary_directory(
        &(tf_opts){ .dir = dir, .flags = TF_IGNORE_CLEANUP_ERRORS });
    assert_non_null(d);
    char *name = strdup(tf_dir_name(d));
    populate(name);
    assert_int_equal(write_file(name, "stuck", "s"), 0);
    assert_int_equal(write_file(name, "z-removable", "z"), 0);

    /* Only the name "stuck" cannot be removed: everything else goes. */
    tf__sys.unlinkat = stuck_unlinkat;
    int rc = tf_dir_cleanup(d);
    fault_reset();
    assert_int_equal(rc, 0);
    assert_true(path_exists(name));
    char *stuck = path_join(name, "stuck");
    assert_true(path_exists(stuck));
    assert_int_equal(dir_entries(name), 1);   /* only "stuck" is left */
    assert_int_equal(tf_dir_release(d), 0);
    assert_no_fd_leak(fds);
    assert_int_equal(unlink(stuck), 0);
    assert_int_equal(rmdir(name), 0);
    free(stuck);
    free(name);
}


/* Permission problems (Python's PermissionError path) as an unprivileged user. */
static int child_perm_cleanup(void *arg)
{
    const char *dir = arg;
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    CHECK(d != NULL);
    char *name = strdup(tf_dir_name(d));
    char *sub = path_join(name, "sub");
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(write_file(sub, "f", "x") == 0);
    CHECK(chmod(sub, 0500) == 0);          /* entries cannot be unlinked */
    CHECK(chmod(name, 0500) == 0);         /* nor can sub */
    CHECK(tf_dir_cleanup(d) == 0);
    CHECK(!path_exists(name));
    CHECK(tf_dir_release(d) == 0);
    free(sub);
    free(name);
    return 0;
}

static void test_cleanup_unwritable_inside(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    assert_int_equal(run_child(child_perm_cleanup, (void *)dir, true), 0);
    assert_int_equal(dir_entries(dir), 0);
}

/*
 * A umask that takes away owner read leaves the new directory unreadable (as
 * in Python); the handle still works, without a descriptor, and cleans up.
 */
static int child_umask_no_read(void *arg)
{
    umask(0477);
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = arg });
    CHECK(d != NULL);
    char *name = strdup(tf_dir_name(d));
    errno = 0;
    CHECK(tf_dir_fileno(d) == -1 && errno == EACCES);
    CHECK(tf_dir_release(d) == 0);
    CHECK(!path_exists(name));
    free(name);
    return 0;
}

static void test_umask_without_owner_read(void **state)
{
    if (running_as_root())
        give_to_nobody(TFT_DIR(state));
    assert_int_equal(run_child(child_umask_no_read, (void *)TFT_DIR(state), true), 0);
}

/* Unreadable (mode 0300: no descriptor) and not empty: cleaned by name,
 * through tf_rmtree's rules. */
static int child_unreadable_not_empty(void *arg)
{
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = arg, .mode = 0300 });
    CHECK(d != NULL);
    errno = 0;
    CHECK(tf_dir_fileno(d) == -1 && errno == EACCES);
    CHECK(write_file(tf_dir_name(d), "inside", "x") == 0);
    char *name = strdup(tf_dir_name(d));
    CHECK(tf_dir_cleanup(d) == 0);
    CHECK(!path_exists(name));
    CHECK(dir_entries(arg) == 0);
    CHECK(tf_dir_release(d) == 0);
    free(name);
    return 0;
}

static void test_unreadable_not_empty(void **state)
{
    if (running_as_root())
        give_to_nobody(TFT_DIR(state));
    assert_int_equal(run_child(child_unreadable_not_empty, (void *)TFT_DIR(state), true), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

/*
 * Renamed away and replaced at its path by a directory with something in it:
 * cleanup empties the directory it made (through its descriptor) and leaves
 * the newcomer alone, reporting ESTALE. (An empty newcomer is taken by the
 * first rmdir, as the header says.)
 */
static void test_cleanup_after_rename_and_replace(void **state)
{
    const char *dir = TFT_DIR(state);
    char *moved = path_join(dir, "moved");
    for (int newcomer_files = 1; newcomer_files < 3; newcomer_files++) {
        tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
        assert_non_null(d);
        assert_int_equal(write_file(tf_dir_name(d), "ours", "o"), 0);
        assert_int_equal(rename(tf_dir_name(d), moved), 0);
        assert_int_equal(mkdir(tf_dir_name(d), 0700), 0);
        assert_int_equal(write_file(tf_dir_name(d), "theirs", "t"), 0);
        if (newcomer_files > 1)
            assert_int_equal(write_file(tf_dir_name(d), "theirs2", "t"), 0);
        errno = 0;
        assert_int_equal(tf_dir_cleanup(d), -1);
        assert_errno(ESTALE);
        assert_int_equal(dir_entries(moved), 0);   /* ours, emptied */
        assert_int_equal(dir_entries(tf_dir_name(d)), newcomer_files);
        assert_int_equal(rmdir(moved), 0);
        char *newcomer = strdup(tf_dir_name(d));
        tf_dir_keep(d);
        assert_int_equal(tf_dir_release(d), 0);
        assert_int_equal(remove_tree(newcomer), 0);
        free(newcomer);
    }
    free(moved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cleanup_after_rename_and_replace, tft_setup, tft_teardown),
        T(test_create),
        T(test_mode),
        T(test_cleanup_removes_everything),
        T(test_release_cleans_up),
        T(test_keep_flag),
        T(test_keep_call),
        T(test_null_handle),
        T(test_already_removed),
        T(test_renamed_directory),
        T(test_cleanup_error_reported),
        T(test_ignore_cleanup_errors),
        T(test_cleanup_unwritable_inside),
        T(test_umask_without_owner_read),
        T(test_unreadable_not_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
