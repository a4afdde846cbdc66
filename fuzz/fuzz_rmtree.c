/*
 * tf_rmtree() on trees the input describes: directories of every mode (the
 * unsearchable and unreadable ones included), files of every mode, symbolic
 * links out of the tree, to "..", to "/" and dangling, FIFOs, socket nodes,
 * hard links to a file outside, deep chains, odd names (long, non-UTF-8,
 * newline, leading dash or dot). Built and removed as root or, when the input
 * says so and we are root, as nobody (effective ids), as an owner removing
 * its own tree. Oracle: the call succeeds and the tree is gone; a directory
 * beside it (which the links point into, and which the same user could
 * write) is unchanged, file contents included; no descriptor is left.
 *
 * Input: one byte of choices (user, flag, how the path is given, the root's
 * own mode), then three bytes per entry: kind, parent, mode and name.
 */
#include "fuzz.h"
#include "tftest.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Every path here is the scratch directory's plus a bounded tail, far below
 * PATH_MAX; an entry whose path would not fit is not made. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define MAX_ENTRIES 64
#define MAX_DIRS (MAX_ENTRIES * 40 + 1)

static const mode_t DIR_MODES[] = { 0700, 0000, 0100, 0200, 0300, 0400, 0500, 0600,
                                    0755, 01777, 02700, 0111 };
static const mode_t FILE_MODES[] = { 0600, 0000, 0400, 0200, 0100, 04755, 0644, 07777 };

struct tree {
    char base[PATH_MAX], root[PATH_MAX], out[PATH_MAX];
    char *dirs[MAX_DIRS];        /* relative to root; dirs[0] is "" */
    mode_t modes[MAX_DIRS];
    size_t ndirs;
    unsigned serial;
};

/* 240 characters: with a serial number, near NAME_MAX. */
static const char *long_name(void)
{
    static char s[241];
    if (!s[0])
        memset(s, 'L', 240);
    return s;
}

static void name_for(struct tree *t, uint8_t sel, char *buf, size_t len)
{
    unsigned n = t->serial++;
    switch (sel % 7) {
    case 0: snprintf(buf, len, "e%u", n); break;
    case 1: snprintf(buf, len, ".h%u", n); break;
    case 2: snprintf(buf, len, "%s%u", long_name(), n); break;
    case 3: snprintf(buf, len, "\xff\xfe%u", n); break;
    case 4: snprintf(buf, len, "nl\n%u", n); break;
    case 5: snprintf(buf, len, "-%u", n); break;
    default: snprintf(buf, len, "sp ace%u", n); break;
    }
}

/* Full path of dirs[d] / name into buf (false if too long). */
static bool path_in(const struct tree *t, size_t d, const char *name, char *buf)
{
    int n = snprintf(buf, PATH_MAX, "%s%s%s/%s", t->root, t->dirs[d][0] ? "/" : "",
                     t->dirs[d], name);
    return n > 0 && n < PATH_MAX - 1;
}

static void add_dir(struct tree *t, size_t parent, const char *name, mode_t mode)
{
    if (t->ndirs == MAX_DIRS)
        return;
    char full[PATH_MAX];
    if (!path_in(t, parent, name, full) || mkdir(full, 0700) != 0)
        return;
    size_t len = strlen(t->dirs[parent]) + strlen(name) + 2;
    char *rel = malloc(len);
    if (!rel)
        abort();
    snprintf(rel, len, "%s%s%s", t->dirs[parent], t->dirs[parent][0] ? "/" : "", name);
    t->dirs[t->ndirs] = rel;
    t->modes[t->ndirs++] = mode;
}

static void add_entry(struct tree *t, uint8_t kind, uint8_t where, uint8_t sel)
{
    size_t parent = where % t->ndirs;
    char name[NAME_MAX + 1], full[PATH_MAX], target[PATH_MAX];
    name_for(t, sel >> 4, name, sizeof name);
    if (!path_in(t, parent, name, full))
        return;
    int fd;
    switch (kind % 13) {
    case 0: case 1:
        add_dir(t, parent, name, DIR_MODES[sel % 12]);
        break;
    case 2: case 3:
        fd = open(full, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (write(fd, name, strlen(name)) < 0)
                abort();
            fchmod(fd, FILE_MODES[sel % 8]);
            close(fd);
        }
        break;
    case 4: (void)symlink(t->out, full); break;
    case 5: (void)symlink("..", full); break;
    case 6: (void)symlink(sel & 1 ? "/" : "../../out", full); break;
    case 7: (void)symlink("nowhere/at/all", full); break;
    case 8: (void)mkfifo(full, 0600); break;
    case 9: (void)mknod(full, S_IFSOCK | 0600, 0); break;
    case 10:
        snprintf(target, sizeof target, "%s/file", t->out);
        (void)link(target, full);
        break;
    case 11: {
        /* A chain of directories, each inside the one before. */
        size_t d = parent;
        for (unsigned i = 0; i < 1u + sel % 40; i++) {
            size_t before = t->ndirs;
            add_dir(t, d, "c", DIR_MODES[(sel + i) % 12]);
            if (t->ndirs == before)
                break;
            d = before;
        }
        break;
    }
    default:
        snprintf(target, sizeof target, "%s/file", t->out);
        (void)symlink(target, full);
        break;
    }
}

