/*
 * tmpf's command lines: argv vectors built from the input (every command and
 * option of tools/tmpf, values good and bad, and free text) run through the
 * tool's own main(), compiled into this target as tmpf_main (fuzz/
 * CMakeLists.txt), in a forked child: tmpf exits, prints and runs commands
 * as a program does. The child works in a scratch directory, with TMPDIR
 * there and a PATH holding only `true` and `false`; no token holds an
 * absolute path and free text holds no '/', so nothing is made, removed or
 * run outside the scratch directory. Standard input is a file of input bytes
 * (tmpf write reads it).
 * Oracle: the child exits (no signal, no hang: 20 s), with status 0, 1 or 2
 * (run: also 126 and 127), with a message on stderr for 1 and 2 (but from
 * run, whose status may be its command's), and no sanitizer report on
 * stderr.
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
#include <sys/wait.h>
#include <unistd.h>

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

static struct {
    char *top, *work, *bin, *in, *out, *err;
} T;

/* The scratch tree: top/bin (true, false), top/w the working directory
 * (with sub/ and file), its parent top within the scratch too (".."). Made
 * again before each input: a command given ".." may have changed it. */
static void setup(void)
{
    if (!T.top) {
        T.top = path_join(fuzz_scratch(), "tmpf");
        T.work = path_join(T.top, "w");
        T.bin = path_join(T.top, "bin");
        T.in = path_join(T.top, "stdin");
        T.out = path_join(T.top, "stdout");
        T.err = path_join(T.top, "stderr");
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

static void redirect(int fd, const char *path, int flags)
{
    int f = open(path, flags | O_CLOEXEC, 0600);
    if (f < 0 || dup2(f, fd) < 0)
        _exit(99);
    close(f);
}

/* Weak: only an ASan build has it. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/*
 * The child's exit, after tmpf's own exit handler (registered later, run
 * first) and before libFuzzer's, which would take any exit from inside the
 * target for a finding: leaks looked for, counters written, status kept.
 */
static void child_exit(int status, void *arg)
{
    (void)arg;
    if (__lsan_do_recoverable_leak_check)
        __lsan_do_recoverable_leak_check();
    fflush(NULL);
    coverage_flush();
    _exit(status);
}

static _Noreturn void child(int argc, char **argv)
{
    on_exit(child_exit, NULL);
    alarm(20);
    if (chdir(T.work) != 0)
        _exit(99);
    setenv("TMPDIR", T.work, 1);
    setenv("PATH", T.bin, 1);
    unsetenv("TMP");
    unsetenv("TEMP");
    redirect(0, T.in, O_RDONLY);
    redirect(1, T.out, O_WRONLY | O_CREAT | O_TRUNC);
    redirect(2, T.err, O_WRONLY | O_CREAT | O_TRUNC);
    exit(tmpf_main(argc, argv));
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

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    FUZZ_CHECK(pid >= 0, "fork: %s", errname(errno));
    if (pid == 0)
        child(argc, argv);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        FUZZ_CHECK(errno == EINTR, "waitpid: %s", errname(errno));
    for (int i = 0; i < argc; i++)
        if (owned[i])
            free(argv[i]);

    char *err = read_file_str(T.err);
    FUZZ_CHECK(err, "reading the child's stderr");
    FUZZ_CHECK(!strstr(err, "Sanitizer") && !strstr(err, "runtime error"),
               "a sanitizer report:\n%s", err);
    FUZZ_CHECK(WIFEXITED(status), "tmpf died of signal %d%s:\n%s", WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (hung 20 s)" : "", err);
    int st = WEXITSTATUS(status);
    FUZZ_CHECK(st <= 2 || (run && (st == 126 || st == 127)), "exit status %d:\n%s", st, err);
    /* run's status may be its command's: `false` says nothing. */
    FUZZ_CHECK(st == 0 || err[0] || run, "exit status %d with nothing on stderr", st);
    free(err);
    return 0;
}
