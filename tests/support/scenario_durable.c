/* Scenarios of persist, atomic replace and lock files (scenario.h). */
#include "scenario.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define SAY(...) fprintf(stderr, __VA_ARGS__)

#define OLD_CONTENT "the old content\n"
#define OLD_MODE 0640
#define BIG_XATTR 600   /* past metadata.c's 512-byte buffer: sized, then read */

static const struct durable_case *dcase(const struct scen_ctx *c)
{
    return c->sc->arg;
}

static bool replacing(const struct durable_case *d)
{
    return d->kind == DUR_REPLACE || d->kind == DUR_CONTENTS || d->kind == DUR_LOCK;
}

/* Where the content lands (the chain's end) and the name the calls get. */
static char *target_path(const struct scen_ctx *c)
{
    return path_join(c->dir, dcase(c)->chain ? "real" : "dest");
}

static char *dest_path(const struct scen_ctx *c)
{
    return path_join(c->dir, dcase(c)->chain ? "link1" : "dest");
}

static void big_value(char *v)
{
    for (size_t i = 0; i < BIG_XATTR; i++)
        v[i] = (char)('a' + i % 26);
}

/* The old destination with everything a replace must carry over. */
static int make_old(struct scen_ctx *c)
{
    char *t = target_path(c);
    char big[BIG_XATTR];
    big_value(big);
    int rc = write_file(c->dir, dcase(c)->chain ? "real" : "dest", OLD_CONTENT) ||
             chmod(t, OLD_MODE) || (geteuid() == 0 && chown(t, NOBODY_ID, NOBODY_ID)) ||
             setxattr(t, "user.small", "s", 1, 0) || setxattr(t, "user.big", big, sizeof big, 0) ||
             lstat(t, &c->old);
    free(t);
    if (rc == 0 && dcase(c)->chain) {
        char *l1 = path_join(c->dir, "link1"), *l2 = path_join(c->dir, "link2");
        rc = symlink("link2", l1) || symlink("real", l2);
        free(l1);
        free(l2);
    }
    return rc ? -1 : 0;
}

int prepare_durable(struct scen_ctx *c)
{
    const struct durable_case *d = dcase(c);
    if (d->exists && make_old(c) != 0)
        return -1;
    c->registered = tf_cleanup_registered();
    if (d->kind == DUR_CONTENTS) {
        unsigned char buf[3000];
        fill_pattern(buf, sizeof buf, 3);
        memcpy(c->model, buf, sizeof buf);
        c->mlen = sizeof buf;
    }
    if (d->kind != DUR_PERSIST_NAMED)
        return 0;
    c->f = tf_named_temporary_file(&(tf_opts){ .dir = c->dir });
    if (!c->f || step_write(c, 1000, 4) != 0)
        return -1;
    c->registered = tf_cleanup_registered();
    return 0;
}

static tf_persist_opts opts_of(const struct durable_case *d)
{
    return (tf_persist_opts){ .level = d->level, .flags = d->flags, .mode = d->mode };
}

static int persist(struct scen_ctx *c)
{
    tf_persist_opts o = opts_of(dcase(c));
    char *dest = dest_path(c);
    free(c->was);
    c->was = tf_file_name(c->f) ? strdup(tf_file_name(c->f)) : NULL;
    c->unregistering = c->was ? 1 : 0;
    c->registered = tf_cleanup_registered();
    c->tried = true;
    int rc = tf_file_persist(c->f, dest, &o, &c->prep);
    free(dest);
    return rc < 0 ? -1 : 0;
}

static int commit(struct scen_ctx *c)
{
    return tf_file_commit(c->f, &c->prep) < 0 ? -1 : 0;
}

int run_durable(struct scen_ctx *c)
{
    const struct durable_case *d = dcase(c);
    tf_persist_opts o = opts_of(d);
    char *dest = dest_path(c);
    int rc = -1;
    switch (d->kind) {
    case DUR_PERSIST_NAMED:
        rc = persist(c);
        break;
    case DUR_PERSIST_LINKABLE:
        c->f = tf_linkable_temporary_file(&(tf_opts){ .dir = c->dir });
        rc = c->f && step_write(c, 2000, 5) == 0 ? persist(c) : -1;
        break;
    case DUR_REPLACE:
    case DUR_LOCK:
        c->f = d->kind == DUR_LOCK ? tf_lock_file(dest, &o) : tf_replace_begin(dest, &o);
        rc = c->f && step_write(c, 3000, 6) == 0 ? commit(c) : -1;
        break;
    case DUR_CONTENTS:
        rc = tf_replace_contents(dest, c->model, c->mlen, &o, &c->prep) < 0 ? -1 : 0;
        break;
    }
    free(dest);
    return rc;
}

