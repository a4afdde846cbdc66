/*
 * Handing a temporary file to another process (handoff.c): the metadata
 * decoder, move and share between processes, an exec'd child that outlives
 * its parent and then releases the file, a child killed with SIGKILL whose
 * file becomes an orphan for tf_sweep(), and every bad peer: no descriptor,
 * several, a truncated control message, malformed or oversized metadata, a
 * peer closing mid-transfer, a descriptor that is not a regular read-write
 * file, a name that is not the file's, RLIMIT_NOFILE in the receiver, a
 * sender whose peer closes or refuses.
 */
#include "tftest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T(f) cmocka_unit_test_setup_teardown(f, tft_setup, tft_teardown)

/* ---- metadata ------------------------------------------------------------- */

static size_t meta(unsigned char *buf, uint32_t flags, uint32_t ff, const char *name)
{
    uint32_t n = name ? (uint32_t)strlen(name) : 0, v[3] = { flags, ff, n };
    memcpy(buf, "TFH\1", 4);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 4; i++)
            buf[4 + 4 * k + i] = (unsigned char)(v[k] >> (8 * i));
    if (n)
        memcpy(buf + 16, name, n);
    return 16 + n;
}

static void test_decode(void **state)
{
    (void)state;
    unsigned char b[TF_HANDOFF_META_MAX + 64];
    tf_handoff_meta m;
    size_t n = meta(b, TF_HANDOFF_SHARE, TF_NO_DELETE_ON_CLOSE, "/tmp/x");
    assert_int_equal(tf_handoff_decode(b, n, &m), 0);
    assert_int_equal(m.flags, TF_HANDOFF_SHARE);
    assert_int_equal(m.file_flags, TF_NO_DELETE_ON_CLOSE);
    assert_int_equal(m.name_len, 6);
    assert_memory_equal(m.name, "/tmp/x", 6);
    n = meta(b, 0, 0, NULL);
    assert_int_equal(tf_handoff_decode(b, n, &m), 0);
    assert_null(m.name);
    n = meta(b, TF_HANDOFF_SHARE | TF_HANDOFF_NO_ANSWER, 0, "/tmp/x");
    assert_int_equal(tf_handoff_decode(b, n, &m), 0);
    assert_int_equal(m.flags, TF_HANDOFF_SHARE | TF_HANDOFF_NO_ANSWER);
    n = meta(b, 1u << 28, 0, "/tmp/x");   /* the next hand-over bit is not known */
    assert_int_equal(tf_handoff_decode(b, n, &m), -1);
    assert_errno(EBADMSG);

    struct { const char *what; int err; } cases[] = {
        { "short", EBADMSG }, { "magic", EBADMSG }, { "version", EBADMSG },
        { "flags", EBADMSG }, { "file flags", EBADMSG }, { "relative", EBADMSG },
        { "nul", EBADMSG }, { "trailing", EBADMSG }, { "cut", EBADMSG },
        { "long name", EMSGSIZE }, { "too long", EMSGSIZE },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        n = meta(b, 0, 0, "/tmp/abc");
        const char *w = cases[c].what;
        if (!strcmp(w, "short")) n = 15;
        if (!strcmp(w, "magic")) b[0] = 'X';
        if (!strcmp(w, "version")) b[3] = 2;
        if (!strcmp(w, "flags")) b[4] = 1;
        if (!strcmp(w, "file flags")) b[8] = 4;
        if (!strcmp(w, "relative")) b[16] = 'x';
        if (!strcmp(w, "nul")) b[18] = 0;
        if (!strcmp(w, "trailing")) n++;
        if (!strcmp(w, "cut")) n--;
        if (!strcmp(w, "long name")) b[13] = 0x20;   /* 8192 + 8 */
        if (!strcmp(w, "too long")) n = TF_HANDOFF_META_MAX + 1;
        memset(&m, 0x5a, sizeof m);
        errno = 0;
        if (tf_handoff_decode(b, n, &m) != -1 || errno != cases[c].err)
            fail_msg("%s: expected %s, got %s", w, errname(cases[c].err), errname(errno));
        /* out untouched on failure */
        assert_int_equal(m.flags, 0x5a5a5a5a);
    }
    assert_int_equal(tf_handoff_decode(NULL, 0, &m), -1);
    assert_errno(EINVAL);
}

/* ---- helpers ------------------------------------------------------------ */

static int seqpair(int sv[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

/* Raw sendmsg of buf with the given descriptors, as a bad peer would. */
static void raw_send(int sock, const void *buf, size_t n, const int *fds, size_t nfds)
{
    char room[CMSG_SPACE(16 * sizeof(int))];
    memset(room, 0, sizeof room);
    struct iovec iov = { (void *)buf, n };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        m.msg_control = room;
        m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(h), fds, nfds * sizeof(int));
    }
    assert_int_equal(sendmsg(sock, &m, MSG_NOSIGNAL), (ssize_t)n);
}

static char answer_of(int sock)
{
    char a = 0;
    return recv(sock, &a, 1, MSG_DONTWAIT) == 1 ? a : 0;
}

static char *read_whole(int fd)
{
    static char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* ---- move and share between processes ---------------------------------- */

struct recv_arg {
    int sock;
    int other;        /* the parent's end, closed in the child */
    int pipe_in;      /* the child waits for a byte here before releasing */
    const char *expect;
};

/* Receives, checks the content, waits, releases; exit code 0 if all went
 * well. */
static int receiver(void *arg)
{
    struct recv_arg *a = arg;
    alarm(30);   /* a parent that died must not leave us waiting */
    close(a->other);
    tf_file *f = tf_file_recv(a->sock, 0);
    CHECK(f != NULL);
    CHECK(strcmp(read_whole(tf_file_fileno(f)), a->expect) == 0);
    char go;
    if (a->pipe_in >= 0)
        CHECK(read(a->pipe_in, &go, 1) == 1);
    CHECK(tf_file_release(f) == 0);
    return 0;
}

/* The child receives, checks and releases; flags: the sender's. */
static void move_to_child(const char *dir, unsigned flags)
{
    int sv[2];
    assert_int_equal(seqpair(sv), 0);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "moved", 5), 5);
    char *name = strdup(tf_file_name(f));
    size_t reg = tf_cleanup_registered();
    int fds = fd_count();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct recv_arg a = { sv[1], sv[0], -1, "moved" };
        _exit(receiver(&a));
    }
    /* (No answer: returns before the child even received.) */
    assert_int_equal(tf_file_send(sv[0], f, flags), 0);
    /* Ours no more: unregistered, its descriptor closed. */
    assert_int_equal(tf_cleanup_registered(), reg - 1);
    assert_int_equal(fd_count(), fds - 1);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(st, 0);
    if (flags & TF_HANDOFF_NO_ANSWER)
        assert_int_equal(answer_of(sv[0]), 0);   /* the child answered nothing */
    /* The child released it: removed. */
    assert_false(path_exists(name));
    close(sv[0]), close(sv[1]);
    free(name);
}

