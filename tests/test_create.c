/*
 * Low-level creation: tf_mkstemp, tf_mkdtemp, tf_mktemp. Modes under every
 * umask, FD_CLOEXEC, absolute paths, name layout, retries on EEXIST through
 * the seam, and every bad input with nothing left behind.
 */
#include "tftest.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* tf_mktemp */

/* Asserts path == dir "/" prefix <8 random> suffix. */
static void check_name(const char *path, const char *dir, const char *prefix, const char *suffix)
{
    assert_non_null(path);
    size_t dl = strlen(dir), pl = strlen(prefix), sl = strlen(suffix);
    if (strncmp(path, dir, dl) != 0 || path[dl] != '/')
        fail_msg("%s is not in %s", path, dir);
    const char *b = path + dl + 1;
    if (strlen(b) != pl + TF_RANDOM_CHARS + sl)
        fail_msg("name %s: length %zu, expected %zu", b, strlen(b), pl + TF_RANDOM_CHARS + sl);
    if (memcmp(b, prefix, pl) != 0)
        fail_msg("name %s does not start with prefix %s", b, prefix);
    if (!is_random_part(b + pl, TF_RANDOM_CHARS))
        fail_msg("name %s: random part not of [a-z0-9_]", b);
    if (strcmp(b + pl + TF_RANDOM_CHARS, suffix) != 0)
        fail_msg("name %s does not end with suffix %s", b, suffix);
}

static bool cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

/* ---- modes ------------------------------------------------------------- */

static const mode_t UMASKS[] = { 0, 022, 077, 0777 };

static void test_mkstemp_mode_under_umasks(void **state)
{
    const char *dir = TFT_DIR(state);
    const mode_t modes[] = { 0, 0600, 0640, 0644, 0700, 0604, 0400 };
    for (size_t u = 0; u < 4; u++) {
        umask(UMASKS[u]);
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            char *path = NULL;
            int fd = tf_mkstemp(&(tf_opts){ .dir = dir, .mode = modes[m] }, &path);
            assert_true(fd >= 0);
            /* The default is left to the umask (it can only remove bits), as
             * mkstemp(3) and Python; an explicit mode is exact. */
            mode_t want = modes[m] ? modes[m] : 0600 & ~UMASKS[u];
            struct stat st;
            assert_int_equal(fstat(fd, &st), 0);
            assert_int_equal(close(fd), 0);
            assert_int_equal(unlink(path), 0);
            free(path);
            assert_true(S_ISREG(st.st_mode));
            if ((st.st_mode & 07777) != want)
                fail_msg("umask %03o mode %03o: file has %03o, expected %03o",
                         UMASKS[u], modes[m], st.st_mode & 07777, want);
            assert_int_equal(st.st_size, 0);
            assert_int_equal(st.st_nlink, 1);
            assert_int_equal(st.st_uid, geteuid());
        }
    }
}

static void test_mkdtemp_mode_under_umasks(void **state)
{
    const char *dir = TFT_DIR(state);
    const mode_t modes[] = { 0, 0700, 0750, 0755, 0500, 0300, 0711 };
    for (size_t u = 0; u < 4; u++) {
        umask(UMASKS[u]);
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            char *path = tf_mkdtemp(&(tf_opts){ .dir = dir, .mode = modes[m] });
            assert_non_null(path);
            mode_t want = modes[m] ? modes[m] : 0700 & ~UMASKS[u];
            struct stat st;
            assert_int_equal(lstat(path, &st), 0);
            assert_true(S_ISDIR(st.st_mode));
            if ((st.st_mode & 07777) != want)
                fail_msg("umask %03o mode %03o: dir has %03o, expected %03o",
                         UMASKS[u], modes[m], st.st_mode & 07777, want);
            assert_int_equal(dir_entries(path) == 0 || dir_entries(path) == -1, 1);
            assert_int_equal(chmod(path, 0700), 0);
            assert_int_equal(dir_entries(path), 0);
            assert_int_equal(rmdir(path), 0);
            free(path);
        }
    }
}

