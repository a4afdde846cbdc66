/*
 * tmpf shred, and tmpf invoked as shred: coreutils shred (9.1), option for
 * option, message for message, exit status for exit status, on the
 * library's shred calls. What coreutils lacks: the library's report of what
 * the filesystem does with an overwrite (--report prints it for every file),
 * and a refusal where overwriting cannot reach the data, unless --anyway.
 * Documented differences: every pass but the zero one is random (coreutils
 * mixes fixed patterns into runs of 4 passes or more), --remove=wipe syncs
 * as wipesync does, symbolic links and devices are refused, a file keeps
 * its size (the slack is overwritten, not kept), at most 100 passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tmpf.h"

enum { OPT_RANDOM_SOURCE = 256, OPT_HELP, OPT_VERSION, OPT_ANYWAY, OPT_REPORT };
enum { MAX_PASSES = 100, VERBOSE_UPDATE = 5 };

/* coreutils' order first: getopt lists ambiguous abbreviations in it. */
static const struct option longopts[] = {
    { "exact", no_argument, NULL, 'x' },
    { "force", no_argument, NULL, 'f' },
    { "iterations", required_argument, NULL, 'n' },
    { "size", required_argument, NULL, 's' },
    { "random-source", required_argument, NULL, OPT_RANDOM_SOURCE },
    { "remove", optional_argument, NULL, 'u' },
    { "verbose", no_argument, NULL, 'v' },
    { "zero", no_argument, NULL, 'z' },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { "anyway", no_argument, NULL, OPT_ANYWAY },
    { "report", no_argument, NULL, OPT_REPORT },
    { NULL, 0, NULL, 0 },
};

static const char help[] =
    "Usage: %s [OPTION]... FILE...\n"
    "Overwrite each FILE's data in place, pass after pass (each synced), and\n"
    "optionally remove it; as coreutils shred, on libtempfile's shred. If FILE\n"
    "is -, shred standard output. Before writing, the filesystem is examined:\n"
    "where overwriting cannot reach the old data (copy-on-write, log-structured,\n"
    "shared extents, data journalling, hard links, network filesystems) the\n"
    "file is refused, unchanged, unless --anyway.\n"
    "\n"
    "  -f, --force    change permissions to allow writing if necessary\n"
    "  -n, --iterations=N  overwrite N times instead of the default (3); at most 100\n"
    "      --random-source=FILE  get random bytes from FILE\n"
    "  -s, --size=N   shred this many bytes (suffixes like K, M, G accepted)\n"
    "  -u             truncate and remove file after overwriting\n"
    "      --remove[=HOW]  like -u but give control on HOW to delete: 'unlink'\n"
    "                   (a plain unlink), 'wipe' or 'wipesync' (the default:\n"
    "                   rename to ever shorter names, each synced, then unlink)\n"
    "  -v, --verbose  show progress\n"
    "  -x, --exact    do not overwrite the last block's slack\n"
    "  -z, --zero     add a final overwrite with zeros to hide shredding\n"
    "      --anyway   overwrite even where the filesystem report says it cannot\n"
    "                   reach the data (a warning is printed)\n"
    "      --report   print, for each file, what the filesystem report found\n"
    "      --help     display this help and exit\n"
    "      --version  output version information and exit\n"
    "\n"
    "Every pass but the zero pass writes random data. Symbolic links, devices,\n"
    "FIFOs and sockets are refused (a FIFO without a reader never blocks).\n"
    "What no examination can see: SSD wear levelling, remapped sectors,\n"
    "snapshots below the filesystem, backups. Exit status: 0 if every FILE\n"
    "was shredded, 1 otherwise.\n";

struct shred_args {
    tf_shred_opts opts;
    unsigned total;         /* passes, the zero pass included */
    bool verbose, force, report;
    const char *random_source;
};

