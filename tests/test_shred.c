/*
 * Secure deletion (shred.c) and the filesystem report (fsinfo.c): passes,
 * zero pass, slack, holes, removal the wipesync way, handles (named,
 * unnamed, spooled in memory), trees, refusals (FIFO, socket, device, link,
 * no write permission, hard links), a file growing meanwhile, every seam
 * call failed in turn, and, as root with loop devices, what really reaches
 * the disk: ext4 images searched raw after the shred, btrfs and reflinked
 * xfs refused, tmpfs reported as memory.
 */
#include "tftest.h"

#include <fcntl.h>
#include <sched.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

/* ---- helpers ------------------------------------------------------------ */

/* Writes n bytes of pattern c into dir/name; its path (malloc'd). */
static char *make_file(const char *dir, const char *name, size_t n, int c)
{
    char *path = path_join(dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    char buf[4096];
    memset(buf, c, sizeof buf);
    for (size_t done = 0; done < n; ) {
        size_t m = n - done < sizeof buf ? n - done : sizeof buf;
        assert_int_equal(write(fd, buf, m), (ssize_t)m);
        done += m;
    }
    assert_int_equal(fsync(fd), 0);
    close(fd);
    return path;
}

/* Bytes of the file at path equal to c (-1 if it cannot be read). */
static long count_byte(const char *path, int c, off_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char buf[65536];
    long count = 0;
    off_t total = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < r; i++)
            count += buf[i] == c;
        total += r;
    }
    close(fd);
    if (size)
        *size = total;
    return count;
}

static blksize_t block_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_blksize;
}

/* ---- options -------------------------------------------------------------- */

static void test_bad_options(void **state)
{
    char *p = make_file(TFT_DIR(state), "f", 100, 'a');
    errno = 0;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .reserved = { 0, 1 } }, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_KEEP }, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_HANDOFF_SHARE }, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 101 }, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred(NULL, NULL, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred("", NULL, NULL), -1);
    assert_errno(ENOENT);
    assert_int_equal(tf_file_shred(NULL, NULL, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred_probe(0, NULL), -1);
    assert_errno(EINVAL);
    /* Nothing was touched. */
    assert_int_equal(count_byte(p, 'a', NULL), 100);
    free(p);
}

/* ---- overwriting ------------------------------------------------------------ */

static void test_default_passes_keep_size(void **state)
{
    char *p = make_file(TFT_DIR(state), "f", 10000, 'a');
    tf_shred_report r;
    memset(&r, 0xff, sizeof r);
    assert_int_equal(tf_shred(p, NULL, &r), 0);
    assert_int_equal(r.passes, 3);
    assert_int_equal(r.effective, 1);
    assert_int_equal(r.grew, 0);
    assert_string_equal(r.left, "");
    off_t size;
    /* Random bytes: about 1 in 256 is 'a', nowhere near all of them. */
    assert_true(count_byte(p, 'a', &size) < 200);
    assert_int_equal(size, 10000);
    /* Up to the end of the last block by default. */
    off_t blk = block_size(p);
    assert_int_equal(r.bytes, (10000 + blk - 1) / blk * blk);
    free(p);
}

static void test_zero_pass_exact(void **state)
{
    char *p = make_file(TFT_DIR(state), "f", 10000, 'a');
    tf_shred_report r;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 1,
                                  .flags = TF_SHRED_ZERO | TF_SHRED_EXACT }, &r), 0);
    assert_int_equal(r.passes, 2);
    assert_int_equal(r.bytes, 10000);
    off_t size;
    assert_int_equal(count_byte(p, 0, &size), 10000);
    assert_int_equal(size, 10000);
    free(p);
}

/* Holes are found by FIEMAP, or by SEEK_DATA where FIEMAP is refused. */
static void holes_not_filled(void **state, bool fiemap)
{
    char *p = path_join(TFT_DIR(state), "sparse");
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    char buf[4096];
    memset(buf, 's', sizeof buf);
    assert_int_equal(pwrite(fd, buf, sizeof buf, 0), 4096);
    assert_int_equal(pwrite(fd, buf, sizeof buf, 8 << 20), 4096);
    assert_int_equal(fsync(fd), 0);
    struct stat before, after;
    assert_int_equal(fstat(fd, &before), 0);
    if (lseek(fd, 0, SEEK_HOLE) != 4096) {
        close(fd);
        free(p);
        skip();   /* no holes on this filesystem */
    }
    tf_shred_report r;
    if (!fiemap)
        fault_arm_range("ioctl", 1, 0, EOPNOTSUPP);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_ZERO }, &r), 0);
    fault_reset();
    assert_int_equal(fstat(fd, &after), 0);
    /* Only the two data blocks were written; the hole is still a hole. */
    assert_int_equal(r.bytes, 8192);
    assert_int_equal(after.st_size, before.st_size);
    assert_true(after.st_blocks <= before.st_blocks);
    assert_int_equal(count_byte(p, 's', NULL), 0);
    close(fd);
    unlink(p);
    free(p);
}

static void test_holes_not_filled(void **state)
{
    holes_not_filled(state, true);
    holes_not_filled(state, false);
}

/* Whether any extent of the file open as fd is unwritten (FIEMAP). */
static bool has_unwritten_extent(int fd)
{
    union {
        struct fiemap fm;
        char room[sizeof(struct fiemap) + 64 * sizeof(struct fiemap_extent)];
    } u;
    memset(&u, 0, sizeof u);
    u.fm.fm_length = FIEMAP_MAX_OFFSET;
    u.fm.fm_flags = FIEMAP_FLAG_SYNC;
    u.fm.fm_extent_count = 64;
    if (ioctl(fd, FS_IOC_FIEMAP, &u.fm) != 0)
        return false;
    for (unsigned i = 0; i < u.fm.fm_mapped_extents; i++)
        if (u.fm.fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN)
            return true;
    return false;
}

/* Zeroes the range of the file at path in place (FALLOC_FL_ZERO_RANGE);
 * false where the filesystem cannot, or leaves no unwritten extent (then
 * SEEK_DATA sees data anyway). */
static bool zero_range(const char *path, off_t len)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    bool ok = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, len) == 0 &&
              fsync(fd) == 0 && has_unwritten_extent(fd);
    close(fd);
    return ok;
}

/*
 * A range zeroed with FALLOC_FL_ZERO_RANGE is an unwritten extent: SEEK_DATA
 * calls it a hole, yet its blocks are the file's and (ext4) still hold the
 * old data. It is overwritten like data (was: skipped, 0 bytes written).
 */
static void test_unwritten_extent_overwritten(void **state)
{
    char *p = make_file(TFT_DIR(state), "zeroed", 65536, 'u');
    if (!zero_range(p, 65536)) {
        free(p);
        skip();   /* no unwritten extents on this filesystem */
    }
    tf_shred_report r;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 1 }, &r), 0);
    assert_int_equal(r.bytes, 65536);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_false(has_unwritten_extent(fd));
    close(fd);
    off_t size;
    assert_true(count_byte(p, 0, &size) < 65536 / 8);   /* random now, not zeros */
    assert_int_equal(size, 65536);
    free(p);
}

