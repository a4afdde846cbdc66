/*
 * Atomic replace (tf_replace_begin, tf_file_commit, tf_replace_contents):
 * levels and their syscall order, abort, metadata carried over or fail
 * closed (mode, owner, user and security xattrs, POSIX ACLs), the symlink
 * policy, bad destinations, and every seam call failed in turn.
 */
#include "durable_helpers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <signal.h>
#include <time.h>

static char *dest_in(void **state, const char *name, const char *content)
{
    if (content)
        assert_int_equal(write_file(TFT_DIR(state), name, content), 0);
    return path_join(TFT_DIR(state), name);
}

static int replace_str(const char *dest, const char *s, const tf_persist_opts *o,
                       tf_persist_report *rep)
{
    return tf_replace_contents(dest, s, strlen(s), o, rep);
}

static void test_begin_commit(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = dest_in(state, "conf", NULL);
    size_t reg = tf_cleanup_registered();
    tf_file *f = tf_replace_begin(dest, NULL);
    assert_non_null(f);
    /* A named temporary beside the destination, registered. */
    const char *tmp = tf_file_name(f);
    assert_true(strncmp(tmp, dir, strlen(dir)) == 0 && tmp[strlen(dir)] == '/');
    assert_true(strncmp(base_name(tmp), ".tmp", 4) == 0);
    assert_true(is_random_part(base_name(tmp) + 4, TF_RANDOM_CHARS));
    assert_int_equal(path_mode(tmp), 0644);   /* new dest: a new file's mode (umask 022) */
    assert_int_equal(tf_cleanup_registered(), reg + 1);
    assert_false(path_exists(dest));
    /* Usable as a FILE *: the commit flushes it. */
    FILE *s = tf_file_stream(f);
    assert_non_null(s);
    fprintf(s, "key=%d\n", 42);
    tf_persist_report rep;
    assert_int_equal(tf_file_commit(f, &rep), TF_LEVEL_DURABLE);
    assert_int_equal(rep.level, TF_LEVEL_DURABLE);
    assert_int_equal(rep.not_copied, 0);
    assert_content(dest, "key=42\n");
    assert_int_equal(path_mode(dest), 0644);   /* new: 0666 & ~umask (022) */
    assert_string_equal(tf_file_name(f), dest);
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_int_equal(tf_file_commit(f, NULL), -1);   /* once */
    assert_errno(EINVAL);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "key=42\n");
    assert_int_equal(dir_entries(dir), 1);
    /* One-shot, over it, and a mode given. */
    assert_int_equal(replace_str(dest, "v2", &(tf_persist_opts){ .level = TF_LEVEL_VISIBLE,
                                                                  .mode = 0640 }, NULL),
                     TF_LEVEL_VISIBLE);
    assert_content(dest, "v2");
    assert_int_equal(path_mode(dest), 0640);
    assert_int_equal(replace_str(dest, "", NULL, NULL), TF_LEVEL_DURABLE);
    assert_content(dest, "");
    assert_int_equal(path_mode(dest), 0640);   /* carried over */
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
}

static void test_abort(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = dest_in(state, "conf", "old");
    tf_file *f = tf_replace_begin(dest, NULL);
    assert_int_equal(tf_file_write(f, "half", 4), 4);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "old");
    assert_int_equal(dir_entries(dir), 1);
    f = tf_replace_begin(dest, NULL);
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(tf_file_commit(f, NULL), -1);
    assert_errno(EBADF);
    tf_file_release(f);
    /* Registered: the exit or signal cleanup removes an uncommitted one. */
    f = tf_replace_begin(dest, NULL);
    assert_true(tf_cleanup_now() >= 1);
    assert_int_equal(dir_entries(dir), 1);
    tf_file_release(f);
    assert_content(dest, "old");
    /* No-clobber: refused at begin, and at commit if dest appeared. */
    assert_null(tf_replace_begin(dest, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER }));
    assert_errno(EEXIST);
    char *fresh = dest_in(state, "fresh", NULL);
    f = tf_replace_begin(fresh, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER });
    assert_non_null(f);
    assert_int_equal(write_file(dir, "fresh", "theirs"), 0);
    assert_int_equal(tf_file_commit(f, NULL), -1);
    assert_errno(EEXIST);
    assert_content(fresh, "theirs");
    tf_file_release(f);
    assert_int_equal(dir_entries(dir), 2);
    /* Hard links to the old file keep the old content (a new inode). */
    char *hard = path_join(dir, "hard");
    assert_int_equal(link(dest, hard), 0);
    assert_int_equal(replace_str(dest, "new", NULL, NULL), TF_LEVEL_DURABLE);
    assert_content(hard, "old");
    free(hard);
    free(fresh);
    free(dest);
}

static void test_syscall_order(void **state)
{
    char *dest = dest_in(state, "d", "old");
    struct { int level; const char *trace; } cases[] = {
        { TF_LEVEL_VISIBLE, "R" }, { TF_LEVEL_CONSISTENT, "FR" }, { TF_LEVEL_DURABLE, "FRD" },
    };
    for (size_t i = 0; i < 3; i++) {
        tf_file *f = tf_replace_begin(dest, &(tf_persist_opts){ .level = cases[i].level });
        assert_int_equal(tf_file_write(f, "x", 1), 1);
        trace_start();
        assert_int_equal(tf_file_commit(f, NULL), cases[i].level);
        fault_reset();
        assert_string_equal(durable_trace, cases[i].trace);
        tf_file_release(f);
    }
    free(dest);
}

/* A replace's temporary and a lock file are registered by the directory
 * held since begin: the exit cleanup (and tf_cleanup_now()) removes them
 * even after their directory moved (by path, it would miss them). */
struct moving {
    const char *dest, *sub, *moved;
    bool by_exit;
};

static int begin_then_move(void *arg)
{
    const struct moving *m = arg;
    tf_file *f = tf_replace_begin(m->dest, NULL);
    tf_file *lock = tf_lock_file(m->dest, NULL);
    CHECK(f && lock && tf_file_write(f, "half", 4) == 4);
    CHECK(rename(m->sub, m->moved) == 0 && dir_entries(m->moved) == 3);
    if (m->by_exit)
        exit(0);   /* no release: the exit handler's turn */
    CHECK(tf_cleanup_now() == 2);
    CHECK(tf_file_release(f) == 0 && tf_file_release(lock) == 0);
    return 0;
}

