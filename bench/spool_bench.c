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
 *   rollover_*       tf_file_rollover() of a file holding 1 MiB or 64 MiB;
 *   spill_*          64 MiB in 64 KiB writes into a spooled file of max_size
 *                    1 MiB (it rolls over at the 17th write), and the same
 *                    writes into an open(O_TMPFILE) descriptor: the floor
 *                    (run A B B A inside the round);
 *   rollover_big_floor 64 MiB already in memory written into open(O_TMPFILE)
 *                    in pieces that double, as a rollover writes its chunks.
 * Small accesses (issue 16), N = one_byte_writes operations each, on memory
 * already written once (*_reuse: the second pass over a file or buffer of N
 * bytes, so no page is new) or fresh (*_fresh: a new file, creation included):
 *   w1_*             1-byte writes: floor (a plain growing buffer: realloc
 *                    doubling + memcpy, out of line as a library call is),
 *                    floor_inline (the same inlined with a constant size: the
 *                    compiler turns memcpy into one store), tf (tf_file_write),
 *                    tf_putc (the inline tf_file_putc),
 *                    putc / putc_unlocked / memstream_putc (the FILE * view;
 *                    open_memstream, glibc's own growing buffer stream);
 *   w4_*             4-byte writes: floor, tf, fwrite on the view, memstream;
 *                    fwrite on the view without its lock (where the time
 *                    goes): fwrite_bycaller (__fsetlocking BYCALLER: the
 *                    same call path, no lock) and fwrite_unlocked (glibc's
 *                    macro inlines it for a constant size: no call at all);
 *   wfmt_*           fprintf(fp, "%d,", i) on the view and on open_memstream,
 *                    and the floor: snprintf into the growing buffer;
 *   r1_*             1-byte reads of an N-byte file: floor (memcpy out of a
 *                    buffer, out of line), tf (tf_file_read), tf_getc (the
 *                    inline tf_file_getc), getc on the view.
 *
 *   spool_bench --ir WORKLOAD N   runs only N operations of one small-access
 *                                 workload (bench/spool_bench.py counts
 *                                 instructions per operation with callgrind)
 * Blocks of 128 KiB and more always come fresh from mmap (see main).
 */
#define _GNU_SOURCE 1
#include <tempfile.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
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

/* ---- small accesses (issue 16) ------------------------------------------- */

/* The floor: a plain growing buffer, as a program would write one. */
struct buf {
    unsigned char *p;
    size_t len, cap, pos;
};

/* Out of line, and kept from being specialized for its constant size, as a
 * library call is: the size is a run-time value, so memcpy is a call. (clang
 * has no noipa; with noinline it keeps the functions and their memcpy calls.) */
#ifdef __clang__
#define LIBRARY_CALL __attribute__((noinline))
#else
#define LIBRARY_CALL __attribute__((noipa))
#endif

LIBRARY_CALL static int buf_write(struct buf *b, const void *from, size_t n)
{
    if (n > b->cap - b->pos) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->pos < n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            die("realloc");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->pos, from, n);
    b->pos += n;
    if (b->pos > b->len)
        b->len = b->pos;
    return (int)n;
}

LIBRARY_CALL static int buf_read(struct buf *b, void *dst, size_t n)
{
    if (n > b->len - b->pos)
        n = b->len - b->pos;
    memcpy(dst, b->p + b->pos, n);
    b->pos += n;
    return (int)n;
}

/* The same inlined with a constant size (the best a hand-written loop gets). */
static inline void buf_put1(struct buf *b, unsigned char c)
{
    if (b->pos == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        if (!(b->p = realloc(b->p, b->cap)))
            die("realloc");
    }
    b->p[b->pos++] = c;
}

enum small_op {
    W1_FLOOR, W1_FLOOR_INLINE, W1_TF, W1_TF_PUTC, W1_PUTC, W1_PUTC_UNLOCKED, W1_MEMSTREAM,
    W4_FLOOR, W4_TF, W4_FWRITE, W4_FWRITE_BYCALLER, W4_FWRITE_UNLOCKED, W4_MEMSTREAM,
    WFMT_FLOOR, WFMT_FPRINTF, WFMT_MEMSTREAM,
    R1_FLOOR, R1_TF, R1_TF_GETC, R1_GETC,
};

/* What one small-access workload works on. */
struct target {
    struct buf b;
    tf_file *f;
    FILE *fp;
    char *ms;
    size_t ms_len;
};

