/*
 * Paths: Python's abspath, and the name template every creating call fills
 * in with random characters.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *tf__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = tf__sys.malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *tf__strdup_trimmed(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    char *d = tf__sys.malloc(len + 1);
    if (d) {
        memcpy(d, path, len);
        d[len] = '\0';
    }
    return d;
}

/*
 * Lexical normalization of an absolute path, in place, as posixpath.normpath:
 * no "." or empty components, ".." removes the one before it (none above the
 * root), and exactly two leading slashes are kept as POSIX allows.
 */
static void normalize(char *s)
{
    size_t lead = (s[1] == '/' && s[2] != '/') ? 2 : 1;
    char *start = s + lead, *out = start;
    const char *in = start;

    while (*in) {
        while (*in == '/')
            in++;
        if (!*in)
            break;
        const char *end = strchrnul(in, '/');
        size_t len = (size_t)(end - in);
        if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > start && out[-1] != '/')
                out--;
            if (out > start)
                out--;
        } else if (!(len == 1 && in[0] == '.')) {
            if (out > start)
                *out++ = '/';
            memmove(out, in, len);
            out += len;
        }
        in = end;
    }
    *out = '\0';
}

/* 16 bytes as a vector: the compiler's generic vectors (SSE2 on x86-64). */
typedef unsigned char tf__v16 __attribute__((vector_size(16)));
typedef signed char tf__v16s __attribute__((vector_size(16)));

/*
 * Is one of the 16 byte pairs (p[i], p[i + 1]) "//" or "/."? ('/' is 0x2f, '.'
 * 0x2e: b is one of them iff b | 1 is '/'.) Reads p[0..16].
 */
static inline bool has_bad_pair(const char *p)
{
    tf__v16 a, b;
    memcpy(&a, p, sizeof a);
    memcpy(&b, p + 1, sizeof b);
    tf__v16s hit = ((a ^ '/') | ((b | 1) ^ '/')) == 0;
    uint64_t h[2];
    memcpy(h, &hit, sizeof h);
    return (h[0] | h[1]) != 0;
}

/*
 * Could normalize() change this absolute path of length len? Only through a
 * ".", ".." or empty component, so a path with no "/." and no "//" is normal;
 * a false alarm (".hidden") only costs a normalization. Sixteen pairs a step:
 * every creation runs this.
 */
static inline bool needs_normalizing(const char *p, size_t len)
{
    if (len < 17) {
        /* Zeros after the path pair with nothing. */
        char pad[17] = { 0 };
        memcpy(pad, p, len);
        return has_bad_pair(pad);
    }
    /* Pairs starting at 0..len-2; the last step overlaps the one before. */
    for (size_t i = 0; i + 17 <= len; i += 16)
        if (has_bad_pair(p + i))
            return true;
    return has_bad_pair(p + len - 17);
}

char *tf__abspath(const char *path)
{
    char *joined;
    if (path[0] == '/') {
        joined = tf__strdup(path);
    } else {
        char *cwd = tf__sys.getcwd(NULL, 0);
        if (!cwd)
            return NULL;
        /* As posixpath.join: no second '/' after a cwd of "/" (or "//"). */
        size_t clen = strlen(cwd), plen = strlen(path), slash = cwd[clen - 1] != '/';
        joined = tf__sys.malloc(clen + slash + plen + 1);
        if (joined) {
            memcpy(joined, cwd, clen);
            joined[clen] = '/';
            memcpy(joined + clen + slash, path, plen + 1);
        }
        free(cwd);
    }
    if (joined)
        normalize(joined);
    return joined;
}

/* Measures a name part into *len; -1 (EINVAL) if it holds a '/'. One pass: names are short. */
static int measure(const char *part, size_t *len)
{
    const char *c = part;
    for (; *c; c++) {
        if (*c == '/') {
            errno = EINVAL;
            return -1;
        }
    }
    *len = (size_t)(c - part);
    return 0;
}

