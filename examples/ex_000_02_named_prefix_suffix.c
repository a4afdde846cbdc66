/* Seed 000, slide 2: NamedTemporaryFile(suffix='.txt', prefix='temp_', delete=False), read back by name */
/*
 * Python:
 *     with tempfile.NamedTemporaryFile(suffix='.txt', prefix='temp_',
 *                                      delete=False) as temp_file:
 *         temp_file.write(b"Hello, temporary world!")
 *         temp_name = temp_file.name
 *     print(f"File contents: {open(temp_name, 'rb').read()}")
 *     os.unlink(temp_name)  # Manually delete the file
 *
 * Prints:  File contents: b'Hello, temporary world!'
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    static const char data[] = "Hello, temporary world!";
    const size_t len = sizeof data - 1;
    char buf[64];
    char *temp_name;
    ssize_t n;

    tf_file *temp_file = tf_named_temporary_file(
        &(tf_opts){ .suffix = ".txt", .prefix = "temp_", .flags = TF_KEEP });
    if (temp_file == NULL)
        return ex_fail("tf_named_temporary_file");

    n = tf_file_write(temp_file, data, len);
    if (n < 0)
        ex_fail("tf_file_write");
    CHECK(n == (ssize_t)len);
    CHECK(ex_name_ok(tf_file_name(temp_file), NULL, "temp_", ".txt"));
    /* The handle's name goes with the handle: copy it, as temp_name = ... */
    temp_name = strdup(tf_file_name(temp_file));
    if (tf_file_release(temp_file) != 0)
        ex_fail("tf_file_release");
    if (temp_name == NULL)
        return ex_fail("strdup");

    /* open(temp_name, 'rb').read(): the data reached the file under its name. */
    n = ex_read_file(temp_name, buf, sizeof buf);
    if (n < 0) {
        ex_fail(temp_name);
    } else {
        fputs("File contents: ", stdout);
        ex_print_pybytes(buf, (size_t)n);
        putchar('\n');
    }
    CHECK(n == (ssize_t)len && memcmp(buf, data, len) == 0);

    /* os.unlink(temp_name): delete=False leaves the removal to us. */
    if (unlink(temp_name) != 0)
        ex_fail("unlink");
    CHECK(ex_gone(temp_name));
    free(temp_name);
    return ex_status;
}
