/*
 * Spooled temporary files (src/spool.c): every rollover trigger at its
 * boundary, I/O in memory, bytes and position across rollover, failures that
 * lose nothing (fault injection on every step of rollover, ENOMEM on growth),
 * the wipe of freed memory and the memory bound. The random differential
 * test against a plain file is tests/test_spool_diff.c.
 */
#include "tftest.h"

#include <fcntl.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static tf_file *spooled(void **state, size_t max_size)
{
    tf_file *f = tf_spooled_temporary_file(
        &(tf_opts){ .dir = TFT_DIR(state), .max_size = max_size });
    assert_non_null(f);
    return f;
}

static void pattern(unsigned char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static void write_all(tf_file *f, const void *buf, size_t n)
{
    assert_int_equal(tf_file_write(f, buf, n), (ssize_t)n);
}

/* The whole content (malloc'd, *n its size), through the API, keeping the
 * position. */
static unsigned char *contents(tf_file *f, size_t *n)
{
    off_t pos = tf_file_tell(f);
    off_t end = tf_file_seek(f, 0, SEEK_END);
    assert_true(pos >= 0 && end >= 0);
    unsigned char *buf = malloc((size_t)end + 1);
    assert_non_null(buf);
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    size_t got = 0;
    for (;;) {
        ssize_t r = tf_file_read(f, buf + got, (size_t)end + 1 - got);
        assert_true(r >= 0);
        if (r == 0)
            break;
        got += (size_t)r;
    }
    assert_int_equal(got, (size_t)end);
    assert_int_equal(tf_file_seek(f, pos, SEEK_SET), pos);
    *n = got;
    return buf;
}

static void assert_contents(tf_file *f, const void *want, size_t n)
{
    size_t got_n;
    unsigned char *got = contents(f, &got_n);
    assert_int_equal(got_n, n);
    assert_memory_equal(got, want, n);
    free(got);
}

/* ---- creation and the in-memory state ------------------------------------ */

static void test_starts_in_memory(void **state)
{
    tf_file *f = spooled(state, 100);
    char buf[8];
    assert_int_equal(tf_file_rolled(f), 0);
    errno = 0;
    assert_null(tf_file_name(f));
    assert_errno(ENOENT);
    assert_int_equal(tf_file_tell(f), 0);
    assert_int_equal(tf_file_read(f, buf, sizeof buf), 0);
    write_all(f, "Small data", 10);
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(dir_entries(TFT_DIR(state)), 0);
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    assert_int_equal(tf_file_read(f, buf, sizeof buf), 8);
    assert_memory_equal(buf, "Small da", 8);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_defaults_with_null_opts(void **state)
{
    (void)state;
    tf_file *f = tf_spooled_temporary_file(NULL);
    assert_non_null(f);
    static unsigned char big[1 << 20];
    write_all(f, big, sizeof big);   /* max_size 0: never by size */
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_bad_prefix_or_suffix(void **state)
{
    errno = 0;
    assert_null(tf_spooled_temporary_file(&(tf_opts){ .dir = TFT_DIR(state), .prefix = "a/b" }));
    assert_errno(EINVAL);
    errno = 0;
    assert_null(tf_spooled_temporary_file(&(tf_opts){ .suffix = "/x" }));
    assert_errno(EINVAL);
}

static void test_enomem_on_creation_leaves_nothing(void **state)
{
    tf_opts o = { .dir = TFT_DIR(state), .prefix = "p_", .suffix = ".s", .max_size = 5 };
    unsigned long n;
    for (n = 1; n < 20; n++) {
        fault_arm("malloc", n, ENOMEM);
        tf_file *f = tf_spooled_temporary_file(&o);
        unsigned long hits = fault_hits();
        fault_reset();
        if (f) {
            assert_int_equal(hits, 0);
            assert_int_equal(tf_file_release(f), 0);
            break;
        }
        assert_errno(ENOMEM);
    }
    assert_true(n > 4);   /* spool, three strings and the handle all failed once */
}

/* ---- the rollover triggers ----------------------------------------------- */

/* One write of max_size + delta bytes into an empty file. */
static void check_write_boundary(void **state, size_t max, int delta)
{
    size_t n = max + (size_t)delta;
    unsigned char *buf = malloc(n + 1);
    pattern(buf, n, (unsigned)max);
    tf_file *f = spooled(state, max);
    write_all(f, buf, n);
    assert_int_equal(tf_file_rolled(f), delta > 0);
    assert_int_equal(tf_file_tell(f), (off_t)n);
    assert_contents(f, buf, n);
    assert_int_equal(tf_file_release(f), 0);
    free(buf);
}

static void test_write_boundaries(void **state)
{
    static const size_t maxes[] = { 1, 2, 10, 511, 512, 513, 4096, 100000 };
    for (size_t i = 0; i < sizeof maxes / sizeof *maxes; i++)
        for (int delta = -1; delta <= 1; delta++)
            if (maxes[i] + (size_t)delta > 0)
                check_write_boundary(state, maxes[i], delta);
}

static void test_write_in_steps_rolls_past_max(void **state)
{
    tf_file *f = spooled(state, 1000);
    static unsigned char a[1000];
    memset(a, 'A', sizeof a);
    write_all(f, "Small data", 10);              /* seed 000, slide 4 */
    assert_int_equal(tf_file_rolled(f), 0);
    write_all(f, a, 989);                        /* position 999 */
    assert_int_equal(tf_file_rolled(f), 0);
    write_all(f, "x", 1);                        /* 1000: exactly max_size */
    assert_int_equal(tf_file_rolled(f), 0);
    write_all(f, "y", 1);                        /* 1001 */
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(tf_file_tell(f), 1001);
    errno = 0;
    assert_null(tf_file_name(f));                /* unnamed on disk too */
    assert_errno(ENOENT);
    assert_int_equal(tf_file_release(f), 0);
}

/* Only the position counts, not the size: overwriting never rolls over. */
static void test_overwrite_within_max_stays(void **state)
{
    tf_file *f = spooled(state, 10);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
        write_all(f, "0123456789", 10);
    }
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_max_size_zero_never_rolls_by_size(void **state)
{
    tf_file *f = spooled(state, 0);
    static unsigned char chunk[65536];
    for (int i = 0; i < 48; i++) {   /* 3 MiB */
        pattern(chunk, sizeof chunk, (unsigned)i);
        write_all(f, chunk, sizeof chunk);
    }
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_seek(f, 47 * 65536, SEEK_SET), 47 * 65536);
    unsigned char back[65536];
    assert_int_equal(tf_file_read(f, back, sizeof back), (ssize_t)sizeof back);
    assert_memory_equal(back, chunk, sizeof back);
    assert_int_equal(tf_file_release(f), 0);
}

/* CPython: a seek alone never rolls over; a write, even an empty one, that
 * leaves the position past max_size does. */
static void test_seek_past_max_then_empty_write(void **state)
{
    tf_file *f = spooled(state, 10);
    assert_int_equal(tf_file_seek(f, 20, SEEK_SET), 20);
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_write(f, "", 0), 0);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(tf_file_tell(f), 20);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), 0);   /* an empty write does not extend */
    assert_int_equal(tf_file_release(f), 0);

    f = spooled(state, 10);
    assert_int_equal(tf_file_seek(f, 10, SEEK_SET), 10);
    assert_int_equal(tf_file_write(f, "", 0), 0);        /* position == max_size */
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), 0);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_truncate_boundaries(void **state)
{
    tf_file *f = spooled(state, 10);
    write_all(f, "abcdef", 6);
    assert_int_equal(tf_file_seek(f, 2, SEEK_SET), 2);
    assert_int_equal(tf_file_truncate(f, 9), 0);
    assert_int_equal(tf_file_truncate(f, 10), 0);        /* == max_size: stays */
    assert_int_equal(tf_file_rolled(f), 0);
    assert_contents(f, "abcdef\0\0\0\0", 10);
    assert_int_equal(tf_file_truncate(f, 11), 0);        /* > max_size: rolls */
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(tf_file_tell(f), 2);                /* truncate never moves */
    assert_contents(f, "abcdef\0\0\0\0\0", 11);
    assert_int_equal(tf_file_release(f), 0);
}

