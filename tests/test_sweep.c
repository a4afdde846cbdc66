/*
 * Orphans (sweep.c): a child killed with SIGKILL leaves its temporaries; the
 * sweep removes them, leaves the live temporaries of a running process, the
 * young ones and anything that does not match, and never follows a link.
 *
 * An entry's age counts from its newest atime, mtime or ctime (for a directory,
 * over its whole tree). A ctime cannot be set back, so entries are made old by
 * moving the sweep's clock forward (tf__sweep_clock_hook), not by utimensat.
 */
#include "cleanup_helpers.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#define DAY 86400

/* The sweep's clock runs this many seconds ahead of the real one. */
static time_t clock_ahead;

static time_t shifted_clock(void)
{
    return time(NULL) + clock_ahead;
}

/* Everything made until now looks `seconds` old to the sweep. */
static void sweep_clock_ahead(time_t seconds)
{
    clock_ahead = seconds;
    tf__sweep_clock_hook = shifted_clock;
}

/* Sets the access and modification times of path (not following links) to
 * now + the offsets, in seconds; its ctime becomes now. */
static void set_times(const char *path, time_t atime_off, time_t mtime_off)
{
    time_t now = time(NULL);
    struct timespec t[2] = { { now + atime_off, 0 }, { now + mtime_off, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0);
}

/* Child: makes orphans ("orph" prefix: two files, a tree), then is killed. */
static int orphan_maker(void *arg)
{
    const char *dir = arg;
    tf_opts o = { .dir = dir, .prefix = "orph" };
    tf_file *a = tf_named_temporary_file(&o), *b = tf_named_temporary_file(&o);
    tf_dir *d = tf_temporary_directory(&o);
    CHECK(a && b && d);
    char big[10000];
    memset(big, 'x', sizeof big);
    CHECK(tf_file_write(a, big, sizeof big) == sizeof big);
    CHECK(mkdirat(tf_dir_fileno(d), "deep", 0700) == 0);
    CHECK(write_file(tf_dir_name(d), "data", "orphan data") == 0);
    raise(SIGKILL);
    return 1;
}

struct fixture {
    char *dir;       /* the swept directory */
    char *outside;   /* a directory the sweep must never reach */
    tf_file *live_file;
    tf_dir *live_dir;
};

static void make_orphans(struct fixture *fx)
{
    int st = fork_status(orphan_maker, fx->dir);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(count_prefixed(fx->dir, "orph"), 3);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->dir = scratch_new();
    fx->outside = scratch_new();
    make_orphans(fx);
    /* This process's live temporaries, same naming, same directory. */
    fx->live_file = tf_named_temporary_file(&(tf_opts){ .dir = fx->dir, .prefix = "orph" });
    fx->live_dir = tf_temporary_directory(&(tf_opts){ .dir = fx->dir, .prefix = "orph" });
    assert_non_null(fx->live_file);
    assert_non_null(fx->live_dir);
    /* A planted link named like a temporary, to a tree outside. */
    assert_int_equal(write_file(fx->outside, "precious", "keep me"), 0);
    char *link = path_join(fx->dir, "orphlinklink");
    assert_int_equal(symlink(fx->outside, link), 0);
    free(link);
    /* Names that do not match, and a link inside an orphan's tree. */
    assert_int_equal(write_file(fx->dir, "unrelated.txt", "x"), 0);
    assert_int_equal(write_file(fx->dir, "orphTOOLONGNAME", "x"), 0);
    assert_int_equal(write_file(fx->dir, "orph_BAD_CHR", "x"), 0);   /* not the alphabet */
    sweep_clock_ahead(2 * DAY);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    tf__sweep_clock_hook = NULL;
    fault_reset();
    tf_file_release(fx->live_file);
    tf_dir_release(fx->live_dir);
    scratch_free(fx->dir);
    scratch_free(fx->outside);
    free(fx);
    return 0;
}

/* Finds the orphan directory and plants a link to the outside inside it. */
static void plant_inner_link(struct fixture *fx)
{
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *p = path_join(fx->dir, e->d_name);
        struct stat st;
        if (strncmp(e->d_name, "orph", 4) == 0 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
            strcmp(p, tf_dir_name(fx->live_dir)) != 0) {
            char *l = path_join(p, "escape");
            assert_int_equal(symlink(fx->outside, l), 0);
            free(l);
        }
        free(p);
    }
    closedir(d);
}

