/* tmpf dir: a new temporary directory, its absolute path printed. */
#include <errno.h>
#include <stdlib.h>

#include "tmpf.h"

static const char help[] =
    "Usage: tmpf dir [OPTION]...\n"
    "Create a new temporary directory and print its absolute path. The name is\n"
    "PREFIX, 8 random characters of [a-z0-9_] (getrandom(2)) and SUFFIX; the\n"
    "directory is created with mode 0700 less the umask, or exactly MODE.\n"
    "It stays until removed (tmpf sweep removes it once its whole tree is\n"
    "old and unused).\n"
    "\n"
    TMPF_CREATE_HELP
    TMPF_MODE_HELP
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 created and printed, 1 failure (nothing is left), 2 usage.\n";

int tmpf_cmd_dir(int argc, char **argv)
{
    tf_opts o = { 0 };
    tmpf_parse_create(argc, argv, &o, help);
    char *path = tf_mkdtemp(&o);
    if (!path) {
        tmpf_error(errno, "cannot create a directory in %s", tmpf_where(o.dir));
        return TMPF_FAILURE;
    }
    int status = tmpf_print_created(path, 0);
    free(path);
    return status;
}
