/*
 * A new destination through a replace or lock handle (tf_replace_begin(),
 * tf_lock_file()), shared by test_persist and test_lockfile: its temporary
 * is created as open(2) with 0666 creates a file there (the umask, a
 * default ACL, a set-group-ID directory's group), the commit keeps that
 * with no look at the umask and no fchmod; anything else stays 0600.
 */
#include "tftest.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/xattr.h>
#include <unistd.h>

#define ACL_ACCESS "system.posix_acl_access"

struct made {
    mode_t temp;     /* the temporary's mode, before any write */
    struct stat st;  /* the result's */
    unsigned long reads, fchmods, fchowns;   /* seam calls, handle to commit */
};

/* make's handle onto dest (opts), "data" written and committed, counted. */
static struct made make_commit(tft_handle_maker make, const char *dest,
                               const tf_persist_opts *opts)
{
    struct made m;
    fault_count_start();
    tf_file *f = make(dest, opts);
    assert_non_null(f);
    struct stat st;
    assert_int_equal(fstat(tf_file_fileno(f), &st), 0);
    m.temp = st.st_mode & 07777;
    assert_int_equal(tf_file_write(f, "data", 4), 4);
    assert_true(tf_file_commit(f, NULL) > 0);
    m.reads = fault_calls("read");
    m.fchmods = fault_calls("fchmod");
    m.fchowns = fault_calls("fchown");
    fault_reset();
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(lstat(dest, &m.st), 0);
    char *got = read_file_str(dest);
    assert_string_equal(got, "data");
    free(got);
    return m;
}

/* The file open(2) with 0666 makes as path (made anew). */
static struct stat open_0666(const char *path)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    return st;
}

static void assert_as_open(const struct made *m, const struct stat *ref)
{
    /* A lock file (O_TMPFILE) that came out at 0666 is narrowed to 0600 at
     * once (a kernel before 6.0 gave no umask there without ACLs) and gets
     * its mode at the commit, from the umask: the result is the same. */
    if ((ref->st_mode & 07777) == 0666 && m->temp == 0600) {
        assert_int_equal(m->st.st_mode & 07777, 0666);
        assert_int_equal(m->st.st_gid, ref->st_gid);
        assert_true(m->reads >= 1);
        assert_int_equal(m->fchmods, 2);   /* narrowed, then given its mode */
        assert_int_equal(m->fchowns, 0);
        return;
    }
    if (m->temp != (ref->st_mode & 07777) || (m->st.st_mode & 07777) != (ref->st_mode & 07777) ||
        m->st.st_gid != ref->st_gid)
        fail_msg("temporary %04o, result %04o group %d; open(2) with 0666: %04o group %d",
                 (unsigned)m->temp, (unsigned)m->st.st_mode & 07777, (int)m->st.st_gid,
                 (unsigned)ref->st_mode & 07777, (int)ref->st_gid);
    /* The kernel gave it: no umask read from /proc, no fchmod, no fchown. */
    assert_int_equal(m->reads, 0);
    assert_int_equal(m->fchmods, 0);
    assert_int_equal(m->fchowns, 0);
}

/* dest there at make, gone at the commit: its 0600 temporary gets 0666 &
 * ~umask, read from /proc (the one case that still reads it). */
static void check_gone_meanwhile(tft_handle_maker make, const char *dest, mode_t want)
{
    tf_file *f = make(dest, NULL);
    assert_non_null(f);
    assert_int_equal(path_mode(tf_file_name(f)), 0600);
    assert_int_equal(unlink(dest), 0);
    fault_count_start();
    assert_true(tf_file_commit(f, NULL) > 0);
    assert_true(fault_calls("read") >= 1);
    assert_int_equal(fault_calls("fchmod"), 1);
    fault_reset();
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(path_mode(dest), want);
}

/* Under umask 022, 077, 0: 0644, 0600, 0666, as open(2); an existing
 * destination and a mode given keep their 0600 temporary. */
