/*
 * Atomic replace of a whole file: begin makes a named temporary beside the
 * destination (directory resolved once and held), the caller writes through
 * an ordinary handle, commit carries the old file's metadata over and
 * places the temporary (persist.c) at the level asked.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

void tf__durable_free(struct tf__durable *d)
{
    if (!d)
        return;
    tf__target_close(&d->t);
    tf__meta_look_free(&d->look);
    free(d->tmpname);
    free(d);
}

tf_file *tf__durable_new(int fd, char *tmpname, struct tf__target *t, const tf_persist_opts *o,
                         struct tf__meta_look *look)
{
    tf__lock_live(fd);
    char *path = NULL;
    bool ready = (o->flags & TF__PERSIST_NAMELESS) || (path = tf__dir_path(t, tmpname));
    struct tf__durable *d = ready ? tf__sys.malloc(sizeof *d) : NULL;
    tf_file *f = d ? tf__file_new(fd, path, 0) : NULL;
    /* Registered by the directory held, as the release removes it: exit and
     * signal cleanup find it even after the directory moved. */
    if (f && tf__reg_add(&f->reg, TF__REG_FILE, tmpname, t->dirfd) == 0) {
        f->linked = true;   /* even without a path: it has its name there */
        d->t = *t;
        d->o = *o;
        d->tmpname = tmpname;
        d->look = *look;
        tf__target_empty(t);
        *look = (struct tf__meta_look){ 0 };
        f->dur = d;
        return f;
    }
    int err = errno;
    tf__sys.unlinkat(t->dirfd, tmpname, 0);
    tf__sys.close(fd);
    free(f);
    free(d);
    free(path);
    errno = err;
    return NULL;
}

#define TF__REPLACE_FLAGS (TF_PERSIST_NOCLOBBER | TF_PERSIST_STRICT | TF_PERSIST_BEST_EFFORT)

/* The temporary, created at look->created, and its handle, one step as far
 * as fatal signals go. look is taken over on success. */
static tf_file *begin(struct tf__target *t, const tf_persist_opts *o, struct tf__meta_look *look)
{
    char *tmp = tf__sys.malloc(TF__SIBLING_LEN + 1);
    if (!tmp)
        return NULL;
    struct tf__reg_guard g;
    tf__reg_begin(&g);
    int fd = tf__sibling_create(t->dirfd, tmp, look->created);
    tf_file *f = fd < 0 ? NULL : tf__durable_new(fd, tmp, t, o, look);
    tf__reg_end(&g);
    if (!f)
        free(tmp);
    return f;
}

static tf_file *begin_at(int dirfd, const char *name, const tf_persist_opts *opts, bool oneshot)
{
    tf_persist_opts o;
    struct tf__target t;
    if (tf__persist_opts(opts, TF__REPLACE_FLAGS, false, &o) < 0)
        return NULL;
    if (oneshot)
        o.flags |= TF__PERSIST_NAMELESS;
    if (tf__target_open(dirfd, name, &o, &t) < 0)
        return NULL;
    tf_file *f = NULL;
    /* tf_replace_begin()'s mode; the one-shot's look chooses its own. */
    struct tf__meta_look look = { .created = tf__handle_mode(&t, &o) };
    if (t.exists && (o.flags & TF_PERSIST_NOCLOBBER))
        errno = EEXIST;
    else if (!oneshot || tf__meta_look(&t, &o, &look) == 0)
        f = begin(&t, &o, &look);
    tf__meta_look_free(&look);   /* a no-op once taken over */
    tf__target_close(&t);
    return f;
}

tf_file *tf_replace_begin_at(int dirfd, const char *name, const tf_persist_opts *opts)
{
    return begin_at(dirfd, name, opts, false);
}

tf_file *tf_replace_begin(const char *dest, const tf_persist_opts *opts)
{
    return tf_replace_begin_at(AT_FDCWD, dest, opts);
}

/* oneshot: straight after begin, so the destination is as begin saw it. */
static int commit(tf_file *f, bool oneshot, tf_persist_report *report)
{
    tf_persist_report local;
    if (!report)
        report = &local;
    *report = (tf_persist_report){ 0 };
    if (!f || !f->dur) {
        errno = EINVAL;
        return -1;
    }
    if (f->closed) {
        errno = EBADF;
        return -1;
    }
    struct tf__durable *d = f->dur;
    if ((f->stream && fflush(f->stream) != 0) ||
        tf__meta_carry(f->fd, d->t.dirfd, d->t.name, oneshot ? &d->t : NULL, &d->look, &d->o,
                       report) < 0)
        return -1;
    int level = tf__place(f, d->t.dirfd, d->tmpname, &d->t, &d->o, report);
    if (report->level > 0) {   /* renamed: no temporary any more */
        f->dur = NULL;
        tf__durable_free(d);
        /* Nor a live mark, which would only hold off others' flocks of the
         * destination while the handle stays open; the one-shot's release
         * closes it at once. */
        if (!oneshot)
            tf__sys.flock(f->fd, LOCK_UN);
    }
    return level;
}

int tf_file_commit(tf_file *f, tf_persist_report *report)
{
    return commit(f, false, report);
}

/* The one-shot reserves the blocks of a buffer this large before writing it
 * (GLib always does): on ext4 that costs 12-41 % less CPU at 1 MiB, since
 * the write then lands in one extent found at once instead of being
 * allocated at the fsync or at the flush ext4 makes on a replacing rename
 * (bench/README.md); below it the extra call does not pay. A hint only: a
 * refusal is ignored, and a full disk fails the write as it would have. */
#define TF__PREALLOC_MIN (64 * 1024)

static void preallocate(int fd, size_t n)
{
    if (n >= TF__PREALLOC_MIN && tf__fs_preallocates(fd))
        (void)tf__sys.fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)n);
}

int tf_replace_contents_at(int dirfd, const char *name, const void *buf, size_t n,
                           const tf_persist_opts *opts, tf_persist_report *report)
{
    if (!buf && n) {
        errno = EINVAL;
        return -1;
    }
    tf_file *f = begin_at(dirfd, name, opts, true);
    if (!f)
        return -1;
    int level = -1;
    preallocate(f->fd, n);
    if (!n || tf_file_write(f, buf, n) >= 0)
        level = commit(f, true, report);
    int err = errno;
    tf_file_release(f);   /* after a commit, only a close */
    errno = err;
    return level;
}

int tf_replace_contents(const char *dest, const void *buf, size_t n,
                        const tf_persist_opts *opts, tf_persist_report *report)
{
    return tf_replace_contents_at(AT_FDCWD, dest, buf, n, opts, report);
}
