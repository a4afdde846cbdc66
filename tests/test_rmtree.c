/*
 * tf_rmtree / tf_rmtreeat: read-only files, directories without read, write
 * or search permission (with dropped privileges), a chain 10,000 deep under
 * RLIMIT_NOFILE 64, symbolic links never followed, no filesystem crossed,
 * and the bad roots.
 */
#include "tftest.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

static void mkdir_ok(const char *dir, const char *name, mode_t mode)
{
    char *p = path_join(dir, name);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(chmod(p, mode), 0);
    free(p);
}

/* ---- descriptor bound ---------------------------------------------------- */

static int live_fds, max_live_fds;

static int openat_track(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd = tf__sys_default.openat(dirfd, path, flags, mode);
    if (fd >= 0 && ++live_fds > max_live_fds)
        max_live_fds = live_fds;
    return fd;
}

static int close_track(int fd)
{
    live_fds--;
    return tf__sys_default.close(fd);
}

static void track_fds(void)
{
    live_fds = max_live_fds = 0;
    tf__sys.openat = openat_track;
    tf__sys.close = close_track;
}

/* ---- plain trees ------------------------------------------------------------ */

static void test_tree(void **state)
{
    const char *dir = TFT_DIR(state);
    char *root = path_join(dir, "root");
    assert_int_equal(mkdir(root, 0700), 0);
    assert_int_equal(write_file(root, "f1", "1"), 0);
    assert_int_equal(write_file(root, "ro", "r"), 0);
    char *ro = path_join(root, "ro");
    assert_int_equal(chmod(ro, 0400), 0);
    mkdir_ok(root, "a", 0755);
    mkdir_ok(root, "a/b", 0700);
    mkdir_ok(root, "a/b/c", 0700);
    mkdir_ok(root, "empty", 0700);
    char *c = path_join(root, "a/b/c");
    for (int i = 0; i < 200; i++) {
        char n[80];
        snprintf(n, sizeof n, "file-%03d-with-a-longer-name-to-fill-getdents", i);
        assert_int_equal(write_file(c, n, "x"), 0);
    }
    assert_int_equal(write_file(dir, "sibling", "s"), 0);
    int fds = fd_count();
    track_fds();
    int rc = tf_rmtree(root, 0);
    fault_reset();
    assert_int_equal(rc, 0);
    assert_false(path_exists(root));
    assert_true(max_live_fds <= TF_RMTREE_FDS);
    assert_int_equal(live_fds, 0);
    assert_no_fd_leak(fds);
    assert_int_equal(dir_entries(dir), 1);   /* the sibling */
    free(c);
    free(ro);
    free(root);
}

static void test_trailing_slash_and_at(void **state)
{
    const char *dir = TFT_DIR(state);
    mkdir_ok(dir, "t1", 0700);
    assert_int_equal(write_file(dir, "t1/f", "x"), 0);
    char *t1 = path_join(dir, "t1///");
    assert_int_equal(tf_rmtree(t1, 0), 0);
    free(t1);

    mkdir_ok(dir, "t2", 0700);
    mkdir_ok(dir, "t2/sub", 0700);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    assert_int_equal(tf_rmtreeat(dfd, "t2", 0), 0);
    errno = 0;
    assert_int_equal(tf_rmtreeat(dfd, "", 0), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_rmtreeat(dfd, NULL, 0), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_rmtreeat(dfd, "missing", 0), -1);
    assert_errno(ENOENT);
    close(dfd);
    assert_int_equal(dir_entries(dir), 0);
}

/* The copy that trims a trailing slash fails: ENOMEM (0 when ignoring
 * errors), nothing removed; with memory the same path goes. */
static void test_trailing_slash_copy_fails(void **state)
{
    const char *dir = TFT_DIR(state);
    mkdir_ok(dir, "t", 0700);
    assert_int_equal(write_file(dir, "t/f", "x"), 0);
    char *t = path_join(dir, "t/"), *f = path_join(dir, "t/f");
    fault_arm("malloc", 1, ENOMEM);
    errno = 0;
    assert_int_equal(tf_rmtree(t, 0), -1);
    assert_errno(ENOMEM);
    assert_int_equal(fault_hits(), 1);
    fault_arm("malloc", 1, ENOMEM);
    assert_int_equal(tf_rmtree(t, TF_IGNORE_CLEANUP_ERRORS), 0);
    assert_int_equal(fault_hits(), 1);
    fault_reset();
    assert_true(path_exists(f));
    assert_int_equal(tf_rmtree(t, 0), 0);
    assert_int_equal(dir_entries(dir), 0);
    free(t);
    free(f);
}