/* CPython's truncate compares with max_size even when it is 0. */
static void test_truncate_with_max_size_zero(void **state)
{
    tf_file *f = spooled(state, 0);
    write_all(f, "abc", 3);
    assert_int_equal(tf_file_truncate(f, 0), 0);
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_tell(f), 3);
    assert_int_equal(tf_file_truncate(f, 1), 0);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_contents(f, "\0", 1);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_fileno_rolls_tiny_file(void **state)
{
    tf_file *f = spooled(state, 0);                      /* seed 004, example 3 */
    write_all(f, "abc", 3);
    int fd = tf_file_fileno(f);
    assert_true(fd >= 0);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(tf_file_fileno(f), fd);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 3);
    char buf[4] = { 0 };
    assert_int_equal(pread(fd, buf, sizeof buf, 0), 3);
    assert_string_equal(buf, "abc");
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_nlink, 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(dir_entries(TFT_DIR(state)), 0);
    errno = 0;
    assert_null(tf_file_name(f));
    assert_errno(ENOENT);
    assert_int_equal(tf_file_release(f), 0);
    assert_true(fcntl(fd, F_GETFD) == -1);
}

static void test_rollover_uses_dir_and_mode(void **state)
{
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .dir = TFT_DIR(state), .mode = 0640 });
    assert_non_null(f);
    int fd = tf_file_fileno(f);
    struct stat st, dst;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(stat(TFT_DIR(state), &dst), 0);
    assert_int_equal(st.st_dev, dst.st_dev);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(tf_file_release(f), 0);

    /* A directory that does not exist fails at rollover, as CPython. */
    char *missing = path_join(TFT_DIR(state), "missing");
    f = tf_spooled_temporary_file(&(tf_opts){ .dir = missing });
    assert_non_null(f);
    write_all(f, "kept", 4);
    assert_int_equal(tf_file_fileno(f), -1);
    assert_errno(ENOENT);
    assert_int_equal(tf_file_rolled(f), 0);
    assert_contents(f, "kept", 4);
    assert_int_equal(tf_file_release(f), 0);
    free(missing);
}

/* ---- bytes and position across an explicit rollover ---------------------- */

