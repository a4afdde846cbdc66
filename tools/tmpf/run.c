/*
 * tmpf run: CMD with a private temporary directory as TMPDIR, TMP and TEMP.
 * The directory is a tf_temporary_directory(), whose handle holds a shared
 * flock on it while CMD runs (so a sweep leaves it alone), and is removed
 * when CMD ends, whatever ends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tmpf.h"

static const char help[] =
    "Usage: tmpf run [OPTION]... [--] CMD [ARG]...\n"
    "Run CMD with a new private temporary directory exported as TMPDIR, TMP\n"
    "and TEMP, and remove that directory and everything in it when CMD ends:\n"
    "normal exit, CMD killed by a signal, or tmpf sent SIGHUP, SIGINT, SIGQUIT,\n"
    "SIGTERM, SIGALRM... (forwarded to CMD, then cleanup once CMD ends; see\n"
    "Signals). SIGKILL leaves the directory to tmpf sweep. While CMD runs\n"
    "the directory is locked: tmpf sweep never removes it. Options end at CMD.\n"
    "\n"
    TMPF_CREATE_HELP
    "  -k, --keep            do not remove the directory; its path goes to stderr\n"
    "                        (removed after all if it cannot be written there)\n"
    "  -h, --help            show this help\n"
    "\n"
    "Signals: HUP, INT, QUIT, TERM, USR1, USR2, ALRM, PIPE, VTALRM and PROF\n"
    "sent to tmpf are passed on to CMD's process group (to CMD alone when\n"
    "tmpf runs in the foreground of its terminal, whatever its standard input\n"
    "is: CMD then shares tmpf's process group, so the terminal's signals and\n"
    "job control reach both, and CMD may use the terminal), each followed by\n"
    "SIGCONT, so that a stopped CMD receives it. A signal ignored when tmpf\n"
    "starts (nohup, a background job) stays ignored, for CMD too.\n"
    "\n"
    "Exit status: CMD's; 128+N if CMD died of signal N; 126 CMD found but not\n"
    "runnable, 127 CMD not found; 1 the directory could not be made or CMD\n"
    "could not be forked, or the directory could not be removed or (-k) named\n"
    "after CMD succeeded; 2 usage.\n";

static const struct option longopts[] = {
    { "prefix", required_argument, NULL, TMPF_OPT_PREFIX },
    { "suffix", required_argument, NULL, TMPF_OPT_SUFFIX },
    { "dir", required_argument, NULL, TMPF_OPT_DIR },
    { "keep", no_argument, NULL, 'k' },
    TMPF_HELP_OPTION,
    { NULL, 0, NULL, 0 },
};

/* Every signal whose default ends tmpf and that reaches it from kill(2):
 * tmpf writes to no pipe and sets no timer while CMD runs, so a SIGPIPE or
 * SIGALRM is someone's way of ending the job, not tmpf's own fault; one not
 * caught here killed tmpf, its directory left and CMD still running. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                 SIGALRM, SIGPIPE, SIGVTALRM, SIGPROF };

struct job {
    pid_t pid;
    int own_group;     /* CMD leads a process group of its own */
    sigset_t waited;   /* SIGCHLD and the forwarded signals not ignored */
    sigset_t old_mask;
};

/* Forwarded signals are blocked and taken with sigwaitinfo(), so that none
 * is lost between fork and wait and none interrupts the cleanup. */