static void check_umasks(const char *dir, tft_handle_maker make)
{
    char *dest = path_join(dir, "fresh"), *ref = path_join(dir, "ref");
    static const mode_t masks[] = { 022, 077, 0 }, want[] = { 0644, 0600, 0666 };
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        umask(masks[i]);
        unlink(dest);
        struct stat r = open_0666(ref);
        assert_int_equal(r.st_mode & 07777, want[i]);
        struct made m = make_commit(make, dest, NULL);
        assert_as_open(&m, &r);
        /* Now there: the temporary 0600, the old mode carried over. */
        m = make_commit(make, dest, NULL);
        assert_int_equal(m.temp, 0600);
        assert_int_equal(m.st.st_mode & 07777, want[i]);
        check_gone_meanwhile(make, dest, want[i]);
        /* New, a mode given: 0600 until the commit sets it exactly. */
        unlink(dest);
        m = make_commit(make, dest, &(tf_persist_opts){ .mode = 0640 });
        assert_int_equal(m.temp, 0600);
        assert_int_equal(m.st.st_mode & 07777, 0640);
    }
    umask(022);
    /* A link the result replaces (TF_SYMLINK_REPLACE) is no old file. */
    struct stat r = open_0666(ref);
    assert_int_equal(unlink(dest), 0);
    assert_int_equal(symlink("ref", dest), 0);
    struct made m = make_commit(make, dest, &(tf_persist_opts){ .symlinks = TF_SYMLINK_REPLACE });
    assert_true(S_ISREG(m.st.st_mode));
    assert_as_open(&m, &r);
    char *kept = read_file_str(ref);
    assert_string_equal(kept, "");   /* the link's target untouched */
    free(kept);
    unlink(dest), unlink(ref);
    free(dest), free(ref);
}

static ssize_t acl_of(const char *path, char *buf, size_t n)
{
    return getxattr(path, ACL_ACCESS, buf, n);
}

/* Under a default ACL: what open(2) with 0666 gets (the ACL's mode and
 * access ACL, not the umask). */
static void check_default_acl(const char *dir, tft_handle_maker make)
{
    char *sub = path_join(dir, "acl"), cmd[PATH_MAX + 80];
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(cmd, sizeof cmd,
             "command -v setfacl >/dev/null 2>&1 && "
             "setfacl -d -m u::rw,g::r,o::-,u:1234:rw,m::rw '%s' 2>/dev/null", sub);
    if (system(cmd) != 0) {
        print_message("no setfacl, or no ACLs here: the default ACL not checked\n");
        free(sub);
        return;
    }
    char *dest = path_join(sub, "fresh"), *ref = path_join(sub, "ref");
    static const mode_t masks[] = { 022, 077 };
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        umask(masks[i]);
        unlink(dest);
        struct stat r = open_0666(ref);
        struct made m = make_commit(make, dest, NULL);
        assert_as_open(&m, &r);
        char want[256], got[256];
        ssize_t wn = acl_of(ref, want, sizeof want), gn = acl_of(dest, got, sizeof got);
        assert_true(wn > 0);
        assert_int_equal(gn, wn);
        assert_memory_equal(got, want, (size_t)wn);
    }
    umask(022);
    unlink(dest), unlink(ref), rmdir(sub);
    free(dest), free(ref), free(sub);
}

/* In a set-group-ID directory: the directory's group, as open(2). */
static void check_setgid_dir(const char *dir, tft_handle_maker make)
{
    if (!running_as_root()) {
        print_message("not root: the set-group-ID directory not checked\n");
        return;
    }
    char *sub = path_join(dir, "sg");
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chown(sub, 0, 4321), 0);
    assert_int_equal(chmod(sub, 02775), 0);
    char *dest = path_join(sub, "fresh"), *ref = path_join(sub, "ref");
    struct stat r = open_0666(ref);
    assert_int_equal(r.st_gid, 4321);
    struct made m = make_commit(make, dest, NULL);
    assert_as_open(&m, &r);
    unlink(dest), unlink(ref), rmdir(sub);
    free(dest), free(ref), free(sub);
}

void tft_check_new_destination(const char *dir, tft_handle_maker make)
{
    check_umasks(dir, make);
    check_default_acl(dir, make);
    check_setgid_dir(dir, make);
}
