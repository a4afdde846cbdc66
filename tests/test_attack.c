/*
 * Attacks: a symbolic link planted at the next name (known in advance through
 * a deterministic getrandom, or planted by the seam at the very moment of
 * creation), links inside a temporary directory pointing outside, and
 * directories swapped for links or moved out while cleanup runs, and a
 * replace's directory moved and linked elsewhere before the abort.
 */
#include "tftest.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* tf_mktemp */

/* ---- a getrandom whose next name is known -------------------------------------- */

/*
 * The library keeps random bytes per thread (or none at all). With a getrandom
 * whose output depends only on how many bytes the calling thread has asked for
 * so far, a fresh thread draws the same names as any other fresh thread: the
 * name peeked in one is the first name the creating call tries in the next.
 */
static __thread size_t rnd_pos;

static uint8_t rnd_byte(size_t i)
{
    uint64_t x = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
    return (uint8_t)x;
}

static ssize_t getrandom_per_thread(void *buf, size_t n, unsigned flags)
{
    (void)flags;
    for (size_t k = 0; k < n; k++)
        ((uint8_t *)buf)[k] = rnd_byte(rnd_pos++);
    return (ssize_t)n;
}

static void in_fresh_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void *peek_thread(void *arg)
{
    char *out = arg;
    if (tf__random_name(out) != 0)
        out[0] = '\0';
    return NULL;
}

/* Installs the stream and returns the first name a fresh thread draws. */
static void predict_next(char out[TF_RANDOM_CHARS + 1])
{
    fault_count_start();
    fault_next.getrandom = getrandom_per_thread;
    memset(out, 0, TF_RANDOM_CHARS + 1);
    in_fresh_thread(peek_thread, out);
    assert_true(is_random_part(out, TF_RANDOM_CHARS));
    fault_count_start();   /* counts from here */
}

/* Runs a creating call in a fresh thread. */
enum { OP_MKSTEMP, OP_NAMED, OP_MKDTEMP, OP_TEMPDIR, OP_MKTEMP };
struct job {
    int op;
    tf_opts opts;
    int fd;
    char *path;
    tf_file *f;
    tf_dir *d;
};

static void *job_thread(void *arg)
{
    struct job *j = arg;
    switch (j->op) {
    case OP_MKSTEMP: j->fd = tf_mkstemp(&j->opts, &j->path); break;
    case OP_NAMED: j->f = tf_named_temporary_file(&j->opts); break;
    case OP_MKDTEMP: j->path = tf_mkdtemp(&j->opts); break;
    case OP_TEMPDIR: j->d = tf_temporary_directory(&j->opts); break;
    default: j->path = tf_mktemp(&j->opts); break;
    }
    return NULL;
}

static void run_job(struct job *j)
{
    in_fresh_thread(job_thread, j);
}

struct planted {
    char *name;     /* the planted link's path */
    char *target;   /* where it points */
};

static struct planted plant(const char *dir, const char *prefix, const char *suffix,
                            const char *target)
{
    char next[TF_RANDOM_CHARS + 1];
    predict_next(next);
    struct planted p;
    assert_true(asprintf(&p.name, "%s/%s%s%s", dir, prefix, next, suffix) > 0);
    p.target = strdup(target);
    assert_int_equal(symlink(target, p.name), 0);
    return p;
}

static void check_link_intact(const struct planted *p)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(p->name, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, p->target);
}

static void planted_free(struct planted *p)
{
    unlink(p->name);
    free(p->name);
    free(p->target);
}

static void test_planted_link_mkstemp(void **state)
{
    const char *dir = TFT_DIR(state);
    char *victim = path_join(dir, "victim");   /* does not exist: O_CREAT would make it */
    struct planted p = plant(dir, "atk", ".s", victim);
    struct job j = { .op = OP_MKSTEMP, .opts = { .dir = dir, .prefix = "atk", .suffix = ".s" } };
    run_job(&j);
    int fd = j.fd;
    char *path = j.path;
    unsigned long tries = fault_calls("openat");
    fault_reset();
    assert_true(fd >= 0);
    /* The planted name was tried first and refused; another one was made. */
    assert_int_equal(tries, 2);
    assert_string_not_equal(path, p.name);
    assert_false(path_exists(victim));
    check_link_intact(&p);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    close(fd);
    unlink(path);
    free(path);
    planted_free(&p);
    free(victim);
}