/*
 * A file that uses every shape the memory can take: full chunks, a chunk
 * written only in part, an absent chunk (a gap), a trailing gap from a
 * growing truncate, and a position past the end.
 */
static tf_file *shaped(void **state, unsigned char *want, size_t *n, off_t *pos)
{
    tf_file *f = spooled(state, 100000);   /* max_size 0 would roll on truncate */
    unsigned char buf[3000];
    pattern(buf, sizeof buf, 1);
    write_all(f, buf, 700);
    assert_int_equal(tf_file_seek(f, 5000, SEEK_SET), 5000);
    write_all(f, buf, 3000);
    assert_int_equal(tf_file_truncate(f, 9000), 0);
    assert_int_equal(tf_file_seek(f, 12345, SEEK_SET), 12345);
    memset(want, 0, 9000);
    memcpy(want, buf, 700);
    memcpy(want + 5000, buf, 3000);
    *n = 9000;
    *pos = 12345;
    assert_int_equal(tf_file_rolled(f), 0);
    return f;
}

static void test_rollover_keeps_bytes_and_position(void **state)
{
    static unsigned char want[9000];
    size_t n;
    off_t pos;
    tf_file *f = shaped(state, want, &n, &pos);
    assert_contents(f, want, n);
    assert_int_equal(tf_file_rollover(f), 0);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(tf_file_tell(f), pos);
    assert_contents(f, want, n);
    assert_int_equal(tf_file_rollover(f), 0);            /* a no-op now */
    /* Writing at the position after rollover leaves the same gap. */
    write_all(f, "end", 3);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), pos + 3);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_rollover_and_rolled_on_other_handles(void **state)
{
    tf_file *t = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(t);
    assert_int_equal(tf_file_rolled(t), 1);
    assert_int_equal(tf_file_rollover(t), 0);
    assert_int_equal(tf_file_release(t), 0);
    errno = 0;
    assert_int_equal(tf_file_rollover(NULL), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_file_rolled(NULL), -1);
    assert_errno(EINVAL);
}

/* ---- I/O in memory -------------------------------------------------------- */

