/* Seed 004, low-level 4: gettempprefix(), the default name prefix */
/*
 * Python:
 *     >>> tempfile.gettempprefix()
 *     'tmp'
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    const char *prefix = tf_gettempprefix();
    char *path = NULL;
    int fd;

    ex_print_pystr(prefix);
    putchar('\n');
    CHECK(strcmp(prefix, "tmp") == 0);

    /* It is the prefix a name gets when none is asked for. */
    fd = tf_mkstemp(NULL, &path);
    if (fd == -1)
        return ex_fail("tf_mkstemp");
    CHECK(ex_name_ok(path, NULL, prefix, ""));
    close(fd);
    if (unlink(path) != 0)
        ex_fail("unlink");
    CHECK(ex_gone(path));
    free(path);
    return ex_status;
}
