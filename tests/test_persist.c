/*
 * Persist (tf_file_persist, tf_file_persist_at) and the linkable unnamed file:
 * rename, no-clobber and its link + unlink fallback, linking into place,
 * copying across filesystems, a failed persist handing the file back, the
 * registry letting a persisted file go, the syscall order of each level,
 * every seam call failed in turn, and tf_replace_begin()'s temporary for a
 * new destination (test_replace has the rest of the replace).
 */
#include "durable_helpers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

static tf_file *named_with(const char *dir, const char *content)
{
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, content, strlen(content)), (ssize_t)strlen(content));
    return f;
}

/* The handle still works and still is the same temporary. */
static void assert_handed_back(tf_file *f, const char *content)
{
    assert_int_equal(tf_file_closed(f), 0);
    assert_true(path_exists(tf_file_name(f)));
    assert_content(tf_file_name(f), content);
    assert_int_equal(tf_file_seek(f, 0, SEEK_END), (off_t)strlen(content));
}

static void test_persist_replaces(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    assert_int_equal(write_file(dir, "dest", "old"), 0);
    size_t reg = tf_cleanup_registered();
    tf_file *f = named_with(dir, "new");
    char *tmp = strdup(tf_file_name(f));
    assert_int_equal(tf_cleanup_registered(), reg + 1);
    tf_persist_report rep;
    assert_int_equal(tf_file_persist(f, dest, NULL, &rep), TF_LEVEL_DURABLE);
    assert_int_equal(rep.level, TF_LEVEL_DURABLE);
    assert_content(dest, "new");
    assert_false(path_exists(tmp));
    assert_string_equal(tf_file_name(f), dest);
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_int_equal(path_mode(dest), 0600);   /* a persisted file keeps its mode */
    /* The handle goes on working on the persisted file. */
    assert_int_equal(tf_file_write(f, "!", 1), 1);
    /* No live mark any more: another's flock of it is granted while the
     * handle is open. */
    int other = open(dest, O_RDONLY | O_CLOEXEC);
    assert_true(other >= 0);
    assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
    close(other);
    /* Neither cleanup nor close nor release removes it. */
    assert_true(tf_cleanup_now() >= 0);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "new!");
    assert_int_equal(dir_entries(dir), 1);
    free(tmp);
    free(dest);
}

/* A destination that is a hard link of the temporary itself: rename(2)
 * would do nothing and succeed, leaving the temporary's name behind,
 * unregistered. The persist removes that name instead. */
static void test_persist_onto_own_link(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    size_t reg = tf_cleanup_registered();
    tf_file *f = named_with(dir, "mine");
    char *tmp = strdup(tf_file_name(f));
    assert_int_equal(link(tmp, dest), 0);
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER },
                                     NULL), -1);
    assert_int_equal(errno, EEXIST);   /* no-clobber: the name is taken, by whatever */
    assert_handed_back(f, "mine");
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), TF_LEVEL_DURABLE);
    assert_false(path_exists(tmp));
    assert_content(dest, "mine");
    assert_string_equal(tf_file_name(f), dest);
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "mine");
    free(tmp);
    free(dest);
}

static void test_persist_keep_and_mode(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "kept");
    /* Python's delete=False, handed on. */
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir, .flags = TF_KEEP });
    assert_non_null(f);
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .level = TF_LEVEL_VISIBLE,
                                                                    .mode = 0640 }, NULL),
                     TF_LEVEL_VISIBLE);
    assert_int_equal(path_mode(dest), 0640);
    assert_int_equal(tf_file_close(f), 0);
    assert_int_equal(tf_file_release(f), 0);
    assert_true(path_exists(dest));
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
}