static void test_move_to_child(void **state)
{
    move_to_child(TFT_DIR(state), 0);
}

static void share_round(const char *dir, bool child_first)
{
    int sv[2], go[2];
    assert_int_equal(seqpair(sv), 0);
    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    /* Forked before the file exists: a descriptor inherited through fork
     * would hold the sender's lock in the child too. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct recv_arg a = { sv[1], sv[0], go[0], "shared" };
        _exit(receiver(&a));
    }
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "shared", 6), 6);
    char *name = strdup(tf_file_name(f));
    size_t reg = tf_cleanup_registered();
    assert_int_equal(tf_file_send(sv[0], f, TF_HANDOFF_SHARE), 0);
    assert_int_equal(tf_cleanup_registered(), reg - 1);
    /* Both hold it: the sweep sees it live. */
    tf_usage_report u;
    assert_int_equal(tf_disk_usage(dir, NULL, &u), 0);
    assert_int_equal(u.live, 1);
    int st;
    if (child_first) {
        assert_int_equal(write(go[1], "g", 1), 1);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(st, 0);
        assert_true(path_exists(name));   /* we still hold it */
        assert_int_equal(tf_file_release(f), 0);
    } else {
        assert_int_equal(tf_file_release(f), 0);
        assert_true(path_exists(name));   /* the child still holds it */
        assert_int_equal(write(go[1], "g", 1), 1);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(st, 0);
    }
    assert_false(path_exists(name));
    close(sv[0]), close(sv[1]), close(go[0]), close(go[1]);
    free(name);
}

static void test_share_child_releases_first(void **state)
{
    share_round(TFT_DIR(state), true);
}

static void test_share_parent_releases_first(void **state)
{
    share_round(TFT_DIR(state), false);
}

/* A shared handle moved on stays a share: the third owner's release does
 * not take the file from the second. */
static void test_shared_handle_moves_as_share(void **state)
{
    const char *dir = TFT_DIR(state);
    int a[2], b[2], go[2];
    assert_int_equal(seqpair(a), 0);
    assert_int_equal(seqpair(b), 0);
    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t holder = fork();
    if (holder == 0) {
        close(b[0]), close(b[1]);
        struct recv_arg arg = { a[1], a[0], go[0], "three" };
        _exit(receiver(&arg));
    }
    pid_t mover = fork();
    if (mover == 0) {
        close(a[0]), close(a[1]);
        struct recv_arg arg = { b[1], b[0], -1, "three" };
        _exit(receiver(&arg));
    }
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "three", 5), 5);
    char *name = strdup(tf_file_name(f));
    assert_int_equal(tf_file_send(a[0], f, TF_HANDOFF_SHARE), 0);
    assert_int_equal(tf_file_send(b[0], f, 0), 0);   /* f is freed */
    int st;
    assert_int_equal(waitpid(mover, &st, 0), mover);
    assert_int_equal(st, 0);
    assert_true(path_exists(name));   /* the holder still has it */
    assert_int_equal(write(go[1], "g", 1), 1);
    assert_int_equal(waitpid(holder, &st, 0), holder);
    assert_int_equal(st, 0);
    assert_false(path_exists(name));
    close(a[0]), close(a[1]), close(b[0]), close(b[1]), close(go[0]), close(go[1]);
    free(name);
}

static void test_unnamed_and_spooled_move(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *files[2] = {
        tf_temporary_file(&(tf_opts){ .dir = dir }),
        tf_spooled_temporary_file(&(tf_opts){ .dir = dir, .max_size = 1000 }),
    };
    for (int i = 0; i < 2; i++) {
        int sv[2];
        assert_int_equal(seqpair(sv), 0);
        assert_non_null(files[i]);
        FILE *s = tf_file_stream(files[i]);
        fputs("viewed", s);   /* buffered: must go with the file */
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            struct recv_arg a = { sv[1], sv[0], -1, "viewed" };
            _exit(receiver(&a));
        }
        assert_int_equal(tf_file_send(sv[0], files[i], 0), 0);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(st, 0);
        close(sv[0]), close(sv[1]);
    }
    assert_int_equal(dir_entries(dir), 0);
}

/* ---- an exec'd child ---------------------------------------------------- */

static char *helper_path(void)
{
    const char *bin = getenv("TF_TEST_BINARY_DIR");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    /* The build tree's, or the one next to this test binary (run by hand,
     * or under valgrind without CTest's environment). */
    char *p = bin ? path_join(bin, "tests/handoff_child") : path_join(self, "handoff_child");
    if (access(p, X_OK) != 0)
        fail_msg("test helper %s missing", p);
    return p;
}

/* Waits (up to 10 s) for path to appear. */
static bool wait_for(const char *path)
{
    struct timespec nap = { 0, 5 * 1000 * 1000 };
    for (int i = 0; i < 2000; i++) {
        if (path_exists(path))
            return true;
        nanosleep(&nap, NULL);
    }
    return false;
}

struct spawned {
    pid_t child;
    char *tmp, *result, *go, *name;
};

/*
 * A producer process makes a named file in s->tmp, hands it to the helper
 * through tf_file_spawn() and exits normally (its exit handler runs). The
 * helper is reparented to us (subreaper), so that we can wait for it.
 */
static void spawn_through_producer(const char *dir, struct spawned *s)
{
    s->tmp = path_join(dir, "tmp");
    s->result = path_join(dir, "result");
    s->go = path_join(dir, "go");
    assert_int_equal(mkdir(s->tmp, 0700), 0);
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char *helper = helper_path();
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t producer = fork();
    if (producer == 0) {
        tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = s->tmp });
        if (!f || tf_file_write(f, "from the producer", 17) != 17)
            _exit(3);
        char *argv[] = { helper, s->result, s->go, NULL };
        pid_t c = tf_file_spawn(f, helper, argv, 0);
        if (c < 0 || write(p[1], &c, sizeof c) != sizeof c)
            _exit(4);
        exit(0);   /* atexit cleanup runs: the file is no longer ours */
    }
    int st;
    assert_int_equal(waitpid(producer, &st, 0), producer);
    assert_int_equal(st, 0);
    assert_int_equal(read(p[0], &s->child, sizeof s->child), sizeof s->child);
    close(p[0]), close(p[1]);
    free(helper);
    assert_true(wait_for(s->result));
    char *got = read_file_str(s->result);
    assert_string_equal(got, "from the producer");
    free(got);
}

