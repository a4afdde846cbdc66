/* Seed 004, section 3: TemporaryDirectory(), removed with its files when the block ends */
/*
 * Python:
 *     with tempfile.TemporaryDirectory() as tmpdir:
 *         print("临时目录: ", tmpdir)            # "temporary directory: "
 *         open(os.path.join(tmpdir, "test.txt"), "w").write("hello")
 *     # the directory and its files are deleted when the with block ends
 *
 * Prints:  临时目录:  /tmp/tmpXXXXXXXX
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    struct stat st = { 0 };
    char *name;
    int dfd, fd;

    tf_dir *tmpdir = tf_temporary_directory(NULL);
    if (tmpdir == NULL)
        return ex_fail("tf_temporary_directory");
    printf("临时目录:  %s\n", tf_dir_name(tmpdir));
    CHECK(ex_name_ok(tf_dir_name(tmpdir), tf_gettempdir(), "tmp", ""));
    CHECK(stat(tf_dir_name(tmpdir), &st) == 0 && S_ISDIR(st.st_mode) &&
          (st.st_mode & 07777) == 0700);

    /* open(os.path.join(tmpdir, "test.txt"), "w"): openat() on the handle's
     * descriptor needs no path building and cannot be redirected by a rename
     * of a parent directory. */
    dfd = tf_dir_fileno(tmpdir);
    fd = openat(dfd, "test.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd == -1) {
        ex_fail("openat test.txt");
    } else {
        if (write(fd, "hello", 5) != 5)
            ex_fail("write");
        close(fd);
    }
    CHECK(fstatat(dfd, "test.txt", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size == 5);

    /* End of the with block: the directory and test.txt are gone. */
    name = strdup(tf_dir_name(tmpdir));
    if (tf_dir_release(tmpdir) != 0)
        ex_fail("tf_dir_release");
    if (name == NULL)
        return ex_fail("strdup");
    CHECK(ex_gone(name));
    free(name);
    return ex_status;
}
