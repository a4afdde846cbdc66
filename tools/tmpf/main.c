/* tmpf: finds the command (by argument, or by the name the program was
 * invoked under) and runs it. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpf.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    int multicall;
    const char *summary;
};

#define TMPF_ENTRY(n, multi, summary) { #n, tmpf_cmd_##n, multi, summary },
static const struct command commands[] = { TMPF_COMMANDS(TMPF_ENTRY) };
#undef TMPF_ENTRY
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void help(void)
{
    fputs("Usage: tmpf COMMAND [OPTION]... [ARG]...\n"
          "       tmpf --help | --version\n"
          "Secure temporary files and directories from the shell (libtempfile).\n\n"
          "Commands:\n", stdout);
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %-11s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'tmpf COMMAND --help' describes each command.\n"
          "Exit status: 0 success, 1 failure, 2 usage error; mktemp exits as\n"
          "coreutils mktemp does, run with the status of its command.\n", stdout);
}

static const struct command *lookup(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int run_command(const struct command *c, const char *prefix, int argc, char **argv)
{
    static char buf[64];
    /* A multi-call command quotes and reads its arguments as its original
     * does, in the user's locale. tmpf's own commands speak English and skip
     * the locale search: half of the instructions of a whole `tmpf file`. */
    if (c->multicall)
        setlocale(LC_ALL, "");
    tmpf_command = c->name;
    if (!prefix) {
        snprintf(buf, sizeof buf, "tmpf: %s", c->name);
        prefix = buf;
    }
    tmpf_prefix = prefix;
    return c->run(argc, argv);
}

/* A standard descriptor the caller closed (>&-) would be the next one
 * opened: the library's temporary or directory would become our input, our
 * output or where messages go (tmpf write's spool read back into itself,
 * shred -v's messages written into the file it shreds). Each closed one is
 * held by a descriptor that reads and writes nothing (O_PATH: EBADF, as a
 * closed one), close-on-exec so that run's CMD gets it closed as we did. */
static void hold_closed_std_fds(void)
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
            open("/", O_PATH | O_CLOEXEC) == fd)   /* the lowest free one */
            tmpf_std_closed |= 1u << fd;
}

int main(int argc, char **argv)
{
    hold_closed_std_fds();
    atexit(tmpf_close_stdout);

    const char *self = argv[0] ? tmpf_last_component(argv[0]) : "tmpf";
    const struct command *c = lookup(self);
    if (c && c->multicall)   /* invoked as mktemp: speak as it, argv[0] and all */
        return run_command(c, argv[0], argc, argv);

    tmpf_prefix = tmpf_command = "tmpf";
    if (argc < 2)
        tmpf_usage_error("missing command");
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        help();
        return TMPF_OK;
    }
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        printf("tmpf (libtempfile) %d.%d.%d\n", TF_VERSION_MAJOR, TF_VERSION_MINOR,
               TF_VERSION_PATCH);
        return TMPF_OK;
    }
    if (arg[0] == '-')
        tmpf_usage_error("unrecognized option '%s'", arg);
    c = lookup(arg);
    if (!c)
        tmpf_usage_error("unknown command '%s'", arg);
    /* Under tmpf a multi-call command still speaks as its own program. */
    return run_command(c, c->multicall ? c->name : NULL, argc - 1, argv + 1);
}