static void test_large_file_bounded_memory(void **state)
{
    char *p = make_file(TFT_DIR(state), "big", 6 << 20, 'b');
    fault_count_start();
    tf_shred_report r;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 1 }, &r), 0);
    /* One buffer of 1 MiB, whatever the size: several writes, two
     * allocations at most (the buffer and the directory part of the path),
     * plus the mountinfo read of ext4's journal check. */
    assert_true(fault_calls("pwrite") >= 6);
    assert_true(fault_calls("malloc") <= 3);
    fault_reset();
    assert_true(count_byte(p, 'b', NULL) < (6 << 20) / 100);
    free(p);
}

/* Appends to the file being shredded at its first overwrite. */
static int grow_fd = -1;
static ssize_t growing_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (grow_fd >= 0) {
        char more[8192] = { 'g' };
        lseek(grow_fd, 0, SEEK_END);
        if (write(grow_fd, more, sizeof more) != (ssize_t)sizeof more)
            return -1;
    }
    return tf__sys_default.pwrite(fd, buf, n, off);
}

static void test_file_growing(void **state)
{
    char *p = make_file(TFT_DIR(state), "grows", 5000, 'a');
    grow_fd = open(p, O_WRONLY | O_CLOEXEC);
    assert_true(grow_fd >= 0);
    fault_count_start();
    fault_next.pwrite = growing_pwrite;
    tf__sys.pwrite = growing_pwrite;
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), -1);
    assert_errno(EBUSY);
    close(grow_fd);
    grow_fd = -1;
    fault_reset();
    assert_int_equal(r.grew, 1);
    /* Not removed: what grew is still there to be dealt with. */
    assert_true(path_exists(p));
    free(p);
}

/* A reader elsewhere keeps its descriptor; it reads the new bytes. */
static void test_open_read_only_elsewhere(void **state)
{
    char *p = make_file(TFT_DIR(state), "f", 5000, 'e');
    int ro = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(ro >= 0);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_ZERO | TF_SHRED_REMOVE },
                              NULL), 0);
    assert_false(path_exists(p));
    struct stat st;
    assert_int_equal(fstat(ro, &st), 0);
    assert_int_equal(st.st_size, 0);   /* truncated before the unlink */
    char c;
    assert_int_equal(pread(ro, &c, 1, 0), 0);
    close(ro);
    free(p);
}

/* ---- refusals ------------------------------------------------------------ */

static void test_not_regular_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    char *fifo = path_join(dir, "fifo"), *sock = path_join(dir, "sock"),
         *link = path_join(dir, "link"), *sub = path_join(dir, "sub");
    char *target = make_file(dir, "target", 100, 't');
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    int fds = fd_count();
    errno = 0;
    /* A FIFO without a reader: refused at once, never opened. */
    assert_int_equal(tf_shred(fifo, NULL, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred(sock, NULL, NULL), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred("/dev/null", &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, NULL), -1);
    assert_errno(EINVAL);
    assert_true(path_exists("/dev/null"));
    assert_int_equal(tf_shred(link, NULL, NULL), -1);
    assert_errno(ELOOP);
    assert_int_equal(tf_shred(sub, NULL, NULL), -1);
    assert_errno(EISDIR);
    assert_int_equal(tf_shred_tree(target, NULL, NULL), -1);
    assert_errno(ENOTDIR);
    assert_no_fd_leak(fds);
    assert_int_equal(count_byte(target, 't', NULL), 100);
    close(s);
    free(fifo), free(sock), free(link), free(sub), free(target);
}

struct perm_arg {
    const char *path;
};

static int shred_without_permission(void *arg)
{
    struct perm_arg *a = arg;
    tf_shred_report r;
    errno = 0;
    CHECK(tf_shred(a->path, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r) == -1);
    CHECK(errno == EACCES);
    return 0;
}

static void test_no_write_permission(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "ro", 3000, 'r');
    assert_int_equal(chmod(p, 0400), 0);
    give_to_nobody(dir);
    give_to_nobody(p);
    struct stat before, after;
    assert_int_equal(stat(p, &before), 0);
    struct perm_arg a = { p };
    assert_int_equal(run_child(shred_without_permission, &a, true), 0);
    assert_int_equal(stat(p, &after), 0);
    /* Nothing changed: bytes, size, times. */
    assert_int_equal(count_byte(p, 'r', NULL), 3000);
    assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    free(p);
}

static void test_hard_link_refused_then_forced(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "f", 3000, 'h'), *l = path_join(dir, "other");
    assert_int_equal(link(p, l), 0);
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_shred(p, NULL, &r), -1);
    assert_errno(EMEDIUMTYPE);
    assert_true(r.why & TF_FS_HARD_LINKS);
    assert_int_equal(r.effective, 0);
    assert_int_equal(r.passes, 0);
    assert_int_equal(count_byte(l, 'h', NULL), 3000);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_FORCE }, &r), 0);
    assert_int_equal(r.effective, 0);
    assert_int_equal(r.passes, 3);
    assert_true(count_byte(l, 'h', NULL) < 100);
    free(p), free(l);
}

/* ---- removal ------------------------------------------------------------- */

/* A bare name, relative to the working directory or to a descriptor. */
static void test_remove_relative(void **state)
{
    const char *dir = TFT_DIR(state);
    free(make_file(dir, "rel", 100, 'r'));
    free(make_file(dir, "at", 100, 'r'));
    char *cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(dir), 0);
    tf_shred_opts o = { .flags = TF_SHRED_REMOVE };
    int rc = tf_shred("rel", &o, NULL);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_int_equal(tf_shredat(dfd, "at", &o, NULL), 0);
    close(dfd);
    assert_int_equal(dir_entries(dir), 0);
    free(cwd);
}

static void test_remove_wipesync(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "a_rather_long_secret_name.txt", 5000, 'a');
    /* Names it will try first are taken: it goes on to others. */
    char *taken = make_file(dir, "00000000000000000000000000000", 1, 'x');
    fault_count_start();
    tf_shred_report r;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE | TF_SHRED_ZERO },
                              &r), 0);
    /* One rename per length, each followed by a directory sync. */
    size_t len = strlen("a_rather_long_secret_name.txt");
    assert_int_equal(fault_calls("renameat2"), len + 1);   /* one EEXIST */
    assert_true(fault_calls("fsync") >= len + 2);
    fault_reset();
    assert_false(path_exists(p));
    assert_string_equal(r.left, "");
    assert_int_equal(r.passes, 4);
    assert_int_equal(dir_entries(dir), 1);   /* only the name that was taken */
    assert_true(path_exists(taken));
    free(p), free(taken);
}

/* ---- hooks, sizes, removal modes, descriptors --------------------------- */

struct events {
    char log[2048];
    unsigned long long last_done;
    unsigned written;
};

static void record(const tf_shred_event *ev, void *arg)
{
    struct events *e = arg;
    size_t n = strlen(e->log);
    char *at = e->log + n;
    size_t room = sizeof e->log - n;
    switch (ev->kind) {
    case TF_SHRED_EV_PASS:
        snprintf(at, room, "pass %s %u/%u %s %llu;", ev->name, ev->pass, ev->passes,
                 ev->zero ? "zero" : "random", ev->size);
        break;
    case TF_SHRED_EV_WRITTEN:
        /* Offsets only grow within a pass; the last one is the pass's end. */
        assert_true(ev->done <= ev->size);
        e->last_done = ev->done;
        e->written++;
        if (ev->done == ev->size)
            snprintf(at, room, "end;");
        break;
    case TF_SHRED_EV_REMOVING:
        snprintf(at, room, "removing %s;", ev->name);
        break;
    case TF_SHRED_EV_RENAMED:
        snprintf(at, room, "%s>%s;", ev->name, ev->to);
        break;
    case TF_SHRED_EV_REMOVED:
        snprintf(at, room, "removed %s;", ev->name);
        break;
    default:
        fail_msg("event kind %u", ev->kind);
    }
}