/* What the oracle compares outside the tree: the listing and the contents. */
static char *outside(const struct tree *t)
{
    char *list = dir_listing(t->out);
    char p1[PATH_MAX], p2[PATH_MAX];
    snprintf(p1, sizeof p1, "%s/file", t->out);
    snprintf(p2, sizeof p2, "%s/sub/file2", t->out);
    char *c1 = read_file_str(p1), *c2 = read_file_str(p2);
    size_t len = strlen(list) + 64 + (c1 ? strlen(c1) : 0) + (c2 ? strlen(c2) : 0);
    char *all = malloc(len);
    if (!all)
        abort();
    snprintf(all, len, "%s\n--\n%s\n--\n%s\n-- %d", list, c1 ? c1 : "(none)",
             c2 ? c2 : "(none)", dir_entries(t->base) - path_exists(t->root));
    free(list);
    free(c1);
    free(c2);
    return all;
}

static void become(bool nobody)
{
    if (nobody) {
        if (setegid(NOBODY_ID) != 0 || seteuid(NOBODY_ID) != 0)
            abort();
    } else if (geteuid() != 0) {
        if (seteuid(0) != 0 || setegid(0) != 0)
            abort();
    }
}

static int remove_it(const struct tree *t, uint8_t how, unsigned flags)
{
    char path[PATH_MAX + 1];
    switch (how % 3) {
    case 0:
        return tf_rmtree(t->root, flags);
    case 1:
        snprintf(path, sizeof path, "%s/", t->root);
        return tf_rmtree(path, flags);
    default: {
        int dfd = open(t->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = tf_rmtreeat(dfd, "root", flags);
        int e = errno;
        close(dfd);
        errno = e;
        return rc;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    uint8_t choice = fuzz_u8(&in);
    bool nobody = (choice & 1) && getuid() == 0;
    unsigned flags = choice & 2 ? TF_RMTREE_IGNORE_ERRORS : 0;

    static struct tree t;
    t.ndirs = 0;
    t.serial = 0;
    snprintf(t.base, sizeof t.base, "%s/r", fuzz_scratch());
    snprintf(t.root, sizeof t.root, "%s/root", t.base);
    snprintf(t.out, sizeof t.out, "%s/out", t.base);
    FUZZ_CHECK(mkdir(t.base, 0700) == 0, "mkdir %s: errno %d", t.base, errno);
    if (nobody)
        give_to_nobody(t.base);
    int fds = fd_count();

    become(nobody);
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/sub", t.out);
    FUZZ_CHECK(mkdir(t.root, 0700) == 0 && mkdir(t.out, 0755) == 0 && mkdir(sub, 0700) == 0 &&
               write_file(t.out, "file", "outside") == 0 &&
               write_file(sub, "file2", "outside too") == 0, "setup: errno %d", errno);
    t.dirs[t.ndirs] = strdup("");
    t.modes[t.ndirs++] = DIR_MODES[(choice >> 4) % 12];
    for (int i = 0; i < MAX_ENTRIES && fuzz_more(&in); i++) {
        uint8_t kind = fuzz_u8(&in), where = fuzz_u8(&in), sel = fuzz_u8(&in);
        add_entry(&t, kind, where, sel);
    }
    /* Modes last, children before their parents, so that building could go in. */
    for (size_t d = t.ndirs; d-- > 0;) {
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s%s%s", t.root, t.dirs[d][0] ? "/" : "", t.dirs[d]);
        chmod(full, t.modes[d]);
    }
    char *before = outside(&t);

    errno = 0;
    int rc = remove_it(&t, choice >> 2, flags);
    int err = errno;
    bool gone = !path_exists(t.root);
    char *after = outside(&t);
    become(false);

    FUZZ_CHECK(strcmp(before, after) == 0, "outside the tree changed:\n%s\nnow:\n%s", before,
               after);
    FUZZ_CHECK(rc == 0 && gone, "tf_rmtree (%s, flags %u, form %d, %zu directories): rc %d, "
               "errno %s, tree %s", nobody ? "nobody" : "root", flags, (choice >> 2) % 3,
               t.ndirs, rc, errname(err), gone ? "gone" : "still there");
    FUZZ_CHECK(fd_count() == fds, "descriptors: %d open, %d before", fd_count(), fds);
    free(before);
    free(after);
    for (size_t d = 0; d < t.ndirs; d++)
        free(t.dirs[d]);
    FUZZ_CHECK(remove_tree(t.base) == 0, "scratch not removable");
    return 0;
}
