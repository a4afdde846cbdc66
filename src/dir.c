/*
 * The temporary directory handle: Python's TemporaryDirectory. The handle keeps
 * a descriptor of the directory it made, so cleanup empties that very
 * directory even if its name has been moved or replaced meanwhile.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct tf_dir {
    char *path;
    int fd;           /* -1 if the mode denies reading, or after cleanup */
    unsigned flags;   /* TF_KEEP, TF_IGNORE_CLEANUP_ERRORS */
    bool cleaned;
    struct tf__reg_entry *reg;   /* registry entry while removal is ours to do */
};

/* Creates, marks live (flock on the held descriptor) and registers. */
static tf_dir *new_dir(const tf_opts *opts)
{
    char *path;
    int fd;
    if (tf__create_dir(opts, &path, &fd) < 0)
        return NULL;
    if (fd >= 0)
        tf__lock_live(fd);
    unsigned flags = opts ? opts->flags : 0;
    struct tf__reg_entry *reg = NULL;
    tf_dir *d = tf__sys.malloc(sizeof *d);
    if (d && !(flags & TF_KEEP) && tf__reg_add(&reg, TF__REG_DIR, path, fd) < 0) {
        free(d);
        d = NULL;
    }
    if (!d) {
        tf__undo_create(path, fd, AT_REMOVEDIR);
        free(path);
        return NULL;
    }
    *d = (tf_dir){ .path = path, .fd = fd, .flags = flags, .reg = reg };
    return d;
}

tf_dir *tf_temporary_directory(const tf_opts *opts)
{
    /* One step as far as fatal signals are concerned: no unregistered name. */
    struct tf__reg_guard g;
    tf__reg_begin(&g);
    tf_dir *d = new_dir(opts);
    tf__reg_end(&g);
    return d;
}

const char *tf_dir_name(const tf_dir *d)
{
    if (!d)
        errno = EINVAL;
    return d ? d->path : NULL;
}

int tf_dir_fileno(const tf_dir *d)
{
    if (!d || d->fd < 0) {
        errno = d ? (d->cleaned ? EBADF : EACCES) : EINVAL;
        return -1;
    }
    return d->fd;
}

int tf_dir_keep(tf_dir *d)
{
    if (!d) {
        errno = EINVAL;
        return -1;
    }
    d->flags |= TF_KEEP;
    tf__reg_remove(&d->reg);
    return 0;
}

/*
 * An empty directory, the common case, goes with one rmdir. Otherwise it is
 * emptied through the held descriptor, then its name removed. Without a
 * descriptor (a mode that denied reading), by name, never through a link.
 */
static int remove_tree(tf_dir *d, unsigned flags)
{
    if (tf__sys.unlinkat(AT_FDCWD, d->path, AT_REMOVEDIR) == 0)
        return 0;
    /* Nothing at the path: removed, or renamed away (it or a parent). The
     * descriptor tells: a renamed directory is still emptied, as the exit
     * and signal cleanup empty it. Without one, nothing can be told. */
    if (errno == ENOENT && (d->fd < 0 || tf__dir_removed(d->fd)))
        return 0;
    if (d->fd < 0)
        return tf_rmtree(d->path, flags);
    int rc = tf__rmtree_remove(d->fd, AT_FDCWD, d->path, flags, NULL, 0);
    if (rc < 0 && errno == ENOENT && tf__dir_removed(d->fd))   /* removed meanwhile */
        return 0;
    return rc < 0 && !(flags & TF_RMTREE_IGNORE_ERRORS) ? -1 : 0;
}

int tf_dir_cleanup(tf_dir *d)
{
    if (!d) {
        errno = EINVAL;
        return -1;
    }
    if (d->cleaned)
        return 0;
    /* A failed cleanup keeps the descriptor, so that it can be tried again. */
    if (remove_tree(d, d->flags & TF_IGNORE_CLEANUP_ERRORS) < 0)
        return -1;
    tf__reg_remove(&d->reg);   /* before the descriptor it points to closes */
    if (d->fd >= 0)
        tf__sys.close(d->fd);
    d->fd = -1;
    d->cleaned = true;
    return 0;
}

int tf_dir_release(tf_dir *d)
{
    if (!d)
        return 0;
    /* The handle goes whatever happens: a failure that may pass (EINTR,
     * EBUSY, a shortage) gets a second try while the name is still known. */
    int rc = (d->flags & TF_KEEP) ? 0 : tf_dir_cleanup(d);
    if (rc < 0)
        rc = tf_dir_cleanup(d);
    int err = errno;
    tf__reg_remove(&d->reg);
    if (d->fd >= 0)
        tf__sys.close(d->fd);
    free(d->path);
    free(d);
    errno = err;
    return rc;
}
