/* Seed 001, best practices: clean orphaned temporaries and watch temp disk use */
/*
 * The seed advises: "Clean orphaned files periodically ... as a safety net"
 * and "Monitor disk space usage ... temporary files accumulating over time can
 * lead to disk capacity issues."
 *
 * In C the first safety net is the library's own: temporaries are removed at
 * exit and, with tf_cleanup_install_signals(), on SIGINT, SIGTERM and the like.
 * Nothing can run on SIGKILL or a power loss, so this program shows the
 * second: a worker is killed and leaves a file behind; tf_disk_usage() reports the
 * temp space, tf_sweep() in a dry run lists what it would remove, then
 * removes it, and the live temporary of this process, locked, is left alone.
 *
 * An entry's age counts from its newest access, modification or status change
 * (ctime, which no program can set back), so the demonstration waits a little
 * more than a second and sweeps what is older than one second; a real sweep
 * would use hours or days.
 *
 * Prints (sizes vary with the filesystem):
 *     before: 2 temporaries, 1 live, 1 orphaned, 8192 bytes
 *     would remove: job_XXXXXXXX (file, 8192 bytes, 1 s old)
 *     removed 1 orphan, freed 8192 bytes
 *     after: 1 temporaries, 1 live, 0 orphaned, 0 bytes
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "example.h"

/* A worker that writes a job file and is killed before it can clean up. */
static void killed_worker(const char *dir)
{
    static char data[8000];
    pid_t pid = fork();

    if (pid == 0) {
        tf_file *job = tf_named_temporary_file(&(tf_opts){ .dir = dir, .prefix = "job_" });
        if (job == NULL || tf_file_write(job, data, sizeof data) != (ssize_t)sizeof data)
            _exit(1);
        raise(SIGKILL);
    }
    int status;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
}

static void print_usage(const char *when, const tf_usage_report *r)
{
    printf("%s: %zu temporaries, %zu live, %zu orphaned, %llu bytes\n",
           when, r->count, r->live, r->orphans, r->bytes);
}

static void print_entry(const tf_sweep_entry *e, void *arg)
{
    (void)arg;
    printf("would remove: %s (%s, %llu bytes, %lu s old)\n", e->name,
           e->is_dir ? "directory" : "file", e->bytes, e->age);
}

int main(void)
{
    tf_usage_report before, after;
    tf_sweep_result res;

    /* First safety net: removal on the usual fatal signals, as at exit. */
    if (tf_cleanup_install_signals() != 0)
        return ex_fail("tf_cleanup_install_signals");

    /* A private temp space for the demonstration, removed at the end. */
    tf_dir *space = tf_temporary_directory(NULL);
    if (space == NULL)
        return ex_fail("tf_temporary_directory");
    const char *dir = tf_dir_name(space);

    killed_worker(dir);
    tf_file *mine = tf_named_temporary_file(&(tf_opts){ .dir = dir, .prefix = "job_" });
    if (mine == NULL)
        return ex_fail("tf_named_temporary_file");
    /* Let both grow older than min_age: the orphan goes, the live one (locked) stays. */
    nanosleep(&(struct timespec){ 1, 100 * 1000 * 1000 }, NULL);

    /* Watch the space: only names made with this prefix are counted. */
    tf_sweep_opts opts = { .prefix = "job_", .min_age = 1, .report = print_entry };
    if (tf_disk_usage(dir, &opts, &before) != 0)
        return ex_fail("tf_disk_usage");
    print_usage("before", &before);
    CHECK(before.count == 2 && before.live == 1 && before.orphans == 1);

    /* Dry run first: what would go. */
    opts.flags = TF_SWEEP_DRY_RUN;
    if (tf_sweep(dir, &opts, &res) != 0)
        return ex_fail("tf_sweep (dry run)");
    CHECK(res.removed == 1 && res.live == 1);

    /* Then the real sweep: the orphan goes, the live file stays. */
    opts.flags = 0;
    opts.report = NULL;
    if (tf_sweep(dir, &opts, &res) != 0)
        return ex_fail("tf_sweep");
    printf("removed %zu orphan%s, freed %llu bytes\n", res.removed,
           res.removed == 1 ? "" : "s", res.bytes);
    CHECK(res.removed == 1 && res.bytes == before.orphan_bytes);
    CHECK(!ex_gone(tf_file_name(mine)));

    if (tf_disk_usage(dir, &opts, &after) != 0)
        return ex_fail("tf_disk_usage");
    print_usage("after", &after);
    CHECK(after.count == 1 && after.live == 1 && after.orphans == 0);

    if (tf_file_release(mine) != 0)
        ex_fail("tf_file_release");
    if (tf_dir_release(space) != 0)
        ex_fail("tf_dir_release");
    return ex_status;
}
