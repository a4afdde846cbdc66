/*
 * Test helper exec'd by test_handoff through tf_file_spawn(): receives the
 * file on TF_HANDOFF_CHILD_FD, writes what it reads into argv[1] (through a
 * rename, so the test never sees half of it), waits until argv[2] exists,
 * then releases the file and exits 0. Exits 2 (writing "ERR <errno>") if the
 * hand-over fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tempfile.h"

static void put(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.part", path);
    FILE *out = fopen(tmp, "w");
    if (!out)
        return;
    fputs(text, out);
    fclose(out);
    rename(tmp, path);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 64;
    tf_file *f = tf_file_recv(TF_HANDOFF_CHILD_FD, 0);
    if (!f) {
        char msg[64];
        snprintf(msg, sizeof msg, "ERR %d", errno);
        put(argv[1], msg);
        return 2;
    }
    char buf[4096] = "";
    tf_file_seek(f, 0, SEEK_SET);
    ssize_t n = tf_file_read(f, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    put(argv[1], buf);
    struct timespec nap = { 0, 5 * 1000 * 1000 };
    for (int i = 0; i < 6000 && access(argv[2], F_OK) != 0; i++)
        nanosleep(&nap, NULL);
    return tf_file_release(f) == 0 ? 0 : 1;
}