static void test_mkstemp_flags(void **state)
{
    const char *dir = TFT_DIR(state);
    char *path = NULL;
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, &path);
    assert_true(fd >= 0);
    assert_true(cloexec(fd));
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fl & O_ACCMODE, O_RDWR);
    assert_int_equal(fl & O_APPEND, 0);
    /* It is the file at path. */
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(lstat(path, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(a.st_dev, b.st_dev);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    char *content = read_file_str(path);
    assert_string_equal(content, "abc");
    free(content);
    unlink(path);
    free(path);
}

static void test_mkstemp_without_path(void **state)
{
    const char *dir = TFT_DIR(state);
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir, .prefix = "np" }, NULL);
    assert_true(fd >= 0);
    assert_int_equal(dir_entries(dir), 1);
    close(fd);
}

/* ---- names and paths ------------------------------------------------- */

static void test_prefix_suffix_placement(void **state)
{
    const char *dir = TFT_DIR(state);
    struct { const char *prefix, *suffix, *eprefix, *esuffix; } cases[] = {
        { NULL, NULL, "tmp", "" },
        { "pre_", NULL, "pre_", "" },
        { NULL, ".suf", "tmp", ".suf" },
        { "", "", "", "" },
        { "a.b-c ", " x.y", "a.b-c ", " x.y" },
        { "XXXXXX", "XXXXXX", "XXXXXX", "XXXXXX" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tf_opts o = { .dir = dir, .prefix = cases[i].prefix, .suffix = cases[i].suffix };
        char *path = NULL;
        int fd = tf_mkstemp(&o, &path);
        assert_true(fd >= 0);
        check_name(path, dir, cases[i].eprefix, cases[i].esuffix);
        close(fd);
        assert_int_equal(unlink(path), 0);
        free(path);

        path = tf_mkdtemp(&o);
        check_name(path, dir, cases[i].eprefix, cases[i].esuffix);
        assert_int_equal(rmdir(path), 0);
        free(path);

        char *before = dir_listing(dir);
        path = tf_mktemp(&o);
        check_name(path, dir, cases[i].eprefix, cases[i].esuffix);
        assert_false(path_exists(path));
        assert_listing_equal(before, dir_listing(dir));
        free(path);
    }
}

static void test_names_distinct(void **state)
{
    const char *dir = TFT_DIR(state);
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, NULL);
        assert_true(fd >= 0);
        close(fd);
        char *d = tf_mkdtemp(&(tf_opts){ .dir = dir });
        assert_non_null(d);
        free(d);
    }
    assert_int_equal(dir_entries(dir), 2 * N);
}

static void test_absolute_from_relative_dir(void **state)
{
    const char *dir = TFT_DIR(state);
    char *sub = path_join(dir, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    char *old = getcwd(NULL, 0);
    assert_int_equal(chdir(dir), 0);

    struct { const char *rel, *abs; } rels[] = {
        { "sub", sub }, { "./sub", sub }, { "sub/", sub }, { "./sub/../sub//.", sub },
        { "sub/..", dir }, { ".", dir }, { "sub/../../", NULL },
    };
    char *parent = strdup(dir);
    *strrchr(parent, '/') = '\0';
    for (size_t i = 0; i < sizeof rels / sizeof *rels; i++) {
        const char *expect_dir = rels[i].abs ? rels[i].abs : parent;
        char *path = NULL;
        int fd = tf_mkstemp(&(tf_opts){ .dir = rels[i].rel, .prefix = "rel" }, &path);
        assert_true(fd >= 0);
        close(fd);
        check_name(path, expect_dir, "rel", "");
        assert_int_equal(unlink(path), 0);
        free(path);

        path = tf_mkdtemp(&(tf_opts){ .dir = rels[i].rel, .prefix = "rel" });
        check_name(path, expect_dir, "rel", "");
        assert_int_equal(rmdir(path), 0);
        free(path);

        path = tf_mktemp(&(tf_opts){ .dir = rels[i].rel, .prefix = "rel" });
        check_name(path, expect_dir, "rel", "");
        free(path);
    }
    free(parent);
    /* The empty string is the working directory, as Python's abspath(""). */
    char *path = tf_mkdtemp(&(tf_opts){ .dir = "", .prefix = "cwd" });
    check_name(path, dir, "cwd", "");
    assert_int_equal(rmdir(path), 0);
    free(path);

    assert_int_equal(chdir(old), 0);
    free(old);
    free(sub);
}

/*
 * An absolute dir is used as it is unless a "//" or "/." can make it
 * non-normal; that check reads sixteen byte pairs at a time. Put each such
 * pair at every offset of dirs of many lengths (heap strings of exact size,
 * so that a sanitizer sees any overread): the name must always be under the
 * normalized dir.
 */
static void test_absolute_dir_normalized_at_every_offset(void **state)
{
    const char *dir = TFT_DIR(state);
    enum { MAXPAD = 40 };
    char pad[MAXPAD + 1];
    for (size_t k = 1; k <= MAXPAD; k++) {
        memset(pad, 'x', k);
        pad[k] = '\0';
        char *sub = path_join(dir, pad);
        assert_int_equal(mkdir(sub, 0700), 0);
        /* expected dir, then spellings of it that need normalizing */
        const char *forms[] = { "%s/%s//", "%s/%s/.", "%s//%s", "%s/./%s", "%s/%s/../%s/",
                                "%s/%s/", "%s/%s" };
        for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
            char *spelled = NULL;
            assert_true(asprintf(&spelled, forms[f], dir, pad, pad) > 0);
            char *path = NULL;
            int fd = tf_mkstemp(&(tf_opts){ .dir = spelled, .prefix = "n" }, &path);
            assert_true(fd >= 0);
            check_name(path, sub, "n", "");
            assert_int_equal(unlink(path), 0);
            assert_int_equal(close(fd), 0);
            free(path);
            free(spelled);
        }
        assert_int_equal(rmdir(sub), 0);
        free(sub);
    }
}

