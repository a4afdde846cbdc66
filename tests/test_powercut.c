/*
 * Power cuts on a real filesystem. A small ext4 image is loop-mounted
 * (commit=1, noauto_da_alloc: no replace-by-rename heuristic to hide a
 * missing fsync); its backing file lives on a reflink-capable xfs image, so
 * that `cp --reflink=always` of it is a point-in-time copy of what the ext4
 * device was sent: a power cut. A child replaces one destination over and
 * over with self-checking contents of alternating sizes; at random moments
 * the parent notes the last commit that had returned, copies the image,
 * and later fscks and mounts each copy read-only.
 *  - TF_LEVEL_DURABLE: every copy holds a whole content, at least as new as
 *    the last commit returned before the copy.
 *  - TF_LEVEL_VISIBLE: the same check finds lost or empty contents, so the
 *    test can fail.
 * Root, loop devices, mkfs.ext4, mkfs.xfs and e2fsck are needed (the test
 * command installs e2fsprogs and xfsprogs); it skips, saying which is
 * missing, only where one truly is.
 */
#include "durable_helpers.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SNAPSHOTS 12

struct shared {
    atomic_long returned;   /* last seq whose commit returned */
    atomic_int stop;
};

static char work[64];   /* the scratch tree: xfs.img, x/ (xfs), e/ (ext4), m/ (checks) */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static const char *missing_facility(void)
{
    if (geteuid() != 0)
        return "not root";
    if (access("/dev/loop-control", F_OK) != 0)
        return "no /dev/loop-control";
    const char *tools[] = { "mkfs.ext4", "mkfs.xfs", "e2fsck", "losetup", NULL };
    for (int i = 0; tools[i]; i++)
        if (sh("command -v %s >/dev/null 2>&1", tools[i]) != 0)
            return tools[i];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    strcpy(work, "/tmp/tfpowercut-XXXXXX");
    if (!mkdtemp(work))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sh("umount -q %s/m 2>/dev/null; umount -q %s/e 2>/dev/null; umount -q %s/x 2>/dev/null; rm -rf %s",
       work, work, work, work);
    return 0;
}

/* The xfs that holds the ext4 image; then a fresh ext4 mounted at e/. */
static bool mount_images(void)
{
    return sh("cd %s && truncate -s 1G xfs.img && mkfs.xfs -q -m reflink=1 xfs.img && "
              "mkdir x e m && mount -o loop xfs.img x && truncate -s 96M x/ext4.img && "
              "mkfs.ext4 -q -F x/ext4.img && "
              "mount -o loop,commit=1,noauto_da_alloc x/ext4.img e", work) == 0;
}

static int writer(struct shared *s, const char *dest, int level)
{
    for (long seq = 1; !atomic_load(&s->stop); seq++) {
        size_t n;
        char *c = make_content(seq, &n);
        int rc = tf_replace_contents(dest, c, n, &(tf_persist_opts){ .level = level }, NULL);
        free(c);
        if (rc != level)
            return 1;
        atomic_store(&s->returned, seq);
    }
    return 0;
}

/* Fsck and mount copy i read-only; the seq of its destination (see
 * check_content), or -3 if the copy could not be checked. */
static long inspect(int i)
{
    /* e2fsck: 0 clean, 1 errors corrected (a journal replay counts). */
    int rc = sh("e2fsck -fy %s/x/snap%d.img >/dev/null 2>&1", work, i);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) > 1)
        return -3;
    if (sh("mount -o loop,ro,noload %s/x/snap%d.img %s/m", work, i, work) != 0)
        return -3;
    char path[128];
    snprintf(path, sizeof path, "%s/m/dest", work);
    long seq = check_content(path);
    sh("umount %s/m && rm -f %s/x/snap%d.img", work, work, i);
    return seq;
}

/* Runs one level; returns how many copies broke the durable promise. */
static int run_level(int level, long *commits)
{
    char dest[128];
    snprintf(dest, sizeof dest, "%s/e/dest", work);
    size_t n;
    char *c = make_content(0, &n);
    assert_int_equal(tf_replace_contents(dest, c, n, NULL, NULL), TF_LEVEL_DURABLE);
    free(c);
    sync();
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    assert_true(s != MAP_FAILED);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(writer(s, dest, level));
    long before[SNAPSHOTS];
    for (int i = 0; i < SNAPSHOTS; i++) {
        /* Past a journal commit (commit=1) at first, then random moments. */
        struct timespec ts = { i == 0, (rand() % 400) * 1000000L };
        nanosleep(&ts, NULL);
        before[i] = atomic_load(&s->returned);
        assert_int_equal(sh("cp --reflink=always %s/x/ext4.img %s/x/snap%d.img", work, work, i), 0);
    }
    atomic_store(&s->stop, 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    *commits = atomic_load(&s->returned);
    munmap(s, sizeof *s);
    int broken = 0;
    for (int i = 0; i < SNAPSHOTS; i++) {
        long seq = inspect(i);
        assert_true(seq != -3);
        const char *what = seq == -2 ? "torn or empty" : seq == -1 ? "missing"
                         : seq < before[i] ? "lost commits" : NULL;
        if (what) {
            broken++;
            print_message("  copy %d: %s (holds %ld, %ld had returned)\n", i, what, seq, before[i]);
        }
    }
    unlink(dest);
    return broken;
}

static void test_power_cut(void **state)
{
    (void)state;
    const char *missing = missing_facility();
    if (missing) {
        print_message("power-cut test skipped: %s\n", missing);
        skip();
    }
    if (!mount_images()) {
        print_message("power-cut test skipped: loop devices cannot be set up\n");
        skip();
    }
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    long commits;
    int broken = run_level(TF_LEVEL_DURABLE, &commits);
    print_message("durable: %ld commits, %d of %d power cuts lost or tore something (seed %u)\n",
                  commits, broken, SNAPSHOTS, seed);
    assert_int_equal(broken, 0);
    broken = run_level(TF_LEVEL_VISIBLE, &commits);
    print_message("visible only: %ld commits, %d of %d power cuts lost or tore something\n",
                  commits, broken, SNAPSHOTS);
    /* Without the syncs a power cut does lose data: the check can fail. */
    assert_true(broken > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_cut, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
