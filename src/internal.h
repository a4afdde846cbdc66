/*
 * Declarations shared between the library's source files (never installed).
 * Internal symbols are prefixed tf__ and hidden from the shared library.
 */
#ifndef TF_INTERNAL_H
#define TF_INTERNAL_H

#include "tempfile.h"
#include "syscall.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Python's alphabet for random names. */
#define TF__ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789_"
#define TF__ALPHABET_LEN 37

/* Python's template: the prefix of names when tf_opts.prefix is NULL. */
#define TF__PREFIX "tmp"

/* Default permission bits when tf_opts.mode is 0. */
#define TF__FILE_MODE 0600
#define TF__DIR_MODE 0700

/*
 * Marks a function that may run in a fatal-signal handler: it makes only
 * async-signal-safe calls, allocates nothing and takes no lock, and so may
 * only call functions marked the same. `grep -n TF__ASYNC_SAFE src/` lists
 * them. (An empty marker, as gnulib's _GL_ASYNC_SAFE.)
 */
#define TF__ASYNC_SAFE

/* ---- fsutil.c: descriptor-relative helpers every walker shares --------- */

/* How every directory is opened: for reading, never through a link. */
#define TF__DIR_OPEN (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Room for the largest entry getdents64 can return. */
#define TF__DIRENT_MAX (offsetof(struct dirent64, d_name) + NAME_MAX + 1 + 8)

/* What tells files, directories and filesystems apart. */
struct tf__node {
    dev_t dev;
    ino_t ino;
    uint64_t mnt;   /* mount id; 0: the kernel did not say (no statx, before 5.8) */
};

/* Identifies dirfd itself (name NULL) or the entry name in it, without
 * following a final link (statx with the mount id; fstatat without statx). */
TF__ASYNC_SAFE int tf__identify(int dirfd, const char *name, struct tf__node *id);

/* The same file or directory: device and inode. */
TF__ASYNC_SAFE bool tf__same_node(const struct tf__node *a, const struct tf__node *b);

/* On the same filesystem and the same mount (a bind mount of the same
 * filesystem is another mount); an unknown mount id matches any. */
TF__ASYNC_SAFE bool tf__same_mount(const struct tf__node *a, const struct tf__node *b);

/* Does name in dirfd (a final link not followed) still name the file of dev
 * and ino? 1 it does, 0 it names another file, -1 with fstatat(2)'s errno
 * (ENOENT, ENOTDIR: it names nothing). Each caller says which errno a file
 * that is not the one means to its own callers. */
TF__ASYNC_SAFE int tf__names_file(int dirfd, const char *name, dev_t dev, ino_t ino);

/* openat(dirfd, name) with TF__DIR_OPEN. */
TF__ASYNC_SAFE int tf__open_dir(int dirfd, const char *name);

/* The directory open as fd has no name left: removed since it was opened
 * (by another remover: rm -rf, a second cleanup); also when fstat says
 * ENOENT or ESTALE of it (NFS, FUSE), false when it fails otherwise. */
TF__ASYNC_SAFE bool tf__dir_removed(int fd);

/*
 * tf__open_dir(), and if the directory denies its owner reading, makes it
 * owner-accessible (0700) through an O_PATH descriptor first, never through
 * a link; with `within`, only if it is on that node's filesystem and mount
 * (EXDEV otherwise).
 */
TF__ASYNC_SAFE int tf__open_dir_owner(int dirfd, const char *name, const struct tf__node *within);

/* Its second half, for a caller whose own tf__open_dir() was denied (EACCES). */
TF__ASYNC_SAFE int tf__reopen_dir_owner(int dirfd, const char *name, const struct tf__node *within);

/* fchmod through an O_PATH descriptor: fchmodat2(2), or its /proc path
 * (EOPNOTSUPP when neither is there). */
TF__ASYNC_SAFE int tf__chmod_pinned(int pfd, mode_t mode);

/* Reads a directory in batches into a caller's buffer (no allocation). */
struct tf__dir_reader {
    int fd;
    char *buf;
    size_t cap;    /* bytes of buf: at least TF__DIRENT_MAX */
    size_t len;    /* bytes the last getdents64 returned */
    size_t off;    /* the next entry in buf */
};

TF__ASYNC_SAFE void tf__dir_reader_init(struct tf__dir_reader *r, int fd, void *buf, size_t cap);

/* The next entry other than "." and "..", reading a batch when buf is used
 * up; NULL at the end (errno 0) or on an error (errno set). */
