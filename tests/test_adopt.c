/*
 * Adoption (tf_file_adopt): a handle around a descriptor the program holds.
 * Bad descriptors, flags and names refused with the caller's descriptor left
 * open; a named adopted file registered and removed as the library's own,
 * or kept; persist, shred and hand-over on adopted handles; every seam call
 * failed in turn leaves nothing behind.
 */
#include "durable_helpers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* A file made by tf_mkstemp() in dir: its descriptor, *path its name. */
static int made(const char *dir, char **path)
{
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "data", 4), 4);
    return fd;
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static void test_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    char *path;
    int fd = made(dir, &path);
    errno = 0;
    assert_null(tf_file_adopt(-1, NULL, 0));
    assert_errno(EBADF);
    assert_null(tf_file_adopt(fd, NULL, TF_IGNORE_CLEANUP_ERRORS));
    assert_errno(EINVAL);
    assert_null(tf_file_adopt(fd, base_name(path), 0));   /* relative */
    assert_errno(EINVAL);
    char *other = path_join(dir, "other");
    assert_int_equal(write_file(dir, "other", "x"), 0);
    assert_null(tf_file_adopt(fd, other, 0));
    assert_errno(ESTALE);
    char *link = path_join(dir, "link");
    assert_int_equal(symlink(path, link), 0);
    assert_null(tf_file_adopt(fd, link, 0));   /* a final link is not followed */
    assert_errno(ESTALE);
    char *missing = path_join(dir, "missing");
    assert_null(tf_file_adopt(fd, missing, 0));
    assert_errno(ENOENT);
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    assert_null(tf_file_adopt(ro, path, 0));
    assert_errno(EINVAL);
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_null(tf_file_adopt(d, NULL, 0));
    assert_errno(EINVAL);
    /* The caller's descriptors are still the caller's. */
    assert_true(fd_open(fd) && fd_open(ro) && fd_open(d));
    close(ro);
    close(d);
    close(fd);
    unlink(path);
    free(path);
    free(other);
    free(link);
    free(missing);
}

/* Adopted without TF_KEEP: registered, live, removed by release and by
 * tf_cleanup_now(), as a tf_named_temporary_file(). */
static void test_named_owned(void **state)
{
    const char *dir = TFT_DIR(state);
    char *path;
    int fd = made(dir, &path);
    size_t reg = tf_cleanup_registered();
    tf_file *f = tf_file_adopt(fd, path, 0);
    assert_non_null(f);
    assert_int_equal(tf_cleanup_registered(), reg + 1);
    assert_string_equal(tf_file_name(f), path);
    assert_int_equal(tf_file_fileno(f), fd);
    tf_usage_report u;
    assert_int_equal(tf_disk_usage(dir, NULL, &u), 0);
    assert_int_equal(u.live, 1);
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    char buf[8] = { 0 };
    assert_int_equal(tf_file_read(f, buf, sizeof buf), 4);
    assert_string_equal(buf, "data");
    assert_int_equal(tf_file_release(f), 0);
    assert_false(path_exists(path));
    assert_false(fd_open(fd));
    assert_int_equal(tf_cleanup_registered(), reg);
    free(path);

    fd = made(dir, &path);
    f = tf_file_adopt(fd, path, TF_NO_DELETE_ON_CLOSE);
    assert_int_equal(tf_file_close(f), 0);
    assert_true(path_exists(path));   /* close keeps it, release removes */
    assert_true(tf_cleanup_now() >= 1);
    assert_false(path_exists(path));
    assert_int_equal(tf_file_release(f), 0);
    free(path);
}

/* TF_KEEP: never removed, never registered; persisted and shredded. */
static void test_named_kept(void **state)
{
    const char *dir = TFT_DIR(state);
    char *path, *dest = path_join(dir, "dest");
    int fd = made(dir, &path);
    size_t reg = tf_cleanup_registered();
    tf_file *f = tf_file_adopt(fd, path, TF_KEEP);
    assert_non_null(f);
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER },
                                     NULL), TF_LEVEL_DURABLE);
    assert_content(dest, "data");
    assert_false(path_exists(path));
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "data");

    fd = open(dest, O_RDWR | O_CLOEXEC);
    f = tf_file_adopt(fd, dest, TF_KEEP);
    tf_shred_report r;
    assert_int_equal(tf_file_shred(f, &(tf_shred_opts){ .flags = TF_SHRED_ZERO | TF_SHRED_FORCE },
                                   &r), 0);
    assert_int_equal(r.passes, 4);
    assert_int_equal(tf_file_release(f), 0);
    char *got = content_of(dest);
    assert_memory_equal(got, "\0\0\0\0", 4);
    free(got);
    free(path);
    free(dest);
}

/* An unnamed file: adopted, handed over, received whole. */
static void test_unnamed_handover(void **state)
{
    tf_file *t = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    int fd = tf_file_detach(t);
    tf_file_release(t);
    assert_int_equal(write(fd, "moved", 5), 5);
    tf_file *f = tf_file_adopt(fd, NULL, 0);
    assert_non_null(f);
    assert_null(tf_file_name(f));
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    pid_t pid = fork();
    if (pid == 0) {
        tf_file *g = tf_file_recv(sv[1], 0);
        char buf[8] = { 0 };
        _exit(!g || tf_file_seek(g, 0, SEEK_SET) != 0 || tf_file_read(g, buf, 8) != 5 ||
              strcmp(buf, "moved") != 0);
    }
    assert_int_equal(tf_file_send(sv[0], f, 0), 0);   /* f is spent */
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(sv[0]);
    close(sv[1]);
}

struct fail_ctx {
    const char *dir;
    char *path;
    int fd;
    tf_file *f;
    size_t reg;
};

static int adopt_run(void *p)
{
    struct fail_ctx *c = p;
    /* Made by libc, outside the seam that is failing. */
    c->path = path_join(c->dir, "adopted");
    c->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(c->fd >= 0);
    c->reg = tf_cleanup_registered();
    c->f = tf_file_adopt(c->fd, c->path, 0);
    return c->f ? 0 : -1;
}

static void adopt_check(bool ok, void *p)
{
    struct fail_ctx *c = p;
    fault_reset();
    if (ok) {
        assert_int_equal(tf_cleanup_registered(), c->reg + 1);
        assert_int_equal(tf_file_release(c->f), 0);
    } else {
        /* Nothing registered, the descriptor and the file still the caller's. */
        assert_int_equal(tf_cleanup_registered(), c->reg);
        assert_true(fd_open(c->fd) && path_exists(c->path));
        close(c->fd);
        unlink(c->path);
    }
    assert_false(path_exists(c->path));
    free(c->path);
}

static void test_fail_each(void **state)
{
    struct fail_ctx c = { .dir = TFT_DIR(state) };
    struct durable_case dc = { adopt_run, adopt_check, &c };
    assert_true(durable_fail_each(&dc) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refused, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_named_owned, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_named_kept, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_unnamed_handover, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_fail_each, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