struct seen {
    int files, dirs;
    unsigned long long bytes;
};

static void on_removed(const tf_sweep_entry *e, void *arg)
{
    struct seen *s = arg;
    assert_true(strncmp(e->name, "orph", 4) == 0);
    assert_true(e->age >= 2 * DAY - 60);
    if (e->is_dir)
        s->dirs++;
    else
        s->files++;
    s->bytes += e->bytes;
}

static void assert_outside_intact(const struct fixture *fx)
{
    char *p = path_join(fx->outside, "precious");
    char *content = read_file_str(p);
    assert_string_equal(content, "keep me");
    free(content);
    free(p);
}

static void test_usage_report(void **state)
{
    struct fixture *fx = *state;
    tf_usage_report r;
    assert_int_equal(tf_disk_usage(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &r), 0);
    assert_int_equal(r.count, 5);     /* 3 orphans + 2 live; not the link nor the misfits */
    assert_int_equal(r.live, 2);
    assert_int_equal(r.orphans, 3);
    assert_int_equal(r.sweepable, 3);
    assert_int_equal(r.unknown, 0);
    assert_true(r.orphan_bytes >= 10000);
    assert_int_equal(r.bytes, r.live_bytes + r.orphan_bytes);
    assert_true(r.oldest_age >= 2 * DAY - 60 && r.oldest_age <= 2 * DAY + 60);
    /* Younger than a week: nothing is sweepable. */
    assert_int_equal(tf_disk_usage(fx->dir, &(tf_sweep_opts){ .prefix = "orph", .min_age = 7 * DAY }, &r), 0);
    assert_int_equal(r.sweepable, 0);
    /* The default naming ("tmp") matches none of these. */
    assert_int_equal(tf_disk_usage(fx->dir, NULL, &r), 0);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.oldest_age, 0);
}

static void test_dry_run_removes_nothing(void **state)
{
    struct fixture *fx = *state;
    char *before = dir_listing(fx->dir);
    struct seen seen = { 0 };
    tf_sweep_result res;
    tf_sweep_opts o = { .prefix = "orph", .flags = TF_SWEEP_DRY_RUN, .report = on_removed, .arg = &seen };
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 3);
    assert_int_equal(res.live, 2);
    assert_int_equal(seen.files, 2);
    assert_int_equal(seen.dirs, 1);
    assert_int_equal(seen.bytes, res.bytes);
    assert_listing_equal(before, dir_listing(fx->dir));
}

static void test_sweep_removes_orphans_only(void **state)
{
    struct fixture *fx = *state;
    plant_inner_link(fx);
    tf_usage_report r;
    assert_int_equal(tf_disk_usage(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &r), 0);
    struct seen seen = { 0 };
    tf_sweep_result res;
    tf_sweep_opts o = { .prefix = "orph", .report = on_removed, .arg = &seen };
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 3);
    assert_int_equal(res.live, 2);
    assert_int_equal(res.failed, 0);
    assert_int_equal(res.bytes, r.orphan_bytes);
    assert_int_equal(seen.files + seen.dirs, 3);
    /* Live temporaries survive though old; so do the link and the misfits. */
    assert_true(path_exists(tf_file_name(fx->live_file)));
    assert_true(path_exists(tf_dir_name(fx->live_dir)));
    assert_int_equal(count_prefixed(fx->dir, "orph"), 2 + 3);   /* live 2, link, 2 misfits */
    assert_int_equal(dir_entries(fx->dir), 6);
    assert_outside_intact(fx);
    /* A second sweep finds nothing more. */
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 0);
}

static void test_young_orphans_stay(void **state)
{
    struct fixture *fx = *state;
    sweep_clock_ahead(0);
    tf_sweep_result res;
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph", .min_age = 3600 }, &res), 0);
    assert_int_equal(res.removed, 0);
    assert_int_equal(res.young, 3);
    /* The zero value's age (a day) keeps them too. */
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &res), 0);
    assert_int_equal(res.young, 3);
    assert_int_equal(count_prefixed(fx->dir, "orph"), 8);
}

static void test_kept_file_is_an_orphan(void **state)
{
    struct fixture *fx = *state;
    tf_file *k = tf_named_temporary_file(&(tf_opts){ .dir = fx->dir, .prefix = "kept", .suffix = ".log",
                                                     .flags = TF_KEEP });
    char *name = strdup(tf_file_name(k));
    tf_sweep_result res;
    tf_sweep_opts o = { .prefix = "kept", .suffix = ".log", .min_age = 1 };
    /* Open (and so locked) it is live; once closed it is an orphan. */
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.live, 1);
    tf_file_release(k);
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 1);
    assert_false(path_exists(name));
    free(name);
}

