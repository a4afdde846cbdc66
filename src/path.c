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

/* The length of a name part, or -1 if it holds a '/'. One pass: names are short. */
static ssize_t part_len(const char *s)
{
    const char *c = s;
    for (; *c; c++)
        if (*c == '/')
            return -1;
    return c - s;
}

/* Python's defaults for a missing prefix or suffix. */
static const char *prefix_of(const tf_opts *o)
{
    return o->prefix ? o->prefix : tf_gettempprefix();
}

static const char *suffix_of(const tf_opts *o)
{
    return o->suffix ? o->suffix : "";
}

const char *tf__resolve_dir(const tf_opts *opts, char **owned, size_t lens[2])
{
    static const tf_opts defaults;
    const tf_opts *o = opts ? opts : &defaults;
    ssize_t pl = part_len(prefix_of(o)), sl = part_len(suffix_of(o));
    if (pl < 0 || sl < 0 || (o->mode & ~(mode_t)07777)) {
        errno = EINVAL;
        return NULL;
    }
    if ((size_t)pl + TF_RANDOM_CHARS + (size_t)sl > NAME_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    lens[0] = (size_t)pl;
    lens[1] = (size_t)sl;
    /* An absolute, normal dir is used as it is: no copy on the hot path.
     * Anything else, the tf_settempdir() override included, is made absolute
     * as Python's abspath does ("" is the working directory). */
    *owned = NULL;
    const char *dir = o->dir ? o->dir : tf_gettempdir();
    if (dir && (dir[0] != '/' || needs_normalizing(dir)))
        dir = *owned = tf__abspath(dir);
    return dir;
}

int tf__template_init(struct tf__template *t, const tf_opts *opts)
{
    char *owned;
    size_t lens[2];
    const char *dir = tf__resolve_dir(opts, &owned, lens);
    if (!dir)
        return -1;
    static const tf_opts defaults;
    const tf_opts *o = opts ? opts : &defaults;
    const char *prefix = prefix_of(o), *suffix = suffix_of(o);
    size_t dlen = strlen(dir), plen = lens[0], slen = lens[1];
    size_t slash = dir[dlen - 1] != '/';
    size_t total = dlen + slash + plen + TF_RANDOM_CHARS + slen;
    char *p = total < PATH_MAX ? tf__sys.malloc(total + 1) : NULL;
    if (!p) {
        if (total >= PATH_MAX)
            errno = ENAMETOOLONG;
        free(owned);
        return -1;
    }
    memcpy(p, dir, dlen);
    p[dlen] = '/';
    memcpy(p + dlen + slash, prefix, plen);
    /* The random part is written by each try (tf__try_names). */
    memcpy(p + dlen + slash + plen + TF_RANDOM_CHARS, suffix, slen + 1);
    free(owned);
    t->path = p;
    t->rand_off = dlen + slash + plen;
    return 0;
}