/* A loop of links in the directory part (the kernel's ELOOP): not a
 * directory to remove or sweep, ENOTDIR as for a final link; nothing touched. */
static void test_link_loop_in_directory_part(void **state)
{
    const char *dir = TFT_DIR(state);
    char *loop = path_join(dir, "loop"), *inside = path_join(dir, "loop/x");
    assert_int_equal(symlink("loop", loop), 0);
    errno = 0;
    assert_int_equal(tf_rmtree(inside, 0), -1);
    assert_errno(ENOTDIR);
    tf_sweep_result r;
    errno = 0;
    assert_int_equal(tf_sweep(inside, NULL, &r), -1);
    assert_errno(ENOTDIR);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(unlink(loop), 0);
    free(loop);
    free(inside);
}

static void test_bad_roots(void **state)
{
    const char *dir = TFT_DIR(state);
    errno = 0;
    assert_int_equal(tf_rmtree(NULL, 0), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_rmtree("", 0), -1);
    assert_errno(EINVAL);

    char *missing = path_join(dir, "missing");
    errno = 0;
    assert_int_equal(tf_rmtree(missing, 0), -1);
    assert_errno(ENOENT);

    /* A file: ENOTDIR, left alone. */
    assert_int_equal(write_file(dir, "file", "keep"), 0);
    char *file = path_join(dir, "file");
    errno = 0;
    assert_int_equal(tf_rmtree(file, 0), -1);
    assert_errno(ENOTDIR);
    assert_true(path_exists(file));

    /* A symbolic link to a directory: ENOTDIR, link and target left alone. */
    mkdir_ok(dir, "target", 0700);
    assert_int_equal(write_file(dir, "target/inside", "i"), 0);
    char *link = path_join(dir, "link");
    assert_int_equal(symlink("target", link), 0);
    char *before = dir_listing(dir);
    errno = 0;
    assert_int_equal(tf_rmtree(link, 0), -1);
    assert_errno(ENOTDIR);
    char *link_slash = path_join(dir, "link/");
    errno = 0;
    assert_int_equal(tf_rmtree(link_slash, 0), -1);
    assert_errno(ENOTDIR);
    assert_listing_equal(before, dir_listing(dir));
    free(link_slash);
    free(link);
    free(file);
    free(missing);
}

/*
 * A path ending in "." or "..", or "/", would empty a directory it does not
 * name (a link's target, the working directory, a parent) before its rmdir
 * failed: refused before anything is touched, whatever the flags.
 */
static void test_dot_paths_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    mkdir_ok(dir, "target", 0700);
    mkdir_ok(dir, "target/sub", 0700);
    assert_int_equal(write_file(dir, "target/inside", "i"), 0);
    assert_int_equal(write_file(dir, "target/sub/deeper", "d"), 0);
    char *link = path_join(dir, "link");
    assert_int_equal(symlink("target", link), 0);
    char *cwd = getcwd(NULL, 0);
    assert_non_null(cwd);
    char *sub = path_join(dir, "target/sub");
    assert_int_equal(chdir(sub), 0);
    const char *bad[] = { "link/.", "link/./", "link/..", "target/.", "target/sub/..",
                          ".", "./", "..", "../", "sub/../." };
    char *before = dir_listing(dir);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *abs = bad[i][0] == '/' ? strdup(bad[i]) : path_join(dir, bad[i]);
        for (unsigned flags = 0; flags <= TF_IGNORE_CLEANUP_ERRORS; flags += TF_RMTREE_IGNORE_ERRORS) {
            errno = 0;
            assert_int_equal(tf_rmtree(bad[i], flags), -1);
            assert_errno(EINVAL);
            errno = 0;
            assert_int_equal(tf_rmtree(abs, flags), -1);
            assert_errno(EINVAL);
            errno = 0;
            assert_int_equal(tf_rmtreeat(AT_FDCWD, bad[i], flags), -1);
            assert_errno(EINVAL);
        }
        free(abs);
    }
    assert_int_equal(chdir(cwd), 0);
    assert_listing_equal(before, dir_listing(dir));
    free(sub);
    free(cwd);
    free(link);
}

