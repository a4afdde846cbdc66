/*
 * Handing a temporary file to another process over a UNIX socket.
 *
 * One message carries the descriptor (SCM_RIGHTS) and the metadata; the
 * receiver answers one byte, ACK once it owns the file (registered), NACK if
 * it refused it. The sender gives the file up only on ACK, so a hand-over
 * that fails anywhere leaves it with the sender. A receiver that cannot send
 * its ACK gives the file up again, without removing it.
 *
 * TF_HANDOFF_NO_ANSWER drops the answer (half the messages, half the
 * wake-ups): the sender gives the file up once sendmsg has queued the
 * message, and a receiver that fails closes what it got, so the file is an
 * unlocked orphan for tf_sweep(). The receiver learns of the mode from the
 * metadata and answers nothing once it has decoded that flag; it answers a
 * message it cannot decode as before (a sender of ours never sends one).
 * With nobody to tell at once, what it checks of the file beyond its type
 * waits for the handle's first use (see "Checks" below): a hand-over then
 * costs the receiver recvmsg and one fstat.
 *
 * Metadata: "TFH" 0x01, flags, file flags, name length (little-endian
 * uint32 each), the name. The decoder is pure so that a fuzzer can drive it.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define META_HDR 16
#define NAME_MAX_LEN (TF_HANDOFF_META_MAX - META_HDR)
#define SEND_FLAGS (TF_HANDOFF_SHARE | TF_HANDOFF_NO_ANSWER)
#define FILE_FLAGS (TF_KEEP | TF_NO_DELETE_ON_CLOSE)
/* Room for more descriptors than one, to tell "several" from "out of fds". */
#define FDS_ROOM 8
#define ACK 'A'
#define NACK 'N'
/* Exclusive-lock tries of a shared owner's release, 1 ms apart. */
#define LAST_TRIES 5

static const unsigned char magic[4] = { 'T', 'F', 'H', 1 };

/* The backend of a received handle not checked yet (see "checks"). */
static const struct tf__file_ops unchecked_ops;

/* ---- metadata ----------------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bad(int err)
{
    errno = err;
    return -1;
}

int tf_handoff_decode(const void *buf, size_t len, tf_handoff_meta *out)
{
    const unsigned char *p = buf;
    if (!buf || !out)
        return bad(EINVAL);
    if (len > TF_HANDOFF_META_MAX)
        return bad(EMSGSIZE);
    if (len < META_HDR || memcmp(p, magic, sizeof magic) != 0)
        return bad(EBADMSG);
    uint32_t flags = get32(p + 4), file_flags = get32(p + 8), nlen = get32(p + 12);
    if ((flags & ~SEND_FLAGS) || (file_flags & ~FILE_FLAGS))
        return bad(EBADMSG);
    if (nlen > NAME_MAX_LEN)
        return bad(EMSGSIZE);
    if (len != META_HDR + nlen)
        return bad(EBADMSG);
    const char *name = (const char *)p + META_HDR;
    if (nlen && (name[0] != '/' || memchr(name, '\0', nlen)))
        return bad(EBADMSG);
    *out = (tf_handoff_meta){ .flags = flags, .file_flags = file_flags,
                              .name = nlen ? name : NULL, .name_len = nlen };
    return 0;
}

/* The metadata of f into buf (TF_HANDOFF_META_MAX bytes); its length or -1. */
static ssize_t encode(unsigned char *buf, const tf_file *f, unsigned flags)
{
    size_t nlen = f->path && f->linked ? strlen(f->path) : 0;
    if (nlen > NAME_MAX_LEN)
        return bad(ENAMETOOLONG);
    memcpy(buf, magic, sizeof magic);
    put32(buf + 4, flags);
    put32(buf + 8, f->flags & FILE_FLAGS);
    put32(buf + 12, (uint32_t)nlen);
    if (nlen)
        memcpy(buf + META_HDR, f->path, nlen);
    return (ssize_t)(META_HDR + nlen);
}