/* The state of one file's shred, seen by the library's callbacks. */
struct run {
    const struct shred_args *a;
    const char *arg;        /* the FILE operand */
    char *qname;            /* as messages show it */
    size_t dirlen;          /* the operand's directory part, "dir/" */
    bool started;           /* a pass began */
    bool removing;
    unsigned long long offset, size;   /* of the pass being written */
    unsigned pass, passes;
    bool zero;
    double every;           /* seconds between in-pass progress lines */
    double thresh;          /* the next one, on tmpf_now()'s clock */
    char shown[32];         /* the offset the last progress line showed */
    bool ended;             /* the pass's last progress line was shown */
    FILE *random;           /* --random-source */
    int random_err;         /* 0, -1 end of file, or errno */
};

/* ---- messages ------------------------------------------------------------ */

static char *xmalloc(size_t n)
{
    char *p = malloc(n);
    if (!p) {
        tmpf_error(ENOMEM, "memory exhausted");
        exit(TMPF_FAILURE);
    }
    return p;
}

static const char *pass_name(const struct run *r)
{
    return r->zero ? "000000" : "random";
}

/* coreutils' human_readable() as shred's progress uses it: powers of 1024,
 * "iB" units, one decimal below 10; rounded down (the offset) or up. */
static void human(char *buf, size_t n, unsigned long long v, bool up)
{
    static const char units[] = "KMGTPEZY";
    if (v < 1024) {
        snprintf(buf, n, "%lluB", v);
        return;
    }
    double x = (double)v;
    int u = -1;
    while (x >= 1024 && u < 7) {
        x /= 1024;
        u++;
    }
    double tenths = up ? ceil(x * 10) : floor(x * 10);
    if (tenths >= 100) {
        double whole = up ? ceil(x) : floor(x);
        snprintf(buf, n, "%.0f%ciB", whole, units[u]);
    } else {
        snprintf(buf, n, "%.1f%ciB", tenths / 10, units[u]);
    }
}

/* The in-pass progress line, every r->every seconds, and once more at
 * the pass's end if one was shown. */
static void progress_line(struct run *r, bool done)
{
    double now = tmpf_now();
    if (r->ended || (!(done && r->shown[0]) && now < r->thresh))
        return;
    char off[32], size[32];
    human(off, sizeof off, r->offset, false);
    human(size, sizeof size, r->size, true);
    if (done || strcmp(off, r->shown) != 0) {
        int pct = r->size ? (int)(r->offset * 100 / r->size) : 100;
        tmpf_error(0, "%s: pass %u/%u (%s)...%s/%s %d%%", r->qname, r->pass, r->passes,
                   pass_name(r), off, size, pct);
    }
    snprintf(r->shown, sizeof r->shown, "%s", off);
    r->ended = done;
    r->thresh = now + r->every;
}

/* A name the library reports (in the file's directory) as messages show it. */
static void say_renamed(const struct run *r, const char *from, const char *to)
{
    char *a = xmalloc(r->dirlen + strlen(from) + 1), *b = xmalloc(r->dirlen + strlen(to) + 1);
    memcpy(a, r->arg, r->dirlen);
    strcpy(a + r->dirlen, from);
    memcpy(b, r->arg, r->dirlen);
    strcpy(b + r->dirlen, to);
    char *qa = tmpf_quotef(a), *qb = tmpf_quotef(b);
    tmpf_error(0, "%s: renamed to %s", qa, qb);
    free(qa), free(qb), free(a), free(b);
}

static void on_event(const tf_shred_event *ev, void *arg)
{
    struct run *r = arg;
    switch (ev->kind) {
    case TF_SHRED_EV_PASS:
        r->started = true;
        r->pass = ev->pass;
        r->passes = ev->passes;
        r->zero = ev->zero;
        r->size = ev->size;
        r->offset = 0;
        r->shown[0] = '\0';
        r->ended = false;
        r->thresh = tmpf_now() + r->every;
        /* coreutils says nothing of a pass over nothing. */
        if (r->a->verbose && ev->size)
            tmpf_error(0, "%s: pass %u/%u (%s)...", r->qname, ev->pass, ev->passes,
                       pass_name(r));
        break;
    case TF_SHRED_EV_WRITTEN:
        r->offset = ev->done;
        if (r->a->verbose && ev->size)
            progress_line(r, ev->done == ev->size);
        break;
    case TF_SHRED_EV_REMOVING:
        r->removing = true;
        if (r->a->verbose)
            tmpf_error(0, "%s: removing", r->qname);
        break;
    case TF_SHRED_EV_RENAMED:
        if (r->a->verbose)
            say_renamed(r, ev->name, ev->to);
        break;
    case TF_SHRED_EV_REMOVED:
        if (r->a->verbose)
            tmpf_error(0, "%s: removed", r->qname);
        break;
    }
}

