/*
 * Spooled temporary files (Python's SpooledTemporaryFile): the data lives in
 * memory until the file rolls over to a tf_temporary_file() on disk, after
 * which the handle simply switches to the descriptor backend of file.c.
 *
 * Memory layout. The data is held in chunks that never move: chunk 0 and 1
 * hold SPOOL_CHUNK bytes each, and every later chunk twice the one before, so
 * chunk k (k >= 1) covers [SPOOL_CHUNK << (k-1), SPOOL_CHUNK << k). Why chunks
 * rather than one realloc'd buffer:
 *  - growth never copies, so no stale copy of a secret is ever left behind in
 *    a freed block, and a write costs one memcpy of its bytes;
 *  - the allocated total is at most twice the file size (plus the first
 *    chunk), even at the moment of growth, where a doubling buffer briefly
 *    holds old + new = three times the data;
 *  - a position maps to its chunk with one count-leading-zeros.
 * Chunks are allocated by the writes that touch them; a chunk that is absent,
 * and the part of a chunk past what was ever written into it (`filled`),
 * read as zeros. So a truncate that grows costs no memory, nor does a gap
 * that a write leaves in absent chunks. A write in a chunk past its `filled`
 * part must zero the bytes in between, and a write far ahead needs a chunk as
 * large as its position: a write that would zero more than SPOOL_GAP_FREE or
 * take the memory past twice the bytes written (plus SPOOL_GAP_FREE) rolls
 * over first instead, and the gap becomes a hole of the disk file.
 *
 * The handle's window (internal.h) lets file.c serve small reads and writes
 * with one memcpy; every function here that looks at pos, len or filled first
 * folds the window back (settle) and reopens it when done (reopen).
 *
 * Secrets: every byte written is wiped (explicit_bzero) before its memory goes
 * back to the allocator: on truncate (the cut tail), on rollover and on close.
 * Only the `filled` prefix of a chunk is wiped: the rest was never written by
 * us, and touching it would fault in pages a large chunk never used.
 *
 * Rollover follows CPython 3.13 (Lib/tempfile.py) with one deliberate change:
 * CPython writes into memory and then rolls over when the position passed
 * max_size; here the write that would pass max_size rolls over first and
 * then writes to disk. The outcome is the same bytes and position, but the
 * data is copied once, the memory never exceeds max_size, and a failed
 * rollover leaves the file exactly as it was before the call. The call's own
 * work (the write, the ftruncate) is done on the new file before the handle
 * moves to it, so that a failure there leaves the file in memory too.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPOOL_SHIFT 9
#define SPOOL_CHUNK ((uint64_t)1 << SPOOL_SHIFT)
/* Enough chunks to address every non-negative 64-bit position. */
#define SPOOL_NCHUNKS (64 - SPOOL_SHIFT)

/* A gap a write may leave in memory (zeroed, or in a chunk allocated for
 * the write) before it goes to disk instead: see gap_rolls(). */
#define SPOOL_GAP_FREE ((uint64_t)1 << 20)

/* The largest off_t, whatever its width. */
#define SPOOL_OFF_MAX ((uint64_t)(((uint64_t)1 << (sizeof(off_t) * 8 - 1)) - 1))

struct tf__spool {
    uint64_t len;       /* file size */
    uint64_t pos;       /* position; may be past len */
    uint64_t max_size;  /* 0: never rolls over by size */
    tf_opts opts;       /* for the rollover's file; strings are ours */
    unsigned char *chunk[SPOOL_NCHUNKS];
    /* Bytes at the start of each chunk that were ever written (data or
     * zeros); chunk start + filled never exceeds len. */
    size_t filled[SPOOL_NCHUNKS];
    unsigned win_chunk;  /* the chunk the handle's window is open in */
};

void (*tf__spool_wipe_hook)(const void *p, size_t n, bool freed);

/* ---- chunk geometry ---------------------------------------------------- */