static void test_progress_events(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "abcd", 3 * (1 << 20) + 5, 'a');
    struct events e = { .log = "" };
    tf_shred_hooks h = { .progress = record, .arg = &e };
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 2, .hooks = &h,
                                  .flags = TF_SHRED_ZERO | TF_SHRED_EXACT | TF_SHRED_REMOVE },
                              NULL), 0);
    /* Each pass: one write event per MiB (4) and the pass's end (one more
     * with the same offset, after the sync). */
    assert_string_equal(e.log,
        "pass abcd 1/3 random 3145733;end;end;pass abcd 2/3 random 3145733;end;end;"
        "pass abcd 3/3 zero 3145733;end;end;removing abcd;abcd>0000;0000>000;000>00;00>0;"
        "removed abcd;");
    assert_int_equal(e.written, 3 * 5);
    assert_false(path_exists(p));
    free(p);
}

static int fill_q(void *buf, size_t n, void *arg)
{
    (void)arg;
    memset(buf, 'Q', n);
    return 0;
}

static int fill_fails(void *buf, size_t n, void *arg)
{
    (void)buf, (void)n;
    errno = *(int *)arg;
    return -1;
}

static void test_random_hook(void **state)
{
    char *p = make_file(TFT_DIR(state), "f", 3 << 20, 'a');
    tf_shred_report r;
    tf_shred_opts o = { .passes = 1, .flags = TF_SHRED_EXACT,
                        .hooks = &(tf_shred_hooks){ .random = fill_q } };
    assert_int_equal(tf_shred(p, &o, &r), 0);
    assert_int_equal(count_byte(p, 'Q', NULL), 3 << 20);
    /* A failing source fails the shred with its errno; one that does not
     * say why gives EIO. */
    int err = ENODATA;
    o.hooks = &(tf_shred_hooks){ .random = fill_fails, .arg = &err };
    o.flags |= TF_SHRED_REMOVE;
    errno = 0;
    assert_int_equal(tf_shred(p, &o, &r), -1);
    assert_errno(ENODATA);
    assert_int_equal(r.passes, 0);
    assert_true(path_exists(p));
    err = 0;
    assert_int_equal(tf_shred(p, &o, &r), -1);
    assert_errno(EIO);
    assert_int_equal(count_byte(p, 'Q', NULL), 3 << 20);
    free(p);
}

static void test_exact_size(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "f", 10000, 'a');
    tf_shred_report r;
    tf_shred_hooks q = { .random = fill_q };
    /* Smaller than the file: the head only, the size kept. */
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 1, .flags = TF_SHRED_SIZE,
                                  .size = 100, .hooks = &q }, &r), 0);
    off_t size;
    assert_int_equal(count_byte(p, 'Q', &size), 100);
    assert_int_equal(count_byte(p, 'a', NULL), 9900);
    assert_int_equal(size, 10000);
    assert_int_equal(r.bytes, 100);
    /* Larger: the file grows to it and keeps it (coreutils shred -s). */
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 2, .flags = TF_SHRED_SIZE |
                                  TF_SHRED_ZERO, .size = 20000 }, &r), 0);
    assert_int_equal(count_byte(p, 0, &size), 20000);
    assert_int_equal(r.passes, 3);
    /* Zero bytes: nothing written. */
    char *z = make_file(dir, "z", 50, 'z');
    assert_int_equal(tf_shred(z, &(tf_shred_opts){ .flags = TF_SHRED_SIZE }, &r), 0);
    assert_int_equal(count_byte(z, 'z', &size), 50);
    assert_int_equal(r.bytes, 0);
    /* A hole is written too: the size asked for is covered whole. */
    int fd = open(z, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 20), 0);
    close(fd);
    assert_int_equal(tf_shred(z, &(tf_shred_opts){ .passes = 1, .flags = TF_SHRED_SIZE,
                                  .size = 1 << 20, .hooks = &q }, &r), 0);
    assert_int_equal(count_byte(z, 'Q', &size), 1 << 20);
    free(p), free(z);
}

static void test_no_passes(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "f", 5000, 'a');
    tf_shred_report r;
    struct events e = { .log = "" };
    tf_shred_hooks h = { .progress = record, .arg = &e };
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = TF_SHRED_NO_PASSES,
                                  .hooks = &h }, &r), 0);
    assert_int_equal(r.passes, 0);
    assert_string_equal(e.log, "");
    assert_int_equal(count_byte(p, 'a', NULL), 5000);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = TF_SHRED_NO_PASSES,
                                  .flags = TF_SHRED_ZERO | TF_SHRED_EXACT, .hooks = &h }, &r), 0);
    assert_int_equal(r.passes, 1);
    assert_string_equal(e.log, "pass f 1/1 zero 5000;end;end;");
    assert_int_equal(count_byte(p, 0, NULL), 5000);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = TF_SHRED_NO_PASSES,
                                  .flags = TF_SHRED_REMOVE }, &r), 0);
    assert_false(path_exists(p));
    free(p);
}

static void test_remove_unlink(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "a_secret", 5000, 'a');
    struct events e = { .log = "" };
    tf_shred_hooks h = { .progress = record, .arg = &e };
    fault_count_start();
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = TF_SHRED_NO_PASSES, .hooks = &h,
                                  .flags = TF_SHRED_REMOVE | TF_SHRED_UNLINK }, NULL), 0);
    /* No rename, no sync: one truncation and one unlink. */
    assert_int_equal(fault_calls("renameat2"), 0);
    assert_int_equal(fault_calls("fsync"), 0);
    assert_int_equal(fault_calls("ftruncate"), 1);
    assert_int_equal(fault_calls("unlinkat"), 1);
    fault_reset();
    assert_string_equal(e.log, "removing a_secret;removed a_secret;");
    assert_int_equal(dir_entries(dir), 0);
    free(p);
}

static void test_bad_new_options(void **state)
{
    char *p = make_file(TFT_DIR(state), "f", 100, 'a');
    const tf_shred_opts bad[] = {
        { .flags = TF_SHRED_UNLINK },             /* UNLINK without REMOVE */
        { .size = 10 },                           /* size without TF_SHRED_SIZE */
        { .passes = TF_SHRED_NO_PASSES - 1 },
        { .hooks = &(tf_shred_hooks){ .reserved = { 0, 0, 0, 1 } } },
        { .flags = TF_HANDOFF_SHARE },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(tf_shred(p, &bad[i], NULL), -1);
        assert_errno(EINVAL);
        errno = 0;
        assert_int_equal(tf_shred_fd(0, &bad[i], NULL), -1);
        assert_errno(EINVAL);
    }
    assert_int_equal(count_byte(p, 'a', NULL), 100);
    free(p);
}

