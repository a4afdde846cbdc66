/*
 * Temporary file handles: tf_temporary_file (no name, O_TMPFILE or the
 * create-then-unlink fallback), tf_named_temporary_file and CPython's
 * delete / delete_on_close table, every I/O call, and the FILE * view.
 */
#include "tftest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static bool o_tmpfile_works(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* ---- tf_temporary_file ---------------------------------------------------- */

static void test_unnamed_has_no_name(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    char *before = dir_listing(dir);
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    int fd = tf_file_fileno(f);
    assert_true(fd >= 0);
    assert_true(cloexec(fd));
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_nlink, 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    /* On the filesystem of dir. */
    struct stat dst;
    assert_int_equal(stat(dir, &dst), 0);
    assert_int_equal(st.st_dev, dst.st_dev);
    errno = 0;
    assert_null(tf_file_name(f));
    assert_errno(ENOENT);
    assert_int_equal(tf_file_rolled(f), 1);
    char *during = dir_listing(dir);
    assert_listing_equal(strdup(before), during);
    assert_int_equal(tf_file_write(f, "data", 4), 4);
    assert_int_equal(tf_file_release(f), 0);
    assert_listing_equal(before, dir_listing(dir));
    assert_no_fd_leak(fds);
}

static void test_unnamed_mode(void **state)
{
    const char *dir = TFT_DIR(state);
    const mode_t umasks[] = { 0, 022, 077 };
    for (size_t u = 0; u < 3; u++) {
        umask(umasks[u]);
        tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir, .mode = 0640 });
        assert_non_null(f);
        struct stat st;
        assert_int_equal(fstat(tf_file_fileno(f), &st), 0);
        tf_file_release(f);
        if ((st.st_mode & 07777) != 0640)
            fail_msg("umask %03o: mode %03o, expected 0640", umasks[u], st.st_mode & 07777);
    }
}

/* Records the opens the library makes. */
static int tmpfile_opens, excl_opens, tmpfile_err;

static int openat_watch(int dirfd, const char *path, int flags, mode_t mode)
{
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        tmpfile_opens++;
        if (tmpfile_err) {
            errno = tmpfile_err;
            return -1;
        }
    } else if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        excl_opens++;
    }
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

static void test_unnamed_uses_o_tmpfile(void **state)
{
    const char *dir = TFT_DIR(state);
    if (!o_tmpfile_works(dir))
        skip();
    tmpfile_opens = excl_opens = tmpfile_err = 0;
    tf__sys.openat = openat_watch;
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir });
    fault_reset();
    assert_non_null(f);
    /* O_TMPFILE, and never a name. */
    assert_int_equal(tmpfile_opens, 1);
    assert_int_equal(excl_opens, 0);
    tf_file_release(f);
}

static void fallback_case(const char *dir, int err)
{
    int fds = fd_count();
    char *before = dir_listing(dir);
    tmpfile_opens = excl_opens = 0;
    tmpfile_err = err;
    tf__sys.openat = openat_watch;
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir, .prefix = "fb", .suffix = ".x" });
    fault_reset();
    tmpfile_err = 0;
    assert_non_null(f);
    assert_true(tmpfile_opens >= 1);
    assert_int_equal(excl_opens, 1);     /* the fallback created a name ... */
    int fd = tf_file_fileno(f);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_nlink, 0);    /* ... and unlinked it */
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_true(cloexec(fd));
    errno = 0;
    assert_null(tf_file_name(f));
    assert_errno(ENOENT);
    assert_listing_equal(strdup(before), dir_listing(dir));
    assert_int_equal(tf_file_write(f, "fallback", 8), 8);
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    char buf[9] = {0};
    assert_int_equal(tf_file_read(f, buf, 8), 8);
    assert_string_equal(buf, "fallback");
    assert_int_equal(tf_file_release(f), 0);
    assert_listing_equal(before, dir_listing(dir));
    assert_no_fd_leak(fds);
}

static void test_unnamed_fallback_eopnotsupp(void **state)
{
    fallback_case(TFT_DIR(state), EOPNOTSUPP);
}

static void test_unnamed_fallback_eisdir(void **state)
{
    /* Kernels before O_TMPFILE see O_DIRECTORY|O_RDWR and answer EISDIR. */
    fallback_case(TFT_DIR(state), EISDIR);
}