static void test_cleanup_after_directory_moved(void **state)
{
    const char *dir = TFT_DIR(state);
    char *sub = path_join(dir, "sub"), *moved = path_join(dir, "moved");
    char *dest = path_join(sub, "conf"), *now = path_join(moved, "conf");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(write_file(sub, "conf", "old"), 0);
    for (int by_exit = 0; by_exit < 2; by_exit++) {
        struct moving m = { dest, sub, moved, by_exit };
        assert_int_equal(run_child(begin_then_move, &m, false), 0);
        assert_int_equal(dir_entries(moved), 1);
        assert_content(now, "old");
        assert_int_equal(rename(moved, sub), 0);
    }
    free(dest), free(now), free(sub), free(moved);
}

/* The directory descriptor held from begin to commit: readable where the
 * durable level's fsync needs it, O_PATH (cheaper) below that. */
static int first_dir_flags;

static int record_openat(int dirfd, const char *name, int flags, mode_t mode)
{
    if (first_dir_flags < 0 && (flags & O_DIRECTORY))
        first_dir_flags = flags;
    return tf__sys_default.openat(dirfd, name, flags, mode);
}

static void test_directory_held_by_level(void **state)
{
    char *dest = dest_in(state, "d", "old");
    for (int level = TF_LEVEL_VISIBLE; level <= TF_LEVEL_DURABLE; level++) {
        first_dir_flags = -1;
        tf__sys.openat = record_openat;
        int rc = tf_replace_contents(dest, "new", 3, &(tf_persist_opts){ .level = level }, NULL);
        fault_reset();
        assert_int_equal(rc, level);
        assert_true(first_dir_flags >= 0);
        assert_int_equal(!!(first_dir_flags & O_PATH), level < TF_LEVEL_DURABLE);
        assert_content(dest, "new");
    }
    free(dest);
}

/* ---- metadata ----------------------------------------------------------- */

static bool has_setfacl(void)
{
    return system("command -v setfacl >/dev/null 2>&1") == 0;
}

static ssize_t xattr_of(const char *path, const char *name, char *buf, size_t n)
{
    return getxattr(path, name, buf, n);
}

static void assert_same_xattr(const char *want, ssize_t wn, const char *path, const char *name)
{
    static char got[4096];
    ssize_t gn = xattr_of(path, name, got, sizeof got);
    if (gn != wn || memcmp(got, want, (size_t)wn) != 0)
        fail_msg("%s: %s not carried over (%zd vs %zd bytes)", path, name, gn, wn);
}

static void test_metadata_carried(void **state)
{
    char *dest = dest_in(state, "m", "old");
    assert_int_equal(chmod(dest, 0751), 0);
    if (setxattr(dest, "user.colour", "blue", 4, 0) < 0)
        skip();   /* the scratch filesystem has no user xattrs */
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "setfacl -m u:1234:rw '%s'", dest);
    bool acl = has_setfacl() && system(cmd) == 0;
    char aclv[256];
    ssize_t acln = acl ? xattr_of(dest, "system.posix_acl_access", aclv, sizeof aclv) : -1;
    bool label = setxattr(dest, "security.selinux", "u:r:t:s0", 9, 0) == 0;
    struct stat st;
    assert_int_equal(stat(dest, &st), 0);
    mode_t mode = st.st_mode & 07777;   /* the ACL mask sits in the group bits */
    if (running_as_root())
        assert_int_equal(chown(dest, 1234, 4321), 0);
    tf_persist_report rep;
    assert_int_equal(replace_str(dest, "new", NULL, &rep), TF_LEVEL_DURABLE);
    assert_int_equal(rep.not_copied, 0);
    assert_content(dest, "new");
    assert_int_equal(path_mode(dest), mode);
    assert_same_xattr("blue", 4, dest, "user.colour");
    if (acl)
        assert_same_xattr(aclv, acln, dest, "system.posix_acl_access");
    else
        print_message("no setfacl: ACL not checked\n");
    if (label)
        assert_same_xattr("u:r:t:s0", 9, dest, "security.selinux");
    else
        print_message("security.selinux not settable here: label not checked\n");
    if (running_as_root()) {
        assert_int_equal(stat(dest, &st), 0);
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 4321);
    }
    /* The same through begin and commit, which looks at dest again. */
    tf_file *f = tf_replace_begin(dest, NULL);
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "again", 5), 5);
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "again");
    assert_int_equal(path_mode(dest), mode);
    assert_same_xattr("blue", 4, dest, "user.colour");
    if (acl)
        assert_same_xattr(aclv, acln, dest, "system.posix_acl_access");
    if (running_as_root()) {
        assert_int_equal(stat(dest, &st), 0);
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 4321);
    }
    /* A mode given replaces the old one. */
    assert_int_equal(replace_str(dest, "x", &(tf_persist_opts){ .mode = 0600 }, NULL),
                     TF_LEVEL_DURABLE);
    assert_int_equal(path_mode(dest), 0600);
    free(dest);
}

/* Seam calls of one replace of `dest`, one-shot or through begin + commit. */
static void count_replace(const char *dest, bool oneshot)
{
    fault_count_start();
    if (oneshot) {
        assert_int_equal(replace_str(dest, "counted", NULL, NULL), TF_LEVEL_DURABLE);
    } else {
        tf_file *f = tf_replace_begin(dest, NULL);
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, "counted", 7), 7);
        assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
        assert_int_equal(tf_file_release(f), 0);
    }
}

/* The one-shot's handle is never seen, so it gets no name: no absolute path
 * of the temporary, of the destination or of their directory is made. What
 * it allocates is the temporary's name, the handle and its state; a handle
 * of tf_replace_begin() has its name (the temporary's, then the
 * destination's). */
static void test_oneshot_allocations(void **state)
{
    char *dest = dest_in(state, "a", "old");
    count_replace(dest, true);
    assert_int_equal(fault_calls("malloc"), 3);
    fault_reset();

    tf_file *f = tf_replace_begin(dest, NULL);
    assert_non_null(f);
    char *tmpdir = strdup(tf_file_name(f));
    *strrchr(tmpdir, '/') = '\0';
    char *destdir = strdup(dest);
    *strrchr(destdir, '/') = '\0';
    assert_string_equal(tmpdir, destdir);
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
    assert_string_equal(tf_file_name(f), dest);
    assert_int_equal(tf_file_release(f), 0);
    free(tmpdir);
    free(destdir);
    free(dest);
}

/* What carrying metadata costs when there is little or nothing to carry:
 * the one-shot looks at dest once (begin's look), a temporary made at the
 * mode to carry needs no fchmod, a list of names and a small value take one
 * call each; a new destination needs neither fchmod nor the umask. */
