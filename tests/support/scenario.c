/* Scenarios of public calls for fault injection (scenario.h). */
#include "scenario.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* tf_mktemp */

#define SAY(...) fprintf(stderr, __VA_ARGS__)

/* ---- errno values per seam entry --------------------------------------- */

static const struct {
    const char *entry;
    int errs[7];
} ERRNOS[] = {
    { "openat", { ENOSPC, EMFILE, ENFILE, EACCES, EINTR, ENOMEM, EIO } },
    { "close", { EINTR, EIO, ENOSPC } },
    { "read", { EINTR, EIO, ENOMEM } },
    { "write", { ENOSPC, EINTR, EIO, EDQUOT, EFBIG } },
    { "pread", { EINTR, EIO } },
    { "pwrite", { ENOSPC, EINTR, EIO } },
    { "lseek", { EIO, EOVERFLOW } },
    { "ftruncate", { ENOSPC, EINTR, EIO, EFBIG } },
    { "fallocate", { ENOSPC, EOPNOTSUPP, EIO } },
    { "fsync", { EIO, ENOSPC } },
    { "fdatasync", { EIO, ENOSPC } },
    { "fstat", { ENOMEM, EIO, EOVERFLOW } },
    { "fstatat", { EACCES, ENOMEM, EIO } },
    { "statx", { EACCES, ENOMEM, ENOSYS } },
    { "fstatfs", { EIO, ENOSYS } },
    { "mkdirat", { ENOSPC, EACCES, EMLINK, EDQUOT } },
    { "unlinkat", { EACCES, EBUSY, EINTR, EIO, EROFS } },
    { "linkat", { ENOSPC, EACCES, EMLINK } },
    { "renameat2", { ENOSPC, EACCES, EINVAL } },
    { "readlinkat", { EACCES, EIO } },
    { "fchmod", { EPERM, EIO, EROFS } },
    { "fchmodat", { EPERM, EIO, EROFS } },
    { "fchmodat2", { ENOSYS, EPERM, EIO } },
    { "fchown", { EPERM, EIO } },
    { "flistxattr", { ENOTSUP, EIO } },
    { "fgetxattr", { ENOTSUP, EIO } },
    { "fsetxattr", { ENOTSUP, ENOSPC } },
    /* ENOSYS: a kernel before 6.13 (the /proc path then); ENOTSUP, ENODATA:
     * no attributes here; ERANGE: one grew between the sizing and the read. */
    { "listxattrat", { ENOTSUP, EIO, ERANGE, ENOSYS } },
    { "getxattrat", { ENODATA, EIO, ERANGE, ENOSYS } },
    { "copy_file_range", { EXDEV, ENOSPC, EIO } },
    { "ioctl", { ENOTTY, EIO } },
    { "getdents64", { ENOMEM, EIO, EINTR } },
    { "getrandom", { EINTR, ENOSYS, EAGAIN } },
    { "flock", { EINTR, ENOLCK, EWOULDBLOCK } },
    { "sendmsg", { EPIPE, ENOBUFS, EINTR } },
    { "recvmsg", { EINTR, ENOBUFS } },
    { "getcwd", { ENOMEM, EACCES, ENOENT } },
    { "malloc", { ENOMEM } },
    { "realloc", { ENOMEM } },
};

const int *scenario_errnos(const char *entry)
{
    static const int none[] = { 0 };
    for (size_t i = 0; i < sizeof ERRNOS / sizeof *ERRNOS; i++)
        if (strcmp(ERRNOS[i].entry, entry) == 0)
            return ERRNOS[i].errs;
    return none;
}

/* ---- a populated tree ---------------------------------------------------- */

int scenario_populate(const char *root)
{
    if (write_file(root, "f1", "1") || write_file(root, "f2", "2"))
        return -1;
    const char *subs[] = { "a", "a/b", "r0500", "r0000", "r0300" };
    for (size_t i = 0; i < 5; i++) {
        char *p = path_join(root, subs[i]);
        int rc = mkdir(p, 0700) || write_file(p, "x", "x");
        free(p);
        if (rc)
            return -1;
    }
    char *p = path_join(root, "f1");
    chmod(p, 0400);
    free(p);
    p = path_join(root, "link");
    int rc = symlink("/", p);
    free(p);
    if (rc)
        return -1;
    const struct { const char *n; mode_t m; } modes[] = {
        { "r0500", 0500 }, { "r0000", 0000 }, { "r0300", 0300 } };
    for (size_t i = 0; i < 3; i++) {
        p = path_join(root, modes[i].n);
        chmod(p, modes[i].m);
        free(p);
    }
    return 0;
}

/* ---- creating calls ------------------------------------------------------- */