/* The root directory, refused: tried as nobody, so that a regression of the
 * check could not empty the filesystem of the machine running the tests. */
static int child_root_refused(void *arg)
{
    (void)arg;
    const char *roots[] = { "/", "//", "///", "/.", "/..", "//." };
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
        errno = 0;
        CHECK(tf_rmtree(roots[i], TF_IGNORE_CLEANUP_ERRORS) == -1 && errno == EINVAL);
        errno = 0;
        CHECK(tf_rmtreeat(AT_FDCWD, roots[i], 0) == -1 && errno == EINVAL);
    }
    return 0;
}

static void test_root_refused(void **state)
{
    (void)state;
    assert_int_equal(run_child(child_root_refused, NULL, true), 0);
}

/* Flags: only TF_IGNORE_CLEANUP_ERRORS; TF_KEEP and any other bit are refused. */
static void test_unknown_flags_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    mkdir_ok(dir, "t", 0700);
    char *t = path_join(dir, "t");
    char *before = dir_listing(dir);
    const unsigned bad[] = { TF_KEEP, TF_NO_DELETE_ON_CLOSE, TF_SWEEP_DRY_RUN, 1u << 31,
                             TF_IGNORE_CLEANUP_ERRORS | 1u << 3 };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        errno = 0;
        assert_int_equal(tf_rmtree(t, bad[i]), -1);
        assert_errno(EINVAL);
        errno = 0;
        assert_int_equal(tf_rmtreeat(AT_FDCWD, t, bad[i]), -1);
        assert_errno(EINVAL);
    }
    assert_listing_equal(before, dir_listing(dir));
    assert_int_equal(tf_rmtree(t, TF_IGNORE_CLEANUP_ERRORS), 0);   /* the same bit */
    assert_false(path_exists(t));
    free(t);
}

static void test_symlinks_not_followed(void **state)
{
    const char *dir = TFT_DIR(state);
    mkdir_ok(dir, "outside", 0700);
    assert_int_equal(write_file(dir, "outside/precious", "p"), 0);
    mkdir_ok(dir, "outside/subdir", 0700);
    assert_int_equal(write_file(dir, "outside/subdir/more", "m"), 0);
    assert_int_equal(write_file(dir, "outside-file", "f"), 0);
    char *outside_before = dir_listing(dir);

    char *root = path_join(dir, "root");
    assert_int_equal(mkdir(root, 0700), 0);
    mkdir_ok(root, "d", 0700);
    char *d = path_join(root, "d");
    char *outside = path_join(dir, "outside");
    char *ofile = path_join(dir, "outside-file");
    struct { const char *name, *target; } links[] = {
        { "to-dir", outside }, { "to-file", ofile }, { "dangling", "/nonexistent/x" },
        { "to-parent", ".." }, { "to-root", "/" }, { "d/to-dir", outside },
        { "d/to-self", "." }, { "d/rel-out", "../../outside" },
    };
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        char *p = path_join(root, links[i].name);
        assert_int_equal(symlink(links[i].target, p), 0);
        free(p);
    }
    assert_int_equal(tf_rmtree(root, 0), 0);
    assert_false(path_exists(root));
    /* Everything outside exactly as before (the root aside). */
    char *after = dir_listing(dir);
    assert_listing_equal(outside_before, after);
    free(ofile);
    free(outside);
    free(d);
    free(root);
}

