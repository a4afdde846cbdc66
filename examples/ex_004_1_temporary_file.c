/* Seed 004, section 1: TemporaryFile(mode='w+t') */
/*
 * Python:
 *     with tempfile.TemporaryFile(mode='w+t') as tmp:
 *         tmp.write("Hello, temporary file!\n")
 *         tmp.seek(0)
 *         print(tmp.read())
 *
 * Prints "Hello, temporary file!" and an empty line: the file's own newline,
 * then print()'s.
 */
#include "example.h"

int main(void)
{
    static const char text[] = "Hello, temporary file!\n";
    char buf[64];
    size_t n = 0;
    FILE *fp;
    int fd;

    tf_file *tmp = tf_temporary_file(NULL);
    if (tmp == NULL)
        return ex_fail("tf_temporary_file");

    /* mode='w+t': text goes through the stdio view of the handle. */
    fp = tf_file_stream(tmp);
    if (fp == NULL) {
        ex_fail("tf_file_stream");
    } else if (fputs(text, fp) == EOF || fseek(fp, 0, SEEK_SET) != 0) {
        ex_fail("writing the stream");
    } else {
        n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = '\0';
        printf("%s\n", buf);
    }
    CHECK(n == strlen(text) && strcmp(buf, text) == 0);

    /* The file never has a name, so nothing can be left behind by path. */
    struct stat st = { 0 };
    fd = tf_file_fileno(tmp);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0);

    /* End of the with block. */
    if (tf_file_release(tmp) != 0)
        ex_fail("tf_file_release");
    CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
    return ex_status;
}