static void test_default_dir_used(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(tf_settempdir(dir), 0);
    char *path = NULL;
    int fd = tf_mkstemp(NULL, &path);
    assert_true(fd >= 0);
    close(fd);
    check_name(path, dir, "tmp", "");
    free(path);
    path = tf_mkdtemp(NULL);
    check_name(path, dir, "tmp", "");
    free(path);
    path = tf_mktemp(NULL);
    check_name(path, dir, "tmp", "");
    free(path);
    assert_int_equal(dir_entries(dir), 2);
}

/* ---- retries on EEXIST through the seam --------------------------------- */

static unsigned long exist_left, excl_calls;
static char tried[16][PATH_MAX];

static void note_try(const char *path)
{
    if (excl_calls < 16)
        snprintf(tried[excl_calls], PATH_MAX, "%s", path);
    excl_calls++;
}

static int openat_eexist(int dirfd, const char *path, int flags, mode_t mode)
{
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        note_try(path);
        if (exist_left > 0) {
            exist_left--;
            errno = EEXIST;
            return -1;
        }
    }
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

static int mkdirat_eexist(int dirfd, const char *path, mode_t mode)
{
    note_try(path);
    if (exist_left > 0) {
        exist_left--;
        errno = EEXIST;
        return -1;
    }
    return tf__sys_default.mkdirat(dirfd, path, mode);
}

static int fstatat_exists(int dirfd, const char *path, struct stat *st, int flags)
{
    note_try(path);
    if (exist_left > 0) {
        exist_left--;
        memset(st, 0, sizeof *st);
        st->st_mode = S_IFREG | 0600;
        return 0;
    }
    return tf__sys_default.fstatat(dirfd, path, st, flags);
}

static void check_tries_distinct(unsigned long n)
{
    for (unsigned long i = 0; i < n && i < 16; i++)
        for (unsigned long j = 0; j < i; j++)
            if (strcmp(tried[i], tried[j]) == 0)
                fail_msg("the name %s was tried twice", tried[i]);
}

static void test_mkstemp_retries_on_eexist(void **state)
{
    const char *dir = TFT_DIR(state);
    for (unsigned long n = 1; n <= 10; n++) {
        exist_left = n;
        excl_calls = 0;
        tf__sys.openat = openat_eexist;
        char *path = NULL;
        int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, &path);
        fault_reset();
        assert_true(fd >= 0);
        assert_int_equal(excl_calls, n + 1);
        check_tries_distinct(n + 1);
        assert_string_equal(path, tried[n]);
        close(fd);
        assert_int_equal(unlink(path), 0);
        free(path);
    }
    assert_int_equal(dir_entries(dir), 0);
}

static void test_mkdtemp_retries_on_eexist(void **state)
{
    const char *dir = TFT_DIR(state);
    for (unsigned long n = 1; n <= 10; n++) {
        exist_left = n;
        excl_calls = 0;
        tf__sys.mkdirat = mkdirat_eexist;
        char *path = tf_mkdtemp(&(tf_opts){ .dir = dir });
        fault_reset();
        assert_non_null(path);
        assert_int_equal(excl_calls, n + 1);
        check_tries_distinct(n + 1);
        assert_string_equal(path, tried[n]);
        assert_int_equal(rmdir(path), 0);
        free(path);
    }
}