static void test_ignore_errors(void **state)
{
    const char *dir = TFT_DIR(state);
    char *root = path_join(dir, "root");
    assert_int_equal(mkdir(root, 0700), 0);
    assert_int_equal(write_file(root, "a", "a"), 0);
    assert_int_equal(write_file(root, "b", "b"), 0);
    mkdir_ok(root, "sub", 0700);
    assert_int_equal(write_file(root, "sub/c", "c"), 0);
    /* Every unlinkat fails: the error is reported ... */
    assert_int_equal(fault_arm_range("unlinkat", 1, 0, EBUSY), 0);
    errno = 0;
    int rc = tf_rmtree(root, 0);
    int err = errno;
    fault_reset();
    assert_int_equal(rc, -1);
    errno = err;
    assert_errno(EBUSY);
    /* ... or ignored, and then as much as possible is removed: every unlinkat
     * from the second on fails, so the first pass removes one entry, and the
     * second (the root's rmdir found it not empty) removes nothing and ends. */
    assert_int_equal(fault_arm_range("unlinkat", 2, 0, EBUSY), 0);
    rc = tf_rmtree(root, TF_IGNORE_CLEANUP_ERRORS);
    fault_reset();
    assert_int_equal(rc, 0);
    assert_true(path_exists(root));            /* it cannot be empty */
    char *sub = path_join(root, "sub");
    int left = dir_entries(root), left_sub = dir_entries(sub);
    /* One of a, b and sub/c went (sub only if c went first). */
    assert_true((left == 2 && left_sub == 1) || (left == 3 && left_sub == 0));
    /* A failure that passes is retried by the next pass: nothing is left. */
    assert_int_equal(fault_arm("unlinkat", 1, EBUSY), 0);
    rc = tf_rmtree(root, TF_IGNORE_CLEANUP_ERRORS);
    unsigned long hits = fault_hits();
    fault_reset();
    assert_int_equal(rc, 0);
    assert_int_equal(hits, 1);
    assert_false(path_exists(root));
    free(sub);
    free(root);
}

/* ---- permissions, as an unprivileged user ---------------------------------------- */

static int child_permissions(void *arg)
{
    const char *dir = arg;
    const mode_t modes[] = { 0000, 0500, 0300, 0600, 0100, 0400, 0200 };
    for (int round = 0; round < 2; round++) {
        char *root = path_join(dir, "root");
        CHECK(mkdir(root, 0700) == 0);
        for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
            char name[16];
            snprintf(name, sizeof name, "m%04o", (unsigned)modes[i]);
            char *d = path_join(root, name);
            CHECK(mkdir(d, 0700) == 0);
            CHECK(write_file(d, "file", "x") == 0);
            char *ro = path_join(d, "ro");
            CHECK(write_file(d, "ro", "r") == 0);
            CHECK(chmod(ro, 0400) == 0);
            char *sub = path_join(d, "sub");
            CHECK(mkdir(sub, 0700) == 0);
            CHECK(write_file(sub, "deeper", "y") == 0);
            CHECK(chmod(sub, modes[i]) == 0);
            CHECK(chmod(d, modes[i]) == 0);
            free(sub);
            free(ro);
            free(d);
        }
        /* Round 1: the root itself has no permissions either. */
        if (round == 1)
            CHECK(chmod(root, 0000) == 0);
        int rc = tf_rmtree(root, 0);
        if (rc != 0) {
            fprintf(stderr, "tf_rmtree round %d: -1, errno %s\n", round, errname(errno));
            return 1;
        }
        CHECK(!path_exists(root));
        free(root);
    }
    return 0;
}

static void test_permissions(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    assert_int_equal(run_child(child_permissions, (void *)dir, true), 0);
    assert_int_equal(dir_entries(dir), 0);
}

/*
 * A directory that can be read but not searched (0400, 0600) holding only a
 * subdirectory: the subdirectory cannot be opened until the directory itself
 * is opened up, whatever order the entries come in.
 */
static int child_unsearchable(void *arg)
{
    const mode_t modes[] = { 0400, 0600 };
    for (size_t i = 0; i < 2; i++) {
        char *root = path_join(arg, "root");
        char *x = path_join(root, "x");
        char *sub = path_join(x, "sub");
        CHECK(mkdir(root, 0700) == 0 && mkdir(x, 0700) == 0 && mkdir(sub, 0700) == 0);
        CHECK(write_file(sub, "f", "y") == 0);
        CHECK(chmod(x, modes[i]) == 0);
        if (tf_rmtree(root, 0) != 0) {
            fprintf(stderr, "mode %04o: -1, errno %s\n", (unsigned)modes[i], errname(errno));
            return 1;
        }
        CHECK(!path_exists(root));
        free(sub);
        free(x);
        free(root);
    }
    return 0;
}

static void test_readable_but_not_searchable(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    assert_int_equal(run_child(child_unsearchable, (void *)dir, true), 0);
}

/*
 * An empty directory that can be read but not searched (0400, 0600), at depth
 * 1 and deeper: nothing inside makes the walk open it up, and going back up
 * through its ".." needs search permission (issue 11, item 1). Removed by
 * tf_rmtree, by a temporary directory's cleanup and by the signal-safe
 * tf_cleanup_now(), with and without TF_IGNORE_CLEANUP_ERRORS.
 */