static void test_gaps_read_as_zeros(void **state)
{
    tf_file *f = spooled(state, 1 << 30);
    write_all(f, "secret!", 7);
    assert_int_equal(tf_file_truncate(f, 3), 0);
    assert_int_equal(tf_file_truncate(f, 100), 0);       /* grows with zeros */
    unsigned char want[5001] = "sec";
    assert_contents(f, want, 100);
    assert_int_equal(tf_file_seek(f, 5000, SEEK_SET), 5000);
    write_all(f, "z", 1);
    want[5000] = 'z';
    assert_contents(f, want, 5001);
    /* Rewrite inside the gap, past what the chunk held: still zeros around. */
    assert_int_equal(tf_file_seek(f, 600, SEEK_SET), 600);
    write_all(f, "mid", 3);
    memcpy(want + 600, "mid", 3);
    assert_contents(f, want, 5001);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_read_spans_chunks_and_stops_at_end(void **state)
{
    static unsigned char data[70000], back[80000];
    pattern(data, sizeof data, 9);
    tf_file *f = spooled(state, 0);
    write_all(f, data, sizeof data);
    for (size_t off = 0; off < sizeof data; off += 4093) {
        assert_int_equal(tf_file_seek(f, (off_t)off, SEEK_SET), (off_t)off);
        size_t want = sizeof data - off < 9000 ? sizeof data - off : 9000;
        assert_int_equal(tf_file_read(f, back, 9000), (ssize_t)want);
        assert_memory_equal(back, data + off, want);
    }
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    assert_int_equal(tf_file_read(f, back, sizeof back), (ssize_t)sizeof data);
    assert_int_equal(tf_file_read(f, back, sizeof back), 0);
    assert_int_equal(tf_file_seek(f, 100000, SEEK_SET), 100000);
    assert_int_equal(tf_file_read(f, back, 10), 0);
    assert_int_equal(tf_file_tell(f), 100000);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_seek_whences_and_errors(void **state)
{
    tf_file *f = spooled(state, 0);
    write_all(f, "0123456789", 10);
    assert_int_equal(tf_file_seek(f, -3, SEEK_END), 7);
    assert_int_equal(tf_file_seek(f, -2, SEEK_CUR), 5);
    assert_int_equal(tf_file_seek(f, 4, SEEK_CUR), 9);
    assert_int_equal(tf_file_seek(f, 5, SEEK_END), 15);
    errno = 0;
    assert_int_equal(tf_file_seek(f, -1, SEEK_SET), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_file_seek(f, -16, SEEK_CUR), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_file_seek(f, 0, 42), -1);
    assert_errno(EINVAL);
    errno = 0;
    assert_int_equal(tf_file_seek(f, INT64_MAX, SEEK_END), -1);
    assert_errno(EOVERFLOW);
    errno = 0;
    assert_int_equal(tf_file_seek(f, INT64_MIN, SEEK_END), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_file_tell(f), 15);               /* failed seeks do not move */
    errno = 0;
    assert_int_equal(tf_file_truncate(f, -1), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_closed_file(void **state)
{
    tf_file *f = spooled(state, 0);
    char c;
    write_all(f, "x", 1);
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(tf_file_closed(f), 1);
    assert_int_equal(tf_file_rolled(f), 0);              /* as CPython's _rolled */
    errno = 0;
    assert_int_equal(tf_file_write(f, "x", 1), -1);
    assert_errno(EBADF);
    errno = 0;
    assert_int_equal(tf_file_read(f, &c, 1), -1);
    assert_errno(EBADF);
    errno = 0;
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), -1);
    assert_errno(EBADF);
    errno = 0;
    assert_int_equal(tf_file_truncate(f, 0), -1);
    assert_errno(EBADF);
    errno = 0;
    assert_int_equal(tf_file_fileno(f), -1);
    assert_errno(EBADF);
    errno = 0;
    assert_int_equal(tf_file_rollover(f), -1);
    assert_errno(EBADF);
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(tf_file_release(f), 0);
}

/* ---- gaps: free in memory, or holes on disk -------------------------------- */

/* Resident memory of this process, in bytes (/proc/self/statm). */
static size_t resident(void)
{
    unsigned long size, pages = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    assert_non_null(fp);
    assert_int_equal(fscanf(fp, "%lu %lu", &size, &pages), 2);
    fclose(fp);
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* The byte at pos, through the API, keeping the position. */
static int byte_at(tf_file *f, off_t pos)
{
    off_t here = tf_file_tell(f);
    unsigned char c = 0xEE;
    assert_int_equal(tf_file_seek(f, pos, SEEK_SET), pos);
    assert_int_equal(tf_file_read(f, &c, 1), 1);
    assert_int_equal(tf_file_seek(f, here, SEEK_SET), here);
    return c;
}

/* Issue 11 (3): one byte at 1.5 GiB zeroed 512 MiB of a 1 GiB chunk. */
static void test_far_write_costs_no_memory(void **state)
{
    const off_t far = (off_t)3 << 29;   /* 1.5 GiB */
    tf_file *f = spooled(state, 0);
    write_all(f, "head", 4);
    size_t before = resident();
    assert_int_equal(tf_file_seek(f, far, SEEK_SET), far);
    write_all(f, "x", 1);
    size_t grown = resident() > before ? resident() - before : 0;
    if (grown > (16u << 20))
        fail_msg("a 1-byte write at 1.5 GiB made %zu MiB resident", grown >> 20);
    assert_int_equal(tf_file_rolled(f), 1);               /* the gap is a hole on disk */
    assert_int_equal(tf_file_tell(f), far + 1);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), far + 1);
    assert_int_equal(byte_at(f, far), 'x');
    assert_int_equal(byte_at(f, far - 1), 0);
    assert_int_equal(byte_at(f, 1 << 20), 0);
    assert_int_equal(byte_at(f, 3), 'd');
    struct stat st;
    assert_int_equal(fstat(tf_file_fileno(f), &st), 0);
    assert_true((off_t)st.st_blocks * 512 < (off_t)(1 << 20));   /* sparse */
    assert_int_equal(tf_file_release(f), 0);
}

/* A disk file takes a byte at 1 TiB; so must a spooled file (it was ENOMEM),
 * after a seek or after a growing truncate (max_size above it). */
static void test_write_at_one_tib(void **state)
{
    const off_t tib = (off_t)1 << 40;
    tf_file *plain = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(plain);
    assert_int_equal(tf_file_seek(plain, tib, SEEK_SET), tib);
    if (tf_file_write(plain, "x", 1) != 1) {
        fprintf(stderr, "skipped: the scratch filesystem cannot hold a byte at 1 TiB (%s)\n",
                errname(errno));
        tf_file_release(plain);
        skip();
    }
    assert_int_equal(tf_file_release(plain), 0);

    tf_file *f = spooled(state, 0);
    assert_int_equal(tf_file_seek(f, tib, SEEK_SET), tib);
    write_all(f, "x", 1);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), tib + 1);
    assert_int_equal(byte_at(f, tib), 'x');
    assert_int_equal(byte_at(f, 0), 0);
    assert_int_equal(tf_file_release(f), 0);

    f = spooled(state, (size_t)1 << 41);
    write_all(f, "head", 4);
    assert_int_equal(tf_file_truncate(f, tib), 0);        /* costs nothing: stays */
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_seek(f, tib, SEEK_SET), tib);
    write_all(f, "y", 1);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), tib + 1);
    assert_int_equal(byte_at(f, tib), 'y');
    assert_int_equal(byte_at(f, 0), 'h');
    assert_int_equal(tf_file_release(f), 0);
}

/* The write after a far seek goes to disk all or nothing too. */
static void test_far_write_failure_changes_nothing(void **state)
{
    const off_t far = (off_t)3 << 29;
    tf_file *f = spooled(state, 0);
    write_all(f, "head", 4);
    assert_int_equal(tf_file_seek(f, far, SEEK_SET), far);
    int fds = fd_count();
    for (unsigned long nth = 1; nth <= 2; nth++) {   /* the copy of "head", the byte */
        fault_arm("write", nth, ENOSPC);
        errno = 0;
        assert_int_equal(tf_file_write(f, "x", 1), -1);
        assert_errno(ENOSPC);
        assert_int_equal(fault_hits(), 1);
        fault_reset();
        assert_int_equal(tf_file_rolled(f), 0);
        assert_int_equal(tf_file_tell(f), far);
        assert_no_fd_leak(fds);
        assert_int_equal(dir_entries(TFT_DIR(state)), 0);
        assert_contents(f, "head", 4);
    }
    write_all(f, "x", 1);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(byte_at(f, far), 'x');
    assert_int_equal(tf_file_release(f), 0);
}

