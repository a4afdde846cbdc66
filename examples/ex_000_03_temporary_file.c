/* Seed 000, slide 3: TemporaryFile(mode='w+t'), secure storage with no name */
/*
 * Python:
 *     with tempfile.TemporaryFile(mode='w+t') as temp_file:
 *         temp_file.write("Sensitive data")
 *         temp_file.seek(0)
 *         print(f"File contents: {temp_file.read()}")
 *
 * Prints:  File contents: Sensitive data
 */
#include "example.h"

int main(void)
{
    static const char text[] = "Sensitive data";
    char buf[64];
    struct stat st = { 0 };
    size_t n = 0;
    FILE *fp;
    int fd;

    tf_file *temp_file = tf_temporary_file(NULL);
    if (temp_file == NULL)
        return ex_fail("tf_temporary_file");

    /* Text mode ('w+t') is the stdio view; fseek() flushes the write before
     * the read, as Python's seek(0) does. */
    fp = tf_file_stream(temp_file);
    if (fp == NULL) {
        ex_fail("tf_file_stream");
    } else if (fputs(text, fp) == EOF || fseek(fp, 0, SEEK_SET) != 0) {
        ex_fail("writing the stream");
    } else {
        n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = '\0';
        printf("File contents: %s\n", buf);
    }
    CHECK(n == strlen(text) && strcmp(buf, text) == 0);

    /* Why this is secure: the file has no name anywhere (O_TMPFILE, or
     * unlinked at once), so no other process can open it by path. */
    errno = 0;
    CHECK(tf_file_name(temp_file) == NULL && errno == ENOENT);
    fd = tf_file_fileno(temp_file);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0);
    CHECK((st.st_mode & 07777) == 0600);

    /* End of the with block: closing the last descriptor of a file with no
     * links is what deletes it; check the descriptor is really closed. */
    if (tf_file_release(temp_file) != 0)
        ex_fail("tf_file_release");
    CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
    return ex_status;
}
