/*
 * tmpf's command lines: argv vectors built from the input (every command and
 * option of tools/tmpf, values good and bad, and free text) run through the
 * tool's own main(), compiled into this target as tmpf_main (fuzz/
 * CMakeLists.txt), in a child process: tmpf exits, prints and runs commands
 * as a program does. The child is this same binary, spawned afresh (posix_
 * spawn of /proc/self/exe) with TF_FUZZ_TMPF_CHILD in its environment, so
 * that LLVMFuzzerInitialize() runs tmpf_main() before libFuzzer starts: no
 * tmpf code runs in a fork of the fuzzer's process, whose other threads (the
 * RSS-limit watcher) may hold a lock the copy then waits for forever (a CI
 * run hung so). The child works in a scratch directory, with TMPDIR and HOME
 * there and a PATH holding only `true` and `false`; no token holds an
 * absolute path and free text holds no '/', so nothing is made, removed or
 * run outside the scratch directory, and a witness tree beside the child's
 * tree says so after each input. Standard input is a file of input bytes
 * (tmpf write reads it). The child is its own process group, killed whole
 * after 20 s, and after any exit (nothing it started outlives the input).
 * Oracle: the child exits (no signal, no hang: 20 s), with status 0, 1 or 2
 * (run: also 126 and 127), with a message on stderr for 1 and 2 (but from
 * run, whose status may be its command's), and no sanitizer report on
 * stderr (leaks: LeakSanitizer at the child's exit); the witness unchanged.
 *
 * libFuzzer sees no coverage of the child: the mutations are blind past the
 * corpus, which is why the seeds cover every command and option.
 *
 * Input: one byte of choices (invoked as tmpf or as mktemp), stdin's length
 * and bytes, then one byte per argument: a token of the table below, or (at
 * 0xc0 and above) free text of the following bytes.
 */
#include "fuzz.h"
#include "tftest.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int tmpf_main(int argc, char **argv);

static const char *const TOKENS[] = {
    /* commands */
    "file", "dir", "mktemp", "run", "write", "sweep", "du", "gettempdir", "shred",
    "--help", "-h", "--version", "-V", "", "bogus",
    /* options */
    "-p", "-s", "-d", "-m", "-k", "-q", "-u", "-t", "-n", "-j", "-o", "-a", "-l", "-L",
    "-z", "-x", "-f", "-r", "-v",
    "--prefix", "--prefix=", "--prefix=log_", "--suffix", "--suffix=.txt", "--dir",
    "--dir=sub", "--dir=missing", "--mode", "--mode=0600", "--mode=9", "--keep", "--json",
    "--dry-run", "--older-than", "--older-than=1h30m", "--older-than=0", "--tmpdir",
    "--tmpdir=sub", "--directory", "--quiet", "--append", "--no-clobber", "--level=durable",
    "--level", "--symlinks=refuse", "--symlinks", "--best-effort", "--strict", "--",
    "-", "--bogus", "-pq", "-dq", "-qu",
    /* values */
    "tmp", "XXXXXX", "a.XXX", "abcXXXXXXdef", "fooXX", "0600", "0777", "07777", "0", "-1",
    "x", "7d", "2w", "90s", "1h30m", "36h", "5m12s", "sub", ".", "..", "missing", "file",
    "a/b", "sub/XXXXXX", "dest", "visible", "consistent", "durable", "follow", "replace",
    "refuse", "true", "false", "1", "3", "100",
};
#define NTOKENS (sizeof TOKENS / sizeof TOKENS[0])

#define MAX_ARGS 24
#define CHILD_ENV "TF_FUZZ_TMPF_CHILD"
#define HANG_SECONDS 20

static struct {
    char *top, *work, *bin, *in, *out, *err, *witness, *self, *witness_listing;
    char **envp;
} T;

/* The child's environment: the fuzzer's (sanitizer options and all) with
 * PATH, TMPDIR, HOME and the child's mark ours, TMP and TEMP unset. */
static char **child_environment(void)
{
    static const char *const ours[] = { "PATH=", "TMPDIR=", "HOME=", "TMP=", "TEMP=",
                                        CHILD_ENV "=" };
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 5, sizeof *env);
    FUZZ_CHECK(env, "calloc");
    for (size_t i = 0; i < n; i++) {
        bool keep = true;
        for (size_t j = 0; j < sizeof ours / sizeof ours[0]; j++)
            keep = keep && strncmp(environ[i], ours[j], strlen(ours[j])) != 0;
        if (keep)
            env[k++] = environ[i];
    }
    FUZZ_CHECK(asprintf(&env[k++], "PATH=%s", T.bin) > 0 &&
               asprintf(&env[k++], "TMPDIR=%s", T.work) > 0 &&
               asprintf(&env[k++], "HOME=%s", T.work) > 0 &&
               asprintf(&env[k++], "%s=%s", CHILD_ENV, T.work) > 0, "asprintf");
    env[k] = NULL;
    return env;
}