static void spawned_free(struct spawned *s)
{
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    free(s->tmp), free(s->result), free(s->go);
}

static void test_exec_child_outlives_parent(void **state)
{
    struct spawned s;
    spawn_through_producer(TFT_DIR(state), &s);
    /* The producer is gone; the file stays, live (the child holds it). */
    assert_int_equal(dir_entries(s.tmp), 1);
    tf_usage_report u;
    assert_int_equal(tf_disk_usage(s.tmp, NULL, &u), 0);
    assert_int_equal(u.count, 1);
    assert_int_equal(u.live, 1);
    assert_int_equal(write_file(TFT_DIR(state), "go", ""), 0);
    int st;
    assert_int_equal(waitpid(s.child, &st, 0), s.child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* The child released it: gone. */
    assert_int_equal(dir_entries(s.tmp), 0);
    spawned_free(&s);
}

static time_t later(void)
{
    return time(NULL) + 2 * 86400;
}

static void test_exec_child_killed_leaves_orphan(void **state)
{
    struct spawned s;
    spawn_through_producer(TFT_DIR(state), &s);
    tf__sweep_clock_hook = later;
    tf_sweep_result res;
    /* While the child lives, even an old-looking entry is live: kept. */
    assert_int_equal(tf_sweep(s.tmp, NULL, &res), 0);
    assert_int_equal(res.live, 1);
    assert_int_equal(res.removed, 0);
    assert_int_equal(kill(s.child, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(s.child, &st, 0), s.child);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(dir_entries(s.tmp), 1);
    tf_usage_report u;
    assert_int_equal(tf_disk_usage(s.tmp, NULL, &u), 0);
    assert_int_equal(u.orphans, 1);
    assert_int_equal(tf_sweep(s.tmp, NULL, &res), 0);
    assert_int_equal(res.removed, 1);
    tf__sweep_clock_hook = NULL;
    assert_int_equal(dir_entries(s.tmp), 0);
    spawned_free(&s);
}

static void test_spawn_exec_fails(void **state)
{
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(f);
    char *argv[] = { "nothing", NULL };
    size_t reg = tf_cleanup_registered();
    errno = 0;
    assert_int_equal(tf_file_spawn(f, "/nonexistent/program", argv, 0), -1);
    assert_errno(ECONNRESET);
    /* Still ours, whole. */
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_true(path_exists(tf_file_name(f)));
    assert_int_equal(tf_file_write(f, "x", 1), 1);
    assert_int_equal(tf_file_spawn(NULL, "/bin/true", argv, 0), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_file_spawn(f, "/bin/true", argv, 1u << 20), -1);
    assert_errno(EINVAL);
    /* No answer: a child whose exec failed would take the file along. */
    assert_int_equal(tf_file_spawn(f, "/bin/true", argv, TF_HANDOFF_NO_ANSWER), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_cleanup_registered(), reg);
    tf_file_release(f);
}

/* ---- bad peers ------------------------------------------------------------- */

struct bad {
    int sv[2];
    tf_file *f;       /* a real temporary file to send descriptors of */
    int fds;          /* descriptors open before the receive */
};

static void bad_open(struct bad *b, const char *dir, int type)
{
    assert_int_equal(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, b->sv), 0);
    b->f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(b->f);
    b->fds = fd_count();
}

/* The receive fails with err, answers NACK (unless the peer is gone), and
 * every descriptor it got is closed. */
static void bad_expect(struct bad *b, int err, bool nack)
{
    errno = 0;
    assert_null(tf_file_recv(b->sv[1], 0));
    assert_errno(err);
    assert_no_fd_leak(b->fds);
    if (nack)
        assert_int_equal(answer_of(b->sv[0]), 'N');
    close(b->sv[0]), close(b->sv[1]);
    tf_file_release(b->f);
}

static void test_bad_no_descriptor(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    unsigned char m[TF_HANDOFF_META_MAX];
    raw_send(b.sv[0], m, meta(m, 0, 0, NULL), NULL, 0);
    bad_expect(&b, EBADMSG, true);
}

static void test_bad_two_descriptors(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    unsigned char m[TF_HANDOFF_META_MAX];
    int fd = tf_file_fileno(b.f), two[2] = { fd, fd };
    raw_send(b.sv[0], m, meta(m, 0, 0, NULL), two, 2);
    bad_expect(&b, EBADMSG, true);
}

static void test_bad_many_descriptors_truncated(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    unsigned char m[TF_HANDOFF_META_MAX];
    int many[12];
    for (int i = 0; i < 12; i++)
        many[i] = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, meta(m, 0, 0, NULL), many, 12);
    bad_expect(&b, EBADMSG, true);
}

/* A stream peer sending the header in parts, each with 8 descriptors: past
 * the 16 kept, the rest are closed as they come; all refused, none kept. */
static void test_bad_descriptors_over_several_reads(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_STREAM);
    unsigned char m[TF_HANDOFF_META_MAX];
    size_t n = meta(m, 0, 0, tf_file_name(b.f));
    int many[8];
    for (int i = 0; i < 8; i++)
        many[i] = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, 4, many, 8);
    raw_send(b.sv[0], m + 4, 4, many, 8);
    raw_send(b.sv[0], m + 8, n - 8, many, 8);
    bad_expect(&b, EBADMSG, true);
}

static void test_bad_metadata(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    unsigned char m[TF_HANDOFF_META_MAX];
    size_t n = meta(m, 0, 0, tf_file_name(b.f));
    m[1] = 'X';
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, n, &fd, 1);
    bad_expect(&b, EBADMSG, true);
    assert_int_equal(dir_entries(TFT_DIR(state)), 0);
}

static void test_bad_oversized(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    static unsigned char m[TF_HANDOFF_META_MAX + 500];
    meta(m, 0, 0, NULL);
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, sizeof m, &fd, 1);
    bad_expect(&b, EMSGSIZE, true);
}

static void test_bad_name_length(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    unsigned char m[TF_HANDOFF_META_MAX];
    size_t n = meta(m, 0, 0, "/x");
    m[13] = 0x40;   /* 16386 bytes of name announced */
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, n, &fd, 1);
    bad_expect(&b, EMSGSIZE, true);
}

static void test_bad_peer_closes_mid_transfer(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_STREAM);
    unsigned char m[TF_HANDOFF_META_MAX];
    meta(m, 0, 0, tf_file_name(b.f));
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, 10, &fd, 1);   /* 10 of the header's 16 bytes */
    shutdown(b.sv[0], SHUT_WR);
    bad_expect(&b, ECONNRESET, false);
}

/* A stream may deliver a message in parts: the receiver reads on for the
 * rest, and no further (the next message stays for the next receive). */
