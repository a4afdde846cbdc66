/* Seed 000, slide 13: 100,000 one-byte writes, SpooledTemporaryFile versus TemporaryFile */
/*
 * Python:
 *     def performance_test(file_type, iterations=100000):
 *         start_time = time.time()
 *         if file_type == 'spooled':
 *             temp_file = tempfile.SpooledTemporaryFile(max_size=1024*1024)
 *         else:
 *             temp_file = tempfile.TemporaryFile()
 *         for _ in range(iterations):
 *             temp_file.write(b"x")
 *         temp_file.close()
 *         return time.time() - start_time
 *     print(f"SpooledTemporaryFile: {spooled_time:.4f} seconds")
 *     print(f"TemporaryFile: {regular_time:.4f} seconds")
 *
 * Prints the two times (they vary from run to run). Python's TemporaryFile is
 * buffered, so its C counterpart writes through the buffered FILE * view; the
 * spooled file takes the writes directly, in memory. The measurement proper,
 * against CPython side by side, is bench/spool_bench.py.
 */
#include "example.h"

#include <time.h>

#define ITERATIONS 100000

static double seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double spooled_test(void)
{
    double start = seconds();
    tf_file *f = tf_spooled_temporary_file(&(tf_opts){ .max_size = 1024 * 1024 });

    if (f == NULL)
        return ex_fail("tf_spooled_temporary_file"), -1;
    for (int i = 0; i < ITERATIONS; i++)
        if (tf_file_write(f, "x", 1) != 1)
            return ex_fail("tf_file_write"), tf_file_release(f), -1;
    /* 100,000 bytes stay under max_size: it never touched the disk. */
    CHECK(tf_file_rolled(f) == 0 && tf_file_tell(f) == ITERATIONS);
    if (tf_file_release(f) != 0)
        ex_fail("tf_file_release");
    return seconds() - start;
}

static double regular_test(void)
{
    double start = seconds();
    tf_file *f = tf_temporary_file(NULL);
    FILE *fp;

    if (f == NULL)
        return ex_fail("tf_temporary_file"), -1;
    fp = tf_file_stream(f);
    if (fp == NULL)
        return ex_fail("tf_file_stream"), tf_file_release(f), -1;
    for (int i = 0; i < ITERATIONS; i++)
        putc('x', fp);
    CHECK(fflush(fp) == 0 && tf_file_tell(f) == ITERATIONS);
    if (tf_file_release(f) != 0)
        ex_fail("tf_file_release");
    return seconds() - start;
}

int main(void)
{
    double spooled_time = spooled_test();
    double regular_time = regular_test();

    printf("SpooledTemporaryFile: %.4f seconds\n", spooled_time);
    printf("TemporaryFile: %.4f seconds\n", regular_time);
    CHECK(spooled_time >= 0 && regular_time >= 0);
    return ex_status;
}