/* ---- the socket ------------------------------------------------------------ */

/* Sends n bytes, the first ones with fd attached (fd < 0: none). */
static int send_all(int sock, const unsigned char *p, size_t n, int fd)
{
    union {
        struct cmsghdr h;
        char room[CMSG_SPACE(sizeof(int))];
    } c;
    while (n > 0) {
        struct iovec iov = { (void *)p, n };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
            memset(&c, 0, sizeof c);
            m.msg_control = c.room;
            m.msg_controllen = sizeof c.room;
            struct cmsghdr *h = CMSG_FIRSTHDR(&m);
            h->cmsg_level = SOL_SOCKET;
            h->cmsg_type = SCM_RIGHTS;
            h->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(h), &fd, sizeof fd);
        }
        ssize_t w = tf__sys.sendmsg(sock, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        fd = -1;   /* went with the first byte */
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* What one recvmsg brought. */
struct got {
    int fds[FDS_ROOM * 2];
    size_t nfds;
    bool ctrunc, trunc;
};

static void close_fds(struct got *g)
{
    for (size_t i = 0; i < g->nfds; i++)
        tf__close_keep_errno(g->fds[i]);
    g->nfds = 0;
}

/* Collects every descriptor a message carried (a bad peer may send several). */
static void take_fds(struct msghdr *m, struct got *g)
{
    for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
            if (g->nfds < sizeof g->fds / sizeof g->fds[0])
                g->fds[g->nfds++] = fd;
            else
                tf__close_keep_errno(fd);
        }
    }
}