/* A small gap stays in memory, as it always did; a large one goes to disk. */
static void test_small_gap_stays_in_memory(void **state)
{
    static const off_t small[] = { 1, 511, 4096, 5000, 65536, 300000 };
    for (size_t i = 0; i < sizeof small / sizeof *small; i++) {
        tf_file *f = spooled(state, 0);
        write_all(f, "a", 1);
        assert_int_equal(tf_file_seek(f, small[i], SEEK_CUR), small[i] + 1);
        write_all(f, "b", 1);
        assert_int_equal(tf_file_rolled(f), 0);
        assert_int_equal(byte_at(f, small[i] + 1), 'b');
        assert_int_equal(byte_at(f, small[i]), 0);
        assert_int_equal(byte_at(f, 0), 'a');
        assert_int_equal(tf_file_release(f), 0);
    }
    tf_file *f = spooled(state, 0);
    write_all(f, "a", 1);
    assert_int_equal(tf_file_seek(f, 16 << 20, SEEK_SET), 16 << 20);
    write_all(f, "b", 1);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(byte_at(f, 16 << 20), 'b');
    assert_int_equal(byte_at(f, 0), 'a');
    assert_int_equal(tf_file_release(f), 0);
}

/* ---- ENOMEM on growth ------------------------------------------------------- */

static void test_enomem_on_growth_changes_nothing(void **state)
{
    static unsigned char data[6000];
    pattern(data, sizeof data, 3);
    tf_file *f = spooled(state, 0);
    write_all(f, data, 100);
    /* 100 + 5000 needs chunks 1..4; fail the first and a later allocation. */
    for (unsigned long nth = 1; nth <= 3; nth++) {
        fault_arm("malloc", nth, ENOMEM);
        errno = 0;
        ssize_t r = tf_file_write(f, data + 100, 5000);
        fault_reset();
        assert_int_equal(r, -1);
        assert_errno(ENOMEM);
        assert_int_equal(tf_file_tell(f), 100);
        assert_contents(f, data, 100);
    }
    write_all(f, data + 100, 5000);
    assert_contents(f, data, 5100);
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_release(f), 0);
}

/* ---- failures of rollover ----------------------------------------------------- */

/* Checks the file still holds shaped()'s data in memory, as before. */
static void assert_intact(tf_file *f, const unsigned char *want, size_t n, off_t pos)
{
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_tell(f), pos);
    assert_contents(f, want, n);
}

/*
 * Makes the 1st, 2nd ... call of one seam entry fail during a rollover until
 * a rollover gets through; after each failure nothing may have changed or
 * leaked, and the last, successful try must carry the bytes over intact.
 */
static void fault_every_call(void **state, const char *entry, int err)
{
    static unsigned char want[9000];
    size_t n;
    off_t pos;
    tf_file *f = shaped(state, want, &n, &pos);
    int fds = fd_count();
    unsigned long failures = 0;
    for (unsigned long nth = 1; nth < 50; nth++) {
        fault_arm(entry, nth, err);
        errno = 0;
        int rc = tf_file_rollover(f);
        int e = errno;
        fault_reset();
        if (rc == 0)
            break;
        failures++;
        if (e != err)
            fail_msg("%s #%lu: errno %s, injected %s", entry, nth, errname(e), errname(err));
        assert_intact(f, want, n, pos);
        assert_no_fd_leak(fds);
        assert_int_equal(dir_entries(TFT_DIR(state)), 0);
    }
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(tf_file_tell(f), pos);
    assert_contents(f, want, n);
    assert_int_equal(tf_file_release(f), 0);
    /* write, lseek and ftruncate are ours: each must really have been hit. */
    if (!strcmp(entry, "write") || !strcmp(entry, "lseek") || !strcmp(entry, "ftruncate")
        || !strcmp(entry, "openat"))
        if (failures == 0)
            fail_msg("%s (%s) was never called by the rollover", entry, errname(err));
}

static void test_rollover_fault_every_step(void **state)
{
    static const char *const entries[] = {
        "openat", "write", "lseek", "ftruncate", "fchmod", "fstat",
        "getrandom", "unlinkat", "malloc", "getcwd",
    };
    static const int errs[] = { ENOSPC, EMFILE, EACCES, EIO, EDQUOT };
    for (size_t i = 0; i < sizeof entries / sizeof *entries; i++)
        for (size_t j = 0; j < sizeof errs / sizeof *errs; j++)
            fault_every_call(state, entries[i], errs[j]);
}

/* A write that makes progress in halves: the rollover completes it. */
static ssize_t half_write(int fd, const void *buf, size_t n)
{
    return tf__sys_default.write(fd, buf, n > 1 ? n / 2 : n);
}