/* The witness beside the child's tree (top): no input may change it. */
static void make_witness(void)
{
    char *sub = path_join(T.witness, "sub");
    FUZZ_CHECK(mkdir(T.witness, 0755) == 0 && mkdir(sub, 0700) == 0 &&
               write_file(T.witness, "file", "outside\n") == 0 &&
               write_file(sub, "file", "outside too\n") == 0,
               "the witness %s: %s", T.witness, errname(errno));
    free(sub);
    T.witness_listing = dir_listing(T.witness);
}

static void check_witness(const char *err)
{
    char *now = dir_listing(T.witness), *sub = path_join(T.witness, "sub");
    char *file = path_join(T.witness, "file"), *subfile = path_join(sub, "file");
    char *a = read_file_str(file), *b = read_file_str(subfile);
    FUZZ_CHECK(strcmp(now, T.witness_listing) == 0 && a && strcmp(a, "outside\n") == 0 &&
               b && strcmp(b, "outside too\n") == 0 && dir_entries(fuzz_scratch()) == 2,
               "something outside the child's tree changed:\n%s\n(was:\n%s)\n%s", now,
               T.witness_listing, err);
    free(now), free(sub), free(file), free(subfile), free(a), free(b);
}

/* The scratch tree: top/bin (true, false), top/w the working directory
 * (with sub/ and file), its parent top within the scratch too (".."), and
 * the witness beside top. bin is made again before each input: a command
 * given ".." may have changed it. */
static void setup(void)
{
    if (!T.top) {
        T.top = path_join(fuzz_scratch(), "tmpf");
        T.witness = path_join(fuzz_scratch(), "outside");
        T.work = path_join(T.top, "w");
        T.bin = path_join(T.top, "bin");
        T.in = path_join(T.top, "stdin");
        T.out = path_join(T.top, "stdout");
        T.err = path_join(T.top, "stderr");
        T.self = realpath("/proc/self/exe", NULL);
        FUZZ_CHECK(T.self, "/proc/self/exe: %s", errname(errno));
        T.envp = child_environment();
        make_witness();
    }
    FUZZ_CHECK((mkdir(T.top, 0700) == 0 || errno == EEXIST) &&
               (mkdir(T.bin, 0700) == 0 || errno == EEXIST), "mkdir %s", T.top);
    static const char *const progs[] = { "true", "false" };
    for (int i = 0; i < 2; i++) {
        char *p = path_join(T.bin, progs[i]);
        char target[64];
        snprintf(target, sizeof target, "/bin/%s", progs[i]);
        unlink(p);
        FUZZ_CHECK(symlink(target, p) == 0, "symlink %s", p);
        free(p);
    }
}

static void fresh_work(void)
{
    setup();
    remove_tree(T.work);
    FUZZ_CHECK(mkdir(T.work, 0700) == 0, "mkdir %s: %s", T.work, errname(errno));
    char *sub = path_join(T.work, "sub");
    FUZZ_CHECK(mkdir(sub, 0700) == 0 && write_file(T.work, "file", "a file\n") == 0,
               "the working directory");
    free(sub);
}

static void write_stdin(struct fuzz_in *in)
{
    int fd = open(T.in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "open %s", T.in);
    size_t n = fuzz_u8(in) % 64;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = fuzz_u8(in);
        FUZZ_CHECK(write(fd, &b, 1) == 1, "write stdin");
    }
    close(fd);
}

/* Free text: no '/' (no path out of the scratch tree) and no NUL. */
static char *free_text(struct fuzz_in *in, uint8_t sel)
{
    size_t n = (sel & 0x3f) % 24;
    char *s = malloc(n + 1);
    FUZZ_CHECK(s, "malloc");
    for (size_t i = 0; i < n; i++) {
        uint8_t b = fuzz_u8(in);
        s[i] = b == '/' || b == 0 ? '_' : (char)b;
    }
    s[n] = '\0';
    return s;
}

/* Weak: only a sanitized build has it. */
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

