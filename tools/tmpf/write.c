/*
 * tmpf write: standard input to DEST through the library's atomic replace
 * (sponge done right): the data goes to a new temporary file beside DEST,
 * which tf_file_commit() syncs and renames over it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpf.h"

static const char help[] =
    "Usage: tmpf write [OPTION]... [DEST]\n"
    "Replace DEST atomically with standard input (created if missing): the\n"
    "input goes to a new temporary file in DEST's directory, which is renamed\n"
    "over DEST once the input has ended, so that readers and crashes see the old\n"
    "content or the new one, never a part; DEST's mode, owner, extended\n"
    "attributes and ACLs are carried over (or the write fails, DEST untouched).\n"
    "An input error or a signal (HUP, INT, QUIT, ABRT, PIPE, TERM, ALRM, USR1,\n"
    "USR2, VTALRM, PROF, XCPU, XFSZ) leaves DEST as it was, with no temporary\n"
    "beside it. Without DEST, the input is read to its end, then written to\n"
    "standard output (sponge).\n"
    "  sort file | tmpf write file\n"
    "\n"
    "  -a, --append           DEST's old content, then the input (atomically too)\n"
    "  -n, --no-clobber       fail if DEST exists\n"
    "  -l, --level=LEVEL      visible: the rename only; consistent: the data is\n"
    "                           fsync'ed first; durable (default): the directory\n"
    "                           too, the new content survives a crash once done\n"
    "  -L, --symlinks=POLICY  DEST a symbolic link: follow (default: replace its\n"
    "                           target), replace (the link itself), refuse\n"
    "  -m, --mode=MODE        exact octal mode of the result (default: DEST's;\n"
    "                           a new DEST: 0666 less the umask)\n"
    "      --best-effort      metadata that cannot be carried over is named on\n"
    "                           stderr instead of failing the write\n"
    "      --strict           fail rather than reach a lower level than asked\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 written, 1 failure (DEST unchanged), 2 usage.\n";

enum { OPT_BEST_EFFORT = 256, OPT_STRICT };

static const struct option longopts[] = {
    { "append", no_argument, NULL, 'a' },
    { "no-clobber", no_argument, NULL, 'n' },
    { "level", required_argument, NULL, 'l' },
    { "symlinks", required_argument, NULL, 'L' },
    { "mode", required_argument, NULL, 'm' },
    { "best-effort", no_argument, NULL, OPT_BEST_EFFORT },
    { "strict", no_argument, NULL, OPT_STRICT },
    TMPF_HELP_OPTION,
    { NULL, 0, NULL, 0 },
};

static int keyword(const char *what, const char *arg, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (strcmp(arg, words[i]) == 0)
            return i;
    tmpf_usage_error("invalid %s '%s'", what, arg);
}

/* Indexed by TF_LEVEL_* - 1. */
static const char *const levels[] = { "visible", "consistent", "durable", NULL };
static const char *const policies[] = { "follow", "replace", "refuse", NULL };

static void parse(int argc, char **argv, tf_persist_opts *po, int *append)
{
    int c;
    tf_opts mode = { 0 };
    while ((c = tmpf_getopt(argc, argv, "anl:L:m:h", longopts, help)) != -1) {
        switch (c) {
        case 'a': *append = 1; break;
        case 'n': po->flags |= TF_PERSIST_NOCLOBBER; break;
        case 'l': po->level = TF_LEVEL_VISIBLE + keyword("level", optarg, levels); break;
        case 'm': tmpf_create_option(TMPF_OPT_MODE, optarg, &mode); po->mode = mode.mode; break;
        case 'L':
            po->symlinks = (int[]){ TF_SYMLINK_FOLLOW, TF_SYMLINK_REPLACE,
                                    TF_SYMLINK_REFUSE }[keyword("symlinks policy", optarg, policies)];
            break;
        case OPT_BEST_EFFORT: po->flags |= TF_PERSIST_BEST_EFFORT; break;
        case OPT_STRICT: po->flags |= TF_PERSIST_STRICT; break;
        }
    }
    if (argc - optind > 1)
        tmpf_usage_error("unexpected argument '%s'", argv[optind + 1]);
}

/* Copies fd to its end into f. Returns 0, or -1 with errno and *reading set
 * when the error was the input's. */
static int copy_in(int fd, tf_file *f, int *reading)
{
    static char buf[1 << 17];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        *reading = n < 0;
        if (n <= 0)
            return (int)n;
        if (tf_file_write(f, buf, (size_t)n) != n)
            return -1;
    }
}