static void test_noclobber(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    assert_int_equal(write_file(dir, "dest", "old"), 0);
    size_t reg = tf_cleanup_registered();
    tf_file *f = named_with(dir, "new");
    tf_persist_opts nc = { .flags = TF_PERSIST_NOCLOBBER, .mode = 0644 };
    errno = 0;
    assert_int_equal(tf_file_persist(f, dest, &nc, NULL), -1);
    assert_errno(EEXIST);
    assert_content(dest, "old");
    assert_handed_back(f, "new");
    assert_int_equal(path_mode(tf_file_name(f)), 0600);   /* its mode put back */
    assert_int_equal(tf_cleanup_registered(), reg + 1);
    /* To a free name, it works; the filesystem refusing RENAME_NOREPLACE
     * (EINVAL) takes link + unlink, leaving one name. */
    char *dest2 = path_join(dir, "dest2");
    fault_arm("renameat2", 1, EINVAL);
    assert_int_equal(tf_file_persist(f, dest2, &nc, NULL), TF_LEVEL_DURABLE);
    assert_int_equal(fault_hits(), 1);
    fault_reset();
    assert_content(dest2, "new");
    assert_int_equal(dir_entries(dir), 2);
    struct stat st;
    assert_int_equal(stat(dest2, &st), 0);
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(tf_file_release(f), 0);
    /* The fallback also says EEXIST for a taken name, and leaves nothing. */
    f = named_with(dir, "x");
    fault_arm("renameat2", 1, EINVAL);
    assert_int_equal(tf_file_persist(f, dest, &nc, NULL), -1);
    assert_errno(EEXIST);
    fault_reset();
    assert_handed_back(f, "x");
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(dir_entries(dir), 2);
    assert_content(dest, "old");
    /* A mode of 0 (umask 0777) is put back too. */
    umask(0777);
    f = named_with(dir, "z");
    assert_int_equal(path_mode(tf_file_name(f)), 0);
    assert_int_equal(tf_file_persist(f, dest, &nc, NULL), -1);
    assert_errno(EEXIST);
    assert_int_equal(path_mode(tf_file_name(f)), 0);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(dir_entries(dir), 2);
    free(dest);
    free(dest2);
}

static void test_linkable(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    tf_file *f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_null(tf_file_name(f));
    assert_int_equal(dir_entries(dir), 0);   /* no name while half-written */
    assert_int_equal(tf_file_write(f, "one", 3), 3);
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER },
                                     NULL), TF_LEVEL_DURABLE);
    assert_content(dest, "one");
    assert_string_equal(tf_file_name(f), dest);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "one");
    /* Replacing goes through a sibling name and a rename: none is left. */
    f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir });
    assert_int_equal(tf_file_write(f, "two", 3), 3);
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), TF_LEVEL_DURABLE);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "two");
    assert_int_equal(dir_entries(dir), 1);
    /* No-clobber by nature: EEXIST, handed back. */
    f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir });
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER },
                                     NULL), -1);
    assert_errno(EEXIST);
    assert_int_equal(tf_file_write(f, "z", 1), 1);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(dir_entries(dir), 1);
    /* Without O_TMPFILE: a named temporary, persisted the same way. */
    fault_arm("openat", 1, EOPNOTSUPP);
    f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir });
    assert_int_equal(fault_hits(), 1);
    fault_reset();
    assert_non_null(f);
    assert_non_null(tf_file_name(f));
    assert_int_equal(dir_entries(dir), 2);
    assert_int_equal(tf_file_write(f, "three", 5), 5);
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), TF_LEVEL_DURABLE);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "three");
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
}

/* The kernel links a nameless file once: a rename that fails after the
 * sibling link used to unlink it and leave a file no persist could place
 * again (ENOENT); the sibling name is kept instead, a named temporary. */