/* ---- tf_named_temporary_file and CPython's table ---------------------------- */

static tf_file *named(const char *dir, unsigned flags)
{
    tf_file *f = tf_named_temporary_file(
        &(tf_opts){ .dir = dir, .prefix = "nt_", .suffix = ".dat", .flags = flags });
    assert_non_null(f);
    return f;
}

static void test_named_basic(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = named(dir, 0);
    const char *name = tf_file_name(f);
    assert_non_null(name);
    size_t dl = strlen(dir);
    assert_memory_equal(name, dir, dl);
    assert_int_equal(name[dl], '/');
    const char *b = name + dl + 1;
    assert_int_equal(strlen(b), 3 + TF_RANDOM_CHARS + 4);
    assert_memory_equal(b, "nt_", 3);
    assert_true(is_random_part(b + 3, TF_RANDOM_CHARS));
    assert_string_equal(b + 3 + TF_RANDOM_CHARS, ".dat");
    int fd = tf_file_fileno(f);
    assert_true(cloexec(fd));
    struct stat a, s;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(lstat(name, &s), 0);
    assert_int_equal(a.st_ino, s.st_ino);
    assert_int_equal(a.st_nlink, 1);
    assert_int_equal(s.st_mode & 07777, 0600);
    assert_int_equal(tf_file_closed(f), 0);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(tf_file_release(f), 0);
}

struct table_row {
    unsigned flags;
    bool exists_after_close;
    bool exists_after_release;
};

/* CPython 3.13's NamedTemporaryFile(delete=, delete_on_close=). */
static const struct table_row TABLE[] = {
    { 0, false, false },                                  /* delete, delete_on_close */
    { TF_NO_DELETE_ON_CLOSE, true, false },               /* delete, not delete_on_close */
    { TF_KEEP, true, true },                              /* delete=False */
    { TF_KEEP | TF_NO_DELETE_ON_CLOSE, true, true },      /* delete=False */
};

static void test_delete_table_close_then_release(void **state)
{
    const char *dir = TFT_DIR(state);
    for (size_t i = 0; i < sizeof TABLE / sizeof *TABLE; i++) {
        int fds = fd_count();
        tf_file *f = named(dir, TABLE[i].flags);
        char *name = strdup(tf_file_name(f));
        int fd = tf_file_fileno(f);
        assert_int_equal(tf_file_write(f, "x", 1), 1);
        assert_int_equal(tf_file_close(f), 0);
        assert_int_equal(tf_file_closed(f), 1);
        (void)fd;
        assert_no_fd_leak(fds);
        if (path_exists(name) != TABLE[i].exists_after_close)
            fail_msg("flags %#x: after close the file %s", TABLE[i].flags,
                     TABLE[i].exists_after_close ? "is gone" : "still exists");
        /* The name is still answered after close. */
        assert_string_equal(tf_file_name(f), name);
        /* Closing twice is a no-op. */
        assert_int_equal(tf_file_close(f), 0);
        assert_int_equal(tf_file_release(f), 0);
        if (path_exists(name) != TABLE[i].exists_after_release)
            fail_msg("flags %#x: after release the file %s", TABLE[i].flags,
                     TABLE[i].exists_after_release ? "is gone" : "still exists");
        if (path_exists(name)) {
            char *content = read_file_str(name);
            assert_string_equal(content, "x");
            free(content);
            unlink(name);
        }
        free(name);
        assert_no_fd_leak(fds);
    }
}

static void test_delete_table_release_only(void **state)
{
    const char *dir = TFT_DIR(state);
    for (size_t i = 0; i < sizeof TABLE / sizeof *TABLE; i++) {
        int fds = fd_count();
        tf_file *f = named(dir, TABLE[i].flags);
        char *name = strdup(tf_file_name(f));
        assert_int_equal(tf_file_release(f), 0);
        if (path_exists(name) != TABLE[i].exists_after_release)
            fail_msg("flags %#x: after release the file %s", TABLE[i].flags,
                     TABLE[i].exists_after_release ? "is gone" : "still exists");
        unlink(name);
        free(name);
        assert_no_fd_leak(fds);
    }
}

