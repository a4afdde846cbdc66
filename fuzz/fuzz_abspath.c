/*
 * Path normalization: tf__abspath() against a reference written the plain
 * way (split into components, apply "." and "..", join), as Python's
 * posixpath.abspath; it must be idempotent and normal; and the creating
 * calls' fast path (tf__resolve: a normal absolute directory is used as it
 * is) must agree with it.
 *
 * Input: the path (up to its first NUL, at most 4096 bytes).
 */
#include "fuzz.h"
#include "tftest.h"

#include <limits.h>
#include <unistd.h>

/* posixpath.normpath of an absolute or relative path, joined to cwd first. */
static char *reference(const char *path)
{
    static char cwd[PATH_MAX];
    if (!cwd[0] && !getcwd(cwd, sizeof cwd))
        abort();
    size_t len = strlen(cwd) + strlen(path) + 2;
    char *joined = malloc(len), *out = malloc(len + 2);
    if (!joined || !out)
        abort();
    if (path[0] == '/')
        strcpy(joined, path);
    else
        snprintf(joined, len, "%s/%s", cwd, path);
    /* Exactly two leading slashes stay; one, or three and more, are one. */
    size_t lead = joined[0] == '/' && joined[1] == '/' && joined[2] != '/' ? 2 : 1;
    const char *comp[PATH_MAX];
    size_t clen[PATH_MAX], n = 0;
    for (char *c = joined; *c;) {
        while (*c == '/')
            c++;
        if (!*c)
            break;
        char *e = c;
        while (*e && *e != '/')
            e++;
        size_t l = (size_t)(e - c);
        if (l == 2 && c[0] == '.' && c[1] == '.') {
            if (n)
                n--;
        } else if (!(l == 1 && c[0] == '.')) {
            comp[n] = c;
            clen[n++] = l;
        }
        c = e;
    }
    char *o = out;
    for (size_t i = 0; i < lead; i++)
        *o++ = '/';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = '/';
        memcpy(o, comp[i], clen[i]);
        o += clen[i];
    }
    *o = '\0';
    free(joined);
    return out;
}

static void check_normal(const char *p)
{
    FUZZ_CHECK(p[0] == '/', "not absolute: %s", p);
    size_t lead = p[1] == '/' ? 2 : 1;
    FUZZ_CHECK(p[lead] != '/', "three leading slashes: %s", p);
    FUZZ_CHECK(!strstr(p + lead, "//"), "empty component: %s", p);
    size_t len = strlen(p);
    FUZZ_CHECK(len == lead || p[len - 1] != '/', "trailing slash: %s", p);
    for (const char *c = p + lead; *c;) {
        const char *e = strchrnul(c, '/');
        size_t l = (size_t)(e - c);
        FUZZ_CHECK(!(l == 1 && c[0] == '.') && !(l == 2 && c[0] == '.' && c[1] == '.'),
                   "dot component: %s", p);
        c = *e ? e + 1 : e;
    }
}

/* tf__resolve()'s directory, trailing slashes aside, is the normal form. */
static void check_resolve(const char *path, const char *want)
{
    struct tf__parts parts;
    if (tf__resolve(&(tf_opts){ .dir = path }, &parts) != 0) {
        FUZZ_CHECK(errno == ENOMEM, "tf__resolve(%s): errno %d", path, errno);
        return;
    }
    size_t len = parts.dlen, wlen = strlen(want);
    while (len > wlen && parts.dir[len - 1] == '/')
        len--;
    FUZZ_CHECK(len == wlen && memcmp(parts.dir, want, len) == 0,
               "tf__resolve(\"%s\") gives \"%s\", normal form \"%s\"", path, parts.dir, want);
    free(parts.owned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        size = 4096;
    char *path = malloc(size + 1);
    if (!path)
        abort();
    memcpy(path, data, size);
    path[size] = '\0';

    char *got = tf__abspath(path);
    FUZZ_CHECK(got, "tf__abspath(%s) failed: errno %d", path, errno);
    char *want = reference(path);
    FUZZ_CHECK(strcmp(got, want) == 0, "tf__abspath(\"%s\") = \"%s\", reference \"%s\"", path,
               got, want);
    check_normal(got);
    char *again = tf__abspath(got);
    FUZZ_CHECK(again && strcmp(again, got) == 0, "not idempotent: \"%s\" then \"%s\"", got,
               again ? again : "(null)");
    check_resolve(path, want);
    free(again);
    free(want);
    free(got);
    free(path);
    return 0;
}