TF__ASYNC_SAFE const struct dirent64 *tf__dir_next(struct tf__dir_reader *r);

/* Did the last batch leave room for one more entry? Then it was the
 * directory's last on a filesystem that fills the buffer while entries
 * remain (FUSE may not: a caller that relies on this must catch it later). */
TF__ASYNC_SAFE bool tf__dir_batch_last(const struct tf__dir_reader *r);

/* Is the batch in buf used up? */
static inline bool tf__dir_batch_done(const struct tf__dir_reader *r)
{
    return r->off >= r->len;
}

/* ---- names.c ---------------------------------------------------------- */

/* Writes TF_RANDOM_CHARS random alphabet characters at out. */
int tf__random_name(char *out);

/* ---- path.c ----------------------------------------------------------- */

/*
 * A path under construction: dir "/" prefix XXXXXXXX suffix, where the X's are
 * rewritten for every try.
 */
struct tf__template {
    char *path;         /* malloc'd, NUL-terminated */
    size_t rand_off;    /* where the random characters start */
};

/* What opts name, resolved: the directory and the parts of a name. */
struct tf__parts {
    const char *dir;      /* opts->dir or the default, absolute and normal */
    size_t dlen;          /* strlen(dir) */
    const char *prefix, *suffix;
    size_t plen, slen;
    char *owned;          /* to free() when done with dir (may be NULL) */
};

/* Every bit tf_opts.flags may hold. */
#define TF__OPTS_FLAGS (TF_KEEP | TF_NO_DELETE_ON_CLOSE | TF_IGNORE_CLEANUP_ERRORS)

/*
 * The one check of options, for every creating call: EINVAL for a '/' in
 * prefix or suffix, mode bits outside 07777 or unknown flag bits;
 * ENAMETOOLONG for a name longer than NAME_MAX. Nothing
 * is resolved (the directory is not looked at).
 */
int tf__check_opts(const tf_opts *opts);

/* The name parts alone, as the sweep's matcher takes them: measured into
 * *plen and *slen, with tf__check_opts()'s errors. */
int tf__check_name_parts(const char *prefix, const char *suffix, size_t *plen, size_t *slen);

/* tf__check_opts(), then resolves opts into *p. */
int tf__resolve(const tf_opts *opts, struct tf__parts *p);

/* Builds the template for opts (resolving the default dir, validating). */
int tf__template_init(struct tf__template *t, const tf_opts *opts);

/* Python's os.path.abspath: absolute and lexically normalized; malloc'd. */
char *tf__abspath(const char *path);

/* strdup through the seam's allocator, so that ENOMEM can be injected. */
char *tf__strdup(const char *s);

/*
 * tf__strdup() without trailing slashes ("/" stays): a trailing slash would
 * make the kernel follow a final symbolic link that O_NOFOLLOW must refuse.
 */
char *tf__strdup_trimmed(const char *path);

/* Permission bits to create with, and whether they must survive the umask. */
struct tf__mode {
    mode_t bits;
    bool exact;   /* an explicit tf_opts.mode: fchmod after creating */
};

/* opts->mode, exact, or the default, left to the umask. */
static inline struct tf__mode tf__mode(const tf_opts *opts, mode_t fallback)
{
    if (opts && opts->mode)
        return (struct tf__mode){ opts->mode, true };
    return (struct tf__mode){ fallback, false };
}

/* ---- create.c --------------------------------------------------------- */

/*
 * Calls try_one(t->path, ctx) with fresh random names until it returns something
 * other than -1 with errno EEXIST, at most `tries` times.
 */
int tf__try_names(struct tf__template *t, unsigned long tries,
                  int (*try_one)(const char *path, void *ctx), void *ctx);

/*
 * mkdtemp's core: *path receives the new directory's path and, if fd is not
 * NULL, *fd a read descriptor of it (-1 if its mode denies reading). Both
 * are written only on success. Returns 0, or -1 with errno.
 */
int tf__create_dir(const tf_opts *opts, char **path, int *fd);

/* A descriptor of a file with no name in opts' directory. */
int tf__create_unnamed(const tf_opts *opts);

/* Closes fd keeping errno (for error paths). */
TF__ASYNC_SAFE void tf__close_keep_errno(int fd);

/*
 * Undoes a creation that cannot be completed: removes path (unlink_flags 0 for
 * a file, AT_REMOVEDIR for a directory), closes fd if >= 0, keeps errno.
 */
void tf__undo_create(const char *path, int fd, int unlink_flags);

/* ---- file.c: the one handle for every temporary file ------------------ */