static int make_unsearchable_leaves(const char *root, mode_t mode)
{
    char *a = path_join(root, "a"), *b = path_join(root, "b"), *bc = path_join(b, "c");
    int rc = mkdir(a, 0700) || mkdir(b, 0700) || mkdir(bc, 0700) ||
             write_file(root, "f", "x") || chmod(a, mode) || chmod(bc, mode);
    free(bc);
    free(b);
    free(a);
    return rc;
}

static int child_unsearchable_leaves(void *arg)
{
    const mode_t modes[] = { 0400, 0600 };
    for (size_t i = 0; i < 2; i++) {
        for (unsigned flags = 0; flags <= TF_IGNORE_CLEANUP_ERRORS; flags += TF_RMTREE_IGNORE_ERRORS) {
            char *root = path_join(arg, "root");
            CHECK(mkdir(root, 0700) == 0 && make_unsearchable_leaves(root, modes[i]) == 0);
            CHECK(tf_rmtree(root, flags) == 0);
            CHECK(!path_exists(root));
            free(root);
        }
        tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = arg });
        CHECK(d && make_unsearchable_leaves(tf_dir_name(d), modes[i]) == 0);
        char *path = tf__strdup(tf_dir_name(d));
        CHECK(tf_dir_cleanup(d) == 0 && !path_exists(path));
        tf_dir_release(d);
        d = tf_temporary_directory(&(tf_opts){ .dir = arg });
        CHECK(d && make_unsearchable_leaves(tf_dir_name(d), modes[i]) == 0);
        free(path);
        path = tf__strdup(tf_dir_name(d));
        CHECK(tf_cleanup_now() == 1 && !path_exists(path));
        tf_dir_release(d);
        free(path);
    }
    return 0;
}

static void test_unsearchable_empty_directories(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    assert_int_equal(run_child(child_unsearchable_leaves, (void *)dir, true), 0);
}

/*
 * The chmod that opens up an unreadable directory must reach that directory,
 * even when its name is swapped, just before, for a hard link to a file
 * outside the tree.
 */
static const char *swap_dir, *swap_outside;
static int swaps;

static void swap_in_hard_link(void)
{
    if (swaps++)
        return;
    char *x = path_join(swap_dir, "x"), *moved = path_join(swap_dir, "x-moved");
    if (rename(x, moved) != 0 || link(swap_outside, x) != 0)
        swaps = -100;   /* the test reports it */
    free(moved);
    free(x);
}

static int swapping_fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
    swap_in_hard_link();
    return tf__sys_default.fchmodat(dirfd, path, mode, flags);
}

static int swapping_fchmodat2(int dirfd, const char *path, mode_t mode, int flags)
{
    swap_in_hard_link();
    return tf__sys_default.fchmodat2(dirfd, path, mode, flags);
}

