/*
 * The default directory: candidate order, the usability probe, the override
 * (Python's tempfile.tempdir) and the prefix. The default is cached
 * process-wide, so every case that resolves it runs in a forked child.
 */
#include "tftest.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <unistd.h>

static const char *const ENVS[] = { "TMPDIR", "TEMP", "TMP" };

static void clear_env(void)
{
    for (int i = 0; i < 3; i++)
        unsetenv(ENVS[i]);
}

/* Saves and restores the three variables around every test. */
static char *saved_env[3];

static int setup(void **state)
{
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(ENVS[i]);
        saved_env[i] = v ? strdup(v) : NULL;
    }
    clear_env();
    return tft_setup(state);
}

static int teardown(void **state)
{
    for (int i = 0; i < 3; i++) {
        if (saved_env[i])
            setenv(ENVS[i], saved_env[i], 1);
        else
            unsetenv(ENVS[i]);
        free(saved_env[i]);
        saved_env[i] = NULL;
    }
    return tft_teardown(state);
}

static char *mkdir_in(const char *parent, const char *name, mode_t mode)
{
    char *p = path_join(parent, name);
    if (mkdir(p, mode) != 0 || chmod(p, mode) != 0) {
        perror(p);
        abort();
    }
    return p;
}

static size_t strv_len(char **v)
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

/* ---- the candidate list ------------------------------------------------ */