static void test_errors(void **state)
{
    struct fixture *fx = *state;
    tf_usage_report r;
    tf_sweep_result res;
    errno = 0;
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "a/b" }, &res), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_disk_usage(fx->dir, &(tf_sweep_opts){ .suffix = "/" }, &r), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_disk_usage(fx->dir, NULL, NULL), -1);
    assert_errno(EINVAL);
    char *missing = path_join(fx->dir, "missing");
    assert_int_equal(tf_sweep(missing, NULL, NULL), -1);
    assert_errno(ENOENT);
    free(missing);
    /* The directory given may not be a link, even with a trailing slash. */
    char *link = path_join(fx->dir, "orphlinklink");
    char *slash = malloc(strlen(link) + 2);
    sprintf(slash, "%s/", link);
    assert_int_equal(tf_sweep(link, NULL, NULL), -1);
    assert_errno(ENOTDIR);
    assert_int_equal(tf_sweep(slash, NULL, NULL), -1);
    assert_errno(ENOTDIR);
    free(slash);
    free(link);
    fault_arm("malloc", 1, ENOMEM);
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &res), -1);
    assert_errno(ENOMEM);
    fault_reset();
    assert_int_equal(count_prefixed(fx->dir, "orph"), 8);
}


/* ---- lock files (TF_SWEEP_LOCK_FILES) ------------------------------------- */

/* Child: takes the lock of dest and dies by SIGKILL, holding it. */
static int die_holding_lock(void *dest)
{
    tf_file *f = tf_lock_file(dest, NULL);
    CHECK(f != NULL);
    raise(SIGKILL);
    return 1;
}

/* Is there an entry (a link too) named name in the swept directory? */
static bool exists_in(const struct fixture *fx, const char *name)
{
    struct stat st;
    char *p = path_join(fx->dir, name);
    bool there = lstat(p, &st) == 0;
    free(p);
    return there;
}