static void test_linkable_rename_fails(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    assert_int_equal(write_file(dir, "dest", "old"), 0);
    size_t reg = tf_cleanup_registered();
    tf_file *f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "new", 3), 3);
    fault_arm("renameat2", 1, EIO);
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), -1);
    assert_errno(EIO);
    fault_reset();
    assert_content(dest, "old");
    assert_non_null(tf_file_name(f));
    assert_true(strncmp(tf_file_name(f), dir, strlen(dir)) == 0);
    assert_true(path_exists(tf_file_name(f)));
    assert_int_equal(tf_cleanup_registered(), reg + 1);
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), TF_LEVEL_DURABLE);
    assert_content(dest, "new");
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(tf_file_release(f), 0);
    /* Given up before persisting again: its release removes the name. */
    f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir });
    fault_arm("renameat2", 1, ENOSPC);
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), -1);
    fault_reset();
    assert_int_equal(dir_entries(dir), 2);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_content(dest, "new");
    free(dest);
}

/* Refused options: as tf_temporary_file(), nothing made. An exact mode the
 * fchmod cannot give: NULL with its errno, no descriptor left. */
static void test_linkable_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    errno = 0;
    assert_null(tf_linkable_temporary_file(&(tf_opts){ .dir = dir, .prefix = "a/b" }));
    assert_errno(EINVAL);
    fault_arm("fchmod", 1, EPERM);
    errno = 0;
    assert_null(tf_linkable_temporary_file(&(tf_opts){ .dir = dir, .mode = 0640 }));
    assert_errno(EPERM);
    assert_int_equal(fault_hits(), 1);
    fault_reset();
    assert_no_fd_leak(fds);
    tf_file *f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir, .mode = 0640 });
    assert_non_null(f);
    struct stat st;
    assert_int_equal(fstat(tf_file_fileno(f), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(dir_entries(dir), 0);
}

static void test_unnamed_needs_copy(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir });
    assert_int_equal(tf_file_write(f, "abc", 3), 3);
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), -1);
    assert_errno(EINVAL);   /* O_EXCL: it can never be linked */
    assert_false(path_exists(dest));
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = TF_PERSIST_COPY,
                                                                   .mode = 0604 }, NULL),
                     TF_LEVEL_DURABLE);
    assert_content(dest, "abc");
    assert_int_equal(path_mode(dest), 0604);
    assert_int_equal(tf_file_tell(f), 3);   /* the copy's offset where the file's was */
    assert_int_equal(tf_file_release(f), 0);
    assert_int_equal(dir_entries(dir), 1);
    /* A spooled file in memory rolls over and is copied. */
    f = tf_spooled_temporary_file(&(tf_opts){ .dir = dir });
    assert_int_equal(tf_file_write(f, "spooled", 7), 7);
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = TF_PERSIST_COPY },
                                     NULL), TF_LEVEL_DURABLE);
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "spooled");
    assert_int_equal(dir_entries(dir), 1);
    free(dest);
}

static void test_across_filesystems(void **state)
{
    const char *dir = TFT_DIR(state);
    char *shm = shm_scratch();
    struct stat a, b;
    if (!shm || stat(shm, &a) < 0 || stat(dir, &b) < 0 || a.st_dev == b.st_dev) {
        free(shm);
        skip();   /* needs /dev/shm on another filesystem than /tmp */
    }
    char *dest = path_join(dir, "dest");
    tf_file *f = named_with(shm, "far");
    errno = 0;
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), -1);
    assert_errno(EXDEV);
    assert_handed_back(f, "far");
    char *tmp = strdup(tf_file_name(f));
    assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = TF_PERSIST_COPY },
                                     NULL), TF_LEVEL_DURABLE);
    assert_content(dest, "far");
    assert_false(path_exists(tmp));
    assert_int_equal(path_mode(dest), 0600);
    assert_int_equal(tf_file_write(f, "!", 1), 1);   /* the handle is the copy now */
    assert_int_equal(tf_file_release(f), 0);
    assert_content(dest, "far!");
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(dir_entries(shm), 0);
    rmdir(shm);
    free(shm);
    free(tmp);
    free(dest);
}