static void block_signals(struct job *j)
{
    sigemptyset(&j->waited);
    sigaddset(&j->waited, SIGCHLD);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
        struct sigaction old;
        if (sigaction(forwarded[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaddset(&j->waited, forwarded[i]);
    }
    sigprocmask(SIG_BLOCK, &j->waited, &j->old_mask);
}

/* tmpf's process group is the foreground one of its controlling terminal.
 * Standard input alone does not tell: under 'echo x | tmpf run less' CMD
 * in a group of its own was a background job of the terminal, stopped at
 * its first read of /dev/tty (SIGTTIN), tmpf waiting for it for ever. */
static int in_foreground(void)
{
    int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return 0;   /* no controlling terminal */
    int fg = tcgetpgrp(fd) == getpgrp();
    close(fd);
    return fg;
}

static _Noreturn void child(char **cmd, const char *dir, const struct job *j)
{
    if (j->own_group)
        setpgid(0, 0);
    sigprocmask(SIG_SETMASK, &j->old_mask, NULL);
    if (setenv("TMPDIR", dir, 1) || setenv("TMP", dir, 1) || setenv("TEMP", dir, 1)) {
        tmpf_error(errno, "cannot set TMPDIR");
        _exit(126);
    }
    execvp(cmd[0], cmd);
    int err = errno;
    tmpf_error(err, "cannot run '%s'", cmd[0]);
    _exit(err == ENOENT ? 127 : 126);
}

/* sig to CMD's process group, or to CMD alone (before its setpgid, or when
 * it shares ours). */
static void send_cmd(const struct job *j, int sig)
{
    if (!j->own_group || kill(-j->pid, sig) != 0)
        kill(j->pid, sig);
}

static void forward(const struct job *j, const siginfo_t *si)
{
    /* The terminal's signals reached CMD in our group already. */
    if (!j->own_group && si->si_code > 0)
        return;
    send_cmd(j, si->si_signo);
    /* Then SIGCONT, as timeout(1) does: a stopped CMD would hold the signal
     * pending for ever, and tmpf would wait for ever. */
    send_cmd(j, SIGCONT);
}

/* Waits for CMD, forwarding signals; returns its wait status. */
static int wait_cmd(const struct job *j)
{
    for (;;) {
        siginfo_t si;
        int status;
        if (sigwaitinfo(&j->waited, &si) < 0)
            continue;   /* EINTR: a stop and continue of tmpf */
        if (si.si_signo != SIGCHLD)
            forward(j, &si);
        else if (waitpid(j->pid, &status, WNOHANG) == j->pid)
            return status;
    }
}

static int exit_status(int status)
{
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static int cleanup(tf_dir *d, int keep, int status)
{
    if (keep) {
        tmpf_error(0, "kept %s", tf_dir_name(d));
        /* Kept where no one was told (2>&-, 2>/dev/full): removed after
         * all, as a created path that cannot be printed is. The error is
         * then handled: CMD's failure stays the status (exit would make
         * it 1). stderr is unbuffered: the error is known now. */
        if (!ferror(stderr))
            tf_dir_keep(d);
        else {
            clearerr(stderr);
            if (status == 0)
                status = TMPF_FAILURE;
        }
    }
    char *name = strdup(tf_dir_name(d));
    if (tf_dir_release(d) != 0) {
        /* ESTALE: CMD removed or renamed the directory and another one (or
         * a mount) is at its path now; the library leaves that alone. */
        if (errno == ESTALE)
            tmpf_error(0, "cannot remove %s: another directory took its place (left alone)",
                       name ? name : "the directory");
        else if (errno == EXDEV)   /* the library never crosses a mount point */
            tmpf_error(0, "cannot remove %s: another filesystem is mounted in it (never "
                          "crossed)", name ? name : "the directory");
        else
            tmpf_error(errno, "cannot remove %s", name ? name : "the directory");
        if (status == 0)
            status = TMPF_FAILURE;
    }
    free(name);
    return status;
}

int tmpf_cmd_run(int argc, char **argv)
{
    tf_opts o = { 0 };
    int keep = 0, c;
    while ((c = tmpf_getopt(argc, argv, "+p:s:d:kh", longopts, help)) != -1)
        if (!tmpf_create_option(c, optarg, &o))
            keep = 1;
    if (optind == argc)
        tmpf_usage_error("missing command");

    tf_dir *d = tf_temporary_directory(&o);
    if (!d) {
        tmpf_error(errno, "cannot create a directory in %s", tmpf_where(o.dir));
        return TMPF_FAILURE;
    }
    struct job j = { 0 };
    j.own_group = !in_foreground();
    block_signals(&j);
    fflush(NULL);
    j.pid = fork();
    if (j.pid == 0)
        child(argv + optind, tf_dir_name(d), &j);
    int status;
    if (j.pid < 0) {
        tmpf_error(errno, "cannot fork");
        status = TMPF_FAILURE;
    } else {
        if (j.own_group)
            setpgid(j.pid, j.pid);   /* as the child does: whichever runs first */
        status = exit_status(wait_cmd(&j));
    }
    /* The signals stay blocked: one arriving now must not cut tmpf short of
     * CMD's status. */
    return cleanup(d, keep, status);
}