static int run_mkstemp(struct scen_ctx *c)
{
    c->fd = tf_mkstemp(&(tf_opts){ .dir = c->dir, .mode = 0640 }, &c->path);
    return c->fd < 0 ? -1 : 0;
}

static int run_mkdtemp(struct scen_ctx *c)
{
    c->path = tf_mkdtemp(&(tf_opts){ .dir = c->dir, .mode = 0300 });
    return c->path ? 0 : -1;
}

static int run_mktemp(struct scen_ctx *c)
{
    c->path = tf_mktemp(&(tf_opts){ .dir = c->dir });
    return c->path ? 0 : -1;
}

/* Removes what a low-level call made (the caller's job). */
static int finish_path(struct scen_ctx *c, int ran)
{
    (void)ran;
    if (c->fd >= 0)
        close(c->fd);
    if (c->path) {
        chmod(c->path, 0700);
        if (remove(c->path) != 0 && errno != ENOENT)
            return -1;
    }
    free(c->path);
    return 0;
}

static int run_unnamed(struct scen_ctx *c)
{
    c->f = tf_temporary_file(&(tf_opts){ .dir = c->dir, .mode = 0640 });
    return c->f ? 0 : -1;
}

static int no_tmpfile_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return tf__sys_default.openat(dirfd, path, flags, mode);
}

/* Under the fault layer, which keeps it until fault_reset(). */
static int prepare_no_tmpfile(struct scen_ctx *c)
{
    (void)c;
    fault_next.openat = no_tmpfile_openat;
    return 0;
}

static int run_named(struct scen_ctx *c)
{
    c->f = tf_named_temporary_file(&(tf_opts){ .dir = c->dir, .mode = 0640 });
    return c->f ? 0 : -1;
}

static int run_spooled(struct scen_ctx *c)
{
    c->f = tf_spooled_temporary_file(&(tf_opts){ .dir = c->dir, .max_size = 100 });
    return c->f ? 0 : -1;
}

static int run_tempdir(struct scen_ctx *c)
{
    c->d = tf_temporary_directory(&(tf_opts){ .dir = c->dir, .mode = 0750 });
    return c->d ? 0 : -1;
}

/*
 * Releases the handles a scenario holds. A release that fails (its unlink)
 * may leave a registered name: the exit handler's work, done here now.
 */
int finish_handles(struct scen_ctx *c, int ran)
{
    (void)ran;
    int rc = 0;
    if (c->stream && fclose(c->stream) != 0)
        rc = -1;
    if (c->fd >= 0)
        close(c->fd);
    if (tf_file_release(c->f) != 0) {
        SAY("  release after the run failed: %s\n", errname(errno));
        rc = -1;
    }
    if (tf_dir_release(c->d) != 0) {
        SAY("  directory release after the run failed: %s\n", errname(errno));
        rc = -1;
    }
    free(c->path);
    return rc;
}

/* ---- file operations on each backend ------------------------------------ */

static void model_put(struct scen_ctx *c, const unsigned char *buf, size_t n)
{
    if (c->mpos > c->mlen)
        memset(c->model + c->mlen, 0, c->mpos - c->mlen);
    memcpy(c->model + c->mpos, buf, n);
    c->mpos += n;
    if (c->mpos > c->mlen)
        c->mlen = c->mpos;
}

void fill_pattern(unsigned char *buf, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 7 + salt);
}

int step_write(struct scen_ctx *c, size_t n, unsigned salt)
{
    unsigned char buf[6000];
    fill_pattern(buf, n, salt);
    if (tf_file_write(c->f, buf, n) != (ssize_t)n)
        return -1;
    model_put(c, buf, n);
    return 0;
}

static int step_seek(struct scen_ctx *c, off_t off, int whence)
{
    off_t got = tf_file_seek(c->f, off, whence);
    if (got < 0)
        return -1;
    c->mpos = (size_t)got;
    return 0;
}

/* A read must give the model's bytes: EILSEQ (never injected) if not. */
static int step_read(struct scen_ctx *c, size_t n)
{
    unsigned char buf[SCENARIO_MODEL_MAX];
    ssize_t got = tf_file_read(c->f, buf, n);
    if (got < 0)
        return -1;
    size_t want = c->mpos >= c->mlen ? 0 : c->mlen - c->mpos < n ? c->mlen - c->mpos : n;
    if ((size_t)got != want || memcmp(buf, c->model + c->mpos, want) != 0) {
        SAY("  read %zd bytes at %zu: not the model's %zu\n", got, c->mpos, want);
        errno = EILSEQ;
        return -1;
    }
    c->mpos += want;
    return 0;
}

static int step_truncate(struct scen_ctx *c, size_t size)
{
    if (tf_file_truncate(c->f, (off_t)size) != 0)
        return -1;
    if (size > c->mlen)
        memset(c->model + c->mlen, 0, size - c->mlen);
    c->mlen = size;
    return 0;
}