static void test_keep_call(void **state)
{
    const char *dir = TFT_DIR(state);
    /* tf_file_keep before close: neither close nor release removes it. */
    tf_file *f = named(dir, 0);
    char *name = strdup(tf_file_name(f));
    assert_int_equal(tf_file_keep(f), 0);
    assert_int_equal(tf_file_close(f), 0);
    assert_true(path_exists(name));
    assert_int_equal(tf_file_release(f), 0);
    assert_true(path_exists(name));
    assert_int_equal(unlink(name), 0);
    free(name);

    /* After a close that left the name (delete_on_close=False): release keeps it. */
    f = named(dir, TF_NO_DELETE_ON_CLOSE);
    name = strdup(tf_file_name(f));
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(tf_file_keep(f), 0);
    assert_int_equal(tf_file_release(f), 0);
    assert_true(path_exists(name));
    assert_int_equal(unlink(name), 0);
    free(name);

    errno = 0;
    assert_int_equal(tf_file_keep(NULL), -1);
    assert_errno(EINVAL);
}

/* CPython ignores FileNotFoundError when it removes the name. */
static void test_name_already_gone(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = named(dir, 0);
    assert_int_equal(unlink(tf_file_name(f)), 0);
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(tf_file_release(f), 0);

    f = named(dir, TF_NO_DELETE_ON_CLOSE);
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(unlink(tf_file_name(f)), 0);
    assert_int_equal(tf_file_release(f), 0);

    f = named(dir, 0);
    assert_int_equal(unlink(tf_file_name(f)), 0);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(dir_entries(dir), 0);
}

/* ---- I/O, on every kind of file --------------------------------------------- */

static tf_file *make_kind(const char *dir, int kind)
{
    tf_file *f = kind == 0 ? tf_temporary_file(&(tf_opts){ .dir = dir })
                           : tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    return f;
}

static off_t size_of(tf_file *f)
{
    struct stat st;
    assert_int_equal(fstat(tf_file_fileno(f), &st), 0);
    return st.st_size;
}

/* Found by fuzz/fuzz_spool: a rolled-over file took SEEK_DATA (lseek's),
 * memory refused it. Only the three of the header, on every backend. */
static void test_seek_whence_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *files[] = { make_kind(dir, 0), make_kind(dir, 1),
                         tf_spooled_temporary_file(&(tf_opts){ .dir = dir }),
                         tf_spooled_temporary_file(&(tf_opts){ .dir = dir }) };
    assert_int_equal(tf_file_rollover(files[3]), 0);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(tf_file_write(files[i], "data", 4), 4);
        const int bad[] = { SEEK_DATA, SEEK_HOLE, -1, 99 };
        for (size_t w = 0; w < 4; w++) {
            errno = 0;
            assert_int_equal(tf_file_seek(files[i], 0, bad[w]), -1);
            assert_errno(EINVAL);
        }
        assert_int_equal(tf_file_tell(files[i]), 4);
        assert_int_equal(tf_file_release(files[i]), 0);
    }
}

