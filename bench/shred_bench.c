/*
 * Shredding, timed (issue 13): tf_shred() against coreutils shred and the
 * device's floor, interleaved, on the same filesystem.
 *
 *   shred_bench bench DIR SIZE_MIB ROUNDS   the comparison (prints a markdown table)
 *   shred_bench lib FILE                    tf_shred(FILE): 3 passes + zero, synced, removed
 *   shred_bench floor FILE                  4 passes of pwrite (1 MiB, data made once)
 *                                           + fdatasync each, then unlink: the floor
 *   shred_bench floor-fresh FILE            the same with fresh data in every buffer
 *
 * Each round makes a fresh file of random data per contender (fsync'ed, not
 * timed), then runs each contender as a child process, A B C in turn, and
 * takes its wall time and peak RSS from wait4(). Reported: the median of
 * the per-round ratios, and medians of the times and peak RSS.
 */
#define _GNU_SOURCE 1
#include <tempfile.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (1u << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void make_file(const char *path, long mib)
{
    static char buf[BUF];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die("open");
    for (long i = 0; i < mib; i++) {
        for (size_t off = 0; off < BUF; off += 256)
            if (getrandom(buf + off, 256, 0) != 256)
                die("getrandom");
        if (write(fd, buf, BUF) != BUF)
            die("write");
    }
    if (fsync(fd) < 0)
        die("fsync");
    close(fd);
}

static int run_lib(const char *path)
{
    tf_shred_report r;
    if (tf_shred(path, &(tf_shred_opts){ .flags = TF_SHRED_ZERO | TF_SHRED_REMOVE }, &r) < 0)
        die("tf_shred");
    return 0;
}

/* Fresh data for every buffer: a 64-bit LCG per word, about as cheap as the
 * library's generator, so that a device or host that compresses or
 * deduplicates constant blocks cannot flatter the floor. */
static void fill_fresh(uint64_t *p, size_t words, uint64_t *state)
{
    uint64_t x = *state;
    for (size_t i = 0; i < words; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = x ^ (x >> 29);
    }
    *state = x;
}

static int run_floor(const char *path, bool fresh)
{
    static uint64_t words[BUF / 8];
    char *buf = (char *)words;
    uint64_t state = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
    memset(buf, 0x5a, BUF);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        die("open");
    off_t size = lseek(fd, 0, SEEK_END);
    for (int pass = 0; pass < 4; pass++) {
        for (off_t off = 0; off < size; off += BUF) {
            if (fresh)
                fill_fresh(words, BUF / 8, &state);
            if (pwrite(fd, buf, BUF, off) != BUF)
                die("pwrite");
        }
        if (fdatasync(fd) < 0)
            die("fdatasync");
    }
    close(fd);
    return unlink(path) < 0 ? 1 : 0;
}

/* Runs argv as a child; its wall seconds, peak RSS (KiB) in *rss and CPU
 * seconds (user + system) in *cpu. */
static double timed(char *const argv[], long *rss, double *cpu)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        die(argv[0]);
    *rss = ru.ru_maxrss;
    *cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
    return now() - t0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { LIB, COREUTILS, FLOOR, FRESH, N };

static int bench(const char *dir, long mib, int rounds)
{
    static const char *const names[N] = { "tf_shred (3 + zero, -u)", "coreutils shred -n3 -z -u",
                                          "floor: 4 x (pwrite + fdatasync) + unlink, constant data",
                                          "floor, fresh data in every buffer (an LCG)" };
    char self[4096], path[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        die("readlink");
    self[n] = '\0';
    snprintf(path, sizeof path, "%s/shred_bench.data", dir);
    double t[N][64], rss[N][64], cpu[N][64], ratio_core[64], ratio_floor[64], ratio_fresh[64], cpu_core[64];
    if (rounds > 64)
        rounds = 64;
    for (int r = 0; r < rounds; r++) {
        for (int c = 0; c < N; c++) {
            make_file(path, mib);
            char *lib[] = { self, "lib", path, NULL }, *floor_[] = { self, "floor", path, NULL },
                 *fresh[] = { self, "floor-fresh", path, NULL },
                 *core[] = { "/usr/bin/shred", "-n3", "-z", "-u", path, NULL };
            long k;
            char *const *argv = c == LIB ? lib : c == FLOOR ? floor_ : c == FRESH ? fresh : core;
            t[c][r] = timed(argv, &k, &cpu[c][r]);
            rss[c][r] = (double)k;
        }
        ratio_core[r] = t[LIB][r] / t[COREUTILS][r];
        ratio_floor[r] = t[LIB][r] / t[FLOOR][r];
        ratio_fresh[r] = t[LIB][r] / t[FRESH][r];
        cpu_core[r] = cpu[LIB][r] / cpu[COREUTILS][r];
        fprintf(stderr, "round %d: lib %.3f s, coreutils %.3f s, floor %.3f s, fresh %.3f s\n",
                r + 1, t[LIB][r], t[COREUTILS][r], t[FLOOR][r], t[FRESH][r]);
    }
    printf("| %s, %ld MiB, %d rounds | median wall | median CPU (user+sys) | median peak RSS |\n"
           "|---|---|---|---|\n", dir, mib, rounds);
    for (int c = 0; c < N; c++)
        printf("| %s | %.3f s | %.3f s | %.0f KiB |\n", names[c], median(t[c], rounds),
               median(cpu[c], rounds), median(rss[c], rounds));
    printf("\nper-round ratios, median: wall tf_shred / coreutils %.2f, CPU tf_shred / coreutils "
           "%.2f, wall tf_shred / floor %.2f, wall tf_shred / fresh floor %.2f\n",
           median(ratio_core, rounds), median(cpu_core, rounds), median(ratio_floor, rounds),
           median(ratio_fresh, rounds));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "lib"))
        return run_lib(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "floor"))
        return run_floor(argv[2], false);
    if (argc == 3 && !strcmp(argv[1], "floor-fresh"))
        return run_floor(argv[2], true);
    if (argc == 5 && !strcmp(argv[1], "bench"))
        return bench(argv[2], atol(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: shred_bench bench DIR SIZE_MIB ROUNDS | lib FILE | floor FILE\n");
    return 2;
}
