/*
 * Shared by the persist, replace and lock-file tests: reading files back,
 * and failing every seam call of an operation in turn.
 */
#ifndef DURABLE_HELPERS_H
#define DURABLE_HELPERS_H

#include "tftest.h"

#include <fcntl.h>
#include <unistd.h>

/* The errors the issue names, each injected into every seam call in turn. */
static const int DURABLE_ERRS[] = { ENOSPC, EIO, EDQUOT, EACCES, EINTR, ENOMEM, EXDEV };
#define DURABLE_NERRS (sizeof DURABLE_ERRS / sizeof DURABLE_ERRS[0])

/* Seam entries that an operation may call. */
static const char *const DURABLE_ENTRIES[] = {
    "openat", "close", "read", "write", "pread", "fstat", "fstatat", "unlinkat", "fchmod",
    "getrandom", "flock", "renameat2", "linkat", "fsync", "fchown", "readlinkat",
    "llistxattr", "lgetxattr", "listxattrat", "getxattrat", "fsetxattr", "fgetxattr", "fremovexattr",
    "copy_file_range",
    "fcntl", "malloc", NULL
};

/* Content of path, or "<missing>". Caller frees. */
static inline char *content_of(const char *path)
{
    char *s = read_file_str(path);
    return s ? s : strdup("<missing>");
}

static inline void assert_content(const char *path, const char *want)
{
    char *got = content_of(path);
    if (strcmp(got, want) != 0)
        fail_msg("%s: expected \"%s\", got \"%s\"", path, want, got);
    free(got);
}

/*
 * An operation under test, run once per injected fault. It returns what the
 * call returned (< 0 failed); check(ok, ctx) then asserts the state for
 * that outcome and cleans up for the next run (returns non-zero to fail).
 */
struct durable_case {
    int (*run)(void *ctx);
    void (*check)(bool ok, void *ctx);
    void *ctx;
};

/*
 * For every entry and error, fails call 1, 2, ... of it until a run makes
 * fewer calls than n (every call was tried). Returns how many injected runs
 * failed the operation.
 */
static inline unsigned long durable_fail_each(const struct durable_case *c)
{
    unsigned long failed_runs = 0;
    for (size_t e = 0; DURABLE_ENTRIES[e]; e++) {
        for (size_t k = 0; k < DURABLE_NERRS; k++) {
            for (unsigned long n = 1;; n++) {
                fault_arm(DURABLE_ENTRIES[e], n, DURABLE_ERRS[k]);
                int rc = c->run(c->ctx);
                unsigned long hits = fault_hits();
                fault_reset();
                c->check(rc >= 0, c->ctx);
                if (rc < 0)
                    failed_runs++;
                if (!hits)
                    break;
            }
        }
    }
    return failed_runs;
}

/* ---- self-checking contents -------------------------------------------- */

/* FNV-1a, to tell a whole content from a torn one. */
static inline uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* Content number seq: "seq size hash\n" then size bytes, sizes alternating
 * between small and large. malloc'd; *n receives the length. */
static inline char *make_content(long seq, size_t *n)
{
    size_t size = seq % 2 ? 200000 + (size_t)(seq % 7) * 1000 : 3000 + (size_t)(seq % 5) * 100;
    char *buf = malloc(size + 64);
    for (size_t i = 0; i < size; i++)
        buf[64 + i] = (char)('a' + (seq * 31 + (long)i) % 26);
    int h = snprintf(buf, 64, "%ld %zu %016llx\n", seq, size,
                     (unsigned long long)fnv(buf + 64, size));
    memmove(buf + h, buf + 64, size);
    *n = (size_t)h + size;
    return buf;
}

/* The seq of a whole content read from path; -1 missing, -2 torn or empty. */
static inline long check_content(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long seq;
    size_t size;
    unsigned long long hash;
    long rc = -2;
    if (fscanf(f, "%ld %zu %llx", &seq, &size, &hash) == 3 && fgetc(f) == '\n') {
        char *buf = malloc(size + 1);
        if (fread(buf, 1, size + 1, f) == size && fnv(buf, size) == hash)
            rc = seq;
        free(buf);
    }
    fclose(f);
    return rc;
}

/* ---- syscall order --------------------------------------------------- */

/* The durable steps a run made, in order: "F" fsync of a file, "D" fsync of a
 * directory, "R" a rename, "L" a link; at most 31. */
static char durable_trace[32];

static inline void trace_add(char c)
{
    size_t n = strlen(durable_trace);
    if (n + 1 < sizeof durable_trace)
        durable_trace[n] = c, durable_trace[n + 1] = '\0';
}

static inline int trace_fsync(int fd)
{
    struct stat st;
    trace_add(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? 'D' : 'F');
    return tf__sys_default.fsync(fd);
}

static inline int trace_renameat2(int od, const char *op, int nd, const char *np, unsigned fl)
{
    trace_add('R');
    return tf__sys_default.renameat2(od, op, nd, np, fl);
}

static inline int trace_linkat(int od, const char *op, int nd, const char *np, int fl)
{
    trace_add('L');
    return tf__sys_default.linkat(od, op, nd, np, fl);
}

/* Records from now on (fault_reset() stops it). */
static inline void trace_start(void)
{
    durable_trace[0] = '\0';
    tf__sys.fsync = trace_fsync;
    tf__sys.renameat2 = trace_renameat2;
    tf__sys.linkat = trace_linkat;
}

/* A scratch directory on tmpfs (fast fsync), malloc'd; NULL if none. */
static inline char *shm_scratch(void)
{
    char *d = strdup("/dev/shm/tftest-XXXXXX");
    if (!mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

#endif