static void test_bad_input(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = named_with(dir, "data");
    char *before = dir_listing(dir);
    char longname[NAME_MAX + 2];
    memset(longname, 'a', NAME_MAX + 1);
    longname[NAME_MAX + 1] = '\0';
    char *toolong = path_join(dir, longname);
    char *missing = path_join(dir, "nodir/x");
    char *slash = path_join(dir, "x/");
    struct { const char *dest; int err; } cases[] = {
        { NULL, EINVAL }, { "", ENOENT }, { dir, EISDIR }, { slash, EISDIR },
        { toolong, ENAMETOOLONG }, { missing, ENOENT }, { "/dev/null", EINVAL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errno = 0;
        assert_int_equal(tf_file_persist(f, cases[i].dest, NULL, NULL), -1);
        assert_errno(cases[i].err);
    }
    char *fifo = path_join(dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    free(before);
    before = dir_listing(dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    errno = 0;
    assert_int_equal(tf_file_persist_at(f, dfd, "fifo", NULL, NULL), -1);
    assert_errno(EINVAL);
    close(dfd);
    /* Options: unknown flags, levels, policies, reserved slots. */
    tf_persist_opts bad[] = { { .flags = 1u << 0 }, { .flags = TF_PERSIST_BEST_EFFORT },
                              { .level = 4 }, { .level = -1 }, { .symlinks = 3 },
                              { .mode = 010000 }, { .timeout_ms = 5 }, { .reserved = { 0, 1 } } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(tf_file_persist(f, "x", &bad[i], NULL), -1);
        assert_errno(EINVAL);
    }
    assert_int_equal(tf_file_persist(NULL, "x", NULL, NULL), -1);
    assert_errno(EINVAL);
    assert_listing_equal(before, dir_listing(dir));
    assert_handed_back(f, "data");
    tf_file_close(f);
    assert_int_equal(tf_file_persist(f, "x", NULL, NULL), -1);
    assert_errno(EBADF);
    tf_file_release(f);
    unlink(fifo);
    free(fifo);
    free(toolong);
    free(missing);
    free(slash);
}

/* Data fsync before the rename, directory fsync after, per level. */
static void test_syscall_order(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    struct { int level; const char *trace; } cases[] = {
        { TF_LEVEL_VISIBLE, "R" }, { TF_LEVEL_CONSISTENT, "FR" }, { TF_LEVEL_DURABLE, "FRD" },
        { 0, "FRD" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tf_file *f = named_with(dir, "x");
        trace_start();
        assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .level = cases[i].level },
                                         NULL), cases[i].level ? cases[i].level : TF_LEVEL_DURABLE);
        fault_reset();
        assert_string_equal(durable_trace, cases[i].trace);
        tf_file_release(f);
    }
    /* Linked: the sibling link, then the rename. */
    tf_file *f = tf_linkable_temporary_file(&(tf_opts){ .dir = dir });
    trace_start();
    assert_int_equal(tf_file_persist(f, dest, NULL, NULL), TF_LEVEL_DURABLE);
    fault_reset();
    assert_true(strcmp(durable_trace, "FLRD") == 0 || strcmp(durable_trace, "FLLRD") == 0);
    tf_file_release(f);
    free(dest);
}

/* ---- a directory the process may write but not read -------------------- */

/* Child: persist, replace and lock in a drop box (-wx): they work, at
 * TF_LEVEL_CONSISTENT (no descriptor of the directory to fsync), and
 * TF_PERSIST_STRICT fails with EACCES after the rename. */
static int into_drop_box(void *arg)
{
    const char *box = arg;
    umask(022);   /* the modes listed */
    char dest[PATH_MAX];
    tf_persist_report rep;
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = box });
    CHECK(f != NULL);
    snprintf(dest, sizeof dest, "%s/persisted", box);
    CHECK(tf_file_persist(f, dest, NULL, &rep) == TF_LEVEL_CONSISTENT);
    CHECK(rep.level == TF_LEVEL_CONSISTENT);
    tf_file_release(f);
    snprintf(dest, sizeof dest, "%s/replaced", box);
    CHECK(tf_replace_contents(dest, "r", 1, NULL, NULL) == TF_LEVEL_CONSISTENT);
    errno = 0;
    CHECK(tf_replace_contents(dest, "s", 1, &(tf_persist_opts){ .flags = TF_PERSIST_STRICT },
                              NULL) == -1);
    CHECK(errno == EACCES);
    snprintf(dest, sizeof dest, "%s/locked", box);
    f = tf_lock_file(dest, NULL);
    CHECK(f != NULL);
    CHECK(tf_file_commit(f, NULL) == TF_LEVEL_CONSISTENT);
    tf_file_release(f);
    return 0;
}