static void expect_list(const char *const *expected)
{
    char **list = tf_candidate_tempdir_list();
    assert_non_null(list);
    size_t n = 0;
    while (expected[n])
        n++;
    if (strv_len(list) != n) {
        for (char **c = list; *c; c++)
            print_error("candidate: %s\n", *c);
        fail_msg("%zu candidates, expected %zu", strv_len(list), n);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(list[i], expected[i]);
    tf_strv_free(list);
}

static void test_candidates_default(void **state)
{
    (void)state;
    char *cwd = getcwd(NULL, 0);
    assert_non_null(cwd);
    const char *expected[] = { "/tmp", "/var/tmp", "/usr/tmp", cwd, NULL };
    expect_list(expected);
    free(cwd);
}

static void test_candidates_env_order(void **state)
{
    const char *dir = TFT_DIR(state);
    char *a = path_join(dir, "a"), *b = path_join(dir, "b"), *c = path_join(dir, "c");
    setenv("TMP", c, 1);
    setenv("TEMP", b, 1);
    setenv("TMPDIR", a, 1);
    char *cwd = getcwd(NULL, 0);
    const char *expected[] = { a, b, c, "/tmp", "/var/tmp", "/usr/tmp", cwd, NULL };
    expect_list(expected);

    /* Any subset keeps the order; an empty variable is no candidate (Python's `if dirname`). */
    setenv("TEMP", "", 1);
    unsetenv("TMPDIR");
    const char *expected2[] = { c, "/tmp", "/var/tmp", "/usr/tmp", cwd, NULL };
    expect_list(expected2);
    free(cwd);
    free(a);
    free(b);
    free(c);
}

/*
 * As Python's _candidate_tempdir_list: environment values as they are (a
 * relative one stays relative; tf_gettempdir() makes its pick absolute), then
 * the fixed directories and the working directory, all absolute.
 */
static void test_candidates_raw_env(void **state)
{
    const char *dir = TFT_DIR(state);
    char *old = getcwd(NULL, 0);
    assert_int_equal(chdir(dir), 0);
    setenv("TMPDIR", "rel", 1);
    char **list = tf_candidate_tempdir_list();
    int rc = chdir(old);
    free(old);
    assert_int_equal(rc, 0);
    assert_non_null(list);
    assert_string_equal(list[0], "rel");
    for (char **c = list + 1; *c; c++)
        if ((*c)[0] != '/')
            fail_msg("candidate \"%s\" is not an absolute path", *c);
    tf_strv_free(list);
}

static void test_strv_free_null(void **state)
{
    (void)state;
    tf_strv_free(NULL);   /* must not crash */
    char **list = tf_candidate_tempdir_list();
    assert_non_null(list);
    tf_strv_free(list);
}

static void test_candidates_enomem(void **state)
{
    (void)state;
    setenv("TMPDIR", "/nonexistent-a", 1);
    setenv("TEMP", "/nonexistent-b", 1);
    for (unsigned long n = 1;; n++) {
        assert_int_equal(fault_arm("malloc", n, ENOMEM), 0);
        errno = 0;
        char **list = tf_candidate_tempdir_list();
        unsigned long hit = fault_hits();
        fault_reset();
        if (!hit) {
            assert_non_null(list);
            tf_strv_free(list);
            assert_true(n > 1);
            break;
        }
        if (list) {
            tf_strv_free(list);
        } else {
            assert_errno(ENOMEM);
        }
        assert_true(n < 100);
    }
}

/* ---- the search (in children) ------------------------------------------- */

struct search_case {
    const char *env[3];          /* TMPDIR, TEMP, TMP values (NULL: unset) */
    const char *expected;        /* gettempdir's answer */
    const char *cwd;             /* chdir first, if not NULL */
};

static int child_search(void *arg)
{
    const struct search_case *sc = arg;
    clear_env();
    for (int i = 0; i < 3; i++)
        if (sc->env[i])
            setenv(ENVS[i], sc->env[i], 1);
    if (sc->cwd)
        CHECK(chdir(sc->cwd) == 0);
    const char *d = tf_gettempdir();
    if (!d || strcmp(d, sc->expected) != 0) {
        fprintf(stderr, "tf_gettempdir: got %s, expected %s (errno %s)\n",
                d ? d : "NULL", sc->expected, errname(errno));
        return 1;
    }
    /* Cached: the same pointer again. */
    CHECK(tf_gettempdir() == d);
    return 0;
}

static void run_search(struct search_case *sc, bool drop)
{
    assert_int_equal(run_child(child_search, sc, drop), 0);
}

static void test_tmpdir_used(void **state)
{
    const char *dir = TFT_DIR(state);
    char *a = mkdir_in(dir, "a", 0700);
    char *before = dir_listing(dir);
    run_search(&(struct search_case){ .env = { a, NULL, NULL }, .expected = a }, false);
    /* The probe file is gone. */
    assert_listing_equal(before, dir_listing(dir));
    free(a);
}

static void test_temp_and_tmp_used(void **state)
{
    const char *dir = TFT_DIR(state);
    char *b = mkdir_in(dir, "b", 0700), *c = mkdir_in(dir, "c", 0700);
    run_search(&(struct search_case){ .env = { NULL, b, c }, .expected = b }, false);
    run_search(&(struct search_case){ .env = { NULL, NULL, c }, .expected = c }, false);
    free(b);
    free(c);
}

static void test_tmpdir_normalized(void **state)
{
    const char *dir = TFT_DIR(state);
    char *a = mkdir_in(dir, "a", 0700);
    char *messy;
    assert_true(asprintf(&messy, "%s/./a/../a//", dir) > 0);
    run_search(&(struct search_case){ .env = { messy, NULL, NULL }, .expected = a }, false);
    /* Relative: made absolute against the working directory. */
    run_search(&(struct search_case){ .env = { "a", NULL, NULL }, .expected = a, .cwd = dir },
               false);
    free(messy);
    free(a);
}

static void test_tmpdir_file_skipped(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(write_file(dir, "file", "x"), 0);
    char *file = path_join(dir, "file");
    char *b = mkdir_in(dir, "b", 0700);
    run_search(&(struct search_case){ .env = { file, b, NULL }, .expected = b }, false);
    char *content = read_file_str(file);
    assert_string_equal(content, "x");
    free(content);
    free(file);
    free(b);
}

static void test_tmpdir_missing_skipped(void **state)
{
    const char *dir = TFT_DIR(state);
    char *missing = path_join(dir, "missing");
    char *c = mkdir_in(dir, "c", 0700);
    run_search(&(struct search_case){ .env = { missing, missing, c }, .expected = c }, false);
    assert_false(path_exists(missing));
    free(missing);
    free(c);
}

static void test_tmpdir_unwritable_skipped(void **state)
{
    const char *dir = TFT_DIR(state);
    give_to_nobody(dir);
    char *ro = mkdir_in(dir, "ro", 0500), *ok = mkdir_in(dir, "ok", 0700);
    give_to_nobody(ro);
    give_to_nobody(ok);
    run_search(&(struct search_case){ .env = { ro, ok, NULL }, .expected = ok }, true);
    assert_int_equal(dir_entries(ro), 0);
    free(ro);
    free(ok);
}

/* Every environment candidate bad: the fixed list is next, /tmp first. */
static void test_fixed_candidates_after_env(void **state)
{
    const char *dir = TFT_DIR(state);
    char *missing = path_join(dir, "missing");
    struct stat st;
    if (stat("/tmp", &st) != 0 || access("/tmp", W_OK) != 0)
        skip();
    run_search(&(struct search_case){ .env = { missing, missing, missing }, .expected = "/tmp" },
               false);
    free(missing);
}

/* Nothing usable at all (every open refused through the seam): ENOENT. */
static int child_nothing_usable(void *arg)
{
    (void)arg;
    clear_env();
    fault_arm_range("openat", 1, 0, EACCES);
    fault_arm_range("mkdirat", 1, 0, EACCES);
    errno = 0;
    CHECK(tf_gettempdir() == NULL);
    CHECK(errno == ENOENT);
    char *path = (char *)1;
    errno = 0;
    CHECK(tf_mkstemp(NULL, &path) == -1);
    CHECK(errno == ENOENT);
    CHECK(path == (char *)1);
    errno = 0;
    CHECK(tf_mkdtemp(NULL) == NULL);
    CHECK(errno == ENOENT);
    errno = 0;
    CHECK(tf_temporary_file(NULL) == NULL);
    CHECK(errno == ENOENT);
    errno = 0;
    CHECK(tf_named_temporary_file(NULL) == NULL);
    CHECK(errno == ENOENT);
    errno = 0;
    CHECK(tf_temporary_directory(NULL) == NULL);
    CHECK(errno == ENOENT);
    /* Not cached as a failure: once directories work again, the search succeeds. */
    fault_reset();
    const char *d = tf_gettempdir();
    CHECK(d != NULL);
    CHECK(d[0] == '/');
    return 0;
}

static void test_nothing_usable_enoent(void **state)
{
    (void)state;
    assert_int_equal(run_child(child_nothing_usable, NULL, false), 0);
}

/*
 * malloc failing in the first search of a process (the candidate list, a
 * candidate's template, the absolute path, the interned copy), once or from
 * then on: NULL with ENOMEM, or TMPDIR; never another candidate chosen for
 * want of memory (the answer is kept for the process's life), no probe file
 * or descriptor left. One fresh child per fault: the interned copy is made
 * once per process. 99: the fault was past the search's last malloc.
 */
struct malloc_case {
    const char *a, *b;
    unsigned long nth;
    bool persistent;
};

static int child_search_malloc_fails(void *arg)
{
    const struct malloc_case *mc = arg;
    clear_env();
    setenv("TMPDIR", mc->a, 1);
    setenv("TEMP", mc->b, 1);
    CHECK(tf_settempdir(NULL) == 0);
    int fds = fd_count();
    fault_arm_range("malloc", mc->nth, mc->persistent ? 0 : 1, ENOMEM);
    errno = 0;
    const char *d = tf_gettempdir();
    int err = errno;
    unsigned long hits = fault_hits();
    fault_reset();
    if (d ? strcmp(d, mc->a) != 0 : err != ENOMEM) {
        fprintf(stderr, "malloc #%lu fails%s: got %s (%s)\n", mc->nth,
                mc->persistent ? " from then on" : "", d ? d : "NULL", errname(err));
        return 1;
    }
    CHECK(fd_count() == fds);
    CHECK(dir_entries(mc->a) == 0 && dir_entries(mc->b) == 0);
    /* Not cached as a failure: with memory, the search finds TMPDIR. */
    d = tf_gettempdir();
    CHECK(d && strcmp(d, mc->a) == 0);
    return hits ? 0 : 99;
}

static void test_search_malloc_fails(void **state)
{
    const char *dir = TFT_DIR(state);
    char *a = mkdir_in(dir, "a", 0700), *b = mkdir_in(dir, "b", 0700);
    unsigned long n = 1;
    for (;; n++) {
        struct malloc_case mc = { a, b, n, false };
        int rc = run_child(child_search_malloc_fails, &mc, false);
        if (rc == 99)
            break;
        assert_int_equal(rc, 0);
        mc.persistent = true;
        assert_int_equal(run_child(child_search_malloc_fails, &mc, false), 0);
    }
    assert_true(n > 3);   /* the list, its strings, the template, the copy */
    free(a);
    free(b);
}

/* ---- the override --------------------------------------------------------- */

struct override_case {
    const char *a, *b, *x;
};

static int child_override_before(void *arg)
{
    const struct override_case *oc = arg;
    clear_env();
    setenv("TMPDIR", oc->a, 1);
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", oc->x);
    CHECK(tf_settempdir(buf) == 0);
    memset(buf, 'Z', strlen(buf));            /* copied, not referenced */
    const char *d = tf_gettempdir();
    CHECK(d && strcmp(d, oc->x) == 0);
    /* Creation uses it. */
    char *path = NULL;
    int fd = tf_mkstemp(NULL, &path);
    CHECK(fd >= 0);
    close(fd);
    size_t xl = strlen(oc->x);
    CHECK(strncmp(path, oc->x, xl) == 0 && path[xl] == '/');
    CHECK(strncmp(base_name(path), "tmp", 3) == 0);
    CHECK(unlink(path) == 0);
    free(path);
    /* Not checked: a missing directory is taken as given. */
    CHECK(tf_settempdir("/nonexistent/tf-test") == 0);
    d = tf_gettempdir();
    CHECK(d && strcmp(d, "/nonexistent/tf-test") == 0);
    errno = 0;
    CHECK(tf_mkstemp(NULL, NULL) == -1);
    CHECK(errno == ENOENT);
    return 0;
}

static void test_settempdir_before_first_use(void **state)
{
    const char *dir = TFT_DIR(state);
    char *a = mkdir_in(dir, "a", 0700), *x = mkdir_in(dir, "x", 0700);
    struct override_case oc = { .a = a, .x = x };
    assert_int_equal(run_child(child_override_before, &oc, false), 0);
    assert_int_equal(dir_entries(a), 0);
    assert_int_equal(dir_entries(x), 0);
    free(a);
    free(x);
}

static int child_override_after(void *arg)
{
    const struct override_case *oc = arg;
    clear_env();
    setenv("TMPDIR", oc->a, 1);
    const char *first = tf_gettempdir();
    CHECK(first && strcmp(first, oc->a) == 0);

    /* Cached: a change of environment is not seen ... */
    setenv("TMPDIR", oc->b, 1);
    const char *d = tf_gettempdir();
    CHECK(d && strcmp(d, oc->a) == 0);

    /* ... the override is ... */
    CHECK(tf_settempdir(oc->x) == 0);
    d = tf_gettempdir();
    CHECK(d && strcmp(d, oc->x) == 0);
    tf_dir *td = tf_temporary_directory(NULL);
    CHECK(td != NULL);
    CHECK(strncmp(tf_dir_name(td), oc->x, strlen(oc->x)) == 0);
    CHECK(tf_dir_release(td) == 0);

    /* ... and NULL forgets both: the search runs again and sees b. */
    CHECK(tf_settempdir(NULL) == 0);
    d = tf_gettempdir();
    CHECK(d && strcmp(d, oc->b) == 0);

    /* The strings returned before stay valid for the life of the process. */
    CHECK(strcmp(first, oc->a) == 0);
    return 0;
}

static void test_settempdir_after_first_use_and_reset(void **state)
{
    const char *dir = TFT_DIR(state);
    char *a = mkdir_in(dir, "a", 0700), *b = mkdir_in(dir, "b", 0700);
    char *x = mkdir_in(dir, "x", 0700);
    struct override_case oc = { .a = a, .b = b, .x = x };
    assert_int_equal(run_child(child_override_after, &oc, false), 0);
    assert_int_equal(dir_entries(a), 0);
    assert_int_equal(dir_entries(b), 0);
    assert_int_equal(dir_entries(x), 0);
    free(a);
    free(b);
    free(x);
}

/* ---- first use from many threads ------------------------------------------ */

static void *thread_get(void *arg)
{
    (void)arg;
    return (void *)tf_gettempdir();
}

static int child_threads(void *arg)
{
    const char *a = arg;
    clear_env();
    setenv("TMPDIR", a, 1);
    pthread_t t[8];
    void *res[8];
    for (int i = 0; i < 8; i++)
        CHECK(pthread_create(&t[i], NULL, thread_get, NULL) == 0);
    for (int i = 0; i < 8; i++)
        CHECK(pthread_join(t[i], &res[i]) == 0);
    for (int i = 0; i < 8; i++) {
        CHECK(res[i] != NULL);
        CHECK(strcmp(res[i], a) == 0);
    }
    return 0;
}

static void test_first_use_from_threads(void **state)
{
    const char *dir = TFT_DIR(state);
    char *a = mkdir_in(dir, "a", 0700);
    assert_int_equal(run_child(child_threads, a, false), 0);
    assert_int_equal(dir_entries(a), 0);
    free(a);
}

/* ---- the prefix ------------------------------------------------------------ */

static void test_gettempprefix(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_string_equal(tf_gettempprefix(), "tmp");
    char *path = NULL;
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, &path);
    assert_true(fd >= 0);
    close(fd);
    const char *b = base_name(path);
    assert_int_equal(strlen(b), 3 + TF_RANDOM_CHARS);
    assert_memory_equal(b, "tmp", 3);
    assert_true(is_random_part(b + 3, TF_RANDOM_CHARS));
    assert_int_equal(unlink(path), 0);
    free(path);
}