/* Every tf_file_* that moves data, in an order that rolls a spooled file. */
static int run_file_ops(struct scen_ctx *c)
{
    if (step_write(c, 200, 1) || step_seek(c, 0, SEEK_SET) || step_read(c, 100) ||
        step_truncate(c, 300) || step_seek(c, 50, SEEK_CUR) || step_seek(c, 0, SEEK_END) ||
        step_write(c, 5000, 2) || step_seek(c, -10, SEEK_END) || step_read(c, 100))
        return -1;
    off_t pos = tf_file_tell(c->f);
    if (pos < 0)
        return -1;
    if ((size_t)pos != c->mpos) {
        errno = EILSEQ;
        return -1;
    }
    if (tf_file_rollover(c->f) != 0 || tf_file_fileno(c->f) < 0 ||
        step_truncate(c, 7000) || step_seek(c, 0, SEEK_SET) || step_read(c, 8000))
        return -1;
    return 0;
}

static int prepare_file(struct scen_ctx *c, tf_file *f)
{
    c->f = f;
    if (!f || step_write(c, 1000, 0) != 0)
        return -1;
    return 0;
}

static int prepare_unnamed(struct scen_ctx *c)
{
    return prepare_file(c, tf_temporary_file(&(tf_opts){ .dir = c->dir }));
}

static int prepare_named(struct scen_ctx *c)
{
    return prepare_file(c, tf_named_temporary_file(&(tf_opts){ .dir = c->dir }));
}

static int prepare_named_nodelete(struct scen_ctx *c)
{
    return prepare_file(c, tf_named_temporary_file(&(tf_opts){
        .dir = c->dir, .flags = TF_NO_DELETE_ON_CLOSE }));
}

static int prepare_spooled(struct scen_ctx *c)
{
    return prepare_file(c, tf_spooled_temporary_file(&(tf_opts){ .dir = c->dir,
                                                                 .max_size = 4096 }));
}

static int prepare_spooled_disk(struct scen_ctx *c)
{
    if (prepare_file(c, tf_spooled_temporary_file(&(tf_opts){ .dir = c->dir })) != 0)
        return -1;
    return tf_file_rollover(c->f);
}

/* No data lost: the file holds the model (read with no fault), then released. */
int finish_file(struct scen_ctx *c, int ran)
{
    int rc = 0;
    if (c->f && !tf_file_closed(c->f)) {
        unsigned char buf[SCENARIO_MODEL_MAX];
        ssize_t got = -1;
        if (tf_file_seek(c->f, 0, SEEK_SET) == 0)
            got = tf_file_read(c->f, buf, sizeof buf);
        if (got != (ssize_t)c->mlen || memcmp(buf, c->model, c->mlen) != 0) {
            SAY("  the file holds %zd bytes, not the %zu expected (data lost)\n", got, c->mlen);
            rc = -1;
        }
    }
    if (finish_handles(c, ran) != 0)
        rc = -1;
    return rc;
}

/* ---- closing ------------------------------------------------------------- */

static int run_close(struct scen_ctx *c)
{
    return tf_file_close(c->f);
}

static int run_detach(struct scen_ctx *c)
{
    c->fd = tf_file_detach(c->f);
    return c->fd < 0 ? -1 : 0;
}

static int run_release(struct scen_ctx *c)
{
    tf_file *f = c->f;
    c->f = NULL;
    return tf_file_release(f);
}

/* A failed close or release may leave the name registered: tf_cleanup_now()
 * (the exit handler's work) must then remove it. */
static int finish_closed(struct scen_ctx *c, int ran)
{
    int rc = finish_handles(c, ran);
    if (tf_cleanup_now() < 0)
        rc = -1;
    return rc;
}

/* ---- streams ------------------------------------------------------------- */

static int run_stream(struct scen_ctx *c)
{
    c->stream = tf_file_stream(c->f);
    if (!c->stream)
        return -1;
    char buf[64];
    if (fprintf(c->stream, "%s %d\n", "stream", 42) < 0 || fflush(c->stream) != 0 ||
        fseek(c->stream, 0, SEEK_SET) != 0 || fread(buf, 1, sizeof buf, c->stream) == 0 ||
        fseek(c->stream, 0, SEEK_END) != 0)
        return -1;
    for (int i = 0; i < 2000; i++)
        if (fputs("more data through stdio\n", c->stream) < 0)
            return -1;
    FILE *s = c->stream;
    c->stream = NULL;
    return fclose(s) == 0 ? 0 : -1;
}

/* What went through stdio is not in the model: only leaks are checked. */
static int finish_stream(struct scen_ctx *c, int ran)
{
    return finish_handles(c, ran);
}