static unsigned chunk_of(uint64_t pos)
{
    uint64_t q = pos >> SPOOL_SHIFT;
    return q ? (unsigned)(64 - __builtin_clzll(q)) : 0;
}

static uint64_t chunk_start(unsigned k)
{
    return k ? SPOOL_CHUNK << (k - 1) : 0;
}

static uint64_t chunk_size(unsigned k)
{
    return k ? SPOOL_CHUNK << (k - 1) : SPOOL_CHUNK;
}

/* ---- memory ------------------------------------------------------------ */

/* Wipes what was written into chunk k, then frees it. */
static void chunk_free(struct tf__spool *s, unsigned k)
{
    if (!s->chunk[k])
        return;
    explicit_bzero(s->chunk[k], s->filled[k]);
    if (tf__spool_wipe_hook)
        tf__spool_wipe_hook(s->chunk[k], s->filled[k], true);
    free(s->chunk[k]);
    s->chunk[k] = NULL;
    s->filled[k] = 0;
}

static int chunk_alloc(struct tf__spool *s, unsigned k)
{
    if (chunk_size(k) > SIZE_MAX) {
        errno = ENOMEM;
        return -1;
    }
    s->chunk[k] = tf__sys.malloc((size_t)chunk_size(k));
    return s->chunk[k] ? 0 : -1;
}

/*
 * Allocates every chunk that [pos, pos + n) touches, or none: on failure the
 * chunks allocated here are freed again (they hold nothing yet), so the file
 * and its memory are as before.
 */
static int reserve(struct tf__spool *s, uint64_t pos, size_t n)
{
    unsigned first = chunk_of(pos), last = chunk_of(pos + n - 1);
    for (unsigned k = first; k <= last; k++) {
        if (s->chunk[k])
            continue;
        if (chunk_alloc(s, k) < 0) {
            int err = errno;
            while (k-- > first)
                if (s->filled[k] == 0)
                    chunk_free(s, k);
            errno = err;
            return -1;
        }
    }
    return 0;
}

/* The part of [pos, pos + n) inside one chunk: chunk *k from offset *off, the length. */
static size_t span(uint64_t pos, size_t n, unsigned *k, size_t *off)
{
    *k = chunk_of(pos);
    *off = (size_t)(pos - chunk_start(*k));
    size_t m = (size_t)chunk_size(*k) - *off;
    return m < n ? m : n;
}

/* Copies buf into [pos, pos + n), whose chunks are allocated. */
static void copy_in(struct tf__spool *s, uint64_t pos, const unsigned char *buf, size_t n)
{
    while (n) {
        unsigned k;
        size_t off, m = span(pos, n, &k, &off);
        /* Bytes between what was written and off read as zeros: make them so. */
        if (off > s->filled[k])
            memset(s->chunk[k] + s->filled[k], 0, off - s->filled[k]);
        memcpy(s->chunk[k] + off, buf, m);
        if (off + m > s->filled[k])
            s->filled[k] = off + m;
        pos += m;
        buf += m;
        n -= m;
    }
}

/* Copies [pos, pos + n) into buf; n stays within len. */
static void copy_out(const struct tf__spool *s, uint64_t pos, unsigned char *buf, size_t n)
{
    while (n) {
        unsigned k;
        size_t off, m = span(pos, n, &k, &off);
        size_t have = s->filled[k] > off ? s->filled[k] - off : 0;
        if (have > m)
            have = m;
        if (have)
            memcpy(buf, s->chunk[k] + off, have);
        memset(buf + have, 0, m - have);
        pos += m;
        buf += m;
        n -= m;
    }
}

/* Cuts the data at size: later chunks are freed, the cut tail wiped. */
static void cut(struct tf__spool *s, uint64_t size)
{
    for (unsigned k = 0; k < SPOOL_NCHUNKS; k++) {
        uint64_t start = chunk_start(k);
        if (start >= size) {
            chunk_free(s, k);
        } else if (s->filled[k] > size - start) {
            size_t keep = (size_t)(size - start);
            explicit_bzero(s->chunk[k] + keep, s->filled[k] - keep);
            if (tf__spool_wipe_hook)
                tf__spool_wipe_hook(s->chunk[k] + keep, s->filled[k] - keep, false);
            s->filled[k] = keep;
        }
    }
}

