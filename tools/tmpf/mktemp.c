/*
 * tmpf mktemp, and tmpf invoked as mktemp: coreutils mktemp (9.1), option for
 * option, message for message, exit status for exit status. The X's are
 * replaced with the library's random characters ([a-z0-9_], getrandom(2));
 * that alphabet is the one difference a script can see.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpf.h"

enum { OPT_SUFFIX = 256, OPT_HELP, OPT_VERSION };

/* The order matters: getopt lists ambiguous abbreviations in it, as coreutils. */
static const struct option longopts[] = {
    { "directory", no_argument, NULL, 'd' },
    { "quiet", no_argument, NULL, 'q' },
    { "dry-run", no_argument, NULL, 'u' },
    { "suffix", required_argument, NULL, OPT_SUFFIX },
    { "tmpdir", optional_argument, NULL, 'p' },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static const char help[] =
    "Usage: %s [OPTION]... [TEMPLATE]\n"
    "Make a new temporary file (or directory with -d) from TEMPLATE and print\n"
    "its name. The run of at least 3 X's that ends TEMPLATE's last component\n"
    "(before any suffix) becomes random characters. Without TEMPLATE:\n"
    "tmp.XXXXXXXXXX in the directory of --tmpdir. Files are made u+rw and\n"
    "directories u+rwx, less the umask. Behaves as coreutils mktemp.\n"
    "\n"
    "  -d, --directory       make a directory instead of a file\n"
    "  -u, --dry-run         make nothing, only print a name (unsafe)\n"
    "  -q, --quiet           say nothing when the creation fails\n"
    "      --suffix=SUFF     append SUFF (no '/') to TEMPLATE; implied by what\n"
    "                          follows the last X of TEMPLATE\n"
    "  -p DIR, --tmpdir[=DIR]  TEMPLATE is relative to DIR (default: $TMPDIR if\n"
    "                          set, else /tmp) and may not be absolute\n"
    "  -t                    TEMPLATE is one name in $TMPDIR if set, else in\n"
    "                          the -p DIR, else in /tmp (deprecated)\n"
    "      --help            show this help\n"
    "      --version         show the version\n";

struct mktemp_args {
    bool dir, dry_run, quiet, use_dest_dir, t_option;
    const char *dest_dir_arg;
    const char *suffix;
    const char *template;
};

static _Noreturn void try_help(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", tmpf_prefix);
    exit(EXIT_FAILURE);
}

static _Noreturn void die(const char *fmt, const char *arg)
{
    tmpf_error(0, fmt, tmpf_quote(arg));
    exit(EXIT_FAILURE);
}

static void parse(int argc, char **argv, struct mktemp_args *a)
{
    int c;
    while ((c = getopt_long(argc, argv, "dp:qtuV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': a->dir = true; break;
        case 'p': a->dest_dir_arg = optarg; a->use_dest_dir = true; break;
        case 'q': a->quiet = true; break;
        case 't': a->use_dest_dir = a->t_option = true; break;
        case 'u': a->dry_run = true; break;
        case OPT_SUFFIX: a->suffix = optarg; break;
        case OPT_HELP:
            printf(help, tmpf_prefix);
            exit(EXIT_SUCCESS);
        case 'V':
        case OPT_VERSION:
            printf("mktemp (tmpf, libtempfile) %d.%d.%d\n", TF_VERSION_MAJOR,
                   TF_VERSION_MINOR, TF_VERSION_PATCH);
            exit(EXIT_SUCCESS);
        default:
            try_help();
        }
    }
    if (argc - optind >= 2) {
        tmpf_error(0, "too many templates");
        try_help();
    }
    if (argc - optind == 0) {
        a->use_dest_dir = true;
        a->template = "tmp.XXXXXXXXXX";
    } else {
        a->template = argv[optind];
    }
}

static char *xstrcat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (!s) {
        tmpf_error(errno, "memory exhausted");
        exit(EXIT_FAILURE);
    }
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* dir + template as gnulib's file_name_concat: trailing slashes of dir are
 * dropped (a root stays as it is), one '/' between. */
static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir);
    while (len > 0 && dir[len - 1] == '/')
        len--;
    if (len == 0)   /* all slashes: a root, kept whole */
        return xstrcat3(dir, "", name);
    char *d = xstrcat3(dir, "", "");
    d[len] = '\0';
    char *s = xstrcat3(d, "/", name);
    free(d);
    return s;
}