/* ---- directories --------------------------------------------------------- */

static int prepare_tempdir(struct scen_ctx *c)
{
    c->d = tf_temporary_directory(&(tf_opts){ .dir = c->dir });
    return c->d ? scenario_populate(tf_dir_name(c->d)) : -1;
}

static int run_dir_cleanup(struct scen_ctx *c)
{
    return tf_dir_cleanup(c->d);
}

static int run_dir_release(struct scen_ctx *c)
{
    tf_dir *d = c->d;
    c->d = NULL;
    return tf_dir_release(d);
}

static int prepare_tree(struct scen_ctx *c)
{
    c->path = path_join(c->dir, "root");
    return mkdir(c->path, 0700) == 0 ? scenario_populate(c->path) : -1;
}

static int run_rmtree(struct scen_ctx *c)
{
    return tf_rmtree(c->path, 0);
}

/* tf_rmtree with TF_RMTREE_IGNORE_ERRORS reports success whatever happened. */
static int run_rmtree_ignore(struct scen_ctx *c)
{
    if (tf_rmtree(c->path, TF_RMTREE_IGNORE_ERRORS) == 0)
        return 0;
    SAY("  tf_rmtree(TF_RMTREE_IGNORE_ERRORS) returned -1\n");
    errno = EILSEQ;
    return -1;
}

/* A removal that failed can be done again, with no fault, to the end. */
static int finish_tree(struct scen_ctx *c, int ran)
{
    (void)ran;
    int rc = 0;
    if (path_exists(c->path) && tf_rmtree(c->path, 0) != 0) {
        SAY("  the tree is not removable after the fault: %s\n", errname(errno));
        rc = -1;
    }
    free(c->path);
    c->path = NULL;
    return rc;
}

/* ---- sweep, usage, cleanup ------------------------------------------------ */

static time_t two_days_on(void)
{
    return time(NULL) + 2 * 86400;
}

/* Orphans (a file, a populated tree), one live file, one foreign name. */
static int prepare_sweep(struct scen_ctx *c)
{
    c->path = path_join(c->dir, "s");
    if (mkdir(c->path, 0700) != 0)
        return -1;
    char *p = NULL;
    int fd = tf_mkstemp(&(tf_opts){ .dir = c->path }, &p);
    if (fd < 0)
        return -1;
    close(fd);
    free(p);
    /* Readable whole by its owner: a tree the sweep cannot date is left. */
    p = tf_mkdtemp(&(tf_opts){ .dir = c->path });
    char *sub = p ? path_join(p, "sub") : NULL;
    int bad = !p || write_file(p, "f", "1") || mkdir(sub, 0700) || write_file(sub, "g", "2");
    free(sub);
    free(p);
    if (bad)
        return -1;
    c->f = tf_named_temporary_file(&(tf_opts){ .dir = c->path });
    if (!c->f || write_file(c->path, "foreign", "not ours") != 0)
        return -1;
    tf__sweep_clock_hook = two_days_on;
    return 0;
}

static int run_sweep(struct scen_ctx *c)
{
    tf_sweep_result r;
    return tf_sweep(c->path, NULL, &r);
}

static int run_usage(struct scen_ctx *c)
{
    tf_usage_report u;
    return tf_disk_usage(c->path, NULL, &u);
}

/* A sweep with no fault then leaves exactly the live file and the foreign one. */
static int finish_sweep(struct scen_ctx *c, int ran)
{
    (void)ran;
    tf_sweep_result r;
    int rc = 0;
    if (tf_sweep(c->path, NULL, &r) != 0 || r.failed != 0 || r.live != 1 ||
        dir_entries(c->path) != 2) {
        SAY("  the sweep after the fault: live %zu failed %zu, %d entries left\n", r.live,
            r.failed, dir_entries(c->path));
        rc = -1;
    }
    tf__sweep_clock_hook = NULL;
    char *s = c->path;
    c->path = NULL;
    if (finish_handles(c, ran) != 0)
        rc = -1;
    remove_tree(s);
    free(s);
    return rc;
}

static int prepare_registered(struct scen_ctx *c)
{
    c->f = tf_named_temporary_file(&(tf_opts){ .dir = c->dir });
    c->d = tf_temporary_directory(&(tf_opts){ .dir = c->dir });
    return c->f && c->d ? scenario_populate(tf_dir_name(c->d)) : -1;
}

static int run_cleanup_now(struct scen_ctx *c)
{
    (void)c;
    return tf_cleanup_now() < 0 ? -1 : 0;
}

