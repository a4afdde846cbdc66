/* Seed 001, section 5: transfer ownership of a temporary file between processes */
/*
 * Python (the seed):
 *     temp = NamedTemporaryFile(delete=False)
 *     temp.write(b'Data'); temp.close()
 *     fd = os.open(temp.name, os.O_RDWR|os.O_CREAT)
 *     # Send fd to Process 2 via socket...
 *     ...
 *     fd = socket.recv(fd) # Receive fd
 *     with os.fdopen(fd, 'r+b') as f:
 *         print(f.read())
 *     os.remove(f.name)
 *
 * It cannot work as written: socket.recv() receives bytes, not descriptors
 * (that needs SCM_RIGHTS ancillary data), a descriptor object has no name to
 * remove, and between the producer's close() and the consumer's remove()
 * the file belongs to nobody: a crash in either leaks it, and the producer's
 * own cleanup knows nothing of the transfer. The seed's advice stands: "make
 * the receiving process responsible for final cleanup to avoid leakage".
 *
 * Here the producer hands the open file to a consumer it starts
 * (tf_file_spawn(): a socket pair, fork, exec of this same program as the
 * consumer, then tf_file_send() over SCM_RIGHTS). Cleanup ownership moves
 * with the descriptor: the consumer's tf_file_recv() registers the file, so
 * its release (or its exit, or a fatal signal) removes it, and the
 * producer's handle is freed without removing anything. The live lock is
 * held throughout, so an orphan sweep never takes the file meanwhile.
 *
 * Prints:
 *     producer: handed /tmp/tmpXXXXXXXX to the consumer
 *     consumer: b'Data'
 *     consumer: released, the file is gone
 *     producer: consumer done, nothing left behind
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "example.h"

static int consumer(void)
{
    tf_file *f = tf_file_recv(TF_HANDOFF_CHILD_FD, 0);
    if (f == NULL)
        return ex_fail("tf_file_recv");
    char *name = strdup(tf_file_name(f));
    char buf[64];
    ssize_t n = tf_file_read(f, buf, sizeof buf);   /* from the start: the offset moved too */
    CHECK(n == 0);
    CHECK(tf_file_seek(f, 0, SEEK_SET) == 0);
    n = tf_file_read(f, buf, sizeof buf);
    fputs("consumer: ", stdout);
    ex_print_pybytes(buf, n > 0 ? (size_t)n : 0);
    putchar('\n');
    if (tf_file_release(f) != 0)
        ex_fail("tf_file_release");
    CHECK(ex_gone(name));
    printf("consumer: released, the file is gone\n");
    free(name);
    return ex_status;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--consumer") == 0)
        return consumer();

    tf_file *temp = tf_named_temporary_file(NULL);
    if (temp == NULL)
        return ex_fail("tf_named_temporary_file");
    char *name = strdup(tf_file_name(temp));
    CHECK(tf_file_write(temp, "Data", 4) == 4);

    char *child_argv[] = { argv[0], "--consumer", NULL };
    printf("producer: handed %s to the consumer\n", name);
    fflush(stdout);   /* before the child writes to the same stdout */
    pid_t pid = tf_file_spawn(temp, "/proc/self/exe", child_argv, 0);
    if (pid < 0) {
        ex_fail("tf_file_spawn");
        tf_file_release(temp);   /* a failed hand-over leaves it ours */
        free(name);
        return ex_status;
    }
    /* temp is the consumer's now (and freed here). */
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(ex_gone(name));
    printf("producer: consumer done, nothing left behind\n");
    free(name);
    return ex_status;
}