static void test_shred_fd(void **state)
{
    const char *dir = TFT_DIR(state);
    char *p = make_file(dir, "f", 5000, 'a'), *fifo = path_join(dir, "fifo");
    int fds = fd_count();
    tf_shred_report r;
    /* Read-only, appending, a path descriptor: refused, nothing written. */
    int ro = open(p, O_RDONLY | O_CLOEXEC), ap = open(p, O_WRONLY | O_APPEND | O_CLOEXEC),
        pa = open(p, O_PATH | O_CLOEXEC);
    errno = 0;
    assert_int_equal(tf_shred_fd(ro, NULL, &r), -1);
    assert_errno(EBADF);
    assert_int_equal(tf_shred_fd(ap, NULL, &r), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred_fd(pa, NULL, &r), -1);
    assert_errno(EBADF);
    close(ro), close(ap), close(pa);
    assert_int_equal(count_byte(p, 'a', NULL), 5000);
    assert_int_equal(tf_shred_fd(-1, NULL, &r), -1);
    assert_errno(EBADF);
    /* A FIFO (open both ways, so that opening it did not block), a directory. */
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int ff = open(fifo, O_RDWR | O_CLOEXEC), dd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_int_equal(tf_shred_fd(ff, NULL, &r), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_shred_fd(dd, NULL, &r), -1);
    assert_errno(EISDIR);
    close(ff), close(dd);
    /* Writable: overwritten; with TF_SHRED_REMOVE emptied, the name kept. */
    int fd = open(p, O_RDWR | O_CLOEXEC);
    assert_int_equal(tf_shred_fd(fd, &(tf_shred_opts){ .passes = 1,
                                     .flags = TF_SHRED_ZERO | TF_SHRED_EXACT }, &r), 0);
    assert_int_equal(r.passes, 2);
    assert_int_equal(count_byte(p, 0, NULL), 5000);
    assert_int_equal(tf_shred_fd(fd, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), 0);
    off_t size;
    count_byte(p, 0, &size);
    assert_int_equal(size, 0);
    assert_true(fcntl(fd, F_GETFD) >= 0);   /* still open */
    close(fd);
    assert_no_fd_leak(fds);
    free(p), free(fifo);
}

/* ---- handles ----------------------------------------------------------- */

static void test_named_handle(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    char secret[3000];
    memset(secret, 'S', sizeof secret);
    assert_int_equal(tf_file_write(f, secret, sizeof secret), (ssize_t)sizeof secret);
    /* Buffered in the stream view: it must be written before the passes. */
    FILE *s = tf_file_stream(f);
    assert_non_null(s);
    fputs("SSSS", s);
    char *name = strdup(tf_file_name(f));
    size_t reg = tf_cleanup_registered();
    tf_shred_report r;
    assert_int_equal(tf_file_shred(f, &(tf_shred_opts){ .flags = TF_SHRED_ZERO }, &r), 0);
    assert_int_equal(count_byte(name, 'S', NULL), 0);
    assert_int_equal(count_byte(name, 0, NULL), 3004);
    assert_int_equal(tf_file_shred(f, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), 0);
    assert_false(path_exists(name));
    assert_int_equal(tf_cleanup_registered(), reg - 1);
    assert_int_equal(dir_entries(dir), 0);
    assert_int_equal(tf_file_release(f), 0);
    free(name);
}

/* The handle's name now names another file (renamed over it), or nothing:
 * the passes reach the handle's file, the removal refuses with ESTALE and
 * removes nothing, and the report names no file left. */
static void test_named_handle_name_replaced(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int gone = 0; gone < 2; gone++) {
        tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, "SSSSSSSS", 8), 8);
        char *other = make_file(dir, "other", 100, 'O');
        if (gone)
            assert_int_equal(unlink(tf_file_name(f)), 0);
        else
            assert_int_equal(rename(other, tf_file_name(f)), 0);
        tf_shred_report r;
        errno = 0;
        assert_int_equal(tf_file_shred(f, &(tf_shred_opts){ .flags = TF_SHRED_ZERO |
                                                                    TF_SHRED_REMOVE }, &r), -1);
        assert_errno(ESTALE);
        assert_string_equal(r.left, "");
        assert_int_equal(r.passes, 4);   /* the handle's own file was shredded */
        char *name = strdup(tf_file_name(f));
        if (!gone)
            assert_int_equal(count_byte(name, 'O', NULL), 100);
        tf_file_release(f);
        /* Nor does the release remove what is not the handle's file. */
        if (!gone)
            assert_int_equal(count_byte(name, 'O', NULL), 100);
        free(name);
        remove_tree(dir);
        assert_int_equal(mkdir(dir, 0700), 0);
        free(other);
    }
}

/* Removal renames to ever shorter free names: a one-character name skips
 * itself, and when every name of a length is taken it goes on shorter (or,
 * at one character, to the unlink); no other file is touched. */
static void test_remove_short_names(void **state)
{
    const char *dir = TFT_DIR(state);
    static const char chars[] = "0123456789abcdefghijklmnopqrstuvwxyz_";
    char *p = make_file(dir, "0", 100, 'v');
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, NULL), 0);
    assert_int_equal(dir_entries(dir), 0);
    free(p);
    for (const char *c = chars; *c; c++) {
        char n[2] = { *c, 0 };
        free(make_file(dir, n, 1, 'k'));
    }
    p = make_file(dir, "x.", 100, 'v');
    tf_shred_report r;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), 0);
    assert_false(path_exists(p));
    assert_int_equal(dir_entries(dir), 37);
    for (const char *c = chars; *c; c++) {
        char n[2] = { *c, 0 };
        char *q = path_join(dir, n);
        assert_int_equal(count_byte(q, 'k', NULL), 1);
        free(q);
    }
    free(p);
}

/* Where FIEMAP and SEEK_DATA are refused every byte counts as data: all
 * overwritten. */
static void test_no_seek_data(void **state)
{
    char *p = make_file(TFT_DIR(state), "victim", 9000, 'v');
    fault_arm_range("ioctl", 1, 0, EOPNOTSUPP);
    fault_arm_range("lseek", 1, 0, EOPNOTSUPP);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .passes = 1, .flags = TF_SHRED_ZERO },
                              NULL), 0);
    fault_reset();
    off_t size;
    assert_int_equal(count_byte(p, 0, &size), 9000);
    assert_int_equal(size, 9000);
    free(p);
}

/* A final "." or "..", or a trailing slash: a directory, refused. */
static void test_dot_names_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dot = path_join(dir, "."), *dotdot = path_join(dir, "..");
    const char *paths[] = { dot, dotdot, "..", "/" };
    for (size_t i = 0; i < 4; i++) {
        errno = 0;
        assert_int_equal(tf_shred(paths[i], NULL, NULL), -1);
        assert_errno(EISDIR);
    }
    free(dot), free(dotdot);
}

/* A tree deeper than 256 levels: ELOOP, nothing written. */
static void test_tree_too_deep(void **state)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/t", TFT_DIR(state));
    assert_int_equal(mkdir(path, 0700), 0);
    for (int d = 0; d < 258; d++) {
        n += snprintf(path + n, sizeof path - (size_t)n, "/d");
        assert_int_equal(mkdir(path, 0700), 0);
    }
    char *deep = make_file(path, "f", 10, 'd');
    char *root = path_join(TFT_DIR(state), "t");
    errno = 0;
    assert_int_equal(tf_shred_tree(root, NULL, NULL), -1);
    assert_errno(ELOOP);
    assert_int_equal(count_byte(deep, 'd', NULL), 10);
    free(deep), free(root);
}

/* An adopted descriptor open for appending: pwrite(2) would append, so the
 * passes never reach the data. Refused before anything is written (was:
 * the file grew by the passes, the data stayed, and EBUSY "grew"). */
