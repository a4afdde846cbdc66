/* Seed 001, tip 2: delete=False handed on, made a real file with tf_file_persist */
/*
 * Python (the seed):
 *     tmp = TemporaryFile(delete=False)     # no such argument: NamedTemporaryFile
 *     try:
 *        # Use temp file
 *     finally:
 *        tmp.close() # File not deleted
 *
 * Prints:  results in <dir>/results.csv (2 lines), no temporary left
 *
 * delete=False leaves an orphan that something must clean up later. When the
 * file is meant to outlive the program, give it its final name instead:
 * tf_file_persist() renames it (fsync'ed, directory too), takes it out of
 * the cleanup registry, and a failed persist hands the temporary back.
 */
#include "example.h"

int main(void)
{
    tf_dir *d = tf_temporary_directory(NULL);
    if (d == NULL)
        return ex_fail("tf_temporary_directory");
    tf_file *tmp = tf_named_temporary_file(&(tf_opts){ .dir = tf_dir_name(d), .flags = TF_KEEP });
    if (tmp == NULL)
        return ex_fail("tf_named_temporary_file");
    const char rows[] = "id,value\n1,42\n";
    CHECK(tf_file_write(tmp, rows, sizeof rows - 1) == (ssize_t)(sizeof rows - 1));
    char dest[4096];
    snprintf(dest, sizeof dest, "%s/results.csv", tf_dir_name(d));
    if (tf_file_persist(tmp, dest, &(tf_persist_opts){ .flags = TF_PERSIST_NOCLOBBER }, NULL) < 0)
        ex_fail("tf_file_persist");
    else
        printf("results in %s (2 lines), no temporary left\n", tf_file_name(tmp));
    tf_file_release(tmp);   /* closes; the persisted file stays */
    char buf[64];
    CHECK(ex_read_file(dest, buf, sizeof buf) == (ssize_t)(sizeof rows - 1));
    tf_dir_release(d);
    return ex_status;
}