static void test_read_write_seek_tell(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int kind = 0; kind < 2; kind++) {
        tf_file *f = make_kind(dir, kind);
        char buf[256];
        assert_int_equal(tf_file_tell(f), 0);
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 0);   /* empty */
        assert_int_equal(tf_file_write(f, "hello world", 11), 11);
        assert_int_equal(tf_file_tell(f), 11);
        assert_int_equal(tf_file_write(f, "", 0), 0);
        assert_int_equal(tf_file_tell(f), 11);

        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        assert_int_equal(tf_file_read(f, buf, 5), 5);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(tf_file_tell(f), 5);
        assert_int_equal(tf_file_seek(f, 1, SEEK_CUR), 6);
        memset(buf, 0, sizeof buf);
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 5);
        assert_string_equal(buf, "world");
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 0);   /* at the end */
        assert_int_equal(tf_file_seek(f, -5, SEEK_END), 6);
        assert_int_equal(tf_file_seek(f, -2, SEEK_CUR), 4);
        assert_int_equal(tf_file_read(f, buf, 3), 3);
        assert_memory_equal(buf, "o w", 3);
        assert_int_equal(tf_file_seek(f, 0, SEEK_END), 11);

        /* Overwrite in the middle. */
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        assert_int_equal(tf_file_write(f, "J", 1), 1);
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        memset(buf, 0, sizeof buf);
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 11);
        assert_string_equal(buf, "Jello world");

        /* Past the end, then write: a gap of zeros. */
        assert_int_equal(tf_file_seek(f, 100, SEEK_SET), 100);
        assert_int_equal(size_of(f), 11);
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 0);
        assert_int_equal(tf_file_write(f, "Z", 1), 1);
        assert_int_equal(size_of(f), 101);
        assert_int_equal(tf_file_seek(f, 11, SEEK_SET), 11);
        memset(buf, 0x55, sizeof buf);
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 90);
        for (int i = 0; i < 89; i++)
            if (buf[i] != 0)
                fail_msg("byte %d of the gap is %#x, not 0", 11 + i, buf[i]);
        assert_int_equal(buf[89], 'Z');
        assert_int_equal(tf_file_seek(f, 10, SEEK_END), 111);
        assert_int_equal(tf_file_tell(f), 111);

        /* Bad seeks: EINVAL, position unchanged. */
        errno = 0;
        assert_int_equal(tf_file_seek(f, 0, 42), -1);
        assert_errno(EINVAL);
        errno = 0;
        assert_int_equal(tf_file_seek(f, -1, SEEK_SET), -1);
        assert_errno(EINVAL);
        errno = 0;
        assert_int_equal(tf_file_seek(f, -1000, SEEK_CUR), -1);
        assert_errno(EINVAL);
        errno = 0;
        assert_int_equal(tf_file_seek(f, -1000, SEEK_END), -1);
        assert_errno(EINVAL);
        assert_int_equal(tf_file_tell(f), 111);

        assert_int_equal(tf_file_release(f), 0);
    }
}

static void test_large_write(void **state)
{
    const char *dir = TFT_DIR(state);
    enum { N = 3 * 1024 * 1024 + 17 };
    unsigned char *in = malloc(N), *out = malloc(N);
    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < N; i++)
        in[i] = (unsigned char)(i * 131 + (i >> 9));
    for (int kind = 0; kind < 2; kind++) {
        tf_file *f = make_kind(dir, kind);
        assert_int_equal(tf_file_write(f, in, N), N);
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        size_t got = 0;
        ssize_t r;
        while ((r = tf_file_read(f, out + got, N - got)) > 0)
            got += (size_t)r;
        assert_int_equal(r, 0);
        assert_int_equal(got, N);
        assert_memory_equal(in, out, N);
        tf_file_release(f);
    }
    free(in);
    free(out);
}

static void test_truncate(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int kind = 0; kind < 2; kind++) {
        tf_file *f = make_kind(dir, kind);
        assert_int_equal(tf_file_write(f, "0123456789", 10), 10);
        /* Shrink: the size changes, the position does not (Python). */
        assert_int_equal(tf_file_truncate(f, 4), 0);
        assert_int_equal(size_of(f), 4);
        assert_int_equal(tf_file_tell(f), 10);
        char buf[64];
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 0);
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        memset(buf, 0, sizeof buf);
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 4);
        assert_string_equal(buf, "0123");
        /* Grow: zeros. */
        assert_int_equal(tf_file_truncate(f, 20), 0);
        assert_int_equal(size_of(f), 20);
        assert_int_equal(tf_file_tell(f), 4);
        memset(buf, 0x55, sizeof buf);
        assert_int_equal(tf_file_read(f, buf, sizeof buf), 16);
        for (int i = 0; i < 16; i++)
            assert_int_equal(buf[i], 0);
        /* To zero. */
        assert_int_equal(tf_file_truncate(f, 0), 0);
        assert_int_equal(size_of(f), 0);
        errno = 0;
        assert_int_equal(tf_file_truncate(f, -1), -1);
        assert_errno(EINVAL);
        assert_int_equal(size_of(f), 0);
        tf_file_release(f);
    }
}

static void test_fileno_is_the_file(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = make_kind(dir, 1);
    int fd = tf_file_fileno(f);
    assert_int_equal(tf_file_fileno(f), fd);   /* stable */
    assert_int_equal(tf_file_write(f, "abc", 3), 3);
    /* Same open file description: the position is shared. */
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 3);
    char *content = read_file_str(tf_file_name(f));
    assert_string_equal(content, "abc");
    free(content);
    tf_file_release(f);
}