static void test_metadata_syscalls(void **state)
{
    char *dest = dest_in(state, "c", NULL);
    count_replace(dest, true);   /* new */
    assert_int_equal(fault_calls("fstatat"), 1);
    assert_int_equal(fault_calls("openat"), 2);   /* the directory, the temporary */
    assert_int_equal(fault_calls("read"), 0);
    assert_int_equal(fault_calls("fstat") + fault_calls("fchmod") + fault_calls("fchown"), 0);
    assert_int_equal(fault_calls("listxattrat") + fault_calls("llistxattr"), 0);
    fault_reset();
    assert_int_equal(path_mode(dest), 0644);   /* umask 022 */

    count_replace(dest, true);   /* 0644: made so, the umask leaves it */
    assert_int_equal(fault_calls("fstatat"), 1);
    assert_int_equal(fault_calls("fstat"), 1);
    assert_int_equal(fault_calls("listxattrat"), 1);
    assert_int_equal(fault_calls("fgetxattr"), 1);   /* no ACL inherited */
    assert_int_equal(fault_calls("fremovexattr"), 0);
    assert_int_equal(fault_calls("fchmod"), 0);
    fault_reset();

    assert_int_equal(chmod(dest, 0600), 0);   /* tf_replace_begin's own mode */
    count_replace(dest, true);
    assert_int_equal(fault_calls("fstatat"), 1);
    assert_int_equal(fault_calls("fstat"), 1);
    assert_int_equal(fault_calls("listxattrat"), 1);
    assert_int_equal(fault_calls("fchmod"), 0);
    assert_int_equal(fault_calls("fchown"), 0);
    assert_int_equal(fault_calls("getxattrat") + fault_calls("lgetxattr"), 0);
    fault_reset();
    assert_int_equal(path_mode(dest), 0600);

    count_replace(dest, false);   /* commit looks again */
    assert_int_equal(fault_calls("fstatat"), 2);
    assert_int_equal(fault_calls("fchmod"), 0);
    fault_reset();

    assert_int_equal(chmod(dest, 0640), 0);
    count_replace(dest, true);
    assert_int_equal(fault_calls("fchmod"), 1);
    fault_reset();
    assert_int_equal(path_mode(dest), 0640);

    if (setxattr(dest, "user.colour", "blue", 4, 0) == 0) {
        count_replace(dest, true);
        bool at = fault_calls("llistxattr") == 0;   /* the kernel has listxattrat */
        assert_int_equal(fault_calls("listxattrat") + fault_calls("llistxattr"), at ? 1 : 2);
        assert_int_equal(fault_calls("getxattrat") + fault_calls("lgetxattr"), at ? 1 : 2);
        assert_int_equal(fault_calls("fsetxattr"), 1);
        assert_int_equal(fault_calls("fgetxattr"), 1);
        fault_reset();
        assert_same_xattr("blue", 4, dest, "user.colour");
    } else {
        print_message("no user xattrs here: their calls not counted\n");
    }
    free(dest);
}

/* A committed handle (of tf_replace_begin() or tf_lock_file()) that stays
 * open is no temporary: it holds no live mark, so others may lock the
 * destination at once. */
static void test_commit_drops_live_mark(void **state)
{
    char *dest = dest_in(state, "marked", "old");
    for (int lock = 0; lock < 2; lock++) {
        tf_file *f = lock ? tf_lock_file(dest, NULL) : tf_replace_begin(dest, NULL);
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, "new", 3), 3);
        int other = open(tf_file_name(f), O_RDONLY | O_CLOEXEC);
        assert_true(other >= 0);
        assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);   /* live until the commit */
        assert_errno(EWOULDBLOCK);
        close(other);
        assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
        other = open(dest, O_RDONLY | O_CLOEXEC);
        assert_true(other >= 0);
        assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
        close(other);
        assert_int_equal(tf_file_release(f), 0);
        assert_content(dest, "new");
    }
    fault_count_start();   /* the one-shot's release closes: no LOCK_UN of its own */
    assert_int_equal(replace_str(dest, "once", NULL, NULL), TF_LEVEL_DURABLE);
    assert_int_equal(fault_calls("flock"), 1);
    fault_reset();
    free(dest);
}

/* ---- preallocation -------------------------------------------------------- */

static long fake_fs_type;
static int seen_mode;
static off_t seen_off, seen_len;

static int fallocate_seen(int fd, int mode, off_t off, off_t len)
{
    seen_mode = mode;
    seen_off = off;
    seen_len = len;
    return tf__sys_default.fallocate(fd, mode, off, len);
}

static int fstatfs_as(int fd, struct statfs *sf)
{
    int r = tf__sys_default.fstatfs(fd, sf);
    if (r == 0)
        sf->f_type = fake_fs_type;
    return r;
}

/* Replaces dest with n bytes of c under the filesystem kind `type` (0: the
 * real one), the seam counting; fails fallocate with err if err. */
static void replace_counted(const char *dest, size_t n, char c, long type, int err)
{
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, c, n);
    if (err)
        assert_int_equal(fault_arm_range("fallocate", 1, 0, err), 0);
    else
        fault_count_start();
    fault_next.fallocate = fallocate_seen;
    seen_mode = -1;
    if (type) {
        fake_fs_type = type;
        fault_next.fstatfs = fstatfs_as;
    }
    int fds = fd_count();
    assert_int_equal(tf_replace_contents(dest, buf, n, NULL, NULL), TF_LEVEL_DURABLE);
    assert_int_equal(fd_count(), fds);
    struct stat st;
    assert_int_equal(stat(dest, &st), 0);
    assert_int_equal(st.st_size, (off_t)n);   /* KEEP_SIZE: the data's size, never more */
    int fd = open(dest, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    char *got = malloc(n + 1);
    assert_non_null(got);
    assert_int_equal(read(fd, got, n + 1), (ssize_t)n);   /* tmpfs and ext4 read it whole */
    assert_memory_equal(got, buf, n);
    close(fd);
    free(got);
    free(buf);
}

/* The one-shot reserves a buffer of 64 KiB or more before writing it, with
 * FALLOC_FL_KEEP_SIZE, on a disk filesystem only (not tmpfs, ramfs or a
 * network one); a smaller one costs no call at all; a refused reservation
 * is only a hint lost: the replace is whole, nothing is left behind. */