static void test_stale_lock_files(void **state)
{
    struct fixture *fx = *state;
    char *conf = path_join(fx->dir, "conf"), *held = path_join(fx->dir, "held");
    int st = fork_status(die_holding_lock, conf);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    tf_file *mine = tf_lock_file(held, NULL);   /* live: flocked */
    assert_non_null(mine);
    /* git's way: open for writing, no flock. */
    int git = openat(AT_FDCWD, fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int gfd = openat(git, "index.lock", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(gfd >= 0);
    assert_int_equal(write_file(fx->dir, "closed.lock", "x"), 0);   /* nobody's */
    assert_int_equal(mkdirat(git, "dir.lock", 0700), 0);        /* not a lock file */
    assert_int_equal(symlinkat(fx->outside, git, "link.lock"), 0);
    assert_int_equal(write_file(fx->dir, ".lock", "x"), 0);     /* no NAME */
    size_t before = dir_entries(fx->dir);
    tf_sweep_result res;
    /* Without the flag, no lock file is looked at. */
    tf_sweep_opts o = { .prefix = "orph", .flags = TF_SWEEP_DRY_RUN };
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 3);
    assert_int_equal(res.live, 2);
    o.flags |= TF_SWEEP_LOCK_FILES;
    tf_usage_report r;
    assert_int_equal(tf_disk_usage(fx->dir, &o, &r), 0);
    assert_int_equal(r.count, 5 + 4);
    assert_int_equal(r.live, 2 + 2);
    o.flags &= ~(unsigned)TF_SWEEP_DRY_RUN;
    assert_int_equal(tf_sweep(fx->dir, &o, &res), 0);
    assert_int_equal(res.removed, 3 + 2);
    assert_int_equal(res.live, 2 + 2);
    assert_int_equal(res.failed, 0);
    assert_false(exists_in(fx, "conf.lock"));
    assert_false(exists_in(fx, "closed.lock"));
    assert_true(exists_in(fx, "held.lock") && exists_in(fx, "index.lock"));
    assert_true(exists_in(fx, "dir.lock") && exists_in(fx, "link.lock"));
    assert_true(exists_in(fx, ".lock"));
    assert_int_equal(dir_entries(fx->dir), before - 5);
    assert_outside_intact(fx);
    /* The dead holder's lock is free; the live one still is not. */
    tf_file *next = tf_lock_file(conf, &(tf_persist_opts){ .level = TF_LEVEL_VISIBLE });
    assert_non_null(next);
    errno = 0;
    assert_null(tf_lock_file(held, NULL));
    assert_errno(EEXIST);
    tf_file_release(next);
    tf_file_release(mine);
    close(gfd);
    close(git);
    free(conf);
    free(held);
}

/* ---- unlocked entries: judged by their newest time ---------------------- */

/*
 * tf_mkstemp() and tf_mkdtemp() results hold no lock: the sweep can only go by
 * age, and the age counts from the newest of atime, mtime and ctime, over the
 * whole tree for a directory (rewriting a file inside leaves the directory's
 * own times alone).
 */
static void test_unlocked_judged_by_newest_time(void **state)
{
    struct fixture *fx = *state;
    tf_opts o = { .dir = fx->dir, .prefix = "low" };
    tf_sweep_opts so = { .prefix = "low", .min_age = DAY };
    tf_sweep_result res;
    char *read_recently, *changed_recently;
    int fd1 = tf_mkstemp(&o, &read_recently), fd2 = tf_mkstemp(&o, &changed_recently);
    char *dir = tf_mkdtemp(&o);
    assert_true(fd1 >= 0 && fd2 >= 0);
    assert_non_null(dir);
    close(fd1);
    close(fd2);
    assert_int_equal(write_file(dir, "rewritten", "new data"), 0);
    char *inner = path_join(dir, "rewritten");
    /* Read "now" by the sweep's clock (two days ahead), written long before. */
    set_times(read_recently, 2 * DAY, -2 * DAY);
    /* Access and modification two days back; its status changed now. */
    set_times(changed_recently, -2 * DAY, -2 * DAY);
    /* A directory whose own times are old, with a file rewritten "now". */
    set_times(inner, 2 * DAY, 2 * DAY);
    set_times(dir, -2 * DAY, -2 * DAY);

    /* Half a day ahead: the ctime (real now) is 12 hours old; a look at the
     * mtime alone would find them all 2.5 days old. */
    sweep_clock_ahead(DAY / 2);
    assert_int_equal(tf_sweep(fx->dir, &so, &res), 0);
    assert_int_equal(res.removed, 0);
    assert_int_equal(res.young, 3);
    /* Two days ahead: only the one whose every time is old goes. */
    sweep_clock_ahead(2 * DAY);
    assert_int_equal(tf_sweep(fx->dir, &so, &res), 0);
    assert_int_equal(res.removed, 1);
    assert_int_equal(res.young, 2);
    assert_false(path_exists(changed_recently));
    assert_true(path_exists(read_recently));
    assert_true(path_exists(inner));
    /* Five days ahead, the newest times are three days old: both go. */
    sweep_clock_ahead(5 * DAY);
    assert_int_equal(tf_sweep(fx->dir, &so, &res), 0);
    assert_int_equal(res.removed, 2);
    assert_int_equal(count_prefixed(fx->dir, "low"), 0);
    free(inner);
    free(dir);
    free(read_recently);
    free(changed_recently);
}

/* ---- the probe's exclusive lock ----------------------------------------- */

static int exclusive_seen;

/* Path of an open descriptor, through /proc; false if unknown. */
static bool fd_path(int fd, char *path, size_t size)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, size - 1);
    if (len <= 0)
        return false;
    path[len] = '\0';
    return true;
}

/* getdents64 that first checks whether someone holds the directory's flock
 * exclusively (a probe that kept its lock while it reads the tree). */
static ssize_t getdents_checking_lock(int fd, void *buf, size_t n)
{
    char path[PATH_MAX];
    if (fd_path(fd, path, sizeof path)) {
        int other = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (other >= 0) {
            if (flock(other, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
                exclusive_seen++;
            close(other);
        }
    }
    return tf__sys_default.getdents64(fd, buf, n);
}

/* A creator's live lock waits out a probe's exclusive lock, so the probe must
 * hold it for an instant only, not while it walks a tree. */
static void test_probe_lock_is_momentary(void **state)
{
    struct fixture *fx = *state;
    tf_usage_report r;
    tf_sweep_result res;
    exclusive_seen = 0;
    fault_count_start();
    fault_next.getdents64 = getdents_checking_lock;
    assert_int_equal(tf_disk_usage(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &r), 0);
    assert_int_equal(r.orphans, 3);
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph", .flags = TF_SWEEP_DRY_RUN },
                              &res), 0);
    assert_int_equal(res.removed, 3);
    assert_true(fault_calls("getdents64") > 2);   /* the trees were read */
    fault_reset();
    assert_int_equal(exclusive_seen, 0);
}

