/*
 * tmpf: the command line of libtempfile. Shared declarations: the command
 * table, option parsing, messages and output formats. Each command lives in
 * its own file (file.c, dir.c, mktemp.c, run.c, write.c, sweep.c, du.c, gettempdir.c,
 * shred.c)
 * and uses the library through include/tempfile.h only.
 */
#ifndef TMPF_H
#define TMPF_H

#include <getopt.h>
#include <stdio.h>
#include <sys/types.h>

#include <tempfile.h>

/* Exit statuses of every command but mktemp (coreutils' statuses) and run
 * (CMD's). */
enum { TMPF_OK = 0, TMPF_FAILURE = 1, TMPF_USAGE = 2 };

/*
 * The commands: X(name, multicall, summary). A multi-call command also runs
 * when the program is invoked under its name (a symbolic link named mktemp)
 * and then speaks as that program. A new command is one line here and one
 * file defining tmpf_cmd_NAME(argc, argv), argv[0] being the command's name.
 */
#define TMPF_COMMANDS(X)                                                         \
    X(file, 0, "create a temporary file and print its absolute path")            \
    X(dir, 0, "create a temporary directory and print its absolute path")        \
    X(mktemp, 1, "coreutils mktemp, option for option (also as 'mktemp')")      \
    X(run, 0, "run a command with a private TMPDIR, removed when it ends")       \
    X(write, 0, "replace a file atomically with standard input (sponge done right)") \
    X(sweep, 0, "remove orphaned temporaries (unlocked, old enough)")            \
    X(du, 0, "report the disk use of the temporaries in a directory")            \
    X(gettempdir, 0, "print the directory temporaries go to by default")         \
    X(shred, 1, "coreutils shred that knows the filesystem (also as 'shred')")

#define TMPF_DECLARE(name, multi, summary) int tmpf_cmd_##name(int argc, char **argv);
TMPF_COMMANDS(TMPF_DECLARE)
#undef TMPF_DECLARE

/* What messages start with: "tmpf: COMMAND", or the name a multi-call
 * command was invoked under (as coreutils prints it). */
extern const char *tmpf_prefix;
/* The command's name for "Try 'tmpf NAME --help'". */
extern const char *tmpf_command;

/* "PREFIX: message[: strerror(errnum)]" on stderr, after flushing stdout.
 * errnum 0: no strerror. */
void tmpf_error(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error: the message (if fmt), the Try line, exit status 2. */
_Noreturn void tmpf_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --help and -h in every command's long option table. */
#define TMPF_HELP_OPTION { "help", no_argument, NULL, 'h' }

/*
 * getopt_long for a command: getopt's own messages start with tmpf_prefix;
 * 'h' prints help and exits 0; an unknown option or a missing argument is a
 * usage error (status 2). Returns the option character, -1 at the end.
 */
int tmpf_getopt(int argc, char **argv, const char *shortopts,
                const struct option *longopts, const char *help);

/* Options shared by the commands that create (file, dir, run). */
enum { TMPF_OPT_PREFIX = 'p', TMPF_OPT_SUFFIX = 's', TMPF_OPT_DIR = 'd', TMPF_OPT_MODE = 'm' };
/* Handles one of the options above into o; 0 if c is none of them. */
int tmpf_create_option(int c, const char *arg, tf_opts *o);
/* The whole command line of file and dir: those options, no argument. */
void tmpf_parse_create(int argc, char **argv, tf_opts *o, const char *help);
#define TMPF_CREATE_HELP                                                         \
    "  -p, --prefix=PREFIX   name prefix (default: tmp); no '/'\n"               \
    "  -s, --suffix=SUFFIX   name suffix (default: none); no '/'\n"              \
    "  -d, --dir=DIR         directory (default: tmpf gettempdir)\n"
#define TMPF_MODE_HELP                                                           \
    "  -m, --mode=MODE       exact octal permission bits, whatever the umask\n"
/* The directory a creation went to, for messages: dir, or the default.
 * errno is left as it was. */
const char *tmpf_where(const char *dir);

/* The command line of sweep and du: [-o AGE] [-p P] [-s S] [-j] [-n] [DIR]
 * (-n, --dry-run only when with_dry_run). */
struct tmpf_sweep_args {
    tf_sweep_opts opts;
    const char *dir;   /* NULL: the default directory */
    int json;
};
void tmpf_parse_sweep(int argc, char **argv, struct tmpf_sweep_args *a, int with_dry_run,
                      const char *help);
/* "cannot VERB DIR: cause" for a failed tf_sweep() or tf_disk_usage();
 * DIR a symbolic link is said to be one. */
void tmpf_sweep_error(const char *verb, const char *dir, int err);
#define TMPF_SWEEP_HELP                                                          \
    "  -p, --prefix=PREFIX   names to match start with PREFIX (default: tmp)\n"  \
    "  -s, --suffix=SUFFIX   and end with SUFFIX (default: none)\n"              \
    "  -l, --locks           also NAME.lock files (tf_lock_file's and git's\n"   \
    "                        naming): a stale one is an orphan\n"               \
    "  -j, --json            machine-readable output (one JSON object)\n"       \
    "  -h, --help            show this help\n"

/* Prints path and a newline and closes standard output; if that fails the
 * path (a file or an empty directory) is removed again: nothing is left that
 * the caller was not told about. Returns the exit status. */
int tmpf_print_created(const char *path, int quiet);

/* coreutils' close_stream(): 0, or EOF with errno (0 for an earlier error). */
int tmpf_close_stream(FILE *stream);
/* At exit: a write error on standard output is a failure (status 1). */
void tmpf_close_stdout(void);
/* Standard output was closed and checked by the command already. */
extern int tmpf_stdout_closed;
/* Bit N: descriptor N (0, 1, 2) was closed when tmpf started; it is held
 * by one that reads and writes nothing (EBADF) and closes on exec. */
extern unsigned tmpf_std_closed;

/* --older-than: "90", "90s", "90m", "36h", "7d", "2w", or sums ("1h30m").
 * Returns seconds; a usage error for anything else or 0. */
unsigned long tmpf_parse_age(const char *s);

/* Progress lines: a monotonic clock in seconds, and how long to wait before
 * a line (TMPF_PROGRESS_DELAY, seconds >= 0, else dflt). */
double tmpf_now(void);
double tmpf_progress_delay(double dflt);

/* Human forms: sizes as du -h (4.0K, 12M), ages as "3d4h", "5m12s", "42s". */
void tmpf_human_size(char *buf, size_t n, unsigned long long bytes);
void tmpf_human_age(char *buf, size_t n, unsigned long secs);

/* A JSON string (quotes included); invalid UTF-8 bytes become U+FFFD. */
void tmpf_json_string(FILE *out, const char *s);

/* coreutils' quote(): 'arg' in a C locale, curly quotes in a UTF-8 one,
 * with C escapes for what does not print. Returns a buffer valid until the
 * next call. */
const char *tmpf_quote(const char *arg);

/* gnulib's quotef(), the shell escape style: name as it is where a shell
 * takes it so, else quoted so that a shell would take it back, with $'\ooo'
 * for whatever does not print in the locale (a newline, an escape...).
 * Returns a malloc'd string (exits on ENOMEM). */
char *tmpf_quotef(const char *name);

/* The part of a path after its last slash, trailing slashes ignored
 * (gnulib's last_component()). */
const char *tmpf_last_component(const char *name);

#endif /* TMPF_H */