/* The old content of dest, for --append: none if it does not exist. */
static int copy_old(const char *dest, tf_file *f, int *reading)
{
    int fd = open(dest, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? 0 : (*reading = 1, -1);
    int rc = copy_in(fd, f, reading);
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

/* The metadata kinds of a report, each after a space. */
static const char *kinds(unsigned bits, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", bits & TF_META_OWNER ? " owner" : "",
             bits & TF_META_XATTR ? " extended attributes" : "",
             bits & TF_META_ACL ? " ACL" : "");
    return buf;
}

static void warn_report(const char *dest, const tf_persist_opts *po, int level,
                        const tf_persist_report *r)
{
    char buf[64];
    if (level < (po->level ? po->level : TF_LEVEL_DURABLE))
        tmpf_error(0, "%s: reached the %s level only (the filesystem refused a "
                      "directory fsync)", dest, levels[level - TF_LEVEL_VISIBLE]);
    if (r->not_copied)
        tmpf_error(r->not_copied_errno, "%s: not carried over:%s", dest,
                   kinds(r->not_copied, buf, sizeof buf));
}

/* A commit that metadata stopped: which, since EPERM alone cannot say
 * whether DEST's owner or an attribute was refused. */
static void refused_report(const char *dest, const tf_persist_report *r)
{
    char buf[64];
    tmpf_error(r->not_copied_errno, "cannot replace %s: cannot carry over its%s", dest,
               kinds(r->not_copied, buf, sizeof buf));
}

/* EACCES where DEST's directory refuses the user: the new content is
 * written there first, so a DEST the user may write is replaced only where
 * a file can be created beside it. Said so, or the bare 'Permission denied'
 * seems to be about DEST. Returns whether it was said. */
static int dir_refused(const char *dest, int err)
{
    if (err != EACCES)
        return 0;
    const char *base = tmpf_last_component(dest);
    char *dir = base == dest ? strdup(".") : strndup(dest, (size_t)(base - dest));
    int refused = dir && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0 &&
                  errno == EACCES;
    if (refused)
        tmpf_error(err, "cannot replace %s: cannot create a file in its directory %s", dest,
                   dir);
    free(dir);
    return refused;
}

/* The library's EINVAL for a destination is "only regular files are
 * replaced" (a FIFO, socket or device): said so, not "Invalid argument". */
static void replace_failed(const char *dest, int err)
{
    struct stat st;
    if (dir_refused(dest, err))
        return;
    if (err == EINVAL && stat(dest, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        tmpf_error(0, "cannot replace %s: not a regular file", dest);
    else
        tmpf_error(err, "cannot replace %s", dest);
}

static int write_dest(const char *dest, const tf_persist_opts *po, int append)
{
    tf_file *f = tf_replace_begin(dest, po);
    if (!f) {
        replace_failed(dest, errno);
        return TMPF_FAILURE;
    }
    int reading = 0;
    const char *source = dest;
    int rc = append ? copy_old(dest, f, &reading) : 0;
    if (rc == 0) {
        source = "standard input";
        rc = copy_in(STDIN_FILENO, f, &reading);
    }
    if (rc != 0) {
        int err = errno;
        tf_file_release(f);   /* before the commit: an abort, DEST untouched */
        if (reading)
            tmpf_error(err, "%s: read error", source);
        else
            tmpf_error(err, "cannot write %s", dest);
        return TMPF_FAILURE;
    }
    tf_persist_report r = { 0 };
    int level = tf_file_commit(f, &r);
    int err = errno;
    tf_file_release(f);
    if (level < 0) {
        if (r.not_copied && !(po->flags & TF_PERSIST_BEST_EFFORT))
            refused_report(dest, &r);
        else
            replace_failed(dest, err);
        return TMPF_FAILURE;
    }
    warn_report(dest, po, level, &r);
    return TMPF_OK;
}

/* No DEST: sponge. The input is held in a spooled temporary (memory, then
 * disk) until it ends. */
static int write_stdout(void)
{
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .max_size = 64u << 20 });
    int reading = 0;
    if (!f || copy_in(STDIN_FILENO, f, &reading) != 0 || tf_file_seek(f, 0, SEEK_SET) != 0) {
        tmpf_error(errno, reading ? "standard input: read error" : "cannot hold the input");
        tf_file_release(f);
        return TMPF_FAILURE;
    }
    static char buf[1 << 17];
    ssize_t n;
    int out_err = 0;
    while ((n = tf_file_read(f, buf, sizeof buf)) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
            out_err = errno;   /* at exit only "write error" would be left */
            break;
        }
    int err = errno;
    tf_file_release(f);
    if (out_err) {
        tmpf_stdout_closed = 1;
        tmpf_error(out_err, "write error");
        return TMPF_FAILURE;
    }
    if (n < 0) {
        tmpf_error(err, "cannot read the input back");
        return TMPF_FAILURE;
    }
    return TMPF_OK;   /* a write error in what stays buffered is reported at exit */
}

/* The signals that end a process by default and that the library's
 * handlers leave alone: one of them killed tmpf with the temporary left
 * beside DEST. */
static const int other_fatal[] = { SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGPROF };

static void on_other_fatal(int sig)
{
    tf_cleanup_now();   /* async-signal-safe */
    raise(sig);         /* SA_RESETHAND: the default action ends us */
}

/* As tf_cleanup_install_signals(), for those: an ignored one stays so. */
static void install_other_fatal(void)
{
    struct sigaction sa = { .sa_handler = on_other_fatal, .sa_flags = SA_RESETHAND };
    sigfillset(&sa.sa_mask);   /* no other handler cleans meanwhile */
    for (size_t i = 0; i < sizeof other_fatal / sizeof other_fatal[0]; i++) {
        struct sigaction old;
        if (sigaction(other_fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(other_fatal[i], &sa, NULL);
    }
}

int tmpf_cmd_write(int argc, char **argv)
{
    tf_persist_opts po = { 0 };
    int append = 0;
    parse(argc, argv, &po, &append);
    if (optind == argc) {
        if (append || po.flags || po.level || po.mode || po.symlinks)
            tmpf_usage_error("options without DEST");
        return write_stdout();
    }
    /* A fatal signal while the input is read removes the temporary. */
    tf_cleanup_install_signals();
    install_other_fatal();
    return write_dest(argv[optind], &po, append);
}
