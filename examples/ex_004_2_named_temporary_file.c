/* Seed 004, section 2: NamedTemporaryFile(mode='w+t'), removed when the block ends */
/*
 * Python:
 *     with tempfile.NamedTemporaryFile(mode='w+t') as tmp:
 *         print("临时文件名: ", tmp.name)        # "temporary file name: "
 *         tmp.write("Hello, world!")
 *         tmp.seek(0)
 *         print(tmp.read())
 *     # the file is deleted when the with block ends
 *
 * Prints:  临时文件名:  /tmp/tmpXXXXXXXX
 *          Hello, world!
 * (two spaces: the label ends in one and print() adds one between arguments)
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    static const char text[] = "Hello, world!";
    char buf[64];
    size_t n = 0;
    char *name;
    FILE *fp;

    tf_file *tmp = tf_named_temporary_file(NULL);
    if (tmp == NULL)
        return ex_fail("tf_named_temporary_file");
    printf("临时文件名:  %s\n", tf_file_name(tmp));
    CHECK(ex_name_ok(tf_file_name(tmp), tf_gettempdir(), "tmp", ""));

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

    /* delete=True (the default): the name is there until the block ends... */
    name = strdup(tf_file_name(tmp));
    if (name == NULL)
        ex_fail("strdup");
    else
        CHECK(!ex_gone(name));
    if (tf_file_release(tmp) != 0)
        ex_fail("tf_file_release");
    /* ...and gone after it. */
    if (name != NULL)
        CHECK(ex_gone(name));
    free(name);
    return ex_status;
}
