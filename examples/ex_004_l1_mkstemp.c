/* Seed 004, low-level 1: mkstemp(suffix='.txt', prefix='data_'), the caller owns and removes the file */
/*
 * Python:
 *     fd, name = tempfile.mkstemp(suffix=".txt", prefix="data_")
 *     print((fd, name))
 *     os.write(fd, b"data")
 *     os.close(fd)
 *     os.unlink(name)      # low-level: cleanup is the caller's job
 *
 * Prints:  (3, '/tmp/data_XXXXXXXX.txt')
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    struct stat st = { 0 };
    char *name = NULL;
    int fd;

    fd = tf_mkstemp(&(tf_opts){ .suffix = ".txt", .prefix = "data_" }, &name);
    if (fd == -1)
        return ex_fail("tf_mkstemp");
    printf("(%d, ", fd);
    ex_print_pystr(name);
    puts(")");

    /* What mkstemp promises: the name asked for, in the default directory, a
     * regular file only we can read and write, a descriptor not inherited
     * across exec. */
    CHECK(ex_name_ok(name, tf_gettempdir(), "data_", ".txt"));
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == geteuid());
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);

    if (write(fd, "data", 4) != 4)
        ex_fail("write");
    if (close(fd) != 0)
        ex_fail("close");
    if (unlink(name) != 0)
        ex_fail("unlink");
    CHECK(ex_gone(name));
    free(name);
    return ex_status;
}
