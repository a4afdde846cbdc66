/*
 * Lock files (tf_lock_file): dest.lock as lock and temporary, EEXIST at once
 * or after waiting, commit and abort, a dead holder's stale lock taken over,
 * a live holder's kept even after it dropped its own flock, one the taker
 * may not open and a FIFO or socket of its name counted as held, a forked
 * child's release of its copy of a committed handle sparing the next
 * holder's lock, the longest timeout, 4 processes x 500 exact increments,
 * every seam call failed in turn, and the lock file's mode for a new
 * destination.
 */
#include "durable_helpers.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const tf_persist_opts QUICK = { .level = TF_LEVEL_VISIBLE };

static void test_lock_commit_abort(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(write_file(dir, "counter", "0"), 0);
    char *dest = path_join(dir, "counter"), *lock = path_join(dir, "counter.lock");
    size_t reg = tf_cleanup_registered();
    tf_file *f = tf_lock_file(dest, NULL);
    assert_non_null(f);
    assert_string_equal(tf_file_name(f), lock);
    assert_true(path_exists(lock));
    assert_int_equal(tf_cleanup_registered(), reg + 1);
    /* A second writer: EEXIST at once, or after waiting. */
    errno = 0;
    assert_null(tf_lock_file(dest, NULL));
    assert_errno(EEXIST);
    assert_null(tf_lock_file(dest, &(tf_persist_opts){ .timeout_ms = 30 }));
    assert_errno(EEXIST);
    assert_true(path_exists(lock));   /* a live lock is never taken as stale */
    assert_int_equal(tf_file_write(f, "1", 1), 1);
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
    assert_false(path_exists(lock));
    assert_content(dest, "1");
    assert_int_equal(tf_cleanup_registered(), reg);
    tf_file_release(f);
    /* Abort: the lock goes, dest stays. */
    f = tf_lock_file(dest, NULL);
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "2", 1), 1);
    assert_int_equal(tf_file_release(f), 0);
    assert_false(path_exists(lock));
    assert_content(dest, "1");
    /* The exit or signal cleanup removes a held lock. */
    f = tf_lock_file(dest, NULL);
    assert_true(tf_cleanup_now() >= 1);
    assert_false(path_exists(lock));
    tf_file_release(f);
    assert_int_equal(dir_entries(dir), 1);
    /* Options and names. */
    assert_null(tf_lock_file(dest, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER }));
    assert_errno(EINVAL);
    char name[NAME_MAX + 1];
    memset(name, 'n', NAME_MAX - 4);
    name[NAME_MAX - 4] = '\0';
    char *longer = path_join(dir, name);
    assert_null(tf_lock_file_at(AT_FDCWD, longer, NULL));
    assert_errno(ENAMETOOLONG);
    free(longer);
    assert_null(tf_lock_file(dir, NULL));
    assert_errno(EISDIR);
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
    free(lock);
}

/* Child: takes the lock and dies by SIGKILL (no cleanup). */
static int die_holding(void *arg)
{
    tf_file *f = tf_lock_file(arg, NULL);
    CHECK(f != NULL);
    CHECK(tf_file_write(f, "half", 4) == 4);
    raise(SIGKILL);
    return 1;
}

static void test_stale_lock(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "d"), *lock = path_join(dir, "d.lock");
    assert_int_equal(run_child(die_holding, dest, false), 128 + SIGKILL);
    assert_true(path_exists(lock));   /* left behind */
    tf_file *f = tf_lock_file(dest, NULL);
    assert_non_null(f);   /* stale: taken over */
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), 0);   /* a new, empty lock file */
    assert_int_equal(tf_file_write(f, "ok", 2), 2);
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
    tf_file_release(f);
    assert_content(dest, "ok");
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
    free(lock);
}

/* Child: holds the lock, drops the flock on its descriptor as the seed's
 * locking advice does, tells the parent, waits to be told to go. */
struct holder {
    const char *dest;
    int ready[2], go[2];
};

static int hold_unlocked(void *arg)
{
    struct holder *h = arg;
    alarm(30);   /* a failing parent never says go */
    tf_file *f = tf_lock_file(h->dest, NULL);
    CHECK(f != NULL);
    int fd = tf_file_fileno(f);
    CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
    CHECK(flock(fd, LOCK_UN) == 0);
    char c = 'r';
    CHECK(write(h->ready[1], &c, 1) == 1);
    CHECK(read(h->go[0], &c, 1) == 1);
    CHECK(tf_file_write(f, "held", 4) == 4);
    CHECK(tf_file_commit(f, NULL) == TF_LEVEL_DURABLE);
    tf_file_release(f);
    return 0;
}

