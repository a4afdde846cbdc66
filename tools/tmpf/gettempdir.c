/* tmpf gettempdir: the library's default directory. */
#include <errno.h>

#include "tmpf.h"

static const char help[] =
    "Usage: tmpf gettempdir\n"
    "Print the directory temporaries go to by default: the first usable of\n"
    "$TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp and the working directory\n"
    "(usable: a probe file could be created, written and removed there).\n"
    "\n"
    "  -h, --help   show this help\n";

static const struct option longopts[] = { TMPF_HELP_OPTION, { NULL, 0, NULL, 0 } };

int tmpf_cmd_gettempdir(int argc, char **argv)
{
    while (tmpf_getopt(argc, argv, "+h", longopts, help) != -1)
        ;
    if (optind < argc)
        tmpf_usage_error("unexpected argument '%s'", argv[optind]);
    const char *dir = tf_gettempdir();
    if (!dir) {
        tmpf_error(errno, "no usable temporary directory");
        return TMPF_FAILURE;
    }
    puts(dir);
    return TMPF_OK;
}