static void test_handle_appending_refused(void **state)
{
    char *p = make_file(TFT_DIR(state), "appending", 5000, 'a');
    int fd = open(p, O_RDWR | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    tf_file *f = tf_file_adopt(fd, p, TF_KEEP);
    assert_non_null(f);
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_file_shred(f, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), -1);
    assert_errno(EINVAL);
    off_t size;
    assert_int_equal(count_byte(p, 'a', &size), 5000);
    assert_int_equal(size, 5000);
    assert_int_equal(tf_file_release(f), 0);
    free(p);
}

static void test_unnamed_handle(void **state)
{
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(f);
    char secret[5000];
    memset(secret, 'U', sizeof secret);
    assert_int_equal(tf_file_write(f, secret, sizeof secret), (ssize_t)sizeof secret);
    tf_shred_report r;
    assert_int_equal(tf_file_shred(f, NULL, &r), 0);
    char back[5000];
    assert_int_equal(pread(tf_file_fileno(f), back, sizeof back, 0), 5000);
    size_t left = 0;
    for (size_t i = 0; i < sizeof back; i++)
        left += back[i] == 'U';
    assert_true(left < 100);
    assert_int_equal(tf_file_shred(f, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), 0);
    struct stat st;
    assert_int_equal(fstat(tf_file_fileno(f), &st), 0);
    assert_int_equal(st.st_size, 0);
    tf_file_release(f);
    assert_int_equal(tf_file_shred(f = tf_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) }),
                                   NULL, NULL), 0);
    tf_file_close(f);
    errno = 0;
    assert_int_equal(tf_file_shred(f, NULL, NULL), -1);
    assert_errno(EBADF);
    tf_file_release(f);
}

static size_t wiped_zero_bytes;
static void wipe_seen(const void *p, size_t n, bool freed)
{
    const unsigned char *b = p;
    (void)freed;
    for (size_t i = 0; i < n; i++)
        wiped_zero_bytes += b[i] == 0;
}

static void test_spooled_in_memory_never_touches_disk(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .max_size = 1 << 20 });
    assert_non_null(f);
    char secret[1990];
    memset(secret, 'M', sizeof secret);
    assert_int_equal(tf_file_write(f, secret, sizeof secret), (ssize_t)sizeof secret);
    for (int i = 0; i < 10; i++)   /* inline writes into the open window count too */
        assert_int_equal(tf_file_putc(f, 'M'), 'M');
    fault_count_start();
    tf__spool_wipe_hook = wipe_seen;
    wiped_zero_bytes = 0;
    tf_shred_report r;
    assert_int_equal(tf_file_shred(f, NULL, &r), 0);
    tf__spool_wipe_hook = NULL;
    /* No syscall at all, no rollover. */
    for (int i = 0; fault_names[i]; i++)
        if (strcmp(fault_names[i], "malloc") && fault_calls(fault_names[i]))
            fail_msg("%s called", fault_names[i]);
    fault_reset();
    assert_int_equal(tf_file_rolled(f), 0);
    assert_int_equal(r.why, TF_FS_PROCESS_MEMORY);
    assert_int_equal(r.bytes, 2000);
    assert_int_equal(wiped_zero_bytes, 2000);
    char back[2000];
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    assert_int_equal(tf_file_read(f, back, sizeof back), 2000);
    for (size_t i = 0; i < sizeof back; i++)
        assert_int_equal(back[i], 0);
    assert_int_equal(tf_file_shred(f, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), 0);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), 0);
    assert_int_equal(dir_entries(dir), 0);
    tf_file_release(f);
}

/* ---- trees ------------------------------------------------------------- */

static void make_tree(const char *root, const char *outside)
{
    assert_int_equal(mkdir(root, 0700), 0);
    char *a = path_join(root, "a"), *b = path_join(a, "b"), *ln = path_join(b, "link");
    assert_int_equal(mkdir(a, 0700), 0);
    assert_int_equal(mkdir(b, 0700), 0);
    free(make_file(root, "top", 3000, 'T'));
    free(make_file(a, "mid", 5000, 'T'));
    free(make_file(b, "deep", 7000, 'T'));
    assert_int_equal(symlink(outside, ln), 0);
    free(a), free(b), free(ln);
}

static void test_tree(void **state)
{
    const char *dir = TFT_DIR(state);
    char *outside = make_file(dir, "outside", 1000, 'O');
    char *root = path_join(dir, "tree"), *deep = path_join(root, "a/b/deep");
    make_tree(root, outside);
    tf_shred_report r;
    assert_int_equal(tf_shred_tree(root, &(tf_shred_opts){ .flags = TF_SHRED_ZERO }, &r), 0);
    assert_int_equal(r.files, 3);
    assert_int_equal(count_byte(deep, 0, NULL), 7000);
    assert_int_equal(tf_shred_tree(root, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), 0);
    assert_false(path_exists(root));
    /* The link was removed, never followed. */
    assert_int_equal(count_byte(outside, 'O', NULL), 1000);
    assert_int_equal(dir_entries(dir), 1);
    free(outside), free(root), free(deep);
}

/* During the first file's first pass, the other file of the tree gets a
 * hard link outside it. */
static void link_other(const tf_shred_event *ev, void *arg)
{
    char **paths = arg;   /* a, b, the link to make */
    if (ev->kind == TF_SHRED_EV_PASS && ev->pass == 1 && !paths[3]) {
        paths[3] = "linked";
        assert_int_equal(link(strcmp(ev->name, "a") == 0 ? paths[1] : paths[0], paths[2]), 0);
    }
}

/* A hard link made between the probing walk and the writing one: the file
 * is refused when its turn comes (was: overwritten, the outside name's data
 * lost, and the call a success). */
static void test_tree_link_after_probe(void **state)
{
    const char *dir = TFT_DIR(state);
    char *root = path_join(dir, "tree");
    assert_int_equal(mkdir(root, 0700), 0);
    char *paths[4] = { make_file(root, "a", 3000, 'P'), make_file(root, "b", 3000, 'P'),
                       path_join(dir, "outside"), NULL };
    tf_shred_hooks h = { .progress = link_other, .arg = paths };
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_shred_tree(root, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE, .hooks = &h },
                                   &r), -1);
    assert_errno(EMEDIUMTYPE);
    assert_true(r.why & TF_FS_HARD_LINKS);
    assert_int_equal(r.effective, 0);
    assert_int_equal(r.files, 1);
    assert_int_equal(count_byte(paths[2], 'P', NULL), 3000);
    free(paths[0]), free(paths[1]), free(paths[2]), free(root);
}

static void test_tree_refused_before_any_write(void **state)
{
    const char *dir = TFT_DIR(state);
    char *outside = make_file(dir, "outside", 1000, 'O');
    char *root = path_join(dir, "tree"), *top = path_join(root, "top"),
         *hl = path_join(dir, "hardlink");
    make_tree(root, outside);
    char *deep = path_join(root, "a/b/deep");
    assert_int_equal(link(deep, hl), 0);
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_shred_tree(root, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), -1);
    assert_errno(EMEDIUMTYPE);
    assert_true(r.why & TF_FS_HARD_LINKS);
    assert_int_equal(r.files, 0);
    assert_int_equal(count_byte(top, 'T', NULL), 3000);
    assert_int_equal(count_byte(deep, 'T', NULL), 7000);
    free(outside), free(root), free(top), free(hl), free(deep);
}

