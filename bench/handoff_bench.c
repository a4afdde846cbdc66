/*
 * Hand-over, timed (issue 13): the round trip of a named temporary file
 * between two processes (tf_file_send() there, tf_file_recv() and
 * tf_file_send() back, tf_file_recv() here: moves both ways) against the
 * bare floor (sendmsg of the descriptor with 16 bytes, recvmsg, and the same
 * back; the received descriptor closed), and that floor with the one-byte
 * answer per hop that the protocol adds. Batches of each, interleaved.
 *
 *   handoff_bench [BATCH] [ROUNDS]      (defaults 2000, 9)
 */
#define _GNU_SOURCE 1
#include <tempfile.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* The peer: echoes whatever arrives, batch after batch; ends on EOF. */
static void peer(int s, int batch)
{
    char mode;
    while (read(s, &mode, 1) == 1) {
        for (int i = 0; i < batch; i++) {
            if (mode == 'L') {
                tf_file *f = tf_file_recv(s, 0);
                if (!f || tf_file_send(s, f, 0) < 0)
                    die("peer hand-over");
            } else {
                int fd = bare_recv(s);
                char a = 'A';
                if (mode == 'A' && write(s, &a, 1) != 1)
                    die("answer");
                bare_send(s, fd);
                if (mode == 'A' && read(s, &a, 1) != 1)
                    die("answer");
                close(fd);
            }
        }
    }
    _exit(0);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 2000, rounds = argc > 2 ? atoi(argv[2]) : 9;
    if (rounds > 64)
        rounds = 64;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair");
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        peer(sv[1], batch);
    }
    close(sv[1]);
    int s = sv[0];
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = "/dev/shm" });
    if (!f)
        die("tf_named_temporary_file");
    int fd = tf_file_fileno(f);
    double lib[64], bare[64], acked[64], ratio[64], ratio_acked[64];
    for (int r = 0; r < rounds; r++) {
        if (write(s, "L", 1) != 1)
            die("write");
        double t0 = now();
        for (int i = 0; i < batch; i++) {
            if (tf_file_send(s, f, 0) < 0 || !(f = tf_file_recv(s, 0)))
                die("hand-over");
        }
        lib[r] = (now() - t0) / batch * 1e6;
        if (write(s, "B", 1) != 1)
            die("write");
        fd = tf_file_fileno(f);
        t0 = now();
        for (int i = 0; i < batch; i++) {
            bare_send(s, fd);
            close(bare_recv(s));
        }
        bare[r] = (now() - t0) / batch * 1e6;
        if (write(s, "A", 1) != 1)
            die("write");
        t0 = now();
        for (int i = 0; i < batch; i++) {
            char a;
            bare_send(s, fd);
            if (read(s, &a, 1) != 1)
                die("answer");
            int back = bare_recv(s);
            if (write(s, &a, 1) != 1)
                die("answer");
            close(back);
        }
        acked[r] = (now() - t0) / batch * 1e6;
        ratio[r] = lib[r] / bare[r];
        ratio_acked[r] = lib[r] / acked[r];
    }
    tf_file_release(f);
    close(s);
    waitpid(pid, NULL, 0);
    qsort(lib, (size_t)rounds, sizeof(double), cmp);
    qsort(bare, (size_t)rounds, sizeof(double), cmp);
    qsort(ratio, (size_t)rounds, sizeof(double), cmp);
    qsort(acked, (size_t)rounds, sizeof(double), cmp);
    qsort(ratio_acked, (size_t)rounds, sizeof(double), cmp);
    printf("| round trip (batches of %d, %d rounds interleaved) | median |\n|---|---|\n", batch,
           rounds);
    printf("| tf_file_send + tf_file_recv, both ways (named file, move) | %.1f us |\n",
           lib[rounds / 2]);
    printf("| bare sendmsg/recvmsg of the descriptor, both ways | %.1f us |\n", bare[rounds / 2]);
    printf("| bare, with a one-byte answer per hop (the protocol's messages) | %.1f us |\n",
           acked[rounds / 2]);
    printf("\nper-round ratio to bare: median %.2f; to bare with answers: median %.2f\n",
           ratio[rounds / 2], ratio_acked[rounds / 2]);
    return 0;
}
