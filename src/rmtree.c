/*
 * Tree removal that never follows a link, never crosses into another
 * filesystem and never leaves the tree.
 *
 * It works on descriptors only: it holds the root and the directory being
 * emptied (plus one while opening a child), whatever the depth, and keeps no
 * recursion: going down it records each directory's device, inode and name;
 * going up it opens "..", checks it is the directory recorded, and removes the
 * emptied child by name.
 *
 * Going back up, the reading of a directory resumes at the position recorded
 * before the descent (getdents' d_off), so each directory is read once. Where
 * a filesystem's positions do not survive a reopen, entries could be missed;
 * then the child's rmdir says ENOTEMPTY, and that directory is entered and read
 * once more from its start (the root: when its reading ends). A second
 * ENOTEMPTY is an error. So each directory is read at most twice and the work
 * stays linear, even when entries keep coming back.
 *
 * The walker's functions are TF__ASYNC_SAFE when it works in the caller's
 * memory (tf__rmtree_remove with mem): grow_array
 * then never allocates. Otherwise they allocate.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define TF__DENTS_BUF (32 * 1024)

struct level {
    struct tf__node id;
    size_t name;        /* offset of this directory's name in walk.names */
    off_t resume;       /* where its reading goes on (a getdents d_off) */
    bool positioned;    /* a fresh descriptor, already at 0: no lseek */
    bool exhausted;     /* nothing came after the child left for: no reading on */
    bool left;          /* it was left for a child (the root: read it again) */
    bool rereading;     /* its second reading is under way */
};

/* An entry that could not be removed, skipped on rescans (ignore mode only). */
struct skip {
    ino_t dir;
    ino_t ino;
};

struct walk {
    int root, cur;          /* cur == root at depth 0 */
    struct tf__node root_id;
    unsigned flags;
    bool cur_opened_up;     /* cur already made 0700 */
    struct level *levels;   /* levels[0] is the root, levels[depth] is cur */
    size_t depth, levels_cap;
    char *names;
    size_t names_len, names_cap;
    struct skip *skips;
    size_t nskips, skips_cap;
    size_t removed;         /* entries unlinked so far */
    char *dents;
    size_t dents_len;
    bool fixed;             /* caller's memory (a signal handler): never allocate */
};

