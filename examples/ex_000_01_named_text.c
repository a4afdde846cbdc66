/* Seed 000, slide 1: NamedTemporaryFile(mode='w+', delete=False) written as text */
/*
 * Python:
 *     with tempfile.NamedTemporaryFile(mode='w+', delete=False) as temp_file:
 *         temp_file.write("This is temporary data")
 *         print(f"Temporary file created: {temp_file.name}")
 *
 * Prints:  Temporary file created: /tmp/tmpXXXXXXXX
 * (The slide shows a ".txt" name; with no suffix given, CPython adds none.)
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    static const char text[] = "This is temporary data";
    char buf[64];
    char *name;
    FILE *fp;

    /* delete=False is TF_KEEP: the file outlives its handle. */
    tf_file *temp_file = tf_named_temporary_file(&(tf_opts){ .flags = TF_KEEP });
    if (temp_file == NULL)
        return ex_fail("tf_named_temporary_file");

    /* mode='w+' is text: write through the handle's FILE * view, which is
     * what Python's text layer is over the descriptor. */
    fp = tf_file_stream(temp_file);
    if (fp == NULL)
        ex_fail("tf_file_stream");
    else if (fputs(text, fp) == EOF)
        ex_fail("fputs");
    printf("Temporary file created: %s\n", tf_file_name(temp_file));
    CHECK(ex_name_ok(tf_file_name(temp_file), NULL, "tmp", ""));

    /* The handle owns its name; keep a copy to find the file afterwards. */
    name = strdup(tf_file_name(temp_file));
    /* End of the with block: release flushes and closes the stream too. */
    if (tf_file_release(temp_file) != 0)
        ex_fail("tf_file_release");
    if (name == NULL)
        return ex_fail("strdup");

    /* delete=False: the file is still there, holding what was written. */
    ssize_t n = ex_read_file(name, buf, sizeof buf);
    CHECK(n == (ssize_t)strlen(text) && memcmp(buf, text, strlen(text)) == 0);

    /* The slide leaves the file behind; this example cleans up after itself. */
    if (unlink(name) != 0)
        ex_fail("unlink");
    CHECK(ex_gone(name));
    free(name);
    return ex_status;
}