/* ---- removal goes through the probed entry ------------------------------ */

/* The orphans of the fixture; when the hooks below see one, they move it away
 * (to NAME.moved) and put a decoy in its place. */
struct target {
    char name[NAME_MAX + 1];
    bool is_dir;
    int ex_locks, stats;
};
static struct target targets[8];
static int ntargets;
static const char *swap_dir;
static int swap_at_lock, swap_at_stat, swap_at_stat_dir;   /* 0: never */

static void find_targets(struct fixture *fx)
{
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    ntargets = 0;
    swap_dir = fx->dir;
    while ((e = readdir(d))) {
        char *p = path_join(fx->dir, e->d_name);
        struct stat st;
        if (strncmp(e->d_name, "orph", 4) == 0 && strlen(e->d_name) == 4 + TF_RANDOM_CHARS &&
            is_random_part(e->d_name + 4, TF_RANDOM_CHARS) && lstat(p, &st) == 0 &&
            (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&   /* not the planted link */
            strcmp(p, tf_file_name(fx->live_file)) != 0 && strcmp(p, tf_dir_name(fx->live_dir)) != 0) {
            assert_true(ntargets < 8);
            struct target *t = &targets[ntargets++];
            memset(t, 0, sizeof *t);
            strcpy(t->name, e->d_name);
            t->is_dir = S_ISDIR(st.st_mode);
        }
        free(p);
    }
    closedir(d);
    assert_int_equal(ntargets, 3);
}

static struct target *target_named(const char *name)
{
    for (int i = 0; i < ntargets; i++)
        if (strcmp(targets[i].name, name) == 0)
            return &targets[i];
    return NULL;
}

static void swap(const struct target *t)
{
    char *p = path_join(swap_dir, t->name);
    char moved[PATH_MAX];
    snprintf(moved, sizeof moved, "%s.moved", p);
    if (rename(p, moved) != 0)
        abort();
    if (t->is_dir && mkdir(p, 0700) != 0)
        abort();
    if (write_file(t->is_dir ? p : swap_dir, t->is_dir ? "precious" : t->name, "decoy") != 0)
        abort();
    free(p);
}

static int flock_swapping(int fd, int op)
{
    char path[PATH_MAX];
    struct target *t;
    if ((op & LOCK_EX) && fd_path(fd, path, sizeof path) && (t = target_named(base_name(path))) &&
        ++t->ex_locks == swap_at_lock)
        swap(t);
    return tf__sys_default.flock(fd, op);
}

/* The probe of a regular file asks for a write lease first: its lock. */
static int fcntl_swapping(int fd, int cmd, int arg)
{
    char path[PATH_MAX];
    struct target *t;
    if (cmd == F_SETLEASE && arg != F_UNLCK && fd_path(fd, path, sizeof path) &&
        (t = target_named(base_name(path))) && ++t->ex_locks == swap_at_lock)
        swap(t);
    return tf__sys_default.fcntl(fd, cmd, arg);
}

static int fstatat_swapping(int dirfd, const char *name, struct stat *st, int flags)
{
    struct target *t = target_named(name);
    if (t && ++t->stats == (t->is_dir ? swap_at_stat_dir : swap_at_stat))
        swap(t);
    return tf__sys_default.fstatat(dirfd, name, st, flags);
}

/* Each decoy is intact, and the moved orphans are where they were moved. */
static void assert_decoys_intact(void)
{
    for (int i = 0; i < ntargets; i++) {
        const struct target *t = &targets[i];
        char *p = path_join(swap_dir, t->name);
        char *decoy = t->is_dir ? path_join(p, "precious") : strdup(p);
        char *content = read_file_str(decoy);
        if (!content)
            fail_msg("decoy %s removed", decoy);
        assert_string_equal(content, "decoy");
        char moved[PATH_MAX];
        snprintf(moved, sizeof moved, "%s.moved", p);
        assert_true(path_exists(moved));
        free(content);
        free(decoy);
        free(p);
    }
}

/* Swapped once the probe has opened the entry (at its first exclusive flock
 * or lease): the sweep must not remove what now has the name (nor, by the
 * way, the moved orphan it probed). */
static void test_swapped_after_probe_is_left(void **state)
{
    struct fixture *fx = *state;
    tf_sweep_result res;
    find_targets(fx);
    swap_at_lock = 1, swap_at_stat = swap_at_stat_dir = 0;
    fault_count_start();
    fault_next.flock = flock_swapping;
    fault_next.fcntl = fcntl_swapping;
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &res), 0);
    fault_reset();
    assert_int_equal(res.removed, 0);
    assert_int_equal(res.live, 2);
    assert_decoys_intact();
}