/* ---- what the destination holds ----------------------------------------- */

static ssize_t read_all(const char *path, unsigned char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t n;
    while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)n;
    close(fd);
    return (ssize_t)got;
}

static bool holds(const char *path, const void *want, size_t n)
{
    unsigned char buf[SCENARIO_MODEL_MAX];
    ssize_t got = read_all(path, buf, sizeof buf);
    return got == (ssize_t)n && memcmp(buf, want, n) == 0;
}

/* The user.* attributes of the old file: both there and whole. */
static bool has_old_xattrs(const char *path)
{
    char big[BIG_XATTR], got[BIG_XATTR + 1];
    big_value(big);
    return lgetxattr(path, "user.small", got, sizeof got) == 1 && got[0] == 's' &&
           lgetxattr(path, "user.big", got, sizeof got) == BIG_XATTR &&
           memcmp(got, big, BIG_XATTR) == 0;
}

/* Faults the library takes for "no attributes here" (a filesystem without
 * them, one removed meanwhile): a replace then carries fewer, legitimately. */
static bool xattrs_may_go(const struct scen_ctx *c)
{
    return c->entry && ((strcmp(c->entry, "listxattrat") == 0 && c->err == ENOTSUP) ||
                        (strcmp(c->entry, "getxattrat") == 0 && c->err == ENODATA));
}

/* Untouched: as prepared (the same inode, its content and metadata), or
 * still missing. Links of a chain still links. */
static int check_untouched(struct scen_ctx *c)
{
    char *t = target_path(c);
    struct stat st;
    int rc = 0;
    if (!c->old.st_ino) {
        if (lstat(t, &st) == 0) {
            SAY("  the call failed and the new destination %s exists\n", t);
            rc = -1;
        }
    } else if (lstat(t, &st) != 0 || st.st_ino != c->old.st_ino ||
               st.st_mode != c->old.st_mode || st.st_uid != c->old.st_uid ||
               st.st_gid != c->old.st_gid || !holds(t, OLD_CONTENT, strlen(OLD_CONTENT)) ||
               !has_old_xattrs(t)) {
        SAY("  the call failed and the destination %s is not as it was\n", t);
        rc = -1;
    }
    if (dcase(c)->chain) {
        char *l1 = path_join(c->dir, "link1");
        if (lstat(l1, &st) != 0 || !S_ISLNK(st.st_mode)) {
            SAY("  the link chain's first link is gone\n");
            rc = -1;
        }
        free(l1);
    }
    free(t);
    return rc;
}

/* Fully new: the model's bytes; a replace carried the old metadata over (or
 * gave a new destination 0666 & ~umask). */
static int check_new(struct scen_ctx *c)
{
    const struct durable_case *d = dcase(c);
    char *t = target_path(c);
    struct stat st;
    int rc = 0;
    if (lstat(t, &st) != 0 || !S_ISREG(st.st_mode) || !holds(t, c->model, c->mlen)) {
        SAY("  placed, but %s does not hold the %zu bytes written\n", t, c->mlen);
        rc = -1;
    } else if (c->old.st_ino && st.st_ino == c->old.st_ino) {
        SAY("  placed, but %s is the old inode\n", t);
        rc = -1;
    } else if (!replacing(d) && d->mode && (st.st_mode & 07777) != d->mode) {
        SAY("  persisted with mode %o, not the %o asked\n", (unsigned)st.st_mode & 07777,
            (unsigned)d->mode);
        rc = -1;
    } else if (replacing(d)) {
        mode_t mask = umask(0);   /* the process's, whoever set it (the sweep, a fuzzer) */
        umask(mask);
        /* A new destination's temporary is created as a new file: the
         * kernel's mode, whatever call a fault hit. */
        mode_t want = d->mode ? d->mode : c->old.st_ino ? OLD_MODE : 0666 & ~mask;
        bool meta = (st.st_mode & 07777) == want;
        if (c->old.st_ino)
            meta = meta && st.st_uid == c->old.st_uid && st.st_gid == c->old.st_gid &&
                   (has_old_xattrs(t) || xattrs_may_go(c));
        if (!meta) {
            SAY("  replaced, but %s has mode %o owner %d:%d and %s its attributes\n", t,
                (unsigned)st.st_mode & 07777, (int)st.st_uid, (int)st.st_gid,
                has_old_xattrs(t) ? "has" : "lost");
            rc = -1;
        }
    }
    free(t);
    return rc;
}