/* --random-source: the file's bytes, as coreutils takes them. */
static int from_source(void *buf, size_t n, void *arg)
{
    struct run *r = arg;
    if (fread(buf, 1, n, r->random) == n)
        return 0;
    r->random_err = ferror(r->random) ? errno : -1;
    errno = r->random_err > 0 ? r->random_err : ENODATA;
    return -1;
}

/* ---- the filesystem report ------------------------------------------------ */

static const char *fs_name(unsigned long type)
{
    static const struct { unsigned long magic; const char *name; } names[] = {
        { 0xEF53, "ext2/ext3/ext4" }, { 0x01021994, "tmpfs" }, { 0x858458f6, "ramfs" },
        { 0x9123683E, "btrfs" }, { 0x58465342, "xfs" }, { 0xF2F52010, "f2fs" },
        { 0x3434, "nilfs2" }, { 0x2FC12FC1, "zfs" }, { 0xca451a4e, "bcachefs" },
        { 0x794c7630, "overlayfs" }, { 0x6969, "nfs" }, { 0xFF534D42, "cifs" },
        { 0xFE534D42, "smb2" }, { 0x65735546, "fuse" }, { 0x01021997, "9p" },
        { 0x00C36400, "ceph" }, { 0x4d44, "vfat" }, { 0x2011BAB0, "exfat" },
        { 0x5346544e, "ntfs" }, { 0x3153464a, "jfs" }, { 0x52654973, "reiserfs" },
        { 0, "process memory" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].magic == type)
            return names[i].name;
    return NULL;
}

/* The findings of mask in why, each as "; phrase". */
static void reasons(char *buf, size_t n, unsigned why, unsigned mask)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned bit = 1; bit; bit <<= 1)
        if ((why & mask & bit) && tf_shred_reason(bit) && len < n)
            len += (size_t)snprintf(buf + len, n - len, "; %s", tf_shred_reason(bit));
}

static void fs_label(char *buf, size_t n, unsigned long type)
{
    const char *name = fs_name(type);
    if (name)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "filesystem 0x%lx", type);
}

static void print_report(const struct run *r, const tf_shred_report *rep)
{
    char fs[64], why[512];
    fs_label(fs, sizeof fs, rep->fs_type);
    reasons(why, sizeof why, rep->why, ~0u);
    tmpf_error(0, "%s: %s: overwriting %s the old data%s", r->qname, fs,
               rep->effective ? "reaches" : "cannot reach", why);
}

/* ---- one file -------------------------------------------------------------- */

/* -f: coreutils makes the file writable by its owner (mode 0200) and tries
 * again; only a regular file, never through a link. */