/* Swapped at the last check before the name is removed: a file's unlinkat and
 * a directory's rmdir (after it was emptied through the probed descriptor). */
static void test_swapped_before_removal_is_left(void **state)
{
    struct fixture *fx = *state;
    tf_sweep_result res;
    find_targets(fx);
    /* fstatat of each name: only the checks before removal (the probe looks
     * by statx: of a file's descriptor, of a directory's name); a directory's
     * second one comes after emptying it. */
    swap_at_lock = 0, swap_at_stat = 1, swap_at_stat_dir = 2;
    fault_count_start();
    fault_next.fstatat = fstatat_swapping;
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &res), 0);
    fault_reset();
    assert_int_equal(res.removed, 0);
    assert_int_equal(res.failed, 3);
    assert_decoys_intact();
    /* The directory emptied was the probed one, moved away meanwhile. */
    for (int i = 0; i < ntargets; i++) {
        if (!targets[i].is_dir)
            continue;
        char *p = path_join(swap_dir, targets[i].name);
        char moved[PATH_MAX];
        snprintf(moved, sizeof moved, "%s.moved", p);
        assert_int_equal(dir_entries(moved), 0);
        free(p);
    }
}

/* At the relock before removal, something writes deep inside an orphan
 * directory (not in its top): the directory is young again and stays. */
static int flock_writing_inside(int fd, int op)
{
    char path[PATH_MAX];
    struct target *t;
    if ((op & LOCK_EX) && fd_path(fd, path, sizeof path) && (t = target_named(base_name(path))) &&
        t->is_dir && ++t->ex_locks == 2) {
        sleep(1);   /* a timestamp the probe cannot have seen */
        char *deep = path_join(path, "deep");
        if (write_file(deep, "fresh", "written during the sweep") != 0)
            abort();
        free(deep);
    }
    return tf__sys_default.flock(fd, op);
}

static void test_written_inside_before_removal_stays(void **state)
{
    struct fixture *fx = *state;
    tf_sweep_result res;
    find_targets(fx);
    fault_count_start();
    fault_next.flock = flock_writing_inside;
    assert_int_equal(tf_sweep(fx->dir, &(tf_sweep_opts){ .prefix = "orph" }, &res), 0);
    fault_reset();
    assert_int_equal(res.removed, 2);   /* the two orphan files */
    assert_int_equal(res.young, 1);
    for (int i = 0; i < ntargets; i++) {
        char *p = path_join(fx->dir, targets[i].name);
        assert_int_equal(path_exists(p), targets[i].is_dir);
        free(p);
    }
}

/* ---- mount points: never walked, never removed ------------------------- */

/*
 * A bind mount of a directory of the same filesystem has the device number of
 * the swept directory: only the mount id tells that it is not a temporary of
 * ours but a window on something else, which the sweep must not empty. Runs as
 * root in a private mount namespace (77: mounting is not permitted here).
 */
/* A private mount namespace for this child: 0, or -1 where it is refused. */
static int private_mounts(void)
{
    return unshare(CLONE_NEWNS) == 0 && mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0
               ? 0 : -1;
}

/* A megabyte at path, dated 10 days on: young to a sweep whose clock runs 10
 * days ahead, if it were looked at. */
static int young_megabyte(const char *path)
{
    static char mb[1 << 20];
    memset(mb, 'y', sizeof mb);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    bool ok = write(fd, mb, sizeof mb) == (ssize_t)sizeof mb && fsync(fd) == 0;
    if (close(fd) != 0 || !ok)
        return -1;
    time_t later = time(NULL) + 10 * DAY;
    struct timespec t[2] = { { later, 0 }, { later, 0 } };
    return utimensat(AT_FDCWD, path, t, 0);
}

