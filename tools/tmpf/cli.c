/* tmpf: what every command shares: messages, option parsing, checked output. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpf.h"

const char *tmpf_prefix = "tmpf";
const char *tmpf_command = "tmpf";
int tmpf_stdout_closed;
unsigned tmpf_std_closed;

static void vmessage(int errnum, const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", tmpf_prefix);
    vfprintf(stderr, fmt, ap);
    if (errnum)
        fprintf(stderr, ": %s", strerror(errnum));
    fputc('\n', stderr);
}

void tmpf_error(int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(errnum, fmt, ap);
    va_end(ap);
}

_Noreturn void tmpf_usage_error(const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vmessage(0, fmt, ap);
        va_end(ap);
    }
    if (strcmp(tmpf_command, "tmpf") == 0)
        fputs("Try 'tmpf --help' for more information.\n", stderr);
    else
        fprintf(stderr, "Try 'tmpf %s --help' for more information.\n", tmpf_command);
    exit(TMPF_USAGE);
}

int tmpf_getopt(int argc, char **argv, const char *shortopts,
                const struct option *longopts, const char *help)
{
    /* getopt names the program by argv[0]: make its messages ours. */
    argv[0] = (char *)tmpf_prefix;
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == 'h') {
        fputs(help, stdout);
        exit(TMPF_OK);
    }
    if (c == '?' || c == ':')
        tmpf_usage_error(NULL);
    return c;
}

static void check_name_part(const char *what, const char *s)
{
    /* The library refuses it too (EINVAL); say why, as a usage error. */
    if (strchr(s, '/'))
        tmpf_usage_error("%s '%s' contains '/'", what, s);
}

int tmpf_create_option(int c, const char *arg, tf_opts *o)
{
    switch (c) {
    case TMPF_OPT_PREFIX:
        check_name_part("prefix", arg);
        o->prefix = arg;
        return 1;
    case TMPF_OPT_SUFFIX:
        check_name_part("suffix", arg);
        o->suffix = arg;
        return 1;
    case TMPF_OPT_DIR:
        o->dir = arg;
        return 1;
    case TMPF_OPT_MODE:
        errno = 0;
        unsigned long m = strtoul(arg, NULL, 8);
        /* Octal digits only: strtoul also takes blanks and a sign. */
        if (!*arg || arg[strspn(arg, "01234567")] || errno || m == 0 || m > 07777)
            tmpf_usage_error("invalid mode '%s' (octal, 1 to 7777)", arg);
        o->mode = (mode_t)m;
        return 1;
    }
    return 0;
}

static const struct option create_longopts[] = {
    { "prefix", required_argument, NULL, TMPF_OPT_PREFIX },
    { "suffix", required_argument, NULL, TMPF_OPT_SUFFIX },
    { "dir", required_argument, NULL, TMPF_OPT_DIR },
    { "mode", required_argument, NULL, TMPF_OPT_MODE },
    TMPF_HELP_OPTION,
    { NULL, 0, NULL, 0 },
};

void tmpf_parse_create(int argc, char **argv, tf_opts *o, const char *help)
{
    int c;
    while ((c = tmpf_getopt(argc, argv, "p:s:d:m:h", create_longopts, help)) != -1)
        tmpf_create_option(c, optarg, o);
    if (optind < argc)
        tmpf_usage_error("unexpected argument '%s'", argv[optind]);
}

const char *tmpf_where(const char *dir)
{
    if (dir)
        return dir;
    /* Called for the message of a failure, in its arguments beside errno:
     * the probe of the default directory must not change it. */
    int err = errno;
    dir = tf_gettempdir();
    errno = err;
    return dir ? dir : "the default directory";
}

void tmpf_parse_sweep(int argc, char **argv, struct tmpf_sweep_args *a, int with_dry_run,
                      const char *help)
{
    static const struct option longopts[] = {
        { "older-than", required_argument, NULL, 'o' },
        { "prefix", required_argument, NULL, 'p' },
        { "suffix", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "locks", no_argument, NULL, 'l' },
        TMPF_HELP_OPTION,
        { "dry-run", no_argument, NULL, 'n' },   /* last: cut off for du */
        { NULL, 0, NULL, 0 },
    };
    enum { N = sizeof longopts / sizeof longopts[0] };
    struct option opts[N];
    memcpy(opts, longopts, sizeof opts);
    if (!with_dry_run)
        memset(&opts[N - 2], 0, sizeof opts[N - 2]);
    int c;
    while ((c = tmpf_getopt(argc, argv, with_dry_run ? "o:p:s:jlnh" : "o:p:s:jlh", opts,
                            help)) != -1) {
        switch (c) {
        case 'o': a->opts.min_age = tmpf_parse_age(optarg); break;
        case 'p': check_name_part("prefix", optarg); a->opts.prefix = optarg; break;
        case 's': check_name_part("suffix", optarg); a->opts.suffix = optarg; break;
        case 'j': a->json = 1; break;
        case 'l': a->opts.flags |= TF_SWEEP_LOCK_FILES; break;
        case 'n': a->opts.flags |= TF_SWEEP_DRY_RUN; break;
        }
    }
    if (optind < argc)
        a->dir = argv[optind++];
    if (optind < argc)
        tmpf_usage_error("unexpected argument '%s'", argv[optind]);
}