static void test_drop_box_directory(void **state)
{
    char *box = path_join(TFT_DIR(state), "box");
    assert_int_equal(mkdir(box, 0700), 0);
    give_to_nobody(TFT_DIR(state));
    give_to_nobody(box);
    assert_int_equal(chmod(box, 0300), 0);
    assert_int_equal(run_child(into_drop_box, box, true), 0);
    assert_int_equal(chmod(box, 0700), 0);
    assert_listing_equal(strdup("locked f 0644\npersisted f 0600\nreplaced f 0644\n"),
                         dir_listing(box));
    free(box);
}

/* A directory fsync that the filesystem refuses lowers the level, or fails
 * under TF_PERSIST_STRICT; EIO always fails. */
static void test_directory_sync_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    char *dest = path_join(dir, "dest");
    tf_persist_report rep;
    tf_file *f = named_with(dir, "a");
    fault_arm("fsync", 2, EINVAL);
    assert_int_equal(tf_file_persist(f, dest, NULL, &rep), TF_LEVEL_CONSISTENT);
    assert_int_equal(rep.level, TF_LEVEL_CONSISTENT);
    fault_reset();
    tf_file_release(f);
    int errs[] = { EINVAL, EIO };
    unsigned flags[] = { TF_PERSIST_STRICT, 0 };
    for (int i = 0; i < 2; i++) {
        f = named_with(dir, "b");
        fault_arm("fsync", 2, errs[i]);
        errno = 0;
        assert_int_equal(tf_file_persist(f, dest, &(tf_persist_opts){ .flags = flags[i] }, &rep), -1);
        assert_errno(errs[i]);
        fault_reset();
        /* In place all the same: a rename cannot be taken back. */
        assert_int_equal(rep.level, TF_LEVEL_CONSISTENT);
        assert_string_equal(tf_file_name(f), dest);
        assert_content(dest, "b");
        tf_file_release(f);
        assert_true(path_exists(dest));
    }
    free(dest);
}

/* ---- every seam call failed in turn ------------------------------------ */

struct fail_ctx {
    char *dir, *dest;
    char *tmpdir;   /* where the temporaries are made: dir, or another filesystem */
    tf_file *f;
    bool linkable;
    unsigned flags;
    int fds;
};

static void fresh(struct fail_ctx *c)
{
    FILE *o = fopen(c->dest, "w");
    fputs("old", o);
    fclose(o);
    if (c->linkable)
        c->f = tf_linkable_temporary_file(&(tf_opts){ .dir = c->tmpdir });
    else
        c->f = tf_named_temporary_file(&(tf_opts){ .dir = c->tmpdir });
    assert_non_null(c->f);
    assert_int_equal(tf_file_write(c->f, "new", 3), 3);
    c->fds = fd_count();
}

static int run_persist(void *arg)
{
    struct fail_ctx *c = arg;
    return tf_file_persist(c->f, c->dest, &(tf_persist_opts){ .flags = c->flags }, NULL);
}