static void test_stream_message_in_parts(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_STREAM);
    tf_file *second = tf_named_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(second);
    unsigned char m[TF_HANDOFF_META_MAX];
    size_t n = meta(m, TF_HANDOFF_NO_ANSWER, 0, tf_file_name(b.f));
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, 10, &fd, 1);   /* 10 of the header's 16 bytes */
    raw_send(b.sv[0], m + 10, n - 10, NULL, 0);
    char *name2 = strdup(tf_file_name(second));
    assert_int_equal(tf_file_send(b.sv[0], second, TF_HANDOFF_NO_ANSWER), 0);
    tf_file *g = tf_file_recv(b.sv[1], 0);
    assert_non_null(g);
    assert_string_equal(tf_file_name(g), tf_file_name(b.f));
    tf_file *h = tf_file_recv(b.sv[1], 0);
    assert_non_null(h);
    assert_string_equal(tf_file_name(h), name2);
    assert_int_equal(answer_of(b.sv[0]), 0);
    assert_int_equal(tf_file_release(h), 0);
    assert_false(path_exists(name2));
    free(name2);
    tf_file_keep(g);   /* b.f still owns that name */
    tf_file_release(g);
    close(b.sv[0]), close(b.sv[1]);
    tf_file_release(b.f);
}

static void test_bad_peer_closes_before(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    shutdown(b.sv[0], SHUT_WR);
    bad_expect(&b, ECONNRESET, false);
}

static void test_bad_not_regular(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    b.fds += 2;
    unsigned char m[TF_HANDOFF_META_MAX];
    raw_send(b.sv[0], m, meta(m, 0, 0, NULL), &p[1], 1);
    bad_expect(&b, EBADMSG, true);
    close(p[0]), close(p[1]);
}

static void test_bad_read_only(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    int ro = open(tf_file_name(b.f), O_RDONLY | O_CLOEXEC);
    assert_true(ro >= 0);
    b.fds++;
    unsigned char m[TF_HANDOFF_META_MAX];
    raw_send(b.sv[0], m, meta(m, 0, 0, tf_file_name(b.f)), &ro, 1);
    bad_expect(&b, EBADMSG, true);
    close(ro);
}

static void test_bad_name_of_another_file(void **state)
{
    const char *dir = TFT_DIR(state);
    struct bad b;
    bad_open(&b, dir, SOCK_SEQPACKET);
    assert_int_equal(write_file(dir, "victim", "precious"), 0);
    char *victim = path_join(dir, "victim");
    b.fds = fd_count();
    unsigned char m[TF_HANDOFF_META_MAX];
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, meta(m, 0, 0, victim), &fd, 1);
    bad_expect(&b, EBADMSG, true);
    char *got = read_file_str(victim);
    assert_string_equal(got, "precious");
    free(got), free(victim);
}

/* A name that names nothing (missing, or under a file), or a link to the
 * file itself (a final link is not followed): EBADMSG, nothing removed. */
static void test_bad_name_missing_or_link(void **state)
{
    const char *dir = TFT_DIR(state);
    assert_int_equal(write_file(dir, "plain", "x"), 0);
    char *missing = path_join(dir, "missing"), *under = path_join(dir, "plain/f"),
         *link = path_join(dir, "link");
    const char *names[] = { missing, under, link };
    for (int i = 0; i < 3; i++) {
        struct bad b;
        bad_open(&b, dir, SOCK_SEQPACKET);
        if (names[i] == link)
            assert_int_equal(symlink(tf_file_name(b.f), link), 0);
        unsigned char m[TF_HANDOFF_META_MAX];
        int fd = tf_file_fileno(b.f);
        raw_send(b.sv[0], m, meta(m, 0, 0, names[i]), &fd, 1);
        bad_expect(&b, EBADMSG, true);
    }
    assert_true(path_exists(link));
    assert_int_equal(dir_entries(dir), 2);   /* plain, link: the temporaries released */
    free(missing), free(under), free(link);
}

/* A file of another user, from a peer that is neither: EPERM, untouched. */
static void test_bad_owned_by_another(void **state)
{
    if (!running_as_root())
        skip();   /* only root can give the file away */
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    assert_int_equal(fchown(tf_file_fileno(b.f), NOBODY_ID, NOBODY_ID), 0);
    unsigned char m[TF_HANDOFF_META_MAX];
    int fd = tf_file_fileno(b.f);
    char *name = strdup(tf_file_name(b.f));
    raw_send(b.sv[0], m, meta(m, 0, 0, name), &fd, 1);
    size_t reg = tf_cleanup_registered();
    bad_expect(&b, EPERM, true);
    assert_int_equal(tf_cleanup_registered(), reg - 1);   /* only b.f's release */
    free(name);
}

/* Not a socket: recvmsg's ENOTSOCK, nothing kept. */
static void test_recv_not_a_socket(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    int fds = fd_count();
    errno = 0;
    assert_null(tf_file_recv(p[0], 0));
    assert_errno(ENOTSOCK);
    assert_no_fd_leak(fds);
    close(p[0]), close(p[1]);
}

/* A stream peer may deliver the metadata in pieces, the name cut too: the
 * receiver reads on until the announced length, then owns the file. */
static void test_stream_metadata_in_pieces(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_STREAM);
    assert_int_equal(tf_file_write(b.f, "pieces", 6), 6);
    unsigned char m[TF_HANDOFF_META_MAX];
    size_t n = meta(m, 0, TF_KEEP, tf_file_name(b.f));
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, 20, &fd, 1);   /* the header and 4 bytes of the name */
    raw_send(b.sv[0], m + 20, n - 20, NULL, 0);
    tf_file *g = tf_file_recv(b.sv[1], 0);
    assert_non_null(g);
    assert_int_equal(answer_of(b.sv[0]), 'A');
    assert_string_equal(tf_file_name(g), tf_file_name(b.f));
    assert_string_equal(read_whole(tf_file_fileno(g)), "pieces");
    assert_int_equal(tf_file_release(g), 0);   /* TF_KEEP: the name stays */
    assert_true(path_exists(tf_file_name(b.f)));
    close(b.sv[0]), close(b.sv[1]);
    assert_int_equal(tf_file_release(b.f), 0);
    assert_int_equal(dir_entries(TFT_DIR(state)), 0);
}

/* A receiver with SO_PASSCRED gets the peer's credentials with every
 * message, a control message of another kind: passed over, the descriptor
 * still found. (They once took the room of the descriptors: MSG_CTRUNC, and
 * the receive failed with EMFILE.) */