/*
 * What a kind of temporary file does for each call. The descriptor-backed
 * kind is in file.c, the memory-backed one in spool.c; a spooled file swaps
 * its ops on rollover.
 */
struct tf__file_ops {
    ssize_t (*read)(tf_file *f, void *buf, size_t n);
    ssize_t (*write)(tf_file *f, const void *buf, size_t n);
    off_t (*seek)(tf_file *f, off_t off, int whence);
    int (*truncate)(tf_file *f, off_t size);
    int (*fileno)(tf_file *f);
    int (*close)(tf_file *f);     /* releases the backing store */
};

struct tf__spool;

/*
 * The window of a spooled file in memory: tf_file_write() and tf_file_read()
 * (file.c) serve an access inside it with one copy, without a call into
 * spool.c. `at` is the position, inside the chunk it falls in; mark is where
 * the chunk's data ended when the window opened, end the last byte a write
 * may reach with no allocation, no gap to zero and no rollover (end never
 * passes max_size). Accesses only move `at` forward: a read takes what lies
 * in [at, mark) (after writes past mark, nothing: the full path reads), and
 * the chunk's data ends at max(mark, at). While the window is open the
 * spool's pos, len and filled lag behind it: every call of the memory
 * backend folds it back first (spool.c settle()). Closed, all three point at
 * one static byte: no room, nothing to read. struct tf__window itself is in
 * tempfile.h, where tf_file_putc() and tf_file_getc() read it inline.
 */
extern unsigned char tf__no_window[1];

static inline void tf__window_close(struct tf__window *w)
{
    w->at = w->mark = w->end = tf__no_window;
}

/*
 * Copies 1 to 16 bytes by overlapping fixed-size moves that the compiler
 * inlines: a call to memcpy for one byte costs more than the rest of a
 * window access.
 */
static inline void tf__copy_small(unsigned char *d, const unsigned char *s, size_t n)
{
    if (n < 4) {
        d[0] = s[0];
        if (n > 1) {   /* 2 or 3: bytes 1 and n - 1 (the same when n is 2) */
            d[1] = s[1];
            d[n - 1] = s[n - 1];
        }
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    }
}

struct tf_file {
    struct tf__window win;    /* first: tf_file_putc()/tf_file_getc() read it there */
    const struct tf__file_ops *ops;
    int fd;                   /* -1 while in memory or once closed */
    unsigned flags;           /* TF_KEEP, TF_NO_DELETE_ON_CLOSE */
    bool closed;
    bool linked;              /* path names our file and is ours to remove */
    char *path;               /* named files only */
    FILE *stream;             /* the tf_file_stream() view, if open */
    char *stream_buf;         /* its stdio buffer (TF__STREAM_BUF), wiped when it closes */
    struct tf__spool *spool;  /* spooled files only */
    struct tf__reg_entry *reg;  /* registry entry while the name is ours to remove */
    bool linkable;            /* O_TMPFILE without O_EXCL: tf_file_persist() links it */
    struct tf__durable *dur;  /* tf_replace_begin() and tf_lock_file() handles only */
    bool shared;              /* handed over in share mode: the last owner removes */
    dev_t dev;                /* shared and received files: the file, to tell */
    ino_t ino;                /*   that its name still names it */
    bool verify;              /* received: the name is removed only if still the file's */
    uid_t uid;                /* received: the file's owner, */
    uid_t peer_uid;           /*   and the sender's uid if it was asked, else -1 */
    int refused;              /* received unchecked, a check failed: its errno */
};

extern const struct tf__file_ops tf__fd_ops;

/* A handle around fd (taken over) and path (taken over, may be NULL). */
tf_file *tf__file_new(int fd, char *path, unsigned flags);
/* The same, path registered for removal at exit or on a signal unless flags has
 * TF_KEEP; NULL (errno) with neither taken over if the registry cannot take it.
 * Called inside a tf__reg_guard. */
tf_file *tf__file_new_registered(int fd, char *path, unsigned flags);


/* ---- persist.c, replace.c, metadata.c, lockfile.c: durable data ------- */

/* tf_lock_file()'s lock of NAME is NAME.lock (the sweep knows them by it). */
#define TF__LOCK_SUFFIX ".lock"

/* The destination, resolved by the symlink policy: name in the directory
 * open as dirfd (O_RDONLY, held for the directory fsync). */