static void test_preallocation(void **state)
{
    char *dest = dest_in(state, "big", "old");
    static const struct { long type; unsigned long fallocates; } kinds[] = {
        { 0xEF53, 1 },        /* ext4 */
        { 0x58465342, 1 },    /* xfs */
        { 0x01021994, 0 },    /* tmpfs */
        { 0x858458f6, 0 },    /* ramfs */
        { 0x6969, 0 },        /* nfs */
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        replace_counted(dest, 64 * 1024, 'a' + (char)i, kinds[i].type, 0);
        assert_int_equal(fault_calls("fstatfs"), 1);
        assert_int_equal(fault_calls("fallocate"), kinds[i].fallocates);
        if (kinds[i].fallocates) {
            assert_int_equal(seen_mode, FALLOC_FL_KEEP_SIZE);
            assert_int_equal(seen_off, 0);
            assert_int_equal(seen_len, 64 * 1024);
        }
        fault_reset();
    }
    replace_counted(dest, 64 * 1024 - 1, 'x', 0xEF53, 0);
    assert_int_equal(fault_calls("fstatfs") + fault_calls("fallocate"), 0);
    fault_reset();

    static const int errs[] = { EOPNOTSUPP, ENOSPC, EDQUOT, EINTR, EIO, EBADF };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        replace_counted(dest, 256 * 1024, 'A' + (char)i, 0xEF53, errs[i]);
        assert_int_equal(fault_hits(), 1);
        fault_reset();
    }
    assert_int_equal(fault_arm("fstatfs", 1, EIO), 0);   /* kind unknown: no reservation */
    replace_counted(dest, 128 * 1024, 'z', 0, 0);
    fault_reset();
    assert_int_equal(dir_entries(TFT_DIR(state)), 1);   /* dest alone: no temporary left */
    free(dest);
}

/* ---- the temporary's mode ------------------------------------------------ */

/* The temporary's mode when its data is written (seen at the seam). */
static mode_t written_mode;
static ssize_t mode_seeing_write(int fd, const void *buf, size_t n)
{
    struct stat st;
    if (written_mode == (mode_t)-1 && fstat(fd, &st) == 0)
        written_mode = st.st_mode & 07777;
    return tf__sys_default.write(fd, buf, n);
}

/* One-shot replace of dest (old: its mode, or 0 for none; given: opts'),
 * checking the temporary's mode while written and the result's. */
static void check_modes(const char *dest, mode_t old, mode_t given, mode_t temp, mode_t result,
                        unsigned long fchmods)
{
    unlink(dest);
    if (old) {
        int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(fchmod(fd, old), 0);
        close(fd);
    }
    written_mode = (mode_t)-1;
    fault_next.write = mode_seeing_write;
    fault_count_start();
    assert_int_equal(replace_str(dest, "data", &(tf_persist_opts){ .mode = given }, NULL),
                     TF_LEVEL_DURABLE);
    if (written_mode != temp || path_mode(dest) != result || fault_calls("fchmod") != fchmods)
        fail_msg("old %04o, mode %04o given: temporary %04o (want %04o), result %04o (want "
                 "%04o), %lu fchmod (want %lu)", (unsigned)old, (unsigned)given,
                 (unsigned)written_mode, (unsigned)temp, (unsigned)path_mode(dest),
                 (unsigned)result, fault_calls("fchmod"), fchmods);
    if (!old && !given)   /* a new file's mode from the kernel: no look at the umask */
        assert_int_equal(fault_calls("read"), 0);
    fault_reset();
    assert_content(dest, "data");
}

/*
 * The one-shot makes its temporary at the result's mode where that shows its
 * bytes to nobody who could not read the old file (everyone could: other
 * r, bits narrowing from owner to group to other, no xattr), without group
 * and other write bits nor setuid/setgid/sticky; a new destination at 0666
 * for the kernel to take the umask off; anything else at 0600. fchmod only
 * where the umask took bits, or for what creation leaves out.
 */
static void test_creation_mode(void **state)
{
    char *dest = dest_in(state, "m", NULL);
    static const mode_t masks[] = { 022, 077, 0 };
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        mode_t u = masks[i];
        umask(u);
        check_modes(dest, 0, 0, 0666 & ~u, 0666 & ~u, 0);             /* new */
        check_modes(dest, 0, 0640, 0600, 0640, 1);                    /* new, mode given */
        check_modes(dest, 0644, 0, 0644 & ~u, 0644, (0644 & u) != 0);
        check_modes(dest, 0755, 0, 0755 & ~u, 0755, (0755 & u) != 0);
        check_modes(dest, 0444, 0, 0444 & ~u, 0444, (0444 & u) != 0);
        check_modes(dest, 0666, 0, 0644 & ~u, 0666, 1);               /* no write for others */
        check_modes(dest, 02755, 0, 0755 & ~u, 02755, 1);             /* setgid: by fchmod */
        check_modes(dest, 0640, 0, 0600, 0640, 1);                    /* group only */
        check_modes(dest, 0604, 0, 0600, 0604, 1);                    /* group shut out */
        check_modes(dest, 0600, 0, 0600, 0600, 0);
        check_modes(dest, 0644, 0600, 0600, 0600, 0);                 /* mode given */
    }
    umask(022);
    /* An xattr (an ACL, a label could single someone out): 0600. */
    unlink(dest);
    assert_int_equal(write_file(TFT_DIR(state), "m", "old"), 0);
    assert_int_equal(chmod(dest, 0644), 0);
    if (setxattr(dest, "user.colour", "blue", 4, 0) == 0) {
        written_mode = (mode_t)-1;
        fault_next.write = mode_seeing_write;
        fault_count_start();
        assert_int_equal(replace_str(dest, "data", NULL, NULL), TF_LEVEL_DURABLE);
        assert_int_equal(written_mode, 0600);
        fault_reset();
        assert_int_equal(path_mode(dest), 0644);
        assert_same_xattr("blue", 4, dest, "user.colour");
    } else {
        print_message("no user xattrs here: that case not checked\n");
    }
    /* tf_replace_begin's temporary stays 0600 until commit. */
    tf_file *f = tf_replace_begin(dest, NULL);
    assert_non_null(f);
    assert_int_equal(path_mode(tf_file_name(f)), 0600);
    assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(path_mode(dest), 0644);
    free(dest);
}

/* Under a default ACL a new destination gets what open(2) with 0666 gets
 * (the ACL, not the umask), and a replaced file keeps its mode and ACL. */