/* The small-access files' max_size: 1 MiB as the seed's; --ir's first pass
 * of IR_FILL operations needs more to stay in memory. */
static size_t small_max = MIB;

static void target_open(struct target *t, enum small_op op)
{
    memset(t, 0, sizeof *t);
    switch (op) {
    case W1_MEMSTREAM: case W4_MEMSTREAM: case WFMT_MEMSTREAM:
        if (!(t->fp = open_memstream(&t->ms, &t->ms_len)))
            die("open_memstream");
        break;
    case W1_TF: case W1_TF_PUTC: case W4_TF: case R1_TF: case R1_TF_GETC:
        t->f = new_spooled(small_max);
        break;
    case W1_PUTC: case W1_PUTC_UNLOCKED: case W4_FWRITE: case W4_FWRITE_BYCALLER:
    case W4_FWRITE_UNLOCKED: case WFMT_FPRINTF: case R1_GETC:
        t->f = new_spooled(small_max);
        if (!(t->fp = tf_file_stream(t->f)))
            die("tf_file_stream");
        if (op == W4_FWRITE_BYCALLER)
            __fsetlocking(t->fp, FSETLOCKING_BYCALLER);
        break;
    default:
        break;
    }
}

static void target_close(struct target *t)
{
    if (t->f)
        tf_file_release(t->f);   /* fcloses the view */
    else if (t->fp)
        fclose(t->fp);
    free(t->ms);
    free(t->b.p);
}

static void target_rewind(struct target *t)
{
    t->b.pos = 0;
    if (t->fp && fseek(t->fp, 0, SEEK_SET) != 0)
        die("fseek");
    else if (!t->fp && t->f && tf_file_seek(t->f, 0, SEEK_SET) != 0)
        die("tf_file_seek");
}