static int child_bind_mounts(void *arg)
{
    const char *dir = arg;
    if (private_mounts() != 0)
        return 77;
    char *sweep = path_join(dir, "sweep"), *data = path_join(dir, "data");
    char *sub = path_join(data, "sub"), *young = path_join(dir, "young");
    char *onto_dir = path_join(sweep, "tmpabcdefgh"), *onto_file = path_join(sweep, "tmpfilefile");
    char *orphan = path_join(sweep, "tmpwalkwalk"), *inner = path_join(orphan, "inner");
    char *file = path_join(sub, "file"), *top = path_join(data, "top");
    char *big = path_join(young, "big");
    CHECK(mkdir(sweep, 0700) == 0 && mkdir(data, 0700) == 0 && mkdir(sub, 0700) == 0);
    CHECK(write_file(sub, "file", "precious") == 0 && write_file(data, "top", "precious") == 0);
    CHECK(mkdir(onto_dir, 0700) == 0 && write_file(sweep, "tmpfilefile", "") == 0);
    /* An orphan directory with a bind mount inside, of a tree used "now" by
     * the sweep's clock: its age must not count, nor its megabyte. */
    CHECK(mkdir(young, 0700) == 0 && mkdir(orphan, 0700) == 0 && mkdir(inner, 0700) == 0);
    CHECK(young_megabyte(big) == 0);
    if (mount(data, onto_dir, "none", MS_BIND, NULL) != 0)
        return 77;
    CHECK(mount(top, onto_file, "none", MS_BIND, NULL) == 0);
    CHECK(mount(young, inner, "none", MS_BIND, NULL) == 0);
    sweep_clock_ahead(10 * DAY);

    tf_sweep_result res;
    CHECK(tf_sweep(sweep, NULL, &res) == 0);
    CHECK(path_exists(file) && path_exists(top) && path_exists(big));
    char *content = read_file_str(file);
    CHECK(content && strcmp(content, "precious") == 0);
    free(content);
    CHECK(path_exists(onto_file) && path_exists(onto_dir));
    CHECK(res.young == 0 && res.live == 0);   /* the mounted young file was not looked at */
    /* Only the real orphan counts (its removal stopped at the mount inside);
     * the mounted megabyte is not its. */
    tf_usage_report r;
    CHECK(tf_disk_usage(sweep, NULL, &r) == 0);
    CHECK(r.count == 1 && r.orphans == 1 && r.unknown == 0);
    CHECK(r.bytes < (1 << 20));
    CHECK(umount(inner) == 0 && umount(onto_file) == 0 && umount(onto_dir) == 0);
    /* Unmounted, what is left is an ordinary orphan... */
    CHECK(tf_sweep(sweep, NULL, &res) == 0);
    CHECK(path_exists(file) && path_exists(top) && path_exists(big));
    CHECK(dir_entries(sweep) == 0);   /* ...and so are the empty mount points */
    free(big), free(top), free(file), free(inner), free(orphan);
    free(onto_file), free(onto_dir), free(young), free(sub), free(data), free(sweep);
    return 0;
}

static void test_bind_mounts_left(void **state)
{
    int rc = run_child(child_bind_mounts, TFT_DIR(state), false);
    if (rc == 77)
        skip();   /* no permission to mount here */
    assert_int_equal(rc, 0);
}

/*
 * A tmpfs mounted inside an orphan directory has another device number: the
 * walk that dates and sizes the orphan stops at it (its young megabyte
 * counts for nothing), the removal leaves it; unmounted, all goes.
 */
static int child_other_device_inside(void *arg)
{
    const char *dir = arg;
    if (private_mounts() != 0)
        return 77;
    char *sweep = path_join(dir, "sweep"), *orphan = path_join(sweep, "tmpotherdev");
    char *inner = path_join(orphan, "inner"), *big = path_join(inner, "big");
    CHECK(mkdir(sweep, 0700) == 0 && mkdir(orphan, 0700) == 0 && mkdir(inner, 0700) == 0);
    if (mount("tmpfs", inner, "tmpfs", 0, "size=4m,mode=0700") != 0)
        return 77;
    CHECK(young_megabyte(big) == 0);
    sweep_clock_ahead(10 * DAY);

    tf_usage_report r;
    CHECK(tf_disk_usage(sweep, NULL, &r) == 0);
    CHECK(r.count == 1 && r.orphans == 1 && r.sweepable == 1 && r.unknown == 0);
    CHECK(r.bytes < (1 << 20));
    tf_sweep_result res;
    CHECK(tf_sweep(sweep, NULL, &res) == 0);
    CHECK(res.young == 0 && path_exists(big));
    CHECK(umount(inner) == 0);
    CHECK(tf_sweep(sweep, NULL, &res) == 0);
    CHECK(dir_entries(sweep) == 0);
    tf__sweep_clock_hook = NULL;
    free(big), free(inner), free(orphan), free(sweep);
    return 0;
}

