/*
 * Spooled temporary files, timed (issue 3). One process run measures every
 * workload once (one "round") and prints one JSON object of seconds per
 * workload; bench/spool_bench.py runs it interleaved with CPython's
 * SpooledTemporaryFile and io.BytesIO on the same workloads and reports the
 * per-round ratios. Run alone with --rounds N it prints its own medians.
 *
 *   spool_bench [--json] [--rounds N] [--dir DIR] [--small]
 *
 * Workloads (all bytes come from one 64 KiB source buffer):
 *   one_byte_*       the seed's slide 13: 100,000 one-byte writes into a new
 *                    file (creation and close included);
 *   w4k_* / w64k_*   64 MiB in 4 KiB or 64 KiB writes into a new spooled file
 *                    with max_size 0 (memory all along): fresh memory; the
 *                    *_reuse variants rewrite a file that already holds it;
 *   memcpy_*         the same bytes memcpy'd in the same pieces, into a fresh
 *                    malloc'd buffer or into one already written once;
 *   rollover_*       tf_file_rollover() of a file holding 1 MiB or 64 MiB.
 * Blocks of 128 KiB and more always come fresh from mmap (see main).
 */
#define _GNU_SOURCE 1
#include <tempfile.h>

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024u * 1024u)

static size_t big = 64 * MIB;         /* --small: 4 MiB */
static size_t one_byte_writes = 100000;
static const char *dir;               /* NULL: the default temporary directory */
static unsigned char src[64 * 1024];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "spool_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Keeps the compiler from dropping stores to a buffer nobody reads. */
static void keep(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* ---- one-byte writes (seed 000, slide 13) -------------------------------- */

static tf_file *new_spooled(size_t max_size)
{
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .max_size = max_size });
    if (!f)
        die("tf_spooled_temporary_file");
    return f;
}

static tf_file *new_plain(void)
{
    tf_file *f = tf_temporary_file(&(tf_opts){ .dir = dir });
    if (!f)
        die("tf_temporary_file");
    return f;
}

static double one_byte_handle(tf_file *(*make)(void))
{
    double t0 = now();
    tf_file *f = make();
    for (size_t i = 0; i < one_byte_writes; i++)
        if (tf_file_write(f, "x", 1) != 1)
            die("tf_file_write");
    tf_file_release(f);
    return now() - t0;
}

static double one_byte_stream(tf_file *(*make)(void))
{
    double t0 = now();
    tf_file *f = make();
    FILE *fp = tf_file_stream(f);
    if (!fp)
        die("tf_file_stream");
    for (size_t i = 0; i < one_byte_writes; i++)
        putc('x', fp);
    if (fflush(fp) != 0)
        die("fflush");
    tf_file_release(f);
    return now() - t0;
}

static tf_file *spooled_1m(void)
{
    return new_spooled(MIB);
}

/* The floor: appending to a plain doubling buffer. */
static double one_byte_buffer(void)
{
    double t0 = now();
    size_t cap = 64, len = 0;
    unsigned char *b = malloc(cap);
    for (size_t i = 0; i < one_byte_writes; i++) {
        if (len == cap && !(b = realloc(b, cap *= 2)))
            die("realloc");
        b[len++] = 'x';
    }
    keep(b);
    free(b);
    return now() - t0;
}

/* ---- bulk writes in memory ------------------------------------------------ */

static void fill(tf_file *f, size_t piece)
{
    for (size_t done = 0; done < big; done += piece)
        if (tf_file_write(f, src, piece) != (ssize_t)piece)
            die("tf_file_write");
}

static double bulk_fresh(size_t piece)
{
    tf_file *f = new_spooled(0);
    double t0 = now();
    fill(f, piece);
    double t = now() - t0;
    tf_file_release(f);
    return t;
}

static double bulk_reuse(size_t piece)
{
    tf_file *f = new_spooled(0);
    fill(f, piece);
    tf_file_seek(f, 0, SEEK_SET);
    double t0 = now();
    fill(f, piece);
    double t = now() - t0;
    tf_file_release(f);
    return t;
}

static void copy_in(unsigned char *dst, size_t piece)
{
    for (size_t done = 0; done < big; done += piece)
        memcpy(dst + done, src, piece);
    keep(dst);
}

static double memcpy_fresh(size_t piece)
{
    unsigned char *dst = malloc(big);
    if (!dst)
        die("malloc");
    double t0 = now();
    copy_in(dst, piece);
    double t = now() - t0;
    free(dst);
    return t;
}

static double memcpy_reuse(size_t piece)
{
    unsigned char *dst = malloc(big);
    if (!dst)
        die("malloc");
    copy_in(dst, piece);
    double t0 = now();
    copy_in(dst, piece);
    double t = now() - t0;
    free(dst);
    return t;
}

