/* Seed 004, low-level 2: mkdtemp(), a private directory the caller removes */
/*
 * Python:
 *     >>> tempfile.mkdtemp()
 *     '/tmp/tmpXXXXXXXX'
 *
 * and then, as the caller must (low-level calls clean nothing up):
 *     shutil.rmtree(path)
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    struct stat st = { 0 };
    int fd;

    char *path = tf_mkdtemp(NULL);
    if (path == NULL)
        return ex_fail("tf_mkdtemp");
    ex_print_pystr(path);
    putchar('\n');

    /* A new directory only its owner can list, enter or write. */
    CHECK(ex_name_ok(path, tf_gettempdir(), "tmp", ""));
    CHECK(lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
    CHECK(st.st_uid == geteuid());

    /* Put something in it, so the removal has a tree to remove. */
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd == -1) {
        ex_fail("open");
    } else {
        if (mkdirat(dfd, "sub", 0700) != 0)
            ex_fail("mkdirat");
        fd = openat(dfd, "sub/file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd == -1)
            ex_fail("openat");
        else
            close(fd);
        close(dfd);
    }

    /* shutil.rmtree(path): the library's tree removal, which never follows a
     * symbolic link out of the tree. */
    if (tf_rmtree(path, 0) != 0)
        ex_fail("tf_rmtree");
    CHECK(ex_gone(path));
    free(path);
    return ex_status;
}