/* ---- the handle ------------------------------------------------------------ */

/* Whether name is a sibling temporary (.tmpXXXXXXXX) in dir. */
static bool sibling_of(const char *name, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(name, dir, n) == 0 && strncmp(name + n, "/.tmp", 5) == 0 &&
           !strchr(name + n + 1, '/') && path_exists(name);
}

/* A failed persist hands the file back: open, temporary, registered, its
 * name and mode as before; a linkable file whose rename failed after its
 * link keeps that sibling name (the kernel links a nameless file once). */
static int check_handed_back(struct scen_ctx *c)
{
    struct stat st;
    const char *name = tf_file_name(c->f);
    size_t reg = tf_cleanup_registered();
    bool as_before = c->was ? name && strcmp(name, c->was) == 0 && path_exists(name) &&
                                  reg == c->registered
                            : (!name && reg == c->registered) ||
                                  (name && sibling_of(name, c->dir) && reg == c->registered + 1);
    if (tf_file_closed(c->f) || !as_before || fstat(tf_file_fileno(c->f), &st) != 0 ||
        (st.st_mode & 07777) != 0600) {
        SAY("  the persist failed and the file is not handed back as it was (%s)\n",
            name ? name : "no name");
        return -1;
    }
    return 0;
}

/* Placed: the handle names the destination and is no temporary any more. */
static int check_placed_handle(struct scen_ctx *c)
{
    if (!c->f)
        return 0;
    char *t = target_path(c);
    const char *name = tf_file_name(c->f);
    size_t want = c->registered - (dcase(c)->kind == DUR_PERSIST_NAMED ||
                                           dcase(c)->kind == DUR_PERSIST_LINKABLE
                                       ? c->unregistering
                                       : 1);
    int rc = 0;
    if (!name || strcmp(name, t) != 0 || (c->was && path_exists(c->was)) ||
        tf_cleanup_registered() != want) {
        SAY("  placed, but the handle names %s (not %s) or is still registered\n",
            name ? name : "nothing", t);
        rc = -1;
    }
    free(t);
    return rc;
}

/* What the run did not finish, done with no fault: it must succeed now. */
static int finish_job(struct scen_ctx *c)
{
    const struct durable_case *d = dcase(c);
    if (d->kind == DUR_PERSIST_NAMED || d->kind == DUR_PERSIST_LINKABLE) {
        return persist(c);
    }
    if (d->kind == DUR_REPLACE || d->kind == DUR_LOCK) {
        c->registered = tf_cleanup_registered();
        return commit(c);
    }
    return -1;
}

int finish_durable(struct scen_ctx *c, int ran)
{
    const struct durable_case *d = dcase(c);
    bool placed = ran == 0 || c->prep.level > 0;
    int rc = 0;
    if (d->kind == DUR_CONTENTS && tf_cleanup_registered() != c->registered) {
        SAY("  the one-shot replace left a name registered\n");
        rc = -1;
    }
    if (!placed) {
        rc |= check_untouched(c);
        if (c->tried)
            rc |= check_handed_back(c);
        if (c->f) {
            if (finish_job(c) != 0) {
                SAY("  placing the file again with no fault failed: %s\n", errname(errno));
                rc = -1;
            }
            placed = true;
        }
    } else if (d->kind == DUR_REPLACE || d->kind == DUR_LOCK) {
        c->registered++;   /* the handle's own entry, gone with the rename */
    }
    if (placed) {
        rc |= check_new(c);
        rc |= check_placed_handle(c);
    }
    if (d->kind == DUR_CONTENTS)
        rc |= finish_handles(c, ran);
    else
        rc |= finish_file(c, ran);
    const char *names[] = { "dest", "real", "link1", "link2" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *p = path_join(c->dir, names[i]);
        unlink(p);
        free(p);
    }
    free(c->was);
    return rc;
}