static void test_null_handle(void **state)
{
    (void)state;
    char buf[4];
#define EXPECT_EINVAL(call)                                                  \
    do {                                                                     \
        errno = 0;                                                           \
        if ((call) != -1 || errno != EINVAL)                                 \
            fail_msg("%s: expected -1/EINVAL, errno %s", #call, errname(errno)); \
    } while (0)
    EXPECT_EINVAL(tf_file_read(NULL, buf, 4));
    EXPECT_EINVAL(tf_file_write(NULL, buf, 4));
    EXPECT_EINVAL(tf_file_seek(NULL, 0, SEEK_SET));
    EXPECT_EINVAL(tf_file_tell(NULL));
    EXPECT_EINVAL(tf_file_truncate(NULL, 0));
    EXPECT_EINVAL(tf_file_fileno(NULL));
    EXPECT_EINVAL(tf_file_close(NULL));
    EXPECT_EINVAL(tf_file_closed(NULL));
    EXPECT_EINVAL(tf_file_keep(NULL));
    EXPECT_EINVAL(tf_file_rollover(NULL));
    EXPECT_EINVAL(tf_file_rolled(NULL));
    errno = 0;
    assert_null(tf_file_name(NULL));
    assert_errno(EINVAL);
    errno = 0;
    assert_null(tf_file_stream(NULL));
    assert_errno(EINVAL);
    assert_int_equal(tf_file_release(NULL), 0);

    /* NULL buffers on a good handle. */
    tf_file *f = make_kind(TFT_DIR(state), 0);
    EXPECT_EINVAL(tf_file_read(f, NULL, 4));
    EXPECT_EINVAL(tf_file_write(f, NULL, 4));
    tf_file_release(f);
}

static void test_closed_handle(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int kind = 0; kind < 2; kind++) {
        int fds = fd_count();
        tf_file *f = make_kind(dir, kind);
        assert_int_equal(tf_file_write(f, "abc", 3), 3);
        assert_int_equal(tf_file_close(f), 0);
        assert_no_fd_leak(fds);
        char buf[4];
#define EXPECT_EBADF(call)                                                   \
    do {                                                                     \
        errno = 0;                                                           \
        if ((call) != -1 || errno != EBADF)                                  \
            fail_msg("%s after close: expected -1/EBADF, errno %s", #call,   \
                     errname(errno));                                        \
    } while (0)
        EXPECT_EBADF(tf_file_read(f, buf, 3));
        EXPECT_EBADF(tf_file_write(f, "x", 1));
        EXPECT_EBADF(tf_file_seek(f, 0, SEEK_SET));
        EXPECT_EBADF(tf_file_tell(f));
        EXPECT_EBADF(tf_file_truncate(f, 0));
        EXPECT_EBADF(tf_file_fileno(f));
        EXPECT_EBADF(tf_file_rollover(f));
        errno = 0;
        assert_null(tf_file_stream(f));
        assert_errno(EBADF);
        assert_int_equal(tf_file_closed(f), 1);
        assert_int_equal(tf_file_close(f), 0);
        assert_int_equal(tf_file_closed(f), 1);
        assert_int_equal(tf_file_release(f), 0);
        assert_no_fd_leak(fds);
    }
    assert_int_equal(dir_entries(dir), 0);
}

/* ---- the FILE * view ---------------------------------------------------------- */

