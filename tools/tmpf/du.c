/* tmpf du: the library's disk-use report of the temporaries in a directory. */
#include <errno.h>

#include "tmpf.h"

static const char help[] =
    "Usage: tmpf du [OPTION]... [DIR]\n"
    "Report the temporaries directly in DIR (default: tmpf gettempdir) named\n"
    "PREFIX + 8 characters of [a-z0-9_] + SUFFIX: how many, their disk space\n"
    "(as du counts it), which are live (locked by a running process), which are\n"
    "orphans, which could not be checked, and which tmpf sweep would remove.\n"
    "Changes nothing.\n"
    "\n"
    "  -o, --older-than=AGE  orphans at least AGE old are sweepable (default 1d)\n"
    TMPF_SWEEP_HELP
    "\n"
    "Exit status: 0 reported, 1 DIR could not be read, 2 usage.\n";

static void table(const char *dir, const tf_usage_report *u, unsigned long min_age)
{
    char total[16], live[16], orphan[16], oldest[32], age[32];
    tmpf_human_size(total, sizeof total, u->bytes);
    tmpf_human_size(live, sizeof live, u->live_bytes);
    tmpf_human_size(orphan, sizeof orphan, u->orphan_bytes);
    tmpf_human_age(oldest, sizeof oldest, u->oldest_age);
    tmpf_human_age(age, sizeof age, min_age);
    printf("%s: %zu temporaries, %s", dir, u->count, total);
    if (u->count)
        printf(", oldest %s", oldest);
    printf("\n%-10s %7s %7s\n", "STATE", "COUNT", "SIZE");
    printf("%-10s %7zu %7s\n", "live", u->live, live);
    printf("%-10s %7zu %7s\n", "orphan", u->orphans, orphan);
    printf("%-10s %7zu %7s\n", "unknown", u->unknown, "-");
    printf("%-10s %7zu %7s  (orphans older than %s)\n", "sweepable", u->sweepable, "-", age);
}

static void json(const char *dir, const tf_usage_report *u, unsigned long min_age)
{
    fputs("{\"dir\": ", stdout);
    tmpf_json_string(stdout, dir);
    printf(", \"min_age\": %lu, \"count\": %zu, \"live\": %zu, \"orphans\": %zu, "
           "\"unknown\": %zu, \"sweepable\": %zu, \"bytes\": %llu, \"live_bytes\": %llu, "
           "\"orphan_bytes\": %llu, \"oldest_age\": %lu}\n",
           min_age, u->count, u->live, u->orphans, u->unknown, u->sweepable, u->bytes,
           u->live_bytes, u->orphan_bytes, u->oldest_age);
}

int tmpf_cmd_du(int argc, char **argv)
{
    struct tmpf_sweep_args a = { 0 };
    tmpf_parse_sweep(argc, argv, &a, 0, help);
    tf_usage_report u;
    if (tf_disk_usage(a.dir, &a.opts, &u) != 0) {
        tmpf_sweep_error("read", a.dir, errno);
        return TMPF_FAILURE;
    }
    unsigned long min_age = a.opts.min_age ? a.opts.min_age : TF_SWEEP_DEFAULT_AGE;
    (a.json ? json : table)(tmpf_where(a.dir), &u, min_age);
    return TMPF_OK;
}
