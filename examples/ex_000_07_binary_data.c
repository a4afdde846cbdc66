/* Seed 000, slide 7: binary data written, read back and shown as bytes */
/*
 * Python:
 *     with tempfile.NamedTemporaryFile(mode='wb', delete=False) as binary_file:
 *         binary_data = bytes([0x48, 0x65, 0x6C, 0x6C, 0x6F])  # "Hello" in ASCII
 *         binary_file.write(binary_data)
 *         binary_file.seek(0)
 *         print(f"Binary content: {binary_file.read()}")
 *
 * Prints:  Binary content: b'Hello'
 *
 * Note: with mode='wb' as written, CPython's read() raises
 * io.UnsupportedOperation: read. What the slide means is the default mode
 * 'w+b', read and write, which is what every handle of this library is.
 */
#include <stdlib.h>

#include "example.h"

int main(void)
{
    static const unsigned char binary_data[] = { 0x48, 0x65, 0x6C, 0x6C, 0x6F };
    unsigned char buf[16];
    ssize_t n = -1;
    char *name;

    tf_file *binary_file = tf_named_temporary_file(&(tf_opts){ .flags = TF_KEEP });
    if (binary_file == NULL)
        return ex_fail("tf_named_temporary_file");

    /* Bytes go through the handle itself: no stdio, no text conversion. */
    if (tf_file_write(binary_file, binary_data, sizeof binary_data) !=
        (ssize_t)sizeof binary_data)
        ex_fail("tf_file_write");
    else if (tf_file_seek(binary_file, 0, SEEK_SET) != 0)
        ex_fail("tf_file_seek");
    else if ((n = tf_file_read(binary_file, buf, sizeof buf)) < 0)
        ex_fail("tf_file_read");
    else {
        fputs("Binary content: ", stdout);
        ex_print_pybytes(buf, (size_t)n);
        putchar('\n');
    }
    CHECK(n == (ssize_t)sizeof binary_data &&
          memcmp(buf, binary_data, sizeof binary_data) == 0);

    name = strdup(tf_file_name(binary_file));
    if (tf_file_release(binary_file) != 0)
        ex_fail("tf_file_release");
    if (name == NULL)
        return ex_fail("strdup");
    /* delete=False: the file outlived the block; the slide leaves it behind,
     * this example removes it. */
    CHECK(!ex_gone(name));
    if (unlink(name) != 0)
        ex_fail("unlink");
    CHECK(ex_gone(name));
    free(name);
    return ex_status;
}