struct tf__target {
    int dirfd;
    char name[NAME_MAX + 1];
    char *dirpath;   /* the directory's absolute path, once known (malloc'd) */
    bool exists;   /* a regular file is there now (a link, with TF_SYMLINK_REPLACE) */
    bool same_file;   /* that file is the one being persisted (a hard link of it) */
    struct stat st;   /* what was there, as resolving saw it (exists only) */
};

/* Resolves path (relative to atfd) under o's symlink policy, its directory
 * held (readable only for o's durable level, whose fsync needs it); -1 with
 * errno. */
int tf__target_open(int atfd, const char *path, const tf_persist_opts *o, struct tf__target *t);
void tf__target_close(struct tf__target *t);

/* An empty target, which tf__target_close() leaves alone. Field by field:
 * the name and stat buffers need no zeroing (a one-shot replace sets a
 * target up and moves it several times). */
static inline void tf__target_empty(struct tf__target *t)
{
    t->dirfd = -1;
    t->dirpath = NULL;
    t->exists = t->same_file = false;
}

/* An internal bit of a checked tf_persist_opts (no public flag has it): the
 * handle is the one-shot's, whose name nobody asks, so no absolute path of
 * the temporary, the destination or their directory is ever made. */
#define TF__PERSIST_NAMELESS (1u << 31)

/* Checks opts against the flags a call takes; *out receives them with
 * defaults applied. EINVAL for anything unknown. */
int tf__persist_opts(const tf_persist_opts *opts, unsigned allowed, bool timeout_ok,
                     tf_persist_opts *out);

/* The absolute path of leaf in t's directory; malloc'd. */
char *tf__dir_path(struct tf__target *t, const char *leaf);

/* Prefix of the temporaries of replace and persist in the destination's
 * directory (then TF_RANDOM_CHARS random characters). */
#define TF__SIBLING_PREFIX ".tmp"
#define TF__SIBLING_LEN (sizeof TF__SIBLING_PREFIX - 1 + TF_RANDOM_CHARS)

/* Links the open file fd as name in dirfd (EEXIST if the name is taken). */
int tf__link_fd(int fd, int dirfd, const char *name);

/* Creates a new file .tmpXXXXXXXX (name: TF__SIBLING_LEN + 1 bytes) in dirfd. */
int tf__sibling_create(int dirfd, char *name, mode_t mode);

/*
 * Puts f's file at t (f named as sname in sdir, or linkable), as o asks;
 * on success f is the persisted file (see tf_file_persist()). Returns the
 * level reached, or -1 (f untouched unless rep->level was set).
 */
int tf__place(tf_file *f, int sdir, const char *sname, struct tf__target *t,
              const tf_persist_opts *o, tf_persist_report *rep);

/* A new file's creation mode, as open(2) is asked for it: the kernel takes
 * the umask (or the directory's default ACL) off. */
#define TF__NEW_FILE_MODE 0666

/* How a replace or lock handle's temporary was created and, for the
 * one-shot, what it learnt of the old file before (metadata.c): the commit
 * carries over from it. */
struct tf__meta_look {
    bool listed;      /* names: the old file's xattr names, listed then (one-shot) */
    ssize_t n;        /* their length (0: none) */
    char *names;      /* malloc'd when n > 0 */
    mode_t created;   /* the mode the temporary was created with */
};

/* A replace or lock handle's state until commit. */
struct tf__durable {
    struct tf__target t;
    tf_persist_opts o;
    char *tmpname;   /* the temporary's name in t.dirfd */
    struct tf__meta_look look;   /* its creation mode; the one-shot's look */
};

/* Frees f->dur (closing its directory); NULL is fine. */
void tf__durable_free(struct tf__durable *d);

/* Makes tf_replace_begin()'s or tf_lock_file()'s handle around fd, named
 * tmpname in t (both taken over), registered, with *look (taken over: how
 * fd was created); NULL with errno (fd and the name are then removed, look
 * is the caller's still). */
tf_file *tf__durable_new(int fd, char *tmpname, struct tf__target *t, const tf_persist_opts *o,
                         struct tf__meta_look *look);

/* The mode tf_replace_begin() and tf_lock_file() create their temporary
 * with for destination t (as resolved) under o: TF__NEW_FILE_MODE for a new
 * destination with no mode given, for the kernel to make it a new file's
 * mode; else 0600 (see metadata.c). */
mode_t tf__handle_mode(const struct tf__target *t, const tf_persist_opts *o);

/*
 * The one-shot's look at the old file t (resolved a moment before), made
 * before its temporary exists: *look gets its xattr names and the mode to
 * create the temporary with (see create_mode() there). -1 with errno.
 */
