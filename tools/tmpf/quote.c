/*
 * tmpf: quoting as coreutils does it, so that mktemp's and shred's messages
 * are byte for byte those of coreutils. quote() (gnulib's locale quoting
 * style): 'arg' in a C locale, U+2018 arg U+2019 in a UTF-8 one; a
 * backslash, the closing quote and whatever does not print come out as C
 * escapes. quotef() (the shell escape style): a name as a shell would take
 * it back, whatever does not print as $'\ooo', never raw.
 */
#include <ctype.h>
#include <errno.h>
#include <langinfo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "tmpf.h"

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            tmpf_error(errno, "cannot quote a message");
            exit(TMPF_FAILURE);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_escape(struct buf *b, unsigned char c)
{
    static const char from[] = "\a\b\f\n\r\t\v", to[] = "abfnrtv";
    const char *hit = c ? strchr(from, c) : NULL;
    char e[5];
    if (hit)
        snprintf(e, sizeof e, "\\%c", to[hit - from]);
    else
        snprintf(e, sizeof e, "\\%03o", c);
    put(b, e, strlen(e));
}

/* Bytes at s forming one printable character of the locale, 0 if none. */
static size_t printable(const char *s, size_t left, int multibyte)
{
    if (!multibyte)
        return isprint((unsigned char)*s) ? 1 : 0;
    mbstate_t st = { 0 };
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, left, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0 || !iswprint((wint_t)wc))
        return 0;
    return n;
}

const char *tmpf_quote(const char *arg)
{
    static struct buf b;
    int utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    const char *open = utf8 ? "\xe2\x80\x98" : "'";
    const char *close = utf8 ? "\xe2\x80\x99" : "'";
    size_t close_len = strlen(close), len = strlen(arg);
    int multibyte = MB_CUR_MAX > 1;

    b.len = 0;
    put(&b, open, strlen(open));
    for (size_t i = 0; i < len;) {
        if (arg[i] == '\\' || strncmp(arg + i, close, close_len) == 0) {
            put(&b, "\\", 1);
            size_t n = arg[i] == '\\' ? 1 : close_len;
            put(&b, arg + i, n);
            i += n;
            continue;
        }
        size_t n = printable(arg + i, len - i, multibyte);
        if (n) {
            put(&b, arg + i, n);
            i += n;
        } else {
            put_escape(&b, (unsigned char)arg[i]);
            i++;
        }
    }
    put(&b, close, close_len);
    return b.p;
}

static bool shell_safe(const char *name, const char *p)
{
    unsigned char c = (unsigned char)*p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("%+,-./@_", c))
        return true;
    return (c == '~' || c == '#') && p != name;   /* special only first */
}

char *tmpf_quotef(const char *name)
{
    size_t len = strlen(name);
    int multibyte = MB_CUR_MAX > 1;
    bool safe = len > 0, dq = true, quotes = false, unprintable = false;
    for (size_t i = 0; i < len;) {
        size_t n = printable(name + i, len - i, multibyte);
        if (!n) {
            unprintable = true;
            n = 1;
        } else if (n == 1) {
            safe = safe && shell_safe(name, name + i);
            quotes = quotes || name[i] == '\'';
            dq = dq && !strchr("$`\"\\!", name[i]);
        }
        i += n;
    }
    struct buf b = { 0 };
    put(&b, "", 0);
    if (safe && !unprintable) {
        put(&b, name, len);
        return b.p;
    }
    if (quotes && dq && !unprintable) {   /* "it's" */
        put(&b, "\"", 1), put(&b, name, len), put(&b, "\"", 1);
        return b.p;
    }
    /* In single quotes; a quote as '\''; what does not print as '$'\ooo''
     * (C escapes in a $'...' of its own, the single quotes reopened after). */
    bool esc = false;
    put(&b, "'", 1);
    for (size_t i = 0; i < len;) {
        size_t n = printable(name + i, len - i, multibyte);
        if (!n) {
            if (!esc)
                put(&b, "'$'", 3);
            esc = true;
            put_escape(&b, (unsigned char)name[i]);
            i++;
            continue;
        }
        if (name[i] == '\'') {
            put(&b, "'\\''", 4);
        } else {
            if (esc)
                put(&b, "''", 2);
            put(&b, name + i, n);
        }
        esc = false;
        i += n;
    }
    put(&b, "'", 1);
    return b.p;
}
