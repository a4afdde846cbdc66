/*
 * Helpers shared by the example programs (header only, so that every example
 * stays one self-contained program: cc ex_xxx.c -ltempfile).
 *
 * An example prints what its Python original prints, on stdout, and checks
 * its own results: a failed check goes to stderr and makes the exit status 1,
 * but the program carries on, so that the cleanup after the check still runs
 * and nothing is left behind.
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tempfile.h>

/* The exit status: 0 while every check has passed. */
static int ex_status __attribute__((unused));

#define CHECK(cond) ex_check((cond), #cond, __FILE__, __LINE__)

static inline bool ex_check(bool ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
        ex_status = 1;
    }
    return ok;
}

/* A call failed: name it with errno's message, mark the run failed, return 1
 * (so that `return ex_fail("call");` ends main with a failure). */
static inline int ex_fail(const char *call)
{
    int err = errno;

    fprintf(stderr, "%s: %s\n", call, strerror(err));
    ex_status = 1;
    return 1;
}

/* True if nothing is left at path, not even a dangling symbolic link. */
static inline bool ex_gone(const char *path)
{
    struct stat st;

    return lstat(path, &st) == -1 && errno == ENOENT;
}

/* Reads up to cap bytes of the file at path, as Python's open(path, 'rb').read().
 * Returns the count, or -1 with errno set. */
static inline ssize_t ex_read_file(const char *path, void *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;

    if (fd == -1)
        return -1;
    while (got < cap) {
        ssize_t n = read(fd, (char *)buf + got, cap - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == -1) {
                int err = errno;
                close(fd);
                errno = err;
                return -1;
            }
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    return (ssize_t)got;
}

/*
 * True if path is what the library promises for these options: absolute, in
 * dir (any directory if dir is NULL), named prefix + TF_RANDOM_CHARS
 * characters of [a-z0-9_] + suffix.
 */
static inline bool ex_name_ok(const char *path, const char *dir,
                              const char *prefix, const char *suffix)
{
    const char *base, *rnd;
    size_t plen = strlen(prefix), slen = strlen(suffix);

    if (path == NULL || path[0] != '/')
        return false;
    base = strrchr(path, '/') + 1;
    if (dir != NULL && ((size_t)(base - 1 - path) != strlen(dir) ||
                        strncmp(path, dir, strlen(dir)) != 0))
        return false;
    if (strlen(base) != plen + TF_RANDOM_CHARS + slen ||
        strncmp(base, prefix, plen) != 0 ||
        strcmp(base + plen + TF_RANDOM_CHARS, suffix) != 0)
        return false;
    rnd = base + plen;
    /* The length check above keeps every rnd[i] from being the terminator. */
    for (int i = 0; i < TF_RANDOM_CHARS; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_", rnd[i]))
            return false;
    return true;
}

/* Prints n bytes as Python's repr() of a bytes object: b'Hello\x00'. */
static inline void ex_print_pybytes(const void *buf, size_t n)
{
    const unsigned char *p = buf;

    fputs("b'", stdout);
    for (size_t i = 0; i < n; i++) {
        switch (p[i]) {
        case '\\': fputs("\\\\", stdout); break;
        case '\'': fputs("\\'", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (p[i] >= 0x20 && p[i] < 0x7f)
                putchar(p[i]);
            else
                printf("\\x%02x", p[i]);
        }
    }
    putchar('\'');
}

/* Prints a path as Python's repr() of a str prints it: '/tmp/tmpab12cd34'. */
static inline void ex_print_pystr(const char *s)
{
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\\' || *s == '\'')
            putchar('\\');
        putchar(*s);
    }
    putchar('\'');
}

#endif /* EXAMPLE_H */
