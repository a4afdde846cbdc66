/*
 * fork: a parent and its child both create many files right after the fork;
 * no name is ever drawn by both (the random source is not shared state).
 */
#include "tftest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

enum { N = 2000 };

/* Creates N files in dir; 0 or the number of failures. */
static int create_many(const char *dir)
{
    int failures = 0;
    for (int i = 0; i < N; i++) {
        int fd = tf_mkstemp(&(tf_opts){ .dir = dir, .prefix = "" }, NULL);
        if (fd < 0)
            failures++;
        else
            close(fd);
    }
    return failures;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The names in dir, sorted; *n receives the count. */
static char **names_in(const char *dir, size_t *n)
{
    char **v = calloc(2 * N + 1, sizeof *v);
    assert_non_null(v);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    *n = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && *n < 2 * N)
            v[(*n)++] = strdup(e->d_name);
    closedir(d);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void check_disjoint(const char *a, const char *b)
{
    size_t na, nb;
    char **va = names_in(a, &na), **vb = names_in(b, &nb);
    assert_int_equal(na, N);
    assert_int_equal(nb, N);
    for (size_t i = 0; i < na; i++) {
        assert_true(is_random_part(va[i], TF_RANDOM_CHARS));
        if (bsearch(&va[i], vb, nb, sizeof *vb, cmp_str))
            fail_msg("name %s created by both parent and child", va[i]);
    }
    for (size_t i = 0; i < na; i++)
        free(va[i]);
    for (size_t i = 0; i < nb; i++)
        free(vb[i]);
    free(va);
    free(vb);
}

static void fork_case(const char *scratch, bool same_dir)
{
    char *pa = path_join(scratch, "parent"), *ch = path_join(scratch, "child");
    assert_int_equal(mkdir(pa, 0700), 0);
    assert_int_equal(mkdir(ch, 0700), 0);

    /* Draw some names first, so that any cached randomness is in play. */
    char warm[3];
    assert_int_equal(tf_random_chars(warm, sizeof warm), 0);
    int fd = tf_mkstemp(&(tf_opts){ .dir = scratch, .prefix = "warm" }, NULL);
    assert_true(fd >= 0);
    close(fd);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(create_many(same_dir ? pa : ch) ? 1 : 0);
    int failures = create_many(pa);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(failures, 0);
    if (same_dir)
        assert_int_equal(dir_entries(pa), 2 * N);
    else
        check_disjoint(pa, ch);
    remove_tree(pa);
    remove_tree(ch);
    free(pa);
    free(ch);
}

static void test_fork_separate_dirs(void **state)
{
    fork_case(TFT_DIR(state), false);
}

static void test_fork_same_dir(void **state)
{
    fork_case(TFT_DIR(state), true);
}

/* A handle made before the fork keeps working in the parent after the child exits. */
static void test_handle_across_fork(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    char *name = strdup(tf_file_name(f));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int cfd = tf_mkstemp(&(tf_opts){ .dir = dir, .prefix = "child" }, NULL);
        _exit(cfd >= 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(path_exists(name));
    assert_int_equal(tf_file_write(f, "after", 5), 5);
    assert_int_equal(tf_file_release(f), 0);
    assert_false(path_exists(name));
    free(name);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_fork_separate_dirs),
        T(test_fork_same_dir),
        T(test_handle_across_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
