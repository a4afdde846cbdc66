/* tmpf sweep: the library's tf_sweep(), as a table or JSON, with a progress
 * line on a terminal. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tmpf.h"

static const char help[] =
    "Usage: tmpf sweep [OPTION]... [DIR]\n"
    "Remove the orphaned temporaries directly in DIR (default: tmpf gettempdir):\n"
    "files and directory trees named PREFIX + 8 characters of [a-z0-9_] + SUFFIX\n"
    "that no process holds locked (every libtempfile temporary is locked while\n"
    "its handle lives, and so is the directory of a running tmpf run) and that\n"
    "are at least AGE old, counted from the newest atime, mtime or ctime (of the\n"
    "whole tree, for a directory). Symbolic links, devices, FIFOs, sockets and\n"
    "mount points are never touched; nothing outside DIR is, and DIR may not\n"
    "be a symbolic link.\n"
    "\n"
    "  -o, --older-than=AGE  minimum age: 90s, 90m, 36h, 7d, 2w, 1h30m (default 1d)\n"
    "  -n, --dry-run         remove nothing, list what would be removed\n"
    TMPF_SWEEP_HELP
    "\n"
    "Each entry removed is listed (type, size, age, name), then the counts.\n"
    "When standard error is a terminal, a progress line shows there once the\n"
    "sweep has run TMPF_PROGRESS_DELAY seconds (default 0.5).\n"
    "\n"
    "Exit status: 0 swept (entries that could not be checked or removed are\n"
    "counted as failed), 1 DIR could not be swept, 2 usage.\n";

struct progress {
    int on;             /* standard error is a terminal */
    int shown;          /* a line is on the screen */
    double delay, start, last;
};

struct sweep_run {
    const struct tmpf_sweep_args *args;
    struct progress p;
    size_t n;
    unsigned long long bytes;
    /* The last entry's human size and age: most entries of a sweep share
     * them, and formatting them again was most of tmpf's own time. */
    unsigned long long last_bytes;
    unsigned long last_age;
    char size[16], age[32];
};

static void progress_start(struct progress *p)
{
    p->on = isatty(STDERR_FILENO);
    p->delay = tmpf_progress_delay(0.5);
    p->start = tmpf_now();
}

static void progress_clear(struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}

static void progress_draw(struct sweep_run *r)
{
    if (!r->p.on)
        return;
    double t = tmpf_now();
    if (t - r->p.start < r->p.delay || (r->p.shown && t - r->p.last < 0.1))
        return;
    char size[16];
    tmpf_human_size(size, sizeof size, r->bytes);
    fprintf(stderr, "\r\033[Ksweeping %s: %zu %s, %s", tmpf_where(r->args->dir), r->n,
            r->args->opts.flags & TF_SWEEP_DRY_RUN ? "removable" : "removed", size);
    r->p.shown = 1;
    r->p.last = t;
}

static void report(const tf_sweep_entry *e, void *arg)
{
    struct sweep_run *r = arg;
    r->n++;
    r->bytes += e->bytes;
    if (r->args->json) {
        printf("%s\n    {\"name\": ", r->n > 1 ? "," : "");
        tmpf_json_string(stdout, e->name);
        printf(", \"type\": \"%s\", \"bytes\": %llu, \"age\": %lu}", e->is_dir ? "dir" : "file",
               e->bytes, e->age);
    } else {
        if (r->n == 1 || e->bytes != r->last_bytes)
            tmpf_human_size(r->size, sizeof r->size, r->last_bytes = e->bytes);
        if (r->n == 1 || e->age != r->last_age)
            tmpf_human_age(r->age, sizeof r->age, r->last_age = e->age);
        if (r->n == 1)
            printf("%-4s %6s %7s  %s\n", "TYPE", "SIZE", "AGE", "NAME");
        progress_clear(&r->p);
        /* A name that --locks matched may be anyone's choice: a newline or
         * an escape sequence in it must not reach the table or the
         * terminal raw. Plain ones go as they are (no copy). */
        char *quoted = NULL;
        for (const unsigned char *c = (const unsigned char *)e->name; *c && !quoted; c++)
            if (*c < 0x20 || *c >= 0x7f)
                quoted = tmpf_quotef(e->name);
        printf("%-4s %6s %7s  %s\n", e->is_dir ? "dir" : "file", r->size, r->age,
               quoted ? quoted : e->name);
        free(quoted);
        if (r->p.on)
            fflush(stdout);
    }
    progress_draw(r);
}

static void summary(const struct sweep_run *r, const tf_sweep_result *res)
{
    int dry = r->args->opts.flags & TF_SWEEP_DRY_RUN;
    if (r->args->json) {
        printf("%s],\n  \"removed\": %zu, \"bytes\": %llu, \"live\": %zu, \"young\": %zu, "
               "\"failed\": %zu\n}\n", r->n ? "\n  " : "", res->removed, res->bytes,
               res->live, res->young, res->failed);
        return;
    }
    char size[16];
    tmpf_human_size(size, sizeof size, res->bytes);
    printf("%s %zu (%s) in %s; left %zu live, %zu young, %zu failed\n",
           dry ? "would remove" : "removed", res->removed, size, tmpf_where(r->args->dir),
           res->live, res->young, res->failed);
}

int tmpf_cmd_sweep(int argc, char **argv)
{
    struct tmpf_sweep_args a = { 0 };
    tmpf_parse_sweep(argc, argv, &a, 1, help);
    struct sweep_run r = { .args = &a };
    a.opts.report = report;
    a.opts.arg = &r;
    progress_start(&r.p);
    if (a.json) {
        fputs("{\n  \"dir\": ", stdout);
        tmpf_json_string(stdout, tmpf_where(a.dir));
        printf(", \"dry_run\": %s, \"min_age\": %lu,\n  \"entries\": [",
               a.opts.flags & TF_SWEEP_DRY_RUN ? "true" : "false",
               a.opts.min_age ? a.opts.min_age : TF_SWEEP_DEFAULT_AGE);
    }
    tf_sweep_result res;
    int rc = tf_sweep(a.dir, &a.opts, &res);
    int err = errno;
    progress_clear(&r.p);
    if (rc != 0) {
        if (a.json)
            fputs("]\n}\n", stdout);   /* still one valid object */
        tmpf_sweep_error("sweep", a.dir, err);
        return TMPF_FAILURE;
    }
    summary(&r, &res);
    return TMPF_OK;
}