static void test_stream_basic(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int kind = 0; kind < 2; kind++) {
        int fds = fd_count();
        tf_file *f = make_kind(dir, kind);
        FILE *s = tf_file_stream(f);
        assert_non_null(s);
        assert_ptr_equal(tf_file_stream(f), s);   /* the same view until closed */
        assert_true(fprintf(s, "hello %d\n", 42) > 0);
        assert_true(fputs("second line\n", s) >= 0);
        assert_int_equal(fseek(s, 0, SEEK_SET), 0);
        char line[64];
        assert_non_null(fgets(line, sizeof line, s));
        assert_string_equal(line, "hello 42\n");
        assert_non_null(fgets(line, sizeof line, s));
        assert_string_equal(line, "second line\n");
        assert_null(fgets(line, sizeof line, s));
        assert_true(feof(s));
        assert_int_equal(fseek(s, 0, SEEK_END), 0);
        assert_int_equal(ftell(s), 21);
        assert_int_equal(fseek(s, -12, SEEK_END), 0);
        assert_int_equal(fgetc(s), 's');

        /* fclose of the view leaves the handle open and usable. */
        assert_int_equal(fclose(s), 0);
        assert_int_equal(tf_file_closed(f), 0);
        assert_true(fd_open(tf_file_fileno(f)));
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        char buf[64] = {0};
        assert_int_equal(tf_file_read(f, buf, sizeof buf - 1), 21);
        assert_string_equal(buf, "hello 42\nsecond line\n");

        /* A new view after the old one was closed. */
        s = tf_file_stream(f);
        assert_non_null(s);
        assert_int_equal(fseek(s, 0, SEEK_SET), 0);
        assert_non_null(fgets(line, sizeof line, s));
        assert_string_equal(line, "hello 42\n");
        /* Release closes the open view (LSan and the descriptor count check it). */
        assert_int_equal(tf_file_release(f), 0);
        assert_no_fd_leak(fds);
    }
}

static void test_stream_flush_between(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = make_kind(dir, 0);
    FILE *s = tf_file_stream(f);
    assert_non_null(s);
    assert_true(fputs("via stream;", s) >= 0);
    assert_int_equal(fflush(s), 0);
    assert_int_equal(tf_file_tell(f), 11);
    assert_int_equal(tf_file_write(f, "direct;", 7), 7);
    assert_int_equal(fseek(s, 0, SEEK_SET), 0);
    char line[64];
    assert_non_null(fgets(line, sizeof line, s));
    assert_string_equal(line, "via stream;direct;");
    tf_file_release(f);
}

/* tf_file_close fcloses an open view, flushing what stdio still buffers. */
static void test_stream_flushed_on_close(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    tf_file *f = named(dir, TF_NO_DELETE_ON_CLOSE);
    char *name = strdup(tf_file_name(f));
    FILE *s = tf_file_stream(f);
    assert_non_null(s);
    assert_true(fputs("pending data", s) >= 0);   /* buffered, not flushed */
    assert_int_equal(tf_file_close(f), 0);
    assert_no_fd_leak(fds);
    char *content = read_file_str(name);
    assert_non_null(content);
    assert_string_equal(content, "pending data");
    free(content);
    assert_int_equal(tf_file_release(f), 0);
    assert_false(path_exists(name));
    free(name);

    /* Release with an open, unflushed view: flushed, then removed; nothing leaks. */
    f = named(dir, TF_KEEP);
    name = strdup(tf_file_name(f));
    s = tf_file_stream(f);
    assert_true(fputs("kept", s) >= 0);
    assert_int_equal(tf_file_release(f), 0);
    content = read_file_str(name);
    assert_string_equal(content, "kept");
    free(content);
    unlink(name);
    free(name);
    assert_no_fd_leak(fds);
}

/* The view's stdio buffer, caught as the handle allocates it. */
static unsigned char *stream_buf;
static void *spy_malloc(size_t n)
{
    void *p = tf__sys_default.malloc(n);
    if (n == BUFSIZ)
        stream_buf = p;
    return p;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* What stdio held of the file, written or read ahead, is wiped when the view
 * closes; the buffer is the handle's, kept for the next view. */
static void test_stream_buffer_wiped(void **state)
{
    const char *dir = TFT_DIR(state);
    static const char secret[] = "0123456789abcdef";
    tf_file *files[] = { make_kind(dir, 0), make_kind(dir, 1),
                         tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .max_size = 1 << 20 }) };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        tf_file *f = files[i];
        assert_non_null(f);
        fault_arm("malloc", 1, ENOMEM);          /* no buffer, no view */
        errno = 0;
        assert_null(tf_file_stream(f));
        assert_errno(ENOMEM);
        fault_reset();

        stream_buf = NULL;
        fault_count_start();
        fault_next.malloc = spy_malloc;
        FILE *s = tf_file_stream(f);
        fault_reset();
        assert_non_null(s);
        unsigned char *buf = stream_buf;
        assert_non_null(buf);
        assert_true(fputs(secret, s) >= 0);
        assert_memory_equal(buf, secret, 16);    /* not flushed: in the buffer */
        assert_int_equal(fclose(s), 0);          /* flushed, then wiped */
        assert_true(all_zero(buf, BUFSIZ));

        s = tf_file_stream(f);
        assert_non_null(s);
        assert_int_equal(fseek(s, 0, SEEK_SET), 0);
        assert_int_equal(getc(s), '0');
        assert_memory_equal(buf, secret, 16);    /* read ahead into the same buffer */
        assert_int_equal(fclose(s), 0);
        assert_true(all_zero(buf, BUFSIZ));

        char back[17] = {0};
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        assert_int_equal(tf_file_read(f, back, 16), 16);
        assert_string_equal(back, secret);
        assert_int_equal(tf_file_release(f), 0);
    }
}