/* ---- every seam call failing ------------------------------------------- */

/* After a failed shred with removal: the file is where the report says. */
static void check_left(const char *dir, const char *name, int rc, const tf_shred_report *r)
{
    int n = dir_entries(dir);
    if (rc == 0) {
        assert_int_equal(n, 0);
        return;
    }
    if (n == 0)
        return;   /* unlinked; the failure was the last directory sync */
    assert_int_equal(n, 1);
    char *p = path_join(dir, r->left[0] ? r->left : name);
    if (!path_exists(p))
        fail_msg("left under %s, report says '%s'", p, r->left);
    free(p);
}

static void test_every_call_fails(void **state)
{
    static const char *const calls[] = {
        "openat", "close", "fstat", "fstatat", "statx", "fstatfs", "ioctl", "lseek",
        "pwrite", "fdatasync", "fsync", "ftruncate", "renameat2", "unlinkat",
        "malloc", "getrandom", "read", NULL
    };
    static const int errs[] = { ENOSPC, EIO, EINTR, EACCES };
    char *dir = path_join(TFT_DIR(state), "d");
    assert_int_equal(mkdir(dir, 0700), 0);
    unsigned long failures = 0;
    for (int c = 0; calls[c]; c++) {
        for (size_t e = 0; e < sizeof errs / sizeof errs[0]; e++) {
            for (unsigned long nth = 1;; nth++) {
                char *p = make_file(dir, "victim", 5000, 'v');
                int fds = fd_count();
                fault_arm(calls[c], nth, errs[e]);
                tf_shred_report r;
                errno = 0;
                int rc = tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE |
                                                       TF_SHRED_ZERO }, &r);
                int err = errno;
                unsigned long hit = fault_hits();
                fault_reset();
                assert_no_fd_leak(fds);
                check_left(dir, "victim", rc, &r);
                if (rc < 0) {
                    failures++;
                    /* The injected error, or what it turned into. */
                    if (err != errs[e] && err != ESTALE && err != EINVAL)
                        fail_msg("%s #%lu %s: errno %s", calls[c], nth, errname(errs[e]),
                                 errname(err));
                } else if (!path_exists(p)) {
                    /* Succeeded: the fault was absorbed (EINTR retried,
                     * an informational ioctl or /proc read). */
                }
                free(p);
                remove_tree(dir);
                assert_int_equal(mkdir(dir, 0700), 0);
                if (!hit)
                    break;
            }
        }
    }
    assert_true(failures > 50);
    free(dir);
}

static void test_every_call_fails_tree(void **state)
{
    static const char *const calls[] = {
        "openat", "close", "fstat", "fstatat", "statx", "fstatfs", "lseek", "pwrite",
        "fdatasync", "fsync", "ftruncate", "renameat2", "unlinkat", "getdents64", "malloc",
        "getrandom", NULL
    };
    static const int errs[] = { ENOSPC, EIO, EINTR, EACCES };
    /* On tmpfs where there is one: a few hundred runs of syncs and
     * discards on ext4 would take minutes. */
    char shm[] = "/dev/shm/tftest-XXXXXX";
    const char *dir = mkdtemp(shm) ? shm : TFT_DIR(state);
    char *outside = make_file(dir, "outside", 100, 'O');
    char *root = path_join(dir, "tree");
    unsigned long failures = 0;
    for (int c = 0; calls[c]; c++) {
        for (size_t e = 0; e < sizeof errs / sizeof errs[0]; e++) {
            for (unsigned long nth = 1;; nth++) {
                make_tree(root, outside);
                int fds = fd_count();
                fault_arm(calls[c], nth, errs[e]);
                tf_shred_report r;
                errno = 0;
                int rc = tf_shred_tree(root, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r);
                int err = errno;
                unsigned long hit = fault_hits();
                fault_reset();
                assert_no_fd_leak(fds);
                if (rc == 0)
                    assert_false(path_exists(root));
                else if (err != errs[e] && err != ESTALE && err != EINVAL)
                    fail_msg("%s #%lu %s: errno %s", calls[c], nth, errname(errs[e]),
                             errname(err));
                failures += rc < 0;
                /* Never outside the tree. */
                assert_int_equal(count_byte(outside, 'O', NULL), 100);
                remove_tree(root);
                if (!hit)
                    break;
            }
        }
    }
    assert_true(failures > 50);
    free(outside), free(root);
    if (dir == shm)
        remove_tree(shm);
}

/* ---- the filesystem, for real ------------------------------------------ */

static void test_tmpfs_reports_memory(void **state)
{
    (void)state;
    struct statfs sf;
    if (statfs("/dev/shm", &sf) != 0 || sf.f_type != 0x01021994) {
        print_message("skipped: /dev/shm is not a tmpfs here\n");
        skip();
    }
    char tmpl[] = "/dev/shm/tftest-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *p = make_file(tmpl, "f", 20000, 'm');
    tf_shred_report r;
    assert_int_equal(tf_shred(p, NULL, &r), 0);
    assert_true(r.why & TF_FS_MEMORY);
    assert_int_equal(r.fs_type, 0x01021994);
    assert_int_equal(r.effective, 1);
    char *swaps = read_file_str("/proc/swaps");
    bool swap = swaps && strchr(swaps, '\n') && strchr(swaps, '\n')[1];
    free(swaps);
    assert_int_equal(!!(r.why & TF_FS_SWAP), swap);
    assert_true(count_byte(p, 'm', NULL) < 400);
    free(p);
    remove_tree(tmpl);
}

/* Runs a shell command quietly; its exit status. */
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool have(const char *tool)
{
    return sh("command -v %s >/dev/null 2>&1", tool) == 0;
}

/* Makes an image of mb MiB with mkfs (a command taking the image last) and
 * mounts it at mnt with options; false (printing why) when the machine
 * cannot. */
static bool mount_image(const char *img, const char *mnt, int mb, const char *mkfs,
                        const char *options)
{
    if (!running_as_root()) {
        print_message("skipped: loop mounts need root\n");
        return false;
    }
    if (access("/dev/loop-control", F_OK) != 0) {
        print_message("skipped: no loop devices (/dev/loop-control)\n");
        return false;
    }
    char tool[64];
    sscanf(mkfs, "%63s", tool);
    if (!have(tool)) {
        print_message("skipped: %s missing (scripts/test installs it)\n", tool);
        return false;
    }
    assert_int_equal(sh("truncate -s %dM %s", mb, img), 0);
    assert_int_equal(sh("%s %s >/dev/null 2>&1", mkfs, img), 0);
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (sh("mount -o loop%s%s %s %s 2>/dev/null", options ? "," : "", options ? options : "",
           img, mnt) != 0) {
        print_message("skipped: cannot loop-mount a %s image here\n", tool);
        return false;
    }
    return true;
}

/* A test's image mounted, or the test skipped (img and mnt freed: malloc'd). */
#define MOUNT_OR_SKIP(img, mnt, mb, mkfs, options)        \
    do {                                                  \
        if (!mount_image(img, mnt, mb, mkfs, options)) {  \
            free(img), free(mnt);                         \
            skip();                                       \
        }                                                 \
    } while (0)

static void unmount(const char *mnt)
{
    assert_int_equal(sh("umount %s", mnt), 0);
}