/* Grows *buf to hold `need` elements of `size` bytes, geometrically. */
TF__ASYNC_SAFE static int grow_array(const struct walk *w, void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    if (w->fixed) {
        errno = ENOMEM;
        return -1;
    }
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *p = tf__sys.realloc(*buf, n * size);
    if (!p)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

TF__ASYNC_SAFE static bool ignoring_errors(unsigned flags)
{
    return flags & TF_RMTREE_IGNORE_ERRORS;
}

/* An entry failed: in ignore mode remember to pass it by, else stop. */
TF__ASYNC_SAFE static int entry_failed(struct walk *w, ino_t ino)
{
    if (!ignoring_errors(w->flags))
        return -1;
    if (grow_array(w, (void **)&w->skips, &w->skips_cap, w->nskips + 1, sizeof *w->skips) < 0)
        return -1;
    w->skips[w->nskips++] = (struct skip){ w->levels[w->depth].id.ino, ino };
    return 0;
}

TF__ASYNC_SAFE static bool skipped(const struct walk *w, ino_t ino)
{
    for (size_t i = 0; i < w->nskips; i++)
        if (w->skips[i].ino == ino && w->skips[i].dir == w->levels[w->depth].id.ino)
            return true;
    return false;
}

/*
 * After an operation in cur failed: if permission was denied and cur has not
 * been opened up yet, make it owner-accessible (0700), as Python's cleanup
 * does, and say to try again. A readable directory may still lack write or
 * search permission (0500, 0400, 0600).
 */
TF__ASYNC_SAFE static bool opened_up(struct walk *w)
{
    if ((errno != EACCES && errno != EPERM) || w->cur_opened_up)
        return false;
    w->cur_opened_up = true;
    return tf__sys.fchmod(w->cur, 0700) == 0;
}

/* unlinkat in cur; a name already gone counts as removed. */
TF__ASYNC_SAFE static int unlink_in(struct walk *w, const char *name, int flags)
{
    while (tf__sys.unlinkat(w->cur, name, flags) < 0) {
        if (errno == ENOENT)
            return 0;
        if (!opened_up(w))
            return -1;
    }
    w->removed++;
    return 0;
}

/* EXDEV unless id is on the root's filesystem and mount. */
TF__ASYNC_SAFE static int same_fs(const struct walk *w, const struct tf__node *id)
{
    if (tf__same_mount(id, &w->root_id))
        return 0;
    errno = EXDEV;
    return -1;
}

/*
 * Opens a child directory. Permission denied means cur is not searchable
 * (opened up, then retried) or the child is not readable (made 0700 through
 * a pinned descriptor, if it is on the root's filesystem and mount).
 */
TF__ASYNC_SAFE static int open_child(struct walk *w, const char *name)
{
    int fd = tf__open_dir(w->cur, name);
    if (fd < 0 && opened_up(w))
        fd = tf__open_dir(w->cur, name);
    if (fd < 0 && errno == EACCES)
        fd = tf__reopen_dir_owner(w->cur, name, &w->root_id);
    return fd;
}

TF__ASYNC_SAFE static int push_level(struct walk *w, const struct tf__node *id, const char *name, bool rereading)
{
    size_t len = strlen(name) + 1;
    if (grow_array(w, (void **)&w->levels, &w->levels_cap, w->depth + 2, sizeof *w->levels) < 0 ||
        grow_array(w, (void **)&w->names, &w->names_cap, w->names_len + len, 1) < 0)
        return -1;
    memmove(w->names + w->names_len, name, len);   /* a reread passes its own stored name */
    w->levels[w->depth].left = true;
    w->levels[++w->depth] = (struct level){ .id = *id, .name = w->names_len,
                                            .positioned = true, .rereading = rereading };
    w->names_len += len;
    return 0;
}

/* Makes the child directory `name` the current one. 1: descended, 0: passed by. */
TF__ASYNC_SAFE static int descend(struct walk *w, const char *name, ino_t ino, bool rereading)
{
    int fd = open_child(w, name);
    if (fd < 0) {
        if (errno == ENOENT)   /* removed meanwhile, by another remover */
            return 0;
        /* Not a directory any more (a link or file swapped in): remove the entry. */
        if (errno == ENOTDIR || errno == ELOOP)
            return unlink_in(w, name, 0) == 0 ? 0 : entry_failed(w, ino);
        return entry_failed(w, ino);
    }
    struct tf__node id;
    if (tf__identify(fd, NULL, &id) < 0 || same_fs(w, &id) < 0) {
        tf__close_keep_errno(fd);
        return entry_failed(w, ino);
    }
    if (push_level(w, &id, name, rereading) < 0) {
        tf__close_keep_errno(fd);
        return -1;
    }
    if (w->cur != w->root)
        tf__sys.close(w->cur);
    w->cur = fd;
    w->cur_opened_up = false;
    return 1;
}

TF__ASYNC_SAFE static int remove_dirent(struct walk *w, const struct dirent64 *d)
{
    unsigned char type = d->d_type;
    if (type == DT_UNKNOWN) {
        struct stat st;
        int rc;
        while ((rc = tf__sys.fstatat(w->cur, d->d_name, &st, AT_SYMLINK_NOFOLLOW)) < 0 &&
               opened_up(w))
            ;
        if (rc < 0)
            return errno == ENOENT ? 0 : entry_failed(w, d->d_ino);
        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type != DT_DIR) {
        if (unlink_in(w, d->d_name, 0) == 0)
            return 0;
        if (errno != EISDIR)   /* EISDIR: it became a directory meanwhile */
            return entry_failed(w, d->d_ino);
    }
    return descend(w, d->d_name, d->d_ino, false);
}

/*
 * The end of cur's reading: 1 if it must be read once more from its start.
 * Only the root is checked so; a child is, by its rmdir (see ascend).
 */
TF__ASYNC_SAFE static int read_again(struct walk *w)
{
    struct level *l = &w->levels[w->depth];
    if (w->depth > 0 || !l->left || l->rereading)
        return 0;
    l->rereading = true;
    l->exhausted = false;
    l->resume = 0;
    return tf__sys.lseek(w->cur, 0, SEEK_SET) < 0 ? -1 : 1;
}

/* Where cur's reading starts: its recorded position, unless already there.
 * 1: nothing to read, cur having been removed meanwhile (by another
 * remover), whatever lseek said of it (ext4: EINVAL, the position being past
 * a removed directory's size). */
TF__ASYNC_SAFE static int position(struct walk *w, struct level *l)
{
    bool at = l->positioned;
    l->positioned = false;
    if (at || tf__sys.lseek(w->cur, l->resume, SEEK_SET) >= 0)
        return 0;
    return tf__dir_removed(w->cur) ? 1 : -1;
}

/*
 * Reads cur on from its recorded position. 1: entered a child, 0: done, -1: stop.
 *
 * Below the root, a batch that left room for one more entry is taken for the
 * directory's last (the kernel fills the buffer while entries remain): that
 * saves a getdents per directory, and going back up, the reading of a
 * directory whose last entry was the child. Were a filesystem to stop short
 * (FUSE returns a page at a time), the rmdir's ENOTEMPTY makes that directory
 * be read again, and a second reading never relies on it. The root has no
 * such check above it: it is read until getdents returns nothing.
 */
TF__ASYNC_SAFE static int scan(struct walk *w)
{
    struct level *l = &w->levels[w->depth];
    int again;
    if (l->exhausted) {
        l->exhausted = false;
        if ((again = read_again(w)) <= 0)
            return again;
    } else if ((again = position(w, l)) != 0) {
        return again < 0 ? -1 : 0;
    }
    struct tf__dir_reader r;
    tf__dir_reader_init(&r, w->cur, w->dents, w->dents_len);
    for (;;) {
        const struct dirent64 *d = tf__dir_next(&r);
        /* ENOENT: removed meanwhile, so empty. */
        if (!d && errno && errno != ENOENT)
            return -1;
        /* Not at the root: nothing above it would catch a short read. */
        bool last = !d || (w->depth > 0 && !w->levels[w->depth].rereading &&
                           tf__dir_batch_last(&r));
        if (d) {
            /* Through the array: descending may move it. */
            w->levels[w->depth].resume = d->d_off;
            w->levels[w->depth].exhausted = last && tf__dir_batch_done(&r);
            int rc = skipped(w, d->d_ino) ? 0 : remove_dirent(w, d);
            if (rc != 0)
                return rc;
        }
        if (last && tf__dir_batch_done(&r) && (again = read_again(w)) <= 0)
            return again;
    }
}

/* Is fd's directory (or, with name, the entry there) the one recorded at lvl? */
TF__ASYNC_SAFE static int same_dir(int fd, const char *name, const struct level *lvl)
{
    struct tf__node id;
    if (tf__identify(fd, name, &id) < 0)
        return -1;
    if (!tf__same_node(&id, &lvl->id)) {
        errno = ESTALE;
        return -1;
    }
    return 0;
}

/* A descriptor of cur's parent (the root at depth 1), checked against its record. */
TF__ASYNC_SAFE static int open_parent(struct walk *w, const struct level *parent)
{
    if (w->depth == 1)
        return same_dir(w->cur, "..", parent) < 0 ? -1 : w->root;
    int up = tf__open_dir(w->cur, "..");
    if (up >= 0 && same_dir(up, NULL, parent) < 0)
        up = (tf__close_keep_errno(up), -1);
    return up;
}

/* Goes back to the parent, checked against the record, and removes the emptied child. */
TF__ASYNC_SAFE static int ascend(struct walk *w)
{
    const struct level *child = &w->levels[w->depth], *parent = child - 1;
    int up;
    /* ".." is reached through cur: a readable directory that is not
     * searchable (0600, 0400) is opened up for it. */
    while ((up = open_parent(w, parent)) < 0)
        if (!opened_up(w))
            return -1;
    tf__sys.close(w->cur);
    w->cur = up;
    w->cur_opened_up = false;
    w->depth--;
    w->names_len = child->name;
    const char *name = w->names + child->name;
    if (unlink_in(w, name, AT_REMOVEDIR) == 0)
        return 0;
    /* Not empty after one reading: entries were missed or came back. Read it
     * once more, from its start; not empty after that is an error. */
    if ((errno == ENOTEMPTY || errno == EEXIST) && !child->rereading)
        return descend(w, name, child->id.ino, true) < 0 ? -1 : 0;
    return entry_failed(w, child->id.ino);
}

TF__ASYNC_SAFE static int walk(struct walk *w)
{
    for (;;) {
        int rc = scan(w);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            if (w->depth == 0)
                return 0;
            if (ascend(w) < 0)
                return -1;
        }
    }
}

