/*
 * Paths: Python's abspath, and the name template every creating call fills
 * in with random characters.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
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

/*
 * Could normalize() change this absolute path? Only through a "." or ".."
 * component or an empty one, so a path with no "/." and no "//" is normal. A
 * false alarm (".hidden") only costs a normalization.
 */
static bool needs_normalizing(const char *p)
{
    for (const char *s = p; (s = strchr(s, '/')); s++)
        if (s[1] == '/' || s[1] == '.')
            return true;
    return false;
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

struct tf__mode tf__mode(const tf_opts *opts, mode_t fallback)
{
    if (opts && opts->mode)
        return (struct tf__mode){ opts->mode, true };
    return (struct tf__mode){ fallback, false };
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

int tf__resolve(const tf_opts *opts, struct tf__parts *p)
{
    static const tf_opts defaults;
    const tf_opts *o = opts ? opts : &defaults;
    p->prefix = o->prefix ? o->prefix : tf_gettempprefix();
    p->suffix = o->suffix ? o->suffix : "";
    p->owned = NULL;
    if (measure(p->prefix, &p->plen) < 0 || measure(p->suffix, &p->slen) < 0)
        return -1;
    if (o->mode & ~(mode_t)07777) {
        errno = EINVAL;
        return -1;
    }
    if (p->plen + TF_RANDOM_CHARS + p->slen > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* An absolute, normal dir is used as it is: no copy on the hot path.
     * Anything else, the tf_settempdir() override included, is made absolute
     * as Python's abspath does ("" is the working directory). */
    p->dir = o->dir ? o->dir : tf_gettempdir();
    if (p->dir && (p->dir[0] != '/' || needs_normalizing(p->dir)))
        p->dir = p->owned = tf__abspath(p->dir);
    return p->dir ? 0 : -1;
}

int tf__template_init(struct tf__template *t, const tf_opts *opts)
{
    struct tf__parts n;
    if (tf__resolve(opts, &n) < 0)
        return -1;
    size_t dlen = strlen(n.dir);
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
    memcpy(p + dlen + slash, n.prefix, n.plen);
    /* The random part is written by each try (tf__try_names). */
    memcpy(p + dlen + slash + n.plen + TF_RANDOM_CHARS, n.suffix, n.slen + 1);
    free(n.owned);
    t->path = p;
    t->rand_off = dlen + slash + n.plen;
    return 0;
}