/* Occurrences of needle in the file at path, read in bounded pieces. */
static long occurrences(const char *path, const void *needle, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    size_t cap = 1 << 20;
    char *buf = malloc(cap + n);
    assert_non_null(buf);
    size_t keep = 0;
    long count = 0;
    ssize_t r;
    while ((r = read(fd, buf + keep, cap)) > 0) {
        size_t len = keep + (size_t)r;
        for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), needle, n)); p++)
            count++;
        keep = len < n - 1 ? len : n - 1;
        memmove(buf, buf + len - keep, keep);
    }
    close(fd);
    free(buf);
    return count;
}

/* A random marker of printable characters. */
static void random_marker(char *m, size_t n)
{
    assert_int_equal(tf_random_chars(m, n), 0);
}

/* Writes a file full of the marker on the mounted image, named name. */
static char *write_marker(const char *mnt, const char *name, const char *marker, size_t mlen)
{
    char *p = path_join(mnt, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    for (int i = 0; i < 512; i++)
        assert_int_equal(write(fd, marker, mlen), (ssize_t)mlen);
    assert_int_equal(fsync(fd), 0);
    close(fd);
    sync();
    return p;
}

/* One ext4 round: marker written, then shredded (or only unlinked); how
 * often the marker and the name are then found in the raw image. */
static void ext4_round(const char *dir, const char *features, bool shred, long *markers,
                       long *names, unsigned *why)
{
    char *img = path_join(dir, "ext4.img"), *mnt = path_join(dir, "mnt");
    char mkfs[128];
    snprintf(mkfs, sizeof mkfs, "mkfs.ext4 -q -F %s", features);
    MOUNT_OR_SKIP(img, mnt, 16, mkfs, NULL);
    char marker[48], name[41];
    random_marker(marker, sizeof marker);
    memcpy(name, "secret_", 7);
    random_marker(name + 7, 33);
    name[40] = '\0';
    char *p = write_marker(mnt, name, marker, sizeof marker);
    tf_shred_report r = {0};
    if (shred)
        assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE |
                                                       TF_SHRED_ZERO }, &r), 0);
    else
        assert_int_equal(unlink(p), 0);
    assert_false(path_exists(p));
    unmount(mnt);
    *markers = occurrences(img, marker, sizeof marker);
    *names = occurrences(img, name, strlen(name));
    *why = r.why;
    unlink(img);
    rmdir(mnt);
    free(p), free(img), free(mnt);
}

static void test_ext4_raw_image(void **state)
{
    const char *dir = TFT_DIR(state);
    long markers, names;
    unsigned why;
    /* The control: a plain unlink leaves the data on disk (the name, not:
     * Linux 5.14 on wipes a deleted ext4 directory entry itself). */
    ext4_round(dir, "-O ^has_journal", false, &markers, &names, &why);
    assert_true(markers >= 512);
    print_message("ext4 after unlink: marker %ld times, name %ld times\n", markers, names);
    ext4_round(dir, "-O ^has_journal", true, &markers, &names, &why);
    assert_int_equal(markers, 0);
    assert_int_equal(names, 0);
    assert_int_equal(why & (TF_FS_INEFFECTIVE | TF_FS_METADATA_JOURNAL), 0);
    /* With a journal (data=ordered): the data is gone, the journal is
     * reported (it keeps old directory blocks, so the name may stay). */
    ext4_round(dir, "", true, &markers, &names, &why);
    assert_int_equal(markers, 0);
    assert_true(why & TF_FS_METADATA_JOURNAL);
    print_message("journalled ext4 after shred: marker %ld times, name %ld times\n", markers,
                  names);
}

/* The same on disk: a marker file zeroed in place with ZERO_RANGE, then
 * shredded and removed; the raw image must not hold the marker any more
 * (ext4 keeps an unwritten extent's old blocks and their data). */
static void test_ext4_unwritten_extent_raw(void **state)
{
    const char *dir = TFT_DIR(state);
    char *img = path_join(dir, "u.img"), *mnt = path_join(dir, "mnt");
    MOUNT_OR_SKIP(img, mnt, 16, "mkfs.ext4 -q -F -O ^has_journal", NULL);
    char marker[48];
    random_marker(marker, sizeof marker);
    char *p = write_marker(mnt, "zeroed", marker, sizeof marker);
    bool zeroed = zero_range(p, 512 * (off_t)sizeof marker);
    tf_shred_report r = {0};
    int rc = tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r);
    unmount(mnt);   /* first: a failed assertion would leave it mounted */
    assert_true(zeroed);
    assert_int_equal(rc, 0);
    assert_int_equal(r.bytes, 512 * sizeof marker);
    assert_int_equal(occurrences(img, marker, sizeof marker), 0);
    unlink(img);
    rmdir(mnt);
    free(p), free(img), free(mnt);
}

static void test_ext4_data_journal_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    char *img = path_join(dir, "j.img"), *mnt = path_join(dir, "mnt");
    MOUNT_OR_SKIP(img, mnt, 16, "mkfs.ext4 -q -F", "data=journal");
    char *p = make_file(mnt, "f", 5000, 'j');
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_shred(p, NULL, &r), -1);
    assert_errno(EMEDIUMTYPE);
    assert_true(r.why & TF_FS_DATA_JOURNAL);
    assert_int_equal(count_byte(p, 'j', NULL), 5000);
    unmount(mnt);
    free(p), free(img), free(mnt);
}

/* The jbd2 journal found by the device, whatever path the mount was given
 * (/dev/mapper/vg-root, /dev/disk/by-uuid/...): here the same ext4 mounted
 * a second time through a device node of the test's own, named "disk",
 * which mountinfo then gives as the source (was: jbd2's "disk-8" looked
 * for, and the journal missed). */
static void test_journal_found_by_device(void **state)
{
    const char *dir = TFT_DIR(state);
    char *img = path_join(dir, "d.img"), *mnt = path_join(dir, "mnt");
    MOUNT_OR_SKIP(img, mnt, 16, "mkfs.ext4 -q -F", NULL);
    char *node = path_join(mnt, "disk"), *mnt2 = path_join(dir, "mnt2");
    struct stat st;
    assert_int_equal(stat(mnt, &st), 0);
    assert_int_equal(mknod(node, S_IFBLK | 0600, st.st_dev), 0);
    assert_int_equal(mkdir(mnt2, 0755), 0);
    assert_int_equal(mount(node, mnt2, "ext4", 0, NULL), 0);
    char *seen = read_file_str("/proc/self/mountinfo");
    const char *line = strstr(seen, mnt2);
    assert_non_null(line);
    const char *fs = strstr(line, " - ext4 ");
    assert_non_null(fs);
    assert_int_equal(strncmp(fs + 8, node, strlen(node)), 0);   /* the source is the node */
    free(seen);
    char *p = make_file(mnt2, "f", 100, 'd');
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    tf_shred_report r;
    assert_int_equal(tf_shred_probe(fd, &r), 0);
    close(fd);
    assert_true(r.why & TF_FS_METADATA_JOURNAL);
    unmount(mnt2);
    unmount(mnt);
    unlink(img);
    rmdir(mnt2);
    rmdir(mnt);
    free(p), free(node), free(mnt2), free(img), free(mnt);
}