static int child_chmod_swap(void *arg)
{
    char *root = path_join(arg, "root"), *x = path_join(root, "x");
    char *outside = path_join(arg, "outside");
    CHECK(mkdir(root, 0700) == 0 && mkdir(x, 0700) == 0);
    CHECK(write_file(arg, "outside", "keep me") == 0);
    CHECK(chmod(outside, 0640) == 0);
    CHECK(chmod(x, 0000) == 0);
    swap_dir = root;
    swap_outside = outside;
    tf__sys.fchmodat = swapping_fchmodat;
    tf__sys.fchmodat2 = swapping_fchmodat2;
    tf_rmtree(root, TF_IGNORE_CLEANUP_ERRORS);
    tf__sys = tf__sys_default;
    CHECK(swaps > 0);   /* the swap happened */
    struct stat st;
    CHECK(stat(outside, &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    char *content = read_file_str(outside);
    CHECK(content && strcmp(content, "keep me") == 0);
    free(content);
    CHECK(tf_rmtree(root, 0) == 0 || !path_exists(root));
    CHECK(unlink(outside) == 0);
    free(outside);
    free(x);
    free(root);
    return 0;
}

static void test_chmod_not_redirected_by_hard_link(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    assert_int_equal(run_child(child_chmod_swap, (void *)dir, true), 0);
}

/* A filesystem that returns a short batch while entries remain (FUSE: a page). */
static ssize_t short_getdents(int fd, void *buf, size_t n)
{
    return tf__sys_default.getdents64(fd, buf, n < 4096 ? n : 4096);
}

static void test_short_getdents_batches(void **state)
{
    const char *dir = TFT_DIR(state);
    char *root = path_join(dir, "root");
    assert_int_equal(mkdir(root, 0700), 0);
    for (int i = 0; i < 500; i++) {
        char name[32];
        snprintf(name, sizeof name, "file-with-a-long-name-%03d", i);
        assert_int_equal(write_file(root, name, "x"), 0);
    }
    char *sub = path_join(root, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "inner-with-a-long-name-%03d", i);
        assert_int_equal(write_file(sub, name, "y"), 0);
    }
    tf__sys.getdents64 = short_getdents;
    int rc = tf_rmtree(root, 0);
    tf__sys = tf__sys_default;
    assert_int_equal(rc, 0);
    assert_false(path_exists(root));
    free(sub);
    free(root);
}

/*
 * Another remover at work in the same tree (rm -rf, a second cleanup): what
 * it removes first is no error. Played at fixed points through the seam:
 * when the walk first reads the directory `victim` (after it entered it),
 * or first opens it (after it listed it), the other remover takes the
 * victim's parent `a` whole. lseek on a removed directory answers EINVAL
 * here, as ext4 does (the recorded position is past its size): tmpfs says
 * nothing, so the test would not tell there. Both failed with EINVAL or
 * ENOENT before.
 */
static const char *race_parent;
static ino_t race_victim;
static bool race_done;

static void race_now(void)
{
    if (!race_done) {
        race_done = true;
        assert_int_equal(remove_tree(race_parent), 0);
    }
}

static ssize_t race_getdents(int fd, void *buf, size_t n)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_ino == race_victim)
        race_now();
    return tf__sys_default.getdents64(fd, buf, n);
}

static int race_openat(int dirfd, const char *name, int flags, mode_t mode)
{
    if (strcmp(name, "victim") == 0)
        race_now();
    return tf__sys_default.openat(dirfd, name, flags, mode);
}

static off_t race_lseek(int fd, off_t off, int whence)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 0 && off > 0) {
        errno = EINVAL;
        return -1;
    }
    return tf__sys_default.lseek(fd, off, whence);
}

static void test_concurrent_remover(void **state)
{
    const char *dir = TFT_DIR(state);
    char *root = path_join(dir, "root"), *a = path_join(root, "a");
    char *victim = path_join(a, "victim"), *deep = path_join(victim, "deep");
    for (int when = 0; when < 2; when++) {
        assert_int_equal(mkdir(root, 0700), 0);
        assert_int_equal(mkdir(a, 0700), 0);
        for (int i = 0; i < 40; i++) {   /* entries on both sides of the victim */
            char name[16];
            snprintf(name, sizeof name, "f%02d", i);
            assert_int_equal(write_file(a, name, "x"), 0);
            assert_int_equal(write_file(root, name, "x"), 0);
        }
        assert_int_equal(mkdir(victim, 0700), 0);
        assert_int_equal(mkdir(deep, 0700), 0);
        assert_int_equal(write_file(deep, "g", "y"), 0);
        struct stat st;
        assert_int_equal(stat(victim, &st), 0);
        race_parent = a;
        race_victim = st.st_ino;
        race_done = false;
        if (when == 0)
            tf__sys.getdents64 = race_getdents;
        else
            tf__sys.openat = race_openat;
        tf__sys.lseek = race_lseek;
        errno = 0;
        int rc = tf_rmtree(root, 0), err = errno;
        tf__sys = tf__sys_default;
        if (rc != 0)
            fail_msg("%s: tf_rmtree %d (%s)", when ? "open" : "read", rc, strerror(err));
        assert_true(race_done);
        assert_false(path_exists(root));
    }
    free(deep);
    free(victim);
    free(a);
    free(root);
}

/* A directory the user cannot chmod (another owner's): an error, not a crash. */
static int child_foreign(void *arg)
{
    const char *root = arg;
    errno = 0;
    CHECK(tf_rmtree(root, 0) == -1);
    CHECK(errno == EACCES || errno == EPERM);
    CHECK(tf_rmtree(root, TF_IGNORE_CLEANUP_ERRORS) == 0);
    /* What could be removed is gone; the foreign directory stays. */
    char *mine = path_join(root, "mine");
    CHECK(!path_exists(mine));
    char *foreign = path_join(root, "foreign");
    CHECK(path_exists(foreign));
    free(mine);
    free(foreign);
    return 0;
}