static void test_creation_mode_default_acl(void **state)
{
    char *sub = path_join(TFT_DIR(state), "acl");
    assert_int_equal(mkdir(sub, 0755), 0);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "setfacl -d -m u::rw,g::r,o::-,u:1234:rw,m::rw '%s' 2>/dev/null",
             sub);
    if (!has_setfacl() || system(cmd) != 0) {
        free(sub);
        skip();   /* no setfacl, or no ACLs on the scratch filesystem */
    }
    char *ref = path_join(sub, "ref"), *dest = path_join(sub, "new");
    static const mode_t masks[] = { 022, 077 };
    for (size_t i = 0; i < 2; i++) {
        umask(masks[i]);
        unlink(ref), unlink(dest);
        int fd = open(ref, O_WRONLY | O_CREAT | O_EXCL, 0666);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(replace_str(dest, "new", NULL, NULL), TF_LEVEL_DURABLE);
        assert_int_equal(path_mode(dest), path_mode(ref));   /* 0660: the mask, not the umask */
        char acl[256];
        ssize_t n = xattr_of(ref, "system.posix_acl_access", acl, sizeof acl);
        assert_true(n > 0);
        assert_same_xattr(acl, n, dest, "system.posix_acl_access");
        /* Replaced: its mode and ACL carried over. */
        assert_int_equal(chmod(dest, 0640), 0);
        mode_t mode = path_mode(dest);
        n = xattr_of(dest, "system.posix_acl_access", acl, sizeof acl);
        assert_int_equal(replace_str(dest, "newer", NULL, NULL), TF_LEVEL_DURABLE);
        assert_int_equal(path_mode(dest), mode);
        assert_same_xattr(acl, n, dest, "system.posix_acl_access");
        assert_content(dest, "newer");
        /* A file without an ACL there: its replacement inherits none. */
        assert_int_equal(removexattr(dest, "system.posix_acl_access"), 0);
        assert_int_equal(chmod(dest, 0640), 0);
        assert_int_equal(replace_str(dest, "newest", NULL, NULL), TF_LEVEL_DURABLE);
        assert_int_equal(path_mode(dest), 0640);
        errno = 0;
        assert_int_equal(xattr_of(dest, "system.posix_acl_access", acl, sizeof acl), -1);
        assert_int_equal(errno, ENODATA);
        tf_file *f = tf_replace_begin(dest, NULL);
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, "begun", 5), 5);
        assert_int_equal(tf_file_commit(f, NULL), TF_LEVEL_DURABLE);
        assert_int_equal(tf_file_release(f), 0);
        assert_int_equal(path_mode(dest), 0640);
        assert_int_equal(xattr_of(dest, "system.posix_acl_access", acl, sizeof acl), -1);
        assert_content(dest, "begun");
    }
    umask(022);
    free(ref), free(dest), free(sub);
}

/* A set-group-ID directory gives the temporary the directory's group: the
 * old file's is carried back by fchown, the mode after it; while written,
 * a group-only mode stays 0600 (the directory's group must not read it). */
static void test_creation_mode_setgid_dir(void **state)
{
    if (!running_as_root())
        skip();   /* a directory group that is not ours needs root */
    char *sub = path_join(TFT_DIR(state), "sg");
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chown(sub, 0, 4321), 0);
    assert_int_equal(chmod(sub, 02775), 0);
    char *dest = path_join(sub, "f");
    const mode_t modes[] = { 0644, 0640 }, temps[] = { 0644, 0600 };
    for (int i = 0; i < 2; i++) {
        umask(022);
        unlink(dest);
        int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(fchown(fd, 0, 0), 0);
        assert_int_equal(fchmod(fd, modes[i]), 0);
        close(fd);
        written_mode = (mode_t)-1;
        fault_next.write = mode_seeing_write;
        fault_count_start();
        assert_int_equal(replace_str(dest, "data", NULL, NULL), TF_LEVEL_DURABLE);
        assert_int_equal(written_mode, temps[i]);
        assert_int_equal(fault_calls("fchown"), 1);
        assert_int_equal(fault_calls("fchmod"), 1);   /* after the fchown */
        fault_reset();
        struct stat st;
        assert_int_equal(stat(dest, &st), 0);
        assert_int_equal(st.st_gid, 0);
        assert_int_equal(st.st_mode & 07777, modes[i]);
    }
    free(dest), free(sub);
}

/* A kernel without listxattrat/getxattrat (before 6.13), or a seccomp
 * filter that refuses them: the /proc path of the directory does. */
static void test_metadata_old_kernel(void **state)
{
    char *dest = dest_in(state, "k", "old");
    if (setxattr(dest, "user.colour", "blue", 4, 0) < 0)
        skip();
    static char big[3000];   /* past the first try's buffer: sized, then read */
    memset(big, 'v', sizeof big);
    assert_int_equal(setxattr(dest, "user.big", big, sizeof big, 0), 0);
    assert_int_equal(chmod(dest, 0604), 0);
    for (int err = 0; err < 2; err++) {
        int e = err ? EPERM : ENOSYS;
        fault_arm_range("listxattrat", 1, 0, e);
        fault_arm_range("getxattrat", 1, 0, e);
        assert_int_equal(replace_str(dest, "new", NULL, NULL), TF_LEVEL_DURABLE);
        assert_true(fault_calls("llistxattr") >= 1);
        assert_true(fault_calls("lgetxattr") >= 2);
        fault_reset();
        assert_same_xattr("blue", 4, dest, "user.colour");
        assert_same_xattr(big, sizeof big, dest, "user.big");
        assert_int_equal(path_mode(dest), 0604);
    }
    /* And with them: the big value is sized first, then read. */
    assert_int_equal(replace_str(dest, "newer", NULL, NULL), TF_LEVEL_DURABLE);
    assert_same_xattr(big, sizeof big, dest, "user.big");
    free(dest);
}

/* An xattr the temporary cannot take: the commit fails, dest unchanged. */
static void test_metadata_fail_closed(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = dest_in(state, "m", "old");
    if (setxattr(dest, "user.a", "1", 1, 0) < 0)
        skip();
    tf_file *f = tf_replace_begin(dest, NULL);
    assert_int_equal(tf_file_write(f, "new", 3), 3);
    fault_arm("fsetxattr", 1, EPERM);
    tf_persist_report rep;
    assert_int_equal(tf_file_commit(f, &rep), -1);
    assert_errno(EPERM);
    fault_reset();
    assert_content(dest, "old");
    assert_int_equal(rep.level, 0);
    assert_int_equal(rep.not_copied, TF_META_XATTR);   /* what stopped it */
    assert_int_equal(rep.not_copied_errno, EPERM);
    /* Still usable: commit again now that it can. */
    assert_int_equal(tf_file_write(f, "!", 1), 1);
    assert_int_equal(tf_file_commit(f, &rep), TF_LEVEL_DURABLE);
    assert_int_equal(rep.not_copied, 0);
    tf_file_release(f);
    assert_content(dest, "new!");
    /* Best effort: done, and said. */
    fault_arm("fsetxattr", 1, ENOTSUP);
    assert_int_equal(replace_str(dest, "be", &(tf_persist_opts){ .flags = TF_PERSIST_BEST_EFFORT },
                                 &rep), TF_LEVEL_DURABLE);
    fault_reset();
    assert_int_equal(rep.not_copied, TF_META_XATTR);
    assert_int_equal(rep.not_copied_errno, ENOTSUP);
    assert_content(dest, "be");
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
}