/* What tf_cleanup_now() could not remove it removes when called again. */
static int finish_registered(struct scen_ctx *c, int ran)
{
    int rc = 0;
    if (tf_cleanup_now() < 0) {
        SAY("  tf_cleanup_now after the fault: %s\n", errname(errno));
        rc = -1;
    }
    if (finish_handles(c, ran) != 0)
        rc = -1;
    return rc;
}

/* ---- shred of a handle ------------------------------------------------- */

#define SHRED_FLAGS (TF_SHRED_ZERO | TF_SHRED_REMOVE)

/* One random pass, the zero pass, the name removed the wipesync way. */
static int run_shred(struct scen_ctx *c)
{
    if (tf_file_shred(c->f, &(tf_shred_opts){ .passes = 1, .flags = SHRED_FLAGS },
                      &c->report) != 0)
        return -1;
    c->mlen = c->mpos = 0;   /* truncated: the model is the empty file */
    return 0;
}

/*
 * Success: the file is empty and has no name any more (the model, and the
 * empty directory). Failure: the file is under its own name or under the one
 * the report gives, and nowhere else; that one the caller removes (the
 * header's rule), then the directory must be empty. Which bytes a failed
 * pass left is not defined, so only their count is checked: the size kept,
 * or 0 (removal had begun), or the last block's end where the ftruncate that
 * puts the size back failed too.
 */
static int finish_shred(struct scen_ctx *c, int ran)
{
    if (ran == 0) {
        if (tf_file_name(c->f) && path_exists(tf_file_name(c->f))) {
            SAY("  shred succeeded, the name %s stays\n", tf_file_name(c->f));
            finish_handles(c, ran);
            return -1;
        }
        return finish_file(c, ran);
    }
    int rc = 0;
    if (c->report.left[0]) {
        char *p = path_join(c->dir, c->report.left);
        if (unlink(p) != 0) {
            SAY("  the report says the file is left as %s: %s\n", p, errname(errno));
            rc = -1;
        }
        free(p);
    }
    struct stat st;
    int fd = tf_file_fileno(c->f);
    bool slack = c->entry && strcmp(c->entry, "ftruncate") == 0;
    if (fd < 0 || fstat(fd, &st) != 0 ||
        ((size_t)st.st_size != c->mlen && st.st_size != 0 &&
         !(slack && st.st_size % st.st_blksize == 0 && (size_t)st.st_size > c->mlen))) {
        SAY("  after the failed shred the file holds %lld bytes, not %zu or 0\n",
            fd < 0 ? -1LL : (long long)st.st_size, c->mlen);
        rc = -1;
    }
    if (finish_handles(c, ran) != 0)
        rc = -1;
    return rc;
}

/* ---- hand-over ------------------------------------------------------------ */

static int seq_pair(struct scen_ctx *c)
{
    c->peer = -1;
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sv);
}

/* The peer's end of a child: counters flushed, no exit handler run (the
 * parent's registry is not the child's to clean). */
static _Noreturn void peer_exit(int status)
{
    fflush(stderr);
    coverage_flush();
    _exit(status);
}

/* Exit statuses of a peer. */
enum { PEER_MOVED = 0, PEER_KEPT = 1, PEER_BAD = 3 };

/* The receiving peer: the file must hold the model, then it releases it. */
static _Noreturn void receiving_peer(struct scen_ctx *c, unsigned flags)
{
    (void)flags;
    close(c->sv[0]);
    tf_file *g = tf_file_recv(c->sv[1], 0);
    if (!g)
        peer_exit(PEER_KEPT);
    unsigned char buf[SCENARIO_MODEL_MAX];
    ssize_t got = tf_file_seek(g, 0, SEEK_SET) == 0 ? tf_file_read(g, buf, sizeof buf) : -1;
    bool right = got == (ssize_t)c->mlen && memcmp(buf, c->model, c->mlen) == 0;
    if (!right)
        SAY("  the receiver read %zd bytes, not the %zu sent\n", got, c->mlen);
    peer_exit(tf_file_release(g) == 0 && right ? PEER_MOVED : PEER_BAD);
}

/* A peer process on sv[1], running fn; this process keeps sv[0]. */
static int fork_peer(struct scen_ctx *c, void (*fn)(struct scen_ctx *c, unsigned flags),
                     unsigned flags)
{
    c->registered = tf_cleanup_registered();
    if (seq_pair(c) != 0)
        return -1;
    fflush(stderr);
    c->peer = fork();
    if (c->peer == 0)
        fn(c, flags);
    close(c->sv[1]);
    c->sv[1] = -1;
    return c->peer < 0 ? -1 : 0;
}

static int fork_receiver(struct scen_ctx *c)
{
    return fork_peer(c, receiving_peer, 0);
}

static int prepare_send_named(struct scen_ctx *c)
{
    return prepare_named(c) == 0 && fork_receiver(c) == 0 ? 0 : -1;
}