static void test_recv_with_credentials(void **state)
{
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    int on = 1;
    assert_int_equal(setsockopt(b.sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
    unsigned char m[TF_HANDOFF_META_MAX];
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, meta(m, 0, TF_KEEP, tf_file_name(b.f)), &fd, 1);
    tf_file *g = tf_file_recv(b.sv[1], 0);
    assert_non_null(g);
    assert_int_equal(answer_of(b.sv[0]), 'A');
    assert_int_equal(tf_file_release(g), 0);
    close(b.sv[0]), close(b.sv[1]);
    assert_int_equal(tf_file_release(b.f), 0);
    assert_int_equal(dir_entries(TFT_DIR(state)), 0);
}

/* A closed handle is refused before anything is sent. */
static void test_send_closed_handle(void **state)
{
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(f);
    assert_int_equal(tf_file_close(f), 0);
    int sv[2];
    assert_int_equal(seqpair(sv), 0);
    char *const argv[] = { "true", NULL };
    errno = 0;
    assert_int_equal(tf_file_send(sv[0], f, 0), -1);
    assert_errno(EBADF);
    errno = 0;
    assert_int_equal(tf_file_spawn(f, "/bin/true", argv, 0), -1);
    assert_errno(EBADF);
    assert_int_equal(answer_of(sv[1]), 0);   /* nothing went */
    close(sv[0]), close(sv[1]);
    tf_file_release(f);
}

static int recv_at_fd_limit(void *arg)
{
    int sock = *(int *)arg;
    int lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);
    CHECK(lowest >= 0);
    close(lowest);
    struct rlimit rl, was;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    was = rl;
    rl.rlim_cur = (rlim_t)lowest;   /* no descriptor can be installed */
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    errno = 0;
    CHECK(tf_file_recv(sock, 0) == NULL);
    CHECK(errno == EMFILE);
    CHECK(fcntl(0, F_DUPFD_CLOEXEC, 0) < 0);   /* nothing got in */
    /* The limit back, so that a coverage build can write its counters. */
    CHECK(setrlimit(RLIMIT_NOFILE, &was) == 0);
    return 0;
}

static void test_bad_receiver_out_of_descriptors(void **state)
{
    const char *pre = getenv("LD_PRELOAD");
    if (getenv("VALGRIND_LAUNCHER") || (pre && strstr(pre, "vgpreload"))) {
        /* valgrind keeps descriptors of its own above the limit it shows. */
        print_message("skipped: RLIMIT_NOFILE is virtualized under valgrind\n");
        skip();
    }
    struct bad b;
    bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
    unsigned char m[TF_HANDOFF_META_MAX];
    int fd = tf_file_fileno(b.f);
    raw_send(b.sv[0], m, meta(m, 0, 0, tf_file_name(b.f)), &fd, 1);
    assert_int_equal(run_child(recv_at_fd_limit, &b.sv[1], false), 0);
    assert_int_equal(answer_of(b.sv[0]), 'N');
    close(b.sv[0]), close(b.sv[1]);
    tf_file_release(b.f);
}

static void test_recv_flags_refused(void **state)
{
    (void)state;
    errno = 0;
    assert_null(tf_file_recv(0, TF_HANDOFF_SHARE));
    assert_errno(EINVAL);
}

/* ---- a failed hand-over leaves the file with the sender ----------------- */

static void assert_still_ours(tf_file *f, size_t reg)
{
    assert_int_equal(tf_cleanup_registered(), reg);
    assert_true(path_exists(tf_file_name(f)));
    assert_int_equal(tf_file_closed(f), 0);
    assert_int_equal(tf_file_seek(f, 0, SEEK_SET), 0);
    char buf[8] = "";
    assert_int_equal(tf_file_read(f, buf, sizeof buf), 4);
    assert_memory_equal(buf, "keep", 4);
}

/* A connected loopback UDP socket (to itself); -1 where there is none. */
static int udp_socket(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (s >= 0 && (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
                   getsockname(s, (struct sockaddr *)&a, &al) != 0 ||
                   connect(s, (struct sockaddr *)&a, sizeof a) != 0)) {
        close(s);
        s = -1;
    }
    return s;
}

/* An internet socket accepts SCM_RIGHTS and drops the descriptor: refused
 * before anything is sent or read (was: a hand-over without answer
 * "succeeded", the handle freed and the file left an orphan; a share left
 * the registry). */
static void test_not_unix_socket_refused(void **state)
{
    int s = udp_socket();
    if (s < 0)
        skip();   /* no loopback here */
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = TFT_DIR(state) });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "keep", 4), 4);
    size_t reg = tf_cleanup_registered();
    unsigned modes[] = { 0, TF_HANDOFF_NO_ANSWER, TF_HANDOFF_SHARE | TF_HANDOFF_NO_ANSWER };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        errno = 0;
        assert_int_equal(tf_file_send(s, f, modes[i]), -1);
        assert_errno(EAFNOSUPPORT);
        assert_still_ours(f, reg);
    }
    /* Nothing was sent; a receive reads nothing either. */
    assert_int_equal(send(s, "garbage", 7, 0), 7);
    int fds = fd_count();
    errno = 0;
    assert_null(tf_file_recv(s, 0));
    assert_errno(EAFNOSUPPORT);
    assert_no_fd_leak(fds);
    char buf[16];
    assert_int_equal(recv(s, buf, sizeof buf, MSG_DONTWAIT), 7);   /* still there */
    assert_int_equal(recv(s, buf, sizeof buf, MSG_DONTWAIT), -1);   /* and alone */
    close(s);
    assert_int_equal(tf_file_release(f), 0);
}

static void test_send_failures_keep_file(void **state)
{
    const char *dir = TFT_DIR(state);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "keep", 4), 4);
    size_t reg = tf_cleanup_registered();
    int sv[2];

    /* The peer is gone: EPIPE, no SIGPIPE; sendmsg failing. With no answer
     * too: the message was not queued, so the file stays. */
    for (unsigned flags = 0; flags <= TF_HANDOFF_NO_ANSWER; flags += TF_HANDOFF_NO_ANSWER) {
        assert_int_equal(seqpair(sv), 0);
        close(sv[1]);
        errno = 0;
        assert_int_equal(tf_file_send(sv[0], f, flags), -1);
        assert_errno(EPIPE);
        close(sv[0]);
        assert_still_ours(f, reg);
        assert_int_equal(seqpair(sv), 0);
        fault_arm("sendmsg", 1, EIO);
        assert_int_equal(tf_file_send(sv[0], f, flags), -1);
        assert_errno(EIO);
        fault_reset();
        close(sv[0]), close(sv[1]);
        assert_still_ours(f, reg);
    }

    /* The peer reads nothing and closes: ECONNRESET. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    shutdown(sv[1], SHUT_WR);
    assert_int_equal(tf_file_send(sv[0], f, 0), -1);
    assert_errno(ECONNRESET);
    close(sv[0]), close(sv[1]);
    assert_still_ours(f, reg);

    /* The peer refuses. */
    assert_int_equal(seqpair(sv), 0);
    assert_int_equal(write(sv[1], "N", 1), 1);
    assert_int_equal(tf_file_send(sv[0], f, TF_HANDOFF_SHARE), -1);
    assert_errno(ECONNREFUSED);
    close(sv[0]), close(sv[1]);
    assert_still_ours(f, reg);

    assert_int_equal(tf_file_send(sv[0], NULL, 0), -1);
    assert_errno(EINVAL);
    assert_int_equal(tf_file_send(sv[0], f, TF_SHRED_FORCE), -1);
    assert_errno(EINVAL);
    tf_file_release(f);
}