void tmpf_sweep_error(const char *verb, const char *dir, int err)
{
    const char *d = tmpf_where(dir);
    /* The library never follows DIR as a link to a directory, and says
     * ENOTDIR; lstat sees the link itself only without trailing slashes. */
    size_t len = strlen(d);
    while (len > 1 && d[len - 1] == '/')
        len--;
    char *link = strndup(d, len);
    struct stat st, target;
    if (err == ENOTDIR && link && lstat(link, &st) == 0 && S_ISLNK(st.st_mode) &&
        stat(d, &target) == 0 && S_ISDIR(target.st_mode))
        tmpf_error(0, "cannot %s %s: a symbolic link, not followed: name the directory "
                      "it points to", verb, d);
    else
        tmpf_error(err, "cannot %s %s", verb, d);
    free(link);
}

int tmpf_close_stream(FILE *stream)
{
    int pending = __fpending(stream) != 0;
    int prev_fail = ferror(stream) != 0;
    int fclose_fail = fclose(stream) != 0;
    /* A stream closed before we ran (EBADF) with nothing to write is fine. */
    if (prev_fail || (fclose_fail && (pending || errno != EBADF))) {
        if (!fclose_fail)
            errno = 0;
        return EOF;
    }
    return 0;
}

int tmpf_print_created(const char *path, int quiet)
{
    /* A reader gone (| true) must not kill us before the removal: SIGPIPE
     * is ignored for the write, then, if it was not ignored before, it is
     * what ends us once the path is removed, as it would have. */
    struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGPIPE, &ignore, &old);
    puts(path);
    tmpf_stdout_closed = 1;
    if (tmpf_close_stream(stdout) == 0)
        return TMPF_OK;
    int err = errno;
    remove(path);
    if (err == EPIPE && old.sa_handler != SIG_IGN) {
        sigaction(SIGPIPE, &old, NULL);
        raise(SIGPIPE);
    }
    if (!quiet)
        tmpf_error(err, "write error");
    return TMPF_FAILURE;
}

void tmpf_close_stdout(void)
{
    if (!tmpf_stdout_closed && tmpf_close_stream(stdout) != 0) {
        tmpf_error(errno, "write error");
        _exit(TMPF_FAILURE);
    }
    if (tmpf_close_stream(stderr) != 0)
        _exit(TMPF_FAILURE);
}

unsigned long tmpf_parse_age(const char *s)
{
    unsigned long total = 0;
    const char *p = s;
    if (!*p)
        tmpf_usage_error("invalid age '%s'", s);
    while (*p) {
        char *end;
        if (*p < '0' || *p > '9')
            tmpf_usage_error("invalid age '%s' (e.g. 90s, 90m, 36h, 7d, 2w, 1h30m)", s);
        errno = 0;
        unsigned long long n = strtoull(p, &end, 10);
        unsigned long unit = 1;
        switch (*end) {
        case 'w': unit *= 7; /* fall through */
        case 'd': unit *= 24; /* fall through */
        case 'h': unit *= 60; /* fall through */
        case 'm': unit *= 60; /* fall through */
        case 's': end++; break;
        case '\0': break;
        default:
            tmpf_usage_error("invalid age '%s' (e.g. 90s, 90m, 36h, 7d, 2w, 1h30m)", s);
        }
        if (errno || n > (~0UL - total) / unit)
            tmpf_usage_error("age '%s' is too large", s);
        total += (unsigned long)n * unit;
        p = end;
    }
    if (total == 0)
        tmpf_usage_error("age '%s' is zero: give at least one second", s);
    return total;
}

const char *tmpf_last_component(const char *name)
{
    const char *base = name;
    while (*base == '/')
        base++;
    int after_slash = 0;
    for (const char *p = base; *p; p++) {
        if (*p == '/')
            after_slash = 1;
        else if (after_slash) {
            base = p;
            after_slash = 0;
        }
    }
    return base;
}