static void test_live_lock_survives_own_unlock(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "d");
    struct holder h = { .dest = dest };
    assert_int_equal(pipe(h.ready), 0);
    assert_int_equal(pipe(h.go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(hold_unlocked(&h));
    char c;
    assert_int_equal(read(h.ready[0], &c, 1), 1);
    /* Its flock is gone, it is alive: not stale. */
    errno = 0;
    assert_null(tf_lock_file(dest, NULL));
    assert_errno(EEXIST);
    assert_int_equal(write(h.go[1], "g", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_content(dest, "held");
    for (int i = 0; i < 2; i++) {
        close(h.ready[i]);
        close(h.go[i]);
    }
    free(dest);
}

/* ---- a lock the taker may not open ----------------------------------- */

/* Child: the second try at a lock it cannot open (another user's, or its
 * own under umask 0777) finds it held, at once or after waiting. */
static int finds_held(void *arg)
{
    const char *dest = arg;
    for (long timeout = 0; timeout <= 20; timeout += 20) {
        errno = 0;
        CHECK(tf_lock_file(dest, &(tf_persist_opts){ .timeout_ms = timeout }) == NULL);
        CHECK(errno == EEXIST);
    }
    return 0;
}

static int holds_unreadable(void *arg)
{
    umask(0777);   /* the lock file is made at mode 0 */
    tf_file *f = tf_lock_file(arg, NULL);
    CHECK(f != NULL);
    int rc = finds_held(arg);
    tf_file_release(f);
    return rc;
}

static void test_unreadable_lock_is_held(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "d"), *lock = path_join(dir, "d.lock");
    give_to_nobody(dir);
    assert_int_equal(run_child(holds_unreadable, dest, true), 0);
    assert_int_equal(dir_entries(dir), 0);
    if (running_as_root()) {   /* root's 0600 lock, tried by nobody */
        tf_file *f = tf_lock_file(dest, NULL);
        assert_non_null(f);
        assert_int_equal(run_child(finds_held, dest, true), 0);
        assert_true(path_exists(lock));
        assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
        tf_file_release(f);
        assert_int_equal(dir_entries(dir), 1);
    }
    free(dest), free(lock);
}

/* Only a regular file can be a lock left behind: a FIFO, a socket or a
 * symbolic link (dangling or not) of the lock's name (or a device) is
 * somebody else's, neither removed nor taken nor followed. */
static void test_special_file_not_stale(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "d"), *lock = path_join(dir, "d.lock");
    char *target = path_join(dir, "target");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(lock) < sizeof sa.sun_path);
    strcpy(sa.sun_path, lock);
    enum { FIFO, SOCK, DANGLING, LINK, KINDS };
    const mode_t type[KINDS] = { S_IFIFO, S_IFSOCK, S_IFLNK, S_IFLNK };
    for (int kind = 0; kind < KINDS; kind++) {
        int s = kind == SOCK ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
        if (kind == SOCK)
            assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
        else if (kind == FIFO)
            assert_int_equal(mkfifo(lock, 0600), 0);
        else
            assert_int_equal(symlink(target, lock), 0);
        if (kind == LINK)
            assert_int_equal(write_file(dir, "target", "t"), 0);
        errno = 0;
        assert_null(tf_lock_file(dest, NULL));
        assert_errno(EEXIST);
        struct stat st;
        assert_int_equal(lstat(lock, &st), 0);
        assert_int_equal(st.st_mode & S_IFMT, type[kind]);
        assert_int_equal(dir_entries(dir), kind == LINK ? 2 : 1);
        if (kind == LINK)
            assert_content(target, "t");
        assert_int_equal(unlink(lock), 0);
        unlink(target);
        if (s >= 0)
            close(s);
    }
    free(dest), free(lock), free(target);
}

/* ---- a lock handle inherited across fork ------------------------------- */

/* Child: releases the lock handle it inherited once told to. */
static int release_inherited(tf_file *f, struct holder *h)
{
    alarm(30);
    char c;
    CHECK(read(h->go[0], &c, 1) == 1);
    CHECK(tf_file_release(f) == 0);
    return 0;
}

/* The parent commits, another takes the lock, then the child releases its
 * copy of the handle: the other's lock file (the same name) stays. */
