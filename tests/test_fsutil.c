/*
 * The descriptor-relative helpers every walker shares (fsutil.c): the
 * directory reader, identity and "same mount", and opening a directory that
 * denies its owner access without ever going through a link.
 */
#include "tftest.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

/* Every entry once, "." and ".." never, whatever the buffer's size. */
static void test_reader_sees_every_entry_once(void **state)
{
    const char *dir = TFT_DIR(state);
    enum { N = 300 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "entry-with-a-longish-name-%03d", i);
        assert_int_equal(write_file(dir, name, ""), 0);
    }
    const size_t caps[] = { TF__DIRENT_MAX, TF__DIRENT_MAX + 40, 4096, 65536 };
    for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
        int fd = tf__open_dir(AT_FDCWD, dir);
        assert_true(fd >= 0);
        char *buf = malloc(caps[c]);
        bool seen[N] = { false };
        struct tf__dir_reader r;
        const struct dirent64 *d;
        int count = 0;
        bool last_batch_seen_last = false, full_batch_seen = false;
        tf__dir_reader_init(&r, fd, buf, caps[c]);
        while ((d = tf__dir_next(&r))) {
            /* A batch that filled the buffer is not the last; the final one is. */
            if (tf__dir_batch_done(&r)) {
                last_batch_seen_last = tf__dir_batch_last(&r);
                full_batch_seen |= !last_batch_seen_last;
            }
            int i;
            assert_int_equal(sscanf(d->d_name, "entry-with-a-longish-name-%d", &i), 1);
            assert_false(seen[i]);
            seen[i] = true;
            count++;
        }
        assert_int_equal(errno, 0);
        assert_int_equal(count, N);
        /* 300 entries fit in one batch of the largest buffer only: then it is
         * the last, and says so; the others saw full batches first. */
        assert_int_equal(full_batch_seen, caps[c] < 65536);
        if (caps[c] == 65536)
            assert_true(last_batch_seen_last);
        assert_null(tf__dir_next(&r));   /* the end is sticky */
        free(buf);
        close(fd);
    }
}

static void test_reader_reports_errors(void **state)
{
    const char *dir = TFT_DIR(state);
    char buf[4096];
    struct tf__dir_reader r;
    assert_int_equal(write_file(dir, "f", "x"), 0);
    char *f = path_join(dir, "f");
    int fd = open(f, O_RDONLY | O_CLOEXEC);
    tf__dir_reader_init(&r, fd, buf, sizeof buf);
    assert_null(tf__dir_next(&r));
    assert_errno(ENOTDIR);
    close(fd);
    fd = tf__open_dir(AT_FDCWD, dir);
    assert_int_equal(fault_arm("getdents64", 1, EIO), 0);
    tf__dir_reader_init(&r, fd, buf, sizeof buf);
    assert_null(tf__dir_next(&r));
    assert_errno(EIO);
    fault_reset();
    close(fd);
    free(f);
}

/* A link is identified as itself, never as its target. */
static void test_identify_does_not_follow(void **state)
{
    const char *dir = TFT_DIR(state);
    char *sub = path_join(dir, "sub"), *link = path_join(dir, "link");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(symlink("sub", link), 0);
    int dfd = tf__open_dir(AT_FDCWD, dir), sfd = tf__open_dir(AT_FDCWD, sub);
    struct tf__node a, b, l, self;
    assert_int_equal(tf__identify(dfd, "sub", &a), 0);
    assert_int_equal(tf__identify(sfd, NULL, &b), 0);
    assert_int_equal(tf__identify(dfd, "link", &l), 0);
    assert_int_equal(tf__identify(dfd, NULL, &self), 0);
    assert_true(tf__same_node(&a, &b));
    assert_false(tf__same_node(&a, &l));
    assert_true(tf__same_mount(&a, &self));
    struct tf__node unknown = { a.dev, a.ino, 0 }, other = { a.dev, a.ino, a.mnt + 1 };
    assert_true(tf__same_mount(&unknown, &a));
    assert_true(a.mnt == 0 || !tf__same_mount(&other, &a));
    errno = 0;
    assert_int_equal(tf__identify(dfd, "missing", &a), -1);
    assert_errno(ENOENT);
    /* O_DIRECTORY with O_NOFOLLOW: Linux says ENOTDIR for a final link. */
    errno = 0;
    assert_int_equal(tf__open_dir(dfd, "link"), -1);
    assert_true(errno == ENOTDIR || errno == ELOOP);
    close(dfd);
    close(sfd);
    free(link);
    free(sub);
}

/* A mode-0000 directory is opened up to 0700 through its pinned descriptor;
 * a link or a file is refused without a chmod. Run unprivileged: root would
 * open it without asking. */