/*
 * The child's side: this binary spawned with CHILD_ENV set runs tmpf here,
 * called first by libFuzzer's main() (and by replay.c's), before any thread
 * or handler of the fuzzer exists; its exit is a program's (exit handlers,
 * LeakSanitizer, coverage counters). tmpf closes stderr at exit, as the
 * coreutils do, before LeakSanitizer reports: the sanitizers write to a copy.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *work = getenv(CHILD_ENV);
    if (!work)
        return 0;
    if (chdir(work) != 0)
        _exit(99);
    unsetenv(CHILD_ENV);
    if (__sanitizer_set_report_fd) {
        int fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
        if (fd < 0)
            _exit(99);
        __sanitizer_set_report_fd((void *)(intptr_t)fd);
    }
    exit(tmpf_main(*argc, *argv));
}

/* The child: its own process group, standard streams the scratch files,
 * signals at their defaults and none blocked, whatever the fuzzer set. */
static pid_t spawn_child(char **argv)
{
    static const int reset[] = { SIGPIPE, SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGALRM,
                                 SIGUSR1, SIGUSR2, SIGCHLD, SIGXFSZ, SIGTTOU, SIGTTIN };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        sigaddset(&dfl, reset[i]);
    FUZZ_CHECK(posix_spawn_file_actions_init(&fa) == 0 &&
               posix_spawn_file_actions_addopen(&fa, 0, T.in, O_RDONLY, 0) == 0 &&
               posix_spawn_file_actions_addopen(&fa, 1, T.out, O_WRONLY | O_CREAT | O_TRUNC,
                                                0600) == 0 &&
               posix_spawn_file_actions_addopen(&fa, 2, T.err, O_WRONLY | O_CREAT | O_TRUNC,
                                                0600) == 0 &&
               posix_spawnattr_init(&at) == 0 &&
               posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF) == 0 &&
               posix_spawnattr_setpgroup(&at, 0) == 0 &&
               posix_spawnattr_setsigmask(&at, &none) == 0 &&
               posix_spawnattr_setsigdefault(&at, &dfl) == 0, "posix_spawn's attributes");
    pid_t pid;
    int e = posix_spawn(&pid, T.self, &fa, &at, argv, T.envp);
    FUZZ_CHECK(e == 0, "posix_spawn %s: %s", T.self, errname(e));
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return pid;
}

/*
 * Waits HANG_SECONDS at most for the child to end, then kills its process
 * group (*hung); the group is killed in any case before the child is
 * reaped (its id cannot be reused meanwhile): nothing it started stays.
 */
static int wait_bounded(pid_t pid, bool *hung)
{
    struct timespec start, now, nap = { 0, 50000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    *hung = false;
    for (;;) {
        siginfo_t si = { .si_pid = 0 };
        int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
        FUZZ_CHECK(r == 0 || errno == EINTR, "waitid: %s", errname(errno));
        if (r == 0 && si.si_pid == pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!*hung && now.tv_sec - start.tv_sec >= HANG_SECONDS) {
            *hung = true;
            kill(-pid, SIGKILL);
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 2000000)
            nap.tv_nsec *= 2;
    }
    kill(-pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        FUZZ_CHECK(errno == EINTR, "waitpid: %s", errname(errno));
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    fresh_work();
    uint8_t how = fuzz_u8(&in);
    write_stdin(&in);
    char *argv[MAX_ARGS + 2];
    bool owned[MAX_ARGS + 2] = { false };
    int argc = 0;
    argv[argc++] = (char *)(how & 1 ? "mktemp" : "tmpf");
    while (fuzz_more(&in) && argc <= MAX_ARGS) {
        uint8_t sel = fuzz_u8(&in);
        if (sel >= 0xc0) {
            owned[argc] = true;
            argv[argc++] = free_text(&in, sel);
        } else {
            argv[argc++] = (char *)TOKENS[sel % NTOKENS];
        }
    }
    argv[argc] = NULL;
    bool run = false;
    for (int i = 1; i < argc && !run; i++)
        run = strcmp(argv[i], "run") == 0;

    bool hung;
    int status = wait_bounded(spawn_child(argv), &hung);
    for (int i = 0; i < argc; i++)
        if (owned[i])
            free(argv[i]);

    char *err = read_file_str(T.err);
    FUZZ_CHECK(err, "reading the child's stderr");
    FUZZ_CHECK(!strstr(err, "Sanitizer") && !strstr(err, "runtime error"),
               "a sanitizer report:\n%s", err);
    FUZZ_CHECK(!hung, "tmpf hung (killed after %d s):\n%s", HANG_SECONDS, err);
    FUZZ_CHECK(WIFEXITED(status), "tmpf died of signal %d:\n%s", WTERMSIG(status), err);
    int st = WEXITSTATUS(status);
    FUZZ_CHECK(st <= 2 || (run && (st == 126 || st == 127)), "exit status %d:\n%s", st, err);
    /* run's status may be its command's: `false` says nothing. */
    FUZZ_CHECK(st == 0 || err[0] || run, "exit status %d with nothing on stderr", st);
    check_witness(err);
    free(err);
    return 0;
}