static void check_persist(bool ok, void *arg)
{
    struct fail_ctx *c = arg;
    bool apart = strcmp(c->dir, c->tmpdir) != 0;
    if (ok) {
        assert_content(c->dest, "new");
        assert_int_equal(dir_entries(c->dir), 1);
        if (apart)
            assert_int_equal(dir_entries(c->tmpdir), 0);
        assert_int_equal(fd_count(), c->fds);
        tf_file_release(c->f);
        fresh(c);
        return;
    }
    if (path_exists(c->dest) && strcmp(tf_file_name(c->f) ? tf_file_name(c->f) : "", c->dest) == 0) {
        /* Failed after the rename (the directory fsync): in place. */
        assert_content(c->dest, "new");
        tf_file_release(c->f);
        assert_int_equal(dir_entries(c->dir), 1);
        if (apart)
            assert_int_equal(dir_entries(c->tmpdir), 0);
        fresh(c);
        return;
    }
    assert_content(c->dest, "old");
    /* A linkable file whose rename failed keeps its sibling name. */
    bool kept = c->linkable && tf_file_name(c->f);
    assert_int_equal(dir_entries(c->dir), (c->linkable && !kept) || apart ? 1 : 2);
    if (apart)
        assert_int_equal(dir_entries(c->tmpdir), c->linkable ? 0 : 1);
    assert_int_equal(fd_count(), c->fds);
    assert_int_equal(tf_file_seek(c->f, 0, SEEK_SET), 0);
    char buf[8] = { 0 };
    assert_int_equal(tf_file_read(c->f, buf, sizeof buf), 3);
    assert_string_equal(buf, "new");
    /* Handed back whole: with no fault it persists now (NOCLOBBER: dest
     * exists, so it fails again and is kept for the next run). */
    if (c->flags & TF_PERSIST_NOCLOBBER)
        return;
    assert_true(tf_file_persist(c->f, c->dest, &(tf_persist_opts){ .flags = c->flags }, NULL) > 0);
    check_persist(true, c);
}

static void fail_each(bool linkable, unsigned flags, const char *tmpdir)
{
    struct fail_ctx c = { .dir = shm_scratch(), .linkable = linkable, .flags = flags };
    assert_non_null(c.dir);
    c.tmpdir = tmpdir ? (char *)tmpdir : c.dir;
    c.dest = path_join(c.dir, "dest");
    fresh(&c);
    struct durable_case dc = { run_persist, check_persist, &c };
    unsigned long failed = durable_fail_each(&dc);
    print_message("%lu injected runs failed the persist\n", failed);
    assert_true(failed > 0);
    tf_file_release(c.f);
    remove_tree(c.dir);
    free(c.dir);
    free(c.dest);
}

static void test_fail_each_named(void **state)
{
    (void)state;
    fail_each(false, 0, NULL);
    fail_each(false, TF_PERSIST_NOCLOBBER, NULL);   /* dest exists: fails anyway, leaves all */
}

static void test_fail_each_linkable(void **state)
{
    (void)state;
    fail_each(true, 0, NULL);
}

/* Made on /tmp, persisted by copy to /dev/shm. */
static void test_fail_each_copy(void **state)
{
    struct stat a, b;
    if (stat("/dev/shm", &a) < 0 || stat(TFT_DIR(state), &b) < 0 || a.st_dev == b.st_dev)
        skip();
    fail_each(false, TF_PERSIST_COPY, TFT_DIR(state));
    fail_each(true, TF_PERSIST_COPY, TFT_DIR(state));
}

/* tf_replace_begin() onto a new destination: created as open(2) with 0666
 * would create it, committed with no umask read nor fchmod; an existing
 * one, or a mode given, 0600 until the commit. */
static void test_replace_begin_new_destination(void **state)
{
    tft_check_new_destination(TFT_DIR(state), tf_replace_begin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_persist_replaces, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_persist_onto_own_link, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_persist_keep_and_mode, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_noclobber, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_linkable, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_linkable_rename_fails, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_linkable_refused, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_unnamed_needs_copy, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_across_filesystems, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_syscall_order, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_directory_sync_refused, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_drop_box_directory, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_fail_each_named, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_fail_each_linkable, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_fail_each_copy, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_replace_begin_new_destination, tft_setup,
                                        tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