static void test_rollover_short_writes(void **state)
{
    static unsigned char want[9000];
    size_t n;
    off_t pos;
    tf_file *f = shaped(state, want, &n, &pos);

    /* Short, then short, then ENOSPC: fails, and loses nothing. */
    fault_arm("write", 3, ENOSPC);
    fault_next.write = half_write;
    errno = 0;
    assert_int_equal(tf_file_rollover(f), -1);
    assert_errno(ENOSPC);
    fault_reset();
    assert_intact(f, want, n, pos);

    /* Only short writes: gets there. */
    fault_count_start();
    fault_next.write = half_write;
    assert_int_equal(tf_file_rollover(f), 0);
    assert_true(fault_calls("write") > 3);
    fault_reset();
    assert_int_equal(tf_file_tell(f), pos);
    assert_contents(f, want, n);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_failed_trigger_changes_nothing(void **state)
{
    static unsigned char data[200];
    pattern(data, sizeof data, 5);
    tf_file *f = spooled(state, 100);
    write_all(f, data, 50);

    fault_arm("openat", 1, EMFILE);
    errno = 0;
    assert_int_equal(tf_file_write(f, data + 50, 100), -1);
    assert_errno(EMFILE);
    fault_reset();
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_tell(f), 50);
    assert_contents(f, data, 50);

    fault_arm("openat", 1, EACCES);
    errno = 0;
    assert_int_equal(tf_file_truncate(f, 101), -1);
    assert_errno(EACCES);
    fault_reset();
    fault_arm("write", 1, ENOSPC);
    errno = 0;
    assert_int_equal(tf_file_fileno(f), -1);
    assert_errno(ENOSPC);
    fault_reset();
    assert_int_equal(dir_entries(TFT_DIR(state)), 0);
    assert_contents(f, data, 50);

    /* The retry works and writes once. */
    write_all(f, data + 50, 150);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_contents(f, data, 200);
    assert_int_equal(tf_file_release(f), 0);
}

/*
 * Issue 11 (5): a call that rolls over is all or nothing. Fails the 1st,
 * 2nd ... call of one seam entry inside `call` until the call succeeds; every
 * failure must leave the file in memory as before (it used to leave it
 * rolled over when the write or ftruncate after the rollover failed).
 */
static void all_or_nothing(void **state, const char *entry, int err,
                           int (*call)(tf_file *f), const char *what)
{
    static unsigned char want[9000];
    size_t n;
    off_t pos;
    int fds = fd_count();
    unsigned long failures = 0, nth;
    for (nth = 1; nth < 50; nth++) {
        tf_file *f = shaped(state, want, &n, &pos);
        fault_arm(entry, nth, err);
        errno = 0;
        int rc = call(f);
        int e = errno;
        unsigned long hits = fault_hits();
        fault_reset();
        if (rc == 0 && hits == 0) {
            assert_int_equal(tf_file_rolled(f), 1);
            assert_int_equal(tf_file_release(f), 0);
            break;
        }
        if (rc == 0)   /* the failure was retried (EINTR) */
            fail_msg("%s: %s #%lu (%s) injected but the call succeeded", what, entry,
                     nth, errname(err));
        failures++;
        if (e != err)
            fail_msg("%s: %s #%lu: errno %s, injected %s", what, entry, nth, errname(e),
                     errname(err));
        assert_intact(f, want, n, pos);
        assert_int_equal(tf_file_release(f), 0);
        assert_no_fd_leak(fds);
        assert_int_equal(dir_entries(TFT_DIR(state)), 0);
    }
    assert_true(nth < 50);
    if (failures == 0)
        fail_msg("%s: %s never called", what, entry);
}

static int write_past_max(tf_file *f)       /* shaped(): max_size 100000 */
{
    static unsigned char big[100000];
    return tf_file_write(f, big, sizeof big) == (ssize_t)sizeof big ? 0 : -1;
}

static int truncate_past_max(tf_file *f)
{
    return tf_file_truncate(f, 100001);
}

static int fileno_rolls(tf_file *f)
{
    return tf_file_fileno(f) < 0 ? -1 : 0;
}

static void test_rolling_calls_all_or_nothing(void **state)
{
    static const struct {
        int (*call)(tf_file *f);
        const char *what;
    } calls[] = {
        { write_past_max, "write past max_size" },
        { truncate_past_max, "truncate past max_size" },
        { fileno_rolls, "fileno" },
    };
    static const char *const entries[] = { "openat", "write", "lseek", "ftruncate" };
    static const int errs[] = { ENOSPC, EIO, EFBIG, EDQUOT };
    for (size_t c = 0; c < sizeof calls / sizeof *calls; c++)
        for (size_t i = 0; i < sizeof entries / sizeof *entries; i++)
            for (size_t j = 0; j < sizeof errs / sizeof *errs; j++)
                all_or_nothing(state, entries[i], errs[j], calls[c].call, calls[c].what);
}

/* ---- wiping --------------------------------------------------------------------- */

static size_t wiped_freed, wiped_cut, wipe_calls;
static bool wipe_saw_nonzero;

static void wipe_spy(const void *p, size_t n, bool freed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            wipe_saw_nonzero = true;
    *(freed ? &wiped_freed : &wiped_cut) += n;
    wipe_calls++;
}

static void wipe_spy_start(void)
{
    wiped_freed = wiped_cut = wipe_calls = 0;
    wipe_saw_nonzero = false;
    tf__spool_wipe_hook = wipe_spy;
}