/* As nobody, replacing root's file in a directory nobody may write: the
 * owner cannot be carried over. */
static int replace_as_nobody(void *arg)
{
    const char *dest = arg;
    tf_persist_report rep;
    errno = 0;
    CHECK(tf_replace_contents(dest, "n", 1, NULL, &rep) == -1 && errno == EPERM);
    CHECK(rep.level == 0 && rep.not_copied == TF_META_OWNER && rep.not_copied_errno == EPERM);
    char *s = read_file_str(dest);
    CHECK(s && strcmp(s, "old") == 0);
    free(s);
    CHECK(tf_replace_contents(dest, "n", 1, &(tf_persist_opts){ .flags = TF_PERSIST_BEST_EFFORT },
                              &rep) == TF_LEVEL_DURABLE);
    CHECK(rep.not_copied == TF_META_OWNER && rep.not_copied_errno == EPERM);
    return 0;
}

static void test_owner_fail_closed(void **state)
{
    if (!running_as_root())
        skip();
    const char *dir = TFT_DIR(state);
    char *dest = dest_in(state, "rootfile", "old");
    assert_int_equal(chmod(dest, 0644), 0);
    give_to_nobody(dir);
    assert_int_equal(run_child(replace_as_nobody, dest, true), 0);
    struct stat st;
    assert_int_equal(stat(dest, &st), 0);
    assert_int_equal(st.st_uid, NOBODY_ID);
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
}

/* ---- symbolic links ----------------------------------------------------- */