static void test_recv_fault_closes_everything(void **state)
{
    static const char *const calls[] = { "recvmsg", "fstat", "fstatat", "malloc", "sendmsg",
                                         NULL };
    for (int c = 0; calls[c]; c++) {
        struct bad b;
        bad_open(&b, TFT_DIR(state), SOCK_SEQPACKET);
        unsigned char m[TF_HANDOFF_META_MAX];
        int fd = tf_file_fileno(b.f);
        raw_send(b.sv[0], m, meta(m, 0, 0, tf_file_name(b.f)), &fd, 1);
        size_t reg = tf_cleanup_registered();
        fault_arm(calls[c], 1, EIO);
        errno = 0;
        tf_file *g = tf_file_recv(b.sv[1], 0);
        fault_reset();
        if (g)
            fail_msg("%s failing: received all the same", calls[c]);
        assert_errno(EIO);
        assert_no_fd_leak(b.fds);
        assert_int_equal(tf_cleanup_registered(), reg);
        /* The sender's file is untouched. */
        assert_true(path_exists(tf_file_name(b.f)));
        close(b.sv[0]), close(b.sv[1]);
        tf_file_release(b.f);
    }
}

/* ---- no answer ------------------------------------------------------------- */

static void test_no_answer_move_to_child(void **state)
{
    move_to_child(TFT_DIR(state), TF_HANDOFF_NO_ANSWER);
}

/* The file of a hand-over without answer that does not complete: an
 * unlocked orphan, which tf_sweep() removes. */
static void expect_orphan_swept(const char *dir, const char *name)
{
    assert_true(path_exists(name));
    tf_usage_report u;
    assert_int_equal(tf_disk_usage(dir, NULL, &u), 0);
    assert_int_equal(u.count, 1);
    assert_int_equal(u.orphans, 1);
    tf__sweep_clock_hook = later;
    tf_sweep_result res;
    assert_int_equal(tf_sweep(dir, NULL, &res), 0);
    tf__sweep_clock_hook = NULL;
    assert_int_equal(res.removed, 1);
    assert_false(path_exists(name));
}

/* The receiver refuses (a failing fstat), or its socket goes before it
 * receives: no answer goes back, nothing leaks, the file is an orphan. */
static void test_no_answer_failure_leaves_orphan(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int closes = 0; closes < 2; closes++) {
        int sv[2];
        assert_int_equal(seqpair(sv), 0);
        tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
        assert_non_null(f);
        char *name = strdup(tf_file_name(f));
        size_t reg = tf_cleanup_registered();
        int fds = fd_count();
        assert_int_equal(tf_file_send(sv[0], f, TF_HANDOFF_NO_ANSWER), 0);
        /* In flight, the descriptor holds the live lock. */
        tf_usage_report u;
        assert_int_equal(tf_disk_usage(dir, NULL, &u), 0);
        assert_int_equal(u.live, 1);
        if (closes) {
            close(sv[1]);   /* the kernel closes what was in flight */
        } else {
            fault_arm("fstat", 1, EIO);
            errno = 0;
            assert_null(tf_file_recv(sv[1], 0));
            fault_reset();
            assert_errno(EIO);
            assert_int_equal(answer_of(sv[0]), 0);   /* no NACK */
            close(sv[1]);
        }
        assert_no_fd_leak(fds - 2);
        assert_int_equal(tf_cleanup_registered(), reg - 1);
        expect_orphan_swept(dir, name);
        close(sv[0]);
        free(name);
    }
}

/* Share without answer: both own it at once; the last release removes it. */
static void test_no_answer_share(void **state)
{
    const char *dir = TFT_DIR(state);
    int sv[2];
    assert_int_equal(seqpair(sv), 0);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "both", 4), 4);
    size_t reg = tf_cleanup_registered();
    assert_int_equal(tf_file_send(sv[0], f, TF_HANDOFF_SHARE | TF_HANDOFF_NO_ANSWER), 0);
    assert_int_equal(tf_cleanup_registered(), reg - 1);
    tf_file *g = tf_file_recv(sv[1], 0);
    assert_non_null(g);
    assert_int_equal(answer_of(sv[0]), 0);
    assert_string_equal(read_whole(tf_file_fileno(g)), "both");
    char *name = strdup(tf_file_name(f));
    assert_int_equal(tf_file_release(f), 0);
    assert_true(path_exists(name));   /* g still holds it */
    assert_int_equal(tf_file_release(g), 0);
    assert_false(path_exists(name));
    close(sv[0]), close(sv[1]);
    free(name);
}

/* A sender that does not wait may queue several hand-overs on a stream:
 * each receive takes its own message and descriptor, no more. */
static void test_no_answer_back_to_back_on_stream(void **state)
{
    const char *dir = TFT_DIR(state);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    char *names[3];
    for (int i = 0; i < 3; i++) {
        tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
        assert_non_null(f);
        assert_int_equal(tf_file_write(f, &"abc"[i], 1), 1);
        names[i] = strdup(tf_file_name(f));
        assert_int_equal(tf_file_send(sv[0], f, TF_HANDOFF_NO_ANSWER), 0);
    }
    for (int i = 0; i < 3; i++) {
        tf_file *g = tf_file_recv(sv[1], 0);
        assert_non_null(g);
        assert_string_equal(tf_file_name(g), names[i]);
        char c[2] = { "abc"[i], 0 };
        assert_string_equal(read_whole(tf_file_fileno(g)), c);
        assert_int_equal(tf_file_release(g), 0);
        assert_false(path_exists(names[i]));
        free(names[i]);
    }
    assert_int_equal(answer_of(sv[0]), 0);
    close(sv[0]), close(sv[1]);
}

/* ---- checks at first use (no answer) and at removal ---------------------- */

/* A bad peer's hand-over without answer is taken in (only its type is
 * checked on arrival) and refused at its first use, with the errno the
 * receive gives in the default mode; nothing is answered, written, removed,
 * and nothing leaks. use: 0 release at once, 1 read, 2 write, 3 name,
 * 4 fileno, 5 persist, 6 passing it on, 7 shred and remove (was: shredded
 * unchecked, failing with pwrite's EBADF or the removal's ESTALE). */