static void test_other_device_inside_left(void **state)
{
    int rc = run_child(child_other_device_inside, TFT_DIR(state), false);
    if (rc == 77) {
        fprintf(stderr, "  skipped: mounting a tmpfs is not permitted here\n");
        skip();
    }
    assert_int_equal(rc, 0);
}

/* A NULL dir is the default directory: none usable (every open and mkdir
 * refused, in a fresh child), both calls fail with its ENOENT. */
static int child_no_default_directory(void *arg)
{
    (void)arg;
    unsetenv("TMPDIR"), unsetenv("TEMP"), unsetenv("TMP");
    CHECK(tf_settempdir(NULL) == 0);
    fault_arm_range("openat", 1, 0, EACCES);
    fault_arm_range("mkdirat", 1, 0, EACCES);
    tf_sweep_result res;
    tf_usage_report r;
    errno = 0;
    CHECK(tf_sweep(NULL, NULL, &res) == -1 && errno == ENOENT);
    errno = 0;
    CHECK(tf_disk_usage(NULL, NULL, &r) == -1 && errno == ENOENT);
    fault_reset();
    return 0;
}

/* A sweep's removed and failed counts; -1 if it fails. */
static int sweep_counts(const char *dir, unsigned flags, size_t *removed, size_t *failed)
{
    tf_sweep_result res;
    if (tf_sweep(dir, &(tf_sweep_opts){ .flags = flags }, &res) != 0)
        return -1;
    *removed = res.removed;
    *failed = res.failed;
    return 0;
}

/* As nobody, in a sticky world-writable directory of root's: root's orphan
 * file and root's 0755 orphan directory cannot be removed, nobody's file
 * can. The dry run says so, as the real run then does (was: all three
 * reported removable). */
static int child_dry_run_permissions(void *arg)
{
    const char *dir = arg;
    size_t removed, failed;
    sweep_clock_ahead(10 * DAY);
    CHECK(sweep_counts(dir, TF_SWEEP_DRY_RUN, &removed, &failed) == 0);
    CHECK(removed == 1 && failed == 2);
    CHECK(sweep_counts(dir, 0, &removed, &failed) == 0);
    CHECK(removed == 1 && failed == 2);
    return 0;
}

static void test_dry_run_permissions(void **state)
{
    if (!running_as_root())
        skip();   /* needs files of another user */
    char *dir = path_join(TFT_DIR(state), "sticky");
    assert_int_equal(chmod(TFT_DIR(state), 0711), 0);   /* nobody passes through */
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 01777), 0);
    assert_int_equal(write_file(dir, "tmprootfile", "root's"), 0);
    assert_int_equal(write_file(dir, "tmpnobodyfi", "nobody's"), 0);
    char *theirs = path_join(dir, "tmpnobodyfi"), *rdir = path_join(dir, "tmprootdirr");
    give_to_nobody(theirs);
    assert_int_equal(mkdir(rdir, 0755), 0);
    assert_int_equal(write_file(rdir, "inside", "root's"), 0);
    assert_int_equal(run_child(child_dry_run_permissions, dir, true), 0);
    assert_false(path_exists(theirs));
    assert_true(path_exists(rdir));
    free(theirs), free(rdir), free(dir);
}

static void test_no_default_directory(void **state)
{
    (void)state;
    assert_int_equal(run_child(child_no_default_directory, NULL, false), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_usage_report),
        T(test_dry_run_removes_nothing),
        T(test_dry_run_permissions),
        T(test_sweep_removes_orphans_only),
        T(test_young_orphans_stay),
        T(test_kept_file_is_an_orphan),
        T(test_errors),
        T(test_unlocked_judged_by_newest_time),
        T(test_probe_lock_is_momentary),
        T(test_swapped_after_probe_is_left),
        T(test_swapped_before_removal_is_left),
        T(test_written_inside_before_removal_stays),
        T(test_stale_lock_files),
        cmocka_unit_test_setup_teardown(test_bind_mounts_left, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_other_device_inside_left, tft_setup, tft_teardown),
        cmocka_unit_test_setup_teardown(test_no_default_directory, tft_setup, tft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