int tf__meta_look(const struct tf__target *t, const tf_persist_opts *o,
                  struct tf__meta_look *look);
void tf__meta_look_free(struct tf__meta_look *look);

/*
 * Carries the metadata of the regular file `name` in dirfd over to fd (see
 * tf_file_commit()); a missing file gives fd a new file's mode (a temporary
 * created at TF__NEW_FILE_MODE has it already; one created 0600 gets
 * 0666 & ~umask). o->mode, if set, replaces the mode. Fills
 * rep->not_copied under TF_PERSIST_BEST_EFFORT. seen: the target as
 * resolving it just found it (one lookup fewer), or NULL to look now.
 * look: what tf__meta_look() found (with seen), or how the temporary was
 * created.
 */
int tf__meta_carry(int fd, int dirfd, const char *name, const struct tf__target *seen,
                   const struct tf__meta_look *look, const tf_persist_opts *o,
                   tf_persist_report *rep);

/* ---- stream.c --------------------------------------------------------- */

/* fcloses f's stream if open; 0 or -1 with errno. */
int tf__stream_close(tf_file *f);

/* The size of the view's stdio buffer, glibc's default for a cookie stream. */
#define TF__STREAM_BUF BUFSIZ

/* ---- rmtree.c --------------------------------------------------------- */

/*
 * Removes everything inside the directory open as fd (the descriptor stays
 * open and keeps naming the now empty directory).
 */
int tf__rmtree_contents(int fd, unsigned flags);

/* Bytes the mem of tf__rmtree_remove() must have at least. */
#define TF__RMTREE_MEM_MIN (64 * 1024)

/*
 * Empties the directory open as fd, then removes it by (dirfd, name). While
 * its rmdir finds entries again (a writer at work inside: ENOTEMPTY or
 * EEXIST), it is emptied once more, up to 8 passes, as long as the last pass
 * removed something. With mem (len bytes, 16-byte aligned, at least
 * TF__RMTREE_MEM_MIN) it is async-signal-safe: a tree deeper than 256 levels
 * or with too many names in one path fails with ENOMEM; with mem NULL it
 * allocates. Before each rmdir, name is
 * checked to still name fd's directory: ESTALE if another directory has
 * taken the name (ours was renamed away: it is left emptied), 0 if the name
 * is gone. 0, or -1 with errno; a failed rmdir is -1 even with
 * TF_RMTREE_IGNORE_ERRORS.
 */
TF__ASYNC_SAFE int tf__rmtree_remove(int fd, int dirfd, const char *name, unsigned flags,
                                     void *mem, size_t len);

/* ---- spool.c ---------------------------------------------------------- */

/*
 * Test hook: when set, called after every wipe of a spooled file's memory with
 * the n bytes wiped at p (all zero by then): the block at p is about to be
 * freed if `freed`, else a truncate cut the range off a block that stays. Lets
 * tests check the wipe without reading freed memory. NULL in production.
 */
extern void (*tf__spool_wipe_hook)(const void *p, size_t n, bool freed);

/* ---- registry.c: live temporaries, removed at exit or on a signal ----- */

struct tf__reg_entry;

enum { TF__REG_FILE, TF__REG_DIR };

/*
 * Registers a named file or a directory so that it is removed at exit or on
 * a fatal signal. fd: a directory's descriptor of it, or -1; for a file, the
 * directory its path is relative to (held open until tf__reg_remove()), or
 * -1 for an absolute path. path must stay valid until tf__reg_remove().
 * *out receives the entry. Errors: ENOMEM.
 */
int tf__reg_add(struct tf__reg_entry **out, int kind, const char *path, int fd);

/*
 * What identifies a received file (handoff.c): its name is removed only while
 * it names that device and inode, owned by the process's effective uid (as
 * it is at removal) or by peer_uid ((uid_t)-1: no peer vouched).
 */
struct tf__file_id {
    dev_t dev;
    ino_t ino;
    uid_t peer_uid;
};

/* tf__reg_add() of a received file's name, removed only as id allows. */
int tf__reg_add_checked(struct tf__reg_entry **out, const char *path,
                        const struct tf__file_id *id);

/* Unlinks path if it still names the file id describes: 1 removed (or gone
 * already), 0 it names something else (nothing removed), -1 with errno. */
TF__ASYNC_SAFE int tf__unlink_checked(const char *path, const struct tf__file_id *id);

/* Unregisters *slot (if not NULL) and sets it to NULL. Never fails. */
void tf__reg_remove(struct tf__reg_entry **slot);