/* Records the root and walks; w's memory is ready. */
TF__ASYNC_SAFE static int start(struct walk *w)
{
    if (!w->dents || tf__identify(w->root, NULL, &w->root_id) < 0 ||
        grow_array(w, (void **)&w->levels, &w->levels_cap, 1, sizeof *w->levels) < 0)
        return -1;
    w->levels[0] = (struct level){ .id = w->root_id };
    return walk(w);
}

/* Lays the walk out in the caller's memory: 8 KiB of dirents, 256 levels,
 * 128 skips, the rest for names. */
TF__ASYNC_SAFE static int carve(struct walk *w, void *mem, size_t len)
{
    char *p = mem;
    if (len < TF__RMTREE_MEM_MIN) {
        errno = EINVAL;
        return -1;
    }
    w->fixed = true;
    w->dents = p, w->dents_len = 8192, p += w->dents_len;
    w->levels = (struct level *)p, w->levels_cap = 256, p += 256 * sizeof *w->levels;
    w->skips = (struct skip *)p, w->skips_cap = 128, p += 128 * sizeof *w->skips;
    w->names = p, w->names_cap = len - (size_t)(p - (char *)mem);
    return 0;
}

/*
 * One walk emptying fd, in mem (len bytes; NULL: allocated). *removed
 * receives how many entries it removed. Async-signal-safe with mem.
 */