static void spool_free(struct tf__spool *s)
{
    cut(s, 0);
    free((char *)s->opts.dir);
    free((char *)s->opts.prefix);
    free((char *)s->opts.suffix);
    free(s);
}

/* ---- the window (internal.h) ------------------------------------------- */

/* Folds the window's writes and position into the spool, and closes it. */
static struct tf__spool *settle(tf_file *f)
{
    struct tf__spool *s = f->spool;
    struct tf__window *w = &f->win;
    if (w->at != tf__no_window) {
        unsigned k = s->win_chunk;
        uint64_t start = chunk_start(k);
        s->pos = start + (size_t)(w->at - s->chunk[k]);
        s->filled[k] = (size_t)((w->at > w->mark ? w->at : w->mark) - s->chunk[k]);
        if (start + s->filled[k] > s->len)
            s->len = start + s->filled[k];
        tf__window_close(w);
    }
    return s;
}

/* Opens the window at the position if its chunk holds data up to there. */
static void reopen(tf_file *f)
{
    struct tf__spool *s = f->spool;
    if (!s || f->closed)
        return;
    unsigned k = chunk_of(s->pos);
    uint64_t start = chunk_start(k);
    size_t off = (size_t)(s->pos - start);
    if (!s->chunk[k] || off > s->filled[k])
        return;
    /* A write may reach the chunk's end, and max_size (if set) but not pass it. */
    uint64_t room = chunk_size(k) - off;
    if (s->max_size) {
        uint64_t left = s->pos < s->max_size ? s->max_size - s->pos : 0;
        if (left < room)
            room = left;
    }
    s->win_chunk = k;
    f->win.at = s->chunk[k] + off;
    f->win.mark = s->chunk[k] + s->filled[k];
    f->win.end = f->win.at + room;
}

/* ---- rollover ---------------------------------------------------------- */

/*
 * Copies the data into the empty file open as disk->fd, once, and leaves the
 * size and position those of s. A chunk that is absent or only partly
 * written leaves a hole, which reads as zeros, as it did in memory.
 */
static int fill(tf_file *disk, const struct tf__spool *s)
{
    uint64_t at = 0;
    for (unsigned k = 0; k < SPOOL_NCHUNKS && chunk_start(k) < s->len; k++) {
        if (!s->filled[k])
            continue;
        uint64_t start = chunk_start(k);
        if (at != start && tf__fd_ops.seek(disk, (off_t)start, SEEK_SET) < 0)
            return -1;
        if (tf__fd_ops.write(disk, s->chunk[k], s->filled[k]) < 0)
            return -1;
        at = start + s->filled[k];
    }
    if (at != s->len && tf__fd_ops.truncate(disk, (off_t)s->len) < 0)
        return -1;
    return tf__fd_ops.seek(disk, (off_t)s->pos, SEEK_SET) < 0 ? -1 : 0;
}

/* What a call does on the disk file before the handle moves to it. */
struct then {
    const void *buf;   /* write these n bytes, */
    size_t n;
    off_t size;        /* or (buf NULL, size >= 0) truncate to size */
};

static int do_then(tf_file *disk, const struct then *t)
{
    if (t->buf)
        return tf__fd_ops.write(disk, t->buf, t->n) < 0 ? -1 : 0;
    return t->size >= 0 ? tf__fd_ops.truncate(disk, t->size) : 0;
}

/*
 * Rolls over, all or nothing: the data goes into a new nameless file, then
 * `then` runs on it, and only when both succeeded does the handle move to it
 * (the memory is wiped and freed). On any failure the new file is closed,
 * which removes it, and the handle is in memory exactly as before.
 */