static void test_wipe_on_close_truncate_and_rollover(void **state)
{
    static unsigned char secret[5000];
    memset(secret, 0xA5, sizeof secret);

    /* Truncate wipes what it cuts; close wipes the rest: every byte once. */
    tf_file *f = spooled(state, 1 << 30);   /* truncate must not roll over */
    wipe_spy_start();
    write_all(f, secret, sizeof secret);
    assert_int_equal(tf_file_truncate(f, 700), 0);
    assert_int_equal(wiped_freed + wiped_cut, sizeof secret - 700);
    assert_true(wiped_cut > 0 && wiped_freed > 0);
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(wiped_freed + wiped_cut, sizeof secret);
    assert_false(wipe_saw_nonzero);
    assert_int_equal(tf_file_release(f), 0);

    /* Rollover wipes all of it, after the copy. */
    f = spooled(state, 0);
    wipe_spy_start();
    write_all(f, secret, sizeof secret);
    assert_int_equal(tf_file_rollover(f), 0);
    assert_int_equal(wiped_freed, sizeof secret);
    assert_false(wipe_saw_nonzero);
    size_t calls = wipe_calls;
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(wipe_calls, calls);                 /* nothing left to wipe */

    /* Release of an open file wipes too. */
    f = spooled(state, 0);
    wipe_spy_start();
    write_all(f, secret, 10);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(wiped_freed, 10);
    tf__spool_wipe_hook = NULL;
}

/* ---- the memory bound ------------------------------------------------------------ */

#define MAX_BLOCKS 256
static struct { void *p; size_t n; } blocks[MAX_BLOCKS];
static size_t live, mallocs;

static void *counting_malloc(size_t n)
{
    void *p = tf__sys_default.malloc(n);
    for (int i = 0; p && i < MAX_BLOCKS; i++)
        if (!blocks[i].p) {
            blocks[i].p = p;
            blocks[i].n = n;
            live += n;
            mallocs++;
            break;
        }
    return p;
}

static void counting_free(const void *p, size_t n, bool freed)
{
    (void)n;
    for (int i = 0; freed && i < MAX_BLOCKS; i++)
        if (blocks[i].p == p) {
            live -= blocks[i].n;
            blocks[i].p = NULL;
        }
}

static void test_memory_at_most_twice_the_data(void **state)
{
    static unsigned char buf[100000];
    memset(blocks, 0, sizeof blocks);
    live = mallocs = 0;
    fault_count_start();
    fault_next.malloc = counting_malloc;
    tf__spool_wipe_hook = counting_free;
    tf_file *f = spooled(state, 1 << 30);
    size_t fixed = live;                                 /* handle and spool */
    size_t len = 0;
    unsigned seed = 1;
    while (len < (8u << 20)) {
        seed = seed * 1103515245 + 12345;
        size_t n = 1 + (seed >> 8) % (seed & 1 ? 100 : sizeof buf);
        write_all(f, buf, n);
        len += n;
        if (live - fixed > 2 * len + 512)
            fail_msg("%zu bytes of memory for %zu of data", live - fixed, len);
    }
    size_t chunk_mallocs = mallocs;
    assert_true(chunk_mallocs < 2 + 2 * 24);             /* geometric: ~log2(8 MiB / 512) */
    assert_int_equal(tf_file_truncate(f, 1000), 0);      /* shrinking gives memory back */
    assert_true(live - fixed <= 2 * 1000 + 512);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(live, fixed);                       /* every chunk was wiped and freed */
    fault_reset();
    tf__spool_wipe_hook = NULL;
}

/* ---- small accesses: the window, tf_file_putc and tf_file_getc ------------------------ */

/* Bytes through tf_file_putc (across chunks and the rollover at max_size),
 * back through tf_file_getc, and the end of the file told from an error. */
static void check_putc_getc(tf_file *f, size_t n, int rolls)
{
    unsigned char *want = malloc(n);
    assert_non_null(want);
    for (size_t i = 0; i < n; i++) {
        want[i] = (unsigned char)(i * 37 + (i >> 9));
        assert_int_equal(tf_file_putc(f, want[i] | 0x100), want[i]);   /* as unsigned char */
    }
    assert_int_equal(tf_file_rolled(f), rolls);
    assert_int_equal(tf_file_tell(f), (off_t)n);
    assert_contents(f, want, n);
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    for (size_t i = 0; i < n; i++)
        if (tf_file_getc(f) != want[i])
            fail_msg("byte %zu differs", i);
    errno = 0;
    assert_int_equal(tf_file_getc(f), -1);
    assert_errno(0);                                      /* the end, not an error */
    assert_int_equal(tf_file_tell(f), (off_t)n);
    free(want);
}

static void putc_getc_fail(tf_file *f, int err)
{
    errno = 0;
    assert_int_equal(tf_file_putc(f, 'x'), -1);
    assert_errno(err);
    errno = 0;
    assert_int_equal(tf_file_getc(f), -1);
    assert_errno(err);
}

