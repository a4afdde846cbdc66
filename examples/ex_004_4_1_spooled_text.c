/* Seed 004, section 4, example 1: SpooledTemporaryFile(max_size=1024, mode='w+t'), text in memory */
/*
 * Python:
 *     with tempfile.SpooledTemporaryFile(max_size=1024, mode='w+t') as tmp:
 *         tmp.write("Hello, world!")
 *         tmp.seek(0)
 *         print(tmp.read())
 *
 * Prints:  Hello, world!
 * Text mode is the FILE * view of the handle; 13 bytes stay in memory.
 */
#include "example.h"

int main(void)
{
    static const char text[] = "Hello, world!";
    char buf[64] = "";
    size_t n = 0;
    FILE *fp;

    tf_file *tmp = tf_spooled_temporary_file(&(tf_opts){ .max_size = 1024 });
    if (tmp == NULL)
        return ex_fail("tf_spooled_temporary_file");

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
    CHECK(tf_file_rolled(tmp) == 0);

    /* Like CPython's, a spooled file in memory has no name. */
    errno = 0;
    CHECK(tf_file_name(tmp) == NULL && errno == ENOENT);

    if (tf_file_release(tmp) != 0)
        ex_fail("tf_file_release");
    return ex_status;
}