/*
 * fork while another thread is searching for the default directory: the child
 * must not inherit a lock that nobody in it will release.
 */
static atomic_bool probing;

static int slow_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    atomic_store(&probing, true);
    usleep(300 * 1000);
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

static void *search_thread(void *arg)
{
    (void)arg;
    return (void *)tf_gettempdir();
}

static int child_fork_during_search(void *arg)
{
    setenv("TMPDIR", arg, 1);
    CHECK(tf_settempdir(NULL) == 0);   /* forget any cached answer */
    tf__sys.openat = slow_openat;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, search_thread, NULL) == 0);
    while (!atomic_load(&probing))
        usleep(1000);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        tf__sys = tf__sys_default;
        alarm(5);   /* a deadlock ends as SIGALRM */
        const char *d = tf_gettempdir();
        _exit(d && strcmp(d, arg) == 0 ? 0 : 1);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    void *found;
    CHECK(pthread_join(t, &found) == 0);
    tf__sys = tf__sys_default;
    CHECK(found && strcmp(found, arg) == 0);
    return 0;
}

static void test_fork_during_search(void **state)
{
    assert_int_equal(run_child(child_fork_during_search, (void *)TFT_DIR(state), false), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* tf_settempdir() keeps a copy: a failed allocation is ENOMEM, and the
 * default stays what it was. */
static void test_settempdir_out_of_memory(void **state)
{
    (void)state;
    const char *before = tf_gettempdir();
    assert_non_null(before);
    char *keep = strdup(before);
    assert_int_equal(fault_arm_range("malloc", 1, 0, ENOMEM), 0);
    errno = 0;
    assert_int_equal(tf_settempdir("/nonexistent/tf-oom"), -1);
    assert_errno(ENOMEM);
    fault_reset();
    assert_string_equal(tf_gettempdir(), keep);
    free(keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_candidates_default),
        T(test_fork_during_search),
        T(test_candidates_env_order),
        T(test_candidates_raw_env),
        T(test_strv_free_null),
        T(test_candidates_enomem),
        T(test_tmpdir_used),
        T(test_temp_and_tmp_used),
        T(test_tmpdir_normalized),
        T(test_tmpdir_file_skipped),
        T(test_tmpdir_missing_skipped),
        T(test_tmpdir_unwritable_skipped),
        T(test_fixed_candidates_after_env),
        T(test_nothing_usable_enoent),
        T(test_search_malloc_fails),
        T(test_settempdir_before_first_use),
        T(test_settempdir_after_first_use_and_reset),
        T(test_first_use_from_threads),
        T(test_gettempprefix),
        T(test_settempdir_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