static int first_use(tf_file *g, int use, const char *dir, int err)
{
    errno = 0;
    switch (use) {
    case 1: { char c; CHECK(tf_file_read(g, &c, 1) == -1); break; }
    case 2: CHECK(tf_file_write(g, "x", 1) == -1); break;
    case 3: CHECK(tf_file_name(g) == NULL); break;
    case 4: CHECK(tf_file_fileno(g) == -1); break;
    case 5: {
        char *dest = path_join(dir, "dest");
        CHECK(tf_file_persist(g, dest, NULL, NULL) == -1);
        int e = errno;
        CHECK(!path_exists(dest));
        free(dest);
        errno = e;
        break;
    }
    case 6: {   /* goes on unchecked; its next receiver refuses it */
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
        CHECK(tf_file_send(sv[0], g, TF_HANDOFF_NO_ANSWER) == 0);
        g = tf_file_recv(sv[1], 0);
        close(sv[0]), close(sv[1]);
        CHECK(g != NULL);
        errno = 0;
        CHECK(tf_file_read(g, &(char){ 0 }, 1) == -1);
        break;
    }
    case 7:
        CHECK(tf_file_shred(g, &(tf_shred_opts){ .flags = TF_SHRED_REMOVE | TF_SHRED_FORCE },
                            NULL) == -1);
        break;
    default:
        CHECK(tf_file_release(g) == -1);
        CHECK(errno == err);
        return 0;
    }
    CHECK(errno == err);
    CHECK(tf_file_write(g, "x", 1) == -1 && errno == err);   /* and from then on */
    CHECK(tf_file_name(g) == NULL);
    CHECK(tf_file_release(g) == 0);
    return 0;
}

static void refused_at_first_use(struct bad *b, const char *dir, const char *name, int fd,
                                 int err, const char *victim)
{
    for (int use = 0; use <= 7; use++) {
        unsigned char m[TF_HANDOFF_META_MAX];
        size_t reg = tf_cleanup_registered();
        raw_send(b->sv[0], m, meta(m, TF_HANDOFF_NO_ANSWER, 0, name), &fd, 1);
        tf_file *g = tf_file_recv(b->sv[1], 0);
        assert_non_null(g);
        assert_int_equal(tf_cleanup_registered(), reg + 1);
        if (first_use(g, use, dir, err) != 0)
            fail_msg("first use %d", use);
        assert_int_equal(tf_cleanup_registered(), reg);
        assert_int_equal(answer_of(b->sv[0]), 0);
        assert_no_fd_leak(b->fds);
        char *got = read_file_str(victim);
        assert_string_equal(got, "precious");
        free(got);
    }
}

static void test_no_answer_read_only_refused_at_first_use(void **state)
{
    const char *dir = TFT_DIR(state);
    struct bad b;
    bad_open(&b, dir, SOCK_SEQPACKET);
    assert_int_equal(tf_file_write(b.f, "precious", 8), 8);
    int ro = open(tf_file_name(b.f), O_RDONLY | O_CLOEXEC);
    assert_true(ro >= 0);
    b.fds++;
    refused_at_first_use(&b, dir, tf_file_name(b.f), ro, EBADMSG, tf_file_name(b.f));
    close(ro);
    close(b.sv[0]), close(b.sv[1]);
    tf_file_release(b.f);
}

static void test_no_answer_name_of_another_file_refused(void **state)
{
    const char *dir = TFT_DIR(state);
    struct bad b;
    bad_open(&b, dir, SOCK_SEQPACKET);
    assert_int_equal(write_file(dir, "victim", "precious"), 0);
    char *victim = path_join(dir, "victim");
    refused_at_first_use(&b, dir, victim, tf_file_fileno(b.f), EBADMSG, victim);
    free(victim);
    close(b.sv[0]), close(b.sv[1]);
    tf_file_release(b.f);
}

/* A receiver given another file's name without answer, that never uses the
 * handle: its exit handler, its fatal-signal handler, tf_cleanup_now() and a
 * sweep after it was killed leave that file alone. how: 0 exit, 1 SIGTERM,
 * 2 tf_cleanup_now(), 3 SIGKILL. */
struct liar_arg {
    int sock, other, how;
};

static tf_file *lied_to_handle;   /* still held at exit: not a leak */

static int lied_to(void *arg)
{
    struct liar_arg *a = arg;
    close(a->other);
    CHECK(tf_cleanup_install_signals() == 0);
    CHECK((lied_to_handle = tf_file_recv(a->sock, 0)) != NULL);
    CHECK(tf_cleanup_registered() == 1);
    coverage_flush();
    if (a->how == 1)
        raise(SIGTERM);
    if (a->how == 2)
        CHECK(tf_cleanup_now() == 0);   /* nothing of ours removed */
    if (a->how == 3)
        raise(SIGKILL);
    exit(0);   /* the exit handler runs */
}

static void test_no_answer_lie_survives_exit_signal_sweep(void **state)
{
    const char *dir = TFT_DIR(state);
    /* The victim is a live temporary of ours, so that the sweep judges it
     * by its lock, not by the liar's word. */
    tf_file *v = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(v);
    assert_int_equal(tf_file_write(v, "precious", 8), 8);
    for (int how = 0; how < 4; how++) {
        int sv[2];
        assert_int_equal(seqpair(sv), 0);
        tf_file *x = tf_named_temporary_file(&(tf_opts){ .dir = dir });
        assert_non_null(x);
        char *xname = strdup(tf_file_name(x));
        unsigned char m[TF_HANDOFF_META_MAX];
        int fd = tf_file_fileno(x);
        raw_send(sv[0], m, meta(m, TF_HANDOFF_NO_ANSWER, 0, tf_file_name(v)), &fd, 1);
        tf_file_keep(x);   /* the liar's own file: the sweep's to judge */
        tf_file_release(x);
        fflush(NULL);
        struct liar_arg a = { sv[1], sv[0], how };
        int st = run_child(lied_to, &a, false);
        assert_int_equal(st, how == 1 ? 128 + SIGTERM : how == 3 ? 128 + SIGKILL : 0);
        close(sv[0]), close(sv[1]);
        assert_string_equal(read_whole(tf_file_fileno(v)), "precious");
        assert_true(path_exists(tf_file_name(v)));
        assert_true(path_exists(xname));   /* the liar's file: nobody vouched */
        if (how == 3) {   /* the liar's file is an orphan, the victim is not */
            tf__sweep_clock_hook = later;
            tf_sweep_result res;
            assert_int_equal(tf_sweep(dir, NULL, &res), 0);
            tf__sweep_clock_hook = NULL;
            assert_int_equal(res.removed, 1);
            assert_false(path_exists(xname));
        } else {
            unlink(xname);
        }
        assert_true(path_exists(tf_file_name(v)));
        free(xname);
    }
    assert_int_equal(tf_file_release(v), 0);
}