/* ---- tf_file_detach ------------------------------------------------------- */

/* The descriptor outlives the handle, keeps its offset and data, and is ours to close. */
static void test_detach_unnamed(void **state)
{
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "abc", 3), 3);
    int fd = tf_file_detach(f);
    assert_true(fd >= 0);
    assert_true(cloexec(fd));
    assert_int_equal(tf_file_closed(f), 1);
    EXPECT_EBADF(tf_file_fileno(f));
    assert_int_equal(tf_file_release(f), 0);
    assert_true(fd_open(fd));
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 3);
    char buf[4] = { 0 };
    assert_int_equal(pread(fd, buf, 3, 0), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(close(fd), 0);
}

/* Named files follow the delete table; only the descriptor changes hands. */
static void test_detach_named(void **state)
{
    const unsigned flags[] = { 0, TF_NO_DELETE_ON_CLOSE, TF_KEEP };
    for (size_t i = 0; i < 3; i++) {
        tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = TFT_DIR(state), .flags = flags[i] });
        assert_non_null(f);
        char *name = strdup(tf_file_name(f));
        int fd = tf_file_detach(f);
        assert_true(fd >= 0);
        assert_int_equal(path_exists(name), flags[i] != 0);   /* default: removed on close */
        assert_int_equal(tf_file_release(f), 0);
        assert_int_equal(path_exists(name), flags[i] == TF_KEEP);
        assert_true(fd_open(fd));
        assert_int_equal(write(fd, "x", 1), 1);
        assert_int_equal(close(fd), 0);
        unlink(name);
        free(name);
    }
}

/* A spooled file rolls over; a stream view is flushed into the descriptor first. */
static void test_detach_spooled_with_stream(void **state)
{
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .dir = TFT_DIR(state), .max_size = 100 });
    assert_non_null(f);
    FILE *s = tf_file_stream(f);
    assert_non_null(s);
    assert_true(fprintf(s, "spooled %d", 42) > 0);   /* still in stdio's buffer */
    assert_int_equal(tf_file_rolled(f), 0);
    int fd = tf_file_detach(f);
    assert_true(fd >= 0);
    assert_int_equal(tf_file_release(f), 0);
    char buf[16] = { 0 };
    assert_int_equal(pread(fd, buf, sizeof buf - 1, 0), 10);
    assert_string_equal(buf, "spooled 42");
    assert_int_equal(close(fd), 0);
}

static void test_detach_errors(void **state)
{
    EXPECT_EINVAL(tf_file_detach(NULL));
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(f);
    assert_int_equal(tf_file_close(f), 0);
    EXPECT_EBADF(tf_file_detach(f));
    assert_int_equal(tf_file_release(f), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_unnamed_has_no_name),
        T(test_detach_unnamed),
        T(test_detach_named),
        T(test_detach_spooled_with_stream),
        T(test_detach_errors),
        T(test_unnamed_mode),
        T(test_unnamed_uses_o_tmpfile),
        T(test_unnamed_fallback_eopnotsupp),
        T(test_unnamed_fallback_eisdir),
        T(test_named_basic),
        T(test_delete_table_close_then_release),
        T(test_delete_table_release_only),
        T(test_keep_call),
        T(test_name_already_gone),
        T(test_read_write_seek_tell),
        T(test_seek_whence_refused),
        T(test_large_write),
        T(test_truncate),
        T(test_fileno_is_the_file),
        T(test_null_handle),
        T(test_closed_handle),
        T(test_stream_basic),
        T(test_stream_flush_between),
        T(test_stream_flushed_on_close),
        T(test_stream_buffer_wiped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