/* Bytes in this process's /proc/self/mountinfo. */
static size_t mountinfo_size(void)
{
    int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    char buf[65536];
    size_t total = 0;
    ssize_t r;
    while (fd >= 0 && (r = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)r;
    if (fd >= 0)
        close(fd);
    return total;
}

/* Child, in a mount namespace of its own: 4000 bind mounts stacked before a
 * data=journal ext4, so that mountinfo runs past 256 KiB with the ext4 last.
 * Its option is still found (was: only the first 256 KiB were read, and the
 * shred went ahead, the journal keeping copies of the data). */
static int crowded_mounts(void *arg)
{
    const char *dir = arg;
    /* A type string, though these mounts ignore it: valgrind takes NULL
     * for a bad pointer. */
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
        return 77;
    char *stack = path_join(dir, "stack"), *img = path_join(dir, "c.img"),
         *mnt = path_join(dir, "cmnt"), *p = path_join(mnt, "f");
    CHECK(mkdir(stack, 0700) == 0 && mkdir(mnt, 0700) == 0);
    for (int i = 0; i < 4000; i++)
        if (mount(stack, stack, "none", MS_BIND, NULL) != 0)
            return 77;
    CHECK(sh("truncate -s 16M %s && mkfs.ext4 -q -F %s >/dev/null 2>&1", img, img) == 0);
    if (sh("mount -o loop,data=journal %s %s 2>/dev/null", img, mnt) != 0)
        return 77;
    CHECK(mountinfo_size() > 256 * 1024);
    CHECK(write_file(mnt, "f", "journalled") == 0);
    tf_shred_report r;
    errno = 0;
    CHECK(tf_shred(p, NULL, &r) == -1 && errno == EMEDIUMTYPE);
    CHECK(r.why & TF_FS_DATA_JOURNAL);
    free(stack), free(img), free(mnt), free(p);
    return 0;
}

static void test_data_journal_found_among_many_mounts(void **state)
{
    if (!running_as_root() || access("/dev/loop-control", F_OK) != 0 || !have("mkfs.ext4")) {
        print_message("skipped: needs root, loop devices and mkfs.ext4\n");
        skip();
    }
    int rc = run_child(crowded_mounts, (void *)TFT_DIR(state), false);
    if (rc == 77)
        skip();   /* no mount namespace or loop mount here */
    assert_int_equal(rc, 0);
}

static void test_btrfs_refused_forced_not_effective(void **state)
{
    const char *dir = TFT_DIR(state);
    char *img = path_join(dir, "b.img"), *mnt = path_join(dir, "mnt");
    MOUNT_OR_SKIP(img, mnt, 128, "mkfs.btrfs -q -f", NULL);
    char *p = make_file(mnt, "f", 5000, 'b');
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE }, &r), -1);
    assert_errno(EMEDIUMTYPE);
    assert_true(r.why & TF_FS_COPY_ON_WRITE);
    assert_int_equal(r.effective, 0);
    assert_int_equal(count_byte(p, 'b', NULL), 5000);
    assert_int_equal(tf_shred(p, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE | TF_SHRED_FORCE },
                              &r), 0);
    assert_int_equal(r.effective, 0);
    assert_int_equal(r.passes, 3);
    assert_false(path_exists(p));
    unmount(mnt);
    free(p), free(img), free(mnt);
}

static void test_xfs_reflink_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    char *img = path_join(dir, "x.img"), *mnt = path_join(dir, "mnt");
    MOUNT_OR_SKIP(img, mnt, 320, "mkfs.xfs -q -f -m reflink=1", NULL);
    char *p = make_file(mnt, "f", 64 * 1024, 'x'), *c = path_join(mnt, "copy");
    tf_shred_report r;
    /* Alone, xfs overwrites in place (its log keeps metadata only). */
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_int_equal(tf_shred_probe(fd, &r), 0);
    close(fd);
    assert_int_equal(r.effective, 1);
    assert_true(r.why & TF_FS_METADATA_JOURNAL);
    assert_int_equal(sh("cp --reflink=always %s %s", p, c), 0);
    errno = 0;
    assert_int_equal(tf_shred(c, NULL, &r), -1);
    assert_errno(EMEDIUMTYPE);
    assert_true(r.why & TF_FS_SHARED_EXTENTS);
    assert_int_equal(count_byte(c, 'x', NULL), 64 * 1024);
    assert_int_equal(tf_shred(c, &(tf_shred_opts){ .flags = TF_SHRED_FORCE }, &r), 0);
    assert_int_equal(r.effective, 0);
    /* The reflinked original still holds the data the copy "shredded". */
    assert_int_equal(count_byte(p, 'x', NULL), 64 * 1024);
    unmount(mnt);
    free(p), free(c), free(img), free(mnt);
}

/* The probe's own failures: a bad descriptor, fstatfs failing. */
static void test_probe_failures(void **state)
{
    tf_shred_report r;
    errno = 0;
    assert_int_equal(tf_shred_probe(-1, &r), -1);
    assert_errno(EBADF);
    char *p = make_file(TFT_DIR(state), "f", 10, 'f');
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    fault_arm("fstatfs", 1, EIO);
    errno = 0;
    assert_int_equal(tf_shred_probe(fd, &r), -1);
    assert_errno(EIO);
    fault_reset();
    assert_int_equal(tf_shred_probe(fd, &r), 0);
    close(fd);
    free(p);
}

static void test_reasons(void **state)
{
    (void)state;
    for (unsigned b = 1; b; b <<= 1) {
        const char *s = tf_shred_reason(b);
        bool known = (b & (TF_FS_INEFFECTIVE | TF_FS_MEMORY | TF_FS_SWAP |
                           TF_FS_METADATA_JOURNAL | TF_FS_EXTENTS_UNKNOWN |
                           TF_FS_PROCESS_MEMORY)) != 0;
        assert_int_equal(s != NULL, known);
    }
    assert_null(tf_shred_reason(3));
    assert_null(tf_shred_reason(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_bad_options),
        T(test_default_passes_keep_size),
        T(test_named_handle_name_replaced),
        T(test_remove_short_names),
        T(test_no_seek_data),
        T(test_dot_names_refused),
        T(test_tree_too_deep),
        T(test_probe_failures),
        T(test_zero_pass_exact),
        T(test_holes_not_filled),
        T(test_unwritten_extent_overwritten),
        T(test_large_file_bounded_memory),
        T(test_file_growing),
        T(test_open_read_only_elsewhere),
        T(test_not_regular_refused),
        T(test_no_write_permission),
        T(test_hard_link_refused_then_forced),
        T(test_remove_wipesync),
        T(test_remove_relative),
        T(test_progress_events),
        T(test_random_hook),
        T(test_exact_size),
        T(test_no_passes),
        T(test_remove_unlink),
        T(test_bad_new_options),
        T(test_shred_fd),
        T(test_named_handle),
        T(test_unnamed_handle),
        T(test_handle_appending_refused),
        T(test_spooled_in_memory_never_touches_disk),
        T(test_tree),
        T(test_tree_refused_before_any_write),
        T(test_tree_link_after_probe),
        T(test_every_call_fails),
        T(test_every_call_fails_tree),
        T(test_tmpfs_reports_memory),
        T(test_ext4_raw_image),
        T(test_ext4_unwritten_extent_raw),
        T(test_ext4_data_journal_refused),
        T(test_journal_found_by_device),
        T(test_data_journal_found_among_many_mounts),
        T(test_btrfs_refused_forced_not_effective),
        T(test_xfs_reflink_refused),
        T(test_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
