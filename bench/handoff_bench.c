/*
 * Hand-over, timed (issue 13): the round trip of a named temporary file
 * between two processes (tf_file_send() there, tf_file_recv() and
 * tf_file_send() back, tf_file_recv() here: moves both ways), in the default
 * mode (the receiver answers) and with TF_HANDOFF_NO_ANSWER, against two
 * floors: the bare one-message floor (sendmsg of the descriptor with 16
 * bytes, recvmsg, and the same back; the received descriptor closed) and
 * the same-protocol floor (that, plus the one-byte answer per hop the
 * default mode sends: sendmsg + answer recv on one side, recvmsg + answer
 * send on the other), that plus the checks a receiver makes of what it got
 * before it answers (fstat, fcntl F_GETFL, geteuid, fstatat of the name:
 * the default mode's own floor), and the one-message floor plus the one check a
 * TF_HANDOFF_NO_ANSWER receiver makes on arrival (fstat: the rest waits for
 * the handle's first use, which a file only passed on never has). Batches
 * of each, interleaved, the order rotated every round.
 *
 *   handoff_bench [BATCH] [ROUNDS]      (defaults 2000, 9)
 */
#define _GNU_SOURCE 1
#include <tempfile.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 64

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void bare_send(int s, int fd)
{
    char room[CMSG_SPACE(sizeof(int))] = { 0 }, payload[16] = "TFH";
    struct iovec iov = { payload, sizeof payload };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = room,
                        .msg_controllen = sizeof room };
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    if (sendmsg(s, &m, MSG_NOSIGNAL) != sizeof payload)
        die("sendmsg");
}

static const char *name;   /* the file's, for mode C's check */

/* What tf_file_recv() checks of a named file it got in the default mode
 * (see src/handoff.c). */
static void checks(int fd)
{
    struct stat st, ns;
    if (fstat(fd, &st) < 0 || fcntl(fd, F_GETFL) < 0 || st.st_uid != geteuid() ||
        fstatat(AT_FDCWD, name, &ns, AT_SYMLINK_NOFOLLOW) < 0 || ns.st_ino != st.st_ino)
        die("checks");
}

static int bare_recv(int s)
{
    char room[CMSG_SPACE(sizeof(int))], payload[16];
    struct iovec iov = { payload, sizeof payload };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = room,
                        .msg_controllen = sizeof room };
    if (recvmsg(s, &m, MSG_CMSG_CLOEXEC) <= 0)
        die("recvmsg");
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
    return fd;
}

/* What a TF_HANDOFF_NO_ANSWER receiver checks on arrival. */
static void type_check(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        die("type_check");
}

/* Modes: L library (answers), N library without answers, B bare, A bare
 * with answers, C bare with answers and the receiver's checks, F bare with
 * fstat. */
static unsigned lib_flags(char mode)
{
    return mode == 'N' ? TF_HANDOFF_NO_ANSWER : 0;
}

/* The peer: echoes whatever arrives, batch after batch; ends on EOF. */
static void peer(int s, int batch)
{
    char mode;
    while (read(s, &mode, 1) == 1) {
        for (int i = 0; i < batch; i++) {
            if (mode == 'L' || mode == 'N') {
                tf_file *f = tf_file_recv(s, 0);
                if (!f || tf_file_send(s, f, lib_flags(mode)) < 0)
                    die("peer hand-over");
            } else {
                int fd = bare_recv(s);
                if (mode == 'C')
                    checks(fd);
                if (mode == 'F')
                    type_check(fd);
                char a = 'A';
                bool answers = mode == 'A' || mode == 'C';
                if (answers && write(s, &a, 1) != 1)
                    die("answer");
                bare_send(s, fd);
                if (answers && read(s, &a, 1) != 1)
                    die("answer");
                close(fd);
            }
        }
    }
    _exit(0);
}

static tf_file *f;

/* One batch of mode; microseconds per round trip. */
static double batch_of(int s, char mode, int batch)
{
    if (write(s, &mode, 1) != 1)
        die("write");
    int fd = tf_file_fileno(f);
    double t0 = now();
    for (int i = 0; i < batch; i++) {
        if (mode == 'L' || mode == 'N') {
            if (tf_file_send(s, f, lib_flags(mode)) < 0 || !(f = tf_file_recv(s, 0)))
                die("hand-over");
        } else if (mode == 'B' || mode == 'F') {
            bare_send(s, fd);
            int back = bare_recv(s);
            if (mode == 'F')
                type_check(back);
            close(back);
        } else {
            char a;
            bare_send(s, fd);
            if (read(s, &a, 1) != 1)
                die("answer");
            int back = bare_recv(s);
            if (mode == 'C')
                checks(back);
            if (write(s, &a, 1) != 1)
                die("answer");
            close(back);
        }
    }
    return (now() - t0) / batch * 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v and prints its median and quartiles. */
static void spread(const char *label, double *v, int n, const char *unit)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    printf("| %s | %.2f%s | %.2f-%.2f%s |\n", label, v[n / 2], unit, v[n / 4], v[3 * n / 4], unit);
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 2000, rounds = argc > 2 ? atoi(argv[2]) : 9;
    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair");
    /* Before the fork: the peer checks the same name. */
    f = tf_named_temporary_file(&(tf_opts){ .dir = "/dev/shm" });
    if (!f || !(name = strdup(tf_file_name(f))))
        die("tf_named_temporary_file");
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        peer(sv[1], batch);
    }
    close(sv[1]);
    int s = sv[0];
    static const char modes[] = "LNBACF";
    double t[6][MAX_ROUNDS], r[6][MAX_ROUNDS];
    for (int k = 0; k < rounds; k++) {
        for (int j = 0; j < 6; j++) {
            int m = (j + k) % 6;
            t[m][k] = batch_of(s, modes[m], batch);
        }
        r[0][k] = t[0][k] / t[2][k];   /* default / bare */
        r[1][k] = t[0][k] / t[3][k];   /* default / same protocol */
        r[2][k] = t[1][k] / t[2][k];   /* no answer / bare */
        r[3][k] = t[1][k] / t[0][k];   /* no answer / default */
        r[4][k] = t[0][k] / t[4][k];   /* default / its own floor */
        r[5][k] = t[1][k] / t[5][k];   /* no answer / bare with fstat */
    }
    tf_file_release(f);
    close(s);
    waitpid(pid, NULL, 0);
    printf("| round trip (batches of %d, %d rounds interleaved) | median | quartiles |\n"
           "|---|---|---|\n", batch, rounds);
    spread("tf_file_send + tf_file_recv, both ways (named file, move)", t[0], rounds, " us");
    spread("the same with TF_HANDOFF_NO_ANSWER", t[1], rounds, " us");
    spread("bare sendmsg/recvmsg of the descriptor, both ways (one-message floor)", t[2],
           rounds, " us");
    spread("bare, with a one-byte answer per hop (same-protocol floor)", t[3], rounds, " us");
    spread("bare, with the answer and the checks before it (fstat, fcntl, geteuid, fstatat)",
           t[4], rounds, " us");
    spread("bare, with fstat (what a no-answer receiver checks on arrival)", t[5], rounds, " us");
    printf("\n| per-round ratio | median | quartiles |\n|---|---|---|\n");
    spread("default / one-message floor", r[0], rounds, "");
    spread("default / same-protocol floor", r[1], rounds, "");
    spread("no answer / one-message floor", r[2], rounds, "");
    spread("no answer / default", r[3], rounds, "");
    spread("default / bare with the answer and the checks", r[4], rounds, "");
    spread("no answer / bare with fstat", r[5], rounds, "");
    return 0;
}
