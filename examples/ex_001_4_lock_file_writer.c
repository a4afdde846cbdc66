/* Seed 001, tip 4: the locking advice as lock files, and flock on a live temporary */
/*
 * Python (the seed):
 *     with NamedTemporaryFile(delete=False) as f:
 *         fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
 *         try:
 *             # Mutate file exclusively
 *         finally:
 *             fcntl.flock(f, fcntl.LOCK_UN)
 *
 * Prints:  4 writers x 100 increments: counter = 400
 *          after flock/unlock the temporary is still live: 1 live, 0 orphans
 *
 * Writers competing for one file want git's lock file: tf_lock_file(counter)
 * creates counter.lock exclusively (others wait or get EEXIST), the new
 * content goes into it, and tf_file_commit() renames it over counter. The
 * seed's flock on a temporary's descriptor still works, and dropping it does
 * not make the sweep take the live temporary for an orphan.
 */
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "example.h"

static int increment(const char *counter, int times)
{
    for (int i = 0; i < times; i++) {
        tf_file *lock = tf_lock_file(counter, &(tf_persist_opts){ .timeout_ms = -1,
                                                                  .level = TF_LEVEL_CONSISTENT });
        if (lock == NULL)
            return ex_fail("tf_lock_file");
        char buf[32] = "0";
        ex_read_file(counter, buf, sizeof buf - 1);
        int n = snprintf(buf, sizeof buf, "%ld", strtol(buf, NULL, 10) + 1);
        if (tf_file_write(lock, buf, (size_t)n) != n || tf_file_commit(lock, NULL) < 0)
            ex_fail("commit");
        tf_file_release(lock);
    }
    return ex_status;
}

int main(void)
{
    tf_dir *d = tf_temporary_directory(NULL);
    if (d == NULL)
        return ex_fail("tf_temporary_directory");
    char counter[4096], buf[32] = "";
    snprintf(counter, sizeof counter, "%s/counter", tf_dir_name(d));
    pid_t kids[4];
    for (int i = 0; i < 4; i++)
        if ((kids[i] = fork()) == 0)
            _exit(increment(counter, 100));
    for (int i = 0; i < 4; i++) {
        int st;
        CHECK(waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ex_read_file(counter, buf, sizeof buf - 1);
    printf("4 writers x 100 increments: counter = %s\n", buf);
    CHECK(strcmp(buf, "400") == 0);

    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = tf_dir_name(d) });
    int fd = tf_file_fileno(f);
    CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
    /* Mutate file exclusively */
    CHECK(flock(fd, LOCK_UN) == 0);
    tf_usage_report u;
    CHECK(tf_disk_usage(tf_dir_name(d), NULL, &u) == 0);
    printf("after flock/unlock the temporary is still live: %zu live, %zu orphans\n",
           u.live, u.orphans);
    CHECK(u.live == 1 && u.orphans == 0);
    tf_file_release(f);
    tf_dir_release(d);
    return ex_status;
}