static void test_planted_link_to_existing_file(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(write_file(dir, "precious", "precious data"), 0);
    char *victim = path_join(dir, "precious");
    struct planted p = plant(dir, "tmp", "", victim);
    struct job j = { .op = OP_NAMED, .opts = { .dir = dir } };
    run_job(&j);
    tf_file *f = j.f;
    unsigned long tries = fault_calls("openat");
    fault_reset();
    assert_non_null(f);
    assert_int_equal(tries, 2);
    assert_string_not_equal(tf_file_name(f), p.name);
    assert_int_equal(tf_file_write(f, "attacker wins?", 14), 14);
    assert_int_equal(tf_file_truncate(f, 0), 0);
    assert_int_equal(tf_file_release(f), 0);
    char *content = read_file_str(victim);
    assert_string_equal(content, "precious data");
    assert_int_equal(path_mode(victim), 0644);
    check_link_intact(&p);
    free(content);
    planted_free(&p);
    free(victim);
}

static void test_planted_link_mkdtemp(void **state)
{
    const char *dir = TFT_DIR(state);
    char *victim = path_join(dir, "victim-dir");
    assert_int_equal(mkdir(victim, 0755), 0);
    struct planted p = plant(dir, "d", "", victim);
    struct job j = { .op = OP_MKDTEMP, .opts = { .dir = dir, .prefix = "d", .mode = 0777 } };
    run_job(&j);
    char *path = j.path;
    unsigned long tries = fault_calls("mkdirat");
    fault_reset();
    assert_non_null(path);
    assert_int_equal(tries, 2);
    assert_string_not_equal(path, p.name);
    /* The mode fix went to the new directory, not through the link. */
    assert_int_equal(path_mode(victim), 0755);
    assert_int_equal(path_mode(path), 0777);
    check_link_intact(&p);
    rmdir(path);
    free(path);

    /* The handle form too. */
    planted_free(&p);
    p = plant(dir, "d", "", victim);
    struct job j2 = { .op = OP_TEMPDIR, .opts = { .dir = dir, .prefix = "d" } };
    run_job(&j2);
    tf_dir *d = j2.d;
    tries = fault_calls("mkdirat");
    fault_reset();
    assert_non_null(d);
    assert_int_equal(tries, 2);
    assert_string_not_equal(tf_dir_name(d), p.name);
    assert_int_equal(tf_dir_release(d), 0);
    check_link_intact(&p);
    assert_true(path_exists(victim));
    planted_free(&p);
    free(victim);
}

static void test_planted_link_mktemp(void **state)
{
    const char *dir = TFT_DIR(state);
    struct planted p = plant(dir, "m", "", "/nonexistent/dangling");
    struct job j = { .op = OP_MKTEMP, .opts = { .dir = dir, .prefix = "m" } };
    run_job(&j);
    char *path = j.path;
    unsigned long tries = fault_calls("fstatat");
    fault_reset();
    assert_true(tries >= 2);
    assert_non_null(path);
    /* A dangling link is an existing name. */
    assert_string_not_equal(path, p.name);
    free(path);
    planted_free(&p);
}

/* The link appears between the choice of the name and the creation (the race). */
static int planted_now;
static char *race_target;

