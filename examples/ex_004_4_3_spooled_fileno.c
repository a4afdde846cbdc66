/* Seed 004, section 4, example 3: fileno() rolls even a tiny SpooledTemporaryFile over to disk */
/*
 * Python:
 *     with tempfile.SpooledTemporaryFile() as tmp:
 *         tmp.write(b"abc")
 *         fd = tmp.fileno()
 *         print("file descriptor", fd)
 *
 * Prints "file descriptor N" (N is whatever number the kernel hands out).
 * A descriptor needs a real file, so asking for it rolls the three bytes over
 * to disk, position included, even with max_size 0 (never by size).
 */
#include "example.h"

int main(void)
{
    char buf[4] = "";
    int fd;

    tf_file *tmp = tf_spooled_temporary_file(NULL);
    if (tmp == NULL)
        return ex_fail("tf_spooled_temporary_file");

    if (tf_file_write(tmp, "abc", 3) != 3)
        ex_fail("tf_file_write");
    CHECK(tf_file_rolled(tmp) == 0);

    fd = tf_file_fileno(tmp);
    if (fd == -1)
        ex_fail("tf_file_fileno");
    else
        printf("file descriptor %d\n", fd);
    CHECK(tf_file_rolled(tmp) == 1);

    /* The descriptor holds the bytes, at the same position. */
    CHECK(fd >= 0 && lseek(fd, 0, SEEK_CUR) == 3);
    CHECK(fd >= 0 && pread(fd, buf, 3, 0) == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));

    if (tf_file_release(tmp) != 0)
        ex_fail("tf_file_release");
    CHECK(fd < 0 || (fcntl(fd, F_GETFD) == -1 && errno == EBADF));
    return ex_status;
}