static int roll(tf_file *f, const struct then *t)
{
    struct tf__spool *s = settle(f);
    tf_file disk = { .ops = &tf__fd_ops, .fd = tf__create_unnamed(&s->opts) };
    if (disk.fd < 0)
        return -1;
    if (fill(&disk, s) < 0 || do_then(&disk, t) < 0) {
        tf__close_keep_errno(disk.fd);   /* nameless: closing removes it */
        return -1;
    }
    f->fd = disk.fd;
    f->ops = &tf__fd_ops;
    f->spool = NULL;
    spool_free(s);
    return 0;
}

/* ---- the memory backend ------------------------------------------------ */

/* CPython's _check: a write leaving the position past max_size rolls over. */
static bool write_rolls(const struct tf__spool *s, size_t n)
{
    return s->max_size && (s->pos > s->max_size || n > s->max_size - s->pos);
}

/*
 * Whether a write of n bytes at the position would make memory pay for a
 * gap: zero more than SPOOL_GAP_FREE bytes before it, or allocate chunks
 * that would take the memory past twice the bytes written plus
 * SPOOL_GAP_FREE (a write at 1 TiB into an empty file would need a 1 TiB
 * chunk). Such a write goes to disk, where the gap is a hole.
 */
static bool gap_rolls(const struct tf__spool *s, size_t n)
{
    unsigned first = chunk_of(s->pos), last = chunk_of(s->pos + n - 1);
    size_t off = (size_t)(s->pos - chunk_start(first));
    if (off > s->filled[first] && off - s->filled[first] > SPOOL_GAP_FREE)
        return true;
    unsigned k = first;
    while (k <= last && s->chunk[k])
        k++;
    if (k > last)   /* nothing to allocate */
        return false;
    uint64_t held = n, mem = 0;
    for (k = 0; k < SPOOL_NCHUNKS; k++) {
        held += s->filled[k];
        if (s->chunk[k] || (k >= first && k <= last))
            mem += chunk_size(k);
    }
    return mem > 2 * held + SPOOL_GAP_FREE;
}

/* Writes into memory; a write that rolls over writes to disk after. */
static ssize_t write_mem(tf_file *f, const void *buf, size_t n)
{
    struct tf__spool *s = f->spool;
    if (write_rolls(s, n))
        return roll(f, &(struct then){ .buf = buf, .n = n }) < 0 ? -1 : (ssize_t)n;
    if (n == 0)   /* as write(2): no bytes, no change, even past the end */
        return 0;
    if (s->pos > SPOOL_OFF_MAX || n > SPOOL_OFF_MAX - s->pos) {
        errno = EFBIG;
        return -1;
    }
    if (gap_rolls(s, n))
        return roll(f, &(struct then){ .buf = buf, .n = n }) < 0 ? -1 : (ssize_t)n;
    if (reserve(s, s->pos, n) < 0)
        return -1;
    copy_in(s, s->pos, buf, n);
    s->pos += n;
    if (s->pos > s->len)
        s->len = s->pos;
    return (ssize_t)n;
}

/* Writes that the window (file.c) could not take. */
static ssize_t mem_write(tf_file *f, const void *buf, size_t n)
{
    settle(f);
    ssize_t r = write_mem(f, buf, n);
    reopen(f);
    return r;
}

static ssize_t mem_read(tf_file *f, void *buf, size_t n)
{
    struct tf__spool *s = settle(f);
    if (s->pos < s->len) {
        if (n > s->len - s->pos)
            n = (size_t)(s->len - s->pos);
        if (n > SSIZE_MAX)
            n = SSIZE_MAX;
        copy_out(s, s->pos, buf, n);
        s->pos += n;
    } else {
        n = 0;
    }
    reopen(f);
    return (ssize_t)n;
}

