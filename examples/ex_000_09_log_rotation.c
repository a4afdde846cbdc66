/* Seed 000, slide 9: log rotation done right (atomic, durable, nothing lost midway) */
/*
 * Python (the seed):
 *     with tempfile.NamedTemporaryFile(mode='w', delete=False) as temp_file:
 *         shutil.copy2(log_file, temp_file.name)
 *     os.rename(temp_file.name, log_file + ".1")
 *     open(log_file, 'w').close()  # Create a new empty log file
 *
 * Prints:  Log rotated: app.log -> app.log.1
 *
 * The seed's temporary lives in /tmp: the rename to app.log.1 fails with EXDEV
 * wherever the log is on another filesystem, nothing is fsync'ed (a power cut
 * can leave app.log.1 empty), and open(log_file, 'w') truncates the log in
 * place. Done right, each of the two steps is one atomic, durable replace:
 *   1. app.log.1 becomes a copy of app.log (the temporary is beside it);
 *   2. app.log becomes empty, keeping its mode (and owner, xattrs, ACL).
 * Dying between them leaves the lines in both files: duplicated, never lost.
 */
#include <stdlib.h>

#include "example.h"

/* Step 1: dest becomes a durable copy of src. */
static int copy_durably(const char *src, const char *dest)
{
    char buf[4096];
    ssize_t n = ex_read_file(src, buf, sizeof buf);
    if (n < 0)
        return -1;
    return tf_replace_contents(dest, buf, (size_t)n, NULL, NULL) == TF_LEVEL_DURABLE ? 0 : -1;
}

static int rotate_log(const char *log_file)
{
    char rotated[4096 + 2];
    snprintf(rotated, sizeof rotated, "%s.1", log_file);
    if (copy_durably(log_file, rotated) != 0)
        return -1;
    /* Step 2: a new empty log, atomically, with the old one's mode. */
    return tf_replace_contents(log_file, "", 0, NULL, NULL) == TF_LEVEL_DURABLE ? 0 : -1;
}

int main(void)
{
    tf_dir *d = tf_temporary_directory(NULL);
    if (d == NULL)
        return ex_fail("tf_temporary_directory");
    char log_file[4000], rotated[4096];
    snprintf(log_file, sizeof log_file, "%s/app.log", tf_dir_name(d));
    snprintf(rotated, sizeof rotated, "%s/app.log.1", tf_dir_name(d));
    const char lines[] = "started\nserved 3 requests\n";
    if (tf_replace_contents(log_file, lines, sizeof lines - 1,
                            &(tf_persist_opts){ .mode = 0640 }, NULL) < 0)
        ex_fail("tf_replace_contents");

    if (rotate_log(log_file) != 0)
        ex_fail("rotate_log");
    else
        printf("Log rotated: app.log -> app.log.1\n");

    char buf[256];
    struct stat st;
    CHECK(ex_read_file(rotated, buf, sizeof buf) == (ssize_t)(sizeof lines - 1) &&
          memcmp(buf, lines, sizeof lines - 1) == 0);
    CHECK(stat(log_file, &st) == 0 && st.st_size == 0 && (st.st_mode & 07777) == 0640);
    if (tf_dir_release(d) != 0)
        ex_fail("tf_dir_release");
    return ex_status;
}