static int openat_plant(int dirfd, const char *path, int flags, mode_t mode)
{
    if ((flags & O_CREAT) && !planted_now) {
        planted_now = 1;
        if (symlinkat(race_target, dirfd, path) != 0)
            abort();
    }
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

static int mkdirat_plant(int dirfd, const char *path, mode_t mode)
{
    if (!planted_now) {
        planted_now = 1;
        if (symlinkat(race_target, dirfd, path) != 0)
            abort();
    }
    return tf__sys_default.mkdirat(dirfd, path, mode);
}

static void test_race_planted_link(void **state)
{
    const char *dir = TFT_DIR(state);
    race_target = path_join(dir, "victim");
    planted_now = 0;
    tf__sys.openat = openat_plant;
    char *path = NULL;
    int fd = tf_mkstemp(&(tf_opts){ .dir = dir }, &path);
    fault_reset();
    assert_true(planted_now);
    assert_true(fd >= 0);
    assert_false(path_exists(race_target));
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    close(fd);
    free(path);

    assert_int_equal(mkdir(race_target, 0755), 0);
    planted_now = 0;
    tf__sys.mkdirat = mkdirat_plant;
    path = tf_mkdtemp(&(tf_opts){ .dir = dir, .mode = 0700 });
    fault_reset();
    assert_true(planted_now);
    assert_non_null(path);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(path_mode(race_target), 0755);
    free(path);
    free(race_target);
}

/* ---- links inside a temporary directory ------------------------------------------- */

static void test_links_inside_removed_targets_intact(void **state)
{
    const char *dir = TFT_DIR(state);
    char *outside = path_join(dir, "outside");
    assert_int_equal(mkdir(outside, 0700), 0);
    assert_int_equal(write_file(outside, "precious", "p"), 0);
    char *sub = path_join(outside, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(write_file(sub, "more", "m"), 0);
    char *precious = path_join(outside, "precious");
    char *before = dir_listing(outside);

    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    const char *name = tf_dir_name(d);
    char *l1 = path_join(name, "to-outside");
    char *l2 = path_join(name, "to-file");
    char *hard = path_join(name, "hardlink");
    assert_int_equal(symlink(outside, l1), 0);
    assert_int_equal(symlink(precious, l2), 0);
    assert_int_equal(link(precious, hard), 0);
    char *inner = path_join(name, "inner");
    assert_int_equal(mkdir(inner, 0700), 0);
    char *l3 = path_join(inner, "up");
    assert_int_equal(symlink("../..", l3), 0);

    assert_int_equal(tf_dir_release(d), 0);
    assert_listing_equal(before, dir_listing(outside));
    char *content = read_file_str(precious);
    assert_string_equal(content, "p");
    free(content);
    struct stat st;
    assert_int_equal(stat(precious, &st), 0);
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(dir_entries(dir), 1);   /* only "outside" */
    free(l1);
    free(l2);
    free(l3);
    free(inner);
    free(hard);
    free(precious);
    free(sub);
    free(outside);
}

/* ---- swaps during cleanup ---------------------------------------------------------- */

struct swap {
    char *tree;       /* the temporary directory (or rmtree root) */
    char *victim;     /* outside directory that must survive */
    char *parked;     /* where the real subdirectory is moved */
    bool done;
};
static struct swap sw;

static bool fd_is(int fd, const char *path)
{
    char link[64], buf[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return strcmp(buf, path) == 0;
}

/* Replaces tree/swapme by a link to the victim directory. */
static void do_swap(void)
{
    char *swapme = path_join(sw.tree, "swapme");
    if (rename(swapme, sw.parked) != 0 || symlink(sw.victim, swapme) != 0)
        abort();
    free(swapme);
    sw.done = true;
}

static int openat_swap_before(int dirfd, const char *path, int flags, mode_t mode)
{
    if (!sw.done && strcmp(path, "swapme") == 0)
        do_swap();
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

static ssize_t getdents_swap_after(int fd, void *buf, size_t n)
{
    ssize_t r = tf__sys_default.getdents64(fd, buf, n);
    if (!sw.done && r > 0 && fd_is(fd, sw.tree))
        do_swap();   /* the entries just read still say "directory" */
    return r;
}

static int fstatat_swap_after(int dirfd, const char *path, struct stat *st, int flags)
{
    int r = tf__sys_default.fstatat(dirfd, path, st, flags);
    if (!sw.done && r == 0 && strcmp(path, "swapme") == 0 && S_ISDIR(st->st_mode))
        do_swap();
    return r;
}

static void setup_swap(const char *dir)
{
    sw.done = false;
    sw.victim = path_join(dir, "victim");
    assert_int_equal(mkdir(sw.victim, 0700), 0);
    assert_int_equal(write_file(sw.victim, "precious", "p"), 0);
    char *vs = path_join(sw.victim, "vsub");
    assert_int_equal(mkdir(vs, 0700), 0);
    assert_int_equal(write_file(vs, "more", "m"), 0);
    free(vs);
    sw.parked = path_join(dir, "parked");
}

static void populate_swapme(const char *tree)
{
    char *swapme = path_join(tree, "swapme");
    assert_int_equal(mkdir(swapme, 0700), 0);
    for (int i = 0; i < 5; i++) {
        char n[16];
        snprintf(n, sizeof n, "f%d", i);
        assert_int_equal(write_file(swapme, n, "x"), 0);
    }
    assert_int_equal(write_file(tree, "a-file", "a"), 0);
    assert_int_equal(write_file(tree, "z-file", "z"), 0);
    free(swapme);
}

static void swap_case(const char *dir, int hook)
{
    setup_swap(dir);
    char *before = dir_listing(sw.victim);
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    sw.tree = strdup(tf_dir_name(d));
    populate_swapme(sw.tree);
    if (hook == 0)
        tf__sys.openat = openat_swap_before;
    else if (hook == 1)
        tf__sys.getdents64 = getdents_swap_after;
    else
        tf__sys.fstatat = fstatat_swap_after;
    int rc = tf_dir_cleanup(d);
    int err = errno;
    fault_reset();
    bool swapped = sw.done;
    assert_int_equal(tf_dir_release(d), 0);
    /* Nothing of the victim was touched ... */
    assert_listing_equal(before, dir_listing(sw.victim));
    /* ... and, if the swap happened, the tree is still cleaned up. */
    if (swapped) {
        if (rc != 0)
            fail_msg("cleanup after the swap: -1, errno %s", errname(err));
        assert_false(path_exists(sw.tree));
        assert_true(path_exists(sw.parked));   /* moved out: the attacker's now */
    } else {
        assert_int_equal(rc, 0);
    }
    remove_tree(sw.parked);
    remove_tree(sw.victim);
    free(sw.tree);
    free(sw.parked);
    free(sw.victim);
}

static void test_swap_before_open(void **state)
{
    swap_case(TFT_DIR(state), 0);
    /* This hook must have fired: cleanup opens the subdirectory by name. */
}

static void test_swap_after_listing(void **state)
{
    const char *dir = TFT_DIR(state);
    swap_case(dir, 1);
}

static void test_swap_after_stat(void **state)
{
    swap_case(TFT_DIR(state), 2);   /* fires only where the library stats entries */
}

/* The swap hooks fire where they should (else the tests above prove nothing). */
static void test_swap_hooks_fire(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int hook = 0; hook < 2; hook++) {
        setup_swap(dir);
        tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
        assert_non_null(d);
        sw.tree = strdup(tf_dir_name(d));
        populate_swapme(sw.tree);
        if (hook == 0)
            tf__sys.openat = openat_swap_before;
        else
            tf__sys.getdents64 = getdents_swap_after;
        (void)tf_dir_cleanup(d);
        fault_reset();
        if (!sw.done)
            fail_msg("swap hook %d never fired", hook);
        tf_dir_release(d);
        remove_tree(sw.tree);
        remove_tree(sw.parked);
        remove_tree(sw.victim);
        free(sw.tree);
        free(sw.parked);
        free(sw.victim);
    }
}

/*
 * A directory moved out of the tree while cleanup is inside it: going back up
 * would lead into the outside directory. Cleanup must notice (ESTALE) and stop.
 */
static char *move_from, *move_to, *watch_deep;
static bool moved;

static ssize_t getdents_move(int fd, void *buf, size_t n)
{
    if (!moved && fd_is(fd, watch_deep)) {
        if (rename(move_from, move_to) != 0)
            abort();
        moved = true;
    }
    return tf__sys_default.getdents64(fd, buf, n);
}

static void test_moved_out_during_cleanup(void **state)
{
    const char *dir = TFT_DIR(state);
    char *outside = path_join(dir, "outside");
    assert_int_equal(mkdir(outside, 0700), 0);
    assert_int_equal(write_file(outside, "precious", "p"), 0);
    char *keep = path_join(outside, "keep");
    assert_int_equal(mkdir(keep, 0700), 0);
    assert_int_equal(write_file(keep, "file", "k"), 0);

    for (int level = 1; level <= 3; level++) {
        /* root/a/b/c/d with files at each level; move the level-th directory out. */
        char *root = path_join(dir, "root");
        assert_int_equal(mkdir(root, 0700), 0);
        const char *chain[] = { "a", "a/b", "a/b/c", "a/b/c/d" };
        for (int i = 0; i < 4; i++) {
            char *p = path_join(root, chain[i]);
            assert_int_equal(mkdir(p, 0700), 0);
            assert_int_equal(write_file(p, "f", "x"), 0);
            free(p);
        }
        move_from = path_join(root, chain[level - 1]);
        move_to = path_join(outside, "moved");
        watch_deep = path_join(root, "a/b/c/d");
        moved = false;
        char *before;
        {
            /* Expected outside afterwards: as now, plus whatever is left of "moved". */
            before = dir_listing(outside);
        }
        tf__sys.getdents64 = getdents_move;
        errno = 0;
        int rc = tf_rmtree(root, 0);
        int err = errno;
        fault_reset();
        assert_true(moved);
        /* Outside: precious and keep/file intact. */
        char *precious = path_join(outside, "precious");
        char *content = read_file_str(precious);
        assert_non_null(content);
        assert_string_equal(content, "p");
        free(content);
        free(precious);
        char *kf = path_join(keep, "file");
        assert_true(path_exists(kf));
        free(kf);
        assert_true(path_exists(outside));
        /* Stopped with ESTALE when it found itself outside. */
        if (rc != -1 || err != ESTALE)
            fail_msg("level %d: tf_rmtree returned %d, errno %s; expected -1, ESTALE", level,
                     rc, errname(err));
        free(before);
        remove_tree(move_to);
        remove_tree(root);
        free(move_from);
        free(move_to);
        free(watch_deep);
        free(root);
    }
    free(keep);
    free(outside);
}

/* The temporary directory itself replaced by a link to an outside directory. */
static void test_tempdir_itself_swapped(void **state)
{
    const char *dir = TFT_DIR(state);
    setup_swap(dir);
    char *before = dir_listing(sw.victim);
    tf_dir *d = tf_temporary_directory(&(tf_opts){ .dir = dir });
    assert_non_null(d);
    char *name = strdup(tf_dir_name(d));
    assert_int_equal(write_file(name, "mine", "m"), 0);
    assert_int_equal(rename(name, sw.parked), 0);
    assert_int_equal(symlink(sw.victim, name), 0);
    (void)tf_dir_release(d);   /* may fail: the name is not its directory any more */
    assert_listing_equal(before, dir_listing(sw.victim));
    struct stat st;
    assert_int_equal(lstat(name, &st), 0);   /* the link itself is not followed */
    unlink(name);
    remove_tree(sw.parked);
    free(name);
    free(sw.parked);
    free(sw.victim);
}

/* ---- the directory of a replace moved before the abort ------------------ */

/*
 * Between tf_replace_begin() (or tf_lock_file()) and the abort, the
 * destination's directory is moved and a link to another directory put at
 * its old path, holding a file of the temporary's name: the abort removes
 * the temporary in the directory held since begin, not by its old path (no
 * stray left behind, and the decoy through the link untouched).
 */
static void test_replace_dir_moved_before_abort(void **state)
{
    const char *dir = TFT_DIR(state);
    char *sub = path_join(dir, "sub"), *away = path_join(dir, "away");
    char *other = path_join(dir, "other"), *dest = path_join(sub, "conf");
    assert_int_equal(mkdir(other, 0700), 0);
    for (int lock = 0; lock < 2; lock++) {
        assert_int_equal(mkdir(sub, 0700), 0);
        assert_int_equal(write_file(sub, "conf", "old"), 0);
        tf_file *f = lock ? tf_lock_file(dest, NULL) : tf_replace_begin(dest, NULL);
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, "half", 4), 4);
        char *decoy = path_join(other, base_name(tf_file_name(f)));
        assert_int_equal(write_file(other, base_name(decoy), "decoy"), 0);
        assert_int_equal(rename(sub, away), 0);
        assert_int_equal(symlink("other", sub), 0);
        assert_int_equal(tf_file_release(f), 0);
        assert_int_equal(dir_entries(away), 1);   /* conf alone */
        char *left = read_file_str(decoy);
        assert_non_null(left);
        assert_string_equal(left, "decoy");
        free(left), free(decoy);
        assert_int_equal(remove_tree(other), 0);
        assert_int_equal(mkdir(other, 0700), 0);
        assert_int_equal(unlink(sub), 0);
        assert_int_equal(remove_tree(away), 0);
    }
    free(sub), free(away), free(other), free(dest);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_planted_link_mkstemp),
        T(test_planted_link_to_existing_file),
        T(test_planted_link_mkdtemp),
        T(test_planted_link_mktemp),
        T(test_race_planted_link),
        T(test_links_inside_removed_targets_intact),
        T(test_swap_before_open),
        T(test_swap_after_listing),
        T(test_swap_after_stat),
        T(test_swap_hooks_fire),
        T(test_moved_out_during_cleanup),
        T(test_tempdir_itself_swapped),
        T(test_replace_dir_moved_before_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