/* ---- rollover ----------------------------------------------------------- */

static double rollover(size_t size)
{
    tf_file *f = new_spooled(0);
    for (size_t done = 0; done < size; done += sizeof src)
        tf_file_write(f, src, sizeof src);
    double t0 = now();
    if (tf_file_rollover(f) != 0)
        die("tf_file_rollover");
    double t = now() - t0;
    tf_file_release(f);
    return t;
}

/* ---- the round ------------------------------------------------------------- */

static tf_file *plain(void)
{
    return new_plain();
}

static double w_one_spooled(void) { return one_byte_handle(spooled_1m); }
static double w_one_spooled_stream(void) { return one_byte_stream(spooled_1m); }
static double w_one_tempfile(void) { return one_byte_handle(plain); }
static double w_one_tempfile_stream(void) { return one_byte_stream(plain); }
static double w_4k_fresh(void) { return bulk_fresh(4096); }
static double w_64k_fresh(void) { return bulk_fresh(65536); }
static double w_4k_reuse(void) { return bulk_reuse(4096); }
static double w_64k_reuse(void) { return bulk_reuse(65536); }
static double m_4k_fresh(void) { return memcpy_fresh(4096); }
static double m_64k_fresh(void) { return memcpy_fresh(65536); }
static double m_4k_reuse(void) { return memcpy_reuse(4096); }
static double m_64k_reuse(void) { return memcpy_reuse(65536); }
static double r_1m(void) { return rollover(MIB); }
static double r_big(void) { return rollover(big); }

static const struct workload {
    const char *name;
    double (*run)(void);
} workloads[] = {
    { "one_byte_spooled", w_one_spooled },
    { "one_byte_spooled_stream", w_one_spooled_stream },
    { "one_byte_tempfile", w_one_tempfile },
    { "one_byte_tempfile_stream", w_one_tempfile_stream },
    { "one_byte_c_buffer", one_byte_buffer },
    { "w4k_spooled_fresh", w_4k_fresh },
    { "w4k_memcpy_fresh", m_4k_fresh },
    { "w64k_spooled_fresh", w_64k_fresh },
    { "w64k_memcpy_fresh", m_64k_fresh },
    { "w4k_spooled_reuse", w_4k_reuse },
    { "w4k_memcpy_reuse", m_4k_reuse },
    { "w64k_spooled_reuse", w_64k_reuse },
    { "w64k_memcpy_reuse", m_64k_reuse },
    { "rollover_1m", r_1m },
    { "rollover_big", r_big },
};
#define NWORK (sizeof workloads / sizeof *workloads)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int json = 0, rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1, rounds = 1;
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--small"))
            big = 4 * MIB, one_byte_writes = 10000;
        else {
            fprintf(stderr, "usage: %s [--json] [--rounds N] [--dir DIR] [--small]\n", argv[0]);
            return 2;
        }
    }
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 131 + 7);
    /* A fixed mmap threshold: glibc's dynamic one would serve some rounds'
     * big blocks from memory freed by the round before, so "fresh" would
     * mean fresh for memcpy's 64 MiB buffer and reused for the file's
     * smaller chunks. Now every block of 128 KiB and more is new pages. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    if (rounds < 1)
        rounds = 1;

    double (*t)[NWORK] = calloc((size_t)rounds, sizeof *t);
    for (int r = 0; r < rounds; r++)
        for (size_t w = 0; w < NWORK; w++)
            t[r][w] = workloads[w].run();

    if (json) {
        printf("{\"big_bytes\": %zu, \"one_byte_writes\": %zu", big, one_byte_writes);
        for (size_t w = 0; w < NWORK; w++)
            printf(", \"%s\": %.9f", workloads[w].name, t[0][w]);
        printf("}\n");
    } else {
        printf("| workload (C, %d rounds, dir %s) | median | per op / bandwidth |\n|---|---|---|\n",
               rounds, dir ? dir : "default");
        for (size_t w = 0; w < NWORK; w++) {
            double col[rounds];
            for (int r = 0; r < rounds; r++)
                col[r] = t[r][w];
            qsort(col, (size_t)rounds, sizeof *col, cmp_double);
            double m = col[rounds / 2];
            const char *name = workloads[w].name;
            if (!strncmp(name, "one_byte", 8))
                printf("| %s | %.3f ms | %.1f ns/write |\n", name, m * 1e3, m * 1e9 / (double)one_byte_writes);
            else if (!strncmp(name, "rollover_1m", 11))
                printf("| %s | %.3f ms | %.2f GB/s |\n", name, m * 1e3, MIB / m / 1e9);
            else
                printf("| %s | %.3f ms | %.2f GB/s |\n", name, m * 1e3, (double)big / m / 1e9);
        }
    }
    free(t);
    return 0;
}
