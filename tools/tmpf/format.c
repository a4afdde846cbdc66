/* tmpf: output shared by sweep, du and shred: human sizes and ages, JSON,
 * the timing of progress lines. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tmpf.h"

void tmpf_human_size(char *buf, size_t n, unsigned long long bytes)
{
    static const char units[] = "KMGTPE";
    if (bytes < 1024) {
        snprintf(buf, n, "%llu", bytes);
        return;
    }
    /* As du -h: rounded up, one decimal below 10. */
    int u = 0;
    unsigned long long scale = 1024;
    while (u < 5 && bytes >= scale * 1024ULL) {
        scale *= 1024;
        u++;
    }
    unsigned long long tenths = bytes / scale * 10 + (bytes % scale * 10 + scale - 1) / scale;
    if (tenths < 100)
        snprintf(buf, n, "%llu.%llu%c", tenths / 10, tenths % 10, units[u]);
    else
        snprintf(buf, n, "%llu%c", (tenths + 9) / 10, units[u]);
}

void tmpf_human_age(char *buf, size_t n, unsigned long s)
{
    static const struct { unsigned long secs; char unit; } units[] = {
        { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
    };
    /* The two largest units, the second left out when zero: 3d4h, 2h, 5m12s. */
    size_t i = 0;
    while (i < 3 && s < units[i].secs)
        i++;
    unsigned long big = s / units[i].secs, rest = i < 3 ? s % units[i].secs / units[i + 1].secs : 0;
    if (rest)
        snprintf(buf, n, "%lu%c%lu%c", big, units[i].unit, rest, units[i + 1].unit);
    else
        snprintf(buf, n, "%lu%c", big, units[i].unit);
}

/* Length of the valid UTF-8 sequence at s, 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t len;
    unsigned min;
    if (s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    if (s[0] < 0xe0) { len = 2; min = 0x80; }
    else if (s[0] < 0xf0) { len = 3; min = 0x800; }
    else { len = 4; min = 0x10000; }
    unsigned cp = s[0] & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void tmpf_json_string(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    putc('"', out);
    while (*s) {
        if (*s == '"' || *s == '\\') {
            putc('\\', out);
            putc(*s++, out);
        } else if (*s < 0x20) {
            fprintf(out, "\\u%04x", *s++);
        } else if (*s < 0x80) {
            putc(*s++, out);
        } else {
            size_t len = utf8_len(s);
            if (len) {
                fwrite(s, 1, len, out);
                s += len;
            } else {
                fputs("\\ufffd", out);
                s++;
            }
        }
    }
    putc('"', out);
}

double tmpf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double tmpf_progress_delay(double dflt)
{
    const char *d = getenv("TMPF_PROGRESS_DELAY");
    char *end;
    if (!d || !*d)
        return dflt;
    double v = strtod(d, &end);
    return *end || !(v >= 0) ? dflt : v;
}