/* n operations of op. */
static void small_run(struct target *t, enum small_op op, size_t n)
{
    static const unsigned char four[4] = "abcd";
    unsigned char c;
    char tmp[16];
    for (size_t i = 0; i < n; i++) {
        switch (op) {
        case W1_FLOOR: buf_write(&t->b, "x", 1); break;
        case W1_FLOOR_INLINE: buf_put1(&t->b, 'x'); break;
        case W1_TF:
            if (tf_file_write(t->f, "x", 1) != 1)
                die("tf_file_write");
            break;
        case W1_TF_PUTC:
            if (tf_file_putc(t->f, 'x') != 'x')
                die("tf_file_putc");
            break;
        case W1_PUTC: case W1_MEMSTREAM: putc('x', t->fp); break;
        case W1_PUTC_UNLOCKED: putc_unlocked('x', t->fp); break;
        case W4_FLOOR: buf_write(&t->b, four, 4); break;
        case W4_TF:
            if (tf_file_write(t->f, four, 4) != 4)
                die("tf_file_write");
            break;
        case W4_FWRITE: case W4_FWRITE_BYCALLER: case W4_MEMSTREAM:
            fwrite(four, 1, 4, t->fp);
            break;
        case W4_FWRITE_UNLOCKED: fwrite_unlocked(four, 1, 4, t->fp); break;
        case WFMT_FLOOR:
            buf_write(&t->b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%d,", (int)(i & 1023)));
            break;
        case WFMT_FPRINTF: case WFMT_MEMSTREAM: fprintf(t->fp, "%d,", (int)(i & 1023)); break;
        case R1_FLOOR: buf_read(&t->b, &c, 1); keep(&c); break;
        case R1_TF:
            if (tf_file_read(t->f, &c, 1) != 1)
                die("tf_file_read");
            break;
        case R1_TF_GETC:
            if (tf_file_getc(t->f) < 0)
                die("tf_file_getc");
            break;
        case R1_GETC:
            if (getc(t->fp) == EOF)
                die("getc");
            break;
        }
    }
    if (t->fp && op < R1_FLOOR && fflush(t->fp) != 0)
        die("fflush");
}

/* A read workload reads what a first pass of 1-byte writes put there. */
static enum small_op filler(enum small_op op)
{
    switch (op) {
    case R1_FLOOR: return W1_FLOOR;
    case R1_TF: case R1_TF_GETC: return W1_TF;
    case R1_GETC: return W1_PUTC;
    default: return op;
    }
}

/* The second pass over memory the first one wrote: no page is new. */
static double small_reuse(enum small_op op)
{
    struct target t;
    target_open(&t, op);
    small_run(&t, filler(op), one_byte_writes);
    target_rewind(&t);
    double t0 = now();
    small_run(&t, op, one_byte_writes);
    double dt = now() - t0;
    target_close(&t);
    return dt;
}

/* A new file or buffer, created and released inside the clock. */
static double small_fresh(enum small_op op)
{
    struct target t;
    double t0 = now();
    target_open(&t, op);
    small_run(&t, op, one_byte_writes);
    target_close(&t);
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

/* ---- spilling to disk: 64 MiB in 64 KiB writes ------------------------------ */

static double spill_spooled_once(void)
{
    double t0 = now();
    tf_file *f = new_spooled(MIB);
    fill(f, sizeof src);
    if (tf_file_rolled(f) != 1)
        die("spill: not rolled over");
    tf_file_release(f);
    return now() - t0;
}

static int open_tmpfile(void)
{
    int fd = open(dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        die("open O_TMPFILE");
    return fd;
}

/* The floor: the same writes into open(O_TMPFILE). */
static double spill_otmpfile_once(void)
{
    double t0 = now();
    int fd = open_tmpfile();
    for (size_t done = 0; done < big; done += sizeof src)
        if (write(fd, src, sizeof src) != (ssize_t)sizeof src)
            die("write");
    close(fd);
    return now() - t0;
}

/*
 * Run A B B A within the round and summed, so that neither side always
 * follows the other's freed blocks (on ext4 a close that frees 64 MiB sends
 * discards and writeback that the next writer feels).
 */
static double spill_pair[2];

static double spill_spooled(void)
{
    spill_pair[0] = spill_spooled_once();
    spill_pair[1] = spill_otmpfile_once();
    spill_pair[1] += spill_otmpfile_once();
    spill_pair[0] += spill_spooled_once();
    return spill_pair[0] / 2;
}

static double spill_otmpfile(void)
{
    return spill_pair[1] / 2;   /* measured by spill_spooled, just before */
}

/* The floor of a rollover: 64 MiB already in memory (written once) written
 * to open(O_TMPFILE) in the chunks' largest pieces, as fill() does. */
static double rollover_floor(void)
{
    unsigned char *mem = malloc(big);
    if (!mem)
        die("malloc");
    copy_in(mem, sizeof src);
    double t0 = now();
    int fd = open_tmpfile();
    for (size_t done = 0; done < big;) {
        size_t piece = done ? done : 1024;   /* chunk sizes double, as the file's */
        if (piece > big - done)
            piece = big - done;
        if (write(fd, mem + done, piece) != (ssize_t)piece)
            die("write");
        done += piece;
    }
    close(fd);
    double t = now() - t0;
    free(mem);
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

#define SMALL(op, lower)                                                  \
    static double lower##_reuse(void) { return small_reuse(op); }          \
    static double lower##_fresh(void) { return small_fresh(op); }
SMALL(W1_FLOOR, w1_floor)
SMALL(W1_FLOOR_INLINE, w1_floor_inline)
SMALL(W1_TF, w1_tf)
SMALL(W1_TF_PUTC, w1_tf_putc)
SMALL(W1_PUTC, w1_putc)
SMALL(W1_PUTC_UNLOCKED, w1_putc_unlocked)
SMALL(W1_MEMSTREAM, w1_memstream)
SMALL(W4_FLOOR, w4_floor)
SMALL(W4_TF, w4_tf)
SMALL(W4_FWRITE, w4_fwrite)
SMALL(W4_FWRITE_BYCALLER, w4_fwrite_bycaller)
SMALL(W4_FWRITE_UNLOCKED, w4_fwrite_unlocked)
SMALL(W4_MEMSTREAM, w4_memstream)
SMALL(WFMT_FLOOR, wfmt_floor)
SMALL(WFMT_FPRINTF, wfmt_fprintf)
SMALL(WFMT_MEMSTREAM, wfmt_memstream)
#undef SMALL
#define READ(op, lower) static double lower##_reuse(void) { return small_reuse(op); }
READ(R1_FLOOR, r1_floor)
READ(R1_TF, r1_tf)
READ(R1_TF_GETC, r1_tf_getc)
READ(R1_GETC, r1_getc)
#undef READ

static const struct workload {
    const char *name;
    double (*run)(void);
    int small_op;   /* -1: not a small-access workload */
} workloads[] = {
#define S(lower, op) { #lower "_reuse", lower##_reuse, op }, { #lower "_fresh", lower##_fresh, -1 }
    S(w1_floor, W1_FLOOR),
    S(w1_floor_inline, W1_FLOOR_INLINE),
    S(w1_tf, W1_TF),
    S(w1_tf_putc, W1_TF_PUTC),
    S(w1_putc, W1_PUTC),
    S(w1_putc_unlocked, W1_PUTC_UNLOCKED),
    S(w1_memstream, W1_MEMSTREAM),
    S(w4_floor, W4_FLOOR),
    S(w4_tf, W4_TF),
    S(w4_fwrite, W4_FWRITE),
    S(w4_fwrite_bycaller, W4_FWRITE_BYCALLER),
    S(w4_fwrite_unlocked, W4_FWRITE_UNLOCKED),
    S(w4_memstream, W4_MEMSTREAM),
    S(wfmt_floor, WFMT_FLOOR),
    S(wfmt_fprintf, WFMT_FPRINTF),
    S(wfmt_memstream, WFMT_MEMSTREAM),
#define R(lower, op) { #lower "_reuse", lower##_reuse, op }   /* reads: of a written file */
    R(r1_floor, R1_FLOOR),
    R(r1_tf, R1_TF),
    R(r1_tf_getc, R1_TF_GETC),
    R(r1_getc, R1_GETC),
#undef R
#undef S
    { "spill_spooled", spill_spooled, -1 },
    { "spill_otmpfile", spill_otmpfile, -1 },
    { "rollover_big_floor", rollover_floor, -1 },
    { "one_byte_spooled", w_one_spooled, -1 },
    { "one_byte_spooled_stream", w_one_spooled_stream, -1 },
    { "one_byte_tempfile", w_one_tempfile, -1 },
    { "one_byte_tempfile_stream", w_one_tempfile_stream, -1 },
    { "one_byte_c_buffer", one_byte_buffer, -1 },
    { "w4k_spooled_fresh", w_4k_fresh, -1 },
    { "w4k_memcpy_fresh", m_4k_fresh, -1 },
    { "w64k_spooled_fresh", w_64k_fresh, -1 },
    { "w64k_memcpy_fresh", m_64k_fresh, -1 },
    { "w4k_spooled_reuse", w_4k_reuse, -1 },
    { "w4k_memcpy_reuse", m_4k_reuse, -1 },
    { "w64k_spooled_reuse", w_64k_reuse, -1 },
    { "w64k_memcpy_reuse", m_64k_reuse, -1 },
    { "rollover_1m", r_1m, -1 },
    { "rollover_big", r_big, -1 },
};
#define NWORK (sizeof workloads / sizeof *workloads)

/* The first pass of --ir, and the most operations it counts. */
#define IR_FILL ((size_t)1000000)

/* w1_, w4_, wfmt_, r1_: timed per operation. */
static int is_small(const char *name)
{
    return !strncmp(name, "w1_", 3) || !strncmp(name, "w4_", 3) ||
           !strncmp(name, "wfmt_", 5) || !strncmp(name, "r1_", 3);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --ir: n operations of one small-access workload after a fixed first pass
 * (so that two runs with different n differ by the operations alone). */
static int count_only(const char *name, size_t n)
{
    for (size_t w = 0; w < NWORK; w++) {
        if (workloads[w].small_op < 0 || strncmp(workloads[w].name, name, strlen(name)))
            continue;
        enum small_op op = (enum small_op)workloads[w].small_op;
        struct target t;
        target_open(&t, op);
        small_run(&t, filler(op), IR_FILL);
        target_rewind(&t);
        small_run(&t, op, n);
        int rolled = t.f ? tf_file_rolled(t.f) : 0;
        target_close(&t);
        return rolled;
    }
    fprintf(stderr, "spool_bench: no small-access workload %s\n", name);
    return 2;
}

int main(int argc, char **argv)
{
    int json = 0, rounds = 5;
    if (argc == 4 && !strcmp(argv[1], "--ir")) {
        size_t n = strtoul(argv[3], NULL, 10);
        small_max = 64 * MIB;
        return n > IR_FILL ? 2 : count_only(argv[2], n);
    }
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
            if (!strncmp(name, "one_byte", 8) || is_small(name))
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