static const char default_prefix[] = TF__PREFIX;

/* The name prefix + random + suffix must fit in a directory entry. */
static inline int fits(size_t plen, size_t slen)
{
    if (plen + TF_RANDOM_CHARS + slen <= NAME_MAX)
        return 0;
    errno = ENAMETOOLONG;
    return -1;
}

int tf__check_name_parts(const char *prefix, const char *suffix, size_t *plen, size_t *slen)
{
    if (measure(prefix, plen) < 0 || measure(suffix, slen) < 0)
        return -1;
    return fits(*plen, *slen);
}

/* Everything in opts that can be checked without touching the filesystem;
 * p receives the name parts. The default prefix and suffix need no
 * measuring: this runs on every creation. */
static inline __attribute__((always_inline)) int check_opts(const tf_opts *o, struct tf__parts *p)
{
    p->prefix = default_prefix;
    p->plen = sizeof default_prefix - 1;
    p->suffix = "";
    p->slen = 0;
    p->owned = NULL;
    if (o->prefix && measure(p->prefix = o->prefix, &p->plen) < 0)
        return -1;
    if (o->suffix && measure(p->suffix = o->suffix, &p->slen) < 0)
        return -1;
    if ((o->mode & ~(mode_t)07777) || (o->flags & ~(unsigned)TF__OPTS_FLAGS)) {
        errno = EINVAL;
        return -1;
    }
    return fits(p->plen, p->slen);
}

static const tf_opts defaults;

int tf__check_opts(const tf_opts *opts)
{
    struct tf__parts p;
    return check_opts(opts ? opts : &defaults, &p);
}

/* tf__resolve(), inlined into the template's construction (the hot path). */
static inline __attribute__((always_inline)) int resolve(const tf_opts *opts, struct tf__parts *p)
{
    const tf_opts *o = opts ? opts : &defaults;
    if (check_opts(o, p) < 0)
        return -1;
    /* An absolute, normal dir is used as it is: no copy on the hot path.
     * Anything else, the tf_settempdir() override included, is made absolute
     * as Python's abspath does ("" is the working directory). */
    p->dir = o->dir ? o->dir : tf_gettempdir();
    if (!p->dir)
        return -1;
    p->dlen = strlen(p->dir);
    if (p->dir[0] != '/' || needs_normalizing(p->dir, p->dlen)) {
        p->dir = p->owned = tf__abspath(p->dir);
        if (!p->dir)
            return -1;
        p->dlen = strlen(p->dir);
    }
    return 0;
}

int tf__resolve(const tf_opts *opts, struct tf__parts *p)
{
    return resolve(opts, p);
}

int tf__template_init(struct tf__template *t, const tf_opts *opts)
{
    struct tf__parts n;
    if (resolve(opts, &n) < 0)
        return -1;
    size_t dlen = n.dlen;
    size_t slash = n.dir[dlen - 1] != '/';
    size_t total = dlen + slash + n.plen + TF_RANDOM_CHARS + n.slen;
    char *p = total < PATH_MAX ? tf__sys.malloc(total + 1) : NULL;
    if (!p) {
        if (total >= PATH_MAX)
            errno = ENAMETOOLONG;
        free(n.owned);
        return -1;
    }
    memcpy(p, n.dir, dlen);
    p[dlen] = '/';
    /* A call to memcpy costs more than the copy of the default prefix. */
    if (n.prefix == default_prefix)
        memcpy(p + dlen + slash, default_prefix, sizeof default_prefix - 1);
    else
        memcpy(p + dlen + slash, n.prefix, n.plen);
    /* The random part is written by each try (tf__try_names). */
    if (n.slen)
        memcpy(p + total - n.slen, n.suffix, n.slen);
    p[total] = '\0';
    if (n.owned)
        free(n.owned);
    t->path = p;
    t->rand_off = dlen + slash + n.plen;
    return 0;
}