static void test_symlink_policy(void **state)
{
    const char *dir = TFT_DIR(state);
    char *real = dest_in(state, "real", "old");
    char *l1 = path_join(dir, "l1"), *l2 = path_join(dir, "l2"), *l3 = path_join(dir, "l3");
    char *sub = path_join(dir, "sub"), *sub_l3 = path_join(dir, "sub/l3");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(symlink("../real", sub_l3), 0);   /* relative to its dir */
    free(sub);
    free(sub_l3);
    assert_int_equal(symlink("sub/l3", l2), 0);
    assert_int_equal(symlink(l2, l1), 0);
    (void)l3;
    /* Follow (the default): a chain of 3, the target replaced, links stay. */
    assert_int_equal(replace_str(l1, "followed", NULL, NULL), TF_LEVEL_DURABLE);
    assert_content(real, "followed");
    struct stat st;
    assert_int_equal(lstat(l1, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    /* Refuse. */
    errno = 0;
    assert_int_equal(replace_str(l1, "no", &(tf_persist_opts){ .symlinks = TF_SYMLINK_REFUSE }, NULL),
                     -1);
    assert_errno(ELOOP);
    assert_null(tf_replace_begin(l1, &(tf_persist_opts){ .symlinks = TF_SYMLINK_REFUSE }));
    assert_errno(ELOOP);
    /* Replace the link itself. */
    assert_int_equal(replace_str(l2, "own", &(tf_persist_opts){ .symlinks = TF_SYMLINK_REPLACE },
                                 NULL), TF_LEVEL_DURABLE);
    assert_int_equal(lstat(l2, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_content(l2, "own");
    assert_content(real, "followed");
    /* Dangling: the target is created. */
    char *dang = path_join(dir, "dangling");
    assert_int_equal(symlink("made", dang), 0);
    assert_int_equal(replace_str(dang, "made it", NULL, NULL), TF_LEVEL_DURABLE);
    char *made = path_join(dir, "made");
    assert_content(made, "made it");
    /* Dangling into a missing directory: ENOENT. */
    char *dnodir = path_join(dir, "dnodir");
    assert_int_equal(symlink("nodir/x", dnodir), 0);
    assert_int_equal(replace_str(dnodir, "x", NULL, NULL), -1);
    assert_errno(ENOENT);
    /* A loop. */
    char *la = path_join(dir, "la"), *lb = path_join(dir, "lb");
    assert_int_equal(symlink("lb", la), 0);
    assert_int_equal(symlink("la", lb), 0);
    assert_int_equal(replace_str(la, "x", NULL, NULL), -1);
    assert_errno(ELOOP);
    /* A link to a directory. */
    char *ld = path_join(dir, "ld");
    assert_int_equal(symlink("sub", ld), 0);
    assert_int_equal(replace_str(ld, "x", NULL, NULL), -1);
    assert_errno(EISDIR);
    assert_int_equal(dir_entries(dir), 10);
    free(real); free(l1); free(l2); free(l3); free(dang); free(made); free(dnodir);
    free(la); free(lb); free(ld);
}

static int replace_into_unwritable(void *arg)
{
    errno = 0;
    CHECK(tf_replace_contents(arg, "x", 1, NULL, NULL) == -1 && errno == EACCES);
    return 0;
}

/* A link into a directory the process cannot write: EACCES. */
static void test_symlink_unwritable(void **state)
{
    if (!running_as_root())
        skip();
    const char *dir = TFT_DIR(state);
    char *locked = path_join(dir, "locked");
    assert_int_equal(mkdir(locked, 0755), 0);   /* root's, not nobody's to write */
    assert_int_equal(write_file(locked, "f", "root"), 0);
    char *link = path_join(dir, "link");
    assert_int_equal(symlink("locked/f", link), 0);
    give_to_nobody(dir);
    assert_int_equal(chown(locked, 0, 0), 0);
    assert_int_equal(run_child(replace_into_unwritable, link, true), 0);
    char *f = path_join(locked, "f");
    assert_content(f, "root");
    assert_int_equal(dir_entries(locked), 1);
    free(f); free(link); free(locked);
}

/* ---- bad input ---------------------------------------------------------- */

static void test_bad_input(void **state)
{
    const char *dir = TFT_DIR(state);
    char longname[NAME_MAX + 2];
    memset(longname, 'b', NAME_MAX + 1);
    longname[NAME_MAX + 1] = '\0';
    char *toolong = path_join(dir, longname);
    char *missing = path_join(dir, "nodir/x");
    char *fifo = path_join(dir, "fifo");
    char *notdir = path_join(dir, "file/x");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(write_file(dir, "file", "f"), 0);
    char *before = dir_listing(dir);
    struct { const char *dest; int err; } cases[] = {
        { NULL, EINVAL }, { "", ENOENT }, { dir, EISDIR }, { toolong, ENAMETOOLONG },
        { missing, ENOENT }, { fifo, EINVAL }, { "/dev/null", EINVAL }, { notdir, ENOTDIR },
        { "/proc/version", EINVAL + 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] - 1; i++) {
        errno = 0;
        assert_int_equal(replace_str(cases[i].dest, "x", NULL, NULL), -1);
        assert_errno(cases[i].err);
        assert_null(tf_replace_begin(cases[i].dest, NULL));
        assert_errno(cases[i].err);
    }
    char *y = path_join(dir, "y");
    assert_int_equal(tf_replace_contents(y, NULL, 1, NULL, NULL), -1);
    assert_errno(EINVAL);
    tf_persist_opts bad[] = { { .flags = TF_PERSIST_COPY }, { .flags = 1u << 20 }, { .timeout_ms = 1 },
                              { .reserved = { 1 } }, { .level = 9 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(tf_replace_begin(y, &bad[i]));
        assert_errno(EINVAL);
    }
    assert_int_equal(tf_file_commit(NULL, NULL), -1);
    assert_errno(EINVAL);
    tf_file *plain = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_int_equal(tf_file_commit(plain, NULL), -1);   /* not a replace handle */
    assert_errno(EINVAL);
    tf_file_release(plain);
    assert_listing_equal(before, dir_listing(dir));
    unlink(fifo);
    free(toolong); free(missing); free(fifo); free(notdir); free(y);
}

static int replace_in_readonly(void *arg)
{
    errno = 0;
    CHECK(tf_replace_contents(arg, "x", 1, NULL, NULL) == -1 && errno == EACCES);
    return 0;
}

static void test_readonly_dir(void **state)
{
    const char *dir = TFT_DIR(state);
    char *ro = path_join(dir, "ro");
    assert_int_equal(mkdir(ro, 0755), 0);
    assert_int_equal(write_file(ro, "f", "kept"), 0);
    assert_int_equal(chmod(ro, 0555), 0);
    char *dest = path_join(ro, "f");
    /* As root a 0555 directory is writable: drop to nobody for the check. */
    assert_int_equal(run_child(replace_in_readonly, dest, true), 0);
    assert_content(dest, "kept");
    assert_int_equal(dir_entries(ro), 1);
    chmod(ro, 0755);
    free(dest); free(ro);
}

/* ---- kill -9 at random moments ------------------------------------------ */

/* Child: replaces dest with content 1, 2, 3... until killed. */
static int replace_forever(void *arg)
{
    const char *dest = arg;
    long first = check_content(dest);
    for (long seq = first + 1;; seq++) {
        size_t n;
        char *c = make_content(seq, &n);
        CHECK(tf_replace_contents(dest, c, n, &(tf_persist_opts){ .level = TF_LEVEL_VISIBLE },
                                  NULL) == TF_LEVEL_VISIBLE);
        free(c);
    }
}

static time_t far_ahead(void)
{
    return time(NULL) + 2 * 86400;
}

static void test_kill9(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    size_t n;
    char *c = make_content(0, &n);
    assert_int_equal(tf_replace_contents(dest, c, n, NULL, NULL), TF_LEVEL_DURABLE);
    free(c);
    unsigned seed = (unsigned)time(NULL);
    print_message("kill -9 seed %u\n", seed);
    srand(seed);
    size_t orphans = 0;
    long last = 0;
    for (int round = 0; round < 30; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(replace_forever(dest));
        struct timespec ts = { 0, (rand() % 50000) * 1000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        long seq = check_content(dest);
        if (seq < last)
            fail_msg("round %d: destination %s (last seen %ld)",
                     round, seq == -2 ? "torn" : seq == -1 ? "missing" : "older", last);
        last = seq;
        /* What the killed writer left is an orphan that the sweep removes. */
        tf__sweep_clock_hook = far_ahead;
        tf_sweep_result r;
        assert_int_equal(tf_sweep(dir, &(tf_sweep_opts){ .prefix = ".tmp" }, &r), 0);
        tf__sweep_clock_hook = NULL;
        assert_int_equal(r.live, 0);
        assert_int_equal(r.failed, 0);
        orphans += r.removed;
        assert_int_equal(dir_entries(dir), 1);
    }
    print_message("30 kills: last content %ld, %zu orphans swept\n", last, orphans);
    free(dest);
}

/* ---- every seam call failed in turn ------------------------------------ */

struct fail_ctx {
    char *dir, *dest;
    tf_file *f;    /* commit-only runs: the handle, written */
    int fds;
};

static void reset_dest(struct fail_ctx *c)
{
    FILE *o = fopen(c->dest, "w");
    fputs("old", o);
    fclose(o);
    chmod(c->dest, 0640);
    setxattr(c->dest, "user.k", "v", 1, 0);
}

static int run_oneshot(void *arg)
{
    struct fail_ctx *c = arg;
    return tf_replace_contents(c->dest, "new", 3, NULL, NULL);
}

static void check_oneshot(bool ok, void *arg)
{
    struct fail_ctx *c = arg;
    char *got = content_of(c->dest);
    /* Failed after the rename (directory fsync): new; otherwise old. */
    if (ok)
        assert_string_equal(got, "new");
    else
        assert_true(strcmp(got, "old") == 0 || strcmp(got, "new") == 0);
    if (strcmp(got, "new") == 0) {
        assert_int_equal(path_mode(c->dest), 0640);
        reset_dest(c);
    }
    free(got);
    assert_int_equal(dir_entries(c->dir), 1);
    assert_int_equal(fd_count(), c->fds);
}

static void fresh_handle(struct fail_ctx *c)
{
    c->f = tf_replace_begin(c->dest, NULL);
    assert_non_null(c->f);
    assert_int_equal(tf_file_write(c->f, "new", 3), 3);
    c->fds = fd_count();
}

static int run_commit(void *arg)
{
    struct fail_ctx *c = arg;
    return tf_file_commit(c->f, NULL);
}

static void check_commit(bool ok, void *arg)
{
    struct fail_ctx *c = arg;
    if (ok || strcmp(tf_file_name(c->f), c->dest) == 0) {
        assert_content(c->dest, "new");
        assert_int_equal(dir_entries(c->dir), 1);
        tf_file_release(c->f);
        reset_dest(c);
        fresh_handle(c);
        return;
    }
    assert_content(c->dest, "old");
    assert_int_equal(dir_entries(c->dir), 2);
    assert_int_equal(fd_count(), c->fds);
    assert_int_equal(tf_file_seek(c->f, 0, SEEK_END), 3);   /* still usable */
}

static void test_fail_each(void **state)
{
    (void)state;
    struct fail_ctx c = { .dir = shm_scratch() };
    assert_non_null(c.dir);
    c.dest = path_join(c.dir, "dest");
    reset_dest(&c);
    c.fds = fd_count();
    struct durable_case one = { run_oneshot, check_oneshot, &c };
    unsigned long failed = durable_fail_each(&one);
    print_message("one-shot: %lu injected runs failed\n", failed);
    assert_true(failed > 0);
    fresh_handle(&c);
    struct durable_case commit = { run_commit, check_commit, &c };
    failed = durable_fail_each(&commit);
    print_message("commit: %lu injected runs failed\n", failed);
    assert_true(failed > 0);
    tf_file_release(c.f);
    remove_tree(c.dir);
    free(c.dir);
    free(c.dest);
}

/* A filesystem without RENAME_NOREPLACE (renameat2 refuses the flag), and
 * optionally without hard links (linkat EPERM). */
static bool no_links;
static int no_noreplace_renameat2(int od, const char *op, int nd, const char *np, unsigned fl)
{
    if (fl & RENAME_NOREPLACE) {
        errno = EINVAL;
        return -1;
    }
    return tf__sys_default.renameat2(od, op, nd, np, fl);
}

static int no_links_linkat(int od, const char *op, int nd, const char *np, int fl)
{
    if (no_links) {
        errno = EPERM;
        return -1;
    }
    return tf__sys_default.linkat(od, op, nd, np, fl);
}

/* No-clobber there: a hard link then the temporary's unlink, EEXIST from the
 * link when dest exists, EOPNOTSUPP without hard links, and a failed unlink
 * takes the new name back: never two names, never a clobbered dest. */
static void test_noclobber_without_noreplace(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "new");
    const tf_persist_opts nc = { .level = TF_LEVEL_VISIBLE, .flags = TF_PERSIST_NOCLOBBER };
    fault_next.renameat2 = no_noreplace_renameat2;
    fault_next.linkat = no_links_linkat;
    fault_count_start();   /* the wrappers in, calling fault_next */
    no_links = false;
    assert_int_equal(tf_replace_contents(dest, "one", 3, &nc, NULL), TF_LEVEL_VISIBLE);
    assert_content(dest, "one");
    assert_int_equal(dir_entries(dir), 1);
    errno = 0;
    assert_int_equal(tf_replace_contents(dest, "two", 3, &nc, NULL), -1);
    assert_errno(EEXIST);
    assert_content(dest, "one");
    assert_int_equal(unlink(dest), 0);
    /* The temporary's unlink fails: the link just made is taken back. */
    fault_arm("unlinkat", 1, EIO);
    errno = 0;
    assert_int_equal(tf_replace_contents(dest, "three", 5, &nc, NULL), -1);
    assert_errno(EIO);
    assert_false(path_exists(dest));
    fault_reset();
    fault_next.renameat2 = no_noreplace_renameat2;
    fault_next.linkat = no_links_linkat;
    fault_count_start();
    no_links = true;
    errno = 0;
    assert_int_equal(tf_replace_contents(dest, "four", 4, &nc, NULL), -1);
    assert_errno(EOPNOTSUPP);
    assert_false(path_exists(dest));
    fault_reset();
    assert_int_equal(dir_entries(dir), 0);
    free(dest);
}

/* A symbolic link put where dest was, between begin and commit: with the
 * follow or refuse policy the commit fails with ELOOP and replaces nothing,
 * and the handle can still be aborted. */
static void test_link_appears_before_commit(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(write_file(dir, "dest", "old"), 0);
    assert_int_equal(write_file(dir, "elsewhere", "keep"), 0);
    char *dest = path_join(dir, "dest"), *other = path_join(dir, "elsewhere");
    const int policies[] = { TF_SYMLINK_FOLLOW, TF_SYMLINK_REFUSE };
    for (int i = 0; i < 2; i++) {
        tf_persist_opts o = { .level = TF_LEVEL_VISIBLE, .symlinks = policies[i] };
        tf_file *f = tf_replace_begin(dest, &o);
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, "new", 3), 3);
        assert_int_equal(unlink(dest), 0);
        assert_int_equal(symlink("elsewhere", dest), 0);
        errno = 0;
        assert_int_equal(tf_file_commit(f, NULL), -1);
        assert_errno(ELOOP);
        assert_int_equal(tf_file_release(f), 0);
        assert_content(other, "keep");
        struct stat st;
        assert_int_equal(lstat(dest, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(dir_entries(dir), 2);
        assert_int_equal(unlink(dest), 0);
        assert_int_equal(write_file(dir, "dest", "old"), 0);
    }
    free(dest), free(other);
}

/* Every sibling name taken: the temporary's create answers EEXIST from its
 * first try on; after TF_TMP_MAX names the replace gives up with EEXIST,
 * nothing made, dest untouched (the one-shot and begin alike). */
static void test_sibling_names_exhausted(void **state)
{
    char *dest = dest_in(state, "conf", "old");
    for (int oneshot = 0; oneshot < 2; oneshot++) {
        fault_arm_range("openat", 2, 0, EEXIST);   /* the first is the directory's */
        errno = 0;
        if (oneshot)
            assert_int_equal(replace_str(dest, "new", NULL, NULL), -1);
        else
            assert_null(tf_replace_begin(dest, NULL));
        int err = errno;
        unsigned long tries = fault_calls("openat") - 1;
        fault_reset();
        assert_int_equal(err, EEXIST);
        assert_int_equal(tries, TF_TMP_MAX);
        assert_content(dest, "old");
        assert_int_equal(dir_entries(TFT_DIR(state)), 1);
    }
    free(dest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_begin_commit, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_abort, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_cleanup_after_directory_moved, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_directory_held_by_level, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_syscall_order, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_metadata_carried, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_oneshot_allocations, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_metadata_syscalls, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_preallocation, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_commit_drops_live_mark, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_creation_mode, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_creation_mode_default_acl, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_creation_mode_setgid_dir, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_metadata_old_kernel, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_metadata_fail_closed, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_owner_fail_closed, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_symlink_policy, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_symlink_unwritable, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_readonly_dir, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_fail_each, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_kill9, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_noclobber_without_noreplace, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_link_appears_before_commit, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_sibling_names_exhausted, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