static bool make_writable(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           fchmodat(AT_FDCWD, path, S_IWUSR, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The library got as far as examining the file (it opened it). */
static bool looked(const tf_shred_report *rep)
{
    return rep->fs_type || rep->why || rep->effective;
}

/* What failed, in coreutils' words where coreutils has them. */
static void failure(struct run *r, int err, const tf_shred_report *rep)
{
    const char *q = r->qname;
    if (!looked(rep) && err == EBADF && strcmp(r->arg, "-") == 0) {
        /* Open, but not for writing: coreutils finds out by writing. */
        tmpf_error(err, "%s: error writing at offset 0", q);
    } else if (!looked(rep) && err == EINVAL) {
        tmpf_error(0, "%s: invalid file type", q);
    } else if (!looked(rep) && err == ELOOP) {
        tmpf_error(0, "%s: a symbolic link, not followed: name the file it points to", q);
    } else if (!looked(rep)) {
        tmpf_error(err, "%s: failed to open for writing", q);
    } else if (err == EMEDIUMTYPE) {
        char fs[64], why[512];
        fs_label(fs, sizeof fs, rep->fs_type);
        reasons(why, sizeof why, rep->why, TF_FS_INEFFECTIVE);
        tmpf_error(0, "%s: refused, nothing written: overwriting cannot reach the old data "
                   "on %s%s (--anyway to overwrite regardless)", q, fs, why);
    } else if (r->removing || (rep->passes == r->a->total && err == ESTALE)) {
        tmpf_error(err, "%s: failed to remove", q);
    } else if (rep->grew) {
        tmpf_error(0, "%s: the file grew while it was being shredded; not removed", q);
    } else if (rep->passes == r->a->total) {
        tmpf_error(err, "%s: failed to truncate", q);
    } else if (r->started && r->offset == r->size) {
        tmpf_error(err, "%s: fdatasync failed", q);
    } else {
        tmpf_error(err, "%s: error writing at offset %llu", q, r->offset);
    }
    if (rep->left[0]) {
        char *left = xmalloc(r->dirlen + strlen(rep->left) + 1);
        memcpy(left, r->arg, r->dirlen);
        strcpy(left + r->dirlen, rep->left);
        char *ql = tmpf_quotef(left);
        tmpf_error(0, "%s: left as %s", q, ql);
        free(ql), free(left);
    }
}

/* coreutils' checks of standard output before shredding it. */
static int check_stdout(const struct run *r)
{
    int fl = tmpf_std_closed & 1u << STDOUT_FILENO ? (errno = EBADF, -1)
                                                   : fcntl(STDOUT_FILENO, F_GETFL);
    if (fl < 0) {
        tmpf_error(errno, "%s: fcntl failed", r->qname);
        return -1;
    }
    if (fl & O_APPEND) {
        tmpf_error(0, "%s: cannot shred append-only file descriptor", r->qname);
        return -1;
    }
    return 0;
}

static int call(struct run *r, const tf_shred_opts *o, tf_shred_report *rep)
{
    r->started = r->removing = false;
    if (strcmp(r->arg, "-") == 0)
        return tf_shred_fd(STDOUT_FILENO, o, rep);
    return tf_shred(r->arg, o, rep);
}

static int shred_one(const struct shred_args *a, const char *arg, FILE *random)
{
    struct run r = { .a = a, .arg = arg, .random = random,
                     .every = tmpf_progress_delay(VERBOSE_UPDATE) };
    r.qname = tmpf_quotef(arg);
    const char *base = tmpf_last_component(arg);
    r.dirlen = (size_t)(base - arg);
    tf_shred_hooks hooks = { .progress = on_event, .random = random ? from_source : NULL,
                             .arg = &r };
    tf_shred_opts o = a->opts;
    o.hooks = &hooks;
    tf_shred_report rep;
    int status = TMPF_OK;
    if (strcmp(arg, "-") == 0 && check_stdout(&r) < 0) {
        free(r.qname);
        return TMPF_FAILURE;
    }
    int rc = call(&r, &o, &rep);
    if (rc < 0 && errno == EACCES && !looked(&rep) && a->force && strcmp(arg, "-") != 0 &&
        make_writable(arg))
        rc = call(&r, &o, &rep);
    int err = errno;
    if (r.random_err) {   /* coreutils gives up on everything */
        if (r.random_err < 0)
            tmpf_error(0, "%s: end of file", tmpf_quote(a->random_source));
        else
            tmpf_error(r.random_err, "%s: read error", tmpf_quote(a->random_source));
        exit(TMPF_FAILURE);
    }
    if (a->report && looked(&rep))
        print_report(&r, &rep);
    if (rc < 0) {
        failure(&r, err, &rep);
        status = TMPF_FAILURE;
    } else if (!rep.effective) {
        char why[512];
        reasons(why, sizeof why, rep.why, TF_FS_INEFFECTIVE);
        tmpf_error(0, "%s: warning: overwritten (--anyway), but overwriting cannot reach "
                   "the old data%s", r.qname, why);
    }
    free(r.qname);
    return status;
}

/* ---- the command line --------------------------------------------------------- */

static _Noreturn void try_help(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", tmpf_prefix);
    exit(TMPF_FAILURE);
}

static _Noreturn void bad_number(const char *what, const char *arg, int err)
{
    if (err)
        tmpf_error(err, "%s: %s", what, tmpf_quote(arg));
    else
        tmpf_error(0, "%s: %s", what, tmpf_quote(arg));
    exit(TMPF_FAILURE);
}

/* gnulib's xstrtoumax: optional blanks, no sign, digits in base; 0 and
 * *end at the rest, or EINVAL / EOVERFLOW. */
static int parse_digits(const char *s, int base, uintmax_t *v, const char **end)
{
    const char *p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    if (*p == '-')
        return EINVAL;
    char *e;
    errno = 0;
    *v = strtoumax(s, &e, base);
    *end = e;
    if (e == s)
        return EINVAL;
    return errno == ERANGE ? EOVERFLOW : 0;
}

/* v * factor^power, or EOVERFLOW. */
static int scale(uintmax_t *v, unsigned factor, int power)
{
    for (int i = 0; i < power; i++) {
        if (*v > UINTMAX_MAX / factor)
            return EOVERFLOW;
        *v *= factor;
    }
    return 0;
}

/* -s: coreutils' suffixes "cbBkKMGTPEZY", with KB (1000) and KiB (1024). */
static uintmax_t parse_size(const char *arg)
{
    uintmax_t v;
    const char *p;
    int err = parse_digits(arg, 0, &v, &p);
    if (err == EINVAL && strchr("cbBkKMGTPEZY", *arg) && *arg) {
        v = 1;   /* a bare suffix means one of it */
        p = arg;
        err = 0;
    }
    if (err == EINVAL)
        bad_number("invalid file size", arg, 0);
    if (*p && err == 0) {
        static const char powers[] = "kKMGTPEZY";
        unsigned base = 1024;
        const char *suffix = p++;
        if (!strchr("cbBkKMGTPEZY", *suffix))
            bad_number("invalid file size", arg, 0);
        if (*suffix != 'c' && *suffix != 'b' && *suffix != 'B') {
            if (p[0] == 'i' && p[1] == 'B')
                p += 2;
            else if (p[0] == 'B' || p[0] == 'D')
                base = 1000, p++;
        }
        if (*p)
            bad_number("invalid file size", arg, 0);
        if (*suffix == 'b')
            err = scale(&v, 512, 1);
        else if (*suffix == 'B')
            err = scale(&v, 1024, 1);
        else if (*suffix != 'c') {
            int power = (int)(strchr(powers, *suffix) - powers);
            err = scale(&v, base, power ? power : 1);
        }
    }
    if (err == 0 && v > (uintmax_t)INT64_MAX)
        err = EOVERFLOW;
    if (err)
        bad_number("invalid file size", arg, err);
    return v;
}

/* -n: decimal, at most SIZE_MAX / sizeof (int) as coreutils; this shred
 * does at most MAX_PASSES. */
static unsigned parse_passes(const char *arg)
{
    uintmax_t v;
    const char *p;
    int err = parse_digits(arg, 10, &v, &p);
    if (err == 0 && *p)
        err = EINVAL;
    if (err == 0 && v > SIZE_MAX / sizeof(int))
        err = EOVERFLOW;
    if (err)
        bad_number("invalid number of passes", arg, err == EINVAL ? 0 : err);
    if (v > MAX_PASSES) {
        tmpf_error(0, "invalid number of passes: %s: at most %d", tmpf_quote(arg), MAX_PASSES);
        exit(TMPF_FAILURE);
    }
    return v ? (unsigned)v : TF_SHRED_NO_PASSES;
}

/* --remove[=HOW], with coreutils' argmatch messages. */
static unsigned parse_remove(const char *arg)
{
    static const char *const how[] = { "unlink", "wipe", "wipesync" };
    if (!arg)
        return TF_SHRED_REMOVE;
    size_t len = strlen(arg);
    int found = -1, matches = 0;
    for (int i = 0; i < 3; i++) {
        if (strcmp(arg, how[i]) == 0) {
            found = i;
            matches = 1;
            break;
        }
        if (strncmp(arg, how[i], len) == 0) {
            found = i;
            matches++;
        }
    }
    if (matches != 1) {
        char *q = strdup(tmpf_quote(arg));
        tmpf_error(0, "%s argument %s for %s", matches ? "ambiguous" : "invalid",
                   q ? q : arg, tmpf_quote("--remove"));
        free(q);
        fputs("Valid arguments are:\n", stderr);
        for (int i = 0; i < 3; i++)
            fprintf(stderr, "  - %s\n", tmpf_quote(how[i]));
        try_help();
    }
    /* wipe syncs as wipesync does: renames that no sync makes durable may
     * never reach the disk at all. */
    return TF_SHRED_REMOVE | (found == 0 ? TF_SHRED_UNLINK : 0);
}

static void parse(int argc, char **argv, struct shred_args *a)
{
    int c;
    unsigned passes = 0;
    while ((c = getopt_long(argc, argv, "fn:s:uvxz", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->force = true; break;
        case 'n': passes = parse_passes(optarg); break;
        case 's':
            a->opts.size = (size_t)parse_size(optarg);
            a->opts.flags |= TF_SHRED_SIZE;
            break;
        case 'u':
            a->opts.flags &= ~(unsigned)(TF_SHRED_REMOVE | TF_SHRED_UNLINK);
            a->opts.flags |= parse_remove(optarg);
            break;
        case 'v': a->verbose = true; break;
        case 'x': a->opts.flags |= TF_SHRED_EXACT; break;
        case 'z': a->opts.flags |= TF_SHRED_ZERO; break;
        case OPT_RANDOM_SOURCE:
            if (a->random_source && strcmp(a->random_source, optarg) != 0) {
                tmpf_error(0, "multiple random sources specified");
                exit(TMPF_FAILURE);
            }
            a->random_source = optarg;
            break;
        case OPT_ANYWAY: a->opts.flags |= TF_SHRED_FORCE; break;
        case OPT_REPORT: a->report = true; break;
        case OPT_HELP:
            printf(help, tmpf_prefix);
            exit(TMPF_OK);
        case OPT_VERSION:
            printf("shred (tmpf, libtempfile) %d.%d.%d\n", TF_VERSION_MAJOR, TF_VERSION_MINOR,
                   TF_VERSION_PATCH);
            exit(TMPF_OK);
        default:
            try_help();
        }
    }
    a->opts.passes = passes;
    a->total = (passes == TF_SHRED_NO_PASSES ? 0 : passes ? passes : 3) +
               ((a->opts.flags & TF_SHRED_ZERO) ? 1 : 0);
    if (optind == argc) {
        tmpf_error(0, "missing file operand");
        try_help();
    }
}

int tmpf_cmd_shred(int argc, char **argv)
{
    struct shred_args a = { .opts = { 0 } };
    parse(argc, argv, &a);
    FILE *random = NULL;
    if (a.random_source) {
        random = fopen(a.random_source, "rbe");
        if (!random) {
            char *q = tmpf_quotef(a.random_source);
            tmpf_error(errno, "%s", q);
            free(q);
            return TMPF_FAILURE;
        }
    }
    int status = TMPF_OK;
    for (int i = optind; i < argc; i++)
        if (shred_one(&a, argv[i], random) != TMPF_OK)
            status = TMPF_FAILURE;
    if (random)
        fclose(random);
    return status;
}