/* One recvmsg into buf; bytes or -1 (0: the peer closed). */
static ssize_t recv_some(int sock, void *buf, size_t n, struct got *g)
{
    /* Room for the credentials too: a socket with SO_PASSCRED gets them with
     * every message, and they must not crowd the descriptors out (MSG_CTRUNC). */
    union {
        struct cmsghdr h;
        char room[CMSG_SPACE(FDS_ROOM * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
    } c;
    struct iovec iov = { buf, n };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.room,
                        .msg_controllen = sizeof c.room };
    ssize_t r;
    do
        r = tf__sys.recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -1;
    take_fds(&m, g);
    g->ctrunc |= (m.msg_flags & MSG_CTRUNC) != 0;
    g->trunc |= (m.msg_flags & MSG_TRUNC) != 0;
    return r;
}

/* How many bytes the message whose first got bytes are in buf has in all. */
static size_t wanted(const unsigned char *buf, size_t got)
{
    if (got < META_HDR)
        return META_HDR;
    uint32_t nlen = get32(buf + 12);
    return nlen > NAME_MAX_LEN ? got : META_HDR + nlen;
}

/*
 * Receives one whole metadata message and its descriptors. A stream socket
 * may deliver it in parts; a packet socket delivers it whole or truncated.
 */
static ssize_t recv_meta(int sock, unsigned char *buf, size_t cap, struct got *g)
{
    ssize_t r = recv_some(sock, buf, cap, g);
    if (r <= 0)
        return r < 0 ? -1 : bad(ECONNRESET);
    size_t got = (size_t)r;
    /* Whole at once, the usual case, or cut short (MSG_TRUNC): no need to
     * ask what the socket is. Only a stream delivers the rest later. */
    if (got >= wanted(buf, got) || g->trunc)
        return r;
    int type;
    socklen_t tl = sizeof type;
    if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
        return -1;
    /* No more than the message's own bytes: the next one (a sender that
     * does not wait for answers) stays in the socket. */
    while (type == SOCK_STREAM && got < wanted(buf, got) && got < cap) {
        r = recv_some(sock, buf + got, wanted(buf, got) - got, g);
        if (r <= 0)
            return r < 0 ? -1 : bad(ECONNRESET);
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/*
 * Only a UNIX socket carries descriptors: TCP and UDP accept SCM_RIGHTS and
 * drop it, so a hand-over without answer would free the handle and leave
 * the file an orphan, and a receive would eat a stranger's bytes and answer
 * into them. EAFNOSUPPORT for another family; ENOTSOCK for no socket.
 */
static int check_unix(int sock)
{
    int domain;
    socklen_t dl = sizeof domain;
    if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0)
        return -1;
    return domain == AF_UNIX ? 0 : bad(EAFNOSUPPORT);
}

/* Sends the one-byte answer. */
static int answer(int sock, char a)
{
    return send_all(sock, (const unsigned char *)&a, 1, -1);
}

/* Waits for the receiver's answer; 0 on ACK. */
static int wait_answer(int sock)
{
    struct got g = {0};
    unsigned char a;
    ssize_t r = recv_some(sock, &a, 1, &g);
    close_fds(&g);   /* nothing is expected with it */
    if (r < 0)
        return -1;
    if (r == 0)
        return bad(ECONNRESET);
    return a == ACK ? 0 : bad(a == NACK ? ECONNREFUSED : EBADMSG);
}

/* ---- shared owners ------------------------------------------------------- */

static void nap_ms(void)
{
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
}

/* No other owner holds a shared lock: an exclusive one can be had. */
static bool last_owner(int fd)
{
    for (int i = 0; i < LAST_TRIES; i++) {
        if (tf__sys.flock(fd, LOCK_EX | LOCK_NB) == 0)
            return true;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return false;
        nap_ms();   /* a sweep's probe holds it for an instant only */
    }
    return false;
}

int tf__share_unlink(tf_file *f)
{
    f->linked = 0;
    tf__reg_remove(&f->reg);
    int fd = tf__sys.openat(AT_FDCWD, f->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    int rc = tf__sys.fstat(fd, &st);
    if (rc == 0 && st.st_dev == f->dev && st.st_ino == f->ino && last_owner(fd) &&
        tf__sys.unlinkat(AT_FDCWD, f->path, 0) < 0 && errno != ENOENT)
        rc = -1;
    tf__close_keep_errno(fd);
    return rc;
}

/* f becomes one of the shared owners of its file (st: its fstat, taken
 * before the send, so that nothing can fail once the peer has it). */
static void become_shared(tf_file *f, const struct stat *st)
{
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->shared = f->path != NULL;
    tf__reg_remove(&f->reg);
}

/* ---- sending ------------------------------------------------------------ */

int tf_file_send(int sock, tf_file *f, unsigned flags)
{
    if (!f || (flags & ~SEND_FLAGS))
        return bad(EINVAL);
    if (f->closed)
        return bad(EBADF);
    /* The view's buffered bytes go in first; a spooled file rolls over. */
    if (check_unix(sock) < 0 || tf__stream_close(f) < 0)
        return -1;
    /* A received handle not checked yet goes on as it came: its next
     * receiver checks it. One that was refused goes nowhere. */
    if (f->refused)
        return bad(f->refused);
    int fd = f->ops == &unchecked_ops ? f->fd : tf_file_fileno(f);
    if (fd < 0)
        return -1;
    /* A shared handle moves as a share: the other owners still count. */
    unsigned wire = flags | (f->shared ? TF_HANDOFF_SHARE : 0);
    unsigned char meta[TF_HANDOFF_META_MAX];
    ssize_t n = encode(meta, f, wire);
    struct stat st;
    if (n < 0 || ((flags & TF_HANDOFF_SHARE) && tf__sys.fstat(fd, &st) < 0) ||
        send_all(sock, meta, (size_t)n, fd) < 0 ||
        (!(flags & TF_HANDOFF_NO_ANSWER) && wait_answer(sock) < 0))
        return -1;
    if (flags & TF_HANDOFF_SHARE) {
        become_shared(f, &st);
        return 0;
    }
    /* Moved: the descriptor goes; the name stays, the receiver's now (a
     * shared handle's release removes it only if it was the last owner). */
    tf__reg_remove(&f->reg);
    if (!f->shared)
        f->linked = 0;
    tf_file_release(f);
    return 0;
}

/* ---- checks --------------------------------------------------------------- */

/*
 * What a receiver checks of a file it is given, so that a peer can neither
 * make it remove (or rename, persist) another file nor pass a read-only
 * descriptor off as a writable one: the descriptor is a regular file opened
 * for reading and writing, owned by us or by the peer (SO_PEERCRED), and
 * its name still names it (device and inode).
 *
 * In the default mode all of it comes before the answer. Without an answer
 * only the type is checked on arrival (fstat: a FIFO or a device must never
 * be taken in); the rest waits for the first call that acts on the file
 * (unchecked_ops below, tf_file_name(), tf_file_shred(), the release), so a
 * file that is only passed on never pays for it, and a lie is refused there
 * with the errno the receive would have given. Whatever the mode, removal
 * looks at the name again just before the unlink (tf__unlink_checked()).
 *
 * Ownership needs the effective uid, which only a change of credentials can
 * change: a cached one serves as a hint on arrival, confirmed with
 * geteuid() at the first use and at removal, so a stale hint can only make
 * the receiver refuse a file, never take one.
 */

static _Atomic uid_t euid_seen = (uid_t)-1;

static uid_t euid_now(void)
{
    uid_t u = geteuid();
    atomic_store_explicit(&euid_seen, u, memory_order_relaxed);
    return u;
}

static int check_rw(int fd)
{
    int fl = tf__sys.fcntl(fd, F_GETFL, 0);
    if (fl < 0)
        return -1;
    return (fl & O_ACCMODE) == O_RDWR ? 0 : bad(EBADMSG);
}

/* name names the file of dev and ino (no final link followed): EBADMSG if
 * it names another file or none. */
static int check_name(const char *name, dev_t dev, ino_t ino)
{
    int same = tf__names_file(AT_FDCWD, name, dev, ino);
    if (same > 0)
        return 0;
    return same == 0 || errno == ENOENT || errno == ENOTDIR ? bad(EBADMSG) : -1;
}

/* A file owned by us or by the peer; *peer_uid: the peer's uid if asked.
 * hint: a match with the cached euid is enough (confirmed at the first use). */
static int check_owner(int sock, uid_t owner, bool hint, uid_t *peer_uid)
{
    *peer_uid = (uid_t)-1;
    if (hint && owner == atomic_load_explicit(&euid_seen, memory_order_relaxed))
        return 0;
    if (owner == euid_now())
        return 0;
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
        return -1;
    if (owner != cred.uid)
        return bad(EPERM);
    *peer_uid = cred.uid;
    return 0;
}

/* The checks a received handle's first use makes (see above). */
static int first_check(tf_file *f)
{
    if (check_rw(f->fd) < 0)
        return -1;
    if (!f->path)
        return 0;
    if (f->peer_uid == (uid_t)-1 && f->uid != euid_now())
        return bad(EPERM);
    return check_name(f->path, f->dev, f->ino);
}

int tf__recv_vet(tf_file *f)
{
    if (f->ops != &unchecked_ops)
        return 0;
    if (!f->refused && first_check(f) == 0) {
        f->ops = &tf__fd_ops;
        return 0;
    }
    if (!f->refused) {
        /* Refused: the name goes, nothing will remove or rename by it. */
        f->refused = errno;
        tf__reg_remove(&f->reg);
        f->linked = 0;
        free(f->path);
        f->path = NULL;
    }
    return bad(f->refused);
}

static ssize_t unchecked_read(tf_file *f, void *buf, size_t n)
{
    return tf__recv_vet(f) < 0 ? -1 : f->ops->read(f, buf, n);
}

static ssize_t unchecked_write(tf_file *f, const void *buf, size_t n)
{
    return tf__recv_vet(f) < 0 ? -1 : f->ops->write(f, buf, n);
}

static off_t unchecked_seek(tf_file *f, off_t off, int whence)
{
    return tf__recv_vet(f) < 0 ? -1 : f->ops->seek(f, off, whence);
}

static int unchecked_truncate(tf_file *f, off_t size)
{
    return tf__recv_vet(f) < 0 ? -1 : f->ops->truncate(f, size);
}

static int unchecked_fileno(tf_file *f)
{
    return tf__recv_vet(f) < 0 ? -1 : f->ops->fileno(f);
}

static int unchecked_close(tf_file *f)
{
    return tf__fd_ops.close(f);
}

/* Each call checks once, then the handle is an ordinary descriptor one. */
static const struct tf__file_ops unchecked_ops = {
    .read = unchecked_read,
    .write = unchecked_write,
    .seek = unchecked_seek,
    .truncate = unchecked_truncate,
    .fileno = unchecked_fileno,
    .close = unchecked_close,
};

/* ---- receiving ---------------------------------------------------------- */

/* The one descriptor of a well-formed message, checked (lazy: its type
 * only); -1 (errno) if not. */
static int the_fd(const struct got *g, struct stat *st, bool lazy)
{
    if (g->ctrunc)
        return bad(g->nfds < FDS_ROOM ? EMFILE : EBADMSG);
    if (g->trunc)
        return bad(EMSGSIZE);
    if (g->nfds != 1)
        return bad(EBADMSG);
    int fd = g->fds[0];
    if (tf__sys.fstat(fd, st) < 0)
        return -1;
    if (!S_ISREG(st->st_mode) || (!lazy && check_rw(fd) < 0))
        return bad(EBADMSG);
    return fd;
}

/* What arrived, checked so far. */
struct arrival {
    int fd;
    char *name;
    struct stat st;
    uid_t peer_uid;
    bool lazy;   /* no answer: the rest of the checks at the first use */
};

/* A name the peer may hand over: its file (lazy: its name checked later). */
static char *checked_name(int sock, const tf_handoff_meta *m, struct arrival *a)
{
    const struct stat *st = &a->st;
    bool lazy = a->lazy;
    if (check_owner(sock, st->st_uid, lazy, &a->peer_uid) < 0)
        return NULL;
    char *name = tf__sys.malloc(m->name_len + 1);
    if (!name)
        return NULL;
    memcpy(name, m->name, m->name_len);
    name[m->name_len] = '\0';
    if (!lazy && check_name(name, st->st_dev, st->st_ino) < 0) {
        int err = errno;
        free(name);
        errno = err;
        return NULL;
    }
    return name;
}

/* Share mode: an open file description (offset, live lock) of our own. */
static int reopen_own(int fd)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int own = tf__sys.openat(AT_FDCWD, proc, O_RDWR | O_CLOEXEC, 0);
    if (own >= 0)
        tf__lock_live(own);
    return own;
}

/* A moved handle around a->fd, its name removed only while it is the file's. */
static tf_file *adopt_moved(const struct arrival *a, unsigned file_flags)
{
    tf_file *f = tf__file_new(a->fd, a->name, file_flags);
    if (!f)
        return NULL;
    f->dev = a->st.st_dev;
    f->ino = a->st.st_ino;
    f->uid = a->st.st_uid;
    f->peer_uid = a->peer_uid;
    f->verify = a->name != NULL;
    if (a->lazy)
        f->ops = &unchecked_ops;
    struct tf__file_id id = { f->dev, f->ino, f->peer_uid };
    if (a->name && !(f->flags & TF_KEEP) && tf__reg_add_checked(&f->reg, a->name, &id) < 0) {
        free(f);
        return NULL;
    }
    return f;
}

/* The handle for a->fd (taken over on success) as the metadata describe it. */
static tf_file *adopt(const struct arrival *a, const tf_handoff_meta *m)
{
    int fd = a->fd;
    char *name = a->name;
    const struct stat *st = &a->st;
    bool share = m->flags & TF_HANDOFF_SHARE;
    int own = share ? reopen_own(fd) : fd;
    if (own < 0)
        return NULL;
    struct tf__reg_guard g;
    tf__reg_begin(&g);
    tf_file *f = share ? tf__file_new(own, name, m->file_flags) : adopt_moved(a, m->file_flags);
    tf__reg_end(&g);
    if (!f) {
        if (own != fd)
            tf__close_keep_errno(own);
        return NULL;
    }
    if (share) {
        f->shared = name != NULL;
        f->dev = st->st_dev;
        f->ino = st->st_ino;
        tf__close_keep_errno(fd);
    }
    return f;
}

/* Gives a handle that could not answer ACK back up, removing nothing. */
static void disown(tf_file *f)
{
    tf__reg_remove(&f->reg);
    f->linked = 0;
    tf_file_release(f);
}

/* *quiet: the sender asked for no answer (known once the metadata decode). */
static tf_file *receive(int sock, struct got *g, bool *quiet)
{
    unsigned char buf[TF_HANDOFF_META_MAX + 1];
    ssize_t n = recv_meta(sock, buf, sizeof buf, g);
    if (n < 0)
        return NULL;
    tf_handoff_meta m;
    int derr = tf_handoff_decode(buf, (size_t)n, &m) < 0 ? errno : 0;
    *quiet = !derr && (m.flags & TF_HANDOFF_NO_ANSWER);
    struct arrival a = { .name = NULL, .peer_uid = (uid_t)-1,
                         .lazy = *quiet && !(m.flags & TF_HANDOFF_SHARE) };
    a.fd = the_fd(g, &a.st, a.lazy);   /* its errno first: a cut message decodes badly too */
    if (a.fd < 0)
        return NULL;
    if (derr) {
        errno = derr;
        return NULL;
    }
    if (m.name && !(a.name = checked_name(sock, &m, &a)))
        return NULL;
    tf_file *f = adopt(&a, &m);
    if (!f) {
        free(a.name);
        return NULL;
    }
    g->nfds = 0;   /* the handle has it (or, shared, closed it) */
    return f;
}

tf_file *tf_file_recv(int sock, unsigned flags)
{
    if (flags) {
        errno = EINVAL;
        return NULL;
    }
    if (check_unix(sock) < 0)
        return NULL;   /* nothing read, nothing answered */
    struct got g = {0};
    bool quiet = false;
    tf_file *f = receive(sock, &g, &quiet);
    if (!f) {
        int err = errno;
        close_fds(&g);   /* quiet: the file is an orphan now, for tf_sweep() */
        if (err != ECONNRESET && !quiet)
            answer(sock, NACK);   /* best effort: the peer keeps its file */
        errno = err;
        return NULL;
    }
    if (!quiet && answer(sock, ACK) < 0) {
        int err = errno;
        disown(f);
        errno = err;
        return NULL;
    }
    return f;
}

/* ---- a child ------------------------------------------------------------ */

static void reap(pid_t pid)
{
    int err = errno;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    errno = err;
}

pid_t tf_file_spawn(tf_file *f, const char *path, char *const argv[], unsigned flags)
{
    /* No answer would let a child whose exec failed take the file along. */
    if (!f || !path || !argv || (flags & ~TF_HANDOFF_SHARE))
        return bad(EINVAL);
    if (f->closed)
        return bad(EBADF);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. */
        if (sv[1] == TF_HANDOFF_CHILD_FD)
            fcntl(sv[1], F_SETFD, 0);
        else
            dup2(sv[1], TF_HANDOFF_CHILD_FD);
        execv(path, argv);
        _exit(127);
    }
    int err = errno;
    tf__sys.close(sv[1]);
    if (pid < 0) {
        tf__sys.close(sv[0]);
        errno = err;
        return -1;
    }
    int rc = tf_file_send(sv[0], f, flags);
    tf__close_keep_errno(sv[0]);
    if (rc < 0) {
        /* A child whose exec failed may be gone before the send (EPIPE) or
         * after it (ECONNRESET): one answer for both. */
        if (errno == EPIPE)
            errno = ECONNRESET;
        reap(pid);
        return -1;
    }
    return pid;
}