static void test_putc_getc(void **state)
{
    tf_file *f = spooled(state, 0);
    check_putc_getc(f, 70000, 0);
    assert_int_equal(tf_file_release(f), 0);
    f = spooled(state, 1000);
    check_putc_getc(f, 3000, 1);
    assert_int_equal(tf_file_release(f), 0);
    f = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(f);
    check_putc_getc(f, 600, 1);                           /* the full path all along */
    assert_int_equal(tf_file_release(f), 0);

    putc_getc_fail(NULL, EINVAL);
    f = spooled(state, 0);
    assert_int_equal(tf_file_putc(f, 'x'), 'x');
    assert_int_equal(tf_file_close(f), 0);
    putc_getc_fail(f, EBADF);
    assert_int_equal(tf_file_release(f), 0);
}

/* Writes and reads through the window, mixed with every other call: each
 * of them must see what the window wrote. */
static void test_window_mixed_with_other_calls(void **state)
{
    tf_file *f = spooled(state, 20);
    write_all(f, "hello", 5);
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    assert_int_equal(tf_file_putc(f, 'H'), 'H');
    assert_int_equal(tf_file_getc(f), 'e');               /* old data after the write */
    char two[2];
    assert_int_equal(tf_file_read(f, two, 2), 2);
    assert_memory_equal(two, "ll", 2);
    write_all(f, "O, world", 8);                          /* past what the chunk held */
    errno = 0;
    assert_int_equal(tf_file_getc(f), -1);                /* at the end */
    assert_errno(0);
    assert_int_equal(tf_file_tell(f), 12);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), 12);   /* seek sees the window's size */
    assert_contents(f, "HellO, world", 12);
    assert_int_equal(tf_file_seek(f, 5, SEEK_SET), 5);
    write_all(f, "!", 1);
    assert_int_equal(tf_file_truncate(f, 6), 0);          /* truncate too */
    assert_contents(f, "HellO!", 6);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), 6);
    for (int i = 0; i < 14; i++)                          /* up to max_size exactly */
        assert_int_equal(tf_file_putc(f, '.'), '.');
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(tf_file_putc(f, '+'), '+');          /* 21 > max_size: rolls over */
    assert_int_equal(tf_file_rolled(f), 1);
    assert_contents(f, "HellO!..............+", 21);

    /* The window's bytes are wiped when it closes with the file. */
    f = tf_file_release(f) == 0 ? spooled(state, 0) : NULL;
    wipe_spy_start();
    for (int i = 0; i < 700; i++)
        assert_int_equal(tf_file_putc(f, 0x5A), 0x5A);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(wiped_freed, 700);
    assert_false(wipe_saw_nonzero);
    tf__spool_wipe_hook = NULL;
}

/* ---- the FILE * view ---------------------------------------------------------------- */

static void test_stream_across_rollover(void **state)
{
    tf_file *f = spooled(state, 100);                    /* 3 lines fit, 40 do not */
    FILE *fp = tf_file_stream(f);
    assert_non_null(fp);
    char want[4096] = "", line[64];
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof line, "%d\thttp://example.com/%d\n", i, i);
        strcat(want, line);
        assert_true(fprintf(fp, "%s", line) > 0);
    }
    assert_int_equal(fflush(fp), 0);
    assert_int_equal(tf_file_rolled(f), 0);
    for (int i = 3; i < 40; i++) {
        snprintf(line, sizeof line, "%d\thttp://example.com/%d\n", i, i);
        strcat(want, line);
        assert_true(fprintf(fp, "%s", line) > 0);
    }
    assert_int_equal(fflush(fp), 0);
    assert_int_equal(tf_file_rolled(f), 1);
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    char got[4096];
    size_t n = fread(got, 1, sizeof got, fp);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got, want, n);
    assert_int_equal(tf_file_release(f), 0);              /* fcloses the view */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, tft_setup, tft_teardown)
        T(test_starts_in_memory),
        T(test_defaults_with_null_opts),
        T(test_bad_prefix_or_suffix),
        T(test_enomem_on_creation_leaves_nothing),
        T(test_write_boundaries),
        T(test_write_in_steps_rolls_past_max),
        T(test_overwrite_within_max_stays),
        T(test_max_size_zero_never_rolls_by_size),
        T(test_seek_past_max_then_empty_write),
        T(test_truncate_boundaries),
        T(test_truncate_with_max_size_zero),
        T(test_fileno_rolls_tiny_file),
        T(test_rollover_uses_dir_and_mode),
        T(test_rollover_keeps_bytes_and_position),
        T(test_rollover_and_rolled_on_other_handles),
        T(test_gaps_read_as_zeros),
        T(test_read_spans_chunks_and_stops_at_end),
        T(test_seek_whences_and_errors),
        T(test_closed_file),
        T(test_far_write_costs_no_memory),
        T(test_write_at_one_tib),
        T(test_far_write_failure_changes_nothing),
        T(test_small_gap_stays_in_memory),
        T(test_enomem_on_growth_changes_nothing),
        T(test_rollover_fault_every_step),
        T(test_rollover_short_writes),
        T(test_failed_trigger_changes_nothing),
        T(test_rolling_calls_all_or_nothing),
        T(test_wipe_on_close_truncate_and_rollover),
        T(test_memory_at_most_twice_the_data),
        T(test_putc_getc),
        T(test_window_mixed_with_other_calls),
        T(test_stream_across_rollover),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