static void test_mktemp_retries_on_eexist(void **state)
{
    const char *dir = TFT_DIR(state);
    exist_left = 5;
    excl_calls = 0;
    tf__sys.fstatat = fstatat_exists;
    char *path = tf_mktemp(&(tf_opts){ .dir = dir });
    fault_reset();
    assert_non_null(path);
    assert_true(excl_calls >= 6);
    check_tries_distinct(6);
    free(path);
}

static void test_give_up_after_tmp_max(void **state)
{
    const char *dir = TFT_DIR(state);
    int fds = fd_count();
    char *before = dir_listing(dir);

    exist_left = (unsigned long)-1;
    excl_calls = 0;
    tf__sys.openat = openat_eexist;
    char *path = (char *)1;
    errno = 0;
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, &path);
    int err = errno;
    fault_reset();
    assert_int_equal(fd, -1);
    errno = err;
    assert_errno(EEXIST);
    assert_true(path == (char *)1);
    assert_int_equal(excl_calls, TF_TMP_MAX);

    exist_left = (unsigned long)-1;
    excl_calls = 0;
    tf__sys.mkdirat = mkdirat_eexist;
    errno = 0;
    char *d = tf_mkdtemp(&(tf_opts){ .dir = dir });
    err = errno;
    fault_reset();
    assert_null(d);
    errno = err;
    assert_errno(EEXIST);
    assert_int_equal(excl_calls, TF_TMP_MAX);

    exist_left = (unsigned long)-1;
    excl_calls = 0;
    tf__sys.fstatat = fstatat_exists;
    errno = 0;
    d = tf_mktemp(&(tf_opts){ .dir = dir });
    err = errno;
    fault_reset();
    assert_null(d);
    errno = err;
    assert_errno(EEXIST);
    assert_int_equal(excl_calls, TF_TMP_MAX);

    assert_no_fd_leak(fds);
    assert_listing_equal(before, dir_listing(dir));
}

/* Only EEXIST is retried: any other error ends the call at the first try. */
static void test_no_retry_on_other_errors(void **state)
{
    const char *dir = TFT_DIR(state);
    const int errs[] = { EACCES, ENOSPC, EMFILE, EROFS, EDQUOT };
    for (size_t i = 0; i < sizeof errs / sizeof *errs; i++) {
        assert_int_equal(fault_arm("openat", 1, errs[i]), 0);
        errno = 0;
        int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, NULL);
        int err = errno;
        unsigned long calls = fault_calls("openat");
        fault_reset();
        assert_int_equal(fd, -1);
        errno = err;
        assert_errno(errs[i]);
        assert_int_equal(calls, 1);

        assert_int_equal(fault_arm("mkdirat", 1, errs[i]), 0);
        errno = 0;
        char *d = tf_mkdtemp(&(tf_opts){ .dir = dir });
        err = errno;
        calls = fault_calls("mkdirat");
        fault_reset();
        assert_null(d);
        errno = err;
        assert_errno(errs[i]);
        assert_int_equal(calls, 1);
    }
    assert_int_equal(dir_entries(dir), 0);
}

/* ---- bad input ------------------------------------------------------------ */

/*
 * Runs every creating call with opts and expects each to fail with err,
 * leaving `watch` unchanged and no descriptor open.
 */
static void expect_all_fail(const tf_opts *o, int err, const char *watch, bool with_mktemp)
{
    int fds = fd_count();
    char *before = dir_listing(watch);

    char *path = (char *)1;
    errno = 0;
    assert_int_equal(tf_mkstemp(o, &path), -1);
    assert_errno(err);
    assert_true(path == (char *)1);

    errno = 0;
    assert_null(tf_mkdtemp(o));
    assert_errno(err);

    if (with_mktemp) {
        errno = 0;
        assert_null(tf_mktemp(o));
        assert_errno(err);
    }

    errno = 0;
    assert_null(tf_temporary_file(o));
    assert_errno(err);

    errno = 0;
    assert_null(tf_named_temporary_file(o));
    assert_errno(err);

    errno = 0;
    assert_null(tf_temporary_directory(o));
    assert_errno(err);

    assert_no_fd_leak(fds);
    assert_listing_equal(before, dir_listing(watch));
}