static int child_open_owner(void *arg)
{
    const char *dir = arg;
    char *locked = path_join(dir, "locked");
    CHECK(mkdir(locked, 0700) == 0 && chmod(locked, 0) == 0);
    int dfd = tf__open_dir(AT_FDCWD, dir);
    CHECK(dfd >= 0);
    CHECK(tf__open_dir(dfd, "locked") == -1 && errno == EACCES);
    int fd = tf__open_dir_owner(dfd, "locked", NULL);
    CHECK(fd >= 0);
    CHECK(path_mode(locked) == 0700);
    close(fd);
    CHECK(write_file(dir, "file", "x") == 0);
    CHECK(chmod(locked, 0) == 0);
    CHECK(symlinkat("locked", dfd, "link") == 0);
    CHECK(tf__open_dir_owner(dfd, "link", NULL) == -1 && (errno == ENOTDIR || errno == ELOOP));
    CHECK(tf__open_dir_owner(dfd, "file", NULL) == -1 && errno == ENOTDIR);
    CHECK(path_mode(locked) == 0);
    CHECK(chmod(locked, 0700) == 0);
    close(dfd);
    free(locked);
    return 0;
}

static void test_open_dir_owner(void **state)
{
    give_to_nobody(TFT_DIR(state));
    assert_int_equal(run_child(child_open_owner, TFT_DIR(state), true), 0);
}

/* With `within`, a directory on another mount is refused with EXDEV and not
 * chmodded. Needs CAP_SYS_ADMIN for a private mount namespace. */
static int child_open_owner_other_mount(void *arg)
{
    const char *dir = arg;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
        return 77;
    char *mnt = path_join(dir, "mnt");
    CHECK(mkdir(mnt, 0700) == 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0000") != 0)
        return 77;
    int dfd = tf__open_dir(AT_FDCWD, dir);
    struct tf__node here;
    CHECK(dfd >= 0 && tf__identify(dfd, NULL, &here) == 0);
    CHECK(setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) == 0 && setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) == 0);
    CHECK(tf__open_dir_owner(dfd, "mnt", &here) == -1 && errno == EXDEV);
    CHECK(path_mode(mnt) == 0);
    return 0;
}

static void test_open_dir_owner_stays_on_its_mount(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    int rc = run_child(child_open_owner_other_mount, (void *)dir, false);
    if (rc == 77) {
        fprintf(stderr, "skipped: no private mount namespace here (needs root)\n");
        skip();
    }
    assert_int_equal(rc, 0);
}

/* Without fchmodat2(2) and without /proc, the chmod cannot be done: that is
 * EOPNOTSUPP, never ENOENT, which the cleaners take for "already gone" (a
 * directory would be counted as removed and left on disk). */
static int enosys_fchmodat2(int dirfd, const char *path, mode_t mode, int flags)
{
    (void)dirfd, (void)path, (void)mode, (void)flags;
    errno = ENOSYS;
    return -1;
}

static int child_no_proc(void *arg)
{
    const char *dir = arg;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", "/proc", "tmpfs", 0, "size=1m") != 0)
        return 77;
    tf__sys.fchmodat2 = enosys_fchmodat2;
    CHECK(setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) == 0 && setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) == 0);
    /* The umask, not an exact mode, makes it unreadable: no chmod at creation,
     * and the handle holds no descriptor of it. */
    mode_t old = umask(0477);
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    umask(old);
    CHECK(d != NULL && tf_dir_fileno(d) == -1 && path_mode(tf_dir_name(d)) == 0300);
    CHECK(write_file(tf_dir_name(d), "inside", "x") == 0);
    errno = 0;
    CHECK(tf_cleanup_now() == -1 && errno == EOPNOTSUPP);
    CHECK(path_exists(tf_dir_name(d)) && tf_cleanup_registered() == 1);
    errno = 0;
    CHECK(tf_rmtree(tf_dir_name(d), 0) == -1 && errno == EOPNOTSUPP);
    CHECK(chmod(tf_dir_name(d), 0700) == 0);
    CHECK(tf_dir_release(d) == 0);
    return 0;
}

static void test_chmod_without_proc(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    int rc = run_child(child_no_proc, (void *)dir, false);
    if (rc == 77) {
        fprintf(stderr, "skipped: no private mount namespace here (needs root)\n");
        skip();
    }
    assert_int_equal(rc, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_reader_sees_every_entry_once),
        T(test_reader_reports_errors),
        T(test_identify_does_not_follow),
        T(test_open_dir_owner),
        T(test_open_dir_owner_stays_on_its_mount),
        T(test_chmod_without_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