/* The name is looked at again when it is removed: one that names another
 * file by then (renamed over it after the receive) is left alone by the
 * release (ESTALE) and by tf_cleanup_now(), in both modes. */
static void test_name_replaced_after_receive(void **state)
{
    const char *dir = TFT_DIR(state);
    for (int mode = 0; mode < 4; mode++) {
        struct bad b;
        bad_open(&b, dir, SOCK_SEQPACKET);
        tf_file_keep(b.f);   /* the receiver's entry is the only one */
        unsigned char m[TF_HANDOFF_META_MAX];
        int fd = tf_file_fileno(b.f);
        unsigned flags = mode & 1 ? TF_HANDOFF_NO_ANSWER : 0;
        char *name = strdup(tf_file_name(b.f));
        raw_send(b.sv[0], m, meta(m, flags, 0, name), &fd, 1);
        tf_file *g = tf_file_recv(b.sv[1], 0);
        assert_non_null(g);
        assert_int_equal(answer_of(b.sv[0]), flags ? 0 : 'A');
        assert_int_equal(write_file(dir, "other", "precious"), 0);
        char *other = path_join(dir, "other");
        assert_int_equal(rename(other, name), 0);
        if (mode < 2) {
            errno = 0;
            assert_int_equal(tf_file_release(g), -1);
            /* No answer, not used yet: the release's first check sees it. */
            assert_errno(flags ? EBADMSG : ESTALE);
        } else {
            assert_int_equal(tf_cleanup_now(), 0);
            tf_file_keep(g);
            tf_file_release(g);
        }
        char *got = read_file_str(name);
        assert_string_equal(got, "precious");
        unlink(name);
        free(got), free(other), free(name);
        close(b.sv[0]), close(b.sv[1]);
        tf_file_release(b.f);
    }
}

/* An effective uid cached before a change of credentials makes a receiver
 * refuse a file, never take one: root's file, received with no answer by a
 * process that was root and is nobody now, is refused at its first use. */
static int stale_euid(void *arg)
{
    int *sv = arg;
    tf_file *g = tf_file_recv(sv[1], 0);   /* as root: the uid is seen */
    CHECK(g != NULL);
    CHECK(tf_file_name(g) != NULL);
    CHECK(seteuid(NOBODY_ID) == 0);
    tf_file *h = tf_file_recv(sv[1], 0);
    CHECK(h != NULL);
    char c;
    errno = 0;
    CHECK(tf_file_read(h, &c, 1) == -1 && errno == EPERM);
    CHECK(tf_file_release(h) == 0);
    CHECK(seteuid(0) == 0);
    tf_file_keep(g);
    tf_file_release(g);
    return 0;
}

static void test_no_answer_stale_euid_refuses(void **state)
{
    if (!running_as_root())
        skip();   /* only root can change its effective uid back */
    const char *dir = TFT_DIR(state);
    int sv[2];
    assert_int_equal(seqpair(sv), 0);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    unsigned char m[TF_HANDOFF_META_MAX];
    int fd = tf_file_fileno(f);
    for (int i = 0; i < 2; i++)
        raw_send(sv[0], m, meta(m, TF_HANDOFF_NO_ANSWER, 0, tf_file_name(f)), &fd, 1);
    fflush(NULL);
    assert_int_equal(run_child(stale_euid, sv, false), 0);
    assert_true(path_exists(tf_file_name(f)));
    close(sv[0]), close(sv[1]);
    tf_file_release(f);
}

/* Passed on without use: the next receiver checks it, and removes it. */
static void test_no_answer_passed_on_unchecked(void **state)
{
    const char *dir = TFT_DIR(state);
    int a[2], b[2];
    assert_int_equal(seqpair(a), 0);
    assert_int_equal(seqpair(b), 0);
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = dir });
    assert_non_null(f);
    assert_int_equal(tf_file_write(f, "relay", 5), 5);
    char *name = strdup(tf_file_name(f));
    assert_int_equal(tf_file_send(a[0], f, TF_HANDOFF_NO_ANSWER), 0);
    tf_file *g = tf_file_recv(a[1], 0);
    assert_non_null(g);
    assert_int_equal(tf_file_send(b[0], g, TF_HANDOFF_NO_ANSWER), 0);
    tf_file *h = tf_file_recv(b[1], 0);
    assert_non_null(h);
    assert_string_equal(tf_file_name(h), name);
    assert_string_equal(read_whole(tf_file_fileno(h)), "relay");
    assert_int_equal(tf_file_release(h), 0);
    assert_false(path_exists(name));
    free(name);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

int main(void)
{
    signal(SIGPIPE, SIG_DFL);
    const struct CMUnitTest tests[] = {
        T(test_decode),
        T(test_move_to_child),
        T(test_share_child_releases_first),
        T(test_share_parent_releases_first),
        T(test_shared_handle_moves_as_share),
        T(test_unnamed_and_spooled_move),
        T(test_exec_child_outlives_parent),
        T(test_exec_child_killed_leaves_orphan),
        T(test_spawn_exec_fails),
        T(test_bad_no_descriptor),
        T(test_bad_two_descriptors),
        T(test_bad_many_descriptors_truncated),
        T(test_bad_descriptors_over_several_reads),
        T(test_bad_metadata),
        T(test_bad_oversized),
        T(test_bad_name_length),
        T(test_bad_peer_closes_mid_transfer),
        T(test_bad_peer_closes_before),
        T(test_stream_message_in_parts),
        T(test_bad_not_regular),
        T(test_bad_read_only),
        T(test_bad_name_of_another_file),
        T(test_bad_name_missing_or_link),
        T(test_bad_receiver_out_of_descriptors),
        T(test_recv_flags_refused),
        T(test_send_failures_keep_file),
        T(test_recv_fault_closes_everything),
        T(test_bad_owned_by_another),
        T(test_recv_not_a_socket),
        T(test_stream_metadata_in_pieces),
        T(test_send_closed_handle),
        T(test_recv_with_credentials),
        T(test_no_answer_move_to_child),
        T(test_no_answer_failure_leaves_orphan),
        T(test_no_answer_share),
        T(test_no_answer_back_to_back_on_stream),
        T(test_no_answer_read_only_refused_at_first_use),
        T(test_no_answer_name_of_another_file_refused),
        T(test_no_answer_lie_survives_exit_signal_sweep),
        T(test_name_replaced_after_receive),
        T(test_not_unix_socket_refused),
        T(test_no_answer_stale_euid_refuses),
        T(test_no_answer_passed_on_unchecked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