/* The checks coreutils makes, in its order; returns the full template and
 * sets *x_count and *suffix_len. */
static char *full_template(const struct mktemp_args *a, size_t *x_count, size_t *suffix_len)
{
    char *t;
    const char *suffix;
    if (a->suffix) {
        size_t len = strlen(a->template);
        if (!len || a->template[len - 1] != 'X')
            die("with --suffix, template %s must end in X", a->template);
        t = xstrcat3(a->template, a->suffix, "");
        suffix = t + len;
    } else {
        t = xstrcat3(a->template, "", "");
        char *x = strrchr(t, 'X');
        suffix = x ? x + 1 : t + strlen(t);
    }
    *suffix_len = strlen(suffix);
    if (*suffix_len && tmpf_last_component(suffix) != suffix)
        die("invalid suffix %s, contains directory separator", suffix);
    size_t n = 0;
    for (const char *p = suffix; p > t && p[-1] == 'X'; p--)
        n++;
    if (n < 3)
        die("too few X's in template %s", t);
    *x_count = n;
    if (!a->use_dest_dir)
        return t;

    const char *env = getenv("TMPDIR"), *dir;
    const char *arg = a->dest_dir_arg && *a->dest_dir_arg ? a->dest_dir_arg : NULL;
    if (!env || !*env)
        env = NULL;
    if (a->t_option) {
        dir = env ? env : arg ? arg : "/tmp";
        if (tmpf_last_component(t) != t)
            die("invalid template, %s, contains directory separator", t);
    } else {
        dir = arg ? arg : env ? env : "/tmp";
        if (t[0] == '/')
            die("invalid template, %s; with --tmpdir, it may not be absolute", t);
    }
    char *full = join(dir, t);
    free(t);
    return full;
}

/* One try at the name in path; 0 or -1 with errno (EEXIST: try another). */
static int try_name(const char *path, const struct mktemp_args *a)
{
    struct stat st;
    if (a->dry_run) {
        if (lstat(path, &st) == 0) {
            errno = EEXIST;
            return -1;
        }
        return errno == ENOENT ? 0 : -1;
    }
    if (a->dir)
        return mkdir(path, 0700);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    return fd < 0 ? -1 : close(fd);
}

/* Fills the X's (just before the suffix) with the library's random
 * characters until a name is free, as gen_tempname does. */
static int make(char *path, size_t x_count, size_t suffix_len, const struct mktemp_args *a)
{
    char *x = path + strlen(path) - suffix_len - x_count;
    for (unsigned long i = 0; i < TF_TMP_MAX; i++) {
        if (tf_random_chars(x, x_count) != 0)
            return -1;
        if (try_name(path, a) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

int tmpf_cmd_mktemp(int argc, char **argv)
{
    struct mktemp_args a = { 0 };
    size_t x_count, suffix_len;
    parse(argc, argv, &a);
    char *template = full_template(&a, &x_count, &suffix_len);
    char *path = xstrcat3(template, "", "");
    if (make(path, x_count, suffix_len, &a) != 0) {
        if (!a.quiet)
            tmpf_error(errno, a.dir ? "failed to create directory via template %s"
                                    : "failed to create file via template %s",
                       tmpf_quote(template));
        free(template);
        free(path);
        return EXIT_FAILURE;
    }
    int status = EXIT_SUCCESS;
    if (a.dry_run)
        puts(path);   /* checked at exit, as coreutils does */
    else
        status = tmpf_print_created(path, a.quiet);
    free(template);
    free(path);
    return status;
}
