/* Seed 004, section 4, example 2: SpooledTemporaryFile(max_size=10), a long string rolls it over to disk */
/*
 * Python:
 *     with tempfile.SpooledTemporaryFile(max_size=10, mode='w+t') as tmp:
 *         tmp.write("This is a long string exceeding ten characters.")
 *         tmp.seek(0)
 *         print(tmp.read())
 *
 * Prints:  This is a long string exceeding ten characters.
 * The write leaves the position past max_size, so the file moves to disk: an
 * unnamed temporary file (O_TMPFILE) in the default directory.
 */
#include "example.h"

int main(void)
{
    static const char text[] = "This is a long string exceeding ten characters.";
    char buf[128] = "";
    size_t n = 0;
    FILE *fp;
    struct stat st = { 0 };

    tf_file *tmp = tf_spooled_temporary_file(&(tf_opts){ .max_size = 10 });
    if (tmp == NULL)
        return ex_fail("tf_spooled_temporary_file");

    fp = tf_file_stream(tmp);
    if (fp == NULL) {
        ex_fail("tf_file_stream");
    } else if (fputs(text, fp) == EOF || fseek(fp, 0, SEEK_SET) != 0) {
        ex_fail("writing the stream");   /* the rollover happens in this flush */
    } else {
        n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = '\0';
        printf("%s\n", buf);
    }
    CHECK(n == strlen(text) && strcmp(buf, text) == 0);
    CHECK(tf_file_rolled(tmp) == 1);

    /* On disk now, and still nameless: no link count, nothing in TMPDIR. */
    CHECK(fstat(tf_file_fileno(tmp), &st) == 0 && st.st_nlink == 0);
    CHECK((size_t)st.st_size == strlen(text));

    if (tf_file_release(tmp) != 0)
        ex_fail("tf_file_release");
    return ex_status;
}