static int prepare_send_unnamed(struct scen_ctx *c)
{
    return prepare_unnamed(c) == 0 && fork_receiver(c) == 0 ? 0 : -1;
}

/* Still in memory: the send rolls it over first. */
static int prepare_send_spooled(struct scen_ctx *c)
{
    return prepare_spooled(c) == 0 && fork_receiver(c) == 0 ? 0 : -1;
}

static int run_send_move(struct scen_ctx *c)
{
    if (tf_file_send(c->sv[0], c->f, 0) != 0)
        return -1;
    c->f = NULL;   /* freed: the peer owns the file */
    return 0;
}

static int run_send_share(struct scen_ctx *c)
{
    return tf_file_send(c->sv[0], c->f, TF_HANDOFF_SHARE);
}

/* One message, no answer: the file is the peer's once it is queued. */
static int run_send_no_answer(struct scen_ctx *c)
{
    if (tf_file_send(c->sv[0], c->f, TF_HANDOFF_NO_ANSWER) != 0)
        return -1;
    c->f = NULL;
    return 0;
}

/* The peer's status, once its end is closed (a peer still waiting then
 * sees the end of the conversation). */
static int peer_status(struct scen_ctx *c)
{
    if (c->sv[0] >= 0)
        close(c->sv[0]);
    if (c->sv[1] >= 0)
        close(c->sv[1]);
    int status;
    while (waitpid(c->peer, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Sent: the receiver read the model and its release removed a moved file (a
 * shared one goes with the last owner: ours, in the finish). Not sent: the
 * file is still the sender's, open, registered as before, whole. One case
 * is both: the receiver had the file and answered, and only the sender's
 * wait for that answer failed (its recvmsg); each then owns the file, and
 * the receiver's release removed it (the header says so at tf_file_send).
 */
static int finish_send(struct scen_ctx *c, int ran)
{
    int st = peer_status(c);
    bool answered_lost = ran != 0 && st == PEER_MOVED;
    int rc = 0;
    if (ran == 0 && st != PEER_MOVED) {
        SAY("  sent, but the receiver ended with status %d\n", st);
        rc = -1;
    } else if (ran != 0 && st != PEER_KEPT && !answered_lost) {
        SAY("  the send failed, the receiver ended with status %d\n", st);
        rc = -1;
    } else if (ran != 0 && !answered_lost) {
        if (tf_cleanup_registered() != c->registered ||
            (tf_file_name(c->f) && !path_exists(tf_file_name(c->f)))) {
            SAY("  the send failed and the file is no longer the sender's\n");
            rc = -1;
        }
    }
    if (answered_lost)   /* the data were checked by the receiver */
        return finish_handles(c, ran) | rc;
    if (finish_file(c, ran) != 0)
        rc = -1;
    return rc;
}

/* The sending peer: a named file of the model's bytes in the directory. On a
 * failed send it must still be the peer's, whole; it then releases it. */
static _Noreturn void sending_peer(struct scen_ctx *c, unsigned flags)
{
    close(c->sv[0]);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = c->dir });
    if (!f || tf_file_write(f, c->model, c->mlen) != (ssize_t)c->mlen)
        peer_exit(PEER_BAD);
    size_t reg = tf_cleanup_registered();
    if (tf_file_send(c->sv[1], f, flags) == 0)
        peer_exit((flags ? tf_file_release(f) : 0) == 0 ? PEER_MOVED : PEER_BAD);
    unsigned char buf[SCENARIO_MODEL_MAX];
    bool ours = !tf_file_closed(f) && path_exists(tf_file_name(f)) &&
                tf_cleanup_registered() == reg && tf_file_seek(f, 0, SEEK_SET) == 0 &&
                tf_file_read(f, buf, sizeof buf) == (ssize_t)c->mlen &&
                memcmp(buf, c->model, c->mlen) == 0;
    if (!ours)
        SAY("  the send failed and the file is no longer the sender's, whole\n");
    peer_exit(tf_file_release(f) == 0 && ours ? PEER_KEPT : PEER_BAD);
}

static int fork_sender(struct scen_ctx *c, unsigned flags)
{
    unsigned char buf[1000];
    fill_pattern(buf, sizeof buf, 5);
    model_put(c, buf, sizeof buf);
    return fork_peer(c, sending_peer, flags);
}

static int prepare_recv_move(struct scen_ctx *c)
{
    return fork_sender(c, 0);
}

static int prepare_recv_share(struct scen_ctx *c)
{
    return fork_sender(c, TF_HANDOFF_SHARE);
}

static int run_recv(struct scen_ctx *c)
{
    c->f = tf_file_recv(c->sv[0], 0);
    return c->f ? 0 : -1;
}

/*
 * Received: the model's bytes, registered (a moved named file) or not (a
 * shared one), and the sender let go. Not received: nothing registered,
 * no descriptor kept, and the sender still had its file, whole.
 */
static int finish_recv(struct scen_ctx *c, int ran)
{
    int rc = 0;
    if (ran != 0 && tf_cleanup_registered() != c->registered) {
        SAY("  the receive failed, and a name stays registered\n");
        rc = -1;
    }
    /* Read and released before the sender's status: a shared sender's
     * release must find us gone to remove the name. */
    if (finish_file(c, ran) != 0)
        rc = -1;
    int st = peer_status(c);
    if (st != (ran == 0 ? PEER_MOVED : PEER_KEPT)) {
        SAY("  the receive %s, the sender ended with status %d\n",
            ran == 0 ? "succeeded" : "failed", st);
        rc = -1;
    }
    return rc;
}

static int prepare_none(struct scen_ctx *c)
{
    (void)c;
    return 0;
}

const struct scenario scenarios[] = {
    { "tf_mkstemp", prepare_none, run_mkstemp, finish_path, { 0 }, false, NULL, NULL },
    { "tf_mkdtemp", prepare_none, run_mkdtemp, finish_path, { 0 }, false, NULL, NULL },
    { "tf_mktemp", prepare_none, run_mktemp, finish_path, { 0 }, false, NULL, NULL },
    { "tf_temporary_file", prepare_none, run_unnamed, finish_handles, { 0 }, false, NULL, NULL },
    { "tf_temporary_file (no O_TMPFILE)", prepare_no_tmpfile, run_unnamed, finish_handles,
      { 0 }, true, NULL, NULL },
    { "tf_named_temporary_file", prepare_none, run_named, finish_handles, { 0 }, false, NULL, NULL },
    { "tf_spooled_temporary_file", prepare_none, run_spooled, finish_handles, { 0 }, false, NULL, NULL },
    { "tf_temporary_directory", prepare_none, run_tempdir, finish_handles, { 0 }, false, NULL, NULL },
    { "file ops: unnamed", prepare_unnamed, run_file_ops, finish_file, { 0 }, false, NULL, NULL },
    { "file ops: named", prepare_named, run_file_ops, finish_file, { 0 }, false, NULL, NULL },
    { "file ops: spooled in memory", prepare_spooled, run_file_ops, finish_file, { 0 }, false, NULL, NULL },
    { "file ops: spooled on disk", prepare_spooled_disk, run_file_ops, finish_file, { 0 }, false, NULL, NULL },
    { "tf_file_close: named", prepare_named, run_close, finish_closed, { 0 }, false, NULL, NULL },
    { "tf_file_close: spooled", prepare_spooled, run_close, finish_closed, { 0 }, false, NULL, NULL },
    { "tf_file_detach: named", prepare_named, run_detach, finish_closed, { 0 }, false, NULL, NULL },
    { "tf_file_detach: spooled", prepare_spooled, run_detach, finish_closed, { 0 }, false, NULL, NULL },
    { "tf_file_release: named", prepare_named, run_release, finish_closed, { 0 },
      true, NULL, NULL },
    { "tf_file_release: no delete on close", prepare_named_nodelete, run_release,
      finish_closed, { 0 }, true, NULL, NULL },
    { "tf_file_release: spooled", prepare_spooled, run_release, finish_closed, { 0 },
      true, NULL, NULL },
    { "stream: named", prepare_named, run_stream, finish_stream, { 0 }, false, NULL, NULL },
    { "stream: spooled", prepare_spooled, run_stream, finish_stream, { 0 }, false, NULL, NULL },
    { "tf_dir_cleanup: populated", prepare_tempdir, run_dir_cleanup, finish_handles, { 0 }, false, NULL, NULL },
    { "tf_dir_release: populated", prepare_tempdir, run_dir_release, finish_closed,
      { 0 }, true, NULL, NULL },
    { "tf_rmtree: populated", prepare_tree, run_rmtree, finish_tree, { 0 }, false, NULL, NULL },
    { "tf_rmtree(ignore errors): populated", prepare_tree, run_rmtree_ignore, finish_tree,
      { 0 }, false, NULL, NULL },
    { "tf_sweep", prepare_sweep, run_sweep, finish_sweep, { 0 }, false, NULL, NULL },
    { "tf_disk_usage", prepare_sweep, run_usage, finish_sweep, { 0 }, false, NULL, NULL },
    /* ENOTEMPTY: part of a directory could not be removed (documented). */
    { "tf_cleanup_now", prepare_registered, run_cleanup_now, finish_registered,
      { ENOTEMPTY, 0 }, false, NULL, NULL },
    { "tf_file_shred: named", prepare_named, run_shred, finish_shred, { 0 }, false, NULL, NULL },
    { "tf_file_shred: unnamed", prepare_unnamed, run_shred, finish_shred, { 0 }, false, NULL, NULL },
    { "tf_file_shred: spooled in memory", prepare_spooled, run_shred, finish_shred, { 0 },
      false, NULL, NULL },
    { "tf_file_shred: spooled on disk", prepare_spooled_disk, run_shred, finish_shred, { 0 },
      false, NULL, NULL },
    { "tf_file_send: named, move", prepare_send_named, run_send_move, finish_send, { 0 },
      false, NULL, NULL },
    { "tf_file_send: named, share", prepare_send_named, run_send_share, finish_send, { 0 },
      false, NULL, NULL },
    { "tf_file_send: unnamed, move", prepare_send_unnamed, run_send_move, finish_send, { 0 },
      false, NULL, NULL },
    { "tf_file_send: named, no answer", prepare_send_named, run_send_no_answer, finish_send,
      { 0 }, false, NULL, NULL },
    { "tf_file_send: spooled, move", prepare_send_spooled, run_send_move, finish_send, { 0 },
      false, NULL, NULL },
    { "tf_file_recv: move", prepare_recv_move, run_recv, finish_recv, { 0 }, false, NULL, NULL },
    { "tf_file_recv: share", prepare_recv_share, run_recv, finish_recv, { 0 }, false, NULL, NULL },
    SCENARIOS_DURABLE
};
const size_t scenario_count = sizeof scenarios / sizeof *scenarios;

/* Prepares, runs under the armed fault (entry NULL: counting only), finishes. */
static int attempt(const struct scenario *sc, const char *dir, const char *entry,
                   unsigned long nth, unsigned long count, int err, int *ran, int *ran_err)
{
    struct scen_ctx *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->dir = dir;
    c->sc = sc;
    c->entry = entry;
    c->err = err;
    c->fd = -1;
    *ran = -1;
    *ran_err = 0;
    int rc = sc->prepare(c);
    if (rc == 0) {
        if (entry)
            fault_arm_range(entry, nth, count, err);
        else
            fault_count_start();
        errno = 0;
        *ran = sc->run(c);
        *ran_err = errno;
    } else {
        SAY("%s: cannot be prepared: %s\n", sc->name, errname(errno));
    }
    /* Disarms; the counts stay readable. */
    fault_reset();
    if (sc->finish(c, *ran) != 0)
        rc = -1;
    free(c);
    return rc;
}

int scenario_count_calls(const struct scenario *sc, const char *dir)
{
    int ran, ran_err;
    int rc = attempt(sc, dir, NULL, 0, 0, 0, &ran, &ran_err);
    if (rc == 0 && ran != 0)
        SAY("%s fails with no fault: %s\n", sc->name, errname(ran_err));
    return rc == 0 && ran == 0 ? 0 : -1;
}

static bool allowed(const struct scenario *sc, int got, int err)
{
    if (got == err)
        return true;
    for (size_t i = 0; i < 4 && sc->also[i]; i++)
        if (sc->also[i] == got)
            return true;
    return false;
}

int scenario_try(const struct scenario *sc, const char *dir, const char *entry,
                 unsigned long nth, unsigned long count, int err)
{
    int fds = fd_count();
    int ran, got;
    bool bad = attempt(sc, dir, entry, nth, count, err, &ran, &got) != 0;
    unsigned long hits = fault_hits();
    const char *how = count ? "once" : "from then on";
#define WHAT sc->name, entry, nth, errname(err), how
    if (ran != 0 && !hits) {
        SAY("%s, %s #%lu fails %s %s: failed with no fault hit: %s\n", WHAT, errname(got));
        bad = true;
    } else if (ran != 0 && !allowed(sc, got, err)) {
        SAY("%s, %s #%lu fails %s %s: errno is %s\n", WHAT, errname(got));
        bad = true;
    }
    if (fd_count() != fds) {
        SAY("%s, %s #%lu fails %s %s: %d descriptors open, %d before\n", WHAT, fd_count(), fds);
        fd_dump();
        bad = true;
    }
    if (dir_entries(dir) != 0 && count == 0 && sc->may_leave) {
        remove_tree(dir);
        mkdir(dir, 0700);
    } else if (dir_entries(dir) != 0) {
        char *l = dir_listing(dir);
        SAY("%s, %s #%lu fails %s %s (returned %d): left behind:\n%s\n", WHAT, ran, l);
        free(l);
        remove_tree(dir);
        mkdir(dir, 0700);
        bad = true;
    } else if (bad) {
        SAY("  (%s, %s #%lu fails %s %s)\n", WHAT);
    }
#undef WHAT
    return bad ? -1 : 0;
}