/*
 * Brackets a creation and its registration: while fatal-signal handlers are
 * installed, it blocks fatal signals on this thread and lets a handler wait
 * for the creation to be registered. Without handlers it costs no syscall.
 */
struct tf__reg_guard {
    bool blocked;
    sigset_t old;
};
void tf__reg_begin(struct tf__reg_guard *g);
void tf__reg_end(struct tf__reg_guard *g);

/* A fatal-signal handler is about to end the process: stop new creations and
 * wait (briefly) for those under way to register. Async-signal-safe. */
TF__ASYNC_SAFE void tf__reg_dying(void);

/* The signal after tf__reg_dying() did not end the process after all: let
 * creations go on. Async-signal-safe. */
TF__ASYNC_SAFE void tf__reg_survived(void);

/*
 * Removes every registered temporary this process owns; the handles stay
 * valid. signal_safe: async-signal-safe, no allocation (trees go through
 * static memory); otherwise it allocates.
 * Returns how many were removed, or -1 with the first failure's errno.
 */
TF__ASYNC_SAFE int tf__registry_clean(bool signal_safe);

/* Takes a shared flock on fd (best effort, waiting out a sweep's momentary
 * exclusive probe): the mark of a live temporary. */
void tf__lock_live(int fd);

/* Whether a process marks the regular file or directory open as fd (opened
 * O_RDONLY) live: 1 live, 0 not, -1 with errno if it cannot tell. */
int tf__probe_live(int fd, bool is_dir);
/* tf__probe_live() of a regular file open read-only, but when it answers 0
 * (an orphan) what told it stays held until fd is closed (a write lease, or
 * the exclusive flock and a read lease): nothing can take the file live
 * between the look and a removal. Close fd before running a caller's code:
 * whoever opens the file meanwhile waits for it. */
int tf__probe_live_hold(int fd);

/* ---- signals.c ---------------------------------------------------------- */

/* If handlers are installed, blocks fatal signals, saving the mask in *old. */
bool tf__signals_block(sigset_t *old);
void tf__signals_unblock(const sigset_t *old);

/*
 * Test hook: when set, called by the fatal-signal handler just before it
 * delivers the signal again, which may end the process (a coverage build's
 * tests flush their counters there: a process killed by a signal writes
 * none). NULL in production.
 */
extern void (*tf__signal_death_hook)(void);

/* ---- spool.c: shred --------------------------------------------------- */

/* Wipes a spooled file still in memory (explicit_bzero): keeps the size
 * (every byte reads as zero) or, with empty, cuts it to 0. Returns the size
 * it had. */
uint64_t tf__spool_shred(tf_file *f, bool empty);

/* ---- fsinfo.c ---------------------------------------------------------- */

/* ORs what is known about fd's file (st: its fstat) and filesystem into
 * r->why, sets r->fs_type and r->effective. Errors: fstatfs(2)'s. */
int tf__fs_report(int fd, const struct stat *st, tf_shred_report *r);
/* Whether reserving a file's blocks before writing it pays on fd's
 * filesystem: on a local disk yes (one extent, chosen at once rather than at
 * writeback, and ENOSPC before the data is copied); in memory (tmpfs) it is
 * only more work, over a network a round trip for a hint. */
bool tf__fs_preallocates(int fd);

/* ---- handoff.c ---------------------------------------------------------- */

/* Removes a shared file's name if no other owner holds it (release of a
 * shared handle, its descriptor already closed); 0 or -1. */
int tf__share_unlink(tf_file *f);

/*
 * A handle received with TF_HANDOFF_NO_ANSWER is checked at its first use
 * rather than at tf_file_recv(): descriptor opened for reading and writing,
 * name still naming it, owner. 0 if it is (or was already), -1 with the
 * check's errno (every later call too: the handle is refused, its name
 * dropped). Every call that acts on the file comes through here.
 */
int tf__recv_vet(tf_file *f);

/* ---- sweep.c ------------------------------------------------------------ */

/*
 * Test hook: when set, the sweep's clock (seconds since the Epoch) instead of
 * CLOCK_REALTIME, so that tests can make entries old without changing their
 * ctime (which cannot be set). NULL in production.
 */
extern time_t (*tf__sweep_clock_hook)(void);

/* The sweep's matcher: does name read prefix (plen bytes), TF_RANDOM_CHARS
 * characters of TF__ALPHABET, then suffix (slen bytes), exactly? */
bool tf__name_matches(const char *prefix, size_t plen, const char *suffix, size_t slen,
                      const char *name);

#endif