TF__ASYNC_SAFE static int empty_once(int fd, unsigned flags, void *mem, size_t len, size_t *removed)
{
    struct walk w = { .root = fd, .cur = fd, .flags = flags, .dents_len = TF__DENTS_BUF };
    int rc;
    if (mem)
        rc = carve(&w, mem, len) < 0 ? -1 : start(&w);
    else
        rc = (w.dents = tf__sys.malloc(TF__DENTS_BUF)) ? start(&w) : -1;
    int err = errno;
    if (w.cur != w.root)
        tf__sys.close(w.cur);
    if (!mem) {
        free(w.dents);
        free(w.levels);
        free(w.names);
        free(w.skips);
    }
    *removed = w.removed;
    errno = err;
    return rc < 0 && !ignoring_errors(flags) ? -1 : 0;
}

int tf__rmtree_contents(int fd, unsigned flags)
{
    size_t removed;
    return empty_once(fd, flags, NULL, 0, &removed);
}

/* Does name in dirfd still name the directory self? ESTALE if another one. */
TF__ASYNC_SAFE static int still_named(int dirfd, const char *name, const struct tf__node *self)
{
    struct tf__node id;
    if (tf__identify(dirfd, name, &id) < 0)
        return -1;
    if (tf__same_node(&id, self))
        return 0;
    errno = ESTALE;
    return -1;
}

/* Passes over a directory whose rmdir finds it filled again meanwhile. */
#define TF__EMPTY_PASSES 8

TF__ASYNC_SAFE int tf__rmtree_remove(int fd, int dirfd, const char *name, unsigned flags,
                                     void *mem, size_t len)
{
    size_t removed = 1;
    int err = 0;
    struct tf__node self;
    if (tf__identify(fd, NULL, &self) < 0)
        return -1;
    for (int pass = 0; pass < TF__EMPTY_PASSES && removed > 0; pass++) {
        if (empty_once(fd, flags, mem, len, &removed) < 0)
            return -1;
        /* The name may have been given to another directory since (ours
         * renamed away): that one is not ours to remove. */
        if (still_named(dirfd, name, &self) < 0)
            return errno == ENOENT ? 0 : -1;
        if (tf__sys.unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        /* ENOTEMPTY (or EEXIST, which POSIX allows): entries came, or could
         * not be removed; another pass only if this one removed some. */
        err = errno;
        if (err != ENOTEMPTY && err != EEXIST)
            break;
    }
    errno = err;
    return -1;
}

/* Is the last component "." or ".."? Removing it would empty a directory
 * that the path does not name (the working directory, a parent, a link's
 * target) before rmdir refused it. */
static bool ends_in_dots(const char *name)
{
    const char *last = strrchr(name, '/');
    last = last ? last + 1 : name;
    return last[0] == '.' && (last[1] == '\0' || (last[1] == '.' && last[2] == '\0'));
}

/* A path of slashes only: the root directory, which rm(1) refuses too. */
static bool is_root(const char *name)
{
    return name[strspn(name, "/")] == '\0';
}

/* name has no trailing slash and has been checked. */
static int rmtree_checked(int dirfd, const char *name, unsigned flags)
{
    int fd = tf__open_dir_owner(dirfd, name, NULL);
    int rc = -1;
    if (fd >= 0) {
        rc = tf__rmtree_remove(fd, dirfd, name, flags, NULL, 0);
        tf__close_keep_errno(fd);
    } else if (errno == ELOOP) {
        errno = ENOTDIR;   /* a symbolic link: left alone */
    }
    return rc < 0 && !ignoring_errors(flags) ? -1 : 0;
}

int tf_rmtreeat(int dirfd, const char *name, unsigned flags)
{
    if (!name || !*name || (flags & ~(unsigned)TF_RMTREE_IGNORE_ERRORS) || is_root(name)) {
        errno = EINVAL;
        return -1;
    }
    /* A trailing slash would make the kernel follow a final symbolic link. */
    char *trimmed = NULL;
    if (name[strlen(name) - 1] == '/' && !(name = trimmed = tf__strdup_trimmed(name)))
        return ignoring_errors(flags) ? 0 : -1;
    int rc;
    if (ends_in_dots(name))
        rc = -1, errno = EINVAL;
    else
        rc = rmtree_checked(dirfd, name, flags);
    int err = errno;
    free(trimmed);
    errno = err;
    return rc;
}

int tf_rmtree(const char *path, unsigned flags)
{
    return tf_rmtreeat(AT_FDCWD, path, flags);
}