/* lseek(2)'s rules: EINVAL for a bad whence or a negative result. */
static off_t seek_mem(struct tf__spool *s, off_t off, int whence)
{
    uint64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = s->pos; break;
    case SEEK_END: base = s->len; break;
    default: errno = EINVAL; return -1;
    }
    if (off >= 0 && (uint64_t)off > SPOOL_OFF_MAX - base) {
        errno = EOVERFLOW;
        return -1;
    }
    uint64_t back = off < 0 ? (uint64_t)-(off + 1) + 1 : 0;   /* -off, even for the minimum */
    if (back > base) {
        errno = EINVAL;
        return -1;
    }
    s->pos = off >= 0 ? base + (uint64_t)off : base - back;
    return (off_t)s->pos;
}

static off_t mem_seek(tf_file *f, off_t off, int whence)
{
    off_t r = seek_mem(settle(f), off, whence);
    reopen(f);
    return r;
}

/*
 * CPython rolls over when size > max_size, even for max_size 0 (so
 * truncate(1) of a max_size 0 file goes to disk). Growing in memory adds
 * zeros, as a file does (CPython's BytesIO would ignore a growing truncate).
 */
static int mem_truncate(tf_file *f, off_t size)
{
    struct tf__spool *s = settle(f);
    int rc = 0;
    if ((uint64_t)size > s->max_size) {
        rc = roll(f, &(struct then){ .size = size });
    } else {
        if ((uint64_t)size < s->len)
            cut(s, (uint64_t)size);
        s->len = (uint64_t)size;
    }
    reopen(f);
    return rc;
}

static int mem_fileno(tf_file *f)
{
    int rc = roll(f, &(struct then){ .size = -1 });
    reopen(f);
    return rc < 0 ? -1 : f->fd;
}

static int mem_close(tf_file *f)
{
    spool_free(settle(f));
    f->spool = NULL;
    return 0;
}

static const struct tf__file_ops mem_ops = {
    .read = mem_read,
    .write = mem_write,
    .seek = mem_seek,
    .truncate = mem_truncate,
    .fileno = mem_fileno,
    .close = mem_close,
};

int tf_file_rollover(tf_file *f)
{
    if (!f || f->closed) {
        errno = f ? EBADF : EINVAL;
        return -1;
    }
    if (f->ops != &mem_ops)
        return 0;
    return mem_fileno(f) < 0 ? -1 : 0;
}

int tf_file_rolled(const tf_file *f)
{
    if (!f) {
        errno = EINVAL;
        return -1;
    }
    return f->ops != &mem_ops;
}

/* ---- creation ---------------------------------------------------------- */

/* Copies an optional string through the seam's allocator. */
static int copy_opt(const char **dst, const char *src)
{
    *dst = src ? tf__strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

static struct tf__spool *spool_new(const tf_opts *opts)
{
    struct tf__spool *s = tf__sys.malloc(sizeof *s);
    if (!s)
        return NULL;
    *s = (struct tf__spool){ .max_size = opts->max_size, .opts = *opts };
    s->opts.dir = s->opts.prefix = s->opts.suffix = NULL;
    if (copy_opt(&s->opts.dir, opts->dir) < 0 ||
        copy_opt(&s->opts.prefix, opts->prefix) < 0 ||
        copy_opt(&s->opts.suffix, opts->suffix) < 0) {
        int err = errno;
        spool_free(s);
        errno = err;
        return NULL;
    }
    return s;
}

tf_file *tf_spooled_temporary_file(const tf_opts *opts)
{
    static const tf_opts defaults;
    if (!opts)
        opts = &defaults;
    /* Checked now, as creation would at rollover: fail early, not on a write. */
    if (tf__check_opts(opts) < 0)
        return NULL;
    struct tf__spool *s = spool_new(opts);
    if (!s)
        return NULL;
    tf_file *f = tf__file_new(-1, NULL, opts->flags);
    if (!f) {
        int err = errno;
        spool_free(s);
        errno = err;
        return NULL;
    }
    f->ops = &mem_ops;
    f->spool = s;
    return f;
}