static void test_foreign_directory(void **state)
{
    if (!running_as_root())
        skip();   /* needs two users */
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    char *root = path_join(dir, "root");
    assert_int_equal(mkdir(root, 0700), 0);
    give_to_nobody(root);
    mkdir_ok(root, "foreign", 0755);                  /* root's */
    assert_int_equal(write_file(root, "foreign/f", "x"), 0);
    mkdir_ok(root, "mine", 0700);
    char *mine = path_join(root, "mine");
    give_to_nobody(mine);
    assert_int_equal(run_child(child_foreign, root, true), 0);
    char *f = path_join(root, "foreign/f");
    assert_true(path_exists(f));
    free(f);
    free(mine);
    free(root);
}

/* ---- depth ------------------------------------------------------------------------- */

enum { DEPTH = 10000 };

/* valgrind keeps descriptors of its own above the limit and refuses a lower
 * one: the bound is checked by the runs without it. */
static void skip_valgrind_rlimit(void)
{
    fprintf(stderr, "  skipped under valgrind: it refuses RLIMIT_NOFILE 64\n");
    skip();
}

static int child_deep(void *arg)
{
    const char *dir = arg;
    struct rlimit rl = { 64, 64 };
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && under_valgrind())
        return 77;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(mkdirat(fd, "deep", 0700) == 0);
    int cur = openat(fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(cur >= 0);
    for (int i = 0; i < DEPTH; i++) {
        if (i % 1000 == 0) {
            int f = openat(cur, "file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            CHECK(f >= 0);
            close(f);
            CHECK(symlinkat("/", cur, "link") == 0);
        }
        CHECK(mkdirat(cur, "dd", 0700) == 0);
        int next = openat(cur, "dd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(next >= 0);
        close(cur);
        cur = next;
    }
    close(cur);
    close(fd);
    /* 10,000 levels of "dd/": 30,000 characters, far past PATH_MAX. */
    char *deep = path_join(dir, "deep");
    int fds = fd_count();
    track_fds();
    int rc = tf_rmtree(deep, 0);
    int err = errno;
    fault_reset();
    if (rc != 0) {
        fprintf(stderr, "tf_rmtree of a %d-deep chain: -1, errno %s\n", DEPTH, errname(err));
        return 1;
    }
    CHECK(!path_exists(deep));
    CHECK(fd_count() == fds);
    if (max_live_fds > TF_RMTREE_FDS) {
        fprintf(stderr, "tf_rmtree held %d descriptors at once, TF_RMTREE_FDS is %d\n",
                max_live_fds, TF_RMTREE_FDS);
        return 1;
    }
    free(deep);
    return 0;
}

static void test_deep_chain(void **state)
{
    const char *dir = TFT_DIR(state);
    int rc = run_child(child_deep, (void *)dir, false);
    if (rc == 77)
        skip_valgrind_rlimit();
    assert_int_equal(rc, 0);
    assert_int_equal(dir_entries(dir), 0);
}

/* A deep chain inside a temporary directory: its cleanup copes as well. */
static int child_deep_dir(void *arg)
{
    const char *dir = arg;
    struct rlimit rl = { 64, 64 };
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && under_valgrind())
        return 77;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    CHECK(d != NULL);
    int cur = dup(tf_dir_fileno(d));
    CHECK(cur >= 0);
    for (int i = 0; i < 1000; i++) {
        CHECK(mkdirat(cur, "d", 0700) == 0);
        int next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(next >= 0);
        close(cur);
        cur = next;
    }
    close(cur);
    CHECK(tf_dir_release(d) == 0);
    CHECK(dir_entries(dir) == 0);
    return 0;
}

static void test_deep_chain_in_temporary_directory(void **state)
{
    int rc = run_child(child_deep_dir, TFT_DIR(state), false);
    if (rc == 77)
        skip_valgrind_rlimit();
    assert_int_equal(rc, 0);
}

/* ---- filesystems --------------------------------------------------------------------- */

static int child_mount(void *arg)
{
    const char *dir = arg;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
        return 77;
    char *root = path_join(dir, "root");
    CHECK(mkdir(root, 0700) == 0);
    CHECK(write_file(root, "mine", "m") == 0);
    char *mnt = path_join(root, "mnt");
    CHECK(mkdir(mnt, 0700) == 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0)
        return 77;
    CHECK(write_file(mnt, "other-fs", "o") == 0);
    errno = 0;
    CHECK(tf_rmtree(root, 0) == -1);
    CHECK(errno == EXDEV);
    char *other = path_join(mnt, "other-fs");
    CHECK(path_exists(other));
    CHECK(tf_rmtree(root, TF_IGNORE_CLEANUP_ERRORS) == 0);
    CHECK(path_exists(other));
    CHECK(umount(mnt) == 0);
    CHECK(tf_rmtree(root, 0) == 0);
    free(other);
    free(mnt);
    free(root);
    return 0;
}

static void test_other_filesystem(void **state)
{
    int rc = run_child(child_mount, TFT_DIR(state), false);
    if (rc == 77)
        skip();   /* no permission to mount here */
    assert_int_equal(rc, 0);
}

/*
 * A bind mount of a directory of the same filesystem has the same device
 * number: only the mount id tells that the walk would leave the tree.
 */
static int child_bind_mount(void *arg)
{
    const char *dir = arg;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
        return 77;
    char *outside = path_join(dir, "outside");
    char *root = path_join(dir, "root");
    char *sub = path_join(root, "sub");
    char *precious = path_join(outside, "precious");
    CHECK(mkdir(outside, 0700) == 0);
    CHECK(write_file(outside, "precious", "p") == 0);
    CHECK(mkdir(root, 0700) == 0);
    CHECK(mkdir(sub, 0700) == 0);
    if (mount(outside, sub, "none", MS_BIND, NULL) != 0)
        return 77;
    errno = 0;
    CHECK(tf_rmtree(root, 0) == -1);
    CHECK(errno == EXDEV);
    CHECK(path_exists(precious));
    CHECK(tf_rmtree(root, TF_IGNORE_CLEANUP_ERRORS) == 0);
    CHECK(path_exists(precious));
    CHECK(umount(sub) == 0);
    CHECK(tf_rmtree(root, 0) == 0);
    CHECK(path_exists(precious));
    CHECK(tf_rmtree(outside, 0) == 0);
    free(precious);
    free(sub);
    free(root);
    free(outside);
    return 0;
}

static void test_bind_mount_not_entered(void **state)
{
    int rc = run_child(child_bind_mount, TFT_DIR(state), false);
    if (rc == 77)
        skip();   /* no permission to mount here */
    assert_int_equal(rc, 0);
}

/* Another filesystem's unreadable root is refused before it is chmod'ed. */
static int child_unreadable_mount(void *arg)
{
    const char *dir = arg;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
        return 77;
    char *root = path_join(dir, "root");
    char *mnt = path_join(root, "mnt");
    CHECK(mkdir(root, 0755) == 0);
    CHECK(mkdir(mnt, 0755) == 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=000,uid=65534") != 0)
        return 77;
    CHECK(chown(root, 65534, 65534) == 0);
    CHECK(chown(dir, 65534, 65534) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(3);
        errno = 0;
        int rc = tf_rmtree(root, 0);
        _exit(rc == -1 && errno == EXDEV ? 0 : 1);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct stat st;
    CHECK(stat(mnt, &st) == 0);
    CHECK((st.st_mode & 07777) == 0);   /* untouched */
    CHECK(umount(mnt) == 0);
    CHECK(tf_rmtree(root, 0) == 0);
    free(mnt);
    free(root);
    return 0;
}

static void test_unreadable_mount_not_chmodded(void **state)
{
    int rc = run_child(child_unreadable_mount, TFT_DIR(state), false);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_tree),
        T(test_trailing_slash_and_at),
        T(test_trailing_slash_copy_fails),
        T(test_link_loop_in_directory_part),
        T(test_bad_roots),
        T(test_symlinks_not_followed),
        T(test_ignore_errors),
        T(test_permissions),
        T(test_foreign_directory),
        T(test_deep_chain),
        T(test_deep_chain_in_temporary_directory),
        T(test_other_filesystem),
        T(test_readable_but_not_searchable),
        T(test_unsearchable_empty_directories),
        T(test_dot_paths_refused),
        T(test_root_refused),
        T(test_unknown_flags_refused),
        T(test_chmod_not_redirected_by_hard_link),
        T(test_concurrent_remover),
        T(test_short_getdents_batches),
        T(test_bind_mount_not_entered),
        T(test_unreadable_mount_not_chmodded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