static void test_slash_in_prefix_or_suffix(void **state)
{
    const char *dir = TFT_DIR(state);
    char *sub = path_join(dir, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    free(sub);
    const char *bad[] = { "/", "a/", "/a", "a/b", "../x", "sub/" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        expect_all_fail(&(tf_opts){ .dir = dir, .prefix = bad[i] }, EINVAL, dir, true);
        expect_all_fail(&(tf_opts){ .dir = dir, .suffix = bad[i] }, EINVAL, dir, true);
    }
}

static void test_missing_dir(void **state)
{
    const char *dir = TFT_DIR(state);
    char *missing = path_join(dir, "missing");
    expect_all_fail(&(tf_opts){ .dir = missing }, ENOENT, dir, false);
    char *deeper = path_join(missing, "deeper");
    expect_all_fail(&(tf_opts){ .dir = deeper }, ENOENT, dir, false);
    free(deeper);
    free(missing);
}

static void test_file_as_dir(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(write_file(dir, "file", "content"), 0);
    char *file = path_join(dir, "file");
    expect_all_fail(&(tf_opts){ .dir = file }, ENOTDIR, dir, false);
    char *content = read_file_str(file);
    assert_string_equal(content, "content");
    free(content);
    free(file);
}

static int child_unwritable(void *arg)
{
    const char *ro = arg;
    const tf_opts o = { .dir = ro };
    int fds = fd_count();
    char *path = (char *)1;
    errno = 0;
    CHECK(tf_mkstemp(&o, &path) == -1 && errno == EACCES);
    CHECK(path == (char *)1);
    errno = 0;
    CHECK(tf_mkdtemp(&o) == NULL && errno == EACCES);
    errno = 0;
    CHECK(tf_temporary_file(&o) == NULL && errno == EACCES);
    errno = 0;
    CHECK(tf_named_temporary_file(&o) == NULL && errno == EACCES);
    errno = 0;
    CHECK(tf_temporary_directory(&o) == NULL && errno == EACCES);
    CHECK(fd_count() == fds);
    return 0;
}

static void test_unwritable_dir(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    char *ro = path_join(dir, "ro");
    assert_int_equal(mkdir(ro, 0500), 0);
    give_to_nobody(ro);
    assert_int_equal(run_child(child_unwritable, ro, true), 0);
    assert_int_equal(dir_entries(ro), 0);
    free(ro);
}

static void test_name_too_long(void **state)
{
    const char *dir = TFT_DIR(state);
    char longest[NAME_MAX + 2];

    /* prefix + 8 + suffix == NAME_MAX: fine. */
    memset(longest, 'p', NAME_MAX - TF_RANDOM_CHARS);
    longest[NAME_MAX - TF_RANDOM_CHARS] = '\0';
    char *path = NULL;
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir, .prefix = longest }, &path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(strlen(base_name(path)), NAME_MAX);
    assert_int_equal(unlink(path), 0);
    free(path);
    fd = tf_mkstemp(&(tf_opts){ .dir = dir, .prefix = "", .suffix = longest }, &path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(unlink(path), 0);
    free(path);

    /* One more: ENAMETOOLONG. */
    memset(longest, 'p', NAME_MAX - TF_RANDOM_CHARS + 1);
    longest[NAME_MAX - TF_RANDOM_CHARS + 1] = '\0';
    expect_all_fail(&(tf_opts){ .dir = dir, .prefix = longest }, ENAMETOOLONG, dir, true);
    expect_all_fail(&(tf_opts){ .dir = dir, .prefix = "", .suffix = longest }, ENAMETOOLONG,
                    dir, true);
    expect_all_fail(&(tf_opts){ .dir = dir, .prefix = "abc", .suffix = longest + 3 },
                    ENAMETOOLONG, dir, true);
}

static void test_path_too_long(void **state)
{
    const char *dir = TFT_DIR(state);
    size_t n = PATH_MAX + 10;
    char *longdir = malloc(n + 1);
    assert_non_null(longdir);
    size_t l = (size_t)snprintf(longdir, n + 1, "%s", dir);
    while (l + 2 <= n) {
        longdir[l++] = '/';
        longdir[l++] = 'd';
    }
    longdir[l] = '\0';
    expect_all_fail(&(tf_opts){ .dir = longdir }, ENAMETOOLONG, dir, true);

    /* A directory name over NAME_MAX too. */
    char comp[NAME_MAX + 2];
    memset(comp, 'c', NAME_MAX + 1);
    comp[NAME_MAX + 1] = '\0';
    char *d2 = path_join(dir, comp);
    expect_all_fail(&(tf_opts){ .dir = d2 }, ENAMETOOLONG, dir, false);
    free(d2);
    free(longdir);
}

/*
 * The tf_settempdir() override is made absolute like any dir, as Python's
 * mkstemp returns abspath(join(dir, name)): relative to the working directory,
 * "" is the working directory itself.
 */
static int child_relative_override(void *arg)
{
    const char *dir = arg;
    CHECK(chdir(dir) == 0);
    CHECK(mkdir("rel", 0700) == 0);
    const char *const overrides[] = { "rel", "", "./rel/../rel/" };
    const char *const expect[] = { "rel/", "", "rel/" };
    for (int i = 0; i < 3; i++) {
        CHECK(tf_settempdir(overrides[i]) == 0);
        char *path = NULL, *want;
        int fd = tf_mkstemp(NULL, &path);
        CHECK(fd >= 0);
        CHECK(asprintf(&want, "%s/%stmp", dir, expect[i]) > 0);
        CHECK(strncmp(path, want, strlen(want)) == 0);
        CHECK(strlen(path) == strlen(want) + TF_RANDOM_CHARS);
        CHECK(unlink(path) == 0 && close(fd) == 0);
        free(want);
        free(path);
    }
    CHECK(tf_settempdir(NULL) == 0);
    CHECK(rmdir("rel") == 0);
    return 0;
}

static void test_relative_override_made_absolute(void **state)
{
    assert_int_equal(run_child(child_relative_override, (void *)TFT_DIR(state), false), 0);
}

/* A relative dir needs the working directory: getcwd failing fails the call
 * with its errno, and nothing is made. */
static void test_relative_dir_getcwd_fails(void **state)
{
    const char *dir = TFT_DIR(state);
    char *sub = path_join(dir, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    char *old = getcwd(NULL, 0);
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(fault_arm("getcwd", 1, ENOMEM), 0);
    char *path = NULL;
    errno = 0;
    assert_int_equal(tf_mkstemp(&(tf_opts){ .dir = "sub" }, &path), -1);
    assert_errno(ENOMEM);
    fault_reset();
    assert_null(path);
    assert_int_equal(dir_entries(sub), 0);
    assert_int_equal(chdir(old), 0);
    free(old), free(sub);
}

/* A relative dir under a working directory of "/" gets one slash, not two. */
static int child_cwd_root(void *arg)
{
    const char *dir = arg;   /* absolute: /tmp/... */
    CHECK(chdir("/") == 0);
    char *path = NULL;
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir + 1 }, &path);
    CHECK(fd >= 0);
    CHECK(strncmp(path, dir, strlen(dir)) == 0 && path[strlen(dir)] == '/');
    CHECK(unlink(path) == 0 && close(fd) == 0);
    free(path);
    return 0;
}

static void test_relative_dir_under_root_cwd(void **state)
{
    assert_int_equal(run_child(child_cwd_root, (void *)TFT_DIR(state), false), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mkstemp_mode_under_umasks),
        T(test_mkdtemp_mode_under_umasks),
        T(test_mkstemp_flags),
        T(test_mkstemp_without_path),
        T(test_prefix_suffix_placement),
        T(test_names_distinct),
        T(test_absolute_from_relative_dir),
        T(test_relative_dir_getcwd_fails),
        T(test_absolute_dir_normalized_at_every_offset),
        T(test_default_dir_used),
        T(test_mkstemp_retries_on_eexist),
        T(test_mkdtemp_retries_on_eexist),
        T(test_mktemp_retries_on_eexist),
        T(test_give_up_after_tmp_max),
        T(test_no_retry_on_other_errors),
        T(test_slash_in_prefix_or_suffix),
        T(test_missing_dir),
        T(test_file_as_dir),
        T(test_unwritable_dir),
        T(test_name_too_long),
        T(test_path_too_long),
        T(test_relative_override_made_absolute),
        T(test_relative_dir_under_root_cwd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