static void test_inherited_handle_spares_next_lock(void **state)
{
    char *dest = path_join(TFT_DIR(state), "d"), *lock = path_join(TFT_DIR(state), "d.lock");
    struct holder h = { .dest = dest };
    assert_int_equal(pipe(h.go), 0);
    tf_file *f = tf_lock_file(dest, NULL);
    assert_non_null(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(release_inherited(f, &h));
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
    tf_file_release(f);
    tf_file *next = tf_lock_file(dest, NULL);
    assert_non_null(next);
    assert_int_equal(write(h.go[1], "g", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(h.go[0]), close(h.go[1]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(path_exists(lock));
    errno = 0;
    assert_null(tf_lock_file(dest, NULL));   /* still held: no second holder */
    assert_errno(EEXIST);
    assert_int_equal(tf_file_release(next), 0);
    assert_false(path_exists(lock));
    free(dest), free(lock);
}

/* ---- the longest timeout ------------------------------------------------ */

/* Child: holds the lock until another taker has looked at it once (its
 * probe opens and closes the lock file), then aborts. */
static int hold_until_probed(void *arg)
{
    struct holder *h = arg;
    alarm(30);   /* a parent that never probes */
    tf_file *f = tf_lock_file(h->dest, NULL);
    CHECK(f != NULL);
    int in = inotify_init1(IN_CLOEXEC);
    CHECK(in >= 0 && inotify_add_watch(in, tf_file_name(f), IN_CLOSE_NOWRITE) >= 0);
    char c = 'r', ev[sizeof(struct inotify_event) + NAME_MAX + 1];
    CHECK(write(h->ready[1], &c, 1) == 1);
    CHECK(read(in, ev, sizeof ev) > 0);
    close(in);
    return tf_file_release(f) == 0 ? 0 : 1;
}

/* timeout_ms LONG_MAX waits (its deadline must not overflow into the past). */
static void test_longest_timeout_waits(void **state)
{
    char *dest = path_join(TFT_DIR(state), "d");
    struct holder h = { .dest = dest };
    assert_int_equal(pipe(h.ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(hold_until_probed(&h));
    char c;
    assert_int_equal(read(h.ready[0], &c, 1), 1);
    tf_file *f = tf_lock_file(dest, &(tf_persist_opts){ .timeout_ms = LONG_MAX });
    int err = errno, status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(h.ready[0]), close(h.ready[1]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!f)
        fail_msg("tf_lock_file: %s", errname(err));
    tf_file_release(f);
    free(dest);
}

/* ---- 4 processes x 500 increments ------------------------------------- */

#define WRITERS 4
#define ROUNDS 500

static int incrementer(void *arg)
{
    const char *dest = arg;
    tf_persist_opts o = QUICK;
    o.timeout_ms = -1;
    for (int i = 0; i < ROUNDS; i++) {
        tf_file *f = tf_lock_file(dest, &o);
        CHECK(f != NULL);
        char *s = read_file_str(dest);
        CHECK(s != NULL);
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld", strtol(s, NULL, 10) + 1);
        free(s);
        CHECK(tf_file_write(f, buf, (size_t)n) == n);
        CHECK(tf_file_commit(f, NULL) == TF_LEVEL_VISIBLE);
        tf_file_release(f);
    }
    return 0;
}

static void test_exact_count(void **state)
{
    (void)state;
    char *dir = shm_scratch();
    assert_non_null(dir);
    assert_int_equal(write_file(dir, "n", "0"), 0);
    char *dest = path_join(dir, "n");
    pid_t pids[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(incrementer(dest));
    }
    for (int i = 0; i < WRITERS; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    char want[16];
    snprintf(want, sizeof want, "%d", WRITERS * ROUNDS);
    assert_content(dest, want);
    assert_int_equal(dir_entries(dir), 1);
    remove_tree(dir);
    free(dir);
    free(dest);
}

/* ---- every seam call failed in turn ------------------------------------ */

struct fail_ctx {
    char *dir, *dest, *lock;
    int fds;
};

static int run_lock(void *arg)
{
    struct fail_ctx *c = arg;
    tf_file *f = tf_lock_file(c->dest, NULL);
    if (!f)
        return -1;
    int rc = tf_file_write(f, "new", 3) == 3 ? tf_file_commit(f, NULL) : -1;
    int err = errno;
    tf_file_release(f);
    errno = err;
    return rc;
}

static void check_lock(bool ok, void *arg)
{
    struct fail_ctx *c = arg;
    char *got = content_of(c->dest);
    if (ok)
        assert_string_equal(got, "new");
    else
        assert_true(strcmp(got, "old") == 0 || strcmp(got, "new") == 0);
    free(got);
    assert_false(path_exists(c->lock));
    assert_int_equal(dir_entries(c->dir), 1);
    assert_int_equal(fd_count(), c->fds);
    assert_int_equal(write_file(c->dir, "d", "old"), 0);
}

static void test_fail_each(void **state)
{
    (void)state;
    struct fail_ctx c = { .dir = shm_scratch() };
    assert_non_null(c.dir);
    c.dest = path_join(c.dir, "d");
    c.lock = path_join(c.dir, "d.lock");
    assert_int_equal(write_file(c.dir, "d", "old"), 0);
    c.fds = fd_count();
    struct durable_case dc = { run_lock, check_lock, &c };
    unsigned long failed = durable_fail_each(&dc);
    print_message("lock + commit: %lu injected runs failed\n", failed);
    assert_true(failed > 0);
    remove_tree(c.dir);
    free(c.dir); free(c.dest); free(c.lock);
}

static int no_tmpfile_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

/* Where O_TMPFILE is refused the lock is created by name, and it is just as
 * exclusive, live and committed. */
static void test_lock_without_o_tmpfile(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(write_file(dir, "conf", "old"), 0);
    char *dest = path_join(dir, "conf"), *lock = path_join(dir, "conf.lock");
    fault_next.openat = no_tmpfile_openat;
    fault_count_start();   /* the wrappers in, calling fault_next */
    tf_file *f = tf_lock_file(dest, &QUICK);
    assert_non_null(f);
    assert_int_equal(fault_calls("linkat"), 0);   /* made by name, not linked */
    assert_true(path_exists(lock));
    assert_string_equal(tf_file_name(f), lock);
    errno = 0;
    assert_null(tf_lock_file(dest, &QUICK));
    assert_errno(EEXIST);
    assert_int_equal(tf_file_write(f, "new", 3), 3);
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_VISIBLE);
    fault_reset();
    assert_false(path_exists(lock));
    assert_content(dest, "new");
    tf_file_release(f);
    assert_int_equal(dir_entries(dir), 1);
    /* A new destination's lock by name: a new file's mode, as O_TMPFILE's. */
    assert_int_equal(unlink(dest), 0);
    fault_next.openat = no_tmpfile_openat;
    fault_count_start();
    f = tf_lock_file(dest, &QUICK);
    assert_non_null(f);
    assert_int_equal(fault_calls("linkat"), 0);
    assert_int_equal(path_mode(lock), 0644);   /* umask 022 */
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_VISIBLE);
    assert_int_equal(fault_calls("fchmod"), 0);
    fault_reset();
    tf_file_release(f);
    assert_int_equal(path_mode(dest), 0644);
    free(dest), free(lock);
}

/* A lock file for a new destination: created as open(2) with 0666 would
 * create it (git's lock files are), committed with no umask read nor
 * fchmod; for an existing one, or a mode given, 0600 until the commit. */
static void test_new_destination_mode(void **state)
{
    tft_check_new_destination(TFT_DIR(state), tf_lock_file);
}

/* A kernel before 6.0 on a filesystem without ACLs: O_TMPFILE ignores the umask. */
static int openat_no_umask(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd = tf__sys_default.openat(dirfd, path, flags, mode);
    if (fd >= 0 && (flags & O_TMPFILE) == O_TMPFILE)
        fchmod(fd, mode & 07777);
    return fd;
}

/* There a new destination's lock file, asked at 0666, is not left writable
 * by all until the commit: narrowed to 0600 at once, a new file's mode at
 * the commit. */
static void test_new_destination_old_kernel(void **state)
{
    char *dest = path_join(TFT_DIR(state), "fresh");
    umask(022);
    fault_count_start();
    fault_next.openat = openat_no_umask;
    tf_file *f = tf_lock_file(dest, NULL);
    assert_non_null(f);
    struct stat st;
    assert_int_equal(fstat(tf_file_fileno(f), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(tf_file_write(f, "x", 1), 1);
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
    fault_reset();
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(path_mode(dest), 0644);
    free(dest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_commit_abort, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_stale_lock, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_live_lock_survives_own_unlock, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_exact_count, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_fail_each, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_lock_without_o_tmpfile, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_lock_is_held, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_special_file_not_stale, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_inherited_handle_spares_next_lock, tft_setup,
                                        tft_teardown),
        cmocka_unit_test_setup_teardown(test_longest_timeout_waits, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_new_destination_mode, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_new_destination_old_kernel, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
